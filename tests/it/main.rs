//! Integration tests: one crate for all of them.

mod reminders;
