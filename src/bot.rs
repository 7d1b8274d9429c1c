//! The bot core: one request in, one [`Reply`] out, the same for every front end.
//!
//! Discord, the console (`crampbot chat`) and the CLI (`crampbot ask`) all call [`Bot::handle`],
//! so the same words get the same answer everywhere. Nothing here does I/O or reads a clock.

use std::sync::Arc;

use crate::analyze::{Analysis, Analyzer, Evidence, MatchKind};
use crate::knowledge::{Catalogue, Cause, Tip};
use crate::reply::{Alert, Item, NoticeItem, Reply, ReplyKind, Section};

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

/// How many tips each likely cause shows in an analysis reply.
const TIPS_PER_CAUSE: usize = 2;

/// Which tips `/tips` shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TipsKind {
    /// How to prevent twitches and cramps.
    Prevention,
    /// What to do when they happen.
    Treatment,
}

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

    /// Analyzes a description and builds the reply.
    pub fn ask(&self, text: &str) -> Reply {
        let analysis = self.analyzer.analyze(text);
        self.analysis_reply(&analysis)
    }

    /// Builds the reply for an analysis: red flags first, then likely causes, an overview or a
    /// redirect.
    pub fn analysis_reply(&self, analysis: &Analysis) -> Reply {
        let catalogue = self.catalogue();
        let alerts = analysis
            .red_flags
            .iter()
            .map(|found| {
                let flag = &catalogue.red_flags[found.red_flag];
                let level = flag.level(found.escalated);
                Alert {
                    id: flag.id.clone(),
                    urgency: level.urgency,
                    title: level.title.clone(),
                    message: level.message.clone(),
                    action: level.action.clone(),
                    evidence: found.evidence.iter().map(|e| e.text.clone()).collect(),
                    sources: flag.sources.clone(),
                }
            })
            .collect();

        // Notices hold back tips that do not suit the situation ("drink more" on dialysis).
        let hidden: Vec<&str> = analysis
            .notices
            .iter()
            .flat_map(|found| catalogue.notices[found.notice].hides.iter().map(String::as_str))
            .collect();
        let suits = |tip: &&Tip| !tip.tags.iter().any(|tag| hidden.contains(&tag.as_str()));
        let notices = analysis
            .notices
            .iter()
            .map(|found| {
                let notice = &catalogue.notices[found.notice];
                NoticeItem {
                    id: notice.id.clone(),
                    title: notice.title.clone(),
                    text: notice.text.clone(),
                    sources: notice.sources.clone(),
                }
            })
            .collect();
        let mut reply = if !analysis.on_topic && analysis.red_flags.is_empty() {
            let mut reply =
                Reply::new(ReplyKind::OffTopic, "I can only help with calf twitches and leg cramps", catalogue);
            reply.intro = Some(catalogue.guidance.off_topic.clone());
            reply
        } else if analysis.causes.is_empty() {
            let mut reply =
                Reply::new(ReplyKind::Overview, "Calf twitching and hamstring cramps: an overview", catalogue);
            reply.intro = Some(catalogue.guidance.overview.clone());
            let mut common = Section::new("Common causes");
            common.items = catalogue.causes.iter().map(|cause| Item { text: one_line(cause), source: None }).collect();
            reply.sections.push(common);
            let mut helps = Section::new("What generally helps");
            helps.items = catalogue.guidance.prevention.iter().filter(suits).take(4).map(tip_item).collect();
            reply.sections.push(helps);
            reply
        } else {
            let mut reply = Reply::new(ReplyKind::Analysis, "What your description resembles", catalogue);
            reply.intro = Some(
                "These are possibilities that match your words, not a diagnosis. Most calf twitches and cramps are harmless."
                    .to_owned(),
            );
            for found in &analysis.causes {
                let cause = &catalogue.causes[found.cause];
                let mut section = Section::new(cause.name.clone());
                section.cause_id = Some(cause.id.clone());
                section.why = Some(why_line(&found.evidence));
                section.body = Some(cause.summary.clone());
                section.items = cause.tips.iter().filter(suits).take(TIPS_PER_CAUSE).map(tip_item).collect();
                reply.sections.push(section);
            }
            reply
        };
        if !analysis.excluded.is_empty() && analysis.on_topic {
            let mut section = Section::new("Left out because of what you said");
            section.items = analysis
                .excluded
                .iter()
                .map(|excluded| Item {
                    text: format!(
                        "{}: {}",
                        catalogue.causes[excluded.cause].name,
                        quoted_list(excluded.evidence.iter().map(|e| e.text.as_str()))
                    ),
                    source: None,
                })
                .collect();
            reply.sections.push(section);
        }
        if analysis.on_topic || !analysis.red_flags.is_empty() {
            reply.notices = notices;
        }
        reply.with_alerts(alerts, catalogue)
    }

    /// The full card of one cause. `query` may be an id, a name, a synonym, or close to exactly
    /// one cause (a typo such as "sciatca"); anything else gets a not-found reply with
    /// suggestions.
    pub fn cause_card(&self, query: &str) -> Reply {
        let query = clip_chars(query, MAX_CAUSE_QUERY_CHARS);
        let catalogue = self.catalogue();
        let Some(cause) = self.resolve_cause(query).or_else(|| self.only_close_cause(query)) else {
            let mut reply = Reply::new(ReplyKind::NotFound, "No cause by that name", catalogue);
            let suggestions = self.autocomplete_cause(query);
            reply.intro = Some(if suggestions.is_empty() {
                "Try /causes for the list of all nine.".to_owned()
            } else {
                format!(
                    "Did you mean {}? Or try /causes for the list of all nine.",
                    suggestions
                        .iter()
                        .take(3)
                        .map(|choice| format!("“{}”", choice.name))
                        .collect::<Vec<_>>()
                        .join(" or ")
                )
            });
            return reply;
        };
        let mut reply = Reply::new(ReplyKind::CauseCard, cause.name.clone(), catalogue);
        reply.intro = Some(cause.summary.clone());
        let mut about = Section::new("What it is");
        about.cause_id = Some(cause.id.clone());
        about.body = Some(cause.explanation.clone());
        reply.sections.push(about);
        let mut prevent = Section::new("Prevention");
        prevent.items = cause.tips.iter().map(tip_item).collect();
        reply.sections.push(prevent);
        if !cause.treatment.is_empty() {
            let mut helps = Section::new("What helps");
            helps.items = cause.treatment.iter().map(tip_item).collect();
            reply.sections.push(helps);
        }
        let mut professional = Section::new("When to see a professional");
        professional.body = Some(cause.see_a_professional.clone());
        reply.sections.push(professional);
        let mut sources = Section::new("Sources");
        sources.items = cause.sources.iter().map(|source| Item { text: source_line(source), source: None }).collect();
        reply.sections.push(sources);
        reply
    }

    /// All causes, one line each.
    pub fn cause_list(&self) -> Reply {
        let catalogue = self.catalogue();
        let mut reply = Reply::new(ReplyKind::CauseList, "Nine common causes", catalogue);
        reply.intro = Some("Use /cause with a name for the full card.".to_owned());
        let mut list = Section::new("Causes");
        list.items = catalogue.causes.iter().map(|cause| Item { text: one_line(cause), source: None }).collect();
        reply.sections.push(list);
        reply
    }

    /// General prevention or treatment tips.
    pub fn tips(&self, kind: TipsKind) -> Reply {
        let catalogue = self.catalogue();
        let (title, tips) = match kind {
            TipsKind::Prevention => ("Preventing twitches and cramps", &catalogue.guidance.prevention),
            TipsKind::Treatment => ("What helps when it happens", &catalogue.guidance.treatment),
        };
        let mut reply = Reply::new(ReplyKind::Tips, title, catalogue);
        let mut section = Section::new(title);
        section.items = tips.iter().map(tip_item).collect();
        reply.sections.push(section);
        let mut professional = Section::new("When to see a professional");
        professional.items = catalogue
            .guidance
            .see_a_professional
            .iter()
            .map(|line| Item { text: line.clone(), source: None })
            .collect();
        reply.sections.push(professional);
        reply
    }

    /// What the bot is and is not.
    pub fn about(&self) -> Reply {
        let catalogue = self.catalogue();
        let mut reply = Reply::new(ReplyKind::About, format!("crampbot {}", env!("CARGO_PKG_VERSION")), catalogue);
        reply.intro = Some(
            "I match descriptions of calf twitching and hamstring cramps against nine common causes and say which ones your words resemble, why, and what generally helps. I am not a doctor and I do not diagnose."
                .to_owned(),
        );
        let mut how = Section::new("How it works");
        how.body = Some(
            "Keyword and fuzzy matching against a catalogue written from a general article and checked against public health sources. Warning signs are checked first, and negations such as \"no swelling\" are respected."
                .to_owned(),
        );
        reply.sections.push(how);
        let mut privacy = Section::new("Privacy");
        privacy.body = Some(
            "Your messages are analyzed in memory and never stored or logged. Reminders store only your user id, time, time zone and settings; /forget deletes them."
                .to_owned(),
        );
        reply.sections.push(privacy);
        let mut sources = Section::new("Sources");
        sources.items =
            catalogue.sources.values().map(|source| Item { text: source_line(source), source: None }).collect();
        reply.sections.push(sources);
        reply
    }

    /// How to use the bot.
    pub fn help(&self) -> Reply {
        let catalogue = self.catalogue();
        let mut reply = Reply::new(ReplyKind::Help, "How to use crampbot", catalogue);
        reply.intro = Some(
            "Describe what happens in your own words, for example \"my calves twitch on long walks and I just started water pills\", and I will say what it resembles and what helps."
                .to_owned(),
        );
        let mut commands = Section::new("Commands");
        commands.items = [
            "/ask description: analyze a description (or mention me, or DM me)",
            "/cause name: the full card of one cause",
            "/causes: all nine causes, one line each",
            "/tips kind: prevention or treatment tips",
            "/remind set time timezone: a daily hydration DM (also /remind show, off, snooze)",
            "/hydration set channel time timezone: a daily hydration ping in a channel (admins)",
            "/helpchannel add channel: I answer every question about cramps there, no mention needed (admins)",
            "/forget: delete everything stored about you",
            "/about: what I am and am not, sources and privacy",
        ]
        .into_iter()
        .map(|text| Item { text: text.to_owned(), source: None })
        .collect();
        reply.sections.push(commands);
        reply
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
                    let by_name = name_similarity(&query, cause);
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

    /// The cause a submitted `/cause` value names: its id, name or a synonym, ignoring case.
    fn resolve_cause(&self, query: &str) -> Option<&Cause> {
        let query = query.trim().to_lowercase();
        let query = query.replace(' ', "_");
        self.catalogue().causes.iter().find(|cause| {
            cause.id == query
                || cause.name.to_lowercase().replace(' ', "_") == query
                || cause.synonyms.iter().any(|synonym| synonym.to_lowercase().replace(' ', "_") == query)
        })
    }
}

