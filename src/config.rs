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
    /// The bot's total shard count, or `"auto"` for Discord's recommendation.
    pub shards: Option<ShardsValue>,
    /// The shards this process runs, such as `"0-3"`.
    pub shard_range: Option<String>,
    /// Pacing of REST requests (not interaction answers) per second; 0 turns it off.
    pub requests_per_second: Option<u32>,
}

/// `discord.shards` as written: a number or `"auto"`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum ShardsValue {
    /// A total.
    Count(i64),
    /// A word (only `auto` is valid).
    Word(String),
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
    /// SQLite database file, or a `postgres://` URL.
    pub database: Option<String>,
    /// How late a missed reminder may still be sent, in minutes.
    pub grace_minutes: Option<i64>,
    /// Most PostgreSQL connections per process.
    pub pool_size: Option<i64>,
    /// How long a claimed reminder stays reserved for its scheduler, in seconds.
    pub lease_seconds: Option<i64>,
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
    /// How many shards the bot has, and which this process runs.
    pub shards: Shards,
    /// REST requests per second the outbox paces itself to (interaction answers are exempt, as
    /// Discord exempts them); `None` sends as fast as Discord answers.
    pub requests_per_second: Option<u32>,
}

/// The bot's shards: the total, and the range this process runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shards {
    /// The total: fixed, or Discord's recommendation (`GET /gateway/bot`).
    pub total: ShardTotal,
    /// The first and last shard this process runs (inclusive); `None` runs them all.
    pub range: Option<(u32, u32)>,
}

impl Default for Shards {
    fn default() -> Shards {
        Shards { total: ShardTotal::Fixed(1), range: None }
    }
}

/// `discord.shards`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ShardTotal {
    /// This many.
    Fixed(u32),
    /// As many as Discord recommends.
    Auto,
}

/// Where the reminders are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// An SQLite file (the default).
    Sqlite(PathBuf),
    /// A PostgreSQL server: the connection URL, which may hold a password.
    Postgres(Secret),
}

/// Validated `[reminders]`.
#[derive(Debug, Clone)]
pub struct RemindersConfig {
    /// The database.
    pub database: Database,
    /// How late a missed reminder may still be sent.
    pub grace: Duration,
    /// Most PostgreSQL connections per process.
    pub pool_size: usize,
    /// How long a claim stays reserved for its scheduler.
    pub lease: Duration,
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

/// The default PostgreSQL pool size per process.
pub const DEFAULT_POOL_SIZE: i64 = 8;

/// The default claim lease, in seconds.
pub const DEFAULT_LEASE_SECONDS: i64 = 30;

/// Discord's global REST limit, which the outbox paces itself to by default.
pub const DEFAULT_REQUESTS_PER_SECOND: u32 = 50;

fn invalid(key: &str, message: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key: key.to_owned(), message: message.into() }
}

/// Validates `discord.shards` and `discord.shard_range`.
fn shards(total: Option<ShardsValue>, range: Option<&str>) -> Result<Shards, ConfigError> {
    let total = match total {
        None => ShardTotal::Fixed(1),
        Some(ShardsValue::Word(word)) if word.eq_ignore_ascii_case("auto") => ShardTotal::Auto,
        Some(ShardsValue::Count(count)) if (1..=i64::from(u16::MAX)).contains(&count) => {
            ShardTotal::Fixed(u32::try_from(count).unwrap_or(1))
        }
        Some(other) => {
            return Err(invalid(
                "discord.shards",
                format!("{other:?} is neither a shard count (1 or more) nor \"auto\""),
            ));
        }
    };
    let range = range.map(|text| parse_range("discord.shard_range", text)).transpose()?;
    if let (ShardTotal::Fixed(total), Some((_, last))) = (total, range)
        && last >= total
    {
        return Err(invalid(
            "discord.shard_range",
            format!("shard {last} does not exist: discord.shards is {total} (shards are numbered from 0)"),
        ));
    }
    Ok(Shards { total, range })
}

