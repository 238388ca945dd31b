//! Rows of the workflow engine: definitions by content hash, instances guarded by a row
//! version, timers claimed by lease, cron starts keyed by period, idempotency keys, outbox.

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, OnConflict, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, QueryFilter,
    QueryOrder, QuerySelect, Set,
};

use super::entity::{
    audit_event, case, cron_start, idempotency_key, timer, workflow_definition, workflow_instance,
};
use super::sets::{self, find_in, one_of};
use super::{Store, StoreError, Tx};

/// A stored workflow version.
pub type DefinitionRow = workflow_definition::Model;
/// A workflow instance.
pub type InstanceRow = workflow_instance::Model;
/// A timer or queued event.
pub type TimerRow = timer::Model;

pub use super::entity::timer::TimerStatus;

/// The scope of a timer set by an effect rather than declared on a state: it survives state
/// changes until it fires, is cancelled, or the instance finishes.
pub const INSTANCE_SCOPE: &str = "*";

/// A new instance.
#[derive(Debug, Clone)]
pub struct NewInstance {
    /// Stored definition.
    pub definition_id: i32,
    /// Workflow id.
    pub workflow_id: String,
    /// The ärende.
    pub case_id: Option<i32>,
    /// The parent instance.
    pub parent_id: Option<i32>,
    /// The unit a child runs for.
    pub unit_code: Option<String>,
    /// Initial state.
    pub state: String,
    /// Variables as JSON.
    pub variables: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Whether the initial state is final.
    pub finished: bool,
}

/// A timer to store.
#[derive(Debug, Clone)]
pub struct NewTimer {
    /// The instance.
    pub instance_id: i32,
    /// Name.
    pub name: String,
    /// Event it sends.
    pub event: String,
    /// The state it belongs to, or [`INSTANCE_SCOPE`].
    pub state: String,
    /// When due.
    pub due_at: DateTime<Utc>,
    /// Repeat interval.
    pub repeat_every: Option<Duration>,
    /// Remaining repeats.
    pub repeats_left: Option<u32>,
}

/// An audit entry of a workflow step.
#[derive(Debug, Clone, Default)]
pub struct AuditInput {
    /// The ärende.
    pub case_id: Option<i32>,
    /// The instance.
    pub instance_id: Option<i32>,
    /// Who.
    pub actor: String,
    /// In which role.
    pub role: Option<String>,
    /// What (the event, or a description).
    pub action: String,
    /// State before.
    pub from_state: Option<String>,
    /// State after.
    pub to_state: Option<String>,
    /// Details.
    pub detail: Option<String>,
    /// When.
    pub at: DateTime<Utc>,
}

/// A step's move of an instance: its new state, guarded by the row version it was read at.
#[derive(Debug, Clone)]
pub struct InstanceMove {
    /// The instance.
    pub id: i32,
    /// The row version the step read.
    pub row_version: i32,
    /// The state after the step.
    pub state: String,
    /// The variables after the step, as JSON.
    pub variables: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Whether the step reached a final state.
    pub finished: bool,
}

/// Which pending timers of an instance a step stops: those of `state`, those named `name`,
/// or (with neither) all.
#[derive(Debug, Clone)]
pub struct TimerCancel {
    /// The instance.
    pub instance_id: i32,
    /// Only the timers of this state.
    pub state: Option<String>,
    /// Only the timers of this name.
    pub name: Option<String>,
}

fn instance_model(new: NewInstance) -> workflow_instance::ActiveModel {
    workflow_instance::ActiveModel {
        definition_id: Set(new.definition_id),
        workflow_id: Set(new.workflow_id),
        case_id: Set(new.case_id),
        parent_id: Set(new.parent_id),
        unit_code: Set(new.unit_code),
        state: Set(new.state),
        variables: Set(new.variables),
        row_version: Set(1),
        created_at: Set(new.at),
        updated_at: Set(new.at),
        finished_at: Set(new.finished.then_some(new.at)),
        ..Default::default()
    }
}

pub(super) fn timer_model(new: NewTimer) -> timer::ActiveModel {
    timer::ActiveModel {
        instance_id: Set(new.instance_id),
        name: Set(new.name),
        event: Set(new.event),
        state: Set(new.state),
        due_at: Set(new.due_at),
        repeat_every_secs: Set(new.repeat_every.map(|d| d.num_seconds())),
        repeats_left: Set(new.repeats_left.map(|n| n as i32)),
        status: Set(TimerStatus::Pending),
        lease_owner: Set(None),
        lease_until: Set(None),
        fired_at: Set(None),
        note: Set(None),
        ..Default::default()
    }
}