/// How well `query` fits a cause: 1.0 when it starts the name or id, a little less when it starts
/// a synonym (so "neuro" prefers "Neurological conditions" to the synonym "neuropathy"), and
/// Jaro-Winkler similarity for typos.
fn name_similarity(query: &str, cause: &Cause) -> f64 {
    let mut candidates: Vec<(String, f64)> = vec![(cause.name.to_lowercase(), 1.0), (cause.id.replace('_', " "), 1.0)];
    candidates.extend(cause.synonyms.iter().map(|s| (s.to_lowercase(), 0.97)));
    let mut best: f64 = 0.0;
    for (candidate, weight) in &candidates {
        if candidate.starts_with(query) {
            best = best.max(*weight);
            continue;
        }
        if candidate.contains(query) && query.len() >= 3 {
            best = best.max(0.95 * weight);
        }
        best = best.max(strsim::jaro_winkler(query, candidate) * weight);
        for word in candidate.split([' ', '_', '-', '/', '(', ')']) {
            if word.len() >= 3 && word.starts_with(query) && query.len() >= 3 {
                best = best.max(0.95 * weight);
            }
            if query.len() >= 4 {
                best = best.max(strsim::jaro_winkler(query, word) * weight);
            }
        }
    }
    best
}

fn tip_item(tip: &Tip) -> Item {
    Item { text: tip.text.clone(), source: Some(tip.source.clone()) }
}

fn one_line(cause: &Cause) -> String {
    format!("{}: {}", cause.name, first_sentence(&cause.summary))
}

fn first_sentence(text: &str) -> &str {
    match text.find(". ") {
        Some(end) => &text[..=end],
        None => text,
    }
}

fn source_line(source: &crate::knowledge::Source) -> String {
    format!("{}: {} <{}>", source.publisher, source.title, source.url)
}

/// The evidence in plain words: `you mentioned "water pills", "dehidrated" (read as "dehydrated")`.
fn why_line(evidence: &[Evidence]) -> String {
    let parts: Vec<String> = evidence
        .iter()
        .take(4)
        .map(|e| match e.how {
            MatchKind::Fuzzy { .. } => format!("“{}” (read as “{}”)", e.text, e.term),
            _ => format!("“{}”", e.text),
        })
        .collect();
    format!("You mentioned {}.", join_and(&parts))
}

fn quoted_list<'a>(texts: impl Iterator<Item = &'a str>) -> String {
    let parts: Vec<String> = texts.take(3).map(|text| format!("“{text}”")).collect();
    join_and(&parts)
}

fn join_and(parts: &[String]) -> String {
    match parts {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {}", init.join(", "), last),
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
