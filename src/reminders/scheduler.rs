//! The scheduler: sleeps until the earliest due reminder, claims due rows in the store, and
//! hands each reminder to the delivery port ([`Deliver`]), which the Discord adapter implements.
//!
//! # Exactly once per subscription per local day
//!
//! 1. **Claim.** In one transaction the store writes the delivery record keyed by
//!    (subscription, local date) as `claimed` and advances the subscription to its next
//!    occurrence. An existing record for that key means the day is already handled: nothing is
//!    sent. The message carries a nonce derived from the key ([`daily_nonce`]).
//! 2. **Send**, then **record** the outcome (`sent`, `failed` or `undeliverable`).
//! 3. **Crash between 1 and 2.** At start-up, records still `claimed` are marked `resending` and
//!    handed over once more with the same nonce if the occurrence is still within the grace
//!    period (Discord's `enforce_nonce` turns a repeat of a message sent in the last few minutes
//!    into a no-op); records found `resending` (a second crash) become `unknown` and are never
//!    sent again. So an occurrence is handed over at most twice, with one nonce.
//!
//! # Downtime
//!
//! An occurrence handed over more than `late_after` (1 min) after its instant says it is late;
//! one missed by more than the grace period (default 2 h) is recorded `skipped` and not sent.
//! After a longer outage only the latest missed day within the grace period is considered, so
//! there is never a backlog burst.
//!
//! # Failures
//!
//! [`DeliveryError::DmRefused`] pauses the user's subscription and queues a notice for the next
//! time they use the bot; [`DeliveryError::ChannelGone`] and [`DeliveryError::MissingPermission`]
//! pause the channel's subscription; [`DeliveryError::Transient`] is retried with capped
//! exponential backoff (same nonce), then recorded `failed` for that day.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use tokio::sync::Notify;
use tokio::task::JoinSet;

use super::schedule::{lateness, occurrence_after};
use super::text::{Timing, reminder_message, tip_for};
use crate::clock::Clock;
use crate::config::RemindersConfig;
use crate::knowledge::Tip;
use crate::store::{
    Claimed, DeliveryState, NewDelivery, Notice, Outcome, PauseReason, Plan, ReminderStore, StoreError, Subscription,
    SubscriptionId, Target,
};

/// One reminder to send: everything the adapter needs, nothing it has to look up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The subscription it is for (for logs and metrics).
    pub subscription_id: SubscriptionId,
    /// Where it goes: a user's DMs, or a channel with an optional role to ping.
    pub target: Target,
    /// The message text. A channel reminder's text starts with the role mention, if any; the
    /// adapter must allow exactly that role's mention and nothing else.
    pub text: String,
    /// The message nonce (at most 25 characters); send it with `enforce_nonce`.
    pub nonce: String,
    /// Send without a push notification (`SUPPRESS_NOTIFICATIONS`).
    pub silent: bool,
    /// The reminder is late (the text says so).
    pub late: bool,
}

impl Outgoing {
    /// The one role this message may ping, if any.
    pub fn mention_role(&self) -> Option<u64> {
        match self.target {
            Target::Channel { role_id, .. } => role_id,
            Target::User { .. } => None,
        }
    }
}

/// Why a reminder could not be delivered, as the adapter maps Discord's errors.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// Discord refused the DM (error 50007). The subscription is paused and the user told later.
    #[error("the user does not accept direct messages from the bot")]
    DmRefused,
    /// The channel is gone (error 10003, or 404). The subscription is paused.
    #[error("the channel no longer exists")]
    ChannelGone,
    /// The bot may not post there (error 50013 or 50001). The subscription is paused.
    #[error("the bot lacks permission to post in the channel")]
    MissingPermission,
    /// Anything that may work later (5xx, timeouts, network). Retried with backoff. `reason` is
    /// for the log: never message content.
    #[error("temporary delivery failure: {reason}")]
    Transient {
        /// What went wrong, without content.
        reason: String,
    },
}

/// The delivery port: the Discord adapter sends the message (creating the DM channel if
/// needed, with the nonce, `enforce_nonce`, the silent flag and `allowed_mentions` limited to
/// [`Outgoing::mention_role`]) and maps failures to [`DeliveryError`]. Rate limiting is its job;
/// the scheduler hands reminders over as soon as they are due.
pub trait Deliver: Send + Sync + 'static {
    /// Sends one reminder.
    fn deliver(&self, reminder: Outgoing) -> impl Future<Output = Result<(), DeliveryError>> + Send;
}

