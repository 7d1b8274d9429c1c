//! End-to-end tests of the Discord adapter: the real serenity client against the fake Discord,
//! asserting the exact REST calls it makes. Plus rendering tests without network.

use std::time::Duration;

use crampbot::bot::{MAX_CHOICE_CHARS, MAX_CHOICES};
use crampbot::discord::render::{self, units};
use crampbot::discord::{RunError, RunOptions, commands};
use crampbot::knowledge::{CAUSE_IDS, Source, Urgency};
use crampbot::reply::{Alert, Item, Reply, ReplyKind, Section};
use serde_json::{Value, json};

use crate::fake_discord::{self as fake, APP_ID, BOT_ID, CHANNEL_ID, DM_CHANNEL_ID, Fault, GUILD_ID};
use crate::support::{Harness, test_bot, test_options};

/// Asserts every Discord limit on a message or interaction-callback body, and that it pings
/// nobody. Lengths in UTF-16 units, as the renderer counts them.
#[track_caller]
fn check_message(body: &Value) {
    let data = if body.get("type").is_some() && body.get("data").is_some() { &body["data"] } else { body };
    if let Some(content) = data["content"].as_str() {
        assert!(units(content) <= 2000, "content too long");
    }
    assert_eq!(data["allowed_mentions"]["parse"], json!([]), "allowed_mentions must parse nothing: {data}");
    assert_eq!(data["allowed_mentions"]["users"], json!([]));
    assert_eq!(data["allowed_mentions"]["roles"], json!([]));
    assert_eq!(data["allowed_mentions"]["replied_user"], json!(false));
    let embeds = data["embeds"].as_array().cloned().unwrap_or_default();
    assert!(embeds.len() <= 10, "{} embeds", embeds.len());
    let mut total = 0;
    for embed in &embeds {
        let len = |key: &str| embed[key].as_str().map_or(0, units);
        assert!(len("title") <= 256);
        assert!(len("description") <= 4096);
        total += len("title") + len("description");
        let fields = embed["fields"].as_array().cloned().unwrap_or_default();
        assert!(fields.len() <= 25, "{} fields", fields.len());
        for field in &fields {
            let name = field["name"].as_str().expect("field name");
            let value = field["value"].as_str().expect("field value");
            assert!((1..=256).contains(&units(name)), "field name length {}", units(name));
            assert!((1..=1024).contains(&units(value)), "field value length {}", units(value));
            total += units(name) + units(value);
        }
        if let Some(footer) = embed["footer"]["text"].as_str() {
            assert!(units(footer) <= 2048);
            total += units(footer);
        }
    }
    assert!(total <= 6000, "embeds total {total}");
    for row in data["components"].as_array().cloned().unwrap_or_default() {
        let buttons = row["components"].as_array().cloned().unwrap_or_default();
        assert!((1..=5).contains(&buttons.len()));
        for button in buttons {
            assert!(button["custom_id"].as_str().is_some_and(|id| (1..=100).contains(&id.len())));
            assert!(button["label"].as_str().is_some_and(|label| units(label) <= 80));
        }
    }
    assert!(data["components"].as_array().is_none_or(|rows| rows.len() <= 5));
}

/// The guidance the bot carries, which every answer must show.
fn guidance() -> String {
    test_bot().help().guidance().to_owned()
}

#[track_caller]
fn footer_of_last_embed(body: &Value) -> String {
    let data = if body.get("data").is_some() { &body["data"] } else { body };
    let embeds = data["embeds"].as_array().expect("embeds");
    embeds.last().expect("an embed")["footer"]["text"].as_str().expect("a footer").to_owned()
}

fn mention() -> String {
    format!("<@{BOT_ID}>")
}

