//! The store contract: one suite, run against both backends (`store::sqlite::*` on a temporary
//! file, `store::postgres::*` on a fresh PostgreSQL schema each). Every test talks to the ports
//! (`ReminderStore`, `HelpChannelStore`, and `HelpChannels` over the latter) only, except where
//! it damages a row on purpose with raw SQL.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use crampbot::help_channels::store::{HelpChannelChange, HelpChannelStore as _};
use crampbot::help_channels::{HelpChannels, MAX_PER_SERVER};
use crampbot::reminders::schedule::{Occurrence, next_occurrence};
use crampbot::reminders::store::{
    DeliveryKind, DeliveryState, GiveUp, Lease, NewSubscription, Notice, Outcome, PauseReason, Planner, ReminderStore,
    StoreError, Target, TargetKey,
};
use crampbot::store::{AnyStore, PgStore, SqliteStore};
use jiff::Timestamp;
use jiff::civil::{date, time};

use crate::pg::{self, PgSchema};

/// A database for one test.
enum Db {
    Sqlite { _dir: tempfile::TempDir, path: std::path::PathBuf },
    Postgres(PgSchema),
}

impl Db {
    fn sqlite() -> Db {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("store.sqlite3");
        Db::Sqlite { _dir: dir, path }
    }

    async fn postgres() -> Option<Db> {
        pg::schema().await.map(Db::Postgres)
    }

    /// Opens (and migrates) a store on this database; each call is a new connection, as a
    /// second process would have.
    async fn open(&self) -> AnyStore {
        match self {
            Db::Sqlite { path, .. } => AnyStore::Sqlite(SqliteStore::open(path).unwrap()),
            Db::Postgres(schema) => AnyStore::Postgres(PgStore::connect(&schema.url, 4).await.unwrap()),
        }
    }

    /// Runs raw SQL, to damage a row on purpose.
    async fn execute(&self, sql: &str) {
        match self {
            Db::Sqlite { path, .. } => {
                rusqlite::Connection::open(path).unwrap().execute_batch(sql).unwrap();
            }
            Db::Postgres(schema) => {
                let (client, connection) = tokio_postgres::connect(&schema.url, tokio_postgres::NoTls).await.unwrap();
                let driver = tokio::spawn(connection);
                client.batch_execute(sql).await.unwrap();
                drop(client);
                let _ = driver.await;
            }
        }
    }

    /// Whether claims wait for their lease before another scheduler may take them (PostgreSQL;
    /// `SQLite` has one scheduler, which takes every claim not its own).
    fn waits_for_leases(&self) -> bool {
        matches!(self, Db::Postgres(_))
    }
}

macro_rules! store_suite {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(super::Db::sqlite()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = super::Db::postgres().await else { return };
                    super::$name(db).await;
                }
            )*
        }
    };
}

store_suite!(
    upsert_keeps_the_id_and_clears_pause_and_snooze,
    ids_that_do_not_fit_are_refused,
    one_record_per_target_and_day,
    off_then_set_the_same_day_does_not_send_that_day_twice,
    a_snooze_gets_its_own_record_and_is_sent_once,
    a_reminder_missed_by_more_than_the_grace_is_skipped,
    a_claim_is_taken_over_after_its_lease_and_the_old_holder_stops,
    sent_wins_over_a_late_failure,
    a_refusal_pauses_and_queues_a_notice_only_while_subscribed,
    notices_stay_until_cleared,
    forget_deletes_the_user_and_unlinks_their_channels,
    deliveries_are_newest_first_and_pruning_keeps_claims,
    next_due_follows_due_rows_and_pauses,
    damaged_rows_are_refused_strictly_and_repaired_by_setting_again,
    concurrent_claims_never_take_the_same_row,
    reopening_migrates_once_and_keeps_everything,
    help_channels_are_added_once_per_server_up_to_the_limit_and_removed,
    help_channels_in_memory_follow_this_process_at_once_and_others_on_refresh,
    concurrent_help_channel_adds_never_pass_the_limit,
);

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

const START: &str = "2026-05-01T06:00:00Z";

fn user(user_id: u64, local_time: jiff::civil::Time, zone: &str, now: Timestamp) -> NewSubscription {
    let tz = jiff::tz::db().get(zone).unwrap();
    NewSubscription {
        target: Target::User { user_id },
        local_time,
        zone: zone.to_owned(),
        silent: false,
        next: next_occurrence(now, local_time, &tz),
        set_by: Some(user_id),
    }
}

