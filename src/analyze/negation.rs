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

/// What the negation triggers of a message do to its words.
pub struct Scopes {
    /// For each token, the index (into the triggers) of the trigger that negates it, if any.
    pub negated_by: Vec<Option<usize>>,
    /// For each token, whether a hypothetical ("worried about", "in case") puts it in doubt: it
    /// is neither affirmed nor denied.
    pub hypothetical: Vec<bool>,
}

/// Works out which words each trigger negates or puts in doubt.
pub fn scopes(text: &str, tokens: &Tokens, triggers: &[(Found, NegationRoles)]) -> Scopes {
    let n = tokens.tokens.len();
    let mut in_trigger = vec![false; n];
    for (found, _) in triggers {
        in_trigger[found.start..found.end].iter_mut().for_each(|flag| *flag = true);
    }
    let mut negated_by = vec![None; n];
    let mut hypothetical = vec![false; n];
    for (trigger, (found, role)) in triggers.iter().enumerate() {
        if role.forward || role.hypothetical {
            for position in forward_scope(tokens, &in_trigger, found) {
                if role.forward {
                    negated_by[position].get_or_insert(trigger);
                } else {
                    hypothetical[position] = true;
                }
            }
        }
        if role.backward || role.backward_final {
            for position in backward_scope(tokens, &in_trigger, found) {
                negated_by[position].get_or_insert(trigger);
            }
        }
        if role.answer || role.backward || role.backward_final {
            // "Swelling? None.", "thyroid (normal)": a trigger standing alone after a question
            // mark, colon, dash or bracket denies the short clause (or list) before it.
            if let Some((start, end)) = answered_clause(text, tokens, found) {
                for slot in &mut negated_by[start..end] {
                    slot.get_or_insert(trigger);
                }
            }
        }
    }
    Scopes { negated_by, hypothetical }
}

/// The words a forward trigger reaches: up to [`MAX_FORWARD`] words, to the end of its clause
/// or to another trigger; a list ("no swelling, redness or heat") carries it across commas.
fn forward_scope(tokens: &Tokens, in_trigger: &[bool], found: &Found) -> Vec<usize> {
    let n = tokens.tokens.len();
    let mut reached = Vec::new();
    let mut position = found.end;
    let mut segment_start = found.end;
    let mut listing = false;
    while position < n && position - segment_start < MAX_FORWARD {
        let boundary = tokens.tokens[position].boundary;
        if boundary >= Boundary::Clause {
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
        reached.push(position);
        position += 1;
    }
    reached
}

/// The words a backward trigger reaches: up to [`MAX_BACKWARD`] words back to the start of its
/// clause; a list carries it across commas ("B12, folate and iron all normal"), and so does a
/// trigger that is a clause of its own ("her tests, including potassium and calcium, were all
/// normal").
fn backward_scope(tokens: &Tokens, in_trigger: &[bool], found: &Found) -> Vec<usize> {
    let mut reached = Vec::new();
    let mut position = found.start;
    let mut words = 0;
    while position > 0 && words < MAX_BACKWARD {
        let boundary = tokens.tokens[position].boundary;
        if boundary >= Boundary::Clause {
            let trigger_alone = position == found.start;
            if boundary == Boundary::Clause && (trigger_alone || list_before(tokens, position)) {
                words = 0;
            } else {
                break;
            }
        }
        position -= 1;
        if in_trigger[position] {
            break;
        }
        reached.push(position);
        words += 1;
    }
    reached
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

/// The tokens a standalone trigger denies: the trigger is a clause of its own right after a
/// "?", ":", dash or opening bracket, and the clause before it is short ("Swelling? None",
/// "thyroid (normal)"); a list before that clause is denied too ("potassium, magnesium and
/// calcium (all normal)").
fn answered_clause(text: &str, tokens: &Tokens, answer: &Found) -> Option<(usize, usize)> {
    let alone_before = answer.start > 0 && tokens.tokens[answer.start].boundary >= Boundary::Clause;
    let alone_after = answer.end == tokens.tokens.len() || tokens.tokens[answer.end].boundary >= Boundary::Clause;
    if !alone_before || !alone_after {
        return None;
    }
    let gap = &text[tokens.tokens[answer.start - 1].span.end..tokens.tokens[answer.start].span.start];
    if !gap.contains(['?', ':', '-', '–', '—', '(']) {
        return None;
    }
    let clause_start =
        |end: usize| (0..end).rev().find(|&i| tokens.tokens[i].boundary >= Boundary::Clause).unwrap_or(0);
    let mut start = clause_start(answer.start);
    if answer.start - start > MAX_QUESTION_WORDS {
        return None;
    }
    while start > 0 && tokens.tokens[start].boundary == Boundary::Clause && list_before(tokens, start) {
        start = clause_start(start);
    }
    Some((start, answer.start))
}

/// The longest question an answer such as "None" can deny.
const MAX_QUESTION_WORDS: usize = 4;
