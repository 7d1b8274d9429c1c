//! Schedule maths: when a daily reminder at a local wall-clock time fires, in any IANA zone,
//! across daylight-saving transitions; and the parsing of the time and zone a user types.
//!
//! Pure: every function takes `now` (or a date) and the zone as values. No clock, no I/O.
//!
//! # Rules
//!
//! - A reminder belongs to a *local date*: "07:30 on 2026-03-29 in Europe/London". That date is
//!   the key of its delivery record, so each subscription fires at most once per local day.
//! - A local time that does not exist that day (inside a spring-forward gap) fires at the first
//!   valid instant after it, which is the transition itself: 01:30 in London on the last Sunday of
//!   March fires at 02:00 BST (01:00 UTC).
//! - A local time that exists twice (inside a fall-back overlap) fires once, at the earlier
//!   instant: 01:30 in London on the last Sunday of October fires at 01:30 BST (00:30 UTC).

use jiff::civil::{Date, DateTime, Time};
use jiff::tz::{AmbiguousOffset, TimeZone};
use jiff::{SignedDuration, Timestamp};

/// One firing of a daily reminder: the local date it belongs to and the instant it fires.
///
/// The date, not the instant, identifies the occurrence: it keys the delivery record and the
/// message nonce, so a reminder that fires late still counts for its own day.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Occurrence {
    /// The local calendar date the reminder is for.
    pub local_date: Date,
    /// The instant it fires.
    pub at: Timestamp,
}

/// A validated IANA time zone together with its canonical name, which is what gets stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Zone {
    /// The canonical IANA name, e.g. `Europe/London`.
    pub name: String,
    /// The zone's rules from the bundled tz database.
    pub tz: TimeZone,
}

/// Why the time or zone a user typed was refused. Each message names the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// The time is not `HH:MM` (24-hour) or `H[:MM]am|pm`.
    #[error("{value:?} is not a time of day; write it as HH:MM (e.g. 07:30 or 19:00) or like 7:30pm")]
    BadTime {
        /// What the user typed.
        value: String,
    },
    /// The zone is not in the tz database.
    #[error("{value:?} is not a known time zone; pick an IANA name such as Europe/London{}",
        suggestion.as_ref().map(|s| format!(" (did you mean {s}?)")).unwrap_or_default())]
    UnknownZone {
        /// What the user typed.
        value: String,
        /// The closest known name, if one is close.
        suggestion: Option<String>,
    },
}

/// The instant a reminder at `local_time` fires on `local_date` in `zone`.
///
/// In a gap the reminder fires at the transition (the first valid instant after the missing
/// local time); in an overlap, at the earlier of the two instants. Saturates to
/// [`Timestamp::MAX`] (never fires) for dates at the very edge of jiff's range, which a daily
/// reminder computed from a real `now` cannot reach.
pub fn fire_on(local_date: Date, local_time: Time, zone: &TimeZone) -> Timestamp {
    let civil = DateTime::from_parts(local_date, local_time);
    let ambiguous = zone.to_ambiguous_timestamp(civil);
    let at = match ambiguous.offset() {
        AmbiguousOffset::Unambiguous { offset } => offset.to_timestamp(civil),
        // `before` is the larger offset before a fall-back, so it gives the earlier instant.
        AmbiguousOffset::Fold { before, .. } => before.to_timestamp(civil),
        AmbiguousOffset::Gap { after, .. } => {
            // Read with the offset after the gap, the local time lands before the transition;
            // the next transition from there is the first instant whose local time is later.
            after
                .to_timestamp(civil)
                .map(|probe| zone.following(probe).next().map_or(probe, |transition| transition.timestamp()))
        }
    };
    at.unwrap_or(Timestamp::MAX)
}

/// The local date of `instant` in `zone`.
pub fn local_date_of(instant: Timestamp, zone: &TimeZone) -> Date {
    zone.to_datetime(instant).date()
}

/// The first occurrence of a daily reminder at `local_time` in `zone` that fires strictly after
/// `now`.
pub fn next_occurrence(now: Timestamp, local_time: Time, zone: &TimeZone) -> Occurrence {
    // Start a day early: around a fall-back at midnight the previous date's time can still lie
    // ahead. A gap can push a date's fire past the next one's start, hence the loop.
    let mut date = local_date_of(now, zone).yesterday().unwrap_or(Date::MIN);
    loop {
        let at = fire_on(date, local_time, zone);
        if at > now || date == Date::MAX {
            return Occurrence { local_date: date, at };
        }
        date = date.tomorrow().unwrap_or(Date::MAX);
    }
}

/// The instant the next daily reminder at `local_time` in `zone` fires, strictly after `now`.
pub fn next_fire(now: Timestamp, local_time: Time, zone: &TimeZone) -> Timestamp {
    next_occurrence(now, local_time, zone).at
}

