//! The symptom analyzer: pure, deterministic, no I/O.
//!
//! A message goes through one pipeline:
//!
//! 1. [`normalize`] folds case, Unicode, accents, repeated letters, spelling variants and emoji
//!    into a token stream that keeps byte offsets into the original text;
//! 2. [`index`] finds every catalogue term in it (exact, stem, phrase, fuzzy) in one pass, the
//!    fuzzy candidates coming from a deletion index rather than a scan of the vocabulary;
//! 3. [`negation`] marks the matches that a NegEx-style trigger negates;
//! 4. scoring ranks the causes and decides what is shown; red-flag rules combine concepts.
//!
//! Every result carries its evidence, so replies can say why.

pub mod index;
pub mod negation;
pub mod normalize;
pub mod stem;

pub mod followups;
mod question;
mod score;
mod signs;
mod topic;

use std::sync::Arc;

use serde::Serialize;

use crate::knowledge::{Catalogue, Urgency};

pub use index::TermIndex;

/// How a word of the message matched a term.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "how", rename_all = "lowercase")]
pub enum MatchKind {
    /// Letter for letter, after normalization.
    Exact,
    /// Same stem: "cramping" for "cramp".
    Stem,
    /// A multi-word term, matched word for word.
    Phrase,
    /// A misspelling within a small edit distance.
    Fuzzy {
        /// Damerau-Levenshtein distance between the word and the term.
        distance: u8,
    },
    /// Inside the scope of a negation ("no swelling"): counts against, never for.
    Negated,
    /// A statement that speaks against a cause ("I drink plenty of water").
    Against,
}

/// One piece of evidence: words of the message and the catalogue term they matched.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evidence {
    /// The words as the user wrote them.
    pub text: String,
    /// The catalogue term they matched.
    pub term: String,
    /// How they matched.
    #[serde(flatten)]
    pub how: MatchKind,
}

/// A cause the analyzer would present as likely.
#[derive(Debug, Clone, Serialize)]
pub struct CauseMatch {
    /// Index into [`Catalogue::causes`].
    #[serde(skip)]
    pub cause: usize,
    /// Fixed cause id.
    pub id: &'static str,
    /// Confidence-like score in `0..1`; it ranks, it is not a probability.
    pub score: f32,
    /// The words that point to it.
    pub evidence: Vec<Evidence>,
}

/// A cause ruled out or weakened by what the user said ("not on any meds").
#[derive(Debug, Clone, Serialize)]
pub struct Exclusion {
    /// Index into [`Catalogue::causes`].
    #[serde(skip)]
    pub cause: usize,
    /// Fixed cause id.
    pub id: &'static str,
    /// The negated or contrary words.
    pub evidence: Vec<Evidence>,
}

/// A red flag raised by the message.
#[derive(Debug, Clone, Serialize)]
pub struct RedFlagMatch {
    /// Index into [`Catalogue::red_flags`].
    #[serde(skip)]
    pub red_flag: usize,
    /// Fixed red-flag id.
    pub id: &'static str,
    /// How soon to act.
    pub urgency: Urgency,
    /// Whether the signs reached the flag's escalation level (heatstroke rather than heat
    /// exhaustion); [`crate::knowledge::RedFlag::level`] gives the advice for it.
    #[serde(skip)]
    pub escalated: bool,
    /// The words that raised it, one per concept of the pattern that fired.
    pub evidence: Vec<Evidence>,
}

/// A notice the message calls for: advice for its situation (a statin user with muscle pain,
/// someone on dialysis, a fresh injury).
#[derive(Debug, Clone, Serialize)]
pub struct NoticeMatch {
    /// Index into [`Catalogue::notices`].
    #[serde(skip)]
    pub notice: usize,
    /// The notice's id.
    pub id: String,
    /// The words that called for it.
    pub evidence: Vec<Evidence>,
}

/// The topic question a message asks, when the catalogue answers it (`faq.toml`).
#[derive(Debug, Clone, Serialize)]
pub struct QuestionMatch {
    /// Index into [`Catalogue::faqs`].
    #[serde(skip)]
    pub faq: usize,
    /// The question's id.
    pub id: String,
    /// The token ranges of the parts that matched.
    #[serde(skip)]
    pub spans: Vec<(usize, usize)>,
    /// The words that asked it.
    pub evidence: Vec<Evidence>,
}

/// The analyzer's verdict on one message.
#[derive(Debug, Clone, Serialize)]
pub struct Analysis {
    /// Whether the message talks about leg or muscle symptoms at all.
    pub on_topic: bool,
    /// The likely causes, most likely first, at most [`MAX_CAUSES`].
    pub causes: Vec<CauseMatch>,
    /// Causes the message speaks against.
    pub excluded: Vec<Exclusion>,
    /// Red flags, most urgent first.
    pub red_flags: Vec<RedFlagMatch>,
    /// Advice for the situation the message describes, in catalogue order.
    pub notices: Vec<NoticeMatch>,
    /// Whether the message asks something (a question mark, or a clause that starts with a
    /// question form such as "does" or "should").
    pub asks: bool,
    /// The topic question the message asks, when it asks one the catalogue answers.
    pub question: Option<QuestionMatch>,
    /// Whether an on-topic message tells of someone's situation. For a message that asks a
    /// catalogue question: a person word ("I", "my", "mum"), a cause term outside the question's
    /// words, or a symptom and a leg outside them; a question that does not describe is
    /// answered without a cause analysis. Any other on-topic message describes.
    pub describes: bool,
    /// The concepts affirmed in the message (indices into [`Catalogue::concepts`]), for the
    /// follow-up questions.
    #[serde(skip)]
    pub concepts: Vec<u16>,
}

/// At most this many causes are presented.
pub const MAX_CAUSES: usize = 3;

/// Analyzes messages against one catalogue. Cheap to clone; build once, share everywhere.
#[derive(Debug, Clone)]
pub struct Analyzer {
    catalogue: Arc<Catalogue>,
    index: Arc<TermIndex>,
}

impl Analyzer {
    /// Builds the term index for `catalogue`.
    pub fn new(catalogue: Arc<Catalogue>) -> Analyzer {
        let index = Arc::new(TermIndex::build(&catalogue));
        Analyzer { catalogue, index }
    }

    /// The catalogue this analyzer reads.
    pub fn catalogue(&self) -> &Arc<Catalogue> {
        &self.catalogue
    }

    /// The term index, for lookups such as autocomplete.
    pub fn index(&self) -> &TermIndex {
        &self.index
    }

    /// Analyzes one message. Any text is accepted; cost grows linearly with its length.
    pub fn analyze(&self, text: &str) -> Analysis {
        score::analyze(&self.catalogue, &self.index, text)
    }

    /// Analyzes a message with the answers given so far to follow-up questions: the text plus,
    /// for each answer, the sentence its yes or no stands for (see [`followups::with_answers`]).
    pub fn analyze_with(&self, text: &str, answers: &followups::Answers) -> Analysis {
        if answers.is_empty() {
            return self.analyze(text);
        }
        self.analyze(&followups::with_answers(&self.catalogue, text, answers))
    }
}
