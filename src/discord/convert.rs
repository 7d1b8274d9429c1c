//! Serenity values to the bot's plain values: which messages are addressed to the bot and what
//! they say, command options, and requests that can move to a worker thread.

use serenity::model::application::{CommandDataOption, CommandDataOptionValue};
use serenity::model::id::UserId;

use super::commands::{OptionValue, clip};
use crate::bot::{Request, TipsKind};

/// What to do with an incoming message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Addressed {
    /// Not for us: a bot, ourselves, or a guild message that does not mention us.
    Ignore,
    /// Addressed to us with nothing else: say hello and what the bot can do.
    Hello,
    /// A description to analyze (the mention removed).
    Ask(String),
    /// A message in a help channel that does not mention the bot: answer it only if it is on
    /// topic (and the person was not answered just before).
    Overheard(String),
}

/// The facts about a message that decide whether the bot answers it.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    /// The message text.
    pub content: &'a str,
    /// Its author.
    pub author: UserId,
    /// Whether the author is a bot (or a webhook).
    pub author_is_bot: bool,
    /// Where it was sent.
    pub place: Place,
    /// Whether Discord lists the bot among the message's user mentions.
    pub mentions_me: bool,
}

/// Where a message was sent, as far as answering it goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Place {
    /// A DM with the bot: every message is for it.
    Dm,
    /// A server channel: only mentions are.
    Channel,
    /// A help channel the bot can read: mentions, and on-topic messages without one.
    HelpChannel,
}

/// Decides whether and how to answer a message: every DM, guild messages that mention the bot,
/// and (if on topic) the rest of a help channel; never bots, webhooks or the bot itself.
pub fn addressed(message: &Incoming<'_>, me: UserId) -> Addressed {
    if message.author_is_bot || message.author == me {
        return Addressed::Ignore;
    }
    if message.place != Place::Dm && !message.mentions_me && !mentions(message.content, me) {
        let text = message.content.trim();
        return if message.place == Place::HelpChannel && !text.is_empty() {
            Addressed::Overheard(clip(text).to_owned())
        } else {
            Addressed::Ignore
        };
    }
    let text = strip_mentions(message.content, me);
    if text.trim().is_empty() { Addressed::Hello } else { Addressed::Ask(clip(text.trim()).to_owned()) }
}

fn mentions(content: &str, me: UserId) -> bool {
    content.contains(&format!("<@{me}>")) || content.contains(&format!("<@!{me}>"))
}

/// `content` without the bot's own mentions (`<@id>` and the older `<@!id>`).
pub fn strip_mentions(content: &str, me: UserId) -> String {
    content.replace(&format!("<@!{me}>"), " ").replace(&format!("<@{me}>"), " ").trim().to_owned()
}

/// The string, boolean, integer and id options of a command, by name.
pub fn options(options: &[CommandDataOption]) -> Vec<(&str, OptionValue<'_>)> {
    options
        .iter()
        .filter_map(|option| {
            let value = match &option.value {
                CommandDataOptionValue::String(text) => OptionValue::Str(text.as_str()),
                CommandDataOptionValue::Boolean(value) => OptionValue::Bool(*value),
                CommandDataOptionValue::Integer(value) => OptionValue::Int(*value),
                CommandDataOptionValue::Channel(id) => OptionValue::Id(id.get()),
                CommandDataOptionValue::Role(id) => OptionValue::Id(id.get()),
                CommandDataOptionValue::User(id) => OptionValue::Id(id.get()),
                _ => return None,
            };
            Some((option.name.as_str(), value))
        })
        .collect()
}

/// The subcommand used, if any, and its options (or the command's own options when it has no
/// subcommands).
pub fn subcommand_options(options: &[CommandDataOption]) -> (Option<&str>, Vec<(&str, OptionValue<'_>)>) {
    for option in options {
        if let CommandDataOptionValue::SubCommand(inner) = &option.value {
            return (Some(option.name.as_str()), self::options(inner));
        }
    }
    (None, self::options(options))
}

/// A [`Request`] that owns its text, so that the work can move to a blocking thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OwnedRequest {
    /// See [`Request::Ask`].
    Ask(String),
    /// See [`Request::Cause`].
    Cause(String),
    /// See [`Request::Causes`].
    Causes,
    /// See [`Request::Tips`].
    Tips(TipsKind),
    /// See [`Request::About`].
    About,
    /// See [`Request::Help`].
    Help,
}