pub(super) fn step_model(entry: AuditInput) -> audit_event::ActiveModel {
    audit_event::ActiveModel {
        case_id: Set(entry.case_id),
        instance_id: Set(entry.instance_id),
        actor: Set(entry.actor),
        role: Set(entry.role),
        action: Set(entry.action),
        from_state: Set(entry.from_state),
        to_state: Set(entry.to_state),
        detail: Set(entry.detail),
        at: Set(entry.at),
        ..Default::default()
    }
}

impl Tx {
    /// The stored definition with this content hash, storing it as the workflow's next version
    /// when it is new; true when it may have been stored by this transaction (by this call or
    /// an earlier one): stored now, at `at`, or later. Such an id may yet roll back with the
    /// transaction, so it is not one to remember beyond it.
    pub async fn definition_id(
        &self,
        workflow_id: &str,
        hash: &str,
        source: &str,
        at: DateTime<Utc>,
    ) -> Result<(i32, bool), StoreError> {
        if let Some(found) = workflow_definition::Entity::find()
            .filter(workflow_definition::Column::ContentHash.eq(hash))
            .one(&self.txn)
            .await?
        {
            return Ok((found.id, found.stored_at >= stored_precision(at)));
        }
        let latest = workflow_definition::Entity::find()
            .filter(workflow_definition::Column::WorkflowId.eq(workflow_id))
            .order_by_desc(workflow_definition::Column::Version)
            .one(&self.txn)
            .await?
            .map_or(0, |d| d.version);
        // Two writers storing the same new definition at once: the second waits for the
        // first at the unique hash, then stores nothing and finds the first one's row.
        let insert = Query::insert()
            .into_table(workflow_definition::Entity)
            .columns([
                workflow_definition::Column::WorkflowId,
                workflow_definition::Column::Version,
                workflow_definition::Column::ContentHash,
                workflow_definition::Column::Source,
                workflow_definition::Column::StoredAt,
            ])
            .values_panic([
                workflow_id.into(),
                (latest + 1).into(),
                hash.into(),
                source.into(),
                at.into(),
            ])
            .on_conflict(
                OnConflict::column(workflow_definition::Column::ContentHash)
                    .do_nothing()
                    .to_owned(),
            )
            .to_owned();
        let stored_now = self
            .txn
            .execute(&insert)
            .await
            .map_err(|e| {
                StoreError::from_write(e, "the definition was stored concurrently; retry")
            })?
            .rows_affected()
            == 1;
        let row = workflow_definition::Entity::find()
            .filter(workflow_definition::Column::ContentHash.eq(hash))
            .one(&self.txn)
            .await?
            .ok_or_else(|| {
                StoreError::NotFound(format!("the stored definition of {workflow_id}"))
            })?;
        Ok((row.id, stored_now || row.stored_at >= stored_precision(at)))
    }

    /// Creates an instance.
    pub async fn insert_instance(&self, new: NewInstance) -> Result<InstanceRow, StoreError> {
        Ok(instance_model(new).insert(&self.txn).await?)
    }

    /// Creates root instances of distinct ärenden with one statement; returns the rows in the
    /// order given.
    pub async fn insert_case_instances(
        &self,
        new: Vec<NewInstance>,
    ) -> Result<Vec<InstanceRow>, StoreError> {
        let cases: Vec<Option<i32>> = new.iter().map(|n| n.case_id).collect();
        let models = new.into_iter().map(instance_model).collect();
        let rows = sets::insert_returning::<workflow_instance::Entity>(&self.txn, models).await?;
        // RETURNING gives the rows in no promised order: each is found by its ärende.
        cases
            .iter()
            .map(|case| {
                rows.iter()
                    .find(|r| case.is_some() && r.case_id == *case && r.parent_id.is_none())
                    .cloned()
                    .ok_or_else(|| {
                        StoreError::NotFound(format!("the new instance of ärende {case:?}"))
                    })
            })
            .collect()
    }

