//! Scoring: from matched phrases to ranked causes, exclusions, red flags and the topic verdict.

use super::index::{Found, NO_KEY, NegationRoles, Resolved, TermIndex, Topic};
use super::negation;
use super::normalize::{Boundary, Tokens, tokenize};
use super::question;
use super::signs::Signs;
use super::topic::Location;
use super::{
    Analysis, CauseMatch, Evidence, Exclusion, MAX_CAUSES, MatchKind, NoticeMatch, QuestionMatch, RedFlagMatch,
};
use crate::knowledge::{CAUSE_IDS, Catalogue, Pattern, RED_FLAG_IDS, Strength};

/// The smallest net weight for a cause to be shown: one moderate term, or two weak ones.
const MIN_WEIGHT: f32 = 2.0;

/// A cause is shown only if its weight is at least this share of the best cause's weight, so a
/// strong match is not diluted by passing hints.
const RELATIVE_CUTOFF: f32 = 0.4;

/// The share of a term's weight that its negation takes away: denying a symptom ("no
/// tingling") speaks against a cause less than affirming it speaks for it, so an affirmed
/// diagnosis ("but I do have sciatica") is not cancelled by denied symptoms.
const NEGATED_SHARE: f32 = 0.5;

/// How many words may stand between a negation and a cause's name for the name to be denied
/// outright ("not the meds", "not my shoes").
const NAME_DENIAL_REACH: usize = 2;

/// What a statement against a cause ("I drink plenty of water") weighs.
const AGAINST_WEIGHT: f32 = 3.0;

/// The most words a follow-up may have for a strong term alone to make it on topic.
const FOLLOW_UP_WORDS: usize = 25;

/// How many trailing words ("on my last bloods") may follow a clause-final negation.
const MAX_TRAILING_WORDS: usize = 5;

/// A raised red flag counts for its cause group as this many strong terms: the warning sign is
/// the main thing the message says, so its cause ranks first unless another is named as clearly.
const FLAG_WEIGHT: f32 = 2.0;

/// Weight at which the displayed score reaches about 0.63; it only shapes the `0..1` scale.
const SCORE_SCALE: f32 = 4.0;

/// The positive and negative evidence gathered for one cause.
#[derive(Default)]
struct Tally {
    /// The weights of the distinct affirmed terms.
    weights: Vec<f32>,
    /// Whether one affirmed term is strong on its own ("bumetanide", "sciatica").
    strong_term: bool,
    negative: f32,
    evidence: Vec<Evidence>,
    contrary: Vec<Evidence>,
    seen_entries: Vec<(u32, bool)>,
    /// The first token of the first affirmed term: of two causes with equal weight, the one
    /// the message names first ranks first.
    first_mention: Option<usize>,
}

impl Tally {
    /// The evidence for the cause: the sum of its distinct affirmed terms' weights.
    fn positive(&self) -> f32 {
        self.weights.iter().sum()
    }
}

/// A message in analyzable form: tokens, their keys, and which tokens are negated.
pub(super) struct Message<'a> {
    pub(super) text: &'a str,
    pub(super) tokens: Tokens,
    pub(super) resolved: Vec<Resolved>,
    negated_by: Vec<Option<usize>>,
    /// Tokens a hypothetical puts in doubt ("worried about MS").
    hypothetical: Vec<bool>,
    /// Tokens inside an idiom ("pulling my leg").
    pub(super) idiom: Vec<bool>,
    triggers: Vec<(Found, NegationRoles)>,
    /// Per clause, whether it asks ("should I take salt tablets?").
    asking_clauses: Vec<bool>,
}

