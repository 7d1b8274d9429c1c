//! The embedded `SQLite` store: one file, WAL mode, versioned migrations applied at start-up.
//!
//! # Settings, and why
//!
//! - `journal_mode = WAL`: readers never block the writer, and a commit is one append.
//! - `synchronous = NORMAL`: in WAL mode this is still safe against a crash of the bot (every
//!   committed transaction survives); only a power loss or OS crash can drop the last few
//!   commits. That costs at most a repeated claim, which goes out again with the same nonce and
//!   which Discord's `enforce_nonce` dedupes. `FULL` would add an fsync to every claim batch.
//! - `busy_timeout = 5 s`: an operator's `sqlite3` shell holding a lock makes the bot wait rather
//!   than fail.
//! - `foreign_keys = ON`: a deleted subscription unlinks its delivery records.
//!
//! # Off the async workers
//!
//! Every call of the [`ReminderStore`] and [`HelpChannelStore`] ports runs on tokio's blocking
//! pool (`spawn_blocking`), serialized on one connection, so a slow disk never stalls the gateway
//! or the scheduler.
//!
//! # One scheduler
//!
//! A file allows one scheduler: [`ReminderStore::start_scheduler`] takes an exclusive lock on
//! `<database>-scheduler.lock` beside it. The operating system frees the lock when the process
//! ends, even by `kill -9`, so a restart takes over at once; a second `crampbot run` on the same
//! file is refused with an error that says so. Since no other scheduler can hold a claim, the
//! scheduler that starts takes over every claim left by an earlier run straight away.
//!
//! Migrations are numbered SQL files; `PRAGMA user_version` records how many are applied, and
//! each runs in its own transaction with the version bump, so a failed one leaves the previous
//! version intact. Opening a database written by a newer build is refused. Version 2 (help
//! channels) came out before version 3 (the reminders' port); a file at version 2 without the
//! help-channels table was written by a development build that numbered them the other way, and
//! is refused rather than migrated into a wrong layout.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension as _, Row, Transaction, TransactionBehavior, params};

use super::rows::{
    DELIVERY_COLUMNS, RawDelivery, RawSubscription, SUBSCRIPTION_COLUMNS, id_to_sql, key_to_sql, target_columns,
};
use crate::help_channels::store::{HelpChannelChange, HelpChannelSet, HelpChannelStore};
use crate::reminders::schedule::format_time;
use crate::reminders::store::{
    Claimed, Delivery, DeliveryId, DeliveryState, Forgotten, GiveUp, Lease, NewDelivery, NewSubscription, Notice,
    Outcome, PauseReason, Planner, ReminderStore, StoreError, Subscription, SubscriptionId, TargetKey, Unfinished,
    decode,
};

/// The migrations, in order; the schema version is the number applied.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/sqlite/0001_init.sql"),
    include_str!("migrations/sqlite/0002_help_channels.sql"),
    include_str!("migrations/sqlite/0003_port.sql"),
    include_str!("migrations/sqlite/0004_help_channels_version.sql"),
];

/// How long a locked database is waited for.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> StoreError {
        StoreError::Backend(Box::new(err))
    }
}

