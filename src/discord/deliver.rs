//! The reminders' delivery port ([`Deliver`]) on the [`Outbox`]: a reminder is one more message
//! through the same sending layer, and Discord's error codes become [`DeliveryError`]s that the
//! scheduler acts on (pause on 50007, 10003 or 50013; retry the rest).

use std::num::NonZeroU64;

use serenity::model::id::{ChannelId, RoleId, UserId};

use super::outbox::{ErrorCode, Outbox, SendError};
use super::render;
use crate::reminders::scheduler::{Deliver, DeliveryError, Outgoing};
use crate::reminders::store::Target;

impl Deliver for Outbox {
    async fn deliver(&self, reminder: Outgoing) -> Result<(), DeliveryError> {
        let role = reminder.mention_role().and_then(NonZeroU64::new).map(RoleId::from);
        let message = render::reminder_message(&render::rich_text(&reminder.text), role, reminder.silent);
        let nonce = Some(reminder.nonce.clone());
        let result = match reminder.target {
            Target::User { user_id } => {
                let Some(user) = NonZeroU64::new(user_id) else { return Err(DeliveryError::DmRefused) };
                self.send_dm(UserId::from(user), message.components(render::snooze_buttons()), nonce).await
            }
            Target::Channel { channel_id, .. } => {
                let Some(channel) = NonZeroU64::new(channel_id) else { return Err(DeliveryError::ChannelGone) };
                self.create_message(ChannelId::from(channel), message, nonce).await
            }
        };
        let outcome = result.map_err(|err| delivery_error(&err));
        match &outcome {
            Ok(()) => tracing::info!(kind = "reminder", subscription = reminder.subscription_id, outcome = "sent"),
            Err(err) => {
                tracing::warn!(kind = "reminder", subscription = reminder.subscription_id, error = ?err, "not delivered");
            }
        }
        outcome
    }
}

/// What a failed send means for a reminder.
fn delivery_error(err: &SendError) -> DeliveryError {
    match err {
        SendError::Rejected { code: Some(ErrorCode::CannotMessageUser), .. } => DeliveryError::DmRefused,
        SendError::Rejected { code: Some(ErrorCode::UnknownChannel), .. } | SendError::Rejected { status: 404, .. } => {
            DeliveryError::ChannelGone
        }
        SendError::Rejected { code: Some(ErrorCode::MissingPermissions | ErrorCode::MissingAccess), .. } => {
            DeliveryError::MissingPermission
        }
        other => DeliveryError::Transient { reason: other.to_string() },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discord::outbox::Failure;

    #[test]
    fn discord_errors_map_to_what_the_scheduler_acts_on() {
        let rejected = |status, code| SendError::Rejected { status, code: Some(ErrorCode::from_number(code)) };
        assert_eq!(delivery_error(&rejected(403, 50_007)), DeliveryError::DmRefused);
        assert_eq!(delivery_error(&rejected(404, 10_003)), DeliveryError::ChannelGone);
        assert_eq!(delivery_error(&SendError::Rejected { status: 404, code: None }), DeliveryError::ChannelGone);
        assert_eq!(delivery_error(&rejected(403, 50_013)), DeliveryError::MissingPermission);
        assert_eq!(delivery_error(&rejected(403, 50_001)), DeliveryError::MissingPermission);
        let gave_up = SendError::GaveUp { attempts: 4, last: Failure::Status(503) };
        assert!(matches!(delivery_error(&gave_up), DeliveryError::Transient { .. }));
    }
}
