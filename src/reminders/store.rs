//! The store port: what the reminders need from persistence, and the values that cross it.
//!
//! The port belongs to the reminders (the core that uses it), not to a database: `crate::store`
//! implements it for `SQLite` (the default) and PostgreSQL, and depends on this module, never
//! the other way round. The store decides nothing: the scheduler's pure rules ([`Planner`],
//! `scheduler::plan`) say what to write, and the store writes it atomically.
//!
//! Every method is async. The `SQLite` implementation runs its blocking calls on tokio's blocking
//! pool, so no call ever stalls an async worker; the PostgreSQL one is async all the way.
//!
//! Only ids, times, zones and settings cross this port: never message content, names or tokens.

use std::future::Future;

use jiff::Timestamp;
use jiff::civil::{Date, Time};

use super::schedule::Occurrence;

/// A subscription's row id.
pub type SubscriptionId = i64;

/// A delivery record's row id.
pub type DeliveryId = i64;

/// Where a reminder goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Target {
    /// A direct message to a user who asked for it.
    User {
        /// The Discord user id.
        user_id: u64,
    },
    /// A post in a server channel that an admin set up, optionally pinging one role.
    Channel {
        /// The Discord server (guild) id.
        guild_id: u64,
        /// The Discord channel id.
        channel_id: u64,
        /// The role to mention, if any; the only ping the bot ever makes.
        role_id: Option<u64>,
    },
}

/// What identifies a subscription for the commands: each user has at most one DM reminder and
/// each channel at most one channel reminder. Delivery records are keyed by it too, so turning a
/// reminder off and on again the same day cannot send that day twice.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TargetKey {
    /// The DM reminder of this user.
    User(u64),
    /// The reminder of this channel.
    Channel(u64),
}

impl Target {
    /// The key that identifies this target's subscription.
    pub fn key(&self) -> TargetKey {
        match *self {
            Target::User { user_id } => TargetKey::User(user_id),
            Target::Channel { channel_id, .. } => TargetKey::Channel(channel_id),
        }
    }
}

/// Why a subscription is paused. A paused subscription is never due; setting it again resumes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PauseReason {
    /// Discord refused the DM (error 50007): the user closed DMs or blocked the bot.
    DmRefused,
    /// The channel no longer exists (error 10003).
    ChannelGone,
    /// The bot may not post in the channel (error 50013 or 50001).
    MissingPermission,
    /// The stored settings could not be read back (a damaged row); setting it again repairs it.
    Unreadable,
}

impl PauseReason {
    /// Every reason, for strict decoding.
    pub const ALL: [PauseReason; 4] =
        [PauseReason::DmRefused, PauseReason::ChannelGone, PauseReason::MissingPermission, PauseReason::Unreadable];

    /// The value stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            PauseReason::DmRefused => "dm_refused",
            PauseReason::ChannelGone => "channel_gone",
            PauseReason::MissingPermission => "missing_permission",
            PauseReason::Unreadable => "unreadable",
        }
    }

    /// The reason for a stored value; `None` for anything else.
    pub fn parse(value: &str) -> Option<PauseReason> {
        PauseReason::ALL.into_iter().find(|reason| reason.as_str() == value)
    }
}

/// A daily reminder as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    /// Row id.
    pub id: SubscriptionId,
    /// Where it goes.
    pub target: Target,
    /// The local wall-clock time it fires at.
    pub local_time: Time,
    /// The IANA zone name that `local_time` is in (one the bundled tz database knows).
    pub zone: String,
    /// Send without a push notification (Discord's `SUPPRESS_NOTIFICATIONS`).
    pub silent: bool,
    /// Why it is paused, if it is.
    pub paused: Option<PauseReason>,
    /// The pending occurrence: the next one not yet claimed.
    pub next: Occurrence,
    /// A one-off extra reminder requested with snooze, if any.
    pub snoozed_until: Option<Timestamp>,
    /// Who set it up: the user for a DM reminder, the admin for a channel reminder (cleared
    /// when that admin uses `/forget`).
    pub set_by: Option<u64>,
    /// When it was first set.
    pub created_at: Timestamp,
    /// When its settings last changed.
    pub updated_at: Timestamp,
}

