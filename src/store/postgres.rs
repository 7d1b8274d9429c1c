//! The PostgreSQL store: several `crampbot run` processes on one database.
//!
//! # Several schedulers
//!
//! Each process runs a scheduler. A claim selects due subscriptions with `FOR UPDATE SKIP
//! LOCKED`, so concurrent claims take different rows and never wait for each other, and in the
//! same transaction writes their delivery records (the unique indexes per target and date are
//! the exactly-once guard) and advances them. A claim carries a lease (the scheduler's name and
//! an instant); when a process dies, its claims are taken over by another scheduler once the
//! lease has run out, and resent with the same nonce while Discord's nonce window lasts.
//!
//! Leases compare instants from the schedulers' clocks, so the machines need their clocks in
//! sync (NTP); the default lease (30 s) tolerates seconds of skew.
//!
//! # Help channels
//!
//! Each process keeps the help channels in memory and checks a version number of the set now
//! and then ([`HelpChannelStore::help_channels_version`]); every add and remove moves it in the
//! same transaction. Adds take the version row's lock first, so concurrent adds from several
//! processes take turns and never push a server past its limit.
//!
//! # Migrations
//!
//! Numbered SQL files, recorded in `crampbot_schema_version`. Each is applied in its own
//! transaction under an advisory lock, so processes starting together migrate once. A database
//! written by a newer build is refused.
//!
//! # Connection
//!
//! `reminders.database = "postgres://user@host:5432/dbname"` (any libpq-style URL or key=value
//! string that `tokio-postgres` reads). Connections are plain TCP without TLS: keep the
//! database on the same host or a private network. The password is never logged.

use std::collections::HashMap;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod};
use jiff::Timestamp;
use tokio_postgres::{NoTls, Row};

use super::rows::{
    DELIVERY_COLUMNS, RawDelivery, RawSubscription, SUBSCRIPTION_COLUMNS, id_to_sql, key_to_sql, target_columns,
};
use crate::help_channels::store::{HelpChannelChange, HelpChannelSet, HelpChannelStore};
use crate::reminders::schedule::format_time;
use crate::reminders::store::{
    Claimed, Delivery, DeliveryId, DeliveryKind, DeliveryState, Forgotten, GiveUp, Lease, NewSubscription, Notice,
    Outcome, PauseReason, Planner, ReminderStore, StoreError, Subscription, SubscriptionId, TargetKey, Unfinished,
    decode,
};

/// The migrations, in order; the schema version is the number applied.
const MIGRATIONS: &[&str] =
    &[include_str!("migrations/postgres/0001_init.sql"), include_str!("migrations/postgres/0002_help_channels.sql")];

impl From<tokio_postgres::Error> for StoreError {
    fn from(err: tokio_postgres::Error) -> StoreError {
        StoreError::Backend(Box::new(err))
    }
}

impl From<deadpool_postgres::PoolError> for StoreError {
    fn from(err: deadpool_postgres::PoolError) -> StoreError {
        StoreError::Backend(Box::new(err))
    }
}

/// The PostgreSQL store. Cheap to clone: clones share one connection pool.
#[derive(Clone)]
pub struct PgStore {
    pool: Pool,
    location: String,
}

impl std::fmt::Debug for PgStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgStore").field("location", &self.location).finish_non_exhaustive()
    }
}

