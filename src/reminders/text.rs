//! Every word the reminders say: the reminder messages and the command replies. Pure.
//!
//! Texts are structured ([`RichText`]): times, channels and roles are typed pieces, never
//! platform syntax. The Discord renderer writes times as Discord timestamps (`<t:UNIX:F>`), which
//! each viewer's client shows in their own zone; the console writes them in the zone the
//! reminder follows. The zone the reminder follows is named beside them.

use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::civil::Date;

use super::schedule::format_time;
use super::store::{Delivery, DeliveryState, GiveUp, Notice, PauseReason, Subscription, Target};
use crate::knowledge::Tip;

/// Said in every reminder: people on dialysis or with heart or kidney failure are often told to
/// limit fluids, and a reminder to drink must never override that.
const FLUID_LIMIT_SHORT: &str = "(If a doctor has given you a fluid limit, follow that instead.)";

/// Said once, when a reminder is set.
const FLUID_LIMIT_ONCE: &str = "If you're on dialysis or have heart or kidney failure, or a doctor has given you a fluid limit, \
     follow your kidney or heart team's advice on how much to drink rather than these reminders.";

/// The command that stops a user's DM reminder; named in every DM reminder.
pub const STOP_USER: &str = "/remind off";

/// The command that stops a channel's reminder; named in every channel reminder.
pub const STOP_CHANNEL: &str = "/hydration off";

/// The command that sets a user's DM reminder.
pub const SET_USER: &str = "/remind set";

/// The command that snoozes a user's DM reminder.
pub const SNOOZE_USER: &str = "/remind snooze";

/// The longest tip text put in a message, in characters; keeps every reminder far below
/// Discord's 2,000-character limit whatever the catalogue holds.
const MAX_TIP_CHARS: usize = 600;

/// How a time is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeStyle {
    /// Date and time of day.
    Full,
    /// Relative to now ("in 2 hours").
    Relative,
}

/// One piece of a [`RichText`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Plain words.
    Text(String),
    /// An instant, with the IANA zone of the reminder it belongs to (for front ends that show
    /// times in one zone).
    Time {
        /// The instant.
        at: Timestamp,
        /// How to show it.
        style: TimeStyle,
        /// The zone the person's reminder follows.
        zone: String,
    },
    /// A server channel.
    Channel(u64),
    /// A server role (a mention: the only ping the bot ever makes is the one a channel reminder
    /// was set up with).
    Role(u64),
}

/// A text with typed times, channels and roles, for each front end to render.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RichText {
    pieces: Vec<Piece>,
}

impl RichText {
    /// An empty text.
    pub fn new() -> RichText {
        RichText::default()
    }

    /// A text of plain words only.
    pub fn plain(text: impl Into<String>) -> RichText {
        let mut rich = RichText::new();
        rich.push_text(text);
        rich
    }

    /// Appends plain words.
    pub fn push_text(&mut self, text: impl Into<String>) -> &mut RichText {
        let text = text.into();
        if let Some(Piece::Text(last)) = self.pieces.last_mut() {
            last.push_str(&text);
        } else if !text.is_empty() {
            self.pieces.push(Piece::Text(text));
        }
        self
    }

    /// Appends a time.
    pub fn push_time(&mut self, at: Timestamp, style: TimeStyle, zone: &str) -> &mut RichText {
        self.pieces.push(Piece::Time { at, style, zone: zone.to_owned() });
        self
    }

    /// Appends a channel.
    pub fn push_channel(&mut self, channel_id: u64) -> &mut RichText {
        self.pieces.push(Piece::Channel(channel_id));
        self
    }

    /// Appends a role mention.
    pub fn push_role(&mut self, role_id: u64) -> &mut RichText {
        self.pieces.push(Piece::Role(role_id));
        self
    }

    /// Appends another text.
    pub fn append(&mut self, other: &RichText) -> &mut RichText {
        for piece in &other.pieces {
            match piece {
                Piece::Text(text) => {
                    self.push_text(text.clone());
                }
                other => self.pieces.push(other.clone()),
            }
        }
        self
    }

