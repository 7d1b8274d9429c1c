//! [`Reply`] to Discord embeds, buttons and messages, within every Discord limit, dropping nothing.
//!
//! Rendering happens in two steps. [`plan`] lays a reply out as plain [`EmbedPlan`]s over one or
//! more messages and enforces every limit there (so the limits are testable without serenity),
//! then the builder functions turn the plan into serenity builders. [`plan`] is the only place
//! that decides what goes into an embed. It reserves room for [`Reply::guidance`] in every
//! message before anything else and puts it in each message's last footer: no message reaches
//! Discord without the consult-a-professional guidance. Nothing is cut to fit: a long section
//! spreads over fields, embeds and follow-up messages, and [`ReplyPlan::check`] proves that every
//! line of the reply is in the plan, or counted in a "N more" note in the unlikely case that
//! [`MAX_MESSAGES`] are not enough.
//!
//! Lengths are counted in UTF-16 code units, which is never less than the number of characters
//! Discord counts, so a rendered message is never rejected for its size.

use std::collections::VecDeque;
use std::fmt::Write as _;

use serenity::builder::{
    CreateActionRow, CreateAllowedMentions, CreateButton, CreateEmbed, CreateEmbedFooter,
    CreateInteractionResponseFollowup, CreateInteractionResponseMessage, CreateMessage, EditInteractionResponse,
};
use serenity::model::application::ButtonStyle;
use serenity::model::channel::{MessageFlags, MessageReference};
use serenity::model::id::RoleId;

use crate::analyze::followups::{Answer, Answers};
use crate::bot::TipsKind;
use crate::knowledge::Urgency;
use crate::reminders::Snooze;
use crate::reminders::text::{Piece, RichText, TimeStyle};
use crate::reply::{Alert, Reply, ReplyKind, Section};

/// Discord's message and component limits, in characters.
pub mod limits {
    /// Message content.
    pub const CONTENT: usize = 2000;
    /// Embed title.
    pub const TITLE: usize = 256;
    /// Embed description.
    pub const DESCRIPTION: usize = 4096;
    /// Fields per embed.
    pub const FIELDS: usize = 25;
    /// Field name.
    pub const FIELD_NAME: usize = 256;
    /// Field value.
    pub const FIELD_VALUE: usize = 1024;
    /// Footer text.
    pub const FOOTER: usize = 2048;
    /// Titles, descriptions, field names and values and footers of all embeds of one message.
    pub const TOTAL: usize = 6000;
    /// Embeds per message.
    pub const EMBEDS: usize = 10;
    /// Button label.
    pub const BUTTON_LABEL: usize = 80;
    /// Component `custom_id`.
    pub const CUSTOM_ID: usize = 100;
    /// Buttons per action row.
    pub const BUTTONS_PER_ROW: usize = 5;
    /// Action rows per message.
    pub const ROWS: usize = 5;
}

/// Embed colour of an emergency alert: red.
pub const COLOUR_EMERGENCY: u32 = 0xD3_2F2F;
/// Embed colour of an urgent alert: orange.
pub const COLOUR_URGENT: u32 = 0xEF_6C00;
/// Embed colour of a see-a-doctor-soon alert: yellow.
pub const COLOUR_SOON: u32 = 0xF9_A825;
/// Embed colour of a reply without alerts: a calm teal.
pub const COLOUR_CALM: u32 = 0x2E_8B8B;

/// The prefix of every button `custom_id`, versioned so that a later format can still read old
/// buttons (their state lives in the id, so they work after a restart).
pub const CUSTOM_ID_PREFIX: &str = "cb1";

/// What users read when something failed on our side; details go to the log, never to users.
pub const APOLOGY: &str = "Sorry, something went wrong on my side. Please try again in a moment.";

/// One embed, as plain strings that already respect every limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EmbedPlan {
    /// Title (may be empty).
    pub title: String,
    /// Description (may be empty).
    pub description: String,
    /// Side colour.
    pub colour: u32,
    /// Fields, in order.
    pub fields: Vec<FieldPlan>,
    /// Footer text, if any.
    pub footer: Option<String>,
}

/// One embed field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldPlan {
    /// Field name (never empty).
    pub name: String,
    /// Field value (never empty).
    pub value: String,
}

impl EmbedPlan {
    /// The characters this embed counts towards the 6,000 limit.
    pub fn units(&self) -> usize {
        units(&self.title)
            + units(&self.description)
            + self.fields.iter().map(|field| units(&field.name) + units(&field.value)).sum::<usize>()
            + self.footer.as_deref().map_or(0, units)
    }
}

/// What a button under a reply does; it is encoded whole in the button's `custom_id`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ButtonAction {
    /// Show one cause's card.
    Cause(String),
    /// Show general tips.
    Tips(TipsKind),
    /// Snooze the clicker's DM reminder (the button under each DM reminder).
    Snooze(Snooze),
    /// Answer a follow-up question: the answers so far with this click's added, and where the
    /// description is: `None` in the message the reply answers (a mention or DM), or the text
    /// itself for a slash command's reply, which has no such message.
    Followup {
        /// The answers so far, this click's included.
        answers: Answers,
        /// The description, for a reply that has no message to read it from.
        text: Option<String>,
    },
}

/// Where a reply's description can be read again when a follow-up button is clicked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AskedIn<'a> {
    /// In the message the reply answers (its message reference).
    Reference,
    /// Nowhere but here: a slash command's option, carried in the buttons when it fits.
    Text(&'a str),
    /// Nowhere: no follow-up buttons (the questions are still shown).
    Nowhere,
}

