//! The Discord adapter over serenity: the only module that names `serenity`.
//!
//! - [`run`] connects with the token and answers until `shutdown` completes.
//! - `handler` turns gateway events into requests for the bot core.
//! - [`commands`] defines the slash commands (a list that is easy to extend).
//! - [`render`] turns a [`crate::reply::Reply`] into embeds and buttons within Discord's limits.
//! - [`outbox`] is the one way out: retries, error codes, logging.
//! - [`convert`] holds the pure serenity-to-core conversions.
//! - [`watchdog`] restarts a shard that has gone silent (no event, no heartbeat ACK).
//! - The [`outbox::Outbox`] implements the reminders' delivery port
//!   ([`crate::reminders::scheduler::Deliver`]), mapping Discord's error codes.
//!
//! # Reminders
//!
//! With [`RunOptions::reminders`] set, [`run_with`] also runs the reminder [`Scheduler`] over that
//! store (any [`ReminderStore`]: the adapter never names a database), sending through the same
//! outbox, beside the gateway; both stop together. The `/remind`, `/hydration` and `/forget`
//! commands and the snooze button work on the store, and every interaction (and DM) also shows the
//! user's pending notices, such as "your DM reminder was paused", as an ephemeral follow-up; a
//! notice is removed only once that message was sent. Guild mentions leave notices queued, since
//! they could only be shown in public. Reminder texts arrive structured and are rendered here:
//! times as Discord timestamps, channels and roles as mentions.
//!
//! # Shards
//!
//! `discord.shards` and `discord.shard_range` choose the shards this process runs
//! ([`ShardPlan`]). Only the process with shard 0 registers the commands and answers DMs, which
//! Discord sends on shard 0; a server's messages (help channels' included) and interactions come
//! on that server's shard and are answered by whichever process runs it. Processes log in one
//! after another (see [`RunOptions::login_spacing`]); the [`watchdog`] restarts a silent shard of
//! the range by its own id, within the login budget, which grows with the shards run.
//!
//! # Help channels
//!
//! With a store, the help channels are loaded at start-up and kept in memory for the
//! per-message check; every [`RunOptions::help_refresh`] the copy is checked against the store's
//! version of the set, so a change made by another process on the same database shows here too.
//!
//! # Custom API base
//!
//! When `discord.api_base` (or `DISCORD_API_BASE`) is set, every REST call goes to that base
//! instead of `https://discord.com` (serenity's `HttpBuilder::proxy`, which replaces that prefix
//! in each URL), and the gateway is whatever `GET {base}/api/v10/gateway` returns. serenity's rate
//! limiter is then off: rate limiting is the proxy's job, and the outbox only retries 429s.

pub mod commands;
pub mod convert;
mod deliver;
mod handler;
pub mod help_channels;
pub mod logins;
pub mod outbox;
pub mod render;
pub mod watchdog;

pub use handler::{NOT_THE_ASKER, ORIGINAL_GONE};

use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use serenity::all::{ClientBuilder, GatewayError, GatewayIntents, GuildId, HttpBuilder};
use serenity::http::{LightMethod, Route};

use crate::bot::Bot;
use crate::clock::Clock;
use crate::config::{DiscordConfig, Secret, ShardTotal};
use crate::help_channels::store::{HelpChannelStore, StoreError};
use crate::reminders::scheduler::MAX_SENDS_PER_REMINDER;
use crate::reminders::store::ReminderStore;
use crate::reminders::{Reminders, Scheduler, SchedulerOptions, Wakeup};
use crate::store::AnyStore;
use outbox::{Outbox, SendError, SendRetry};

/// What to tell an operator who has no token.
pub const NO_TOKEN_HELP: &str = "no Discord token: create an application at https://discord.com/developers/applications, \
open Bot, press Reset Token, and set DISCORD_TOKEN (or `discord.token` in the config file). \
Invite it with the `bot` and `applications.commands` scopes. To try the bot without Discord, run `crampbot chat`";

