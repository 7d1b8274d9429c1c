//! The slash commands: their definitions (what is registered) and the pure mapping from an
//! invocation to a [`Request`].
//!
//! To add a command: add a row to [`COMMANDS`] with a function that builds its [`CreateCommand`],
//! and an arm in [`invocation`] (or, for a command that is not a [`Request`], in
//! [`reminder_invocation`] or [`help_channel_invocation`], which the handler tries first).

use serenity::builder::{CreateCommand, CreateCommandOption};
use serenity::model::application::{CommandOptionType, InstallationContext, InteractionContext};
use serenity::model::channel::ChannelType;
use serenity::model::permissions::Permissions;

use crate::bot::{MAX_TEXT_BYTES, Request, TipsKind};
use crate::reminders::Snooze;

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
    CommandDef { name: "remind", build: remind },
    CommandDef { name: "hydration", build: hydration },
    CommandDef { name: "helpchannel", build: helpchannel },
    CommandDef { name: "forget", build: forget },
    CommandDef { name: "about", build: about },
    CommandDef { name: "help", build: help },
];

/// The definitions of every command in [`COMMANDS`], for a bulk overwrite.
pub fn definitions() -> Vec<CreateCommand> {
    COMMANDS.iter().map(|def| (def.build)()).collect()
}

/// Commands that work wherever the app is: installed to a server (`Guild`) or to a user's account
/// (`User`), and used in a server, a DM with the bot, or a DM or group DM between other people
/// (`PrivateChannel`, reachable only through a user install). They answer through the interaction
/// alone, so they work where the bot is not a member.
fn everywhere(command: CreateCommand) -> CreateCommand {
    command.integration_types(vec![InstallationContext::Guild, InstallationContext::User]).contexts(vec![
        InteractionContext::Guild,
        InteractionContext::BotDm,
        InteractionContext::PrivateChannel,
    ])
}

/// Commands that configure a server: installed with the server only, used in it, and by people
/// who can manage it.
fn server_only(command: CreateCommand) -> CreateCommand {
    command
        .integration_types(vec![InstallationContext::Guild])
        .contexts(vec![InteractionContext::Guild])
        .default_member_permissions(Permissions::MANAGE_GUILD)
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

/// The longest time or zone text read from an option (Discord also enforces it).
const MAX_SETTING_CHARS: u16 = 100;

fn time_option() -> CreateCommandOption {
    CreateCommandOption::new(CommandOptionType::String, "time", "Local time, 24-hour HH:MM such as 09:00")
        .required(true)
        .max_length(MAX_SETTING_CHARS)
}

fn zone_option() -> CreateCommandOption {
    CreateCommandOption::new(CommandOptionType::String, "timezone", "Your time zone, such as Europe/London")
        .required(true)
        .set_autocomplete(true)
        .max_length(MAX_SETTING_CHARS)
}

fn subcommand(name: &str, description: &str) -> CreateCommandOption {
    CreateCommandOption::new(CommandOptionType::SubCommand, name, description)
}

fn remind() -> CreateCommand {
    everywhere(
        CreateCommand::new("remind")
            .description("A daily hydration reminder in your DMs")
            .add_option(
                subcommand("set", "Get a daily DM at a local time")
                    .add_sub_option(time_option())
                    .add_sub_option(zone_option())
                    .add_sub_option(CreateCommandOption::new(
                        CommandOptionType::Boolean,
                        "silent",
                        "Send without a push notification",
                    )),
            )
            .add_option(subcommand("off", "Stop your daily reminder and delete its history"))
            .add_option(subcommand("show", "When your next reminder comes"))
            .add_option(
                subcommand("snooze", "One extra reminder later").add_sub_option(
                    CreateCommandOption::new(CommandOptionType::Integer, "minutes", "How long (default 30)")
                        .add_int_choice("30 minutes", 30)
                        .add_int_choice("60 minutes", 60),
                ),
            ),
    )
}

fn hydration() -> CreateCommand {
    let channel = |required: bool, description: &str| {
        CreateCommandOption::new(CommandOptionType::Channel, "channel", description)
            .required(required)
            .channel_types(vec![ChannelType::Text, ChannelType::News])
    };
    server_only(
        CreateCommand::new("hydration").description("A daily hydration reminder in a channel (server managers)"),
    )
    .add_option(
        subcommand("set", "Post a daily reminder in a channel at a local time")
            .add_sub_option(channel(true, "Where to post"))
            .add_sub_option(time_option())
            .add_sub_option(zone_option())
            .add_sub_option(CreateCommandOption::new(
                CommandOptionType::Role,
                "role",
                "The one role to mention (optional)",
            ))
            .add_sub_option(CreateCommandOption::new(
                CommandOptionType::Boolean,
                "silent",
                "Post without a push notification",
            )),
    )
    .add_option(
        subcommand("off", "Stop a channel's daily reminder")
            .add_sub_option(channel(false, "The channel (default: this one)")),
    )
    .add_option(
        subcommand("show", "A channel's daily reminder")
            .add_sub_option(channel(false, "The channel (default: this one)")),
    )
}

fn helpchannel() -> CreateCommand {
    let channel = |required: bool, description: &str| {
        CreateCommandOption::new(CommandOptionType::Channel, "channel", description)
            .required(required)
            .channel_types(vec![ChannelType::Text, ChannelType::News])
    };
    server_only(
        CreateCommand::new("helpchannel")
            .description("Channels where I answer every question about cramps without a mention (server managers)"),
    )
    .add_option(
        subcommand("add", "Answer on-topic messages in a channel without a mention")
            .add_sub_option(channel(true, "The channel")),
    )
    .add_option(
        subcommand("remove", "Stop answering in a channel without a mention")
            .add_sub_option(channel(false, "The channel (default: this one)")),
    )
    .add_option(subcommand("list", "This server's help channels"))
}

fn forget() -> CreateCommand {
    everywhere(CreateCommand::new("forget").description("Delete everything this bot stores about you"))
}

/// An option value as the handler hands it over; only the kinds our commands use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionValue<'a> {
    /// A string option.
    Str(&'a str),
    /// A boolean option.
    Bool(bool),
    /// An integer option.
    Int(i64),
    /// A channel, role or user option: the id.
    Id(u64),
}

/// Where a reminder command was used and by whom.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Invoker {
    /// The user.
    pub user_id: u64,
    /// The server, or `None` in a DM.
    pub guild_id: Option<u64>,
    /// The channel the command was used in.
    pub channel_id: u64,
}

