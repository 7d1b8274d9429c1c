//! Reminders through the real Discord adapter against the fake Discord: the slash commands, the
//! scheduler that `run_with` runs beside the gateway (on a manual clock), the DM and channel
//! posts it makes, a restart on the same database, and a refused DM.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crampbot::clock::ManualClock;
use crampbot::discord::{RemindersSetup, RunOptions};
use crampbot::reminders::SchedulerOptions;
use crampbot::reminders::store::{ReminderStore as _, TargetKey};
use crampbot::store::SqliteStore;
use jiff::Timestamp;
use serde_json::{Value, json};

use crate::fake_discord::{self as fake, APP_ID, CHANNEL_ID, DM_CHANNEL_ID, FakeDiscord, Fault, USER_ID};
use crate::support::{Harness, test_options};

const ROLE_ID: u64 = 1_700_000_000_000_000_001;

fn ts(text: &str) -> Timestamp {
    text.parse().unwrap()
}

/// Run options with reminders on the database at `path`, read through `clock`, and a scheduler
/// that looks at the store every 50 ms (so a clock moved by the test is noticed at once).
fn with_reminders(path: &Path, clock: &ManualClock) -> RunOptions<SqliteStore> {
    let store = Arc::new(SqliteStore::open(path).expect("the database opens"));
    let scheduler = SchedulerOptions { max_sleep: Duration::from_millis(50), ..SchedulerOptions::default() };
    RunOptions {
        reminders: Some(RemindersSetup { store, clock: Arc::new(clock.clone()), scheduler }),
        ..test_options()
    }
}

/// Dispatches an interaction and returns the body of its callback.
async fn interact(fake: &FakeDiscord, interaction: Value) -> Value {
    let id: u64 = interaction["id"].as_str().unwrap().parse().unwrap();
    fake.dispatch("INTERACTION_CREATE", interaction);
    let path = format!("/interactions/{id}/");
    fake.wait_calls("POST", &path, 1).await.pop().unwrap().body
}

fn remind_set(fake: &FakeDiscord, time: &str, zone: &str) -> Value {
    fake::subcommand(fake.next_id(), "remind", "set", &[("time", 3, json!(time)), ("timezone", 3, json!(zone))], false)
}

/// The ephemeral text of an interaction callback.
#[track_caller]
fn ephemeral_text(body: &Value) -> String {
    assert_eq!(body["type"], json!(4), "answered at once: {body}");
    assert_eq!(body["data"]["flags"], json!(64), "ephemeral: {body}");
    assert_eq!(body["data"]["allowed_mentions"]["parse"], json!([]));
    body["data"]["content"].as_str().expect("content").to_owned()
}

