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
//! - `foreign_keys = ON`: deliveries go with their subscription.
//!
//! Migrations are numbered SQL files; `PRAGMA user_version` records how many are applied, and
//! each runs in its own transaction with the version bump, so a failed one leaves the previous
//! version intact. Opening a database written by a newer build is refused.

use std::path::Path;
use std::str::FromStr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use jiff::Timestamp;
use jiff::civil::Date;
use rusqlite::{Connection, OptionalExtension as _, Row, TransactionBehavior, params};

use super::{
    Claimed, Delivery, DeliveryState, Forgotten, HelpChannelChange, HelpChannelStore, NewSubscription, Notice, Outcome,
    PauseReason, Plan, ReminderStore, StoreError, Subscription, SubscriptionId, Target, TargetKey, Unfinished,
};
use crate::reminders::schedule::{Occurrence, format_time, parse_time};

/// The migrations, in order; the schema version is the number applied.
const MIGRATIONS: &[&str] =
    &[include_str!("migrations/0001_init.sql"), include_str!("migrations/0002_help_channels.sql")];

/// How long a locked database is waited for.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

const SUBSCRIPTION_COLUMNS: &str = "id, kind, user_id, guild_id, channel_id, role_id, local_time, zone, silent, \
     pause_reason, next_fire, next_local_date, snoozed_until, created_at, updated_at";

const DELIVERY_COLUMNS: &str =
    "subscription_id, local_date, state, fire_at, nonce, late, claimed_at, sent_at, attempts";

/// The `SQLite` store. Cheap to share behind an `Arc`; calls are serialized on one connection.
#[derive(Debug)]
pub struct SqliteStore {
    connection: Mutex<Connection>,
}

impl SqliteStore {
    /// Opens (creating if needed) the database file and brings its schema up to date.
    pub fn open(path: &Path) -> Result<SqliteStore, StoreError> {
        let open_error = |source| StoreError::Open { path: path.display().to_string(), source };
        let connection = Connection::open(path).map_err(open_error)?;
        connection.query_row("PRAGMA journal_mode = WAL", [], |_| Ok(())).map_err(open_error)?;
        connection.pragma_update(None, "synchronous", "NORMAL").map_err(open_error)?;
        SqliteStore::configure(connection).map_err(|err| match err {
            StoreError::Sqlite(source) => open_error(source),
            other => other,
        })
    }

    /// A fresh private in-memory database, for tests.
    pub fn open_in_memory() -> Result<SqliteStore, StoreError> {
        SqliteStore::configure(Connection::open_in_memory()?)
    }

