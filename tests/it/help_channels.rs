//! Help channels through the real adapter and the fake Discord: `/helpchannel`, the answers to
//! on-topic messages without a mention, the quiet on everything else, the per-person limit, what
//! happens without the Message Content intent, and help channels with shards split between two
//! processes on one PostgreSQL.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use crampbot::clock::ManualClock;
use crampbot::config::{Config, RawConfig};
use crampbot::discord::help_channels::INTENT_OFF;
use crampbot::discord::{RemindersSetup, RunError, RunOptions};
use crampbot::help_channels::MAX_PER_SERVER;
use crampbot::help_channels::store::HelpChannelStore as _;
use crampbot::reminders::SchedulerOptions;
use crampbot::store::{PgStore, SqliteStore};
use serde_json::{Value, json};

use crate::fake_discord::{self as fake, BOT_ID, CHANNEL_ID, FakeDiscord, GUILD_ID, OTHER_USER_ID};
use crate::support::{Harness, config_with, fast_retry, test_bot, test_options};

/// Discord's `MESSAGE_CONTENT` intent bit.
const MESSAGE_CONTENT: u64 = 1 << 15;

/// A second text channel of the test server, never a help channel.
const QUIET_CHANNEL_ID: u64 = 1_300_000_000_000_000_009;

/// Starts the adapter with a database at `db` and `discord.message_content` as given.
async fn start(db: &Path, message_content: bool) -> Harness {
    let store = Arc::new(SqliteStore::open(db).expect("the database opens"));
    let clock = ManualClock::new("2026-06-01T08:00:00Z".parse().unwrap());
    let options = RunOptions {
        reminders: Some(RemindersSetup { store, clock: Arc::new(clock), scheduler: SchedulerOptions::default() }),
        ..test_options()
    };
    let fake = FakeDiscord::start().await;
    let flag = if message_content { "true" } else { "false" };
    let config = config_with(&fake, None, &[("CRAMPBOT_MESSAGE_CONTENT", flag)]);
    Harness::start_configured(fake, options, config).await
}

/// `/helpchannel <sub>` with a channel option, in the test server; returns its ephemeral text.
async fn helpchannel(fake: &FakeDiscord, sub: &str, channel: Option<u64>) -> String {
    let options: Vec<(&str, u8, Value)> =
        channel.map(|id| vec![("channel", 7, json!(id.to_string()))]).unwrap_or_default();
    let id = fake.next_id();
    fake.dispatch("INTERACTION_CREATE", fake::subcommand(id, "helpchannel", sub, &options, true));
    let body = fake.wait_calls("POST", &format!("/interactions/{id}/"), 1).await.pop().unwrap().body;
    assert_eq!(body["type"], json!(4), "{body}");
    assert_eq!(body["data"]["flags"], json!(64), "only the manager sees it: {body}");
    assert_eq!(body["data"]["allowed_mentions"]["parse"], json!([]));
    body["data"]["content"].as_str().expect("content").to_owned()
}

/// A guild message from `author` in `channel`, without a mention; returns its id.
fn say(fake: &FakeDiscord, author: &Value, channel: u64, content: &str) -> u64 {
    let id = fake.next_id();
    let mut message = fake::message(id, author, content, true, &[]);
    message["channel_id"] = json!(channel.to_string());
    fake.dispatch("MESSAGE_CREATE", message);
    id
}

fn someone_else() -> Value {
    fake::user(OTHER_USER_ID, "hiker", false)
}

/// The replies posted so far, as the ids of the messages they answer, in order.
fn answered(fake: &FakeDiscord) -> Vec<u64> {
    fake.calls_to("POST", "/messages")
        .iter()
        .map(|call| call.body["message_reference"]["message_id"].as_str().unwrap().parse().unwrap())
        .collect()
}

