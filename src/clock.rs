//! The wall clock, behind a trait so that the scheduler can be driven by a manual clock in tests.
//!
//! The only module that reads the system time ([`SystemClock`]); [`ManualClock`] reads tokio's
//! monotonic clock plus manual jumps.

use std::sync::{Arc, Mutex, PoisonError};

use jiff::{SignedDuration, Timestamp};

/// A source of the current instant.
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> Timestamp;
}

/// A shared clock is a clock, so a `Arc<dyn Clock>` chosen at run time can drive the scheduler.
impl<C: Clock + ?Sized> Clock for std::sync::Arc<C> {
    fn now(&self) -> Timestamp {
        (**self).now()
    }
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

/// A clock for tests and benchmarks: starts at a chosen instant and moves with tokio's clock, so
/// `#[tokio::test(start_paused = true)]` drives it (tokio's pause does not freeze the system
/// time), and can also jump, like a wall clock after downtime. Reads no wall clock. Clones share
/// one time line.
#[derive(Debug, Clone)]
pub struct ManualClock {
    inner: Arc<ManualInner>,
}

#[derive(Debug)]
struct ManualInner {
    start: Timestamp,
    origin: tokio::time::Instant,
    jumped: Mutex<SignedDuration>,
}

impl ManualClock {
    /// A clock that reads `start` now and then follows tokio's clock.
    pub fn new(start: Timestamp) -> ManualClock {
        ManualClock {
            inner: Arc::new(ManualInner {
                start,
                origin: tokio::time::Instant::now(),
                jumped: Mutex::new(SignedDuration::ZERO),
            }),
        }
    }

    /// Moves this clock (not tokio's) by `by`, as a wall clock jumps.
    pub fn jump(&self, by: SignedDuration) {
        let mut jumped = self.inner.jumped.lock().unwrap_or_else(PoisonError::into_inner);
        *jumped = jumped.saturating_add(by);
    }

    /// Moves this clock so that it reads `to` now.
    pub fn set(&self, to: Timestamp) {
        let by = to.duration_since(self.now());
        self.jump(by);
    }
}

impl Clock for ManualClock {
    fn now(&self) -> Timestamp {
        let elapsed = SignedDuration::try_from(self.inner.origin.elapsed()).unwrap_or(SignedDuration::MAX);
        let jumped = *self.inner.jumped.lock().unwrap_or_else(PoisonError::into_inner);
        self.inner.start.saturating_add(elapsed.saturating_add(jumped)).unwrap_or(Timestamp::MAX)
    }
}