/// The `SQLite` store. Cheap to clone and share; calls are serialized on one connection.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    connection: Mutex<Connection>,
    /// The file, for messages; `:memory:` for a private in-memory database.
    location: String,
    /// The scheduler lock file, for a database on disk.
    lock_path: Option<PathBuf>,
    /// The held scheduler lock (freed when the store is dropped or the process ends).
    scheduler_lock: Mutex<Option<File>>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings its schema up to date. Blocking:
    /// call it at start-up or on a blocking thread.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let location = path.display().to_string();
        let open_error =
            |source: rusqlite::Error| StoreError::Open { location: location.clone(), source: Box::new(source) };
        let connection = Connection::open(path).map_err(open_error)?;
        connection.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(())).map_err(open_error)?;
        connection.pragma_update(None, "synchronous", "NORMAL").map_err(open_error)?;
        let mut lock_name = path.as_os_str().to_owned();
        lock_name.push("-scheduler.lock");
        SqliteStore::configure(connection, location.clone(), Some(PathBuf::from(lock_name))).map_err(|err| match err {
            StoreError::Backend(source) => StoreError::Open { location, source },
            other => other,
        })
    }

    /// A fresh private in-memory database, for tests.
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        SqliteStore::configure(Connection::open_in_memory()?, ":memory:".to_owned(), None)
    }

    fn configure(
        mut connection: Connection,
        location: String,
        lock_path: Option<PathBuf>,
    ) -> Result<SqliteStore, StoreError> {
        connection.busy_timeout(BUSY_TIMEOUT)?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&mut connection)?;
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                connection: Mutex::new(connection),
                location,
                lock_path,
                scheduler_lock: Mutex::new(None),
            }),
        })
    }

    /// The schema version of the open database.
    pub fn schema_version(&self) -> Result<i64, StoreError> {
        Ok(self.lock().query_row("PRAGMA user_version", [], |row| row.get(0))?)
    }

    /// The latest schema version this build knows.
    pub fn latest_schema_version() -> i64 {
        i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
    }

    /// Inserts many new subscriptions in one transaction (bulk import, benchmarks). Fails on a
    /// target that already has one. Blocking.
    pub fn insert_many(&self, subscriptions: &[NewSubscription], now: Timestamp) -> Result<(), StoreError> {
        let mut connection = self.lock();
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for new in subscriptions {
            insert(&tx, new, now)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The subscriptions due at `now`, earliest first, at most `limit`, without claiming them
    /// (diagnostics and benchmarks; the scheduler uses [`ReminderStore::claim_due`]). Blocking.
    pub fn peek_due(&self, now: Timestamp, limit: usize) -> Result<Vec<Subscription>, StoreError> {
        let connection = self.lock();
        let raws: Vec<RawSubscription> = connection
            .prepare_cached(&due_query())?
            .query_map(params![now.as_second(), limit_to_sql(limit)], read_subscription)?
            .collect::<Result<_, _>>()?;
        raws.into_iter().map(RawSubscription::validate).collect()
    }

    /// How `SQLite` plans the scheduler's due query (for a test that it uses the index).
    pub fn explain_due_query(&self) -> Result<Vec<String>, StoreError> {
        let connection = self.lock();
        let mut statement = connection.prepare(&format!("EXPLAIN QUERY PLAN {}", due_query()))?;
        let rows = statement.query_map(params![0_i64, 1_i64], |row| row.get::<_, String>(3))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.inner.lock()
    }

    /// Runs `work` on the connection on tokio's blocking pool.
    async fn call<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || work(&mut inner.lock()))
            .await
            .map_err(|err| StoreError::Task(err.to_string()))?
    }
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held dropped its transaction, which rolled back, so the
        // connection is in a clean state and can be used again.
        self.connection.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn limit_to_sql(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    let known = SqliteStore::latest_schema_version();
    let found: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if found > known {
        return Err(StoreError::TooNew { found, known });
    }
    if found == 2 && !has_table(connection, "help_channels")? {
        // Version 2 is help channels. A development build of the PostgreSQL work numbered its
        // reminders rebuild (now version 3) as 2: applying version 3 on top of that would lose
        // data, so such a file is refused.
        return Err(StoreError::Migration {
            version: 3,
            source: "this file's schema version 2 is a development build's layout (it has no help_channels table); \
                     restore a backup made by a released crampbot, or start a new database"
                .into(),
        });
    }
    for (version, sql) in (1..).zip(MIGRATIONS).skip(usize::try_from(found).unwrap_or(0)) {
        let failed = |source: rusqlite::Error| StoreError::Migration { version, source: Box::new(source) };
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(failed)?;
        tx.execute_batch(sql).map_err(failed)?;
        tx.pragma_update(None, "user_version", version).map_err(failed)?;
        tx.commit().map_err(failed)?;
    }
    Ok(())
}

fn has_table(connection: &Connection, name: &str) -> Result<bool, StoreError> {
    let n: i64 = connection.query_row(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = ?1",
        [name],
        |row| row.get(0),
    )?;
    Ok(n > 0)
}

fn due_query() -> String {
    format!(
        "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions \
         WHERE due_at IS NOT NULL AND due_at <= ?1 ORDER BY due_at LIMIT ?2"
    )
}

