//! A validated workflow: every state named exists and is reachable, every event has a sender,
//! every duration and cron expression parses, every variable used is declared. Built only by
//! [`validate`], so the engine never meets a broken definition.

use std::collections::{BTreeSet, HashSet, VecDeque};
use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use chrono::Duration;
use indexmap::IndexMap;
use serde_json::Value;
use serde_saphyr::Spanned;

use super::definition::{
    RawEffect, RawGuard, RawQuestionnaire, RawTimer, RawTransition, RawWorkflow,
};
use super::duration::parse_duration;
use crate::domain::document::Direction;
use crate::domain::organisation::{Role, UnitKind};

/// Variables every instance has without declaring them.
pub const BUILT_IN_VARIABLES: &[&str] =
    &["year", "period", "case_number", "unit_code", "unit_name"];

/// A problem in a workflow file, with its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file.
    pub file: PathBuf,
    /// 1-based line, 0 when unknown.
    pub line: u64,
    /// 1-based column, 0 when unknown.
    pub column: u64,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

/// Who may send an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Sender {
    /// Timers, child instances, the scheduler.
    System,
    /// A person holding a role.
    Role(Role),
}

impl fmt::Display for Sender {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sender::System => f.write_str("system"),
            Sender::Role(r) => f.write_str(r.label()),
        }
    }
}

impl FromStr for Sender {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.trim() == "system" {
            return Ok(Sender::System);
        }
        s.parse::<Role>()
            .map(Sender::Role)
            .map_err(|e| e.to_string())
    }
}

/// A validated workflow.
#[derive(Debug, Clone)]
pub struct Workflow {
    /// Its id (the file name without `.yaml`).
    pub id: String,
    /// Shown to people.
    pub title: String,
    /// The ärende a root instance opens.
    pub case: Option<CaseSpec>,
    /// The cron schedule.
    pub schedule: Option<Schedule>,
    /// Declared variables with their defaults.
    pub variables: IndexMap<String, Variable>,
    /// The events its meetings send (none for a workflow meetings do not move).
    pub meetings: MeetingEvents,
    /// The questionnaire its answer links answer, and the events answering sends.
    pub questionnaire: Option<AnswerFlow>,
    /// The timer whose due time emails show as the answering deadline.
    pub deadline: Option<String>,
    /// The initial state.
    pub initial: String,
    /// The states, in file order.
    pub states: IndexMap<String, State>,
    /// The workflows started as children, and the templates used: for cross-file checks.
    pub references: References,
}

impl Workflow {
    /// Whether instances of this workflow ever have children (so guards may count them).
    pub fn has_children(&self) -> bool {
        !self.references.workflows.is_empty()
    }
}

/// The events with which meetings move a workflow: the workflow says which of its own events
/// a decision, a proposal and a justering are, so that no meeting code names them. One left
/// out is a step the workflow does not take from a meeting.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MeetingEvents {
    /// Sent when an organ decides on the ärende.
    pub decision: Option<String>,
    /// Sent when an organ proposes a decision to another organ.
    pub proposal: Option<String>,
    /// Sent when the protocol holding the ärende's last decision is justerat.
    pub justering: Option<String>,
    /// Sent when an organ sends the ärende back for more preparation (återremiss).
    pub referral: Option<String>,
}

/// How answering a questionnaire moves a workflow: which questionnaire, in which states the
/// answer link takes answers, and which of the workflow's own events a save, a submission, an
/// approval and a return are, so that no answering code names a state or an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AnswerFlow {
    /// The questionnaire's id in `enkater/`; its version is the one for the instance's `year`.
    pub id: String,
    /// The states in which the answer link takes answers.
    pub answering: Vec<String>,
    /// The state in which the answer waits for approval.
    pub awaiting_approval: String,
    /// Sent by a save when the current state takes it to another state (the first draft).
    pub draft: Option<String>,
    /// Sent when the answer is submitted.
    pub submit: String,
    /// Sent when the answer is approved.
    pub approve: String,
    /// Sent when the answer is returned for completion.
    pub return_: String,
    /// The variable a return sets to the approver's comment.
    pub comment: String,
    /// The events that remind the link's holder.
    pub reminders: Vec<String>,
}

impl AnswerFlow {
    /// Whether the answer link takes answers in `state`.
    pub fn takes_answers_in(&self, state: &str) -> bool {
        self.answering.iter().any(|s| s == state)
    }
}

impl Workflow {
    /// Who sends `event` in `state` on behalf of a person: the first role its transition names.
    pub fn person_sending(&self, state: &str, event: &str) -> Option<Role> {
        self.states
            .get(state)?
            .transitions
            .iter()
            .filter(|t| t.event == event)
            .flat_map(|t| &t.by)
            .find_map(|s| match s {
                Sender::Role(r) => Some(*r),
                Sender::System => None,
            })
    }