/// The occurrence to schedule after the one for `previous_date`: the first with a later local
/// date that fires strictly after `not_before`.
///
/// The scheduler passes `now - grace` as `not_before`, so after an outage the most recent
/// missed day that is still within the grace period comes up next (and is sent late), and
/// older days are never scheduled at all.
pub fn occurrence_after(previous_date: Date, not_before: Timestamp, local_time: Time, zone: &TimeZone) -> Occurrence {
    let candidate = next_occurrence(not_before, local_time, zone);
    if candidate.local_date > previous_date {
        return candidate;
    }
    let mut date = previous_date.tomorrow().unwrap_or(Date::MAX);
    loop {
        let at = fire_on(date, local_time, zone);
        if at > not_before || date == Date::MAX {
            return Occurrence { local_date: date, at };
        }
        date = date.tomorrow().unwrap_or(Date::MAX);
    }
}

/// How long after its instant an occurrence was handed over, or zero if on time or early.
pub fn lateness(occurrence_at: Timestamp, now: Timestamp) -> SignedDuration {
    now.duration_since(occurrence_at).max(SignedDuration::ZERO)
}

/// Parses a time of day as a user types it.
///
/// Accepts `HH:MM` and `H:MM` (24-hour, `00:00` to `23:59`), and 12-hour forms with a suffix:
/// `7am`, `7 pm`, `7:30pm`, `12:15 a.m.`. Anything else is an error naming the value.
pub fn parse_time(input: &str) -> Result<Time, InputError> {
    let bad = || InputError::BadTime { value: input.to_owned() };
    let lower = input.trim().to_ascii_lowercase().replace('.', "");
    let lower = lower.trim();
    let (clock, meridiem) = if let Some(rest) = lower.strip_suffix("am") {
        (rest.trim_end(), Some(false))
    } else if let Some(rest) = lower.strip_suffix("pm") {
        (rest.trim_end(), Some(true))
    } else {
        (lower, None)
    };
    let (hour_text, minute_text) = match clock.split_once(':') {
        Some((hour, minute)) => (hour, Some(minute)),
        None if meridiem.is_some() => (clock, None),
        None => return Err(bad()),
    };
    let digits = |text: &str, max_len: usize| {
        (!text.is_empty() && text.len() <= max_len && text.bytes().all(|b| b.is_ascii_digit()))
            .then(|| text.parse::<i8>().ok())
            .flatten()
    };
    let hour = digits(hour_text, 2).ok_or_else(bad)?;
    let minute = match minute_text {
        Some(text) if text.len() == 2 => digits(text, 2).ok_or_else(bad)?,
        Some(_) => return Err(bad()),
        None => 0,
    };
    let hour = match meridiem {
        None if hour <= 23 => hour,
        Some(pm) if (1..=12).contains(&hour) => hour % 12 + if pm { 12 } else { 0 },
        _ => return Err(bad()),
    };
    Time::new(hour, minute, 0, 0).map_err(|_| bad())
}

/// Looks up an IANA zone name in the bundled tz database, ignoring ASCII case and accepting
/// spaces for underscores. Never falls back to UTC: an unknown name is an error that names it
/// and suggests the closest known zone. A bare city that names exactly one zone ("london") is
/// that zone.
pub fn parse_zone(input: &str) -> Result<Zone, InputError> {
    let input = super::zones::clip_query(input);
    let cleaned = input.trim().replace(' ', "_");
    if !cleaned.is_empty()
        && let Ok(tz) = jiff::tz::db().get(&cleaned)
        && let Some(name) = tz.iana_name()
        && super::zones::is_geographic(name)
    {
        let name = name.to_owned();
        return Ok(Zone { name, tz });
    }
    // A bare city that names exactly one zone is that zone: the confirmation shows the full name.
    if let Some(name) = super::zones::by_city(input)
        && let Ok(tz) = jiff::tz::db().get(name)
    {
        return Ok(Zone { name: name.to_owned(), tz });
    }
    let suggestion = super::zones::suggest(input, 1).into_iter().next().map(str::to_owned);
    Err(InputError::UnknownZone { value: input.to_owned(), suggestion })
}

