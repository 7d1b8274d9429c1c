//! The gateway watchdog: restarts a shard that has gone quiet.
//!
//! serenity 0.12.5 can stall after a failed resume (serenity issue 3369): its shard runner opens
//! the new WebSocket without a timeout, so a gateway that accepts the connection but never
//! completes the handshake leaves the runner waiting forever, and it no longer heartbeats,
//! reconnects or reports anything. The bot looks connected and answers nobody.
//!
//! The watchdog watches from outside. Every gateway event the handler sees, and every heartbeat
//! ACK (serenity writes a fresh latency into the shard manager's runner table on each ACK), is a
//! sign of life. A shard with no sign of life for two heartbeat intervals plus a margin is
//! restarted through the `ShardManager`; one still quiet a full deadline after that restart
//! (serenity's shard queue may itself be stuck in such a connect) gets the whole client rebuilt.
//! Both are logins, so both ask the [`LoginBudget`] first; over budget, the gateway stays closed
//! for what the budget says instead.
//!
//! The margin is larger than serenity's own recovery (5 s to give up on a runner, 5 s between
//! shard starts), so a failure serenity handles itself is left to it, and the watchdog acts only
//! on a shard that would otherwise stay silent. With Discord's interval of 41.25 s and the
//! default margin of 15 s, a silent shard is restarted about 98 s after its last sign of life,
//! checked every tenth of an interval, and answers again some 10 s later (serenity's 5 s wait on
//! the stuck runner, then a new IDENTIFY): under two minutes in all.
//!
//! The decisions are the pure [`Watchdog`]; `watch` is the thin loop over serenity.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serenity::gateway::ShardManager;
use serenity::model::id::ShardId;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::logins::LoginBudget;

/// What the watchdog decided for a quiet shard.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Restart this shard through the shard manager.
    RestartShard(u32),
    /// The shard stayed quiet after its restart: rebuild the whole client.
    RestartClient,
}

/// What the watchdog knows of one shard.
#[derive(Debug, Clone, Copy)]
struct Shard {
    /// The last sign of life, or the last restart (which starts a fresh deadline).
    since: Instant,
    /// The latency serenity last reported; a different one means a new heartbeat ACK.
    latency: Option<Duration>,
    /// Whether the watchdog restarted it since its last sign of life.
    restarted: bool,
}

/// The watchdog's decisions, without serenity or a clock: signs of life in, actions out.
#[derive(Debug, Clone)]
pub struct Watchdog {
    deadline: Duration,
    shards: HashMap<u32, Shard>,
}

impl Watchdog {
    /// A watchdog that acts after `2 * heartbeat + margin` without a sign of life.
    pub fn new(heartbeat: Duration, margin: Duration) -> Watchdog {
        Watchdog { deadline: heartbeat.saturating_mul(2).saturating_add(margin), shards: HashMap::new() }
    }

    /// How long a shard may stay quiet.
    pub fn deadline(&self) -> Duration {
        self.deadline
    }

    fn shard(&mut self, shard: u32, now: Instant) -> &mut Shard {
        self.shards.entry(shard).or_insert(Shard { since: now, latency: None, restarted: false })
    }

    /// A gateway event arrived on `shard` at `now`.
    pub fn alive(&mut self, shard: u32, now: Instant) {
        let entry = self.shard(shard, now);
        entry.since = entry.since.max(now);
        entry.restarted = false;
    }

    /// serenity reports `latency` for `shard` at `now`. Each heartbeat ACK writes a newly
    /// measured latency, so a value different from the last one seen is an ACK; the same value
    /// again, or none (a heartbeat sent and not yet acknowledged), is not. A shard seen for the
    /// first time starts its deadline now.
    pub fn latency(&mut self, shard: u32, latency: Option<Duration>, now: Instant) {
        let entry = self.shard(shard, now);
        if latency.is_some() && latency != entry.latency {
            entry.since = entry.since.max(now);
            entry.restarted = false;
        }
        if latency.is_some() {
            entry.latency = latency;
        }
    }

