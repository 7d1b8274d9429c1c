//! Nothing silently dropped: every reply the bot can give, rendered for Discord, shows every
//! line of it (over several fields, embeds or messages when it must) or says explicitly how much
//! more there is. Checked on the rendered payloads, as a property over long analyses, and on the
//! wire through the fake Discord, including for a user-installed app.

use proptest::prelude::*;
use serde_json::{Value, json};

use crampbot::bot::{Bot, TipsKind};
use crampbot::discord::render::{self, MAX_MESSAGES, MORE_TITLE, units};
use crampbot::knowledge::CAUSE_IDS;
use crampbot::reply::{Reply, ReplyKind};

use crate::fake_discord::{self as fake, APP_ID, FakeDiscord};
use crate::support::{Harness, bot, test_bot};

/// `text` with every run of whitespace made one space.
fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The message bodies (channel messages, interaction callbacks or follow-ups) as JSON, with
/// interaction callbacks unwrapped to their message.
fn data(body: &Value) -> &Value {
    if body.get("type").is_some() && body.get("data").is_some() { &body["data"] } else { body }
}

/// Every limit of one message, and that it pings nobody.
#[track_caller]
fn check_limits(body: &Value) {
    let data = data(body);
    assert_eq!(data["allowed_mentions"]["parse"], json!([]), "allowed_mentions parses nothing: {data}");
    let embeds = data["embeds"].as_array().expect("embeds");
    assert!((1..=10).contains(&embeds.len()), "{} embeds", embeds.len());
    let mut total = 0;
    for embed in embeds {
        let len = |key: &str| embed[key].as_str().map_or(0, units);
        assert!(len("title") <= 256 && len("description") <= 4096);
        total += len("title") + len("description");
        let fields = embed["fields"].as_array().cloned().unwrap_or_default();
        assert!(fields.len() <= 25);
        for field in &fields {
            let (name, value) = (field["name"].as_str().unwrap(), field["value"].as_str().unwrap());
            assert!((1..=256).contains(&units(name)) && (1..=1024).contains(&units(value)));
            total += units(name) + units(value);
        }
        total += embed["footer"]["text"].as_str().map_or(0, units);
    }
    assert!(total <= 6000, "embeds total {total}");
}

/// Checks that `bodies`, the messages of one reply in order, show every text of `reply` (or end
/// with an explicit "N more"), keep every limit and each carry the guidance.
#[track_caller]
fn check_nothing_dropped(reply: &Reply, bodies: &[Value]) {
    assert!((1..=MAX_MESSAGES).contains(&bodies.len()), "{} messages", bodies.len());
    let mut content = Vec::new();
    let mut labels = Vec::new();
    for body in bodies {
        check_limits(body);
        let embeds = data(body)["embeds"].as_array().unwrap();
        let footer = embeds.last().unwrap()["footer"]["text"].as_str();
        assert_eq!(footer, Some(reply.guidance()), "every message carries the guidance");
        for embed in embeds {
            labels.push(embed["title"].as_str().unwrap_or_default().to_owned());
            content.push(embed["description"].as_str().unwrap_or_default().to_owned());
            for field in embed["fields"].as_array().cloned().unwrap_or_default() {
                labels.push(field["name"].as_str().unwrap().to_owned());
                content.push(field["value"].as_str().unwrap().to_owned());
            }
        }
    }
    let content = squash(&content.join(" "));
    let labels = squash(&labels.join(" "));
    let last_embed = data(bodies.last().unwrap())["embeds"].as_array().unwrap().last().unwrap().clone();
    let more = last_embed["title"] == json!(MORE_TITLE)
        && last_embed["description"].as_str().is_some_and(|text| text.contains(" more "));
    let mut missing = Vec::new();
    for text in texts(reply) {
        let text = squash(&text);
        if !text.is_empty() && !content.contains(&text) && !labels.contains(&text) {
            missing.push(text);
        }
    }
    assert!(missing.is_empty() || more, "{:?}: dropped without saying so: {missing:?}", reply.title);
}

