//! Reminders end to end at our own boundary: schedule maths over real DST transitions, the
//! `SQLite` store on disk, and the scheduler driven by a manual clock on tokio's paused time,
//! with a recording fake sender in place of Discord.

use std::collections::{HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crampbot::clock::{Clock, ManualClock};
use crampbot::knowledge::{Catalogue, Source, Tip};
use crampbot::reminders::schedule::{
    Occurrence, fire_on, local_date_of, next_fire, next_occurrence, occurrence_after, parse_zone,
};
use crampbot::reminders::scheduler::{RedeliveryPolicy, daily_nonce, snooze_nonce};
use crampbot::reminders::store::{
    DeliveryState, GiveUp, NewSubscription, PauseReason, ReminderStore, StoreError, Target, TargetKey,
};
use crampbot::reminders::text::RichText;
use crampbot::reminders::{
    ChannelSpec, Deliver, DeliveryError, Outgoing, Reminders, Scheduler, SchedulerOptions, Snooze, Wakeup,
};
use crampbot::store::SqliteStore;
use jiff::civil::{Date, Time, date, time};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

// ---------------------------------------------------------------------------------------------
// Helpers

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

fn zone(name: &str) -> TimeZone {
    jiff::tz::db().get(name).unwrap()
}

const DAY: Duration = Duration::from_secs(24 * 60 * 60);
const HOUR: Duration = Duration::from_secs(60 * 60);
const MINUTE: Duration = Duration::from_secs(60);

/// The shipped hydration tips if the catalogue loads, otherwise two made here.
fn tips() -> Vec<Tip> {
    let shipped = Catalogue::embedded().map(|catalogue| catalogue.hydration_tips).unwrap_or_default();
    if !shipped.is_empty() {
        return shipped;
    }
    let source = Source {
        id: "nhs_water".into(),
        publisher: "NHS".into(),
        title: "Water, drinks and your health".into(),
        url: "https://www.nhs.uk/live-well/eat-well/food-guidelines-and-food-labels/water-drinks-nutrition/".into(),
    };
    vec![
        Tip { text: "Aim for 6 to 8 glasses of fluid a day.".into(), source: source.clone(), tags: Vec::new() },
        Tip { text: "Drink more when it is hot or you are active.".into(), source, tags: Vec::new() },
    ]
}

/// What the fake sender does with the next send.
#[derive(Debug, Clone)]
enum Script {
    Reply(Result<(), DeliveryError>),
    /// Never answer: the process "crashes" before the outcome is recorded.
    Hang,
}

/// A fake Discord: records every hand-over with the clock reading, answers from a script, then
/// succeeds.
struct FakeSender {
    clock: ManualClock,
    sent: Mutex<Vec<(Timestamp, Outgoing)>>,
    script: Mutex<VecDeque<Script>>,
    then: Script,
}

impl FakeSender {
    fn new(clock: &ManualClock) -> Arc<FakeSender> {
        FakeSender::scripted(clock, [], Script::Reply(Ok(())))
    }

    fn scripted(clock: &ManualClock, script: impl IntoIterator<Item = Script>, then: Script) -> Arc<FakeSender> {
        Arc::new(FakeSender {
            clock: clock.clone(),
            sent: Mutex::new(Vec::new()),
            script: Mutex::new(script.into_iter().collect()),
            then,
        })
    }

    fn sent(&self) -> Vec<(Timestamp, Outgoing)> {
        self.sent.lock().unwrap().clone()
    }
}

impl Deliver for FakeSender {
    async fn deliver(&self, reminder: Outgoing) -> Result<(), DeliveryError> {
        assert!(reminder.nonce.len() <= 25, "nonce too long: {}", reminder.nonce);
        self.sent.lock().unwrap().push((self.clock.now(), reminder));
        let next = self.script.lock().unwrap().pop_front().unwrap_or_else(|| self.then.clone());
        match next {
            Script::Reply(result) => result,
            Script::Hang => std::future::pending().await,
        }
    }
}

fn test_options() -> SchedulerOptions {
    SchedulerOptions {
        max_sleep: 6 * HOUR,
        drain: Duration::ZERO,
        redelivery: RedeliveryPolicy { initial: Duration::from_secs(5), max_delay: MINUTE, max_attempts: 4 },
        ..SchedulerOptions::default()
    }
}

struct Running {
    stop: oneshot::Sender<()>,
    handle: JoinHandle<Result<(), StoreError>>,
}

impl Running {
    async fn stop(self) {
        self.stop.send(()).unwrap();
        self.handle.await.unwrap().unwrap();
    }
}

fn launch(store: &Arc<SqliteStore>, sender: &Arc<FakeSender>, clock: &ManualClock, wakeup: &Wakeup) -> Running {
    let scheduler = Scheduler::new(
        Arc::clone(store),
        Arc::clone(sender),
        Arc::new(clock.clone()),
        tips(),
        test_options(),
        wakeup.clone(),
    );
    let (stop, stopped) = oneshot::channel();
    let handle = tokio::spawn(scheduler.run(async move {
        let _ = stopped.await;
    }));
    Running { stop, handle }
}

/// A reply as Discord shows it.
#[allow(clippy::needless_pass_by_value, reason = "called on the value a command returns")]
fn text(reply: RichText) -> String {
    crampbot::discord::render::rich_text(&reply)
}

/// Lets simulated time pass until the clock reads `at`.
async fn until(clock: &ManualClock, at: Timestamp) {
    let wait = Duration::try_from(at.duration_since(clock.now())).unwrap();
    tokio::time::sleep(wait).await;
}

async fn london_user(store: &SqliteStore, user_id: u64, local_time: Time, now: Timestamp) -> TargetKey {
    let london = zone("Europe/London");
    let next = next_occurrence(now, local_time, &london);
    let new = NewSubscription {
        target: Target::User { user_id },
        local_time,
        zone: "Europe/London".into(),
        silent: false,
        next,
        set_by: Some(user_id),
    };
    store.upsert(new, now).await.unwrap().target.key()
}

// ---------------------------------------------------------------------------------------------
// Schedule maths over DST transitions

#[test]
fn london_spring_forward_gap_fires_at_the_transition() {
    let london = zone("Europe/London");
    // 2026-03-29: 01:00 GMT jumps to 02:00 BST; 01:30 does not exist.
    let at = time(1, 30, 0, 0);
    assert_eq!(fire_on(date(2026, 3, 28), at, &london), ts("2026-03-28T01:30:00Z"));
    assert_eq!(fire_on(date(2026, 3, 29), at, &london), ts("2026-03-29T01:00:00Z"));
    assert_eq!(fire_on(date(2026, 3, 30), at, &london), ts("2026-03-30T00:30:00Z"));
    // An ordinary morning time just moves an hour in UTC.
    assert_eq!(next_fire(ts("2026-03-28T12:00:00Z"), time(7, 30, 0, 0), &london), ts("2026-03-29T06:30:00Z"));
}

#[test]
fn london_fall_back_overlap_fires_once_at_the_earlier_instant() {
    let london = zone("Europe/London");
    // 2026-10-25: 02:00 BST falls back to 01:00 GMT; 01:30 happens at 00:30Z and 01:30Z.
    let at = time(1, 30, 0, 0);
    let first = next_occurrence(ts("2026-10-24T12:00:00Z"), at, &london);
    assert_eq!(first, Occurrence { local_date: date(2026, 10, 25), at: ts("2026-10-25T00:30:00Z") });
    // Just after the first 01:30 the next one is the next day, not the repeated 01:30.
    let second = next_occurrence(ts("2026-10-25T00:31:00Z"), at, &london);
    assert_eq!(second, Occurrence { local_date: date(2026, 10, 26), at: ts("2026-10-26T01:30:00Z") });
}

#[test]
fn new_york_gap_and_overlap() {
    let new_york = zone("America/New_York");
    // 2026-03-08: 02:00 EST jumps to 03:00 EDT at 07:00Z.
    assert_eq!(fire_on(date(2026, 3, 8), time(2, 30, 0, 0), &new_york), ts("2026-03-08T07:00:00Z"));
    assert_eq!(fire_on(date(2026, 3, 8), time(3, 0, 0, 0), &new_york), ts("2026-03-08T07:00:00Z"));
    assert_eq!(fire_on(date(2026, 3, 9), time(2, 30, 0, 0), &new_york), ts("2026-03-09T06:30:00Z"));
    // 2026-11-01: 02:00 EDT falls back to 01:00 EST; 01:30 is 05:30Z (EDT) and 06:30Z (EST).
    assert_eq!(fire_on(date(2026, 11, 1), time(1, 30, 0, 0), &new_york), ts("2026-11-01T05:30:00Z"));
    let after_first = next_occurrence(ts("2026-11-01T05:30:00Z"), time(1, 30, 0, 0), &new_york);
    assert_eq!(after_first.local_date, date(2026, 11, 2));
}

#[test]
fn lord_howe_half_hour_shift() {
    let lord_howe = zone("Australia/Lord_Howe");
    // 2026-10-04: 02:00 (+10:30) jumps to 02:30 (+11) at 15:30Z the day before.
    assert_eq!(fire_on(date(2026, 10, 4), time(2, 15, 0, 0), &lord_howe), ts("2026-10-03T15:30:00Z"));
    assert_eq!(fire_on(date(2026, 10, 4), time(2, 30, 0, 0), &lord_howe), ts("2026-10-03T15:30:00Z"));
    assert_eq!(fire_on(date(2026, 10, 4), time(7, 0, 0, 0), &lord_howe), ts("2026-10-03T20:00:00Z"));
    // 2026-04-05: 02:00 (+11) falls back to 01:30 (+10:30); 01:45 is 14:45Z or 15:15Z.
    assert_eq!(fire_on(date(2026, 4, 5), time(1, 45, 0, 0), &lord_howe), ts("2026-04-04T14:45:00Z"));
    let after_first = next_occurrence(ts("2026-04-04T14:45:00Z"), time(1, 45, 0, 0), &lord_howe);
    assert_eq!(after_first, Occurrence { local_date: date(2026, 4, 6), at: ts("2026-04-05T15:15:00Z") });
}

#[test]
fn tokyo_has_no_dst_and_fires_every_24_hours() {
    let tokyo = zone("Asia/Tokyo");
    let seven = time(7, 0, 0, 0);
    let mut occurrence = next_occurrence(ts("2026-01-01T00:00:00Z"), seven, &tokyo);
    assert_eq!(occurrence.at, ts("2026-01-01T22:00:00Z"));
    for _ in 0..400 {
        let next = occurrence_after(occurrence.local_date, occurrence.at, seven, &tokyo);
        assert_eq!(next.at.duration_since(occurrence.at), SignedDuration::from_hours(24));
        assert_eq!(next.local_date, occurrence.local_date.tomorrow().unwrap());
        occurrence = next;
    }
}

#[test]
fn a_year_of_occurrences_is_one_per_local_day_in_every_zone() {
    let zones = ["Europe/London", "America/New_York", "Australia/Lord_Howe", "Asia/Tokyo", "America/Santiago"];
    let times = [time(0, 0, 0, 0), time(0, 30, 0, 0), time(1, 30, 0, 0), time(2, 15, 0, 0), time(7, 30, 0, 0)];
    for name in zones {
        let tz = zone(name);
        for local_time in times {
            let mut occurrence = next_occurrence(ts("2026-01-01T00:00:00Z"), local_time, &tz);
            for _ in 0..366 {
                let next = occurrence_after(occurrence.local_date, occurrence.at, local_time, &tz);
                assert_eq!(next.local_date, occurrence.local_date.tomorrow().unwrap(), "{name} {local_time}");
                assert!(next.at > occurrence.at, "{name} {local_time}");
                let gap = next.at.duration_since(occurrence.at);
                assert!(gap <= SignedDuration::from_hours(25) && gap >= SignedDuration::from_hours(23), "{name}");
                occurrence = next;
            }
        }
    }
}

proptest::proptest! {
    #[test]
    fn next_fire_is_ahead_within_a_day_and_at_the_local_time(
        seconds in 946_684_800_i64..2_208_988_800,
        minute_of_day in 0_i16..1440,
        zone_index in 0_usize..5,
    ) {
        let name = ["Europe/London", "America/New_York", "Australia/Lord_Howe", "Asia/Tokyo", "Pacific/Chatham"][zone_index];
        let tz = zone(name);
        let now = Timestamp::from_second(seconds).unwrap();
        let local_time = Time::new(i8::try_from(minute_of_day / 60).unwrap(), i8::try_from(minute_of_day % 60).unwrap(), 0, 0).unwrap();
        let occurrence = next_occurrence(now, local_time, &tz);
        proptest::prop_assert!(occurrence.at > now);
        proptest::prop_assert!(occurrence.at.duration_since(now) <= SignedDuration::from_hours(25));
        let local = tz.to_datetime(occurrence.at);
        // Either exactly the local time, or (in a gap) the first instant after it.
        proptest::prop_assert!(local.time() == local_time || local.time() > local_time || local.date() > occurrence.local_date);
        proptest::prop_assert_eq!(fire_on(occurrence.local_date, local_time, &tz), occurrence.at);
    }
}

#[test]
fn zone_parsing_and_autocomplete() {
    assert_eq!(parse_zone("Australia/Lord_Howe").unwrap().name, "Australia/Lord_Howe");
    let err = parse_zone("Mars/Olympus_Mons").unwrap_err().to_string();
    assert!(err.contains("\"Mars/Olympus_Mons\""), "{err}");
    assert_eq!(Reminders::<SqliteStore>::zone_choices("london")[0], "Europe/London");
    assert_eq!(Reminders::<SqliteStore>::zone_choices("new yrok")[0], "America/New_York");
    assert_eq!(Reminders::<SqliteStore>::zone_choices("Europe/Berln")[0], "Europe/Berlin");
    let all = Reminders::<SqliteStore>::zone_choices("a");
    assert!(all.len() <= 25 && all.iter().all(|name| name.len() <= 100));
}

// ---------------------------------------------------------------------------------------------
// Store

#[tokio::test]
async fn migrations_are_idempotent_and_a_reopened_file_keeps_subscriptions() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reminders.sqlite3");
    let now = ts("2026-05-01T12:00:00Z");
    let id = {
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SqliteStore::latest_schema_version());
        london_user(&store, 42, time(7, 30, 0, 0), now).await;
        store.find(TargetKey::User(42)).await.unwrap().unwrap().id
    };
    for _ in 0..2 {
        let store = SqliteStore::open(&path).unwrap();
        assert_eq!(store.schema_version().unwrap(), SqliteStore::latest_schema_version());
        let found = store.find(TargetKey::User(42)).await.unwrap().unwrap();
        assert_eq!(found.id, id);
        assert_eq!(found.local_time, time(7, 30, 0, 0));
        assert_eq!(found.zone, "Europe/London");
        assert_eq!(found.next, Occurrence { local_date: date(2026, 5, 2), at: ts("2026-05-02T06:30:00Z") });
    }
    let raw = rusqlite::Connection::open(&path).unwrap();
    let mode: String = raw.query_row("PRAGMA journal_mode", [], |row| row.get(0)).unwrap();
    assert_eq!(mode, "wal");
}