/// The settings of a subscription to create or replace.
#[derive(Debug, Clone, PartialEq)]
pub struct NewSubscription {
    /// Where it goes.
    pub target: Target,
    /// The local wall-clock time.
    pub local_time: Time,
    /// The canonical IANA zone name.
    pub zone: String,
    /// Send without a push notification.
    pub silent: bool,
    /// The first occurrence to wait for.
    pub next: Occurrence,
    /// Who set it up.
    pub set_by: Option<u64>,
}

/// Which reminder a delivery record is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryKind {
    /// The daily reminder of one local date: at most one per target and date.
    Daily,
    /// A snoozed extra reminder: at most one per target and instant.
    Snooze,
}

impl DeliveryKind {
    /// The value stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryKind::Daily => "daily",
            DeliveryKind::Snooze => "snooze",
        }
    }

    /// The kind for a stored value.
    pub fn parse(value: &str) -> Option<DeliveryKind> {
        [DeliveryKind::Daily, DeliveryKind::Snooze].into_iter().find(|kind| kind.as_str() == value)
    }
}

/// What became of one occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryState {
    /// Claimed by a scheduler, whose lease says until when it is handing it over; the outcome
    /// is not recorded yet. A claim whose lease ran out is taken over by another scheduler (or,
    /// on `SQLite`, by the next start) and sent again with the same nonce.
    Claimed,
    /// Discord accepted the message.
    Sent,
    /// Missed by more than the grace period; deliberately not sent.
    Skipped,
    /// Transient failures until the retries ran out; not sent that day.
    Failed,
    /// Refused for good (DMs closed, channel gone, no permission); the subscription is paused.
    Undeliverable,
    /// Handed over, but no answer was seen before Discord's nonce window closed, so it may or
    /// may not have arrived and is not sent again.
    Unknown,
}

impl DeliveryState {
    /// Every state, for strict decoding.
    pub const ALL: [DeliveryState; 6] = [
        DeliveryState::Claimed,
        DeliveryState::Sent,
        DeliveryState::Skipped,
        DeliveryState::Failed,
        DeliveryState::Undeliverable,
        DeliveryState::Unknown,
    ];

    /// The value stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Claimed => "claimed",
            DeliveryState::Sent => "sent",
            DeliveryState::Skipped => "skipped",
            DeliveryState::Failed => "failed",
            DeliveryState::Undeliverable => "undeliverable",
            DeliveryState::Unknown => "unknown",
        }
    }

    /// The state for a stored value.
    pub fn parse(value: &str) -> Option<DeliveryState> {
        DeliveryState::ALL.into_iter().find(|state| state.as_str() == value)
    }
}

/// Why a reminder was given up: logged when it happens and shown by `/remind show`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GiveUp {
    /// Missed by more than the grace period (the bot was down).
    GracePassed,
    /// Discord kept failing (429, 5xx, no connection) until the retries ran out.
    RetriesExhausted,
    /// A hand-over was interrupted (a crash, a lost lease) and could not be confirmed before
    /// Discord's nonce window closed: resending then could post it twice.
    NonceWindowPassed,
    /// The subscription was turned off or paused while it was being sent.
    SubscriptionGone,
    /// Discord refused it for good (DMs closed, channel gone, no permission).
    Refused,
}

impl GiveUp {
    /// Every reason, for strict decoding.
    pub const ALL: [GiveUp; 5] = [
        GiveUp::GracePassed,
        GiveUp::RetriesExhausted,
        GiveUp::NonceWindowPassed,
        GiveUp::SubscriptionGone,
        GiveUp::Refused,
    ];

