//! Table-driven analyzer tests over `data/analyzer.toml`, plus targeted checks.

use serde::Deserialize;

use crampbot::analyze::{Analysis, MatchKind};

use crate::support::bot;

#[derive(Debug, Deserialize)]
struct Cases {
    case: Vec<Case>,
}

#[derive(Debug, Deserialize)]
struct Case {
    #[serde(default)]
    tags: Vec<String>,
    text: String,
    causes: Option<Vec<String>>,
    #[serde(default)]
    not_causes: Vec<String>,
    red_flags: Option<Vec<String>>,
    on_topic: Option<bool>,
}

/// Checks one case; returns what is wrong, if anything.
fn check(case: &Case) -> Option<String> {
    let analysis = bot().analyzer().analyze(&case.text);
    let shown: Vec<&str> = analysis.causes.iter().map(|c| c.id).collect();
    let flags: Vec<&str> = analysis.red_flags.iter().map(|f| f.id).collect();
    let mut problems = Vec::new();
    if let Some(causes) = &case.causes {
        if causes.is_empty() && !shown.is_empty() {
            problems.push(format!("expected no cause, got {shown:?}"));
        }
        for cause in causes {
            if !shown.contains(&cause.as_str()) {
                problems.push(format!("missing cause {cause} (got {shown:?})"));
            }
        }
    }
    for cause in &case.not_causes {
        if shown.contains(&cause.as_str()) {
            problems.push(format!("{cause} shown although the text speaks against it"));
        }
    }
    if let Some(expected) = &case.red_flags {
        if expected.is_empty() && !flags.is_empty() {
            problems.push(format!("false alarm {flags:?}"));
        }
        for flag in expected {
            if !flags.contains(&flag.as_str()) {
                problems.push(format!("missing red flag {flag} (got {flags:?})"));
            }
        }
    }
    let on_topic = case.on_topic.unwrap_or(true);
    if analysis.on_topic != on_topic {
        problems.push(format!("on_topic is {}, expected {on_topic}", analysis.on_topic));
    }
    if !on_topic && (!shown.is_empty() || !flags.is_empty()) {
        problems.push("an off-topic message must show no cause and no red flag".to_owned());
    }
    (!problems.is_empty()).then(|| format!("{:?} {:?}: {}", case.tags, case.text, problems.join("; ")))
}

#[test]
fn table_of_cases() {
    let cases: Cases = toml::from_str(include_str!("data/analyzer.toml")).expect("data/analyzer.toml parses");
    assert!(cases.case.len() >= 30, "the table should stay broad");
    let failures: Vec<String> = cases.case.iter().filter_map(check).collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.case.len(), failures.join("\n"));
}

/// Paste a failing message here while working on it.
#[test]
fn smoke() {
    let case = Case {
        tags: vec!["smoke".into()],
        text: "my calves twitch on long walks and I just started water pills".into(),
        causes: Some(vec!["medication_side_effects".into()]),
        not_causes: vec![],
        red_flags: Some(vec![]),
        on_topic: Some(true),
    };
    assert_eq!(check(&case), None);
}

fn analyze(text: &str) -> Analysis {
    bot().analyzer().analyze(text)
}

#[test]
fn evidence_says_how_each_word_matched() {
    let analysis = analyze("so dehidrated, calf cramping after the water pills");
    let evidence: Vec<(String, String, MatchKind)> = analysis
        .causes
        .iter()
        .flat_map(|c| c.evidence.iter().map(|e| (e.text.clone(), e.term.clone(), e.how)))
        .collect();
    assert!(
        evidence.contains(&("dehidrated".into(), "dehydrated".into(), MatchKind::Fuzzy { distance: 1 })),
        "{evidence:?}"
    );
    assert!(evidence.contains(&("water pills".into(), "water pill".into(), MatchKind::Phrase)), "{evidence:?}");
}

#[test]
fn negated_evidence_is_reported_as_excluded() {
    let analysis = analyze("my calves cramp on walks but I'm not on furosemide");
    let excluded = analysis.excluded.iter().find(|e| e.id == "medication_side_effects").expect("medication excluded");
    assert_eq!(excluded.evidence[0].how, MatchKind::Negated);
    assert!(excluded.evidence[0].text.contains("not on furosemide"), "{:?}", excluded.evidence);
}

#[test]
fn a_negated_sign_raises_no_red_flag_but_an_affirmed_one_does() {
    assert!(analyze("my calf is not swollen and not warm").red_flags.is_empty());
    let flags: Vec<&str> = analyze("my calf is swollen and warm").red_flags.iter().map(|f| f.id).collect();
    assert_eq!(flags, ["dvt_signs"]);
}