    /// Whether `event` in `state` takes the instance to another state.
    pub fn moves(&self, state: &str, event: &str) -> bool {
        self.states.get(state).is_some_and(|s| {
            s.transitions
                .iter()
                .any(|t| t.event == event && t.to.as_deref().is_some_and(|to| to != state))
        })
    }
}

/// What a workflow refers to outside itself.
#[derive(Debug, Clone, Default)]
pub struct References {
    /// Child workflows, with where they are named.
    pub workflows: Vec<(String, u64, u64)>,
    /// Email templates, with where they are named.
    pub email_templates: Vec<(String, u64, u64)>,
    /// Document templates, with where they are named.
    pub document_templates: Vec<(String, u64, u64)>,
    /// The questionnaire, with where it is named.
    pub questionnaires: Vec<(String, u64, u64)>,
}

/// The ärende a root workflow opens.
#[derive(Debug, Clone)]
pub struct CaseSpec {
    /// Series prefix.
    pub series: String,
    /// Title template.
    pub title: String,
    /// Public title template.
    pub public_title: Option<String>,
    /// KLASSA code.
    pub classification: Option<String>,
    /// Handläggare template.
    pub handlaggare: Option<String>,
    /// Link to the previous period's ärende.
    pub link_previous: bool,
}

/// A cron schedule in Europe/Stockholm.
#[derive(Debug, Clone)]
pub struct Schedule {
    /// The expression as written.
    pub expression: String,
    /// Parsed.
    pub cron: cron::Schedule,
    /// How long a missed start may be late.
    pub catch_up: Duration,
}

/// A declared variable.
#[derive(Debug, Clone)]
pub struct Variable {
    /// Its type.
    pub kind: VariableKind,
    /// Its default.
    pub default: Option<Value>,
}

/// The type of a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VariableKind {
    /// Text.
    String,
    /// Whole number.
    Integer,
    /// Yes or no.
    Boolean,
    /// A day, `YYYY-MM-DD`.
    Date,
}

impl VariableKind {
    /// The type's name as written in workflow files.
    pub fn name(self) -> &'static str {
        match self {
            VariableKind::String => "string",
            VariableKind::Integer => "integer",
            VariableKind::Boolean => "boolean",
            VariableKind::Date => "date",
        }
    }

    /// Reads a value of this type from text, as typed on a command line or in a form.
    pub fn parse(self, text: &str) -> Result<Value, String> {
        let trimmed = text.trim();
        let value = match self {
            VariableKind::String => Value::String(text.to_owned()),
            VariableKind::Integer => match trimmed.parse::<i64>() {
                Ok(n) => Value::from(n),
                Err(_) => return Err(format!("{text:?} is not a whole number")),
            },
            VariableKind::Boolean => match trimmed {
                "true" | "ja" => Value::Bool(true),
                "false" | "nej" => Value::Bool(false),
                _ => return Err(format!("{text:?} is not true/ja or false/nej")),
            },
            VariableKind::Date => Value::String(trimmed.to_owned()),
        };
        match self.accepts(&value) {
            true => Ok(value),
            false => Err(format!("{text:?} is not a date (YYYY-MM-DD)")),
        }
    }

    pub(crate) fn accepts(self, value: &Value) -> bool {
        match self {
            VariableKind::String => value.is_string(),
            VariableKind::Integer => value.is_i64() || value.is_u64(),
            VariableKind::Boolean => value.is_boolean(),
            VariableKind::Date => value
                .as_str()
                .is_some_and(|s| chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").is_ok()),
        }
    }
}

/// A state.
#[derive(Debug, Clone)]
pub struct State {
    /// Its name.
    pub name: String,
    /// What it means.
    pub description: Option<String>,
    /// Whether the instance is done here.
    pub is_final: bool,
    /// Effects on entry.
    pub on_entry: Vec<EffectSpec>,
    /// Effects on exit.
    pub on_exit: Vec<EffectSpec>,
    /// Timers that run while in the state.
    pub timers: Vec<TimerSpec>,
    /// Transitions, in file order; the first whose guard holds is taken.
    pub transitions: Vec<Transition>,
}

/// A transition.
#[derive(Debug, Clone)]
pub struct Transition {
    /// The event.
    pub event: String,
    /// Who may send it.
    pub by: Vec<Sender>,
    /// The next state; `None` stays.
    pub to: Option<String>,
    /// The condition.
    pub guard: Option<Guard>,
    /// Effects.
    pub effects: Vec<EffectSpec>,
    /// For people.
    pub description: Option<String>,
    /// The event's Swedish name for buttons and pictures; the code when `None`.
    pub label: Option<String>,
}