fn channel(channel_id: u64, set_by: u64, now: Timestamp) -> NewSubscription {
    let tz = jiff::tz::db().get("UTC").unwrap();
    NewSubscription {
        target: Target::Channel { guild_id: 1, channel_id, role_id: Some(5) },
        local_time: time(9, 0, 0, 0),
        zone: "UTC".to_owned(),
        silent: true,
        next: next_occurrence(now, time(9, 0, 0, 0), &tz),
        set_by: Some(set_by),
    }
}

fn planner(now: Timestamp) -> Planner {
    Planner { now, grace: Duration::from_secs(2 * 3600), late_after: Duration::from_secs(60) }
}

fn lease(holder: &str, until: Timestamp) -> Lease {
    Lease { holder: holder.to_owned(), until }
}

fn outcome(delivery_id: i64, state: DeliveryState, at: Timestamp) -> Outcome {
    Outcome {
        delivery_id,
        state,
        reason: (state != DeliveryState::Sent).then_some(GiveUp::RetriesExhausted),
        attempts: 1,
        pause: None,
        notice: None,
        at,
    }
}

async fn upsert_keeps_the_id_and_clears_pause_and_snooze(db: Db) {
    let store = db.open().await;
    let now = ts(START);
    let first = store.upsert(user(1, time(7, 30, 0, 0), "Europe/London", now), now).await.unwrap();
    assert_eq!(first.next, Occurrence { local_date: date(2026, 5, 1), at: ts("2026-05-01T06:30:00Z") });
    store.set_snooze(first.id, Some(ts("2026-05-01T06:10:00Z")), now).await.unwrap();
    let claimed = store.claim_due(planner(ts("2026-05-01T06:31:00Z")), 10, lease("a", now)).await.unwrap();
    assert_eq!(claimed.len(), 2, "the day and the snooze");
    store
        .record_outcome(Outcome {
            pause: Some((first.id, PauseReason::DmRefused)),
            ..outcome(claimed[0].delivery.id, DeliveryState::Undeliverable, now)
        })
        .await
        .unwrap();
    let paused = store.find(TargetKey::User(1)).await.unwrap().unwrap();
    assert_eq!(paused.paused, Some(PauseReason::DmRefused));
    store.record_outcome(outcome(claimed[1].delivery.id, DeliveryState::Sent, now)).await.unwrap();
    assert_eq!(store.next_due_at(String::new()).await.unwrap(), None, "a paused reminder is never due");
    let mut changed = user(1, time(9, 0, 0, 0), "Asia/Tokyo", now);
    changed.silent = true;
    let second = store.upsert(changed, now).await.unwrap();
    assert_eq!(second.id, first.id);
    assert_eq!((second.paused, second.snoozed_until), (None, None));
    assert_eq!((second.local_time, second.zone.as_str(), second.silent), (time(9, 0, 0, 0), "Asia/Tokyo", true));
    assert_eq!(store.count().await.unwrap(), 1);
}

async fn ids_that_do_not_fit_are_refused(db: Db) {
    let store = db.open().await;
    let err = store.upsert(user(u64::MAX, time(7, 0, 0, 0), "UTC", ts(START)), ts(START)).await.unwrap_err();
    assert!(matches!(err, StoreError::IdOutOfRange(u64::MAX)), "{err}");
}

async fn one_record_per_target_and_day(db: Db) {
    let store = db.open().await;
    let now = ts(START);
    store.upsert(user(1, time(7, 30, 0, 0), "Europe/London", now), now).await.unwrap();
    let due = ts("2026-05-01T06:30:00Z");
    let claimed = store.claim_due(planner(due), 10, lease("a", ts("2026-05-01T06:31:00Z"))).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let delivery = &claimed[0].delivery;
    assert_eq!(
        (delivery.kind, delivery.state, delivery.local_date),
        (DeliveryKind::Daily, DeliveryState::Claimed, date(2026, 5, 1))
    );
    assert_eq!(delivery.attempts, 1);
    assert_eq!(
        delivery.nonce.as_deref(),
        Some(crampbot::reminders::scheduler::daily_nonce(TargetKey::User(1), date(2026, 5, 1)).as_str())
    );
    // Advanced: the same instant claims nothing more, and the next is tomorrow.
    assert!(store.claim_due(planner(due), 10, lease("b", due)).await.unwrap().is_empty());
    let next = store.find(TargetKey::User(1)).await.unwrap().unwrap().next;
    assert_eq!(next.local_date, date(2026, 5, 2));
    // Moving the time back onto today cannot claim today again: the record is the guard.
    store.upsert(user(1, time(7, 45, 0, 0), "Europe/London", due), due).await.unwrap();
    assert!(store.claim_due(planner(ts("2026-05-01T06:46:00Z")), 10, lease("b", due)).await.unwrap().is_empty());
    assert_eq!(store.deliveries(TargetKey::User(1), 10).await.unwrap().len(), 1);
}

