//! More than one process, end to end through the fake Discord, with the real `crampbot run`
//! binary: three processes on one PostgreSQL, each with its own shard and its own REST front of
//! the fake (so the test can tell which process made each call); and one process on `SQLite`
//! killed again and again while half of all sends fail.

use std::collections::{HashMap, HashSet};
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crampbot::clock::{Clock as _, SystemClock};
use crampbot::reminders::ReminderStore as _;
use crampbot::reminders::schedule::Occurrence;
use crampbot::reminders::scheduler::daily_nonce;
use crampbot::reminders::store::{DeliveryState, NewSubscription, Target, TargetKey};
use crampbot::store::{PgStore, SqliteStore};
use jiff::{SignedDuration, Timestamp};
use serde_json::json;

use crate::fake_discord::{self as fake, Chaos, FakeDiscord};

/// A `crampbot run` process whose log goes to a file.
struct Bot {
    child: Child,
    log: PathBuf,
}

impl Bot {
    fn start(fake_base: &str, database: &str, log: PathBuf, extra: &[(&str, &str)]) -> Bot {
        let (args, _dir) = crate::support::knowledge_args();
        assert!(args.is_empty(), "the built-in catalogue is used");
        let file = std::fs::File::create(&log).unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_crampbot"));
        command
            .arg("run")
            .env("DISCORD_TOKEN", fake::TOKEN)
            .env("DISCORD_API_BASE", fake_base)
            .env("CRAMPBOT_DATABASE", database)
            .env("RUST_LOG", "info,crampbot=debug")
            .env_remove("CRAMPBOT_GUILD_ID")
            .env_remove("CRAMPBOT_SHARDS")
            .env_remove("CRAMPBOT_SHARD_RANGE")
            .stdout(Stdio::null())
            .stderr(file);
        for (name, value) in extra {
            command.env(name, value);
        }
        Bot { child: command.spawn().unwrap(), log }
    }

    fn log(&self) -> String {
        let mut text = String::new();
        let _ = std::fs::File::open(&self.log).and_then(|mut file| file.read_to_string(&mut text));
        text
    }

    fn kill_9(&mut self) {
        assert!(Command::new("kill").args(["-KILL", &self.child.id().to_string()]).status().unwrap().success());
        let _ = self.child.wait();
    }

    fn stop(mut self) -> String {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = Command::new("kill").args(["-TERM", &self.child.id().to_string()]).status();
        }
        let _ = self.child.wait();
        self.log()
    }
}

