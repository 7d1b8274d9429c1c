//! The databases behind the store ports: the reminders' ([`crate::reminders::store::ReminderStore`])
//! and the help channels' ([`crate::help_channels::store::HelpChannelStore`]).
//!
//! This module depends on `crate::reminders` and `crate::help_channels` (it implements their
//! ports), never the other way round. Two backends, each implementing both ports on one
//! database:
//!
//! - [`SqliteStore`]: one file, the default. One scheduler per file.
//! - [`PgStore`]: a PostgreSQL server, for several bot processes on one database: each claims
//!   due reminders with `FOR UPDATE SKIP LOCKED`, and a dead process's claims are taken over when
//!   their lease runs out.
//!
//! [`AnyStore`] is whichever the configuration names (`reminders.database`: a file path, or a
//! `postgres://` URL), so the adapters are built once for both.
//!
//! Only ids, times, zones and settings are stored: never message content, names or tokens.

pub mod postgres;
mod rows;
pub mod sqlite;

use jiff::Timestamp;

pub use postgres::PgStore;
pub use sqlite::SqliteStore;

use crate::config::{Database, RemindersConfig};
use crate::help_channels::store::{HelpChannelChange, HelpChannelSet, HelpChannelStore};
use crate::reminders::store::{
    Claimed, Delivery, DeliveryId, Forgotten, Lease, NewSubscription, Notice, Outcome, Planner, ReminderStore,
    StoreError, Subscription, SubscriptionId, TargetKey, Unfinished,
};

/// The configured store: `SQLite` or PostgreSQL.
#[derive(Debug, Clone)]
pub enum AnyStore {
    /// A file.
    Sqlite(SqliteStore),
    /// A server.
    Postgres(PgStore),
}

/// Opens the configured store, creating and migrating its schema.
///
/// # Errors
/// The database cannot be opened or reached, or its schema is newer than this build.
pub async fn open(config: &RemindersConfig) -> Result<AnyStore, StoreError> {
    match &config.database {
        Database::Sqlite(path) => {
            let path = path.clone();
            let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path))
                .await
                .map_err(|err| StoreError::Task(err.to_string()))??;
            Ok(AnyStore::Sqlite(store))
        }
        Database::Postgres(url) => Ok(AnyStore::Postgres(PgStore::connect(url.expose(), config.pool_size).await?)),
    }
}

impl AnyStore {
    /// Which backend, for logs: `sqlite` or `postgres`.
    pub fn backend(&self) -> &'static str {
        match self {
            AnyStore::Sqlite(_) => "sqlite",
            AnyStore::Postgres(_) => "postgres",
        }
    }
}

macro_rules! delegate {
    ($self:ident, $store:ident => $call:expr) => {
        match $self {
            AnyStore::Sqlite($store) => $call.await,
            AnyStore::Postgres($store) => $call.await,
        }
    };
}

impl ReminderStore for AnyStore {
    async fn upsert(&self, new: NewSubscription, now: Timestamp) -> Result<Subscription, StoreError> {
        delegate!(self, store => store.upsert(new, now))
    }

    async fn find(&self, key: TargetKey) -> Result<Option<Subscription>, StoreError> {
        delegate!(self, store => store.find(key))
    }

    async fn count(&self) -> Result<usize, StoreError> {
        delegate!(self, store => store.count())
    }

    async fn remove(&self, key: TargetKey) -> Result<bool, StoreError> {
        delegate!(self, store => store.remove(key))
    }

    async fn set_snooze(&self, id: SubscriptionId, until: Option<Timestamp>, now: Timestamp) -> Result<(), StoreError> {
        delegate!(self, store => store.set_snooze(id, until, now))
    }

    async fn forget_user(&self, user_id: u64) -> Result<Forgotten, StoreError> {
        delegate!(self, store => store.forget_user(user_id))
    }

    async fn pending_notices(&self, user_id: u64) -> Result<Vec<Notice>, StoreError> {
        delegate!(self, store => store.pending_notices(user_id))
    }

    async fn clear_notices(&self, user_id: u64, notices: Vec<Notice>) -> Result<(), StoreError> {
        delegate!(self, store => store.clear_notices(user_id, notices))
    }

    async fn next_due_at(&self, holder: String) -> Result<Option<Timestamp>, StoreError> {
        delegate!(self, store => store.next_due_at(holder))
    }

    async fn start_scheduler(&self) -> Result<(), StoreError> {
        delegate!(self, store => store.start_scheduler())
    }

    async fn claim_due(&self, planner: Planner, limit: usize, lease: Lease) -> Result<Vec<Claimed>, StoreError> {
        delegate!(self, store => store.claim_due(planner, limit, lease))
    }

    async fn take_over(&self, now: Timestamp, limit: usize, lease: Lease) -> Result<Vec<Unfinished>, StoreError> {
        delegate!(self, store => store.take_over(now, limit, lease))
    }

    async fn renew_lease(&self, id: DeliveryId, lease: Lease) -> Result<bool, StoreError> {
        delegate!(self, store => store.renew_lease(id, lease))
    }

    async fn record_outcome(&self, outcome: Outcome) -> Result<(), StoreError> {
        delegate!(self, store => store.record_outcome(outcome))
    }

    async fn deliveries(&self, key: TargetKey, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        delegate!(self, store => store.deliveries(key, limit))
    }

    async fn prune_deliveries(&self, before: Timestamp) -> Result<usize, StoreError> {
        delegate!(self, store => store.prune_deliveries(before))
    }
}

impl HelpChannelStore for AnyStore {
    async fn add_help_channel(
        &self,
        guild_id: u64,
        channel_id: u64,
        max: usize,
        now: Timestamp,
    ) -> Result<HelpChannelChange, StoreError> {
        delegate!(self, store => store.add_help_channel(guild_id, channel_id, max, now))
    }

    async fn remove_help_channel(&self, guild_id: u64, channel_id: u64) -> Result<HelpChannelChange, StoreError> {
        delegate!(self, store => store.remove_help_channel(guild_id, channel_id))
    }

    async fn help_channels(&self, guild_id: u64) -> Result<Vec<u64>, StoreError> {
        delegate!(self, store => store.help_channels(guild_id))
    }

    async fn all_help_channels(&self) -> Result<HelpChannelSet, StoreError> {
        delegate!(self, store => store.all_help_channels())
    }

    async fn help_channels_version(&self) -> Result<i64, StoreError> {
        delegate!(self, store => store.help_channels_version())
    }
}