async fn off_then_set_the_same_day_does_not_send_that_day_twice(db: Db) {
    let store = db.open().await;
    let now = ts(START);
    store.upsert(user(1, time(7, 30, 0, 0), "Europe/London", now), now).await.unwrap();
    let sent_at = ts("2026-05-01T06:30:00Z");
    let claimed = store.claim_due(planner(sent_at), 10, lease("a", sent_at)).await.unwrap();
    store.record_outcome(outcome(claimed[0].delivery.id, DeliveryState::Sent, sent_at)).await.unwrap();
    assert!(store.remove(TargetKey::User(1)).await.unwrap());
    // On again, for later the same day: the day already had its reminder.
    let later = ts("2026-05-01T07:00:00Z");
    store.upsert(user(1, time(9, 0, 0, 0), "Europe/London", later), later).await.unwrap();
    assert!(store.claim_due(planner(ts("2026-05-01T08:00:30Z")), 10, lease("a", later)).await.unwrap().is_empty());
    let records = store.deliveries(TargetKey::User(1), 10).await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].subscription_id, None, "the old subscription is gone; its record stays as the guard");
    // The next day is sent as usual.
    let tomorrow = ts("2026-05-02T08:00:00Z");
    assert_eq!(store.claim_due(planner(tomorrow), 10, lease("a", tomorrow)).await.unwrap().len(), 1);
}

async fn a_snooze_gets_its_own_record_and_is_sent_once(db: Db) {
    let store = db.open().await;
    let now = ts(START);
    let subscription = store.upsert(user(1, time(20, 0, 0, 0), "UTC", now), now).await.unwrap();
    let until = ts("2026-05-01T06:30:00Z");
    store.set_snooze(subscription.id, Some(until), now).await.unwrap();
    assert_eq!(store.next_due_at(String::new()).await.unwrap(), Some(until));
    let claimed = store.claim_due(planner(until), 10, lease("a", until)).await.unwrap();
    assert_eq!(claimed.len(), 1);
    let snooze = &claimed[0].delivery;
    assert_eq!((snooze.kind, snooze.fire_at, snooze.state), (DeliveryKind::Snooze, until, DeliveryState::Claimed));
    assert_eq!(
        snooze.nonce.as_deref(),
        Some(crampbot::reminders::scheduler::snooze_nonce(TargetKey::User(1), until).as_str())
    );
    store.record_outcome(outcome(snooze.id, DeliveryState::Sent, until)).await.unwrap();
    assert_eq!(store.find(TargetKey::User(1)).await.unwrap().unwrap().snoozed_until, None);
    // The same snooze set again (a replayed click) is not sent twice.
    store.set_snooze(subscription.id, Some(until), until).await.unwrap();
    assert!(store.claim_due(planner(until), 10, lease("a", until)).await.unwrap().is_empty());
    let records = store.deliveries(TargetKey::User(1), 10).await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!((records[0].state, records[0].sent_at), (DeliveryState::Sent, Some(until)));
}

async fn a_reminder_missed_by_more_than_the_grace_is_skipped(db: Db) {
    let store = db.open().await;
    let now = ts(START);
    store.upsert(user(1, time(7, 30, 0, 0), "Europe/London", now), now).await.unwrap();
    let late = ts("2026-05-01T09:00:00Z");
    assert!(store.claim_due(planner(late), 10, lease("a", late)).await.unwrap().is_empty());
    let records = store.deliveries(TargetKey::User(1), 10).await.unwrap();
    assert_eq!((records[0].state, records[0].reason), (DeliveryState::Skipped, Some(GiveUp::GracePassed)));
    assert_eq!(records[0].nonce, None);
}