impl ButtonAction {
    /// The `custom_id` for this action.
    pub fn custom_id(&self) -> String {
        match self {
            ButtonAction::Cause(id) => format!("{CUSTOM_ID_PREFIX}:cause:{id}"),
            ButtonAction::Tips(TipsKind::Prevention) => {
                format!("{CUSTOM_ID_PREFIX}:tips:prevention")
            }
            ButtonAction::Tips(TipsKind::Treatment) => format!("{CUSTOM_ID_PREFIX}:tips:treatment"),
            ButtonAction::Snooze(Snooze::HalfHour) => format!("{CUSTOM_ID_PREFIX}:snooze:30"),
            ButtonAction::Snooze(Snooze::Hour) => format!("{CUSTOM_ID_PREFIX}:snooze:60"),
            ButtonAction::Followup { answers, text } => {
                // Indices below 36 always encode; the catalogue has far fewer questions.
                let answers = answers.encode().unwrap_or_default();
                match text {
                    None => format!("{CUSTOM_ID_PREFIX}:fu:{answers}:r"),
                    Some(text) => format!("{CUSTOM_ID_PREFIX}:fu:{answers}:t:{text}"),
                }
            }
        }
    }

    /// Reads a `custom_id` written by [`ButtonAction::custom_id`]; anything else is `None`.
    pub fn parse(custom_id: &str) -> Option<ButtonAction> {
        let rest = custom_id.strip_prefix(CUSTOM_ID_PREFIX)?.strip_prefix(':')?;
        match rest.split_once(':')? {
            ("cause", id) if !id.is_empty() && id.bytes().all(|b| b.is_ascii_lowercase() || b == b'_') => {
                Some(ButtonAction::Cause(id.to_owned()))
            }
            ("tips", "prevention") => Some(ButtonAction::Tips(TipsKind::Prevention)),
            ("tips", "treatment") => Some(ButtonAction::Tips(TipsKind::Treatment)),
            ("snooze", "30") => Some(ButtonAction::Snooze(Snooze::HalfHour)),
            ("snooze", "60") => Some(ButtonAction::Snooze(Snooze::Hour)),
            ("fu", state) => {
                let (answers, source) = state.split_once(':')?;
                // The question count is checked against the catalogue when the click is handled.
                let answers = Answers::decode(answers, 36)?;
                let text = match source.split_once(':') {
                    None if source == "r" => None,
                    Some(("t", text)) if !text.trim().is_empty() => Some(text.to_owned()),
                    _ => return None,
                };
                Some(ButtonAction::Followup { answers, text })
            }
            _ => None,
        }
    }
}

/// Mentions that a message may ping: none. User text is echoed in replies, so this stops
/// `@everyone`, roles and users from ever being pinged, the replied-to user included.
pub fn no_mentions() -> CreateAllowedMentions {
    CreateAllowedMentions::new().replied_user(false)
}

/// The embed colour for an urgency, or the calm colour for none.
pub fn colour(urgency: Option<Urgency>) -> u32 {
    match urgency {
        Some(Urgency::Emergency) => COLOUR_EMERGENCY,
        Some(Urgency::Urgent) => COLOUR_URGENT,
        Some(Urgency::Soon) => COLOUR_SOON,
        None => COLOUR_CALM,
    }
}

/// Length as Discord may count it: UTF-16 code units (never fewer than characters).
pub fn units(text: &str) -> usize {
    text.encode_utf16().count()
}

/// `text` cut to at most `max` UTF-16 units, ending in an ellipsis when cut. Never splits a
/// character. Prefers to cut at a word boundary near the end.
pub fn fit(text: &str, max: usize) -> String {
    if units(text) <= max {
        return text.to_owned();
    }
    if max == 0 {
        return String::new();
    }
    let mut used = 0;
    let mut end = 0;
    for (index, ch) in text.char_indices() {
        if used + ch.len_utf16() > max - 1 {
            break;
        }
        used += ch.len_utf16();
        end = index + ch.len_utf8();
    }
    let mut cut = &text[..end];
    if let Some(space) = cut.rfind(char::is_whitespace)
        && space * 5 > cut.len() * 4
    {
        cut = &text[..space];
    }
    format!("{}…", cut.trim_end())
}

/// Escapes Discord markdown in text that comes from the user, so it shows as typed.
pub fn escape_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        if matches!(ch, '*' | '_' | '~' | '`' | '|' | '>' | '#' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(ch);
    }
    out
}

fn alert_label(urgency: Urgency) -> &'static str {
    match urgency {
        Urgency::Emergency => "EMERGENCY",
        Urgency::Urgent => "URGENT",
        Urgency::Soon => "See a doctor soon",
    }
}

fn alert_lines(alert: &Alert, emergency: Option<&str>) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(emergency) = emergency {
        lines.push(format!("**{emergency}**"));
    }
    lines.push(alert.message.clone());
    lines.push(format!("**What to do:** {}", alert.action));
    if !alert.evidence.is_empty() {
        let words: Vec<String> = alert.evidence.iter().map(|word| format!("“{}”", escape_markdown(word))).collect();
        lines.push(format!("Because you mentioned {}", words.join(", ")));
    }
    if !alert.sources.is_empty() {
        let sources: Vec<String> =
            alert.sources.iter().map(|source| format!("[{}](<{}>)", source.publisher, source.url)).collect();
        lines.push(format!("Source: {}", sources.join(" · ")));
    }
    lines
}

