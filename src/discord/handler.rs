//! The serenity event handler: READY registers the commands, messages and interactions are
//! turned into requests for the bot core, and every answer leaves through the [`Outbox`].
//!
//! The analysis runs on a blocking thread, at most one per core at a time ([`CorePool`]), with a
//! deadline: an answer not ready within [`CORE_DEADLINE`] becomes a polite apology, so that even a
//! future regression in the analyzer cannot occupy the gateway's workers. An interaction gets its
//! answer directly when the work finishes within `defer_after`; otherwise it is deferred first (so
//! the 3-second deadline always holds) and the answer edits the deferred response. Each event is
//! one tracing span with its kind, latency and outcome; message content is never logged.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

use jiff::Timestamp;
use serenity::all::{
    ApplicationId, ChannelId, CommandInteraction, ComponentInteraction, Context, CreateAutocompleteResponse,
    CreateInteractionResponse, CreateInteractionResponseFollowup, CreateInteractionResponseMessage, CreateMessage,
    EditInteractionResponse, EventHandler, GuildId, Interaction, InteractionId, Message, MessageId, MessageReference,
    MessageType, Ready, ResumedEvent, UserId,
};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tracing::Instrument as _;

use super::NO_REMINDERS;
use super::commands::{self, HelpChannelCommand, Invoker, NEEDS_SERVER, ReminderCommand};
use super::convert::{self, Addressed, Incoming, OwnedRequest, Place};
use super::help_channels::{HelpDesk, NO_DATABASE};
use super::logins::LoginBudget;
use super::outbox::{Outbox, SendError};
use super::render::{self, APOLOGY, ButtonAction};

/// What someone other than the asker is told when they click a follow-up button.
pub const NOT_THE_ASKER: &str =
    "Only the person who asked can answer these questions. Ask your own question with /ask.";

/// What the asker is told when the description can no longer be read (the message was deleted).
pub const ORIGINAL_GONE: &str = "I can't see the message you asked in any more, so please ask again.";
use super::watchdog::Pulse;
use crate::bot::{Bot, MAX_CHOICE_CHARS, MAX_CHOICES, truncate_chars};
use crate::clock::Clock;
use crate::help_channels::store::HelpChannelStore;
use crate::reminders::store::{ReminderStore, StoreError};
use crate::reminders::text::RichText;
use crate::reminders::{ChannelSpec, PendingNotices, Reminders, Snooze};
use crate::reply::{Reply, ReplyKind};

/// The reminder commands, the help channels and the clock they read: what needs the database.
pub(crate) struct Desk<S> {
    pub(crate) reminders: Reminders<S>,
    pub(crate) help: Arc<HelpDesk<S>>,
    pub(crate) clock: Arc<dyn Clock>,
}

/// A command that works on the database, with its text owned, to run on its own task.
#[derive(Debug, Clone)]
enum DeskTask {
    /// `/remind`, `/hydration`, `/forget` or the snooze button.
    Reminder(ReminderTask),
    /// `/helpchannel`.
    HelpChannel(HelpChannelCommand),
}

/// One reminder command with its text owned, to run on its own task.
#[derive(Debug, Clone)]
enum ReminderTask {
    SetUser { time: String, zone: String, silent: bool },
    OffUser,
    ShowUser,
    Snooze(Snooze),
    SetChannel { guild_id: u64, channel_id: u64, role_id: Option<u64>, time: String, zone: String, silent: bool },
    OffChannel(u64),
    ShowChannel(u64),
    Forget,
}

