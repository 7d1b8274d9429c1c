//! Follow-up questions (`knowledge/followups.toml`): which are asked, what an answer changes,
//! answers through the JSON contract and the chat, and a simulated person answering truthfully.

use proptest::prelude::*;
use serde::Deserialize;

use crampbot::analyze::followups::{Answer, Answers, MAX_FOLLOWUPS, with_answers};
use crampbot::reply::{analysis_json, render_text};

use crate::support::bot;

fn ids(answers: &Answers, text: &str) -> Vec<String> {
    bot().answer(text, answers).reply.followups.into_iter().map(|followup| followup.id).collect()
}

fn answers(given: &[(&str, Answer)]) -> Answers {
    let mut answers = Answers::new();
    for (id, answer) in given {
        answers.insert(bot().catalogue().followup_index(id).expect("known follow-up"), *answer);
    }
    answers
}

#[test]
fn a_sign_without_the_rest_of_its_red_flag_asks_about_the_rest_first() {
    assert_eq!(ids(&Answers::new(), "my left calf is swollen"), ["calf_warm", "calf_red", "one_leg"]);
}

#[test]
fn a_yes_raises_the_red_flag_and_the_question_is_not_asked_again() {
    let answered = bot().answer("my left calf is swollen", &answers(&[("calf_warm", Answer::Yes)]));
    assert!(answered.analysis.red_flags.iter().any(|flag| flag.id == "dvt_signs"), "{:?}", answered.analysis.red_flags);
    let asked: Vec<&str> = answered.reply.followups.iter().map(|followup| followup.id.as_str()).collect();
    assert!(!asked.contains(&"calf_warm"), "{asked:?}");
    // Now a clot is possible, the bot screens for one that has travelled to the lungs.
    assert!(asked.contains(&"breathless"), "{asked:?}");
}

#[test]
fn a_no_denies_and_raises_nothing() {
    let answered = bot().answer(
        "my left calf is swollen",
        &answers(&[("calf_warm", Answer::No), ("calf_red", Answer::No), ("one_leg", Answer::Unsure)]),
    );
    assert!(answered.analysis.red_flags.is_empty(), "{:?}", answered.analysis.red_flags);
    let asked: Vec<&str> = answered.reply.followups.iter().map(|followup| followup.id.as_str()).collect();
    assert!(!asked.iter().any(|id| ["calf_warm", "calf_red", "one_leg"].contains(id)), "{asked:?}");
}

#[test]
fn the_answers_mean_the_text_plus_their_sentences() {
    let given =
        answers(&[("eases_with_rest", Answer::Yes), ("new_medicine", Answer::No), ("sweating", Answer::Unsure)]);
    let with = bot().answer("calf pain", &given).analysis;
    let plain = bot().analyzer().analyze(&with_answers(bot().catalogue(), "calf pain", &given));
    let causes = |analysis: &crampbot::analyze::Analysis| analysis.causes.iter().map(|c| c.id).collect::<Vec<_>>();
    assert_eq!(causes(&with), causes(&plain));
    assert_eq!(with.causes[0].id, "circulatory_problems");
    assert!(with.excluded.iter().any(|excluded| excluded.id == "medication_side_effects"), "{:?}", with.excluded);
}

#[test]
fn every_cause_question_points_its_yes_to_its_cause_and_its_no_away() {
    let catalogue = bot().catalogue();
    for (index, followup) in catalogue.followups.iter().enumerate() {
        for &cause in &followup.causes {
            let id = &catalogue.causes[cause].id;
            let mut yes = Answers::new();
            yes.insert(index, Answer::Yes);
            let analysis = bot().answer("leg cramps", &yes).analysis;
            assert_eq!(analysis.causes.first().map(|c| c.id), Some(id.as_str()), "{}: yes", followup.id);
            let mut no = Answers::new();
            no.insert(index, Answer::No);
            let analysis = bot().answer("leg cramps", &no).analysis;
            assert!(!analysis.causes.iter().any(|c| c.id == id), "{}: no still shows {id}", followup.id);
        }
        if let Some(flag) = followup.screens {
            let mut yes = Answers::new();
            yes.insert(index, Answer::Yes);
            let when = &catalogue.concepts[followup.when[0]].terms[0];
            let text = format!("my calf, {when}");
            let analysis = bot().answer(&text, &yes).analysis;
            let flag_id = &catalogue.red_flags[flag].id;
            assert!(
                analysis.red_flags.iter().any(|raised| raised.id == flag_id),
                "{}: yes after {text:?}",
                followup.id
            );
        }
    }
}