    /// The value stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            GiveUp::GracePassed => "grace_passed",
            GiveUp::RetriesExhausted => "retries_exhausted",
            GiveUp::NonceWindowPassed => "nonce_window_passed",
            GiveUp::SubscriptionGone => "subscription_gone",
            GiveUp::Refused => "refused",
        }
    }

    /// The reason for a stored value.
    pub fn parse(value: &str) -> Option<GiveUp> {
        GiveUp::ALL.into_iter().find(|reason| reason.as_str() == value)
    }
}

/// The record of one reminder: at most one per (target, local date) for a daily reminder and
/// per (target, instant) for a snooze.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Row id.
    pub id: DeliveryId,
    /// The subscription, while it exists (the record outlives an `off`, as the guard for that
    /// day).
    pub subscription_id: Option<SubscriptionId>,
    /// Whose reminder it is.
    pub target: TargetKey,
    /// Daily or snoozed.
    pub kind: DeliveryKind,
    /// The local date the occurrence belongs to.
    pub local_date: Date,
    /// The instant it was due.
    pub fire_at: Timestamp,
    /// What became of it.
    pub state: DeliveryState,
    /// The nonce the message carries (absent when skipped).
    pub nonce: Option<String>,
    /// Whether it was handed over late (after downtime) and said so.
    pub late: bool,
    /// When it was first claimed (or skipped). Discord's nonce window is counted from here.
    pub claimed_at: Timestamp,
    /// When Discord accepted it.
    pub sent_at: Option<Timestamp>,
    /// How many times it was handed to the sender, by every scheduler in all.
    pub attempts: u32,
    /// Why it was given up, when it was.
    pub reason: Option<GiveUp>,
}

/// A delivery record to write while claiming: [`DeliveryState::Claimed`] (to send) or
/// [`DeliveryState::Skipped`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// Daily or snoozed.
    pub kind: DeliveryKind,
    /// The occurrence it is for (a snooze's local date is the date it fires on, in the zone).
    pub occurrence: Occurrence,
    /// `Claimed` or `Skipped`.
    pub state: DeliveryState,
    /// The deterministic nonce for the message.
    pub nonce: Option<String>,
    /// Whether it is sent late.
    pub late: bool,
}

/// What the scheduler decided for one due subscription; the store writes it atomically.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The records to write: for the pending occurrence if it is due, and for the snooze if it
    /// is due. Each is written only if no record exists for its key (the exactly-once guard).
    pub records: Vec<NewDelivery>,
    /// The pending occurrence from now on (unchanged if it was not due).
    pub next: Occurrence,
    /// Clear the snooze (it is due).
    pub clear_snooze: bool,
}

/// The pure rule the store applies to each due subscription while claiming: the scheduler's
/// settings and `now`. See `scheduler::plan`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Planner {
    /// The claim's instant.
    pub now: Timestamp,
    /// A reminder missed by less than this is sent late; by more, skipped.
    pub grace: std::time::Duration,
    /// Handed over later than this after its instant, a reminder says it is late.
    pub late_after: std::time::Duration,
}

impl Planner {
    /// What to do with `subscription` (the scheduler's pure `plan`).
    pub fn plan(&self, subscription: &Subscription) -> Plan {
        let zone = jiff::tz::db().get(&subscription.zone).ok();
        super::scheduler::plan(subscription, zone.as_ref(), self.now, self.grace, self.late_after)
    }
}

/// Who holds a claim, and until when: the lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lease {
    /// The scheduler holding it (unique per process run).
    pub holder: String,
    /// Until when; after this another scheduler may take the claim over.
    pub until: Timestamp,
}

/// One claimed reminder to hand to the sender.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    /// The subscription as it was at the claim.
    pub subscription: Subscription,
    /// Its record, newly written as [`DeliveryState::Claimed`].
    pub delivery: Delivery,
}