#[test]
fn a_database_from_a_newer_build_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("reminders.sqlite3");
    drop(SqliteStore::open(&path).unwrap());
    rusqlite::Connection::open(&path).unwrap().pragma_update(None, "user_version", 99).unwrap();
    let err = SqliteStore::open(&path).unwrap_err();
    assert!(matches!(err, StoreError::TooNew { found: 99, .. }), "{err}");
}

#[tokio::test(start_paused = true)]
async fn forget_deletes_everything_about_the_user() {
    let start = ts("2026-05-01T06:00:00Z");
    let clock = ManualClock::new(start);
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let wakeup = Wakeup::new();
    let reminders = Reminders::new(Arc::clone(&store), wakeup.clone());
    text(reminders.set_user(7, "07:30", "Europe/London", false, clock.now()).await.unwrap());
    let channel = ChannelSpec {
        guild_id: 1,
        channel_id: 2,
        role_id: None,
        time: "09:00",
        zone: "Europe/London",
        silent: false,
        set_by: 7,
    };
    text(reminders.set_channel(channel, clock.now()).await.unwrap());
    let sender = FakeSender::scripted(&clock, [Script::Reply(Err(DeliveryError::DmRefused))], Script::Reply(Ok(())));
    let running = launch(&store, &sender, &clock, &wakeup);
    until(&clock, ts("2026-05-01T09:00:00Z")).await;
    running.stop().await;
    let me = TargetKey::User(7);
    assert_eq!(store.deliveries(me, 10).await.unwrap().len(), 1);
    assert_eq!(store.find(TargetKey::Channel(2)).await.unwrap().unwrap().set_by, Some(7), "who set it is kept");

    let reply = text(reminders.forget(7).await.unwrap());
    assert!(reply.contains("deleted"), "{reply}");
    assert!(reply.contains("1 channel reminder(s) you set keep running"), "{reply}");
    assert_eq!(store.find(me).await.unwrap(), None);
    assert!(store.deliveries(me, 10).await.unwrap().is_empty());
    assert!(reminders.pending_notices(7).await.unwrap().is_none());
    // The channel's reminder belongs to its server: it keeps running, no longer linked to the user.
    let channel = store.find(TargetKey::Channel(2)).await.unwrap().unwrap();
    assert_eq!(channel.set_by, None);
    assert_eq!(text(reminders.forget(7).await.unwrap()), "I had nothing stored about you.");
}

