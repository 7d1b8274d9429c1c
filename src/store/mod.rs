//! Persistence of reminder subscriptions, delivery records, pending notices and help channels.
//!
//! The scheduler and the commands only see the narrow [`ReminderStore`] trait, so a server
//! database can be added later without touching them; [`sqlite::SqliteStore`] is the embedded
//! default. The store decides nothing: the scheduler passes in what to write (a [`Plan`] per due
//! subscription) and the store writes it atomically.
//!
//! Only ids, times, zones and settings are stored: never message content, names or tokens.

pub mod sqlite;

use jiff::Timestamp;
use jiff::civil::{Date, Time};

use crate::reminders::schedule::Occurrence;

pub use sqlite::SqliteStore;

/// A subscription's row id.
pub type SubscriptionId = i64;

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
/// each channel at most one channel reminder.
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
}

impl PauseReason {
    /// The value stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            PauseReason::DmRefused => "dm_refused",
            PauseReason::ChannelGone => "channel_gone",
            PauseReason::MissingPermission => "missing_permission",
        }
    }

    /// The reason for a stored value.
    pub fn parse(value: &str) -> Option<PauseReason> {
        [PauseReason::DmRefused, PauseReason::ChannelGone, PauseReason::MissingPermission]
            .into_iter()
            .find(|reason| reason.as_str() == value)
    }
}

/// A daily reminder as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Subscription {
    /// Row id; also part of the delivery key and the message nonce.
    pub id: SubscriptionId,
    /// Where it goes.
    pub target: Target,
    /// The local wall-clock time it fires at.
    pub local_time: Time,
    /// The IANA zone name that `local_time` is in.
    pub zone: String,
    /// Send without a push notification (Discord's `SUPPRESS_NOTIFICATIONS`).
    pub silent: bool,
    /// Why it is paused, if it is.
    pub paused: Option<PauseReason>,
    /// The pending occurrence: the next one not yet claimed.
    pub next: Occurrence,
    /// A one-off extra reminder requested with snooze, if any.
    pub snoozed_until: Option<Timestamp>,
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
}

/// What became of one occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryState {
    /// Claimed and handed to the sender; the outcome is not recorded yet.
    Claimed,
    /// Found claimed at start-up (a crash came between hand-over and record) and handed over
    /// once more with the same nonce.
    Resending,
    /// Discord accepted the message.
    Sent,
    /// Missed by more than the grace period; deliberately not sent.
    Skipped,
    /// Transient failures until the retries ran out; not sent that day.
    Failed,
    /// Refused for good (DMs closed, channel gone, no permission); the subscription is paused.
    Undeliverable,
    /// Found resending at start-up: it may or may not have arrived, and is not sent again.
    Unknown,
}

impl DeliveryState {
    /// The value stored in the database.
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryState::Claimed => "claimed",
            DeliveryState::Resending => "resending",
            DeliveryState::Sent => "sent",
            DeliveryState::Skipped => "skipped",
            DeliveryState::Failed => "failed",
            DeliveryState::Undeliverable => "undeliverable",
            DeliveryState::Unknown => "unknown",
        }
    }

    /// The state for a stored value.
    pub fn parse(value: &str) -> Option<DeliveryState> {
        [
            DeliveryState::Claimed,
            DeliveryState::Resending,
            DeliveryState::Sent,
            DeliveryState::Skipped,
            DeliveryState::Failed,
            DeliveryState::Undeliverable,
            DeliveryState::Unknown,
        ]
        .into_iter()
        .find(|state| state.as_str() == value)
    }
}

/// The record of one occurrence of one subscription; at most one per (subscription, local date).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// The subscription.
    pub subscription_id: SubscriptionId,
    /// The local date the occurrence belongs to.
    pub local_date: Date,
    /// What became of it.
    pub state: DeliveryState,
    /// The instant it was due.
    pub fire_at: Timestamp,
    /// The nonce the message carries (absent when skipped).
    pub nonce: Option<String>,
    /// Whether it was handed over late (after downtime) and said so.
    pub late: bool,
    /// When it was claimed or skipped.
    pub claimed_at: Timestamp,
    /// When Discord accepted it.
    pub sent_at: Option<Timestamp>,
    /// How many times it was handed to the sender.
    pub attempts: u32,
}