/// Parses `discord.shard_range`: `"3"` or `"0-3"` (inclusive).
fn parse_range(key: &str, text: &str) -> Result<(u32, u32), ConfigError> {
    let bad = || invalid(key, format!("{text:?} is not a shard range like 0-3 (first-last, inclusive)"));
    let (first, last) = text.trim().split_once('-').unwrap_or((text.trim(), text.trim()));
    let first: u32 = first.trim().parse().map_err(|_| bad())?;
    let last: u32 = last.trim().parse().map_err(|_| bad())?;
    if first > last {
        return Err(bad());
    }
    Ok((first, last))
}

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
        overlay(&mut raw, &env)?;
        Config::validate(raw, &env)
    }

    fn validate(raw: RawConfig, env: &impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
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
        let database = raw.reminders.database.unwrap_or_else(|| DEFAULT_DATABASE.to_owned());
        let database = if database.trim().is_empty() {
            return Err(invalid("reminders.database", "is empty"));
        } else if database.starts_with("postgres://") || database.starts_with("postgresql://") {
            if database.parse::<tokio_postgres::Config>().is_err() {
                // The URL may hold a password: the message does not repeat it.
                return Err(invalid("reminders.database", "is not a valid postgres:// URL"));
            }
            Database::Postgres(Secret::new(database))
        } else if database.contains("://") {
            return Err(invalid(
                "reminders.database",
                "only SQLite files and postgres:// URLs are supported (a URL scheme other than postgres:// was given)",
            ));
        } else {
            Database::Sqlite(PathBuf::from(database))
        };
        let pool_size = raw.reminders.pool_size.unwrap_or(DEFAULT_POOL_SIZE);
        if !(1..=64).contains(&pool_size) {
            return Err(invalid("reminders.pool_size", format!("{pool_size} is outside 1..=64")));
        }
        let lease_seconds = raw.reminders.lease_seconds.unwrap_or(DEFAULT_LEASE_SECONDS);
        if !(1..=90).contains(&lease_seconds) {
            return Err(invalid(
                "reminders.lease_seconds",
                format!("{lease_seconds} is outside 1..=90 (it must end well inside Discord's nonce window)"),
            ));
        }
        let shards = shards(raw.discord.shards, raw.discord.shard_range.as_deref())?;
        let requests_per_second = match raw.discord.requests_per_second {
            None => Some(DEFAULT_REQUESTS_PER_SECOND),
            Some(0) => None,
            Some(rate) => Some(rate),
        };
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
                shards,
                requests_per_second,
            },
            knowledge_dir: raw.knowledge.dir,
            reminders: RemindersConfig {
                database,
                grace: Duration::from_secs(u64::try_from(grace_minutes).unwrap_or(0) * 60),
                pool_size: usize::try_from(pool_size).unwrap_or(1),
                lease: Duration::from_secs(u64::try_from(lease_seconds).unwrap_or(1)),
            },
        })
    }
}

/// Overlays the environment variables on the file's values.
fn overlay(raw: &mut RawConfig, env: &impl Fn(&str) -> Option<String>) -> Result<(), ConfigError> {
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
            _ => return Err(invalid("CRAMPBOT_MESSAGE_CONTENT", format!("{flag:?} is not true or false"))),
        });
    }
    if let Some(dir) = env("CRAMPBOT_KNOWLEDGE") {
        raw.knowledge.dir = Some(PathBuf::from(dir));
    }
    if let Some(database) = env("CRAMPBOT_DATABASE") {
        raw.reminders.database = Some(database);
    }
    if let Some(shards) = env("CRAMPBOT_SHARDS") {
        raw.discord.shards = Some(match shards.trim().parse::<i64>() {
            Ok(count) => ShardsValue::Count(count),
            Err(_) => ShardsValue::Word(shards.trim().to_owned()),
        });
    }
    if let Some(range) = env("CRAMPBOT_SHARD_RANGE") {
        raw.discord.shard_range = Some(range);
    }
    if let Some(rate) = env("CRAMPBOT_REQUESTS_PER_SECOND") {
        raw.discord.requests_per_second = Some(rate.trim().parse().map_err(|_| {
            invalid("CRAMPBOT_REQUESTS_PER_SECOND", format!("{rate:?} is not a whole number (0 turns pacing off)"))
        })?);
    }
    for (name, slot) in [
        ("CRAMPBOT_POOL_SIZE", &mut raw.reminders.pool_size),
        ("CRAMPBOT_LEASE_SECONDS", &mut raw.reminders.lease_seconds),
    ] {
        if let Some(value) = env(name) {
            *slot = Some(value.trim().parse().map_err(|_| invalid(name, format!("{value:?} is not a whole number")))?);
        }
    }
    if let Some(grace) = env("CRAMPBOT_GRACE_MINUTES") {
        raw.reminders.grace_minutes = Some(grace.trim().parse().map_err(|_| ConfigError::Invalid {
            key: "CRAMPBOT_GRACE_MINUTES".into(),
            message: format!("{grace:?} is not a whole number of minutes"),
        })?);
    }
    Ok(())
}

