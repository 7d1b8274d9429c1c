//! The scheduler: sleeps until the earliest due reminder, claims due rows in the store, and
//! hands each reminder to the delivery port ([`Deliver`]), which the Discord adapter implements.
//!
//! # Exactly once per target per local day
//!
//! 1. **Claim.** In one transaction the store writes the delivery record keyed by (target,
//!    local date) as `claimed`, with a *lease* (this scheduler, until when), and advances the
//!    subscription to its next occurrence. An existing record for that key means the day is
//!    already handled: nothing is sent. On PostgreSQL several schedulers claim at once; `FOR
//!    UPDATE SKIP LOCKED` keeps them on different rows. The message carries a nonce derived from
//!    the key ([`daily_nonce`]), sent with `enforce_nonce`.
//! 2. **Send**, then **record** the outcome (`sent`, `failed`, `undeliverable`).
//! 3. **A crash between 1 and 2.** The claim's lease runs out and another scheduler takes it
//!    over (on `SQLite`, the next start: one scheduler per file), and sends it again with the
//!    same nonce. Discord's `enforce_nonce` turns a repeat within its nonce window (a few
//!    minutes; [`NONCE_WINDOW`] assumes two from the claim) into a no-op, so the scheduler keeps
//!    resending, whoever holds the claim, while inside that window, and never after it: then the
//!    record becomes `unknown`, with the reason logged and shown by `/remind show`.
//!
//! # Downtime
//!
//! An occurrence handed over more than `late_after` (1 min) after its instant says it is late;
//! one missed by more than the grace period (default 2 h) is recorded `skipped` and not sent.
//! After a longer outage only the latest missed day within the grace period is considered, so
//! there is never a backlog burst.
//!
//! # Failures and retries
//!
//! [`DeliveryError::DmRefused`] pauses the user's subscription and queues a notice for the next
//! time they use the bot; [`DeliveryError::ChannelGone`] and [`DeliveryError::MissingPermission`]
//! pause the channel's subscription; [`DeliveryError::Transient`] is handed over again after a
//! backoff ([`RedeliveryPolicy`]), with the same nonce, then recorded `failed` for that day.
//! Each hand-over is itself one HTTP request that the Discord outbox may retry
//! (`discord::outbox::SendRetry`): the product of the two is bounded by
//! [`MAX_SENDS_PER_REMINDER`], checked where both are known.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use tokio::sync::{Notify, Semaphore};
use tokio::task::JoinSet;

use super::schedule::{lateness, local_date_of, occurrence_after};
use super::store::{
    Claimed, Delivery, DeliveryKind, DeliveryState, GiveUp, Lease, NewDelivery, Notice, Outcome, PauseReason, Plan,
    Planner, ReminderStore, StoreError, Subscription, SubscriptionId, Target, TargetKey, Unfinished,
};
use super::text::{RichText, Timing, reminder_message, tip_for};
use crate::clock::Clock;
use crate::config::RemindersConfig;
use crate::knowledge::Tip;

/// How long after a claim a resend with the same nonce is still deduplicated by Discord. Discord
/// documents "the past few minutes"; two minutes from the claim (which comes before the first
/// send) is the conservative reading.
pub const NONCE_WINDOW: Duration = Duration::from_secs(120);

/// The most HTTP requests one reminder may cause in one scheduler's hand-over: the scheduler's
/// hand-overs times the outbox's attempts per hand-over.
pub const MAX_SENDS_PER_REMINDER: u32 = 12;

/// One reminder to send: everything the adapter needs, nothing it has to look up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    /// The subscription it is for (for logs and metrics).
    pub subscription_id: SubscriptionId,
    /// Where it goes: a user's DMs, or a channel with an optional role to ping.
    pub target: Target,
    /// The message. A channel reminder's text starts with the role mention, if any; the adapter
    /// must allow exactly that role's mention and nothing else.
    pub text: RichText,
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
/// the scheduler hands reminders over as soon as they are due, at most
/// [`SchedulerOptions::max_in_flight`] at a time.
pub trait Deliver: Send + Sync + 'static {
    /// Sends one reminder.
    fn deliver(&self, reminder: Outgoing) -> impl Future<Output = Result<(), DeliveryError>> + Send;
}

/// How a reminder whose hand-over failed transiently is handed over again (the scheduler's
/// retries, around the outbox's own per-request retries).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RedeliveryPolicy {
    /// The wait before the first redelivery; it doubles after each.
    pub initial: Duration,
    /// The longest wait between hand-overs.
    pub max_delay: Duration,
    /// The most hand-overs in all, the first included.
    pub max_attempts: u32,
}

