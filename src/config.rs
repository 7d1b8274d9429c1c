//! Configuration: defaults, then the TOML file, then environment variables.
//!
//! The only module that reads the environment. The file is parsed into [`RawConfig`] (every field
//! optional, unknown keys refused), the environment is overlaid through a lookup closure (so tests
//! never touch the process environment), and [`Config::from_raw`] validates every value, naming
//! the key of any bad one. The token is kept in a [`Secret`] whose `Debug` never shows it.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Deserialize;

/// Why the configuration could not be loaded. Each message names the key or file at fault.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("cannot read config file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The config file is not valid TOML or has an unknown key.
    #[error("invalid config file {path}: {message}")]
    Parse {
        /// The file.
        path: String,
        /// What the parser said, with the line.
        message: String,
    },
    /// A value is out of range or malformed.
    #[error("invalid {key}: {message}")]
    Invalid {
        /// The key, as `section.name` or the environment variable.
        key: String,
        /// What is wrong.
        message: String,
    },
}

/// The config file as written: every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawConfig {
    /// `[discord]`
    #[serde(default)]
    pub discord: RawDiscord,
    /// `[knowledge]`
    #[serde(default)]
    pub knowledge: RawKnowledge,
    /// `[reminders]`
    #[serde(default)]
    pub reminders: RawReminders,
}

/// `[discord]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawDiscord {
    /// Bot token (better set through `DISCORD_TOKEN`).
    pub token: Option<String>,
    /// REST base to use instead of Discord's.
    pub api_base: Option<String>,
    /// Register commands to this guild only (instant, for development).
    pub guild_id: Option<u64>,
    /// Ask for the privileged Message Content intent (needed by help channels).
    pub message_content: Option<bool>,
}

/// `[knowledge]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawKnowledge {
    /// A catalogue folder to load instead of the built-in one.
    pub dir: Option<PathBuf>,
}

/// `[reminders]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawReminders {
    /// SQLite database file.
    pub database: Option<PathBuf>,
    /// How late a missed reminder may still be sent, in minutes.
    pub grace_minutes: Option<i64>,
}

/// A value that must never be printed, such as the bot token.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    /// The secret itself; call only where it is handed to the library that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Discord settings.
    pub discord: DiscordConfig,
    /// A catalogue folder, or `None` for the built-in catalogue.
    pub knowledge_dir: Option<PathBuf>,
    /// Reminder settings.
    pub reminders: RemindersConfig,
    /// The log filter (from `RUST_LOG`), with the libraries that could log message payloads
    /// capped at `warn`; see [`log_filter`].
    pub log_filter: String,
}

/// Validated `[discord]`.
#[derive(Debug, Clone)]
pub struct DiscordConfig {
    /// The bot token, if any.
    pub token: Option<Secret>,
    /// REST base replacing `https://discord.com`, without a trailing slash.
    pub api_base: Option<String>,
    /// Guild for instant command registration.
    pub guild_id: Option<u64>,
    /// Whether to ask Discord for the privileged Message Content intent, without which the bot
    /// cannot read messages that do not mention it (and so cannot serve help channels).
    pub message_content: bool,
}

/// Validated `[reminders]`.
#[derive(Debug, Clone)]
pub struct RemindersConfig {
    /// SQLite database file.
    pub database: PathBuf,
    /// How late a missed reminder may still be sent.
    pub grace: Duration,
}

/// The log filter when `RUST_LOG` is not set.
pub const DEFAULT_LOG_FILTER: &str = "info";

/// Libraries whose debug and trace events can carry request or gateway payloads, and so message
/// content: always capped at `warn`, whatever `RUST_LOG` asks.
const PAYLOAD_LOGGERS: [&str; 5] = ["serenity", "tungstenite", "tokio_tungstenite", "reqwest", "hyper"];

/// A `tracing` filter from `requested` (a `RUST_LOG` value) that keeps message content out of the
/// logs: directives for payload-logging libraries are dropped and replaced by `warn` caps.
pub fn log_filter(requested: Option<&str>) -> String {
    let requested = requested.map(str::trim).filter(|filter| !filter.is_empty()).unwrap_or(DEFAULT_LOG_FILTER);
    let mut directives: Vec<String> = requested
        .split(',')
        .map(str::trim)
        .filter(|directive| {
            !directive.is_empty() && !PAYLOAD_LOGGERS.iter().any(|library| directive.starts_with(library))
        })
        .map(str::to_owned)
        .collect();
    directives.extend(PAYLOAD_LOGGERS.iter().map(|library| format!("{library}=warn")));
    directives.join(",")
}

/// The default database file, relative to the working directory.
pub const DEFAULT_DATABASE: &str = "crampbot.sqlite3";

/// The default grace period for reminders missed during downtime, in minutes.
pub const DEFAULT_GRACE_MINUTES: i64 = 120;