/// A delivery record to write while claiming: [`DeliveryState::Claimed`] (to send) or
/// [`DeliveryState::Skipped`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// The occurrence it is for.
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
    /// The record for the pending occurrence, if that occurrence is due.
    pub record: Option<NewDelivery>,
    /// The pending occurrence from now on (unchanged if it was not due).
    pub next: Occurrence,
    /// Clear the snooze (it is due).
    pub clear_snooze: bool,
    /// Hand the due snooze to the sender (it is within the grace period).
    pub send_snooze: bool,
}

/// One claimed subscription: what to hand to the sender.
#[derive(Debug, Clone, PartialEq)]
pub struct Claimed {
    /// The subscription as it was before the claim.
    pub subscription: Subscription,
    /// The daily occurrence to send, if its record was newly written as claimed. `None` when
    /// nothing daily is sent (skipped, or already recorded for that date).
    pub daily: Option<NewDelivery>,
    /// The snooze instant to send, if a snooze was due and is sent.
    pub snooze: Option<Timestamp>,
}

/// A delivery left claimed by a previous run, with its subscription.
#[derive(Debug, Clone, PartialEq)]
pub struct Unfinished {
    /// The subscription.
    pub subscription: Subscription,
    /// The delivery, now marked [`DeliveryState::Resending`].
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
}

/// The outcome of handing one reminder to the sender, to record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// The subscription.
    pub subscription_id: SubscriptionId,
    /// The occurrence's date; `None` for a snooze, which has no delivery record.
    pub local_date: Option<Date>,
    /// `Sent`, `Failed`, `Undeliverable` or `Unknown`.
    pub state: DeliveryState,
    /// How many times the occurrence has been handed to the sender in all, earlier runs
    /// included.
    pub attempts: u32,
    /// Pause the subscription for this reason.
    pub pause: Option<PauseReason>,
    /// Queue this notice for this user.
    pub notice: Option<(u64, Notice)>,
    /// When the outcome was known.
    pub at: Timestamp,
}

/// What [`ReminderStore::forget_user`] removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Forgotten {
    /// Subscriptions deleted (their deliveries go with them).
    pub subscriptions: usize,
    /// Pending notices deleted.
    pub notices: usize,
}

/// Why the store failed. Operator-facing: adapters log it and show users a generic apology.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database file could not be opened or configured.
    #[error("cannot open reminder database {path}: {source}")]
    Open {
        /// The file.
        path: String,
        /// What `SQLite` said.
        source: rusqlite::Error,
    },
    /// The database was written by a newer crampbot.
    #[error("reminder database schema version {found} is newer than this build knows ({known}); upgrade crampbot")]
    TooNew {
        /// The version found in the file.
        found: i64,
        /// The latest version this build knows.
        known: i64,
    },
    /// A migration failed; the database is left at the previous version.
    #[error("migration to schema version {version} failed: {source}")]
    Migration {
        /// The version that failed.
        version: i64,
        /// What `SQLite` said.
        source: rusqlite::Error,
    },
    /// A query failed.
    #[error("reminder database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A Discord id is too large to store as a signed 64-bit integer.
    #[error("id {0} is too large to store")]
    IdOutOfRange(u64),
    /// A stored value could not be read back.
    #[error("corrupt value in {column}: {value:?}")]
    Corrupt {
        /// The column.
        column: &'static str,
        /// The value found.
        value: String,
    },
}

