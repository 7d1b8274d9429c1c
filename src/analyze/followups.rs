//! Follow-up questions: which yes/no questions to ask after an analysis, and what an answer
//! adds to the description.
//!
//! The design is stateless, like Infermedica's interview: every call carries the answers so
//! far. An answer means what its question's `yes` or `no` sentence says (built from catalogue
//! words), appended to the description as a sentence of its own, so the existing scoring,
//! negation and red-flag rules decide what it changes; "not sure" adds nothing. An answered
//! question is never asked again.
//!
//! The choice is deterministic (see ARCHITECTURE.md, "Follow-up questions"):
//!
//! 1. **Red-flag screening first.** A screening question is due when one of its `when` concepts
//!    is affirmed in the message and the red flag it screens for is not raised ("my left calf
//!    is swollen" asks about warmth, redness and one leg), in catalogue order.
//! 2. **Then narrowing**, only when the description is thin (no likely cause, or the best one
//!    rests on less than one strong term) or the top two causes are close (the second within
//!    [`CLOSE_SHARE`] of the first), and never about a cause already shown clearly (score at
//!    least [`THIN_SCORE`]): the cause questions that point to exactly one of the two
//!    top causes first (they separate them), then those that point to a shown cause, most
//!    likely first, then the rest in catalogue order (the catalogue lists the common causes
//!    first). Three rounds of three questions thus cover every cause.
//!
//! No questions are asked about a message that is off topic, that only asks a topic question
//! without describing anything, or that raises an emergency (the reply says to call for help
//! now). A cause the description already shows clearly, or speaks against, is not asked about.

use std::fmt::Write as _;

use super::Analysis;
use crate::knowledge::{Catalogue, Urgency};

/// At most this many questions are asked at once.
pub const MAX_FOLLOWUPS: usize = 3;

/// A best cause whose score is below this rests on less than one strong term: the description
/// is thin.
pub const THIN_SCORE: f32 = 0.6;

/// The second cause is close to the first when its score is at least this share of the first's.
pub const CLOSE_SHARE: f32 = 0.85;

/// An answer to a follow-up question.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Answer {
    /// Yes: the question's `yes` sentence is true.
    Yes,
    /// No: the question's `no` sentence is true.
    No,
    /// Not sure: the question is answered, and says nothing.
    Unsure,
}

impl Answer {
    /// Reads `yes`, `no` or `unsure` (also `y`, `n`, `?`, `not sure`), ignoring case.
    pub fn parse(text: &str) -> Option<Answer> {
        match text.trim().to_ascii_lowercase().as_str() {
            "yes" | "y" => Some(Answer::Yes),
            "no" | "n" => Some(Answer::No),
            "unsure" | "?" | "not sure" | "notsure" | "u" | "dont know" | "don't know" => Some(Answer::Unsure),
            _ => None,
        }
    }

    /// The word used in JSON: `yes`, `no` or `unsure`.
    pub fn as_str(self) -> &'static str {
        match self {
            Answer::Yes => "yes",
            Answer::No => "no",
            Answer::Unsure => "unsure",
        }
    }
}

/// The answers given so far: follow-up index (into [`Catalogue::followups`]) and answer, one per
/// question, in the order given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Answers {
    given: Vec<(usize, Answer)>,
}

impl Answers {
    /// No answers.
    pub fn new() -> Answers {
        Answers::default()
    }

    /// Records an answer; a later answer to the same question replaces the earlier one.
    pub fn insert(&mut self, followup: usize, answer: Answer) {
        match self.given.iter_mut().find(|(known, _)| *known == followup) {
            Some(slot) => slot.1 = answer,
            None => self.given.push((followup, answer)),
        }
    }

    /// The answer to one question, if given.
    pub fn get(&self, followup: usize) -> Option<Answer> {
        self.given.iter().find(|(known, _)| *known == followup).map(|(_, answer)| *answer)
    }

    /// Whether no question has been answered.
    pub fn is_empty(&self) -> bool {
        self.given.is_empty()
    }

    /// How many questions have been answered.
    pub fn len(&self) -> usize {
        self.given.len()
    }

    /// The answers, in the order given.
    pub fn iter(&self) -> impl Iterator<Item = (usize, Answer)> + '_ {
        self.given.iter().copied()
    }

    /// A compact form for button state: two characters per answer, the question's index in
    /// base 36 and `y`, `n` or `u` ("0y4n"). `None` when an index is 36 or more.
    pub fn encode(&self) -> Option<String> {
        let mut out = String::with_capacity(2 * self.given.len());
        for &(index, answer) in &self.given {
            out.push(char::from_digit(u32::try_from(index).ok()?, 36)?);
            out.push(match answer {
                Answer::Yes => 'y',
                Answer::No => 'n',
                Answer::Unsure => 'u',
            });
        }
        Some(out)
    }

    /// Reads [`Answers::encode`]'s form; `None` for anything else, or an index not below `count`
    /// (the number of follow-up questions in the catalogue).
    pub fn decode(text: &str, count: usize) -> Option<Answers> {
        let bytes = text.as_bytes();
        if !bytes.len().is_multiple_of(2) {
            return None;
        }
        let mut answers = Answers::new();
        for pair in bytes.chunks(2) {
            let index = usize::try_from(char::from(pair[0]).to_digit(36)?).ok()?;
            if index >= count {
                return None;
            }
            let answer = match pair[1] {
                b'y' => Answer::Yes,
                b'n' => Answer::No,
                b'u' => Answer::Unsure,
                _ => return None,
            };
            answers.insert(index, answer);
        }
        Some(answers)
    }
}