/// The server and database of a connection string, without user or password.
fn location(config: &tokio_postgres::Config) -> String {
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|host| match host {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    let ports: Vec<String> = config.get_ports().iter().map(u16::to_string).collect();
    format!("postgres://{}:{}/{}", hosts.join(","), ports.join(","), config.get_dbname().unwrap_or(""))
}

impl PgStore {
    /// Connects to `url` with a pool of at most `pool_size` connections and brings the schema
    /// up to date.
    ///
    /// # Errors
    /// A malformed URL, an unreachable server, or a schema newer than this build.
    pub async fn connect(url: &str, pool_size: usize) -> Result<PgStore, StoreError> {
        let config: tokio_postgres::Config = url.parse().map_err(|err: tokio_postgres::Error| StoreError::Open {
            location: "the configured PostgreSQL URL".to_owned(),
            source: Box::new(err),
        })?;
        let location = location(&config);
        let manager = Manager::from_config(config, NoTls, ManagerConfig { recycling_method: RecyclingMethod::Fast });
        let pool = Pool::builder(manager)
            .max_size(pool_size.max(1))
            .build()
            .map_err(|err| StoreError::Open { location: location.clone(), source: Box::new(err) })?;
        let store = PgStore { pool, location };
        store.migrate().await?;
        Ok(store)
    }

    /// The schema version of the database.
    ///
    /// # Errors
    /// The database fails.
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let client = self.client().await?;
        let row = client.query_one("SELECT coalesce(max(version), 0) FROM crampbot_schema_version", &[]).await?;
        Ok(row.get(0))
    }

    /// The latest schema version this build knows.
    pub fn latest_schema_version() -> i64 {
        i64::try_from(MIGRATIONS.len()).unwrap_or(i64::MAX)
    }

    /// Inserts many new subscriptions in one transaction (bulk import, benchmarks).
    ///
    /// # Errors
    /// A target that already has one, or the database fails.
    pub async fn insert_many(&self, subscriptions: &[NewSubscription], now: Timestamp) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let statement = tx.prepare_cached(INSERT_SUBSCRIPTION).await?;
        for chunk in subscriptions.chunks(1000) {
            let mut pending = Vec::with_capacity(chunk.len());
            for new in chunk {
                let values = insert_values(new, now)?;
                pending.push(values);
            }
            let futures = pending.iter().map(|values| {
                let params: Vec<&(dyn tokio_postgres::types::ToSql + Sync)> = values.params();
                let statement = &statement;
                let tx = &tx;
                async move { tx.execute(statement, &params).await }
            });
            for result in futures_join(futures).await {
                result?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    async fn upsert_once(&self, new: &NewSubscription, now: Timestamp) -> Result<Subscription, StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let (clause, key_id) = key_clause(new.target.key())?;
        let existing =
            tx.query_opt(&format!("SELECT id FROM subscriptions WHERE {clause} FOR UPDATE"), &[&key_id]).await?;
        let id: i64 = if let Some(row) = existing {
            let id: i64 = row.get(0);
            let (_, _, guild_id, _, role_id) = target_columns(&new.target)?;
            tx.execute(
                "UPDATE subscriptions SET guild_id = coalesce($2, guild_id), role_id = $3, local_time = $4, \
                 zone = $5, silent = $6, pause_reason = NULL, next_fire = $7, next_local_date = $8, \
                 snoozed_until = NULL, set_by = $9, updated_at = $10 WHERE id = $1",
                &[
                    &id,
                    &guild_id,
                    &role_id,
                    &format_time(new.local_time),
                    &new.zone,
                    &new.silent,
                    &new.next.at.as_second(),
                    &new.next.local_date.to_string(),
                    &new.set_by.map(id_to_sql).transpose()?,
                    &now.as_second(),
                ],
            )
            .await?;
            id
        } else {
            let values = insert_values(new, now)?;
            tx.query_one(INSERT_SUBSCRIPTION, &values.params()).await?.get(0)
        };
        let row =
            tx.query_one(&format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = $1"), &[&id]).await?;
        let stored = read_subscription(&row)?.validate()?;
        tx.commit().await?;
        Ok(stored)
    }

    async fn client(&self) -> Result<deadpool_postgres::Client, StoreError> {
        self.pool.get().await.map_err(|err| StoreError::Open { location: self.location.clone(), source: Box::new(err) })
    }

    async fn migrate(&self) -> Result<(), StoreError> {
        let known = PgStore::latest_schema_version();
        loop {
            let mut client = self.client().await?;
            let tx = client.transaction().await?;
            // Processes that start together migrate one at a time, per schema.
            tx.execute("SELECT pg_advisory_xact_lock(hashtext('crampbot migrate ' || current_schema()))", &[]).await?;
            tx.batch_execute("CREATE TABLE IF NOT EXISTS crampbot_schema_version (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL DEFAULT extract(epoch FROM now())::bigint)")
                .await?;
            let found: i64 =
                tx.query_one("SELECT coalesce(max(version), 0) FROM crampbot_schema_version", &[]).await?.get(0);
            if found > known {
                return Err(StoreError::TooNew { found, known });
            }
            if found == known {
                tx.commit().await?;
                return Ok(());
            }
            let version = found + 1;
            let failed = |err: tokio_postgres::Error| StoreError::Migration { version, source: Box::new(err) };
            let sql = MIGRATIONS[usize::try_from(found).unwrap_or(0)];
            tx.batch_execute(sql).await.map_err(failed)?;
            tx.execute("INSERT INTO crampbot_schema_version (version) VALUES ($1)", &[&version])
                .await
                .map_err(failed)?;
            tx.commit().await.map_err(failed)?;
        }
    }
}

/// Runs futures on one connection concurrently, so tokio-postgres pipelines them.
async fn futures_join<F: std::future::Future>(futures: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut pinned: Vec<_> = futures.map(Box::pin).collect();
    let mut outputs = Vec::with_capacity(pinned.len());
    // Poll all of them together: tokio-postgres sends each query as soon as it is first polled.
    let mut results: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (future, result) in pinned.iter_mut().zip(results.iter_mut()) {
            if result.is_none() {
                match future.as_mut().poll(cx) {
                    std::task::Poll::Ready(output) => *result = Some(output),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending { std::task::Poll::Pending } else { std::task::Poll::Ready(()) }
    })
    .await;
    outputs.extend(results.into_iter().flatten());
    outputs
}

const INSERT_SUBSCRIPTION: &str = "INSERT INTO subscriptions (kind, user_id, guild_id, channel_id, role_id, \
     local_time, zone, silent, next_fire, next_local_date, set_by, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) RETURNING id";

/// The parameters of [`INSERT_SUBSCRIPTION`], owned.
struct InsertValues {
    kind: &'static str,
    user_id: Option<i64>,
    guild_id: Option<i64>,
    channel_id: Option<i64>,
    role_id: Option<i64>,
    local_time: String,
    zone: String,
    silent: bool,
    next_fire: i64,
    next_local_date: String,
    set_by: Option<i64>,
    now: i64,
}

impl InsertValues {
    fn params(&self) -> Vec<&(dyn tokio_postgres::types::ToSql + Sync)> {
        vec![
            &self.kind,
            &self.user_id,
            &self.guild_id,
            &self.channel_id,
            &self.role_id,
            &self.local_time,
            &self.zone,
            &self.silent,
            &self.next_fire,
            &self.next_local_date,
            &self.set_by,
            &self.now,
        ]
    }
}

fn insert_values(new: &NewSubscription, now: Timestamp) -> Result<InsertValues, StoreError> {
    let (kind, user_id, guild_id, channel_id, role_id) = target_columns(&new.target)?;
    Ok(InsertValues {
        kind,
        user_id,
        guild_id,
        channel_id,
        role_id,
        local_time: format_time(new.local_time),
        zone: new.zone.clone(),
        silent: new.silent,
        next_fire: new.next.at.as_second(),
        next_local_date: new.next.local_date.to_string(),
        set_by: new.set_by.map(id_to_sql).transpose()?,
        now: now.as_second(),
    })
}

fn read_subscription(row: &Row) -> Result<RawSubscription, StoreError> {
    Ok(RawSubscription {
        id: row.try_get(0)?,
        kind: row.try_get(1)?,
        user_id: row.try_get(2)?,
        guild_id: row.try_get(3)?,
        channel_id: row.try_get(4)?,
        role_id: row.try_get(5)?,
        local_time: row.try_get(6)?,
        zone: row.try_get(7)?,
        silent: row.try_get(8)?,
        pause_reason: row.try_get(9)?,
        next_fire: row.try_get(10)?,
        next_local_date: row.try_get(11)?,
        snoozed_until: row.try_get(12)?,
        set_by: row.try_get(13)?,
        created_at: row.try_get(14)?,
        updated_at: row.try_get(15)?,
    })
}

fn read_delivery(row: &Row) -> Result<RawDelivery, StoreError> {
    Ok(RawDelivery {
        id: row.try_get(0)?,
        subscription_id: row.try_get(1)?,
        target_kind: row.try_get(2)?,
        target_id: row.try_get(3)?,
        kind: row.try_get(4)?,
        local_date: row.try_get(5)?,
        fire_at: row.try_get(6)?,
        state: row.try_get(7)?,
        nonce: row.try_get(8)?,
        late: row.try_get(9)?,
        claimed_at: row.try_get(10)?,
        sent_at: row.try_get(11)?,
        attempts: row.try_get(12)?,
        reason: row.try_get(13)?,
    })
}

fn key_clause(key: TargetKey) -> Result<(&'static str, i64), StoreError> {
    Ok(match key {
        TargetKey::User(user_id) => ("kind = 'user' AND user_id = $1", id_to_sql(user_id)?),
        TargetKey::Channel(channel_id) => ("kind = 'channel' AND channel_id = $1", id_to_sql(channel_id)?),
    })
}

fn limit_to_sql(limit: usize) -> i64 {
    i64::try_from(limit).unwrap_or(i64::MAX)
}

/// The columns of the delivery records one claim writes, one array per column (`unnest`).
#[derive(Default)]
struct DeliveryColumns {
    subscription_id: Vec<i64>,
    target_kind: Vec<&'static str>,
    target_id: Vec<i64>,
    kind: Vec<&'static str>,
    local_date: Vec<String>,
    fire_at: Vec<i64>,
    state: Vec<&'static str>,
    nonce: Vec<Option<String>>,
    late: Vec<bool>,
    attempts: Vec<i64>,
    reason: Vec<Option<&'static str>>,
    lease_holder: Vec<Option<String>>,
    lease_until: Vec<Option<i64>>,
}

impl ReminderStore for PgStore {
    async fn upsert(&self, new: NewSubscription, now: Timestamp) -> Result<Subscription, StoreError> {
        // Two processes may insert the same new target at once: the unique index refuses the
        // second, which then tries again and updates the first's row.
        let mut tries = 0;
        loop {
            tries += 1;
            match self.upsert_once(&new, now).await {
                Err(StoreError::Backend(err))
                    if tries < 3
                        && err.downcast_ref::<tokio_postgres::Error>().and_then(tokio_postgres::Error::code)
                            == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION) => {}
                other => return other,
            }
        }
    }

    async fn find(&self, key: TargetKey) -> Result<Option<Subscription>, StoreError> {
        let client = self.client().await?;
        let (clause, id) = key_clause(key)?;
        let statement =
            client.prepare_cached(&format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE {clause}")).await?;
        let row = client.query_opt(&statement, &[&id]).await?;
        row.map(|row| read_subscription(&row)?.validate()).transpose()
    }

    async fn count(&self) -> Result<usize, StoreError> {
        let client = self.client().await?;
        let n: i64 = client.query_one("SELECT count(*) FROM subscriptions", &[]).await?.get(0);
        Ok(usize::try_from(n).unwrap_or(0))
    }

    async fn remove(&self, key: TargetKey) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let (clause, id) = key_clause(key)?;
        let n = client.execute(&format!("DELETE FROM subscriptions WHERE {clause}"), &[&id]).await?;
        Ok(n > 0)
    }

    async fn set_snooze(&self, id: SubscriptionId, until: Option<Timestamp>, now: Timestamp) -> Result<(), StoreError> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE subscriptions SET snoozed_until = $2, updated_at = $3 WHERE id = $1",
                &[&id, &until.map(Timestamp::as_second), &now.as_second()],
            )
            .await?;
        Ok(())
    }

    async fn forget_user(&self, user_id: u64) -> Result<Forgotten, StoreError> {
        let user_id = id_to_sql(user_id)?;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let subscriptions =
            tx.execute("DELETE FROM subscriptions WHERE kind = 'user' AND user_id = $1", &[&user_id]).await?;
        let deliveries =
            tx.execute("DELETE FROM deliveries WHERE target_kind = 'user' AND target_id = $1", &[&user_id]).await?;
        let notices = tx.execute("DELETE FROM notices WHERE user_id = $1", &[&user_id]).await?;
        let channels_unlinked = tx
            .execute("UPDATE subscriptions SET set_by = NULL WHERE kind = 'channel' AND set_by = $1", &[&user_id])
            .await?;
        tx.commit().await?;
        let count = |n: u64| usize::try_from(n).unwrap_or(usize::MAX);
        Ok(Forgotten {
            subscriptions: count(subscriptions),
            deliveries: count(deliveries),
            notices: count(notices),
            channels_unlinked: count(channels_unlinked),
        })
    }

    async fn pending_notices(&self, user_id: u64) -> Result<Vec<Notice>, StoreError> {
        let user_id = id_to_sql(user_id)?;
        let client = self.client().await?;
        let rows =
            client.query("SELECT kind FROM notices WHERE user_id = $1 ORDER BY created_at, kind", &[&user_id]).await?;
        rows.iter()
            .map(|row| {
                let kind: String = row.try_get(0)?;
                decode::word("notices.kind", &kind, Notice::parse)
            })
            .collect()
    }

    async fn clear_notices(&self, user_id: u64, notices: Vec<Notice>) -> Result<(), StoreError> {
        let user_id = id_to_sql(user_id)?;
        let kinds: Vec<&str> = notices.iter().map(|notice| notice.as_str()).collect();
        let client = self.client().await?;
        client.execute("DELETE FROM notices WHERE user_id = $1 AND kind = ANY($2)", &[&user_id, &kinds]).await?;
        Ok(())
    }

    async fn next_due_at(&self, holder: String) -> Result<Option<Timestamp>, StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(
                "SELECT LEAST((SELECT min(due_at) FROM subscriptions WHERE due_at IS NOT NULL), \
                 (SELECT min(coalesce(lease_until, 0)) FROM deliveries WHERE state = 'claimed' \
                  AND lease_holder IS DISTINCT FROM $1))",
            )
            .await?;
        let at: Option<i64> = client.query_one(&statement, &[&holder]).await?.get(0);
        at.map(|at| decode::timestamp("due_at", at)).transpose()
    }

    async fn start_scheduler(&self) -> Result<(), StoreError> {
        // Any number of schedulers: claims skip each other's rows.
        Ok(())
    }

    #[expect(clippy::too_many_lines, reason = "one claim transaction, read top to bottom")]
    async fn claim_due(&self, planner: Planner, limit: usize, lease: Lease) -> Result<Vec<Claimed>, StoreError> {
        let now = planner.now;
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let select = tx
            .prepare_cached(&format!(
                "SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE due_at IS NOT NULL AND due_at <= $1 \
                 ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED"
            ))
            .await?;
        let rows = tx.query(&select, &[&now.as_second(), &limit_to_sql(limit)]).await?;
        let mut unreadable: Vec<i64> = Vec::new();
        let mut subscriptions: HashMap<i64, Subscription> = HashMap::with_capacity(rows.len());
        let mut records = DeliveryColumns::default();
        let (mut advance_id, mut advance_fire, mut advance_date, mut advance_clear) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for row in &rows {
            let raw = read_subscription(row)?;
            let id = raw.id;
            let subscription = match raw.validate() {
                Ok(subscription) => subscription,
                Err(err) => {
                    tracing::error!(subscription = id, error = %err, "unreadable subscription paused");
                    unreadable.push(id);
                    continue;
                }
            };
            let decided = planner.plan(&subscription);
            let (target_kind, target_id) = key_to_sql(subscription.target.key())?;
            for record in &decided.records {
                let claiming = record.state == DeliveryState::Claimed;
                records.subscription_id.push(id);
                records.target_kind.push(target_kind);
                records.target_id.push(target_id);
                records.kind.push(record.kind.as_str());
                records.local_date.push(record.occurrence.local_date.to_string());
                records.fire_at.push(record.occurrence.at.as_second());
                records.state.push(record.state.as_str());
                records.nonce.push(record.nonce.clone());
                records.late.push(record.late);
                records.attempts.push(i64::from(claiming));
                records.reason.push((record.state == DeliveryState::Skipped).then_some("grace_passed"));
                records.lease_holder.push(claiming.then(|| lease.holder.clone()));
                records.lease_until.push(claiming.then(|| lease.until.as_second()));
            }
            advance_id.push(id);
            advance_fire.push(decided.next.at.as_second());
            advance_date.push(decided.next.local_date.to_string());
            advance_clear.push(decided.clear_snooze);
            subscriptions.insert(id, subscription);
        }
        let mut claimed = Vec::new();
        if !records.subscription_id.is_empty() {
            let insert = tx
                .prepare_cached(&format!(
                    "INSERT INTO deliveries (subscription_id, target_kind, target_id, kind, local_date, fire_at, state, \
                     nonce, late, claimed_at, attempts, reason, lease_holder, lease_until) \
                     SELECT s, tk, ti, k, ld, fa, st, n, l, $10, a, r, lh, lu FROM unnest($1::bigint[], $2::text[], \
                     $3::bigint[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::text[], $9::boolean[], \
                     $11::bigint[], $12::text[], $13::text[], $14::bigint[]) AS u(s, tk, ti, k, ld, fa, st, n, l, a, r, lh, lu) \
                     ON CONFLICT DO NOTHING RETURNING {DELIVERY_COLUMNS}"
                ))
                .await?;
            let inserted = tx
                .query(
                    &insert,
                    &[
                        &records.subscription_id,
                        &records.target_kind,
                        &records.target_id,
                        &records.kind,
                        &records.local_date,
                        &records.fire_at,
                        &records.state,
                        &records.nonce,
                        &records.late,
                        &now.as_second(),
                        &records.attempts,
                        &records.reason,
                        &records.lease_holder,
                        &records.lease_until,
                    ],
                )
                .await?;
            for row in &inserted {
                let delivery = read_delivery(row)?.validate()?;
                if delivery.state != DeliveryState::Claimed {
                    continue;
                }
                let Some(subscription) = delivery.subscription_id.and_then(|id| subscriptions.get(&id)) else {
                    continue;
                };
                claimed.push(Claimed { subscription: subscription.clone(), delivery });
            }
        }
        if !advance_id.is_empty() {
            let advance = tx
                .prepare_cached(
                    "UPDATE subscriptions SET next_fire = u.f, next_local_date = u.d, \
                     snoozed_until = CASE WHEN u.c THEN NULL ELSE subscriptions.snoozed_until END \
                     FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::boolean[]) AS u(i, f, d, c) \
                     WHERE subscriptions.id = u.i",
                )
                .await?;
            tx.execute(&advance, &[&advance_id, &advance_fire, &advance_date, &advance_clear]).await?;
        }
        if !unreadable.is_empty() {
            tx.execute(
                "UPDATE subscriptions SET pause_reason = $2 WHERE id = ANY($1)",
                &[&unreadable, &PauseReason::Unreadable.as_str()],
            )
            .await?;
        }
        tx.commit().await?;
        // Earliest first, daily before snooze, as the rows were selected.
        claimed.sort_by_key(|claim| (claim.delivery.fire_at, claim.delivery.kind == DeliveryKind::Snooze));
        Ok(claimed)
    }

    async fn take_over(&self, now: Timestamp, limit: usize, lease: Lease) -> Result<Vec<Unfinished>, StoreError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(&format!(
                "WITH taken AS (SELECT id FROM deliveries WHERE state = 'claimed' \
                   AND (lease_until IS NULL OR lease_until <= $1) AND lease_holder IS DISTINCT FROM $2 \
                   ORDER BY lease_until LIMIT $3 FOR UPDATE SKIP LOCKED) \
                 UPDATE deliveries SET lease_holder = $2, lease_until = $4, attempts = deliveries.attempts + 1 \
                 FROM taken WHERE deliveries.id = taken.id RETURNING {}",
                DELIVERY_COLUMNS
                    .split(", ")
                    .map(|column| format!("deliveries.{column}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
            .await?;
        let rows = client
            .query(&statement, &[&now.as_second(), &lease.holder, &limit_to_sql(limit), &lease.until.as_second()])
            .await?;
        let mut deliveries = Vec::with_capacity(rows.len());
        for row in &rows {
            match read_delivery(row)?.validate() {
                Ok(delivery) => deliveries.push(delivery),
                Err(err) => {
                    let id: i64 = row.try_get(0)?;
                    tracing::error!(delivery = id, error = %err, "unreadable delivery record marked unknown");
                    client
                        .execute(
                            "UPDATE deliveries SET state = 'unknown', reason = 'subscription_gone' WHERE id = $1",
                            &[&id],
                        )
                        .await?;
                }
            }
        }
        let ids: Vec<i64> = deliveries.iter().filter_map(|delivery| delivery.subscription_id).collect();
        let mut subscriptions: HashMap<i64, Subscription> = HashMap::new();
        if !ids.is_empty() {
            let rows = client
                .query(&format!("SELECT {SUBSCRIPTION_COLUMNS} FROM subscriptions WHERE id = ANY($1)"), &[&ids])
                .await?;
            for row in &rows {
                if let Ok(subscription) = read_subscription(row)?.validate() {
                    subscriptions.insert(subscription.id, subscription);
                }
            }
        }
        Ok(deliveries
            .into_iter()
            .map(|delivery| Unfinished {
                subscription: delivery.subscription_id.and_then(|id| subscriptions.get(&id).cloned()),
                delivery,
            })
            .collect())
    }

    async fn renew_lease(&self, id: DeliveryId, lease: Lease) -> Result<bool, StoreError> {
        let client = self.client().await?;
        let n = client
            .execute(
                "UPDATE deliveries SET lease_until = $3 WHERE id = $1 AND state = 'claimed' AND lease_holder = $2",
                &[&id, &lease.holder, &lease.until.as_second()],
            )
            .await?;
        Ok(n == 1)
    }

    async fn record_outcome(&self, outcome: Outcome) -> Result<(), StoreError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let sent = outcome.state == DeliveryState::Sent;
        let statement = tx
            .prepare_cached(
                "UPDATE deliveries SET state = $2, reason = $3, sent_at = CASE WHEN $4 THEN $5 ELSE sent_at END, \
                 attempts = GREATEST(attempts, $6), lease_holder = NULL, lease_until = NULL \
                 WHERE id = $1 AND (state = 'claimed' OR ($4 AND state <> 'sent'))",
            )
            .await?;
        tx.execute(
            &statement,
            &[
                &outcome.delivery_id,
                &outcome.state.as_str(),
                &outcome.reason.map(GiveUp::as_str),
                &sent,
                &outcome.at.as_second(),
                &i64::from(outcome.attempts),
            ],
        )
        .await?;
        if let Some((subscription_id, reason)) = outcome.pause {
            tx.execute(
                "UPDATE subscriptions SET pause_reason = $2, updated_at = $3 WHERE id = $1",
                &[&subscription_id, &reason.as_str(), &outcome.at.as_second()],
            )
            .await?;
        }
        if let Some((user_id, notice)) = outcome.notice {
            let user_id = id_to_sql(user_id)?;
            tx.execute(
                "INSERT INTO notices (user_id, kind, created_at) \
                 SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM subscriptions WHERE kind = 'user' AND user_id = $1) \
                 ON CONFLICT DO NOTHING",
                &[&user_id, &notice.as_str(), &outcome.at.as_second()],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn deliveries(&self, key: TargetKey, limit: usize) -> Result<Vec<Delivery>, StoreError> {
        let (kind, id) = key_to_sql(key)?;
        let client = self.client().await?;
        let rows = client
            .query(
                &format!(
                    "SELECT {DELIVERY_COLUMNS} FROM deliveries WHERE target_kind = $1 AND target_id = $2 \
                     ORDER BY fire_at DESC, id DESC LIMIT $3"
                ),
                &[&kind, &id, &limit_to_sql(limit)],
            )
            .await?;
        rows.iter().map(|row| read_delivery(row)?.validate()).collect()
    }

    async fn prune_deliveries(&self, before: Timestamp) -> Result<usize, StoreError> {
        let client = self.client().await?;
        let n = client
            .execute("DELETE FROM deliveries WHERE claimed_at < $1 AND state <> 'claimed'", &[&before.as_second()])
            .await?;
        Ok(usize::try_from(n).unwrap_or(usize::MAX))
    }
}

impl HelpChannelStore for PgStore {
    async fn add_help_channel(
        &self,
        guild_id: u64,
        channel_id: u64,
        max: usize,
        now: Timestamp,
    ) -> Result<HelpChannelChange, StoreError> {
        let (guild_id, channel_id) = (id_to_sql(guild_id)?, id_to_sql(channel_id)?);
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        // The version row is the lock: adds from several processes take turns, so the count
        // below cannot be overtaken before the insert. A transaction that changes nothing is
        // rolled back when dropped, leaving the version alone.
        tx.execute("SELECT version FROM help_channels_version WHERE id = 1 FOR UPDATE", &[]).await?;
        let existing = tx.query_opt("SELECT guild_id FROM help_channels WHERE channel_id = $1", &[&channel_id]).await?;
        if existing.map(|row| row.get::<_, i64>(0)) == Some(guild_id) {
            return Ok(HelpChannelChange::AlreadyAdded);
        }
        let count: i64 =
            tx.query_one("SELECT count(*) FROM help_channels WHERE guild_id = $1", &[&guild_id]).await?.get(0);
        if usize::try_from(count).unwrap_or(usize::MAX) >= max {
            return Ok(HelpChannelChange::Full);
        }
        // A channel id belongs to one server; a stale row under another server is replaced.
        tx.execute(
            "INSERT INTO help_channels (channel_id, guild_id, added_at) VALUES ($1, $2, $3) \
             ON CONFLICT (channel_id) DO UPDATE SET guild_id = excluded.guild_id, added_at = excluded.added_at",
            &[&channel_id, &guild_id, &now.as_second()],
        )
        .await?;
        tx.execute("UPDATE help_channels_version SET version = version + 1 WHERE id = 1", &[]).await?;
        tx.commit().await?;
        Ok(HelpChannelChange::Added)
    }

    async fn remove_help_channel(&self, guild_id: u64, channel_id: u64) -> Result<HelpChannelChange, StoreError> {
        let (guild_id, channel_id) = (id_to_sql(guild_id)?, id_to_sql(channel_id)?);
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let n = tx
            .execute("DELETE FROM help_channels WHERE guild_id = $1 AND channel_id = $2", &[&guild_id, &channel_id])
            .await?;
        if n == 0 {
            return Ok(HelpChannelChange::NotThere);
        }
        tx.execute("UPDATE help_channels_version SET version = version + 1 WHERE id = 1", &[]).await?;
        tx.commit().await?;
        Ok(HelpChannelChange::Removed)
    }

    async fn help_channels(&self, guild_id: u64) -> Result<Vec<u64>, StoreError> {
        let guild_id = id_to_sql(guild_id)?;
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT channel_id FROM help_channels WHERE guild_id = $1 ORDER BY added_at, channel_id",
                &[&guild_id],
            )
            .await?;
        rows.iter().map(|row| decode::id("help_channels.channel_id", row.try_get(0)?)).collect()
    }

    async fn all_help_channels(&self) -> Result<HelpChannelSet, StoreError> {
        let mut client = self.client().await?;
        // One snapshot for both reads, so the version matches the set.
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let version: i64 = tx.query_one("SELECT version FROM help_channels_version WHERE id = 1", &[]).await?.get(0);
        let rows = tx.query("SELECT channel_id FROM help_channels ORDER BY channel_id", &[]).await?;
        let channels =
            rows.iter().map(|row| decode::id("help_channels.channel_id", row.try_get(0)?)).collect::<Result<_, _>>()?;
        tx.commit().await?;
        Ok(HelpChannelSet { version, channels })
    }

    async fn help_channels_version(&self) -> Result<i64, StoreError> {
        let client = self.client().await?;
        let statement = client.prepare_cached("SELECT version FROM help_channels_version WHERE id = 1").await?;
        Ok(client.query_one(&statement, &[]).await?.get(0))
    }
}