    /// The pieces, in order.
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// The plain words only, with every typed piece left out (for tests and logs of shape).
    pub fn words(&self) -> String {
        self.pieces
            .iter()
            .filter_map(|piece| match piece {
                Piece::Text(text) => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }

    /// The roles mentioned, in order.
    pub fn roles(&self) -> Vec<u64> {
        self.pieces
            .iter()
            .filter_map(|piece| match piece {
                Piece::Role(role) => Some(*role),
                _ => None,
            })
            .collect()
    }
}

/// The tip for a subscription's reminder on `local_date`: rotates daily, and different
/// subscriptions start at different tips. `None` when the catalogue has no tips.
pub fn tip_for(tips: &[Tip], subscription_id: i64, local_date: Date) -> Option<&Tip> {
    let len = i64::try_from(tips.len()).ok().filter(|len| *len > 0)?;
    let days = local_date.since(Date::constant(1970, 1, 1)).map_or(0, |span| i64::from(span.get_days()));
    let index = days.wrapping_add(subscription_id).rem_euclid(len);
    tips.get(usize::try_from(index).ok()?)
}

/// Whether a reminder is the daily one, and if not, why it comes at another time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Timing {
    /// On time.
    OnTime,
    /// The daily reminder, sent late after downtime.
    Late,
    /// The extra reminder the user asked for with snooze.
    Snoozed,
}

/// The text of one reminder message: friendly, short, a rotating tip with its source, and how to
/// stop. A channel reminder starts with the configured role's mention, the only ping it makes.
pub fn reminder_message(target: &Target, tip: Option<&Tip>, timing: Timing) -> RichText {
    let mut text = RichText::new();
    if let Target::Channel { role_id: Some(role_id), .. } = target {
        text.push_role(*role_id).push_text(" ");
    }
    text.push_text(match timing {
        Timing::OnTime => "💧 Time for a glass of water.",
        Timing::Late => "💧 Time for a glass of water. (This one is late: the bot was offline at the usual time.)",
        Timing::Snoozed => "💧 Here is your snoozed reminder: time for a glass of water.",
    });
    text.push_text(format!(" {FLUID_LIMIT_SHORT}"));
    if let Some(tip) = tip {
        let tip_text: String = tip.text.chars().take(MAX_TIP_CHARS).collect();
        text.push_text(format!("\nTip: {} (source: {}, <{}>)", tip_text.trim(), tip.source.publisher, tip.source.url));
    }
    match target {
        Target::User { .. } => {
            text.push_text(format!("\nStop these with `{STOP_USER}`, or `{SNOOZE_USER}` for a nudge later."));
        }
        Target::Channel { .. } => {
            text.push_text(format!("\nAdmins can stop these with `{STOP_CHANNEL}`."));
        }
    }
    text
}

/// The reply to setting a reminder.
pub fn confirmation(subscription: &Subscription) -> RichText {
    let mut text = RichText::plain("Daily hydration reminder set: ");
    match subscription.target {
        Target::User { .. } => {
            text.push_text("I'll send you a DM");
        }
        Target::Channel { channel_id, role_id, .. } => {
            text.push_text("I'll post in ").push_channel(channel_id);
            if let Some(role_id) = role_id {
                text.push_text(" and mention ").push_role(role_id);
            }
        }
    }
    let stop = match subscription.target {
        Target::User { .. } => STOP_USER,
        Target::Channel { .. } => STOP_CHANNEL,
    };
    text.push_text(format!(
        " every day at {} ({}){}.\nNext reminder: ",
        format_time(subscription.local_time),
        subscription.zone,
        if subscription.silent { ", silently" } else { "" },
    ));
    push_when(&mut text, subscription.next.at, &subscription.zone);
    text.push_text(format!(".\nStop any time with `{stop}`.\n{FLUID_LIMIT_ONCE}"));
    text
}

/// `at` in full, then relative in brackets.
fn push_when(text: &mut RichText, at: Timestamp, zone: &str) {
    text.push_time(at, TimeStyle::Full, zone).push_text(" (").push_time(at, TimeStyle::Relative, zone).push_text(")");
}

/// Why a reminder is paused, in words, with what to do.
pub fn pause_explanation(reason: PauseReason) -> &'static str {
    match reason {
        PauseReason::DmRefused => {
            "Discord would not let me DM you (your DMs may be closed to server members or to me). Open your DMs, then set the reminder again to resume."
        }
        PauseReason::ChannelGone => "The channel no longer exists. Set the reminder in another channel.",
        PauseReason::MissingPermission => {
            "I am not allowed to post in that channel. Give me Send Messages there, then set the reminder again to resume."
        }
        PauseReason::Unreadable => "Its stored settings could not be read back. Set the reminder again to repair it.",
    }
}