#[test]
fn nothing_is_asked_about_a_clear_description_or_a_plain_question() {
    assert_eq!(
        ids(&Answers::new(), "my calves cramp on long walks since I started water pills and I'm dehydrated"),
        Vec::<String>::new()
    );
    assert_eq!(ids(&Answers::new(), "does magnesium help with cramps?"), Vec::<String>::new());
    assert_eq!(ids(&Answers::new(), "what's the capital of Peru?"), Vec::<String>::new());
}

#[derive(Deserialize)]
struct Simulation {
    case: Vec<SimulatedCase>,
}

#[derive(Deserialize)]
struct SimulatedCase {
    text: String,
    truth: Option<String>,
    flag: Option<String>,
}

/// A simulated person answers every question truthfully for three rounds at most; the right
/// first cause or the right red flag must be reached in at least 85% of thin descriptions.
#[test]
fn a_truthful_person_reaches_the_right_cause_or_red_flag() {
    let simulation: Simulation = toml::from_str(include_str!("data/followups.toml")).expect("parses");
    let catalogue = bot().catalogue();
    let mut reached = 0;
    let mut misses = Vec::new();
    for case in &simulation.case {
        let mut given = Answers::new();
        let mut answered = bot().answer(&case.text, &given);
        for _round in 0..3 {
            if answered.reply.followups.is_empty() {
                break;
            }
            for followup in &answered.reply.followups {
                let index = catalogue.followup_index(&followup.id).expect("known");
                let question = &catalogue.followups[index];
                assert!(given.get(index).is_none(), "{} asked again", followup.id);
                let points_to_truth = case
                    .truth
                    .as_ref()
                    .is_some_and(|truth| question.causes.iter().any(|&c| &catalogue.causes[c].id == truth));
                let screens_flag = case.flag.as_ref().is_some_and(|flag| {
                    question.screens.is_some_and(|screened| &catalogue.red_flags[screened].id == flag)
                });
                given.insert(index, if points_to_truth || screens_flag { Answer::Yes } else { Answer::No });
            }
            answered = bot().answer(&case.text, &given);
        }
        let analysis = &answered.analysis;
        let ok = match (&case.truth, &case.flag) {
            (Some(truth), _) => analysis.causes.first().is_some_and(|first| first.id == truth),
            (None, Some(flag)) => analysis.red_flags.iter().any(|raised| raised.id == flag),
            (None, None) => panic!("a case needs a truth or a flag"),
        };
        if ok {
            reached += 1;
        } else {
            misses.push(format!(
                "{:?}: want {:?}/{:?}, got {:?} {:?} after {} answers",
                case.text,
                case.truth,
                case.flag,
                analysis.causes.iter().map(|c| c.id).collect::<Vec<_>>(),
                analysis.red_flags.iter().map(|f| f.id).collect::<Vec<_>>(),
                given.len()
            ));
        }
    }
    let share = f64::from(reached) / simulation.case.len() as f64;
    eprintln!("follow-up simulation: {reached} of {} reached ({:.0}%)", simulation.case.len(), share * 100.0);
    assert!(share >= 0.85, "{reached} of {}:\n{}", simulation.case.len(), misses.join("\n"));
}