    /// Moves an instance on, provided nobody did since `row_version` was read.
    pub async fn update_instance(
        &self,
        id: i32,
        row_version: i32,
        state: &str,
        variables: &str,
        at: DateTime<Utc>,
        finished: bool,
    ) -> Result<(), StoreError> {
        let step = InstanceMove {
            id,
            row_version,
            state: state.to_owned(),
            variables: variables.to_owned(),
            at,
            finished,
        };
        if self.move_instances(std::slice::from_ref(&step)).await? == 0 {
            return Err(StoreError::Conflict(format!(
                "workflow instance {id} was moved on by someone else meanwhile; load it again and retry"
            )));
        }
        Ok(())
    }

    /// Ends an instance where it stands (its parent finished): records when, and bumps the row
    /// version so that a writer holding the old one gets a conflict.
    pub async fn end_instance(&self, id: i32, at: DateTime<Utc>) -> Result<(), StoreError> {
        workflow_instance::Entity::update_many()
            .col_expr(workflow_instance::Column::FinishedAt, Expr::value(Some(at)))
            .col_expr(workflow_instance::Column::UpdatedAt, Expr::value(at))
            .col_expr(
                workflow_instance::Column::RowVersion,
                Expr::col(workflow_instance::Column::RowVersion).add(1),
            )
            .filter(workflow_instance::Column::Id.eq(id))
            .filter(workflow_instance::Column::FinishedAt.is_null())
            .exec(&self.txn)
            .await?;
        Ok(())
    }

    /// Stores a timer.
    pub async fn insert_timer(&self, new: NewTimer) -> Result<(), StoreError> {
        timer_model(new).insert(&self.txn).await?;
        Ok(())
    }

    /// Cancels an instance's pending timers: those of `state`, those named `name`, or all.
    pub async fn cancel_timers(
        &self,
        instance_id: i32,
        state: Option<&str>,
        name: Option<&str>,
    ) -> Result<u64, StoreError> {
        let cancel = TimerCancel {
            instance_id,
            state: state.map(str::to_owned),
            name: name.map(str::to_owned),
        };
        self.cancel_timer_sets(std::slice::from_ref(&cancel)).await
    }