/// Why a reminder was given up, in words.
pub fn give_up_explanation(reason: GiveUp) -> &'static str {
    match reason {
        GiveUp::GracePassed => "the bot was offline for too long, so it was skipped rather than sent very late",
        GiveUp::RetriesExhausted => "Discord kept failing every time I tried",
        GiveUp::NonceWindowPassed => {
            "I was interrupted while sending it and could not confirm it in time, so it may not have arrived (sending it again could have doubled it)"
        }
        GiveUp::SubscriptionGone => "the reminder was turned off or paused while it was being sent",
        GiveUp::Refused => "Discord refused it",
    }
}

/// The reply to showing a reminder: `None` when none is set; `recent` are its latest delivery
/// records, newest first, whose give-ups are explained.
pub fn show(subscription: Option<&Subscription>, recent: &[Delivery], is_user: bool) -> RichText {
    let Some(subscription) = subscription else {
        return RichText::plain(if is_user {
            format!("You have no daily reminder. Set one with `{SET_USER}`.")
        } else {
            "This channel has no daily reminder.".to_owned()
        });
    };
    let mut text = RichText::plain(format!(
        "Daily reminder at {} ({}){}.",
        format_time(subscription.local_time),
        subscription.zone,
        if subscription.silent { ", silent" } else { "" }
    ));
    if let Target::Channel { channel_id, role_id, .. } = subscription.target {
        text.push_text("\nPosted in ").push_channel(channel_id);
        if let Some(role_id) = role_id {
            text.push_text(", mentioning ").push_role(role_id);
        }
        text.push_text(".");
    }
    if let Some(reason) = subscription.paused {
        text.push_text(format!("\nPaused. {}", pause_explanation(reason)));
    } else {
        text.push_text("\nNext reminder: ");
        push_when(&mut text, subscription.next.at, &subscription.zone);
        text.push_text(".");
        if let Some(until) = subscription.snoozed_until {
            text.push_text("\nSnoozed reminder: ")
                .push_time(until, TimeStyle::Relative, &subscription.zone)
                .push_text(".");
        }
    }
    for delivery in recent.iter().filter(|delivery| delivery.reason.is_some() && delivery.state != DeliveryState::Sent)
    {
        let Some(reason) = delivery.reason else { continue };
        let verb = if delivery.state == DeliveryState::Unknown { "may not have arrived" } else { "was not sent" };
        text.push_text(format!("\nThe reminder for {} {verb}: {}.", delivery.local_date, give_up_explanation(reason)));
    }
    text
}

/// The reply to turning a reminder off.
pub fn turned_off(existed: bool, is_user: bool) -> RichText {
    RichText::plain(match (existed, is_user) {
        (true, true) => "Your daily reminder is off. (`/forget` deletes everything I keep about you.)",
        (true, false) => "This channel's daily reminder is off.",
        (false, true) => "You had no daily reminder; nothing to turn off.",
        (false, false) => "This channel had no daily reminder; nothing to turn off.",
    })
}