/// The description with the answers' sentences appended, each on a line of its own (a sentence
/// boundary, so a denial in one never reaches into another).
pub fn with_answers(catalogue: &Catalogue, text: &str, answers: &Answers) -> String {
    let mut out = String::with_capacity(text.len() + 64 * answers.len());
    out.push_str(text);
    for (followup, answer) in answers.iter() {
        let Some(followup) = catalogue.followups.get(followup) else { continue };
        let sentence = match answer {
            Answer::Yes => &followup.yes,
            Answer::No => &followup.no,
            Answer::Unsure => continue,
        };
        let _ = write!(out, "\n{sentence}.");
    }
    out
}

/// The follow-up questions to ask after `analysis` (indices into [`Catalogue::followups`]), at
/// most [`MAX_FOLLOWUPS`], none already answered, in the order to ask them.
pub fn select(catalogue: &Catalogue, analysis: &Analysis, answers: &Answers) -> Vec<usize> {
    let mut chosen = Vec::new();
    if !analysis.on_topic && analysis.red_flags.is_empty() {
        return chosen;
    }
    if analysis.question.is_some() && !analysis.describes {
        return chosen;
    }
    // An emergency comes first: the reply says to call for help now, not to answer questions.
    if analysis.red_flags.iter().any(|found| found.urgency == Urgency::Emergency) {
        return chosen;
    }
    let raised = |flag: usize| analysis.red_flags.iter().any(|found| found.red_flag == flag);
    // 1. Red-flag screening: a sign is there without the rest of its pattern.
    for (index, followup) in catalogue.followups.iter().enumerate() {
        if chosen.len() == MAX_FOLLOWUPS {
            return chosen;
        }
        let Some(flag) = followup.screens else { continue };
        if raised(flag) || answers.get(index).is_some() {
            continue;
        }
        if followup.when.iter().any(|&concept| analysis.concepts.iter().any(|&seen| usize::from(seen) == concept)) {
            chosen.push(index);
        }
    }
    // 2. Narrowing, when the description is thin or the top causes are close.
    let thin = analysis.causes.first().is_none_or(|top| top.score < THIN_SCORE);
    let close = match analysis.causes.as_slice() {
        [first, second, ..] => second.score >= CLOSE_SHARE * first.score,
        _ => false,
    };
    if !(thin || close) || !analysis.on_topic {
        return chosen;
    }
    let rank_of = |cause: usize| analysis.causes.iter().position(|found| found.cause == cause);
    let mut candidates: Vec<(u8, usize, usize)> = catalogue
        .followups
        .iter()
        .enumerate()
        .filter(|(index, followup)| followup.screens.is_none() && answers.get(*index).is_none())
        // A cause the description already shows clearly ("water pills") or speaks against ("I'm
        // not dehydrated") needs no question.
        .filter(|(_, followup)| {
            !followup.causes.iter().any(|&cause| {
                analysis.causes.iter().any(|found| found.cause == cause && found.score >= THIN_SCORE)
                    || analysis.excluded.iter().any(|excluded| excluded.cause == cause)
            })
        })
        .map(|(index, followup)| {
            let top_two = followup.causes.iter().filter(|&&cause| rank_of(cause).is_some_and(|rank| rank < 2)).count();
            let best_rank = followup.causes.iter().filter_map(|&cause| rank_of(cause)).min();
            let class = match (top_two, best_rank) {
                (1, _) => 0,
                (_, Some(_)) => 1,
                (_, None) => 2,
            };
            (class, best_rank.unwrap_or(usize::MAX), index)
        })
        .collect();
    candidates.sort_unstable();
    for (class, _, index) in candidates {
        // Close causes with a clear signal: only questions about the causes shown.
        if chosen.len() == MAX_FOLLOWUPS || (!thin && class == 2) {
            break;
        }
        chosen.push(index);
    }
    chosen
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_encode_compactly_and_decode_strictly() {
        let mut answers = Answers::new();
        answers.insert(0, Answer::Yes);
        answers.insert(13, Answer::No);
        answers.insert(4, Answer::Unsure);
        let encoded = answers.encode().expect("small indices");
        assert_eq!(encoded, "0ydn4u");
        assert_eq!(Answers::decode(&encoded, 20), Some(answers));
        assert_eq!(Answers::decode("", 20), Some(Answers::new()));
        assert_eq!(Answers::decode("dn", 13), None, "index past the catalogue");
        assert_eq!(Answers::decode("0x", 20), None);
        assert_eq!(Answers::decode("0", 20), None);
        assert_eq!(Answers::decode("!y", 20), None);
        let mut big = Answers::new();
        big.insert(36, Answer::Yes);
        assert_eq!(big.encode(), None);
    }
}