/// Every text of a reply a user must be able to read, as the renderer prints it (user words and
/// explanations escaped for markdown).
fn texts(reply: &Reply) -> Vec<String> {
    let mut texts = vec![reply.title.clone()];
    texts.extend(reply.emergency().map(|line| format!("**{line}**")));
    for alert in &reply.alerts {
        texts.extend([alert.title.clone(), alert.message.clone(), alert.action.clone()]);
        texts.extend(alert.evidence.iter().map(|word| render::escape_markdown(word)));
        texts.extend(alert.sources.iter().map(|source| source.publisher.clone()));
    }
    texts.extend(reply.intro.clone());
    for section in &reply.sections {
        texts.push(section.heading.clone());
        texts.extend(section.why.as_deref().map(render::escape_markdown));
        texts.extend(section.body.clone());
        texts.extend(section.items.iter().map(|item| item.text.clone()));
    }
    texts
}

/// The bodies of a reply as a channel message, and as an interaction's response and follow-ups.
fn rendered(reply: &Reply) -> (Vec<Value>, Vec<Value>) {
    let messages = render::messages(reply, None).iter().map(|m| serde_json::to_value(m).unwrap()).collect();
    let answer = render::interaction_messages(reply, false);
    let mut interaction = vec![json!({"type": 4, "data": serde_json::to_value(&answer.first).unwrap()})];
    interaction.extend(answer.followups.iter().map(|f| serde_json::to_value(f).unwrap()));
    (messages, interaction)
}

#[track_caller]
fn check_reply(reply: &Reply) {
    let plan = render::plan(reply);
    assert_eq!(plan.check(reply), Ok(()), "{:?}", reply.title);
    let (messages, interaction) = rendered(reply);
    check_nothing_dropped(reply, &messages);
    check_nothing_dropped(reply, &interaction);
    assert_eq!(messages.len(), plan.messages.len());
}

/// Every kind of catalogue reply: every cause card, the list, both tips, about, help, the
/// overview, the off-topic redirect and a not-found.
fn catalogue_replies(bot: &Bot) -> Vec<Reply> {
    let mut replies: Vec<Reply> = CAUSE_IDS.iter().map(|id| bot.cause_card(id)).collect();
    replies.extend([
        bot.cause_list(),
        bot.tips(TipsKind::Prevention),
        bot.tips(TipsKind::Treatment),
        bot.about(),
        bot.help(),
        bot.ask("why do my calves twitch when I walk?"),
        bot.ask("what's the capital of Peru?"),
        bot.cause_card("kidney stones"),
    ]);
    replies
}

#[test]
fn every_catalogue_reply_shows_everything() {
    let replies = catalogue_replies(bot());
    let kinds: Vec<ReplyKind> = replies.iter().map(|reply| reply.kind).collect();
    for kind in [
        ReplyKind::CauseCard,
        ReplyKind::CauseList,
        ReplyKind::Tips,
        ReplyKind::About,
        ReplyKind::Help,
        ReplyKind::Overview,
        ReplyKind::OffTopic,
        ReplyKind::NotFound,
    ] {
        assert!(kinds.contains(&kind), "{kind:?} is covered");
    }
    for reply in &replies {
        check_reply(reply);
        // Nothing in the shipped catalogue needs the "more" note.
        assert_eq!(render::plan(reply).left_out, 0, "{:?}", reply.title);
    }
}

/// The descriptions and field values of a plan, in order, whitespace squashed.
fn plan_text(plan: &render::ReplyPlan) -> String {
    let parts: Vec<&str> = plan
        .messages
        .iter()
        .flatten()
        .flat_map(|embed| {
            std::iter::once(embed.description.as_str()).chain(embed.fields.iter().map(|f| f.value.as_str()))
        })
        .collect();
    squash(&parts.join(" "))
}

#[test]
fn the_cause_list_tips_and_overview_show_every_line_in_one_message() {
    let bot = bot();
    for reply in [bot.cause_list(), bot.tips(TipsKind::Prevention), bot.ask("why do my calves twitch when I walk?")] {
        let plan = render::plan(&reply);
        assert_eq!(plan.messages.len(), 1, "{:?} fits one message", reply.title);
        let text = plan_text(&plan);
        for item in reply.sections.iter().flat_map(|section| &section.items) {
            assert!(text.contains(&squash(&item.text)), "{:?} shows {:?}", reply.title, item.text);
        }
    }
    let list = plan_text(&render::plan(&bot.cause_list()));
    for cause in &bot.catalogue().causes {
        assert!(list.contains(&cause.name), "/causes names {}", cause.name);
    }
}

