//! Store benchmark: claims per second on PostgreSQL with 1, 2 and 4 schedulers, and start-up
//! with 100,000 subscriptions on SQLite and on PostgreSQL.
//!
//! Run with `cargo run --release --example store_bench` (PostgreSQL at `CRAMPBOT_BENCH_POSTGRES`,
//! default `postgres://postgres@127.0.0.1:5432/postgres`; a schema of its own, dropped at the
//! end). A claim here is the scheduler's claim transaction: select due rows with `FOR UPDATE
//! SKIP LOCKED`, write their delivery records, advance them; the sender is left out, so the
//! figure is what the store can feed, to compare with Discord's 50 requests a second.
#![expect(clippy::print_stdout, reason = "an example that reports a measurement")]

use std::time::{Duration, Instant};

use crampbot::reminders::schedule::next_occurrence;
use crampbot::reminders::store::{Lease, NewSubscription, Planner, ReminderStore, Target};
use crampbot::store::{PgStore, SqliteStore};
use jiff::Timestamp;
use jiff::civil::Time;

fn start() -> Timestamp {
    "2026-05-01T00:00:00Z".parse().expect("valid timestamp")
}

/// `n` user subscriptions, all due at 06:30 UTC (the burst case), or spread over the day.
fn subscriptions(n: u64, burst: bool) -> Vec<NewSubscription> {
    let utc = jiff::tz::TimeZone::UTC;
    (0..n)
        .map(|i| {
            let minute = if burst { 390 } else { i % 1440 };
            let local_time =
                Time::new(i8::try_from(minute / 60).expect("hour"), i8::try_from(minute % 60).expect("minute"), 0, 0)
                    .expect("valid time");
            NewSubscription {
                target: Target::User { user_id: i + 1 },
                local_time,
                zone: "UTC".to_owned(),
                silent: false,
                next: next_occurrence(start(), local_time, &utc),
                set_by: Some(i + 1),
            }
        })
        .collect()
}

#[expect(clippy::disallowed_methods, reason = "the benchmark's own setting")]
fn server() -> String {
    std::env::var("CRAMPBOT_BENCH_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned())
}

async fn admin(sql: &str) {
    let (client, connection) = tokio_postgres::connect(&server(), tokio_postgres::NoTls).await.expect("connect");
    let driver = tokio::spawn(connection);
    client.batch_execute(sql).await.expect("admin sql");
    drop(client);
    let _ = driver.await;
}

async fn fresh_pg(schema: &str, pool: usize) -> PgStore {
    admin(&format!("DROP SCHEMA IF EXISTS {schema} CASCADE; CREATE SCHEMA {schema}")).await;
    let url = format!("{}?options=-c%20search_path%3D{schema}", server());
    PgStore::connect(&url, pool).await.expect("connect")
}

/// Claims everything due with `schedulers` concurrent claimers (batches of 64); returns claims
/// per second.
async fn claim_all<S: ReminderStore + Clone>(store: &S, schedulers: usize, total: usize) -> f64 {
    let due: Timestamp = "2026-05-01T06:30:00Z".parse().expect("valid");
    let planner = Planner { now: due, grace: Duration::from_secs(7200), late_after: Duration::from_secs(60) };
    let began = Instant::now();
    let mut tasks = Vec::new();
    for n in 0..schedulers {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let lease = Lease { holder: format!("bench{n}"), until: "2026-05-01T07:00:00Z".parse().expect("valid") };
            let mut claimed = 0;
            let mut empty = 0;
            while empty < 3 {
                let batch = store.claim_due(planner, 64, lease.clone()).await.expect("claim");
                if batch.is_empty() {
                    empty += 1;
                    tokio::task::yield_now().await;
                } else {
                    empty = 0;
                    claimed += batch.len();
                }
            }
            claimed
        }));
    }
    let mut claimed = 0;
    for task in tasks {
        claimed += task.await.expect("claimer");
    }
    assert_eq!(claimed, total, "every row claimed once");
    claimed as f64 / began.elapsed().as_secs_f64()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    println!("## Claims per second (PostgreSQL, 20,000 due in the same minute, batches of 64)");
    println!("| schedulers | claims/s |");
    println!("| --- | --- |");
    for schedulers in [1, 2, 4] {
        let store = fresh_pg("crampbot_bench_claims", 2 * schedulers).await;
        store.insert_many(&subscriptions(20_000, true), start()).await.expect("insert");
        let rate = claim_all(&store, schedulers, 20_000).await;
        println!("| {schedulers} | {rate:.0} |");
    }
    let sqlite_dir = tempfile::tempdir().expect("temp dir");
    {
        let store = SqliteStore::open(&sqlite_dir.path().join("claims.sqlite3")).expect("open");
        store.insert_many(&subscriptions(20_000, true), start()).expect("insert");
        let rate = claim_all(&store, 1, 20_000).await;
        println!("| SQLite, 1 (its only mode) | {rate:.0} |");
    }

    println!();
    println!("## Start-up with 100,000 subscriptions (open + migrate check, scheduler slot, takeover, next due)");
    println!("| backend | start-up |");
    println!("| --- | --- |");
    let many = subscriptions(100_000, false);
    let path = sqlite_dir.path().join("startup.sqlite3");
    SqliteStore::open(&path).expect("open").insert_many(&many, start()).expect("insert");
    let began = Instant::now();
    let store = SqliteStore::open(&path).expect("open");
    let next = startup(&store).await;
    println!("| SQLite | {:.1} ms (next due {next:?}) |", began.elapsed().as_secs_f64() * 1000.0);
    drop(store);

    let schema = "crampbot_bench_startup";
    let filled = fresh_pg(schema, 4).await;
    filled.insert_many(&many, start()).await.expect("insert");
    drop(filled);
    let began = Instant::now();
    let store =
        PgStore::connect(&format!("{}?options=-c%20search_path%3D{schema}", server()), 4).await.expect("connect");
    let next = startup(&store).await;
    println!("| PostgreSQL | {:.1} ms (next due {next:?}) |", began.elapsed().as_secs_f64() * 1000.0);
    drop(store);
    admin("DROP SCHEMA IF EXISTS crampbot_bench_claims CASCADE; DROP SCHEMA IF EXISTS crampbot_bench_startup CASCADE")
        .await;
}

/// What a scheduler does before its first sleep, on a store just opened.
async fn startup<S: ReminderStore>(store: &S) -> Option<Timestamp> {
    store.start_scheduler().await.expect("slot");
    let lease = Lease { holder: "startup".to_owned(), until: start() };
    store.take_over(start(), 64, lease).await.expect("take over");
    store.next_due_at("startup".to_owned()).await.expect("next due")
}
