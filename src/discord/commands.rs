//! The slash commands: their definitions (what is registered) and the pure mapping from an
//! invocation to a [`Request`].
//!
//! To add a command (the reminders will add `/remind`, `/hydration` and `/forget`): add a row to
//! [`COMMANDS`] with a function that builds its [`CreateCommand`], and an arm in [`invocation`]
//! (or handle it before [`invocation`] in the handler if it is not a [`Request`]).

use serenity::builder::{CreateCommand, CreateCommandOption};
use serenity::model::application::{CommandOptionType, InstallationContext, InteractionContext};

use crate::bot::{MAX_TEXT_BYTES, Request, TipsKind};

/// One registered command: its name and how to build its definition.
#[derive(Debug, Clone, Copy)]
pub struct CommandDef {
    /// The command's name, as typed after `/`.
    pub name: &'static str,
    /// Builds the definition sent to Discord.
    pub build: fn() -> CreateCommand,
}

/// Every command the bot registers, in the order users see them in `/help`.
pub const COMMANDS: &[CommandDef] = &[
    CommandDef { name: "ask", build: ask },
    CommandDef { name: "cause", build: cause },
    CommandDef { name: "causes", build: causes },
    CommandDef { name: "tips", build: tips },
    CommandDef { name: "about", build: about },
    CommandDef { name: "help", build: help },
];

/// The definitions of every command in [`COMMANDS`], for a bulk overwrite.
pub fn definitions() -> Vec<CreateCommand> {
    COMMANDS.iter().map(|def| (def.build)()).collect()
}

/// Information commands work in servers and in DMs with the bot.
fn everywhere(command: CreateCommand) -> CreateCommand {
    command
        .integration_types(vec![InstallationContext::Guild])
        .contexts(vec![InteractionContext::Guild, InteractionContext::BotDm])
}

fn ask() -> CreateCommand {
    everywhere(
        CreateCommand::new("ask")
            .description("Describe your calf twitching or cramps and see what it resembles")
            .add_option(
                CreateCommandOption::new(CommandOptionType::String, "description", "What happens, in your own words")
                    .required(true)
                    .max_length(4000),
            )
            .add_option(CreateCommandOption::new(
                CommandOptionType::Boolean,
                "private",
                "Show the answer to you alone",
            )),
    )
}

fn cause() -> CreateCommand {
    everywhere(
        CreateCommand::new("cause")
            .description("The full card of one cause: what it is, what helps, when to see a doctor")
            .add_option(
                CreateCommandOption::new(CommandOptionType::String, "name", "A cause, such as dehydration")
                    .required(true)
                    .set_autocomplete(true)
                    .max_length(100),
            ),
    )
}

fn causes() -> CreateCommand {
    everywhere(CreateCommand::new("causes").description("All nine common causes, one line each"))
}

fn tips() -> CreateCommand {
    everywhere(
        CreateCommand::new("tips")
            .description("Tips to prevent cramps and twitches, or what helps when they happen")
            .add_option(
                CreateCommandOption::new(CommandOptionType::String, "kind", "Prevention (default) or treatment")
                    .add_string_choice("prevention", "prevention")
                    .add_string_choice("treatment", "treatment"),
            ),
    )
}

fn about() -> CreateCommand {
    everywhere(CreateCommand::new("about").description("What this bot is and is not, its sources and privacy"))
}

fn help() -> CreateCommand {
    everywhere(CreateCommand::new("help").description("How to use this bot"))
}

/// An option value as the handler hands it over; only the kinds our commands use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionValue<'a> {
    /// A string option.
    Str(&'a str),
    /// A boolean option.
    Bool(bool),
}

/// What a command invocation asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invocation<'a> {
    /// The request for the bot core.
    pub request: Request<'a>,
    /// Whether the user asked to see the answer alone.
    pub private: bool,
}

/// Maps a command name and its options to a request; `None` for a command this module does not
/// know (the handler answers those with help). Missing or odd options fall back to sensible
/// defaults rather than errors, since Discord validates required options.
pub fn invocation<'a>(name: &str, options: &[(&str, OptionValue<'a>)]) -> Option<Invocation<'a>> {
    let string = |key: &str| {
        options.iter().find_map(|(name, value)| match value {
            OptionValue::Str(text) if *name == key => Some(*text),
            _ => None,
        })
    };
    let private = options.iter().any(|(name, value)| *name == "private" && *value == OptionValue::Bool(true));
    let request = match name {
        "ask" => Request::Ask(clip(string("description").unwrap_or_default())),
        "cause" => Request::Cause(clip(string("name").unwrap_or_default())),
        "causes" => Request::Causes,
        "tips" => Request::Tips(match string("kind") {
            Some(kind) if kind.eq_ignore_ascii_case("treatment") => TipsKind::Treatment,
            _ => TipsKind::Prevention,
        }),
        "about" => Request::About,
        "help" => Request::Help,
        _ => return None,
    };
    Some(Invocation { request, private })
}

/// The first [`MAX_TEXT_BYTES`] of `text`, cut at a character boundary.
pub fn clip(text: &str) -> &str {
    if text.len() <= MAX_TEXT_BYTES {
        return text;
    }
    let mut end = MAX_TEXT_BYTES;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_is_defined_once_with_its_name() {
        let names: Vec<&str> = COMMANDS.iter().map(|def| def.name).collect();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        for def in COMMANDS {
            let json = serde_json::to_value((def.build)()).unwrap();
            assert_eq!(json["name"], def.name);
            assert!(invocation(def.name, &[]).is_some(), "{} has no invocation", def.name);
        }
    }

    #[test]
    fn invocations_map_options() {
        let ask = invocation("ask", &[("description", OptionValue::Str("calf")), ("private", OptionValue::Bool(true))]);
        assert_eq!(ask, Some(Invocation { request: Request::Ask("calf"), private: true }));
        let tips = invocation("tips", &[("kind", OptionValue::Str("treatment"))]).unwrap();
        assert_eq!(tips.request, Request::Tips(TipsKind::Treatment));
        assert_eq!(invocation("tips", &[]).unwrap().request, Request::Tips(TipsKind::Prevention));
        assert_eq!(
            invocation("cause", &[("name", OptionValue::Str("shoes"))]).unwrap().request,
            Request::Cause("shoes")
        );
        assert_eq!(invocation("remind", &[]), None);
    }

    #[test]
    fn clip_cuts_at_a_character_boundary() {
        let text = "é".repeat(MAX_TEXT_BYTES);
        let clipped = clip(&text);
        assert!(clipped.len() <= MAX_TEXT_BYTES);
        assert!(clipped.chars().all(|c| c == 'é'));
    }
}
