//! The inbox: what waits for someone. An instance waits for a person when its state takes an
//! event that one of their roles may send: a chef's or förvaltningschef's only in their own
//! unit, the other roles' wherever they occur. Each item carries the earliest pending timer of
//! the instance as its due time (the answering deadline, the justering's fourteen days).

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::Engine;
use crate::domain::organisation::Role;
use crate::service::ServiceError;
use crate::service::diarium::SeriesBook;
use crate::store::TimerStatus;
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
    /// What the events are called (the workflow's Swedish labels), in the same order.
    pub labels: Vec<String>,
    /// When the next timer of the instance falls due.
    pub due: Option<DateTime<Utc>>,
}

impl Engine {
    /// What waits for someone holding `roles` (each with its unit), soonest due first.
    pub async fn inbox(&self, roles: &[(Role, String)]) -> Result<Vec<InboxItem>, ServiceError> {
        let store = &self.kansli.store;
        let book = SeriesBook::load(&self.kansli).await?;
        let mut items = Vec::new();
        // Only what the state allows decides whether an instance waits for the user; the rest
        // (variables, timers, the ärende) is read for those that do.
        for row in store.running_instances_with_case().await? {
            let Some(case_id) = row.case_id else { continue };
            let workflow = self.definition(row.definition_id).await?;
            let Some(state) = workflow.states.get(&row.state).filter(|s| !s.is_final) else {
                continue;
            };
            let unit = row.unit_code.as_deref();
            let mine = |senders: &[Sender]| {
                roles.iter().any(|(role, held_in)| {
                    senders.contains(&Sender::Role(*role)) && role.acts_in(held_in, unit)
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
                .timers_of(row.id)
                .await?
                .into_iter()
                .filter(|t| t.status == TimerStatus::Pending)
                .map(|t| t.due_at)
                .min();
            let Some(case) = store.case_by_id(case_id).await? else {
                continue;
            };
            let variables = serde_json::from_str(&row.variables).unwrap_or_default();
            items.push(InboxItem {
                case_number: book.render(&case)?,
                title: case.public_title,
                unit: row.unit_code.clone(),
                state_text: state
                    .description
                    .as_deref()
                    .map(|d| substitute(d, &variables))
                    .unwrap_or_else(|| row.state.clone()),
                labels: events
                    .iter()
                    .map(|e| state.event_label(e).to_owned())
                    .collect(),
                events,
                due,
            });
        }
        items.sort_by_key(|i| (i.due.is_none(), i.due));
        Ok(items)
    }
}