impl Message<'_> {
    /// The original words covered by tokens `start..end`.
    fn original(&self, start: usize, end: usize) -> &str {
        &self.text[self.tokens.tokens[start].span.start..self.tokens.tokens[end - 1].span.end]
    }

    /// Whether `found` is in a clause that asks: "should I take salt tablets?" does not say the
    /// asker takes them.
    fn asked(&self, found: &Found) -> bool {
        self.asking_clauses.get(self.tokens.tokens[found.start].clause as usize).copied().unwrap_or(false)
    }

    /// Whether any token of `found` is in doubt or inside an idiom: such words say nothing.
    fn says_nothing(&self, found: &Found) -> bool {
        (found.start..found.end).any(|i| self.hypothetical[i] || self.idiom[i])
    }

    /// The trigger negating any token of `found`, if one does.
    pub(super) fn negation_of(&self, found: &Found) -> Option<usize> {
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

    pub(super) fn evidence(&self, found: &Found, term: &str, words: &[Box<str>]) -> Evidence {
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
    let mut resolved = index.resolve_all(&tokens);
    mask_titles(text, &tokens, &mut resolved);
    let cause_found = index.causes.find(&resolved, &tokens);
    let concept_found = index.concepts.find_overlapping(&resolved, &tokens);
    let topic_found = index.topic.find(&resolved, &tokens);
    let triggers = active_triggers(index, &tokens, &resolved, &cause_found, &concept_found);
    let negation::Scopes { negated_by, hypothetical } = negation::scopes(text, &tokens, &triggers);
    let idiom = idiom_tokens(index, tokens.tokens.len(), &topic_found);
    let location = Location::new(index, &tokens, &topic_found, &negated_by, &hypothetical);
    let asking_clauses = question::asking_clauses(text, &tokens);
    let message = Message { text, tokens, resolved, negated_by, hypothetical, idiom, triggers, asking_clauses };

    let mut tallies = tally_causes(catalogue.causes.len(), index, &message, &cause_found);
    let signs = Signs::find(catalogue, index, &message, &location, &cause_found, &concept_found);
    let red_flags = red_flags(catalogue, &message, &signs);
    let notices = notices(catalogue, &message, &signs);
    // A warning sign is itself a symptom of its cause group (a DVT is a circulatory problem).
    // It weighs for the causes of its group that the message already points to ("on a statin"
    // and dark urine: the medicine), or for the first of them when it points to none.
    for flag in &red_flags {
        let group = &catalogue.red_flags[flag.red_flag].causes;
        let evidenced: Vec<usize> =
            group.iter().copied().filter(|&cause| tallies[cause].positive() > tallies[cause].negative).collect();
        let boosted = if evidenced.is_empty() { group.iter().copied().take(1).collect() } else { evidenced };
        for cause in boosted {
            let tally = &mut tallies[cause];
            tally.weights.push(FLAG_WEIGHT * Strength::Strong.weight());
            for evidence in flag.evidence.iter().take(2) {
                if !tally.evidence.iter().any(|known| known.text == evidence.text) {
                    tally.evidence.push(evidence.clone());
                }
            }
        }
    }
    let cause_signal = tallies.iter().any(|tally| tally.positive() >= Strength::Moderate.weight());
    // A strong term on its own makes a short follow-up ("forgot to say I take bumetanide") on
    // topic; a long post that names one but no symptom is about something else.
    let strong_signal = message.tokens.tokens.len() <= FOLLOW_UP_WORDS
        && tallies
            .iter()
            .any(|tally| tally.strong_term && tally.positive() - tally.negative >= Strength::Strong.weight());
    let on_topic = location.about_legs(cause_signal, strong_signal) || !red_flags.is_empty();
    let asks = question::asks(text, &message.tokens);
    // A question about legs is on our topic even when it speaks of them in doubt or denial
    // ("how do I avoid calf cramps?", "should I be worried about leg cramps?").
    let mentions_legs = topic_found.iter().any(|found| {
        let topic = index.topic.entries[found.entry as usize].payload;
        (topic.leg || topic.core_symptom) && !topic.other_site && !topic.animal
    });
    let question = if asks {
        question::best_faq(catalogue, index, &message.resolved, &message.tokens)
            .filter(|(faq, _)| on_topic || mentions_legs || !catalogue.faqs[*faq].needs_topic)
            .map(|(faq, spans)| QuestionMatch {
                faq,
                spans: spans.iter().map(|found| (found.start, found.end)).collect(),
                id: catalogue.faqs[faq].id.clone(),
                evidence: spans
                    .iter()
                    .map(|found| {
                        let entry = &index.faq.entries[found.entry as usize];
                        message.evidence(found, &entry.text, &entry.words)
                    })
                    .collect(),
            })
    } else {
        None
    };
    // Only a question needs telling apart from a description: a message that asks nothing the
    // catalogue answers describes whatever it says.
    let describes =
        on_topic && (question.is_none() || describes(index, &message, question.as_ref(), &cause_found, &topic_found));
    let concepts: Vec<u16> = (0..catalogue.concepts.len())
        .filter(|&concept| !signs.of(concept).is_empty())
        .filter_map(|concept| u16::try_from(concept).ok())
        .collect();
    // A question that describes nothing ("does magnesium help with cramps?") is answered, not
    // analyzed: the words it asks about are its topic, not evidence of a cause.
    if !on_topic || (question.is_some() && !describes) {
        let notices = if on_topic { notices } else { Vec::new() };
        return Analysis {
            on_topic,
            causes: Vec::new(),
            excluded: Vec::new(),
            red_flags,
            notices,
            asks,
            question,
            describes,
            concepts,
        };
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
    Analysis { on_topic, causes, excluded, red_flags, notices, asks, question, describes, concepts }
}

/// Whether an on-topic message tells of someone's situation, beyond the topic question it
/// asks: a person word ("I", "my", "mum"), a cause term that is not part of the question
/// ("sciatica + statins, ... which one is it?"), or a symptom with a leg outside it ("calves ache
/// and twitch when walking, normal?"). "Does magnesium help with cramps?" describes nothing.
fn describes(
    index: &TermIndex,
    message: &Message<'_>,
    question: Option<&QuestionMatch>,
    cause_found: &[Found],
    topic_found: &[Found],
) -> bool {
    let asked = |found: &Found| {
        question
            .is_some_and(|question| question.spans.iter().any(|&(start, end)| found.start < end && start < found.end))
    };
    // Someone's situation: the speaker ("I get", "I'm 72"), except as the asker of "should I",
    // "can I", or another person ("my mum is on ..."). A bare "my" does not: "does magnesium
    // help with my cramps?" asks in general; "my calf cramps" still describes through its
    // symptom and leg below.
    let tokens = &message.tokens;
    let person = (0..tokens.tokens.len()).any(|i| {
        let word = tokens.word(i);
        let asking = i > 0 && super::question::starts_question(tokens.word(i - 1));
        (index.speakers.contains(word) && !asking) || (index.people.contains(word) && !matches!(word, "my" | "both"))
    });
    let cause_term = cause_found.iter().any(|found| {
        !asked(found)
            && message.negation_of(found).is_none()
            && !message.says_nothing(found)
            && index.causes.entries[found.entry as usize].payload.iter().any(|reference| !reference.against)
    });
    let outside = |want: fn(&Topic) -> bool| {
        topic_found.iter().any(|found| !asked(found) && want(&index.topic.entries[found.entry as usize].payload))
    };
    person || cause_term || (outside(|topic| topic.symptom) && outside(|topic| topic.leg))
}

/// The notices whose pattern the message's signs meet, in catalogue order.
fn notices(catalogue: &Catalogue, message: &Message<'_>, signs: &Signs) -> Vec<NoticeMatch> {
    catalogue
        .notices
        .iter()
        .enumerate()
        .filter_map(|(notice_index, notice)| {
            let found = notice.patterns.iter().find_map(|pattern| signs.fires(pattern))?;
            Some(NoticeMatch { notice: notice_index, id: notice.id.clone(), evidence: signs.evidence(message, &found) })
        })
        .collect()
}

/// "Ms Smith", "Ms R.A.": the title, not multiple sclerosis. Written with a capital M and a
/// lower-case s and followed by a capitalized word, "Ms" means nothing to the analyzer.
fn mask_titles(text: &str, tokens: &Tokens, resolved: &mut [Resolved]) {
    for i in 0..tokens.tokens.len().saturating_sub(1) {
        let here = &text[tokens.tokens[i].span.clone()];
        let next = &text[tokens.tokens[i + 1].span.clone()];
        if here == "Ms" && next.starts_with(char::is_uppercase) {
            resolved[i].key = NO_KEY;
        }
    }
}

/// Which tokens sit inside an idiom ("pulling my leg", "cramped flat"): a topic phrase that
/// means nothing.
fn idiom_tokens(index: &TermIndex, n: usize, topic_found: &[Found]) -> Vec<bool> {
    let mut idiom = vec![false; n];
    for found in topic_found {
        if index.topic.entries[found.entry as usize].payload == Topic::default() {
            idiom[found.start..found.end].iter_mut().for_each(|flag| *flag = true);
        }
    }
    idiom
}

/// The negation triggers that act: a trigger inside a multi-word catalogue phrase is part of
/// that phrase ("no water", "can't feel a pulse"), not a negation.
fn active_triggers(
    index: &TermIndex,
    tokens: &Tokens,
    resolved: &[Resolved],
    cause_found: &[Found],
    concept_found: &[Found],
) -> Vec<(Found, NegationRoles)> {
    // `reach[i]`: the furthest end of a multi-word phrase starting at or before token i, so a
    // trigger at `start..end` lies inside a phrase exactly when `reach[start] >= end`. Linear.
    let mut reach = vec![0usize; tokens.tokens.len()];
    for phrase in cause_found.iter().chain(concept_found).filter(|f| f.end - f.start > 1) {
        reach[phrase.start] = reach[phrase.start].max(phrase.end);
    }
    for i in 1..reach.len() {
        reach[i] = reach[i].max(reach[i - 1]);
    }
    // A clause ends after a trigger when only trailing words ("on my bloods") come before the
    // next boundary.
    let clause_ends_after = |found: &Found| {
        let mut position = found.end;
        while position < tokens.tokens.len() && position - found.end <= MAX_TRAILING_WORDS {
            if tokens.tokens[position].boundary >= Boundary::Clause {
                return true;
            }
            if !index.trailing.contains(tokens.word(position)) {
                return false;
            }
            position += 1;
        }
        position == tokens.tokens.len()
    };
    let triggers: Vec<(Found, NegationRoles)> = index
        .negation
        .find(resolved, tokens)
        .into_iter()
        .filter(|found| reach[found.start] < found.end)
        .map(|found| (found, index.negation.entries[found.entry as usize].payload))
        .collect();
    // A clause-final trigger ("is fine") also ends its clause when a terminator follows it ("is
    // fine but ...").
    let terminator_at =
        |position: usize| triggers.iter().any(|(other, role)| other.start == position && role.terminator);
    triggers
        .iter()
        .map(|&(found, mut role)| {
            if role.backward_final && !(clause_ends_after(&found) || terminator_at(found.end)) {
                role.backward_final = false;
            }
            (found, role)
        })
        .filter(|(_, role)| *role != NegationRoles::default())
        .collect()
}

/// The causes to show, best first: a net weight of at least [`MIN_WEIGHT`], at least
/// [`RELATIVE_CUTOFF`] of the best cause's, and at most [`MAX_CAUSES`] of them.
fn rank(tallies: &[Tally]) -> Vec<(usize, f32)> {
    let mut ranked: Vec<(usize, f32)> = tallies
        .iter()
        .enumerate()
        .map(|(cause, tally)| (cause, tally.positive() - tally.negative))
        .filter(|&(_, weight)| weight >= MIN_WEIGHT)
        .collect();
    let first = |cause: usize| tallies[cause].first_mention.unwrap_or(usize::MAX);
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(first(a.0).cmp(&first(b.0))).then(a.0.cmp(&b.0)));
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
        if message.says_nothing(found) {
            continue;
        }
        let entry = &index.causes.entries[found.entry as usize];
        let negation = message.negation_of(found);
        for reference in &entry.payload {
            // A statement against a cause that is asked about says nothing of the asker
            // ("should I take salt tablets?" does not say they take them).
            if reference.against && negation.is_none() && message.asked(found) {
                continue;
            }
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
                    // "it's not the meds" denies the cause; "not great at sticking to the diet"
                    // only touches it: a name is a full denial right next to its trigger.
                    let (trigger_found, _) = &message.triggers[trigger];
                    let adjacent =
                        trigger_found.end + NAME_DENIAL_REACH >= found.start && trigger_found.start <= found.end + 1;
                    tally.negative += if reference.names_cause && adjacent {
                        AGAINST_WEIGHT
                    } else {
                        NEGATED_SHARE * reference.strength.weight()
                    };
                    tally.contrary.push(message.negated_evidence(found, trigger, &entry.text));
                }
                (false, None) if denied.contains(&found.entry) => {}
                (false, None) => {
                    tally.first_mention.get_or_insert(found.start);
                    tally.weights.push(reference.strength.weight());
                    tally.strong_term |= reference.strength == Strength::Strong;
                    tally.evidence.push(message.evidence(found, &entry.text, &entry.words));
                }
            }
        }
    }
    tallies
}