/// Waits until the reply to message `id` is posted: a barrier that orders the test.
async fn wait_answer(fake: &FakeDiscord, id: u64) {
    fake.wait_until(Duration::from_secs(10), "the answer", |fake| answered(fake).contains(&id)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_help_channel_answers_on_topic_messages_once_per_person_and_stays_quiet_otherwise() {
    let dir = tempfile::tempdir().unwrap();
    let harness = start(&dir.path().join("db.sqlite3"), true).await;
    let fake = &harness.fake;
    assert_eq!(fake.stats().intents & MESSAGE_CONTENT, MESSAGE_CONTENT, "asked for Message Content");

    let added = helpchannel(fake, "add", Some(CHANNEL_ID)).await;
    assert!(added.contains(&format!("<#{CHANNEL_ID}> is now a help channel")), "{added}");
    assert!(!added.contains(INTENT_OFF), "{added}");
    assert!(helpchannel(fake, "add", Some(CHANNEL_ID)).await.contains("already"));
    let list = helpchannel(fake, "list", None).await;
    assert!(list.contains(&format!("<#{CHANNEL_ID}>")), "{list}");

    // On topic, no mention: answered as a reply that pings nobody, with the guidance.
    let first = say(fake, &fake::human(), CHANNEL_ID, "my calves twitch on long walks @everyone");
    wait_answer(fake, first).await;
    let reply = fake.last_call("POST", "/messages").unwrap();
    assert_eq!(reply.path, format!("/api/v10/channels/{CHANNEL_ID}/messages"));
    assert_eq!(reply.body["allowed_mentions"], json!({"parse": [], "users": [], "roles": [], "replied_user": false}));
    assert_eq!(reply.body["message_reference"]["message_id"], json!(first.to_string()));
    let footer = reply.body["embeds"].as_array().unwrap().last().unwrap()["footer"]["text"].clone();
    assert_eq!(footer, json!(test_bot().help().guidance()));

    // Off topic, the same person again within 10 s, and a channel that is not a help channel:
    // quiet. Someone else, on topic, is answered; that answer is the barrier.
    let off_topic = say(fake, &someone_else(), CHANNEL_ID, "what's the capital of Peru?");
    let again = say(fake, &fake::human(), CHANNEL_ID, "and my hamstring cramps at night");
    let elsewhere = say(fake, &someone_else(), QUIET_CHANNEL_ID, "my calf twitches all day");
    let other = say(fake, &someone_else(), CHANNEL_ID, "my hamstring cramps when I hike");
    wait_answer(fake, other).await;
    assert_eq!(answered(fake), vec![first, other], "not {off_topic}, {again} or {elsewhere}");

    // A mention is a mention: answered within the cooldown too.
    let id = fake.next_id();
    let content = format!("<@{BOT_ID}> my calf twitches again");
    fake.dispatch("MESSAGE_CREATE", fake::message(id, &fake::human(), &content, true, &[fake::bot_user()]));
    wait_answer(fake, id).await;

    // Removed: quiet again (the mention after it is the barrier).
    let removed = helpchannel(fake, "remove", Some(CHANNEL_ID)).await;
    assert!(removed.contains("no longer a help channel"), "{removed}");
    let after = say(fake, &someone_else(), CHANNEL_ID, "my calves twitch on long walks");
    let barrier = fake.next_id();
    let content = format!("<@{BOT_ID}> my calf twitches");
    fake.dispatch("MESSAGE_CREATE", fake::message(barrier, &fake::human(), &content, true, &[fake::bot_user()]));
    wait_answer(fake, barrier).await;
    assert!(!answered(fake).contains(&after));
    assert!(helpchannel(fake, "list", None).await.contains("no help channels"));
    harness.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_message_content_intent_help_channels_say_so_and_stay_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let harness = start(&dir.path().join("db.sqlite3"), false).await;
    let fake = &harness.fake;
    assert_eq!(fake.stats().intents & MESSAGE_CONTENT, 0, "no privileged intent unless asked for");

    let added = helpchannel(fake, "add", Some(CHANNEL_ID)).await;
    assert!(added.contains("is now a help channel") && added.contains(INTENT_OFF), "{added}");
    assert!(added.contains("discord.message_content = true") && added.contains("100 or more servers"), "{added}");
    assert!(helpchannel(fake, "list", None).await.contains(INTENT_OFF));

    // Discord would send no content here; even if it did, the bot does not read it.
    let unread = say(fake, &fake::human(), CHANNEL_ID, "my calves twitch on long walks");
    let barrier = fake.next_id();
    fake.dispatch("MESSAGE_CREATE", fake::message(barrier, &fake::human(), "my calf twitches", false, &[]));
    wait_answer(fake, barrier).await;
    assert_eq!(answered(fake), vec![barrier], "not {unread}");
    harness.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn helpchannel_is_for_server_managers_and_has_a_limit() {
    let dir = tempfile::tempdir().unwrap();
    let harness = start(&dir.path().join("db.sqlite3"), true).await;
    let fake = &harness.fake;
    let definitions = fake.calls_to("PUT", "/commands").pop().unwrap().body;
    let command = definitions.as_array().unwrap().iter().find(|c| c["name"] == "helpchannel").unwrap().clone();
    assert_eq!(command["default_member_permissions"], json!("32"), "Manage Server");
    assert_eq!((command["contexts"].clone(), command["integration_types"].clone()), (json!([0]), json!([0])));

    let id = fake.next_id();
    fake.dispatch("INTERACTION_CREATE", fake::subcommand(id, "helpchannel", "list", &[], false));
    let body = fake.wait_calls("POST", &format!("/interactions/{id}/"), 1).await.pop().unwrap().body;
    assert!(body["data"]["content"].as_str().unwrap().contains("set in a server"), "{body}");

    for n in 0..MAX_PER_SERVER as u64 {
        assert!(helpchannel(fake, "add", Some(2_000 + n)).await.contains("is now a help channel"));
    }
    let full = helpchannel(fake, "add", Some(CHANNEL_ID)).await;
    assert!(full.contains("Remove one first"), "{full}");
    let list = helpchannel(fake, "list", None).await;
    assert!(crampbot::discord::render::units(&list) <= 2000 && list.contains("<#2024>"), "{list}");
    harness.stop().await.unwrap();
}

/// At start-up, help channels in the database with the intent off get a clear log line.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crampbot_run_says_at_start_up_when_help_channels_exist_but_the_intent_is_off() {
    let fake = FakeDiscord::start().await;
    let db = tempfile::tempdir().unwrap();
    let path = db.path().join("db.sqlite3");
    let store = SqliteStore::open(&path).unwrap();
    store.add_help_channel(GUILD_ID, CHANNEL_ID, MAX_PER_SERVER, jiff::Timestamp::UNIX_EPOCH).await.unwrap();
    drop(store);
    let (mut args, _dir) = crate::support::knowledge_args();
    args.push("run".to_owned());
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_crampbot"))
        .args(&args)
        .env("CRAMPBOT_DATABASE", &path)
        .env("DISCORD_TOKEN", fake::TOKEN)
        .env("DISCORD_API_BASE", &fake.base)
        .env("RUST_LOG", "info")
        .env_remove("CRAMPBOT_MESSAGE_CONTENT")
        .env_remove("CRAMPBOT_GUILD_ID")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    fake.wait_calls("PUT", "/commands", 1).await;
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();
    let logs = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{logs}");
    assert!(logs.contains("help channels are set, but the Message Content intent is off"), "{logs}");
    assert!(logs.contains("help_channels=1"), "{logs}");
}

/// One `crampbot run` of two on one PostgreSQL, inside this test: shard `shard` of 2, its REST
/// calls through the fake's front `shard`, help channels re-read every 100 ms.
struct Process {
    shutdown: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Result<(), RunError>>,
}

impl Process {
    async fn start(fake: &FakeDiscord, shard: usize, url: &str) -> Process {
        let store = Arc::new(PgStore::connect(url, 2).await.expect("PostgreSQL"));
        let clock = ManualClock::new("2026-06-01T08:00:00Z".parse().unwrap());
        let options = RunOptions {
            retry: fast_retry(),
            max_restarts: 0,
            help_refresh: Duration::from_millis(100),
            login_spacing: Duration::ZERO,
            reminders: Some(RemindersSetup { store, clock: Arc::new(clock), scheduler: SchedulerOptions::default() }),
            ..RunOptions::default()
        };
        let (base, range) = (fake.fronts[shard].clone(), shard.to_string());
        let config = Config::from_raw(RawConfig::default(), move |name| match name {
            "DISCORD_TOKEN" => Some(fake::TOKEN.to_owned()),
            "DISCORD_API_BASE" => Some(base.clone()),
            "CRAMPBOT_SHARDS" => Some("2".to_owned()),
            "CRAMPBOT_SHARD_RANGE" => Some(range.clone()),
            "CRAMPBOT_MESSAGE_CONTENT" => Some("true".to_owned()),
            _ => None,
        })
        .expect("valid config");
        let (shutdown, signal) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            crampbot::discord::run_with(&config.discord, test_bot(), options, async {
                let _ = signal.await;
            })
            .await
        });
        Process { shutdown, task }
    }

    async fn stop(self) -> Result<(), RunError> {
        let _ = self.shutdown.send(());
        tokio::time::timeout(Duration::from_secs(10), self.task).await.expect("the adapter stops").expect("no panic")
    }
}