// ---------------------------------------------------------------------------------------------
// Scheduler

#[tokio::test(start_paused = true)]
async fn one_delivery_a_day_for_400_days() {
    let start = ts("2026-01-01T00:00:00Z");
    let clock = ManualClock::new(start);
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let id = london_user(&store, 1, time(7, 30, 0, 0), start).await;
    let sender = FakeSender::new(&clock);
    let running = launch(&store, &sender, &clock, &Wakeup::new());
    tokio::time::sleep(400 * DAY).await;
    running.stop().await;

    let sent = sender.sent();
    assert_eq!(sent.len(), 400);
    let london = zone("Europe/London");
    let mut dates = HashSet::new();
    for (at, outgoing) in &sent {
        let local = london.to_datetime(*at);
        assert_eq!(local.time(), time(7, 30, 0, 0), "sent at {at}");
        assert!(dates.insert(local.date()), "two on {}", local.date());
        assert_eq!(outgoing.nonce, daily_nonce(id, local.date()));
        assert!(!outgoing.late);
        assert!(outgoing.text.words().contains("/remind off"));
        assert_eq!(outgoing.target, Target::User { user_id: 1 });
    }
    assert_eq!(sent.iter().map(|(_, outgoing)| &outgoing.nonce).collect::<HashSet<_>>().len(), 400);
    let recent = store.deliveries(id, 1000).await.unwrap();
    assert!(!recent.is_empty() && recent.len() <= 9, "old records are pruned: {}", recent.len());
    assert!(recent.iter().all(|delivery| delivery.state == DeliveryState::Sent && delivery.attempts == 1));
}

