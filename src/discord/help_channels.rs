//! Help channels on Discord: the `/helpchannel` answers, and the state the handler keeps to
//! answer on-topic messages there (see [`crate::help_channels`]).

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use jiff::Timestamp;
use tokio::time::Instant;

use super::commands::HelpChannelCommand;
use crate::help_channels::store::{HelpChannelChange, HelpChannelStore, StoreError};
use crate::help_channels::{Cooldown, HelpChannels, MAX_PER_SERVER};

/// What server managers read when help channels exist but the bot cannot read messages.
pub const INTENT_OFF: &str = "**Note:** this bot runs without Discord's Message Content intent, so it cannot read \
messages that do not mention it, and stays quiet in help channels. Whoever runs the bot can turn on *Message Content \
Intent* on the Bot page of the Developer Portal and set `discord.message_content = true` (or \
`CRAMPBOT_MESSAGE_CONTENT=true`); a bot in 100 or more servers needs Discord's approval for the intent first.";

/// What users read when the bot runs without a database.
pub const NO_DATABASE: &str = "Help channels are not set up on this bot.";

/// Help channels as the handler uses them, over any store.
pub(crate) struct HelpDesk<S> {
    channels: HelpChannels<S>,
    cooldown: Mutex<Cooldown>,
    /// Whether the bot has the Message Content intent (and so can read help channels).
    pub(crate) message_content: bool,
}

impl<S: HelpChannelStore> HelpDesk<S> {
    /// Loads the help channels from `store`; answers at most once per person per `cooldown`.
    pub(crate) async fn load(
        store: Arc<S>,
        message_content: bool,
        cooldown: Duration,
    ) -> Result<HelpDesk<S>, StoreError> {
        Ok(HelpDesk {
            channels: HelpChannels::load(store).await?,
            cooldown: Mutex::new(Cooldown::new(cooldown)),
            message_content,
        })
    }

    /// How many help channels exist, in all servers.
    pub(crate) fn len(&self) -> usize {
        self.channels.len()
    }

    /// Whether a message in `channel_id` that does not mention the bot is for it to read: a help
    /// channel, and the bot can read messages.
    pub(crate) fn listens_in(&self, channel_id: u64) -> bool {
        self.message_content && self.channels.contains(channel_id)
    }

    /// Whether `user_id` may get an answer in a help channel now (and if so, it counts).
    pub(crate) fn may_answer(&self, user_id: u64) -> bool {
        let now = Instant::now().into_std();
        self.cooldown.lock().unwrap_or_else(PoisonError::into_inner).try_take(user_id, now)
    }

    /// Re-reads the help channels when another process changed them (see
    /// [`HelpChannels::refresh`]); whether they changed.
    pub(crate) async fn refresh(&self) -> Result<bool, StoreError> {
        self.channels.refresh().await
    }

    /// Runs a `/helpchannel` command on the store and says what happened.
    pub(crate) async fn run(&self, command: HelpChannelCommand, now: Timestamp) -> Result<String, StoreError> {
        let note = if self.message_content { String::new() } else { format!("\n\n{INTENT_OFF}") };
        Ok(match command {
            HelpChannelCommand::Add { guild_id, channel_id } => {
                match self.channels.add(guild_id, channel_id, now).await? {
                    HelpChannelChange::AlreadyAdded => format!("<#{channel_id}> is already a help channel.{note}"),
                    HelpChannelChange::Full => {
                        format!("This server has {MAX_PER_SERVER} help channels, the most I keep. Remove one first.")
                    }
                    _ => format!(
                        "<#{channel_id}> is now a help channel: I answer every message there about calf twitching or leg \
                     cramps without a mention, as a reply, at most once per person every 10 seconds, and stay quiet \
                     on anything else.{note}"
                    ),
                }
            }
            HelpChannelCommand::Remove { guild_id, channel_id } => {
                match self.channels.remove(guild_id, channel_id).await? {
                    HelpChannelChange::Removed => format!("<#{channel_id}> is no longer a help channel."),
                    _ => format!("<#{channel_id}> is not a help channel."),
                }
            }
            HelpChannelCommand::List { guild_id } => {
                let channels = self.channels.list(guild_id).await?;
                if channels.is_empty() {
                    "This server has no help channels. Add one with `/helpchannel add`.".to_owned()
                } else {
                    let list: Vec<String> = channels.iter().map(|id| format!("<#{id}>")).collect();
                    format!("Help channels in this server: {}.{note}", list.join(", "))
                }
            }
        })
    }
}