impl State {
    /// Every effect the state declares: on entry, on exit and on its transitions.
    pub fn effects(&self) -> impl Iterator<Item = &EffectSpec> {
        self.on_entry
            .iter()
            .chain(&self.on_exit)
            .chain(self.transitions.iter().flat_map(|t| &t.effects))
    }

    /// Every timer the state runs or one of its effects sets.
    pub fn timers_set(&self) -> impl Iterator<Item = &TimerSpec> {
        self.timers
            .iter()
            .chain(self.effects().filter_map(|e| match e {
                EffectSpec::SetTimer(t) => Some(t),
                _ => None,
            }))
    }

    /// What people call `event` in this state: the label of its transitions (validation keeps
    /// them from disagreeing), else the event's code.
    pub fn event_label<'a>(&'a self, event: &'a str) -> &'a str {
        self.transitions
            .iter()
            .filter(|t| t.event == event)
            .find_map(|t| t.label.as_deref())
            .unwrap_or(event)
    }
}

/// When a timer is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TimerWhen {
    /// This long after the state is entered.
    After(Duration),
    /// This long before another timer of the state.
    Before {
        /// The other timer.
        timer: String,
        /// How long before.
        by: Duration,
    },
    /// This long after the start (00:00 in Stockholm) of the day a date variable holds: the
    /// day after the last day for appeal, say, whenever the state was entered. Not planned
    /// while the variable holds no date.
    AfterDate {
        /// The variable (of type `date`).
        variable: String,
        /// How long after the day's start.
        by: Duration,
    },
}

/// A timer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimerSpec {
    /// Name.
    pub name: String,
    /// The event it sends.
    pub event: String,
    /// When it is due.
    pub when: TimerWhen,
    /// Repeat interval and count.
    pub repeat: Option<(Duration, u32)>,
    /// Only on vardagar, in office hours.
    pub vardag: bool,
}

/// A condition on a transition.
#[derive(Debug, Clone, PartialEq)]
pub enum Guard {
    /// Every child is in one of these states (and there is at least one).
    AllChildrenIn(BTreeSet<String>),
    /// Some child is in one of these states.
    AnyChildIn(BTreeSet<String>),
    /// A variable equals a value.
    Variable(String, Value),
    /// Negation.
    Not(Box<Guard>),
    /// Conjunction.
    All(Vec<Guard>),
}

impl fmt::Display for Guard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let list = |s: &BTreeSet<String>| s.iter().cloned().collect::<Vec<_>>().join(", ");
        match self {
            Guard::AllChildrenIn(s) => write!(f, "all children in [{}]", list(s)),
            Guard::AnyChildIn(s) => write!(f, "some child in [{}]", list(s)),
            Guard::Variable(n, v) => write!(f, "{n} = {v}"),
            Guard::Not(g) => write!(f, "not ({g})"),
            Guard::All(gs) => {
                let parts: Vec<String> = gs.iter().map(|g| g.to_string()).collect();
                write!(f, "{}", parts.join(" and "))
            }
        }
    }
}

/// An effect as declared; strings may still hold `${variable}`.
#[derive(Debug, Clone, PartialEq)]
pub enum EffectSpec {
    /// Send an email.
    Email {
        /// Template id.
        template: String,
        /// Recipients.
        to: Vec<Recipient>,
        /// The personal link the message carries.
        link: Option<LinkPurpose>,
    },
    /// Register a rendered document.
    Document {
        /// Template id.
        template: String,
        /// Direction.
        direction: Direction,
        /// Description template.
        description: String,
    },
    /// Start children.
    StartChildren {
        /// Child workflow.
        workflow: String,
        /// Unit kind.
        per: UnitKind,
    },
    /// Event to the parent.
    NotifyParent {
        /// The event.
        event: String,
    },
    /// Event to every child still running.
    NotifyChildren {
        /// The event.
        event: String,
    },
    /// Set variables.
    Set(IndexMap<String, Value>),
    /// Start a timer.
    SetTimer(TimerSpec),
    /// Stop a timer.
    CancelTimer(String),
    /// Move to an organ's agenda.
    Refer {
        /// Organ template.
        organ: String,
    },
    /// Close the ärende.
    CloseCase {
        /// Why.
        reason: String,
    },
    /// Send the decision to "Beslutet skickas till".
    Dispatch {
        /// The covering letter's template.
        template: String,
        /// The document template whose latest handling is attached.
        attach: String,
    },
}

/// What a personal link in an email lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum LinkPurpose {
    /// Answer the questionnaire for the instance's unit.
    Answer,
    /// Read the submitted answer and approve or return it.
    Signoff,
}