/// Sends a DM that the bot answers, and waits for the answer: a barrier that orders the test.
async fn barrier(harness: &Harness, n_before: usize) {
    let id = harness.fake.next_id();
    harness.fake.dispatch("MESSAGE_CREATE", fake::message(id, &fake::human(), "my calf twitches", false, &[]));
    harness.fake.wait_calls("POST", "/messages", n_before + 1).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_guild_mention_gets_a_reply_to_that_message_that_pings_nobody() {
    let harness = Harness::start().await;
    let id = harness.fake.next_id();
    let content = format!("{} my calf twitches when I walk", mention());
    harness.fake.dispatch("MESSAGE_CREATE", fake::message(id, &fake::human(), &content, true, &[fake::bot_user()]));
    let calls = harness.fake.wait_calls("POST", "/messages", 1).await;
    let call = &calls[0];
    assert_eq!(call.path, format!("/api/v10/channels/{CHANNEL_ID}/messages"));
    assert!(call.authorized, "the token is sent as `Bot <token>`");
    let body = &call.body;
    assert_eq!(body["message_reference"]["message_id"], json!(id.to_string()));
    assert_eq!(body["message_reference"]["channel_id"], json!(CHANNEL_ID.to_string()));
    assert_eq!(body["message_reference"]["fail_if_not_exists"], json!(false));
    assert_eq!(body["nonce"], json!(format!("r{id}")));
    assert_eq!(body["enforce_nonce"], json!(true));
    check_message(body);
    assert_eq!(footer_of_last_embed(body), guidance());
    let expected = test_bot().ask("my calf twitches when I walk");
    assert_eq!(body["embeds"].as_array().unwrap().last().unwrap()["title"], json!(expected.title));
    harness.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dm_gets_a_reply_in_the_dm() {
    let harness = Harness::start().await;
    let id = harness.fake.next_id();
    harness.fake.dispatch("MESSAGE_CREATE", fake::message(id, &fake::human(), "hamstring cramps on hikes", false, &[]));
    let calls = harness.fake.wait_calls("POST", "/messages", 1).await;
    assert_eq!(calls[0].path, format!("/api/v10/channels/{DM_CHANNEL_ID}/messages"));
    assert_eq!(calls[0].body["message_reference"]["message_id"], json!(id.to_string()));
    check_message(&calls[0].body);
    assert_eq!(footer_of_last_embed(&calls[0].body), guidance());
    harness.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bots_itself_and_unmentioned_guild_messages_get_no_reply() {
    let harness = Harness::start().await;
    let other_bot = fake::user(fake::OTHER_BOT_ID, "otherbot", true);
    let with_mention = format!("{} my calf twitches", mention());
    for (author, content, guild, mentions) in [
        (fake::bot_user(), "my calf twitches".to_owned(), false, vec![]),
        (fake::bot_user(), with_mention.clone(), true, vec![fake::bot_user()]),
        (other_bot.clone(), with_mention.clone(), true, vec![fake::bot_user()]),
        (other_bot, "my calf twitches".to_owned(), false, vec![]),
        (fake::human(), "my calf twitches, no mention".to_owned(), true, vec![]),
    ] {
        let id = harness.fake.next_id();
        harness.fake.dispatch("MESSAGE_CREATE", fake::message(id, &author, &content, guild, &mentions));
    }
    barrier(&harness, 0).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(harness.fake.calls_to("POST", "/messages").len(), 1, "only the barrier is answered");
    harness.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_everyone_injection_is_answered_without_pinging_anyone() {
    let harness = Harness::start().await;
    let id = harness.fake.next_id();
    let content = format!("@everyone @here <@&123> {} my calf twitches", mention());
    let mut message = fake::message(id, &fake::human(), &content, true, &[fake::bot_user()]);
    message["mention_everyone"] = json!(true);
    harness.fake.dispatch("MESSAGE_CREATE", message);
    let calls = harness.fake.wait_calls("POST", "/messages", 1).await;
    check_message(&calls[0].body);
    assert_eq!(
        calls[0].body["allowed_mentions"],
        json!({"parse": [], "users": [], "roles": [], "replied_user": false})
    );
    harness.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_longest_message_is_answered_within_every_limit() {
    let harness = Harness::start().await;
    // Many causes and warning signs at once, at Nitro's 4,000-character message limit.
    let sentence = "My calf is swollen, warm and red after a long flight, I have chest pain and I am short of \
                    breath, my back hurts with numbness in the groin, dark urine after a marathon in the heat, \
                    I am dehidrated, on water pills and statins, new shoes, low magnesium, sciatica, 🦵🦵 ";
    let content: String = format!("{} {}", mention(), sentence.repeat(20)).chars().take(4000).collect();
    harness.fake.dispatch(
        "MESSAGE_CREATE",
        fake::message(harness.fake.next_id(), &fake::human(), &content, true, &[fake::bot_user()]),
    );
    let expected = test_bot().ask(content.trim_start_matches(&mention()).trim());
    let plan = render::plan(&expected);
    let calls = harness.fake.wait_calls("POST", "/messages", plan.messages.len()).await;
    assert_eq!(calls.len(), plan.messages.len());
    for call in &calls {
        check_message(&call.body);
        assert_eq!(footer_of_last_embed(&call.body), guidance(), "every message carries the guidance");
    }
    let titles: Vec<&Value> =
        calls.iter().flat_map(|call| call.body["embeds"].as_array().unwrap()).map(|e| &e["title"]).collect();
    assert!(titles.len() > expected.alerts.len(), "the alerts, then the body");
    for (alert, title) in expected.alerts.iter().zip(&titles) {
        assert!(title.as_str().unwrap().contains(&alert.title), "one embed per alert first, most urgent first");
    }
    harness.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_mention_gets_the_help() {
    let harness = Harness::start().await;
    let id = harness.fake.next_id();
    harness.fake.dispatch("MESSAGE_CREATE", fake::message(id, &fake::human(), &mention(), true, &[fake::bot_user()]));
    let calls = harness.fake.wait_calls("POST", "/messages", 1).await;
    let body = &calls[0].body;
    check_message(body);
    assert_eq!(body["embeds"].as_array().unwrap().last().unwrap()["title"], json!(test_bot().help().title));
    harness.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_are_registered_globally_for_server_and_user_installs() {
    let harness = Harness::start().await;
    let calls = harness.fake.calls_to("PUT", "/commands");
    assert_eq!(calls[0].path, format!("/api/v10/applications/{APP_ID}/commands"));
    let names: Vec<&str> = calls[0].body.as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect();
    let expected: Vec<&str> = commands::COMMANDS.iter().map(|def| def.name).collect();
    assert_eq!(names, expected);
    for command in calls[0].body.as_array().unwrap() {
        let name = command["name"].as_str().unwrap();
        if ["hydration", "helpchannel"].contains(&name) {
            assert_eq!(command["integration_types"], json!([0]), "/{name} is for servers that installed the bot");
            assert_eq!(command["contexts"], json!([0]), "/{name} is set in a server");
            assert_eq!(command["default_member_permissions"], json!("32"), "MANAGE_GUILD");
        } else {
            assert_eq!(command["integration_types"], json!([0, 1]), "/{name}: server and user installs");
            assert_eq!(command["contexts"], json!([0, 1, 2]), "/{name}: servers, the bot's DMs and other DMs");
        }
    }
    for name in ["ask", "cause", "causes", "tips", "about", "help", "remind"] {
        assert!(names.contains(&name), "/{name} is registered");
    }
    harness.stop().await.unwrap();
}

/// A command, its options, and the reply it must show.
type UserCase<'a> = (&'a str, Vec<(&'a str, Value)>, Reply);

/// An app installed to a user's account is used where the bot is not: a group DM between people
/// (context 2) or a server it was never invited to (context 0), both authorized by the user. Every
/// command answers through the interaction callback, never a channel message, with the same reply
/// as anywhere else.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_installed_app_answers_through_the_interaction_where_the_bot_is_not() {
    let harness = Harness::start().await;
    let bot = test_bot();
    let cases: Vec<UserCase> = vec![
        (
            "ask",
            vec![("description", json!("my calves twitch on long walks"))],
            bot.ask("my calves twitch on long walks"),
        ),
        ("cause", vec![("name", json!("nerve_issues"))], bot.cause_card("nerve_issues")),
        ("causes", vec![], bot.cause_list()),
        ("tips", vec![("kind", json!("treatment"))], bot.tips(crampbot::bot::TipsKind::Treatment)),
        ("about", vec![], bot.about()),
        ("help", vec![], bot.help()),
    ];
    for in_guild in [false, true] {
        for (name, options, expected) in &cases {
            let id = harness.fake.next_id();
            let interaction = fake::user_installed(fake::command(id, name, options, in_guild), in_guild);
            assert_eq!(interaction["context"], json!(if in_guild { 0 } else { 2 }));
            assert_eq!(interaction["authorizing_integration_owners"], json!({"1": fake::USER_ID.to_string()}));
            harness.fake.dispatch("INTERACTION_CREATE", interaction);
            let calls = harness.fake.wait_calls("POST", &format!("/interactions/{id}/itoken{id}/callback"), 1).await;
            let body = &calls[0].body;
            assert_eq!(body["type"], json!(4), "/{name} answers in the callback");
            check_message(body);
            assert_eq!(footer_of_last_embed(body), guidance(), "/{name} carries the guidance");
            let planned = render::interaction_messages(expected, false);
            let planned = serde_json::to_value(&planned.first).unwrap();
            assert_eq!(body["data"]["embeds"], planned["embeds"], "/{name}: the same reply as anywhere else");
        }
    }
    // /remind works for a user install too (this bot runs without reminders, and says so).
    let id = harness.fake.next_id();
    let interaction = fake::user_installed(fake::subcommand(id, "remind", "show", &[], false), false);
    harness.fake.dispatch("INTERACTION_CREATE", interaction);
    let calls = harness.fake.wait_calls("POST", &format!("/interactions/{id}/"), 1).await;
    assert_eq!(calls[0].body["data"]["content"], json!(crampbot::discord::NO_REMINDERS));
    assert_eq!(calls[0].body["data"]["flags"], json!(64));
    assert_eq!(harness.fake.count("POST", "/channels/"), 0, "never a channel message");
    harness.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_are_registered_to_the_configured_guild() {
    let harness = Harness::start_with(test_options(), Some(GUILD_ID)).await;
    let calls = harness.fake.calls_to("PUT", "/commands");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].path, format!("/api/v10/applications/{APP_ID}/guilds/{GUILD_ID}/commands"));
    harness.stop().await.unwrap();
}

/// A command, its options, whether it is private, and the reply it must show.
type Case<'a> = (&'a str, Vec<(&'a str, Value)>, bool, Reply);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_slash_command_is_answered_through_the_callback() {
    let harness = Harness::start().await;
    let bot = test_bot();
    let cases: Vec<Case> = vec![
        (
            "ask",
            vec![("description", json!("my calves twitch on long walks"))],
            false,
            bot.ask("my calves twitch on long walks"),
        ),
        ("ask", vec![("description", json!("cramps")), ("private", json!(true))], true, bot.ask("cramps")),
        ("cause", vec![("name", json!(CAUSE_IDS[0]))], false, bot.cause_card(CAUSE_IDS[0])),
        ("causes", vec![], false, bot.cause_list()),
        ("tips", vec![], false, bot.tips(crampbot::bot::TipsKind::Prevention)),
        ("tips", vec![("kind", json!("treatment"))], false, bot.tips(crampbot::bot::TipsKind::Treatment)),
        ("about", vec![], false, bot.about()),
        ("help", vec![], false, bot.help()),
    ];
    for (name, options, private, expected) in cases {
        let id = harness.fake.next_id();
        harness.fake.dispatch("INTERACTION_CREATE", fake::command(id, name, &options, id % 2 == 0));
        let path = format!("/interactions/{id}/itoken{id}/callback");
        let calls = harness.fake.wait_calls("POST", &path, 1).await;
        let body = &calls[0].body;
        assert_eq!(body["type"], json!(4), "/{name} answers at once");
        check_message(body);
        assert_eq!(footer_of_last_embed(body), guidance(), "/{name} carries the guidance");
        let titles: Vec<&Value> = body["data"]["embeds"].as_array().unwrap().iter().map(|e| &e["title"]).collect();
        assert_eq!(*titles.last().unwrap(), &json!(expected.title), "/{name}");
        assert_eq!(body["data"]["flags"].as_u64().unwrap_or(0) & 64 != 0, private, "/{name} ephemeral");
    }
    harness.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_submitted_cause_that_is_no_cause_is_answered_privately() {
    let harness = Harness::start().await;
    let id = harness.fake.next_id();
    harness.fake.dispatch("INTERACTION_CREATE", fake::command(id, "cause", &[("name", json!("kidney stones"))], true));
    let calls = harness.fake.wait_calls("POST", &format!("/interactions/{id}/"), 1).await;
    let body = &calls[0].body;
    check_message(body);
    assert_eq!(body["data"]["flags"], json!(64));
    let expected = test_bot().cause_card("kidney stones");
    assert_eq!(expected.kind, ReplyKind::NotFound);
    assert_eq!(body["data"]["embeds"][0]["title"], json!(expected.title));
    harness.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autocomplete_suggests_causes_for_typos_within_limits() {
    let harness = Harness::start().await;
    for (partial, expected) in [
        ("dehidration", Some("dehydration_electrolytes")),
        ("shoes", Some("footwear_biomechanics")),
        ("sciatica", Some("nerve_issues")),
        ("", None),
        (&"x".repeat(200), None),
    ] {
        let id = harness.fake.next_id();
        harness.fake.dispatch("INTERACTION_CREATE", fake::autocomplete(id, partial));
        let calls = harness.fake.wait_calls("POST", &format!("/interactions/{id}/"), 1).await;
        let body = &calls[0].body;
        assert_eq!(body["type"], json!(8));
        let choices = body["data"]["choices"].as_array().unwrap();
        assert!(choices.len() <= MAX_CHOICES);
        for choice in choices {
            assert!(choice["name"].as_str().unwrap().chars().count() <= MAX_CHOICE_CHARS);
            assert!(CAUSE_IDS.contains(&choice["value"].as_str().unwrap()), "{choice}");
        }
        if let Some(expected) = expected {
            assert!(
                choices.iter().any(|c| c["value"] == json!(expected)),
                "{partial:?} suggests {expected}: {choices:?}"
            );
        }
        if partial.is_empty() {
            assert_eq!(choices.len(), CAUSE_IDS.len(), "an empty query lists every cause");
        }
    }
    harness.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn buttons_keep_their_state_in_the_custom_id() {
    let harness = Harness::start().await;
    let bot = test_bot();
    for (custom_id, expected) in [
        (format!("cb1:cause:{}", CAUSE_IDS[1]), bot.cause_card(CAUSE_IDS[1]).title),
        ("cb1:tips:treatment".to_owned(), bot.tips(crampbot::bot::TipsKind::Treatment).title),
        ("from-an-old-version".to_owned(), bot.help().title),
    ] {
        let id = harness.fake.next_id();
        harness.fake.dispatch("INTERACTION_CREATE", fake::button(id, &custom_id));
        let calls = harness.fake.wait_calls("POST", &format!("/interactions/{id}/"), 1).await;
        let body = &calls[0].body;
        check_message(body);
        assert_eq!(body["data"]["flags"], json!(64), "button answers go to the clicker alone");
        assert_eq!(body["data"]["embeds"].as_array().unwrap().last().unwrap()["title"], json!(expected));
    }
    harness.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_work_is_deferred_then_the_original_response_is_edited() {
    let options = RunOptions { defer_after: Duration::ZERO, ..test_options() };
    let harness = Harness::start_with(options, None).await;
    let id = harness.fake.next_id();
    let options = [("description", json!("my calf twitches")), ("private", json!(true))];
    harness.fake.dispatch("INTERACTION_CREATE", fake::command(id, "ask", &options, true));
    let callback = harness.fake.wait_calls("POST", &format!("/interactions/{id}/"), 1).await;
    assert_eq!(callback[0].body["type"], json!(5));
    assert_eq!(callback[0].body["data"]["flags"], json!(64), "a private answer is deferred privately");
    let edits = harness.fake.wait_calls("PATCH", &format!("/webhooks/{APP_ID}/itoken{id}/messages/@original"), 1).await;
    check_message(&edits[0].body);
    assert_eq!(footer_of_last_embed(&edits[0].body), guidance());
    harness.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_are_acknowledged_and_the_session_stays_up() {
    let fake = fake::FakeDiscord::start_with_heartbeat(100).await;
    let harness = Harness::start_on(fake, test_options(), None).await;
    harness.fake.wait_until(Duration::from_secs(10), "three heartbeats", |fake| fake.stats().heartbeats >= 3).await;
    barrier(&harness, 0).await;
    let stats = harness.fake.stats();
    assert_eq!((stats.connections, stats.identifies, stats.resumes), (1, 1, 0), "one session throughout");
    harness.stop().await.unwrap();
}

// ---- faults ------------------------------------------------------------------------------------

async fn resumes_and_keeps_answering(break_it: impl FnOnce(&Harness)) {
    let harness = Harness::start().await;
    barrier(&harness, 0).await;
    break_it(&harness);
    harness.fake.wait_until(Duration::from_secs(10), "a resume", |fake| fake.stats().resumes >= 1).await;
    barrier(&harness, 1).await;
    assert_eq!(harness.fake.stats().identifies, 1, "resumed, not re-identified");
    assert_eq!(harness.fake.calls_to("PUT", "/commands").len(), 1);
    harness.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_gateway_close_4000_resumes() {
    resumes_and_keeps_answering(|harness| harness.fake.close(4000)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_resumes() {
    resumes_and_keeps_answering(|harness| harness.fake.drop_connection()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_op_7_reconnect_resumes() {
    resumes_and_keeps_answering(|harness| harness.fake.reconnect()).await;
}

/// The heartbeat interval the fake asks for in the watchdog test, and the watchdog's margin.
const SHORT_HEARTBEAT: Duration = Duration::from_millis(500);
const SHORT_MARGIN: Duration = Duration::from_millis(500);

/// How soon after the gateway answers again the bot must be answering mentions: 8 s. That is
/// the watchdog's deadline from the last sign of life (2 x 500 ms + 500 ms = 1.5 s), its check
/// period (0.15 s), serenity's 5 s wait before it gives up on the stuck shard runner, and a new
/// IDENTIFY, with over a second to spare (about 6.6 s measured).
const RECOVERY_BOUND: Duration = Duration::from_secs(8);

/// serenity 0.12.5 resumes a dropped connection on a WebSocket connect without a timeout: a
/// gateway that accepts the connection and never completes the handshake leaves the shard
/// waiting forever, silent (serenity issue 3369). Here the fake goes dark (no heartbeat ACKs,
/// handshakes never answered), drops the connection, and comes back once the resume is stuck.
/// The watchdog sees no event and no ACK for two intervals plus the margin, restarts the shard,
/// and mentions are answered again, once each, within [`RECOVERY_BOUND`].
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watchdog_restarts_a_shard_left_silent_by_a_failed_resume() {
    let fake = fake::FakeDiscord::start_with_heartbeat(SHORT_HEARTBEAT.as_millis().try_into().unwrap()).await;
    let options = RunOptions { heartbeat_interval: SHORT_HEARTBEAT, watchdog_margin: SHORT_MARGIN, ..test_options() };
    let harness = Harness::start_on(fake, options, None).await;
    barrier(&harness, 0).await;

    harness.fake.go_dark();
    harness.fake.drop_connection();
    harness
        .fake
        .wait_until(Duration::from_secs(10), "a resume stuck in its handshake", |fake| fake.stats().stalled >= 1)
        .await;
    assert_eq!(harness.fake.stats().resumes, 0, "the resume never got through");
    harness.fake.come_back();
    let back = std::time::Instant::now();

    harness.fake.wait_until(RECOVERY_BOUND, "a new session", |fake| fake.stats().identifies >= 2).await;
    let id = harness.fake.next_id();
    let content = format!("{} my calf twitches when I walk", mention());
    harness.fake.dispatch("MESSAGE_CREATE", fake::message(id, &fake::human(), &content, true, &[fake::bot_user()]));
    harness
        .fake
        .wait_until(RECOVERY_BOUND.saturating_sub(back.elapsed()), "the mention answered", |fake| {
            fake.count("POST", "/messages") >= 2
        })
        .await;
    let answers = harness.fake.calls_to("POST", "/messages");
    assert_eq!(answers.last().unwrap().body["nonce"], json!(format!("r{id}")), "the mention, answered");
    barrier(&harness, 2).await;
    assert_eq!(harness.fake.count("POST", "/messages"), 3, "each message answered once: one shard, not two");
    let stats = harness.fake.stats();
    assert_eq!((stats.identifies, stats.stalled), (2, 1), "one restart, one new login: {stats:?}");
    harness.stop().await.unwrap();
}

/// Starts the adapter on `fake` running shards 0 and 1 of 3 (a range, not all of them), with
/// the short watchdog settings, and waits until both shards are connected.
async fn start_shards_0_and_1_of_3(max_logins: usize) -> Harness {
    let fake = fake::FakeDiscord::start_with_heartbeat(SHORT_HEARTBEAT.as_millis().try_into().unwrap()).await;
    fake.set_gateway_bot(3, 1);
    let config = crate::support::config_with(&fake, None, &[("CRAMPBOT_SHARDS", "3"), ("CRAMPBOT_SHARD_RANGE", "0-1")]);
    let options =
        RunOptions { heartbeat_interval: SHORT_HEARTBEAT, watchdog_margin: SHORT_MARGIN, max_logins, ..test_options() };
    let harness = Harness::start_configured(fake, options, config).await;
    // serenity starts a process's shards 5 s apart.
    harness.fake.wait_until(Duration::from_secs(10), "both shards", |fake| fake.connected_shards() == [0, 1]).await;
    harness
}

/// A guild mention on shard `shard`, and the wait for its answer (`n_before` posts before it).
async fn mention_on_shard(harness: &Harness, shard: u32, n_before: usize, limit: Duration) {
    let id = harness.fake.next_id();
    let content = format!("{} my calf twitches when I walk", mention());
    harness.fake.dispatch_to_shard(
        shard,
        "MESSAGE_CREATE",
        fake::message(id, &fake::human(), &content, true, &[fake::bot_user()]),
    );
    harness.fake.wait_until(limit, "the mention answered", |fake| fake.count("POST", "/messages") > n_before).await;
    let answer = harness.fake.last_call("POST", "/messages").unwrap();
    assert_eq!(answer.body["nonce"], json!(format!("r{id}")), "that mention, answered");
}

/// A process running a range of shards (0 and 1 of 3): shard 1 goes dark and its resume is
/// stuck in the handshake while shard 0 keeps its heartbeats. The watchdog restarts shard 1
/// alone, as shard 1 of 3 (a new IDENTIFY for `[1, 3]`), and a mention on shard 1 is answered
/// again within [`RECOVERY_BOUND`]; shard 0 never logs in again (no client rebuild).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_shard_range_the_watchdog_restarts_only_the_silent_shard() {
    let harness = start_shards_0_and_1_of_3(30).await;
    mention_on_shard(&harness, 1, 0, Duration::from_secs(10)).await;

    harness.fake.go_dark_shard(1);
    harness.fake.drop_shard_connection(1);
    harness
        .fake
        .wait_until(Duration::from_secs(10), "shard 1's resume stuck in its handshake", |fake| {
            fake.stats().stalled >= 1
        })
        .await;
    harness.fake.come_back();
    let back = std::time::Instant::now();
    harness.fake.wait_until(RECOVERY_BOUND, "a new session for shard 1", |fake| fake.identifies().len() >= 3).await;
    mention_on_shard(&harness, 1, 1, RECOVERY_BOUND.saturating_sub(back.elapsed())).await;

    let logins: Vec<(u32, u32)> = harness.fake.identifies().iter().map(|(shard, total, _)| (*shard, *total)).collect();
    assert_eq!(logins.len(), 3, "{logins:?}");
    assert_eq!(logins[2], (1, 3), "shard 1 of 3 restarted: {logins:?}");
    assert_eq!(logins.iter().filter(|(shard, _)| *shard == 0).count(), 1, "shard 0 untouched: {logins:?}");
    assert_eq!(harness.fake.stats().resumes, 0, "the resume never got through");
    harness.stop().await.unwrap();
}

/// The same silent shard with the login budget spent (one login an hour per shard, both used at
/// start-up): the watchdog does not log in a third time but closes the gateway for what the
/// budget says, and the bot keeps running, paused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_shard_range_the_watchdog_keeps_within_the_login_budget() {
    let harness = start_shards_0_and_1_of_3(1).await;
    harness.fake.go_dark_shard(1);
    harness.fake.drop_shard_connection(1);
    // Shard 0's clean goodbye is the gateway closing for the pause.
    harness
        .fake
        .wait_until(Duration::from_secs(10), "the gateway closed for the budget", |fake| fake.stats().clean_closes >= 1)
        .await;
    assert_eq!(harness.fake.identifies().len(), 2, "no login over the budget");
    assert!(harness.is_running(), "paused, not stopped");
    harness.fake.come_back();
    harness.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_4004_ends_with_a_clear_token_error() {
    let harness = Harness::start().await;
    harness.fake.close(4004);
    let result = tokio::time::timeout(Duration::from_secs(10), async {
        while harness.is_running() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
    assert!(result.is_ok(), "the adapter stops on 4004");
    let err = harness.stop().await.unwrap_err();
    assert!(matches!(err, RunError::InvalidToken), "{err:?}");
    assert!(err.to_string().contains("Developer Portal"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_4014_ends_with_a_clear_intents_error() {
    let harness = Harness::start().await;
    harness.fake.close(4014);
    tokio::time::timeout(Duration::from_secs(10), async {
        while harness.is_running() {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the adapter stops on 4014");
    assert!(matches!(harness.stop().await, Err(RunError::Intents)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn too_many_logins_close_the_gateway_for_a_while() {
    let options = RunOptions { max_logins: 1, ..test_options() };
    let harness = Harness::start_with(options, None).await;
    // A second READY (as after serenity re-identifies) spends the budget of one login per hour.
    harness.fake.dispatch("READY", fake::ready("ws://127.0.0.1:1"));
    harness.fake.wait_until(Duration::from_secs(10), "the gateway closed", |fake| fake.stats().disconnects >= 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(harness.fake.stats().identifies, 1, "no new login while paused");
    assert_eq!(harness.fake.calls_to("PUT", "/commands").len(), 1, "no registration over budget");
    assert!(harness.is_running(), "paused, not stopped");
    let started = std::time::Instant::now();
    harness.stop().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(2), "a shutdown ends the pause");
}

/// The messages posted, and the distinct nonces among them.
fn posts(harness: &Harness) -> (usize, Vec<String>) {
    let calls = harness.fake.calls_to("POST", "/messages");
    let mut nonces: Vec<String> =
        calls.iter().map(|call| call.body["nonce"].as_str().unwrap_or_default().to_owned()).collect();
    nonces.dedup();
    (calls.len(), nonces)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rate_limited_reply_waits_retry_after_and_arrives_once() {
    let harness = Harness::start().await;
    harness.fake.fail_next("POST", "/messages", 2, Fault::RateLimited(0.05));
    let started = std::time::Instant::now();
    barrier(&harness, 2).await;
    assert!(started.elapsed() >= Duration::from_millis(100), "waited retry_after twice");
    tokio::time::sleep(Duration::from_millis(150)).await;
    let (n, nonces) = posts(&harness);
    assert_eq!(n, 3, "two 429s, then delivered once");
    assert_eq!(nonces.len(), 1, "every attempt carries the same nonce");
    harness.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_are_retried_with_backoff_and_delivered_once() {
    let harness = Harness::start().await;
    harness.fake.fail_next("POST", "/messages", 1, Fault::Status(502, 0));
    harness.fake.fail_next("POST", "/messages", 1, Fault::Status(503, 0));
    harness.fake.fail_next("POST", "/messages", 1, Fault::Status(504, 0));
    barrier(&harness, 3).await;
    tokio::time::sleep(Duration::from_millis(150)).await;
    assert_eq!(posts(&harness).0, 4);
    // An interaction callback is retried the same way.
    harness.fake.fail_next("POST", "/callback", 1, Fault::Status(503, 0));
    let id = harness.fake.next_id();
    harness.fake.dispatch("INTERACTION_CREATE", fake::command(id, "help", &[], true));
    harness.fake.wait_calls("POST", &format!("/interactions/{id}/"), 2).await;
    harness.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retries_are_bounded() {
    let harness = Harness::start().await;
    harness.fake.fail_next("POST", "/messages", 100, Fault::Status(503, 0));
    let id = harness.fake.next_id();
    harness.fake.dispatch("MESSAGE_CREATE", fake::message(id, &fake::human(), "my calf twitches", false, &[]));
    let attempts = crate::support::fast_retry().max_attempts as usize;
    harness.fake.wait_calls("POST", "/messages", attempts).await;
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(posts(&harness).0, attempts, "no more than max_attempts");
    assert!(harness.is_running());
    harness.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_errors_are_not_retried_and_the_bot_stays_up() {
    let harness = Harness::start().await;
    let mut expected = 0;
    for (status, code) in [(403, 50_007), (404, 10_003), (403, 50_013), (400, 50_035)] {
        harness.fake.fail_next("POST", "/messages", 1, Fault::Status(status, code));
        let id = harness.fake.next_id();
        harness.fake.dispatch("MESSAGE_CREATE", fake::message(id, &fake::human(), "my calf twitches", false, &[]));
        expected += 1;
        harness.fake.wait_calls("POST", "/messages", expected).await;
    }
    barrier(&harness, expected).await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(posts(&harness).0, expected + 1, "each refused post was tried once");
    assert!(harness.is_running());
    harness.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_closes_the_gateway_cleanly() {
    let mut harness = Harness::start().await;
    assert_eq!(harness.fake.stats().identifies, 1);
    let started = std::time::Instant::now();
    assert!(harness.shut_down().await.is_ok(), "a shutdown is not an error");
    assert!(started.elapsed() < Duration::from_secs(6), "and it is quick");
    harness.fake.wait_until(Duration::from_secs(5), "a clean close", |fake| fake.stats().clean_closes == 1).await;
}

// ---- rendering without network -----------------------------------------------------------------

fn source() -> Source {
    Source { id: "nhs".into(), publisher: "NHS".into(), title: "Leg cramps".into(), url: "https://www.nhs.uk/".into() }
}

/// A reply far beyond every Discord limit: the renderer must shorten it, never fail.
pub(crate) fn huge_reply() -> Reply {
    let bot = test_bot();
    let mut reply = Reply::new(ReplyKind::Analysis, "T".repeat(1000), bot.catalogue());
    reply.intro = Some("🦵 intro ".repeat(2000));
    for n in 0..40 {
        let mut section = Section::new(format!("Section {n} {}", "h".repeat(400)));
        section.cause_id = Some(CAUSE_IDS[n % 9].to_owned());
        section.why = Some("You mentioned **this** @everyone ".repeat(50));
        section.body = Some("body ".repeat(500));
        section.items = (0..30).map(|_| Item { text: "item ".repeat(100), source: Some(source()) }).collect();
        reply.sections.push(section);
    }
    let alerts = (0..12)
        .map(|n| Alert {
            id: format!("flag{n}"),
            urgency: [Urgency::Soon, Urgency::Urgent, Urgency::Emergency][n % 3],
            title: "A".repeat(300),
            message: "m ".repeat(3000),
            action: "act ".repeat(500),
            evidence: vec!["swollen *calf*".into(); 20],
            sources: vec![source(); 3],
        })
        .collect();
    reply.with_alerts(alerts, bot.catalogue())
}

#[test]
fn the_longest_reply_keeps_every_limit_alerts_first_and_the_guidance_on_every_message() {
    let reply = huge_reply();
    let messages = render::messages(&reply, None);
    assert_eq!(messages.len(), render::MAX_MESSAGES);
    for message in &messages {
        let body = serde_json::to_value(message).unwrap();
        check_message(&body);
        assert_eq!(footer_of_last_embed(&body), reply.guidance());
    }
    let first = serde_json::to_value(&messages[0]).unwrap();
    assert_eq!(first["embeds"][0]["color"], json!(render::COLOUR_EMERGENCY), "the most urgent alert comes first");
    assert!(first["embeds"][0]["title"].as_str().unwrap().contains("EMERGENCY"));
    let answer = render::interaction_messages(&reply, true);
    check_message(&json!({"type": 4, "data": serde_json::to_value(&answer.first).unwrap()}));
    for followup in &answer.followups {
        let body = serde_json::to_value(followup).unwrap();
        check_message(&body);
        assert_eq!(body["flags"], json!(64), "follow-ups are as private as the answer");
    }
    assert_eq!(answer.followups.len(), render::MAX_MESSAGES - 1);
    let plan = render::plan(&reply);
    assert!(plan.messages.iter().all(|message| message.iter().map(render::EmbedPlan::units).sum::<usize>() <= 6000));
}

#[test]
fn the_longest_user_text_is_clipped_before_analysis() {
    let text = "my calf twitches ".repeat(2000);
    let clipped = commands::clip(&text);
    assert!(clipped.len() <= crampbot::bot::MAX_TEXT_BYTES);
    let reply = test_bot().ask(clipped);
    for message in render::messages(&reply, None) {
        check_message(&serde_json::to_value(message).unwrap());
    }
}

#[test]
fn colours_follow_the_most_urgent_alert() {
    let bot = test_bot();
    let calm = serde_json::to_value(&render::messages(&bot.help(), None)[0]).unwrap();
    assert_eq!(calm["embeds"][0]["color"], json!(render::COLOUR_CALM));
    let urgent = Reply::new(ReplyKind::Analysis, "x", bot.catalogue()).with_alerts(
        vec![Alert {
            id: "dvt_signs".into(),
            urgency: Urgency::Urgent,
            title: "Possible clot".into(),
            message: "m".into(),
            action: "a".into(),
            evidence: vec![],
            sources: vec![source()],
        }],
        bot.catalogue(),
    );
    let body = serde_json::to_value(&render::messages(&urgent, None)[0]).unwrap();
    assert_eq!(body["embeds"][0]["color"], json!(render::COLOUR_URGENT));
    assert_eq!(body["embeds"][1]["color"], json!(render::COLOUR_URGENT));
}

#[test]
fn snapshot_of_a_small_reply_message() {
    let bot = test_bot();
    let mut reply = Reply::new(ReplyKind::Analysis, "What your description resembles", bot.catalogue());
    reply.intro = Some("Possibilities, not a diagnosis.".into());
    let mut section = Section::new("Muscle fatigue");
    section.cause_id = Some("muscle_fatigue".into());
    section.why = Some("You mentioned “long walks”.".into());
    section.body = Some("Tired muscles cramp more.".into());
    section.items = vec![Item { text: "Build up distance slowly.".into(), source: Some(source()) }];
    reply.sections.push(section);
    let reference = (serenity_ids::channel(), serenity_ids::message()).into();
    let messages = render::messages(&reply, Some(&reference));
    assert_eq!(messages.len(), 1);
    let mut body = serde_json::to_value(&messages[0]).unwrap();
    // The guidance text belongs to the catalogue, not to the renderer.
    body["embeds"][0]["footer"]["text"] = json!("<guidance>");
    insta::assert_json_snapshot!("small_reply_message", body);
}

#[test]
fn snapshot_of_the_command_definitions() {
    insta::assert_json_snapshot!("command_definitions", serde_json::to_value(commands::definitions()).unwrap());
}

/// Ids for snapshots, without naming serenity outside the adapter's own types.
mod serenity_ids {
    pub fn channel() -> serenity::model::id::ChannelId {
        serenity::model::id::ChannelId::new(1)
    }

    pub fn message() -> serenity::model::id::MessageId {
        serenity::model::id::MessageId::new(2)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_api_base_stops_instead_of_falling_back_to_discord() {
    let closed = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap()
    };
    let base = format!("http://{closed}");
    let config = crampbot::config::Config::from_raw(crampbot::config::RawConfig::default(), |name| match name {
        "DISCORD_TOKEN" => Some(fake::TOKEN.to_owned()),
        "DISCORD_API_BASE" => Some(base.clone()),
        _ => None,
    })
    .unwrap();
    let run = crampbot::discord::run_with(&config.discord, test_bot(), test_options(), std::future::pending());
    let result = tokio::time::timeout(Duration::from_secs(10), run).await.expect("gives up in time");
    assert!(matches!(result, Err(RunError::ApiBase { .. })), "{result:?}");
}

#[tokio::test]
async fn no_token_is_a_clear_error() {
    let config = crampbot::config::Config::from_raw(crampbot::config::RawConfig::default(), |_| None).unwrap();
    let result = crampbot::discord::run(&config.discord, test_bot(), std::future::pending()).await;
    let err = result.unwrap_err();
    assert!(matches!(err, RunError::NoToken));
    assert!(err.to_string().contains("crampbot chat"));
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crampbot_run_answers_logs_no_content_and_stops_cleanly_on_sigterm() {
    let fake = fake::FakeDiscord::start().await;
    let (mut args, _dir) = crate::support::knowledge_args();
    args.push("run".to_owned());
    let db = tempfile::tempdir().unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_crampbot"))
        .args(&args)
        .env("CRAMPBOT_DATABASE", db.path().join("reminders.sqlite3"))
        .env("DISCORD_TOKEN", fake::TOKEN)
        .env("DISCORD_API_BASE", &fake.base)
        .env("RUST_LOG", "info,crampbot=debug")
        .env_remove("CRAMPBOT_GUILD_ID")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    fake.wait_calls("PUT", "/commands", 1).await;
    let secret_words = "my secret calf twitches";
    fake.dispatch("MESSAGE_CREATE", fake::message(fake.next_id(), &fake::human(), secret_words, false, &[]));
    fake.wait_calls("POST", "/messages", 1).await;
    let pid = child.id().to_string();
    assert!(std::process::Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output()).await.unwrap().unwrap();
    let logs = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "SIGTERM is a clean exit: {logs}");
    assert!(logs.contains("event handled"), "one line per event: {logs}");
    assert!(!logs.contains(fake::TOKEN), "the token is never logged");
    assert!(!logs.contains("secret"), "message content is never logged: {logs}");
    fake.wait_until(Duration::from_secs(5), "the gateway closed", |fake| fake.stats().disconnects >= 1).await;
    assert!(db.path().join("reminders.sqlite3").exists(), "the reminder database is opened at start-up");
}

#[test]
fn run_with_a_bad_database_path_names_it() {
    let (mut args, _dir) = crate::support::knowledge_args();
    args.push("run".to_owned());
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("no-such-folder").join("reminders.sqlite3");
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_crampbot"))
        .args(&args)
        .env("CRAMPBOT_DATABASE", &bad)
        .env("DISCORD_TOKEN", fake::TOKEN)
        .env("DISCORD_API_BASE", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let err = String::from_utf8_lossy(&output.stderr);
    assert!(err.contains("cannot open reminder database") && err.contains(&bad.display().to_string()), "{err}");
}

// ---- reminders through the outbox ------------------------------------------------------------

fn outgoing(target: crampbot::reminders::store::Target, text: &str, silent: bool) -> crampbot::reminders::Outgoing {
    crampbot::reminders::Outgoing {
        subscription_id: 7,
        target,
        text: crampbot::reminders::text::RichText::plain(text),
        nonce: "cbd0123456789abcdef".to_owned(),
        silent,
        late: false,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reminders_go_through_the_outbox_and_map_discords_errors() {
    use crampbot::reminders::store::Target;
    use crampbot::reminders::{Deliver as _, DeliveryError};

    let fake = fake::FakeDiscord::start().await;
    let token = crampbot::config::Secret::new(fake::TOKEN);
    let outbox =
        crampbot::discord::outbox::Outbox::new(&token, Some(&fake.base), crate::support::fast_retry()).unwrap();
    let dm = Target::User { user_id: fake::USER_ID };
    let channel = Target::Channel { guild_id: GUILD_ID, channel_id: CHANNEL_ID, role_id: Some(77) };

    outbox.deliver(outgoing(dm, "Time for a glass of water @everyone", true)).await.unwrap();
    let open = fake.calls_to("POST", "/users/@me/channels");
    assert_eq!(open[0].body["recipient_id"], json!(fake::USER_ID.to_string()));
    let sent = fake.calls_to("POST", &format!("/channels/{DM_CHANNEL_ID}/messages"));
    assert_eq!(sent[0].body["content"], json!("Time for a glass of water @everyone"));
    assert_eq!(sent[0].body["nonce"], json!("cbd0123456789abcdef"));
    assert_eq!(sent[0].body["enforce_nonce"], json!(true));
    assert_eq!(sent[0].body["flags"], json!(4096), "silent: no push notification");
    assert_eq!(sent[0].body["allowed_mentions"], json!({"parse": [], "users": [], "roles": [], "replied_user": false}));

    outbox.deliver(outgoing(channel, "<@&77> Time for water", false)).await.unwrap();
    let sent = fake.calls_to("POST", &format!("/channels/{CHANNEL_ID}/messages"));
    assert_eq!(sent[0].body["allowed_mentions"]["roles"], json!(["77"]), "only the configured role");
    assert_eq!(sent[0].body["allowed_mentions"]["parse"], json!([]));

    for (fault, expected) in [
        (Fault::Status(403, 50_007), DeliveryError::DmRefused),
        (Fault::Status(404, 10_003), DeliveryError::ChannelGone),
        (Fault::Status(403, 50_013), DeliveryError::MissingPermission),
    ] {
        fake.fail_next("POST", "/messages", 1, fault);
        let err = outbox.deliver(outgoing(dm, "water", false)).await.unwrap_err();
        assert_eq!(err, expected);
    }
    fake.fail_next("POST", "/messages", 100, Fault::Status(503, 0));
    let err = outbox.deliver(outgoing(channel, "water", false)).await.unwrap_err();
    assert!(matches!(err, DeliveryError::Transient { .. }), "{err:?}");
}