    fn configure(mut connection: Connection) -> Result<SqliteStore, StoreError> {
        connection.busy_timeout(BUSY_TIMEOUT)?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        migrate(&mut connection)?;
        Ok(SqliteStore { connection: Mutex::new(connection) })
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
    /// target that already has one.
    pub fn insert_many(&self, subscriptions: &[NewSubscription], now: Timestamp) -> Result<(), StoreError> {
        let mut connection = self.lock();
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        for new in subscriptions {
            insert(&tx, new, now)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// How many subscriptions there are.
    pub fn count(&self) -> Result<usize, StoreError> {
        let n: i64 = self.lock().query_row("SELECT count(*) FROM subscriptions", [], |row| row.get(0))?;
        Ok(usize::try_from(n).unwrap_or(0))
    }

    /// The subscriptions due at `now`, earliest first, at most `limit`, without claiming them
    /// (diagnostics and benchmarks; the scheduler uses [`ReminderStore::claim_due`]).
    pub fn peek_due(&self, now: Timestamp, limit: usize) -> Result<Vec<Subscription>, StoreError> {
        let connection = self.lock();
        let raws: Vec<RawSubscription> = connection
            .prepare_cached(&due_query())?
            .query_map(params![now.as_second(), i64::try_from(limit).unwrap_or(i64::MAX)], RawSubscription::read)?
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
        // A panic while the lock was held dropped its transaction, which rolled back, so the
        // connection is in a clean state and can be used again.
        self.connection.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn migrate(connection: &mut Connection) -> Result<(), StoreError> {
    let known = SqliteStore::latest_schema_version();
    let found: i64 = connection.query_row("PRAGMA user_version", [], |row| row.get(0))?;
    if found > known {
        return Err(StoreError::TooNew { found, known });
    }
    for (version, sql) in (1..).zip(MIGRATIONS).skip(usize::try_from(found).unwrap_or(0)) {
        let failed = |source| StoreError::Migration { version, source };
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate).map_err(failed)?;
        tx.execute_batch(sql).map_err(failed)?;
        tx.pragma_update(None, "user_version", version).map_err(failed)?;
        tx.commit().map_err(failed)?;
    }
    Ok(())
}

fn due_query() -> String {
    format!(
        "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions \
         WHERE due_at IS NOT NULL AND due_at <= ?1 ORDER BY due_at LIMIT ?2"
    )
}

fn id_to_sql(id: u64) -> Result<i64, StoreError> {
    i64::try_from(id).map_err(|_| StoreError::IdOutOfRange(id))
}

fn id_from_sql(column: &'static str, value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|_| StoreError::Corrupt { column, value: value.to_string() })
}

fn ts_from_sql(column: &'static str, value: i64) -> Result<Timestamp, StoreError> {
    Timestamp::from_second(value).map_err(|_| StoreError::Corrupt { column, value: value.to_string() })
}

fn date_from_sql(column: &'static str, value: &str) -> Result<Date, StoreError> {
    Date::from_str(value).map_err(|_| StoreError::Corrupt { column, value: value.to_owned() })
}

fn key_clause(key: TargetKey) -> Result<(&'static str, i64), StoreError> {
    Ok(match key {
        TargetKey::User(user_id) => ("kind = 'user' AND user_id = ?1", id_to_sql(user_id)?),
        TargetKey::Channel(channel_id) => ("kind = 'channel' AND channel_id = ?1", id_to_sql(channel_id)?),
    })
}

/// A subscription row as stored, before validation.
struct RawSubscription {
    id: i64,
    kind: String,
    user_id: Option<i64>,
    guild_id: Option<i64>,
    channel_id: Option<i64>,
    role_id: Option<i64>,
    local_time: String,
    zone: String,
    silent: bool,
    pause_reason: Option<String>,
    next_fire: i64,
    next_local_date: String,
    snoozed_until: Option<i64>,
    created_at: i64,
    updated_at: i64,
}

impl RawSubscription {
    fn read(row: &Row<'_>) -> rusqlite::Result<RawSubscription> {
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
            created_at: row.get(13)?,
            updated_at: row.get(14)?,
        })
    }

    fn validate(self) -> Result<Subscription, StoreError> {
        let target = match (self.kind.as_str(), self.user_id, self.guild_id, self.channel_id) {
            ("user", Some(user_id), _, _) => Target::User { user_id: id_from_sql("user_id", user_id)? },
            ("channel", _, Some(guild_id), Some(channel_id)) => Target::Channel {
                guild_id: id_from_sql("guild_id", guild_id)?,
                channel_id: id_from_sql("channel_id", channel_id)?,
                role_id: self.role_id.map(|role| id_from_sql("role_id", role)).transpose()?,
            },
            _ => {
                return Err(StoreError::Corrupt { column: "kind", value: self.kind });
            }
        };
        let local_time = parse_time(&self.local_time)
            .map_err(|_| StoreError::Corrupt { column: "local_time", value: self.local_time.clone() })?;
        let paused = match self.pause_reason {
            Some(reason) => {
                Some(PauseReason::parse(&reason).ok_or(StoreError::Corrupt { column: "pause_reason", value: reason })?)
            }
            None => None,
        };
        Ok(Subscription {
            id: self.id,
            target,
            local_time,
            zone: self.zone,
            silent: self.silent,
            paused,
            next: Occurrence {
                local_date: date_from_sql("next_local_date", &self.next_local_date)?,
                at: ts_from_sql("next_fire", self.next_fire)?,
            },
            snoozed_until: self.snoozed_until.map(|at| ts_from_sql("snoozed_until", at)).transpose()?,
            created_at: ts_from_sql("created_at", self.created_at)?,
            updated_at: ts_from_sql("updated_at", self.updated_at)?,
        })
    }
}

fn read_delivery(row: &Row<'_>) -> rusqlite::Result<RawDelivery> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
        row.get(7)?,
        row.get(8)?,
    ))
}

