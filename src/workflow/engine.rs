//! The engine: a pure function from (workflow, instance, event, now) to a [`Decision`], the
//! next state and the side effects as data, or a [`TransitionError`] that says why not. It does
//! no IO and never reads the clock, so every rule can be tested and a year simulated without a
//! database; the service writes a decision in one transaction.

use chrono::{DateTime, Duration, Utc};
use serde_json::{Map, Value};

use super::model::{
    EffectSpec, Guard, LinkPurpose, Recipient, Sender, State, TimerSpec, TimerWhen, Transition,
    Workflow,
};
use crate::domain::calendar::{add_local, start_of_local_day, sub_local};
use crate::domain::document::Direction;
use crate::domain::organisation::UnitKind;

/// What the engine needs to know about an instance.
#[derive(Debug, Clone, Copy)]
pub struct InstanceView<'a> {
    /// The current state.
    pub state: &'a str,
    /// The variables.
    pub variables: &'a Map<String, Value>,
    /// The child instances, for guards about them.
    pub children: &'a [ChildView],
}

/// A child instance, as its parent's guards see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChildView {
    /// The unit it runs for.
    pub unit_code: String,
    /// Its state.
    pub state: String,
}

/// An event sent to an instance.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// Its name.
    pub name: String,
    /// Who sends it.
    pub sender: Sender,
    /// Values it sets, e.g. the comment of a returned answer; only declared variables.
    pub values: Map<String, Value>,
}

/// A timer to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerPlan {
    /// Its name.
    pub name: String,
    /// The event it sends.
    pub event: String,
    /// When.
    pub due_at: DateTime<Utc>,
    /// Repeat interval and remaining count.
    pub repeat: Option<(Duration, u32)>,
    /// Move to the next vardag's office hours.
    pub vardag: bool,
    /// Declared on the state (stops when the state is left) rather than set by an effect
    /// (runs until it fires, is cancelled, or the instance finishes).
    pub state_scoped: bool,
    /// For a `before` timer, the timer it comes before and that timer's due time.
    pub anchor: Option<(String, DateTime<Utc>)>,
}

/// A side effect, resolved against the instance's variables.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Send an email from a template.
    Email {
        /// Template id.
        template: String,
        /// Recipients.
        to: Vec<Recipient>,
        /// The personal link the message carries.
        link: Option<LinkPurpose>,
    },
    /// Render a document and register it as a handling.
    Document {
        /// Template id.
        template: String,
        /// Direction.
        direction: Direction,
        /// The handling's description.
        description: String,
    },
    /// Start one child per unit of a kind.
    StartChildren {
        /// Child workflow.
        workflow: String,
        /// Unit kind.
        per: UnitKind,
    },
    /// Send an event to the parent.
    NotifyParent {
        /// The event.
        event: String,
    },
    /// Send an event to every child still running.
    NotifyChildren {
        /// The event.
        event: String,
    },
    /// Put the ärende on an organ's agenda.
    Refer {
        /// Organ code.
        organ: String,
    },
    /// Close the ärende.
    CloseCase {
        /// Why.
        reason: String,
    },
    /// Send the decision to "Beslutet skickas till" with a handling attached.
    Dispatch {
        /// The covering letter's template.
        template: String,
        /// The document template whose latest handling is attached.
        attach: String,
    },
}

/// What an event does.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision {
    /// The state before.
    pub from: String,
    /// The state after.
    pub to: String,
    /// Whether the state was left (exit and entry effects ran, its timers stop).
    pub state_changed: bool,
    /// The variables after the event.
    pub variables: Map<String, Value>,
    /// Side effects, in order: exit, transition, entry.
    pub effects: Vec<Effect>,
    /// Timers to start.
    pub timers: Vec<TimerPlan>,
    /// Timers to stop by name (besides all of the old state's, when it was left).
    pub cancel_timers: Vec<String>,
    /// The instance reached a final state.
    pub finished: bool,
}

