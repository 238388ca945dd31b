//! The workflow file as written: a serde mirror of the YAML with the location of every part
//! that validation may need to point at. Nothing here is trusted; [`super::model`] turns it
//! into a [`super::model::Workflow`] or a list of problems.

use indexmap::IndexMap;
use serde::Deserialize;
use serde_saphyr::Spanned;

/// A whole workflow file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawWorkflow {
    /// Must equal the file name without `.yaml`.
    pub id: Spanned<String>,
    /// Shown to people.
    pub title: String,
    /// What the workflow is for.
    #[serde(default)]
    pub description: Option<String>,
    /// A root workflow opens an ärende when it starts.
    #[serde(default)]
    pub case: Option<Spanned<RawCase>>,
    /// Starts on a schedule.
    #[serde(default)]
    pub schedule: Option<Spanned<RawSchedule>>,
    /// Variables and their defaults.
    #[serde(default)]
    pub variables: IndexMap<String, Spanned<RawVariable>>,
    /// The events that meetings send: a decision, a proposal, a justering.
    #[serde(default)]
    pub meetings: Option<Spanned<RawMeetings>>,
    /// The questionnaire this workflow's personal links answer, and how answering moves it.
    #[serde(default)]
    pub questionnaire: Option<Spanned<RawQuestionnaire>>,
    /// The timer whose due time emails show as the answering deadline.
    #[serde(default)]
    pub deadline: Option<Spanned<String>>,
    /// The state an instance starts in.
    pub initial: Spanned<String>,
    /// The states, in the order of the file.
    pub states: IndexMap<String, Spanned<RawState>>,
}

/// `meetings: { decision: beslut_fattat, proposal: forslag_beslutat, justering: protokoll_justerat,
/// referral: aterremitterat }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawMeetings {
    /// Sent when an organ decides on the ärende.
    #[serde(default)]
    pub decision: Option<String>,
    /// Sent when an organ proposes a decision to another.
    #[serde(default)]
    pub proposal: Option<String>,
    /// Sent when the protocol holding the ärende's last decision is justerat.
    #[serde(default)]
    pub justering: Option<String>,
    /// Sent when an organ sends the ärende back for more preparation (återremiss).
    #[serde(default)]
    pub referral: Option<String>,
}

/// `questionnaire: { id: aktiva-atgarder, answering: [inbjuden, …], awaiting_approval: inskickad,
/// draft: …, submit: …, approve: …, return: …, comment: comment, reminders: [paminn] }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawQuestionnaire {
    /// The questionnaire in `enkater/`, in the version for the instance's `year`.
    pub id: Spanned<String>,
    /// The states in which the answer link takes answers.
    pub answering: Spanned<Vec<String>>,
    /// The state in which the answer waits for approval through the sign-off link.
    pub awaiting_approval: Spanned<String>,
    /// Sent by a save that moves the instance (the first draft); optional.
    #[serde(default)]
    pub draft: Option<Spanned<String>>,
    /// Sent when the answer is submitted.
    pub submit: Spanned<String>,
    /// Sent when the answer is approved.
    pub approve: Spanned<String>,
    /// Sent when the answer is returned for completion.
    #[serde(rename = "return")]
    pub return_: Spanned<String>,
    /// The string variable a return sets to its comment.
    pub comment: Spanned<String>,
    /// The events that remind the holder of the answer link; counted on the progress page.
    #[serde(default)]
    pub reminders: Option<Spanned<Vec<String>>>,
}

/// The ärende a root workflow opens.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawCase {
    /// Series prefix.
    pub series: String,
    /// Title; may use `${variable}`.
    pub title: String,
    /// Public title; may use `${variable}`.
    #[serde(default)]
    pub public_title: Option<String>,
    /// KLASSA code.
    #[serde(default)]
    pub classification: Option<String>,
    /// The handläggare: a person key, or `${variable}`.
    #[serde(default)]
    pub handlaggare: Option<String>,
    /// Link the new ärende to the one this workflow opened in the previous period.
    #[serde(default)]
    pub link_previous: bool,
}

/// A cron schedule, evaluated in Europe/Stockholm.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawSchedule {
    /// Six or seven fields, seconds first: `0 0 7 1 10 *` is 07:00 on 1 October.
    pub cron: String,
    /// How long after a missed start it is still made (after downtime). Default 14d.
    #[serde(default)]
    pub catch_up: Option<String>,
}

/// A variable.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawVariable {
    /// `string`, `integer`, `boolean` or `date`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The value when nobody sets it.
    #[serde(default)]
    pub default: Option<serde_json::Value>,
    /// What it means.
    #[serde(default)]
    pub description: Option<String>,
}

/// A state.
#[derive(Debug, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct RawState {
    /// What it means, in Swedish.
    #[serde(default)]
    pub description: Option<String>,
    /// An instance in a final state is done.
    #[serde(default, rename = "final")]
    pub is_final: bool,
    /// Effects when the state is entered.
    #[serde(default)]
    pub on_entry: Vec<Spanned<RawEffect>>,
    /// Effects when the state is left.
    #[serde(default)]
    pub on_exit: Vec<Spanned<RawEffect>>,
    /// Timers that run while the instance is in this state.
    #[serde(default)]
    pub timers: Vec<Spanned<RawTimer>>,
    /// Transitions out of (or within) this state.
    #[serde(default)]
    pub on: Vec<Spanned<RawTransition>>,
}

