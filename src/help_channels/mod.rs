//! Help channels: channels a server names where the bot answers every on-topic message without
//! being mentioned, at most once per person every [`COOLDOWN`], and stays quiet on anything else.
//!
//! This is the front-end-neutral part: the store port ([`store::HelpChannelStore`]), which
//! channels they are ([`HelpChannels`], kept in the store and mirrored in memory, since every
//! message in a server is checked against it), and who may be answered now ([`Cooldown`]). What
//! to answer is the bot core's analysis; an adapter answers only replies that are on topic.
//! Nothing here reads a clock or spawns a task: callers pass `now`, and the adapter calls
//! [`HelpChannels::refresh`] on its own schedule.
//!
//! # The copy in memory
//!
//! A change made through [`HelpChannels::add`] or [`HelpChannels::remove`] shows in this
//! process's copy at once. A change made by another process (several `crampbot run` on one
//! PostgreSQL) shows after the next [`HelpChannels::refresh`], which reads one version number
//! and reloads the set only when it moved. Discord sends a server's messages and its
//! `/helpchannel` commands on that server's shard, which one process runs, so the process that
//! made a change is normally the one that needs it; the refresh covers the rest (two processes
//! briefly running one shard during a rolling restart, shards moved between processes, or an
//! operator's edit through the port).
//!
//! Reading messages that do not mention the bot needs Discord's privileged Message Content
//! intent; the Discord adapter asks for it only when `discord.message_content` is on, and says
//! so when help channels exist without it.

pub mod store;

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use jiff::Timestamp;

use self::store::{HelpChannelChange, HelpChannelSet, HelpChannelStore, StoreError};

/// The most help channels one server may have.
pub const MAX_PER_SERVER: usize = 25;

/// How long after an answer in a help channel the same person gets no other.
pub const COOLDOWN: Duration = Duration::from_secs(10);

/// How often an adapter should call [`HelpChannels::refresh`]: the longest a change made by
/// another process goes unseen. Each call is one read of a version number.
pub const REFRESH_EVERY: Duration = Duration::from_secs(5);

/// The help channels, from the store, with an in-memory copy for the per-message check.
pub struct HelpChannels<S> {
    store: Arc<S>,
    known: RwLock<Known>,
    /// Serializes this process's writes and refreshes, so a refresh that read the store before
    /// a local change cannot overwrite the copy after it.
    writes: tokio::sync::Mutex<()>,
}

/// The copy in memory, and the version of the set it was read at.
#[derive(Debug, Default)]
struct Known {
    version: i64,
    channels: HashSet<u64>,
}

impl From<HelpChannelSet> for Known {
    fn from(set: HelpChannelSet) -> Known {
        Known { version: set.version, channels: set.channels.into_iter().collect() }
    }
}

impl<S: HelpChannelStore> HelpChannels<S> {
    /// Loads every help channel from `store`.
    ///
    /// # Errors
    /// The store failed.
    pub async fn load(store: Arc<S>) -> Result<HelpChannels<S>, StoreError> {
        let known = store.all_help_channels().await?.into();
        Ok(HelpChannels { store, known: RwLock::new(known), writes: tokio::sync::Mutex::new(()) })
    }

    /// Whether the bot answers in `channel_id` without a mention. Memory only: cheap enough for
    /// every message.
    pub fn contains(&self, channel_id: u64) -> bool {
        self.known.read().unwrap_or_else(PoisonError::into_inner).channels.contains(&channel_id)
    }

