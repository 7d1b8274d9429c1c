//! Help channels: channels a server names where the bot answers every on-topic message without
//! being mentioned, at most once per person every [`COOLDOWN`], and stays quiet on anything else.
//!
//! This is the front-end-neutral part: which channels they are ([`HelpChannels`], kept in the
//! store and mirrored in memory, since every message in a server is checked against it), and
//! who may be answered now ([`Cooldown`]). What to answer is the bot core's analysis; an adapter
//! answers only replies that are on topic. Nothing here reads a clock: callers pass `now`.
//!
//! Reading messages that do not mention the bot needs Discord's privileged Message Content
//! intent; the Discord adapter asks for it only when `discord.message_content` is on, and says
//! so when help channels exist without it.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::{Duration, Instant};

use jiff::Timestamp;

use crate::store::{HelpChannelChange, HelpChannelStore, StoreError};

/// The most help channels one server may have.
pub const MAX_PER_SERVER: usize = 25;

/// How long after an answer in a help channel the same person gets no other.
pub const COOLDOWN: Duration = Duration::from_secs(10);

/// The help channels, from the store, with an in-memory copy for the per-message check.
pub struct HelpChannels<S> {
    store: Arc<S>,
    known: RwLock<HashSet<u64>>,
}

impl<S: HelpChannelStore> HelpChannels<S> {
    /// Loads every help channel from `store`.
    ///
    /// # Errors
    /// The store failed.
    pub fn load(store: Arc<S>) -> Result<HelpChannels<S>, StoreError> {
        let known = store.all_help_channels()?.into_iter().collect();
        Ok(HelpChannels { store, known: RwLock::new(known) })
    }

    /// Whether the bot answers in `channel_id` without a mention. Memory only: cheap enough for
    /// every message.
    pub fn contains(&self, channel_id: u64) -> bool {
        self.known.read().unwrap_or_else(PoisonError::into_inner).contains(&channel_id)
    }

    /// How many help channels there are, in all servers.
    pub fn len(&self) -> usize {
        self.known.read().unwrap_or_else(PoisonError::into_inner).len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `/helpchannel add`: makes `channel_id` of `guild_id` a help channel (at most
    /// [`MAX_PER_SERVER`] per server).
    ///
    /// # Errors
    /// The store failed.
    pub fn add(&self, guild_id: u64, channel_id: u64, now: Timestamp) -> Result<HelpChannelChange, StoreError> {
        let change = self.store.add_help_channel(guild_id, channel_id, MAX_PER_SERVER, now)?;
        if change == HelpChannelChange::Added {
            self.known.write().unwrap_or_else(PoisonError::into_inner).insert(channel_id);
        }
        Ok(change)
    }

    /// `/helpchannel remove`.
    ///
    /// # Errors
    /// The store failed.
    pub fn remove(&self, guild_id: u64, channel_id: u64) -> Result<HelpChannelChange, StoreError> {
        let change = self.store.remove_help_channel(guild_id, channel_id)?;
        if change == HelpChannelChange::Removed {
            self.known.write().unwrap_or_else(PoisonError::into_inner).remove(&channel_id);
        }
        Ok(change)
    }

    /// `/helpchannel list`: the help channels of one server.
    ///
    /// # Errors
    /// The store failed.
    pub fn list(&self, guild_id: u64) -> Result<Vec<u64>, StoreError> {
        self.store.help_channels(guild_id)
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
    use crate::store::SqliteStore;

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

    #[test]
    fn the_memory_follows_the_store() {
        let store = Arc::new(SqliteStore::open_in_memory().unwrap());
        let now = Timestamp::UNIX_EPOCH;
        store.add_help_channel(1, 10, MAX_PER_SERVER, now).unwrap();
        let channels = HelpChannels::load(Arc::clone(&store)).unwrap();
        assert!(channels.contains(10) && !channels.contains(11));
        assert_eq!(channels.add(1, 11, now).unwrap(), HelpChannelChange::Added);
        assert!(channels.contains(11));
        assert_eq!(channels.remove(1, 10).unwrap(), HelpChannelChange::Removed);
        assert!(!channels.contains(10));
        assert_eq!(channels.len(), 1);
        assert_eq!(HelpChannels::load(store).unwrap().list(1).unwrap(), vec![11], "kept in the store");
        for channel in 100..100 + MAX_PER_SERVER as u64 {
            let _ = channels.add(1, channel, now);
        }
        assert_eq!(channels.add(1, 999, now).unwrap(), HelpChannelChange::Full);
        assert!(!channels.contains(999));
    }
}