impl Default for RedeliveryPolicy {
    fn default() -> RedeliveryPolicy {
        RedeliveryPolicy { initial: Duration::from_secs(5), max_delay: Duration::from_secs(20), max_attempts: 3 }
    }
}

impl RedeliveryPolicy {
    /// The wait after `attempt` failed hand-overs (1-based).
    pub fn delay(&self, attempt: u32) -> Duration {
        let factor = 2_u32.saturating_pow(attempt.saturating_sub(1));
        self.initial.saturating_mul(factor).min(self.max_delay)
    }

    /// Whether this policy, with `requests_per_hand_over` HTTP attempts in each hand-over, stays
    /// within [`MAX_SENDS_PER_REMINDER`].
    pub fn within_bound(&self, requests_per_hand_over: u32) -> bool {
        self.max_attempts.saturating_mul(requests_per_hand_over) <= MAX_SENDS_PER_REMINDER
    }
}

/// Scheduler settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SchedulerOptions {
    /// A reminder missed by less than this is sent late; by more, skipped.
    pub grace: Duration,
    /// Handed over later than this after its instant, a reminder says it is late.
    pub late_after: Duration,
    /// How many due rows one claim transaction takes at most.
    pub batch: usize,
    /// The most reminders being handed over at once; claims never take more than the free
    /// room, so a claim is sent at once (and several schedulers share a burst).
    pub max_in_flight: usize,
    /// The longest sleep between looks at the store, so a wall-clock jump (suspend, NTP) is
    /// noticed; each look is one indexed query.
    pub max_sleep: Duration,
    /// Transient failure redeliveries.
    pub redelivery: RedeliveryPolicy,
    /// How long a claim is reserved for its scheduler; renewed before each redelivery. After it,
    /// another scheduler takes the claim over.
    pub lease: Duration,
    /// How long after its claim a reminder may still be (re)sent with its nonce
    /// ([`NONCE_WINDOW`]).
    pub nonce_window: Duration,
    /// How long delivery records are kept (they only guard recent days).
    pub keep_deliveries: Duration,
    /// At shutdown, how long sends in flight may finish before they are abandoned (an abandoned
    /// send stays claimed and is taken over, with the same nonce).
    pub drain: Duration,
}

impl Default for SchedulerOptions {
    fn default() -> SchedulerOptions {
        SchedulerOptions {
            grace: Duration::from_secs(2 * 60 * 60),
            late_after: Duration::from_secs(60),
            batch: 256,
            max_in_flight: 64,
            max_sleep: Duration::from_secs(60),
            redelivery: RedeliveryPolicy::default(),
            lease: Duration::from_secs(30),
            nonce_window: NONCE_WINDOW,
            keep_deliveries: Duration::from_secs(8 * 24 * 60 * 60),
            drain: Duration::from_secs(5),
        }
    }
}

