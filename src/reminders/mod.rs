//! Daily hydration reminders: schedule maths, the scheduler and the commands adapters call.
//!
//! - [`schedule`]: when a reminder fires (local time, IANA zone, DST gaps and overlaps) and the
//!   parsing of what users type. Pure.
//! - [`zones`]: time-zone autocomplete over the bundled tz database. Pure.

pub mod schedule;
pub mod zones;
