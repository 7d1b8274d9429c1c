//! The help channels' store port: what they need from persistence, and the values that cross it.
//!
//! Like the reminders' port ([`crate::reminders::store`]), it belongs to the core that uses it:
//! `crate::store` implements it for `SQLite` and PostgreSQL and depends on this module, never the
//! other way round. Both ports live in one database, so they share its error,
//! [`StoreError`].
//!
//! Every write also moves a version number of the whole set ([`HelpChannelStore::help_channels_version`]),
//! in the same transaction. A process keeps the set in memory, since every message in a server is
//! checked against it, and reads the version now and then to learn, cheaply, whether another
//! process (several `crampbot run` on one PostgreSQL) changed it.
//!
//! Only ids and times cross this port: never message content or names.

use std::future::Future;

use jiff::Timestamp;

pub use crate::reminders::store::StoreError;

/// What [`HelpChannelStore::add_help_channel`] or [`HelpChannelStore::remove_help_channel`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HelpChannelChange {
    /// The channel is now a help channel.
    Added,
    /// It already was one.
    AlreadyAdded,
    /// The server already has the most help channels allowed.
    Full,
    /// The channel is no longer a help channel.
    Removed,
    /// It was not one (in that server).
    NotThere,
}

/// Every help channel of every server, as of one version of the set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct HelpChannelSet {
    /// The version the set was read at (see [`HelpChannelStore::help_channels_version`]).
    pub version: i64,
    /// The channels, in id order.
    pub channels: Vec<u64>,
}

/// The persistence help channels need: which channels of which server the bot answers in
/// without a mention. Kept apart from the reminders' port so that each part of the bot asks only
/// for what it uses.
///
/// Implementations: `crate::store::SqliteStore` and `crate::store::PgStore`.
pub trait HelpChannelStore: Send + Sync + 'static {
    /// Makes `channel_id` of `guild_id` a help channel, unless the server already has `max`.
    /// Concurrent adds (from several processes) never take a server past `max`.
    fn add_help_channel(
        &self,
        guild_id: u64,
        channel_id: u64,
        max: usize,
        now: Timestamp,
    ) -> impl Future<Output = Result<HelpChannelChange, StoreError>> + Send;

    /// Stops answering in `channel_id` of `guild_id`.
    fn remove_help_channel(
        &self,
        guild_id: u64,
        channel_id: u64,
    ) -> impl Future<Output = Result<HelpChannelChange, StoreError>> + Send;

    /// The help channels of one server, in the order they were added.
    fn help_channels(&self, guild_id: u64) -> impl Future<Output = Result<Vec<u64>, StoreError>> + Send;

    /// Every help channel of every server, with the version of the set they were read at (one
    /// consistent read).
    fn all_help_channels(&self) -> impl Future<Output = Result<HelpChannelSet, StoreError>> + Send;

    /// The version of the whole set: it changes with every add and remove that changed
    /// something, in the same transaction, and never goes back. One small read, for a process
    /// to check whether its copy is current.
    fn help_channels_version(&self) -> impl Future<Output = Result<i64, StoreError>> + Send;
}
