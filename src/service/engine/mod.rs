//! Running workflows durably. The pure engine decides; the engine here writes each decision
//! in one transaction: the instance's new state (guarded by its row version), the audit entry,
//! the timers, the outbox rows, the handlingar, and any child instances with their own first
//! steps.
//!
//! A newcomer finds it in parts: [`step`] is the step runtime (load, decide, persist) every
//! other part goes through; [`starting`] starts instances (by hand and on schedule),
//! [`sending`] sends events, [`timers`] fires timers, [`ingest`] and [`round`] take many steps
//! in one commit; [`documents`] and [`renditions`] draw up what steps register, [`letter`] and
//! [`dispatch`] what they send, [`extract`] the protokollsutdrag; [`registering`] registers a
//! handling with its step; [`inbox`], [`target`] and [`acting`] serve the pages. This module
//! holds the engine itself and what the pages read of it.
//!
//! Timers and queued events are rows that a worker claims by lease before firing them, and
//! marks fired in the same transaction that applies their event: a worker that dies after the
//! claim leaves the row to be claimed again when the lease runs out, and a worker that lost its
//! lease cannot commit. Scheduled starts are keyed by (workflow, period), so a start is made
//! once however many workers race for it, and a start missed during downtime is made once later.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use chrono::{DateTime, Duration, Utc};
use chrono_tz::Europe::Stockholm;
use serde::Serialize;
use serde_json::{Map, Value, json};

mod acting;
mod dispatch;
mod documents;
mod extract;
pub(crate) use extract::EXTRACT;
mod inbox;
mod ingest;
mod letter;
mod opening;
mod registering;
mod renditions;
mod round;
mod rows;
mod sending;
mod starting;
mod step;
mod target;
mod timers;

pub use self::extract::ParagraphRef;
pub use self::inbox::InboxItem;
pub use self::renditions::{RenderObserver, Unrendered};
pub use self::target::Target;

use self::ingest::{Aim, Ingest, Request, Response};
use self::letter::{Letter, StoredAttachment};
use self::rows::{notice_to_parent, referral, repeat_of, sends_email, step_rows};
use self::step::{case_for, decide, root_instance};
use super::diarium::{PreparedCase, SeriesBook};
use super::links::LinkSecret;
use super::mail::municipality_of;
use super::{Actor, Kansli, OpenCase, ServiceError};
use crate::domain::calendar::{local_date, local_year};
use crate::domain::case_status::CaseStatus;
use crate::domain::document::Direction;
use crate::render::DocumentContext;
use crate::store::{
    AuditInput, CaseRow, InstanceRow, NewDocument, NewInstance, OrgSnapshot, TimerRow, TimerStatus,
    Tx,
};
use crate::workflow::engine::allowed_events;
use crate::workflow::model::Sender;
use crate::workflow::{
    Catalog, ChildView, Decision, Effect, Event, InstanceView, TransitionError, Workflow, apply,
    catalog, start,
};

/// How long a claimed timer is held before another worker may take it over.
pub const TIMER_LEASE: Duration = Duration::seconds(60);

/// What sending an event did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Outcome {
    /// Applied: the state before and after.
    Applied {
        /// Before.
        from: String,
        /// After.
        to: String,
    },
    /// The idempotency key was used before; nothing was done this time.
    AlreadyApplied,
}

/// An instance and the events it takes now.
#[derive(Debug, Clone, Serialize)]
pub struct InstanceEvents {
    /// Instance id.
    pub instance_id: i32,
    /// Workflow.
    pub workflow: String,
    /// Definition version it runs on.
    pub version: i32,
    /// The unit of a child.
    pub unit: Option<String>,
    /// Current state.
    pub state: String,
    /// Whether finished.
    pub finished: bool,
    /// Events and who may send them.
    pub events: Vec<(String, Vec<String>)>,
    /// The definition it runs on, to name the events and draw the states (the JSON lists the
    /// events, and the definition is `kansli workflow graph`'s).
    #[serde(skip)]
    pub definition: Arc<Workflow>,
    /// Its variables, which the states' descriptions may use.
    #[serde(skip)]
    pub variables: Map<String, Value>,
}

/// A workflow version, as stored, with its use.
#[derive(Debug, Clone, Serialize)]
pub struct VersionInUse {
    /// Workflow id.
    pub workflow: String,
    /// Version number.
    pub version: i32,
    /// Content hash (first 12 characters).
    pub hash: String,
    /// Whether it is the file in the folder now.
    pub current: bool,
    /// Instances running on it.
    pub running: usize,
    /// Instances finished on it.
    pub finished: usize,
}

/// Times a timer's step is put back to have its documents rendered before it fails.
const RENDERING_ROUNDS: usize = 3;

