//! `crampbot chat` end to end: a piped session through the real binary.

use std::io::Write as _;

use crate::support::knowledge_args;

fn crampbot(args: &[String], stdin: &str) -> std::process::Output {
    let db = tempfile::tempdir().unwrap();
    crampbot_on(&db.path().join("reminders.sqlite3"), args, stdin)
}

/// Runs the binary with its reminder database at `db`.
fn crampbot_on(db: &std::path::Path, args: &[String], stdin: &str) -> std::process::Output {
    crate::support::run_binary(db, args, stdin)
}

#[test]
fn a_piped_session_answers_like_ask_and_quits() {
    let (mut args, _dir) = knowledge_args();
    let session = "my calf twitches when I walk\n\n/cause dehydration\n/causes\n/tips treatment\n/about\n/help\n/frobnicate\n/quit\nafter quit\n";
    let mut chat_args = args.clone();
    chat_args.push("chat".to_owned());
    let chat = crampbot(&chat_args, session);
    assert!(chat.status.success(), "{}", String::from_utf8_lossy(&chat.stderr));
    let out = String::from_utf8(chat.stdout).unwrap();
    assert!(!out.contains("> "), "no prompt when stdin is not a terminal");

    args.extend(["ask".to_owned(), "my calf twitches when I walk".to_owned()]);
    let ask = crampbot(&args, "");
    assert!(ask.status.success());
    let ask_out = String::from_utf8(ask.stdout).unwrap();
    assert!(out.starts_with(&ask_out), "chat answers free text exactly as ask does");

    let bot = crate::support::test_bot();
    for reply in [
        bot.cause_card("dehydration"),
        bot.cause_list(),
        bot.tips(crampbot::bot::TipsKind::Treatment),
        bot.about(),
        bot.help(),
    ] {
        assert!(out.contains(&crampbot::reply::render_text(&reply)), "missing {:?}", reply.title);
    }
    assert!(out.contains("Unknown command /frobnicate"));
    assert_eq!(out.matches(bot.help().guidance()).count(), 6, "six answers, none after /quit");
}

#[test]
fn the_session_ends_at_end_of_input_without_quit() {
    let (mut args, _dir) = knowledge_args();
    args.push("chat".to_owned());
    let chat = crampbot(&args, "/help");
    assert!(chat.status.success());
    assert!(String::from_utf8(chat.stdout).unwrap().contains("/cause"));
}

#[test]
fn run_without_a_token_says_how_to_get_one() {
    let (mut args, _dir) = knowledge_args();
    args.push("run".to_owned());
    let run = crampbot(&args, "");
    assert!(!run.status.success());
    let err = String::from_utf8(run.stderr).unwrap();
    assert!(
        err.contains("DISCORD_TOKEN") && err.contains("discord.com/developers") && err.contains("crampbot chat"),
        "{err}"
    );
}

#[test]
fn reminders_in_the_console_are_set_kept_in_the_database_and_forgotten() {
    let (mut args, _dir) = knowledge_args();
    args.push("chat".to_owned());
    let db_dir = tempfile::tempdir().unwrap();
    let db = db_dir.path().join("reminders.sqlite3");

    let first = crampbot_on(
        &db,
        &args,
        "/remind set 09:00 Europe/Lndon\n/remind set 09:00 Europe/London\n/hydration set\n/remind snooze 60\n/quit\n",
    );
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    let out = String::from_utf8(first.stdout).unwrap();
    assert!(out.contains("Sorry,"), "a misspelt zone gets the core's error: {out}");
    assert!(
        out.contains("Daily hydration reminder set: I'll send you a DM every day at 09:00 (Europe/London)"),
        "{out}"
    );
    assert!(
        out.contains(" 09:00 GMT (in ") || out.contains(" 09:00 BST (in "),
        "times shown in the reminder's own zone: {out}"
    );
    assert!(!out.contains("<t:"), "{out}");
    assert!(out.contains("need a Discord server"), "{out}");
    assert!(out.contains("Snoozed."), "{out}");

    let second = crampbot_on(&db, &args, "/remind show\n/forget\n/remind show\n");
    let out = String::from_utf8(second.stdout).unwrap();
    assert!(out.contains("Daily reminder at 09:00 (Europe/London)"), "kept in the database: {out}");
    assert!(out.contains("Done: your reminder"), "{out}");
    assert!(out.contains("You have no daily reminder"), "{out}");
}

