//! `crampbot chat` end to end: a piped session through the real binary.

use std::io::Write as _;
use std::process::{Command, Stdio};

use crate::support::knowledge_args;

fn crampbot(args: &[String], stdin: &str) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_crampbot"))
        .args(args)
        .env_remove("DISCORD_TOKEN")
        .env_remove("CRAMPBOT_KNOWLEDGE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
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