/// The workflow engine over the diarium.
#[derive(Debug, Clone)]
pub struct Engine {
    kansli: Kansli,
    catalog: Arc<Catalog>,
    owner: String,
    definitions: Arc<Mutex<HashMap<i32, Arc<Workflow>>>>,
    /// Stored definition ids by content hash.
    stored_ids: Arc<Mutex<HashMap<String, i32>>>,
    ingest: Arc<Ingest>,
    only_scheduling: Option<String>,
    base_url: String,
    office_hours: (u32, u32),
    link_secret: Arc<LinkSecret>,
    pub(crate) min_group: i64,
    /// Take every step alone, as before rounds (see `round`).
    alone: bool,
    steps: Arc<StepCounts>,
    /// Documents rendered for steps about to run again (see `renditions`).
    renditions: Arc<renditions::Renditions>,
    render_observer: Option<RenderObserver>,
}

/// Steps this process took, by how: in a set (a round, or a set of starts) or alone.
#[derive(Debug, Default)]
pub struct StepCounts {
    in_sets: std::sync::atomic::AtomicU64,
    alone: std::sync::atomic::AtomicU64,
}

impl StepCounts {
    /// Steps taken in sets.
    pub fn in_sets(&self) -> u64 {
        self.in_sets.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Steps taken alone.
    pub fn alone(&self) -> u64 {
        self.alone.load(std::sync::atomic::Ordering::Relaxed)
    }

    fn count(&self, in_sets: usize, alone: usize) {
        use std::sync::atomic::Ordering::Relaxed;
        self.in_sets.fetch_add(in_sets as u64, Relaxed);
        self.alone.fetch_add(alone as u64, Relaxed);
    }
}

/// A document drawn up on request: the HTML for reading, or the archival PDF/A.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentFormat {
    /// HTML.
    Html,
    /// PDF/A-2b (needs the document's Typst template and the `pdf` feature).
    Pdf,
}

/// A root start checked and read before its transaction.
struct PreparedStart {
    workflow_id: String,
    variables: Map<String, Value>,
    case: Option<PreparedCase>,
}

/// A loaded instance with what its guards need.
struct Loaded {
    row: InstanceRow,
    workflow: Arc<Workflow>,
    variables: Map<String, Value>,
    children: Vec<ChildView>,
}

/// A child instance to create inside the transaction of its parent's step.
struct ChildStart {
    workflow: String,
    parent_id: i32,
    case_id: Option<i32>,
    unit_code: String,
    unit_name: String,
    inherited: Map<String, Value>,
}

/// Who takes a step, for the audit trail.
struct StepBy<'a> {
    actor: &'a Actor,
    sender: Sender,
    event: &'a str,
}

impl Engine {
    /// An engine over `kansli` running the workflows of `catalog`. `owner` names this worker in
    /// timer leases (e.g. host and process id).
    pub fn new(kansli: Kansli, catalog: Arc<Catalog>, owner: impl Into<String>) -> Self {
        let ingest = Arc::new(Ingest::new(kansli.store.backend()));
        Self {
            kansli,
            catalog,
            owner: owner.into(),
            definitions: Arc::default(),
            stored_ids: Arc::default(),
            ingest,
            only_scheduling: None,
            base_url: "http://127.0.0.1:8080".into(),
            office_hours: crate::domain::calendar::OFFICE_HOURS,
            link_secret: Arc::new(LinkSecret::random()),
            min_group: 5,
            alone: false,
            steps: Arc::default(),
            renditions: Arc::default(),
            render_observer: None,
        }
    }

    /// Takes every step alone, under a savepoint of its own, as the engine did before it took
    /// steps in sets: the reference the sets are measured and tested against.
    pub fn taking_steps_alone(mut self) -> Self {
        self.alone = true;
        self
    }

    /// The steps this engine (and its clones) took, by how.
    pub fn step_counts(&self) -> &StepCounts {
        &self.steps
    }

    /// Counts about people below `n` are not shown in the compiled report.
    pub fn with_min_group(mut self, n: i64) -> Self {
        self.min_group = n.max(1);
        self
    }

    /// The secret personal links are made with (the server's, so its links stay valid).
    pub fn with_link_secret(mut self, secret: Arc<LinkSecret>) -> Self {
        self.link_secret = secret;
        self
    }

    /// Office hours `(opens, closes)` in whole hours, Stockholm time, for `calendar: vardag`
    /// timers.
    pub fn with_office_hours(mut self, hours: (u32, u32)) -> Self {
        self.office_hours = hours;
        self
    }

    /// The address people reach the server at, for links in emails.
    pub fn with_base_url(mut self, base_url: &str) -> Self {
        self.base_url = base_url.trim_end_matches('/').to_owned();
        self
    }

    /// Makes scheduled starts for this workflow only (a simulation of one workflow).
    pub fn only_scheduling(mut self, workflow_id: &str) -> Self {
        self.only_scheduling = Some(workflow_id.to_owned());
        self
    }

