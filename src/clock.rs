//! The wall clock, behind a trait so that the scheduler can be driven by a manual clock in tests.
//!
//! The only module that reads the system time.

use jiff::Timestamp;

/// A source of the current instant.
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// The real clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        #[expect(clippy::disallowed_methods, reason = "clock.rs is the one place that reads the wall clock")]
        Timestamp::now()
    }
}