/// The reply to a snooze: when the extra reminder comes.
pub fn snoozed(until: Timestamp, zone: &str) -> RichText {
    let mut text = RichText::plain("Snoozed. I'll remind you again ");
    text.push_time(until, TimeStyle::Relative, zone)
        .push_text(" (")
        .push_time(until, TimeStyle::Full, zone)
        .push_text(").");
    text
}

/// The reply to a snooze when there is nothing to snooze.
pub fn nothing_to_snooze(paused: Option<PauseReason>) -> RichText {
    RichText::plain(match paused {
        Some(reason) => {
            format!("Your reminder is paused, so there is nothing to snooze. {}", pause_explanation(reason))
        }
        None => format!("You have no daily reminder to snooze. Set one with `{SET_USER}`."),
    })
}

/// The reply to forgetting a user.
pub fn forgotten(forgotten: &super::store::Forgotten) -> RichText {
    let nothing = forgotten.subscriptions + forgotten.deliveries + forgotten.notices + forgotten.channels_unlinked == 0;
    let mut text = if nothing {
        "I had nothing stored about you.".to_owned()
    } else {
        "Done: your reminder, its history and any pending notices are deleted. I keep nothing else about you."
            .to_owned()
    };
    if forgotten.channels_unlinked > 0 {
        let _ = write!(
            text,
            "\n{} channel reminder(s) you set keep running for their server, no longer linked to you.",
            forgotten.channels_unlinked
        );
    }
    RichText::plain(text)
}

/// The text of a notice shown the next time a user uses the bot.
pub fn notice(notice: Notice) -> RichText {
    RichText::plain(match notice {
        Notice::DmRefused => format!(
            "Heads up: I paused your daily hydration reminder because Discord would not let me DM you. Open your DMs and use `{SET_USER}` to resume."
        ),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::knowledge::Source;

    fn tip(text: &str) -> Tip {
        Tip {
            tags: Vec::new(),
            text: text.into(),
            source: Source {
                id: "nhs".into(),
                publisher: "NHS".into(),
                title: "Water, drinks and hydration".into(),
                url: "https://www.nhs.uk/live-well/eat-well/food-guidelines-and-food-labels/water-drinks-nutrition/"
                    .into(),
            },
        }
    }

    #[test]
    fn tips_rotate_daily() {
        let tips = [tip("a"), tip("b"), tip("c")];
        let day = Date::constant(2026, 5, 1);
        let first = tip_for(&tips, 7, day).unwrap().text.clone();
        let second = tip_for(&tips, 7, day.tomorrow().unwrap()).unwrap().text.clone();
        assert_ne!(first, second);
        assert!(tip_for(&[], 7, day).is_none());
    }

    #[test]
    fn channel_reminders_mention_only_the_role() {
        let target = Target::Channel { guild_id: 1, channel_id: 2, role_id: Some(3) };
        let rich = reminder_message(&target, Some(&tip("Sip through the day.")), Timing::OnTime);
        assert_eq!(rich.pieces().first(), Some(&Piece::Role(3)));
        assert_eq!(rich.roles(), [3]);
        let text = rich.words();
        assert!(text.contains("NHS"));
        assert!(text.contains(STOP_CHANNEL));
        assert!(!text.contains("@everyone") && !text.contains("<@1") && !text.contains("<@2"));
        let dm = reminder_message(&Target::User { user_id: 9 }, None, Timing::Late);
        assert!(dm.roles().is_empty());
        let dm = dm.words();
        assert!(dm.contains("late") && dm.contains(STOP_USER) && !dm.contains("<@"));
    }

    #[test]
    fn every_reminder_defers_to_a_doctors_fluid_limit() {
        for target in [Target::User { user_id: 9 }, Target::Channel { guild_id: 1, channel_id: 2, role_id: None }] {
            for timing in [Timing::OnTime, Timing::Late, Timing::Snoozed] {
                let text = reminder_message(&target, Some(&tip("Sip through the day.")), timing).words();
                assert!(text.contains("fluid limit, follow that instead"), "{text}");
            }
        }
    }
}
