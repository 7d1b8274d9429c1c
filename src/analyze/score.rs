//! Scoring: from matched phrases to ranked causes, exclusions, red flags and the topic verdict.

use super::index::{Found, NO_KEY, NegationRole, Resolved, TermIndex, Topic};
use super::negation;
use super::normalize::{Tokens, tokenize};
use super::{Analysis, CauseMatch, Evidence, Exclusion, MAX_CAUSES, MatchKind, RedFlagMatch};
use crate::knowledge::{CAUSE_IDS, Catalogue, RED_FLAG_IDS, Strength};

/// The smallest net weight for a cause to be shown: one moderate term, or two weak ones.
const MIN_WEIGHT: f32 = 2.0;

/// A cause is shown only if its weight is at least this share of the best cause's weight, so a
/// strong match is not diluted by passing hints.
const RELATIVE_CUTOFF: f32 = 0.4;

/// The share of a term's weight that its negation takes away: denying a symptom ("no
/// tingling") speaks against a cause less than affirming it speaks for it, so an affirmed
/// diagnosis ("but I do have sciatica") is not cancelled by denied symptoms.
const NEGATED_SHARE: f32 = 0.5;

/// What a statement against a cause ("I drink plenty of water") weighs.
const AGAINST_WEIGHT: f32 = 3.0;

/// Weight at which the displayed score reaches about 0.63; it only shapes the `0..1` scale.
const SCORE_SCALE: f32 = 4.0;

/// The positive and negative evidence gathered for one cause.
#[derive(Default)]
struct Tally {
    positive: f32,
    negative: f32,
    evidence: Vec<Evidence>,
    contrary: Vec<Evidence>,
    seen_entries: Vec<(u32, bool)>,
}

/// A message in analyzable form: tokens, their keys, and which tokens are negated.
struct Message<'a> {
    text: &'a str,
    tokens: Tokens,
    resolved: Vec<Resolved>,
    negated_by: Vec<Option<usize>>,
    triggers: Vec<(Found, NegationRole)>,
}

impl Message<'_> {
    /// The original words covered by tokens `start..end`.
    fn original(&self, start: usize, end: usize) -> &str {
        &self.text[self.tokens.tokens[start].span.start..self.tokens.tokens[end - 1].span.end]
    }

    /// The trigger negating any token of `found`, if one does.
    fn negation_of(&self, found: &Found) -> Option<usize> {
        (found.start..found.end).find_map(|i| self.negated_by[i])
    }

    fn how(&self, found: &Found, words: &[Box<str>]) -> MatchKind {
        let distance: u8 = self.resolved[found.start..found.end].iter().map(|r| r.distance).sum();
        if distance > 0 {
            MatchKind::Fuzzy { distance }
        } else if found.end - found.start > 1 {
            MatchKind::Phrase
        } else if self.tokens.word(found.start) == &*words[0] {
            MatchKind::Exact
        } else {
            MatchKind::Stem
        }
    }

    fn evidence(&self, found: &Found, term: &str, words: &[Box<str>]) -> Evidence {
        Evidence {
            text: self.original(found.start, found.end).to_owned(),
            term: term.to_owned(),
            how: self.how(found, words),
        }
    }

    /// Evidence for a negated phrase: the words from the trigger to the phrase.
    fn negated_evidence(&self, found: &Found, trigger: usize, term: &str) -> Evidence {
        let (trigger_found, _) = &self.triggers[trigger];
        let start = trigger_found.start.min(found.start);
        let end = trigger_found.end.max(found.end);
        Evidence { text: self.original(start, end).to_owned(), term: term.to_owned(), how: MatchKind::Negated }
    }
}