fn read_subscription(row: &Row<'_>) -> rusqlite::Result<RawSubscription> {
    Ok(RawSubscription {
        id: row.get(0)?,
        kind: row.get(1)?,
        user_id: row.get(2)?,
        guild_id: row.get(3)?,
        channel_id: row.get(4)?,
        role_id: row.get(5)?,
        local_time: row.get(6)?,
        zone: row.get(7)?,
        silent: row.get(8)?,
        pause_reason: row.get(9)?,
        next_fire: row.get(10)?,
        next_local_date: row.get(11)?,
        snoozed_until: row.get(12)?,
        set_by: row.get(13)?,
        created_at: row.get(14)?,
        updated_at: row.get(15)?,
    })
}

fn read_delivery(row: &Row<'_>) -> rusqlite::Result<RawDelivery> {
    Ok(RawDelivery {
        id: row.get(0)?,
        subscription_id: row.get(1)?,
        target_kind: row.get(2)?,
        target_id: row.get(3)?,
        kind: row.get(4)?,
        local_date: row.get(5)?,
        fire_at: row.get(6)?,
        state: row.get(7)?,
        nonce: row.get(8)?,
        late: row.get(9)?,
        claimed_at: row.get(10)?,
        sent_at: row.get(11)?,
        attempts: row.get(12)?,
        reason: row.get(13)?,
    })
}

fn insert(connection: &Connection, new: &NewSubscription, now: Timestamp) -> Result<SubscriptionId, StoreError> {
    let (kind, user_id, guild_id, channel_id, role_id) = target_columns(&new.target)?;
    connection
        .prepare_cached(
            "INSERT INTO subscriptions (kind, user_id, guild_id, channel_id, role_id, local_time, zone, silent, \
             next_fire, next_local_date, set_by, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?12)",
        )?
        .execute(params![
            kind,
            user_id,
            guild_id,
            channel_id,
            role_id,
            format_time(new.local_time),
            new.zone,
            new.silent,
            new.next.at.as_second(),
            new.next.local_date.to_string(),
            new.set_by.map(id_to_sql).transpose()?,
            now.as_second(),
        ])?;
    Ok(connection.last_insert_rowid())
}

