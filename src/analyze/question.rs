//! Questions: whether a message asks something, and which topic question of the catalogue
//! (`faq.toml`) it asks.
//!
//! A message asks when it has a question mark, or when a clause starts with a question form
//! ("does", "is", "should", "can", "how", "what", "why", "when should", ...). Which question it
//! asks comes from the FAQ layer of the term index, so the ways of asking are matched with the
//! same normalizer, stems and typo tolerance as every other catalogue phrase. A way of asking may
//! have several parts ("how long + last"), all of which must be in the message; the question
//! whose best way covers the most words wins, ties going to the one with more ways matched, then
//! to the catalogue's order.

use super::index::{Found, Resolved, TermIndex};
use super::normalize::{Boundary, Tokens};
use crate::knowledge::Catalogue;

/// Words that make a question when they start a clause.
const QUESTION_STARTS: [&str; 28] = [
    "does",
    "do",
    "is",
    "are",
    "should",
    "can",
    "could",
    "will",
    "would",
    "how",
    "what",
    "whats",
    "why",
    "which",
    "any",
    "anyone",
    "anybody",
    "wondering",
    "wonder",
    "hows",
    "shall",
    "am",
    "isnt",
    "doesnt",
    "best",
    "anything",
    "recommend",
    "recommendations",
];

/// Words after "when" or "where" that make a question ("when should I ..."), not a time ("when
/// I walk ...").
const AFTER_WHEN: [&str; 12] =
    ["should", "do", "does", "is", "can", "will", "to", "would", "must", "are", "could", "shall"];

/// Words that ask for an answer wherever they are ("I'm scared it's MND", "wondering if ...").
const ASKING_WORDS: [&str; 8] = ["wondering", "scared", "worried", "afraid", "terrified", "curious", "advice", "tips"];

/// Whether a word starts a question when it starts a clause ("should" in "should I ...").
pub(super) fn starts_question(word: &str) -> bool {
    QUESTION_STARTS.contains(&word)
}

/// Whether the message asks something.
pub(super) fn asks(text: &str, tokens: &Tokens) -> bool {
    if text.contains('?') {
        return true;
    }
    (0..tokens.tokens.len()).any(|i| ASKING_WORDS.contains(&tokens.word(i)) || opens_question(tokens, i))
}

/// Whether token `i` starts a clause with a question form: "should I ...", "when should ...",
/// but not "when I walk ...".
fn opens_question(tokens: &Tokens, i: usize) -> bool {
    let starts_clause = i == 0 || tokens.tokens[i].boundary >= Boundary::Clause;
    if !starts_clause {
        return false;
    }
    let word = tokens.word(i);
    QUESTION_STARTS.contains(&word)
        || ((word == "when" || word == "where")
            && i + 1 < tokens.tokens.len()
            && AFTER_WHEN.contains(&tokens.word(i + 1)))
}

/// For each clause (by [`Token::clause`](super::normalize::Token) number), whether it asks:
/// it starts with a question form ("should I take salt tablets") or ends with a question mark.
/// What a clause asks about is not a statement of the asker's situation.
pub(super) fn asking_clauses(text: &str, tokens: &Tokens) -> Vec<bool> {
    let count = tokens.tokens.len();
    let clauses = tokens.tokens.last().map_or(0, |token| token.clause as usize + 1);
    let mut asking = vec![false; clauses];
    for i in 0..count {
        let clause = tokens.tokens[i].clause as usize;
        asking[clause] |= opens_question(tokens, i);
        let ends_clause = i + 1 == count || tokens.tokens[i + 1].boundary >= Boundary::Clause;
        if ends_clause {
            let after = tokens.tokens.get(i + 1).map_or(text.len(), |next| next.span.start);
            asking[clause] |= text[tokens.tokens[i].span.end..after].contains('?');
        }
    }
    asking
}

/// The topic question the message asks, with the tokens of the parts that matched.
pub(super) fn best_faq(
    catalogue: &Catalogue,
    index: &TermIndex,
    resolved: &[Resolved],
    tokens: &Tokens,
) -> Option<(usize, Vec<Found>)> {
    if catalogue.faqs.is_empty() {
        return None;
    }
    let found = index.faq.find_overlapping(resolved, tokens);
    if found.is_empty() {
        return None;
    }
    // For each question and way, which parts are present and the words they cover.
    // The best rank so far, (specific, not a fallback, words, ways matched), and its question:
    // the first question wins a tie.
    let mut best: Option<((bool, bool, usize, usize), usize)> = None;
    let mut best_spans: Vec<Found> = Vec::new();
    // Only the questions with at least one part in the message.
    let mut candidates: Vec<usize> = found
        .iter()
        .flat_map(|hit| index.faq.entries[hit.entry as usize].payload.iter().map(|part| usize::from(part.faq)))
        .collect();
    candidates.sort_unstable();
    candidates.dedup();
    for faq_index in candidates {
        let Some(faq) = catalogue.faqs.get(faq_index) else { continue };
        let mut faq_words = 0usize;
        let mut ways_matched = 0usize;
        let mut spans: Vec<Found> = Vec::new();
        for (way_index, way) in faq.ways.iter().enumerate() {
            let mut words = 0usize;
            let mut way_spans = Vec::new();
            let complete = (0..way.len()).all(|part_index| {
                let hit = found.iter().filter(|hit| {
                    index.faq.entries[hit.entry as usize].payload.iter().any(|part| {
                        usize::from(part.faq) == faq_index
                            && usize::from(part.way) == way_index
                            && usize::from(part.part) == part_index
                    })
                });
                match hit.max_by_key(|hit| hit.end - hit.start) {
                    Some(hit) => {
                        words += hit.end - hit.start;
                        way_spans.push(*hit);
                        true
                    }
                    None => false,
                }
            });
            if complete {
                ways_matched += 1;
                if words > faq_words {
                    faq_words = words;
                    spans = way_spans;
                }
            }
        }
        if ways_matched == 0 {
            continue;
        }
        let rank = (faq.specific, !faq.fallback, faq_words, ways_matched);
        if best.is_none_or(|(best_rank, _)| rank > best_rank) {
            best = Some((rank, faq_index));
            best_spans = spans;
        }
    }
    best.map(|(_, faq)| (faq, best_spans))
}