#[tokio::test(start_paused = true)]
async fn a_crash_between_send_and_record_resends_once_with_the_same_nonce() {
    let start = ts("2026-05-01T06:00:00Z");
    let clock = ManualClock::new(start);
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let id = london_user(&store, 1, time(7, 30, 0, 0), start).await;
    let wakeup = Wakeup::new();

    // First run: the send never completes, then the process stops.
    let hanging = FakeSender::scripted(&clock, [], Script::Hang);
    let running = launch(&store, &hanging, &clock, &wakeup);
    until(&clock, ts("2026-05-01T06:30:20Z")).await;
    running.stop().await;
    let nonce = daily_nonce(id, date(2026, 5, 1));
    assert_eq!(hanging.sent().len(), 1);
    assert_eq!(hanging.sent()[0].1.nonce, nonce);
    assert_eq!(store.deliveries(id, 1).await.unwrap()[0].state, DeliveryState::Claimed);

    // Second run, half a minute later, inside Discord's nonce window: sent once more, same
    // nonce, recorded.
    tokio::time::sleep(30 * Duration::from_secs(1)).await;
    let sender = FakeSender::new(&clock);
    let running = launch(&store, &sender, &clock, &wakeup);
    until(&clock, ts("2026-05-01T12:00:00Z")).await;
    running.stop().await;
    let sent = sender.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, ts("2026-05-01T06:30:50Z"), "at the restart");
    assert_eq!(sent[0].1.nonce, nonce);
    let record = &store.deliveries(id, 1).await.unwrap()[0];
    assert_eq!((record.state, record.attempts, record.local_date), (DeliveryState::Sent, 2, date(2026, 5, 1)));

    // The next day is normal.
    let running = launch(&store, &sender, &clock, &wakeup);
    until(&clock, ts("2026-05-02T12:00:00Z")).await;
    running.stop().await;
    assert_eq!(sender.sent().len(), 2);
    assert_eq!(sender.sent()[1].1.nonce, daily_nonce(id, date(2026, 5, 2)));
}