    /// The restart of `shard` asked for by [`Watchdog::check`] finished at `now`; its fresh
    /// deadline counts from here, since serenity may take a while to give up on a stuck shard.
    pub fn restarted(&mut self, shard: u32, now: Instant) {
        let entry = self.shard(shard, now);
        entry.since = entry.since.max(now);
    }

    /// What to do at `now`: a shard quiet for the deadline is restarted; one quiet for the
    /// deadline after its restart gets the client rebuilt. Either starts a fresh deadline.
    pub fn check(&mut self, now: Instant) -> Vec<Action> {
        let mut actions = Vec::new();
        let mut ids: Vec<u32> = self.shards.keys().copied().collect();
        ids.sort_unstable();
        for id in ids {
            let Some(shard) = self.shards.get_mut(&id) else { continue };
            if now.saturating_duration_since(shard.since) < self.deadline {
                continue;
            }
            shard.since = now;
            if shard.restarted {
                shard.restarted = false;
                actions.push(Action::RestartClient);
            } else {
                shard.restarted = true;
                actions.push(Action::RestartShard(id));
            }
        }
        if actions.contains(&Action::RestartClient) {
            // A rebuilt client restarts every shard; one action says it.
            for shard in self.shards.values_mut() {
                shard.since = now;
                shard.restarted = false;
            }
            return vec![Action::RestartClient];
        }
        actions
    }
}

/// Signs of life from the event handler, shared with [`watch`]. Cheap: one short lock per event.
#[derive(Debug, Default)]
pub(crate) struct Pulse {
    events: Mutex<HashMap<u32, Instant>>,
}

impl Pulse {
    /// A gateway event arrived on `shard`.
    pub(crate) fn beat(&self, shard: u32) {
        let now = Instant::now();
        self.events.lock().unwrap_or_else(PoisonError::into_inner).insert(shard, now);
    }