/// `/helpchannel add channel` in the test server, on `shard`; returns the answer's REST front
/// (which process answered) and its text.
async fn add_on_shard(fake: &FakeDiscord, shard: u32, channel: u64) -> (usize, String) {
    let id = fake.next_id();
    let interaction = fake::subcommand(id, "helpchannel", "add", &[("channel", 7, json!(channel.to_string()))], true);
    fake.dispatch_to_shard(shard, "INTERACTION_CREATE", interaction);
    let call = fake.wait_calls("POST", &format!("/interactions/{id}/"), 1).await.pop().unwrap();
    (call.front, call.body["data"]["content"].as_str().expect("content").to_owned())
}

/// A message in `channel` of the test server from `author`, without a mention, on `shard`.
fn say_on_shard(fake: &FakeDiscord, shard: u32, author: &Value, channel: u64, content: &str) -> u64 {
    let id = fake.next_id();
    let mut message = fake::message(id, author, content, true, &[]);
    message["channel_id"] = json!(channel.to_string());
    fake.dispatch_to_shard(shard, "MESSAGE_CREATE", message);
    id
}

/// The posts answering message `id`.
fn answers_to(fake: &FakeDiscord, id: u64) -> Vec<crate::fake_discord::Call> {
    fake.calls_to("POST", "/messages")
        .into_iter()
        .filter(|call| call.body["message_reference"]["message_id"] == json!(id.to_string()))
        .collect()
}