type RawDelivery = (i64, String, String, i64, Option<String>, bool, i64, Option<i64>, i64);

fn validate_delivery(raw: RawDelivery) -> Result<Delivery, StoreError> {
    let (subscription_id, local_date, state, fire_at, nonce, late, claimed_at, sent_at, attempts) = raw;
    Ok(Delivery {
        subscription_id,
        local_date: date_from_sql("local_date", &local_date)?,
        state: DeliveryState::parse(&state).ok_or(StoreError::Corrupt { column: "state", value: state })?,
        fire_at: ts_from_sql("fire_at", fire_at)?,
        nonce,
        late,
        claimed_at: ts_from_sql("claimed_at", claimed_at)?,
        sent_at: sent_at.map(|at| ts_from_sql("sent_at", at)).transpose()?,
        attempts: u32::try_from(attempts).unwrap_or(0),
    })
}

fn insert(connection: &Connection, new: &NewSubscription, now: Timestamp) -> Result<SubscriptionId, StoreError> {
    let (kind, user_id, guild_id, channel_id, role_id) = target_columns(&new.target)?;
    connection
        .prepare_cached(
            "INSERT INTO subscriptions (kind, user_id, guild_id, channel_id, role_id, local_time, zone, silent, \
             next_fire, next_local_date, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)",
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
            now.as_second(),
        ])?;
    Ok(connection.last_insert_rowid())
}