/// Why an event was refused. Nothing changes when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The instance is done.
    #[error("the instance is finished (state {state}) and takes no events")]
    Finished {
        /// Its final state.
        state: String,
    },
    /// No transition of the current state takes this event.
    #[error("event {event:?} is not allowed in state {state}; allowed now: {allowed}")]
    NotAllowed {
        /// The event.
        event: String,
        /// The state.
        state: String,
        /// The events the state takes.
        allowed: String,
    },
    /// The sender's role may not send this event.
    #[error("{sender} may not send {event:?} in state {state}; it may be sent by: {allowed}")]
    SenderNotPermitted {
        /// The event.
        event: String,
        /// The state.
        state: String,
        /// Who tried.
        sender: String,
        /// Who may.
        allowed: String,
    },
    /// Every transition for the event has a condition that does not hold.
    #[error("event {event:?} in state {state}: the condition does not hold ({conditions})")]
    GuardFailed {
        /// The event.
        event: String,
        /// The state.
        state: String,
        /// The conditions that failed.
        conditions: String,
        /// The same conditions in Swedish, one for each transition, for the pages.
        conditions_swedish: Vec<String>,
    },
    /// The event carries a value for a variable the workflow does not declare.
    #[error("event {event:?} sets {variable}, which the workflow does not declare")]
    UndeclaredVariable {
        /// The event.
        event: String,
        /// The variable.
        variable: String,
    },
    /// The event carries a value of the wrong type for a variable.
    #[error("event {event:?} sets {variable} to {value}, but {variable} is a {kind}")]
    WrongType {
        /// The event.
        event: String,
        /// The variable.
        variable: String,
        /// The value given, as JSON.
        value: String,
        /// The variable's type.
        kind: &'static str,
    },
    /// The instance is in a state the workflow does not have (its definition changed).
    #[error("state {0} is not in the workflow")]
    UnknownState(String),
}

impl TransitionError {
    /// The refusal in plain Swedish, for the pages (a registrator's or handläggare's words):
    /// the workflow's own event and state names, the roles by their Swedish names. `Display`
    /// stays English, for the API, the CLI and the logs.
    pub fn swedish(&self) -> String {
        self.worded(None, &|event| Some(event.to_owned()))
    }

    /// As [`swedish`](Self::swedish), with the event called what the page calls it (its
    /// transition's label, "Sammanställ svaren nu") instead of its code.
    pub fn swedish_with_label(&self, label: &str) -> String {
        self.worded(Some(label), &|event| Some(event.to_owned()))
    }

    /// As [`swedish_with_label`](Self::swedish_with_label), with the steps that can be taken
    /// now named by `step` too: their labels, and None for one no person takes (a timer's),
    /// which is left out.
    pub fn swedish_naming_steps(
        &self,
        label: &str,
        step: &dyn Fn(&str) -> Option<String>,
    ) -> String {
        self.worded(Some(label), step)
    }

