//! Every word the reminders say: the reminder messages and the command replies. Pure.
//!
//! Times are shown as Discord timestamps (`<t:UNIX:F>` and `<t:UNIX:R>`), which each viewer's
//! client renders in their own time zone; the zone the reminder follows is named beside them.

use std::fmt::Write as _;

use jiff::Timestamp;
use jiff::civil::Date;

use super::schedule::format_time;
use crate::knowledge::Tip;
use crate::store::{Notice, PauseReason, Subscription, Target};

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

/// A Discord timestamp in full date-time style: `<t:UNIX:F>`.
pub fn full_time(at: Timestamp) -> String {
    format!("<t:{}:F>", at.as_second())
}

/// A Discord timestamp in relative style: `<t:UNIX:R>`.
pub fn relative_time(at: Timestamp) -> String {
    format!("<t:{}:R>", at.as_second())
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
pub fn reminder_message(target: &Target, tip: Option<&Tip>, timing: Timing) -> String {
    let mut text = String::new();
    if let Target::Channel { role_id: Some(role_id), .. } = target {
        let _ = write!(text, "<@&{role_id}> ");
    }
    text.push_str(match timing {
        Timing::OnTime => "💧 Time for a glass of water.",
        Timing::Late => "💧 Time for a glass of water. (This one is late: the bot was offline at the usual time.)",
        Timing::Snoozed => "💧 Here is your snoozed reminder: time for a glass of water.",
    });
    if let Some(tip) = tip {
        let tip_text: String = tip.text.chars().take(MAX_TIP_CHARS).collect();
        let _ = write!(text, "\nTip: {} (source: {}, <{}>)", tip_text.trim(), tip.source.publisher, tip.source.url);
    }
    match target {
        Target::User { .. } => {
            let _ = write!(text, "\nStop these with `{STOP_USER}`, or `{SNOOZE_USER}` for a nudge later.");
        }
        Target::Channel { .. } => {
            let _ = write!(text, "\nAdmins can stop these with `{STOP_CHANNEL}`.");
        }
    }
    text
}

/// The reply to setting a reminder.
pub fn confirmation(subscription: &Subscription) -> String {
    let who = match subscription.target {
        Target::User { .. } => "I'll send you a DM".to_owned(),
        Target::Channel { channel_id, role_id: Some(role_id), .. } => {
            format!("I'll post in <#{channel_id}> and mention <@&{role_id}>")
        }
        Target::Channel { channel_id, role_id: None, .. } => format!("I'll post in <#{channel_id}>"),
    };
    let stop = match subscription.target {
        Target::User { .. } => STOP_USER,
        Target::Channel { .. } => STOP_CHANNEL,
    };
    format!(
        "Daily hydration reminder set: {who} every day at {} ({}){}.\nNext reminder: {} ({}).\nStop any time with `{stop}`.",
        format_time(subscription.local_time),
        subscription.zone,
        if subscription.silent { ", silently" } else { "" },
        full_time(subscription.next.at),
        relative_time(subscription.next.at),
    )
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
    }
}

/// The reply to showing a reminder; `None` when none is set.
pub fn show(subscription: Option<&Subscription>, is_user: bool) -> String {
    let Some(subscription) = subscription else {
        return if is_user {
            format!("You have no daily reminder. Set one with `{SET_USER}`.")
        } else {
            "This channel has no daily reminder.".to_owned()
        };
    };
    let mut text = format!(
        "Daily reminder at {} ({}){}.",
        format_time(subscription.local_time),
        subscription.zone,
        if subscription.silent { ", silent" } else { "" }
    );
    if let Target::Channel { channel_id, role_id, .. } = subscription.target {
        let _ = write!(text, "\nPosted in <#{channel_id}>");
        if let Some(role_id) = role_id {
            let _ = write!(text, ", mentioning <@&{role_id}>");
        }
        text.push('.');
    }
    if let Some(reason) = subscription.paused {
        let _ = write!(text, "\nPaused. {}", pause_explanation(reason));
    } else {
        let next = subscription.next.at;
        let _ = write!(text, "\nNext reminder: {} ({}).", full_time(next), relative_time(next));
        if let Some(until) = subscription.snoozed_until {
            let _ = write!(text, "\nSnoozed reminder: {}.", relative_time(until));
        }
    }
    text
}

/// The reply to turning a reminder off.
pub fn turned_off(existed: bool, is_user: bool) -> String {
    match (existed, is_user) {
        (true, true) => "Your daily reminder is off, and its history is deleted.".to_owned(),
        (true, false) => "This channel's daily reminder is off.".to_owned(),
        (false, true) => "You had no daily reminder; nothing to turn off.".to_owned(),
        (false, false) => "This channel had no daily reminder; nothing to turn off.".to_owned(),
    }
}

/// The reply to a snooze: when the extra reminder comes.
pub fn snoozed(until: Timestamp) -> String {
    format!("Snoozed. I'll remind you again {} ({}).", relative_time(until), full_time(until))
}

/// The reply to a snooze when there is nothing to snooze.
pub fn nothing_to_snooze(paused: Option<PauseReason>) -> String {
    match paused {
        Some(reason) => {
            format!("Your reminder is paused, so there is nothing to snooze. {}", pause_explanation(reason))
        }
        None => format!("You have no daily reminder to snooze. Set one with `{SET_USER}`."),
    }
}

/// The reply to forgetting a user.
pub fn forgotten(subscriptions: usize, notices: usize) -> String {
    if subscriptions + notices == 0 {
        "I had nothing stored about you.".to_owned()
    } else {
        "Done: your reminder, its history and any pending notices are deleted. I keep nothing else about you."
            .to_owned()
    }
}

/// The text of a notice shown the next time a user uses the bot.
pub fn notice(notice: Notice) -> String {
    match notice {
        Notice::DmRefused => format!(
            "Heads up: I paused your daily hydration reminder because Discord would not let me DM you. Open your DMs and use `{SET_USER}` to resume."
        ),
    }
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
        let text = reminder_message(&target, Some(&tip("Sip through the day.")), Timing::OnTime);
        assert!(text.starts_with("<@&3> "));
        assert!(text.contains("NHS"));
        assert!(text.contains(STOP_CHANNEL));
        assert!(!text.contains("@everyone") && !text.contains("<@1") && !text.contains("<@2"));
        let dm = reminder_message(&Target::User { user_id: 9 }, None, Timing::Late);
        assert!(dm.contains("late") && dm.contains(STOP_USER) && !dm.contains("<@"));
    }
}
