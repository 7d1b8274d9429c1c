//! The bot core: one request in, one [`Reply`] out, the same for every front end.
//!
//! Discord, the console (`crampbot chat`) and the CLI (`crampbot ask`) all call [`Bot::handle`],
//! so the same words get the same answer everywhere. Nothing here does I/O or reads a clock.
//! This is dispatch only: what a reply says is composed in [`crate::reply::compose`], and
//! catalogue look-ups by name are in [`crate::knowledge::lookup`].

use std::sync::Arc;

use crate::analyze::Analyzer;
use crate::analyze::followups::Answers;
use crate::knowledge::{Catalogue, Cause, lookup};
use crate::reply::{Answered, Reply, compose};

pub use crate::reply::TipsKind;

/// The longest text the bot analyzes, in bytes; longer input is refused with a clear error at
/// the edges (batch lines, CLI arguments). Five times Discord's own 2,000-character limit.
pub const MAX_TEXT_BYTES: usize = 10_000;

/// The longest cause query searched, in characters (Discord's own limit on an option's choice):
/// the longest cause name is far shorter, so a longer query is cut here before any similarity
/// is computed.
pub const MAX_CAUSE_QUERY_CHARS: usize = 100;

/// At most this many autocomplete choices: Discord's own limit.
pub const MAX_CHOICES: usize = 25;

/// Discord's limit on an autocomplete choice's name and value, in characters.
pub const MAX_CHOICE_CHARS: usize = 100;

/// Something a user asked of the bot, whatever the front end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request<'a> {
    /// A free-text description of symptoms.
    Ask(&'a str),
    /// One cause's card, by id, name or something close to it.
    Cause(&'a str),
    /// All causes, one line each.
    Causes,
    /// General tips.
    Tips(TipsKind),
    /// What the bot is and is not.
    About,
    /// How to use the bot.
    Help,
}

/// One autocomplete suggestion.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Choice {
    /// What the user sees (at most [`MAX_CHOICE_CHARS`] characters).
    pub name: String,
    /// What is submitted: the cause id.
    pub value: String,
}

/// The bot core. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Bot {
    analyzer: Analyzer,
}

impl Bot {
    /// A bot over `catalogue`; builds the analyzer's index once.
    pub fn new(catalogue: Catalogue) -> Bot {
        Bot { analyzer: Analyzer::new(Arc::new(catalogue)) }
    }

    /// The catalogue the bot answers from.
    pub fn catalogue(&self) -> &Catalogue {
        self.analyzer.catalogue()
    }

    /// The analyzer, for callers that want the analysis itself (`crampbot ask --format json`).
    pub fn analyzer(&self) -> &Analyzer {
        &self.analyzer
    }

    /// Answers one request.
    pub fn handle(&self, request: Request<'_>) -> Reply {
        match request {
            Request::Ask(text) => self.ask(text),
            Request::Cause(query) => self.cause_card(query),
            Request::Causes => self.cause_list(),
            Request::Tips(kind) => self.tips(kind),
            Request::About => self.about(),
            Request::Help => self.help(),
        }
    }

    /// Analyzes a description (or answers a question) and builds the reply.
    pub fn ask(&self, text: &str) -> Reply {
        self.answer(text, &Answers::new()).reply
    }

    /// Answers a message with the answers given so far to follow-up questions: the analysis of
    /// the text plus the answers, and the reply built from it with the follow-ups still worth
    /// asking. Every front end (Discord, chat, `ask` in text or JSON) goes through here.
    pub fn answer(&self, text: &str, answers: &Answers) -> Answered {
        let analysis = self.analyzer.analyze_with(text, answers);
        let reply = compose::analysis_reply(self.catalogue(), &analysis, answers);
        Answered { analysis, reply }
    }

    /// The full card of one cause. `query` may be an id, a name, a synonym, or close to exactly
    /// one cause (a typo such as "sciatca"); anything else gets a not-found reply with
    /// suggestions.
    pub fn cause_card(&self, query: &str) -> Reply {
        let query = clip_chars(query, MAX_CAUSE_QUERY_CHARS);
        let catalogue = self.catalogue();
        if let Some(cause) = lookup::resolve_cause(catalogue, query).or_else(|| self.only_close_cause(query)) {
            return compose::cause_card(catalogue, cause);
        }
        let names: Vec<String> = self.autocomplete_cause(query).into_iter().take(3).map(|choice| choice.name).collect();
        compose::not_found(catalogue, &names)
    }

    /// All causes, one line each.
    pub fn cause_list(&self) -> Reply {
        compose::cause_list(self.catalogue())
    }

    /// General prevention or treatment tips.
    pub fn tips(&self, kind: TipsKind) -> Reply {
        compose::tips(self.catalogue(), kind)
    }

    /// What the bot is and is not.
    pub fn about(&self) -> Reply {
        compose::about(self.catalogue())
    }

    /// How to use the bot.
    pub fn help(&self) -> Reply {
        compose::help(self.catalogue())
    }

    /// Autocomplete for `/cause`: fuzzy over names, ids, synonyms and the analyzer's vocabulary,
    /// best first, at most [`MAX_CHOICES`]. An empty query lists every cause.
    pub fn autocomplete_cause(&self, partial: &str) -> Vec<Choice> {
        let catalogue = self.catalogue();
        let query = clip_chars(partial, MAX_CAUSE_QUERY_CHARS).trim().to_lowercase();
        let mut scored: Vec<(f64, usize)> = if query.is_empty() {
            (0..catalogue.causes.len()).map(|index| (1.0, index)).collect()
        } else {
            let analysis = self.analyzer.analyze(&query);
            catalogue
                .causes
                .iter()
                .enumerate()
                .map(|(index, cause)| {
                    let by_name = lookup::name_similarity(&query, cause);
                    let by_vocabulary =
                        if analysis.causes.iter().any(|found| found.cause == index) { 0.85 } else { 0.0 };
                    (by_name.max(by_vocabulary), index)
                })
                .filter(|(score, _)| *score >= 0.78)
                .collect()
        };
        scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
        scored
            .into_iter()
            .take(MAX_CHOICES)
            .map(|(_, index)| {
                let cause = &catalogue.causes[index];
                Choice { name: truncate_chars(&cause.name, MAX_CHOICE_CHARS), value: cause.id.clone() }
            })
            .collect()
    }

    /// The cause `query` is close to when it is close to exactly one (as autocomplete judges
    /// closeness); with two or more, the user is asked which.
    fn only_close_cause(&self, query: &str) -> Option<&Cause> {
        let mut close = self.autocomplete_cause(query).into_iter();
        match (close.next(), close.next()) {
            (Some(only), None) => self.catalogue().causes.iter().find(|cause| cause.id == only.value),
            _ => None,
        }
    }
}

/// At most the first `max` characters of `text`, without an ellipsis.
pub fn clip_chars(text: &str, max: usize) -> &str {
    match text.char_indices().nth(max) {
        Some((end, _)) => &text[..end],
        None => text,
    }
}

/// The first `max` characters of `text`, with an ellipsis when cut.
pub fn truncate_chars(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}