/// What works on Discord works in the console: Discord's option form as well as the positional
/// one, and a typo close to exactly one cause shows that cause's card.
#[test]
fn the_console_takes_discords_option_form_and_shows_the_only_close_cause() {
    let (mut args, _dir) = knowledge_args();
    args.push("chat".to_owned());
    let session = "/remind set time:07:30 timezone:Europe/London\n/remind show\n/remind set 08:15 Europe/Paris silent\n\
                   /remind show\n/remind set time:09:45 timezone:UTC silent:true\n/remind snooze minutes:60\n\
                   /cause name:nerve issues\n/tips kind:treatment\n/cause sciatca\n/quit\n";
    let chat = crampbot(&args, session);
    assert!(chat.status.success(), "{}", String::from_utf8_lossy(&chat.stderr));
    let out = String::from_utf8(chat.stdout).unwrap();
    assert!(out.contains("every day at 07:30 (Europe/London)"), "the option form sets the reminder: {out}");
    assert!(out.contains("Daily reminder at 07:30 (Europe/London)"), "{out}");
    assert!(out.contains("every day at 08:15 (Europe/Paris)"), "the positional form still works: {out}");
    assert!(out.contains("every day at 09:45 (UTC)"), "{out}");
    assert!(out.contains("Snoozed."), "{out}");
    assert!(!out.contains("Usage:"), "every line understood: {out}");
    let bot = crate::support::test_bot();
    let card = crampbot::reply::render_text(&bot.cause_card("nerve_issues"));
    assert_eq!(out.matches(&card).count(), 2, "/cause name:nerve issues and /cause sciatca both show the card");
    assert!(out.contains(&crampbot::reply::render_text(&bot.tips(crampbot::bot::TipsKind::Treatment))));
    assert!(!out.contains("Did you mean"), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_due_reminder_prints_in_the_terminal_while_the_chat_runs() {
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use crampbot::clock::ManualClock;
    use crampbot::reminders::SchedulerOptions;
    use crampbot::store::SqliteStore;

    let clock = ManualClock::new("2026-06-01T08:59:00Z".parse().unwrap());
    let store = Arc::new(SqliteStore::open_in_memory().unwrap());
    let (reader, mut writer) = std::io::pipe().unwrap();
    let output = Arc::new(Mutex::new(Vec::<u8>::new()));
    let options = SchedulerOptions { max_sleep: Duration::from_millis(50), ..SchedulerOptions::default() };
    let session = tokio::spawn(crampbot::console::chat(
        crate::support::test_bot(),
        store,
        Arc::new(clock.clone()),
        options,
        std::io::BufReader::new(reader),
        Arc::clone(&output),
        false,
    ));
    let text = || String::from_utf8(output.lock().unwrap().clone()).unwrap();
    let wait_for = |needle: &'static str| {
        let text = &text;
        async move {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
            while !text().contains(needle) {
                assert!(tokio::time::Instant::now() < deadline, "no {needle:?} in {}", text());
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
        }
    };
    writer.write_all(b"/remind set 09:00 UTC\n").unwrap();
    wait_for("Daily hydration reminder set").await;
    assert!(!text().contains("[reminder]"), "not due yet");
    clock.set("2026-06-01T08:59:59.950Z".parse().unwrap());
    wait_for("[reminder]").await;
    assert!(text().contains("glass of water") && text().contains("/remind off"), "{}", text());
    drop(writer);
    session.await.unwrap().unwrap();
    assert_eq!(text().matches("[reminder]").count(), 1);
}

/// `kill -9` at any moment loses nothing that was confirmed and corrupts nothing: a chat process
/// keeps changing its reminder and is killed after a different number of confirmations each
/// round; the database must pass SQLite's integrity check and hold the last confirmed time or a
/// later one that was already sent to the process.
#[test]
fn kill_9_during_writes_loses_nothing_confirmed_and_corrupts_nothing() {
    use std::io::BufRead as _;

    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("reminders.sqlite3");
    let times: Vec<String> = (0..240).map(|i| format!("{:02}:{:02}", (i / 60) % 24, i % 60)).collect();
    for (round, kill_after) in [1usize, 7, 23, 61, 150].into_iter().enumerate() {
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_crampbot"))
            .arg("chat")
            .env("CRAMPBOT_DATABASE", &db)
            .env_remove("DISCORD_TOKEN")
            .env_remove("RUST_LOG")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        let mut stdin = child.stdin.take().unwrap();
        let session: String = times.iter().flat_map(|time| ["/remind set ", time.as_str(), " UTC\n"]).collect();
        // Write from a thread: the pipe may fill before the process reads it all.
        let writer = std::thread::spawn(move || {
            let _ = stdin.write_all(session.as_bytes());
        });
        let mut confirmed: Option<usize> = None;
        let mut lines = std::io::BufReader::new(child.stdout.take().unwrap()).lines();
        let mut seen = 0;
        while let Some(Ok(line)) = lines.next() {
            if let Some(at) = line.find("every day at ") {
                let time = &line[at + "every day at ".len()..at + "every day at ".len() + 5];
                confirmed = times.iter().position(|t| t == time);
                seen += 1;
                if seen == kill_after {
                    child.kill().unwrap(); // SIGKILL: no chance to clean up
                    break;
                }
            }
        }
        child.wait().unwrap();
        let _ = writer.join();
        let confirmed = confirmed.expect("at least one confirmation before the kill");

        let connection = rusqlite::Connection::open(&db).unwrap();
        let integrity: String = connection.query_row("PRAGMA integrity_check", [], |row| row.get(0)).unwrap();
        assert_eq!(integrity, "ok", "round {round}");
        let stored: String = connection
            .query_row("SELECT local_time FROM subscriptions WHERE kind = 'user' AND user_id = 0", [], |row| row.get(0))
            .unwrap();
        let stored_index = times.iter().position(|t| *t == stored).expect("a time the test sent");
        assert!(
            stored_index >= confirmed,
            "round {round}: confirmed {} but the database has {stored}",
            times[confirmed]
        );
    }
}