type TargetColumns = (&'static str, Option<i64>, Option<i64>, Option<i64>, Option<i64>);

fn target_columns(target: &Target) -> Result<TargetColumns, StoreError> {
    Ok(match *target {
        Target::User { user_id } => ("user", Some(id_to_sql(user_id)?), None, None, None),
        Target::Channel { guild_id, channel_id, role_id } => (
            "channel",
            None,
            Some(id_to_sql(guild_id)?),
            Some(id_to_sql(channel_id)?),
            role_id.map(id_to_sql).transpose()?,
        ),
    })
}

fn find_in(connection: &Connection, key: TargetKey) -> Result<Option<Subscription>, StoreError> {
    let (clause, id) = key_clause(key)?;
    let raw = connection
        .prepare_cached(&format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE {clause}"))?
        .query_row(params![id], RawSubscription::read)
        .optional()?;
    raw.map(RawSubscription::validate).transpose()
}

impl ReminderStore for SqliteStore {
    fn upsert(&self, new: &NewSubscription, now: Timestamp) -> Result<Subscription, StoreError> {
        let mut connection = self.lock();
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        match find_in(&tx, new.target.key())? {
            Some(existing) => {
                let (_, _, guild_id, _, role_id) = target_columns(&new.target)?;
                tx.prepare_cached(
                    "UPDATE subscriptions SET guild_id = coalesce(?2, guild_id), role_id = ?3, local_time = ?4, \
                     zone = ?5, silent = ?6, pause_reason = NULL, next_fire = ?7, next_local_date = ?8, \
                     snoozed_until = NULL, updated_at = ?9 WHERE id = ?1",
                )?
                .execute(params![
                    existing.id,
                    guild_id,
                    role_id,
                    format_time(new.local_time),
                    new.zone,
                    new.silent,
                    new.next.at.as_second(),
                    new.next.local_date.to_string(),
                    now.as_second(),
                ])?;
            }
            None => {
                insert(&tx, new, now)?;
            }
        }
        let stored = find_in(&tx, new.target.key())?;
        tx.commit()?;
        stored.ok_or(StoreError::Sqlite(rusqlite::Error::QueryReturnedNoRows))
    }

    fn find(&self, key: TargetKey) -> Result<Option<Subscription>, StoreError> {
        find_in(&self.lock(), key)
    }

    fn remove(&self, key: TargetKey) -> Result<bool, StoreError> {
        let (clause, id) = key_clause(key)?;
        let n = self.lock().execute(&format!("DELETE FROM subscriptions WHERE {clause}"), params![id])?;
        Ok(n > 0)
    }

    fn set_snooze(&self, id: SubscriptionId, until: Option<Timestamp>, now: Timestamp) -> Result<(), StoreError> {
        self.lock().execute(
            "UPDATE subscriptions SET snoozed_until = ?2, updated_at = ?3 WHERE id = ?1",
            params![id, until.map(Timestamp::as_second), now.as_second()],
        )?;
        Ok(())
    }

    fn forget_user(&self, user_id: u64) -> Result<Forgotten, StoreError> {
        let user_id = id_to_sql(user_id)?;
        let mut connection = self.lock();
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let subscriptions = tx.execute("DELETE FROM subscriptions WHERE kind = 'user' AND user_id = ?1", [user_id])?;
        let notices = tx.execute("DELETE FROM notices WHERE user_id = ?1", [user_id])?;
        tx.commit()?;
        Ok(Forgotten { subscriptions, notices })
    }

    fn take_notices(&self, user_id: u64) -> Result<Vec<Notice>, StoreError> {
        let user_id = id_to_sql(user_id)?;
        let mut connection = self.lock();
        let tx = connection.transaction()?;
        let kinds: Vec<String> = tx
            .prepare_cached("DELETE FROM notices WHERE user_id = ?1 RETURNING kind")?
            .query_map([user_id], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        tx.commit()?;
        kinds
            .into_iter()
            .map(|kind| match kind.as_str() {
                "dm_refused" => Ok(Notice::DmRefused),
                _ => Err(StoreError::Corrupt { column: "notices.kind", value: kind }),
            })
            .collect()
    }

    fn next_due_at(&self) -> Result<Option<Timestamp>, StoreError> {
        let connection = self.lock();
        let at: Option<i64> = connection
            .prepare_cached("SELECT min(due_at) FROM subscriptions WHERE due_at IS NOT NULL")?
            .query_row([], |row| row.get(0))?;
        at.map(|at| ts_from_sql("due_at", at)).transpose()
    }

    fn claim_due(
        &self,
        now: Timestamp,
        limit: usize,
        plan: &mut dyn FnMut(&Subscription) -> Plan,
    ) -> Result<Vec<Claimed>, StoreError> {
        let mut connection = self.lock();
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let raws: Vec<RawSubscription> = tx
            .prepare_cached(&due_query())?
            .query_map(params![now.as_second(), i64::try_from(limit).unwrap_or(i64::MAX)], RawSubscription::read)?
            .collect::<Result<_, _>>()?;
        let mut claimed = Vec::new();
        {
            let mut insert_delivery = tx.prepare_cached(
                "INSERT INTO deliveries (subscription_id, local_date, state, fire_at, nonce, late, claimed_at, attempts) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) ON CONFLICT DO NOTHING",
            )?;
            let mut advance = tx.prepare_cached(
                "UPDATE subscriptions SET next_fire = ?2, next_local_date = ?3, \
                 snoozed_until = CASE WHEN ?4 THEN NULL ELSE snoozed_until END WHERE id = ?1",
            )?;
            for raw in raws {
                let subscription = raw.validate()?;
                let decided = plan(&subscription);
                let mut daily = None;
                if let Some(record) = decided.record {
                    let claiming = record.state == DeliveryState::Claimed;
                    let inserted = insert_delivery.execute(params![
                        subscription.id,
                        record.occurrence.local_date.to_string(),
                        record.state.as_str(),
                        record.occurrence.at.as_second(),
                        record.nonce,
                        record.late,
                        now.as_second(),
                        i64::from(claiming),
                    ])?;
                    if inserted == 1 && claiming {
                        daily = Some(record);
                    }
                }
                advance.execute(params![
                    subscription.id,
                    decided.next.at.as_second(),
                    decided.next.local_date.to_string(),
                    decided.clear_snooze,
                ])?;
                let snooze = if decided.send_snooze { subscription.snoozed_until } else { None };
                if daily.is_some() || snooze.is_some() {
                    claimed.push(Claimed { subscription, daily, snooze });
                }
            }
        }
        tx.commit()?;
        Ok(claimed)
    }

    fn record_outcome(&self, outcome: &Outcome) -> Result<(), StoreError> {
        let mut connection = self.lock();
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if let Some(date) = outcome.local_date {
            let sent_at = (outcome.state == DeliveryState::Sent).then(|| outcome.at.as_second());
            tx.prepare_cached(
                "UPDATE deliveries SET state = ?3, sent_at = coalesce(?4, sent_at), attempts = max(attempts, ?5) \
                 WHERE subscription_id = ?1 AND local_date = ?2",
            )?
            .execute(params![
                outcome.subscription_id,
                date.to_string(),
                outcome.state.as_str(),
                sent_at,
                i64::from(outcome.attempts),
            ])?;
        }
        if let Some(reason) = outcome.pause {
            tx.execute(
                "UPDATE subscriptions SET pause_reason = ?2, updated_at = ?3 WHERE id = ?1",
                params![outcome.subscription_id, reason.as_str(), outcome.at.as_second()],
            )?;
        }
        if let Some((user_id, notice)) = outcome.notice {
            // Only while the subscription exists: a user who ran `forget` during the send must
            // not get a row back.
            tx.execute(
                "INSERT INTO notices (user_id, kind, created_at) \
                 SELECT ?1, ?2, ?3 WHERE EXISTS (SELECT 1 FROM subscriptions WHERE id = ?4) \
                 ON CONFLICT DO NOTHING",
                params![id_to_sql(user_id)?, notice.as_str(), outcome.at.as_second(), outcome.subscription_id],
            )?;
        }
        tx.commit()?;
        Ok(())
    }

    fn take_unfinished(&self) -> Result<Vec<Unfinished>, StoreError> {
        let mut connection = self.lock();
        let tx = connection.transaction_with_behavior(TransactionBehavior::Immediate)?;
        tx.execute("UPDATE deliveries SET state = 'unknown' WHERE state = 'resending'", [])?;
        let raws: Vec<RawDelivery> = tx
            .prepare(&format!("SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE state = 'claimed'"))?
            .query_map([], read_delivery)?
            .collect::<Result<_, _>>()?;
        tx.execute("UPDATE deliveries SET state = 'resending', attempts = attempts + 1 WHERE state = 'claimed'", [])?;
        let mut unfinished = Vec::with_capacity(raws.len());
        for raw in raws {
            let mut delivery = validate_delivery(raw)?;
            delivery.state = DeliveryState::Resending;
            delivery.attempts += 1;
            let raw = tx
                .prepare_cached(&format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = ?1"))?
                .query_row([delivery.subscription_id], RawSubscription::read)?;
            unfinished.push(Unfinished { subscription: raw.validate()?, delivery });
        }
        tx.commit()?;
        Ok(unfinished)
    }

    fn deliveries(&self, id: SubscriptionId, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        let connection = self.lock();
        let raws: Vec<RawDelivery> = connection
            .prepare_cached(&format!(
                "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE subscription_id = ?1 ORDER BY local_date DESC LIMIT ?2"
            ))?
            .query_map(params![id, i64::try_from(limit).unwrap_or(i64::MAX)], read_delivery)?
            .collect::<Result<_, _>>()?;
        raws.into_iter().map(validate_delivery).collect()
    }

    fn prune_deliveries(&self, before: Timestamp) -> Result<usize, StoreError> {
        Ok(self.lock().execute(
            "DELETE FROM deliveries WHERE claimed_at < ?1 AND state NOT IN ('claimed', 'resending')",
            [before.as_second()],
        )?)
    }
}

impl HelpChannelStore for SqliteStore {
    fn add_help_channel(
        &self,
        guild_id: u64,
        channel_id: u64,
        max: usize,
        now: Timestamp,
    ) -> Result<HelpChannelChange, StoreError> {
        let (guild_id, channel_id) = (id_to_sql(guild_id)?, id_to_sql(channel_id)?);
        let mut connection = self.lock();
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
        tx.commit()?;
        Ok(HelpChannelChange::Added)
    }

    fn remove_help_channel(&self, guild_id: u64, channel_id: u64) -> Result<HelpChannelChange, StoreError> {
        let n = self.lock().execute(
            "DELETE FROM help_channels WHERE guild_id = ?1 AND channel_id = ?2",
            params![id_to_sql(guild_id)?, id_to_sql(channel_id)?],
        )?;
        Ok(if n > 0 { HelpChannelChange::Removed } else { HelpChannelChange::NotThere })
    }

    fn help_channels(&self, guild_id: u64) -> Result<Vec<u64>, StoreError> {
        let connection = self.lock();
        let ids: Vec<i64> = connection
            .prepare_cached("SELECT channel_id FROM help_channels WHERE guild_id = ?1 ORDER BY added_at, channel_id")?
            .query_map([id_to_sql(guild_id)?], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        ids.into_iter().map(|id| id_from_sql("help_channels.channel_id", id)).collect()
    }

    fn all_help_channels(&self) -> Result<Vec<u64>, StoreError> {
        let connection = self.lock();
        let ids: Vec<i64> = connection
            .prepare_cached("SELECT channel_id FROM help_channels ORDER BY channel_id")?
            .query_map([], |row| row.get(0))?
            .collect::<Result<_, _>>()?;
        ids.into_iter().map(|id| id_from_sql("help_channels.channel_id", id)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{date, time};

    fn new_user(user_id: u64) -> NewSubscription {
        NewSubscription {
            target: Target::User { user_id },
            local_time: time(7, 30, 0, 0),
            zone: "Europe/London".into(),
            silent: false,
            next: Occurrence { local_date: date(2026, 5, 1), at: "2026-05-01T06:30:00Z".parse().unwrap() },
        }
    }

    #[test]
    fn due_query_uses_the_index() {
        let store = SqliteStore::open_in_memory().unwrap();
        let plan = store.explain_due_query().unwrap().join("\n");
        assert!(plan.contains("subscriptions_due"), "{plan}");
        assert!(!plan.contains("TEMP B-TREE"), "{plan}");
    }

    #[test]
    fn upsert_keeps_the_id_and_clears_pause() {
        let store = SqliteStore::open_in_memory().unwrap();
        let now: Timestamp = "2026-04-30T12:00:00Z".parse().unwrap();
        let first = store.upsert(&new_user(1), now).unwrap();
        store
            .record_outcome(&Outcome {
                subscription_id: first.id,
                local_date: None,
                state: DeliveryState::Undeliverable,
                attempts: 1,
                pause: Some(PauseReason::DmRefused),
                notice: None,
                at: now,
            })
            .unwrap();
        assert_eq!(store.find(TargetKey::User(1)).unwrap().unwrap().paused, Some(PauseReason::DmRefused));
        assert_eq!(store.next_due_at().unwrap(), None);
        let mut changed = new_user(1);
        changed.local_time = time(9, 0, 0, 0);
        let second = store.upsert(&changed, now).unwrap();
        assert_eq!(second.id, first.id);
        assert_eq!(second.paused, None);
        assert_eq!(second.local_time, time(9, 0, 0, 0));
    }

    #[test]
    fn help_channels_are_added_once_per_server_up_to_the_limit_and_removed() {
        let store = SqliteStore::open_in_memory().unwrap();
        let now = Timestamp::UNIX_EPOCH;
        assert_eq!(store.add_help_channel(1, 10, 2, now).unwrap(), HelpChannelChange::Added);
        assert_eq!(store.add_help_channel(1, 10, 2, now).unwrap(), HelpChannelChange::AlreadyAdded);
        assert_eq!(store.add_help_channel(1, 11, 2, now).unwrap(), HelpChannelChange::Added);
        assert_eq!(store.add_help_channel(1, 12, 2, now).unwrap(), HelpChannelChange::Full);
        assert_eq!(store.add_help_channel(2, 20, 2, now).unwrap(), HelpChannelChange::Added);
        assert_eq!(store.help_channels(1).unwrap(), vec![10, 11]);
        assert_eq!(store.all_help_channels().unwrap(), vec![10, 11, 20]);
        assert_eq!(store.remove_help_channel(2, 10).unwrap(), HelpChannelChange::NotThere, "another server's");
        assert_eq!(store.remove_help_channel(1, 10).unwrap(), HelpChannelChange::Removed);
        assert_eq!(store.help_channels(1).unwrap(), vec![11]);
    }

    #[test]
    fn refuses_ids_that_do_not_fit() {
        let store = SqliteStore::open_in_memory().unwrap();
        let err = store.upsert(&new_user(u64::MAX), Timestamp::UNIX_EPOCH).unwrap_err();
        assert!(matches!(err, StoreError::IdOutOfRange(u64::MAX)));
    }
}