pub(super) fn analyze(catalogue: &Catalogue, index: &TermIndex, text: &str) -> Analysis {
    let tokens = tokenize(text, &index.emoji);
    let resolved = index.resolve_all(&tokens);
    let cause_found = index.causes.find(&resolved, &tokens);
    let concept_found = index.concepts.find_overlapping(&resolved, &tokens);
    let topic_found = index.topic.find(&resolved, &tokens);
    let triggers = active_triggers(index, &tokens, &resolved, &cause_found, &concept_found);
    let negated_by = negation::scopes(&tokens, &triggers);
    let message = Message { text, tokens, resolved, negated_by, triggers };

    let mut tallies = tally_causes(catalogue.causes.len(), index, &message, &cause_found);
    let red_flags = red_flags(catalogue, index, &message, &concept_found);
    // A warning sign is itself a symptom of its cause group (a DVT is a circulatory problem).
    for flag in &red_flags {
        for &cause in &catalogue.red_flags[flag.red_flag].causes {
            let tally = &mut tallies[cause];
            tally.positive += Strength::Strong.weight();
            for evidence in flag.evidence.iter().take(2) {
                if !tally.evidence.iter().any(|known| known.text == evidence.text) {
                    tally.evidence.push(evidence.clone());
                }
            }
        }
    }
    let on_topic = is_on_topic(index, &topic_found, &tallies, !red_flags.is_empty());
    if !on_topic {
        return Analysis { on_topic, causes: Vec::new(), excluded: Vec::new(), red_flags };
    }

    let ranked = rank(&tallies);
    let causes = ranked
        .iter()
        .map(|&(cause, weight)| CauseMatch {
            cause,
            id: CAUSE_IDS[cause],
            score: 1.0 - (-weight / SCORE_SCALE).exp(),
            evidence: std::mem::take(&mut tallies[cause].evidence),
        })
        .collect();
    let excluded = tallies
        .iter_mut()
        .enumerate()
        .filter(|(cause, tally)| !tally.contrary.is_empty() && !ranked.iter().any(|(shown, _)| shown == cause))
        .map(|(cause, tally)| Exclusion { cause, id: CAUSE_IDS[cause], evidence: std::mem::take(&mut tally.contrary) })
        .collect();
    Analysis { on_topic, causes, excluded, red_flags }
}

/// The negation triggers that act: a trigger inside a multi-word catalogue phrase is part of
/// that phrase ("no water", "can't feel a pulse"), not a negation.
fn active_triggers(
    index: &TermIndex,
    tokens: &Tokens,
    resolved: &[Resolved],
    cause_found: &[Found],
    concept_found: &[Found],
) -> Vec<(Found, NegationRole)> {
    // `reach[i]`: the furthest end of a multi-word phrase starting at or before token i, so a
    // trigger at `start..end` lies inside a phrase exactly when `reach[start] >= end`. Linear.
    let mut reach = vec![0usize; tokens.tokens.len()];
    for phrase in cause_found.iter().chain(concept_found).filter(|f| f.end - f.start > 1) {
        reach[phrase.start] = reach[phrase.start].max(phrase.end);
    }
    for i in 1..reach.len() {
        reach[i] = reach[i].max(reach[i - 1]);
    }
    index
        .negation
        .find(resolved, tokens)
        .into_iter()
        .filter(|found| reach[found.start] < found.end)
        .map(|found| (found, index.negation.entries[found.entry as usize].payload))
        .collect()
}

/// Whether a message is about leg symptoms: a symptom or a cause together with a leg or muscle,
/// or a symptom with walking or a cause; or a strong cause term on its own (a follow-up such as "forgot to say I
/// take bumetanide"); or it raises a red flag. Negated words count too: "no swelling in my calf"
/// is still about a calf.
fn is_on_topic(index: &TermIndex, topic_found: &[Found], tallies: &[Tally], any_red_flag: bool) -> bool {
    let topic = topic_found.iter().fold(Topic::default(), |acc, found| {
        let topic = index.topic.entries[found.entry as usize].payload;
        Topic {
            body: acc.body || topic.body,
            symptom: acc.symptom || topic.symptom,
            activity: acc.activity || topic.activity,
        }
    });
    let cause_signal = tallies.iter().any(|tally| tally.positive >= Strength::Moderate.weight());
    let strong_signal = tallies.iter().any(|tally| tally.positive - tally.negative >= Strength::Strong.weight());
    (topic.symptom && (topic.body || topic.activity || cause_signal))
        || (topic.body && (topic.activity || cause_signal))
        || strong_signal
        || any_red_flag
}

/// The causes to show, best first: a net weight of at least [`MIN_WEIGHT`], at least
/// [`RELATIVE_CUTOFF`] of the best cause's, and at most [`MAX_CAUSES`] of them.
fn rank(tallies: &[Tally]) -> Vec<(usize, f32)> {
    let mut ranked: Vec<(usize, f32)> = tallies
        .iter()
        .enumerate()
        .map(|(cause, tally)| (cause, tally.positive - tally.negative))
        .filter(|&(_, weight)| weight >= MIN_WEIGHT)
        .collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let best = ranked.first().map_or(0.0, |&(_, weight)| weight);
    ranked.retain(|&(_, weight)| weight >= best * RELATIVE_CUTOFF);
    ranked.truncate(MAX_CAUSES);
    ranked
}

