//! crampbot: a self-hostable Discord bot that explains calf twitching and hamstring cramps while
//! walking, with sources, red flags first, and daily hydration reminders.
//!
//! # Layout
//!
//! - [`knowledge`]: the catalogue (causes, red flags, guidance, lexicon) loaded from TOML and
//!   validated, with `file:line` errors. The shipped `knowledge/` is compiled in.
//! - [`analyze`]: the analyzer. Normalization, the term index (exact, stem, phrase, fuzzy),
//!   negation, scoring and red-flag rules. Pure.
//! - [`reply`]: the platform-neutral [`reply::Reply`] and its text and JSON renderers.
//! - [`bot`]: the bot core that every front end calls: request in, reply out.
//! - [`config`]: defaults, file, environment; validated.
//! - [`clock`]: the wall clock behind a trait, and a manual clock for tests.
//! - [`discord`]: the serenity adapter: events, slash commands, embeds, and the outbox that every
//!   message goes through (retries, typed Discord error codes).
//! - [`console`]: `crampbot chat`, the bot in a terminal.
//! - [`help_channels`]: the channels where the bot answers on-topic messages without a mention,
//!   their store port, the in-memory copy every message is checked against, and the per-person
//!   cooldown there.
//! - [`reminders`]: daily hydration reminders: schedule maths (pure), the store port, the
//!   commands front ends call, and the scheduler that claims due reminders and hands them to a
//!   delivery port.
//! - [`store`]: the store ports' implementations: `SQLite` (default) and PostgreSQL, with
//!   versioned migrations. Depends on [`reminders`] and [`help_channels`], never the other way
//!   round.
//! - [`cli`]: the command line (`run`, `chat`, `ask`, `check`).
//!
//! # Invariants
//!
//! - Only `src/discord/` names `serenity`.
//! - Only `clock.rs` reads the wall clock and only `config.rs` reads the environment.
//! - The core (`knowledge`, `analyze`, `reply`, `bot`, `reminders::schedule`) takes values and
//!   returns values: no I/O, no clock, no tasks.
//! - Every [`reply::Reply`] carries the consult-a-professional guidance: its only constructor
//!   takes it from the catalogue, and every renderer prints it.
//! - A negated sign never raises a red flag; an affirmed one always does.
//! - Message content is never logged or stored.

pub mod analyze;
pub mod bot;
pub mod cli;
pub mod clock;
pub mod config;
pub mod console;
pub mod discord;
#[doc(hidden)]
pub mod fuzzing;
pub mod help_channels;
pub mod knowledge;
pub mod reminders;
pub mod reply;
pub mod store;
