//! Negation in the NegEx family, adapted to chat.
//!
//! Pre-triggers ("no", "don't have", "never had") negate forward; post-triggers ("ruled out",
//! "went away", "all normal") negate backward; pseudo-triggers ("not only", "no change") look
//! like negations but negate nothing. A scope ends at a terminator ("but", "however"), at
//! another trigger, at a clause or sentence boundary (comma, emoji, full stop), or after a few
//! words, because chat is rarely punctuated. Triggers that sit inside a catalogue phrase ("no
//! water", "can't feel a pulse") are that phrase's words, not triggers, and the caller drops them.

use super::index::{Found, NegationRoles};
use super::normalize::{Boundary, Tokens};

/// How many words a pre-trigger reaches forward.
pub const MAX_FORWARD: usize = 6;

/// How many words a post-trigger reaches back.
pub const MAX_BACKWARD: usize = 6;

/// For each token, the index (into `triggers`) of the trigger that negates it, if any.
pub fn scopes(text: &str, tokens: &Tokens, triggers: &[(Found, NegationRoles)]) -> Vec<Option<usize>> {
    let n = tokens.tokens.len();
    let mut in_trigger = vec![false; n];
    for (found, _) in triggers {
        in_trigger[found.start..found.end].iter_mut().for_each(|flag| *flag = true);
    }
    let mut negated_by = vec![None; n];
    for (trigger, (found, role)) in triggers.iter().enumerate() {
        if role.forward {
            let mut position = found.end;
            let mut segment_start = found.end;
            let mut listing = false;
            while position < n && position - segment_start < MAX_FORWARD {
                let boundary = tokens.tokens[position].boundary;
                if boundary >= Boundary::Clause {
                    // "no swelling, redness or heat": a list carries the negation across commas.
                    match list_item(tokens, position, listing) {
                        Some(is_middle) if boundary == Boundary::Clause => {
                            listing |= is_middle;
                            segment_start = position;
                        }
                        _ => break,
                    }
                }
                if in_trigger[position] {
                    break;
                }
                negated_by[position].get_or_insert(trigger);
                position += 1;
            }
        }
        if role.backward || role.backward_final {
            let mut position = found.start;
            let mut reached = 0;
            while position > 0 && reached < MAX_BACKWARD {
                let boundary = tokens.tokens[position].boundary;
                if boundary >= Boundary::Clause {
                    // "B12, folate and iron all normal": a list carries the negation back.
                    if boundary == Boundary::Clause && list_before(tokens, position) {
                        reached = 0;
                    } else {
                        break;
                    }
                }
                position -= 1;
                if in_trigger[position] {
                    break;
                }
                negated_by[position].get_or_insert(trigger);
                reached += 1;
            }
        }
        if role.answer {
            // "Swelling? None.": an answer standing alone denies the short question before it.
            if let Some((start, end)) = answered_question(text, tokens, found) {
                for slot in &mut negated_by[start..end] {
                    slot.get_or_insert(trigger);
                }
            }
        }
    }
    negated_by
}

/// Whether the clause starting at token `start` continues a negated list, and if so whether it
/// is a middle item: a clause of up to four words that ends the list with "or"/"nor" ("no
/// swelling, redness or heat"), a single word followed by another comma ("no swelling, redness,
/// heat"), or, once such a middle item was seen, a last clause of up to three words ("B12,
/// thyroid, magnesium and potassium"). Longer
/// clauses ("no swelling, my calf is red and hot") are new statements and keep their own sense.
fn list_item(tokens: &Tokens, start: usize, listing: bool) -> Option<bool> {
    let end = (start + 1..tokens.tokens.len())
        .find(|&i| tokens.tokens[i].boundary >= Boundary::Clause)
        .unwrap_or(tokens.tokens.len());
    let words = end - start;
    let closes_with_or = (start..end).any(|i| matches!(tokens.word(i), "or" | "nor"));
    let next_is_comma = end < tokens.tokens.len() && tokens.tokens[end].boundary == Boundary::Clause;
    if words == 1 && next_is_comma {
        Some(true)
    } else if (words <= 4 && closes_with_or) || (listing && words <= 3) {
        Some(false)
    } else {
        None
    }
}

/// Whether the clause that starts at token `start` follows a list item: the clause itself joins
/// items with "and"/"or" or is one word ("B12, folate and iron all normal"), and the clause
/// before it is one to three words.
fn list_before(tokens: &Tokens, start: usize) -> bool {
    let end = (start + 1..tokens.tokens.len())
        .find(|&i| tokens.tokens[i].boundary >= Boundary::Clause)
        .unwrap_or(tokens.tokens.len());
    let joins = (start..end).any(|i| matches!(tokens.word(i), "and" | "or" | "nor" | "plus"));
    let previous_start = (0..start).rev().find(|&i| tokens.tokens[i].boundary >= Boundary::Clause).unwrap_or(0);
    let previous_words = start - previous_start;
    (joins || end - start == 1) && (1..=3).contains(&previous_words)
}

/// The tokens of the question an answer trigger denies, if the trigger is a clause of its own
/// right after a "?", ":" or dash, and the clause before it is short ("Swelling? None",
/// "redness - no").
fn answered_question(text: &str, tokens: &Tokens, answer: &Found) -> Option<(usize, usize)> {
    let alone_before = answer.start > 0 && tokens.tokens[answer.start].boundary >= Boundary::Clause;
    let alone_after = answer.end == tokens.tokens.len() || tokens.tokens[answer.end].boundary >= Boundary::Clause;
    if !alone_before || !alone_after {
        return None;
    }
    let gap = &text[tokens.tokens[answer.start - 1].span.end..tokens.tokens[answer.start].span.start];
    if !gap.contains(['?', ':', '-', '–', '—']) {
        return None;
    }
    let question_start =
        (0..answer.start).rev().find(|&i| tokens.tokens[i].boundary >= Boundary::Clause).unwrap_or(0);
    (answer.start - question_start <= MAX_QUESTION_WORDS).then_some((question_start, answer.start))
}

/// The longest question an answer such as "None" can deny.
const MAX_QUESTION_WORDS: usize = 4;