impl Drop for Bot {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits (at most `limit`) until `check` holds, polling: the processes are outside this one.
async fn eventually(limit: Duration, what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `n` subscriptions due at `at`: even ones DMs, odd ones channel posts.
fn due_at(n: u64, at: Timestamp) -> Vec<NewSubscription> {
    spread(n, at, SignedDuration::ZERO)
}

/// `n` subscriptions, the first due at `first` and each next one `step` later.
fn spread(n: u64, first: Timestamp, step: SignedDuration) -> Vec<NewSubscription> {
    (0..n)
        .map(|i| {
            let at = first.saturating_add(step * i32::try_from(i).unwrap()).unwrap();
            let at = Timestamp::from_second(at.as_second()).unwrap();
            let local = jiff::tz::TimeZone::UTC.to_datetime(at);
            let target = if i % 2 == 0 {
                Target::User { user_id: 2_000_000_000_000_000_000 + i }
            } else {
                Target::Channel { guild_id: fake::GUILD_ID, channel_id: 3_000_000_000_000_000_000 + i, role_id: None }
            };
            NewSubscription {
                target,
                local_time: local.time(),
                zone: "UTC".to_owned(),
                silent: false,
                next: Occurrence { local_date: local.date(), at },
                set_by: Some(7),
            }
        })
        .collect()
}

/// The channel a reminder for `target` lands in.
fn channel_of(target: &Target) -> String {
    match *target {
        Target::User { user_id } => fake::dm_channel_of(user_id).to_string(),
        Target::Channel { channel_id, .. } => channel_id.to_string(),
    }
}

/// Every reminder created exactly once with its own nonce; returns how many each front made.
#[track_caller]
fn assert_exactly_once(fake: &FakeDiscord, subscriptions: &[NewSubscription]) -> HashMap<usize, usize> {
    let created = fake.created();
    let mut by_channel: HashMap<&str, Vec<&fake::Created>> = HashMap::new();
    for message in &created {
        by_channel.entry(message.channel.as_str()).or_default().push(message);
    }
    for new in subscriptions {
        let channel = channel_of(&new.target);
        let messages = by_channel.get(channel.as_str()).map_or(&[][..], Vec::as_slice);
        assert_eq!(messages.len(), 1, "{:?}: {} message(s), none lost and none doubled", new.target, messages.len());
        let expected = daily_nonce(new.target.key(), new.next.local_date);
        assert_eq!(messages[0].nonce.as_deref(), Some(expected.as_str()));
    }
    let nonces: HashSet<&str> = created.iter().filter_map(|message| message.nonce.as_deref()).collect();
    assert_eq!(nonces.len(), created.len(), "every nonce unique");
    let mut per_front = HashMap::new();
    for message in &created {
        *per_front.entry(message.front).or_insert(0) += 1;
    }
    per_front
}

/// Three processes, shards 0, 1 and 2 of 3, one PostgreSQL; 2,000 reminders due in the same
/// second. One process is killed with `kill -9` while delivering: its claims are taken over when
/// their lease runs out. Every reminder arrives once, with its own nonce. The processes log in
/// one after another; only the shard-0 process registers the commands; a DM, even when it
/// reaches every shard, is answered once, by the shard-0 process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_on_one_postgres_deliver_2000_reminders_once_through_a_kill_9() {
    let Some(schema) = crate::pg::schema().await else { return };
    let started = Instant::now();
    let fake = FakeDiscord::start_with_fronts(3, 41_250).await;
    fake.set_gateway_bot(3, 1);
    let store = PgStore::connect(&schema.url, 2).await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    // Due once every process is up: the last logs in 10 s after the first.
    let due = SystemClock.now().saturating_add(SignedDuration::from_secs(14)).unwrap();
    let due = Timestamp::from_second(due.as_second()).unwrap();
    let subscriptions = due_at(2000, due);
    store.insert_many(&subscriptions, SystemClock.now()).await.unwrap();

    let mut bots: Vec<Bot> = (0..3)
        .map(|shard| {
            let range = shard.to_string();
            Bot::start(
                &fake.fronts[shard],
                &schema.url,
                dir.path().join(format!("bot{shard}.log")),
                &[
                    ("CRAMPBOT_SHARDS", "3"),
                    ("CRAMPBOT_SHARD_RANGE", range.as_str()),
                    ("CRAMPBOT_LEASE_SECONDS", "3"),
                    ("CRAMPBOT_POOL_SIZE", "4"),
                    // Slow enough that the kill lands mid-delivery: 3 processes share 2,000.
                    ("CRAMPBOT_REQUESTS_PER_SECOND", "150"),
                ],
            )
        })
        .collect();
    eventually(Duration::from_secs(30), "three shards logged in", || fake.connected_shards() == [0, 1, 2]).await;
    let logins = fake.identifies();
    let mut times: Vec<Instant> = logins.iter().map(|(_, _, at)| *at).collect();
    times.sort();
    for pair in times.windows(2) {
        assert!(pair[1].duration_since(pair[0]) >= Duration::from_secs(4), "logins spaced: {logins:?}");
    }
    assert!(logins.iter().all(|(_, total, _)| *total == 3));

    // Mid-delivery, process 1 dies without a chance to record anything.
    eventually(Duration::from_secs(40), "the first reminders", || fake.created_count() >= 150).await;
    bots[1].kill_9();
    let killed_at = fake.created_count();
    eventually(Duration::from_secs(60), "every reminder", || fake.created_count() >= 2000).await;
    let delivered_in = started.elapsed();
    let per_front = assert_exactly_once(&fake, &subscriptions);
    for front in [0, 2] {
        assert!(per_front.get(&front).copied().unwrap_or(0) > 100, "every live process delivered: {per_front:?}");
    }
    assert!(killed_at < 2000, "the kill came mid-delivery");

    // Every record says sent, by whichever process.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut unsent = 0;
        for new in subscriptions.iter().step_by(40) {
            let records = store.deliveries(new.target.key(), 1).await.unwrap();
            unsent += usize::from(records.first().is_none_or(|record| record.state != DeliveryState::Sent));
        }
        if unsent == 0 {
            break;
        }
        assert!(Instant::now() < deadline, "{unsent} sampled records not yet recorded sent");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let took_over = bots[0].log().matches("taking over an unfinished reminder").count()
        + bots[2].log().matches("taking over an unfinished reminder").count();

    // Commands were registered once, by the shard-0 process (front 0).
    let registrations = fake.calls_to("PUT", "/commands");
    assert_eq!(registrations.iter().map(|call| call.front).collect::<Vec<_>>(), [0]);

    // A DM reaching every live shard is answered once, by the shard-0 process.
    let id = fake.next_id();
    let dm = fake::message(id, &fake::human(), "my calf twitches at night", false, &[]);
    fake.dispatch_to_shard(2, "MESSAGE_CREATE", dm.clone());
    fake.dispatch_to_shard(0, "MESSAGE_CREATE", dm);
    eventually(Duration::from_secs(10), "shard 2 to see and ignore the DM", || {
        bots[2].log().contains("a DM on a shard other than 0")
    })
    .await;
    let answers = fake.wait_calls("POST", &format!("/channels/{}/messages", fake::DM_CHANNEL_ID), 1).await;
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].front, 0, "answered by the shard-0 process");
    assert_eq!(answers[0].body["message_reference"]["message_id"], json!(id.to_string()));

    let logs: Vec<String> = bots.drain(..).map(Bot::stop).collect();
    for log in &logs {
        assert!(!log.contains("my calf twitches"), "no message content in logs");
        assert!(!log.contains(fake::TOKEN), "no token in logs");
    }
    eprintln!(
        "scale e2e: 2000 reminders over 3 processes (kill -9 at {killed_at} created) in {delivered_in:?}; per front {per_front:?}; {} nonce repeats absorbed; {took_over} takeover(s); whole test {:?}",
        fake.deduped(),
        started.elapsed()
    );
}

