//! The JSON renderer: the analysis contract of `crampbot ask --format json` (see DESIGN.md).

use serde_json::{Value, json};

use crate::analyze::Analysis;
use crate::knowledge::Catalogue;

/// One analysis as the contract's JSON object, echoing `id` when there is one. Causes carry
/// their display name; `guidance` carries the consult-a-professional line.
pub fn analysis_json(id: Option<&Value>, analysis: &Analysis, catalogue: &Catalogue) -> Value {
    let causes: Vec<Value> = analysis
        .causes
        .iter()
        .map(|found| {
            json!({
                "id": found.id,
                "name": catalogue.causes[found.cause].name,
                "score": (f64::from(found.score) * 1000.0).round() / 1000.0,
                "evidence": found.evidence,
            })
        })
        .collect();
    let mut object = json!({
        "on_topic": analysis.on_topic,
        "causes": causes,
        "excluded": analysis.excluded,
        "red_flags": analysis.red_flags,
        "guidance": catalogue.guidance.consult,
    });
    if let (Some(id), Some(map)) = (id, object.as_object_mut()) {
        map.insert("id".to_owned(), id.clone());
    }
    object
}

/// The error object for a batch line that could not be analyzed.
pub fn error_json(id: Option<&Value>, message: &str) -> Value {
    json!({ "id": id.cloned().unwrap_or(Value::Null), "error": message })
}