    /// Marks a claimed timer done, if this owner still holds it. Returns false when the lease
    /// was lost (another worker took it over), in which case the caller must roll back.
    pub async fn finish_timer(
        &self,
        id: i32,
        owner: &str,
        status: TimerStatus,
        note: Option<String>,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = timer::Entity::update_many()
            .col_expr(timer::Column::Status, Expr::value(status))
            .col_expr(timer::Column::FiredAt, Expr::value(Some(at)))
            .col_expr(timer::Column::Note, Expr::value(note))
            .filter(timer::Column::Id.eq(id))
            .filter(timer::Column::Status.eq(TimerStatus::Pending))
            .filter(timer::Column::LeaseOwner.eq(owner))
            .exec(&self.txn)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Records a scheduled start; false when the period was already started.
    pub async fn record_cron_start(
        &self,
        workflow_id: &str,
        period: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let insert = Query::insert()
            .into_table(cron_start::Entity)
            .columns([
                cron_start::Column::WorkflowId,
                cron_start::Column::Period,
                cron_start::Column::StartedAt,
            ])
            .values_panic([workflow_id.into(), period.into(), at.into()])
            .on_conflict(
                OnConflict::columns([cron_start::Column::WorkflowId, cron_start::Column::Period])
                    .do_nothing()
                    .to_owned(),
            )
            .to_owned();
        Ok(self.txn.execute(&insert).await?.rows_affected() == 1)
    }

    /// Links a recorded start to the instance it made.
    pub async fn link_cron_start(
        &self,
        workflow_id: &str,
        period: &str,
        instance_id: i32,
    ) -> Result<(), StoreError> {
        cron_start::Entity::update_many()
            .col_expr(
                cron_start::Column::InstanceId,
                Expr::value(Some(instance_id)),
            )
            .filter(cron_start::Column::WorkflowId.eq(workflow_id))
            .filter(cron_start::Column::Period.eq(period))
            .exec(&self.txn)
            .await?;
        Ok(())
    }

    /// Whether an idempotency key was used, read inside the transaction.
    pub async fn idempotency_key_used(&self, key: &str) -> Result<bool, StoreError> {
        Ok(idempotency_key::Entity::find_by_id(key.to_owned())
            .one(&self.txn)
            .await?
            .is_some())
    }

    /// Records an idempotency key; false when it was already used.
    pub async fn record_idempotency_key(
        &self,
        key: &str,
        instance_id: i32,
        outcome: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let insert = Query::insert()
            .into_table(idempotency_key::Entity)
            .columns([
                idempotency_key::Column::Key,
                idempotency_key::Column::InstanceId,
                idempotency_key::Column::Outcome,
                idempotency_key::Column::CreatedAt,
            ])
            .values_panic([key.into(), instance_id.into(), outcome.into(), at.into()])
            .on_conflict(
                OnConflict::column(idempotency_key::Column::Key)
                    .do_nothing()
                    .to_owned(),
            )
            .to_owned();
        Ok(self.txn.execute(&insert).await?.rows_affected() == 1)
    }

    /// Appends a workflow step to the audit trail.
    pub async fn append_step(&self, entry: AuditInput) -> Result<(), StoreError> {
        step_model(entry).insert(&self.txn).await?;
        Ok(())
    }

    /// An instance, read inside the transaction (so a batch sees its own earlier steps).
    pub async fn instance(&self, id: i32) -> Result<Option<InstanceRow>, StoreError> {
        Ok(workflow_instance::Entity::find_by_id(id)
            .one(&self.txn)
            .await?)
    }

    /// The children of an instance, read inside the transaction.
    pub async fn children(&self, parent_id: i32) -> Result<Vec<InstanceRow>, StoreError> {
        Ok(workflow_instance::Entity::find()
            .filter(workflow_instance::Column::ParentId.eq(parent_id))
            .order_by_asc(workflow_instance::Column::Id)
            .all(&self.txn)
            .await?)
    }

    /// The pending timer of an instance with this name, read inside the transaction.
    pub async fn pending_timer(
        &self,
        instance_id: i32,
        name: &str,
    ) -> Result<Option<TimerRow>, StoreError> {
        Ok(timer::Entity::find()
            .filter(timer::Column::InstanceId.eq(instance_id))
            .filter(timer::Column::Name.eq(name))
            .filter(timer::Column::Status.eq(TimerStatus::Pending))
            .one(&self.txn)
            .await?)
    }

    /// An ärende, read inside the transaction.
    pub async fn case_by_id(&self, id: i32) -> Result<Option<super::CaseRow>, StoreError> {
        Ok(case::Entity::find_by_id(id).one(&self.txn).await?)
    }
}

impl Store {
    /// A stored definition.
    pub async fn definition(&self, id: i32) -> Result<Option<DefinitionRow>, StoreError> {
        Ok(workflow_definition::Entity::find_by_id(id)
            .one(self.db())
            .await?)
    }

    /// Every stored definition, by workflow and version.
    pub async fn definitions(&self) -> Result<Vec<DefinitionRow>, StoreError> {
        Ok(workflow_definition::Entity::find()
            .order_by_asc(workflow_definition::Column::WorkflowId)
            .order_by_asc(workflow_definition::Column::Version)
            .all(self.db())
            .await?)
    }

    /// An instance.
    pub async fn instance(&self, id: i32) -> Result<Option<InstanceRow>, StoreError> {
        Ok(workflow_instance::Entity::find_by_id(id)
            .one(self.db())
            .await?)
    }

    /// The definitions the given instances run, each once.
    pub async fn definition_ids_of(&self, instance_ids: &[i32]) -> Result<Vec<i32>, StoreError> {
        let mut ids: Vec<i32> = workflow_instance::Entity::find()
            .select_only()
            .column(workflow_instance::Column::DefinitionId)
            .filter(one_of(
                self.db_backend(),
                workflow_instance::Column::Id,
                instance_ids.iter().copied(),
            ))
            .distinct()
            .into_tuple()
            .all(self.db())
            .await?;
        ids.sort_unstable();
        Ok(ids)
    }

    /// The instances of an ärende, oldest first.
    pub async fn instances_of_case(&self, case_id: i32) -> Result<Vec<InstanceRow>, StoreError> {
        self.instances_of_cases(&[case_id]).await
    }

    /// The instances of these ärenden, oldest first.
    pub async fn instances_of_cases(
        &self,
        case_ids: &[i32],
    ) -> Result<Vec<InstanceRow>, StoreError> {
        let oldest_first =
            workflow_instance::Entity::find().order_by_asc(workflow_instance::Column::Id);
        let column = workflow_instance::Column::CaseId;
        Ok(find_in(self.db(), oldest_first, column, case_ids).await?)
    }