    /// How many help channels there are, in all servers.
    pub fn len(&self) -> usize {
        self.known.read().unwrap_or_else(PoisonError::into_inner).channels.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Brings the copy in memory up to date with the store when another process changed it:
    /// reads the set's version, and the whole set only when the version moved. Whether it
    /// reloaded.
    ///
    /// # Errors
    /// The store failed; the copy stays as it was.
    pub async fn refresh(&self) -> Result<bool, StoreError> {
        let _writes = self.writes.lock().await;
        let version = self.store.help_channels_version().await?;
        if version == self.known.read().unwrap_or_else(PoisonError::into_inner).version {
            return Ok(false);
        }
        let set = self.store.all_help_channels().await?;
        *self.known.write().unwrap_or_else(PoisonError::into_inner) = set.into();
        Ok(true)
    }

    /// `/helpchannel add`: makes `channel_id` of `guild_id` a help channel (at most
    /// [`MAX_PER_SERVER`] per server).
    ///
    /// # Errors
    /// The store failed.
    pub async fn add(&self, guild_id: u64, channel_id: u64, now: Timestamp) -> Result<HelpChannelChange, StoreError> {
        let _writes = self.writes.lock().await;
        let change = self.store.add_help_channel(guild_id, channel_id, MAX_PER_SERVER, now).await?;
        if change == HelpChannelChange::Added {
            // The version in memory stays behind the store's, so the next refresh reloads the
            // set and picks up any other process's change made meanwhile.
            self.known.write().unwrap_or_else(PoisonError::into_inner).channels.insert(channel_id);
        }
        Ok(change)
    }

    /// `/helpchannel remove`.
    ///
    /// # Errors
    /// The store failed.
    pub async fn remove(&self, guild_id: u64, channel_id: u64) -> Result<HelpChannelChange, StoreError> {
        let _writes = self.writes.lock().await;
        let change = self.store.remove_help_channel(guild_id, channel_id).await?;
        if change == HelpChannelChange::Removed {
            self.known.write().unwrap_or_else(PoisonError::into_inner).channels.remove(&channel_id);
        }
        Ok(change)
    }

    /// `/helpchannel list`: the help channels of one server, read from the store (so another
    /// process's change shows at once).
    ///
    /// # Errors
    /// The store failed.
    pub async fn list(&self, guild_id: u64) -> Result<Vec<u64>, StoreError> {
        self.store.help_channels(guild_id).await
    }
}

/// At most one answer per person per `period`.
#[derive(Debug, Clone)]
pub struct Cooldown {
    period: Duration,
    last: HashMap<u64, Instant>,
    /// Prune expired entries when the map grows past this (amortized: doubles with what stays).
    prune_at: usize,
}

impl Cooldown {
    /// A cooldown of `period` per person.
    pub fn new(period: Duration) -> Cooldown {
        Cooldown { period, last: HashMap::new(), prune_at: 1024 }
    }

    /// Whether `user_id` may be answered at `now`; if so, the answer counts from `now`. Expired
    /// entries are dropped as the map grows, so memory stays with the people answered in the
    /// last period.
    pub fn try_take(&mut self, user_id: u64, now: Instant) -> bool {
        if self.last.len() >= self.prune_at {
            let period = self.period;
            self.last.retain(|_, at| now.saturating_duration_since(*at) < period);
            self.prune_at = (self.last.len() * 2).max(1024);
        }
        match self.last.get(&user_id) {
            Some(at) if now.saturating_duration_since(*at) < self.period => false,
            _ => {
                self.last.insert(user_id, now);
                true
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_answer_per_person_per_period() {
        let start = Instant::now();
        let mut cooldown = Cooldown::new(COOLDOWN);
        assert!(cooldown.try_take(1, start));
        assert!(!cooldown.try_take(1, start + Duration::from_secs(3)), "too soon");
        assert!(cooldown.try_take(2, start + Duration::from_secs(3)), "someone else");
        assert!(!cooldown.try_take(1, start + Duration::from_millis(9_999)));
        assert!(cooldown.try_take(1, start + COOLDOWN), "the period is over");
        assert!(!cooldown.try_take(1, start + COOLDOWN + Duration::from_secs(1)), "and counts from that answer");
    }

    #[test]
    fn old_entries_are_dropped() {
        let start = Instant::now();
        let mut cooldown = Cooldown::new(COOLDOWN);
        for user in 0..2000 {
            assert!(cooldown.try_take(user, start));
        }
        for user in 5000..5100 {
            assert!(cooldown.try_take(user, start + COOLDOWN));
        }
        assert_eq!(cooldown.last.len(), 100, "only the people of the last period are kept");
    }
}
