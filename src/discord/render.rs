//! [`Reply`] to Discord embeds, buttons and messages, within every Discord limit.
//!
//! Rendering happens in two steps. [`plan`] turns a reply into plain [`EmbedPlan`]s and enforces
//! every limit there (so the limits are testable without serenity), then the builder functions
//! turn the plan into serenity builders. [`plan`] is the only place that decides what goes into an
//! embed, and it always puts [`Reply::guidance`] in the last embed's footer, reserving room for it
//! before anything else: no reply reaches Discord without the consult-a-professional guidance.
//!
//! Lengths are counted in UTF-16 code units, which is never less than the number of characters
//! Discord counts, so a rendered message is never rejected for its size.

use std::fmt::Write as _;

use serenity::builder::{
    CreateActionRow, CreateAllowedMentions, CreateButton, CreateEmbed, CreateEmbedFooter,
    CreateInteractionResponseMessage, CreateMessage, EditInteractionResponse,
};
use serenity::model::application::ButtonStyle;
use serenity::model::channel::{MessageFlags, MessageReference};
use serenity::model::id::RoleId;

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

/// Whole lines of `lines` that fit in `max` units; when lines are left out, a final `…` says so.
/// A first line too long on its own is cut with [`fit`].
fn fit_lines(lines: &[String], max: usize) -> String {
    let joined = lines.join("\n");
    if units(&joined) <= max {
        return joined;
    }
    let mut out = String::new();
    for line in lines {
        let extra = units(line) + usize::from(!out.is_empty());
        // Keep room for "\n…".
        if units(&out) + extra + 2 > max {
            break;
        }
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(line);
    }
    if out.is_empty() {
        return fit(&joined, max);
    }
    out.push_str("\n…");
    out
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

/// The embeds for a reply: one per red-flag alert first (most urgent first), then the main embed
/// with one field per section, and the guidance in the last embed's footer. Every Discord limit
/// holds for the result, whatever the reply's size.
pub fn plan(reply: &Reply) -> Vec<EmbedPlan> {
    let mut budget = limits::TOTAL;
    let footer = fit(reply.guidance(), limits::FOOTER.min(budget));
    budget -= units(&footer);
    let main_title = fit(&reply.title, limits::TITLE.min(budget));
    budget -= units(&main_title);

    let mut embeds = Vec::new();
    // Alerts come first and are never dropped for body text; one embed slot stays for the body.
    let max_alerts = limits::EMBEDS - 1;
    let n_alerts = reply.alerts.len().min(max_alerts);
    for (index, alert) in reply.alerts.iter().take(n_alerts).enumerate() {
        let title = fit(&format!("⚠ {}: {}", alert_label(alert.urgency), alert.title), limits::TITLE.min(budget));
        budget -= units(&title);
        let mut lines = alert_lines(alert, if index == 0 { reply.emergency() } else { None });
        if index + 1 == n_alerts && reply.alerts.len() > n_alerts {
            lines.push(format!("And {} more warning(s): please see a doctor.", reply.alerts.len() - n_alerts));
        }
        let description = fit_lines(&lines, limits::DESCRIPTION.min(budget));
        budget -= units(&description);
        embeds.push(EmbedPlan {
            title,
            description,
            colour: colour(Some(alert.urgency)),
            fields: Vec::new(),
            footer: None,
        });
    }

    let description =
        reply.intro.as_deref().map_or_else(String::new, |intro| fit(intro, limits::DESCRIPTION.min(budget)));
    budget -= units(&description);
    let mut fields = Vec::new();
    for (index, section) in reply.sections.iter().enumerate() {
        let left = reply.sections.len() - index;
        if fields.len() == limits::FIELDS - 1 && left > 1 {
            let note = FieldPlan {
                name: "More".to_owned(),
                value: format!("{left} more section(s) left out to fit Discord."),
            };
            if units(&note.name) + units(&note.value) <= budget {
                fields.push(note);
            }
            break;
        }
        let name =
            fit(if section.heading.trim().is_empty() { "\u{200b}" } else { &section.heading }, limits::FIELD_NAME);
        let lines = section_lines(section);
        let lines = if lines.is_empty() { vec!["—".to_owned()] } else { lines };
        // A field needs its name and a few characters of value to be worth showing.
        if units(&name) + 8 > budget {
            break;
        }
        let value = fit_lines(&lines, limits::FIELD_VALUE.min(budget - units(&name)));
        budget -= units(&name) + units(&value);
        fields.push(FieldPlan { name, value });
    }
    embeds.push(EmbedPlan {
        title: main_title,
        description,
        colour: colour(reply.top_urgency()),
        fields,
        footer: Some(footer),
    });
    embeds
}

/// The serenity embeds for a reply (see [`plan`]).
pub fn embeds(reply: &Reply) -> Vec<CreateEmbed> {
    plan(reply).into_iter().map(embed).collect()
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

/// The action rows for a reply's buttons (see [`button_actions`]).
pub fn components(reply: &Reply) -> Vec<CreateActionRow> {
    let buttons: Vec<CreateButton> = button_actions(reply)
        .into_iter()
        .filter(|(_, action)| action.custom_id().len() <= limits::CUSTOM_ID)
        .map(|(label, action)| {
            CreateButton::new(action.custom_id()).label(fit(&label, limits::BUTTON_LABEL)).style(
                if matches!(action, ButtonAction::Cause(_)) { ButtonStyle::Primary } else { ButtonStyle::Secondary },
            )
        })
        .collect();
    buttons.chunks(limits::BUTTONS_PER_ROW).map(|row| CreateActionRow::Buttons(row.to_vec())).collect()
}

/// A channel message for a reply, as a reply to `reference` when given. Mentions parse nothing.
pub fn message(reply: &Reply, reference: Option<MessageReference>) -> CreateMessage {
    let mut message =
        CreateMessage::new().embeds(embeds(reply)).components(components(reply)).allowed_mentions(no_mentions());
    if let Some(reference) = reference {
        message = message.reference_message(reference);
    }
    message
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

/// An interaction response message for a reply; `ephemeral` shows it to the user alone.
pub fn interaction_message(reply: &Reply, ephemeral: bool) -> CreateInteractionResponseMessage {
    CreateInteractionResponseMessage::new()
        .embeds(embeds(reply))
        .components(components(reply))
        .allowed_mentions(no_mentions())
        .ephemeral(ephemeral)
}

/// A plain text interaction response (the apology), ephemeral.
pub fn interaction_text(text: &str) -> CreateInteractionResponseMessage {
    CreateInteractionResponseMessage::new()
        .content(fit(text, limits::CONTENT))
        .allowed_mentions(no_mentions())
        .ephemeral(true)
}

/// The edit that fills in a deferred interaction response.
pub fn interaction_edit(reply: &Reply) -> EditInteractionResponse {
    EditInteractionResponse::new().embeds(embeds(reply)).components(components(reply)).allowed_mentions(no_mentions())
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
    fn fit_lines_keeps_whole_lines_and_marks_the_cut() {
        let lines: Vec<String> = (0..50).map(|n| format!("line number {n}")).collect();
        let out = fit_lines(&lines, 100);
        assert!(units(&out) <= 100);
        assert!(out.ends_with("\n…"));
        assert!(out.lines().all(|line| line == "…" || line.starts_with("line number ")));
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
