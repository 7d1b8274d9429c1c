//! Rows as both databases store them, and their strict decoding into the port's values. Each
//! backend reads its rows into these plain structs; the checks are shared.

use crate::reminders::schedule::Occurrence;
use crate::reminders::store::{
    Delivery, DeliveryKind, DeliveryState, GiveUp, PauseReason, StoreError, Subscription, Target, TargetKey, decode,
};

/// The subscription columns, in the order [`RawSubscription`] reads them.
pub(crate) const SUBSCRIPTION_COLUMNS: &str = "id, kind, user_id, guild_id, channel_id, role_id, local_time, zone, \
     silent, pause_reason, next_fire, next_local_date, snoozed_until, set_by, created_at, updated_at";

/// The delivery columns, in the order [`RawDelivery`] reads them.
pub(crate) const DELIVERY_COLUMNS: &str = "id, subscription_id, target_kind, target_id, kind, local_date, fire_at, \
     state, nonce, late, claimed_at, sent_at, attempts, reason";

/// A subscription row as stored, before validation.
#[derive(Debug, Clone)]
pub(crate) struct RawSubscription {
    pub(crate) id: i64,
    pub(crate) kind: String,
    pub(crate) user_id: Option<i64>,
    pub(crate) guild_id: Option<i64>,
    pub(crate) channel_id: Option<i64>,
    pub(crate) role_id: Option<i64>,
    pub(crate) local_time: String,
    pub(crate) zone: String,
    pub(crate) silent: bool,
    pub(crate) pause_reason: Option<String>,
    pub(crate) next_fire: i64,
    pub(crate) next_local_date: String,
    pub(crate) snoozed_until: Option<i64>,
    pub(crate) set_by: Option<i64>,
    pub(crate) created_at: i64,
    pub(crate) updated_at: i64,
}

impl RawSubscription {
    /// Decodes the row strictly: exactly the forms the stores write.
    pub(crate) fn validate(self) -> Result<Subscription, StoreError> {
        let target = match (self.kind.as_str(), self.user_id, self.guild_id, self.channel_id, self.role_id) {
            ("user", Some(user_id), None, None, None) => Target::User { user_id: decode::id("user_id", user_id)? },
            ("channel", None, Some(guild_id), Some(channel_id), role_id) => Target::Channel {
                guild_id: decode::id("guild_id", guild_id)?,
                channel_id: decode::id("channel_id", channel_id)?,
                role_id: role_id.map(|role| decode::id("role_id", role)).transpose()?,
            },
            _ => return Err(StoreError::Corrupt { column: "kind", value: self.kind }),
        };
        Ok(Subscription {
            id: self.id,
            target,
            local_time: decode::local_time("local_time", &self.local_time)?,
            zone: decode::zone("zone", self.zone)?,
            silent: self.silent,
            paused: self
                .pause_reason
                .map(|reason| decode::word("pause_reason", &reason, PauseReason::parse))
                .transpose()?,
            next: Occurrence {
                local_date: decode::date("next_local_date", &self.next_local_date)?,
                at: decode::timestamp("next_fire", self.next_fire)?,
            },
            snoozed_until: self.snoozed_until.map(|at| decode::timestamp("snoozed_until", at)).transpose()?,
            set_by: self.set_by.map(|user| decode::id("set_by", user)).transpose()?,
            created_at: decode::timestamp("created_at", self.created_at)?,
            updated_at: decode::timestamp("updated_at", self.updated_at)?,
        })
    }
}

/// A delivery row as stored, before validation.
#[derive(Debug, Clone)]
pub(crate) struct RawDelivery {
    pub(crate) id: i64,
    pub(crate) subscription_id: Option<i64>,
    pub(crate) target_kind: String,
    pub(crate) target_id: i64,
    pub(crate) kind: String,
    pub(crate) local_date: String,
    pub(crate) fire_at: i64,
    pub(crate) state: String,
    pub(crate) nonce: Option<String>,
    pub(crate) late: bool,
    pub(crate) claimed_at: i64,
    pub(crate) sent_at: Option<i64>,
    pub(crate) attempts: i64,
    pub(crate) reason: Option<String>,
}

impl RawDelivery {
    /// Decodes the row strictly.
    pub(crate) fn validate(self) -> Result<Delivery, StoreError> {
        let target_id = decode::id("target_id", self.target_id)?;
        let target = match self.target_kind.as_str() {
            "user" => TargetKey::User(target_id),
            "channel" => TargetKey::Channel(target_id),
            _ => return Err(StoreError::Corrupt { column: "target_kind", value: self.target_kind }),
        };
        Ok(Delivery {
            id: self.id,
            subscription_id: self.subscription_id,
            target,
            kind: decode::word("kind", &self.kind, DeliveryKind::parse)?,
            local_date: decode::date("local_date", &self.local_date)?,
            fire_at: decode::timestamp("fire_at", self.fire_at)?,
            state: decode::word("state", &self.state, DeliveryState::parse)?,
            nonce: self.nonce,
            late: self.late,
            claimed_at: decode::timestamp("claimed_at", self.claimed_at)?,
            sent_at: self.sent_at.map(|at| decode::timestamp("sent_at", at)).transpose()?,
            attempts: decode::count("attempts", self.attempts)?,
            reason: self.reason.map(|reason| decode::word("reason", &reason, GiveUp::parse)).transpose()?,
        })
    }
}

/// A Discord id as the databases store it (signed 64-bit).
pub(crate) fn id_to_sql(id: u64) -> Result<i64, StoreError> {
    i64::try_from(id).map_err(|_| StoreError::IdOutOfRange(id))
}

/// The stored `(kind, id)` of a target key.
pub(crate) fn key_to_sql(key: TargetKey) -> Result<(&'static str, i64), StoreError> {
    Ok(match key {
        TargetKey::User(user_id) => ("user", id_to_sql(user_id)?),
        TargetKey::Channel(channel_id) => ("channel", id_to_sql(channel_id)?),
    })
}

/// The stored target columns `(kind, user_id, guild_id, channel_id, role_id)`.
pub(crate) type TargetColumns = (&'static str, Option<i64>, Option<i64>, Option<i64>, Option<i64>);

/// The target columns of a target.
pub(crate) fn target_columns(target: &Target) -> Result<TargetColumns, StoreError> {
    Ok(match *target {
        Target::User { user_id } => ("user", Some(id_to_sql(user_id)?), None, None, None),
        Target::Channel { guild_id, channel_id, role_id } => (
            "channel",
            None,
            Some(id_to_sql(guild_id)?),
            Some(id_to_sql(channel_id)?),
            role_id.map(id_to_sql).transpose()?,
        ),
    })
}
