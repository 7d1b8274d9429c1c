//! Follow-up questions on Discord, end to end through the fake Discord: Yes / No / Not sure
//! buttons under the reply, a click updates the reply in place, the state lives in the buttons
//! (a restart in between changes nothing), and only the asker may answer.

use serde_json::{Value, json};

use crampbot::discord::NOT_THE_ASKER;

use crate::fake_discord::{self as fake, BOT_ID, GUILD_ID};
use crate::support::Harness;

/// The `custom_id` of the button labelled `label` in a message body's components.
fn button_id(body: &Value, label: &str) -> String {
    let data = if body.get("data").is_some() { &body["data"] } else { body };
    data["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
        .find(|button| button["label"] == json!(label))
        .and_then(|button| button["custom_id"].as_str().map(str::to_owned))
        .unwrap_or_else(|| panic!("no {label:?} button in {data}"))
}

fn titles(data: &Value) -> String {
    data["embeds"].as_array().into_iter().flatten().map(ToString::to_string).collect::<Vec<_>>().join("\n")
}

/// A click on `custom_id` by `clicker`, on a bot reply to `original` (a user's message).
fn click(id: u64, custom_id: &str, original: &Value, clicker: &Value) -> Value {
    let mut click = fake::button(id, custom_id);
    click["member"] = fake::member(clicker);
    click["message"]["type"] = json!(19);
    click["message"]["referenced_message"] = original.clone();
    click
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_yes_updates_the_reply_in_place_even_after_a_restart_and_others_are_refused() {
    let harness = Harness::start().await;
    let id = harness.fake.next_id();
    let original =
        fake::message(id, &fake::human(), &format!("<@{BOT_ID}> my left calf is swollen"), true, &[fake::bot_user()]);
    harness.fake.dispatch("MESSAGE_CREATE", original.clone());
    let reply = harness.fake.wait_calls("POST", "/messages", 1).await.remove(0).body;
    assert_eq!(reply["allowed_mentions"]["parse"], json!([]));
    let reply_text = titles(&reply);
    assert!(reply_text.contains("1. Does the calf feel warm"), "{reply_text}");
    let yes = button_id(&reply, "1: Yes");
    assert!(yes.len() <= 100 && yes.starts_with("cb1:fu:"), "{yes}");
    let (stopped, _old_fake) = harness.stop_keeping_fake().await;
    stopped.unwrap();

    // A new process, a new gateway: the click carries everything the bot needs.
    let harness = Harness::start().await;
    let other = fake::user(1_400_000_000_000_000_999, "passer-by", false);
    let refused_id = harness.fake.next_id();
    harness.fake.dispatch("INTERACTION_CREATE", click(refused_id, &yes, &original, &other));
    let refused = harness.fake.wait_calls("POST", &format!("/interactions/{refused_id}/"), 1).await.remove(0).body;
    assert_eq!(refused["type"], json!(4), "a new message, not an update");
    assert_eq!(refused["data"]["flags"], json!(64), "refused privately");
    assert_eq!(refused["data"]["content"], json!(NOT_THE_ASKER));

    let click_id = harness.fake.next_id();
    harness.fake.dispatch("INTERACTION_CREATE", click(click_id, &yes, &original, &fake::human()));
    let updated = harness.fake.wait_calls("POST", &format!("/interactions/{click_id}/"), 1).await.remove(0).body;
    assert_eq!(updated["type"], json!(7), "the reply is updated in place: {updated}");
    assert_eq!(updated["data"]["allowed_mentions"]["parse"], json!([]));
    let text = titles(&updated["data"]);
    let dvt = crampbot::knowledge::Catalogue::embedded().unwrap().red_flag("dvt_signs").unwrap().base.title.clone();
    assert!(text.contains(&dvt), "the yes raised the clot warning: {text}");
    assert!(!text.contains("Does the calf feel warm"), "an answered question is not asked again: {text}");
    // The next buttons carry both answers.
    let next_yes = button_id(&updated["data"], "1: Yes");
    assert!(next_yes.starts_with("cb1:fu:") && next_yes.len() > yes.len(), "{next_yes} carries {yes}");
    harness.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_private_ask_keeps_its_buttons_private_and_carries_its_words() {
    let harness = Harness::start().await;
    let id = harness.fake.next_id();
    let options = [("description", json!("my left calf is swollen")), ("private", json!(true))];
    harness.fake.dispatch("INTERACTION_CREATE", fake::command(id, "ask", &options, true));
    let answer = harness.fake.wait_calls("POST", &format!("/interactions/{id}/"), 1).await.remove(0).body;
    assert_eq!(answer["data"]["flags"], json!(64), "private");
    let no = button_id(&answer, "1: No");
    assert!(no.ends_with(":t:my left calf is swollen"), "{no}");

    let click_id = harness.fake.next_id();
    let mut click = fake::button(click_id, &no);
    click["message"]["flags"] = json!(64);
    click["message"]["interaction_metadata"] = json!({
        "id": id.to_string(), "type": 2, "user": fake::human(),
        "authorizing_integration_owners": {"0": GUILD_ID.to_string()},
    });
    harness.fake.dispatch("INTERACTION_CREATE", click);
    let updated = harness.fake.wait_calls("POST", &format!("/interactions/{click_id}/"), 1).await.remove(0).body;
    assert_eq!(updated["type"], json!(7), "{updated}");
    let text = titles(&updated["data"]);
    assert!(!text.contains("Does the calf feel warm"), "{text}");
    assert!(text.contains("Is the skin over it red"), "the next question is still asked: {text}");
    harness.stop().await.unwrap();
}