/// Why the bot stopped; each message says what the operator can do.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// No token in the environment or the config file.
    #[error("{NO_TOKEN_HELP}")]
    NoToken,
    /// Discord closed the gateway with 4004: the token is wrong or was reset.
    #[error(
        "Discord rejected the token (gateway close 4004): copy a fresh one from the Developer Portal (Bot, Reset Token)"
    )]
    InvalidToken,
    /// Discord closed the gateway with 4013 or 4014.
    #[error(
        "Discord refused the gateway intents (close 4013/4014): this bot needs GUILDS, GUILD_MESSAGES and DIRECT_MESSAGES, which are not privileged, and MESSAGE_CONTENT only when discord.message_content is true; then turn on Message Content Intent on the Bot page of the Developer Portal (Discord must approve it for a bot in 100 or more servers), or set discord.message_content = false"
    )]
    Intents,
    /// The configured API base did not answer `GET /api/v10/gateway`. serenity would fall back
    /// to Discord's own gateway with the token, so the bot stops instead.
    #[error("the API base {base} does not answer GET /api/v10/gateway: {source}")]
    ApiBase {
        /// The configured base.
        base: String,
        /// What went wrong.
        source: SendError,
    },
    /// The HTTP client could not be built.
    #[error("cannot set up HTTP: {0}")]
    Http(#[from] SendError),
    /// The database could not be read at start-up.
    #[error("cannot read the database: {0}")]
    Database(StoreError),
    /// The outbox's and the scheduler's retries together allow too many requests per reminder.
    #[error(
        "the retries allow {requests} HTTP requests per reminder ({hand_overs} hand-overs of {per_hand_over} attempts); at most {MAX_SENDS_PER_REMINDER} are allowed"
    )]
    TooManyRetries {
        /// Hand-overs times attempts.
        requests: u32,
        /// The scheduler's hand-overs.
        hand_overs: u32,
        /// The outbox's attempts per hand-over.
        per_hand_over: u32,
    },
    /// `GET /gateway/bot` failed, so the shard count or login limits are unknown.
    #[error("cannot read the shard count and login limits (GET /gateway/bot): {0}")]
    GatewayBot(SendError),
    /// The configured shard range does not fit the shard count Discord recommends.
    #[error("discord.shard_range ends at shard {last}, but the bot has {total} shard(s) (numbered from 0)")]
    ShardRange {
        /// The last shard of the range.
        last: u32,
        /// The total.
        total: u32,
    },
    /// The client kept failing; restarting more would risk Discord's 1,000 logins a day.
    #[error("the Discord client failed {restarts} times in a row; last error: {last}")]
    GaveUp {
        /// How many restarts were tried.
        restarts: u32,
        /// The last error, for the operator.
        last: String,
    },
}

/// Tunables of [`run_with`]; the defaults suit production, tests shorten them.
#[derive(Debug, Clone)]
pub struct RunOptions<S = AnyStore> {
    /// Retries of the outbox, per HTTP request.
    pub retry: SendRetry,
    /// How long an interaction's answer may take before the interaction is deferred; zero
    /// always defers.
    pub defer_after: Duration,
    /// Restarts of the client after a non-fatal failure before giving up.
    pub max_restarts: u32,
    /// The first wait before a restart; doubled each time, up to [`RunOptions::max_restart_wait`].
    pub restart_wait: Duration,
    /// The longest wait before a restart.
    pub max_restart_wait: Duration,
    /// Gateway logins (READY) allowed per [`RunOptions::login_window`] before the bot closes
    /// the gateway and waits (see [`logins::LoginBudget`]).
    pub max_logins: usize,
    /// The window of [`RunOptions::max_logins`].
    pub login_window: Duration,
    /// The gateway's heartbeat interval, as Discord's HELLO gives it (41.25 s); the watchdog
    /// restarts a shard with no event or heartbeat ACK for twice this plus
    /// [`RunOptions::watchdog_margin`] (see [`watchdog`]).
    pub heartbeat_interval: Duration,
    /// The watchdog's margin over two heartbeat intervals; more than serenity's own recovery
    /// (about 10 s), so the watchdog acts only where serenity would stay silent.
    pub watchdog_margin: Duration,
    /// How long after an answer in a help channel the same person gets no other.
    pub help_cooldown: Duration,
    /// How often the help channels are checked against the store, so that a change made by
    /// another process on the same database shows here within this long (one read of a version
    /// number each time; see [`crate::help_channels::HelpChannels::refresh`]).
    pub help_refresh: Duration,
    /// The reminders to run beside the gateway; `None` answers the reminder commands with
    /// [`NO_REMINDERS`] and runs no scheduler.
    pub reminders: Option<RemindersSetup<S>>,
    /// The wait between two shards' logins (Discord asks for 5 s per `max_concurrency` bucket);
    /// a process whose first shard is `n` waits `n` times this before its first login, so
    /// processes started together log in one after another.
    pub login_spacing: Duration,
}