/// How transient failures are retried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// The wait before the first retry; it doubles after each.
    pub initial: Duration,
    /// The longest wait between tries.
    pub max_delay: Duration,
    /// The most tries in all, the first included.
    pub max_attempts: u32,
}

impl Default for RetryPolicy {
    fn default() -> RetryPolicy {
        RetryPolicy { initial: Duration::from_secs(5), max_delay: Duration::from_secs(5 * 60), max_attempts: 6 }
    }
}

impl RetryPolicy {
    /// The wait after `attempt` failed tries (1-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 2_u32.saturating_pow(attempt.saturating_sub(1));
        self.initial.saturating_mul(factor).min(self.max_delay)
    }
}

/// Scheduler settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedulerOptions {
    /// A reminder missed by less than this is sent late; by more, skipped.
    pub grace: Duration,
    /// Handed over later than this after its instant, a reminder says it is late.
    pub late_after: Duration,
    /// How many due rows one claim transaction takes.
    pub batch: usize,
    /// The longest sleep between looks at the store, so a wall-clock jump (suspend, NTP) is
    /// noticed; each look is one indexed query.
    pub max_sleep: Duration,
    /// Transient failure retries.
    pub retry: RetryPolicy,
    /// How long delivery records are kept (they only guard recent days).
    pub keep_deliveries: Duration,
    /// At shutdown, how long sends in flight may finish before they are abandoned (an abandoned
    /// send stays claimed and is resent with the same nonce at the next start).
    pub drain: Duration,
}

impl Default for SchedulerOptions {
    fn default() -> SchedulerOptions {
        SchedulerOptions {
            grace: Duration::from_secs(2 * 60 * 60),
            late_after: Duration::from_secs(60),
            batch: 512,
            max_sleep: Duration::from_secs(60),
            retry: RetryPolicy::default(),
            keep_deliveries: Duration::from_secs(8 * 24 * 60 * 60),
            drain: Duration::from_secs(5),
        }
    }
}

impl SchedulerOptions {
    /// The defaults with the configured grace period.
    pub fn from_config(config: &RemindersConfig) -> SchedulerOptions {
        SchedulerOptions { grace: config.grace, ..SchedulerOptions::default() }
    }
}

/// Wakes the scheduler when a subscription is added or changed. Cheap to clone; a wake while
/// the scheduler is busy is kept, not lost.
#[derive(Debug, Clone, Default)]
pub struct Wakeup(Arc<Notify>);

impl Wakeup {
    /// A new handle; give clones to the commands and the scheduler.
    pub fn new() -> Wakeup {
        Wakeup::default()
    }

    /// Asks the scheduler to look at the store again.
    pub fn notify(&self) {
        self.0.notify_one();
    }

    async fn notified(&self) {
        self.0.notified().await;
    }
}

/// The nonce for the daily occurrence of `subscription_id` on `local_date`: 19 characters,
/// deterministic, so a re-send after a crash is deduplicated by Discord.
pub fn daily_nonce(subscription_id: SubscriptionId, local_date: jiff::civil::Date) -> String {
    format!("cbd{:016x}", fnv1a(format!("crampbot/daily/{subscription_id}/{local_date}").as_bytes()))
}

/// The nonce for a snoozed reminder due at `at`.
pub fn snooze_nonce(subscription_id: SubscriptionId, at: Timestamp) -> String {
    format!("cbs{:016x}", fnv1a(format!("crampbot/snooze/{subscription_id}/{}", at.as_second()).as_bytes()))
}

/// FNV-1a, 64-bit: stable across Rust versions and platforms, unlike `DefaultHasher`.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

fn signed(duration: Duration) -> SignedDuration {
    SignedDuration::try_from(duration).unwrap_or(SignedDuration::MAX)
}

