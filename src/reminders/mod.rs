//! Daily hydration reminders: schedule maths, the store port, the scheduler and the commands
//! adapters call.
//!
//! - [`schedule`]: when a reminder fires (local time, IANA zone, DST gaps and overlaps) and the
//!   parsing of what users type. Pure.
//! - [`zones`]: time-zone autocomplete over the bundled tz database. Pure.
//! - [`text`]: every word the reminders say, as structured text (typed times, channels and
//!   roles) that each front end renders. Pure.
//! - [`store`]: the store port ([`ReminderStore`]) and the values that cross it. The databases
//!   in `crate::store` implement it; this module never names them.
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
//! let store = Arc::new(crate::store::open(&config.reminders).await?); // SQLite or PostgreSQL
//! let wakeup = Wakeup::new();
//! let reminders = Reminders::new(Arc::clone(&store), wakeup.clone()); // for the command handlers
//! let scheduler = Scheduler::new(store, Arc::new(discord_sender), Arc::new(SystemClock),
//!     catalogue.hydration_tips.clone(), SchedulerOptions::from_config(&config.reminders), wakeup);
//! tokio::spawn(scheduler.run(shutdown_signal));
//! ```

pub mod commands;
pub mod schedule;
pub mod scheduler;
pub mod store;
pub mod text;
pub mod zones;

pub use commands::{ChannelSpec, PendingNotices, Reminders, Snooze};
pub use scheduler::{Deliver, DeliveryError, Outgoing, Scheduler, SchedulerOptions, Wakeup};
pub use store::{ReminderStore, StoreError};