impl RawConfig {
    /// Parses a config file's text; `name` is used in the error.
    ///
    /// # Errors
    /// Invalid TOML or an unknown key, with its line.
    pub fn parse(text: &str, name: &str) -> Result<RawConfig, ConfigError> {
        toml::from_str(text).map_err(|err| {
            let line =
                err.span().map(|span| text.as_bytes()[..span.start.min(text.len())].split(|&b| b == b'\n').count());
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
    use super::*;

    fn with(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let vars: Vec<(String, String)> = vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect();
        Config::from_raw(RawConfig::default(), move |name| {
            vars.iter().find(|(key, _)| key == name).map(|(_, value)| value.clone())
        })
    }

    #[test]
    fn the_database_is_a_file_or_a_postgres_url() {
        assert_eq!(with(&[]).unwrap().reminders.database, Database::Sqlite(PathBuf::from(DEFAULT_DATABASE)));
        let url = "postgres://bot:hunter2@127.0.0.1:5432/crampbot";
        let config = with(&[("CRAMPBOT_DATABASE", url)]).unwrap();
        assert_eq!(config.reminders.database, Database::Postgres(Secret::new(url)));
        assert!(!format!("{config:?}").contains("hunter2"), "the password is never printed");
        let err = with(&[("CRAMPBOT_DATABASE", "mysql://x")]).unwrap_err().to_string();
        assert!(err.contains("reminders.database"), "{err}");
        let err = with(&[("CRAMPBOT_DATABASE", "postgres://bot:hunter2@host:notaport/db")]).unwrap_err().to_string();
        assert!(err.contains("reminders.database") && !err.contains("hunter2"), "{err}");
    }

    #[test]
    fn shards_are_a_count_or_auto_and_the_range_fits() {
        let config = with(&[("CRAMPBOT_SHARDS", "8"), ("CRAMPBOT_SHARD_RANGE", "4-7")]).unwrap();
        assert_eq!(config.discord.shards, Shards { total: ShardTotal::Fixed(8), range: Some((4, 7)) });
        let auto = with(&[("CRAMPBOT_SHARDS", "auto"), ("CRAMPBOT_SHARD_RANGE", "0")]).unwrap();
        assert_eq!(auto.discord.shards, Shards { total: ShardTotal::Auto, range: Some((0, 0)) });
        for (vars, key) in [
            (&[("CRAMPBOT_SHARDS", "0")][..], "discord.shards"),
            (&[("CRAMPBOT_SHARDS", "many")][..], "discord.shards"),
            (&[("CRAMPBOT_SHARDS", "4"), ("CRAMPBOT_SHARD_RANGE", "2-4")][..], "discord.shard_range"),
            (&[("CRAMPBOT_SHARD_RANGE", "3-1")][..], "discord.shard_range"),
            (&[("CRAMPBOT_LEASE_SECONDS", "600")][..], "reminders.lease_seconds"),
            (&[("CRAMPBOT_POOL_SIZE", "0")][..], "reminders.pool_size"),
        ] {
            let err = with(vars).unwrap_err().to_string();
            assert!(err.contains(key), "{vars:?}: {err}");
        }
        let file = RawConfig::parse("[discord]\nshards = \"auto\"\nshard_range = \"0-3\"\n", "test").unwrap();
        let config = Config::from_raw(file, |_| None).unwrap();
        assert_eq!(config.discord.shards, Shards { total: ShardTotal::Auto, range: Some((0, 3)) });
    }

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