/// What to run for a reminder command; `Err` is an answer needing no store.
fn reminder_task(command: ReminderCommand<'_>) -> Result<ReminderTask, &'static str> {
    Ok(match command {
        ReminderCommand::SetUser { time, zone, silent } => {
            ReminderTask::SetUser { time: time.to_owned(), zone: zone.to_owned(), silent }
        }
        ReminderCommand::OffUser => ReminderTask::OffUser,
        ReminderCommand::ShowUser => ReminderTask::ShowUser,
        ReminderCommand::Snooze(snooze) => ReminderTask::Snooze(snooze),
        ReminderCommand::SetChannel { guild_id, channel_id, role_id, time, zone, silent } => ReminderTask::SetChannel {
            guild_id,
            channel_id,
            role_id,
            time: time.to_owned(),
            zone: zone.to_owned(),
            silent,
        },
        ReminderCommand::OffChannel(channel_id) => ReminderTask::OffChannel(channel_id),
        ReminderCommand::ShowChannel(channel_id) => ReminderTask::ShowChannel(channel_id),
        ReminderCommand::Forget => ReminderTask::Forget,
        ReminderCommand::NeedsServer => return Err(NEEDS_SERVER),
    })
}

/// Runs a database command for `user_id` at `now`; the answer in Discord's syntax.
async fn run_desk_task<S: ReminderStore + HelpChannelStore>(
    desk: &Desk<S>,
    task: DeskTask,
    user_id: u64,
    now: Timestamp,
) -> Result<String, StoreError> {
    match task {
        DeskTask::Reminder(task) => Ok(render::rich_text(&run_task(&desk.reminders, task, user_id, now).await?)),
        DeskTask::HelpChannel(command) => desk.help.run(command, now).await,
    }
}

/// Runs a reminder command for `user_id` at `now`.
async fn run_task<S: ReminderStore>(
    reminders: &Reminders<S>,
    task: ReminderTask,
    user_id: u64,
    now: Timestamp,
) -> Result<RichText, StoreError> {
    match task {
        ReminderTask::SetUser { time, zone, silent } => reminders.set_user(user_id, &time, &zone, silent, now).await,
        ReminderTask::OffUser => reminders.off_user(user_id).await,
        ReminderTask::ShowUser => reminders.show_user(user_id).await,
        ReminderTask::Snooze(snooze) => reminders.snooze_user(user_id, snooze, now).await,
        ReminderTask::SetChannel { guild_id, channel_id, role_id, time, zone, silent } => {
            let spec = ChannelSpec { guild_id, channel_id, role_id, time: &time, zone: &zone, silent, set_by: user_id };
            reminders.set_channel(spec, now).await
        }
        ReminderTask::OffChannel(channel_id) => reminders.off_channel(channel_id).await,
        ReminderTask::ShowChannel(channel_id) => reminders.show_channel(channel_id).await,
        ReminderTask::Forget => reminders.forget(user_id).await,
    }
}

/// How long the bot core may take over one request before the user gets an apology instead.
pub(crate) const CORE_DEADLINE: Duration = Duration::from_secs(2);

/// What the user reads when the bot core missed its deadline.
pub(crate) const TOO_SLOW: &str =
    "Sorry, that message took me too long to read. Please try again with a shorter description.";

/// Why the bot core gave no answer.
#[derive(Debug)]
pub(crate) enum CoreFailure {
    /// It panicked (logged).
    Panicked,
    /// It missed [`CORE_DEADLINE`]; its thread finishes on its own and then frees its slot.
    TooSlow,
}

/// Runs the bot core on blocking threads, at most one per core at a time, each with a deadline.
#[derive(Debug, Clone)]
pub(crate) struct CorePool {
    slots: Arc<tokio::sync::Semaphore>,
    deadline: Duration,
}

impl CorePool {
    /// A pool with one slot per available core.
    pub(crate) fn new(deadline: Duration) -> CorePool {
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        CorePool::with_slots(cores, deadline)
    }

    /// A pool with `slots` threads at most.
    pub(crate) fn with_slots(slots: usize, deadline: Duration) -> CorePool {
        CorePool { slots: Arc::new(tokio::sync::Semaphore::new(slots)), deadline }
    }

    /// Runs `work` on a blocking thread once a slot is free; the wait for the slot counts
    /// against the deadline. A late result is dropped, but its slot stays taken until the
    /// thread ends, so slow work can never pile up more threads than cores.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, CoreFailure> {
        let slots = self.slots.clone();
        let attempt = async move {
            let permit = slots.acquire_owned().await.map_err(|_| CoreFailure::Panicked)?;
            tokio::task::spawn_blocking(move || {
                let result = work();
                drop(permit);
                result
            })
            .await
            .map_err(|err| {
                tracing::error!(error = ?err, "the bot core failed");
                CoreFailure::Panicked
            })
        };
        tokio::time::timeout(self.deadline, attempt).await.unwrap_or_else(|_| {
            tracing::warn!(outcome = "core_deadline", "the bot core missed its deadline");
            Err(CoreFailure::TooSlow)
        })
    }
}

