//! Signs: the red-flag concepts a message affirms, where they are, and the patterns they meet.
//!
//! Red flags and notices both ask the same question of a message ("are swelling and warmth
//! affirmed here?"), so the affirmed occurrences of every concept are worked out once: a concept
//! counts where it is not negated, not inside a statement of health ("feet warm and pink"), an
//! idiom or a phrase that only sounds like a sign ("warm-up"), and, for signs that sit on the
//! body, only in a sentence about the legs. Concepts that other concepts express together in
//! one clause ("pee" and "brown": dark urine) are added as occurrences spanning their parts.

use super::Evidence;
use super::index::{Found, NO_KEY, TermIndex};
use super::score::Message;
use super::topic::Location;
use crate::knowledge::{Catalogue, Pattern};

/// The most words a clause concept may span ("my pee has gone the colour of cola"): its parts
/// belong together only when they are close.
const CLAUSE_CONCEPT_SPAN: usize = 8;

/// The affirmed occurrences of every concept in one message.
pub(super) struct Signs<'a> {
    index: &'a TermIndex,
    /// Sentence number of each token.
    sentences: Vec<u32>,
    /// For each concept, its affirmed occurrences, in text order.
    occurrences: Vec<Vec<Found>>,
}

impl<'a> Signs<'a> {
    /// Works out the affirmed occurrences of every concept.
    pub(super) fn find(
        catalogue: &Catalogue,
        index: &'a TermIndex,
        message: &Message<'_>,
        location: &Location,
        cause_found: &[Found],
        concept_found: &[Found],
    ) -> Signs<'a> {
        let tokens = &message.tokens.tokens;
        let sentences: Vec<u32> = tokens.iter().map(|token| token.sentence).collect();
        let sentence = |found: &Found| sentences[found.start];
        let not_a_sign = not_signs(index, message, cause_found);
        let mut occurrences: Vec<Vec<Found>> = vec![Vec::new(); catalogue.concepts.len()];
        for found in concept_found {
            if message.negation_of(found).is_some()
                || message.resolved[found.start].key == NO_KEY
                || not_a_sign[found.start..found.end].iter().any(|cover| !cover.allows(found))
            {
                continue;
            }
            let in_legs = location.sign_in_legs(sentence(found));
            for &concept in &index.concepts.entries[found.entry as usize].payload {
                // A sign that sits on the body counts only where it is in the legs.
                if in_legs || !catalogue.concepts[usize::from(concept)].located {
                    occurrences[usize::from(concept)].push(*found);
                }
            }
        }
        // Concepts expressed by other concepts together in one clause ("pee" and "brown"): each
        // occurrence spans the words from the first to the last of them, which is the evidence.
        let group = |found: &Found| tokens[found.start].group;
        for (concept, definition) in catalogue.concepts.iter().enumerate() {
            let mut extra = Vec::new();
            for parts in &definition.in_one_clause {
                let Some(&anchor_concept) = parts.first() else { continue };
                for anchor in &occurrences[anchor_concept] {
                    let wanted = group(anchor);
                    let (mut start, mut end) = (anchor.start, anchor.end);
                    // Of each part, the occurrence nearest the anchor in its group.
                    let all_present = parts.iter().all(|&part| {
                        let found = nearest_in_group(&occurrences[part], wanted, anchor.start, group);
                        if let Some(found) = found {
                            start = start.min(found.start);
                            end = end.max(found.end);
                        }
                        found.is_some()
                    });
                    let in_legs = !definition.located || location.sign_in_legs(sentence(anchor));
                    if all_present && in_legs && end - start <= CLAUSE_CONCEPT_SPAN {
                        extra.push(Found { entry: anchor.entry, start, end });
                    }
                }
            }
            if !extra.is_empty() {
                let list = &mut occurrences[concept];
                list.extend(extra);
                list.sort_by_key(|found| (found.start, found.end));
                list.dedup();
            }
        }
        Signs { index, sentences, occurrences }
    }

    /// The affirmed occurrences of one concept, in text order.
    pub(super) fn of(&self, concept: usize) -> &[Found] {
        &self.occurrences[concept]
    }

    /// The sentence of an occurrence.
    pub(super) fn sentence(&self, found: &Found) -> u32 {
        self.sentences[found.start]
    }

    /// The occurrences that meet a pattern, one per concept, if the message meets it: anywhere
    /// in the message, or within one sentence.
    pub(super) fn fires(&self, pattern: &Pattern) -> Option<Vec<Found>> {
        if pattern.within_sentence {
            let first = &self.occurrences[*pattern.concepts.first()?];
            first.iter().find_map(|anchor| {
                let wanted = self.sentence(anchor);
                // Occurrences are in text order, so sentences ascend: binary search.
                pattern
                    .concepts
                    .iter()
                    .map(|&concept| {
                        let list = &self.occurrences[concept];
                        let at = list.partition_point(|found| self.sentence(found) < wanted);
                        list.get(at).filter(|found| self.sentence(found) == wanted).copied()
                    })
                    .collect::<Option<Vec<Found>>>()
            })
        } else {
            pattern.concepts.iter().map(|&concept| self.occurrences[concept].first().copied()).collect()
        }
    }

    /// The evidence for the occurrences of a pattern, each distinct text once (a set, so that
    /// a message of many differently written signs costs linear time, not quadratic).
    pub(super) fn evidence(&self, message: &Message<'_>, found: &[Found]) -> Vec<Evidence> {
        let mut evidence: Vec<Evidence> = Vec::new();
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        for found in found {
            let entry = &self.index.concepts.entries[found.entry as usize];
            let item = message.evidence(found, &entry.text, &entry.words);
            if seen.insert(item.text.clone()) {
                evidence.push(item);
            }
        }
        evidence
    }
}