impl OwnedRequest {
    /// Owns a borrowed request.
    pub fn from_request(request: &Request<'_>) -> OwnedRequest {
        match request {
            Request::Ask(text) => OwnedRequest::Ask((*text).to_owned()),
            Request::Cause(query) => OwnedRequest::Cause((*query).to_owned()),
            Request::Causes => OwnedRequest::Causes,
            Request::Tips(kind) => OwnedRequest::Tips(*kind),
            Request::About => OwnedRequest::About,
            Request::Help => OwnedRequest::Help,
        }
    }

    /// Borrows it back for [`crate::bot::Bot::handle`].
    pub fn as_request(&self) -> Request<'_> {
        match self {
            OwnedRequest::Ask(text) => Request::Ask(text),
            OwnedRequest::Cause(query) => Request::Cause(query),
            OwnedRequest::Causes => Request::Causes,
            OwnedRequest::Tips(kind) => Request::Tips(*kind),
            OwnedRequest::About => Request::About,
            OwnedRequest::Help => Request::Help,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ME: UserId = UserId::new(42);
    const USER: UserId = UserId::new(7);

    fn incoming(content: &str, is_dm: bool, mentions_me: bool) -> Incoming<'_> {
        let place = if is_dm { Place::Dm } else { Place::Channel };
        Incoming { content, author: USER, author_is_bot: false, place, mentions_me }
    }

    #[test]
    fn a_help_channel_overhears_what_does_not_mention_the_bot() {
        let mut message = incoming("my calf twitches", false, false);
        message.place = Place::HelpChannel;
        assert_eq!(addressed(&message, ME), Addressed::Overheard("my calf twitches".into()));
        let mut mention = incoming("<@42> my calf", false, true);
        mention.place = Place::HelpChannel;
        assert_eq!(addressed(&mention, ME), Addressed::Ask("my calf".into()), "a mention is a mention");
        let mut empty = incoming("  ", false, false);
        empty.place = Place::HelpChannel;
        assert_eq!(addressed(&empty, ME), Addressed::Ignore, "no content (an image, or no intent)");
        let mut from_bot = incoming("my calf twitches", false, false);
        from_bot.place = Place::HelpChannel;
        from_bot.author_is_bot = true;
        assert_eq!(addressed(&from_bot, ME), Addressed::Ignore);
    }

    #[test]
    fn guild_messages_need_a_mention_and_dms_do_not() {
        assert_eq!(addressed(&incoming("my calf twitches", false, false), ME), Addressed::Ignore);
        assert_eq!(
            addressed(&incoming("<@42> my calf twitches", false, true), ME),
            Addressed::Ask("my calf twitches".into())
        );
        assert_eq!(addressed(&incoming("<@!42> my calf", false, false), ME), Addressed::Ask("my calf".into()));
        assert_eq!(
            addressed(&incoming("my calf twitches", true, false), ME),
            Addressed::Ask("my calf twitches".into())
        );
    }

    #[test]
    fn an_empty_mention_says_hello() {
        assert_eq!(addressed(&incoming("<@42>", false, true), ME), Addressed::Hello);
        assert_eq!(addressed(&incoming("  <@42>  <@!42> ", false, true), ME), Addressed::Hello);
        assert_eq!(addressed(&incoming("", true, false), ME), Addressed::Hello);
    }

    #[test]
    fn bots_and_the_bot_itself_are_ignored() {
        let mut from_bot = incoming("<@42> hi", false, true);
        from_bot.author_is_bot = true;
        assert_eq!(addressed(&from_bot, ME), Addressed::Ignore);
        let mut from_me = incoming("hi", true, false);
        from_me.author = ME;
        assert_eq!(addressed(&from_me, ME), Addressed::Ignore);
    }

    #[test]
    fn other_mentions_are_kept() {
        assert_eq!(strip_mentions("<@42> ask <@9> too", ME), "ask <@9> too");
    }

    #[test]
    fn owned_requests_round_trip() {
        for request in [
            Request::Ask("a"),
            Request::Cause("b"),
            Request::Causes,
            Request::Tips(TipsKind::Treatment),
            Request::About,
            Request::Help,
        ] {
            assert_eq!(OwnedRequest::from_request(&request).as_request(), request);
        }
    }
}
