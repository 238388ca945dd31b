//! A logged-in user's step in an ärende's workflow: the user acts in one of their roles that
//! the state allows for the event, or is refused. Pages and the API both come through here, so
//! the rule is checked where the step is taken.
//!
//! A refusal here is the engine's own ([`TransitionError`]), with the fields the engine gives
//! it, so the API and CLI get its English and the pages its Swedish with the button's label.

use super::{Engine, InstanceEvents, Outcome, Target};
use crate::domain::organisation::Role;
use crate::service::accounts::User;
use crate::service::{Actor, ServiceError};
use crate::workflow::{Sender, TransitionError};

impl User {
    /// The role of the user's that may send an event whose senders are `senders` (role names)
    /// to an instance of `unit` (None for the ärende's own): a role held within a unit (chef,
    /// förvaltningschef) acts only in that unit's instance, as the inbox shows it. An
    /// administrator acts as `admin`.
    pub fn acting_role(&self, senders: &[String], unit: Option<&str>) -> Option<Role> {
        if self.admin {
            return sends(senders, Role::Admin).then_some(Role::Admin);
        }
        self.roles
            .iter()
            .find(|(role, held_in)| sends(senders, *role) && role.acts_in(held_in, unit))
            .map(|(role, _)| *role)
    }

    /// The roles the user acts in, each once: an administrator as `admin` only.
    fn acting_roles(&self) -> Vec<Role> {
        if self.admin {
            return vec![Role::Admin];
        }
        let mut roles: Vec<Role> = Vec::new();
        for (role, _) in &self.roles {
            if !roles.contains(role) {
                roles.push(*role);
            }
        }
        roles
    }
}

impl Engine {
    /// Sends `event` to `target` as `user`, in a role of theirs that the instance's state
    /// allows for it. Refused (and logged) when the state takes no such event from any role
    /// the user holds: [`TransitionError::Finished`] or [`TransitionError::NotAllowed`] when
    /// the state does not take the event at all, [`TransitionError::SenderNotPermitted`] when
    /// it does but from none of the user's roles, as the engine itself would refuse them.
    pub async fn send_as_user(
        &self,
        user: &User,
        target: &Target,
        event: &str,
        idempotency_key: Option<&str>,
    ) -> Result<Outcome, ServiceError> {
        let sender = self.acting_sender(user, target, event).await?;
        let actor = Actor::new(user.username.clone());
        self.send(target, event, sender, &actor, idempotency_key)
            .await
    }

    /// The role in which `user` sends `event` to `target` now, or the refusal
    /// [`Engine::send_as_user`] describes.
    pub(crate) async fn acting_sender(
        &self,
        user: &User,
        target: &Target,
        event: &str,
    ) -> Result<Sender, ServiceError> {
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
            tracing::warn!(
                username = %user.username,
                %event,
                state = %instance.state,
                "workflow step refused: the state does not take it"
            );
            return Err(ServiceError::Refused(not_taken(instance, event)));
        };
        let Some(role) = user.acting_role(senders, instance.unit.as_deref()) else {
            tracing::warn!(
                username = %user.username,
                %event,
                state = %instance.state,
                "workflow step refused: none of the user's roles may send it"
            );
            // A role that sends it, held in other units: the unit's own work, not theirs.
            let elsewhere: Vec<&str> = user
                .roles
                .iter()
                .filter(|(role, _)| !user.admin && sends(senders, *role))
                .map(|(_, unit)| unit.as_str())
                .collect();
            if !elsewhere.is_empty() {
                let message = match instance.unit.as_deref() {
                    Some(unit) => format!(
                        "{event:?} for {unit} is sent by the {} of {unit}; yours is held in {}",
                        senders.join(", "),
                        elsewhere.join(", ")
                    ),
                    None => format!(
                        "{event:?} in the ärende's own workflow is not sent by a {} of a unit",
                        senders.join(", ")
                    ),
                };
                return Err(ServiceError::Forbidden(message));
            }
            let roles = user.acting_roles();
            if roles.is_empty() {
                // Not the workflow's refusal: the account holds no role to act in at all.
                return Err(ServiceError::Forbidden(format!(
                    "you hold no role, so you may not send {event:?}; it may be sent by: {}",
                    senders.join(", ")
                )));
            }
            return Err(ServiceError::Refused(TransitionError::SenderNotPermitted {
                event: event.to_owned(),
                state: instance.state.clone(),
                sender: roles
                    .iter()
                    .map(|r| Sender::Role(*r).to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                allowed: senders.join(", "),
            }));
        };
        Ok(Sender::Role(role))
    }
}

/// Whether `role` is among `senders`, the role names a transition is sent by.
fn sends(senders: &[String], role: Role) -> bool {
    senders.iter().any(|s| *s == role.to_string())
}

/// Why `instance` takes no `event` now, as the engine says it: finished, in a state its
/// workflow does not have, or in a state without the event.
fn not_taken(instance: &InstanceEvents, event: &str) -> TransitionError {
    let state = instance.state.clone();
    if instance.finished {
        return TransitionError::Finished { state };
    }
    match instance.definition.states.get(&state) {
        None => TransitionError::UnknownState(state),
        Some(s) if s.is_final => TransitionError::Finished { state },
        Some(_) => TransitionError::NotAllowed {
            event: event.to_owned(),
            state,
            allowed: instance
                .events
                .iter()
                .map(|(e, _)| e.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(admin: bool, roles: &[(Role, &str)]) -> User {
        User {
            account_id: 1,
            username: "u".into(),
            person_key: "u".into(),
            name: "U".into(),
            admin,
            roles: roles.iter().map(|(r, u)| (*r, (*u).to_owned())).collect(),
            csrf_token: String::new(),
        }
    }

    fn senders(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn a_chef_acts_in_their_own_units_instance_only() {
        let chef = user(false, &[(Role::Chef, "SOF"), (Role::Chef, "HR")]);
        let by_chef = senders(&["chef"]);
        assert_eq!(chef.acting_role(&by_chef, Some("SOF")), Some(Role::Chef));
        assert_eq!(chef.acting_role(&by_chef, Some("HR")), Some(Role::Chef));
        assert_eq!(chef.acting_role(&by_chef, Some("BUF")), None);
        assert_eq!(
            chef.acting_role(&by_chef, None),
            None,
            "not in the ärende's own"
        );
    }

    #[test]
    fn roles_not_bound_to_a_unit_act_anywhere_and_an_administrator_as_admin() {
        let handlaggare = user(false, &[(Role::Handlaggare, "KLF")]);
        let by_either = senders(&["handläggare", "chef"]);
        assert_eq!(
            handlaggare.acting_role(&by_either, Some("BUF")),
            Some(Role::Handlaggare)
        );
        assert_eq!(
            handlaggare.acting_role(&by_either, None),
            Some(Role::Handlaggare)
        );
        let admin = user(true, &[(Role::Chef, "BUF")]);
        assert_eq!(
            admin.acting_role(&by_either, Some("BUF")),
            None,
            "admin acts as admin only"
        );
        assert_eq!(
            admin.acting_role(&senders(&["administratör"]), None),
            Some(Role::Admin)
        );
    }
}