impl LinkPurpose {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            LinkPurpose::Answer => "answer",
            LinkPurpose::Signoff => "signoff",
        }
    }
}

/// Who an email goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recipient {
    /// Holders of a role in the instance's unit (or, for handläggare, the ärende's).
    Role(Role),
    /// The ärende's handläggare.
    Handlaggare,
    /// The unit's own address.
    Unit,
}

struct Checker<'a> {
    file: &'a PathBuf,
    problems: Vec<Problem>,
    variables: HashSet<String>,
    kinds: std::collections::HashMap<String, VariableKind>,
    refs: References,
}

impl Checker<'_> {
    fn at<T>(&mut self, span: &Spanned<T>, message: impl Into<String>) {
        self.problems.push(Problem {
            file: self.file.clone(),
            line: span.referenced.line(),
            column: span.referenced.column(),
            message: message.into(),
        });
    }

    fn at_pos(&mut self, line: u64, column: u64, message: impl Into<String>) {
        self.problems.push(Problem {
            file: self.file.clone(),
            line,
            column,
            message: message.into(),
        });
    }

    /// Checks every `${name}` in a text against the declared variables.
    fn text(&mut self, line: u64, column: u64, what: &str, text: &str) {
        for name in placeholders(text) {
            if !self.variables.contains(name) && !BUILT_IN_VARIABLES.contains(&name) {
                self.at_pos(
                    line,
                    column,
                    format!("{what} uses undefined variable ${{{name}}}"),
                );
            }
        }
    }
}

/// The `${name}` placeholders in a text.
pub fn placeholders(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        match after.find('}') {
            Some(end) => {
                out.push(after[..end].trim());
                rest = &after[end + 1..];
            }
            None => break,
        }
    }
    out
}