    /// Makes the due scheduled starts, then fires the due timers: one look at what is due.
    pub async fn tick(&self) -> Result<(Vec<String>, usize), ServiceError> {
        let started = self.run_schedules().await?;
        let fired = self.fire_due_timers().await?;
        Ok((started, fired))
    }

    /// The address people reach the server at.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// The services underneath.
    pub fn kansli(&self) -> &Kansli {
        &self.kansli
    }

    /// The workflows.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    fn now(&self) -> DateTime<Utc> {
        self.kansli.clock.now()
    }

    /// The instances of an ärende and the events each takes now.
    pub async fn events_of(&self, case_number: &str) -> Result<Vec<InstanceEvents>, ServiceError> {
        let case = self.case(case_number).await?;
        let mut out = Vec::new();
        // Each stored version read once, however many instances run on it (an ärende of the
        // yearly follow-up has one per förvaltning on the same).
        let mut versions: HashMap<i32, i32> = HashMap::new();
        for row in self.kansli.store.instances_of_case(case.id).await? {
            // What the states allow is read off the workflow, not judged by guards: the
            // children that guards look at are not needed.
            let loaded = self.loaded(row, Vec::new()).await?;
            let id = loaded.row.definition_id;
            let version = match versions.get(&id) {
                Some(&known) => known,
                None => {
                    let stored = self.kansli.store.definition(id).await?;
                    let version = stored.map_or(0, |d| d.version);
                    versions.insert(id, version);
                    version
                }
            };
            let events = match loaded.workflow.states.get(&loaded.row.state) {
                Some(state) if !state.is_final => allowed_events(state)
                    .into_iter()
                    .map(|(e, by)| (e, by.iter().map(Sender::to_string).collect()))
                    .collect(),
                _ => Vec::new(),
            };
            out.push(InstanceEvents {
                instance_id: loaded.row.id,
                workflow: loaded.row.workflow_id.clone(),
                version,
                unit: loaded.row.unit_code.clone(),
                state: loaded.row.state.clone(),
                finished: loaded.row.finished_at.is_some(),
                events,
                definition: loaded.workflow.clone(),
                variables: loaded.variables.clone(),
            });
        }
        Ok(out)
    }

    /// Whether the instance's current state takes `event` (by the workflow alone; guards and
    /// senders are judged when it is sent).
    pub(crate) async fn takes_now(
        &self,
        row: crate::store::InstanceRow,
        event: &str,
    ) -> Result<bool, ServiceError> {
        let state = row.state.clone();
        let workflow = self.workflow_of_instance(row).await?;
        Ok(match workflow.states.get(&state) {
            Some(state) if !state.is_final => allowed_events(state).iter().any(|(e, _)| e == event),
            _ => false,
        })
    }

    /// The workflow (the stored version) an instance runs on.
    pub(crate) async fn workflow_of_instance(
        &self,
        row: crate::store::InstanceRow,
    ) -> Result<Arc<Workflow>, ServiceError> {
        Ok(self.loaded(row, Vec::new()).await?.workflow)
    }

    /// The workflow an ärende's root instance runs on (its stored version) and its state.
    pub async fn workflow_of(
        &self,
        case_number: &str,
    ) -> Result<(Arc<Workflow>, String), ServiceError> {
        let case = self.case(case_number).await?;
        let root = self
            .kansli
            .store
            .instances_of_case(case.id)
            .await?
            .into_iter()
            .find(|i| i.parent_id.is_none())
            .ok_or_else(|| {
                ServiceError::NotFound(format!("ärende {case_number} runs no workflow"))
            })?;
        Ok((self.definition(root.definition_id).await?, root.state))
    }

    /// Stored workflow versions and how many instances run on each.
    pub async fn versions(&self) -> Result<Vec<VersionInUse>, ServiceError> {
        let instances = self.kansli.store.all_instances().await?;
        Ok(self
            .kansli
            .store
            .definitions()
            .await?
            .into_iter()
            .map(|d| {
                let on = instances.iter().filter(|i| i.definition_id == d.id);
                let (finished, running): (Vec<_>, Vec<_>) =
                    on.partition(|i| i.finished_at.is_some());
                VersionInUse {
                    current: self
                        .catalog
                        .get(&d.workflow_id)
                        .is_some_and(|e| e.hash == d.content_hash),
                    workflow: d.workflow_id,
                    version: d.version,
                    hash: d.content_hash.chars().take(12).collect(),
                    running: running.len(),
                    finished: finished.len(),
                }
            })
            .collect())
    }

    async fn case(&self, number: &str) -> Result<CaseRow, ServiceError> {
        let book = SeriesBook::load(&self.kansli).await?;
        self.kansli.case_row(&book, number).await
    }
}

impl From<TransitionError> for ServiceError {
    fn from(e: TransitionError) -> Self {
        ServiceError::Refused(e)
    }
}

/// Milliseconds since `start`, for debug logs.
pub(super) fn ms(start: std::time::Instant) -> f64 {
    start.elapsed().as_secs_f64() * 1000.0
}
