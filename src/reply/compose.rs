//! Reply composition: what the bot says for an analysis, a topic question, a cause card, the
//! cause list, tips, about and help, built on [`Reply`] so every reply carries the guidance.
//! Pure: catalogue and analysis in, [`Reply`] out.

use super::{Alert, AnswerItem, FollowupItem, Item, NoticeItem, Reply, ReplyKind, Section};
use crate::analyze::followups::{self, Answers};
use crate::analyze::{Analysis, Evidence, MatchKind};
use crate::knowledge::{Catalogue, Cause, Source, Tip};

/// How many tips each likely cause shows in an analysis reply.
const TIPS_PER_CAUSE: usize = 2;

/// Which tips `/tips` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TipsKind {
    /// How to prevent twitches and cramps.
    Prevention,
    /// What to do when they happen.
    Treatment,
}

/// Builds the reply for an analysis: red flags first, then the answer to a topic question,
/// then likely causes, an overview or a redirect, and the follow-up questions.
pub fn analysis_reply(catalogue: &Catalogue, analysis: &Analysis, answers: &Answers) -> Reply {
    let alerts = analysis
        .red_flags
        .iter()
        .map(|found| {
            let flag = &catalogue.red_flags[found.red_flag];
            let level = flag.level(found.escalated);
            Alert {
                id: flag.id.clone(),
                urgency: level.urgency,
                title: level.title.clone(),
                message: level.message.clone(),
                action: level.action.clone(),
                evidence: found.evidence.iter().map(|e| e.text.clone()).collect(),
                sources: flag.sources.clone(),
            }
        })
        .collect();

    // Notices hold back tips that do not suit the situation ("drink more" on dialysis).
    let hidden: Vec<&str> = analysis
        .notices
        .iter()
        .flat_map(|found| catalogue.notices[found.notice].hides.iter().map(String::as_str))
        .collect();
    let suits = |tip: &&Tip| !tip.tags.iter().any(|tag| hidden.contains(&tag.as_str()));
    let notices = analysis
        .notices
        .iter()
        .map(|found| {
            let notice = &catalogue.notices[found.notice];
            NoticeItem {
                id: notice.id.clone(),
                title: notice.title.clone(),
                text: notice.text.clone(),
                sources: notice.sources.clone(),
            }
        })
        .collect();
    let mut reply = if !analysis.on_topic && analysis.red_flags.is_empty() {
        let mut reply = Reply::new(ReplyKind::OffTopic, "I can only help with calf twitches and leg cramps", catalogue);
        reply.intro = Some(catalogue.guidance.off_topic.clone());
        reply
    } else if analysis.causes.is_empty() {
        let mut reply = Reply::new(ReplyKind::Overview, "Calf twitching and hamstring cramps: an overview", catalogue);
        reply.intro = Some(catalogue.guidance.overview.clone());
        let mut common = Section::new("Common causes");
        common.items = catalogue.causes.iter().map(|cause| Item { text: one_line(cause), source: None }).collect();
        reply.sections.push(common);
        let mut helps = Section::new("What generally helps");
        helps.items = catalogue.guidance.prevention.iter().filter(suits).take(4).map(tip_item).collect();
        reply.sections.push(helps);
        reply
    } else {
        let mut reply = Reply::new(ReplyKind::Analysis, "What your description resembles", catalogue);
        reply.intro = Some(
            "These are possibilities that match your words, not a diagnosis. Most calf twitches and cramps are harmless."
                .to_owned(),
        );
        for found in &analysis.causes {
            let cause = &catalogue.causes[found.cause];
            let mut section = Section::new(cause.name.clone());
            section.cause_id = Some(cause.id.clone());
            section.why = Some(why_line(&found.evidence));
            section.body = Some(cause.summary.clone());
            section.items = cause.tips.iter().filter(suits).take(TIPS_PER_CAUSE).map(tip_item).collect();
            reply.sections.push(section);
        }
        reply
    };
    if !analysis.excluded.is_empty() && analysis.on_topic {
        let mut section = Section::new("Left out because of what you said");
        section.items = analysis
            .excluded
            .iter()
            .map(|excluded| Item {
                text: format!(
                    "{}: {}",
                    catalogue.causes[excluded.cause].name,
                    quoted_list(excluded.evidence.iter().map(|e| e.text.as_str()))
                ),
                source: None,
            })
            .collect();
        reply.sections.push(section);
    }
    if analysis.on_topic || !analysis.red_flags.is_empty() {
        reply.notices = notices;
    }
    add_answer_and_followups(catalogue, &mut reply, analysis, answers);
    reply.answered = answers.clone();
    reply.with_alerts(alerts, catalogue)
}

