//! The reminder commands as data: each takes plain values (ids, what the user typed, `now`) and
//! returns the text to show; the adapter renders it (ephemeral in Discord, plain in the console).
//!
//! Bad input, nothing to turn off and the like are answers, not errors: only a store failure is
//! an `Err`, which the adapter logs and answers with a generic apology. Every change wakes the
//! scheduler. The commands are async: the store runs its blocking work off the async workers.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use super::schedule::{next_occurrence, parse_time, parse_zone};
use super::scheduler::Wakeup;
use super::store::{NewSubscription, Notice, ReminderStore, StoreError, Target, TargetKey};
use super::text::{self, RichText};
use super::zones;

/// How many recent delivery records `show` looks at for give-ups to explain.
const SHOW_RECENT: usize = 3;

/// How long a snooze lasts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Snooze {
    /// 30 minutes.
    HalfHour,
    /// One hour.
    Hour,
}

impl Snooze {
    /// The length.
    pub fn duration(self) -> SignedDuration {
        match self {
            Snooze::HalfHour => SignedDuration::from_mins(30),
            Snooze::Hour => SignedDuration::from_hours(1),
        }
    }
}

/// A channel reminder's settings, as an admin gives them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChannelSpec<'a> {
    /// The server.
    pub guild_id: u64,
    /// The channel to post in.
    pub channel_id: u64,
    /// The one role to mention, if any.
    pub role_id: Option<u64>,
    /// The local time, as typed (`07:30`, `7:30pm`).
    pub time: &'a str,
    /// The IANA zone, as typed.
    pub zone: &'a str,
    /// Post without a push notification.
    pub silent: bool,
    /// The admin setting it up (recorded, so that their `/forget` covers it).
    pub set_by: u64,
}

/// Notices waiting for a user, to show and then acknowledge with [`Reminders::notices_shown`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingNotices {
    /// The user.
    pub user_id: u64,
    /// The notices, as stored.
    pub notices: Vec<Notice>,
    /// Their texts, one per line.
    pub text: RichText,
}

/// The reminder commands over a store. Cheap to clone.
pub struct Reminders<S> {
    store: Arc<S>,
    wakeup: Wakeup,
}

impl<S> Clone for Reminders<S> {
    fn clone(&self) -> Reminders<S> {
        Reminders { store: Arc::clone(&self.store), wakeup: self.wakeup.clone() }
    }
}

impl<S: ReminderStore> Reminders<S> {
    /// Commands over `store` that wake the scheduler through `wakeup`.
    pub fn new(store: Arc<S>, wakeup: Wakeup) -> Reminders<S> {
        Reminders { store, wakeup }
    }

    /// The store, for the adapter's own queries.
    pub fn store(&self) -> &Arc<S> {
        &self.store
    }

    /// `/remind set`: a daily DM at `time` in `zone`. Replaces any earlier one and resumes a
    /// paused one.
    pub async fn set_user(
        &self,
        user_id: u64,
        time: &str,
        zone: &str,
        silent: bool,
        now: Timestamp,
    ) -> Result<RichText, StoreError> {
        self.set(Target::User { user_id }, time, zone, silent, Some(user_id), now).await
    }

    /// `/remind off`: stops the user's reminder. Its recent delivery records stay (until
    /// pruned, or `/forget`), so turning it on again the same day cannot send that day twice.
    pub async fn off_user(&self, user_id: u64) -> Result<RichText, StoreError> {
        let existed = self.store.remove(TargetKey::User(user_id)).await?;
        self.wakeup.notify();
        Ok(text::turned_off(existed, true))
    }

    /// `/remind show`: the next reminder, the zone, whether it is paused and why, and any
    /// recent reminder that was given up, with the reason.
    pub async fn show_user(&self, user_id: u64) -> Result<RichText, StoreError> {
        self.show(TargetKey::User(user_id), true).await
    }