    /// Every instance, for counting by definition.
    pub async fn all_instances(&self) -> Result<Vec<InstanceRow>, StoreError> {
        Ok(workflow_instance::Entity::find().all(self.db()).await?)
    }

    /// The root instances of a workflow, oldest first.
    pub async fn roots_of(&self, workflow_id: &str) -> Result<Vec<InstanceRow>, StoreError> {
        Ok(workflow_instance::Entity::find()
            .filter(workflow_instance::Column::WorkflowId.eq(workflow_id))
            .filter(workflow_instance::Column::ParentId.is_null())
            .order_by_asc(workflow_instance::Column::Id)
            .all(self.db())
            .await?)
    }

    /// The instances still running that belong to an ärende.
    pub async fn running_instances_with_case(&self) -> Result<Vec<InstanceRow>, StoreError> {
        Ok(workflow_instance::Entity::find()
            .filter(workflow_instance::Column::FinishedAt.is_null())
            .filter(workflow_instance::Column::CaseId.is_not_null())
            .order_by_asc(workflow_instance::Column::Id)
            .all(self.db())
            .await?)
    }

    /// The children of an instance.
    pub async fn children(&self, parent_id: i32) -> Result<Vec<InstanceRow>, StoreError> {
        Ok(workflow_instance::Entity::find()
            .filter(workflow_instance::Column::ParentId.eq(parent_id))
            .order_by_asc(workflow_instance::Column::Id)
            .all(self.db())
            .await?)
    }

    /// The ärende the latest root instance of a workflow opened.
    pub async fn latest_case_of_workflow(
        &self,
        workflow_id: &str,
    ) -> Result<Option<i32>, StoreError> {
        Ok(workflow_instance::Entity::find()
            .filter(workflow_instance::Column::WorkflowId.eq(workflow_id))
            .filter(workflow_instance::Column::ParentId.is_null())
            .filter(workflow_instance::Column::CaseId.is_not_null())
            .order_by_desc(workflow_instance::Column::Id)
            .one(self.db())
            .await?
            .and_then(|i| i.case_id))
    }

    /// Claims up to `limit` due timers for `owner` until `now + lease`. A timer whose lease ran
    /// out (its worker died) is claimable again.
    pub async fn claim_due_timers(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u64,
    ) -> Result<Vec<TimerRow>, StoreError> {
        let due = Query::select()
            .column(timer::Column::Id)
            .from(timer::Entity)
            .and_where(timer::Column::Status.eq(TimerStatus::Pending))
            .and_where(timer::Column::DueAt.lte(now))
            .and_where(
                timer::Column::LeaseUntil
                    .is_null()
                    .or(timer::Column::LeaseUntil.lt(now)),
            )
            .order_by(timer::Column::DueAt, sea_orm::Order::Asc)
            .order_by(timer::Column::Id, sea_orm::Order::Asc)
            .limit(limit)
            // Two claimers that picked the same rows would lock them in different orders and
            // deadlock; on PostgreSQL each skips the rows another is claiming. (SQLite has one
            // writer at a time, and sea-query writes no lock clause for it.)
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .to_owned();
        // The due rows are chosen first and claimed by id. As a subquery of the UPDATE, the
        // choice may be run again for each row PostgreSQL looks at, and with SKIP LOCKED each
        // run can choose other rows: the claim would outgrow its limit, and slowly.
        let tx = self.begin().await?;
        let ids = tx.locked_ids(&due).await?;
        if ids.is_empty() {
            tx.commit().await?;
            return Ok(Vec::new());
        }
        let claim = Query::update()
            .table(timer::Entity)
            .value(timer::Column::LeaseOwner, owner)
            .value(timer::Column::LeaseUntil, now + lease)
            .and_where(one_of(tx.db_backend(), timer::Column::Id, ids))
            .and_where(timer::Column::Status.eq(TimerStatus::Pending))
            .and_where(
                timer::Column::LeaseUntil
                    .is_null()
                    .or(timer::Column::LeaseUntil.lt(now)),
            )
            .returning_all()
            .to_owned();
        let rows = tx.txn.query_all(&claim).await?;
        tx.commit().await?;
        let mut timers = rows
            .iter()
            .map(|r| timer::Model::from_query_result(r, ""))
            .collect::<Result<Vec<_>, _>>()?;
        timers.sort_by_key(|t| (t.due_at, t.id));
        Ok(timers)
    }