impl SchedulerOptions {
    /// The defaults with the configured grace period and lease.
    pub fn from_config(config: &RemindersConfig) -> SchedulerOptions {
        SchedulerOptions { grace: config.grace, lease: config.lease, ..SchedulerOptions::default() }
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

fn target_tag(target: TargetKey) -> String {
    match target {
        TargetKey::User(id) => format!("user/{id}"),
        TargetKey::Channel(id) => format!("channel/{id}"),
    }
}

/// The nonce for the daily reminder of `target` on `local_date`: 19 characters, deterministic,
/// so a resend after a crash, by any scheduler, is deduplicated by Discord.
pub fn daily_nonce(target: TargetKey, local_date: jiff::civil::Date) -> String {
    format!("cbd{:016x}", fnv1a(format!("crampbot/daily/{}/{local_date}", target_tag(target)).as_bytes()))
}

/// The nonce for a snoozed reminder of `target` due at `at`.
pub fn snooze_nonce(target: TargetKey, at: Timestamp) -> String {
    format!("cbs{:016x}", fnv1a(format!("crampbot/snooze/{}/{}", target_tag(target), at.as_second()).as_bytes()))
}

/// FNV-1a, 64-bit: stable across Rust versions and platforms, unlike `DefaultHasher`.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3))
}

fn signed(duration: Duration) -> SignedDuration {
    SignedDuration::try_from(duration).unwrap_or(SignedDuration::MAX)
}

fn after(at: Timestamp, duration: Duration) -> Timestamp {
    at.saturating_add(signed(duration)).unwrap_or(Timestamp::MAX)
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
    let key = subscription.target.key();
    let utc = TimeZone::UTC;
    let zone = zone.unwrap_or(&utc);
    let mut decided = Plan { records: Vec::new(), next: subscription.next, clear_snooze: false };
    if subscription.next.at <= now {
        let late_by = lateness(subscription.next.at, now);
        decided.records.push(if late_by > grace {
            NewDelivery {
                kind: DeliveryKind::Daily,
                occurrence: subscription.next,
                state: DeliveryState::Skipped,
                nonce: None,
                late: true,
            }
        } else {
            NewDelivery {
                kind: DeliveryKind::Daily,
                occurrence: subscription.next,
                state: DeliveryState::Claimed,
                nonce: Some(daily_nonce(key, subscription.next.local_date)),
                late: late_by > signed(late_after),
            }
        });
        let not_before = now.saturating_sub(grace).unwrap_or(now);
        decided.next = occurrence_after(subscription.next.local_date, not_before, subscription.local_time, zone);
    }
    if let Some(until) = subscription.snoozed_until
        && until <= now
    {
        decided.clear_snooze = true;
        let occurrence = super::schedule::Occurrence { local_date: local_date_of(until, zone), at: until };
        let state = if lateness(until, now) <= grace { DeliveryState::Claimed } else { DeliveryState::Skipped };
        decided.records.push(NewDelivery {
            kind: DeliveryKind::Snooze,
            occurrence,
            state,
            nonce: (state == DeliveryState::Claimed).then(|| snooze_nonce(key, until)),
            late: false,
        });
    }
    decided
}

/// What a scheduler that took a claim over does with it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takeover {
    /// Hand it over again, with its nonce.
    Resend,
    /// Give it up: record `unknown` with this reason (it may have arrived).
    GiveUp(GiveUp),
}

/// The rule for a claim taken over at `now`: resend while inside Discord's nonce window (from
/// the claim) and the grace period, and while the subscription exists unpaused.
pub fn takeover(
    delivery: &Delivery,
    subscription: Option<&Subscription>,
    now: Timestamp,
    grace: Duration,
    nonce_window: Duration,
) -> Takeover {
    if subscription.is_none_or(|subscription| subscription.paused.is_some()) || delivery.nonce.is_none() {
        return Takeover::GiveUp(GiveUp::SubscriptionGone);
    }
    if now >= after(delivery.claimed_at, nonce_window) {
        return Takeover::GiveUp(GiveUp::NonceWindowPassed);
    }
    if lateness(delivery.fire_at, now) > signed(grace) {
        return Takeover::GiveUp(GiveUp::GracePassed);
    }
    Takeover::Resend
}

/// The scheduler. Build it, give [`Scheduler::wakeup`] clones to the commands, then
/// [`Scheduler::run`] it until shutdown.
pub struct Scheduler<S, D, C> {
    shared: Arc<Shared<S, D, C>>,
    wakeup: Wakeup,
    in_flight: Mutex<JoinSet<()>>,
    room: Arc<Semaphore>,
}