async fn a_claim_is_taken_over_after_its_lease_and_the_old_holder_stops(db: Db) {
    let store = db.open().await;
    let other = db.open().await;
    let now = ts(START);
    store.upsert(user(1, time(7, 30, 0, 0), "Europe/London", now), now).await.unwrap();
    let due = ts("2026-05-01T06:30:00Z");
    let expires = ts("2026-05-01T06:30:30Z");
    let claimed = store.claim_due(planner(due), 10, lease("a", expires)).await.unwrap();
    let id = claimed[0].delivery.id;
    // The holder never takes over its own claim.
    assert!(store.take_over(ts("2026-05-01T06:40:00Z"), 10, lease("a", expires)).await.unwrap().is_empty());
    if db.waits_for_leases() {
        let early = other.take_over(ts("2026-05-01T06:30:10Z"), 10, lease("b", expires)).await.unwrap();
        assert!(early.is_empty(), "a live lease is respected");
        assert!(store.renew_lease(id, lease("a", ts("2026-05-01T06:30:40Z"))).await.unwrap());
    }
    let after = ts("2026-05-01T06:30:41Z");
    let taken = other.take_over(after, 10, lease("b", ts("2026-05-01T06:31:11Z"))).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!((taken[0].delivery.id, taken[0].delivery.attempts), (id, 2));
    assert_eq!(taken[0].delivery.nonce, claimed[0].delivery.nonce, "the same nonce");
    assert_eq!(taken[0].subscription.as_ref().map(|s| s.id), Some(claimed[0].subscription.id));
    assert!(!store.renew_lease(id, lease("a", ts("2026-05-01T06:32:00Z"))).await.unwrap(), "the old holder stops");
    if db.waits_for_leases() {
        assert!(other.take_over(after, 10, lease("c", after)).await.unwrap().is_empty(), "taken once");
    }
    other.record_outcome(Outcome { attempts: 2, ..outcome(id, DeliveryState::Sent, after) }).await.unwrap();
    let record = &store.deliveries(TargetKey::User(1), 1).await.unwrap()[0];
    assert_eq!((record.state, record.attempts), (DeliveryState::Sent, 2));
}

async fn sent_wins_over_a_late_failure(db: Db) {
    let store = db.open().await;
    let now = ts(START);
    store.upsert(user(1, time(7, 30, 0, 0), "Europe/London", now), now).await.unwrap();
    let due = ts("2026-05-01T06:30:00Z");
    let id = store.claim_due(planner(due), 10, lease("a", due)).await.unwrap()[0].delivery.id;
    store.record_outcome(outcome(id, DeliveryState::Failed, due)).await.unwrap();
    store.record_outcome(outcome(id, DeliveryState::Sent, due)).await.unwrap();
    store.record_outcome(outcome(id, DeliveryState::Unknown, due)).await.unwrap();
    let record = &store.deliveries(TargetKey::User(1), 1).await.unwrap()[0];
    assert_eq!(record.state, DeliveryState::Sent);
}

async fn a_refusal_pauses_and_queues_a_notice_only_while_subscribed(db: Db) {
    let store = db.open().await;
    let now = ts(START);
    let subscription = store.upsert(user(1, time(7, 30, 0, 0), "Europe/London", now), now).await.unwrap();
    let due = ts("2026-05-01T06:30:00Z");
    let id = store.claim_due(planner(due), 10, lease("a", due)).await.unwrap()[0].delivery.id;
    let refused = Outcome {
        reason: Some(GiveUp::Refused),
        pause: Some((subscription.id, PauseReason::DmRefused)),
        notice: Some((1, Notice::DmRefused)),
        ..outcome(id, DeliveryState::Undeliverable, due)
    };
    store.record_outcome(refused.clone()).await.unwrap();
    assert_eq!(store.pending_notices(1).await.unwrap(), [Notice::DmRefused]);
    assert_eq!(store.find(TargetKey::User(1)).await.unwrap().unwrap().paused, Some(PauseReason::DmRefused));
    store.forget_user(1).await.unwrap();
    store.record_outcome(refused).await.unwrap();
    assert!(store.pending_notices(1).await.unwrap().is_empty(), "no notice for a forgotten user");
}

async fn notices_stay_until_cleared(db: Db) {
    let store = db.open().await;
    let now = ts(START);
    let subscription = store.upsert(user(1, time(7, 30, 0, 0), "Europe/London", now), now).await.unwrap();
    let due = ts("2026-05-01T06:30:00Z");
    let id = store.claim_due(planner(due), 10, lease("a", due)).await.unwrap()[0].delivery.id;
    store
        .record_outcome(Outcome {
            pause: Some((subscription.id, PauseReason::DmRefused)),
            notice: Some((1, Notice::DmRefused)),
            ..outcome(id, DeliveryState::Undeliverable, due)
        })
        .await
        .unwrap();
    for _ in 0..2 {
        assert_eq!(store.pending_notices(1).await.unwrap(), [Notice::DmRefused], "read without removing");
    }
    store.clear_notices(1, vec![Notice::DmRefused]).await.unwrap();
    assert!(store.pending_notices(1).await.unwrap().is_empty());
}

