//! A budget of gateway logins, so that a loop of re-identifies slows down before Discord's limit
//! (1,000 IDENTIFYs a day, after which it resets the token).
//!
//! serenity re-identifies on its own whenever a session cannot be resumed, as often as every five
//! seconds. The handler records every READY here; once more than `max` happened within `window`,
//! the run loop closes the gateway and waits until the oldest login leaves the window.

use std::collections::VecDeque;
use std::time::Duration;

use tokio::time::Instant;

/// Recent logins within a sliding window.
#[derive(Debug, Clone)]
pub struct LoginBudget {
    max: usize,
    window: Duration,
    recent: VecDeque<Instant>,
}

impl LoginBudget {
    /// At most `max` logins per `window` before a pause.
    pub fn new(max: usize, window: Duration) -> LoginBudget {
        LoginBudget { max: max.max(1), window, recent: VecDeque::new() }
    }

    /// How long to wait before a login at `now` would keep within the budget; `None` when one may
    /// happen now. Records nothing: the login itself is recorded when its READY arrives.
    pub fn wait_before_login(&self, now: Instant) -> Option<Duration> {
        let recent: Vec<Instant> =
            self.recent.iter().copied().filter(|&at| now.duration_since(at) < self.window).collect();
        if recent.len() < self.max {
            return None;
        }
        let oldest = recent[recent.len() - self.max];
        Some(self.window.saturating_sub(now.duration_since(oldest)))
    }

    /// Records a login at `now`. Returns how long to stay away before the next login when this
    /// one went over the budget, else `None`.
    pub fn record(&mut self, now: Instant) -> Option<Duration> {
        while self.recent.front().is_some_and(|&at| now.duration_since(at) >= self.window) {
            self.recent.pop_front();
        }
        self.recent.push_back(now);
        if self.recent.len() <= self.max {
            return None;
        }
        // The next login is allowed once the oldest of the last `max` leaves the window.
        let oldest = self.recent[self.recent.len() - self.max];
        Some(self.window.saturating_sub(now.duration_since(oldest)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logins_within_the_budget_need_no_pause() {
        let start = Instant::now();
        let mut budget = LoginBudget::new(3, Duration::from_secs(3600));
        for minute in 0..3 {
            assert_eq!(budget.record(start + Duration::from_secs(60 * minute)), None);
        }
    }

    #[test]
    fn a_login_over_the_budget_waits_for_the_window() {
        let start = Instant::now();
        let hour = Duration::from_secs(3600);
        let mut budget = LoginBudget::new(2, hour);
        assert_eq!(budget.record(start), None);
        assert_eq!(budget.record(start + Duration::from_secs(10)), None);
        let pause = budget.record(start + Duration::from_secs(20)).expect("over budget");
        assert_eq!(pause, hour.saturating_sub(Duration::from_secs(10)));
        // An hour later the old logins have left the window.
        assert_eq!(budget.record(start + hour + Duration::from_secs(30)), None);
    }

    #[test]
    fn a_planned_login_asks_the_budget_without_spending_it() {
        let start = Instant::now();
        let hour = Duration::from_secs(3600);
        let mut budget = LoginBudget::new(2, hour);
        assert_eq!(budget.wait_before_login(start), None);
        assert_eq!(budget.record(start), None);
        assert_eq!(budget.wait_before_login(start + Duration::from_secs(5)), None);
        assert_eq!(budget.record(start + Duration::from_secs(10)), None);
        let later = start + Duration::from_secs(20);
        assert_eq!(budget.wait_before_login(later), Some(hour.saturating_sub(Duration::from_secs(20))));
        assert_eq!(
            budget.wait_before_login(later),
            Some(hour.saturating_sub(Duration::from_secs(20))),
            "nothing spent"
        );
        assert_eq!(budget.wait_before_login(start + hour + Duration::from_secs(1)), None);
    }

    #[test]
    fn the_default_budget_stays_under_discords_daily_limit() {
        let options = crate::discord::RunOptions::<crate::store::AnyStore>::default();
        let per_day = options.max_logins as u64 * (86_400 / options.login_window.as_secs());
        assert!(per_day < 1000, "{per_day} logins a day");
    }
}
