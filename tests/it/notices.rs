//! Notices: advice for the situation a message describes, and the tips it holds back.

use crampbot::reply::{Reply, analysis_json, render_text};

use crate::support::bot;

fn reply(text: &str) -> Reply {
    bot().ask(text)
}

/// Every tip the reply shows, as text.
fn tip_texts(reply: &Reply) -> Vec<String> {
    reply.sections.iter().flat_map(|section| section.items.iter().map(|item| item.text.clone())).collect()
}

fn notice_ids(reply: &Reply) -> Vec<&str> {
    reply.notices.iter().map(|notice| notice.id.as_str()).collect()
}

#[test]
fn a_statin_user_with_muscle_pain_is_told_to_stop_and_call_straight_away() {
    for text in [
        "I'm on atorvastatin and my calves ache and cramp on walks",
        "started simvastatin in March, now my thighs are sore when I walk",
        "does Crestor cause cramps? my calves cramp on every walk",
    ] {
        let reply = reply(text);
        assert_eq!(notice_ids(&reply), ["statin_muscle_symptoms"], "{text}");
        let notice = &reply.notices[0];
        assert!(notice.text.contains("stop taking it and call a doctor or NHS 111 straight away"), "{}", notice.text);
        assert!(notice.sources.iter().any(|source| source.url.starts_with("https://www.nhs.uk/medicines/")));
        assert!(render_text(&reply).contains("straight away"));
    }
    // A statin named with no muscle complaint needs no notice.
    assert!(notice_ids(&reply("I take a statin for cholesterol, any tips for staying active?")).is_empty());
}

#[test]
fn someone_on_dialysis_or_with_heart_failure_never_gets_a_drink_more_tip() {
    for text in [
        "on dialysis three times a week and my calves cramp on the walk home",
        "I have heart failure and I'm on a fluid restriction, calves cramp at night and on walks",
        "kidney failure, haemodialysis, and my hamstrings cramp when I walk",
    ] {
        let reply = reply(text);
        assert!(notice_ids(&reply).contains(&"fluid_limit"), "{text}");
        let tips = tip_texts(&reply);
        assert!(!tips.iter().any(|tip| tip.contains("Drink") || tip.contains("drinks")), "{text}: {tips:?}");
    }
}

#[test]
fn every_drink_more_tip_says_to_follow_a_fluid_limit() {
    let catalogue = bot().catalogue();
    let tips = catalogue
        .causes
        .iter()
        .flat_map(|cause| cause.tips.iter().chain(&cause.treatment))
        .chain(&catalogue.guidance.prevention)
        .chain(&catalogue.guidance.treatment);
    let mut tagged = 0;
    for tip in tips.filter(|tip| tip.tags.iter().any(|tag| tag == "drink_more")) {
        tagged += 1;
        assert!(tip.text.contains("fluid limit"), "{}", tip.text);
    }
    assert!(tagged >= 3, "the drink-more tips are tagged");
}

#[test]
fn a_fresh_injury_gets_rest_and_ice_not_stretching_or_massage() {
    for text in [
        "felt a pop in my calf playing squash an hour ago and can't put weight on it",
        "pulled my hamstring sprinting yesterday, it cramps when I walk",
        "heard a snap at the back of my ankle at five-a-side tonight",
    ] {
        let reply = reply(text);
        assert!(notice_ids(&reply).contains(&"new_injury"), "{text}");
        let tips = tip_texts(&reply);
        assert!(
            !tips.iter().any(|tip| tip.to_lowercase().contains("massage") && !tip.starts_with("Avoid")),
            "{text}: {tips:?}"
        );
        assert!(!tips.iter().any(|tip| tip.starts_with("Stretch")), "{text}: {tips:?}");
    }
}

#[test]
fn a_cramp_over_ten_minutes_and_spasms_after_a_wound_get_their_nhs_advice() {
    assert!(
        notice_ids(&reply("my calf cramp lasted 20 minutes last night and still hurts"))
            .contains(&"cramp_over_ten_minutes")
    );
    assert!(
        notice_ids(&reply("stood on a rusty nail last week and now I get spasms in my calf"))
            .contains(&"tetanus_wound")
    );
}

#[test]
fn notices_are_in_the_json_contract() {
    let answered = bot().answer("on dialysis and my calves cramp", &crampbot::analyze::followups::Answers::new());
    let json = serde_json::to_value(analysis_json(None, &answered, bot().catalogue())).unwrap();
    let notices = json["notices"].as_array().expect("a notices array");
    assert_eq!(notices[0]["id"], "fluid_limit");
    assert!(notices[0]["sources"][0]["url"].as_str().unwrap().starts_with("https://"));
}

/// Rows 7 to 10 of the health corrections: every claim names a source that says it, the urgency
/// after starting water tablets is the Merck Manual's, and advice that differs by country says
/// where it applies.
#[test]
fn corrected_claims_cite_sources_that_say_them() {
    let catalogue = bot().catalogue();
    let causes = &catalogue.causes;
    let every_tip = causes
        .iter()
        .flat_map(|cause| cause.tips.iter().chain(&cause.treatment))
        .chain(&catalogue.guidance.prevention)
        .chain(&catalogue.guidance.treatment)
        .chain(&catalogue.hydration_tips);
    for tip in every_tip {
        let text = tip.text.to_lowercase();
        // Row 9: dark pee is on the NHS dehydration page, not the heat page.
        if text.contains("pee") && (text.contains("dark") || text.contains("less often")) {
            assert_eq!(tip.source.id, "nhs_dehydration", "{}", tip.text);
        }
        // Row 9: the NHS B12 page does not list cramps, and NHS leg cramps says nothing of injuries.
        if tip.source.id == "nhs_b12_folate" {
            assert!(!text.contains("cramp"), "{}", tip.text);
        }
        if tip.source.id == "nhs_leg_cramps" {
            assert!(!text.contains("injur") && !text.contains("strain"), "{}", tip.text);
        }
        // Row 10: quinine advice says where it applies.
        if text.contains("quinine") {
            assert!(text.contains("in the uk") || text.contains("in the us"), "{}", tip.text);
        }
    }
    // Row 7: the source article is not a citable source.
    for cause in causes {
        for text in [&cause.summary, &cause.explanation, &cause.see_a_professional] {
            assert!(!text.contains("source article"), "{}: {text}", cause.id);
        }
    }
    // Row 8: cramps after starting water tablets mean seeing a doctor right away (Merck Manual).
    let medication = causes.iter().find(|cause| cause.id == "medication_side_effects").expect("cause");
    assert!(
        medication.see_a_professional.contains("right away if cramps started"),
        "{}",
        medication.see_a_professional
    );
    assert!(medication.see_a_professional.contains("water tablets (diuretics)"));
    // Row 10: the place-neutral line comes first, then each country's number.
    let emergency = &catalogue.guidance.emergency;
    assert!(emergency.starts_with("Call your local emergency number"), "{emergency}");
    for number in ["999", "112", "911", "000", "111 in New Zealand"] {
        assert!(emergency.contains(number), "{emergency}");
    }
}