/// A reminder command, ready for [`crate::reminders::Reminders`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReminderCommand<'a> {
    /// `/remind set`.
    SetUser {
        /// As typed.
        time: &'a str,
        /// As typed.
        zone: &'a str,
        /// No push notification.
        silent: bool,
    },
    /// `/remind off`.
    OffUser,
    /// `/remind show`.
    ShowUser,
    /// `/remind snooze`, or the snooze button.
    Snooze(Snooze),
    /// `/hydration set`.
    SetChannel {
        /// The server.
        guild_id: u64,
        /// Where to post.
        channel_id: u64,
        /// The one role to mention.
        role_id: Option<u64>,
        /// As typed.
        time: &'a str,
        /// As typed.
        zone: &'a str,
        /// No push notification.
        silent: bool,
    },
    /// `/hydration off`.
    OffChannel(u64),
    /// `/hydration show`.
    ShowChannel(u64),
    /// `/forget`.
    Forget,
    /// `/hydration` outside a server.
    NeedsServer,
}

/// What users read when `/hydration` is used outside a server.
pub const NEEDS_SERVER: &str = "Channel reminders are set in a server, by someone who can manage it. For a reminder in your DMs, use `/remind set`.";

/// Maps `/remind`, `/hydration` and `/forget` (with the subcommand and its options) to a
/// [`ReminderCommand`]; `None` for any other command.
pub fn reminder_invocation<'a>(
    name: &str,
    subcommand: Option<&str>,
    options: &[(&str, OptionValue<'a>)],
    invoker: Invoker,
) -> Option<ReminderCommand<'a>> {
    let string = |key: &str| {
        options.iter().find_map(|(name, value)| match value {
            OptionValue::Str(text) if *name == key => Some(*text),
            _ => None,
        })
    };
    let id = |key: &str| {
        options.iter().find_map(|(name, value)| match value {
            OptionValue::Id(id) if *name == key => Some(*id),
            _ => None,
        })
    };
    let silent = options.iter().any(|(name, value)| *name == "silent" && *value == OptionValue::Bool(true));
    let command = match (name, subcommand) {
        ("forget", _) => ReminderCommand::Forget,
        ("remind", Some("set")) => ReminderCommand::SetUser {
            time: string("time").unwrap_or_default(),
            zone: string("timezone").unwrap_or_default(),
            silent,
        },
        ("remind", Some("off")) => ReminderCommand::OffUser,
        ("remind", Some("snooze")) => {
            let hour = options.iter().any(|(name, value)| *name == "minutes" && *value == OptionValue::Int(60));
            ReminderCommand::Snooze(if hour { Snooze::Hour } else { Snooze::HalfHour })
        }
        ("remind", _) => ReminderCommand::ShowUser,
        ("hydration", _) if invoker.guild_id.is_none() => ReminderCommand::NeedsServer,
        ("hydration", Some("set")) => ReminderCommand::SetChannel {
            guild_id: invoker.guild_id.unwrap_or_default(),
            channel_id: id("channel").unwrap_or(invoker.channel_id),
            role_id: id("role"),
            time: string("time").unwrap_or_default(),
            zone: string("timezone").unwrap_or_default(),
            silent,
        },
        ("hydration", Some("off")) => ReminderCommand::OffChannel(id("channel").unwrap_or(invoker.channel_id)),
        ("hydration", _) => ReminderCommand::ShowChannel(id("channel").unwrap_or(invoker.channel_id)),
        _ => return None,
    };
    Some(command)
}

