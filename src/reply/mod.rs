//! The platform-neutral reply: what the bot says, before any front end renders it.
//!
//! A [`Reply`] is the one way out of the core for anything about causes, tips or red flags. Its
//! guidance field is private and filled from the catalogue by the only constructor, so no code
//! path can produce a reply without the consult-a-professional guidance, and every renderer
//! prints it. Red-flag alerts are kept apart from the sections so that renderers put them first.

pub mod compose;
mod json;
mod text;

use serde::Serialize;

pub use compose::TipsKind;
pub use json::{AnalysisJson, Answered, CauseJson, ErrorJson, analysis_json, error_json};
pub use text::render_text;

use crate::analyze::followups::Answers;
use crate::knowledge::{Catalogue, Source, Urgency};

/// What a reply is about; front ends use it for colours, buttons and titles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ReplyKind {
    /// The answer to a free-text description of symptoms.
    Analysis,
    /// A description that was on topic but pointed to no particular cause.
    Overview,
    /// A message that was not about leg symptoms.
    OffTopic,
    /// The full card of one cause (`/cause`).
    CauseCard,
    /// All causes, one line each (`/causes`).
    CauseList,
    /// Prevention or treatment tips (`/tips`).
    Tips,
    /// What the bot is and is not (`/about`).
    About,
    /// How to use the bot (`/help`, or an empty mention).
    Help,
    /// A `/cause` lookup that matched no cause.
    NotFound,
    /// A daily hydration reminder.
    Reminder,
    /// The answer to a topic question ("does magnesium help?") that describes nothing.
    Answer,
}

/// A red-flag alert, shown before everything else.
#[derive(Debug, Clone, Serialize)]
pub struct Alert {
    /// Fixed red-flag id.
    pub id: String,
    /// How soon to act.
    pub urgency: Urgency,
    /// Short headline.
    pub title: String,
    /// What the signs can mean.
    pub message: String,
    /// What to do now.
    pub action: String,
    /// The user's words that raised it.
    pub evidence: Vec<String>,
    /// Where the advice comes from.
    pub sources: Vec<Source>,
}

/// Advice for the situation a message describes, shown right after the alerts.
#[derive(Debug, Clone, Serialize)]
pub struct NoticeItem {
    /// The notice's id.
    pub id: String,
    /// Short headline.
    pub title: String,
    /// The advice.
    pub text: String,
    /// Where it comes from.
    pub sources: Vec<Source>,
}

/// The answer to a topic question from `faq.toml`, shown before the analysis.
#[derive(Debug, Clone, Serialize)]
pub struct AnswerItem {
    /// The question's id.
    pub id: String,
    /// The question, as a heading.
    pub question: String,
    /// The short answer.
    pub text: String,
    /// Where the facts behind it come from, each once.
    pub sources: Vec<Source>,
}

/// A follow-up question offered under a reply, answered with yes, no or not sure.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FollowupItem {
    /// The question's index in the catalogue, for compact button state.
    #[serde(skip)]
    pub index: usize,
    /// The question's id, for answers.
    pub id: String,
    /// The question.
    pub text: String,
}

/// One line of a section, with the source that backs it when it makes a health claim.
#[derive(Debug, Clone, Serialize)]
pub struct Item {
    /// The text.
    pub text: String,
    /// Its source, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
}

/// A titled block: one cause, one group of tips, one part of the help.
#[derive(Debug, Clone, Serialize)]
pub struct Section {
    /// Heading, such as the cause's name.
    pub heading: String,
    /// The cause this section is about, for buttons and links.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause_id: Option<String>,
    /// Why the bot thinks so, in plain words (analysis replies only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub why: Option<String>,
    /// A paragraph of text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
    /// Bullet items, such as tips.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub items: Vec<Item>,
}

impl Section {
    /// A section with only a heading; fill the rest with the field setters.
    pub fn new(heading: impl Into<String>) -> Section {
        Section { heading: heading.into(), cause_id: None, why: None, body: None, items: Vec::new() }
    }
}

/// Everything the bot says in one answer. Build it with [`Reply::new`].
#[derive(Debug, Clone, Serialize)]
pub struct Reply {
    /// What the reply is about.
    pub kind: ReplyKind,
    /// Red-flag alerts, most urgent first.
    pub alerts: Vec<Alert>,
    /// Advice for the situation described, shown right after the alerts.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notices: Vec<NoticeItem>,
    /// Title line.
    pub title: String,
    /// Opening paragraph.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub intro: Option<String>,
    /// The body.
    pub sections: Vec<Section>,
    /// The topic question answered, if the message asked one the catalogue answers; its text
    /// is also the first section, so every renderer shows it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub answer: Option<AnswerItem>,
    /// Follow-up questions to narrow the description down, at most three.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub followups: Vec<FollowupItem>,
    /// The answers to follow-up questions this reply was built with, so a front end can carry
    /// them in its buttons.
    #[serde(skip)]
    pub answered: Answers,
    /// The consult-a-professional guidance; private so that only [`Reply::new`] sets it.
    guidance: String,
    /// What to do in an emergency, set when an emergency alert is present.
    #[serde(skip_serializing_if = "Option::is_none")]
    emergency: Option<String>,
}

impl Reply {
    /// Starts a reply that carries the catalogue's consult-a-professional guidance.
    pub fn new(kind: ReplyKind, title: impl Into<String>, catalogue: &Catalogue) -> Reply {
        Reply {
            kind,
            alerts: Vec::new(),
            notices: Vec::new(),
            title: title.into(),
            intro: None,
            sections: Vec::new(),
            answer: None,
            followups: Vec::new(),
            answered: Answers::new(),
            guidance: catalogue.guidance.consult.clone(),
            emergency: None,
        }
    }

    /// Adds red-flag alerts, keeping the most urgent first; an emergency adds the emergency line.
    #[must_use]
    pub fn with_alerts(mut self, alerts: Vec<Alert>, catalogue: &Catalogue) -> Reply {
        self.alerts.extend(alerts);
        self.alerts.sort_by_key(|alert| std::cmp::Reverse(alert.urgency));
        if self.alerts.iter().any(|alert| alert.urgency == Urgency::Emergency) {
            self.emergency = Some(catalogue.guidance.emergency.clone());
        }
        self
    }

    /// The consult-a-professional guidance; never empty.
    pub fn guidance(&self) -> &str {
        &self.guidance
    }

    /// The emergency line, when an alert is an emergency.
    pub fn emergency(&self) -> Option<&str> {
        self.emergency.as_deref()
    }

    /// The most urgent alert's urgency, if any.
    pub fn top_urgency(&self) -> Option<Urgency> {
        self.alerts.first().map(|alert| alert.urgency)
    }
}