/// Validates a parsed file. `file` names it in problems; its stem must equal the id.
pub fn validate(file: &PathBuf, raw: RawWorkflow) -> Result<Workflow, Vec<Problem>> {
    let mut c = Checker {
        file,
        problems: Vec::new(),
        variables: raw.variables.keys().cloned().collect(),
        kinds: Default::default(),
        refs: References::default(),
    };
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    if raw.id.value != stem {
        c.at(
            &raw.id,
            format!("id {:?} must equal the file name {stem:?}", raw.id.value),
        );
    }

    let mut variables = IndexMap::new();
    for (name, spec) in &raw.variables {
        if BUILT_IN_VARIABLES.contains(&name.as_str()) {
            c.at(
                spec,
                format!("variable {name} is built in and cannot be declared"),
            );
        }
        let kind = match spec.value.kind.as_str() {
            "string" => VariableKind::String,
            "integer" => VariableKind::Integer,
            "boolean" => VariableKind::Boolean,
            "date" => VariableKind::Date,
            other => {
                c.at(spec, format!("variable {name}: unknown type {other:?}; use string, integer, boolean or date"));
                continue;
            }
        };
        if let Some(default) = &spec.value.default
            && !kind.accepts(default)
        {
            c.at(
                spec,
                format!(
                    "variable {name}: default {default} is not a {}",
                    spec.value.kind
                ),
            );
        }
        c.kinds.insert(name.clone(), kind);
        variables.insert(
            name.clone(),
            Variable {
                kind,
                default: spec.value.default.clone(),
            },
        );
    }

    let case = raw.case.as_ref().map(|case| {
        let (l, col) = (case.referenced.line(), case.referenced.column());
        let v = &case.value;
        c.text(l, col, "case title", &v.title);
        if let Some(t) = &v.public_title {
            c.text(l, col, "case public_title", t);
        }
        if let Some(h) = &v.handlaggare {
            c.text(l, col, "case handlaggare", h);
        }
        CaseSpec {
            series: v.series.clone(),
            title: v.title.clone(),
            public_title: v.public_title.clone(),
            classification: v.classification.clone(),
            handlaggare: v.handlaggare.clone(),
            link_previous: v.link_previous,
        }
    });

    let schedule = raw.schedule.as_ref().and_then(|s| {
        let parsed = match cron::Schedule::from_str(&s.value.cron) {
            Ok(p) => Some(p),
            Err(e) => {
                // The cron crate's message draws a caret under the input over several lines;
                // its last line says what is wrong, and a problem must fit on one line.
                let reason = e.to_string();
                let reason = reason
                    .lines()
                    .map(|l| l.trim().trim_matches(|c| c == '(' || c == ')'))
                    .rfind(|l| !l.is_empty() && *l != "^")
                    .unwrap_or_default()
                    .to_owned();
                c.at(s, format!("schedule: bad cron expression {:?} ({reason}); write six fields, seconds first, e.g. \"0 0 7 1 10 *\"", s.value.cron));
                None
            }
        };
        let catch_up = match s.value.catch_up.as_deref().map(parse_duration).transpose() {
            Ok(d) => d.unwrap_or(Duration::days(14)),
            Err(e) => {
                c.at(s, format!("schedule: catch_up: {e}"));
                Duration::days(14)
            }
        };
        parsed.map(|cron| Schedule { expression: s.value.cron.clone(), cron, catch_up })
    });

    let names: HashSet<&String> = raw.states.keys().collect();
    if !names.contains(&raw.initial.value) {
        c.at(
            &raw.initial,
            format!("initial state {:?} is not defined", raw.initial.value),
        );
    }

    let mut states = IndexMap::new();
    for (name, spec) in &raw.states {
        let s = &spec.value;
        let on_entry = effects(&mut c, &s.on_entry);
        let on_exit = effects(&mut c, &s.on_exit);
        let mut timers = Vec::new();
        for t in &s.timers {
            if let Some(timer) = timer(&mut c, t, &t.value) {
                timers.push(timer);
            }
        }
        // Names from the file, not from the timers that parsed: a timer with a bad duration is
        // reported once, not again by every timer that refers to it.
        let timer_names: HashSet<&str> = s.timers.iter().map(|t| t.value.name.as_str()).collect();
        for t in &timers {
            if let TimerWhen::Before { timer, .. } = &t.when
                && !timer_names.contains(timer.as_str())
            {
                c.at(spec, format!("state {name}: timer {} is due before timer {timer:?}, which the state does not have", t.name));
            }
        }
        if timer_names.len() != s.timers.len() {
            c.at(spec, format!("state {name}: two timers have the same name"));
        }
        let mut transitions = Vec::new();
        for t in &s.on {
            if let Some(tr) = transition(&mut c, &names, t) {
                transitions.push(tr);
            }
        }
        // One event is one button, so its transitions (guarded variants) must be called alike.
        for (i, t) in transitions.iter().enumerate() {
            let Some(label) = &t.label else { continue };
            if let Some(other) = transitions[..i]
                .iter()
                .filter(|o| o.event == t.event)
                .find_map(|o| o.label.as_ref().filter(|l| *l != label))
            {
                c.at(spec, format!("state {name}: event {} has two labels, {other:?} and {label:?}; a button shows one, so give its transitions the same label", t.event));
            }
        }
        if s.is_final && !transitions.is_empty() {
            c.at(spec, format!("state {name} is final but has transitions"));
        }
        if s.is_final && !timers.is_empty() {
            c.at(spec, format!("state {name} is final but has timers"));
        }
        if !s.is_final && transitions.is_empty() {
            c.at(spec, format!("state {name} has no transitions and is not final: an instance would stop there forever"));
        }
        for t in &timers {
            if !s.is_final && !transitions.iter().any(|tr| tr.event == t.event) {
                c.at(
                    spec,
                    format!(
                        "state {name}: timer {} sends {:?}, which no transition of the state takes",
                        t.name, t.event
                    ),
                );
            }
        }
        states.insert(
            name.clone(),
            State {
                name: name.clone(),
                description: s.description.clone(),
                is_final: s.is_final,
                on_entry,
                on_exit,
                timers,
                transitions,
            },
        );
    }

    // Reachability from the initial state.
    if states.contains_key(&raw.initial.value) {
        let mut seen: HashSet<&str> = HashSet::new();
        let mut queue = VecDeque::from([raw.initial.value.as_str()]);
        while let Some(s) = queue.pop_front() {
            if !seen.insert(s) {
                continue;
            }
            if let Some(state) = states.get(s) {
                for t in &state.transitions {
                    if let Some(to) = &t.to {
                        queue.push_back(to.as_str());
                    }
                }
            }
        }
        for (name, spec) in &raw.states {
            if !seen.contains(name.as_str()) {
                c.at(
                    spec,
                    format!(
                        "state {name} cannot be reached from the initial state {}",
                        raw.initial.value
                    ),
                );
            }
        }
        if !states.values().any(|s| s.is_final) {
            c.at(&raw.initial, "the workflow has no final state");
        }
    }

    let meetings = match &raw.meetings {
        None => MeetingEvents::default(),
        Some(declared) => {
            let taken: HashSet<&str> = states
                .values()
                .flat_map(|s| s.transitions.iter().map(|t| t.event.as_str()))
                .collect();
            let m = &declared.value;
            for (key, event) in [
                ("decision", &m.decision),
                ("proposal", &m.proposal),
                ("justering", &m.justering),
                ("referral", &m.referral),
            ] {
                if let Some(event) = event
                    && !taken.contains(event.as_str())
                {
                    c.at(
                        declared,
                        format!("meetings: {key}: event {event} is taken by no state"),
                    );
                }
            }
            MeetingEvents {
                decision: m.decision.clone(),
                proposal: m.proposal.clone(),
                justering: m.justering.clone(),
                referral: m.referral.clone(),
            }
        }
    };

    let questionnaire = raw
        .questionnaire
        .as_ref()
        .map(|declared| answer_flow(&mut c, declared, &states, &variables));
    let deadline = raw.deadline.as_ref().map(|declared| {
        let name = declared.value.trim();
        if !timer_names(&states).contains(name) {
            c.at(
                declared,
                format!("deadline: no state sets a timer named {name}"),
            );
        }
        name.to_owned()
    });

    if !c.problems.is_empty() {
        // A variable used twice in one text, or a guard naming it twice, is one problem.
        let mut seen = HashSet::new();
        c.problems
            .retain(|p| seen.insert((p.line, p.column, p.message.clone())));
        return Err(c.problems);
    }
    Ok(Workflow {
        id: raw.id.value,
        title: raw.title,
        case,
        schedule,
        variables,
        meetings,
        questionnaire,
        deadline,
        initial: raw.initial.value,
        states,
        references: c.refs,
    })
}

