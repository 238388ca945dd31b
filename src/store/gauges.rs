//! Counts for monitoring: the outbox by status, the timers due, the steps applied.

use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use super::entity::{audit_event, outbox, protocol, timer};
use super::{OutboxStatus, ProtocolRow, Store, StoreError, TimerStatus};

/// What `/metrics` reports about the database.
#[derive(Debug, Clone, Copy, Default)]
pub struct Gauges {
    /// Messages waiting to be sent.
    pub outbox_pending: u64,
    /// Messages that could not be delivered.
    pub outbox_failed: u64,
    /// Messages delivered.
    pub outbox_sent: u64,
    /// Timers due now and not yet fired.
    pub timers_due: u64,
    /// Timers whose step failed, set aside until an administrator retries them.
    pub timers_failed: u64,
    /// Workflow steps applied (audit entries of instances).
    pub steps_applied: u64,
}

impl Store {
    /// The counts, as of `now`.
    pub async fn gauges(&self, now: DateTime<Utc>) -> Result<Gauges, StoreError> {
        let messages = |status: OutboxStatus| {
            outbox::Entity::find()
                .filter(outbox::Column::Status.eq(status))
                .count(self.db())
        };
        Ok(Gauges {
            outbox_pending: messages(OutboxStatus::Pending).await?,
            outbox_failed: messages(OutboxStatus::Failed).await?,
            outbox_sent: messages(OutboxStatus::Sent).await?,
            timers_due: timer::Entity::find()
                .filter(timer::Column::Status.eq(TimerStatus::Pending))
                .filter(timer::Column::DueAt.lte(now))
                .count(self.db())
                .await?,
            timers_failed: timer::Entity::find()
                .filter(timer::Column::Status.eq(TimerStatus::Failed))
                .count(self.db())
                .await?,
            steps_applied: audit_event::Entity::find()
                .filter(audit_event::Column::InstanceId.is_not_null())
                .count(self.db())
                .await?,
        })
    }

    /// Every justerat protocol.
    pub async fn protocols(&self) -> Result<Vec<ProtocolRow>, StoreError> {
        Ok(protocol::Entity::find().all(self.db()).await?)
    }
}
