//! The serenity event handler: READY registers the commands, messages and interactions are
//! turned into requests for the bot core, and every answer leaves through the [`Outbox`].
//!
//! The analysis runs on a blocking thread. An interaction gets its answer directly when the work
//! finishes within `defer_after`; otherwise it is deferred first (so the 3-second deadline always
//! holds) and the answer edits the deferred response. Each event is one tracing span with its
//! kind, latency and outcome; message content is never logged.

use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use serenity::all::{
    CommandInteraction, ComponentInteraction, Context, CreateAutocompleteResponse, CreateInteractionResponse,
    CreateInteractionResponseMessage, EditInteractionResponse, EventHandler, GuildId, Interaction, Message,
    MessageReference, MessageType, Ready, ResumedEvent, UserId,
};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::Instrument as _;

use super::commands;
use super::convert::{self, Addressed, Incoming, OwnedRequest};
use super::logins::LoginBudget;
use super::outbox::{Outbox, SendError};
use super::render::{self, APOLOGY, ButtonAction};
use crate::bot::{Bot, MAX_CHOICE_CHARS, MAX_CHOICES, truncate_chars};
use crate::reply::{Reply, ReplyKind};

/// The event handler shared by every shard.
pub(crate) struct Handler {
    bot: Bot,
    outbox: Outbox,
    guild: Option<GuildId>,
    defer_after: Duration,
    me: OnceLock<UserId>,
    logins: Mutex<LoginBudget>,
    /// Asks the run loop to close the gateway for a while.
    pause: mpsc::UnboundedSender<Duration>,
}

impl Handler {
    pub(crate) fn new(
        bot: Bot,
        outbox: Outbox,
        guild: Option<GuildId>,
        defer_after: Duration,
        logins: LoginBudget,
        pause: mpsc::UnboundedSender<Duration>,
    ) -> Arc<Handler> {
        Arc::new(Handler { bot, outbox, guild, defer_after, me: OnceLock::new(), logins: Mutex::new(logins), pause })
    }
}

/// What became of one event, for the log.
fn outcome(result: &Result<(), SendError>) -> &'static str {
    match result {
        Ok(()) => "sent",
        Err(SendError::Rejected { .. }) => "rejected",
        Err(SendError::GaveUp { .. }) => "gave_up",
        Err(SendError::Build(_) | SendError::Decode(_)) => "failed",
    }
}

fn finish(started: Instant, result: &Result<(), SendError>) {
    let latency_us = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
    match result {
        Ok(()) => tracing::info!(latency_us, outcome = outcome(result), "event handled"),
        Err(err) => {
            tracing::warn!(latency_us, outcome = outcome(result), error = ?err, "event not answered");
        }
    }
}

#[serenity::async_trait]
impl EventHandler for Handler {
    async fn ready(&self, _ctx: Context, ready: Ready) {
        let span = tracing::info_span!("event", kind = "ready");
        async {
            let started = Instant::now();
            let _ = self.me.set(ready.user.id);
            // A poisoned lock only means a panic elsewhere mid-record; the counts are still usable.
            let over_budget = self.logins.lock().unwrap_or_else(std::sync::PoisonError::into_inner).record(started);
            if let Some(pause) = over_budget {
                let _ = self.pause.send(pause);
                tracing::warn!(outcome = "paused", "login budget spent; not registering commands");
                return;
            }
            let definitions = commands::definitions();
            let result = self.outbox.set_commands(ready.application.id, self.guild, &definitions).await;
            if result.is_ok() {
                let scope = if self.guild.is_some() { "guild" } else { "global" };
                tracing::info!(commands = definitions.len(), scope, "commands registered");
            }
            finish(started, &result);
        }
        .instrument(span)
        .await;
    }

    async fn resume(&self, _ctx: Context, _event: ResumedEvent) {
        tracing::info!(kind = "resumed", "gateway session resumed");
    }

    async fn message(&self, _ctx: Context, message: Message) {
        let span = tracing::info_span!("event", kind = "message", dm = message.guild_id.is_none());
        self.on_message(message).instrument(span).await;
    }

    async fn interaction_create(&self, _ctx: Context, interaction: Interaction) {
        match interaction {
            Interaction::Command(command) => {
                let span = tracing::info_span!("event", kind = "command", command = %command.data.name);
                self.on_command(command).instrument(span).await;
            }
            Interaction::Autocomplete(command) => {
                let span = tracing::info_span!("event", kind = "autocomplete", command = %command.data.name);
                self.on_autocomplete(command).instrument(span).await;
            }
            Interaction::Component(component) => {
                let span = tracing::info_span!("event", kind = "button");
                self.on_component(component).instrument(span).await;
            }
            _ => tracing::debug!(kind = "interaction", "interaction type not handled"),
        }
    }
}

