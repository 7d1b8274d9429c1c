//! `crampbot chat`: the bot in a terminal, with the same core and the same answers as
//! `crampbot ask` and Discord.
//!
//! Each line is parsed by the pure [`parse`] into a [`Line`], then answered. Works with piped
//! input too (no prompt when stdin is not a terminal), which is how the tests drive it.
//! Reminder commands (`/remind ...`) are parsed into [`Line::Remind`] and answered by the hook
//! [`remind`], which the reminders module will fill in.

use std::io::{self, BufRead, Write};

use crate::bot::{Bot, MAX_TEXT_BYTES, Request, TipsKind};
use crate::reply::render_text;

/// One line of console input, parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line<'a> {
    /// A request for the bot core: free text or one of the slash commands.
    Request(Request<'a>),
    /// `/remind ...` with the rest of the line: the hook for reminders.
    Remind(&'a str),
    /// `/quit` or `/exit`.
    Quit,
    /// A blank line: nothing to do.
    Blank,
    /// A command that cannot be answered, with what to tell the user.
    Invalid(String),
}

/// Parses one line: free text is a description, `/...` a command.
pub fn parse(line: &str) -> Line<'_> {
    let line = line.trim();
    if line.is_empty() {
        return Line::Blank;
    }
    if line.len() > MAX_TEXT_BYTES {
        return Line::Invalid(format!("That is {} bytes; the limit is {MAX_TEXT_BYTES}.", line.len()));
    }
    let Some(command) = line.strip_prefix('/') else {
        return Line::Request(Request::Ask(line));
    };
    let (name, rest) = command.split_once(char::is_whitespace).unwrap_or((command, ""));
    let rest = rest.trim();
    match name.to_lowercase().as_str() {
        "ask" if rest.is_empty() => Line::Invalid("Usage: /ask DESCRIPTION".to_owned()),
        "ask" => Line::Request(Request::Ask(rest)),
        "cause" if rest.is_empty() => Line::Invalid("Usage: /cause NAME (see /causes for the list)".to_owned()),
        "cause" => Line::Request(Request::Cause(rest)),
        "causes" => Line::Request(Request::Causes),
        "tips" => match rest.to_lowercase().as_str() {
            "" | "prevention" => Line::Request(Request::Tips(TipsKind::Prevention)),
            "treatment" => Line::Request(Request::Tips(TipsKind::Treatment)),
            _ => Line::Invalid("Usage: /tips [prevention|treatment]".to_owned()),
        },
        "about" => Line::Request(Request::About),
        "help" => Line::Request(Request::Help),
        "quit" | "exit" => Line::Quit,
        "remind" | "hydration" | "forget" => Line::Remind(command),
        _ => Line::Invalid(format!("Unknown command /{name}. Try /help.")),
    }
}

/// The answer to a reminder command. The hook the reminders module fills in; until then it
/// says that reminders need Discord.
pub fn remind(_command: &str) -> String {
    "Reminders are sent as Discord DMs; they are not available in the console yet.\n".to_owned()
}

/// Runs the chat loop over `input` and `output` until `/quit` or the end of input. `prompt`
/// shows a banner and a `> ` prompt (for a terminal).
///
/// # Errors
/// Only I/O errors on the streams.
pub fn run(bot: &Bot, input: impl BufRead, mut output: impl Write, prompt: bool) -> io::Result<()> {
    if prompt {
        writeln!(output, "crampbot chat: describe what happens, or try /help. /quit leaves.")?;
        write!(output, "> ")?;
        output.flush()?;
    }
    for line in input.lines() {
        let line = match line {
            Ok(line) => line,
            Err(err) if err.kind() == io::ErrorKind::InvalidData => {
                writeln!(output, "That line is not valid UTF-8.")?;
                continue;
            }
            Err(err) => return Err(err),
        };
        match parse(&line) {
            Line::Quit => break,
            Line::Blank => {}
            Line::Request(request) => writeln!(output, "{}", render_text(&bot.handle(request)))?,
            Line::Remind(command) => writeln!(output, "{}", remind(command))?,
            Line::Invalid(message) => writeln!(output, "{message}\n")?,
        }
        if prompt {
            write!(output, "> ")?;
        }
        output.flush()?;
    }
    if prompt {
        writeln!(output)?;
    }
    output.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_text_is_a_description() {
        assert_eq!(parse("my calf twitches"), Line::Request(Request::Ask("my calf twitches")));
        assert_eq!(parse("  /ask my calf  "), Line::Request(Request::Ask("my calf")));
    }

    #[test]
    fn commands_parse() {
        assert_eq!(parse("/cause dehydration"), Line::Request(Request::Cause("dehydration")));
        assert_eq!(parse("/cause  muscle fatigue"), Line::Request(Request::Cause("muscle fatigue")));
        assert_eq!(parse("/causes"), Line::Request(Request::Causes));
        assert_eq!(parse("/tips"), Line::Request(Request::Tips(TipsKind::Prevention)));
        assert_eq!(parse("/tips Treatment"), Line::Request(Request::Tips(TipsKind::Treatment)));
        assert_eq!(parse("/about"), Line::Request(Request::About));
        assert_eq!(parse("/HELP"), Line::Request(Request::Help));
        assert_eq!(parse("/quit"), Line::Quit);
        assert_eq!(parse("/exit"), Line::Quit);
        assert_eq!(parse("   "), Line::Blank);
        assert_eq!(parse("/remind set 09:00 Europe/Paris"), Line::Remind("remind set 09:00 Europe/Paris"));
    }

    #[test]
    fn bad_commands_say_what_to_do() {
        for line in ["/cause", "/ask", "/tips later", "/frobnicate"] {
            assert!(matches!(parse(line), Line::Invalid(_)), "{line}");
        }
        assert!(matches!(parse(&"a".repeat(MAX_TEXT_BYTES + 1)), Line::Invalid(_)));
    }
}
