//! Running workflows durably. The pure engine decides; this module writes each decision in one
//! transaction: the instance's new state (guarded by its row version), the audit entry, the
//! timers, the outbox rows, the handlingar, and any child instances with their own first steps.
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
mod target;

pub use self::extract::ParagraphRef;
pub use self::inbox::InboxItem;
pub use self::renditions::{RenderObserver, Unrendered};
pub use self::target::Target;

use self::ingest::{Aim, Ingest, Request, Response};
use self::letter::{Letter, StoredAttachment};
use self::rows::{notice_to_parent, referral, repeat_of, sends_email, step_rows};
use super::diarium::{PreparedCase, SeriesBook};
use super::links::LinkSecret;
use super::mail::municipality_of;
use super::{Actor, Kansli, OpenCase, ServiceError};
use crate::domain::calendar::{local_date, local_year};
use crate::domain::case_status::CaseStatus;
use crate::domain::document::Direction;
use crate::render::DocumentContext;
use crate::store::{
    AuditInput, CaseRow, InstanceRow, NewDocument, NewInstance, OrgSnapshot, TimerRow, Tx,
    timer_status,
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

    fn schedules(
        &self,
    ) -> impl Iterator<Item = (&Arc<Workflow>, &crate::workflow::model::Schedule)> {
        self.catalog
            .iter()
            .filter(|e| {
                self.only_scheduling
                    .as_ref()
                    .is_none_or(|only| *only == e.workflow.id)
            })
            .filter_map(|e| e.workflow.schedule.as_ref().map(|s| (&e.workflow, s)))
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

    /// Starts a root instance of a workflow now, opening its ärende when the workflow says so.
    pub async fn start(
        &self,
        workflow_id: &str,
        variables: Map<String, Value>,
        actor: &Actor,
    ) -> Result<(i32, Option<String>), ServiceError> {
        let request = Request::Start {
            workflow_id: workflow_id.to_owned(),
            variables,
            period: local_year(self.now()).to_string(),
            actor: actor.clone(),
        };
        match self.submit(request).await? {
            Response::Started(id, number) => Ok((id, number)),
            Response::Sent(_) => Err(anyhow::anyhow!("a start was answered as an event").into()),
        }
    }

    /// Starts a workflow by hand (`kansli workflow start`). A workflow with a schedule runs once
    /// a period (the calendar year): a second run is refused unless `again`, since a second
    /// yearly follow-up would send every förvaltning its invitation twice, and the refusal
    /// names the ärende that has the period. One without a schedule (a motion) starts as often
    /// as it is asked to.
    pub async fn start_by_hand(
        &self,
        workflow_id: &str,
        variables: Map<String, Value>,
        again: bool,
        actor: &Actor,
    ) -> Result<(i32, Option<String>), ServiceError> {
        let period = local_year(self.now());
        let periodic = self
            .catalog
            .get(workflow_id)
            .is_some_and(|e| e.workflow.schedule.is_some());
        if periodic && !again {
            for row in self.kansli.store.roots_of(workflow_id).await? {
                let vars: Map<String, Value> =
                    serde_json::from_str(&row.variables).unwrap_or_default();
                let year = vars
                    .get("year")
                    .and_then(Value::as_i64)
                    .map_or_else(|| local_year(row.created_at), |y| y as i32);
                if year != period {
                    continue;
                }
                let number = match row.case_id {
                    Some(case_id) => Some(self.kansli.case_number(case_id).await?),
                    None => None,
                };
                return Err(ServiceError::Invalid(format!(
                    "{workflow_id} has run for {period} already{}; give --again to start it once more",
                    number
                        .map(|n| format!(", in ärende {n}"))
                        .unwrap_or_default()
                )));
            }
        }
        self.start(workflow_id, variables, actor).await
    }

    /// A scheduled start, in a transaction of its own that also records the period.
    async fn start_scheduled(
        &self,
        workflow_id: &str,
        variables: Map<String, Value>,
        period: &str,
        cron_period: &str,
        now: DateTime<Utc>,
    ) -> Result<(i32, Option<String>), ServiceError> {
        self.rendering_first(|| async {
            let org = self.kansli.store.org_snapshot().await?;
            let book = SeriesBook::from_rows(org.series.clone())?;
            let prepared = self
                .prepare_start(&book, workflow_id, variables.clone(), period, now)
                .await?;
            let tx = self.kansli.store.begin().await?;
            let started = self
                .start_in(
                    &tx,
                    &org,
                    &book,
                    prepared,
                    Some(cron_period),
                    &Actor::system(),
                    now,
                )
                .await;
            match started {
                Ok(started) => {
                    tx.commit().await?;
                    Ok(started)
                }
                Err(e) => {
                    tx.rollback().await?;
                    Err(e)
                }
            }
        })
        .await
    }

    /// Everything about a start that is read and checked before its transaction: the
    /// workflow, its variables, and the ärende it opens.
    async fn prepare_start(
        &self,
        book: &SeriesBook,
        workflow_id: &str,
        variables: Map<String, Value>,
        period: &str,
        now: DateTime<Utc>,
    ) -> Result<PreparedStart, ServiceError> {
        let entry = self.catalog.get(workflow_id).ok_or_else(|| {
            ServiceError::Invalid(format!("no workflow {workflow_id:?} in the catalog"))
        })?;
        let workflow = entry.workflow.clone();
        let mut vars = variables;
        vars.entry("year").or_insert(json!(local_year(now)));
        vars.insert("period".into(), json!(period));
        let case = match &workflow.case {
            Some(spec) => {
                let defaults = start(&workflow, Map::new(), now).variables;
                let text = |t: &str| {
                    let mut all = defaults.clone();
                    all.extend(vars.clone());
                    crate::workflow::engine::substitute(t, &all)
                };
                let previous = match spec.link_previous {
                    true => self.previous_case(book, workflow_id).await?,
                    false => None,
                };
                let handlaggare = spec
                    .handlaggare
                    .as_deref()
                    .map(&text)
                    .filter(|h| !h.is_empty());
                Some(
                    self.kansli
                        .prepare_case(
                            book,
                            OpenCase {
                                series: spec.series.clone(),
                                title: text(&spec.title),
                                public_title: spec.public_title.as_deref().map(&text),
                                classification: spec.classification.clone(),
                                handlaggare,
                                previous,
                            },
                        )
                        .await?,
                )
            }
            None => None,
        };
        Ok(PreparedStart {
            workflow_id: workflow_id.to_owned(),
            variables: vars,
            case,
        })
    }

    /// The number of the ärende the workflow's latest root instance opened.
    async fn previous_case(
        &self,
        book: &SeriesBook,
        workflow_id: &str,
    ) -> Result<Option<String>, ServiceError> {
        let store = &self.kansli.store;
        let Some(id) = store.latest_case_of_workflow(workflow_id).await? else {
            return Ok(None);
        };
        match store.case_by_id(id).await? {
            Some(row) => Ok(Some(book.render(&row)?)),
            None => Ok(None),
        }
    }

    /// Writes a prepared start inside `tx`: the ärende, the instance, its first step and its
    /// children. With `cron_period`, the period is recorded first, so it is started once.
    #[allow(clippy::too_many_arguments)]
    async fn start_in(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        book: &SeriesBook,
        prepared: PreparedStart,
        cron_period: Option<&str>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(i32, Option<String>), ServiceError> {
        let PreparedStart {
            workflow_id,
            variables: mut vars,
            case,
        } = prepared;
        let entry = self.catalog.get(&workflow_id).ok_or_else(|| {
            ServiceError::Invalid(format!("no workflow {workflow_id:?} in the catalog"))
        })?;
        if let Some(period) = cron_period
            && !tx.record_cron_start(&workflow_id, period, now).await?
        {
            return Err(ServiceError::Conflict(format!(
                "{workflow_id} was already started for {period}"
            )));
        }
        let case = match case {
            Some(p) => Some(self.kansli.insert_case(tx, book, p, actor, now).await?),
            None => None,
        };
        let case_number = match &case {
            Some(row) => Some(book.render(row)?),
            None => None,
        };
        if let Some(number) = &case_number {
            vars.insert("case_number".into(), json!(number));
        }
        let decision = start(&entry.workflow, vars, now);
        let definition_id = self.definition_id_in(tx, entry, now).await?;
        let row = tx
            .insert_instance(root_instance(
                definition_id,
                &workflow_id,
                case.as_ref().map(|c| c.id),
                &decision,
                now,
            ))
            .await?;
        if let Some(period) = cron_period {
            tx.link_cron_start(&workflow_id, period, row.id).await?;
        }
        let mut pending = self
            .first_step(
                tx,
                org,
                &row,
                &entry.workflow,
                case.as_ref(),
                &decision,
                actor,
                now,
            )
            .await?;
        self.start_children(tx, org, &mut pending, actor, now)
            .await?;
        tracing::info!(workflow = %workflow_id, instance = row.id, case = ?case_number, "workflow started");
        Ok((row.id, case_number))
    }

    /// The stored definition's id for a catalog entry, stored on first use. Ids found stored
    /// before are remembered; one that this transaction may have stored is not, since it may
    /// yet roll back (with a set of starts that failed, say).
    async fn definition_id_in(
        &self,
        tx: &Tx,
        entry: &catalog::Entry,
        now: DateTime<Utc>,
    ) -> Result<i32, ServiceError> {
        let known = |map: &HashMap<String, i32>| map.get(&entry.hash).copied();
        if let Some(id) = known(&self.stored_ids.lock().unwrap_or_else(|e| e.into_inner())) {
            return Ok(id);
        }
        let (id, fresh) = tx
            .definition_id(&entry.workflow.id, &entry.hash, &entry.source, now)
            .await?;
        if !fresh {
            self.stored_ids
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(entry.hash.clone(), id);
        }
        Ok(id)
    }

    /// Sends an event to an ärende's instance. With an idempotency key, the same key twice is
    /// applied once.
    pub async fn send(
        &self,
        target: &Target,
        event: &str,
        sender: Sender,
        actor: &Actor,
        idempotency_key: Option<&str>,
    ) -> Result<Outcome, ServiceError> {
        self.send_with(target, event, Map::new(), sender, actor, idempotency_key)
            .await
    }

    /// Sends an event that also sets declared variables (a handläggare's texts, say), each
    /// checked against its type.
    pub async fn send_with(
        &self,
        target: &Target,
        event: &str,
        values: Map<String, Value>,
        sender: Sender,
        actor: &Actor,
        idempotency_key: Option<&str>,
    ) -> Result<Outcome, ServiceError> {
        let aim = Aim::Target(target.clone());
        self.send_aimed(aim, event, values, sender, actor, idempotency_key)
            .await
    }

    /// The workflow an ärende's instance runs (the unit's child with `target.unit`).
    pub async fn workflow_of_target(&self, target: &Target) -> Result<Arc<Workflow>, ServiceError> {
        let instance = self.target_instance(target).await?;
        self.definition(instance.definition_id).await
    }

    /// Sends an event that sets `values` (declared variables) to an instance.
    pub(crate) async fn send_to(
        &self,
        instance: InstanceRow,
        event: &str,
        values: Map<String, Value>,
        sender: Sender,
        actor: &Actor,
        idempotency_key: Option<&str>,
    ) -> Result<Outcome, ServiceError> {
        let aim = Aim::Instance(instance);
        self.send_aimed(aim, event, values, sender, actor, idempotency_key)
            .await
    }

    /// Queues an event for the instance `aim` names; the batch finds the instance.
    async fn send_aimed(
        &self,
        aim: Aim,
        event: &str,
        values: Map<String, Value>,
        sender: Sender,
        actor: &Actor,
        idempotency_key: Option<&str>,
    ) -> Result<Outcome, ServiceError> {
        if let Some(key) = idempotency_key
            && self.kansli.store.idempotency_key_used(key).await?
        {
            return Ok(Outcome::AlreadyApplied);
        }
        let request = Request::Send {
            aim,
            event: event.to_owned(),
            values,
            sender,
            actor: actor.clone(),
            idempotency_key: idempotency_key.map(str::to_owned),
        };
        match self.submit(request).await? {
            Response::Sent(outcome) => Ok(outcome),
            Response::Started(..) => {
                Err(anyhow::anyhow!("an event was answered as a start").into())
            }
        }
    }

    /// Applies an event to an instance as one step of a larger use case's transaction `tx`
    /// (a meeting's paragraph and the step it moves its ärende by), under a savepoint: the
    /// inner result is the step's, undone alone when it failed, so that the caller decides
    /// what stands; the outer error is the database's.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn send_within(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        instance_id: i32,
        event: &str,
        values: &Map<String, Value>,
        sender: Sender,
        actor: &Actor,
        idempotency_key: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Result<Outcome, ServiceError>, ServiceError> {
        let step = tx.savepoint().await?;
        let answer = self
            .send_in(
                &step,
                org,
                instance_id,
                event,
                values,
                sender,
                actor,
                idempotency_key,
                now,
            )
            .await;
        match answer {
            Ok(_) => step.commit().await?,
            // Not the step's own failure: the whole use case runs again once its documents
            // are rendered, so it ends here with nothing written.
            Err(ServiceError::Unrendered(wanted)) => {
                step.rollback().await?;
                return Err(ServiceError::Unrendered(wanted));
            }
            Err(_) => step.rollback().await?,
        }
        Ok(answer)
    }

    /// Applies an event to an instance inside `tx`, reading the instance through it.
    #[allow(clippy::too_many_arguments)]
    async fn send_in(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        instance_id: i32,
        event: &str,
        values: &Map<String, Value>,
        sender: Sender,
        actor: &Actor,
        idempotency_key: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Outcome, ServiceError> {
        if let Some(key) = idempotency_key
            && tx.idempotency_key_used(key).await?
        {
            return Ok(Outcome::AlreadyApplied);
        }
        let row = tx
            .instance(instance_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("instance {instance_id} not found")))?;
        let loaded = self.load_in(tx, row).await?;
        // A request with the same key on another lane or process may have committed since the
        // key was looked up: the instance it moved then refuses this one, or the key is found
        // taken when recorded. Either way that request's answer stands, as for a repeat.
        let decision = match decide(&loaded, event, values, sender, now) {
            Ok(decision) => decision,
            Err(refused) => {
                if let Some(key) = idempotency_key
                    && tx.idempotency_key_used(key).await?
                {
                    return Ok(Outcome::AlreadyApplied);
                }
                return Err(refused);
            }
        };
        if let Some(key) = idempotency_key {
            let outcome = format!("{} -> {}", decision.from, decision.to);
            if !tx
                .record_idempotency_key(key, loaded.row.id, &outcome, now)
                .await?
            {
                return Ok(Outcome::AlreadyApplied);
            }
        }
        let case = case_for(tx, loaded.row.case_id, &decision).await?;
        let by = StepBy {
            actor,
            sender,
            event,
        };
        self.apply_loaded(tx, org, &loaded, case.as_ref(), &decision, &by, now)
            .await?;
        Ok(Outcome::Applied {
            from: decision.from,
            to: decision.to,
        })
    }

    /// Fires every timer due now, in batches, until none is left; returns how many fired.
    ///
    /// Group commit: a claimed batch is applied in one transaction (one disk flush), in rounds
    /// of one timer per instance (see `round`), so a later step of the same instance sees the
    /// earlier one. A step the round hands back is taken alone under its own savepoint; one
    /// that conflicts with a concurrent writer is rolled back to it and given back, and the
    /// instance's later timers in the batch wait for the next batch, which keeps every
    /// instance's events in order.
    pub async fn fire_due_timers(&self) -> Result<usize, ServiceError> {
        let mut fired = 0;
        // Batches a timer was put back in to have its documents rendered: a step whose
        // documents change each time is set aside as failed, like any step that cannot be taken.
        let mut rendering_rounds: HashMap<i32, usize> = HashMap::new();
        let mut rendered_for_timers: Vec<Unrendered> = Vec::new();
        loop {
            let started = std::time::Instant::now();
            let lane = self.ingest.lane().await?;
            let now = self.now();
            let claimed = self
                .kansli
                .store
                .claim_due_timers(&self.owner, now, TIMER_LEASE, 200)
                .await?;
            if claimed.is_empty() {
                self.renditions.forget(&rendered_for_timers);
                return Ok(fired);
            }
            let claim_ms = ms(started);
            let org = self.kansli.store.org_snapshot().await?;
            // Everything read from the pool is read now: a batch holds one connection for its
            // transaction, and must not wait for a second one (a pool of one would deadlock).
            let instances: Vec<i32> = claimed.iter().map(|t| t.instance_id).collect();
            for id in self.kansli.store.definition_ids_of(&instances).await? {
                self.definition(id).await?;
            }
            let read_ms = ms(started);
            let tx = self.kansli.store.begin().await?;
            let mut deferred: Vec<i32> = Vec::new();
            let mut blocked: Vec<i32> = Vec::new();
            let mut unrendered: Vec<Unrendered> = Vec::new();
            let no_values = Map::new();
            let system = Actor::system();
            for round in round::rounds(&claimed, |t| t.instance_id) {
                let (round, waiting): (Vec<&TimerRow>, Vec<_>) = round
                    .into_iter()
                    .partition(|t| !blocked.contains(&t.instance_id));
                deferred.extend(waiting.iter().map(|t| t.id));
                let calls: Vec<round::Call> = round
                    .iter()
                    .map(|t| round::Call {
                        instance_id: t.instance_id,
                        event: &t.event,
                        values: &no_values,
                        sender: Sender::System,
                        actor: &system,
                        timer: Some(t),
                    })
                    .collect();
                let taken = self.take_round(&tx, &org, &calls, now).await?;
                for (timer, outcome) in round.into_iter().zip(taken) {
                    if outcome.is_some() {
                        fired += 1;
                        continue;
                    }
                    self.steps.count(0, 1);
                    let step = tx.savepoint().await?;
                    match self.fire(&step, &org, timer, now).await {
                        Ok(did) => {
                            step.commit().await?;
                            fired += usize::from(did);
                        }
                        Err(ServiceError::Conflict(_)) => {
                            step.rollback().await?;
                            blocked.push(timer.instance_id);
                            deferred.push(timer.id);
                        }
                        // Its documents are rendered after the batch, outside it, and the
                        // timer fires in the next batch.
                        Err(ServiceError::Unrendered(wanted))
                            if rendering_rounds.get(&timer.id).copied().unwrap_or(0)
                                < RENDERING_ROUNDS =>
                        {
                            step.rollback().await?;
                            *rendering_rounds.entry(timer.id).or_default() += 1;
                            blocked.push(timer.instance_id);
                            deferred.push(timer.id);
                            unrendered.extend(wanted);
                        }
                        Err(e) => {
                            // A step that cannot be taken (a broken effect, a definition that
                            // no longer loads) must not hold up every timer behind it: it is
                            // set aside as failed, with its reason, for an administrator.
                            step.rollback().await?;
                            tracing::error!(timer = timer.id, error.message = %e, "timer failed");
                            let note = format!("failed: {e}");
                            tx.finish_timer(
                                timer.id,
                                &self.owner,
                                timer_status::FAILED,
                                Some(note),
                                now,
                            )
                            .await?;
                            blocked.push(timer.instance_id);
                        }
                    }
                }
            }
            let steps_ms = ms(started);
            tx.commit().await?;
            tracing::debug!(
                claimed = claimed.len(),
                deferred = deferred.len(),
                claim_ms,
                read_ms,
                steps_ms,
                elapsed_ms = ms(started),
                "timer batch (times since its start)"
            );
            for id in deferred {
                self.kansli.store.release_timer(id, &self.owner).await?;
            }
            drop(lane);
            // Renditions serve the batch after the one that asked for them; then they go.
            self.renditions.forget(&rendered_for_timers);
            if !unrendered.is_empty() {
                self.render_outside(&unrendered).await?;
            }
            rendered_for_timers = unrendered;
        }
    }

    /// Claims due timers and stops, as a worker that dies right after claiming would. For
    /// crash tests and nothing else.
    pub async fn claim_and_abandon(&self) -> Result<usize, ServiceError> {
        Ok(self
            .kansli
            .store
            .claim_due_timers(&self.owner, self.now(), TIMER_LEASE, 1000)
            .await?
            .len())
    }

    /// Fires one claimed timer inside `tx`. Returns false when the timer was no longer this
    /// worker's to fire, or its event no longer applies (then it is recorded as discarded).
    async fn fire(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        timer: &TimerRow,
        now: DateTime<Utc>,
    ) -> Result<bool, ServiceError> {
        let row = tx
            .instance(timer.instance_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("timer {} has no instance", timer.id))?;
        let loaded = self.load_in(tx, row).await?;
        let decision = if loaded.row.finished_at.is_some() {
            Err(TransitionError::Finished {
                state: loaded.row.state.clone(),
            }
            .to_string())
        } else {
            decide(&loaded, &timer.event, &Map::new(), Sender::System, now)
                .map_err(|e| e.to_string())
        };
        let decision = match decision {
            Ok(d) => d,
            Err(refusal) => {
                // The instance no longer takes this event (it moved on): record why and stop.
                tx.finish_timer(
                    timer.id,
                    &self.owner,
                    timer_status::DISCARDED,
                    Some(refusal),
                    now,
                )
                .await?;
                return Ok(false);
            }
        };
        if !tx
            .finish_timer(timer.id, &self.owner, timer_status::FIRED, None, now)
            .await?
        {
            // Another worker took the timer over after our lease ran out.
            return Ok(false);
        }
        let case = case_for(tx, loaded.row.case_id, &decision).await?;
        let actor = Actor::system();
        let by = StepBy {
            actor: &actor,
            sender: Sender::System,
            event: &timer.event,
        };
        self.apply_loaded(tx, org, &loaded, case.as_ref(), &decision, &by, now)
            .await?;
        // A repeating timer comes back while the instance stays where the timer belongs.
        if let Some(again) = repeat_of(timer, &decision) {
            tx.insert_timer(again).await?;
        }
        Ok(true)
    }

    /// Makes the scheduled starts that are due: for each scheduled workflow, the latest
    /// occurrence at or before now within its catch-up window, unless that period was started.
    pub async fn run_schedules(&self) -> Result<Vec<String>, ServiceError> {
        let now = self.now();
        let mut started = Vec::new();
        for (workflow, schedule) in self.schedules() {
            let from = (now - schedule.catch_up).with_timezone(&Stockholm);
            let Some(occurrence) = schedule
                .cron
                .after(&from)
                .take_while(|t| t.with_timezone(&Utc) <= now)
                .last()
            else {
                continue;
            };
            let period = occurrence.format("%Y-%m-%dT%H:%M").to_string();
            let id = &workflow.id;
            if self.kansli.store.cron_started(id, &period).await? {
                continue;
            }
            let vars = Map::from_iter([(
                "year".to_owned(),
                json!(
                    occurrence
                        .date_naive()
                        .format("%Y")
                        .to_string()
                        .parse::<i32>()
                        .unwrap_or_default()
                ),
            )]);
            match self
                .start_scheduled(id, vars, &occurrence.format("%Y").to_string(), &period, now)
                .await
            {
                Ok((_, number)) => {
                    started.push(format!("{id} {period} {}", number.unwrap_or_default()))
                }
                // Another worker made this start first.
                Err(ServiceError::Conflict(_)) => {}
                // One workflow's broken start (a removed person, a renamed series) must not
                // stop the others, nor the timers: it is logged and tried again next tick.
                Err(e) => {
                    tracing::error!(workflow = %id, %period, error.message = %e, "scheduled start failed")
                }
            }
        }
        Ok(started)
    }

    /// The next moment anything is due: a timer, or a scheduled start after `after`.
    pub async fn next_due(
        &self,
        after: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, ServiceError> {
        let timer = self.kansli.store.next_timer_due().await?;
        let cron = self
            .schedules()
            .filter_map(|(_, s)| s.cron.after(&after.with_timezone(&Stockholm)).next())
            .map(|t| t.with_timezone(&Utc))
            .min();
        Ok([timer, cron].into_iter().flatten().min())
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

    async fn definition(&self, id: i32) -> Result<Arc<Workflow>, ServiceError> {
        if let Some(found) = self
            .definitions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
        {
            return Ok(found.clone());
        }
        let row = self
            .kansli
            .store
            .definition(id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("stored workflow definition {id} is missing"))?;
        let path = std::path::PathBuf::from(format!("{}.yaml", row.workflow_id));
        let workflow = catalog::parse(&path, &row.source).map_err(|problems| {
            anyhow::anyhow!(
                "stored version {} of {} no longer validates: {}",
                row.version,
                row.workflow_id,
                problems
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("; ")
            )
        })?;
        let workflow = Arc::new(workflow);
        self.definitions
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, workflow.clone());
        Ok(workflow)
    }

    async fn load_in(&self, tx: &Tx, row: InstanceRow) -> Result<Loaded, ServiceError> {
        let workflow = self.definition(row.definition_id).await?;
        let children = match workflow.has_children() {
            true => tx.children(row.id).await?,
            false => Vec::new(),
        };
        self.loaded(row, children).await
    }

    async fn loaded(
        &self,
        row: InstanceRow,
        children: Vec<InstanceRow>,
    ) -> Result<Loaded, ServiceError> {
        let workflow = self.definition(row.definition_id).await?;
        let variables = match serde_json::from_str::<Value>(&row.variables) {
            Ok(Value::Object(map)) => map,
            _ => {
                return Err(anyhow::anyhow!("instance {} has unreadable variables", row.id).into());
            }
        };
        let children = children
            .into_iter()
            .map(|c| ChildView {
                unit_code: c.unit_code.unwrap_or_default(),
                state: c.state,
            })
            .collect();
        Ok(Loaded {
            row,
            workflow,
            variables,
            children,
        })
    }

    #[allow(clippy::too_many_arguments)]
    async fn apply_loaded(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        loaded: &Loaded,
        case: Option<&CaseRow>,
        decision: &Decision,
        by: &StepBy<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        tx.update_instance(
            loaded.row.id,
            loaded.row.row_version,
            &decision.to,
            &Value::Object(decision.variables.clone()).to_string(),
            now,
            decision.finished,
        )
        .await?;
        let mut pending = self
            .persist(
                tx,
                org,
                &loaded.row,
                &loaded.workflow,
                case,
                decision,
                by,
                now,
            )
            .await?;
        self.start_children(tx, org, &mut pending, by.actor, now)
            .await
    }

    /// Writes everything a decision implies except the instance row itself: audit, timers,
    /// effects. Returns the child instances to start.
    #[allow(clippy::too_many_arguments)]
    async fn persist(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        instance: &InstanceRow,
        workflow: &Workflow,
        case: Option<&CaseRow>,
        decision: &Decision,
        by: &StepBy<'_>,
        now: DateTime<Utc>,
    ) -> Result<Vec<ChildStart>, ServiceError> {
        let unit = instance.unit_code.as_deref();
        let rows = step_rows(instance, workflow, decision, by, self.office_hours, now);
        tx.append_step(rows.audit).await?;
        tx.cancel_timer_sets(&rows.cancels).await?;
        if decision.finished {
            // An approved answer cannot be changed through an old link.
            tx.revoke_invitations(&[instance.id], now).await?;
            // Children end with their parent: no reminder goes out for a follow-up that was
            // cancelled or closed, and no answer comes in to it.
            let mut descendants = tx.children(instance.id).await?;
            while let Some(child) = descendants.pop() {
                if child.finished_at.is_none() {
                    tx.cancel_timers(child.id, None, None).await?;
                    tx.revoke_invitations(&[child.id], now).await?;
                    tx.end_instance(child.id, now).await?;
                    tx.append_step(AuditInput {
                        case_id: child.case_id,
                        instance_id: Some(child.id),
                        actor: by.actor.as_str().to_owned(),
                        role: Some(by.sender.to_string()),
                        action: "avslutad med överordnat flöde".into(),
                        from_state: Some(child.state.clone()),
                        to_state: Some(child.state.clone()),
                        detail: child.unit_code.clone(),
                        at: now,
                    })
                    .await?;
                }
                descendants.extend(tx.children(child.id).await?);
            }
        }
        tx.insert_timers(rows.timers).await?;
        // The answering deadline is only shown in emails.
        let mut deadline = rows.deadline;
        if let Some(timer) = &workflow.deadline
            && deadline.is_none()
            && sends_email(decision)
        {
            deadline = tx
                .pending_timer(instance.id, timer)
                .await?
                .map(|t| t.due_at);
        }

        let mut children = Vec::new();
        // Documents not yet rendered: the step goes on without them, to find them all, and
        // then ends asking for them (see `renditions`).
        let mut unrendered = Vec::new();
        for effect in &decision.effects {
            match effect {
                Effect::Email { template, to, link } => {
                    let letter = Letter {
                        org,
                        workflow,
                        instance,
                        decision,
                        case,
                        deadline,
                    };
                    self.queue_email(tx, &letter, template, to, *link, now)
                        .await?;
                }
                Effect::Document {
                    template,
                    direction,
                    description,
                } => {
                    let case = case.ok_or_else(|| {
                        anyhow::anyhow!(
                            "{}: effect document {template} needs an ärende",
                            workflow.id
                        )
                    })?;
                    let file = match self
                        .rendered_document(
                            tx,
                            org,
                            instance,
                            &decision.variables,
                            case,
                            template,
                            description,
                            now,
                        )
                        .await?
                    {
                        Ok(file) => file,
                        Err(wanted) => {
                            unrendered.push(wanted);
                            continue;
                        }
                    };
                    let seq = tx.allocate_document_seq(case.id).await?;
                    tx.insert_document(
                        NewDocument {
                            case_id: case.id,
                            date: local_date(now),
                            direction: direction.code().to_owned(),
                            counterpart: unit
                                .and_then(|u| org.units.iter().find(|x| x.code == u))
                                .map(|u| u.name.clone()),
                            counterpart_protected: false,
                            description: description.clone(),
                            description_protected: false,
                            secrecy: None,
                            file,
                            registered_at: now,
                            registered_by: by.actor.as_str().to_owned(),
                        },
                        seq,
                    )
                    .await?;
                    tx.append_audit(
                        Some(case.id),
                        by.actor.as_str(),
                        "handling registrerad",
                        Some(format!(":{seq} {description} (mall {template})")),
                        now,
                    )
                    .await?;
                }
                Effect::StartChildren {
                    workflow: child,
                    per,
                } => {
                    for u in org.units.iter().filter(|u| u.kind == per.code()) {
                        children.push(ChildStart {
                            workflow: child.clone(),
                            parent_id: instance.id,
                            case_id: instance.case_id,
                            unit_code: u.code.clone(),
                            unit_name: u.name.clone(),
                            inherited: inherited(&decision.variables),
                        });
                    }
                }
                Effect::NotifyParent { event } => {
                    if let Some(notice) = notice_to_parent(instance, event, now) {
                        tx.insert_timer(notice).await?;
                    }
                }
                Effect::NotifyChildren { event } => {
                    for child in tx.children(instance.id).await? {
                        if child.finished_at.is_none() {
                            tx.insert_timer(rows::notice_to_child(&child, event, now))
                                .await?;
                        }
                    }
                }
                Effect::Refer { organ } => {
                    tx.append_step(referral(org, instance, organ, by, now))
                        .await?;
                }
                // The decision goes out with the document drawn up before it.
                Effect::Dispatch { .. } if !unrendered.is_empty() => {}
                Effect::Dispatch { template, attach } => {
                    let case = case.ok_or_else(|| {
                        anyhow::anyhow!("{}: effect dispatch needs an ärende", workflow.id)
                    })?;
                    let letter = Letter {
                        org,
                        workflow,
                        instance,
                        decision,
                        case: Some(case),
                        deadline,
                    };
                    self.dispatch(tx, &letter, case, template, attach, by.actor, now)
                        .await?;
                }
                Effect::CloseCase { reason } => {
                    if let Some(id) = instance.case_id
                        && let Some(current) = tx.case_by_id(id).await?
                        && current.status() == CaseStatus::Open
                    {
                        tx.set_case_status(
                            id,
                            current.row_version,
                            CaseStatus::Closed.code(),
                            Some((now, by.actor.as_str().to_owned())),
                        )
                        .await?;
                        // A closed ärende takes no answers: every link into it dies.
                        tx.revoke_invitations(&tx.instance_ids_of_case(id).await?, now)
                            .await?;
                        tx.append_audit(
                            Some(id),
                            by.actor.as_str(),
                            "ärende avslutat",
                            Some(reason.clone()),
                            now,
                        )
                        .await?;
                    }
                }
            }
        }
        if !unrendered.is_empty() {
            return Err(ServiceError::Unrendered(unrendered));
        }
        Ok(children)
    }

    async fn start_children(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        pending: &mut Vec<ChildStart>,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        while let Some(child) = pending.pop() {
            let entry = self.catalog.get(&child.workflow).ok_or_else(|| {
                anyhow::anyhow!("child workflow {} is not in the catalog", child.workflow)
            })?;
            let mut vars = child.inherited.clone();
            vars.insert("unit_code".into(), json!(child.unit_code));
            vars.insert("unit_name".into(), json!(child.unit_name));
            let decision = start(&entry.workflow, vars, now);
            let definition_id = self.definition_id_in(tx, entry, now).await?;
            let row = tx
                .insert_instance(NewInstance {
                    definition_id,
                    workflow_id: entry.workflow.id.clone(),
                    case_id: child.case_id,
                    parent_id: Some(child.parent_id),
                    unit_code: Some(child.unit_code.clone()),
                    state: decision.to.clone(),
                    variables: Value::Object(decision.variables.clone()).to_string(),
                    at: now,
                    finished: decision.finished,
                })
                .await?;
            let case = case_for(tx, child.case_id, &decision).await?;
            let mut more = self
                .first_step(
                    tx,
                    org,
                    &row,
                    &entry.workflow,
                    case.as_ref(),
                    &decision,
                    actor,
                    now,
                )
                .await?;
            pending.append(&mut more);
        }
        Ok(())
    }

    /// Writes a new instance's first step, the entry into its initial state, as the system's.
    #[allow(clippy::too_many_arguments)]
    async fn first_step(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        row: &InstanceRow,
        workflow: &Workflow,
        case: Option<&CaseRow>,
        decision: &Decision,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<Vec<ChildStart>, ServiceError> {
        let by = StepBy {
            actor,
            sender: Sender::System,
            event: "start",
        };
        self.persist(tx, org, row, workflow, case, decision, &by, now)
            .await
    }
}

/// Asks the engine, mapping its refusal to a service error that says why.
/// What every document of an ärende shows: the municipality, the ärende, the unit, the day.
fn document_context(
    org: &OrgSnapshot,
    instance: &InstanceRow,
    vars: &Map<String, Value>,
    case: &CaseRow,
    description: &str,
    now: DateTime<Utc>,
) -> DocumentContext {
    let year = vars.get("year").and_then(Value::as_i64).unwrap_or_default() as i32;
    DocumentContext {
        municipality: municipality_of(org).name,
        case_number: vars
            .get("case_number")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        case_title: case.public_title.clone(),
        year: year.to_string(),
        unit_name: instance
            .unit_code
            .as_deref()
            .and_then(|u| org.units.iter().find(|x| x.code == u))
            .map(|u| u.name.clone())
            .unwrap_or_default(),
        date: local_date(now).to_string(),
        description: description.to_owned(),
        ..Default::default()
    }
}

/// The description a workflow registers a document from `template` under.
fn document_description(workflow: &Workflow, template: &str) -> Option<String> {
    use crate::workflow::model::EffectSpec;
    let states = workflow.states.values();
    states
        .flat_map(|s| {
            let effects = s.transitions.iter().flat_map(|t| t.effects.iter());
            s.on_entry.iter().chain(&s.on_exit).chain(effects)
        })
        .find_map(|e| match e {
            EffectSpec::Document {
                template: t,
                description,
                ..
            } if t == template => Some(description.clone()),
            _ => None,
        })
}

/// The ärende, read inside the transaction when the decision's effects need it (an email
/// names it, a document is registered in it, it is closed).
async fn case_for(
    tx: &Tx,
    case_id: Option<i32>,
    decision: &Decision,
) -> Result<Option<CaseRow>, ServiceError> {
    let needed = decision.effects.iter().any(|e| {
        matches!(
            e,
            Effect::Email { .. }
                | Effect::Document { .. }
                | Effect::CloseCase { .. }
                | Effect::Dispatch { .. }
        )
    });
    match case_id {
        Some(id) if needed => Ok(tx.case_by_id(id).await?),
        _ => Ok(None),
    }
}

fn decide(
    loaded: &Loaded,
    event: &str,
    values: &Map<String, Value>,
    sender: Sender,
    now: DateTime<Utc>,
) -> Result<Decision, ServiceError> {
    if loaded.row.finished_at.is_some() {
        return Err(ServiceError::Refused(TransitionError::Finished {
            state: loaded.row.state.clone(),
        }));
    }
    let view = InstanceView {
        state: &loaded.row.state,
        variables: &loaded.variables,
        children: &loaded.children,
    };
    apply(
        &loaded.workflow,
        view,
        &Event {
            name: event.to_owned(),
            sender,
            values: values.clone(),
        },
        now,
    )
    .map_err(ServiceError::Refused)
}

/// A root instance (no parent, no unit) entering its initial state as `first` decided.
fn root_instance(
    definition_id: i32,
    workflow_id: &str,
    case_id: Option<i32>,
    first: &Decision,
    now: DateTime<Utc>,
) -> NewInstance {
    NewInstance {
        definition_id,
        workflow_id: workflow_id.to_owned(),
        case_id,
        parent_id: None,
        unit_code: None,
        state: first.to.clone(),
        variables: Value::Object(first.variables.clone()).to_string(),
        at: now,
        finished: first.finished,
    }
}

/// The variables a child takes over from its parent.
fn inherited(parent: &Map<String, Value>) -> Map<String, Value> {
    ["year", "period", "case_number"]
        .iter()
        .filter_map(|k| parent.get(*k).map(|v| ((*k).to_owned(), v.clone())))
        .collect()
}

impl Engine {
    /// A step's document, rendered before the step's transaction (see `renditions`), stored,
    /// as the file reference for its handling; or the document to render, when it is not.
    /// An instance with an answer gets the answer written out, question by question.
    #[allow(clippy::too_many_arguments)]
    async fn rendered_document(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        instance: &InstanceRow,
        vars: &Map<String, Value>,
        case: &CaseRow,
        template: &str,
        description: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<Option<(String, String, String)>, Unrendered>, ServiceError> {
        if self.catalog.renderer().is_none() {
            return Ok(Ok(None));
        }
        let wanted = Unrendered {
            template: template.to_owned(),
            context: self
                .full_context(tx, org, instance, vars, case, description, None, now)
                .await?,
        };
        let Some(rendition) = self.renditions.get(&wanted) else {
            return Ok(Err(wanted));
        };
        let sha256 = tx.store_content(rendition.content, now).await?;
        let extension = rendition.extension;
        let name = match &instance.unit_code {
            Some(unit) => format!("{template}-{}.{extension}", unit.to_lowercase()),
            None => format!("{template}.{extension}"),
        };
        Ok(Ok(Some((sha256, name, rendition.media_type.to_owned()))))
    }

    /// Everything a document of an ärende's instance shows, read through `tx`: the ärende and
    /// its handlingar, the decision chain, the paragraph (`paragraph`, else the latest
    /// decision), and the answers of a förvaltning or the compiled report.
    #[allow(clippy::too_many_arguments)]
    async fn full_context(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        instance: &InstanceRow,
        vars: &Map<String, Value>,
        case: &CaseRow,
        description: &str,
        paragraph: Option<&ParagraphRef>,
        now: DateTime<Utc>,
    ) -> Result<DocumentContext, ServiceError> {
        let mut context = document_context(org, instance, vars, case, description, now);
        self.decision_context(tx, org, case, vars, &mut context)
            .await?;
        if instance.parent_id.is_none() {
            self.paragraph_context(tx, org, case.id, vars, paragraph, &mut context)
                .await?;
        }
        if instance.parent_id.is_none() && !tx.children(instance.id).await?.is_empty() {
            // The root of a follow-up: the document is the compiled report of its children's
            // answers, read through the step's own transaction.
            let compilation = self
                .compile_in(tx, org, case.id, &context.case_number)
                .await?;
            context.questionnaire_title = compilation.questionnaire.title.clone();
            context.sections = compilation.sections();
            context.response_rate = compilation.response_rate();
            context.not_answered = compilation.not_answered();
        } else if let Some(response) = tx.response_of(instance.id).await?
            && let Some(questionnaire) = self
                .catalog
                .questionnaires()
                .for_year(&response.questionnaire_id, response.version)
        {
            let answers: crate::questionnaire::Answers =
                serde_json::from_str(&response.answers).map_err(anyhow::Error::from)?;
            context.questionnaire_title = questionnaire.title.clone();
            context.sections = super::report::document_sections(questionnaire, |q| {
                answers.get(&q.id).map(|a| a.display()).unwrap_or_default()
            });
        }
        Ok(context)
    }

    /// A document of an ärende's workflow as it would be registered now, for the handläggare to
    /// read before sending the event that registers it. Nothing is written.
    pub async fn draft_document(
        &self,
        case_number: &str,
        template: &str,
    ) -> Result<String, ServiceError> {
        let html = self
            .document_now(case_number, template, None, DocumentFormat::Html)
            .await?;
        Ok(String::from_utf8(html).map_err(anyhow::Error::from)?)
    }

    /// A document drawn up now from the ärende's root instance (of `paragraph`, for an
    /// extract), read through a transaction like the step that registers it, then rolled back.
    async fn document_now(
        &self,
        case_number: &str,
        template: &str,
        paragraph: Option<&ParagraphRef>,
        format: DocumentFormat,
    ) -> Result<Vec<u8>, ServiceError> {
        let target = Target {
            case_number: case_number.to_owned(),
            unit: None,
        };
        let instance = self.target_instance(&target).await?;
        let workflow = self.definition(instance.definition_id).await?;
        // Its variables, not its children: a draft is rendered, not judged by guards.
        let Loaded { row, variables, .. } = self.loaded(instance, Vec::new()).await?;
        let case = self.case(case_number).await?;
        let description = match (document_description(&workflow, template), paragraph) {
            (Some(d), _) => crate::workflow::engine::substitute(&d, &variables),
            // An extract can be drawn of any paragraph, registered by the workflow or not.
            (None, Some(_)) => format!("Protokollsutdrag, {}", case.public_title),
            (None, None) => {
                return Err(ServiceError::Invalid(format!(
                    "{} registers no document from template {template:?}",
                    workflow.id
                )));
            }
        };
        let org = self.kansli.store.org_snapshot().await?;
        let tx = self.kansli.store.begin().await?;
        let now = self.now();
        let context = self
            .full_context(
                &tx,
                &org,
                &row,
                &variables,
                &case,
                &description,
                paragraph,
                now,
            )
            .await?;
        tx.rollback().await?;
        self.render_on_request(template, &context, format, now)
    }

    /// A document rendered for someone who asked for it, in the format asked for.
    pub(crate) fn render_on_request(
        &self,
        template: &str,
        context: &DocumentContext,
        format: DocumentFormat,
        now: DateTime<Utc>,
    ) -> Result<Vec<u8>, ServiceError> {
        let renderer = self
            .catalog
            .renderer()
            .ok_or_else(|| anyhow::anyhow!("the engine was loaded without templates"))?;
        let failed = |e: crate::render::TemplateError| anyhow::anyhow!("document {template}: {e}");
        match format {
            DocumentFormat::Html => Ok(renderer
                .document(template, context)
                .map_err(failed)?
                .into_bytes()),
            DocumentFormat::Pdf => renderer
                .document_pdf(template, context, now)
                .map_err(failed)?
                .ok_or_else(|| {
                    ServiceError::Invalid(format!(
                        "document {template} has no PDF: it needs templates/documents/{template}.typ and a build with the pdf feature"
                    ))
                }),
        }
    }

    /// What a document that goes to the politicians needs: the handläggare's header, the
    /// deciding organ, the proposal worded down the organ chain, the handlingar it rests on,
    /// and who the decision goes to. The chain starts at the workflow's `preparing_organ`,
    /// follows each organ's `proposes_to`, and goes on past kommunstyrelsen only when `to_kf`.
    async fn decision_context(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        case: &CaseRow,
        vars: &Map<String, Value>,
        context: &mut DocumentContext,
    ) -> Result<(), ServiceError> {
        if let Some(p) = case
            .handlaggare_id
            .and_then(|id| org.people.iter().find(|p| p.id == id))
        {
            context.handlaggare_name = p.name.clone();
            context.handlaggare_title = p.title.clone();
            context.handlaggare_email = p.email.clone();
        }
        let organ = |code: &str| org.organs.iter().find(|o| o.code == code);
        let mut chain = Vec::new();
        let mut next = vars
            .get("preparing_organ")
            .and_then(Value::as_str)
            .and_then(&organ);
        let to_kf = vars.get("to_kf").and_then(Value::as_bool).unwrap_or(false);
        while let Some(o) = next {
            if chain
                .iter()
                .any(|c: &&crate::store::OrganRow| c.code == o.code)
            {
                break;
            }
            chain.push(o);
            let stop = o.kind == crate::domain::organisation::OrganKind::Styrelse.code() && !to_kf;
            next = if stop {
                None
            } else {
                o.proposes_to_code.as_deref().and_then(&organ)
            };
        }
        // "X föreslås besluta att föreslå y besluta att föreslå z besluta"
        let definite = |name: &str| {
            let mut chars = name.chars();
            chars
                .next()
                .map(|c| c.to_lowercase().chain(chars).collect::<String>())
                .unwrap_or_default()
        };
        if let Some((first, rest)) = chain.split_first() {
            let mut proposal = format!("{} föreslås besluta", first.name);
            for o in rest {
                proposal.push_str(&format!(" att föreslå {} besluta", definite(&o.name)));
            }
            context.proposal = proposal;
            context.addressee = chain
                .iter()
                .find(|o| o.kind == crate::domain::organisation::OrganKind::Styrelse.code())
                .unwrap_or(first)
                .name
                .clone();
        }
        let text = |name: &str| {
            vars.get(name)
                .and_then(Value::as_str)
                .map(extract::paragraphs)
        };
        context.sammanfattning = text("sammanfattning").unwrap_or_default();
        context.arendet = text("arendet").unwrap_or_default();
        context.beslutsunderlag = tx
            .documents_of(case.id)
            .await?
            .into_iter()
            .filter(|d| d.direction != Direction::Outgoing.code())
            .map(|d| format!("{}, {}", d.description, d.date))
            .collect();
        context.skickas_till = extract::listed(vars, "skickas_till");
        Ok(())
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