/// What to do with one due subscription at `now`: the rules above, as a pure function.
///
/// `zone` is the subscription's zone resolved from the tz database; `None` (a name the bundled
/// database no longer knows) keeps the subscription running at the same UTC instant each day.
pub fn plan(
    subscription: &Subscription,
    zone: Option<&TimeZone>,
    now: Timestamp,
    grace: Duration,
    late_after: Duration,
) -> Plan {
    let grace = signed(grace);
    let mut decided = Plan { record: None, next: subscription.next, clear_snooze: false, send_snooze: false };
    if subscription.next.at <= now {
        let late_by = lateness(subscription.next.at, now);
        decided.record = Some(if late_by > grace {
            NewDelivery { occurrence: subscription.next, state: DeliveryState::Skipped, nonce: None, late: true }
        } else {
            NewDelivery {
                occurrence: subscription.next,
                state: DeliveryState::Claimed,
                nonce: Some(daily_nonce(subscription.id, subscription.next.local_date)),
                late: late_by > signed(late_after),
            }
        });
        let not_before = now.saturating_sub(grace).unwrap_or(now);
        decided.next = match zone {
            Some(zone) => occurrence_after(subscription.next.local_date, not_before, subscription.local_time, zone),
            None => occurrence_after(subscription.next.local_date, not_before, subscription.local_time, &TimeZone::UTC),
        };
    }
    if let Some(until) = subscription.snoozed_until
        && until <= now
    {
        decided.clear_snooze = true;
        decided.send_snooze = lateness(until, now) <= grace;
    }
    decided
}

/// The scheduler. Build it, give [`Scheduler::wakeup`] clones to the commands, then
/// [`Scheduler::run`] it until shutdown.
pub struct Scheduler<S, D, C> {
    store: Arc<S>,
    deliver: Arc<D>,
    clock: Arc<C>,
    tips: Arc<[Tip]>,
    options: SchedulerOptions,
    wakeup: Wakeup,
    in_flight: Mutex<JoinSet<()>>,
}

impl<S: ReminderStore, D: Deliver, C: Clock> Scheduler<S, D, C> {
    /// A scheduler over `store`, sending through `deliver`, reading time from `clock`, and
    /// rotating through `tips` (the catalogue's hydration tips; may be empty).
    pub fn new(
        store: Arc<S>,
        deliver: Arc<D>,
        clock: Arc<C>,
        tips: Vec<Tip>,
        options: SchedulerOptions,
        wakeup: Wakeup,
    ) -> Scheduler<S, D, C> {
        Scheduler { store, deliver, clock, tips: tips.into(), options, wakeup, in_flight: Mutex::new(JoinSet::new()) }
    }

    /// The handle that wakes this scheduler.
    pub fn wakeup(&self) -> Wakeup {
        self.wakeup.clone()
    }