/// Crash after crash (every 40 s): each restart inside the nonce window resends with the same
/// nonce, whatever the count; once the window has closed the reminder is given up, with the
/// reason recorded and shown by `/remind show`, never sent again.
#[tokio::test(start_paused = true)]
async fn restarts_inside_the_nonce_window_keep_resending_and_after_it_the_give_up_is_shown() {
    let start = ts("2026-05-01T06:00:00Z");
    let clock = ManualClock::new(start);
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let id = london_user(&store, 1, time(7, 30, 0, 0), start).await;
    let wakeup = Wakeup::new();
    until(&clock, ts("2026-05-01T06:29:50Z")).await;
    let hanging = FakeSender::scripted(&clock, [], Script::Hang);
    for _ in 0..5 {
        let running = launch(&store, &hanging, &clock, &wakeup);
        tokio::time::sleep(40 * Duration::from_secs(1)).await;
        running.stop().await;
    }
    // Claimed at 06:30:00; restarts at 06:30:30, 06:31:10, 06:31:50 resend; 06:32:30 does not.
    let times: Vec<Timestamp> = hanging.sent().iter().map(|(at, _)| *at).collect();
    assert_eq!(
        times,
        [
            ts("2026-05-01T06:30:00Z"),
            ts("2026-05-01T06:30:30Z"),
            ts("2026-05-01T06:31:10Z"),
            ts("2026-05-01T06:31:50Z")
        ]
    );
    assert!(hanging.sent().iter().all(|(_, outgoing)| outgoing.nonce == daily_nonce(id, date(2026, 5, 1))));
    let record = &store.deliveries(id, 1).await.unwrap()[0];
    assert_eq!((record.state, record.reason), (DeliveryState::Unknown, Some(GiveUp::NonceWindowPassed)));
    let reminders = Reminders::new(Arc::clone(&store), wakeup.clone());
    let show = text(reminders.show_user(1).await.unwrap());
    assert!(show.contains("The reminder for 2026-05-01 may not have arrived"), "{show}");
    let sender = FakeSender::new(&clock);
    let running = launch(&store, &sender, &clock, &wakeup);
    until(&clock, ts("2026-05-01T12:00:00Z")).await;
    running.stop().await;
    assert!(sender.sent().is_empty(), "never sent after the window");
}

#[tokio::test(start_paused = true)]
async fn after_a_one_hour_outage_the_reminder_is_sent_once_late() {
    let start = ts("2026-05-01T06:00:00Z");
    let clock = ManualClock::new(start);
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let id = london_user(&store, 1, time(7, 30, 0, 0), start).await;
    let wakeup = Wakeup::new();
    let sender = FakeSender::new(&clock);
    let running = launch(&store, &sender, &clock, &wakeup);
    until(&clock, ts("2026-05-02T06:00:00Z")).await; // 07:00 BST, before the second reminder
    running.stop().await;
    tokio::time::sleep(90 * MINUTE).await; // down until 08:30 BST: missed by 1 h
    let running = launch(&store, &sender, &clock, &wakeup);
    until(&clock, ts("2026-05-03T12:00:00Z")).await;
    running.stop().await;

    let sent = sender.sent();
    let summary: Vec<(Timestamp, bool)> = sent.iter().map(|(at, outgoing)| (*at, outgoing.late)).collect();
    assert_eq!(
        summary,
        [(ts("2026-05-01T06:30:00Z"), false), (ts("2026-05-02T07:30:00Z"), true), (ts("2026-05-03T06:30:00Z"), false),]
    );
    assert!(sent[1].1.text.words().contains("late"));
    assert_eq!(sent[1].1.nonce, daily_nonce(id, date(2026, 5, 2)));
}