    /// Gives a claimed timer back (after a conflict), so it is retried at once.
    pub async fn release_timer(&self, id: i32, owner: &str) -> Result<(), StoreError> {
        timer::Entity::update_many()
            .col_expr(
                timer::Column::LeaseOwner,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                timer::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(timer::Column::Id.eq(id))
            .filter(timer::Column::LeaseOwner.eq(owner))
            .exec(self.db())
            .await?;
        Ok(())
    }

    /// When the next pending timer is due.
    pub async fn next_timer_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(timer::Entity::find()
            .filter(timer::Column::Status.eq(TimerStatus::Pending))
            .order_by_asc(timer::Column::DueAt)
            .one(self.db())
            .await?
            .map(|t| t.due_at))
    }

    /// The timers of an instance.
    pub async fn timers_of(&self, instance_id: i32) -> Result<Vec<TimerRow>, StoreError> {
        Ok(timer::Entity::find()
            .filter(timer::Column::InstanceId.eq(instance_id))
            .order_by_asc(timer::Column::DueAt)
            .all(self.db())
            .await?)
    }

    /// Whether a scheduled start was made.
    pub async fn cron_started(&self, workflow_id: &str, period: &str) -> Result<bool, StoreError> {
        Ok(
            cron_start::Entity::find_by_id((workflow_id.to_owned(), period.to_owned()))
                .one(self.db())
                .await?
                .is_some(),
        )
    }

    /// The number of starts made for a workflow.
    pub async fn cron_starts(&self, workflow_id: &str) -> Result<Vec<String>, StoreError> {
        Ok(cron_start::Entity::find()
            .filter(cron_start::Column::WorkflowId.eq(workflow_id))
            .order_by_asc(cron_start::Column::Period)
            .all(self.db())
            .await?
            .into_iter()
            .map(|c| c.period)
            .collect())
    }

    /// Whether an idempotency key was used.
    pub async fn idempotency_key_used(&self, key: &str) -> Result<bool, StoreError> {
        Ok(idempotency_key::Entity::find_by_id(key.to_owned())
            .one(self.db())
            .await?
            .is_some())
    }

    /// Audit entries with ids above `after`, oldest first: for following a simulation.
    pub async fn audit_since(&self, after: i32) -> Result<Vec<super::AuditRow>, StoreError> {
        Ok(audit_event::Entity::find()
            .filter(audit_event::Column::Id.gt(after))
            .order_by_asc(audit_event::Column::Id)
            .all(self.db())
            .await?)
    }
}

/// `at` as a timestamp column keeps it: PostgreSQL keeps microseconds (and the driver cuts
/// the rest off), so a row stored at `at` reads back at this, not at `at`.
fn stored_precision(at: DateTime<Utc>) -> DateTime<Utc> {
    use chrono::SubsecRound;
    at.trunc_subsecs(6)
}

impl Store {
    /// Timers whose step failed and that are set aside, oldest due first.
    pub async fn failed_timers(&self) -> Result<Vec<TimerRow>, StoreError> {
        Ok(timer::Entity::find()
            .filter(timer::Column::Status.eq(TimerStatus::Failed))
            .order_by_asc(timer::Column::DueAt)
            .order_by_asc(timer::Column::Id)
            .all(self.db())
            .await?)
    }
}

impl Tx {
    /// A timer, read inside the transaction.
    pub async fn timer(&self, id: i32) -> Result<Option<TimerRow>, StoreError> {
        Ok(timer::Entity::find_by_id(id).one(&self.txn).await?)
    }

    /// Makes a failed timer pending again, due at `now`, its lease cleared (its note keeps the
    /// reason until it fires again); false if it was not failed.
    pub async fn retry_timer(&self, id: i32, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let result = timer::Entity::update_many()
            .col_expr(timer::Column::Status, Expr::value(TimerStatus::Pending))
            .col_expr(timer::Column::DueAt, Expr::value(now))
            .col_expr(
                timer::Column::LeaseOwner,
                Expr::value(Option::<String>::None),
            )
            .col_expr(
                timer::Column::LeaseUntil,
                Expr::value(Option::<DateTime<Utc>>::None),
            )
            .filter(timer::Column::Id.eq(id))
            .filter(timer::Column::Status.eq(TimerStatus::Failed))
            .exec(&self.txn)
            .await?;
        Ok(result.rows_affected == 1)
    }
}
