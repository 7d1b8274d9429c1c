//! The plain-text renderer, for the terminal (`crampbot ask`, `crampbot chat`).

use std::fmt::Write as _;

use super::Reply;
use crate::knowledge::Urgency;

/// Renders a reply as plain text: alerts first, then the body, then the guidance.
pub fn render_text(reply: &Reply) -> String {
    let mut out = String::new();
    for alert in &reply.alerts {
        let label = match alert.urgency {
            Urgency::Emergency => "EMERGENCY",
            Urgency::Urgent => "URGENT",
            Urgency::Soon => "SEE A DOCTOR SOON",
        };
        let _ = writeln!(out, "!! {label}: {}", alert.title);
        let _ = writeln!(out, "   {}", alert.message);
        let _ = writeln!(out, "   What to do: {}", alert.action);
        if !alert.evidence.is_empty() {
            let words: Vec<String> = alert.evidence.iter().map(|word| format!("“{word}”")).collect();
            let _ = writeln!(out, "   Because you mentioned: {}", words.join(", "));
        }
        let sources: Vec<String> = alert.sources.iter().map(|s| format!("{} <{}>", s.publisher, s.url)).collect();
        let _ = writeln!(out, "   Source: {}", sources.join("; "));
        out.push('\n');
    }
    if let Some(emergency) = reply.emergency() {
        let _ = writeln!(out, "{emergency}\n");
    }
    for notice in &reply.notices {
        let _ = writeln!(out, "** {}", notice.title);
        let _ = writeln!(out, "   {}", notice.text);
        let sources: Vec<String> = notice.sources.iter().map(|s| format!("{} <{}>", s.publisher, s.url)).collect();
        let _ = writeln!(out, "   Source: {}", sources.join("; "));
        out.push('\n');
    }
    let _ = writeln!(out, "{}", reply.title);
    if let Some(intro) = &reply.intro {
        let _ = writeln!(out, "{intro}");
    }
    for section in &reply.sections {
        let _ = writeln!(out, "\n## {}", section.heading);
        if let Some(why) = &section.why {
            let _ = writeln!(out, "Why: {why}");
        }
        if let Some(body) = &section.body {
            let _ = writeln!(out, "{body}");
        }
        for item in &section.items {
            match &item.source {
                Some(source) => {
                    let _ = writeln!(out, "- {} (Source: {})", item.text, source.publisher);
                }
                None => {
                    let _ = writeln!(out, "- {}", item.text);
                }
            }
        }
    }
    if !reply.followups.is_empty() {
        let _ = writeln!(out, "\n## {FOLLOWUPS_HEADING}");
        for (number, followup) in reply.followups.iter().enumerate() {
            let _ = writeln!(out, "{}. {}", number + 1, followup.text);
        }
    }
    let _ = writeln!(out, "\n{}", reply.guidance());
    out
}

/// The heading over follow-up questions.
pub const FOLLOWUPS_HEADING: &str = "A few questions to narrow it down (answer yes, no or not sure)";