/// Adds up, per cause, the affirmed terms (for), and the negated terms and contrary statements
/// (against). Each distinct term counts once, however often it is repeated.
fn tally_causes(n_causes: usize, index: &TermIndex, message: &Message<'_>, cause_found: &[Found]) -> Vec<Tally> {
    // A term the user denies anywhere ("I don't have MS") does not also count for the cause
    // where it was only mentioned ("is twitching a sign of MS?").
    let denied: Vec<u32> =
        cause_found.iter().filter(|found| message.negation_of(found).is_some()).map(|found| found.entry).collect();
    let mut tallies: Vec<Tally> = (0..n_causes).map(|_| Tally::default()).collect();
    for found in cause_found {
        let entry = &index.causes.entries[found.entry as usize];
        let negation = message.negation_of(found);
        for reference in &entry.payload {
            let tally = &mut tallies[usize::from(reference.cause)];
            // One term counts once for and once against, however often it is repeated.
            let seen = (found.entry, negation.is_some());
            if tally.seen_entries.contains(&seen) {
                continue;
            }
            tally.seen_entries.push(seen);
            match (reference.against, negation) {
                // "not well hydrated": a denied denial proves nothing either way.
                (true, Some(_)) => {}
                (true, None) => {
                    tally.negative += AGAINST_WEIGHT;
                    tally.contrary.push(Evidence {
                        text: message.original(found.start, found.end).to_owned(),
                        term: entry.text.clone(),
                        how: MatchKind::Against,
                    });
                }
                (false, Some(trigger)) => {
                    tally.negative += NEGATED_SHARE * reference.strength.weight();
                    tally.contrary.push(message.negated_evidence(found, trigger, &entry.text));
                }
                (false, None) if denied.contains(&found.entry) => {}
                (false, None) => {
                    tally.positive += reference.strength.weight();
                    tally.evidence.push(message.evidence(found, &entry.text, &entry.words));
                }
            }
        }
    }
    tallies
}

/// Red flags whose pattern is met by affirmed (not negated) concepts.
fn red_flags(
    catalogue: &Catalogue,
    index: &TermIndex,
    message: &Message<'_>,
    concept_found: &[Found],
) -> Vec<RedFlagMatch> {
    // For each concept, its affirmed occurrences.
    let mut occurrences: Vec<Vec<&Found>> = vec![Vec::new(); catalogue.concepts.len()];
    for found in concept_found {
        if message.negation_of(found).is_some() || message.resolved[found.start].key == NO_KEY {
            continue;
        }
        for &concept in &index.concepts.entries[found.entry as usize].payload {
            occurrences[usize::from(concept)].push(found);
        }
    }
    let sentence = |found: &Found| message.tokens.tokens[found.start].sentence;
    let mut raised = Vec::new();
    for (flag_index, flag) in catalogue.red_flags.iter().enumerate() {
        let fired = flag.patterns.iter().find_map(|pattern| {
            if pattern.within_sentence {
                let first = &occurrences[*pattern.concepts.first()?];
                first.iter().find_map(|anchor| {
                    let wanted = sentence(anchor);
                    // Occurrences are in text order, so sentences ascend: binary search.
                    pattern
                        .concepts
                        .iter()
                        .map(|&concept| {
                            let list = &occurrences[concept];
                            let at = list.partition_point(|found| sentence(found) < wanted);
                            list.get(at).filter(|found| sentence(found) == wanted).copied()
                        })
                        .collect::<Option<Vec<&Found>>>()
                })
            } else {
                pattern
                    .concepts
                    .iter()
                    .map(|&concept| occurrences[concept].first().copied())
                    .collect::<Option<Vec<&Found>>>()
            }
        });
        if let Some(found) = fired {
            let evidence = found
                .iter()
                .map(|found| {
                    let entry = &index.concepts.entries[found.entry as usize];
                    message.evidence(found, &entry.text, &entry.words)
                })
                .collect();
            raised.push(RedFlagMatch {
                red_flag: flag_index,
                id: RED_FLAG_IDS[flag_index],
                urgency: flag.urgency,
                evidence,
            });
        }
    }
    raised.sort_by(|a, b| b.urgency.cmp(&a.urgency).then(a.red_flag.cmp(&b.red_flag)));
    raised
}
