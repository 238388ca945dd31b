//! The inbox: what waits for someone. An instance waits for a person when its state takes an
//! event that one of their roles may send: a chef's or förvaltningschef's only in their own
//! unit, the other roles' wherever they occur. Each item carries the earliest pending timer of
//! the instance as its due time (the answering deadline, the justering's fourteen days).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Engine;
use crate::domain::organisation::Role;
use crate::service::ServiceError;
use crate::store::timer_status;
use crate::workflow::Sender;
use crate::workflow::engine::{allowed_events, substitute};

/// Something waiting for the user.
#[derive(Debug, Clone, Serialize)]
pub struct InboxItem {
    /// The ärende's number.
    pub case_number: String,
    /// Its public title.
    pub title: String,
    /// The förvaltning, for a unit's part of a workflow.
    pub unit: Option<String>,
    /// What the state means (the workflow's description), or its name.
    pub state_text: String,
    /// The events the user may send now.
    pub events: Vec<String>,
    /// When the next timer of the instance falls due.
    pub due: Option<DateTime<Utc>>,
}

/// Roles held only within a unit: their work is their own unit's.
fn unit_bound(role: Role) -> bool {
    matches!(role, Role::Chef | Role::Forvaltningschef)
}

impl Engine {
    /// What waits for someone holding `roles` (each with its unit), soonest due first.
    pub async fn inbox(&self, roles: &[(Role, String)]) -> Result<Vec<InboxItem>, ServiceError> {
        let store = &self.kansli.store;
        let mut items = Vec::new();
        for row in store.all_instances().await? {
            if row.finished_at.is_some() {
                continue;
            }
            let Some(case_id) = row.case_id else { continue };
            let loaded = self.load(row).await?;
            let Some(state) = loaded.workflow.states.get(&loaded.row.state) else {
                continue;
            };
            if state.is_final {
                continue;
            }
            let unit = loaded.row.unit_code.as_deref();
            let mine = |senders: &[Sender]| {
                roles.iter().any(|(role, held_in)| {
                    senders.contains(&Sender::Role(*role))
                        && (!unit_bound(*role) || unit.is_some_and(|u| u == held_in))
                })
            };
            let events: Vec<String> = allowed_events(state)
                .into_iter()
                .filter(|(_, by)| mine(by))
                .map(|(event, _)| event)
                .collect();
            if events.is_empty() {
                continue;
            }
            let due = store
                .timers_of(loaded.row.id)
                .await?
                .into_iter()
                .filter(|t| t.status == timer_status::PENDING)
                .map(|t| t.due_at)
                .min();
            let case = store.case_by_id(case_id).await?;
            items.push(InboxItem {
                case_number: self.kansli.case_number(case_id).await?,
                title: case.map(|c| c.public_title).unwrap_or_default(),
                unit: loaded.row.unit_code.clone(),
                state_text: state
                    .description
                    .as_deref()
                    .map(|d| substitute(d, &loaded.variables))
                    .unwrap_or_else(|| loaded.row.state.clone()),
                events,
                due,
            });
        }
        items.sort_by_key(|i| (i.due.is_none(), i.due));
        Ok(items)
    }
}