/// Every timer name a state or an effect sets.
fn timer_names(states: &IndexMap<String, State>) -> HashSet<&str> {
    states
        .values()
        .flat_map(State::timers_set)
        .map(|t| t.name.as_str())
        .collect()
}

/// Checks a `questionnaire:` declaration against the states and variables: every state it
/// names exists, every event it names is taken where answering sends it, and the comment is a
/// string variable.
fn answer_flow(
    c: &mut Checker<'_>,
    declared: &Spanned<RawQuestionnaire>,
    states: &IndexMap<String, State>,
    variables: &IndexMap<String, Variable>,
) -> AnswerFlow {
    let d = &declared.value;
    let takes = |state: &str, event: &str| {
        states
            .get(state)
            .is_some_and(|s| s.transitions.iter().any(|t| t.event == event))
    };
    if d.id.value.trim().is_empty() {
        c.at(&d.id, "questionnaire: id: name a questionnaire in enkater/");
    } else {
        c.refs.questionnaires.push((
            d.id.value.clone(),
            d.id.referenced.line(),
            d.id.referenced.column(),
        ));
    }
    if d.answering.value.is_empty() {
        c.at(
            &d.answering,
            "questionnaire: answering: name at least one state",
        );
    }
    for state in &d.answering.value {
        match states.get(state) {
            None => c.at(
                &d.answering,
                format!("questionnaire: answering: no state {state}"),
            ),
            Some(s) if s.is_final => c.at(
                &d.answering,
                format!("questionnaire: answering: state {state} is final"),
            ),
            Some(_) if !takes(state, &d.submit.value) => c.at(
                &d.submit,
                format!(
                    "questionnaire: submit: state {state} takes answers but not event {}",
                    d.submit.value
                ),
            ),
            Some(_) => {}
        }
    }
    let waiting = &d.awaiting_approval.value;
    if !states.contains_key(waiting) {
        c.at(
            &d.awaiting_approval,
            format!("questionnaire: awaiting_approval: no state {waiting}"),
        );
    } else {
        for (key, event) in [("approve", &d.approve), ("return", &d.return_)] {
            if !takes(waiting, &event.value) {
                c.at(
                    event,
                    format!(
                        "questionnaire: {key}: state {waiting} does not take event {}",
                        event.value
                    ),
                );
            }
        }
    }
    if let Some(draft) = &d.draft
        && !d.answering.value.iter().any(|s| takes(s, &draft.value))
    {
        c.at(
            draft,
            format!(
                "questionnaire: draft: no answering state takes event {}",
                draft.value
            ),
        );
    }
    let reminders = d
        .reminders
        .as_ref()
        .map(|r| r.value.clone())
        .unwrap_or_default();
    for event in &reminders {
        if !states.keys().any(|s| takes(s, event)) {
            let at = d.reminders.as_ref().expect("reminders were given");
            c.at(
                at,
                format!("questionnaire: reminders: event {event} is taken by no state"),
            );
        }
    }
    match variables.get(&d.comment.value) {
        Some(v) if v.kind == VariableKind::String => {}
        Some(_) => c.at(
            &d.comment,
            format!(
                "questionnaire: comment: variable {} is not a string",
                d.comment.value
            ),
        ),
        None => c.at(
            &d.comment,
            format!(
                "questionnaire: comment: no variable {} is declared",
                d.comment.value
            ),
        ),
    }
    AnswerFlow {
        id: d.id.value.trim().to_owned(),
        answering: d.answering.value.clone(),
        awaiting_approval: waiting.clone(),
        draft: d.draft.as_ref().map(|e| e.value.clone()),
        submit: d.submit.value.clone(),
        approve: d.approve.value.clone(),
        return_: d.return_.value.clone(),
        comment: d.comment.value.clone(),
        reminders,
    }
}