    /// Runs until `shutdown` completes: recovers unfinished deliveries, then sleeps until the
    /// earliest due reminder (or a wake-up, or `max_sleep`), claims and hands over everything
    /// due, and so on. At shutdown, sends in flight get `drain` to finish.
    ///
    /// Store errors inside the loop are logged and retried after a second; only a failure of
    /// the start-up recovery is returned.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), StoreError> {
        tokio::pin!(shutdown);
        let recovered = self.recover()?;
        if recovered > 0 {
            tracing::info!(recovered, "re-sending reminders claimed before the last stop");
        }
        let mut last_prune: Option<Timestamp> = None;
        loop {
            self.reap();
            let now = self.clock.now();
            if last_prune.is_none_or(|at| now.duration_since(at) > SignedDuration::from_hours(6)) {
                let before = now.saturating_sub(signed(self.options.keep_deliveries)).unwrap_or(now);
                match self.store.prune_deliveries(before) {
                    Ok(pruned) => tracing::debug!(pruned, "pruned old delivery records"),
                    Err(err) => tracing::warn!(error = %err, "cannot prune delivery records"),
                }
                last_prune = Some(now);
            }
            let sleep_for = match self.tick().await.and_then(|_| self.store.next_due_at()) {
                Ok(next) => next.map_or(self.options.max_sleep, |at| {
                    Duration::try_from(at.duration_since(self.clock.now())).unwrap_or(Duration::ZERO)
                }),
                Err(err) => {
                    tracing::error!(error = %err, "reminder store failed; retrying in a second");
                    Duration::from_secs(1)
                }
            }
            .min(self.options.max_sleep);
            tokio::select! {
                () = &mut shutdown => break,
                () = self.wakeup.notified() => {}
                () = tokio::time::sleep(sleep_for) => {}
            }
        }
        let mut in_flight = std::mem::take(&mut *self.in_flight.lock().unwrap_or_else(PoisonError::into_inner));
        let drained =
            tokio::time::timeout(self.options.drain, async { while in_flight.join_next().await.is_some() {} }).await;
        if drained.is_err() {
            tracing::warn!(abandoned = in_flight.len(), "shutdown: sends still in flight are resent at next start");
            in_flight.shutdown().await;
        }
        Ok(())
    }

    /// Claims everything due now and hands it over; returns how many reminders were handed
    /// over. Yields between claim batches so that senders start promptly. Sends run as tasks on
    /// the current tokio runtime.
    pub async fn tick(&self) -> Result<usize, StoreError> {
        let mut handed_over = 0;
        loop {
            let now = self.clock.now();
            let (grace, late_after) = (self.options.grace, self.options.late_after);
            let claimed = self.store.claim_due(now, self.options.batch, &mut |subscription| {
                let zone = jiff::tz::db().get(&subscription.zone).ok();
                if zone.is_none() {
                    tracing::error!(subscription = subscription.id, "unknown time zone in store; using UTC");
                }
                plan(subscription, zone.as_ref(), now, grace, late_after)
            })?;
            for claim in claimed {
                handed_over += self.hand_over(&claim);
            }
            match self.store.next_due_at()? {
                Some(at) if at <= now => tokio::task::yield_now().await,
                _ => return Ok(handed_over),
            }
        }
    }

    /// At start-up: hands over once more, with the same nonce, the deliveries a previous run
    /// claimed but did not record, if still within the grace period; records the rest
    /// `unknown`. Returns how many were handed over. Call inside a tokio runtime: the sends
    /// run as tasks on it. [`Scheduler::run`] calls it first.
    pub fn recover(&self) -> Result<usize, StoreError> {
        let now = self.clock.now();
        let mut handed_over = 0;
        for unfinished in self.store.take_unfinished()? {
            let delivery = &unfinished.delivery;
            let late_by = lateness(delivery.fire_at, now);
            let within_grace = late_by <= signed(self.options.grace);
            match (&delivery.nonce, within_grace && unfinished.subscription.paused.is_none()) {
                (Some(nonce), true) => {
                    let late = delivery.late || late_by > signed(self.options.late_after);
                    let timing = if late { Timing::Late } else { Timing::OnTime };
                    let outgoing = self.outgoing(&unfinished.subscription, delivery.local_date, nonce.clone(), timing);
                    self.spawn_send(outgoing, Some(delivery.local_date), delivery.fire_at, delivery.attempts);
                    handed_over += 1;
                }
                _ => self.store.record_outcome(&Outcome {
                    subscription_id: delivery.subscription_id,
                    local_date: Some(delivery.local_date),
                    state: DeliveryState::Unknown,
                    attempts: delivery.attempts,
                    pause: None,
                    notice: None,
                    at: now,
                })?,
            }
        }
        Ok(handed_over)
    }

    fn hand_over(&self, claim: &Claimed) -> usize {
        let mut handed_over = 0;
        let subscription = &claim.subscription;
        if let Some(daily) = &claim.daily {
            let timing = if daily.late { Timing::Late } else { Timing::OnTime };
            let nonce =
                daily.nonce.clone().unwrap_or_else(|| daily_nonce(subscription.id, daily.occurrence.local_date));
            let outgoing = self.outgoing(subscription, daily.occurrence.local_date, nonce, timing);
            self.spawn_send(outgoing, Some(daily.occurrence.local_date), daily.occurrence.at, 1);
            handed_over += 1;
        }
        if let Some(until) = claim.snooze {
            // Any date works for the tip; the pending one makes the snooze show tomorrow's tip.
            let date = subscription.next.local_date;
            let outgoing = self.outgoing(subscription, date, snooze_nonce(subscription.id, until), Timing::Snoozed);
            self.spawn_send(outgoing, None, until, 1);
            handed_over += 1;
        }
        handed_over
    }

    fn outgoing(
        &self,
        subscription: &Subscription,
        local_date: jiff::civil::Date,
        nonce: String,
        timing: Timing,
    ) -> Outgoing {
        let tip = tip_for(&self.tips, subscription.id, local_date);
        Outgoing {
            subscription_id: subscription.id,
            target: subscription.target,
            text: reminder_message(&subscription.target, tip, timing),
            nonce,
            silent: subscription.silent,
            late: timing == Timing::Late,
        }
    }

    fn spawn_send(
        &self,
        outgoing: Outgoing,
        local_date: Option<jiff::civil::Date>,
        due: Timestamp,
        attempts_before: u32,
    ) {
        let store = Arc::clone(&self.store);
        let deliver = Arc::clone(&self.deliver);
        let clock = Arc::clone(&self.clock);
        let options = self.options;
        let task = async move {
            let outcome = send_with_retries(&*deliver, &*clock, outgoing.clone(), due, options).await;
            let (state, pause) = match &outcome {
                (Ok(()), _) => (DeliveryState::Sent, None),
                (Err(DeliveryError::Transient { .. }), _) => (DeliveryState::Failed, None),
                (Err(DeliveryError::DmRefused), _) => (DeliveryState::Undeliverable, Some(PauseReason::DmRefused)),
                (Err(DeliveryError::ChannelGone), _) => (DeliveryState::Undeliverable, Some(PauseReason::ChannelGone)),
                (Err(DeliveryError::MissingPermission), _) => {
                    (DeliveryState::Undeliverable, Some(PauseReason::MissingPermission))
                }
            };
            if let (Err(err), attempts) = &outcome {
                match outgoing.target {
                    Target::User { .. } => {
                        tracing::warn!(subscription = outgoing.subscription_id, attempts, error = %err, "reminder not delivered");
                    }
                    Target::Channel { guild_id, channel_id, .. } => {
                        tracing::warn!(subscription = outgoing.subscription_id, guild_id, channel_id, attempts, error = %err, "channel reminder not delivered");
                    }
                }
            }
            let notice = match (pause, outgoing.target) {
                (Some(PauseReason::DmRefused), Target::User { user_id }) => Some((user_id, Notice::DmRefused)),
                _ => None,
            };
            let record = Outcome {
                subscription_id: outgoing.subscription_id,
                local_date,
                state,
                attempts: attempts_before + outcome.1 - 1,
                pause,
                notice,
                at: clock.now(),
            };
            if let Err(err) = store.record_outcome(&record) {
                tracing::error!(subscription = outgoing.subscription_id, error = %err, "cannot record reminder outcome");
            }
        };
        self.in_flight.lock().unwrap_or_else(PoisonError::into_inner).spawn(task);
    }

    /// Drops the results of finished sends so the set does not grow.
    fn reap(&self) {
        let mut in_flight = self.in_flight.lock().unwrap_or_else(PoisonError::into_inner);
        while let Some(result) = in_flight.try_join_next() {
            if let Err(err) = result
                && err.is_panic()
            {
                tracing::error!("a reminder send panicked");
            }
        }
    }
}