#[tokio::test(start_paused = true)]
async fn after_a_three_hour_outage_the_reminder_is_skipped_and_the_next_day_is_normal() {
    let start = ts("2026-05-01T06:00:00Z");
    let clock = ManualClock::new(start);
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let id = london_user(&store, 1, time(7, 30, 0, 0), start).await;
    let wakeup = Wakeup::new();
    let sender = FakeSender::new(&clock);
    let running = launch(&store, &sender, &clock, &wakeup);
    until(&clock, ts("2026-05-02T06:00:00Z")).await;
    running.stop().await;
    tokio::time::sleep(210 * MINUTE).await; // down until 10:30 BST: missed by 3 h
    let running = launch(&store, &sender, &clock, &wakeup);
    until(&clock, ts("2026-05-03T12:00:00Z")).await;
    running.stop().await;

    let times: Vec<Timestamp> = sender.sent().iter().map(|(at, _)| *at).collect();
    assert_eq!(times, [ts("2026-05-01T06:30:00Z"), ts("2026-05-03T06:30:00Z")]);
    assert!(sender.sent().iter().all(|(_, outgoing)| !outgoing.late));
    let states: Vec<(Date, DeliveryState)> =
        store.deliveries(id, 10).await.unwrap().iter().map(|delivery| (delivery.local_date, delivery.state)).collect();
    assert_eq!(
        states,
        [
            (date(2026, 5, 3), DeliveryState::Sent),
            (date(2026, 5, 2), DeliveryState::Skipped),
            (date(2026, 5, 1), DeliveryState::Sent),
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn after_days_of_outage_only_the_latest_day_within_grace_is_sent() {
    let start = ts("2026-05-01T06:00:00Z");
    let clock = ManualClock::new(start);
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    london_user(&store, 1, time(7, 30, 0, 0), start).await;
    let sender = FakeSender::new(&clock);
    tokio::time::sleep(3 * DAY + 2 * HOUR).await; // 2026-05-04 09:00 BST; never started before
    let running = launch(&store, &sender, &clock, &Wakeup::new());
    until(&clock, ts("2026-05-04T12:00:00Z")).await;
    running.stop().await;
    let sent = sender.sent();
    assert_eq!(sent.len(), 1, "no backlog burst");
    assert_eq!(sent[0].0, ts("2026-05-04T08:00:00Z"));
    assert!(sent[0].1.late);
}

#[tokio::test(start_paused = true)]
async fn a_new_subscription_wakes_the_scheduler() {
    let start = ts("2026-05-01T06:00:00Z");
    let clock = ManualClock::new(start);
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let wakeup = Wakeup::new();
    let reminders = Reminders::new(Arc::clone(&store), wakeup.clone());
    let sender = FakeSender::new(&clock);
    let running = launch(&store, &sender, &clock, &wakeup); // nothing due: sleeps max_sleep (6 h)
    tokio::time::sleep(MINUTE).await;
    let reply = text(reminders.set_user(5, "07:05", "Europe/London", true, clock.now()).await.unwrap());
    let fire = ts("2026-05-01T06:05:00Z");
    assert!(reply.contains(&format!("<t:{}:F>", fire.as_second())), "{reply}");
    assert!(reply.contains(&format!("<t:{}:R>", fire.as_second())), "{reply}");
    until(&clock, ts("2026-05-01T07:00:00Z")).await;
    running.stop().await;
    let sent = sender.sent();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].0, fire, "sent on time, not after the 6 h sleep");
    assert!(sent[0].1.silent);
}

#[tokio::test(start_paused = true)]
async fn a_refused_dm_pauses_the_reminder_and_tells_the_user_next_time() {
    let start = ts("2026-05-01T06:00:00Z");
    let clock = ManualClock::new(start);
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let wakeup = Wakeup::new();
    let reminders = Reminders::new(Arc::clone(&store), wakeup.clone());
    text(reminders.set_user(3, "7:30am", "europe/london", false, clock.now()).await.unwrap());
    let sender = FakeSender::scripted(&clock, [Script::Reply(Err(DeliveryError::DmRefused))], Script::Reply(Ok(())));
    let running = launch(&store, &sender, &clock, &wakeup);
    until(&clock, ts("2026-05-04T12:00:00Z")).await;
    assert_eq!(sender.sent().len(), 1, "no retries, no more days");
    let subscription = store.find(TargetKey::User(3)).await.unwrap().unwrap();
    assert_eq!(subscription.paused, Some(PauseReason::DmRefused));
    let record = &store.deliveries(TargetKey::User(3), 1).await.unwrap()[0];
    assert_eq!((record.state, record.reason), (DeliveryState::Undeliverable, Some(GiveUp::Refused)));
    let show = text(reminders.show_user(3).await.unwrap());
    assert!(show.contains("Paused") && show.contains("DM"), "{show}");
    let notices = reminders.pending_notices(3).await.unwrap().expect("a notice");
    assert_eq!(notices.notices.len(), 1);
    assert!(text(notices.text.clone()).contains("/remind set"));
    // Not yet shown (the message failed, say): it stays for next time.
    assert!(reminders.pending_notices(3).await.unwrap().is_some(), "kept until shown");
    reminders.notices_shown(notices).await.unwrap();
    assert!(reminders.pending_notices(3).await.unwrap().is_none(), "told once");

    // Setting it again resumes it.
    text(reminders.set_user(3, "07:30", "Europe/London", false, clock.now()).await.unwrap());
    until(&clock, ts("2026-05-05T12:00:00Z")).await;
    running.stop().await;
    assert_eq!(sender.sent().len(), 2);
}

#[tokio::test(start_paused = true)]
async fn a_gone_channel_pauses_the_channel_reminder() {
    let start = ts("2026-05-01T06:00:00Z");
    let clock = ManualClock::new(start);
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let wakeup = Wakeup::new();
    let reminders = Reminders::new(Arc::clone(&store), wakeup.clone());
    let spec = ChannelSpec {
        guild_id: 10,
        channel_id: 20,
        role_id: Some(30),
        time: "09:00",
        zone: "Asia/Tokyo",
        silent: false,
        set_by: 99,
    };
    let reply = text(reminders.set_channel(spec, clock.now()).await.unwrap());
    assert!(reply.contains("<#20>") && reply.contains("<@&30>"), "{reply}");
    let sender = FakeSender::scripted(
        &clock,
        [Script::Reply(Ok(())), Script::Reply(Err(DeliveryError::ChannelGone))],
        Script::Reply(Ok(())),
    );
    let running = launch(&store, &sender, &clock, &wakeup);
    until(&clock, ts("2026-05-05T00:00:00Z")).await;
    running.stop().await;
    let sent = sender.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].0, ts("2026-05-02T00:00:00Z"));
    assert_eq!(sent[0].1.text.pieces()[0], crampbot::reminders::text::Piece::Role(30));
    assert!(text(sent[0].1.text.clone()).starts_with("<@&30> "));
    assert_eq!(sent[0].1.mention_role(), Some(30));
    assert!(sent[0].1.text.words().contains("/hydration off"));
    let subscription = store.find(TargetKey::Channel(20)).await.unwrap().unwrap();
    assert_eq!(subscription.paused, Some(PauseReason::ChannelGone));
    assert!(text(reminders.show_channel(20).await.unwrap()).contains("no longer exists"));
}