/// A claimed delivery whose lease ran out (its scheduler died or stalled), now leased to the
/// scheduler that took it over, with its subscription if that still exists.
#[derive(Debug, Clone, PartialEq)]
pub struct Unfinished {
    /// The subscription, if it still exists.
    pub subscription: Option<Subscription>,
    /// The delivery, its `attempts` already counting this hand-over.
    pub delivery: Delivery,
}

/// Something to tell a user the next time they use the bot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Notice {
    /// Their DM reminder was paused because Discord refused the DM.
    DmRefused,
}

impl Notice {
    /// The value stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            Notice::DmRefused => "dm_refused",
        }
    }

    /// The notice for a stored value.
    pub fn parse(value: &str) -> Option<Notice> {
        (value == "dm_refused").then_some(Notice::DmRefused)
    }
}

/// The outcome of handing one reminder to the sender, to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The delivery record.
    pub delivery_id: DeliveryId,
    /// `Sent`, `Failed`, `Undeliverable` or `Unknown`.
    pub state: DeliveryState,
    /// Why it was given up, for anything but `Sent`.
    pub reason: Option<GiveUp>,
    /// How many times it has been handed to the sender in all, other schedulers' included.
    pub attempts: u32,
    /// Pause this subscription for this reason.
    pub pause: Option<(SubscriptionId, PauseReason)>,
    /// Queue this notice for this user (only while the subscription exists).
    pub notice: Option<(u64, Notice)>,
    /// When the outcome was known.
    pub at: Timestamp,
}

/// What [`ReminderStore::forget_user`] removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Forgotten {
    /// The user's DM subscription (0 or 1).
    pub subscriptions: usize,
    /// Delivery records of their DM reminders.
    pub deliveries: usize,
    /// Pending notices.
    pub notices: usize,
    /// Channel reminders they had set, which keep running for their servers without their id.
    pub channels_unlinked: usize,
}

/// Why the store failed. Operator-facing: adapters log it and show users a generic apology.
/// Backend-neutral: the database's own error is kept as the source.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database could not be reached, opened or configured.
    #[error("cannot open reminder database {location}: {source}")]
    Open {
        /// The file or the server (never with a password).
        location: String,
        /// What the database said.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The database was written by a newer crampbot.
    #[error("reminder database schema version {found} is newer than this build knows ({known}); upgrade crampbot")]
    TooNew {
        /// The version found.
        found: i64,
        /// The latest version this build knows.
        known: i64,
    },
    /// A migration failed; the database is left at the previous version.
    #[error("migration to schema version {version} failed: {source}")]
    Migration {
        /// The version that failed.
        version: i64,
        /// What the database said.
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A query failed.
    #[error("reminder database error: {0}")]
    Backend(Box<dyn std::error::Error + Send + Sync>),
    /// A Discord id is too large to store as a signed 64-bit integer.
    #[error("id {0} is too large to store")]
    IdOutOfRange(u64),
    /// A stored value could not be read back strictly.
    #[error("corrupt value in {column}: {value:?}")]
    Corrupt {
        /// The column.
        column: &'static str,
        /// The value found.
        value: String,
    },
    /// Another scheduler already runs on this database, which allows only one (`SQLite`).
    #[error(
        "another crampbot scheduler is already running on {location}; an SQLite database allows one scheduler (one `crampbot run`). Stop the other process, or use PostgreSQL (reminders.database = \"postgres://...\") to run several"
    )]
    SchedulerBusy {
        /// The database file.
        location: String,
    },
    /// A blocking database task panicked or was cancelled.
    #[error("reminder database task failed: {0}")]
    Task(String),
}