/// Adds the answer to a topic question (first, before any analysis; alone when the message
/// describes nothing), the honest "I don't have an answer" for a question the catalogue
/// cannot answer, and the follow-up questions still worth asking.
fn add_answer_and_followups(catalogue: &Catalogue, reply: &mut Reply, analysis: &Analysis, answers: &Answers) {
    if let Some(found) = &analysis.question {
        let faq = &catalogue.faqs[found.faq];
        let mut sources: Vec<Source> = Vec::new();
        for fact in &faq.facts {
            if !sources.contains(&fact.source) {
                sources.push(fact.source.clone());
            }
        }
        let mut section = Section::new(faq.question.clone());
        section.body = Some(faq.answer.clone());
        section.items = faq.facts.iter().map(tip_item).collect();
        reply.sections.insert(0, section);
        reply.answer =
            Some(AnswerItem { id: faq.id.clone(), question: faq.question.clone(), text: faq.answer.clone(), sources });
        if analysis.causes.is_empty() && !analysis.describes {
            // A question that describes nothing: the answer is the reply.
            reply.kind = ReplyKind::Answer;
            reply.title.clone_from(&faq.question);
            reply.intro = None;
            reply.sections.truncate(1);
            "What the sources say".clone_into(&mut reply.sections[0].heading);
        }
    } else if analysis.asks && analysis.on_topic && reply.kind == ReplyKind::Overview {
        "I don't have an answer to that".clone_into(&mut reply.title);
        reply.intro = Some(format!(
            "I don't have an answer to that question in my catalogue, and I won't guess. {}",
            catalogue.guidance.overview
        ));
    }
    reply.followups = followups::select(catalogue, analysis, answers)
        .into_iter()
        .map(|index| {
            let followup = &catalogue.followups[index];
            FollowupItem { index, id: followup.id.clone(), text: followup.text.clone() }
        })
        .collect();
}

/// The reply to a `/cause` lookup that matched no cause, with the names of close causes.
pub fn not_found(catalogue: &Catalogue, suggestions: &[String]) -> Reply {
    let mut reply = Reply::new(ReplyKind::NotFound, "No cause by that name", catalogue);
    reply.intro = Some(if suggestions.is_empty() {
        "Try /causes for the list of all nine.".to_owned()
    } else {
        format!(
            "Did you mean {}? Or try /causes for the list of all nine.",
            suggestions.iter().take(3).map(|name| format!("“{name}”")).collect::<Vec<_>>().join(" or ")
        )
    });
    reply
}

/// The full card of one cause.
pub fn cause_card(catalogue: &Catalogue, cause: &Cause) -> Reply {
    let mut reply = Reply::new(ReplyKind::CauseCard, cause.name.clone(), catalogue);
    reply.intro = Some(cause.summary.clone());
    let mut about = Section::new("What it is");
    about.cause_id = Some(cause.id.clone());
    about.body = Some(cause.explanation.clone());
    reply.sections.push(about);
    let mut prevent = Section::new("Prevention");
    prevent.items = cause.tips.iter().map(tip_item).collect();
    reply.sections.push(prevent);
    if !cause.treatment.is_empty() {
        let mut helps = Section::new("What helps");
        helps.items = cause.treatment.iter().map(tip_item).collect();
        reply.sections.push(helps);
    }
    let mut professional = Section::new("When to see a professional");
    professional.body = Some(cause.see_a_professional.clone());
    reply.sections.push(professional);
    let mut sources = Section::new("Sources");
    sources.items = cause.sources.iter().map(|source| Item { text: source_line(source), source: None }).collect();
    reply.sections.push(sources);
    reply
}

/// All causes, one line each.
pub fn cause_list(catalogue: &Catalogue) -> Reply {
    let mut reply = Reply::new(ReplyKind::CauseList, "Nine common causes", catalogue);
    reply.intro = Some("Use /cause with a name for the full card.".to_owned());
    let mut list = Section::new("Causes");
    list.items = catalogue.causes.iter().map(|cause| Item { text: one_line(cause), source: None }).collect();
    reply.sections.push(list);
    reply
}

