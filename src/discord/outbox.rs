//! The sending layer: every message, interaction response and command registration the bot makes
//! goes through [`Outbox::send`], so retries, error codes and logging live in one place.
//!
//! - 429 is retried after its `retry_after` (body or header), 500/502/503/504 and transport
//!   errors after an exponential backoff; attempts and total time are bounded by [`SendRetry`].
//! - Any other 4xx is final and comes back as [`SendError::Rejected`] with Discord's JSON error
//!   code mapped to [`ErrorCode`], so callers (the reminders) can act on 50007, 10003 or 50013.
//! - A retry can never post twice: channel messages carry a nonce with `enforce_nonce`, and an
//!   interaction callback answered "already acknowledged" (40060) after a retry counts as done.
//!
//! The outbox sends through its own `reqwest` client (the one serenity already builds) because
//! serenity turns a 429 into an error without its `retry_after`, and its own rate limiter is off
//! when a custom API base is set (`discord.api_base`): rate limiting is then the proxy's job, and
//! these retries are what is left of it. It also paces its requests to Discord's global limit
//! (`discord.requests_per_second`, 50 by default); interaction answers are exempt, as Discord
//! exempts them, so a burst of reminders never delays an answer past its 3-second deadline. Requests go to the same URLs serenity would use, with
//! `https://discord.com` replaced by the configured base.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use serde::Serialize;
use serenity::builder::{
    CreateCommand, CreateInteractionResponse, CreateInteractionResponseFollowup, CreateMessage, EditInteractionResponse,
};
use serenity::http::{LightMethod, Request, Route};
use serenity::model::id::{ApplicationId, ChannelId, GuildId, InteractionId, UserId};
use tokio::time::Instant;

use crate::config::Secret;

/// How hard the outbox tries one HTTP request before giving up (its own retries, inside each of
/// the reminder scheduler's hand-overs: `reminders::scheduler::RedeliveryPolicy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SendRetry {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The wait before the first retry of a 5xx; doubled for each further retry.
    pub base_delay: Duration,
    /// The longest single wait, whatever `retry_after` says.
    pub max_delay: Duration,
    /// The longest time from the first attempt to the last; a wait that would end later is not
    /// started.
    pub max_total: Duration,
    /// How long one HTTP request may take.
    pub request_timeout: Duration,
}

impl Default for SendRetry {
    fn default() -> SendRetry {
        SendRetry {
            max_attempts: 4,
            base_delay: Duration::from_millis(250),
            max_delay: Duration::from_secs(5),
            max_total: Duration::from_secs(12),
            request_timeout: Duration::from_secs(10),
        }
    }
}

/// Discord JSON error codes the bot acts on; the rest keep their number.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorCode {
    /// 10003: the channel is gone.
    UnknownChannel,
    /// 10008: the message is gone (a reply to a deleted message).
    UnknownMessage,
    /// 10062: the interaction token expired or was never valid.
    UnknownInteraction,
    /// 40060: the interaction was already acknowledged.
    AlreadyAcknowledged,
    /// 50001: the bot cannot see the channel.
    MissingAccess,
    /// 50007: the user's DMs are closed to the bot; do not retry this user.
    CannotMessageUser,
    /// 50013: the bot lacks a permission in that channel; an admin must fix it.
    MissingPermissions,
    /// Any other code.
    Other(i64),
}

impl ErrorCode {
    /// The code for Discord's number.
    pub fn from_number(code: i64) -> ErrorCode {
        match code {
            10_003 => ErrorCode::UnknownChannel,
            10_008 => ErrorCode::UnknownMessage,
            10_062 => ErrorCode::UnknownInteraction,
            40_060 => ErrorCode::AlreadyAcknowledged,
            50_001 => ErrorCode::MissingAccess,
            50_007 => ErrorCode::CannotMessageUser,
            50_013 => ErrorCode::MissingPermissions,
            other => ErrorCode::Other(other),
        }
    }

    /// Discord's number for the code.
    pub fn number(self) -> i64 {
        match self {
            ErrorCode::UnknownChannel => 10_003,
            ErrorCode::UnknownMessage => 10_008,
            ErrorCode::UnknownInteraction => 10_062,
            ErrorCode::AlreadyAcknowledged => 40_060,
            ErrorCode::MissingAccess => 50_001,
            ErrorCode::CannotMessageUser => 50_007,
            ErrorCode::MissingPermissions => 50_013,
            ErrorCode::Other(code) => code,
        }
    }
}