    /// `/remind snooze`: one extra reminder after `snooze`, replacing an earlier snooze.
    pub async fn snooze_user(&self, user_id: u64, snooze: Snooze, now: Timestamp) -> Result<RichText, StoreError> {
        match self.store.find(TargetKey::User(user_id)).await? {
            Some(subscription) if subscription.paused.is_none() => {
                let until = now.saturating_add(snooze.duration()).unwrap_or(Timestamp::MAX);
                self.store.set_snooze(subscription.id, Some(until), now).await?;
                self.wakeup.notify();
                Ok(text::snoozed(until, &subscription.zone))
            }
            Some(subscription) => Ok(text::nothing_to_snooze(subscription.paused)),
            None => Ok(text::nothing_to_snooze(None)),
        }
    }

    /// `/hydration set`: a daily post in a channel, optionally mentioning one role.
    /// Replaces the channel's earlier one and resumes a paused one.
    pub async fn set_channel(&self, spec: ChannelSpec<'_>, now: Timestamp) -> Result<RichText, StoreError> {
        let target = Target::Channel { guild_id: spec.guild_id, channel_id: spec.channel_id, role_id: spec.role_id };
        self.set(target, spec.time, spec.zone, spec.silent, Some(spec.set_by), now).await
    }

    /// `/hydration off`.
    pub async fn off_channel(&self, channel_id: u64) -> Result<RichText, StoreError> {
        let existed = self.store.remove(TargetKey::Channel(channel_id)).await?;
        self.wakeup.notify();
        Ok(text::turned_off(existed, false))
    }

    /// `/hydration show`.
    pub async fn show_channel(&self, channel_id: u64) -> Result<RichText, StoreError> {
        self.show(TargetKey::Channel(channel_id), false).await
    }

    /// `/forget`: deletes everything stored about the user, and unlinks them from the channel
    /// reminders they set.
    pub async fn forget(&self, user_id: u64) -> Result<RichText, StoreError> {
        let forgotten = self.store.forget_user(user_id).await?;
        self.wakeup.notify();
        Ok(text::forgotten(&forgotten))
    }

    /// Notices waiting for this user (e.g. "your DM reminder was paused"), left queued until
    /// [`Reminders::notices_shown`] says they were shown: a notice whose message failed to send
    /// comes again next time. `None` when there are none.
    pub async fn pending_notices(&self, user_id: u64) -> Result<Option<PendingNotices>, StoreError> {
        let notices = self.store.pending_notices(user_id).await?;
        if notices.is_empty() {
            return Ok(None);
        }
        let mut text = RichText::new();
        for (n, notice) in notices.iter().enumerate() {
            if n > 0 {
                text.push_text("\n");
            }
            text.append(&text::notice(*notice));
        }
        Ok(Some(PendingNotices { user_id, notices, text }))
    }

    /// Removes notices once their message was sent.
    pub async fn notices_shown(&self, shown: PendingNotices) -> Result<(), StoreError> {
        self.store.clear_notices(shown.user_id, shown.notices).await
    }

    /// Time-zone autocomplete: at most 25 IANA names, each at most 100 characters, best first.
    pub fn zone_choices(query: &str) -> Vec<&'static str> {
        zones::suggest(query, zones::MAX_SUGGESTIONS)
    }

    async fn show(&self, key: TargetKey, is_user: bool) -> Result<RichText, StoreError> {
        let subscription = self.store.find(key).await?;
        let recent = if subscription.is_some() { self.store.deliveries(key, SHOW_RECENT).await? } else { Vec::new() };
        Ok(text::show(subscription.as_ref(), &recent, is_user))
    }

    async fn set(
        &self,
        target: Target,
        time: &str,
        zone: &str,
        silent: bool,
        set_by: Option<u64>,
        now: Timestamp,
    ) -> Result<RichText, StoreError> {
        let local_time = match parse_time(time) {
            Ok(local_time) => local_time,
            Err(err) => return Ok(RichText::plain(format!("Sorry, {err}."))),
        };
        let zone = match parse_zone(zone) {
            Ok(zone) => zone,
            Err(err) => return Ok(RichText::plain(format!("Sorry, {err}."))),
        };
        let next = next_occurrence(now, local_time, &zone.tz);
        let new = NewSubscription { target, local_time, zone: zone.name, silent, next, set_by };
        let stored = self.store.upsert(new, now).await?;
        self.wakeup.notify();
        Ok(text::confirmation(&stored))
    }
}