impl Handler {
    async fn on_message(&self, message: Message) {
        let started = Instant::now();
        let Some(&me) = self.me.get() else {
            tracing::debug!(outcome = "ignored", "message before READY");
            return;
        };
        // System messages (joins, pins, thread starts) are not questions.
        if !matches!(message.kind, MessageType::Regular | MessageType::InlineReply) {
            tracing::debug!(outcome = "ignored", "not a user message");
            return;
        }
        let incoming = Incoming {
            content: &message.content,
            author: message.author.id,
            author_is_bot: message.author.bot || message.webhook_id.is_some(),
            is_dm: message.guild_id.is_none(),
            mentions_me: message.mentions.iter().any(|user| user.id == me),
        };
        let request = match convert::addressed(&incoming, me) {
            Addressed::Ignore => {
                tracing::debug!(outcome = "ignored", "not addressed to the bot");
                return;
            }
            Addressed::Hello => OwnedRequest::Help,
            Addressed::Ask(text) => OwnedRequest::Ask(text),
        };
        let reference = MessageReference::from(&message).fail_if_not_exists(false);
        let out = match self.answer(request).await {
            Some(reply) => render::message(&reply, Some(reference)),
            None => render::text_message(APOLOGY, Some(reference)),
        };
        // The nonce makes a retried post land once: it is derived from the message answered.
        let result = self.outbox.create_message(message.channel_id, out, Some(format!("r{}", message.id))).await;
        finish(started, &result);
    }

    /// Runs the bot core on a blocking thread; `None` if it panicked (logged).
    async fn answer(&self, request: OwnedRequest) -> Option<Reply> {
        let bot = self.bot.clone();
        match tokio::task::spawn_blocking(move || bot.handle(request.as_request())).await {
            Ok(reply) => Some(reply),
            Err(err) => {
                tracing::error!(error = ?err, "the bot core failed");
                None
            }
        }
    }

    async fn on_command(&self, command: CommandInteraction) {
        let started = Instant::now();
        let options = convert::options(&command.data.options);
        let (request, private) = if let Some(invocation) = commands::invocation(&command.data.name, &options) {
            (OwnedRequest::from_request(&invocation.request), invocation.private)
        } else {
            tracing::warn!(outcome = "unknown_command", "a command we do not know; answering with help");
            (OwnedRequest::Help, true)
        };
        let result = self.respond(&command.token, command.id, command.application_id, request, private).await;
        finish(started, &result);
    }

    async fn on_component(&self, component: ComponentInteraction) {
        let started = Instant::now();
        let request = match ButtonAction::parse(&component.data.custom_id) {
            Some(ButtonAction::Cause(id)) => OwnedRequest::Cause(id),
            Some(ButtonAction::Tips(kind)) => OwnedRequest::Tips(kind),
            None => OwnedRequest::Help,
        };
        // Button answers go to the clicker alone, so that clicks do not fill the channel.
        let result = self.respond(&component.token, component.id, component.application_id, request, true).await;
        finish(started, &result);
    }

    async fn on_autocomplete(&self, command: CommandInteraction) {
        let started = Instant::now();
        let mut response = CreateAutocompleteResponse::new();
        if command.data.name == "cause" {
            let partial = command.data.autocomplete().map(|option| option.value.to_owned()).unwrap_or_default();
            for choice in self.bot.autocomplete_cause(commands::clip(&partial)).into_iter().take(MAX_CHOICES) {
                response = response.add_string_choice(
                    truncate_chars(&choice.name, MAX_CHOICE_CHARS),
                    truncate_chars(&choice.value, MAX_CHOICE_CHARS),
                );
            }
        }
        let result = self
            .outbox
            .interaction_response(command.id, &command.token, &CreateInteractionResponse::Autocomplete(response))
            .await;
        finish(started, &result);
    }

    /// Answers an interaction with the bot's reply: directly when it is ready in time, else
    /// deferred first. A not-found cause is shown to the user alone.
    async fn respond(
        &self,
        token: &str,
        id: serenity::all::InteractionId,
        application: serenity::all::ApplicationId,
        request: OwnedRequest,
        private: bool,
    ) -> Result<(), SendError> {
        let bot = self.bot.clone();
        let mut task = tokio::task::spawn_blocking(move || bot.handle(request.as_request()));
        let ready = if self.defer_after.is_zero() {
            None
        } else {
            tokio::time::timeout(self.defer_after, &mut task).await.ok()
        };
        if let Some(result) = ready {
            let message = match result {
                Ok(reply) => render::interaction_message(&reply, private || reply.kind == ReplyKind::NotFound),
                Err(err) => {
                    tracing::error!(error = ?err, "the bot core failed");
                    render::interaction_text(APOLOGY)
                }
            };
            self.outbox.interaction_response(id, token, &CreateInteractionResponse::Message(message)).await
        } else {
            // Whether a deferred answer is ephemeral is fixed now, before the reply exists, so a
            // not-found cause answered late is shown to the channel unless `private` was set.
            let defer = CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new().ephemeral(private));
            self.outbox.interaction_response(id, token, &defer).await?;
            let edit = match task.await {
                Ok(reply) => render::interaction_edit(&reply),
                Err(err) => {
                    tracing::error!(error = ?err, "the bot core failed");
                    EditInteractionResponse::new().content(APOLOGY).allowed_mentions(render::no_mentions())
                }
            };
            self.outbox.edit_original(application, token, &edit).await
        }
    }
}
