//! Negation in the NegEx family, adapted to chat.
//!
//! Pre-triggers ("no", "don't have", "never had") negate forward; post-triggers ("ruled out",
//! "went away", "all normal") negate backward; pseudo-triggers ("not only", "no change") look
//! like negations but negate nothing. A scope ends at a terminator ("but", "however"), at
//! another trigger, at a clause or sentence boundary (comma, emoji, full stop), or after a few
//! words, because chat is rarely punctuated. Triggers that sit inside a catalogue phrase ("no
//! water", "can't feel a pulse") are that phrase's words, not triggers, and the caller drops them.

use super::index::{Found, NegationRole};
use super::normalize::{Boundary, Tokens};

/// How many words a pre-trigger reaches forward.
pub const MAX_FORWARD: usize = 6;

/// How many words a post-trigger reaches back.
pub const MAX_BACKWARD: usize = 6;

/// For each token, the index (into `triggers`) of the trigger that negates it, if any.
pub fn scopes(tokens: &Tokens, triggers: &[(Found, NegationRole)]) -> Vec<Option<usize>> {
    let n = tokens.tokens.len();
    let mut in_trigger = vec![false; n];
    for (found, _) in triggers {
        in_trigger[found.start..found.end].iter_mut().for_each(|flag| *flag = true);
    }
    let mut negated_by = vec![None; n];
    for (trigger, (found, role)) in triggers.iter().enumerate() {
        if matches!(role, NegationRole::Pre | NegationRole::Both) {
            let mut position = found.end;
            while position < n && position - found.end < MAX_FORWARD {
                if tokens.tokens[position].boundary >= Boundary::Clause || in_trigger[position] {
                    break;
                }
                negated_by[position].get_or_insert(trigger);
                position += 1;
            }
        }
        if matches!(role, NegationRole::Post | NegationRole::Both) {
            let mut position = found.start;
            let mut reached = 0;
            while position > 0 && reached < MAX_BACKWARD {
                if tokens.tokens[position].boundary >= Boundary::Clause {
                    break;
                }
                position -= 1;
                if in_trigger[position] {
                    break;
                }
                negated_by[position].get_or_insert(trigger);
                reached += 1;
            }
        }
    }
    negated_by
}