/// What every send task needs.
struct Shared<S, D, C> {
    store: Arc<S>,
    deliver: Arc<D>,
    clock: Arc<C>,
    tips: Arc<[Tip]>,
    options: SchedulerOptions,
    /// This scheduler's name in leases: unique per process run.
    holder: String,
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
        static COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let serial = COUNTER.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let holder = format!("{}-{}-{serial}", std::process::id(), clock.now().as_millisecond());
        let room = Arc::new(Semaphore::new(options.max_in_flight.max(1)));
        let shared = Shared { store, deliver, clock, tips: tips.into(), options, holder };
        Scheduler { shared: Arc::new(shared), wakeup, in_flight: Mutex::new(JoinSet::new()), room }
    }

    /// The handle that wakes this scheduler.
    pub fn wakeup(&self) -> Wakeup {
        self.wakeup.clone()
    }

    /// This scheduler's name in claim leases.
    pub fn holder(&self) -> &str {
        &self.shared.holder
    }

    /// Runs until `shutdown` completes: takes the store's scheduler slot, then sleeps until the
    /// earliest due reminder (or a wake-up, or `max_sleep`), takes over claims whose lease ran
    /// out, claims and hands over everything due, and so on. At shutdown, sends in flight get
    /// `drain` to finish.
    ///
    /// Store errors inside the loop are logged and retried after a second; only a refused
    /// scheduler slot ([`StoreError::SchedulerBusy`]) or a failing store at start is returned.
    pub async fn run(self, shutdown: impl Future<Output = ()>) -> Result<(), StoreError> {
        tokio::pin!(shutdown);
        self.shared.store.start_scheduler().await?;
        tracing::info!(holder = %self.shared.holder, "reminder scheduler started");
        let mut last_prune: Option<Timestamp> = None;
        loop {
            self.reap();
            let now = self.shared.clock.now();
            if last_prune.is_none_or(|at| now.duration_since(at) > SignedDuration::from_hours(6)) {
                let before = now.saturating_sub(signed(self.shared.options.keep_deliveries)).unwrap_or(now);
                match self.shared.store.prune_deliveries(before).await {
                    Ok(pruned) => tracing::debug!(pruned, "pruned old delivery records"),
                    Err(err) => tracing::warn!(error = %err, "cannot prune delivery records"),
                }
                last_prune = Some(now);
            }
            let sleep_for = match self.tick_and_next().await {
                Ok(sleep_for) => sleep_for,
                Err(err) => {
                    tracing::error!(error = %err, "reminder store failed; retrying in a second");
                    Duration::from_secs(1)
                }
            }
            .min(self.shared.options.max_sleep);
            tokio::select! {
                () = &mut shutdown => break,
                () = self.wakeup.notified() => {}
                () = tokio::time::sleep(sleep_for) => {}
            }
        }
        let mut in_flight = std::mem::take(&mut *self.in_flight.lock().unwrap_or_else(PoisonError::into_inner));
        let drained =
            tokio::time::timeout(self.shared.options.drain, async { while in_flight.join_next().await.is_some() {} })
                .await;
        if drained.is_err() {
            tracing::warn!(abandoned = in_flight.len(), "shutdown: sends still in flight are taken over later");
            in_flight.shutdown().await;
        }
        Ok(())
    }

    /// One tick, then how long to sleep before the next look.
    async fn tick_and_next(&self) -> Result<Duration, StoreError> {
        let handed_over = self.tick().await?;
        let next = self.shared.store.next_due_at(self.shared.holder.clone()).await?;
        let now = self.shared.clock.now();
        Ok(match next {
            // Work is due but nothing was taken: other schedulers hold those rows right now.
            Some(at) if at <= now && handed_over == 0 => Duration::from_millis(50),
            Some(at) => Duration::try_from(at.duration_since(now)).unwrap_or(Duration::ZERO),
            None => self.shared.options.max_sleep,
        })
    }

    /// Takes over expired claims and claims everything due now, handing each over as room in
    /// flight allows; returns how many reminders were handed over. Sends run as tasks on the
    /// current tokio runtime.
    pub async fn tick(&self) -> Result<usize, StoreError> {
        let options = self.shared.options;
        let mut handed_over = 0;
        let mut idle_rounds = 0;
        loop {
            if self.room.available_permits() == 0 {
                // Wait for a send to finish before claiming more.
                drop(self.room.acquire().await);
            }
            let now = self.shared.clock.now();
            let lease = Lease { holder: self.shared.holder.clone(), until: after(now, options.lease) };
            let room = self.room.available_permits();
            let taken = self.shared.store.take_over(now, room, lease.clone()).await?;
            let n_taken = taken.len();
            for unfinished in taken {
                handed_over += usize::from(self.resume(unfinished, now).await?);
            }
            let room = self.room.available_permits().min(options.batch);
            if room == 0 {
                continue;
            }
            let planner = Planner { now, grace: options.grace, late_after: options.late_after };
            let claimed = self.shared.store.claim_due(planner, room, lease).await?;
            let n_claimed = claimed.len();
            for claim in claimed {
                self.hand_over(claim);
                handed_over += 1;
            }
            // A claim that only skipped rows hands nothing over but may leave more due; two
            // empty rounds in a row mean the rest is held by other schedulers.
            idle_rounds = if n_claimed == 0 && n_taken == 0 { idle_rounds + 1 } else { 0 };
            if idle_rounds >= 2 {
                return Ok(handed_over);
            }
            match self.shared.store.next_due_at(self.shared.holder.clone()).await? {
                Some(at) if at <= now => tokio::task::yield_now().await,
                _ => return Ok(handed_over),
            }
        }
    }

    /// A claim taken over: resend it with its nonce, or give it up (logged, recorded).
    async fn resume(&self, unfinished: Unfinished, now: Timestamp) -> Result<bool, StoreError> {
        let options = self.shared.options;
        let Unfinished { subscription, delivery } = unfinished;
        match takeover(&delivery, subscription.as_ref(), now, options.grace, options.nonce_window) {
            Takeover::Resend => {
                let Some(subscription) = subscription else { return Ok(false) };
                tracing::info!(
                    subscription = subscription.id,
                    delivery = delivery.id,
                    attempts = delivery.attempts,
                    "taking over an unfinished reminder; resending with its nonce"
                );
                self.hand_over(Claimed { subscription, delivery });
                Ok(true)
            }
            Takeover::GiveUp(reason) => {
                tracing::warn!(
                    subscription = delivery.subscription_id,
                    delivery = delivery.id,
                    attempts = delivery.attempts,
                    reason = reason.as_str(),
                    "reminder given up after a takeover"
                );
                self.shared
                    .store
                    .record_outcome(Outcome {
                        delivery_id: delivery.id,
                        state: DeliveryState::Unknown,
                        reason: Some(reason),
                        attempts: delivery.attempts.saturating_sub(1),
                        pause: None,
                        notice: None,
                        at: now,
                    })
                    .await?;
                Ok(false)
            }
        }
    }

    fn hand_over(&self, claim: Claimed) {
        let Ok(permit) = Arc::clone(&self.room).try_acquire_owned() else {
            // Claims never exceed the room; if they did, the lease hands the claim to a
            // later takeover.
            tracing::error!(delivery = claim.delivery.id, "no room for a claimed reminder; left to its lease");
            return;
        };
        let shared = Arc::clone(&self.shared);
        let task = async move {
            let _permit = permit;
            shared.send(claim).await;
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

impl<S: ReminderStore, D: Deliver, C: Clock> Shared<S, D, C> {
    fn outgoing(&self, subscription: &Subscription, delivery: &Delivery) -> Outgoing {
        let timing = match (delivery.kind, delivery.late) {
            (DeliveryKind::Snooze, _) => Timing::Snoozed,
            (DeliveryKind::Daily, true) => Timing::Late,
            (DeliveryKind::Daily, false) => Timing::OnTime,
        };
        // A snooze shows the tip of the day after its date, so it differs from the daily one.
        let tip_date = match delivery.kind {
            DeliveryKind::Daily => delivery.local_date,
            DeliveryKind::Snooze => delivery.local_date.tomorrow().unwrap_or(delivery.local_date),
        };
        let tip = tip_for(&self.tips, subscription.id, tip_date);
        Outgoing {
            subscription_id: subscription.id,
            target: subscription.target,
            text: reminder_message(&subscription.target, tip, timing),
            nonce: delivery
                .nonce
                .clone()
                .unwrap_or_else(|| daily_nonce(subscription.target.key(), delivery.local_date)),
            silent: subscription.silent,
            late: timing == Timing::Late,
        }
    }

    /// Hands one claim over, with redeliveries, inside the nonce window, then records what
    /// became of it. Every give-up is logged with its reason.
    async fn send(&self, claim: Claimed) {
        let Claimed { subscription, delivery } = claim;
        let options = self.options;
        let outgoing = self.outgoing(&subscription, &delivery);
        let deadline = after(delivery.claimed_at, options.nonce_window);
        let mut hand_overs = 0;
        let mut refused_for = None;
        let result = loop {
            if hand_overs > 0 {
                tokio::time::sleep(options.redelivery.delay(hand_overs)).await;
                let lease = Lease { holder: self.holder.clone(), until: after(self.clock.now(), options.lease) };
                match self.store.renew_lease(delivery.id, lease).await {
                    Ok(true) => {}
                    Ok(false) => {
                        tracing::info!(delivery = delivery.id, "claim taken over elsewhere; this scheduler stops");
                        return;
                    }
                    Err(err) => {
                        tracing::error!(delivery = delivery.id, error = %err, "cannot renew a claim; left to its lease");
                        return;
                    }
                }
            }
            let now = self.clock.now();
            if now >= deadline {
                break Err((GiveUp::NonceWindowPassed, "the nonce window closed".to_owned()));
            }
            if lateness(delivery.fire_at, now) > signed(options.grace) {
                break Err((GiveUp::GracePassed, "the grace period passed".to_owned()));
            }
            hand_overs += 1;
            let left = Duration::try_from(deadline.duration_since(now)).unwrap_or(Duration::ZERO);
            let sent = tokio::time::timeout(left, self.deliver.deliver(outgoing.clone())).await;
            match sent {
                Ok(Ok(())) => break Ok(()),
                Ok(Err(DeliveryError::Transient { reason })) if hand_overs < options.redelivery.max_attempts => {
                    tracing::debug!(
                        delivery = delivery.id,
                        hand_overs,
                        reason,
                        "transient failure; will hand over again"
                    );
                }
                Ok(Err(DeliveryError::Transient { reason })) => break Err((GiveUp::RetriesExhausted, reason)),
                Ok(Err(refused)) => {
                    let pause = match refused {
                        DeliveryError::DmRefused => PauseReason::DmRefused,
                        DeliveryError::ChannelGone => PauseReason::ChannelGone,
                        _ => PauseReason::MissingPermission,
                    };
                    refused_for = Some(pause);
                    break Err((GiveUp::Refused, refused.to_string()));
                }
                Err(_) => break Err((GiveUp::NonceWindowPassed, "the nonce window closed mid-send".to_owned())),
            }
        };
        let attempts = delivery.attempts.saturating_add(hand_overs.saturating_sub(1));
        let (state, reason, pause) = match &result {
            Ok(()) => (DeliveryState::Sent, None, None),
            Err((GiveUp::Refused, _)) => {
                (DeliveryState::Undeliverable, Some(GiveUp::Refused), refused_for.map(|pause| (subscription.id, pause)))
            }
            // Interrupted by the window or the grace after a hand-over that may have arrived.
            Err((reason @ (GiveUp::NonceWindowPassed | GiveUp::GracePassed), _))
                if hand_overs > 0 || delivery.attempts > 1 =>
            {
                (DeliveryState::Unknown, Some(*reason), None)
            }
            Err((reason, _)) => (DeliveryState::Failed, Some(*reason), None),
        };
        if let Err((reason, why)) = &result {
            match subscription.target {
                Target::User { .. } => tracing::warn!(
                    subscription = subscription.id,
                    delivery = delivery.id,
                    attempts,
                    reason = reason.as_str(),
                    error = %why,
                    "reminder given up"
                ),
                Target::Channel { guild_id, channel_id, .. } => tracing::warn!(
                    subscription = subscription.id,
                    delivery = delivery.id,
                    guild_id,
                    channel_id,
                    attempts,
                    reason = reason.as_str(),
                    error = %why,
                    "channel reminder given up"
                ),
            }
        }
        let notice = match (pause, subscription.target) {
            (Some((_, PauseReason::DmRefused)), Target::User { user_id }) => Some((user_id, Notice::DmRefused)),
            _ => None,
        };
        let record = Outcome { delivery_id: delivery.id, state, reason, attempts, pause, notice, at: self.clock.now() };
        if let Err(err) = self.store.record_outcome(record).await {
            tracing::error!(subscription = subscription.id, error = %err, "cannot record reminder outcome; left to its lease");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_are_short_stable_and_distinct() {
        let day = jiff::civil::date(2026, 5, 1);
        let user = TargetKey::User(u64::MAX);
        let nonce = daily_nonce(user, day);
        assert!(nonce.len() <= 25, "{nonce}");
        assert_eq!(nonce, daily_nonce(user, day));
        assert_ne!(nonce, daily_nonce(user, day.tomorrow().unwrap()));
        assert_ne!(nonce, daily_nonce(TargetKey::Channel(u64::MAX), day));
        assert!(snooze_nonce(user, Timestamp::UNIX_EPOCH).len() <= 25);
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let policy =
            RedeliveryPolicy { initial: Duration::from_secs(5), max_delay: Duration::from_secs(60), max_attempts: 9 };
        let delays: Vec<u64> = (1..=6).map(|attempt| policy.delay(attempt).as_secs()).collect();
        assert_eq!(delays, [5, 10, 20, 40, 60, 60]);
        assert!(!policy.within_bound(4), "9 hand-overs of 4 requests each is too many");
        assert!(RedeliveryPolicy::default().within_bound(4));
    }

    #[test]
    fn the_default_redeliveries_fit_inside_the_nonce_window() {
        let options = SchedulerOptions::default();
        let waits: Duration = (1..options.redelivery.max_attempts).map(|n| options.redelivery.delay(n)).sum();
        assert!(waits + options.lease < options.nonce_window, "{waits:?}");
    }
}
