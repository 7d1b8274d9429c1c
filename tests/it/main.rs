//! crampbot's integration tests, in one binary (see STYLE.md: one integration crate).

mod analyzer;
mod catalogue;
mod cli;
mod console;
mod deploy;
mod discord;
mod discord_followups;
mod discord_replies;
mod fake_discord;
mod faq;
mod followups;
mod help_channels;
mod hostile;
mod notices;
mod pg;
mod reminders;
mod reminders_discord;
mod replies;
mod scale;
mod store;
mod support;