/// The persistence the reminders need, and nothing more.
///
/// Calls are short and synchronous (`SQLite` answers in microseconds); an implementation for a
/// server database would use a blocking client or its own runtime handle. One scheduler per
/// database: [`ReminderStore::take_unfinished`] assumes no other scheduler is running.
pub trait ReminderStore: Send + Sync + 'static {
    /// Creates the subscription for `new.target`'s key, or replaces its settings, keeping its id
    /// (and so its delivery history). Clears any pause and snooze.
    fn upsert(&self, new: &NewSubscription, now: Timestamp) -> Result<Subscription, StoreError>;

    /// The subscription for this user or channel.
    fn find(&self, key: TargetKey) -> Result<Option<Subscription>, StoreError>;

    /// Deletes the subscription for this user or channel, and its deliveries. Whether there was
    /// one.
    fn remove(&self, key: TargetKey) -> Result<bool, StoreError>;

    /// Sets or clears the one-off snooze of a subscription.
    fn set_snooze(&self, id: SubscriptionId, until: Option<Timestamp>, now: Timestamp) -> Result<(), StoreError>;

    /// Deletes everything stored about a user: their DM subscription, its deliveries and their
    /// notices.
    fn forget_user(&self, user_id: u64) -> Result<Forgotten, StoreError>;

    /// Removes and returns the notices queued for a user.
    fn take_notices(&self, user_id: u64) -> Result<Vec<Notice>, StoreError>;

    /// The earliest instant any unpaused subscription is due, from an index.
    fn next_due_at(&self) -> Result<Option<Timestamp>, StoreError>;

    /// In one transaction: takes up to `limit` subscriptions due at `now` (earliest first), asks
    /// `plan` what to do with each, writes each plan's delivery record (only if none exists for
    /// that subscription and date: the exactly-once guard) and advances the subscription.
    /// Returns those with something to send.
    fn claim_due(
        &self,
        now: Timestamp,
        limit: usize,
        plan: &mut dyn FnMut(&Subscription) -> Plan,
    ) -> Result<Vec<Claimed>, StoreError>;

    /// Records an outcome: the delivery's state, and any pause and notice, in one transaction.
    fn record_outcome(&self, outcome: &Outcome) -> Result<(), StoreError>;

    /// At start-up: marks deliveries left `Resending` by an earlier run as `Unknown`, and
    /// returns those left `Claimed`, now marked `Resending`.
    fn take_unfinished(&self) -> Result<Vec<Unfinished>, StoreError>;

    /// The delivery records of a subscription, newest date first, at most `limit`.
    fn deliveries(&self, id: SubscriptionId, limit: usize) -> Result<Vec<Delivery>, StoreError>;

    /// Deletes delivery records claimed before `before` (they only guard recent days).
    fn prune_deliveries(&self, before: Timestamp) -> Result<usize, StoreError>;
}

/// The persistence help channels need: which channels of which server the bot answers in
/// without a mention. Kept apart from [`ReminderStore`] so that each front end asks only for
/// what it uses.
pub trait HelpChannelStore: Send + Sync + 'static {
    /// Makes `channel_id` of `guild_id` a help channel, unless the server already has `max`.
    fn add_help_channel(
        &self,
        guild_id: u64,
        channel_id: u64,
        max: usize,
        now: Timestamp,
    ) -> Result<HelpChannelChange, StoreError>;

    /// Stops answering in `channel_id` of `guild_id`.
    fn remove_help_channel(&self, guild_id: u64, channel_id: u64) -> Result<HelpChannelChange, StoreError>;

    /// The help channels of one server, in the order they were added.
    fn help_channels(&self, guild_id: u64) -> Result<Vec<u64>, StoreError>;

    /// Every help channel of every server (loaded once at start-up).
    fn all_help_channels(&self) -> Result<Vec<u64>, StoreError>;
}

/// What [`HelpChannelStore::add_help_channel`] or [`HelpChannelStore::remove_help_channel`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HelpChannelChange {
    /// The channel is now a help channel.
    Added,
    /// It already was one.
    AlreadyAdded,
    /// The server already has the most help channels allowed.
    Full,
    /// The channel is no longer a help channel.
    Removed,
    /// It was not one (in that server).
    NotThere,
}