/// A `/helpchannel` command, ready for the help desk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HelpChannelCommand {
    /// `/helpchannel add`.
    Add {
        /// The server.
        guild_id: u64,
        /// The channel.
        channel_id: u64,
    },
    /// `/helpchannel remove`.
    Remove {
        /// The server.
        guild_id: u64,
        /// The channel.
        channel_id: u64,
    },
    /// `/helpchannel list`.
    List {
        /// The server.
        guild_id: u64,
    },
}

/// Maps `/helpchannel` to a [`HelpChannelCommand`]: `None` for any other command, `Some(Err)`
/// with what to say outside a server.
pub fn help_channel_invocation(
    name: &str,
    subcommand: Option<&str>,
    options: &[(&str, OptionValue<'_>)],
    invoker: Invoker,
) -> Option<Result<HelpChannelCommand, &'static str>> {
    if name != "helpchannel" {
        return None;
    }
    let Some(guild_id) = invoker.guild_id else { return Some(Err(NEEDS_SERVER_FOR_HELP)) };
    let channel_id = options
        .iter()
        .find_map(|(name, value)| match value {
            OptionValue::Id(id) if *name == "channel" => Some(*id),
            _ => None,
        })
        .unwrap_or(invoker.channel_id);
    Some(Ok(match subcommand {
        Some("add") => HelpChannelCommand::Add { guild_id, channel_id },
        Some("remove") => HelpChannelCommand::Remove { guild_id, channel_id },
        _ => HelpChannelCommand::List { guild_id },
    }))
}

/// What users read when `/helpchannel` is used outside a server.
pub const NEEDS_SERVER_FOR_HELP: &str =
    "Help channels are set in a server, by someone who can manage it. In DMs I answer every message anyway.";

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
            let invoker = Invoker { user_id: 1, guild_id: Some(2), channel_id: 3 };
            assert!(
                invocation(def.name, &[]).is_some()
                    || reminder_invocation(def.name, None, &[], invoker).is_some()
                    || help_channel_invocation(def.name, None, &[], invoker).is_some(),
                "{} has no invocation",
                def.name
            );
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
    fn reminder_invocations_map_subcommands_and_options() {
        let dm = Invoker { user_id: 1, guild_id: None, channel_id: 3 };
        let guild = Invoker { guild_id: Some(2), ..dm };
        let set = [("time", OptionValue::Str("09:00")), ("timezone", OptionValue::Str("UTC"))];
        assert_eq!(
            reminder_invocation("remind", Some("set"), &set, dm),
            Some(ReminderCommand::SetUser { time: "09:00", zone: "UTC", silent: false })
        );
        let hour = [("minutes", OptionValue::Int(60))];
        assert_eq!(
            reminder_invocation("remind", Some("snooze"), &hour, dm),
            Some(ReminderCommand::Snooze(Snooze::Hour))
        );
        assert_eq!(
            reminder_invocation("remind", Some("snooze"), &[], dm),
            Some(ReminderCommand::Snooze(Snooze::HalfHour))
        );
        assert_eq!(reminder_invocation("hydration", Some("set"), &set, dm), Some(ReminderCommand::NeedsServer));
        let channel = [("channel", OptionValue::Id(9)), ("role", OptionValue::Id(8)), set[0], set[1]];
        assert_eq!(
            reminder_invocation("hydration", Some("set"), &channel, guild),
            Some(ReminderCommand::SetChannel {
                guild_id: 2,
                channel_id: 9,
                role_id: Some(8),
                time: "09:00",
                zone: "UTC",
                silent: false
            })
        );
        assert_eq!(reminder_invocation("hydration", Some("off"), &[], guild), Some(ReminderCommand::OffChannel(3)));
        assert_eq!(reminder_invocation("forget", None, &[], dm), Some(ReminderCommand::Forget));
        assert_eq!(reminder_invocation("ask", None, &[], dm), None);
    }

    #[test]
    fn help_channel_invocations_need_a_server_and_default_to_this_channel() {
        let guild = Invoker { user_id: 1, guild_id: Some(2), channel_id: 3 };
        let add = [("channel", OptionValue::Id(9))];
        assert_eq!(
            help_channel_invocation("helpchannel", Some("add"), &add, guild),
            Some(Ok(HelpChannelCommand::Add { guild_id: 2, channel_id: 9 }))
        );
        assert_eq!(
            help_channel_invocation("helpchannel", Some("remove"), &[], guild),
            Some(Ok(HelpChannelCommand::Remove { guild_id: 2, channel_id: 3 }))
        );
        assert_eq!(
            help_channel_invocation("helpchannel", Some("list"), &[], guild),
            Some(Ok(HelpChannelCommand::List { guild_id: 2 }))
        );
        let dm = Invoker { guild_id: None, ..guild };
        assert_eq!(help_channel_invocation("helpchannel", Some("add"), &add, dm), Some(Err(NEEDS_SERVER_FOR_HELP)));
        assert_eq!(help_channel_invocation("remind", Some("add"), &add, guild), None);
    }

    #[test]
    fn clip_cuts_at_a_character_boundary() {
        let text = "é".repeat(MAX_TEXT_BYTES);
        let clipped = clip(&text);
        assert!(clipped.len() <= MAX_TEXT_BYTES);
        assert!(clipped.chars().all(|c| c == 'é'));
    }
}