/// Sentences that raise red flags and point at causes, for long analyses.
const SENTENCES: &[&str] = &[
    "My calf is swollen, warm and red after a long flight.",
    "I have chest pain and I am short of breath.",
    "My back hurts with numbness in the groin and I can't control my bladder.",
    "Dark brown urine after a marathon.",
    "I feel dizzy and confused after walking in the heat.",
    "My foot is cold, pale and I can't feel a pulse.",
    "I heard a pop in my calf and can't walk on it.",
    "The twitching spreads and my leg is getting weaker.",
    "My face is drooping and my speech is slurred.",
    "I am dehidrated and on water pills and statins.",
    "New running shoes and flat feet.",
    "Low magnesium and vitamin B12, vegan diet.",
    "Sciatica down the back of my leg with pins and needles.",
    "My hamstring cramps on long walks.",
    "I am not on any meds and I drink plenty of water.",
    "Peripheral neuropathy from diabetes.",
    "🦵🦵 my calves twitch all night",
];

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    /// Analyses of long messages, with several causes and several warning signs, show every
    /// line, within every limit, the guidance on every message.
    #[test]
    fn long_analyses_show_everything(
        picks in proptest::collection::vec(proptest::sample::select(SENTENCES), 1..60),
    ) {
        let text: String = picks.join(" ").chars().take(4000).collect();
        let reply = bot().ask(&text);
        check_reply(&reply);
        prop_assert_eq!(render::plan(&reply).left_out, 0);
    }
}

#[test]
fn the_longest_analysis_shows_every_warning_and_cause() {
    let text: String = SENTENCES.join(" ").repeat(3).chars().take(4000).collect();
    let reply = bot().ask(&text);
    assert!(reply.alerts.len() >= 5, "several warnings: {}", reply.alerts.len());
    assert!(reply.sections.len() >= 2, "several sections");
    check_reply(&reply);
    // Alerts come first, most urgent first, in the first message.
    let first = &render::plan(&reply).messages[0];
    assert_eq!(first[0].colour, render::COLOUR_EMERGENCY);
}

#[test]
fn a_reply_beyond_five_messages_says_how_much_more_there_is() {
    let reply = crate::discord::huge_reply();
    let plan = render::plan(&reply);
    assert_eq!(plan.check(&reply), Ok(()));
    assert_eq!(plan.messages.len(), MAX_MESSAGES);
    assert!(plan.left_out > 0);
    let last = plan.messages.last().unwrap().last().unwrap();
    assert_eq!(last.title, MORE_TITLE);
    assert!(last.description.starts_with(&format!("{} more", plan.left_out)), "{}", last.description);
    let (messages, interaction) = rendered(&reply);
    check_nothing_dropped(&reply, &messages);
    check_nothing_dropped(&reply, &interaction);
    // The alerts, most urgent first, lead.
    assert_eq!(plan.messages[0][0].colour, render::COLOUR_EMERGENCY);
}

#[test]
fn a_long_section_goes_on_in_the_next_field_then_the_next_message() {
    let bot = test_bot();
    let mut reply = Reply::new(ReplyKind::Tips, "Many tips", bot.catalogue());
    let mut section = crampbot::reply::Section::new("Tips");
    section.items = (0..120)
        .map(|n| crampbot::reply::Item { text: format!("Tip number {n}: drink a glass of water."), source: None })
        .collect();
    reply.sections.push(section);
    let plan = render::plan(&reply);
    assert_eq!(plan.check(&reply), Ok(()));
    assert_eq!(plan.left_out, 0);
    let fields: Vec<&render::FieldPlan> = plan.messages.iter().flatten().flat_map(|embed| &embed.fields).collect();
    assert_eq!(fields[0].name, "Tips");
    assert!(
        fields.len() > 4
            && fields[1..].iter().all(|field| field.name == "\u{200b}" || field.name == "Tips (continued)")
    );
    // In order: every tip once, numbered 0 to 119.
    let shown: Vec<String> = fields.iter().flat_map(|field| field.value.lines()).map(str::to_owned).collect();
    let expected: Vec<String> = (0..120).map(|n| format!("• Tip number {n}: drink a glass of water.")).collect();
    assert_eq!(shown, expected);
}

