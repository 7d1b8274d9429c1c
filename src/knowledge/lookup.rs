//! Catalogue look-ups by name: the cause a `/cause` value names, and how well a typed name fits
//! a cause (for autocomplete and typos).

use super::{Catalogue, Cause};

/// The cause a submitted `/cause` value names: its id, name or a synonym, ignoring case.
pub fn resolve_cause<'a>(catalogue: &'a Catalogue, query: &str) -> Option<&'a Cause> {
    let query = query.trim().to_lowercase();
    let query = query.replace(' ', "_");
    catalogue.causes.iter().find(|cause| {
        cause.id == query
            || cause.name.to_lowercase().replace(' ', "_") == query
            || cause.synonyms.iter().any(|synonym| synonym.to_lowercase().replace(' ', "_") == query)
    })
}

/// How well `query` fits a cause: 1.0 when it starts the name or id, a little less when it starts
/// a synonym (so "neuro" prefers "Neurological conditions" to the synonym "neuropathy"), and
/// Jaro-Winkler similarity for typos.
pub fn name_similarity(query: &str, cause: &Cause) -> f64 {
    let mut candidates: Vec<(String, f64)> = vec![(cause.name.to_lowercase(), 1.0), (cause.id.replace('_', " "), 1.0)];
    candidates.extend(cause.synonyms.iter().map(|s| (s.to_lowercase(), 0.97)));
    let mut best: f64 = 0.0;
    for (candidate, weight) in &candidates {
        if candidate.starts_with(query) {
            best = best.max(*weight);
            continue;
        }
        if candidate.contains(query) && query.len() >= 3 {
            best = best.max(0.95 * weight);
        }
        best = best.max(strsim::jaro_winkler(query, candidate) * weight);
        for word in candidate.split([' ', '_', '-', '/', '(', ')']) {
            if word.len() >= 3 && word.starts_with(query) && query.len() >= 3 {
                best = best.max(0.95 * weight);
            }
            if query.len() >= 4 {
                best = best.max(strsim::jaro_winkler(query, word) * weight);
            }
        }
    }
    best
}
