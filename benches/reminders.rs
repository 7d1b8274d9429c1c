//! Reminder benchmarks: start-up over 100,000 subscriptions, finding the next due ones as the
//! table grows (1k / 10k / 100k), and handing 10,000 reminders due in the same minute to a no-op
//! sender. Short measurement times: the machine is shared.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crampbot::clock::ManualClock;
use crampbot::reminders::schedule::next_occurrence;
use crampbot::reminders::store::{NewSubscription, ReminderStore, Target};
use crampbot::reminders::{Deliver, DeliveryError, Outgoing, Scheduler, SchedulerOptions, Wakeup};
use crampbot::store::SqliteStore;
use criterion::{BatchSize, BenchmarkId, Criterion, criterion_group, criterion_main};
use jiff::Timestamp;
use jiff::civil::Time;

const ZONES: [&str; 6] =
    ["Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Lord_Howe", "Europe/Berlin", "Asia/Kolkata"];

fn start() -> Timestamp {
    "2026-05-01T00:00:00Z".parse().expect("valid timestamp")
}

/// `n` user subscriptions spread over every minute of the day and six zones.
fn spread(n: u64, now: Timestamp) -> Vec<NewSubscription> {
    let zones: Vec<_> = ZONES.iter().map(|name| jiff::tz::db().get(name).expect("bundled zone")).collect();
    (0..n)
        .map(|i| {
            let minute = i64::try_from(i % 1440).expect("small");
            let local_time =
                Time::new(i8::try_from(minute / 60).expect("hour"), i8::try_from(minute % 60).expect("minute"), 0, 0)
                    .expect("valid time");
            let zone_index = usize::try_from(i % 6).expect("small");
            NewSubscription {
                target: Target::User { user_id: i + 1 },
                local_time,
                zone: ZONES[zone_index].to_owned(),
                silent: false,
                next: next_occurrence(now, local_time, &zones[zone_index]),
                set_by: Some(i + 1),
            }
        })
        .collect()
}

/// A sender that only counts.
#[derive(Default)]
struct Noop {
    handed_over: AtomicUsize,
}

impl Deliver for Noop {
    async fn deliver(&self, _reminder: Outgoing) -> Result<(), DeliveryError> {
        self.handed_over.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

fn scheduler(
    store: Arc<SqliteStore>,
    clock: &ManualClock,
    sender: Arc<Noop>,
) -> Scheduler<SqliteStore, Noop, ManualClock> {
    Scheduler::new(store, sender, Arc::new(clock.clone()), Vec::new(), SchedulerOptions::default(), Wakeup::new())
}

fn populate(path: &Path, n: u64) {
    let store = SqliteStore::open(path).expect("open");
    store.insert_many(&spread(n, start()), start()).expect("insert");
}

fn startup(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("bench.sqlite3");
    populate(&path, 100_000);
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let mut group = c.benchmark_group("startup");
    group.sample_size(10).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_millis(500));
    group.bench_function("open_recover_schedule_100k", |b| {
        b.iter(|| {
            runtime.block_on(async {
                let store = Arc::new(SqliteStore::open(&path).expect("open"));
                let clock = ManualClock::new(start());
                let scheduler = scheduler(Arc::clone(&store), &clock, Arc::new(Noop::default()));
                store.start_scheduler().await.expect("scheduler slot");
                let lease = crampbot::reminders::store::Lease { holder: scheduler.holder().to_owned(), until: start() };
                store.take_over(start(), 64, lease).await.expect("take over");
                store.next_due_at(scheduler.holder().to_owned()).await.expect("next due")
            })
        });
    });
    // The scheduler never loads every row; this is what doing so would cost, for comparison.
    group.bench_function("read_all_100k", |b| {
        let store = SqliteStore::open(&path).expect("open");
        let later = start().saturating_add(jiff::SignedDuration::from_hours(48)).expect("in range");
        b.iter(|| store.peek_due(later, 200_000).expect("all").len());
    });
    group.finish();
}

fn next_due(c: &mut Criterion) {
    let mut group = c.benchmark_group("next_due");
    group.sample_size(10).measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_millis(300));
    let later: Timestamp = "2026-05-01T12:00:00Z".parse().expect("valid timestamp");
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    for n in [1_000_u64, 10_000, 100_000] {
        let store = SqliteStore::open_in_memory().expect("open");
        store.insert_many(&spread(n, start()), start()).expect("insert");
        group.bench_with_input(BenchmarkId::new("earliest_and_first_100", n), &n, |b, _| {
            b.iter(|| {
                let earliest = runtime.block_on(store.next_due_at(String::new())).expect("next due");
                let due = store.peek_due(later, 100).expect("due");
                (earliest, due.len())
            });
        });
    }
    group.finish();
}

fn hand_over(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let due_at: Timestamp = "2026-05-01T06:30:00Z".parse().expect("valid timestamp");
    let london = jiff::tz::db().get("Europe/London").expect("bundled zone");
    let seven_thirty = Time::new(7, 30, 0, 0).expect("valid time");
    let mut group = c.benchmark_group("hand_over");
    group.sample_size(10).measurement_time(Duration::from_secs(5)).warm_up_time(Duration::from_millis(500));
    group.bench_function("10k_due_same_minute", |b| {
        b.iter_batched(
            || {
                let store = Arc::new(SqliteStore::open_in_memory().expect("open"));
                let news: Vec<NewSubscription> = (0..10_000)
                    .map(|user_id| NewSubscription {
                        target: Target::User { user_id },
                        local_time: seven_thirty,
                        zone: "Europe/London".into(),
                        silent: false,
                        next: next_occurrence(start(), seven_thirty, &london),
                        set_by: Some(user_id),
                    })
                    .collect();
                store.insert_many(&news, start()).expect("insert");
                let sender = Arc::new(Noop::default());
                let clock = runtime.block_on(async { ManualClock::new(due_at) });
                (scheduler(store, &clock, Arc::clone(&sender)), sender)
            },
            |(scheduler, sender)| {
                runtime.block_on(async {
                    scheduler.tick().await.expect("tick");
                    while sender.handed_over.load(Ordering::Relaxed) < 10_000 {
                        tokio::task::yield_now().await;
                    }
                });
                scheduler
            },
            BatchSize::PerIteration,
        );
    });
    group.finish();
}

criterion_group!(benches, startup, next_due, hand_over);
criterion_main!(benches);