/// The user-facing text for a failure of the bot core.
fn failure_text(failure: &CoreFailure) -> &'static str {
    match failure {
        CoreFailure::Panicked => APOLOGY,
        CoreFailure::TooSlow => TOO_SLOW,
    }
}

/// The event handler shared by every shard.
pub(crate) struct Handler<S> {
    bot: Bot,
    /// Where the bot core runs.
    core: CorePool,
    outbox: Outbox,
    guild: Option<GuildId>,
    defer_after: Duration,
    me: OnceLock<UserId>,
    /// Gateway logins, shared with the watchdog, which asks before it restarts a shard.
    logins: Arc<Mutex<LoginBudget>>,
    /// Asks the run loop to close the gateway for a while (zero: restart the client now).
    pause: mpsc::UnboundedSender<Duration>,
    /// Every event is a sign of life for the watchdog.
    pulse: Arc<Pulse>,
    /// The reminders and help channels, when the bot has a database.
    desk: Option<Arc<Desk<S>>>,
    /// This process runs shard 0: it registers the commands and answers DMs (Discord sends
    /// DMs on shard 0 only).
    owns_shard_zero: bool,
    /// Users whose notices are being shown right now.
    notices_in_flight: NoticesInFlight,
}

/// The users whose pending notices one event is showing. A notice stays stored until its
/// message was sent, so without this two interactions a moment apart would both show it.
#[derive(Debug, Default)]
struct NoticesInFlight(Mutex<HashSet<u64>>);

impl NoticesInFlight {
    /// The right to show this user's notices, or `None` while another event holds it.
    fn claim(&self, user: u64) -> Option<NoticeClaim<'_>> {
        let newly_claimed = self.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(user);
        // The lock is released before a claim exists: dropping a claim takes it again.
        newly_claimed.then(|| NoticeClaim { in_flight: self, user })
    }
}

/// Held while one user's notices are read, sent and cleared; released on drop.
struct NoticeClaim<'a> {
    in_flight: &'a NoticesInFlight,
    user: u64,
}

impl Drop for NoticeClaim<'_> {
    fn drop(&mut self) {
        self.in_flight.0.lock().unwrap_or_else(std::sync::PoisonError::into_inner).remove(&self.user);
    }
}

impl<S: ReminderStore + HelpChannelStore> Handler<S> {
    #[expect(clippy::too_many_arguments, reason = "one constructor, called once, with named values")]
    pub(crate) fn new(
        bot: Bot,
        outbox: Outbox,
        guild: Option<GuildId>,
        defer_after: Duration,
        logins: LoginBudget,
        pause: mpsc::UnboundedSender<Duration>,
        desk: Option<Desk<S>>,
        owns_shard_zero: bool,
    ) -> Arc<Handler<S>> {
        Arc::new(Handler {
            bot,
            core: CorePool::new(CORE_DEADLINE),
            outbox,
            guild,
            defer_after,
            me: OnceLock::new(),
            logins: Arc::new(Mutex::new(logins)),
            pause,
            pulse: Arc::new(Pulse::default()),
            desk: desk.map(Arc::new),
            owns_shard_zero,
            notices_in_flight: NoticesInFlight::default(),
        })
    }