/// Why a send failed. Operator text: log it with `{:?}`, never show it to users.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Discord refused the request (a 4xx other than 429); it was not retried.
    #[error("discord refused the request: http {status}, code {}", code.map_or_else(|| "none".to_owned(), |c| c.number().to_string()))]
    Rejected {
        /// The HTTP status.
        status: u16,
        /// Discord's JSON error code, when the body had one.
        code: Option<ErrorCode>,
    },
    /// Still failing after every allowed attempt (429, 5xx or no connection).
    #[error("gave up after {attempts} attempt(s): {last}")]
    GaveUp {
        /// How many attempts were made.
        attempts: u32,
        /// The last failure.
        last: Failure,
    },
    /// The request could not be built (a bad token or URL); retrying would not help.
    #[error("cannot build the request: {0}")]
    Build(String),
    /// Discord answered success with a body that is not what was expected.
    #[error("unexpected response body: {0}")]
    Decode(String),
}

impl SendError {
    /// Discord's error code, for a rejected request.
    pub fn code(&self) -> Option<ErrorCode> {
        match self {
            SendError::Rejected { code, .. } => *code,
            _ => None,
        }
    }
}

/// One failed attempt that may be retried.
#[derive(Debug, Clone, PartialEq)]
pub enum Failure {
    /// 429, with the wait Discord asked for.
    RateLimited {
        /// Seconds to wait, from the body or the `Retry-After` header.
        retry_after: f64,
    },
    /// A 5xx status.
    Status(u16),
    /// No response: connection refused, reset or timed out.
    Transport(String),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::RateLimited { retry_after } => {
                write!(f, "rate limited (retry after {retry_after}s)")
            }
            Failure::Status(status) => write!(f, "http {status}"),
            Failure::Transport(message) => write!(f, "transport: {message}"),
        }
    }
}

/// The one way out to Discord's REST API. Cheap to clone.
#[derive(Clone)]
pub struct Outbox {
    client: reqwest::Client,
    /// `Bot <token>`, as sent in `Authorization`.
    authorization: Secret,
    /// Replaces `https://discord.com` in every URL, when set.
    api_base: Option<String>,
    policy: SendRetry,
    pacer: Option<Arc<Pacer>>,
}

/// Spaces requests evenly: one slot every `interval`, shared by every clone of the outbox.
#[derive(Debug)]
struct Pacer {
    interval: Duration,
    next: Mutex<Instant>,
}

impl Pacer {
    /// Waits for this request's slot.
    async fn wait(&self) {
        let slot = {
            let mut next = self.next.lock().unwrap_or_else(PoisonError::into_inner);
            let now = Instant::now();
            let slot = (*next).max(now);
            *next = slot + self.interval;
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

/// Whether a request is an interaction answer, which Discord's global rate limit does not count.
fn is_interaction_answer(what: &str) -> bool {
    matches!(what, "interaction_response" | "edit_original_response" | "followup")
}

impl fmt::Debug for Outbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbox").field("api_base", &self.api_base).field("policy", &self.policy).finish_non_exhaustive()
    }
}

#[derive(serde::Deserialize)]
struct ErrorBody {
    code: Option<i64>,
    retry_after: Option<f64>,
}

impl Outbox {
    /// An outbox for `token`, sending to `api_base` instead of `https://discord.com` when set.
    ///
    /// # Errors
    /// The HTTP client cannot be built (no TLS backend).
    pub fn new(token: &Secret, api_base: Option<&str>, policy: SendRetry) -> Result<Outbox, SendError> {
        let client = reqwest::Client::builder()
            .timeout(policy.request_timeout)
            .build()
            .map_err(|err| SendError::Build(format!("{err:?}")))?;
        let token = token.expose().trim();
        let authorization =
            if token.starts_with("Bot ") { Secret::new(token) } else { Secret::new(format!("Bot {token}")) };
        Ok(Outbox {
            client,
            authorization,
            api_base: api_base.map(|base| base.trim_end_matches('/').to_owned()),
            policy,
            pacer: None,
        })
    }

