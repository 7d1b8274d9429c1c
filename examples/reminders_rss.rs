//! Resident memory of the reminders with 100,000 subscriptions: builds a database in a temporary
//! folder, then measures in a fresh child process (so the build's allocations do not count) the
//! `VmRSS` from `/proc/self/status` after opening the store and starting the scheduler, and again
//! after reading every subscription into memory.
//!
//! Run with `cargo run --release --example reminders_rss`.
#![expect(clippy::print_stdout, reason = "an example that reports a measurement")]

use std::path::Path;
use std::process::Command;
use std::sync::Arc;

use crampbot::clock::ManualClock;
use crampbot::reminders::schedule::next_occurrence;
use crampbot::reminders::store::{NewSubscription, ReminderStore, Target};
use crampbot::reminders::{Deliver, DeliveryError, Outgoing, Scheduler, SchedulerOptions, Wakeup};
use crampbot::store::SqliteStore;
use jiff::Timestamp;
use jiff::civil::Time;

struct Noop;

impl Deliver for Noop {
    async fn deliver(&self, _reminder: Outgoing) -> Result<(), DeliveryError> {
        Ok(())
    }
}

fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn build(path: &Path, now: Timestamp) {
    let zones = ["Europe/London", "America/New_York", "Asia/Tokyo", "Australia/Lord_Howe"];
    let tzs: Vec<_> = zones.iter().map(|name| jiff::tz::db().get(name).expect("bundled zone")).collect();
    let news: Vec<NewSubscription> = (0..100_000_u64)
        .map(|i| {
            let minute = i % 1440;
            let local_time =
                Time::new(i8::try_from(minute / 60).expect("hour"), i8::try_from(minute % 60).expect("minute"), 0, 0)
                    .expect("valid time");
            let zone = usize::try_from(i % 4).expect("small");
            NewSubscription {
                target: Target::User { user_id: i + 1 },
                local_time,
                zone: zones[zone].to_owned(),
                silent: false,
                next: next_occurrence(now, local_time, &tzs[zone]),
                set_by: Some(i + 1),
            }
        })
        .collect();
    SqliteStore::open(path).expect("open").insert_many(&news, now).expect("insert");
}

fn measure(path: &Path, now: Timestamp) {
    let before = rss_kib();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let store = Arc::new(SqliteStore::open(path).expect("open"));
        let scheduler = Scheduler::new(
            Arc::clone(&store),
            Arc::new(Noop),
            Arc::new(ManualClock::new(now)),
            Vec::new(),
            SchedulerOptions::default(),
            Wakeup::new(),
        );
        store.start_scheduler().await.expect("scheduler slot");
        let lease = crampbot::reminders::store::Lease { holder: scheduler.holder().to_owned(), until: now };
        store.take_over(now, 64, lease).await.expect("take over");
        let next = store.next_due_at(scheduler.holder().to_owned()).await.expect("next due");
        let count = store.count().await.expect("count");
        let started = rss_kib();
        let later = now.saturating_add(jiff::SignedDuration::from_hours(48)).expect("in range");
        let all = store.peek_due(later, 200_000).expect("all");
        let loaded = rss_kib();
        println!("subscriptions: {count} (next due {next:?})");
        println!("VmRSS at process start: {:.1} MiB", kib_to_mib(before));
        println!("VmRSS after opening the store and starting the scheduler: {:.1} MiB", kib_to_mib(started));
        println!("VmRSS with all {} subscriptions read into memory: {:.1} MiB", all.len(), kib_to_mib(loaded));
    });
}

#[expect(clippy::cast_precision_loss, reason = "a few hundred thousand KiB fit an f64 exactly")]
fn kib_to_mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

fn main() {
    let now: Timestamp = "2026-05-01T00:00:00Z".parse().expect("valid timestamp");
    let mut args = std::env::args_os().skip(1);
    if let (Some(mode), Some(path)) = (args.next(), args.next())
        && mode == "measure"
    {
        measure(Path::new(&path), now);
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("rss.sqlite3");
    build(&path, now);
    let exe = std::env::current_exe().expect("own path");
    let status = Command::new(exe).arg("measure").arg(&path).status().expect("run measurement");
    assert!(status.success(), "measurement failed");
}