    fn worded(&self, label: Option<&str>, step: &dyn Fn(&str) -> Option<String>) -> String {
        let action = |event: &str| quoted(label.filter(|l| !l.trim().is_empty()).unwrap_or(event));
        match self {
            TransitionError::Finished { state } => format!(
                "Arbetsflödet är redan avslutat (läget ”{state}”) och tar inte emot fler åtgärder."
            ),
            TransitionError::NotAllowed {
                event,
                state,
                allowed,
            } => {
                let all = names(allowed);
                let named: Vec<String> = all.iter().copied().filter_map(step).collect();
                // Steps there are, but none to name here (the system's, or not this page's):
                // the sentence stops at the refusal.
                let now = match (all.is_empty(), named.is_empty()) {
                    (true, _) => " Just nu går ingen åtgärd att göra.".to_owned(),
                    (false, true) => String::new(),
                    (false, false) => format!(
                        " Nu går det att: {}.",
                        named
                            .iter()
                            .map(|e| quoted(e))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                };
                format!(
                    "Åtgärden {} går inte att göra när ärendet är i läget ”{state}”.{now}",
                    action(event)
                )
            }
            TransitionError::SenderNotPermitted {
                event,
                state,
                sender,
                allowed,
            } => {
                let who = names(allowed);
                if who.iter().all(|s| *s == "system") {
                    return format!(
                        "Åtgärden {} görs av systemet självt och går inte att göra för hand.",
                        action(event)
                    );
                }
                let who: Vec<&str> = who.into_iter().map(sender_in_swedish).collect();
                let yours: Vec<&str> = names(sender).into_iter().map(sender_in_swedish).collect();
                let yours = match yours.as_slice() {
                    [one] => format!("Din roll ({one})"),
                    many => format!("Dina roller ({})", many.join(", ")),
                };
                format!(
                    "{yours} får inte göra {} när ärendet är i läget ”{state}”. Det får {}.",
                    action(event),
                    either(&who)
                )
            }
            TransitionError::GuardFailed {
                event,
                conditions_swedish,
                ..
            } => match conditions_swedish.as_slice() {
                [] => format!("Villkoret för {} är inte uppfyllt.", action(event)),
                [one] => format!("Villkoret för {} är inte uppfyllt: {one}.", action(event)),
                many => format!(
                    "Inget av villkoren för {} är uppfyllt: {}.",
                    action(event),
                    many.join("; ")
                ),
            },
            TransitionError::UndeclaredVariable { event, variable } => format!(
                "Åtgärden {} anger uppgiften ”{variable}”, som inte finns i flödet. Kontakta \
                 administratören.",
                action(event)
            ),
            TransitionError::WrongType {
                event,
                variable,
                value,
                kind,
            } => {
                // The value as the English message carries it, in JSON.
                let value = serde_json::from_str(value)
                    .map_or_else(|_| value.clone(), |v| value_in_swedish(&v));
                let kind = match *kind {
                    "string" => "en text",
                    "integer" => "ett heltal",
                    "boolean" => "ja eller nej",
                    "date" => "ett datum (ÅÅÅÅ-MM-DD)",
                    other => other,
                };
                format!(
                    "Åtgärden {} anger {value} som ”{variable}”, men ”{variable}” ska vara {kind}.",
                    action(event)
                )
            }
            TransitionError::UnknownState(state) => format!(
                "Ärendet är i läget ”{state}”, som inte finns i flödet. Kontakta administratören."
            ),
        }
    }
}

/// `”text”`, as Swedish typography quotes.
fn quoted(text: &str) -> String {
    format!("”{text}”")
}

/// The names of a comma-separated list, as the English messages carry them.
fn names(list: &str) -> Vec<&str> {
    list.split(',')
        .map(str::trim)
        .filter(|n| !n.is_empty())
        .collect()
}

/// "a", "a eller b", "a, b eller c".
fn either(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_owned(),
        [rest @ .., last] => format!("{} eller {last}", rest.join(", ")),
    }
}

/// A sender as a sentence names it: roles by their Swedish names, the system as "systemet".
fn sender_in_swedish(sender: &str) -> &str {
    if sender == "system" {
        "systemet"
    } else {
        sender
    }
}

/// A variable's value as a sentence names it: yes and no in Swedish, text in quotes.
fn value_in_swedish(value: &Value) -> String {
    match value {
        Value::Bool(true) => "ja".to_owned(),
        Value::Bool(false) => "nej".to_owned(),
        Value::String(s) => quoted(s),
        other => other.to_string(),
    }
}

/// A guard in Swedish: what has to hold for the transition to be taken.
fn guard_in_swedish(guard: &Guard) -> String {
    let states = |s: &std::collections::BTreeSet<String>| match s.len() {
        1 => format!("läget {}", s.iter().map(|n| quoted(n)).collect::<String>()),
        _ => format!(
            "något av lägena {}",
            s.iter().map(|n| quoted(n)).collect::<Vec<_>>().join(", ")
        ),
    };
    match guard {
        Guard::AllChildrenIn(s) => format!("alla delflöden är i {}", states(s)),
        Guard::AnyChildIn(s) => format!("något delflöde är i {}", states(s)),
        Guard::Variable(name, value) => {
            format!("{} är {}", quoted(name), value_in_swedish(value))
        }
        Guard::Not(inner) => format!("det gäller inte att {}", guard_in_swedish(inner)),
        Guard::All(all) => all
            .iter()
            .map(guard_in_swedish)
            .collect::<Vec<_>>()
            .join(" och "),
    }
}

