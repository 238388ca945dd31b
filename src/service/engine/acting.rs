//! A logged-in user's step in an ärende's workflow: the user acts in one of their roles that
//! the state allows for the event, or is refused. Pages and the API both come through here, so
//! the rule is checked where the step is taken.

use super::{Engine, Outcome, Target};
use crate::domain::organisation::Role;
use crate::service::accounts::User;
use crate::service::{Actor, ServiceError};
use crate::workflow::Sender;

impl User {
    /// The role of the user's that may send an event whose senders are `senders` (role names);
    /// an administrator acts as `admin`.
    pub fn acting_role(&self, senders: &[String]) -> Option<Role> {
        let roles: Vec<Role> = match self.admin {
            true => vec![Role::Admin],
            false => self.roles.iter().map(|(r, _)| *r).collect(),
        };
        roles
            .into_iter()
            .find(|r| senders.iter().any(|s| *s == r.to_string()))
    }
}

impl Engine {
    /// Sends `event` to `target` as `user`, in a role of theirs that the instance's state
    /// allows for it. Refused (and logged) when the state takes no such event from any role
    /// the user holds.
    pub async fn send_as_user(
        &self,
        user: &User,
        target: &Target,
        event: &str,
        idempotency_key: Option<&str>,
    ) -> Result<Outcome, ServiceError> {
        let instances = self.events_of(&target.case_number).await?;
        let instance = instances
            .iter()
            .find(|i| i.unit == target.unit)
            .ok_or_else(|| {
                ServiceError::NotFound(match &target.unit {
                    Some(u) => format!("{} has no workflow for the unit {u}", target.case_number),
                    None => format!("{} follows no workflow", target.case_number),
                })
            })?;
        let Some((_, senders)) = instance.events.iter().find(|(e, _)| e == event) else {
            return Err(ServiceError::Conflict(format!(
                "{event:?} går inte i läget {:?}; det som går nu: {}",
                instance.state,
                instance
                    .events
                    .iter()
                    .map(|(e, _)| e.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        };
        let Some(role) = user.acting_role(senders) else {
            tracing::warn!(username = %user.username, %event, "workflow step refused");
            return Err(ServiceError::Forbidden(format!(
                "Du har ingen roll som får göra {event:?} nu."
            )));
        };
        let actor = Actor::new(user.username.clone());
        self.send(target, event, Sender::Role(role), &actor, idempotency_key)
            .await
    }
}