/// What users read when the bot runs without a reminder store.
pub const NO_REMINDERS: &str = "Reminders are not set up on this bot.";

/// The reminder store and clock for [`run_with`].
pub struct RemindersSetup<S> {
    /// The store, opened (and migrated) by the caller.
    pub store: Arc<S>,
    /// The clock the scheduler and the commands read: [`crate::clock::SystemClock`] in
    /// production, a [`crate::clock::ManualClock`] in tests.
    pub clock: Arc<dyn Clock>,
    /// Scheduler settings ([`SchedulerOptions::from_config`]).
    pub scheduler: SchedulerOptions,
}

impl<S> Clone for RemindersSetup<S> {
    fn clone(&self) -> RemindersSetup<S> {
        RemindersSetup { store: Arc::clone(&self.store), clock: Arc::clone(&self.clock), scheduler: self.scheduler }
    }
}

impl<S> fmt::Debug for RemindersSetup<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RemindersSetup").field("scheduler", &self.scheduler).finish_non_exhaustive()
    }
}

impl<S> Default for RunOptions<S> {
    fn default() -> RunOptions<S> {
        RunOptions {
            retry: SendRetry::default(),
            defer_after: Duration::from_millis(1500),
            max_restarts: 8,
            restart_wait: Duration::from_secs(5),
            max_restart_wait: Duration::from_secs(300),
            // 30 an hour is at most 720 a day, under Discord's 1,000.
            max_logins: 30,
            login_window: Duration::from_secs(3600),
            heartbeat_interval: Duration::from_millis(41_250),
            watchdog_margin: Duration::from_secs(15),
            help_cooldown: crate::help_channels::COOLDOWN,
            help_refresh: crate::help_channels::REFRESH_EVERY,
            reminders: None,
            login_spacing: Duration::from_secs(5),
        }
    }
}

/// The gateway intents. Without `message_content` none is privileged: Discord still sends the
/// content of DMs and of messages that mention the bot, which is all it reads then. Help
/// channels need the rest of a channel's messages, so `discord.message_content = true` adds the
/// privileged Message Content intent, which the application must have in the Developer Portal.
pub fn intents(message_content: bool) -> GatewayIntents {
    let intents = GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGES | GatewayIntents::DIRECT_MESSAGES;
    if message_content { intents | GatewayIntents::MESSAGE_CONTENT } else { intents }
}

/// Runs the bot with the default [`RunOptions`] until `shutdown` completes or a fatal error.
///
/// # Errors
/// See [`RunError`].
pub async fn run(config: &DiscordConfig, bot: Bot, shutdown: impl Future<Output = ()> + Send) -> Result<(), RunError> {
    run_with(config, bot, RunOptions::<AnyStore>::default(), shutdown).await
}

/// The shards this process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ShardPlan {
    /// The bot's shard count.
    pub total: u32,
    /// The first shard this process runs.
    pub first: u32,
    /// The last shard this process runs (inclusive).
    pub last: u32,
    /// Logins Discord still allows today (`session_start_limit.remaining`), when asked.
    pub remaining: Option<u32>,
    /// Milliseconds until that count resets.
    pub reset_after_ms: u64,
}

impl ShardPlan {
    /// How many shards this process runs.
    pub fn count(&self) -> u32 {
        self.last - self.first + 1
    }

    /// How long this process waits before its first login, to keep logins within Discord's
    /// limits: processes started together log in one after another (`spacing` times the first
    /// shard; a process's own shards are spaced by serenity's queue), and when Discord said at
    /// start-up that fewer logins are left today than this process needs, until they reset.
    /// Later logins (a restart, or a client rebuilt by the watchdog) are this process's alone and
    /// are paced by the restart back-off and the login budget instead.
    pub fn first_login_wait(&self, spacing: Duration) -> Duration {
        let stagger = spacing.saturating_mul(self.first);
        if self.remaining.is_some_and(|remaining| remaining < self.count()) {
            let reset = Duration::from_millis(self.reset_after_ms);
            tracing::warn!(wait_s = reset.as_secs(), "Discord allows too few logins today; waiting for the reset");
            return stagger.max(reset);
        }
        stagger
    }
}

