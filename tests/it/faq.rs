//! Topic questions (`knowledge/faq.toml`): every question asked in several ways of our own
//! (`data/faq.toml`, typos included) gets its answer through the JSON contract, the answer
//! states its key fact, and a question that describes nothing claims no cause.

use std::collections::BTreeMap;

use serde::Deserialize;

use crampbot::analyze::followups::Answers;
use crampbot::reply::{ReplyKind, analysis_json, render_text};

use crate::support::bot;

#[derive(Deserialize)]
struct Case {
    /// A phrase the answer must contain: the key fact.
    fact: String,
    /// Ways of asking.
    asks: Vec<String>,
}

fn cases() -> BTreeMap<String, Case> {
    toml::from_str(include_str!("data/faq.toml")).expect("data/faq.toml parses")
}

/// The JSON contract's object for one message with no answers.
fn json_for(text: &str) -> serde_json::Value {
    let answered = bot().answer(text, &Answers::new());
    serde_json::to_value(analysis_json(None, &answered, bot().catalogue())).expect("serializes")
}

#[test]
fn every_question_in_the_catalogue_has_three_ways_of_asking_in_the_tests() {
    let cases = cases();
    for faq in &bot().catalogue().faqs {
        let case = cases.get(&faq.id).unwrap_or_else(|| panic!("no test cases for FAQ {:?}", faq.id));
        assert!(case.asks.len() >= 3, "{}: only {} ways of asking", faq.id, case.asks.len());
    }
    for id in cases.keys() {
        assert!(bot().catalogue().faqs.iter().any(|faq| &faq.id == id), "test cases for unknown FAQ {id:?}");
    }
}

#[test]
fn questions_in_new_words_get_the_right_answer_with_its_key_fact() {
    let mut misses = Vec::new();
    let mut total = 0;
    for (id, case) in cases() {
        for text in &case.asks {
            total += 1;
            let json = json_for(text);
            let answer = &json["answer"];
            let ok = answer["id"] == id.as_str()
                && answer["text"]
                    .as_str()
                    .is_some_and(|answer| answer.to_lowercase().contains(&case.fact.to_lowercase()))
                && answer["question"].is_string()
                && answer["sources"].as_array().is_some_and(|sources| {
                    !sources.is_empty()
                        && sources.iter().all(|source| {
                            source["url"].as_str().is_some_and(|url| url.starts_with("http"))
                                && source["publisher"].is_string()
                                && source["title"].is_string()
                                && source["id"].is_string()
                        })
                });
            if !ok {
                misses.push(format!("{text:?}: want {id}, got {}", answer["id"]));
            }
        }
    }
    assert!(misses.is_empty(), "{} of {total} missed:\n{}", misses.len(), misses.join("\n"));
}

#[test]
fn a_question_that_describes_nothing_is_answered_not_analyzed() {
    let json = json_for("does magnesium help with cramps?");
    assert_eq!(json["answer"]["id"], "magnesium");
    assert_eq!(json["causes"], serde_json::json!([]), "no cause is claimed for a question");
    assert_eq!(json["followups"], serde_json::json!([]));
    let reply = bot().ask("does magnesium help with cramps?");
    assert_eq!(reply.kind, ReplyKind::Answer);
    let text = render_text(&reply);
    assert!(text.contains("Cochrane"), "{text}");
    assert!(!text.contains("Why: You mentioned"), "no cause analysis: {text}");
    assert!(text.contains(reply.guidance()));
}

#[test]
fn the_asker_and_a_bare_my_do_not_make_a_question_a_description() {
    for text in [
        "does magnesium help with my cramps?",
        "can I take magnesium for my cramps?",
        "should i try magnesium for my cramps",
    ] {
        let json = json_for(text);
        assert_eq!(json["answer"]["id"], "magnesium", "{text}");
        assert_eq!(json["causes"], serde_json::json!([]), "the asked word is not evidence: {text}");
    }
    // Someone's situation still describes: the speaker, or another person.
    for text in
        ["I'm 70 and take magnesium, does it help cramps?", "my mum is on bendroflumethiazide, does that cause cramps?"]
    {
        let json = json_for(text);
        assert_ne!(json["causes"], serde_json::json!([]), "{text}");
    }
}

#[test]
fn a_question_that_also_describes_gets_the_answer_and_the_analysis() {
    let json = json_for("is it bad that my calf twitches since I started statins?");
    assert_eq!(json["answer"]["id"], "statins");
    assert_eq!(json["causes"][0]["id"], "medication_side_effects");
    let text = render_text(&bot().ask("is it bad that my calf twitches since I started statins?"));
    let medication = &bot().catalogue().cause("medication_side_effects").expect("fixed id").name;
    let answer_at = text.find("## Can statins cause cramps").expect("the answer is shown");
    let analysis_at = text.find(&format!("## {medication}")).expect("the analysis is shown");
    assert!(answer_at < analysis_at, "the answer comes first: {text}");
}

