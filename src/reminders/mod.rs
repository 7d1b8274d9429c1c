//! Daily hydration reminders: schedule maths, the scheduler and the commands adapters call.
//!
//! - [`schedule`]: when a reminder fires (local time, IANA zone, DST gaps and overlaps) and the
//!   parsing of what users type. Pure.
//! - [`zones`]: time-zone autocomplete over the bundled tz database. Pure.
//! - [`text`]: every word the reminders say (messages and command replies). Pure.
//! - [`commands`]: [`Reminders`], the commands adapters call: values in, text out, through the
//!   store, waking the scheduler.
//! - [`scheduler`]: [`Scheduler`], which claims due reminders and hands them to the [`Deliver`]
//!   port that the Discord adapter implements.
//!
//! # Wiring
//!
//! `crate::discord::run_with` (given a `RemindersSetup`) and `crate::console::chat` do this; in
//! outline:
//!
//! ```text
//! let store = Arc::new(SqliteStore::open(&config.reminders.database)?);
//! let wakeup = Wakeup::new();
//! let reminders = Reminders::new(Arc::clone(&store), wakeup.clone()); // for the command handlers
//! let scheduler = Scheduler::new(store, Arc::new(discord_sender), Arc::new(SystemClock),
//!     catalogue.hydration_tips.clone(), SchedulerOptions::from_config(&config.reminders), wakeup);
//! tokio::spawn(scheduler.run(shutdown_signal));
//! ```

pub mod commands;
pub mod schedule;
pub mod scheduler;
pub mod text;
pub mod zones;

pub use commands::{ChannelSpec, Reminders, Snooze};
pub use scheduler::{Deliver, DeliveryError, Outgoing, Scheduler, SchedulerOptions, Wakeup};