/// General prevention or treatment tips.
pub fn tips(catalogue: &Catalogue, kind: TipsKind) -> Reply {
    let (title, tips) = match kind {
        TipsKind::Prevention => ("Preventing twitches and cramps", &catalogue.guidance.prevention),
        TipsKind::Treatment => ("What helps when it happens", &catalogue.guidance.treatment),
    };
    let mut reply = Reply::new(ReplyKind::Tips, title, catalogue);
    let mut section = Section::new(title);
    section.items = tips.iter().map(tip_item).collect();
    reply.sections.push(section);
    let mut professional = Section::new("When to see a professional");
    professional.items =
        catalogue.guidance.see_a_professional.iter().map(|line| Item { text: line.clone(), source: None }).collect();
    reply.sections.push(professional);
    reply
}

/// What the bot is and is not.
pub fn about(catalogue: &Catalogue) -> Reply {
    let mut reply = Reply::new(ReplyKind::About, format!("crampbot {}", env!("CARGO_PKG_VERSION")), catalogue);
    reply.intro = Some(
        "I match descriptions of calf twitching and hamstring cramps against nine common causes and say which ones your words resemble, why, and what generally helps. I am not a doctor and I do not diagnose."
            .to_owned(),
    );
    let mut how = Section::new("How it works");
    how.body = Some(
        "Keyword and fuzzy matching against a catalogue written from a general article and checked against public health sources. Warning signs are checked first, and negations such as \"no swelling\" are respected."
            .to_owned(),
    );
    reply.sections.push(how);
    let mut privacy = Section::new("Privacy");
    privacy.body = Some(
        "Your messages are analyzed in memory and never stored or logged. Reminders store only your user id, time, time zone and settings; /forget deletes them."
            .to_owned(),
    );
    reply.sections.push(privacy);
    let mut sources = Section::new("Sources");
    sources.items = catalogue.sources.values().map(|source| Item { text: source_line(source), source: None }).collect();
    reply.sections.push(sources);
    reply
}

/// How to use the bot.
pub fn help(catalogue: &Catalogue) -> Reply {
    let mut reply = Reply::new(ReplyKind::Help, "How to use crampbot", catalogue);
    reply.intro = Some(
        "Describe what happens in your own words, for example \"my calves twitch on long walks and I just started water pills\", and I will say what it resembles and what helps."
            .to_owned(),
    );
    let mut commands = Section::new("Commands");
    commands.items = [
        "/ask description: analyze a description (or mention me, or DM me)",
        "/cause name: the full card of one cause",
        "/causes: all nine causes, one line each",
        "/tips kind: prevention or treatment tips",
        "/remind set time timezone: a daily hydration DM (also /remind show, off, snooze)",
        "/hydration set channel time timezone: a daily hydration ping in a channel (admins)",
        "/helpchannel add channel: I answer every question about cramps there, no mention needed (admins)",
        "/forget: delete everything stored about you",
        "/about: what I am and am not, sources and privacy",
    ]
    .into_iter()
    .map(|text| Item { text: text.to_owned(), source: None })
    .collect();
    reply.sections.push(commands);
    reply
}

fn tip_item(tip: &Tip) -> Item {
    Item { text: tip.text.clone(), source: Some(tip.source.clone()) }
}

fn one_line(cause: &Cause) -> String {
    format!("{}: {}", cause.name, first_sentence(&cause.summary))
}

fn first_sentence(text: &str) -> &str {
    match text.find(". ") {
        Some(end) => &text[..=end],
        None => text,
    }
}

fn source_line(source: &crate::knowledge::Source) -> String {
    format!("{}: {} <{}>", source.publisher, source.title, source.url)
}

/// The evidence in plain words: `you mentioned "water pills", "dehidrated" (read as "dehydrated")`.
fn why_line(evidence: &[Evidence]) -> String {
    let parts: Vec<String> = evidence
        .iter()
        .take(4)
        .map(|e| match e.how {
            MatchKind::Fuzzy { .. } => format!("“{}” (read as “{}”)", e.text, e.term),
            _ => format!("“{}”", e.text),
        })
        .collect();
    format!("You mentioned {}.", join_and(&parts))
}

fn quoted_list<'a>(texts: impl Iterator<Item = &'a str>) -> String {
    let parts: Vec<String> = texts.take(3).map(|text| format!("“{text}”")).collect();
    join_and(&parts)
}

fn join_and(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {}", init.join(", "), last),
    }
}