fn transition(
    c: &mut Checker<'_>,
    names: &HashSet<&String>,
    t: &Spanned<RawTransition>,
) -> Option<Transition> {
    let v = &t.value;
    if v.event.trim().is_empty() {
        c.at(t, "a transition needs an event name");
    }
    if v.label.as_ref().is_some_and(|l| l.trim().is_empty()) {
        c.at(
            t,
            format!(
                "event {}: the label is empty; write the Swedish text or leave `label` out",
                v.event
            ),
        );
    }
    let mut by = Vec::new();
    for sender in &v.by {
        match sender.parse::<Sender>() {
            Ok(s) => by.push(s),
            Err(e) => c.at(t, format!("event {}: {e}", v.event)),
        }
    }
    if v.by.is_empty() {
        c.at(
            t,
            format!(
                "event {} can be sent by no role: list roles or system under `by`",
                v.event
            ),
        );
    }
    if let Some(to) = &v.to
        && !names.contains(to)
    {
        c.at(
            t,
            format!(
                "event {} goes to state {to:?}, which is not defined",
                v.event
            ),
        );
    }
    let guard = v.guard.as_ref().map(|g| guard(c, t, g));
    let effects = effects(c, &v.effects);
    Some(Transition {
        event: v.event.clone(),
        by,
        to: v.to.clone(),
        guard,
        effects,
        description: v.description.clone(),
        label: v.label.clone(),
    })
}

fn guard(c: &mut Checker<'_>, at: &Spanned<RawTransition>, g: &RawGuard) -> Guard {
    match g {
        RawGuard::AllChildrenIn(s) => Guard::AllChildrenIn(s.iter().cloned().collect()),
        RawGuard::AnyChildIn(s) => Guard::AnyChildIn(s.iter().cloned().collect()),
        RawGuard::Variable { name, equals } => {
            if !c.variables.contains(name) && !BUILT_IN_VARIABLES.contains(&name.as_str()) {
                c.at(at, format!("guard uses undefined variable {name}"));
            }
            Guard::Variable(name.clone(), equals.clone())
        }
        RawGuard::Not(inner) => Guard::Not(Box::new(guard(c, at, inner))),
        RawGuard::All(all) => Guard::All(all.iter().map(|g| guard(c, at, g)).collect()),
    }
}

fn timer(c: &mut Checker<'_>, at: &Spanned<impl Sized>, t: &RawTimer) -> Option<TimerSpec> {
    let (l, col) = (at.referenced.line(), at.referenced.column());
    let when = match (&t.after, &t.before, &t.after_date) {
        (Some(after), None, None) => match parse_duration(after) {
            Ok(d) => TimerWhen::After(d),
            Err(e) => {
                c.at_pos(l, col, format!("timer {}: after: {e}", t.name));
                return None;
            }
        },
        (None, None, Some(on)) => {
            let kind = c.kinds.get(on.variable.as_str()).copied();
            if kind != Some(VariableKind::Date) {
                let is = match kind {
                    None => "is not declared".to_owned(),
                    Some(other) => format!("is of type {}", other.name()),
                };
                c.at_pos(
                    l,
                    col,
                    format!(
                        "timer {}: after_date: variable {} {is}; declare it with type: date",
                        t.name, on.variable
                    ),
                );
                return None;
            }
            match parse_duration(&on.by) {
                Ok(by) => TimerWhen::AfterDate {
                    variable: on.variable.clone(),
                    by,
                },
                Err(e) => {
                    c.at_pos(l, col, format!("timer {}: after_date.by: {e}", t.name));
                    return None;
                }
            }
        }
        (None, Some(before), None) => match parse_duration(&before.by) {
            Ok(by) => TimerWhen::Before {
                timer: before.timer.clone(),
                by,
            },
            Err(e) => {
                c.at_pos(l, col, format!("timer {}: before.by: {e}", t.name));
                return None;
            }
        },
        _ => {
            c.at_pos(
                l,
                col,
                format!(
                    "timer {}: give exactly one of `after`, `before` and `after_date`",
                    t.name
                ),
            );
            return None;
        }
    };
    let repeat = match &t.repeat {
        Some(r) => match parse_duration(&r.every) {
            Ok(every) => Some((every, r.max)),
            Err(e) => {
                c.at_pos(l, col, format!("timer {}: repeat.every: {e}", t.name));
                return None;
            }
        },
        None => None,
    };
    let vardag = match t.calendar.as_deref() {
        None | Some("any") => false,
        Some("vardag") => true,
        Some(other) => {
            c.at_pos(
                l,
                col,
                format!(
                    "timer {}: calendar {other:?} is neither vardag nor any",
                    t.name
                ),
            );
            false
        }
    };
    Some(TimerSpec {
        name: t.name.clone(),
        event: t.event.clone(),
        when,
        repeat,
        vardag,
    })
}