    /// What the watchdog of one client needs: the events' pulse, the login budget and the way
    /// to ask the run loop for a pause or a new client.
    pub(crate) fn watchdog_links(&self) -> (Arc<Pulse>, Arc<Mutex<LoginBudget>>, mpsc::UnboundedSender<Duration>) {
        (Arc::clone(&self.pulse), Arc::clone(&self.logins), self.pause.clone())
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
impl<S: ReminderStore + HelpChannelStore> EventHandler for Handler<S> {
    async fn ready(&self, ctx: Context, ready: Ready) {
        let shard = ctx.shard_id.0;
        self.pulse.beat(shard);
        let span = tracing::info_span!("event", kind = "ready", shard);
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
            if shard != 0 || !self.owns_shard_zero {
                tracing::info!(outcome = "ready", "shard ready; commands are registered by shard 0");
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

    async fn resume(&self, ctx: Context, _event: ResumedEvent) {
        self.pulse.beat(ctx.shard_id.0);
        tracing::info!(kind = "resumed", shard = ctx.shard_id.0, "gateway session resumed");
    }

    async fn message(&self, ctx: Context, message: Message) {
        self.pulse.beat(ctx.shard_id.0);
        let dm = message.guild_id.is_none();
        if dm && ctx.shard_id.0 != 0 {
            // Discord sends DMs on shard 0; another shard seeing one answers nothing, so a DM is
            // answered once, by the process that owns shard 0. A server's messages (help
            // channels included) come on that server's shard, whichever process runs it.
            tracing::debug!(
                kind = "message",
                shard = ctx.shard_id.0,
                outcome = "ignored",
                "a DM on a shard other than 0"
            );
            return;
        }
        let span = tracing::info_span!("event", kind = "message", dm);
        self.on_message(message).instrument(span).await;
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        self.pulse.beat(ctx.shard_id.0);
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

impl<S: ReminderStore + HelpChannelStore> Handler<S> {
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
        let help = self.desk.as_ref().map(|desk| &desk.help);
        let incoming = Incoming {
            content: &message.content,
            author: message.author.id,
            author_is_bot: message.author.bot || message.webhook_id.is_some(),
            place: if message.guild_id.is_none() {
                Place::Dm
            } else if help.is_some_and(|help| help.listens_in(message.channel_id.get())) {
                Place::HelpChannel
            } else {
                Place::Channel
            },
            mentions_me: message.mentions.iter().any(|user| user.id == me),
        };
        let request = match convert::addressed(&incoming, me) {
            Addressed::Ignore => {
                tracing::debug!(outcome = "ignored", "not addressed to the bot");
                return;
            }
            Addressed::Hello => OwnedRequest::Help,
            Addressed::Ask(text) => OwnedRequest::Ask(text),
            Addressed::Overheard(text) => {
                self.on_help_channel_message(&message, text, started).await;
                return;
            }
        };
        let reference = MessageReference::from(&message).fail_if_not_exists(false);
        let out = match self.answer(request).await {
            Ok(reply) => render::messages(&reply, Some(&reference)),
            Err(failure) => vec![render::text_message(failure_text(&failure), Some(reference))],
        };
        let result = self.post_all(message.channel_id, message.id, out).await;
        // Notices are private: shown in a DM, left queued after a guild mention.
        if result.is_ok()
            && message.guild_id.is_none()
            && let Some((_claim, notices)) = self.pending_notices(message.author.id).await
        {
            let text = render::text_message(&render::rich_text(&notices.text), None);
            let notice_result =
                self.outbox.create_message(message.channel_id, text, Some(format!("n{}", message.id))).await;
            self.notices_sent(notices, notice_result).await;
        }
        finish(started, &result);
    }

    /// A message in a help channel that does not mention the bot: answered, as a reply, when it
    /// is on topic and its author was not answered there within the cooldown; otherwise quiet.
    async fn on_help_channel_message(&self, message: &Message, text: String, started: Instant) {
        // Unasked, so a failure stays quiet.
        let Ok(reply) = self.answer(OwnedRequest::Ask(text)).await else { return };
        if reply.kind == ReplyKind::OffTopic {
            tracing::debug!(outcome = "off_topic", "help channel message not about cramps");
            return;
        }
        let may_answer = self.desk.as_ref().is_some_and(|desk| desk.help.may_answer(message.author.id.get()));
        if !may_answer {
            tracing::debug!(outcome = "cooldown", "answered this person moments ago");
            return;
        }
        let reference = MessageReference::from(message).fail_if_not_exists(false);
        let result = self.post_all(message.channel_id, message.id, render::messages(&reply, Some(&reference))).await;
        finish(started, &result);
    }

    /// Posts the messages of one answer in order. Each nonce is derived from the message
    /// answered and the part's place, so a retried post lands once (and so does a post from a
    /// second process that briefly runs the same shard). The first failure stops the rest: a
    /// later part without the earlier ones would not make sense.
    async fn post_all(
        &self,
        channel: ChannelId,
        answered: MessageId,
        out: Vec<CreateMessage>,
    ) -> Result<(), SendError> {
        for (index, message) in out.into_iter().enumerate() {
            let nonce = if index == 0 { format!("r{answered}") } else { format!("r{answered}.{index}") };
            self.outbox.create_message(channel, message, Some(nonce)).await?;
        }
        Ok(())
    }

    /// Sends the follow-ups of an interaction's answer, in order; the first failure stops the
    /// rest.
    async fn follow_up_all(
        &self,
        application: ApplicationId,
        token: &str,
        followups: &[CreateInteractionResponseFollowup],
    ) -> Result<(), SendError> {
        for followup in followups {
            self.outbox.followup(application, token, followup).await?;
        }
        Ok(())
    }

    /// The user's pending notices, left queued until shown, with the claim to hold until they
    /// are sent and cleared; `None` when there are none or another event is showing them.
    async fn pending_notices(&self, user: UserId) -> Option<(NoticeClaim<'_>, PendingNotices)> {
        let desk = self.desk.as_ref()?;
        let claim = self.notices_in_flight.claim(user.get())?;
        match desk.reminders.pending_notices(user.get()).await {
            Ok(notices) => notices.map(|notices| (claim, notices)),
            Err(err) => {
                tracing::error!(error = %err, "cannot read notices");
                None
            }
        }
    }

    /// After the notices' message: acknowledged if it was sent, kept for next time if not.
    async fn notices_sent(&self, notices: PendingNotices, sent: Result<(), SendError>) {
        let Some(desk) = self.desk.as_ref() else { return };
        match sent {
            Ok(()) => {
                if let Err(err) = desk.reminders.notices_shown(notices).await {
                    tracing::error!(error = %err, "cannot clear shown notices; they may show again");
                }
            }
            Err(err) => tracing::warn!(error = ?err, "notices not shown; kept for the next interaction"),
        }
    }

    /// Ends an interaction: once it is answered, its user's pending notices follow; then the
    /// event's latency and outcome are logged.
    async fn conclude(
        &self,
        started: Instant,
        result: &Result<(), SendError>,
        application: ApplicationId,
        token: &str,
        user: UserId,
    ) {
        if result.is_ok() {
            self.follow_up_notices(application, token, user).await;
        }
        finish(started, result);
    }

    /// After an interaction is answered: its user's pending notices, as an ephemeral follow-up.
    async fn follow_up_notices(&self, application: ApplicationId, token: &str, user: UserId) {
        let Some((_claim, notices)) = self.pending_notices(user).await else { return };
        let followup = CreateInteractionResponseFollowup::new()
            .content(render::fit(&render::rich_text(&notices.text), render::limits::CONTENT))
            .allowed_mentions(render::no_mentions())
            .ephemeral(true);
        let sent = self.outbox.followup(application, token, &followup).await;
        self.notices_sent(notices, sent).await;
    }

    /// Runs the bot core in the pool; the failure (logged) when it panicked or was too slow.
    async fn answer(&self, request: OwnedRequest) -> Result<Reply, CoreFailure> {
        let bot = self.bot.clone();
        self.core.run(move || bot.handle(request.as_request())).await
    }

    async fn on_command(&self, command: CommandInteraction) {
        let started = Instant::now();
        let (subcommand, sub_options) = convert::subcommand_options(&command.data.options);
        let invoker = Invoker {
            user_id: command.user.id.get(),
            guild_id: command.guild_id.map(GuildId::get),
            channel_id: command.channel_id.get(),
        };
        if let Some(help) = commands::help_channel_invocation(&command.data.name, subcommand, &sub_options, invoker) {
            let task = help.map(DeskTask::HelpChannel);
            let result =
                self.respond_reminder(&command.token, command.id, command.application_id, task, command.user.id).await;
            self.conclude(started, &result, command.application_id, &command.token, command.user.id).await;
            return;
        }
        if let Some(reminder) = commands::reminder_invocation(&command.data.name, subcommand, &sub_options, invoker) {
            let task = reminder_task(reminder).map(DeskTask::Reminder);
            let result =
                self.respond_reminder(&command.token, command.id, command.application_id, task, command.user.id).await;
            self.conclude(started, &result, command.application_id, &command.token, command.user.id).await;
            return;
        }
        let options = convert::options(&command.data.options);
        let (request, private) = if let Some(invocation) = commands::invocation(&command.data.name, &options) {
            (OwnedRequest::from_request(&invocation.request), invocation.private)
        } else {
            tracing::warn!(outcome = "unknown_command", "a command we do not know; answering with help");
            (OwnedRequest::Help, true)
        };
        let result = self.respond(&command.token, command.id, command.application_id, request, private).await;
        self.conclude(started, &result, command.application_id, &command.token, command.user.id).await;
    }

    async fn on_component(&self, component: ComponentInteraction) {
        let started = Instant::now();
        let request = match ButtonAction::parse(&component.data.custom_id) {
            Some(ButtonAction::Cause(id)) => OwnedRequest::Cause(id),
            Some(ButtonAction::Tips(kind)) => OwnedRequest::Tips(kind),
            Some(ButtonAction::Snooze(snooze)) => {
                let task = reminder_task(ReminderCommand::Snooze(snooze)).map(DeskTask::Reminder);
                let result = self
                    .respond_reminder(&component.token, component.id, component.application_id, task, component.user.id)
                    .await;
                self.conclude(started, &result, component.application_id, &component.token, component.user.id).await;
                return;
            }
            Some(ButtonAction::Followup { answers, text }) => {
                let result = self.on_followup(&component, answers, text).await;
                self.conclude(started, &result, component.application_id, &component.token, component.user.id).await;
                return;
            }
            None => OwnedRequest::Help,
        };
        // Button answers go to the clicker alone, so that clicks do not fill the channel.
        let result = self.respond(&component.token, component.id, component.application_id, request, true).await;
        self.conclude(started, &result, component.application_id, &component.token, component.user.id).await;
    }

    /// A follow-up answer: the reply is worked out again from the description and the answers
    /// in the button, and updated in place. The description is read again from the message the
    /// reply answers (a mention or DM), or carried in the button (a slash command's reply); only
    /// the person who asked may answer.
    async fn on_followup(
        &self,
        component: &ComponentInteraction,
        answers: crate::analyze::followups::Answers,
        text: Option<String>,
    ) -> Result<(), SendError> {
        let known = self.bot.catalogue().followups.len();
        let (asker, description) = match &text {
            Some(text) => {
                let asker = match component.message.interaction_metadata.as_deref() {
                    Some(serenity::all::MessageInteractionMetadata::Command(meta)) => Some(meta.user.id),
                    _ => None,
                };
                (asker, Some(text.clone()))
            }
            None => match (&component.message.referenced_message, self.me.get()) {
                (Some(original), Some(&me)) => {
                    (Some(original.author.id), Some(convert::strip_mentions(&original.content, me)))
                }
                _ => (None, None),
            },
        };
        let private = |words: &str| CreateInteractionResponse::Message(render::interaction_text(words));
        if asker.is_some_and(|asker| asker != component.user.id) {
            tracing::debug!(outcome = "not_the_asker", "a follow-up clicked by someone else");
            return self.outbox.interaction_response(component.id, &component.token, &private(NOT_THE_ASKER)).await;
        }
        let Some(description) = description.filter(|text| !text.trim().is_empty()) else {
            return self.outbox.interaction_response(component.id, &component.token, &private(ORIGINAL_GONE)).await;
        };
        if answers.iter().any(|(index, _)| index >= known) {
            return self.outbox.interaction_response(component.id, &component.token, &private(ORIGINAL_GONE)).await;
        }
        let bot = self.bot.clone();
        let reply = match self.core.run(move || bot.answer(&description, &answers).reply).await {
            Ok(reply) => reply,
            Err(failure) => {
                return self
                    .outbox
                    .interaction_response(component.id, &component.token, &private(failure_text(&failure)))
                    .await;
            }
        };
        let source = match &text {
            Some(text) => render::AskedIn::Text(text),
            None => render::AskedIn::Reference,
        };
        if let Some(update) = render::followup_update(&reply, source) {
            return self
                .outbox
                .interaction_response(component.id, &component.token, &CreateInteractionResponse::UpdateMessage(update))
                .await;
        }
        // Too long to update one message in place: the whole reply, to the asker alone.
        let answer = render::interaction_messages_asked(&reply, true, source);
        self.outbox
            .interaction_response(component.id, &component.token, &CreateInteractionResponse::Message(answer.first))
            .await?;
        self.follow_up_all(component.application_id, &component.token, &answer.followups).await
    }

    async fn on_autocomplete(&self, command: CommandInteraction) {
        let started = Instant::now();
        let mut response = CreateAutocompleteResponse::new();
        let focused = command.data.autocomplete();
        if command.data.name == "cause" {
            let partial = focused.map(|option| option.value.to_owned()).unwrap_or_default();
            for choice in self.bot.autocomplete_cause(commands::clip(&partial)).into_iter().take(MAX_CHOICES) {
                response = response.add_string_choice(
                    truncate_chars(&choice.name, MAX_CHOICE_CHARS),
                    truncate_chars(&choice.value, MAX_CHOICE_CHARS),
                );
            }
        } else if let Some(option) = focused.filter(|option| option.name == "timezone") {
            for zone in Reminders::<S>::zone_choices(commands::clip(option.value)).into_iter().take(MAX_CHOICES) {
                response = response.add_string_choice(zone, zone);
            }
        }
        let result = self
            .outbox
            .interaction_response(command.id, &command.token, &CreateInteractionResponse::Autocomplete(response))
            .await;
        finish(started, &result);
    }

    /// Answers a reminder or help-channel command (ephemeral text): directly when the store
    /// answers within `defer_after`, else deferred first.
    async fn respond_reminder(
        &self,
        token: &str,
        id: InteractionId,
        application: ApplicationId,
        task: Result<DeskTask, &'static str>,
        user: UserId,
    ) -> Result<(), SendError> {
        let answer_text = |text: &str| CreateInteractionResponse::Message(render::interaction_text(text));
        let task = match task {
            Ok(task) => task,
            Err(text) => return self.outbox.interaction_response(id, token, &answer_text(text)).await,
        };
        let Some(desk) = self.desk.clone() else {
            let text = match task {
                DeskTask::Reminder(_) => NO_REMINDERS,
                DeskTask::HelpChannel(_) => NO_DATABASE,
            };
            return self.outbox.interaction_response(id, token, &answer_text(text)).await;
        };
        let mut work = tokio::spawn(async move {
            let now = desk.clock.now();
            match run_desk_task(&desk, task, user.get(), now).await {
                Ok(text) => text,
                Err(err) => {
                    tracing::error!(error = %err, "reminder store failed");
                    APOLOGY.to_owned()
                }
            }
        });
        let text = |result: Result<String, tokio::task::JoinError>| {
            result.unwrap_or_else(|err| {
                tracing::error!(error = ?err, "a reminder command panicked");
                APOLOGY.to_owned()
            })
        };
        let ready = if self.defer_after.is_zero() {
            None
        } else {
            tokio::time::timeout(self.defer_after, &mut work).await.ok()
        };
        if let Some(result) = ready {
            self.outbox.interaction_response(id, token, &answer_text(&text(result))).await
        } else {
            let defer = CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new().ephemeral(true));
            self.outbox.interaction_response(id, token, &defer).await?;
            let edit = EditInteractionResponse::new()
                .content(render::fit(&text(work.await), render::limits::CONTENT))
                .allowed_mentions(render::no_mentions());
            self.outbox.edit_original(application, token, &edit).await
        }
    }

    /// Answers an interaction with the bot's reply: directly when it is ready in time, else
    /// deferred first. A not-found cause is shown to the user alone.
    async fn respond(
        &self,
        token: &str,
        id: InteractionId,
        application: ApplicationId,
        request: OwnedRequest,
        private: bool,
    ) -> Result<(), SendError> {
        let asked_text = match &request {
            OwnedRequest::Ask(text) => Some(text.clone()),
            _ => None,
        };
        let asked = asked_text.as_deref().map_or(render::AskedIn::Nowhere, render::AskedIn::Text);
        let bot = self.bot.clone();
        let core = self.core.clone();
        let mut task = tokio::spawn(async move { core.run(move || bot.handle(request.as_request())).await });
        let ready = if self.defer_after.is_zero() {
            None
        } else {
            tokio::time::timeout(self.defer_after, &mut task).await.ok()
        };
        if let Some(result) = ready {
            let answer = match result.unwrap_or(Err(CoreFailure::Panicked)) {
                Ok(reply) => {
                    render::interaction_messages_asked(&reply, private || reply.kind == ReplyKind::NotFound, asked)
                }
                Err(failure) => render::InteractionAnswer {
                    first: render::interaction_text(failure_text(&failure)),
                    followups: Vec::new(),
                },
            };
            self.outbox.interaction_response(id, token, &CreateInteractionResponse::Message(answer.first)).await?;
            self.follow_up_all(application, token, &answer.followups).await
        } else {
            // Whether a deferred answer is ephemeral is fixed now, before the reply exists, so a
            // not-found cause answered late is shown to the channel unless `private` was set.
            let defer = CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new().ephemeral(private));
            self.outbox.interaction_response(id, token, &defer).await?;
            let answer = match task.await.unwrap_or(Err(CoreFailure::Panicked)) {
                Ok(reply) => render::interaction_edit_asked(&reply, private, asked),
                Err(failure) => render::InteractionAnswer {
                    first: EditInteractionResponse::new()
                        .content(failure_text(&failure))
                        .allowed_mentions(render::no_mentions()),
                    followups: Vec::new(),
                },
            };
            self.outbox.edit_original(application, token, &answer.first).await?;
            self.follow_up_all(application, token, &answer.followups).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_users_notices_are_claimed_by_one_event_at_a_time() {
        let in_flight = NoticesInFlight::default();
        let first = in_flight.claim(7).expect("nobody holds user 7");
        // A second event is refused (and must not deadlock or release the first claim).
        assert!(in_flight.claim(7).is_none());
        assert!(in_flight.claim(7).is_none());
        assert!(in_flight.claim(8).is_some(), "another user is independent");
        drop(first);
        assert!(in_flight.claim(7).is_some(), "released when the claim is dropped");
    }

    #[tokio::test]
    async fn the_core_pool_answers_apologizes_when_late_and_never_exceeds_its_slots() {
        let pool = CorePool::with_slots(1, Duration::from_millis(50));
        assert_eq!(pool.run(|| 7).await.ok(), Some(7));
        // Work that cannot finish until released: it misses the deadline...
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let (finished, done) = std::sync::mpsc::channel::<()>();
        let late = pool
            .run(move || {
                let _ = wait.recv();
                let _ = finished.send(());
            })
            .await;
        assert!(matches!(late, Err(CoreFailure::TooSlow)));
        // ...and keeps its slot: other work waits for it, and misses its deadline too.
        assert!(matches!(pool.run(|| 8).await, Err(CoreFailure::TooSlow)));
        release.send(()).expect("the late work is waiting");
        done.recv().expect("the late work ends");
        assert_eq!(pool.run(|| 9).await.ok(), Some(9));
        // A panic is an apology too (with a deadline that printing its backtrace cannot miss).
        let patient = CorePool::with_slots(1, Duration::from_secs(600));
        assert!(matches!(patient.run(|| panic!("a bug")).await, Err(CoreFailure::Panicked)));
        assert_eq!(patient.run(|| 10).await.ok(), Some(10));
    }
}