async fn forget_deletes_the_user_and_unlinks_their_channels(db: Db) {
    let store = db.open().await;
    let now = ts(START);
    store.upsert(user(1, time(8, 30, 0, 0), "Europe/London", now), now).await.unwrap();
    store.upsert(channel(50, 1, now), now).await.unwrap();
    store.upsert(channel(51, 2, now), now).await.unwrap();
    let due = ts("2026-05-01T09:00:00Z");
    let claimed = store.claim_due(planner(due), 10, lease("a", due)).await.unwrap();
    assert_eq!(claimed.len(), 3);
    let forgotten = store.forget_user(1).await.unwrap();
    assert_eq!((forgotten.subscriptions, forgotten.deliveries, forgotten.channels_unlinked), (1, 1, 1));
    assert_eq!(store.find(TargetKey::User(1)).await.unwrap(), None);
    assert!(store.deliveries(TargetKey::User(1), 10).await.unwrap().is_empty());
    let unlinked = store.find(TargetKey::Channel(50)).await.unwrap().unwrap();
    assert_eq!(unlinked.set_by, None, "the server's reminder stays, without the user's id");
    assert_eq!(store.find(TargetKey::Channel(51)).await.unwrap().unwrap().set_by, Some(2));
    assert_eq!(store.deliveries(TargetKey::Channel(50), 10).await.unwrap().len(), 1);
}

async fn deliveries_are_newest_first_and_pruning_keeps_claims(db: Db) {
    let store = db.open().await;
    let now = ts(START);
    store.upsert(user(1, time(7, 30, 0, 0), "Europe/London", now), now).await.unwrap();
    let mut ids = Vec::new();
    for day in 1..=4 {
        let at = ts(&format!("2026-05-0{day}T06:30:00Z"));
        let claimed = store.claim_due(planner(at), 10, lease("a", at)).await.unwrap();
        ids.push(claimed[0].delivery.id);
        if day < 4 {
            store.record_outcome(outcome(claimed[0].delivery.id, DeliveryState::Sent, at)).await.unwrap();
        }
    }
    let dates: Vec<_> = store.deliveries(TargetKey::User(1), 10).await.unwrap().iter().map(|d| d.local_date).collect();
    assert_eq!(dates, [date(2026, 5, 4), date(2026, 5, 3), date(2026, 5, 2), date(2026, 5, 1)]);
    assert_eq!(store.prune_deliveries(ts("2026-05-10T00:00:00Z")).await.unwrap(), 3, "the claim stays");
    let left = store.deliveries(TargetKey::User(1), 10).await.unwrap();
    assert_eq!((left.len(), left[0].state), (1, DeliveryState::Claimed));
}

async fn next_due_follows_due_rows_and_pauses(db: Db) {
    let store = db.open().await;
    let now = ts(START);
    assert_eq!(store.next_due_at(String::new()).await.unwrap(), None);
    let first = store.upsert(user(1, time(7, 30, 0, 0), "Europe/London", now), now).await.unwrap();
    let second = store.upsert(user(2, time(7, 0, 0, 0), "Europe/London", now), now).await.unwrap();
    assert_eq!(second.next.at, ts("2026-05-02T06:00:00Z"), "07:00 BST today has just come: tomorrow's");
    assert_eq!(store.next_due_at(String::new()).await.unwrap(), Some(ts("2026-05-01T06:30:00Z")));
    let due = ts("2026-05-01T06:30:00Z");
    let id = store.claim_due(planner(due), 10, lease("a", due)).await.unwrap()[0].delivery.id;
    store
        .record_outcome(Outcome {
            pause: Some((first.id, PauseReason::DmRefused)),
            ..outcome(id, DeliveryState::Undeliverable, due)
        })
        .await
        .unwrap();
    assert_eq!(
        store.next_due_at(String::new()).await.unwrap(),
        Some(second.next.at),
        "the paused one no longer counts"
    );
}