fn posts_to(fake: &FakeDiscord, channel: u64) -> Vec<fake::Call> {
    fake.calls_to("POST", &format!("/channels/{channel}/messages"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dm_reminder_is_sent_once_with_a_nonce_and_a_restart_on_the_same_database_does_not_resend_it() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("reminders.sqlite3");
    let clock = ManualClock::new(ts("2026-06-01T08:59:00Z"));
    let harness = Harness::start_on(FakeDiscord::start().await, with_reminders(&db, &clock), None).await;
    let fake = &harness.fake;

    let choices =
        interact(fake, fake::autocomplete_subcommand(fake.next_id(), "remind", "set", "timezone", "europe/londn"))
            .await;
    let choices = choices["data"]["choices"].as_array().unwrap();
    assert!((1..=25).contains(&choices.len()));
    assert!(choices.iter().any(|choice| choice["value"] == "Europe/London"), "{choices:?}");

    let bad = ephemeral_text(&interact(fake, remind_set(fake, "25:99", "UTC")).await);
    assert!(bad.starts_with("Sorry,"), "{bad}");
    let bad = ephemeral_text(&interact(fake, remind_set(fake, "09:00", "Mars/Olympus")).await);
    assert!(bad.starts_with("Sorry,"), "{bad}");

    let confirmation = ephemeral_text(&interact(fake, remind_set(fake, "09:00", "UTC")).await);
    assert!(confirmation.contains("Daily hydration reminder set"), "{confirmation}");
    assert!(confirmation.contains(&format!("<t:{}:F>", ts("2026-06-01T09:00:00Z").as_second())), "{confirmation}");
    assert!(posts_to(fake, DM_CHANNEL_ID).is_empty(), "not due yet");

    clock.set(ts("2026-06-01T08:59:59.950Z"));
    let sent = fake.wait_calls("POST", &format!("/channels/{DM_CHANNEL_ID}/messages"), 1).await;
    let open = fake.calls_to("POST", "/users/@me/channels");
    assert_eq!(open.len(), 1);
    assert_eq!(open[0].body["recipient_id"], json!(USER_ID.to_string()));
    let body = &sent[0].body;
    assert!(body["content"].as_str().unwrap().contains("glass of water"), "{body}");
    let nonce = body["nonce"].as_str().expect("a nonce").to_owned();
    assert!(!nonce.is_empty() && nonce.len() <= 25);
    assert_eq!(body["enforce_nonce"], json!(true));
    assert_eq!(body["allowed_mentions"], json!({"parse": [], "users": [], "roles": [], "replied_user": false}));
    let buttons = &body["components"][0]["components"];
    assert_eq!(buttons[0]["custom_id"], json!("cb1:snooze:30"));
    assert_eq!(buttons[1]["custom_id"], json!("cb1:snooze:60"));

    // The snooze button under the reminder.
    let snoozed = ephemeral_text(&interact(fake, fake::button(fake.next_id(), "cb1:snooze:30")).await);
    assert!(snoozed.starts_with("Snoozed."), "{snoozed}");

    let (stopped, fake) = harness.stop_keeping_fake().await;
    stopped.unwrap();

    // A second instance on the same database file, at the same moment: nothing to send again.
    let second = Harness::start_on(fake, with_reminders(&db, &clock), None).await;
    let fake = &second.fake;
    fake.wait_calls("PUT", "/commands", 2).await;
    let show = ephemeral_text(&interact(fake, fake::subcommand(fake.next_id(), "remind", "show", &[], false)).await);
    let tomorrow = ts("2026-06-02T09:00:00Z").as_second();
    assert!(show.contains(&format!("<t:{tomorrow}:F>")), "the day is handled; next is tomorrow: {show}");
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(posts_to(fake, DM_CHANNEL_ID).len(), 1, "sent once across both instances");

    let off = ephemeral_text(&interact(fake, fake::subcommand(fake.next_id(), "remind", "off", &[], false)).await);
    assert!(off.contains("is off"), "{off}");
    second.stop().await.unwrap();
}

/// A user who installed the app to their account sets their DM reminder from a group DM: the
/// answer comes through the interaction, and the reminder is theirs (their user id), as from
/// anywhere else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_installed_remind_set_in_a_group_dm_sets_the_users_reminder() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.sqlite3");
    let clock = ManualClock::new(ts("2026-06-01T08:00:00Z"));
    let harness = Harness::start_on(FakeDiscord::start().await, with_reminders(&db, &clock), None).await;
    let fake = &harness.fake;
    let set = fake::user_installed(remind_set(fake, "09:00", "Europe/London"), false);
    let confirmation = ephemeral_text(&interact(fake, set).await);
    assert!(confirmation.contains("Daily hydration reminder set"), "{confirmation}");
    let store = SqliteStore::open(&db).unwrap();
    let stored = store.find(TargetKey::User(USER_ID)).await.unwrap().expect("the user's reminder");
    assert_eq!(stored.zone, "Europe/London");
    assert_eq!(fake.count("POST", "/channels/"), 0, "answered through the interaction alone");
    harness.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_channel_reminder_pings_exactly_the_configured_role() {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::new(ts("2026-06-01T08:59:00Z"));
    let harness =
        Harness::start_on(FakeDiscord::start().await, with_reminders(&dir.path().join("r.sqlite3"), &clock), None)
            .await;
    let fake = &harness.fake;
    let options = [
        ("channel", 7, json!(CHANNEL_ID.to_string())),
        ("time", 3, json!("09:00")),
        ("timezone", 3, json!("UTC")),
        ("role", 8, json!(ROLE_ID.to_string())),
    ];

    let in_dm =
        ephemeral_text(&interact(fake, fake::subcommand(fake.next_id(), "hydration", "set", &options, false)).await);
    assert!(in_dm.contains("in a server"), "{in_dm}");

    let confirmation =
        ephemeral_text(&interact(fake, fake::subcommand(fake.next_id(), "hydration", "set", &options, true)).await);
    assert!(
        confirmation.contains(&format!("<#{CHANNEL_ID}>")) && confirmation.contains(&format!("<@&{ROLE_ID}>")),
        "{confirmation}"
    );

    clock.set(ts("2026-06-01T08:59:59.950Z"));
    let sent = fake.wait_calls("POST", &format!("/channels/{CHANNEL_ID}/messages"), 1).await;
    let body = &sent[0].body;
    assert!(body["content"].as_str().unwrap().starts_with(&format!("<@&{ROLE_ID}> ")), "{body}");
    assert!(body["content"].as_str().unwrap().contains("/hydration off"));
    assert_eq!(
        body["allowed_mentions"],
        json!({"parse": [], "users": [], "roles": [ROLE_ID.to_string()], "replied_user": false}),
        "that role and nothing else"
    );
    assert_eq!(body["enforce_nonce"], json!(true));
    assert!(body["nonce"].as_str().is_some_and(|nonce| !nonce.is_empty()));
    assert!(fake.calls_to("POST", "/users/@me/channels").is_empty(), "no DM");

    let shown = ephemeral_text(&interact(fake, fake::subcommand(fake.next_id(), "hydration", "show", &[], true)).await);
    assert!(shown.contains(&format!("<@&{ROLE_ID}>")), "{shown}");
    let off = ephemeral_text(&interact(fake, fake::subcommand(fake.next_id(), "hydration", "off", &[], true)).await);
    assert!(off.contains("is off"), "{off}");
    harness.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_dm_pauses_the_reminder_and_the_user_hears_of_it_at_the_next_interaction() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.sqlite3");
    let clock = ManualClock::new(ts("2026-06-01T08:59:00Z"));
    let harness = Harness::start_on(FakeDiscord::start().await, with_reminders(&db, &clock), None).await;
    let fake = &harness.fake;
    ephemeral_text(&interact(fake, remind_set(fake, "09:00", "UTC")).await);

    fake.fail_next("POST", &format!("/channels/{DM_CHANNEL_ID}/messages"), 1, Fault::Status(403, 50_007));
    clock.set(ts("2026-06-01T08:59:59.950Z"));
    fake.wait_calls("POST", &format!("/channels/{DM_CHANNEL_ID}/messages"), 1).await;
    let reader = SqliteStore::open(&db).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while reader.find(TargetKey::User(USER_ID)).await.unwrap().and_then(|subscription| subscription.paused).is_none() {
        assert!(tokio::time::Instant::now() < deadline, "the subscription is paused");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(posts_to(fake, DM_CHANNEL_ID).len(), 1, "a refused DM is not retried");

    // The next interaction, whatever it is, brings the notice as an ephemeral follow-up.
    let id = fake.next_id();
    let answer = interact(fake, fake::command(id, "causes", &[], true)).await;
    assert_eq!(answer["type"], json!(4));
    let followups = fake.wait_calls("POST", &format!("/webhooks/{APP_ID}/itoken{id}"), 1).await;
    let notice = &followups[0].body;
    assert!(notice["content"].as_str().unwrap().contains("paused your daily hydration reminder"), "{notice}");
    assert_eq!(notice["flags"], json!(64), "ephemeral");
    assert_eq!(notice["allowed_mentions"]["parse"], json!([]));

    let show = ephemeral_text(&interact(fake, fake::subcommand(fake.next_id(), "remind", "show", &[], false)).await);
    assert!(show.contains("Paused"), "{show}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(fake.calls_to("POST", "/webhooks/").len(), 1, "a notice is shown once");

    let forgotten = ephemeral_text(&interact(fake, fake::command(fake.next_id(), "forget", &[], false)).await);
    assert!(forgotten.starts_with("Done"), "{forgotten}");
    assert!(reader.find(TargetKey::User(USER_ID)).await.unwrap().is_none());
    harness.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_store_defers_ephemerally_and_a_dm_shows_pending_notices() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("r.sqlite3");
    let clock = ManualClock::new(ts("2026-06-01T08:59:00Z"));
    let options = RunOptions { defer_after: Duration::ZERO, ..with_reminders(&db, &clock) };
    let harness = Harness::start_on(FakeDiscord::start().await, options, None).await;
    let fake = &harness.fake;

    let id = fake.next_id();
    let set = [("time", 3, json!("09:00")), ("timezone", 3, json!("UTC"))];
    let deferred = interact(fake, fake::subcommand(id, "remind", "set", &set, false)).await;
    assert_eq!(deferred["type"], json!(5), "deferred: {deferred}");
    assert_eq!(deferred["data"]["flags"], json!(64), "and ephemeral");
    let edit = fake.wait_calls("PATCH", &format!("/webhooks/{APP_ID}/itoken{id}/messages/@original"), 1).await;
    assert!(edit[0].body["content"].as_str().unwrap().contains("Daily hydration reminder set"), "{:?}", edit[0].body);
    assert_eq!(edit[0].body["allowed_mentions"]["parse"], json!([]));

    fake.fail_next("POST", &format!("/channels/{DM_CHANNEL_ID}/messages"), 1, Fault::Status(403, 50_007));
    clock.set(ts("2026-06-01T08:59:59.950Z"));
    fake.wait_calls("POST", &format!("/channels/{DM_CHANNEL_ID}/messages"), 1).await;
    let reader = SqliteStore::open(&db).unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while reader.find(TargetKey::User(USER_ID)).await.unwrap().and_then(|subscription| subscription.paused).is_none() {
        assert!(tokio::time::Instant::now() < deadline, "the subscription is paused");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // The user opens their DMs and writes to the bot: the answer, then the notice, in the DM.
    fake.dispatch("MESSAGE_CREATE", fake::message(fake.next_id(), &fake::human(), "my calf twitches", false, &[]));
    let posts = fake.wait_calls("POST", &format!("/channels/{DM_CHANNEL_ID}/messages"), 3).await;
    let notice = &posts[2].body;
    assert!(notice["content"].as_str().unwrap().contains("paused your daily hydration reminder"), "{notice}");
    assert_eq!(notice["allowed_mentions"]["parse"], json!([]));
    assert_eq!(notice["enforce_nonce"], json!(true));
    harness.stop().await.unwrap();
}
