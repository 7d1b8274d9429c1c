//! The JSON renderer: the analysis contract of `crampbot ask --format json` (see DESIGN.md).
//!
//! It renders what the bot core answered ([`Answered`]: the analysis and the [`Reply`] built
//! from it by `Bot::answer`), so the JSON carries the same notices, answer, follow-ups and
//! guidance as every other front end, not a copy made beside it.

use serde::Serialize;
use serde_json::value::RawValue;

use super::{AnswerItem, FollowupItem, NoticeItem, Reply};
use crate::analyze::{Analysis, Evidence, Exclusion, RedFlagMatch};
use crate::knowledge::Catalogue;

/// What the bot core answered one message with: the analysis (for the contract's causes and
/// evidence) and the reply every front end renders.
#[derive(Debug, Clone)]
pub struct Answered {
    /// The analysis of the text plus the answers given.
    pub analysis: Analysis,
    /// The reply built from it.
    pub reply: Reply,
}

/// One analysis in the contract's shape, ready to serialize: `id` first (when there is one),
/// causes with their display names, the answer and follow-ups, and the consult-a-professional
/// `guidance`.
#[derive(Debug, Serialize)]
pub struct AnalysisJson<'a> {
    /// The caller's id, echoed exactly as written (a big integer stays exact).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<&'a RawValue>,
    /// Whether the message is about leg symptoms.
    pub on_topic: bool,
    /// Likely causes, most likely first.
    pub causes: Vec<CauseJson<'a>>,
    /// Causes the message speaks against.
    pub excluded: &'a [Exclusion],
    /// Red flags, most urgent first.
    pub red_flags: &'a [RedFlagMatch],
    /// Advice for the situation described (a statin user with muscle pain, dialysis, a fresh
    /// injury), in catalogue order.
    pub notices: &'a [NoticeItem],
    /// The topic question answered, or null.
    pub answer: Option<&'a AnswerItem>,
    /// Follow-up questions, at most three; empty when none is needed.
    pub followups: &'a [FollowupItem],
    /// The guidance every answer carries.
    pub guidance: &'a str,
}

/// A likely cause in the contract's shape.
#[derive(Debug, Serialize)]
pub struct CauseJson<'a> {
    /// Fixed cause id.
    pub id: &'a str,
    /// Display name.
    pub name: &'a str,
    /// Score in `0..1`, rounded to three decimals.
    pub score: f64,
    /// The words that point to it.
    pub evidence: &'a [Evidence],
}

/// One answer as the contract's JSON object, echoing `id` when there is one.
pub fn analysis_json<'a>(
    id: Option<&'a RawValue>,
    answered: &'a Answered,
    catalogue: &'a Catalogue,
) -> AnalysisJson<'a> {
    let Answered { analysis, reply } = answered;
    AnalysisJson {
        id,
        on_topic: analysis.on_topic,
        causes: analysis
            .causes
            .iter()
            .map(|found| CauseJson {
                id: found.id,
                name: &catalogue.causes[found.cause].name,
                score: (f64::from(found.score) * 1000.0).round() / 1000.0,
                evidence: &found.evidence,
            })
            .collect(),
        excluded: &analysis.excluded,
        red_flags: &analysis.red_flags,
        notices: &reply.notices,
        answer: reply.answer.as_ref(),
        followups: &reply.followups,
        guidance: reply.guidance(),
    }
}

/// The error object for a batch line that could not be analyzed: `{"id": ..., "error": "..."}`,
/// the id echoed exactly as written, or null.
#[derive(Debug, Serialize)]
pub struct ErrorJson<'a> {
    /// The caller's id, or null.
    pub id: Option<&'a RawValue>,
    /// What was wrong with the line.
    pub error: &'a str,
}

/// The error object for a batch line that could not be analyzed.
pub fn error_json<'a>(id: Option<&'a RawValue>, message: &'a str) -> ErrorJson<'a> {
    ErrorJson { id, error: message }
}
