//! The JSON renderer: the analysis contract of `crampbot ask --format json` (see DESIGN.md).

use serde::Serialize;
use serde_json::value::RawValue;

use crate::analyze::{Analysis, Evidence, Exclusion, RedFlagMatch};
use crate::knowledge::{Catalogue, Source};

/// One analysis in the contract's shape, ready to serialize: `id` first (when there is one),
/// causes with their display names, and the consult-a-professional `guidance`.
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
    pub notices: Vec<NoticeJson<'a>>,
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

/// A notice in the contract's shape.
#[derive(Debug, Serialize)]
pub struct NoticeJson<'a> {
    /// The notice's id.
    pub id: &'a str,
    /// Short headline.
    pub title: &'a str,
    /// The advice.
    pub text: &'a str,
    /// Where it comes from.
    pub sources: &'a [Source],
}

/// One analysis as the contract's JSON object, echoing `id` when there is one.
pub fn analysis_json<'a>(
    id: Option<&'a RawValue>,
    analysis: &'a Analysis,
    catalogue: &'a Catalogue,
) -> AnalysisJson<'a> {
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
        notices: analysis
            .notices
            .iter()
            .map(|found| {
                let notice = &catalogue.notices[found.notice];
                NoticeJson { id: &notice.id, title: &notice.title, text: &notice.text, sources: &notice.sources }
            })
            .collect(),
        guidance: &catalogue.guidance.consult,
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