/// Of `occurrences` (sorted by position, so by group too), the one in group `wanted` nearest
/// to `start`, the earlier on a tie: two binary searches, not a scan of every occurrence, so a
/// message repeating a sign many times stays linear.
fn nearest_in_group(occurrences: &[Found], wanted: u32, start: usize, group: impl Fn(&Found) -> u32) -> Option<&Found> {
    let from = occurrences.partition_point(|found| group(found) < wanted);
    let to = occurrences.partition_point(|found| group(found) <= wanted);
    let in_group = &occurrences[from..to];
    let split = in_group.partition_point(|found| found.start < start);
    // The first occurrence at the nearest start before `start`, and the first at or after it.
    let before = split.checked_sub(1).map(|last| {
        let nearest_start = in_group[last].start;
        &in_group[in_group.partition_point(|found| found.start < nearest_start)]
    });
    let after = in_group.get(split);
    match (before, after) {
        (Some(before), Some(after)) => Some(if start - before.start <= after.start - start { before } else { after }),
        (before, after) => before.or(after),
    }
}

/// Why a token's words are not signs, if they are not.
#[derive(Clone, Copy, Default)]
enum NotASign {
    /// The token may be a sign.
    #[default]
    Free,
    /// Inside an idiom or a statement of health: never a sign.
    Never,
    /// Inside a phrase that only sounds like a sign ("hot yoga" is not a hot calf): a sign only
    /// for a concept whose own term is that whole phrase ("hot yoga" is heat).
    Phrase { start: usize, end: usize },
}

impl NotASign {
    fn allows(self, found: &Found) -> bool {
        match self {
            NotASign::Free => true,
            NotASign::Never => false,
            NotASign::Phrase { start, end } => found.start <= start && end <= found.end,
        }
    }
}

/// Tokens whose words are not signs: inside a statement of health ("feet warm and pink"), an
/// idiom ("so cramped I'm tripping over things") or a phrase that only sounds like a sign
/// ("warm-up", "red wine").
fn not_signs(index: &TermIndex, message: &Message<'_>, cause_found: &[Found]) -> Vec<NotASign> {
    let mut cover: Vec<NotASign> =
        message.idiom.iter().map(|&idiom| if idiom { NotASign::Never } else { NotASign::Free }).collect();
    for found in index.not_signs.find(&message.resolved, &message.tokens) {
        for token in &mut cover[found.start..found.end] {
            if let NotASign::Free = token {
                *token = NotASign::Phrase { start: found.start, end: found.end };
            }
        }
    }
    for found in cause_found {
        if index.causes.entries[found.entry as usize].payload.iter().all(|reference| reference.against) {
            cover[found.start..found.end].iter_mut().for_each(|token| *token = NotASign::Never);
        }
    }
    cover
}