/// Starts an instance: enters the initial state with `variables` over the declared defaults.
pub fn start(workflow: &Workflow, variables: Map<String, Value>, now: DateTime<Utc>) -> Decision {
    let mut vars: Map<String, Value> = workflow
        .variables
        .iter()
        .filter_map(|(name, v)| v.default.clone().map(|d| (name.clone(), d)))
        .collect();
    vars.extend(variables);
    let initial = &workflow.states[&workflow.initial];
    let mut decision = Decision {
        from: String::new(),
        to: initial.name.clone(),
        state_changed: true,
        variables: vars,
        effects: Vec::new(),
        timers: Vec::new(),
        cancel_timers: Vec::new(),
        finished: initial.is_final,
    };
    enter(&mut decision, initial, now);
    decision
}

/// Applies an event to an instance.
pub fn apply(
    workflow: &Workflow,
    instance: InstanceView<'_>,
    event: &Event,
    now: DateTime<Utc>,
) -> Result<Decision, TransitionError> {
    let state = workflow
        .states
        .get(instance.state)
        .ok_or_else(|| TransitionError::UnknownState(instance.state.to_owned()))?;
    if state.is_final {
        return Err(TransitionError::Finished {
            state: state.name.clone(),
        });
    }
    let candidates: Vec<&Transition> = state
        .transitions
        .iter()
        .filter(|t| t.event == event.name)
        .collect();
    if candidates.is_empty() {
        return Err(TransitionError::NotAllowed {
            event: event.name.clone(),
            state: state.name.clone(),
            allowed: allowed_events(state)
                .into_iter()
                .map(|(e, _)| e)
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    let permitted: Vec<&Transition> = candidates
        .iter()
        .copied()
        .filter(|t| t.by.contains(&event.sender))
        .collect();
    if permitted.is_empty() {
        let mut allowed: Vec<String> = candidates
            .iter()
            .flat_map(|t| t.by.iter().map(Sender::to_string))
            .collect();
        allowed.dedup();
        return Err(TransitionError::SenderNotPermitted {
            event: event.name.clone(),
            state: state.name.clone(),
            sender: event.sender.to_string(),
            allowed: allowed.join(", "),
        });
    }
    let Some(transition) = permitted
        .iter()
        .find(|t| t.guard.as_ref().is_none_or(|g| holds(g, instance)))
    else {
        return Err(TransitionError::GuardFailed {
            event: event.name.clone(),
            state: state.name.clone(),
            conditions: permitted
                .iter()
                .filter_map(|t| t.guard.as_ref().map(Guard::to_string))
                .collect::<Vec<_>>()
                .join("; "),
            conditions_swedish: permitted
                .iter()
                .filter_map(|t| t.guard.as_ref().map(guard_in_swedish))
                .collect(),
        });
    };

    let target = match &transition.to {
        Some(to) => workflow
            .states
            .get(to)
            .ok_or_else(|| TransitionError::UnknownState(to.clone()))?,
        None => state,
    };
    let state_changed = transition.to.is_some();
    let mut decision = Decision {
        from: state.name.clone(),
        to: target.name.clone(),
        state_changed,
        variables: {
            let mut vars = instance.variables.clone();
            for (name, value) in &event.values {
                let Some(declared) = workflow.variables.get(name) else {
                    return Err(TransitionError::UndeclaredVariable {
                        event: event.name.clone(),
                        variable: name.clone(),
                    });
                };
                if !declared.kind.accepts(value) {
                    return Err(TransitionError::WrongType {
                        event: event.name.clone(),
                        variable: name.clone(),
                        value: value.to_string(),
                        kind: declared.kind.name(),
                    });
                }
                vars.insert(name.clone(), value.clone());
            }
            vars
        },
        effects: Vec::new(),
        timers: Vec::new(),
        cancel_timers: Vec::new(),
        finished: target.is_final,
    };
    if state_changed {
        run(&mut decision, &state.on_exit, now);
    }
    run(&mut decision, &transition.effects, now);
    if state_changed {
        enter(&mut decision, target, now);
    }
    Ok(decision)
}

/// The events a state takes, with who may send each.
pub fn allowed_events(state: &State) -> Vec<(String, Vec<Sender>)> {
    let mut out: Vec<(String, Vec<Sender>)> = Vec::new();
    for t in &state.transitions {
        match out.iter_mut().find(|(e, _)| *e == t.event) {
            Some((_, by)) => {
                for s in &t.by {
                    if !by.contains(s) {
                        by.push(*s);
                    }
                }
            }
            None => out.push((t.event.clone(), t.by.clone())),
        }
    }
    out
}

fn holds(guard: &Guard, instance: InstanceView<'_>) -> bool {
    match guard {
        Guard::AllChildrenIn(states) => {
            !instance.children.is_empty()
                && instance.children.iter().all(|c| states.contains(&c.state))
        }
        Guard::AnyChildIn(states) => instance.children.iter().any(|c| states.contains(&c.state)),
        Guard::Variable(name, value) => instance.variables.get(name) == Some(value),
        Guard::Not(inner) => !holds(inner, instance),
        Guard::All(all) => all.iter().all(|g| holds(g, instance)),
    }
}

fn enter(decision: &mut Decision, state: &State, now: DateTime<Utc>) {
    run(decision, &state.on_entry, now);
    let mut planned: Vec<TimerPlan> = Vec::new();
    // `before` timers refer to others of the state, so plan the others first.
    for spec in state
        .timers
        .iter()
        .filter(|t| !matches!(t.when, TimerWhen::Before { .. }))
    {
        planned.extend(plan(spec, now, &planned, true, &decision.variables));
    }
    for spec in state
        .timers
        .iter()
        .filter(|t| matches!(t.when, TimerWhen::Before { .. }))
    {
        // A reminder that would be due before the state was even entered is not sent late.
        if let Some(timer) = plan(spec, now, &planned, true, &decision.variables)
            && timer.due_at > now
        {
            planned.push(timer);
        }
    }
    decision.timers.extend(planned);
}

/// When `spec` is due, entered at `now`; none for a timer on a date variable that holds no
/// date (the instance then waits where it is, rather than move on by a guess).
fn plan(
    spec: &TimerSpec,
    now: DateTime<Utc>,
    planned: &[TimerPlan],
    state_scoped: bool,
    variables: &Map<String, Value>,
) -> Option<TimerPlan> {
    let mut anchor = None;
    let due_at = match &spec.when {
        TimerWhen::After(d) => add_local(now, *d),
        TimerWhen::AfterDate { variable, by } => {
            let day = variables
                .get(variable)
                .and_then(Value::as_str)
                .and_then(|d| chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())?;
            add_local(start_of_local_day(day), *by)
        }
        TimerWhen::Before { timer, by } => {
            let at = planned
                .iter()
                .find(|t| t.name == *timer)
                .map_or(now, |t| t.due_at);
            anchor = Some((timer.clone(), at));
            sub_local(at, *by)
        }
    };
    Some(TimerPlan {
        name: spec.name.clone(),
        event: spec.event.clone(),
        due_at,
        repeat: spec.repeat,
        vardag: spec.vardag,
        state_scoped,
        anchor,
    })
}

fn run(decision: &mut Decision, effects: &[EffectSpec], now: DateTime<Utc>) {
    for effect in effects {
        let resolved = match effect {
            EffectSpec::Set(values) => {
                for (k, v) in values {
                    decision.variables.insert(k.clone(), v.clone());
                }
                continue;
            }
            EffectSpec::SetTimer(spec) => {
                let Some(timer) = plan(spec, now, &decision.timers, false, &decision.variables)
                else {
                    continue;
                };
                decision.timers.retain(|t| t.name != timer.name);
                // As for a state's timers: a reminder already overdue is not sent late.
                let overdue = matches!(spec.when, TimerWhen::Before { .. }) && timer.due_at <= now;
                if !overdue {
                    decision.timers.push(timer);
                }
                continue;
            }
            EffectSpec::CancelTimer(name) => {
                decision.cancel_timers.push(name.clone());
                decision.timers.retain(|t| t.name != *name);
                continue;
            }
            EffectSpec::Email { template, to, link } => Effect::Email {
                template: template.clone(),
                to: to.clone(),
                link: *link,
            },
            EffectSpec::Document {
                template,
                direction,
                description,
            } => Effect::Document {
                template: template.clone(),
                direction: *direction,
                description: substitute(description, &decision.variables),
            },
            EffectSpec::StartChildren { workflow, per } => Effect::StartChildren {
                workflow: workflow.clone(),
                per: *per,
            },
            EffectSpec::NotifyParent { event } => Effect::NotifyParent {
                event: event.clone(),
            },
            EffectSpec::NotifyChildren { event } => Effect::NotifyChildren {
                event: event.clone(),
            },
            EffectSpec::Refer { organ } => Effect::Refer {
                organ: substitute(organ, &decision.variables),
            },
            EffectSpec::CloseCase { reason } => Effect::CloseCase {
                reason: substitute(reason, &decision.variables),
            },
            EffectSpec::Dispatch { template, attach } => Effect::Dispatch {
                template: template.clone(),
                attach: attach.clone(),
            },
        };
        decision.effects.push(resolved);
    }
}

/// Replaces every `${name}` with the variable's value; an unset variable becomes empty text.
/// One pass from left to right over the text as written: the name is read as validation reads
/// it (`${ year }` is `year`), and a value that itself holds `${...}` is not expanded again.
pub fn substitute(text: &str, variables: &Map<String, Value>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        out.push_str(&rest[..start]);
        match variables.get(after[..end].trim()) {
            Some(Value::String(s)) => out.push_str(s),
            Some(Value::Null) | None => {}
            Some(other) => out.push_str(&other.to_string()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod substitution_tests {
    use super::*;

    #[test]
    fn names_are_read_as_validation_reads_them_and_values_are_not_expanded_again() {
        let vars: Map<String, Value> =
            serde_json::from_str(r#"{"year": 2026, "organ": "KSAU", "note": "${year}"}"#).unwrap();
        assert_eq!(
            substitute("År ${ year }, ${organ}.", &vars),
            "År 2026, KSAU."
        );
        assert_eq!(substitute("${note}", &vars), "${year}");
        assert_eq!(substitute("${saknas}x ${oavslutad", &vars), "x ${oavslutad");
    }
}

#[cfg(test)]
mod swedish_tests {
    use std::collections::BTreeSet;
    use std::path::Path;

    use super::*;
    use crate::domain::organisation::Role;
    use crate::workflow::catalog::parse;

    const PROV: &str = "id: prov
title: Prov
variables:
  klar: { type: boolean, default: false }
initial: utkast
states:
  utkast:
    on:
      - event: vidare
        by: [handläggare]
        label: Skicka vidare
        guard: { variable: { name: klar, equals: true } }
        to: klart
      - event: paminn
        by: [system]
      - event: svara
        by: [chef, förvaltningschef, registrator]
  klart:
    final: true
";

    fn refusal(event: &str, sender: Sender, values: Map<String, Value>) -> TransitionError {
        let workflow = parse(Path::new("prov.yaml"), PROV).unwrap_or_else(|p| panic!("{p:?}"));
        let variables = Map::from_iter([("klar".to_owned(), Value::Bool(false))]);
        let instance = InstanceView {
            state: "utkast",
            variables: &variables,
            children: &[],
        };
        let event = Event {
            name: event.to_owned(),
            sender,
            values,
        };
        apply(&workflow, instance, &event, Utc::now()).unwrap_err()
    }

    /// No English of the engine's messages in a Swedish wording.
    fn swedish_only(text: &str) {
        for english in [
            "is not allowed",
            "allowed now",
            "may not send",
            "may be sent by",
            "condition does not hold",
            "is finished",
            "does not declare",
            "is not in the workflow",
            "event \"",
        ] {
            assert!(!text.contains(english), "{english:?} in {text:?}");
        }
    }

    #[test]
    fn every_refusal_is_worded_in_swedish_with_the_workflows_names() {
        let handlaggare = Sender::Role(Role::Handlaggare);
        let cases = [
            (
                refusal("godkann", handlaggare, Map::new()),
                "Åtgärden ”godkann” går inte att göra när ärendet är i läget ”utkast”. Nu går det \
                 att: ”vidare”, ”paminn”, ”svara”.",
            ),
            (
                refusal("svara", handlaggare, Map::new()),
                "Din roll (handläggare) får inte göra ”svara” när ärendet är i läget ”utkast”. \
                 Det får chef, förvaltningschef eller registrator.",
            ),
            (
                refusal("paminn", handlaggare, Map::new()),
                "Åtgärden ”paminn” görs av systemet självt och går inte att göra för hand.",
            ),
            (
                refusal("vidare", handlaggare, Map::new()),
                "Villkoret för ”vidare” är inte uppfyllt: ”klar” är ja.",
            ),
            (
                refusal(
                    "svara",
                    Sender::Role(Role::Chef),
                    Map::from_iter([("saknas".to_owned(), Value::Bool(true))]),
                ),
                "Åtgärden ”svara” anger uppgiften ”saknas”, som inte finns i flödet. Kontakta \
                 administratören.",
            ),
            (
                refusal(
                    "svara",
                    Sender::Role(Role::Chef),
                    Map::from_iter([("klar".to_owned(), Value::String("ja".into()))]),
                ),
                "Åtgärden ”svara” anger ”ja” som ”klar”, men ”klar” ska vara ja eller nej.",
            ),
            (
                TransitionError::Finished {
                    state: "klart".into(),
                },
                "Arbetsflödet är redan avslutat (läget ”klart”) och tar inte emot fler åtgärder.",
            ),
            (
                TransitionError::UnknownState("borttaget".into()),
                "Ärendet är i läget ”borttaget”, som inte finns i flödet. Kontakta \
                 administratören.",
            ),
            (
                TransitionError::NotAllowed {
                    event: "svar".into(),
                    state: "klart".into(),
                    allowed: String::new(),
                },
                "Åtgärden ”svar” går inte att göra när ärendet är i läget ”klart”. Just nu går \
                 ingen åtgärd att göra.",
            ),
        ];
        for (refusal, swedish) in cases {
            assert_eq!(refusal.swedish(), swedish, "{refusal}");
            swedish_only(&refusal.swedish());
        }
    }

    #[test]
    fn the_page_names_the_step_by_its_label_and_display_stays_english() {
        let refused = refusal("vidare", Sender::Role(Role::Handlaggare), Map::new());
        assert_eq!(
            refused.swedish_with_label("Skicka vidare"),
            "Villkoret för ”Skicka vidare” är inte uppfyllt: ”klar” är ja."
        );
        assert_eq!(
            refused.swedish_with_label(" "),
            refused.swedish(),
            "a blank label is no label"
        );
        assert_eq!(
            refused.to_string(),
            "event \"vidare\" in state utkast: the condition does not hold (klar = true)"
        );
    }

    #[test]
    fn the_steps_that_can_be_taken_now_are_named_as_the_page_names_them() {
        let refused = TransitionError::NotAllowed {
            event: "godkann".into(),
            state: "inbjuden".into(),
            allowed: "utkast_sparat, paminn".into(),
        };
        let labels = |event: &str| match event {
            "utkast_sparat" => Some("Spara utkast".to_owned()),
            _ => None,
        };
        assert_eq!(
            refused.swedish_naming_steps("Godkänn svaret", &labels),
            "Åtgärden ”Godkänn svaret” går inte att göra när ärendet är i läget ”inbjuden”. \
             Nu går det att: ”Spara utkast”."
        );
        // None to name here: the sentence stops at the refusal, it does not say none exist.
        assert_eq!(
            refused.swedish_naming_steps("Godkänn svaret", &|_| None),
            "Åtgärden ”Godkänn svaret” går inte att göra när ärendet är i läget ”inbjuden”."
        );
        let nothing = TransitionError::NotAllowed {
            event: "godkann".into(),
            state: "inbjuden".into(),
            allowed: String::new(),
        };
        assert!(
            nothing
                .swedish()
                .ends_with("Just nu går ingen åtgärd att göra.")
        );
    }

    #[test]
    fn conditions_are_worded_in_swedish() {
        let states = |s: &[&str]| s.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
        let guard = Guard::All(vec![
            Guard::AllChildrenIn(states(&["godkand"])),
            Guard::Not(Box::new(Guard::AnyChildIn(states(&[
                "returnerad",
                "utkast",
            ])))),
            Guard::Variable("organ".into(), Value::String("KSAU".into())),
            Guard::Variable("to_kf".into(), Value::Bool(false)),
        ]);
        let worded = guard_in_swedish(&guard);
        assert_eq!(
            worded,
            "alla delflöden är i läget ”godkand” och det gäller inte att något delflöde är i \
             något av lägena ”returnerad”, ”utkast” och ”organ” är ”KSAU” och ”to_kf” är nej"
        );
    }
}