#[test]
fn a_line_longer_than_a_field_is_split_at_spaces_not_cut() {
    let bot = test_bot();
    let mut reply = Reply::new(ReplyKind::CauseCard, "Long", bot.catalogue());
    let mut section = crampbot::reply::Section::new("What it is");
    let words: Vec<String> = (0..600).map(|n| format!("word{n}")).collect();
    section.body = Some(words.join(" "));
    reply.sections.push(section);
    let plan = render::plan(&reply);
    assert_eq!(plan.check(&reply), Ok(()));
    let values: Vec<&str> = plan.messages.iter().flatten().flat_map(|e| &e.fields).map(|f| f.value.as_str()).collect();
    assert!(values.len() >= 4);
    assert_eq!(values.join(" ").split(' ').collect::<Vec<_>>(), words.iter().map(String::as_str).collect::<Vec<_>>());
}

// ---- on the wire ---------------------------------------------------------------------------------

/// Dispatches an interaction and waits for its callback and `followups` follow-ups; returns the
/// callback and the follow-ups, in order.
async fn answered(fake: &FakeDiscord, interaction: Value, followups: usize) -> Vec<Value> {
    let id = interaction["id"].as_str().unwrap().to_owned();
    let token = interaction["token"].as_str().unwrap().to_owned();
    fake.dispatch("INTERACTION_CREATE", interaction);
    let callback = fake.wait_calls("POST", &format!("/interactions/{id}/"), 1).await;
    let mut bodies = vec![callback[0].body.clone()];
    if followups > 0 {
        let sent = fake.wait_calls("POST", &format!("/webhooks/{APP_ID}/{token}"), followups).await;
        bodies.extend(sent.into_iter().map(|call| call.body));
    }
    bodies
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cause_list_names_every_cause_on_the_wire() {
    let harness = Harness::start().await;
    let bodies = answered(&harness.fake, fake::command(harness.fake.next_id(), "causes", &[], true), 0).await;
    let text = bodies[0].to_string();
    for cause in &test_bot().catalogue().causes {
        assert!(text.contains(&cause.name), "/causes names {}", cause.name);
    }
    check_nothing_dropped(&test_bot().cause_list(), &bodies);
    harness.stop().await.unwrap();
}

/// The longest analysis, answered to a user-installed app in a group DM: the answer and its
/// follow-ups go through the interaction (the bot is not there to post), in order, each with
/// the guidance, together showing every line.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_answer_continues_in_follow_ups_of_the_interaction() {
    let harness = Harness::start().await;
    let text: String = SENTENCES.join(" ").repeat(3).chars().take(4000).collect();
    let expected = test_bot().ask(&text);
    let n_messages = render::plan(&expected).messages.len();
    let id = harness.fake.next_id();
    let interaction = fake::user_installed(fake::command(id, "ask", &[("description", json!(text))], false), false);
    let bodies = answered(&harness.fake, interaction, n_messages - 1).await;
    assert_eq!(bodies.len(), n_messages);
    check_nothing_dropped(&expected, &bodies);
    assert_eq!(harness.fake.count("POST", "/channels/"), 0, "no channel message for an interaction");
    // The buttons go under the last message only.
    for body in &bodies[..bodies.len() - 1] {
        assert!(data(body)["components"].as_array().is_none_or(Vec::is_empty));
    }
    harness.stop().await.unwrap();
}

/// A reply longer than one message, as a guild mention: follow-up messages in the same channel,
/// each a reply to the message with its own nonce, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_long_answer_to_a_mention_continues_in_follow_up_messages() {
    let harness = Harness::start().await;
    let text: String = SENTENCES.join(" ").repeat(3).chars().take(3900).collect();
    let expected = test_bot().ask(&text);
    let n_messages = render::plan(&expected).messages.len();
    let id = harness.fake.next_id();
    let content = format!("<@{}> {text}", fake::BOT_ID);
    harness.fake.dispatch("MESSAGE_CREATE", fake::message(id, &fake::human(), &content, true, &[fake::bot_user()]));
    let calls = harness.fake.wait_calls("POST", "/messages", n_messages).await;
    let bodies: Vec<Value> = calls.iter().map(|call| call.body.clone()).collect();
    check_nothing_dropped(&expected, &bodies);
    let nonces: Vec<&str> = bodies.iter().map(|body| body["nonce"].as_str().unwrap()).collect();
    let expected_nonces: Vec<String> =
        (0..n_messages).map(|n| if n == 0 { format!("r{id}") } else { format!("r{id}.{n}") }).collect();
    assert_eq!(nonces, expected_nonces);
    for body in &bodies {
        assert_eq!(body["message_reference"]["message_id"], json!(id.to_string()));
        assert!(units(body["nonce"].as_str().unwrap()) <= 25);
    }
    harness.stop().await.unwrap();
}
