//! Parsing and validation of `faq.toml` (topic questions the catalogue answers) and
//! `followups.toml` (yes/no questions the bot may ask), with the same `file:line` problems as
//! the rest of the catalogue.

use std::collections::{BTreeMap, HashSet};

use serde::Deserialize;
use toml::Spanned;

use super::load::{Checker, FileRef, RawTip};
use super::{Cause, Concept, Faq, Followup, RedFlag, Source};

/// How a way of asking joins the phrases that must all be in the message.
pub(crate) const WAY_JOIN: &str = "+";

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFaqFile {
    #[serde(default)]
    faq: Vec<RawFaq>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFaq {
    id: Spanned<String>,
    question: Spanned<String>,
    asks: Spanned<Vec<Spanned<String>>>,
    answer: Spanned<String>,
    facts: Spanned<Vec<RawTip>>,
    #[serde(default)]
    causes: Vec<Spanned<String>>,
    #[serde(default = "yes")]
    needs_topic: bool,
    #[serde(default)]
    specific: bool,
    #[serde(default)]
    fallback: bool,
}

fn yes() -> bool {
    true
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFollowupFile {
    #[serde(default)]
    followup: Vec<RawFollowup>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFollowup {
    id: Spanned<String>,
    text: Spanned<String>,
    yes: Spanned<String>,
    no: Spanned<String>,
    #[serde(default)]
    screens: Option<Spanned<String>>,
    #[serde(default)]
    when: Vec<Spanned<String>>,
    #[serde(default)]
    causes: Vec<Spanned<String>>,
}

/// A stable id: lowercase letters, digits and underscores, short enough for button state.
fn valid_id(id: &str) -> bool {
    !id.is_empty() && id.len() <= 32 && id.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

fn cause_indices(check: &mut Checker, file: &FileRef<'_>, causes: &[Cause], ids: &[Spanned<String>]) -> Vec<usize> {
    ids.iter()
        .filter_map(|id| {
            let found = causes.iter().position(|cause| cause.id == *id.get_ref());
            if found.is_none() {
                check.at(file, id.span().start, format!("unknown cause `{}`", id.get_ref()));
            }
            found
        })
        .collect()
}

fn check_id(check: &mut Checker, file: &FileRef<'_>, seen: &mut HashSet<String>, id: &Spanned<String>) {
    if !valid_id(id.get_ref()) {
        check.at(
            file,
            id.span().start,
            format!("id {:?} must be 1 to 32 lowercase letters, digits or underscores", id.get_ref()),
        );
    }
    if !seen.insert(id.get_ref().clone()) {
        check.at(file, id.span().start, format!("duplicate id `{}`", id.get_ref()));
    }
}

/// Parses and checks `faq.toml`: ids unique, every field saying something, every way of asking
/// with words, every fact sourced, every cause known.
pub(super) fn build_faqs(
    check: &mut Checker,
    file: &FileRef<'_>,
    sources: &BTreeMap<String, Source>,
    causes: &[Cause],
) -> Vec<Faq> {
    let Some(raw) = check.parse::<RawFaqFile>(file) else { return Vec::new() };
    let mut seen = HashSet::new();
    let mut faqs = Vec::new();
    for entry in raw.faq {
        check_id(check, file, &mut seen, &entry.id);
        let question = check.text(file, "question", &entry.question);
        let answer = check.text(file, "answer", &entry.answer);
        if entry.asks.get_ref().is_empty() {
            check.at(file, entry.asks.span().start, "`asks` is empty: say how people ask it");
        }
        let mut ways = Vec::new();
        for way in entry.asks.get_ref() {
            let parts: Vec<String> = way.get_ref().split(WAY_JOIN).map(|part| part.trim().to_owned()).collect();
            if parts.iter().any(|part| !part.chars().any(char::is_alphanumeric)) {
                check.at(file, way.span().start, format!("way of asking {:?} has a part with no words", way.get_ref()));
                continue;
            }
            ways.push(parts);
        }
        if entry.facts.get_ref().is_empty() {
            check.at(file, entry.facts.span().start, "`facts` is empty: every answer needs a sourced fact");
        }
        let facts = check.tips(file, sources, entry.facts.get_ref());
        let related = cause_indices(check, file, causes, &entry.causes);
        faqs.push(Faq {
            id: entry.id.into_inner(),
            question,
            ways,
            answer,
            facts,
            causes: related,
            needs_topic: entry.needs_topic,
            specific: entry.specific,
            fallback: entry.fallback,
        });
    }
    faqs
}

/// Parses and checks `followups.toml`: ids unique, texts non-empty, every concept, red flag and
/// cause known, and every question either screens for a red flag or points to a cause.
pub(super) fn build_followups(
    check: &mut Checker,
    file: &FileRef<'_>,
    causes: &[Cause],
    concepts: &[Concept],
    red_flags: &[RedFlag],
) -> Vec<Followup> {
    let Some(raw) = check.parse::<RawFollowupFile>(file) else { return Vec::new() };
    let mut seen = HashSet::new();
    let mut followups = Vec::new();
    for entry in raw.followup {
        check_id(check, file, &mut seen, &entry.id);
        let text = check.text(file, "text", &entry.text);
        let yes = check.text(file, "yes", &entry.yes);
        let no = check.text(file, "no", &entry.no);
        let screens = entry.screens.as_ref().and_then(|id| {
            let found = red_flags.iter().position(|flag| flag.id == *id.get_ref());
            if found.is_none() {
                check.at(file, id.span().start, format!("unknown red flag `{}`", id.get_ref()));
            }
            found
        });
        let when: Vec<usize> = entry
            .when
            .iter()
            .filter_map(|name| {
                let found = concepts.iter().position(|concept| concept.id == *name.get_ref());
                if found.is_none() {
                    check.at(
                        file,
                        name.span().start,
                        format!("unknown concept `{}` (see red_flags.toml)", name.get_ref()),
                    );
                }
                found
            })
            .collect();
        let related = cause_indices(check, file, causes, &entry.causes);
        if entry.screens.is_none() && entry.causes.is_empty() {
            check.at(file, entry.id.span().start, "a follow-up needs `screens` (a red flag) or `causes`");
        }
        if entry.screens.is_some() && entry.when.is_empty() {
            check.at(file, entry.id.span().start, "a screening follow-up needs `when` (the concepts that make it due)");
        }
        followups.push(Followup { id: entry.id.into_inner(), text, yes, no, screens, when, causes: related });
    }
    followups
}