#[test]
fn batch_lines_carry_answers_and_bad_answers_fail_only_their_line() {
    let input = concat!(
        r#"{"id": 1, "text": "my left calf is swollen"}"#,
        "\n",
        r#"{"id": 2, "text": "my left calf is swollen", "answers": {"calf_warm": "yes"}}"#,
        "\n",
        r#"{"id": 3, "text": "my left calf is swollen", "answers": {"no_such_question": "yes"}}"#,
        "\n",
        r#"{"id": 4, "text": "my left calf is swollen", "answers": {"calf_warm": "maybe"}}"#,
        "\n",
    );
    let mut output = Vec::new();
    let mut errors = Vec::new();
    let failures =
        crampbot::cli::ask_batch(bot(), crampbot::cli::Format::Json, input.as_bytes(), &mut output, &mut errors)
            .unwrap();
    assert_eq!(failures, 2);
    let lines: Vec<serde_json::Value> =
        String::from_utf8(output).unwrap().lines().map(|line| serde_json::from_str(line).unwrap()).collect();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[0]["followups"][0]["id"], "calf_warm");
    assert!(lines[0]["followups"][0]["text"].is_string());
    assert_eq!(lines[0]["red_flags"], serde_json::json!([]));
    assert_eq!(lines[0]["answer"], serde_json::Value::Null);
    assert_eq!(lines[1]["id"], 2);
    assert_eq!(lines[1]["red_flags"][0]["id"], "dvt_signs");
    assert!(lines[1]["followups"].as_array().unwrap().iter().all(|followup| followup["id"] != "calf_warm"));
    assert!(lines[2]["error"].as_str().unwrap().contains("no_such_question"));
    assert!(lines[3]["error"].is_string());
}

#[test]
fn chat_asks_numbered_questions_and_takes_y_n_and_question_marks() {
    let session = "my left calf is swollen\ny\n";
    let mut output = Vec::new();
    crampbot::console::run(bot(), session.as_bytes(), &mut output, false).unwrap();
    let out = String::from_utf8(output).unwrap();
    let (first, second) =
        out.split_at(out.find("!! URGENT").unwrap_or_else(|| panic!("the yes raised the alert: {out}")));
    assert!(first.contains("1. Does the calf feel warm"), "{first}");
    assert!(first.contains("2. Is the skin over it red"), "{first}");
    assert!(!second.contains("1. Does the calf feel warm"), "never asked again: {second}");
    let guidance = &bot().catalogue().guidance.consult;
    assert_eq!(out.matches(guidance.as_str()).count(), 2, "every reply carries the guidance");
}

#[test]
fn followup_reply_snapshot() {
    insta::assert_snapshot!("followups_swollen_calf", render_text(&bot().ask("my left calf is swollen")));
    let answered = bot().answer("my left calf is swollen", &answers(&[("calf_warm", Answer::Yes)]));
    insta::assert_snapshot!("followups_swollen_calf_warm", render_text(&answered.reply));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    /// Any text with any answers gets the guidance, at most three questions, none answered.
    #[test]
    fn any_text_with_any_answers_gets_the_guidance_and_no_repeated_question(
        text in "\\PC{0,200}",
        picks in proptest::collection::vec((0usize..64, 0u8..3), 0..8),
    ) {
        let catalogue = bot().catalogue();
        let mut given = Answers::new();
        for (index, answer) in picks {
            let answer = match answer { 0 => Answer::Yes, 1 => Answer::No, _ => Answer::Unsure };
            given.insert(index % catalogue.followups.len(), answer);
        }
        let answered = bot().answer(&text, &given);
        prop_assert!(render_text(&answered.reply).contains(answered.reply.guidance()));
        let json = serde_json::to_value(analysis_json(None, &answered, catalogue)).unwrap();
        prop_assert_eq!(json["guidance"].as_str(), Some(answered.reply.guidance()));
        prop_assert!(answered.reply.followups.len() <= MAX_FOLLOWUPS);
        for followup in &answered.reply.followups {
            let index = catalogue.followup_index(&followup.id).unwrap();
            prop_assert!(given.get(index).is_none());
        }
    }
}