async fn damaged_rows_are_refused_strictly_and_repaired_by_setting_again(db: Db) {
    let store = db.open().await;
    let now = ts(START);
    store.upsert(user(1, time(7, 30, 0, 0), "Europe/London", now), now).await.unwrap();
    store.upsert(user(2, time(7, 30, 0, 0), "Europe/London", now), now).await.unwrap();
    // A time in the lenient form users may type is still not a stored value.
    db.execute("UPDATE subscriptions SET local_time = '7:30am' WHERE user_id = 1").await;
    let err = store.find(TargetKey::User(1)).await.unwrap_err();
    assert!(matches!(err, StoreError::Corrupt { column: "local_time", .. }), "{err}");
    // The damaged row is paused, the other is claimed as usual.
    let due = ts("2026-05-01T06:30:00Z");
    let claimed = store.claim_due(planner(due), 10, lease("a", due)).await.unwrap();
    assert_eq!(claimed.len(), 1);
    assert_eq!(claimed[0].subscription.target, Target::User { user_id: 2 });
    db.execute("UPDATE subscriptions SET local_time = '07:30' WHERE user_id = 1").await;
    assert_eq!(store.find(TargetKey::User(1)).await.unwrap().unwrap().paused, Some(PauseReason::Unreadable));
    db.execute("UPDATE subscriptions SET zone = 'Mars/Olympus', local_time = '7:30' WHERE user_id = 1").await;
    let repaired = store.upsert(user(1, time(8, 0, 0, 0), "Europe/London", due), due).await.unwrap();
    assert_eq!((repaired.paused, repaired.zone.as_str()), (None, "Europe/London"));
}