    /// Paces every request but interaction answers to at most `per_second` a second (shared by
    /// the clones made after this call); `None` does not pace.
    #[must_use]
    pub fn paced(mut self, per_second: Option<u32>) -> Outbox {
        self.pacer = per_second
            .filter(|rate| *rate > 0)
            .map(|rate| Arc::new(Pacer { interval: Duration::from_secs(1) / rate, next: Mutex::new(Instant::now()) }));
        self
    }

    /// The retry policy in force.
    pub fn policy(&self) -> SendRetry {
        self.policy
    }

    /// Sends one request with the retry policy and returns the response body. `what` names the
    /// request in logs (never its content).
    ///
    /// # Errors
    /// See [`SendError`]; a 40060 "already acknowledged" after a retry is a success.
    pub async fn send(
        &self,
        what: &'static str,
        route: Route<'_>,
        method: LightMethod,
        body: Option<&(impl Serialize + ?Sized)>,
    ) -> Result<Vec<u8>, SendError> {
        let body = body.map(serde_json::to_vec).transpose().map_err(|err| SendError::Build(format!("{err:?}")))?;
        let started = Instant::now();
        let mut attempt = 0;
        loop {
            attempt += 1;
            if let Some(pacer) = &self.pacer
                && !is_interaction_answer(what)
            {
                pacer.wait().await;
            }
            let request = Request::new(route, method).body(body.clone());
            let request = request
                .build(&self.client, self.authorization.expose(), self.api_base.as_deref())
                .map_err(|err| SendError::Build(format!("{err:?}")))?
                .build()
                .map_err(|err| SendError::Build(format!("{err:?}")))?;
            let failure = match self.client.execute(request).await {
                Err(err) => Failure::Transport(if err.is_timeout() {
                    "timed out".to_owned()
                } else {
                    "no connection".to_owned()
                }),
                Ok(response) => {
                    let status = response.status().as_u16();
                    let retry_header = response
                        .headers()
                        .get("retry-after")
                        .and_then(|value| value.to_str().ok())
                        .and_then(|value| value.trim().parse::<f64>().ok());
                    // A body cut short is treated as empty: the status decides.
                    let bytes = response.bytes().await.map(|bytes| bytes.to_vec()).unwrap_or_default();
                    if (200..300).contains(&status) {
                        if attempt > 1 {
                            tracing::info!(what, attempt, "delivered after retry");
                        }
                        return Ok(bytes);
                    }
                    let parsed: Option<ErrorBody> = serde_json::from_slice(&bytes).ok();
                    match status {
                        429 => Failure::RateLimited {
                            retry_after: parsed.as_ref().and_then(|b| b.retry_after).or(retry_header).unwrap_or(1.0),
                        },
                        500 | 502 | 503 | 504 => Failure::Status(status),
                        _ => {
                            let code = parsed.and_then(|b| b.code).map(ErrorCode::from_number);
                            if attempt > 1 && code == Some(ErrorCode::AlreadyAcknowledged) {
                                // An earlier attempt reached Discord although its answer did not reach us.
                                tracing::info!(what, attempt, "already acknowledged by an earlier attempt");
                                return Ok(Vec::new());
                            }
                            tracing::warn!(
                                what,
                                status,
                                code = code.map(ErrorCode::number),
                                "discord refused the request"
                            );
                            return Err(SendError::Rejected { status, code });
                        }
                    }
                }
            };
            let wait = match &failure {
                Failure::RateLimited { retry_after } => {
                    Duration::try_from_secs_f64(retry_after.max(0.0)).unwrap_or(self.policy.max_delay)
                }
                Failure::Status(_) | Failure::Transport(_) => {
                    self.policy.base_delay.saturating_mul(1 << (attempt - 1).min(16))
                }
            }
            .min(self.policy.max_delay);
            let out_of_time = started.elapsed() + wait > self.policy.max_total;
            if attempt >= self.policy.max_attempts || out_of_time {
                tracing::warn!(what, attempt, failure = %failure, "giving up");
                return Err(SendError::GaveUp { attempts: attempt, last: failure });
            }
            tracing::warn!(what, attempt, failure = %failure, wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX), "retrying");
            tokio::time::sleep(wait).await;
        }
    }