#[tokio::test(start_paused = true)]
async fn transient_failures_are_retried_with_the_same_nonce_then_given_up_for_the_day() {
    let start = ts("2026-05-01T06:00:00Z");
    let clock = ManualClock::new(start);
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let id = london_user(&store, 1, time(7, 30, 0, 0), start).await;
    let transient = || Script::Reply(Err(DeliveryError::Transient { reason: "HTTP 503".into() }));
    // Day 1: two failures then success. Day 2: fails every time (4 tries). Day 3: fine.
    let script = [transient(), transient(), Script::Reply(Ok(())), transient(), transient(), transient(), transient()];
    let sender = FakeSender::scripted(&clock, script, Script::Reply(Ok(())));
    let running = launch(&store, &sender, &clock, &Wakeup::new());
    until(&clock, ts("2026-05-03T12:00:00Z")).await;
    running.stop().await;

    let sent = sender.sent();
    let offsets: Vec<i64> = sent[..3].iter().map(|(at, _)| at.duration_since(sent[0].0).as_secs()).collect();
    assert_eq!(offsets, [0, 5, 15], "backoff 5 s, then 10 s");
    assert_eq!(sent.len(), 3 + 4 + 1);
    assert!(sent[..3].iter().all(|(_, outgoing)| outgoing.nonce == daily_nonce(id, date(2026, 5, 1))));
    let states: Vec<(DeliveryState, u32)> =
        store.deliveries(id, 10).await.unwrap().iter().map(|delivery| (delivery.state, delivery.attempts)).collect();
    assert_eq!(states, [(DeliveryState::Sent, 1), (DeliveryState::Failed, 4), (DeliveryState::Sent, 3)]);
}

#[tokio::test(start_paused = true)]
async fn snooze_sends_one_extra_reminder_and_off_stops_everything() {
    let start = ts("2026-05-01T06:00:00Z");
    let clock = ManualClock::new(start);
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let wakeup = Wakeup::new();
    let reminders = Reminders::new(Arc::clone(&store), wakeup.clone());
    assert!(text(reminders.snooze_user(4, Snooze::HalfHour, clock.now()).await.unwrap()).contains("no daily reminder"));
    text(reminders.set_user(4, "07:30", "Europe/London", false, clock.now()).await.unwrap());
    let sender = FakeSender::new(&clock);
    let running = launch(&store, &sender, &clock, &wakeup);
    until(&clock, ts("2026-05-01T06:31:00Z")).await;
    let reply = text(reminders.snooze_user(4, Snooze::HalfHour, clock.now()).await.unwrap());
    let again = ts("2026-05-01T07:01:00Z");
    assert!(reply.contains(&format!("<t:{}:R>", again.as_second())), "{reply}");
    assert!(text(reminders.show_user(4).await.unwrap()).contains("Snoozed"));
    until(&clock, ts("2026-05-01T12:00:00Z")).await;
    let sent = sender.sent();
    assert_eq!(sent.len(), 2);
    assert_eq!((sent[1].0, sent[1].1.nonce.clone()), (again, snooze_nonce(TargetKey::User(4), again)));
    assert!(sent[1].1.text.words().contains("snoozed"));

    assert!(text(reminders.off_user(4).await.unwrap()).contains("off"));
    until(&clock, ts("2026-05-03T12:00:00Z")).await;
    running.stop().await;
    assert_eq!(sender.sent().len(), 2);
    assert!(text(reminders.show_user(4).await.unwrap()).contains("no daily reminder"));
}

#[tokio::test]
async fn bad_input_is_answered_naming_the_value() {
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let reminders = Reminders::new(Arc::clone(&store), Wakeup::new());
    let now = ts("2026-05-01T06:00:00Z");
    let reply = text(reminders.set_user(1, "25:99", "Europe/London", false, now).await.unwrap());
    assert!(reply.contains("\"25:99\""), "{reply}");
    let reply = text(reminders.set_user(1, "07:30", "Europe/Lodnon", false, now).await.unwrap());
    assert!(reply.contains("\"Europe/Lodnon\"") && reply.contains("Europe/London"), "{reply}");
    assert_eq!(store.count().await.unwrap(), 0, "nothing stored, and never a silent UTC");
}

#[tokio::test(start_paused = true)]
async fn ten_thousand_due_in_one_minute_are_all_handed_over_once() {
    let start = ts("2026-05-01T06:00:00Z");
    let clock = ManualClock::new(start);
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let london = zone("Europe/London");
    let news: Vec<NewSubscription> = (0..10_000_u64)
        .map(|user_id| {
            let local_time = time(7, 30, 0, 0);
            NewSubscription {
                target: Target::User { user_id },
                local_time,
                zone: "Europe/London".into(),
                silent: false,
                next: next_occurrence(start, local_time, &london),
                set_by: Some(user_id),
            }
        })
        .collect();
    store.insert_many(&news, start).unwrap();
    let sender = FakeSender::new(&clock);
    let running = launch(&store, &sender, &clock, &Wakeup::new());
    until(&clock, ts("2026-05-01T06:30:00Z")).await;
    tokio::time::sleep(Duration::from_millis(1)).await;
    let handed_over_by = clock.now();
    running.stop().await;
    let sent = sender.sent();
    assert_eq!(sent.len(), 10_000);
    assert!(sent.iter().all(|(at, _)| *at < handed_over_by));
    assert_eq!(sent.iter().map(|(_, outgoing)| outgoing.nonce.clone()).collect::<HashSet<_>>().len(), 10_000);
    assert_eq!(local_date_of(sent[0].0, &london), date(2026, 5, 1));
}