fn section_lines(section: &Section) -> Vec<String> {
    let mut lines = Vec::new();
    if let Some(why) = &section.why {
        lines.push(format!("*{}*", escape_markdown(why)));
    }
    if let Some(body) = &section.body {
        lines.push(body.clone());
    }
    for item in &section.items {
        lines.push(match &item.source {
            Some(source) => format!("• {} ([{}](<{}>))", item.text, source.publisher, source.url),
            None => format!("• {}", item.text),
        });
    }
    lines
}

/// The most messages one reply is spread over: the answer and up to four follow-ups. An
/// interaction of a user-installed app may have five follow-ups; this leaves one for the user's
/// notices.
pub const MAX_MESSAGES: usize = 5;

/// Units kept free in the last allowed message for the note that says how much did not fit.
const NOTE_RESERVE: usize = 200;

/// The smallest piece of text worth starting a field or a description for.
const MIN_CHUNK: usize = 32;

/// A reply laid out over one or more messages.
///
/// Every message respects every Discord limit and carries the guidance in its last embed's
/// footer. Every line of the reply is in some message, whole or split over consecutive fields;
/// only when [`MAX_MESSAGES`] are full are lines left out, and then `left_out` counts them and the
/// last message ends with an embed that says how many ([`ReplyPlan::check`] verifies all of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplyPlan {
    /// The messages, in the order they are sent; each holds at least one embed.
    pub messages: Vec<Vec<EmbedPlan>>,
    /// How many lines are not shown because [`MAX_MESSAGES`] were full (almost always 0).
    pub left_out: usize,
}

/// How a [`ReplyPlan`] fails its own check; a bug in the planner if it ever happens.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlanError {
    /// A message breaks one of Discord's limits.
    #[error("message {message} breaks a limit: {what}")]
    Limit {
        /// The message, from 0.
        message: usize,
        /// Which limit.
        what: String,
    },
    /// A message does not end with the guidance.
    #[error("message {0} does not carry the guidance")]
    NoGuidance(usize),
    /// A line of the reply is in no message and not counted as left out.
    #[error("a line was dropped: {0:?}")]
    Dropped(String),
    /// Lines were left out without the note that says so, or the count is wrong.
    #[error("{missing} line(s) missing, {left_out} counted as left out")]
    Uncounted {
        /// Lines not found in the messages.
        missing: usize,
        /// What the plan says it left out.
        left_out: usize,
    },
}

/// The title of the note that ends a reply when lines were left out.
pub const MORE_TITLE: &str = "More";

impl ReplyPlan {
    /// Proves the plan against its reply: every message within Discord's limits and ending with
    /// the guidance, and every line of the reply shown (whitespace aside, so a line split over
    /// fields counts) or counted in `left_out` with a note saying so.
    ///
    /// # Errors
    /// The first problem found.
    pub fn check(&self, reply: &Reply) -> Result<(), PlanError> {
        let footer = fit(reply.guidance(), limits::FOOTER);
        for (index, message) in self.messages.iter().enumerate() {
            check_limits(message).map_err(|what| PlanError::Limit { message: index, what })?;
            if message.last().and_then(|embed| embed.footer.as_deref()) != Some(footer.as_str()) {
                return Err(PlanError::NoGuidance(index));
            }
        }
        if self.messages.len() > MAX_MESSAGES {
            return Err(PlanError::Limit { message: MAX_MESSAGES, what: "too many messages".to_owned() });
        }
        let shown = squash(
            &self
                .messages
                .iter()
                .flatten()
                .flat_map(|embed| {
                    std::iter::once(embed.description.as_str())
                        .chain(embed.fields.iter().map(|field| field.value.as_str()))
                })
                .collect::<Vec<_>>()
                .join(" "),
        );
        let mut missing = 0;
        let mut first_missing = None;
        for line in content(reply).into_iter().flat_map(|(_, parts)| parts).flat_map(|part| part.lines) {
            if !shown.contains(&squash(&line)) {
                missing += 1;
                first_missing.get_or_insert(line);
            }
        }
        let noted = self.messages.last().and_then(|message| message.last()).is_some_and(|embed| {
            embed.title == MORE_TITLE && embed.description.starts_with(&self.left_out.to_string())
        });
        match first_missing {
            Some(line) if self.left_out == 0 => Err(PlanError::Dropped(line)),
            _ if missing > self.left_out || (self.left_out > 0 && !noted) => {
                Err(PlanError::Uncounted { missing, left_out: self.left_out })
            }
            _ => Ok(()),
        }
    }
}

/// Whether one message's embeds keep every Discord limit; the broken limit otherwise.
fn check_limits(embeds: &[EmbedPlan]) -> Result<(), String> {
    if embeds.is_empty() || embeds.len() > limits::EMBEDS {
        return Err(format!("{} embeds", embeds.len()));
    }
    let total: usize = embeds.iter().map(EmbedPlan::units).sum();
    if total > limits::TOTAL {
        return Err(format!("{total} units in all"));
    }
    for embed in embeds {
        if units(&embed.title) > limits::TITLE || units(&embed.description) > limits::DESCRIPTION {
            return Err("title or description too long".to_owned());
        }
        if embed.fields.len() > limits::FIELDS {
            return Err(format!("{} fields", embed.fields.len()));
        }
        for field in &embed.fields {
            if !(1..=limits::FIELD_NAME).contains(&units(&field.name))
                || !(1..=limits::FIELD_VALUE).contains(&units(&field.value))
            {
                return Err(format!("field {:?} has an empty or too long name or value", field.name));
            }
        }
        if embed.footer.as_deref().is_some_and(|footer| units(footer) > limits::FOOTER) {
            return Err("footer too long".to_owned());
        }
    }
    Ok(())
}