/// `GET /gateway/bot`, the parts the bot uses.
#[derive(Debug, serde::Deserialize)]
struct GatewayBot {
    shards: u32,
    session_start_limit: SessionStartLimit,
}

#[derive(Debug, serde::Deserialize)]
struct SessionStartLimit {
    remaining: u32,
    reset_after: u64,
}

/// Works out the shards to run: a single shard needs no question to Discord; a sharded bot (or
/// `auto`) reads `GET /gateway/bot` for the recommended count and the logins left today.
async fn shard_plan(config: &DiscordConfig, outbox: &Outbox) -> Result<ShardPlan, RunError> {
    let single = config.shards.total == ShardTotal::Fixed(1) && config.shards.range.is_none();
    if single {
        return Ok(ShardPlan { total: 1, first: 0, last: 0, remaining: None, reset_after_ms: 0 });
    }
    let body = outbox
        .send("get_gateway_bot", Route::GatewayBot, LightMethod::Get, None::<&()>)
        .await
        .map_err(RunError::GatewayBot)?;
    let info: GatewayBot =
        serde_json::from_slice(&body).map_err(|err| RunError::GatewayBot(SendError::Decode(err.to_string())))?;
    let total = match config.shards.total {
        ShardTotal::Fixed(total) => total,
        ShardTotal::Auto => info.shards.max(1),
    };
    let (first, last) = config.shards.range.unwrap_or((0, total - 1));
    if last >= total {
        return Err(RunError::ShardRange { last, total });
    }
    Ok(ShardPlan {
        total,
        first,
        last,
        remaining: Some(info.session_start_limit.remaining),
        reset_after_ms: info.session_start_limit.reset_after,
    })
}

/// Runs the bot until `shutdown` completes (then closes the gateway cleanly and returns `Ok`), or
/// until a fatal error: a bad token, refused intents, or a client that keeps failing (restarted
/// with a growing wait, since every restart is a login and Discord resets the token after 1,000
/// logins a day). More than [`RunOptions::max_logins`] logins in [`RunOptions::login_window`]
/// (serenity re-identifying in a loop) close the gateway until the window allows another.
///
/// # Errors
/// See [`RunError`].
pub async fn run_with<S: ReminderStore + HelpChannelStore>(
    config: &DiscordConfig,
    bot: Bot,
    options: RunOptions<S>,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), RunError> {
    let Some(token) = config.token.as_ref() else {
        return Err(RunError::NoToken);
    };
    if let Some(setup) = &options.reminders {
        let (hand_overs, per_hand_over) = (setup.scheduler.redelivery.max_attempts, options.retry.max_attempts);
        if !setup.scheduler.redelivery.within_bound(per_hand_over) {
            return Err(RunError::TooManyRetries {
                requests: hand_overs.saturating_mul(per_hand_over),
                hand_overs,
                per_hand_over,
            });
        }
    }
    let outbox = Outbox::new(token, config.api_base.as_deref(), options.retry)?.paced(config.requests_per_second);
    if let Some(base) = config.api_base.as_deref() {
        outbox
            .send("get_gateway", Route::Gateway, LightMethod::Get, None::<&()>)
            .await
            .map_err(|source| RunError::ApiBase { base: base.to_owned(), source })?;
    }
    let plan = shard_plan(config, &outbox).await?;
    if plan.total > 1 {
        tracing::info!(total = plan.total, first = plan.first, last = plan.last, "running a range of shards");
    }
    let (pauses, pause_requests) = tokio::sync::mpsc::unbounded_channel();
    let (desk, scheduler, refresh) = match options.reminders.clone() {
        Some(setup) => {
            let wakeup = Wakeup::new();
            let reminders = Reminders::new(Arc::clone(&setup.store), wakeup.clone());
            let help =
                help_channels::HelpDesk::load(Arc::clone(&setup.store), config.message_content, options.help_cooldown)
                    .await
                    .map_err(RunError::Database)?;
            let scheduler = Scheduler::new(
                setup.store,
                Arc::new(outbox.clone()),
                Arc::new(Arc::clone(&setup.clock)),
                bot.catalogue().hydration_tips.clone(),
                setup.scheduler,
                wakeup,
            );
            if help.len() > 0 && !config.message_content {
                tracing::warn!(
                    help_channels = help.len(),
                    "help channels are set, but the Message Content intent is off (discord.message_content = false), \
                     so the bot cannot read messages there and stays quiet in them. Turn on Message Content Intent on \
                     the Bot page of the Discord Developer Portal and set discord.message_content = true \
                     (CRAMPBOT_MESSAGE_CONTENT=true); a bot in 100 or more servers needs Discord's approval first"
                );
            }
            let help = Arc::new(help);
            // Dropped when this run ends.
            let refresh = AbortOnDrop(tokio::spawn(refresh_help_channels(Arc::clone(&help), options.help_refresh)));
            (Some(handler::Desk { reminders, help, clock: setup.clock }), Some(scheduler), Some(refresh))
        }
        None => (None, None, None),
    };
    // Every shard's READY is a login: the budget grows with the shards this process runs.
    let budget = options.max_logins.saturating_mul(usize::try_from(plan.count()).unwrap_or(1));
    let handler = handler::Handler::new(
        bot,
        outbox,
        config.guild_id.map(GuildId::new),
        options.defer_after,
        logins::LoginBudget::new(budget, options.login_window),
        pauses,
        desk,
        plan.first == 0,
    );
    let (stop_scheduler, scheduler_stopped) = tokio::sync::oneshot::channel::<()>();
    let scheduler = scheduler.map(|scheduler| {
        tokio::spawn(scheduler.run(async {
            let _ = scheduler_stopped.await;
        }))
    });
    let result = gateway(config, token, &options, &handler, pause_requests, plan, shutdown).await;
    drop(refresh);
    let _ = stop_scheduler.send(());
    if let Some(scheduler) = scheduler {
        match scheduler.await {
            Ok(Ok(())) => tracing::info!("reminder scheduler stopped"),
            Ok(Err(err)) => tracing::error!(error = %err, "the reminder scheduler could not start"),
            Err(err) => tracing::error!(error = ?err, "the reminder scheduler panicked"),
        }
    }
    result
}