#[test]
fn emergencies_come_before_other_red_flags() {
    let analysis = analyze("calf swollen and hot after a long flight and now chest pain when I breathe in");
    let urgencies: Vec<_> = analysis.red_flags.iter().map(|f| f.urgency).collect();
    let mut sorted = urgencies.clone();
    sorted.sort_by(|a, b| b.cmp(a));
    assert_eq!(urgencies, sorted);
    assert_eq!(analysis.red_flags[0].id, "pulmonary_embolism_signs");
}

#[test]
fn a_repeated_word_counts_once() {
    let once = analyze("calf twitch, gym");
    let many = analyze("calf twitch, gym gym gym gym gym gym gym gym gym");
    assert!((once.causes[0].score - many.causes[0].score).abs() < f32::EPSILON);
    assert_eq!(once.causes[0].evidence.len(), many.causes[0].evidence.len());
}

#[test]
fn at_most_three_causes_are_shown() {
    let analysis = analyze(
        "calf cramps on walks: furosemide, dehydrated, sciatica, flat feet, vegan, MS, torn calf, poor circulation, overdid it at the gym",
    );
    assert!(analysis.causes.len() <= 3);
}

#[test]
fn short_words_are_not_fuzzed_into_false_hits() {
    // "camp" is one edit from "cramp" and "pils" from "pill", but short words are never fuzzed.
    let analysis = analyze("went to camp, legs fine, took pils");
    assert!(analysis.causes.is_empty(), "{:?}", analysis.causes);
}

/// Every red flag has a family of paraphrases in `data/red_flags.toml`: at least ten that affirm
/// its signs (in many voices, across sentences, as questions) and five that deny or explain them
/// away, plus near misses that must raise nothing.
#[test]
fn red_flag_families() {
    let cases: Cases = toml::from_str(include_str!("data/red_flags.toml")).expect("data/red_flags.toml parses");
    for id in crampbot::knowledge::RED_FLAG_IDS {
        let count = |kind: &str| {
            cases
                .case
                .iter()
                .filter(|case| case.tags.iter().any(|t| t == id) && case.tags.iter().any(|t| t == kind))
                .count()
        };
        assert!(count("affirmed") >= 10, "{id}: only {} affirmed paraphrases", count("affirmed"));
        assert!(count("negated") >= 5, "{id}: only {} negated paraphrases", count("negated"));
    }
    let failures: Vec<String> = cases.case.iter().filter_map(check).collect();
    assert!(failures.is_empty(), "{} of {} cases failed:\n{}", failures.len(), cases.case.len(), failures.join("\n"));
}

fn flags(text: &str) -> Vec<(&'static str, crampbot::knowledge::Urgency)> {
    analyze(text).red_flags.iter().map(|flag| (flag.id, flag.urgency)).collect()
}

#[test]
fn sudden_speech_or_face_changes_are_a_stroke_emergency_and_slow_ones_are_not() {
    use crampbot::knowledge::Urgency::{Emergency, Soon};
    for text in [
        "my speech suddenly became slurred while walking and my calf was cramping",
        "dad's face is drooping on one side and his calves were cramping on the walk",
        "out of nowhere my left arm went weak and my words came out jumbled",
    ] {
        assert_eq!(flags(text), [("stroke_signs", Emergency)], "{text}");
    }
    // Slowly over months is a nerve sign to see a GP about, not a stroke.
    assert_eq!(
        flags("calves twitching for a year and my speech has been slowly slurring over the months"),
        [("progressive_neuro_signs", Soon)]
    );
}

#[test]
fn heat_exhaustion_is_urgent_and_heatstroke_an_emergency() {
    use crampbot::knowledge::Urgency::{Emergency, Urgent};
    assert_eq!(flags("calves cramping on a hot day walk and I feel dizzy and sick"), [("heat_illness_signs", Urgent)]);
    assert_eq!(
        flags("marathon in the heat, calves cramping and now I've stopped sweating"),
        [("heat_illness_signs", Emergency)]
    );
    assert_eq!(
        flags("walking in the sun all day, cramps, and my mate says I'm confused"),
        [("heat_illness_signs", Emergency)]
    );
}

#[test]
fn dark_urine_with_muscle_pain_is_an_emergency() {
    use crampbot::knowledge::Urgency::Emergency;
    for text in [
        "my wee is dark brown after the marathon and my thighs are agony",
        "after a brutal spin class my pee looks like cola",
        "is it bad if my urine is the colour of strong tea after leg day?",
    ] {
        assert_eq!(flags(text), [("rhabdomyolysis_signs", Emergency)], "{text}");
    }
}