/// Two processes on one PostgreSQL, shards 0 and 1 of 2. The test server is on shard 1
/// (`(guild_id >> 22) % 2`), so Discord sends its `/helpchannel` commands and its messages
/// there: the shard-1 process adds the channel and answers in it. A DM, even if it reached
/// shard 1, is answered once, by the shard-0 process. A help channel added through the other
/// process (as while two processes briefly run one shard during a rolling restart) is answered
/// by the shard-1 process once its copy in memory has caught up with the database.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_shards_on_two_processes_help_channels_are_answered_by_their_servers_shard() {
    let Some(schema) = crate::pg::schema().await else { return };
    assert_eq!((GUILD_ID >> 22) % 2, 1, "the test server is on shard 1 of 2");
    let fake = FakeDiscord::start_with_fronts(2, 41_250).await;
    fake.set_gateway_bot(2, 1);
    let first = Process::start(&fake, 0, &schema.url).await;
    let second = Process::start(&fake, 1, &schema.url).await;
    fake.wait_until(Duration::from_secs(20), "both shards", |fake| fake.connected_shards() == [0, 1]).await;
    let registrations = fake.wait_calls("PUT", "/commands", 1).await;
    assert_eq!(registrations.iter().map(|call| call.front).collect::<Vec<_>>(), [0], "by the shard-0 process");

    // The server's shard: its process adds the channel and answers there, at once.
    let (front, added) = add_on_shard(&fake, 1, CHANNEL_ID).await;
    assert_eq!(front, 1, "answered by the shard-1 process");
    assert!(added.contains("is now a help channel") && !added.contains(INTENT_OFF), "{added}");
    let asked = say_on_shard(&fake, 1, &fake::human(), CHANNEL_ID, "my calves twitch on long walks");
    fake.wait_until(Duration::from_secs(10), "the help channel answer", |fake| !answers_to(fake, asked).is_empty())
        .await;
    assert_eq!(answers_to(&fake, asked)[0].front, 1);

    // A DM reaching both shards: answered by the shard-0 process alone (the mention after it on
    // shard 1 is the barrier for shard 1's side).
    let dm = fake.next_id();
    let message = fake::message(dm, &fake::human(), "my calf twitches at night", false, &[]);
    fake.dispatch_to_shard(1, "MESSAGE_CREATE", message.clone());
    fake.dispatch_to_shard(0, "MESSAGE_CREATE", message);
    fake.wait_until(Duration::from_secs(10), "the DM answered", |fake| !answers_to(fake, dm).is_empty()).await;
    let barrier = fake.next_id();
    let content = format!("<@{BOT_ID}> my calf twitches");
    fake.dispatch_to_shard(
        1,
        "MESSAGE_CREATE",
        fake::message(barrier, &someone_else(), &content, true, &[fake::bot_user()]),
    );
    fake.wait_until(Duration::from_secs(10), "the barrier", |fake| !answers_to(fake, barrier).is_empty()).await;
    let dm_answers = answers_to(&fake, dm);
    assert_eq!(dm_answers.iter().map(|call| call.front).collect::<Vec<_>>(), [0], "once, by the shard-0 process");

    // A help channel added through the other process reaches the shard-1 process through the
    // database: a message every 50 ms (each from someone new, so no cooldown applies) until one
    // is answered, by the shard-1 process.
    let (front, added) = add_on_shard(&fake, 0, QUIET_CHANNEL_ID).await;
    assert_eq!(front, 0);
    assert!(added.contains("is now a help channel"), "{added}");
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    let mut asked = Vec::new();
    let answered_by = loop {
        if let Some(call) = asked.iter().find_map(|id| answers_to(&fake, *id).pop()) {
            break call.front;
        }
        assert!(std::time::Instant::now() < deadline, "the change made elsewhere was not seen");
        let author = fake::user(OTHER_USER_ID + 100 + asked.len() as u64, "walker", false);
        asked.push(say_on_shard(&fake, 1, &author, QUIET_CHANNEL_ID, "my hamstring cramps when I hike"));
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(answered_by, 1);

    first.stop().await.unwrap();
    second.stop().await.unwrap();
}
