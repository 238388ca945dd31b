//! The rows a step writes whatever its effects, worked out in memory from its decision: the
//! audit entry, the timers it stops and sets, and the answering deadline it sets. A single
//! step writes them one kind at a time (`Engine::persist`); a round writes a whole batch's
//! with one statement per kind (`round`). Both take them from here, so they cannot drift.

use chrono::{DateTime, Duration, Utc};

use super::StepBy;
use crate::domain::audit::Action;
use crate::domain::calendar::{add_local, next_office_time_within};
use crate::store::{
    AuditInput, INSTANCE_SCOPE, InstanceRow, NewTimer, OrgSnapshot, TimerCancel, TimerRow,
};
use crate::workflow::{Decision, Effect, Workflow};

/// What a step writes besides the instance row and its effects.
pub(super) struct StepRows {
    /// The step's audit entry.
    pub(super) audit: AuditInput,
    /// The pending timers it stops; stopped before `timers` are set, so setting a timer again
    /// replaces it.
    pub(super) cancels: Vec<TimerCancel>,
    /// The timers it sets.
    pub(super) timers: Vec<NewTimer>,
    /// The answering deadline, when the step sets it.
    pub(super) deadline: Option<DateTime<Utc>>,
}

/// The rows of `decision` taken on `instance`. `office_hours` moves `vardag` timers into the
/// next working day's opening hours.
pub(super) fn step_rows(
    instance: &InstanceRow,
    workflow: &Workflow,
    decision: &Decision,
    by: &StepBy<'_>,
    office_hours: (u32, u32),
    now: DateTime<Utc>,
) -> StepRows {
    let unit = instance.unit_code.as_deref();
    let audit = AuditInput {
        case_id: instance.case_id,
        instance_id: Some(instance.id),
        actor: by.actor.as_str().to_owned(),
        role: Some(by.sender.to_string()),
        action: by.event.to_owned(),
        from_state: (!decision.from.is_empty()).then(|| decision.from.clone()),
        to_state: Some(decision.to.clone()),
        detail: Some(match unit {
            Some(u) => format!("{} ({u})", workflow.title),
            None => workflow.title.clone(),
        }),
        at: now,
    };
    let cancel = |state: Option<&str>, name: Option<&str>| TimerCancel {
        instance_id: instance.id,
        state: state.map(str::to_owned),
        name: name.map(str::to_owned),
    };
    let mut cancels = Vec::new();
    if decision.state_changed && !decision.from.is_empty() {
        cancels.push(cancel(Some(&decision.from), None));
    }
    if decision.finished {
        cancels.push(cancel(None, None));
    }
    for name in &decision.cancel_timers {
        cancels.push(cancel(None, Some(name)));
    }
    let mut timers = Vec::new();
    let mut deadline = None;
    for plan in &decision.timers {
        if !plan.state_scoped {
            // Setting a timer again replaces it.
            cancels.push(cancel(None, Some(&plan.name)));
        }
        let due_at = if plan.vardag {
            next_office_time_within(plan.due_at, office_hours)
        } else {
            plan.due_at
        };
        // A reminder that a weekend or holiday pushed to (or past) the deadline it comes
        // before would only arrive too late: it is not set.
        if plan.anchor.as_ref().is_some_and(|(_, at)| due_at >= *at) {
            continue;
        }
        if workflow.deadline.as_ref() == Some(&plan.name) {
            deadline = Some(due_at);
        }
        timers.push(NewTimer {
            instance_id: instance.id,
            name: plan.name.clone(),
            event: plan.event.clone(),
            state: if plan.state_scoped {
                decision.to.clone()
            } else {
                INSTANCE_SCOPE.to_owned()
            },
            due_at,
            repeat_every: plan.repeat.map(|(every, _)| every),
            repeats_left: plan.repeat.map(|(_, max)| max),
        });
    }
    StepRows {
        audit,
        cancels,
        timers,
        deadline,
    }
}

/// Whether the step's effects include an email (which shows the answering deadline).
pub(super) fn sends_email(decision: &Decision) -> bool {
    decision
        .effects
        .iter()
        .any(|e| matches!(e, Effect::Email { .. }))
}

/// The event a child sends its parent, as a timer due now on the parent.
pub(super) fn notice_to_parent(
    instance: &InstanceRow,
    event: &str,
    now: DateTime<Utc>,
) -> Option<NewTimer> {
    instance
        .parent_id
        .map(|parent| queued_event(parent, event, now))
}

/// The event queued for a child, due now, sent as `system` when the engine fires it.
pub(super) fn notice_to_child(child: &InstanceRow, event: &str, now: DateTime<Utc>) -> NewTimer {
    queued_event(child.id, event, now)
}

/// An event queued for an instance as a timer due now: how one instance tells another
/// (parent and children) something, in the telling step's transaction.
fn queued_event(instance_id: i32, event: &str, now: DateTime<Utc>) -> NewTimer {
    NewTimer {
        instance_id,
        name: format!("händelse:{event}"),
        event: event.to_owned(),
        state: INSTANCE_SCOPE.to_owned(),
        due_at: now,
        repeat_every: None,
        repeats_left: None,
    }
}

/// A repeating timer's next round, when it has repeats left and the instance stays where the
/// timer belongs after `decision`.
pub(super) fn repeat_of(timer: &TimerRow, decision: &Decision) -> Option<NewTimer> {
    let still_there = !decision.finished
        && (timer.state == INSTANCE_SCOPE
            || (timer.state == decision.to && !decision.state_changed))
        // The handler cancelled it, or set it anew: its word goes.
        && !decision.cancel_timers.contains(&timer.name)
        && !decision.timers.iter().any(|t| t.name == timer.name);
    match (timer.repeat_every_secs, timer.repeats_left) {
        (Some(every), Some(left)) if left > 0 && still_there => Some(NewTimer {
            instance_id: timer.instance_id,
            name: timer.name.clone(),
            event: timer.event.clone(),
            state: timer.state.clone(),
            due_at: add_local(timer.due_at, Duration::seconds(every)),
            repeat_every: Some(Duration::seconds(every)),
            repeats_left: Some((left - 1) as u32),
        }),
        _ => None,
    }
}

/// The audit entry of a referral to an organ, named as the organisation names it.
pub(super) fn referral(
    org: &OrgSnapshot,
    instance: &InstanceRow,
    organ: &str,
    by: &StepBy<'_>,
    now: DateTime<Utc>,
) -> AuditInput {
    let name = org
        .organs
        .iter()
        .find(|o| o.code == organ)
        .map_or(organ.to_owned(), |o| format!("{} ({})", o.name, o.code));
    AuditInput {
        case_id: instance.case_id,
        actor: by.actor.as_str().to_owned(),
        action: Action::ReferredToOrgan.text().into(),
        detail: Some(name),
        at: now,
        ..Default::default()
    }
}