/// The persistence the reminders need, and nothing more.
///
/// Implementations: `crate::store::SqliteStore` (one file; one scheduler) and
/// `crate::store::PgStore` (a server; any number of schedulers, which claim with
/// `FOR UPDATE SKIP LOCKED`).
pub trait ReminderStore: Send + Sync + 'static {
    /// Creates the subscription for `new.target`'s key, or replaces its settings, keeping its id.
    /// Clears any pause and snooze.
    fn upsert(
        &self,
        new: NewSubscription,
        now: Timestamp,
    ) -> impl Future<Output = Result<Subscription, StoreError>> + Send;

    /// The subscription for this user or channel.
    fn find(&self, key: TargetKey) -> impl Future<Output = Result<Option<Subscription>, StoreError>> + Send;

    /// How many subscriptions there are.
    fn count(&self) -> impl Future<Output = Result<usize, StoreError>> + Send;

    /// Deletes the subscription for this user or channel. Its delivery records stay (until
    /// pruned) as the guard against sending a day twice. Whether there was one.
    fn remove(&self, key: TargetKey) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Sets or clears the one-off snooze of a subscription.
    fn set_snooze(
        &self,
        id: SubscriptionId,
        until: Option<Timestamp>,
        now: Timestamp,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Deletes everything stored about a user: their DM subscription, its delivery records and
    /// their notices; and removes their id from channel reminders they set.
    fn forget_user(&self, user_id: u64) -> impl Future<Output = Result<Forgotten, StoreError>> + Send;

    /// The notices queued for a user, without removing them.
    fn pending_notices(&self, user_id: u64) -> impl Future<Output = Result<Vec<Notice>, StoreError>> + Send;

    /// Removes these notices of a user, once they have been shown.
    fn clear_notices(&self, user_id: u64, notices: Vec<Notice>) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The earliest instant the scheduler has work: an unpaused subscription falls due, or a
    /// claim held by another scheduler runs out of lease. From indexes.
    fn next_due_at(&self, holder: String) -> impl Future<Output = Result<Option<Timestamp>, StoreError>> + Send;

    /// Takes this store's scheduler slot (again: idempotent). `SQLite` allows one scheduler per
    /// database ([`StoreError::SchedulerBusy`] for a second store on the file; the slot is freed
    /// when the store is dropped or the process dies); PostgreSQL allows any number.
    fn start_scheduler(&self) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// In one transaction: takes up to `limit` subscriptions due at `planner.now` (earliest
    /// first) that no other scheduler is claiming right now, applies `planner` to each, writes
    /// each plan's delivery records (only where none exists for that key: the exactly-once
    /// guard) under `lease`, and advances the subscriptions. Returns the new `Claimed` records.
    fn claim_due(
        &self,
        planner: Planner,
        limit: usize,
        lease: Lease,
    ) -> impl Future<Output = Result<Vec<Claimed>, StoreError>> + Send;

    /// Takes over up to `limit` claims whose lease ran out before `now`, held by another
    /// scheduler (`SQLite`, with one scheduler, takes every claim not its own: their holder is
    /// gone). Each gets `lease` and one more attempt.
    fn take_over(
        &self,
        now: Timestamp,
        limit: usize,
        lease: Lease,
    ) -> impl Future<Output = Result<Vec<Unfinished>, StoreError>> + Send;

    /// Extends a claim's lease while its holder keeps trying. `false` when the claim is no
    /// longer held by `lease.holder` (taken over, or already recorded): stop sending it.
    fn renew_lease(&self, id: DeliveryId, lease: Lease) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records an outcome: the delivery's state, and any pause and notice, in one transaction.
    /// A claim that is no longer `Claimed` keeps its state, except that `Sent` always wins.
    fn record_outcome(&self, outcome: Outcome) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The delivery records of a user's or channel's reminders, newest first, at most `limit`.
    fn deliveries(
        &self,
        key: TargetKey,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<Delivery>, StoreError>> + Send;

    /// Deletes finished delivery records claimed before `before` (they only guard recent days).
    fn prune_deliveries(&self, before: Timestamp) -> impl Future<Output = Result<usize, StoreError>> + Send;
}

/// Strict decoding of stored values: exactly the forms the stores write, never the lenient
/// parsers for what users type.
pub mod decode {
    use jiff::Timestamp;
    use jiff::civil::{Date, Time};

    use super::StoreError;

    /// `HH:MM`, two digits each, 00:00 to 23:59.
    pub fn local_time(column: &'static str, value: &str) -> Result<Time, StoreError> {
        let corrupt = || StoreError::Corrupt { column, value: value.to_owned() };
        let bytes = value.as_bytes();
        if bytes.len() != 5 || bytes[2] != b':' || !bytes.iter().enumerate().all(|(i, b)| i == 2 || b.is_ascii_digit())
        {
            return Err(corrupt());
        }
        let hour: i8 = value[..2].parse().map_err(|_| corrupt())?;
        let minute: i8 = value[3..].parse().map_err(|_| corrupt())?;
        Time::new(hour, minute, 0, 0).map_err(|_| corrupt())
    }

    /// `YYYY-MM-DD`, exactly.
    pub fn date(column: &'static str, value: &str) -> Result<Date, StoreError> {
        let corrupt = || StoreError::Corrupt { column, value: value.to_owned() };
        let bytes = value.as_bytes();
        let shape = bytes.len() == 10
            && bytes[4] == b'-'
            && bytes[7] == b'-'
            && bytes.iter().enumerate().all(|(i, b)| i == 4 || i == 7 || b.is_ascii_digit());
        if !shape {
            return Err(corrupt());
        }
        let date: Date = value.parse().map_err(|_| corrupt())?;
        Ok(date)
    }

    /// Unix seconds.
    pub fn timestamp(column: &'static str, value: i64) -> Result<Timestamp, StoreError> {
        Timestamp::from_second(value).map_err(|_| StoreError::Corrupt { column, value: value.to_string() })
    }

    /// A Discord id, stored as a positive signed 64-bit integer.
    pub fn id(column: &'static str, value: i64) -> Result<u64, StoreError> {
        u64::try_from(value).map_err(|_| StoreError::Corrupt { column, value: value.to_string() })
    }

    /// A count that fits `u32`.
    pub fn count(column: &'static str, value: i64) -> Result<u32, StoreError> {
        u32::try_from(value).map_err(|_| StoreError::Corrupt { column, value: value.to_string() })
    }

    /// An IANA zone name the bundled tz database knows, spelt as it spells it.
    pub fn zone(column: &'static str, value: String) -> Result<String, StoreError> {
        match jiff::tz::db().get(&value) {
            Ok(tz) if tz.iana_name() == Some(value.as_str()) => Ok(value),
            _ => Err(StoreError::Corrupt { column, value }),
        }
    }

    /// One of a closed set of stored words.
    pub fn word<T>(column: &'static str, value: &str, parse: fn(&str) -> Option<T>) -> Result<T, StoreError> {
        parse(value).ok_or_else(|| StoreError::Corrupt { column, value: value.to_owned() })
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        #[test]
        fn stored_times_and_dates_are_read_strictly() {
            assert_eq!(local_time("t", "07:30").unwrap(), jiff::civil::time(7, 30, 0, 0));
            for bad in ["7:30", "7:30pm", "24:00", "07:60", " 07:30", "0730", "07:3a", "+7:30"] {
                assert!(local_time("t", bad).is_err(), "{bad}");
            }
            assert_eq!(date("d", "2026-05-01").unwrap(), jiff::civil::date(2026, 5, 1));
            for bad in ["2026-5-01", "+002026-05-01", "2026-02-30", "20260501", "2026-05-01 "] {
                assert!(date("d", bad).is_err(), "{bad}");
            }
            assert!(zone("z", "Europe/London".into()).is_ok());
            assert!(zone("z", "europe/london".into()).is_err(), "the stored spelling is canonical");
            assert!(zone("z", "Mars/Olympus".into()).is_err());
            assert!(id("i", -1).is_err());
            assert!(count("c", -1).is_err());
        }
    }
}