/// A transition.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTransition {
    /// The event that triggers it.
    pub event: String,
    /// Who may send the event: roles, or `system` (timers, children, the scheduler).
    pub by: Vec<String>,
    /// The next state; left out, the instance stays (no exit or entry effects run).
    #[serde(default)]
    pub to: Option<String>,
    /// A condition.
    #[serde(default)]
    pub guard: Option<RawGuard>,
    /// Effects of taking the transition.
    #[serde(default)]
    pub effects: Vec<Spanned<RawEffect>>,
    /// What the step means, for people.
    #[serde(default)]
    pub description: Option<String>,
    /// The event's name for people, in Swedish: the text of its button and of its arrow in the
    /// picture of the workflow. Left out, the event's code is shown.
    #[serde(default)]
    pub label: Option<String>,
}

/// A timer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawTimer {
    /// Its name, unique in the state.
    pub name: String,
    /// The event it sends when it fires.
    pub event: String,
    /// Due this long after the state is entered.
    #[serde(default)]
    pub after: Option<String>,
    /// Due this long before another timer of the state.
    #[serde(default)]
    pub before: Option<RawBefore>,
    /// Due this long after the start of the day a date variable holds.
    #[serde(default)]
    pub after_date: Option<RawAfterDate>,
    /// Fire again at this interval, at most `max` more times, while in the state.
    #[serde(default)]
    pub repeat: Option<RawRepeat>,
    /// `vardag`: a due time on a weekend, holiday or outside office hours moves to the next
    /// vardag's office hours.
    #[serde(default)]
    pub calendar: Option<String>,
}

/// `before: { timer: deadline, by: 14d }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawBefore {
    /// The other timer.
    pub timer: String,
    /// How long before it.
    pub by: String,
}

/// `after_date: { variable: appeal_last_day, by: 1d }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawAfterDate {
    /// A variable of type `date`.
    pub variable: String,
    /// How long after the start (00:00, Europe/Stockholm) of that day.
    pub by: String,
}

/// `repeat: { every: 7d, max: 3 }`
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRepeat {
    /// Interval.
    pub every: String,
    /// At most this many more firings.
    pub max: u32,
}

/// A guard on a transition.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RawGuard {
    /// Every child instance is in one of these states (and there is at least one child).
    AllChildrenIn(Vec<String>),
    /// At least one child instance is in one of these states.
    AnyChildIn(Vec<String>),
    /// A variable has this value.
    Variable {
        /// The variable.
        name: String,
        /// The value.
        equals: serde_json::Value,
    },
    /// The inner guard does not hold.
    Not(Box<RawGuard>),
    /// All of these hold.
    All(Vec<RawGuard>),
}

/// An effect.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum RawEffect {
    /// Send an email from a template.
    Email {
        /// `templates/email/<template>/`.
        template: String,
        /// Roles in the instance's unit (`chef`, `förvaltningschef`), `handläggare` (the
        /// ärende's), or `unit` (the unit's own address).
        to: Vec<String>,
        /// A personal link in the message: `answer` (to the questionnaire) or `signoff` (to
        /// approve or return the submitted answer). Each recipient gets a token of their own.
        #[serde(default)]
        link: Option<String>,
    },
    /// Render a document and register it as a handling in the ärende.
    Document {
        /// `templates/documents/<template>.*`.
        template: String,
        /// inkommande, upprättad or utgående.
        direction: String,
        /// The handling's description; may use `${variable}`.
        description: String,
    },
    /// Start one child instance per unit of a kind.
    StartChildren {
        /// The child workflow.
        workflow: String,
        /// `förvaltning`, `bolag`, ...
        per: String,
    },
    /// Send an event to the parent instance.
    NotifyParent {
        /// The event.
        event: String,
    },
    /// Send an event to every child instance still running.
    NotifyChildren {
        /// The event.
        event: String,
    },
    /// Set variables.
    Set(IndexMap<String, serde_json::Value>),
    /// Start a timer.
    SetTimer(RawTimer),
    /// Stop a timer.
    CancelTimer(String),
    /// Move the ärende to an organ's agenda.
    Refer {
        /// An organ code, or `${variable}`.
        organ: String,
    },
    /// Close the ärende.
    CloseCase {
        /// Why, for the history.
        reason: String,
    },
    /// Expediering: send the decision to everyone on "Beslutet skickas till" (the deciding
    /// paragraph's recipients, else the variable `skickas_till`), each with the latest handling
    /// drawn up from a document template attached; each sending is an utgående handling.
    Dispatch {
        /// `templates/email/<template>/`: the covering letter.
        template: String,
        /// The document template whose latest handling is attached, e.g. `protokollsutdrag`.
        attach: String,
    },
}