async fn concurrent_claims_never_take_the_same_row(db: Db) {
    let store = db.open().await;
    let now = ts(START);
    for user_id in 1..=300 {
        store.upsert(user(user_id, time(7, 30, 0, 0), "Europe/London", now), now).await.unwrap();
    }
    let due = ts("2026-05-01T06:30:00Z");
    let mut tasks = Vec::new();
    for holder in 0..4 {
        let store_n = Arc::new(db.open().await);
        tasks.push(tokio::spawn(async move {
            let mut mine = Vec::new();
            loop {
                // Leases outlast the test, so finished claims do not count as work due.
                let until = ts("2026-05-01T07:30:00Z");
                let claimed = store_n.claim_due(planner(due), 16, lease(&format!("s{holder}"), until)).await.unwrap();
                if claimed.is_empty() && store_n.next_due_at(String::new()).await.unwrap().is_none_or(|at| at > due) {
                    return mine;
                }
                mine.extend(claimed.into_iter().map(|claim| claim.delivery.id));
                tokio::task::yield_now().await;
            }
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    assert_eq!(all.len(), 300, "every due row claimed");
    assert_eq!(all.iter().collect::<HashSet<_>>().len(), 300, "none twice");
}

async fn reopening_migrates_once_and_keeps_everything(db: Db) {
    let now = ts(START);
    let id = {
        let store = db.open().await;
        store.upsert(user(1, time(7, 30, 0, 0), "Europe/London", now), now).await.unwrap().id
    };
    let (a, b) = tokio::join!(db.open(), db.open());
    for store in [a, b] {
        let found = store.find(TargetKey::User(1)).await.unwrap().unwrap();
        assert_eq!((found.id, found.zone.as_str()), (id, "Europe/London"));
    }
    match &db {
        Db::Sqlite { path, .. } => {
            let store = SqliteStore::open(path).unwrap();
            assert_eq!(store.schema_version().unwrap(), SqliteStore::latest_schema_version());
        }
        Db::Postgres(schema) => {
            let store = PgStore::connect(&schema.url, 1).await.unwrap();
            assert_eq!(store.schema_version().await.unwrap(), PgStore::latest_schema_version());
        }
    }
}

#[tokio::test]
async fn a_second_scheduler_on_one_sqlite_file_is_refused_clearly() {
    let db = Db::sqlite();
    let first = db.open().await;
    let second = db.open().await;
    first.start_scheduler().await.unwrap();
    let err = second.start_scheduler().await.unwrap_err();
    assert!(matches!(err, StoreError::SchedulerBusy { .. }), "{err}");
    let message = err.to_string();
    assert!(message.contains("one scheduler") && message.contains("PostgreSQL"), "{message}");
    drop(first);
    second.start_scheduler().await.expect("free once the first is gone");
}

#[tokio::test]
async fn a_version_1_sqlite_file_is_migrated_with_its_deliveries() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.sqlite3");
    {
        let raw = rusqlite::Connection::open(&path).unwrap();
        raw.execute_batch(include_str!("../../src/store/migrations/sqlite/0001_init.sql")).unwrap();
        raw.execute_batch(
            "PRAGMA user_version = 1;
             INSERT INTO subscriptions (id, kind, user_id, local_time, zone, next_fire, next_local_date, created_at, updated_at)
               VALUES (7, 'user', 42, '07:30', 'Europe/London', 1777703400, '2026-05-02', 0, 0);
             INSERT INTO deliveries (subscription_id, local_date, state, fire_at, nonce, claimed_at, attempts)
               VALUES (7, '2026-05-01', 'resending', 1777617000, 'cbdold', 1777617000, 2);",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SqliteStore::latest_schema_version());
    let found = store.find(TargetKey::User(42)).await.unwrap().unwrap();
    assert_eq!((found.id, found.set_by), (7, Some(42)));
    let records = store.deliveries(TargetKey::User(42), 10).await.unwrap();
    assert_eq!(records.len(), 1);
    assert_eq!(
        (records[0].state, records[0].attempts, records[0].nonce.as_deref()),
        (DeliveryState::Claimed, 2, Some("cbdold"))
    );
    // Left claimed by the old build: the next scheduler takes it over.
    let taken =
        store.take_over(ts("2026-05-01T06:31:00Z"), 10, lease("new", ts("2026-05-01T06:32:00Z"))).await.unwrap();
    assert_eq!(taken.len(), 1);
}

async fn help_channels_are_added_once_per_server_up_to_the_limit_and_removed(db: Db) {
    let store = db.open().await;
    let now = ts(START);
    let version = store.help_channels_version().await.unwrap();
    assert_eq!(store.add_help_channel(1, 10, 2, now).await.unwrap(), HelpChannelChange::Added);
    assert_eq!(store.add_help_channel(1, 10, 2, now).await.unwrap(), HelpChannelChange::AlreadyAdded);
    assert_eq!(store.add_help_channel(1, 11, 2, now).await.unwrap(), HelpChannelChange::Added);
    assert_eq!(store.add_help_channel(1, 12, 2, now).await.unwrap(), HelpChannelChange::Full);
    assert_eq!(store.add_help_channel(2, 20, 2, now).await.unwrap(), HelpChannelChange::Added);
    assert_eq!(store.help_channels_version().await.unwrap(), version + 3, "one step per change, none otherwise");
    assert_eq!(store.help_channels(1).await.unwrap(), vec![10, 11]);
    let all = store.all_help_channels().await.unwrap();
    assert_eq!((all.version, all.channels), (version + 3, vec![10, 11, 20]));
    assert_eq!(store.remove_help_channel(2, 10).await.unwrap(), HelpChannelChange::NotThere, "another server's");
    assert_eq!(store.help_channels_version().await.unwrap(), version + 3);
    assert_eq!(store.remove_help_channel(1, 10).await.unwrap(), HelpChannelChange::Removed);
    assert_eq!(store.help_channels(1).await.unwrap(), vec![11]);
    assert_eq!(store.help_channels_version().await.unwrap(), version + 4);
    // A channel id moved to another server (a stale row) is taken over by that server.
    assert_eq!(store.add_help_channel(3, 11, 2, now).await.unwrap(), HelpChannelChange::Added);
    assert_eq!((store.help_channels(1).await.unwrap(), store.help_channels(3).await.unwrap()), (vec![], vec![11]));
    let err = store.add_help_channel(u64::MAX, 1, 2, now).await.unwrap_err();
    assert!(matches!(err, StoreError::IdOutOfRange(u64::MAX)), "{err}");
}

/// Two processes on one database, each with its copy in memory: a change shows at once in the
/// process that made it, and in the other after its next refresh (which reloads only when the
/// set changed).
async fn help_channels_in_memory_follow_this_process_at_once_and_others_on_refresh(db: Db) {
    let now = ts(START);
    let (a, b) = (Arc::new(db.open().await), Arc::new(db.open().await));
    a.add_help_channel(1, 10, MAX_PER_SERVER, now).await.unwrap();
    let here = HelpChannels::load(Arc::clone(&a)).await.unwrap();
    let there = HelpChannels::load(Arc::clone(&b)).await.unwrap();
    assert!(here.contains(10) && there.contains(10) && !here.contains(11));
    assert!(!there.refresh().await.unwrap(), "nothing changed: no reload");

    assert_eq!(here.add(1, 11, now).await.unwrap(), HelpChannelChange::Added);
    assert!(here.contains(11), "at once where it was made");
    assert!(!there.contains(11), "the other process has not looked yet");
    assert!(there.refresh().await.unwrap());
    assert!(there.contains(11), "seen after the refresh");

    assert_eq!(there.remove(1, 10).await.unwrap(), HelpChannelChange::Removed);
    assert!(!there.contains(10));
    assert!(here.refresh().await.unwrap());
    assert!(!here.contains(10) && here.contains(11), "removals travel too");
    assert_eq!((here.len(), there.len()), (1, 1));
    // A process's own change leaves its version behind, so its next refresh reloads once
    // (picking up anything another process did meanwhile); after that, nothing to do.
    assert!(there.refresh().await.unwrap());
    assert!(!here.refresh().await.unwrap() && !there.refresh().await.unwrap(), "both current");

    // A change that changes nothing moves nothing.
    assert_eq!(there.add(1, 11, now).await.unwrap(), HelpChannelChange::AlreadyAdded);
    assert!(!here.refresh().await.unwrap());
    for channel in 100..100 + MAX_PER_SERVER as u64 {
        let _ = here.add(1, channel, now).await.unwrap();
    }
    assert_eq!(there.add(1, 999, now).await.unwrap(), HelpChannelChange::Full);
    assert!(!there.contains(999));
    assert_eq!(HelpChannels::load(b).await.unwrap().list(1).await.unwrap().len(), MAX_PER_SERVER, "kept in the store");
}

/// Adds from several processes at once never take a server past its limit.
async fn concurrent_help_channel_adds_never_pass_the_limit(db: Db) {
    let now = ts(START);
    let stores = [Arc::new(db.open().await), Arc::new(db.open().await)];
    let mut tasks = Vec::new();
    for channel in 0..12_u64 {
        let store = Arc::clone(&stores[usize::try_from(channel % 2).unwrap()]);
        tasks.push(tokio::spawn(async move { store.add_help_channel(1, 100 + channel, 5, now).await.unwrap() }));
    }
    let mut added = 0;
    for task in tasks {
        added += usize::from(task.await.unwrap() == HelpChannelChange::Added);
    }
    assert_eq!(added, 5);
    assert_eq!(stores[0].help_channels(1).await.unwrap().len(), 5);
    assert_eq!(stores[1].all_help_channels().await.unwrap().channels.len(), 5);
}

/// The released schema version 2 (help channels) moves to the latest with its help channels.
#[tokio::test]
async fn a_version_2_sqlite_file_keeps_its_help_channels() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v2.sqlite3");
    {
        let raw = rusqlite::Connection::open(&path).unwrap();
        raw.execute_batch(include_str!("../../src/store/migrations/sqlite/0001_init.sql")).unwrap();
        raw.execute_batch(include_str!("../../src/store/migrations/sqlite/0002_help_channels.sql")).unwrap();
        raw.execute_batch(
            "PRAGMA user_version = 2;
             INSERT INTO help_channels (channel_id, guild_id, added_at) VALUES (10, 1, 0), (11, 1, 5);
             INSERT INTO subscriptions (id, kind, user_id, local_time, zone, next_fire, next_local_date, created_at, updated_at)
               VALUES (7, 'user', 42, '07:30', 'Europe/London', 1777703400, '2026-05-02', 0, 0);",
        )
        .unwrap();
    }
    let store = SqliteStore::open(&path).unwrap();
    assert_eq!(store.schema_version().unwrap(), SqliteStore::latest_schema_version());
    assert_eq!(store.help_channels(1).await.unwrap(), vec![10, 11]);
    assert_eq!(store.find(TargetKey::User(42)).await.unwrap().unwrap().set_by, Some(42));
    assert_eq!(store.add_help_channel(1, 12, MAX_PER_SERVER, ts(START)).await.unwrap(), HelpChannelChange::Added);
}

/// A development build numbered the reminders' rebuild as version 2: such a file (no help
/// channels table) is refused, not migrated into a wrong layout.
#[tokio::test]
async fn a_development_version_2_sqlite_file_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dev.sqlite3");
    {
        let raw = rusqlite::Connection::open(&path).unwrap();
        raw.execute_batch(include_str!("../../src/store/migrations/sqlite/0001_init.sql")).unwrap();
        raw.execute_batch(include_str!("../../src/store/migrations/sqlite/0003_port.sql")).unwrap();
        raw.execute_batch("PRAGMA user_version = 2;").unwrap();
    }
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::Migration { version: 3, .. }), "{err}");
    assert!(err.to_string().contains("development build"), "{err}");
}