impl Config {
    /// Loads the configuration from an optional file and the process environment.
    ///
    /// # Errors
    /// An unreadable or invalid file, or a bad value, naming its key.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let raw = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|source| ConfigError::Read { path: path.display().to_string(), source })?;
                RawConfig::parse(&text, &path.display().to_string())?
            }
            None => RawConfig::default(),
        };
        #[expect(clippy::disallowed_methods, reason = "config.rs is the one place that reads the environment")]
        let lookup = |name: &str| std::env::var(name).ok();
        Config::from_raw(raw, lookup)
    }

    /// Overlays the environment (through `env`) on `raw` and validates the result.
    ///
    /// # Errors
    /// The first bad value, naming its key.
    pub fn from_raw(mut raw: RawConfig, env: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        if let Some(token) = env("DISCORD_TOKEN") {
            raw.discord.token = Some(token);
        }
        if let Some(base) = env("DISCORD_API_BASE") {
            raw.discord.api_base = Some(base);
        }
        if let Some(guild) = env("CRAMPBOT_GUILD_ID") {
            raw.discord.guild_id = Some(guild.trim().parse().map_err(|_| ConfigError::Invalid {
                key: "CRAMPBOT_GUILD_ID".into(),
                message: format!("{guild:?} is not a Discord id (a positive whole number)"),
            })?);
        }
        if let Some(flag) = env("CRAMPBOT_MESSAGE_CONTENT") {
            raw.discord.message_content = Some(match flag.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => true,
                "false" | "0" | "no" | "off" | "" => false,
                _ => {
                    return Err(ConfigError::Invalid {
                        key: "CRAMPBOT_MESSAGE_CONTENT".into(),
                        message: format!("{flag:?} is not true or false"),
                    });
                }
            });
        }
        if let Some(dir) = env("CRAMPBOT_KNOWLEDGE") {
            raw.knowledge.dir = Some(PathBuf::from(dir));
        }
        if let Some(database) = env("CRAMPBOT_DATABASE") {
            raw.reminders.database = Some(PathBuf::from(database));
        }
        if let Some(grace) = env("CRAMPBOT_GRACE_MINUTES") {
            raw.reminders.grace_minutes = Some(grace.trim().parse().map_err(|_| ConfigError::Invalid {
                key: "CRAMPBOT_GRACE_MINUTES".into(),
                message: format!("{grace:?} is not a whole number of minutes"),
            })?);
        }

        let token = match raw.discord.token {
            Some(token) if token.trim().is_empty() => None,
            Some(token) => {
                if token.trim().chars().any(char::is_whitespace) {
                    return Err(ConfigError::Invalid {
                        key: "discord.token".into(),
                        message: "contains whitespace; paste the token alone".into(),
                    });
                }
                Some(Secret::new(token.trim()))
            }
            None => None,
        };
        let api_base = match raw.discord.api_base {
            Some(base) if base.trim().is_empty() => None,
            Some(base) => {
                let base = base.trim().trim_end_matches('/').to_owned();
                if !(base.starts_with("http://") || base.starts_with("https://")) {
                    return Err(ConfigError::Invalid {
                        key: "discord.api_base".into(),
                        message: format!("{base:?} is not an http(s) URL"),
                    });
                }
                Some(base)
            }
            None => None,
        };
        if raw.discord.guild_id == Some(0) {
            return Err(ConfigError::Invalid {
                key: "discord.guild_id".into(),
                message: "0 is not a Discord id".into(),
            });
        }
        let grace_minutes = raw.reminders.grace_minutes.unwrap_or(DEFAULT_GRACE_MINUTES);
        if !(0..=24 * 60).contains(&grace_minutes) {
            return Err(ConfigError::Invalid {
                key: "reminders.grace_minutes".into(),
                message: format!("{grace_minutes} is outside 0..=1440 (a day)"),
            });
        }
        let database = raw.reminders.database.unwrap_or_else(|| PathBuf::from(DEFAULT_DATABASE));
        if database.as_os_str().is_empty() {
            return Err(ConfigError::Invalid { key: "reminders.database".into(), message: "is empty".into() });
        }
        let requested_filter = env("RUST_LOG");
        if let Some(requested) = &requested_filter
            && let Err(err) = tracing_subscriber::EnvFilter::try_new(requested)
        {
            return Err(ConfigError::Invalid { key: "RUST_LOG".into(), message: format!("{requested:?}: {err}") });
        }
        Ok(Config {
            log_filter: log_filter(requested_filter.as_deref()),
            discord: DiscordConfig {
                token,
                api_base,
                guild_id: raw.discord.guild_id,
                message_content: raw.discord.message_content.unwrap_or(false),
            },
            knowledge_dir: raw.knowledge.dir,
            reminders: RemindersConfig {
                database,
                grace: Duration::from_secs(u64::try_from(grace_minutes).unwrap_or(0) * 60),
            },
        })
    }
}

impl RawConfig {
    /// Parses a config file's text; `name` is used in the error.
    ///
    /// # Errors
    /// Invalid TOML or an unknown key, with its line.
    pub fn parse(text: &str, name: &str) -> Result<RawConfig, ConfigError> {
        toml::from_str(text).map_err(|err| {
            let line = err.span().map(|span| text[..span.start.min(text.len())].matches('\n').count() + 1);
            ConfigError::Parse {
                path: name.to_owned(),
                message: match line {
                    Some(line) => format!("line {line}: {}", err.message().trim()),
                    None => err.message().trim().to_owned(),
                },
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::log_filter;

    #[test]
    fn payload_loggers_are_always_capped() {
        assert_eq!(
            log_filter(None),
            "info,serenity=warn,tungstenite=warn,tokio_tungstenite=warn,reqwest=warn,hyper=warn"
        );
        let filter = log_filter(Some("debug,serenity=trace,crampbot=trace,serenity::http=debug"));
        assert!(filter.starts_with("debug,crampbot=trace,serenity=warn"), "{filter}");
        assert!(!filter.contains("serenity=trace") && !filter.contains("serenity::http"), "{filter}");
    }
}