/// Tries to deliver, retrying transient failures with capped exponential backoff while the
/// occurrence is within the grace period. Returns the last result and the number of tries.
async fn send_with_retries<D: Deliver, C: Clock>(
    deliver: &D,
    clock: &C,
    outgoing: Outgoing,
    due: Timestamp,
    options: SchedulerOptions,
) -> (Result<(), DeliveryError>, u32) {
    let mut attempt = 1;
    loop {
        let result = deliver.deliver(outgoing.clone()).await;
        let Err(DeliveryError::Transient { .. }) = &result else {
            return (result, attempt);
        };
        let delay = options.retry.delay(attempt);
        let retry_at = clock.now().saturating_add(signed(delay)).unwrap_or(Timestamp::MAX);
        if attempt >= options.retry.max_attempts || lateness(due, retry_at) > signed(options.grace) {
            return (result, attempt);
        }
        tokio::time::sleep(delay).await;
        attempt += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_short_stable_and_distinct() {
        let day = jiff::civil::date(2026, 5, 1);
        let nonce = daily_nonce(i64::MAX, day);
        assert!(nonce.len() <= 25, "{nonce}");
        assert_eq!(nonce, daily_nonce(i64::MAX, day));
        assert_ne!(nonce, daily_nonce(i64::MAX, day.tomorrow().unwrap()));
        assert_ne!(nonce, daily_nonce(1, day));
        assert!(snooze_nonce(1, Timestamp::UNIX_EPOCH).len() <= 25);
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let policy =
            RetryPolicy { initial: Duration::from_secs(5), max_delay: Duration::from_secs(60), max_attempts: 9 };
        let delays: Vec<u64> = (1..=6).map(|attempt| policy.delay(attempt).as_secs()).collect();
        assert_eq!(delays, [5, 10, 20, 40, 60, 60]);
    }
}