/// Red flags whose pattern is met by affirmed (not negated) signs.
fn red_flags(catalogue: &Catalogue, message: &Message<'_>, signs: &Signs) -> Vec<RedFlagMatch> {
    let sentence = |found: &Found| message.tokens.tokens[found.start].sentence;
    let mut raised = Vec::new();
    for (flag_index, flag) in catalogue.red_flags.iter().enumerate() {
        // A pattern is explained away when an explanation shares a sentence with its signs.
        let explained = |found: &[Found]| {
            flag.explained_by.iter().any(|&concept| {
                signs.of(concept).iter().any(|reason| found.iter().any(|sign| sentence(sign) == sentence(reason)))
            })
        };
        let fires_unexplained = |pattern: &Pattern| signs.fires(pattern).filter(|found| !explained(found));
        let escalated = flag.escalation.as_ref().and_then(|level| level.patterns.iter().find_map(&fires_unexplained));
        let fired = escalated
            .map(|found| (true, found))
            .or_else(|| flag.base.patterns.iter().find_map(&fires_unexplained).map(|found| (false, found)));
        if let Some((escalated, found)) = fired {
            let evidence = signs.evidence(message, &found);
            raised.push(RedFlagMatch {
                red_flag: flag_index,
                id: RED_FLAG_IDS[flag_index],
                urgency: flag.level(escalated).urgency,
                escalated,
                evidence,
            });
        }
    }
    // A flag that supersedes another on the same words replaces it: "suddenly slurred" is a
    // stroke sign, and the slow-nerve warning would only confuse.
    let superseded: Vec<usize> = raised
        .iter()
        .flat_map(|stronger: &RedFlagMatch| {
            catalogue.red_flags[stronger.red_flag].supersedes.iter().filter_map(|&weaker| {
                let weaker_match = raised.iter().find(|flag| flag.red_flag == weaker)?;
                let covered = weaker_match
                    .evidence
                    .iter()
                    .all(|item| stronger.evidence.iter().any(|known| known.text.contains(&item.text)));
                covered.then_some(weaker)
            })
        })
        .collect();
    raised.retain(|flag| !superseded.contains(&flag.red_flag));
    raised.sort_by(|a, b| b.urgency.cmp(&a.urgency).then(a.red_flag.cmp(&b.red_flag)));
    raised
}