#[test]
fn a_description_without_a_question_gets_no_answer() {
    for text in ["my calves cramp since I started statins", "I drink lots of coffee and my calf twitches"] {
        assert_eq!(json_for(text)["answer"], serde_json::Value::Null, "{text}");
    }
}

#[test]
fn a_question_the_catalogue_cannot_answer_says_so_with_the_overview() {
    let reply = bot().ask("why do my calves twitch when I walk?");
    assert_eq!(reply.kind, ReplyKind::Overview);
    assert!(reply.answer.is_none());
    assert_eq!(reply.title, "I don't have an answer to that");
    let text = render_text(&reply);
    assert!(text.contains(&bot().catalogue().guidance.overview), "{text}");
    assert!(text.contains(reply.guidance()));
}

#[test]
fn red_flags_still_come_first_when_a_question_is_answered() {
    let text = "is it normal for my calf to be swollen and hot after a long flight? should i stretch?";
    let json = json_for(text);
    assert_eq!(json["red_flags"][0]["id"], "dvt_signs", "{json}");
    let rendered = render_text(&bot().ask(text));
    assert!(rendered.starts_with("!! URGENT"), "{rendered}");
}

#[test]
fn answer_replies_snapshot() {
    for (name, text) in [
        ("answer_magnesium", "does magnesium help with cramps?"),
        ("answer_and_analysis", "is it bad that my calf twitches since I started statins?"),
        ("no_answer", "why do my calves twitch when I walk?"),
    ] {
        insta::assert_snapshot!(name, render_text(&bot().ask(text)));
    }
}

/// The shipped catalogue's files, with `name` replaced by `text`.
fn files_with(name: &str, text: &str) -> Vec<(String, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("knowledge");
    let mut files = Vec::new();
    let mut dirs = vec![root.clone()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable") {
            let path = entry.expect("entry").path();
            if path.is_dir() {
                dirs.push(path);
            } else {
                let relative = path.strip_prefix(&root).expect("below root").to_string_lossy().replace('\\', "/");
                let contents =
                    if relative == name { text.to_owned() } else { std::fs::read_to_string(&path).expect("utf-8") };
                files.push((relative, contents));
            }
        }
    }
    files
}

#[test]
fn check_reports_every_faq_and_followup_problem_at_its_line() {
    let faq = r#"
[[faq]]
id = "magnesium"
question = "Does magnesium help?"
asks = ["magnesium"]
answer = ""
facts = [{ text = "A fact.", source = "no_such_source" }]
causes = ["no_such_cause"]

[[faq]]
id = "magnesium"
question = "Again?"
asks = []
answer = "An answer."
facts = []
"#;
    let Err(crampbot::knowledge::LoadError::Invalid(problems)) =
        crampbot::knowledge::Catalogue::from_files(files_with("faq.toml", faq))
    else {
        panic!("a broken faq.toml must not load");
    };
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    for expected in [
        "faq.toml:6: `answer` is empty",
        "faq.toml:7: unknown source `no_such_source`",
        "faq.toml:8: unknown cause `no_such_cause`",
        "faq.toml:11: duplicate id `magnesium`",
        "faq.toml:13: `asks` is empty",
        "faq.toml:15: `facts` is empty",
    ] {
        assert!(lines.iter().any(|line| line.starts_with(expected)), "missing {expected:?} in {lines:#?}");
    }

    let followups = r#"
[[followup]]
id = "warm"
text = "Warm?"
yes = "my calf is warm"
no = "not warm"
screens = "no_such_flag"
when = ["no_such_concept"]

[[followup]]
id = "lonely"
text = "Anything?"
yes = "yes"
no = ""
"#;
    let Err(crampbot::knowledge::LoadError::Invalid(problems)) =
        crampbot::knowledge::Catalogue::from_files(files_with("followups.toml", followups))
    else {
        panic!("a broken followups.toml must not load");
    };
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    for expected in [
        "followups.toml:7: unknown red flag `no_such_flag`",
        "followups.toml:8: unknown concept `no_such_concept`",
        "followups.toml:11: a follow-up needs `screens` (a red flag) or `causes`",
        "followups.toml:14: `no` is empty",
    ] {
        assert!(lines.iter().any(|line| line.starts_with(expected)), "missing {expected:?} in {lines:#?}");
    }
}