/// `text` with every run of whitespace made one space, trimmed.
fn squash(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The head of an embed: title and colour.
struct Head {
    title: String,
    colour: u32,
}

/// A run of lines for one place: the description (`heading` `None`) or fields under a heading.
struct Part {
    heading: Option<String>,
    lines: Vec<String>,
}

/// Everything a reply says, as embeds to fill: one per alert (most urgent first), then the main
/// one. A title too long for Discord is kept whole as the first line.
fn content(reply: &Reply) -> Vec<(Head, Vec<Part>)> {
    let mut embeds = Vec::new();
    for (index, alert) in reply.alerts.iter().enumerate() {
        let full_title = format!("⚠ {}: {}", alert_label(alert.urgency), alert.title);
        let title = fit(&full_title, limits::TITLE);
        let mut lines = alert_lines(alert, if index == 0 { reply.emergency() } else { None });
        if title != full_title {
            lines.insert(0, format!("**{}**", alert.title));
        }
        embeds.push((Head { title, colour: colour(Some(alert.urgency)) }, vec![Part { heading: None, lines }]));
    }
    let title = fit(&reply.title, limits::TITLE);
    let mut intro: Vec<String> = reply.intro.iter().cloned().collect();
    if title != reply.title {
        intro.insert(0, format!("**{}**", reply.title));
    }
    let mut parts = vec![Part { heading: None, lines: intro }];
    for notice in &reply.notices {
        let mut lines = vec![notice.text.clone()];
        if !notice.sources.is_empty() {
            let sources: Vec<String> =
                notice.sources.iter().map(|source| format!("[{}](<{}>)", source.publisher, source.url)).collect();
            lines.push(format!("Source: {}", sources.join(" · ")));
        }
        parts.push(Part { heading: Some(format!("📌 {}", notice.title)), lines });
    }
    for section in &reply.sections {
        let lines = section_lines(section);
        let heading = if section.heading.trim().is_empty() { "\u{200b}".to_owned() } else { section.heading.clone() };
        parts.push(Part {
            heading: Some(heading), lines: if lines.is_empty() { vec!["—".to_owned()] } else { lines }
        });
    }
    if !reply.followups.is_empty() {
        let lines = reply
            .followups
            .iter()
            .enumerate()
            .map(|(number, followup)| format!("{}. {}", number + 1, followup.text))
            .collect();
        parts.push(Part { heading: Some(FOLLOWUPS_HEADING.to_owned()), lines });
    }
    embeds.push((Head { title, colour: colour(reply.top_urgency()) }, parts));
    embeds
}

/// The heading over follow-up questions in an embed.
pub const FOLLOWUPS_HEADING: &str = "A few questions to narrow it down";

/// Lays a reply out over messages (see [`ReplyPlan`]): the alerts first, each in its own embed,
/// then the main embed with one or more fields per section. A section longer than a field goes
/// on in the next field, a full embed in a continuation embed, a full message in the next
/// message; a line longer than a whole field is split at a space. The guidance's room is kept in
/// every message before anything else is placed.
pub fn plan(reply: &Reply) -> ReplyPlan {
    let mut packer = Packer::new(fit(reply.guidance(), limits::FOOTER));
    for (head, parts) in content(reply) {
        packer.embed(&head, parts);
    }
    let plan = packer.finish();
    debug_assert_eq!(plan.check(reply), Ok(()), "the planner broke its own promise");
    plan
}

/// The state of [`plan`]: finished messages, the message being filled and what did not fit.
struct Packer {
    footer: String,
    done: Vec<Vec<EmbedPlan>>,
    message: Vec<EmbedPlan>,
    /// Units used by `message`, the footer not included.
    used: usize,
    /// Set once the last allowed message is full.
    full: bool,
    left_out: usize,
}

impl Packer {
    fn new(footer: String) -> Packer {
        Packer { footer, done: Vec::new(), message: Vec::new(), used: 0, full: false, left_out: 0 }
    }

    fn is_last_message(&self) -> bool {
        self.done.len() + 1 >= MAX_MESSAGES
    }

    /// Units still free in this message, with the footer's room (and in the last message the
    /// note's) kept.
    fn room(&self) -> usize {
        let reserved = units(&self.footer) + if self.is_last_message() { NOTE_RESERVE } else { 0 };
        limits::TOTAL.saturating_sub(reserved + self.used)
    }

    fn embed_slots(&self) -> usize {
        let reserved = usize::from(self.is_last_message());
        limits::EMBEDS.saturating_sub(self.message.len() + reserved)
    }

    /// Closes this message and starts the next; `false` when no message is left.
    fn next_message(&mut self) -> bool {
        if self.is_last_message() {
            self.full = true;
            return false;
        }
        self.close_message();
        true
    }

    fn close_message(&mut self) {
        if let Some(last) = self.message.last_mut() {
            last.footer = Some(self.footer.clone());
            self.done.push(std::mem::take(&mut self.message));
        }
        self.used = 0;
    }

    /// Starts an embed (a continuation of `head` when `continued`) with room for `needed` units
    /// of content, in this message or the next; `false` when no message is left. An empty
    /// message takes any embed, so that a huge part cannot stall the plan.
    fn open(&mut self, head: &Head, continued: bool, needed: usize) -> bool {
        let title =
            if continued { fit(&format!("{} (continued)", head.title), limits::TITLE) } else { head.title.clone() };
        loop {
            if self.full {
                return false;
            }
            let needed = if self.message.is_empty() { needed.min(MIN_CHUNK) } else { needed };
            if self.embed_slots() > 0 && self.room() >= units(&title) + needed {
                self.used += units(&title);
                self.message.push(EmbedPlan {
                    title,
                    description: String::new(),
                    colour: head.colour,
                    fields: Vec::new(),
                    footer: None,
                });
                return true;
            }
            if self.message.is_empty() {
                // Cannot happen (an empty message has room for any title); stop rather than spin.
                self.full = true;
                return false;
            }
            if !self.next_message() {
                return false;
            }
        }
    }

    /// Fills one embed of `head` with `parts`, going on in continuation embeds as needed. The
    /// embed starts where its first part fits whole (up to one place's worth), so that an alert
    /// is not split over two messages when the next one would hold it.
    fn embed(&mut self, head: &Head, parts: Vec<Part>) {
        let first_needed = parts.iter().find(|part| !part.lines.is_empty()).map_or(0, |part| {
            let joined = part.lines.iter().map(|line| units(line) + 1).sum::<usize>();
            joined.min(place_size(part)) + name_size(part)
        });
        if !self.open(head, false, first_needed) {
            self.left_out += parts.iter().map(|part| part.lines.len()).sum::<usize>();
            return;
        }
        for part in parts {
            let mut lines: VecDeque<String> = part.lines.iter().cloned().collect();
            let mut started = false;
            while let Some(next_units) = lines.front().map(|line| units(line)) {
                let placed = match &part.heading {
                    None => self.fill_description(&mut lines),
                    Some(heading) => self.fill_field(heading, started, &mut lines),
                };
                if placed {
                    started = true;
                    continue;
                }
                let needed = next_units.min(place_size(&part)).max(MIN_CHUNK) + name_size(&part);
                if !self.open(head, true, needed) {
                    self.left_out += lines.len();
                    break;
                }
            }
        }
    }

    /// Puts as many of `lines` as fit into the current embed's description; whether any did.
    fn fill_description(&mut self, lines: &mut VecDeque<String>) -> bool {
        let Some(embed) = self.message.last() else { return false };
        if !embed.fields.is_empty() {
            return false;
        }
        let used = units(&embed.description);
        let separator = usize::from(used > 0);
        let cap = (limits::DESCRIPTION.saturating_sub(used + separator)).min(self.room().saturating_sub(separator));
        let Some(text) = take_lines(lines, cap, limits::DESCRIPTION) else { return false };
        let added = units(&text) + separator;
        let embed = self.message.last_mut().expect("checked above");
        if separator == 1 {
            embed.description.push('\n');
        }
        embed.description.push_str(&text);
        self.used += added;
        true
    }

    /// Puts as many of `lines` as fit into one new field of the current embed; whether any did.
    /// The first field of a section carries its heading; a field that goes on right after the
    /// section's previous one has a blank name, and one that goes on in a new embed says so.
    fn fill_field(&mut self, heading: &str, started: bool, lines: &mut VecDeque<String>) -> bool {
        let Some(embed) = self.message.last() else { return false };
        if embed.fields.len() >= limits::FIELDS {
            return false;
        }
        let name = if !started {
            fit(heading, limits::FIELD_NAME)
        } else if embed.fields.is_empty() {
            fit(&format!("{heading} (continued)"), limits::FIELD_NAME)
        } else {
            "\u{200b}".to_owned()
        };
        let cap = limits::FIELD_VALUE.min(self.room().saturating_sub(units(&name)));
        let Some(value) = take_lines(lines, cap, limits::FIELD_VALUE) else { return false };
        self.used += units(&name) + units(&value);
        self.message.last_mut().expect("checked above").fields.push(FieldPlan { name, value });
        true
    }

    /// Ends the plan: the last message gets the guidance, and a note when lines were left out.
    fn finish(mut self) -> ReplyPlan {
        if self.left_out > 0 {
            let description = format!(
                "{} more line(s) did not fit in the {MAX_MESSAGES} messages of one answer. Ask about one thing at a time, for example with /cause or /tips.",
                self.left_out
            );
            self.used += units(MORE_TITLE) + units(&description);
            self.message.push(EmbedPlan {
                title: MORE_TITLE.to_owned(),
                description,
                colour: COLOUR_CALM,
                fields: Vec::new(),
                footer: None,
            });
        }
        self.close_message();
        ReplyPlan { messages: self.done, left_out: self.left_out }
    }
}

/// The most one place of `part` holds: a description or a field value.
fn place_size(part: &Part) -> usize {
    if part.heading.is_some() { limits::FIELD_VALUE } else { limits::DESCRIPTION }
}

/// The room a field name of `part` may take, " (continued)" included.
fn name_size(part: &Part) -> usize {
    part.heading.as_deref().map_or(0, |heading| units(heading).min(limits::FIELD_NAME) + 12)
}

/// Takes whole lines from the front of `lines` while they fit in `cap` units, joined by
/// newlines. A first line longer than `fresh` (the most any one place could hold) is split at a
/// space and its rest left in front; a first line that would fit in a fresh place but not here is
/// left for one. `None` when nothing was taken.
fn take_lines(lines: &mut VecDeque<String>, cap: usize, fresh: usize) -> Option<String> {
    if cap < MIN_CHUNK.min(fresh) {
        return None;
    }
    let mut out = String::new();
    let mut used = 0;
    while let Some(line) = lines.front() {
        let separator = usize::from(!out.is_empty());
        let line_units = units(line);
        if used + separator + line_units <= cap {
            if separator == 1 {
                out.push('\n');
            }
            out.push_str(line);
            used += separator + line_units;
            lines.pop_front();
            continue;
        }
        if out.is_empty() && line_units > fresh {
            let (head, tail) = split_at_units(line, cap);
            out.push_str(head);
            let tail = tail.trim_start().to_owned();
            lines.pop_front();
            if !tail.is_empty() {
                lines.push_front(tail);
            }
        }
        break;
    }
    (!out.is_empty()).then_some(out)
}

/// Splits `text` so the head has at most `max` UTF-16 units, at the last space when there is
/// one in the second half, else at a character boundary. The head is never empty when `max` is
/// at least one character.
fn split_at_units(text: &str, max: usize) -> (&str, &str) {
    let mut used = 0;
    let mut end = 0;
    for (index, ch) in text.char_indices() {
        if used + ch.len_utf16() > max {
            break;
        }
        used += ch.len_utf16();
        end = index + ch.len_utf8();
    }
    let head = &text[..end];
    match head.rfind(char::is_whitespace) {
        Some(space) if space * 2 > head.len() => (text[..space].trim_end(), &text[space..]),
        _ => (head, &text[end..]),
    }
}

/// The embeds of each message of a reply (see [`plan`]).
fn message_embeds(reply: &Reply) -> Vec<Vec<CreateEmbed>> {
    plan(reply).messages.into_iter().map(|message| message.into_iter().map(embed).collect()).collect()
}

/// One planned embed as a serenity builder.
pub fn embed(plan: EmbedPlan) -> CreateEmbed {
    let mut embed = CreateEmbed::new().colour(plan.colour);
    if !plan.title.is_empty() {
        embed = embed.title(plan.title);
    }
    if !plan.description.is_empty() {
        embed = embed.description(plan.description);
    }
    embed = embed.fields(plan.fields.into_iter().map(|field| (field.name, field.value, false)));
    if let Some(footer) = plan.footer {
        embed = embed.footer(CreateEmbedFooter::new(footer));
    }
    embed
}

/// The buttons offered under a reply: tips, and "More" for each cause of an analysis.
pub fn button_actions(reply: &Reply) -> Vec<(String, ButtonAction)> {
    let mut actions = Vec::new();
    match reply.kind {
        ReplyKind::Analysis | ReplyKind::Overview => {
            actions.push(("Prevention tips".to_owned(), ButtonAction::Tips(TipsKind::Prevention)));
            actions.push(("What helps now".to_owned(), ButtonAction::Tips(TipsKind::Treatment)));
            for section in &reply.sections {
                if let Some(id) = &section.cause_id {
                    let action = ButtonAction::Cause(id.clone());
                    if !actions.iter().any(|(_, existing)| *existing == action) {
                        actions.push((format!("More: {}", section.heading), action));
                    }
                }
            }
        }
        ReplyKind::CauseCard | ReplyKind::NotFound | ReplyKind::CauseList => {
            actions.push(("Prevention tips".to_owned(), ButtonAction::Tips(TipsKind::Prevention)));
            actions.push(("What helps now".to_owned(), ButtonAction::Tips(TipsKind::Treatment)));
        }
        _ => {}
    }
    actions.truncate(limits::BUTTONS_PER_ROW * limits::ROWS);
    actions
}

/// The action rows for a reply's buttons (see [`button_actions`]), without follow-up buttons.
pub fn components(reply: &Reply) -> Vec<CreateActionRow> {
    components_asked(reply, AskedIn::Nowhere)
}

/// The action rows for a reply's buttons: the follow-up questions' Yes / No / Not sure, one row
/// per question, when the description can be read again on a click (see [`AskedIn`]), then the
/// tips and causes buttons in the rows left.
pub fn components_asked(reply: &Reply, asked: AskedIn<'_>) -> Vec<CreateActionRow> {
    let followup_rows = followup_rows(reply, asked);
    let buttons: Vec<CreateButton> = button_actions(reply)
        .into_iter()
        .filter(|(_, action)| action.custom_id().len() <= limits::CUSTOM_ID)
        .take(limits::BUTTONS_PER_ROW * (limits::ROWS - followup_rows.len()))
        .map(|(label, action)| {
            CreateButton::new(action.custom_id()).label(fit(&label, limits::BUTTON_LABEL)).style(
                if matches!(action, ButtonAction::Cause(_)) { ButtonStyle::Primary } else { ButtonStyle::Secondary },
            )
        })
        .collect();
    let mut rows = followup_rows;
    rows.extend(buttons.chunks(limits::BUTTONS_PER_ROW).map(|row| CreateActionRow::Buttons(row.to_vec())));
    rows
}

/// One row per follow-up question: "1: Yes", "1: No", "1: Not sure", each carrying the
/// answers so far plus its own. None when the state does not fit in a `custom_id`.
fn followup_rows(reply: &Reply, asked: AskedIn<'_>) -> Vec<CreateActionRow> {
    let text = match asked {
        AskedIn::Nowhere => return Vec::new(),
        AskedIn::Reference => None,
        AskedIn::Text(text) => Some(text.to_owned()),
    };
    let mut rows = Vec::new();
    for (number, followup) in reply.followups.iter().enumerate().take(limits::ROWS - 1) {
        let mut buttons = Vec::new();
        for (answer, label, style) in [
            (Answer::Yes, "Yes", ButtonStyle::Primary),
            (Answer::No, "No", ButtonStyle::Secondary),
            (Answer::Unsure, "Not sure", ButtonStyle::Secondary),
        ] {
            let mut answers = reply.answered.clone();
            answers.insert(followup.index, answer);
            let custom_id = ButtonAction::Followup { answers, text: text.clone() }.custom_id();
            if custom_id.len() > limits::CUSTOM_ID {
                return Vec::new();
            }
            buttons.push(CreateButton::new(custom_id).label(format!("{}: {label}", number + 1)).style(style));
        }
        rows.push(CreateActionRow::Buttons(buttons));
    }
    rows
}

/// The channel messages for a reply, in order (see [`plan`]), each a reply to `reference` when
/// given; the buttons go under the last. Mentions parse nothing.
pub fn messages(reply: &Reply, reference: Option<&MessageReference>) -> Vec<CreateMessage> {
    let planned = message_embeds(reply);
    let last = planned.len().saturating_sub(1);
    planned
        .into_iter()
        .enumerate()
        .map(|(index, embeds)| {
            let mut message = CreateMessage::new().embeds(embeds).allowed_mentions(no_mentions());
            if index == last {
                let asked = if reference.is_some() { AskedIn::Reference } else { AskedIn::Nowhere };
                message = message.components(components_asked(reply, asked));
            }
            if let Some(reference) = reference {
                message = message.reference_message(reference.clone());
            }
            message
        })
        .collect()
}

/// Reminder text in Discord's syntax: times as Discord timestamps (`<t:UNIX:F>`, `<t:UNIX:R>`),
/// which each viewer's client shows in their own zone, channels as `<#id>` and roles as `<@&id>`.
pub fn rich_text(text: &RichText) -> String {
    let mut out = String::new();
    for piece in text.pieces() {
        match piece {
            Piece::Text(words) => out.push_str(words),
            Piece::Time { at, style: TimeStyle::Full, .. } => {
                let _ = write!(out, "<t:{}:F>", at.as_second());
            }
            Piece::Time { at, style: TimeStyle::Relative, .. } => {
                let _ = write!(out, "<t:{}:R>", at.as_second());
            }
            Piece::Channel(channel) => {
                let _ = write!(out, "<#{channel}>");
            }
            Piece::Role(role) => {
                let _ = write!(out, "<@&{role}>");
            }
        }
    }
    out
}

/// A reminder's text for a channel or a DM. `ping_role` is the one ping the bot ever makes: a
/// role an admin configured for channel reminders; the message allows that role and nothing
/// else. `silent` sends it without a push notification.
pub fn reminder_message(text: &str, ping_role: Option<RoleId>, silent: bool) -> CreateMessage {
    let mentions = match ping_role {
        Some(role) => no_mentions().roles(vec![role]),
        None => no_mentions(),
    };
    let message = CreateMessage::new().content(fit(text, limits::CONTENT)).allowed_mentions(mentions);
    if silent { message.flags(MessageFlags::SUPPRESS_NOTIFICATIONS) } else { message }
}

/// The buttons under a DM reminder: snooze for 30 or 60 minutes.
pub fn snooze_buttons() -> Vec<CreateActionRow> {
    let button = |label: &str, snooze| {
        CreateButton::new(ButtonAction::Snooze(snooze).custom_id()).label(label).style(ButtonStyle::Secondary)
    };
    vec![CreateActionRow::Buttons(vec![
        button("Snooze 30 min", Snooze::HalfHour),
        button("Snooze 1 hour", Snooze::Hour),
    ])]
}

/// A plain text message (content cut to 2,000 characters). Mentions parse nothing.
pub fn text_message(text: &str, reference: Option<MessageReference>) -> CreateMessage {
    let mut message = CreateMessage::new().content(fit(text, limits::CONTENT)).allowed_mentions(no_mentions());
    if let Some(reference) = reference {
        message = message.reference_message(reference);
    }
    message
}

/// An answer to an interaction: the first message, then follow-ups through the interaction's
/// webhook (never a channel message: a user-installed app is usually not in the server).
#[derive(Debug, Clone)]
pub struct InteractionAnswer<First> {
    /// The interaction response, or the edit of a deferred one.
    pub first: First,
    /// The rest of the reply, in order.
    pub followups: Vec<CreateInteractionResponseFollowup>,
}

/// The response and follow-ups for a reply (see [`plan`]); `ephemeral` shows them to the user
/// alone. The buttons go under the last message.
pub fn interaction_messages(reply: &Reply, ephemeral: bool) -> InteractionAnswer<CreateInteractionResponseMessage> {
    interaction_messages_asked(reply, ephemeral, AskedIn::Nowhere)
}

/// [`interaction_messages`], with follow-up buttons when the description can be read again.
pub fn interaction_messages_asked(
    reply: &Reply,
    ephemeral: bool,
    asked: AskedIn<'_>,
) -> InteractionAnswer<CreateInteractionResponseMessage> {
    let mut planned = message_embeds(reply).into_iter();
    let first = planned.next().unwrap_or_default();
    let followups = followups(reply, planned, ephemeral, asked);
    let mut response =
        CreateInteractionResponseMessage::new().embeds(first).allowed_mentions(no_mentions()).ephemeral(ephemeral);
    if followups.is_empty() {
        response = response.components(components_asked(reply, asked));
    }
    InteractionAnswer { first: response, followups }
}

/// The update of the message whose follow-up button was clicked: the reply with the answers,
/// in place, when it fits in one message (`None` otherwise: answer with a new message then).
pub fn followup_update(reply: &Reply, asked: AskedIn<'_>) -> Option<CreateInteractionResponseMessage> {
    let mut planned = message_embeds(reply);
    if planned.len() != 1 {
        return None;
    }
    let embeds = planned.pop().unwrap_or_default();
    Some(
        CreateInteractionResponseMessage::new()
            .embeds(embeds)
            .allowed_mentions(no_mentions())
            .components(components_asked(reply, asked)),
    )
}

fn followups(
    reply: &Reply,
    rest: impl ExactSizeIterator<Item = Vec<CreateEmbed>>,
    ephemeral: bool,
    asked: AskedIn<'_>,
) -> Vec<CreateInteractionResponseFollowup> {
    let last = rest.len().saturating_sub(1);
    rest.enumerate()
        .map(|(index, embeds)| {
            let followup = CreateInteractionResponseFollowup::new()
                .embeds(embeds)
                .allowed_mentions(no_mentions())
                .ephemeral(ephemeral);
            if index == last { followup.components(components_asked(reply, asked)) } else { followup }
        })
        .collect()
}

/// A plain text interaction response (the apology), ephemeral.
pub fn interaction_text(text: &str) -> CreateInteractionResponseMessage {
    CreateInteractionResponseMessage::new()
        .content(fit(text, limits::CONTENT))
        .allowed_mentions(no_mentions())
        .ephemeral(true)
}

/// The edit that fills in a deferred interaction response, and the follow-ups after it
/// (`ephemeral` as the deferral was).
pub fn interaction_edit(reply: &Reply, ephemeral: bool) -> InteractionAnswer<EditInteractionResponse> {
    interaction_edit_asked(reply, ephemeral, AskedIn::Nowhere)
}

/// [`interaction_edit`], with follow-up buttons when the description can be read again.
pub fn interaction_edit_asked(
    reply: &Reply,
    ephemeral: bool,
    asked: AskedIn<'_>,
) -> InteractionAnswer<EditInteractionResponse> {
    let mut planned = message_embeds(reply).into_iter();
    let first = planned.next().unwrap_or_default();
    let followups = followups(reply, planned, ephemeral, asked);
    let mut edit = EditInteractionResponse::new().embeds(first).allowed_mentions(no_mentions());
    if followups.is_empty() {
        edit = edit.components(components_asked(reply, asked));
    }
    InteractionAnswer { first: edit, followups }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fit_keeps_short_text_and_cuts_long_text_with_an_ellipsis() {
        assert_eq!(fit("short", 10), "short");
        let cut = fit("one two three four five six", 12);
        assert!(units(&cut) <= 12, "{cut}");
        assert!(cut.ends_with('…'));
        assert_eq!(fit("anything", 0), "");
    }

    #[test]
    fn fit_counts_utf16_units_and_never_splits_a_character() {
        let text = "🦵".repeat(10);
        let cut = fit(&text, 7);
        assert!(units(&cut) <= 7);
        assert!(cut.chars().all(|c| c == '🦵' || c == '…'));
    }

    #[test]
    fn custom_ids_round_trip_and_reject_anything_else() {
        for action in [
            ButtonAction::Cause("muscle_fatigue".into()),
            ButtonAction::Tips(TipsKind::Prevention),
            ButtonAction::Tips(TipsKind::Treatment),
            ButtonAction::Snooze(Snooze::HalfHour),
            ButtonAction::Snooze(Snooze::Hour),
        ] {
            assert_eq!(ButtonAction::parse(&action.custom_id()), Some(action));
        }
        for bad in [
            "",
            "cb1",
            "cb1:",
            "cb1:cause:",
            "cb1:cause:Bad Id",
            "cb0:tips:treatment",
            "cb1:tips:other",
            "cb1:snooze:15",
            "x",
        ] {
            assert_eq!(ButtonAction::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn colours_follow_urgency() {
        assert_eq!(colour(Some(Urgency::Emergency)), COLOUR_EMERGENCY);
        assert_eq!(colour(Some(Urgency::Urgent)), COLOUR_URGENT);
        assert_eq!(colour(Some(Urgency::Soon)), COLOUR_SOON);
        assert_eq!(colour(None), COLOUR_CALM);
    }

    #[test]
    fn a_reminder_pings_only_the_configured_role() {
        let with_role = serde_json::to_value(reminder_message("<@&77> Time for water", Some(RoleId::new(77)), false));
        let with_role = with_role.unwrap();
        assert_eq!(with_role["content"], "<@&77> Time for water");
        assert_eq!(with_role["allowed_mentions"]["parse"], serde_json::json!([]));
        assert_eq!(with_role["allowed_mentions"]["roles"], serde_json::json!(["77"]));
        assert_eq!(with_role["allowed_mentions"]["users"], serde_json::json!([]));
        assert!(with_role.get("flags").is_none());
        let silent = serde_json::to_value(reminder_message("Time for water @everyone", None, true)).unwrap();
        assert_eq!(silent["allowed_mentions"]["roles"], serde_json::json!([]));
        assert_eq!(silent["allowed_mentions"]["parse"], serde_json::json!([]));
        assert_eq!(silent["flags"], serde_json::json!(4096));
    }

    #[test]
    fn escape_markdown_escapes_formatting() {
        assert_eq!(escape_markdown("**bold** _x_"), "\\*\\*bold\\*\\* \\_x\\_");
    }
}