/// Keeps the help channels in memory in step with the store until aborted: every `every`, one
/// read of the set's version, and a reload when another process changed it.
async fn refresh_help_channels<S: HelpChannelStore>(help: Arc<help_channels::HelpDesk<S>>, every: Duration) {
    let mut ticker = tokio::time::interval(every.max(Duration::from_millis(10)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    // The first tick completes at once, and the desk was loaded a moment ago.
    ticker.tick().await;
    loop {
        ticker.tick().await;
        match help.refresh().await {
            Ok(true) => tracing::debug!(help_channels = help.len(), "help channels changed in the database; reloaded"),
            Ok(false) => {}
            Err(err) => tracing::warn!(error = %err, "cannot check the help channels; keeping the copy in memory"),
        }
    }
}

/// The gateway part of [`run_with`]: connects, restarts, pauses, until shutdown or a fatal error.
async fn gateway<S: ReminderStore + HelpChannelStore>(
    config: &DiscordConfig,
    token: &Secret,
    options: &RunOptions<S>,
    handler: &Arc<handler::Handler<S>>,
    mut pause_requests: tokio::sync::mpsc::UnboundedReceiver<Duration>,
    plan: ShardPlan,
    shutdown: impl Future<Output = ()> + Send,
) -> Result<(), RunError> {
    tokio::pin!(shutdown);
    let mut restarts = 0;
    let mut wait = options.restart_wait;
    let mut first_login = true;
    loop {
        // A restart, or a rebuild the watchdog asked for, logs in at once: the restart back-off
        // and the login budget pace those.
        let before_login = if first_login { plan.first_login_wait(options.login_spacing) } else { Duration::ZERO };
        first_login = false;
        if !before_login.is_zero() {
            tracing::info!(
                wait_ms = u64::try_from(before_login.as_millis()).unwrap_or(u64::MAX),
                "waiting for this process's login slot"
            );
            tokio::select! {
                () = tokio::time::sleep(before_login) => {}
                () = &mut shutdown => return Ok(()),
            }
        }
        let builder =
            ClientBuilder::new_with_http(http(token, config.api_base.as_deref()), intents(config.message_content))
                .event_handler_arc(Arc::clone(handler));
        let failure = tokio::select! {
            client = builder => match client {
                Ok(mut client) => {
                    let manager = client.shard_manager.clone();
                    let (pulse, logins, pauses) = handler.watchdog_links();
                    let watchdog = watchdog::Watchdog::new(options.heartbeat_interval, options.watchdog_margin);
                    // Dropped with this client: each client has its own watchdog.
                    let _watchdog = AbortOnDrop(tokio::spawn(watchdog::watch(
                        manager.clone(),
                        pulse,
                        watchdog,
                        logins,
                        pauses,
                    )));
                    // serenity reads this range's end as inclusive.
                    let start = client.start_shard_range(plan.first..plan.last, plan.total);
                    tokio::pin!(start);
                    tokio::select! {
                        result = &mut start => match result {
                            Ok(()) => return Ok(()),
                            Err(err) => Stopped::Failed(err),
                        },
                        Some(pause) = pause_requests.recv() => {
                            manager.shutdown_all().await;
                            let _ = tokio::time::timeout(Duration::from_secs(5), start).await;
                            Stopped::Pause(pause)
                        }
                        () = &mut shutdown => {
                            tracing::info!("shutting down");
                            manager.shutdown_all().await;
                            let _ = tokio::time::timeout(Duration::from_secs(5), start).await;
                            return Ok(());
                        }
                    }
                }
                Err(err) => Stopped::Failed(err),
            },
            () = &mut shutdown => return Ok(()),
        };
        let failure = match failure {
            Stopped::Pause(pause) if pause.is_zero() => {
                tracing::info!("starting a new Discord client");
                continue;
            }
            Stopped::Pause(pause) => {
                tracing::warn!(
                    pause_s = pause.as_secs(),
                    max_logins = options.max_logins,
                    "too many gateway logins; the gateway stays closed for a while"
                );
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    () = &mut shutdown => return Ok(()),
                }
                continue;
            }
            Stopped::Failed(err) => err,
        };
        match failure {
            serenity::Error::Gateway(GatewayError::InvalidAuthentication) => {
                return Err(RunError::InvalidToken);
            }
            serenity::Error::Gateway(GatewayError::InvalidGatewayIntents | GatewayError::DisallowedGatewayIntents) => {
                return Err(RunError::Intents);
            }
            other => {
                restarts += 1;
                if restarts > options.max_restarts {
                    return Err(RunError::GaveUp { restarts: restarts - 1, last: format!("{other:?}") });
                }
                tracing::warn!(error = ?other, restarts, wait_s = wait.as_secs_f64(), "the Discord client stopped; restarting after a wait");
                tokio::select! {
                    () = tokio::time::sleep(wait) => {}
                    () = &mut shutdown => return Ok(()),
                }
                wait = (wait * 2).min(options.max_restart_wait);
            }
        }
    }
}

/// Aborts a task when dropped.
struct AbortOnDrop(tokio::task::JoinHandle<()>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Why one client stopped.
enum Stopped {
    /// serenity returned an error.
    Failed(serenity::Error),
    /// Too many logins: stay away this long.
    Pause(Duration),
}

/// serenity's HTTP client: Discord's, or the configured base with serenity's rate limiter off
/// (calling `ClientBuilder::token` after this would drop the base, so the client is built from it).
fn http(token: &Secret, api_base: Option<&str>) -> serenity::http::Http {
    let builder = HttpBuilder::new(token.expose());
    match api_base {
        Some(base) => builder.proxy(base).ratelimiter_disabled(true).build(),
        None => builder.build(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_login_waits_for_its_place_or_the_daily_reset() {
        let spacing = Duration::from_secs(5);
        let plan = ShardPlan { total: 8, first: 4, last: 7, remaining: Some(999), reset_after_ms: 0 };
        assert_eq!(plan.first_login_wait(spacing), Duration::from_secs(20), "four places after shard 0");
        let first = ShardPlan { first: 0, last: 3, ..plan };
        assert_eq!(first.first_login_wait(spacing), Duration::ZERO);
        let spent = ShardPlan { remaining: Some(3), reset_after_ms: 60_000, ..plan };
        assert_eq!(spent.first_login_wait(spacing), Duration::from_secs(60), "3 logins left for 4 shards");
    }
}