fn find_in(connection: &Connection, key: TargetKey) -> Result<Option<Subscription>, StoreError> {
    let (clause, id) = match key {
        TargetKey::User(user_id) => ("kind = 'user' AND user_id = ?1", id_to_sql(user_id)?),
        TargetKey::Channel(channel_id) => ("kind = 'channel' AND channel_id = ?1", id_to_sql(channel_id)?),
    };
    let raw = connection
        .prepare_cached(&format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE {clause}"))?
        .query_row(params![id], read_subscription)
        .optional()?;
    raw.map(RawSubscription::validate).transpose()
}

fn find_by_id(connection: &Connection, id: SubscriptionId) -> Result<Option<Subscription>, StoreError> {
    let raw = connection
        .prepare_cached(&format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = ?1"))?
        .query_row(params![id], read_subscription)
        .optional()?;
    raw.map(RawSubscription::validate).transpose()
}

/// Writes one planned record unless its key already has one; the new record if written.
fn insert_delivery(
    tx: &Transaction<'_>,
    subscription: &Subscription,
    record: &NewDelivery,
    now: Timestamp,
    lease: &Lease,
) -> Result<Option<Delivery>, StoreError> {
    let (target_kind, target_id) = key_to_sql(subscription.target.key())?;
    let claiming = record.state == DeliveryState::Claimed;
    let reason = (record.state == DeliveryState::Skipped).then_some("grace_passed");
    let id: Option<DeliveryId> = tx
        .prepare_cached(
            "INSERT INTO deliveries (subscription_id, target_kind, target_id, kind, local_date, fire_at, state, \
             nonce, late, claimed_at, attempts, reason, lease_holder, lease_until) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) ON CONFLICT DO NOTHING RETURNING id",
        )?
        .query_row(
            params![
                subscription.id,
                target_kind,
                target_id,
                record.kind.as_str(),
                record.occurrence.local_date.to_string(),
                record.occurrence.at.as_second(),
                record.state.as_str(),
                record.nonce,
                record.late,
                now.as_second(),
                i64::from(claiming),
                reason,
                claiming.then_some(lease.holder.as_str()),
                claiming.then_some(lease.until.as_second()),
            ],
            |row| row.get(0),
        )
        .optional()?;
    Ok(id.map(|id| Delivery {
        id,
        subscription_id: Some(subscription.id),
        target: subscription.target.key(),
        kind: record.kind,
        local_date: record.occurrence.local_date,
        fire_at: record.occurrence.at,
        state: record.state,
        nonce: record.nonce.clone(),
        late: record.late,
        claimed_at: Timestamp::from_second(now.as_second()).unwrap_or(now),
        sent_at: None,
        attempts: u32::from(claiming),
        reason: None,
    }))
}

impl ReminderStore for SqliteStore {
    async fn upsert(&self, new: NewSubscription, now: Timestamp) -> Result<Subscription, StoreError> {
        self.call(move |connection| {
            let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let id = match find_in(&tx, new.target.key()) {
                Ok(Some(existing)) => Some(existing.id),
                Ok(None) => None,
                // A damaged row is replaced: setting it again repairs it.
                Err(StoreError::Corrupt { .. }) => {
                    let (kind, id) = key_to_sql(new.target.key())?;
                    let column = if kind == "user" { "user_id" } else { "channel_id" };
                    tx.query_row(
                        &format!("SELECT id FROM subscriptions WHERE kind = ?1 AND {column} = ?2"),
                        params![kind, id],
                        |row| row.get(0),
                    )
                    .optional()?
                }
                Err(err) => return Err(err),
            };
            let id = match id {
                Some(id) => {
                    let (_, _, guild_id, _, role_id) = target_columns(&new.target)?;
                    tx.prepare_cached(
                        "UPDATE subscriptions SET guild_id = coalesce(?2, guild_id), role_id = ?3, local_time = ?4, \
                         zone = ?5, silent = ?6, pause_reason = NULL, next_fire = ?7, next_local_date = ?8, \
                         snoozed_until = NULL, set_by = ?9, updated_at = ?10 WHERE id = ?1",
                    )?
                    .execute(params![
                        id,
                        guild_id,
                        role_id,
                        format_time(new.local_time),
                        new.zone,
                        new.silent,
                        new.next.at.as_second(),
                        new.next.local_date.to_string(),
                        new.set_by.map(id_to_sql).transpose()?,
                        now.as_second(),
                    ])?;
                    id
                }
                None => insert(&tx, &new, now)?,
            };
            let stored = find_by_id(&tx, id)?;
            tx.commit()?;
            stored.ok_or(StoreError::Corrupt { column: "id", value: id.to_string() })
        })
        .await
    }

    async fn find(&self, key: TargetKey) -> Result<Option<Subscription>, StoreError> {
        self.call(move |connection| find_in(connection, key)).await
    }

    async fn count(&self) -> Result<usize, StoreError> {
        self.call(|connection| {
            let n: i64 = connection.query_row("SELECT count(*) FROM subscriptions", [], |row| row.get(0))?;
            Ok(usize::try_from(n).unwrap_or(0))
        })
        .await
    }

    async fn remove(&self, key: TargetKey) -> Result<bool, StoreError> {
        let (kind, id) = key_to_sql(key)?;
        self.call(move |connection| {
            let column = if kind == "user" { "user_id" } else { "channel_id" };
            let n = connection
                .execute(&format!("DELETE FROM subscriptions WHERE kind = ?1 AND {column} = ?2"), params![kind, id])?;
            Ok(n > 0)
        })
        .await
    }

    async fn set_snooze(&self, id: SubscriptionId, until: Option<Timestamp>, now: Timestamp) -> Result<(), StoreError> {
        self.call(move |connection| {
            connection.execute(
                "UPDATE subscriptions SET snoozed_until = ?2, updated_at = ?3 WHERE id = ?1",
                params![id, until.map(Timestamp::as_second), now.as_second()],
            )?;
            Ok(())
        })
        .await
    }

    async fn forget_user(&self, user_id: u64) -> Result<Forgotten, StoreError> {
        let user_id = id_to_sql(user_id)?;
        self.call(move |connection| {
            let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let subscriptions =
                tx.execute("DELETE FROM subscriptions WHERE kind = 'user' AND user_id = ?1", [user_id])?;
            let deliveries =
                tx.execute("DELETE FROM deliveries WHERE target_kind = 'user' AND target_id = ?1", [user_id])?;
            let notices = tx.execute("DELETE FROM notices WHERE user_id = ?1", [user_id])?;
            let channels_unlinked =
                tx.execute("UPDATE subscriptions SET set_by = NULL WHERE kind = 'channel' AND set_by = ?1", [user_id])?;
            tx.commit()?;
            Ok(Forgotten { subscriptions, deliveries, notices, channels_unlinked })
        })
        .await
    }

    async fn pending_notices(&self, user_id: u64) -> Result<Vec<Notice>, StoreError> {
        let user_id = id_to_sql(user_id)?;
        self.call(move |connection| {
            let kinds: Vec<String> = connection
                .prepare_cached("SELECT kind FROM notices WHERE user_id = ?1 ORDER BY created_at, kind")?
                .query_map([user_id], |row| row.get(0))?
                .collect::<Result<_, _>>()?;
            kinds.iter().map(|kind| decode::word("notices.kind", kind, Notice::parse)).collect()
        })
        .await
    }

    async fn clear_notices(&self, user_id: u64, notices: Vec<Notice>) -> Result<(), StoreError> {
        let user_id = id_to_sql(user_id)?;
        self.call(move |connection| {
            let tx = connection.transaction()?;
            for notice in notices {
                tx.execute("DELETE FROM notices WHERE user_id = ?1 AND kind = ?2", params![user_id, notice.as_str()])?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn next_due_at(&self, _holder: String) -> Result<Option<Timestamp>, StoreError> {
        // One scheduler per file: claims of earlier runs are all taken over by its first tick, so
        // only subscriptions fall due later.
        self.call(|connection| {
            let at: Option<i64> = connection
                .prepare_cached("SELECT min(due_at) FROM subscriptions WHERE due_at IS NOT NULL")?
                .query_row([], |row| row.get(0))?;
            at.map(|at| decode::timestamp("due_at", at)).transpose()
        })
        .await
    }

    async fn start_scheduler(&self) -> Result<(), StoreError> {
        let Some(path) = self.inner.lock_path.clone() else { return Ok(()) };
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let mut held = inner.scheduler_lock.lock().unwrap_or_else(PoisonError::into_inner);
            if held.is_some() {
                // This store already holds the slot (the CLI takes it before starting).
                return Ok(());
            }
            let file = File::options()
                .create(true)
                .truncate(false)
                .write(true)
                .open(&path)
                .map_err(|err| StoreError::Open { location: path.display().to_string(), source: Box::new(err) })?;
            match file.try_lock() {
                Ok(()) => {
                    *held = Some(file);
                    Ok(())
                }
                Err(std::fs::TryLockError::WouldBlock) => {
                    Err(StoreError::SchedulerBusy { location: inner.location.clone() })
                }
                Err(std::fs::TryLockError::Error(err)) => {
                    Err(StoreError::Open { location: path.display().to_string(), source: Box::new(err) })
                }
            }
        })
        .await
        .map_err(|err| StoreError::Task(err.to_string()))?
    }

    async fn claim_due(&self, planner: Planner, limit: usize, lease: Lease) -> Result<Vec<Claimed>, StoreError> {
        self.call(move |connection| {
            let now = planner.now;
            let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let raws: Vec<RawSubscription> = tx
                .prepare_cached(&due_query())?
                .query_map(params![now.as_second(), limit_to_sql(limit)], read_subscription)?
                .collect::<Result<_, _>>()?;
            let mut claimed = Vec::new();
            for raw in raws {
                let id = raw.id;
                let subscription = match raw.validate() {
                    Ok(subscription) => subscription,
                    Err(err) => {
                        tracing::error!(subscription = id, error = %err, "unreadable subscription paused");
                        tx.execute(
                            "UPDATE subscriptions SET pause_reason = ?2 WHERE id = ?1",
                            params![id, PauseReason::Unreadable.as_str()],
                        )?;
                        continue;
                    }
                };
                let decided = planner.plan(&subscription);
                for record in &decided.records {
                    if let Some(delivery) = insert_delivery(&tx, &subscription, record, now, &lease)?
                        && delivery.state == DeliveryState::Claimed
                    {
                        claimed.push(Claimed { subscription: subscription.clone(), delivery });
                    }
                }
                tx.prepare_cached(
                    "UPDATE subscriptions SET next_fire = ?2, next_local_date = ?3, \
                     snoozed_until = CASE WHEN ?4 THEN NULL ELSE snoozed_until END WHERE id = ?1",
                )?
                .execute(params![
                    subscription.id,
                    decided.next.at.as_second(),
                    decided.next.local_date.to_string(),
                    decided.clear_snooze,
                ])?;
            }
            tx.commit()?;
            Ok(claimed)
        })
        .await
    }

    async fn take_over(&self, now: Timestamp, limit: usize, lease: Lease) -> Result<Vec<Unfinished>, StoreError> {
        let _ = now;
        self.call(move |connection| {
            let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let raws: Vec<RawDelivery> = tx
                .prepare_cached(&format!(
                    "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE state = 'claimed' \
                     AND (lease_holder IS NULL OR lease_holder <> ?1) ORDER BY claimed_at LIMIT ?2"
                ))?
                .query_map(params![lease.holder, limit_to_sql(limit)], read_delivery)?
                .collect::<Result<_, _>>()?;
            let mut taken = Vec::with_capacity(raws.len());
            for raw in raws {
                let id = raw.id;
                tx.prepare_cached(
                    "UPDATE deliveries SET lease_holder = ?2, lease_until = ?3, attempts = attempts + 1 WHERE id = ?1",
                )?
                .execute(params![id, lease.holder, lease.until.as_second()])?;
                let mut delivery = match raw.validate() {
                    Ok(delivery) => delivery,
                    Err(err) => {
                        tracing::error!(delivery = id, error = %err, "unreadable delivery record marked unknown");
                        tx.execute(
                            "UPDATE deliveries SET state = 'unknown', reason = 'subscription_gone' WHERE id = ?1",
                            [id],
                        )?;
                        continue;
                    }
                };
                delivery.attempts += 1;
                let subscription = match delivery.subscription_id {
                    Some(id) => find_by_id(&tx, id).ok().flatten(),
                    None => None,
                };
                taken.push(Unfinished { subscription, delivery });
            }
            tx.commit()?;
            Ok(taken)
        })
        .await
    }

    async fn renew_lease(&self, id: DeliveryId, lease: Lease) -> Result<bool, StoreError> {
        self.call(move |connection| {
            let n = connection.execute(
                "UPDATE deliveries SET lease_until = ?3 WHERE id = ?1 AND state = 'claimed' AND lease_holder = ?2",
                params![id, lease.holder, lease.until.as_second()],
            )?;
            Ok(n == 1)
        })
        .await
    }

    async fn record_outcome(&self, outcome: Outcome) -> Result<(), StoreError> {
        self.call(move |connection| {
            let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let sent = outcome.state == DeliveryState::Sent;
            tx.prepare_cached(
                "UPDATE deliveries SET state = ?2, reason = ?3, sent_at = CASE WHEN ?4 THEN ?5 ELSE sent_at END, \
                 attempts = max(attempts, ?6), lease_holder = NULL, lease_until = NULL \
                 WHERE id = ?1 AND (state = 'claimed' OR (?4 AND state <> 'sent'))",
            )?
            .execute(params![
                outcome.delivery_id,
                outcome.state.as_str(),
                outcome.reason.map(GiveUp::as_str),
                sent,
                outcome.at.as_second(),
                i64::from(outcome.attempts),
            ])?;
            if let Some((subscription_id, reason)) = outcome.pause {
                tx.execute(
                    "UPDATE subscriptions SET pause_reason = ?2, updated_at = ?3 WHERE id = ?1",
                    params![subscription_id, reason.as_str(), outcome.at.as_second()],
                )?;
            }
            if let Some((user_id, notice)) = outcome.notice {
                // Only while the user's subscription exists: a user who ran `forget` during the
                // send must not get a row back.
                let user_id = id_to_sql(user_id)?;
                tx.execute(
                    "INSERT INTO notices (user_id, kind, created_at) \
                     SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM subscriptions WHERE kind = 'user' AND user_id = ?1) \
                     ON CONFLICT DO NOTHING",
                    params![user_id, notice.as_str(), outcome.at.as_second()],
                )?;
            }
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn deliveries(&self, key: TargetKey, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        let (kind, id) = key_to_sql(key)?;
        self.call(move |connection| {
            let raws: Vec<RawDelivery> = connection
                .prepare_cached(&format!(
                    "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE target_kind = ?1 AND target_id = ?2 \
                     ORDER BY fire_at DESC, id DESC LIMIT ?3"
                ))?
                .query_map(params![kind, id, limit_to_sql(limit)], read_delivery)?
                .collect::<Result<_, _>>()?;
            raws.into_iter().map(RawDelivery::validate).collect()
        })
        .await
    }

    async fn prune_deliveries(&self, before: Timestamp) -> Result<usize, StoreError> {
        self.call(move |connection| {
            Ok(connection
                .execute("DELETE FROM deliveries WHERE claimed_at < ?1 AND state <> 'claimed'", [before.as_second()])?)
        })
        .await
    }
}

impl HelpChannelStore for SqliteStore {
    async fn add_help_channel(
        &self,
        guild_id: u64,
        channel_id: u64,
        max: usize,
        now: Timestamp,
    ) -> Result<HelpChannelChange, StoreError> {
        let (guild_id, channel_id) = (id_to_sql(guild_id)?, id_to_sql(channel_id)?);
        self.call(move |connection| {
            let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let existing: Option<i64> = tx
                .query_row("SELECT guild_id FROM help_channels WHERE channel_id = ?1", [channel_id], |row| row.get(0))
                .optional()?;
            if existing == Some(guild_id) {
                return Ok(HelpChannelChange::AlreadyAdded);
            }
            let count: i64 =
                tx.query_row("SELECT count(*) FROM help_channels WHERE guild_id = ?1", [guild_id], |row| row.get(0))?;
            if usize::try_from(count).unwrap_or(usize::MAX) >= max {
                return Ok(HelpChannelChange::Full);
            }
            // A channel id belongs to one server; a stale row under another server is replaced.
            tx.execute(
                "INSERT INTO help_channels (channel_id, guild_id, added_at) VALUES (?1, ?2, ?3) \
                 ON CONFLICT (channel_id) DO UPDATE SET guild_id = excluded.guild_id, added_at = excluded.added_at",
                params![channel_id, guild_id, now.as_second()],
            )?;
            tx.execute("UPDATE help_channels_version SET version = version + 1 WHERE id = 1", [])?;
            tx.commit()?;
            Ok(HelpChannelChange::Added)
        })
        .await
    }

    async fn remove_help_channel(&self, guild_id: u64, channel_id: u64) -> Result<HelpChannelChange, StoreError> {
        let (guild_id, channel_id) = (id_to_sql(guild_id)?, id_to_sql(channel_id)?);
        self.call(move |connection| {
            let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let n = tx.execute(
                "DELETE FROM help_channels WHERE guild_id = ?1 AND channel_id = ?2",
                params![guild_id, channel_id],
            )?;
            if n == 0 {
                return Ok(HelpChannelChange::NotThere);
            }
            tx.execute("UPDATE help_channels_version SET version = version + 1 WHERE id = 1", [])?;
            tx.commit()?;
            Ok(HelpChannelChange::Removed)
        })
        .await
    }

    async fn help_channels(&self, guild_id: u64) -> Result<Vec<u64>, StoreError> {
        let guild_id = id_to_sql(guild_id)?;
        self.call(move |connection| {
            let ids: Vec<i64> = connection
                .prepare_cached(
                    "SELECT channel_id FROM help_channels WHERE guild_id = ?1 ORDER BY added_at, channel_id",
                )?
                .query_map([guild_id], |row| row.get(0))?
                .collect::<Result<_, _>>()?;
            ids.into_iter().map(|id| decode::id("help_channels.channel_id", id)).collect()
        })
        .await
    }

    async fn all_help_channels(&self) -> Result<HelpChannelSet, StoreError> {
        self.call(|connection| {
            let tx = connection.transaction()?;
            let version = help_channels_version(&tx)?;
            let ids: Vec<i64> = tx
                .prepare_cached("SELECT channel_id FROM help_channels ORDER BY channel_id")?
                .query_map([], |row| row.get(0))?
                .collect::<Result<_, _>>()?;
            let channels =
                ids.into_iter().map(|id| decode::id("help_channels.channel_id", id)).collect::<Result<_, _>>()?;
            Ok(HelpChannelSet { version, channels })
        })
        .await
    }

    async fn help_channels_version(&self) -> Result<i64, StoreError> {
        self.call(|connection| help_channels_version(connection)).await
    }
}

fn help_channels_version(connection: &Connection) -> Result<i64, StoreError> {
    Ok(connection
        .prepare_cached("SELECT version FROM help_channels_version WHERE id = 1")?
        .query_row([], |row| row.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn due_query_uses_the_index() {
        let store = SqliteStore::open_in_memory().unwrap();
        let plan = store.explain_due_query().unwrap().join("\n");
        assert!(plan.contains("subscriptions_due"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }
}
