//! The reminder commands as data: each takes plain values (ids, what the user typed, `now`) and
//! returns the text to show; the adapter renders it (ephemeral in Discord, plain in the console).
//!
//! Bad input, nothing to turn off and the like are answers, not errors: only a store failure is
//! an `Err`, which the adapter logs and answers with a generic apology. Every change wakes the
//! scheduler.

use std::sync::Arc;

use jiff::{SignedDuration, Timestamp};

use super::schedule::{next_occurrence, parse_time, parse_zone};
use super::scheduler::Wakeup;
use super::text;
use super::zones;
use crate::store::{NewSubscription, ReminderStore, StoreError, Target, TargetKey};

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
    pub fn set_user(
        &self,
        user_id: u64,
        time: &str,
        zone: &str,
        silent: bool,
        now: Timestamp,
    ) -> Result<String, StoreError> {
        self.set(Target::User { user_id }, time, zone, silent, now)
    }

    /// `/remind off`: deletes the user's reminder and its history.
    pub fn off_user(&self, user_id: u64) -> Result<String, StoreError> {
        let existed = self.store.remove(TargetKey::User(user_id))?;
        self.wakeup.notify();
        Ok(text::turned_off(existed, true))
    }

    /// `/remind show`: the next reminder, the zone, and whether it is paused and why.
    pub fn show_user(&self, user_id: u64) -> Result<String, StoreError> {
        Ok(text::show(self.store.find(TargetKey::User(user_id))?.as_ref(), true))
    }

    /// `/remind snooze`: one extra reminder after `snooze`, replacing an earlier snooze.
    pub fn snooze_user(&self, user_id: u64, snooze: Snooze, now: Timestamp) -> Result<String, StoreError> {
        match self.store.find(TargetKey::User(user_id))? {
            Some(subscription) if subscription.paused.is_none() => {
                let until = now.saturating_add(snooze.duration()).unwrap_or(Timestamp::MAX);
                self.store.set_snooze(subscription.id, Some(until), now)?;
                self.wakeup.notify();
                Ok(text::snoozed(until))
            }
            Some(subscription) => Ok(text::nothing_to_snooze(subscription.paused)),
            None => Ok(text::nothing_to_snooze(None)),
        }
    }

    /// `/remind channel-set`: a daily post in a channel, optionally mentioning one role.
    /// Replaces the channel's earlier one and resumes a paused one.
    pub fn set_channel(&self, spec: ChannelSpec<'_>, now: Timestamp) -> Result<String, StoreError> {
        let target = Target::Channel { guild_id: spec.guild_id, channel_id: spec.channel_id, role_id: spec.role_id };
        self.set(target, spec.time, spec.zone, spec.silent, now)
    }

    /// `/hydration off`.
    pub fn off_channel(&self, channel_id: u64) -> Result<String, StoreError> {
        let existed = self.store.remove(TargetKey::Channel(channel_id))?;
        self.wakeup.notify();
        Ok(text::turned_off(existed, false))
    }

    /// `/remind channel-show`.
    pub fn show_channel(&self, channel_id: u64) -> Result<String, StoreError> {
        Ok(text::show(self.store.find(TargetKey::Channel(channel_id))?.as_ref(), false))
    }

    /// `/forget`: deletes everything stored about the user.
    pub fn forget(&self, user_id: u64) -> Result<String, StoreError> {
        let forgotten = self.store.forget_user(user_id)?;
        self.wakeup.notify();
        Ok(text::forgotten(forgotten.subscriptions, forgotten.notices))
    }

    /// Notices waiting for this user (e.g. "your DM reminder was paused"), removed as they are
    /// returned. Call on any interaction and show them with the reply.
    pub fn take_notices(&self, user_id: u64) -> Result<Vec<String>, StoreError> {
        Ok(self.store.take_notices(user_id)?.into_iter().map(text::notice).collect())
    }

    /// Time-zone autocomplete: at most 25 IANA names, each at most 100 characters, best first.
    pub fn zone_choices(query: &str) -> Vec<&'static str> {
        zones::suggest(query, zones::MAX_SUGGESTIONS)
    }

    fn set(&self, target: Target, time: &str, zone: &str, silent: bool, now: Timestamp) -> Result<String, StoreError> {
        let local_time = match parse_time(time) {
            Ok(local_time) => local_time,
            Err(err) => return Ok(format!("Sorry, {err}.")),
        };
        let zone = match parse_zone(zone) {
            Ok(zone) => zone,
            Err(err) => return Ok(format!("Sorry, {err}.")),
        };
        let next = next_occurrence(now, local_time, &zone.tz);
        let new = NewSubscription { target, local_time, zone: zone.name, silent, next };
        let stored = self.store.upsert(&new, now)?;
        self.wakeup.notify();
        Ok(text::confirmation(&stored))
    }
}