/// One process on `SQLite`, killed with `kill -9` every 1 to 4 s while half of all sends fail
/// (429 or 503, some after the message was made): 60 reminders falling due one every 300 ms, so
/// the kills land all through the deliveries; none lost, none doubled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kill_9_every_few_seconds_with_half_the_sends_failing_loses_and_doubles_nothing() {
    let started = Instant::now();
    let fake = FakeDiscord::start().await;
    fake.set_chaos(Some(Chaos { path_part: "/channels".to_owned(), percent: 50, seed: 0x5eed_1234_abcd_0001 }));
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("soak.sqlite3");
    let due = SystemClock.now().saturating_add(SignedDuration::from_secs(2)).unwrap();
    let due = Timestamp::from_second(due.as_second()).unwrap();
    let subscriptions = spread(60, due, SignedDuration::from_millis(300));
    SqliteStore::open(&db).unwrap().insert_many(&subscriptions, SystemClock.now()).unwrap();
    let database = db.display().to_string();
    let mut rng = 0x9e37_79b9_7f4a_7c15_u64;
    let mut kills = 0;
    let mut round = 0;
    while fake.created_count() < 60 {
        assert!(started.elapsed() < Duration::from_secs(90), "soak took too long: {} of 60", fake.created_count());
        let mut bot = Bot::start(&fake.base, &database, dir.path().join(format!("soak{round}.log")), &[]);
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let life = Duration::from_millis(1000 + rng % 3000);
        let until = Instant::now() + life;
        while Instant::now() < until && fake.created_count() < 60 {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        bot.kill_9();
        kills += 1;
        round += 1;
    }
    // Let a last process record the outcomes, then check every record.
    let last = Bot::start(&fake.base, &database, dir.path().join("soak-last.log"), &[]);
    let store = SqliteStore::open(&db).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let mut settled = 0;
        for new in &subscriptions {
            let records = store.deliveries(new.target.key(), 1).await.unwrap();
            settled += usize::from(records.first().is_some_and(|record| record.state == DeliveryState::Sent));
        }
        if settled == subscriptions.len() {
            break;
        }
        assert!(Instant::now() < deadline, "{settled} of 60 recorded sent");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let log = last.stop();
    assert!(!log.contains("given up"), "nothing given up: {log}");
    assert_exactly_once(&fake, &subscriptions);
    assert_eq!(store.deliveries(TargetKey::User(2_000_000_000_000_000_000), 5).await.unwrap().len(), 1);
    let posts = fake.calls().iter().filter(|call| call.method == "POST").count();
    eprintln!(
        "soak: 60 reminders, {kills} kill -9, {posts} POSTs for 60 messages (half failing), {} nonce repeats absorbed, {:?}",
        fake.deduped(),
        started.elapsed()
    );
    let _ = Path::new(&database);
}

/// A second `crampbot run` on the SQLite file of a running one stops before connecting, saying
/// why; the first keeps running.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_second_run_on_one_sqlite_file_stops_and_says_why() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("one.sqlite3").display().to_string();
    let first = Bot::start(&fake.base, &database, dir.path().join("first.log"), &[]);
    fake.wait_calls("PUT", "/commands", 1).await;
    let second = Command::new(env!("CARGO_BIN_EXE_crampbot"))
        .arg("run")
        .env("DISCORD_TOKEN", fake::TOKEN)
        .env("DISCORD_API_BASE", &fake.base)
        .env("CRAMPBOT_DATABASE", &database)
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    assert!(!second.status.success());
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("another crampbot scheduler is already running") && err.contains("PostgreSQL"), "{err}");
    assert_eq!(fake.stats().identifies, 1, "the second never logged in");
    first.stop();
}