fn effects(c: &mut Checker<'_>, list: &[Spanned<RawEffect>]) -> Vec<EffectSpec> {
    let mut out = Vec::new();
    for e in list {
        let (l, col) = (e.referenced.line(), e.referenced.column());
        let spec = match &e.value {
            RawEffect::Email { template, to, link } => {
                c.refs.email_templates.push((template.clone(), l, col));
                let mut recipients = Vec::new();
                for r in to {
                    match r.trim() {
                        "handläggare" | "handlaggare" => recipients.push(Recipient::Handlaggare),
                        "unit" | "enhet" => recipients.push(Recipient::Unit),
                        other => match other.parse::<Role>() {
                            Ok(role) => recipients.push(Recipient::Role(role)),
                            Err(err) => c.at(e, format!("email {template}: {err}")),
                        },
                    }
                }
                if to.is_empty() {
                    c.at(e, format!("email {template} has no recipients"));
                }
                {
                    let link = match link.as_deref() {
                        None => None,
                        Some("answer") => Some(LinkPurpose::Answer),
                        Some("signoff") => Some(LinkPurpose::Signoff),
                        Some(other) => {
                            c.at(
                                e,
                                format!(
                                    "email {template}: link {other:?} is neither answer nor signoff"
                                ),
                            );
                            None
                        }
                    };
                    EffectSpec::Email {
                        template: template.clone(),
                        to: recipients,
                        link,
                    }
                }
            }
            RawEffect::Document {
                template,
                direction,
                description,
            } => {
                c.refs.document_templates.push((template.clone(), l, col));
                c.text(l, col, "document description", description);
                let direction = direction.parse::<Direction>().unwrap_or_else(|err| {
                    c.at(e, format!("document {template}: {err}"));
                    Direction::Internal
                });
                EffectSpec::Document {
                    template: template.clone(),
                    direction,
                    description: description.clone(),
                }
            }
            RawEffect::StartChildren { workflow, per } => {
                c.refs.workflows.push((workflow.clone(), l, col));
                let per = per.parse::<UnitKind>().unwrap_or_else(|err| {
                    c.at(e, format!("start_children: {err}"));
                    UnitKind::Forvaltning
                });
                EffectSpec::StartChildren {
                    workflow: workflow.clone(),
                    per,
                }
            }
            RawEffect::NotifyParent { event } => EffectSpec::NotifyParent {
                event: event.clone(),
            },
            RawEffect::NotifyChildren { event } => EffectSpec::NotifyChildren {
                event: event.clone(),
            },
            RawEffect::Set(values) => {
                for name in values.keys() {
                    if BUILT_IN_VARIABLES.contains(&name.as_str()) {
                        c.at(e, format!("set: {name} is built in and cannot be set"));
                    } else if !c.variables.contains(name) {
                        c.at(e, format!("set: undefined variable {name}"));
                    } else if let Some(kind) = c.kinds.get(name)
                        && !kind.accepts(&values[name])
                    {
                        c.at(
                            e,
                            format!(
                                "set: {name} takes a {} value, not {}",
                                kind.name(),
                                values[name]
                            ),
                        );
                    }
                }
                EffectSpec::Set(values.clone())
            }
            RawEffect::SetTimer(t) => match timer(c, e, t) {
                Some(t) => EffectSpec::SetTimer(t),
                None => continue,
            },
            RawEffect::CancelTimer(name) => EffectSpec::CancelTimer(name.clone()),
            RawEffect::Refer { organ } => {
                c.text(l, col, "refer organ", organ);
                EffectSpec::Refer {
                    organ: organ.clone(),
                }
            }
            RawEffect::CloseCase { reason } => {
                c.text(l, col, "close_case reason", reason);
                EffectSpec::CloseCase {
                    reason: reason.clone(),
                }
            }
            RawEffect::Dispatch { template, attach } => {
                c.refs.email_templates.push((template.clone(), l, col));
                c.refs.document_templates.push((attach.clone(), l, col));
                EffectSpec::Dispatch {
                    template: template.clone(),
                    attach: attach.clone(),
                }
            }
        };
        out.push(spec);
    }
    out
}