    /// Posts a message to a channel. A nonce with `enforce_nonce` makes a retried post land once;
    /// pass one derived from what is being answered (at most 25 characters).
    ///
    /// # Errors
    /// See [`Outbox::send`].
    pub async fn create_message(
        &self,
        channel: ChannelId,
        message: CreateMessage,
        nonce: Option<String>,
    ) -> Result<(), SendError> {
        let message = match nonce {
            Some(nonce) => message.nonce(serenity::model::channel::Nonce::String(nonce)).enforce_nonce(true),
            None => message,
        };
        self.send("create_message", Route::ChannelMessages { channel_id: channel }, LightMethod::Post, Some(&message))
            .await?;
        Ok(())
    }

    /// Opens (or finds) the DM channel with a user; reminders send there.
    ///
    /// # Errors
    /// See [`Outbox::send`].
    pub async fn dm_channel(&self, user: UserId) -> Result<ChannelId, SendError> {
        #[derive(Serialize)]
        struct Recipient {
            recipient_id: UserId,
        }
        #[derive(serde::Deserialize)]
        struct Channel {
            id: ChannelId,
        }
        let body = self
            .send("create_dm", Route::UserMeDmChannels, LightMethod::Post, Some(&Recipient { recipient_id: user }))
            .await?;
        let channel: Channel = serde_json::from_slice(&body).map_err(|err| SendError::Decode(format!("{err}")))?;
        Ok(channel.id)
    }

    /// Sends a DM: opens the channel, then posts. A closed DM comes back as
    /// [`ErrorCode::CannotMessageUser`].
    ///
    /// # Errors
    /// See [`Outbox::send`].
    pub async fn send_dm(&self, user: UserId, message: CreateMessage, nonce: Option<String>) -> Result<(), SendError> {
        let channel = self.dm_channel(user).await?;
        self.create_message(channel, message, nonce).await
    }

    /// Answers an interaction (message, deferral or autocomplete choices).
    ///
    /// # Errors
    /// See [`Outbox::send`].
    pub async fn interaction_response(
        &self,
        interaction: InteractionId,
        token: &str,
        response: &CreateInteractionResponse,
    ) -> Result<(), SendError> {
        let route = Route::InteractionResponse { interaction_id: interaction, token };
        self.send("interaction_response", route, LightMethod::Post, Some(response)).await?;
        Ok(())
    }

    /// Fills in a deferred interaction response.
    ///
    /// # Errors
    /// See [`Outbox::send`].
    pub async fn edit_original(
        &self,
        application: ApplicationId,
        token: &str,
        edit: &EditInteractionResponse,
    ) -> Result<(), SendError> {
        let route = Route::WebhookOriginalInteractionResponse { application_id: application, token };
        self.send("edit_original_response", route, LightMethod::Patch, Some(edit)).await?;
        Ok(())
    }

    /// Sends a follow-up message to an answered interaction (the user's notices).
    ///
    /// # Errors
    /// See [`Outbox::send`].
    pub async fn followup(
        &self,
        application: ApplicationId,
        token: &str,
        message: &CreateInteractionResponseFollowup,
    ) -> Result<(), SendError> {
        let route = Route::WebhookFollowupMessages { application_id: application, token };
        self.send("followup", route, LightMethod::Post, Some(message)).await?;
        Ok(())
    }

    /// Replaces the application's commands (bulk overwrite, idempotent): in one guild, or global.
    ///
    /// # Errors
    /// See [`Outbox::send`].
    pub async fn set_commands(
        &self,
        application: ApplicationId,
        guild: Option<GuildId>,
        commands: &[CreateCommand],
    ) -> Result<(), SendError> {
        let route = match guild {
            Some(guild_id) => Route::GuildCommands { application_id: application, guild_id },
            None => Route::Commands { application_id: application },
        };
        self.send("set_commands", route, LightMethod::Put, Some(commands)).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_codes_round_trip() {
        for number in [10_003, 10_008, 10_062, 40_060, 50_001, 50_007, 50_013, 12_345] {
            assert_eq!(ErrorCode::from_number(number).number(), number);
        }
        assert_eq!(ErrorCode::from_number(50_007), ErrorCode::CannotMessageUser);
    }

    #[test]
    fn the_token_never_shows_in_debug() {
        let outbox = Outbox::new(&Secret::new("very-secret"), None, SendRetry::default()).unwrap();
        assert!(!format!("{outbox:?}").contains("very-secret"));
    }
}