#[tokio::test]
async fn texts_read_well() {
    use crampbot::reminders::text::{Timing, confirmation, reminder_message, show};
    let store = SqliteStore::open_in_memory().unwrap();
    london_user(&store, 1, time(7, 30, 0, 0), ts("2026-05-01T06:00:00Z")).await;
    let subscription = store.find(TargetKey::User(1)).await.unwrap().unwrap();
    let tip = &tips()[0];
    let tip_line = format!("Tip: {} (source: {}, <{}>)", tip.text.trim(), tip.source.publisher, tip.source.url);
    let channel = Target::Channel { guild_id: 1, channel_id: 2, role_id: Some(3) };
    assert_eq!(
        text(confirmation(&subscription)),
        "Daily hydration reminder set: I'll send you a DM every day at 07:30 (Europe/London).\n\
         Next reminder: <t:1777617000:F> (<t:1777617000:R>).\n\
         Stop any time with `/remind off`.\n\
         If you're on dialysis or have heart or kidney failure, or a doctor has given you a fluid limit, \
         follow your kidney or heart team's advice on how much to drink rather than these reminders."
    );
    assert_eq!(
        text(show(Some(&subscription), &[], true)),
        "Daily reminder at 07:30 (Europe/London).\nNext reminder: <t:1777617000:F> (<t:1777617000:R>)."
    );
    assert_eq!(
        text(reminder_message(&subscription.target, Some(tip), Timing::OnTime)),
        format!(
            "💧 Time for a glass of water. (If a doctor has given you a fluid limit, follow that instead.)\n{tip_line}\n\
             Stop these with `/remind off`, or `/remind snooze` for a nudge later."
        )
    );
    assert_eq!(
        text(reminder_message(&channel, Some(tip), Timing::Late)),
        format!(
            "<@&3> 💧 Time for a glass of water. (This one is late: the bot was offline at the usual time.) \
             (If a doctor has given you a fluid limit, follow that instead.)\n\
             {tip_line}\nAdmins can stop these with `/hydration off`."
        )
    );
    let every = tips();
    for (index, tip) in every.iter().enumerate() {
        let message = text(reminder_message(&channel, Some(tip), Timing::OnTime));
        assert!(message.chars().count() < 2000, "tip {index} makes a message too long for Discord");
    }
}

#[tokio::test(start_paused = true)]
async fn the_scheduler_fires_once_a_day_through_the_gap_and_the_overlap() {
    let start = ts("2026-03-27T12:00:00Z");
    let clock = ManualClock::new(start);
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    london_user(&store, 1, time(1, 30, 0, 0), start).await;
    let sender = FakeSender::new(&clock);
    let running = launch(&store, &sender, &clock, &Wakeup::new());
    until(&clock, ts("2026-03-31T12:00:00Z")).await;
    clock.jump(SignedDuration::from_hours(24 * 206)); // to 2026-10-23, as after a long sleep
    until(&clock, ts("2026-10-27T12:00:00Z")).await;
    running.stop().await;
    let times: Vec<Timestamp> = sender.sent().iter().map(|(at, _)| *at).collect();
    assert_eq!(
        times,
        [
            ts("2026-03-28T01:30:00Z"),
            ts("2026-03-29T01:00:00Z"), // 01:30 does not exist: the transition
            ts("2026-03-30T00:30:00Z"),
            ts("2026-03-31T00:30:00Z"),
            ts("2026-10-24T00:30:00Z"), // the first day after the jump (the skipped ones are not sent)
            ts("2026-10-25T00:30:00Z"), // 01:30 happens twice: the earlier, once
            ts("2026-10-26T01:30:00Z"),
            ts("2026-10-27T01:30:00Z"),
        ]
    );
}

/// Stops and restarts the scheduler at awkward moments for two months, with sends that
/// sometimes never complete (a crash between send and record): every local day is handed over
/// at most twice, always with that day's nonce, and has exactly one delivery record.
#[tokio::test(start_paused = true)]
async fn restarts_at_any_moment_never_send_a_day_twice_with_different_nonces() {
    let start = ts("2026-05-01T00:00:00Z");
    let clock = ManualClock::new(start);
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let id = london_user(&store, 1, time(7, 30, 0, 0), start).await;
    let wakeup = Wakeup::new();
    // Every third send hangs; the scheduler is stopped every 7 h 13 min and restarted after a
    // pause that varies from 0 to 3 h.
    let script = (0..200).map(|i| if i % 3 == 2 { Script::Hang } else { Script::Reply(Ok(())) });
    let sender = FakeSender::scripted(&clock, script, Script::Reply(Ok(())));
    let end = ts("2026-07-01T00:00:00Z");
    let mut round = 0_u32;
    while clock.now() < end {
        let running = launch(&store, &sender, &clock, &wakeup);
        tokio::time::sleep(7 * HOUR + 13 * MINUTE).await;
        running.stop().await;
        tokio::time::sleep(Duration::from_secs(u64::from(round % 7) * 30 * 60)).await;
        round += 1;
    }
    let london = zone("Europe/London");
    let mut by_date: std::collections::BTreeMap<Date, Vec<String>> = std::collections::BTreeMap::new();
    for (at, outgoing) in sender.sent() {
        // A resend can come on a later clock day than its occurrence, so key by the nonce.
        let date = (0..3)
            .map(|back| local_date_of(at, &london).checked_sub(jiff::Span::new().days(back)).unwrap())
            .find(|date| daily_nonce(id, *date) == outgoing.nonce)
            .expect("every nonce is a recent day's");
        by_date.entry(date).or_default().push(outgoing.nonce);
    }
    for (date, nonces) in &by_date {
        assert!(nonces.len() <= 2, "{date}: handed over {} times", nonces.len());
    }
    let records = store.deliveries(id, 1000).await.unwrap();
    let dates: HashSet<Date> = records.iter().map(|delivery| delivery.local_date).collect();
    assert_eq!(dates.len(), records.len(), "one record per day");
    let sent_days = records.iter().filter(|delivery| delivery.state == DeliveryState::Sent).count();
    assert!(sent_days >= 5, "most kept days were sent: {records:?}");
}