/// Formats a local time the way it is stored and shown: `HH:MM`.
pub fn format_time(time: Time) -> String {
    format!("{:02}:{:02}", time.hour(), time.minute())
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    fn zone(name: &str) -> TimeZone {
        jiff::tz::db().get(name).unwrap()
    }

    fn ts(text: &str) -> Timestamp {
        text.parse().unwrap()
    }

    #[test]
    fn parses_times() {
        for (input, expected) in [
            ("07:30", time(7, 30, 0, 0)),
            ("7:30", time(7, 30, 0, 0)),
            (" 23:59 ", time(23, 59, 0, 0)),
            ("00:00", time(0, 0, 0, 0)),
            ("7am", time(7, 0, 0, 0)),
            ("7 PM", time(19, 0, 0, 0)),
            ("7:30pm", time(19, 30, 0, 0)),
            ("12am", time(0, 0, 0, 0)),
            ("12:15 p.m.", time(12, 15, 0, 0)),
        ] {
            assert_eq!(parse_time(input), Ok(expected), "{input}");
        }
        for input in ["", "7", "24:00", "7:5", "07:60", "13pm", "0am", "7:30:00", "seven", "-1:00", "+7:00", "７:30"] {
            assert_eq!(parse_time(input), Err(InputError::BadTime { value: input.to_owned() }), "{input}");
        }
    }

    #[test]
    fn bad_time_names_the_value() {
        let message = parse_time("25:00").unwrap_err().to_string();
        assert!(message.contains("\"25:00\""), "{message}");
    }

    #[test]
    fn parses_zones_case_insensitively_and_refuses_unknown_ones() {
        assert_eq!(parse_zone("europe/london").unwrap().name, "Europe/London");
        assert_eq!(parse_zone("America/New York").unwrap().name, "America/New_York");
        assert_eq!(parse_zone("london").unwrap().name, "Europe/London");
        assert_eq!(parse_zone("new york").unwrap().name, "America/New_York");
        let err = parse_zone("Europe/Londn").unwrap_err();
        assert_eq!(
            err,
            InputError::UnknownZone { value: "Europe/Londn".into(), suggestion: Some("Europe/London".into()) }
        );
        assert!(err.to_string().contains("\"Europe/Londn\""));
        assert!(matches!(parse_zone(""), Err(InputError::UnknownZone { .. })));
        assert!(matches!(parse_zone("+05:00"), Err(InputError::UnknownZone { .. })));
    }

    #[test]
    fn fires_at_local_time_in_summer_and_winter() {
        let london = zone("Europe/London");
        assert_eq!(fire_on(date(2026, 1, 15), time(7, 30, 0, 0), &london), ts("2026-01-15T07:30:00Z"));
        assert_eq!(fire_on(date(2026, 7, 15), time(7, 30, 0, 0), &london), ts("2026-07-15T06:30:00Z"));
    }

    #[test]
    fn gap_fires_at_the_transition() {
        // London springs forward 2026-03-29 at 01:00 GMT -> 02:00 BST.
        let london = zone("Europe/London");
        assert_eq!(fire_on(date(2026, 3, 29), time(1, 30, 0, 0), &london), ts("2026-03-29T01:00:00Z"));
        // New York springs forward 2026-03-08 at 02:00 EST -> 03:00 EDT.
        let new_york = zone("America/New_York");
        assert_eq!(fire_on(date(2026, 3, 8), time(2, 30, 0, 0), &new_york), ts("2026-03-08T07:00:00Z"));
    }

    #[test]
    fn overlap_fires_at_the_earlier_instant() {
        // London falls back 2026-10-25 at 02:00 BST -> 01:00 GMT: 01:30 happens twice.
        let london = zone("Europe/London");
        assert_eq!(fire_on(date(2026, 10, 25), time(1, 30, 0, 0), &london), ts("2026-10-25T00:30:00Z"));
    }

    #[test]
    fn next_occurrence_is_strictly_after_now() {
        let tokyo = zone("Asia/Tokyo");
        let at = ts("2026-05-01T22:00:00Z"); // 07:00 JST on 05-02
        let occurrence = next_occurrence(at, time(7, 0, 0, 0), &tokyo);
        assert_eq!(occurrence, Occurrence { local_date: date(2026, 5, 3), at: ts("2026-05-02T22:00:00Z") });
        let before = at.checked_sub(SignedDuration::from_secs(1)).unwrap();
        assert_eq!(next_occurrence(before, time(7, 0, 0, 0), &tokyo).at, at);
    }

    #[test]
    fn occurrence_after_skips_to_a_later_date() {
        let tokyo = zone("Asia/Tokyo");
        let seven = time(7, 0, 0, 0);
        // Delivered for 05-02 a little early: the next is still 05-03, not 05-02 again.
        let next = occurrence_after(date(2026, 5, 2), ts("2026-05-01T21:59:00Z"), seven, &tokyo);
        assert_eq!(next.local_date, date(2026, 5, 3));
        // After a long outage, the first date after `not_before` comes next.
        let next = occurrence_after(date(2026, 5, 2), ts("2026-05-09T23:00:00Z"), seven, &tokyo);
        assert_eq!(next, Occurrence { local_date: date(2026, 5, 11), at: ts("2026-05-10T22:00:00Z") });
    }
}