    fn take(&self) -> HashMap<u32, Instant> {
        std::mem::take(&mut *self.events.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

/// Watches the shards of one client until it is dropped (the caller aborts the task with the
/// client). A restart first asks `logins`; over budget, or to rebuild the client, it sends the
/// run loop a pause through `pause` (zero to rebuild at once), the same path the login budget
/// uses.
pub(crate) async fn watch(
    manager: Arc<ShardManager>,
    pulse: Arc<Pulse>,
    mut watchdog: Watchdog,
    logins: Arc<Mutex<LoginBudget>>,
    pause: mpsc::UnboundedSender<Duration>,
) {
    let period = (watchdog.deadline() / 10).clamp(Duration::from_millis(50), Duration::from_secs(5));
    let mut ticker = tokio::time::interval(period);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let now = Instant::now();
        for (shard, at) in pulse.take() {
            watchdog.alive(shard, at);
        }
        let latencies: Vec<(u32, Option<Duration>)> =
            manager.runners.lock().await.iter().map(|(id, runner)| (id.0, runner.latency)).collect();
        for (shard, latency) in latencies {
            watchdog.latency(shard, latency, now);
        }
        for action in watchdog.check(now) {
            let over_budget = logins.lock().unwrap_or_else(PoisonError::into_inner).wait_before_login(now);
            if let Some(wait) = over_budget {
                tracing::warn!(
                    wait_s = wait.as_secs(),
                    "the gateway is silent and the login budget is spent; closing it for a while"
                );
                let _ = pause.send(wait);
                return;
            }
            match action {
                Action::RestartShard(shard) => {
                    tracing::warn!(
                        shard,
                        quiet_s = watchdog.deadline().as_secs_f64(),
                        "no gateway event or heartbeat ACK; restarting the shard"
                    );
                    manager.restart(ShardId(shard)).await;
                    watchdog.restarted(shard, Instant::now());
                }
                Action::RestartClient => {
                    tracing::warn!("the gateway is still silent after a shard restart; restarting the client");
                    let _ = pause.send(Duration::ZERO);
                    return;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BEAT: Duration = Duration::from_secs(40);
    const MARGIN: Duration = Duration::from_secs(15);

    fn at(start: Instant, seconds: u64) -> Instant {
        start + Duration::from_secs(seconds)
    }

    #[test]
    fn heartbeat_acks_keep_a_shard_alive() {
        let start = Instant::now();
        let mut watchdog = Watchdog::new(BEAT, MARGIN);
        watchdog.latency(0, None, start);
        for n in 1..10 {
            // A fresh latency every interval: an ACK each time.
            watchdog.latency(0, Some(Duration::from_millis(40 + n)), at(start, 40 * n));
            assert_eq!(watchdog.check(at(start, 40 * n + 1)), vec![]);
        }
    }

    #[test]
    fn a_quiet_shard_is_restarted_after_two_intervals_and_the_margin() {
        let start = Instant::now();
        let mut watchdog = Watchdog::new(BEAT, MARGIN);
        watchdog.latency(0, Some(Duration::from_millis(50)), start);
        // The same latency again is no new ACK, and none means a heartbeat waits for one.
        watchdog.latency(0, Some(Duration::from_millis(50)), at(start, 60));
        watchdog.latency(0, None, at(start, 80));
        assert_eq!(watchdog.check(at(start, 94)), vec![]);
        assert_eq!(watchdog.check(at(start, 95)), vec![Action::RestartShard(0)]);
        // The restart starts a fresh deadline.
        assert_eq!(watchdog.check(at(start, 100)), vec![]);
    }

    #[test]
    fn events_count_as_signs_of_life() {
        let start = Instant::now();
        let mut watchdog = Watchdog::new(BEAT, MARGIN);
        watchdog.latency(0, None, start);
        watchdog.alive(0, at(start, 90));
        assert_eq!(watchdog.check(at(start, 100)), vec![]);
        // An event reported late never moves the clock back.
        watchdog.alive(0, at(start, 10));
        assert_eq!(watchdog.check(at(start, 184)), vec![]);
        assert_eq!(watchdog.check(at(start, 185)), vec![Action::RestartShard(0)]);
    }

    #[test]
    fn a_shard_still_quiet_after_its_restart_gets_the_client_rebuilt() {
        let start = Instant::now();
        let mut watchdog = Watchdog::new(BEAT, MARGIN);
        watchdog.latency(0, None, start);
        watchdog.latency(1, None, start);
        watchdog.alive(1, at(start, 50));
        assert_eq!(watchdog.check(at(start, 95)), vec![Action::RestartShard(0)]);
        assert_eq!(watchdog.check(at(start, 145)), vec![Action::RestartShard(1)]);
        assert_eq!(watchdog.check(at(start, 190)), vec![Action::RestartClient]);
        // The rebuilt client gets a fresh deadline for every shard.
        assert_eq!(watchdog.check(at(start, 240)), vec![]);
    }

    #[test]
    fn the_deadline_after_a_restart_counts_from_when_it_finished() {
        let start = Instant::now();
        let mut watchdog = Watchdog::new(BEAT, MARGIN);
        watchdog.latency(0, None, start);
        assert_eq!(watchdog.check(at(start, 95)), vec![Action::RestartShard(0)]);
        // serenity took 5 s to give up on the stuck runner.
        watchdog.restarted(0, at(start, 100));
        assert_eq!(watchdog.check(at(start, 194)), vec![]);
        assert_eq!(watchdog.check(at(start, 195)), vec![Action::RestartClient]);
    }

    #[test]
    fn a_sign_of_life_after_a_restart_clears_it() {
        let start = Instant::now();
        let mut watchdog = Watchdog::new(BEAT, MARGIN);
        watchdog.latency(0, None, start);
        assert_eq!(watchdog.check(at(start, 95)), vec![Action::RestartShard(0)]);
        watchdog.latency(0, Some(Duration::from_millis(30)), at(start, 110));
        assert_eq!(watchdog.check(at(start, 204)), vec![]);
        assert_eq!(
            watchdog.check(at(start, 205)),
            vec![Action::RestartShard(0)],
            "a shard restart again, not a rebuild"
        );
    }
}
