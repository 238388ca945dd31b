//! What failed and waits for an administrator, so that nothing stalls unseen: timers whose step
//! failed (set aside with the reason) and the retry that puts one back in the queue. Failed
//! messages have theirs in the outbox (`mail.rs`). Both are counted in `/metrics`
//! (`kansli_timers_failed`, `kansli_outbox_failed`).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::{Actor, Kansli, ServiceError};
use crate::domain::audit::Action;

/// A timer whose step failed.
#[derive(Debug, Clone, Serialize)]
pub struct FailedTimer {
    /// The timer's id, to retry it by.
    pub id: i32,
    /// The ärende's number, when the instance has one.
    pub case_number: Option<String>,
    /// The workflow the instance runs.
    pub workflow: String,
    /// The förvaltning, for a unit's part of a workflow.
    pub unit: Option<String>,
    /// The timer's name and the event it sends.
    pub timer: String,
    /// The event.
    pub event: String,
    /// When it fell due.
    pub due_at: DateTime<Utc>,
    /// Why its step failed.
    pub reason: String,
}

impl Kansli {
    /// Every timer whose step failed, oldest due first.
    pub async fn failed_timers(&self) -> Result<Vec<FailedTimer>, ServiceError> {
        let book = super::diarium::SeriesBook::load(self).await?;
        let mut out = Vec::new();
        for t in self.store.failed_timers().await? {
            let instance = self.store.instance(t.instance_id).await?;
            let case_number = match instance.as_ref().and_then(|i| i.case_id) {
                Some(case_id) => match self.store.case_by_id(case_id).await? {
                    Some(case) => Some(book.render(&case)?),
                    None => None,
                },
                None => None,
            };
            out.push(FailedTimer {
                id: t.id,
                case_number,
                workflow: instance
                    .as_ref()
                    .map(|i| i.workflow_id.clone())
                    .unwrap_or_default(),
                unit: instance.and_then(|i| i.unit_code),
                timer: t.name,
                event: t.event,
                due_at: t.due_at,
                reason: t.note.unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// Puts a failed timer back in the queue, due now: the engine's next tick tries its step
    /// again (after the cause has been mended).
    pub async fn retry_timer(&self, id: i32, actor: &Actor) -> Result<(), ServiceError> {
        let now = self.clock.now();
        let tx = self.store.begin().await?;
        if !tx.retry_timer(id, now).await? {
            return Err(ServiceError::NotFound(format!(
                "timer {id} is not a failed timer; `kansli engine failed` lists them"
            )));
        }
        let case_id = match tx.timer(id).await? {
            Some(t) => tx.instance(t.instance_id).await?.and_then(|i| i.case_id),
            None => None,
        };
        tx.append_audit(
            case_id,
            actor.as_str(),
            Action::TimerRetried,
            Some(format!("timer {id}")),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
