//! The Discord adapter through the fake Discord on loopback:
//!
//! - criterion `discord/round_trip`: one DM dispatched on the gateway until its reply reaches the
//!   fake's REST endpoint, one at a time;
//! - criterion `discord/render/*`: laying a reply out as Discord messages, for the benchmark's
//!   typical answer and for the longest analysis (eight warnings and three causes, two messages);
//! - a paced run at about 200 events/s that prints p50 and p99 of the same latency (goal: p99
//!   at most 5 ms);
//! - the resident memory (`VmRSS`) of a real `crampbot run` process after READY (goal: at most
//!   30 MB), and that SIGTERM stops it cleanly.
//!
//! `cargo bench --bench discord` runs all three in well under a minute.

#![allow(clippy::missing_panics_doc, missing_docs)]

#[path = "../tests/it/fake_discord.rs"]
mod fake_discord;
#[path = "../tests/it/support.rs"]
mod support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group};

use fake_discord::FakeDiscord;
use support::Harness;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("runtime")
}

/// One DM answered: from the gateway dispatch until the fake received the reply.
async fn one_round_trip(harness: &Harness, n_before: usize) -> Duration {
    let id = harness.fake.next_id();
    let started = Instant::now();
    harness.fake.dispatch(
        "MESSAGE_CREATE",
        fake_discord::message(id, &fake_discord::human(), "my calf twitches on walks", false, &[]),
    );
    harness
        .fake
        .wait_until(Duration::from_secs(10), "the reply", |fake| fake.count("POST", "/messages") > n_before)
        .await;
    let reply = harness.fake.last_call("POST", "/messages").expect("a reply");
    reply.at.duration_since(started)
}

fn round_trip(c: &mut Criterion) {
    let runtime = runtime();
    let harness = runtime.block_on(Harness::start());
    let mut sent = 0;
    c.bench_function("discord/round_trip", |b| {
        b.iter_custom(|iters| {
            runtime.block_on(async {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    total += one_round_trip(&harness, sent).await;
                    sent += 1;
                }
                total
            })
        });
    });
    runtime.block_on(harness.stop()).expect("clean stop");
}

fn render(c: &mut Criterion) {
    let bot = support::test_bot();
    let typical = bot.ask("my calf twitches on walks");
    let sentences = "My calf is swollen, warm and red after a long flight. I have chest pain and I am short of breath. \
                     My back hurts with numbness in the groin and I can't control my bladder. Dark brown urine after a \
                     marathon. I feel dizzy and confused after walking in the heat. My foot is cold, pale and I can't \
                     feel a pulse. I heard a pop in my calf and can't walk on it. The twitching spreads and my leg is \
                     getting weaker. I am dehidrated and on water pills and statins. New running shoes and flat feet. \
                     Low magnesium and vitamin B12, vegan diet. ";
    let longest = bot.ask(&sentences.repeat(4).chars().take(4000).collect::<String>());
    c.bench_function("discord/render/typical", |b| {
        b.iter(|| crampbot::discord::render::messages(std::hint::black_box(&typical), None));
    });
    c.bench_function("discord/render/longest", |b| {
        b.iter(|| crampbot::discord::render::messages(std::hint::black_box(&longest), None));
    });
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    #[expect(clippy::cast_possible_truncation, clippy::cast_sign_loss, reason = "a small index")]
    let index = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[index]
}

/// 200 events per second for two seconds, open loop: latency from dispatch to reply received.
fn paced(events: usize, per_second: u32) -> (Duration, Duration, Duration) {
    let runtime = runtime();
    runtime.block_on(async {
        let harness = Harness::start().await;
        // Warm up the connection pool and the analyzer.
        for n in 0..20 {
            one_round_trip(&harness, n).await;
        }
        let warm = harness.fake.calls_to("POST", "/messages").len();
        let mut dispatched = HashMap::new();
        let mut ticker = tokio::time::interval(Duration::from_secs(1) / per_second);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        for _ in 0..events {
            ticker.tick().await;
            let id = harness.fake.next_id();
            dispatched.insert(format!("r{id}"), Instant::now());
            harness.fake.dispatch(
                "MESSAGE_CREATE",
                fake_discord::message(id, &fake_discord::human(), "my calf twitches on walks", false, &[]),
            );
        }
        let calls = harness.fake.wait_calls("POST", "/messages", warm + events).await;
        let mut latencies: Vec<Duration> = calls
            .iter()
            .filter_map(|call| dispatched.get(call.body["nonce"].as_str()?).map(|sent| call.at.duration_since(*sent)))
            .collect();
        assert_eq!(latencies.len(), events, "every event answered once");
        latencies.sort();
        harness.stop().await.expect("clean stop");
        (percentile(&latencies, 0.5), percentile(&latencies, 0.99), *latencies.last().expect("some"))
    })
}

fn vm_rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// Starts `crampbot run` against the fake, waits for READY's registration, reads `VmRSS`, and
/// stops it with SIGTERM. Returns the RSS in KiB and whether it exited cleanly.
fn process_rss() -> (u64, bool) {
    let runtime = runtime();
    runtime.block_on(async {
        let fake = FakeDiscord::start().await;
        let (args, _dir) = support::knowledge_args();
        let db = tempfile::tempdir().expect("a temporary folder");
        let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_crampbot"));
        command.args(args).env("CRAMPBOT_DATABASE", db.path().join("reminders.sqlite3"));
        let mut child = command
            .arg("run")
            .env("DISCORD_TOKEN", fake_discord::TOKEN)
            .env("DISCORD_API_BASE", &fake.base)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("crampbot runs");
        fake.wait_calls("PUT", "/commands", 1).await;
        // Answer a few messages so the numbers include a warm answer path.
        for n in 0..10 {
            let id = fake.next_id();
            fake.dispatch(
                "MESSAGE_CREATE",
                fake_discord::message(id, &fake_discord::human(), "my calf twitches", false, &[]),
            );
            fake.wait_calls("POST", "/messages", n + 1).await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let rss = vm_rss_kib(child.id());
        let _ = std::process::Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
        let deadline = Instant::now() + Duration::from_secs(10);
        let clean = loop {
            if let Some(status) = child.try_wait().expect("wait") {
                break status.success();
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                break false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        (rss, clean)
    })
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1));
    targets = round_trip, render
}

fn main() {
    benches();
    let (p50, p99, max) = paced(400, 200);
    let (rss, clean) = process_rss();
    let report = format!(
        "discord/paced 200 events/s x 400: p50 {:.2} ms, p99 {:.2} ms (goal <= 5), max {:.2} ms\n\
         crampbot run after READY: VmRSS {:.1} MB (goal <= 30), SIGTERM exit clean: {clean}\n",
        p50.as_secs_f64() * 1e3,
        p99.as_secs_f64() * 1e3,
        max.as_secs_f64() * 1e3,
        rss as f64 / 1024.0,
    );
    std::io::Write::write_all(&mut std::io::stderr(), report.as_bytes()).expect("stderr");
    Criterion::default().final_summary();
}
