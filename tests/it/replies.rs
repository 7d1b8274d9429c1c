//! Rendered replies: snapshots of the text, the guidance on every path, and a property test.

use proptest::prelude::*;

use crampbot::analyze::followups::Answers;
use crampbot::bot::{Request, TipsKind};
use crampbot::reply::{Answered, ReplyKind, analysis_json, render_text};

use crate::support::bot;

/// One snapshot per kind of reply, so wording changes are reviewed (`cargo insta review`).
#[test]
fn rendered_replies() {
    let cases = [
        ("analysis", Request::Ask("my calves twitch on long walks and I just started water pills")),
        ("red_flag", Request::Ask("my left calf is swollen, warm and red since the long flight")),
        ("emergency", Request::Ask("leg swollen for days and now chest pain and short of breath")),
        ("overview", Request::Ask("why do my calves twitch when I walk?")),
        ("off_topic", Request::Ask("what's the capital of Peru?")),
        ("excluded", Request::Ask("calves cramp on walks, I'm not dehydrated and not on any meds")),
        ("cause_card", Request::Cause("nerve_issues")),
        ("not_found", Request::Cause("dehidration")),
        ("causes", Request::Causes),
        ("tips_prevention", Request::Tips(TipsKind::Prevention)),
        ("tips_treatment", Request::Tips(TipsKind::Treatment)),
        ("help", Request::Help),
    ];
    for (name, request) in cases {
        insta::assert_snapshot!(name, render_text(&bot().handle(request)));
    }
}

#[test]
fn every_request_carries_the_guidance() {
    let guidance = &bot().catalogue().guidance.consult;
    let requests = [
        Request::Ask("calf twitch"),
        Request::Ask("lol"),
        Request::Ask(""),
        Request::Cause("muscle_fatigue"),
        Request::Cause("no such thing"),
        Request::Causes,
        Request::Tips(TipsKind::Prevention),
        Request::Tips(TipsKind::Treatment),
        Request::About,
        Request::Help,
    ];
    for request in requests {
        let reply = bot().handle(request);
        assert_eq!(reply.guidance(), guidance, "{request:?}");
        assert!(render_text(&reply).contains(guidance.as_str()), "{request:?}");
    }
}

#[test]
fn red_flags_come_first_in_the_text() {
    let text = render_text(&bot().ask("calf swollen and hot after a long drive"));
    assert!(text.starts_with("!! URGENT"), "{text}");
}

#[test]
fn cause_lookups_are_forgiving_and_helpful() {
    assert_eq!(bot().cause_card("nerve_issues").kind, ReplyKind::CauseCard);
    assert_eq!(bot().cause_card("sciatica").kind, ReplyKind::CauseCard);
    // Close to exactly one cause: its card, as if it had been named.
    let typo = bot().cause_card("sciatca");
    assert_eq!(typo.kind, ReplyKind::CauseCard);
    assert_eq!(render_text(&typo), render_text(&bot().cause_card("nerve_issues")));
    // Close to two: the user is asked which.
    let not_found = bot().cause_card("dehidration");
    assert_eq!(not_found.kind, ReplyKind::NotFound);
    let intro = not_found.intro.as_deref().unwrap_or_default();
    assert!(intro.contains("Did you mean") && intro.contains("Dehydration"), "{intro}");
    assert_eq!(bot().cause_card("kidney stones").kind, ReplyKind::NotFound);
}

#[test]
fn autocomplete_finds_causes_from_typos_and_synonyms() {
    for (typed, expected) in [
        ("dehidration", "dehydration_electrolytes"),
        ("shoes", "footwear_biomechanics"),
        ("sciatica", "nerve_issues"),
        ("statins", "medication_side_effects"),
        ("neuro", "neurological_conditions"),
        ("b12", "nutritional_deficiencies"),
        ("", "dehydration_electrolytes"),
    ] {
        let choices = bot().autocomplete_cause(typed);
        assert_eq!(choices.first().map(|c| c.value.as_str()), Some(expected), "{typed:?} -> {choices:?}");
        assert!(choices.len() <= 25 && choices.iter().all(|c| c.name.chars().count() <= 100));
    }
}

#[test]
fn json_output_follows_the_contract() {
    let answered = bot().answer("on furosimide and my calves twitch all nite", &Answers::new());
    let id = serde_json::value::RawValue::from_string("\"d1\"".to_owned()).expect("valid JSON");
    let json = serde_json::to_value(analysis_json(Some(&id), &answered, bot().catalogue())).expect("serializes");
    assert_eq!(json["id"], "d1");
    assert_eq!(json["on_topic"], true);
    assert_eq!(json["causes"][0]["id"], "medication_side_effects");
    assert!(json["causes"][0]["name"].is_string() && json["causes"][0]["score"].is_number());
    let evidence = &json["causes"][0]["evidence"][0];
    assert_eq!(evidence["text"], "furosimide");
    assert_eq!(evidence["term"], "furosemide");
    assert_eq!(evidence["how"], "fuzzy");
    assert_eq!(evidence["distance"], 1);
    assert!(json["excluded"].is_array() && json["red_flags"].is_array());
    assert!(json["guidance"].is_string());
    assert_eq!(json["answer"], serde_json::Value::Null, "a description asks nothing");
    assert!(json["followups"].is_array());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, ..ProptestConfig::default() })]

    /// Any input, hostile or random, gets a reply with the guidance, and nothing panics.
    #[test]
    fn any_input_gets_the_guidance(text in "\\PC{0,300}") {
        let answered = bot().answer(&text, &Answers::new());
        let reply = answered.reply;
        prop_assert!(!reply.guidance().is_empty());
        prop_assert!(render_text(&reply).contains(reply.guidance()));
        let json = serde_json::to_value(analysis_json(None, &Answered { analysis: answered.analysis, reply: reply.clone() }, bot().catalogue())).unwrap();
        prop_assert_eq!(json["guidance"].as_str(), Some(reply.guidance()));
        prop_assert!(json["followups"].as_array().is_some_and(|followups| followups.len() <= 3));
        let analysis = bot().analyzer().analyze(&text);
        prop_assert!(analysis.causes.len() <= 3);
        prop_assert!(analysis.on_topic || (analysis.causes.is_empty() && analysis.red_flags.is_empty()));
    }

    /// Words from the catalogue's own world, shuffled, never break the analyzer either.
    #[test]
    fn catalogue_words_in_any_order(words in proptest::collection::vec(prop::sample::select(vec![
        "no", "not", "calf", "swollen", "warm", "cramp", "twitch", "dehydrated", "furosemide", "but",
        ",", ".", "😭", "never", "sciatica", "walk", "pins", "and", "needles", "ruled", "out", "pee", "brown",
    ]), 0..40)) {
        let text = words.join(" ");
        let reply = bot().ask(&text);
        prop_assert!(render_text(&reply).contains(reply.guidance()));
    }
}
