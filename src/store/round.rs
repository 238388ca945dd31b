//! The set-based reads and writes of a round of workflow steps: one statement for the rows of
//! many instances, where a single step would write them one by one. The engine's rounds
//! (`service::engine::round`) use them; the single-row writers elsewhere in the store are
//! these with one row.
//!
//! Lists are cut into chunks, so that no statement exceeds a backend's limit on parameters
//! (SQLite takes 32,766, PostgreSQL 65,535).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Query, TableRef, ValueTuple};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};

use super::entity::{audit_event, case, invitation, outbox, timer, workflow_instance};
use super::invitation::invitation_model;
use super::outbox::outbox_model;
use super::workflow::{step_model, timer_model};
use super::{
    AuditInput, CaseRow, InstanceMove, InstanceRow, NewInvitation, NewOutbox, NewTimer, StoreError,
    TimerCancel, TimerRow, Tx, timer_status,
};

/// Rows per multi-row insert: the widest table (the outbox, 21 columns) stays well under
/// SQLite's limit on parameters.
const INSERT_CHUNK: usize = 500;
/// Ids per `IN (...)` list.
const ID_CHUNK: usize = 2000;

impl Tx {
    /// The instances with these ids, read inside the transaction.
    pub async fn instances(&self, ids: &[i32]) -> Result<Vec<InstanceRow>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(ID_CHUNK) {
            out.extend(
                workflow_instance::Entity::find()
                    .filter(workflow_instance::Column::Id.is_in(chunk.iter().copied()))
                    .all(&self.txn)
                    .await?,
            );
        }
        Ok(out)
    }

    /// The ärenden with these ids, read inside the transaction.
    pub async fn cases(&self, ids: &[i32]) -> Result<Vec<CaseRow>, StoreError> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(ID_CHUNK) {
            out.extend(
                case::Entity::find()
                    .filter(case::Column::Id.is_in(chunk.iter().copied()))
                    .all(&self.txn)
                    .await?,
            );
        }
        Ok(out)
    }

    /// The pending timers named `name` of these instances, read inside the transaction.
    pub async fn pending_timers_named(
        &self,
        instance_ids: &[i32],
        name: &str,
    ) -> Result<Vec<TimerRow>, StoreError> {
        let mut out = Vec::new();
        for chunk in instance_ids.chunks(ID_CHUNK) {
            out.extend(
                timer::Entity::find()
                    .filter(timer::Column::InstanceId.is_in(chunk.iter().copied()))
                    .filter(timer::Column::Name.eq(name))
                    .filter(timer::Column::Status.eq(timer_status::PENDING))
                    .order_by_asc(timer::Column::Id)
                    .all(&self.txn)
                    .await?,
            );
        }
        Ok(out)
    }

    /// Moves instances on, each provided nobody did since its row version was read. Returns
    /// how many moved: fewer than asked means someone else got to one of them first.
    ///
    /// One `UPDATE ... FROM (VALUES ...)`: each row joins its own new values, and the row
    /// version is checked in the join.
    pub async fn move_instances(&self, moves: &[InstanceMove]) -> Result<u64, StoreError> {
        use workflow_instance::{Column, Entity};
        let mut moved = 0;
        for chunk in moves.chunks(INSERT_CHUNK) {
            let rows = chunk.iter().map(|m| {
                ValueTuple::Many(vec![
                    m.id.into(),
                    m.row_version.into(),
                    m.state.clone().into(),
                    m.variables.clone().into(),
                    m.at.into(),
                    m.finished.then_some(m.at).into(),
                ])
            });
            // VALUES names its columns column1, column2, ... on both backends.
            let v = |n: usize| Expr::col((Alias::new("v"), Alias::new(format!("column{n}"))));
            let update = Query::update()
                .table(Entity)
                .value(Column::RowVersion, v(2).add(1))
                .value(Column::State, v(3))
                .value(Column::Variables, v(4))
                .value(Column::UpdatedAt, v(5))
                .value(Column::FinishedAt, v(6))
                .from(TableRef::ValuesList(rows.collect(), Alias::new("v").into()))
                .and_where(Expr::col((Entity, Column::Id)).eq(v(1)))
                .and_where(Expr::col((Entity, Column::RowVersion)).eq(v(2)))
                .to_owned();
            moved += self.txn.execute(&update).await?.rows_affected();
        }
        Ok(moved)
    }

    /// Marks claimed timers done, those this owner still holds. Returns how many: fewer than
    /// asked means another worker took one over after this one's lease ran out.
    pub async fn finish_timers(
        &self,
        ids: &[i32],
        owner: &str,
        status: &str,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut finished = 0;
        for chunk in ids.chunks(ID_CHUNK) {
            finished += timer::Entity::update_many()
                .col_expr(timer::Column::Status, Expr::value(status))
                .col_expr(timer::Column::FiredAt, Expr::value(Some(at)))
                .filter(timer::Column::Id.is_in(chunk.iter().copied()))
                .filter(timer::Column::Status.eq(timer_status::PENDING))
                .filter(timer::Column::LeaseOwner.eq(owner))
                .exec(&self.txn)
                .await?
                .rows_affected;
        }
        Ok(finished)
    }

    /// Cancels pending timers, each [`TimerCancel`] saying whose and which.
    pub async fn cancel_timer_sets(&self, cancels: &[TimerCancel]) -> Result<u64, StoreError> {
        let mut cancelled = 0;
        for chunk in cancels.chunks(INSERT_CHUNK) {
            let mut ids: Vec<i32> = chunk.iter().map(|c| c.instance_id).collect();
            ids.sort_unstable();
            ids.dedup();
            let which = chunk.iter().fold(Condition::any(), |any, c| {
                any.add(
                    Condition::all()
                        .add(timer::Column::InstanceId.eq(c.instance_id))
                        .add_option(c.state.as_deref().map(|s| timer::Column::State.eq(s)))
                        .add_option(c.name.as_deref().map(|n| timer::Column::Name.eq(n))),
                )
            });
            cancelled += timer::Entity::update_many()
                .col_expr(timer::Column::Status, Expr::value(timer_status::CANCELED))
                .filter(timer::Column::Status.eq(timer_status::PENDING))
                // The list of instances lets the index narrow the rows the conditions sift.
                .filter(timer::Column::InstanceId.is_in(ids))
                .filter(which)
                .exec(&self.txn)
                .await?
                .rows_affected;
        }
        Ok(cancelled)
    }

    /// Stores timers.
    pub async fn insert_timers(&self, timers: Vec<NewTimer>) -> Result<(), StoreError> {
        self.insert_chunked::<timer::Entity, _>(timers.into_iter().map(timer_model))
            .await
    }

    /// Appends workflow steps to the audit trail, in order.
    pub async fn append_steps(&self, entries: Vec<AuditInput>) -> Result<(), StoreError> {
        self.insert_chunked::<audit_event::Entity, _>(entries.into_iter().map(step_model))
            .await
    }

    /// Queues messages.
    pub async fn insert_outbox_rows(&self, rows: Vec<NewOutbox>) -> Result<(), StoreError> {
        self.insert_chunked::<outbox::Entity, _>(rows.into_iter().map(outbox_model))
            .await
    }

    /// Stores links' hashes.
    pub async fn insert_invitations(&self, rows: Vec<NewInvitation>) -> Result<(), StoreError> {
        self.insert_chunked::<invitation::Entity, _>(rows.into_iter().map(invitation_model))
            .await
    }

    async fn insert_chunked<E, I>(&self, models: I) -> Result<(), StoreError>
    where
        E: EntityTrait,
        I: Iterator<Item = E::ActiveModel>,
    {
        let models: Vec<_> = models.collect();
        let mut rest = models.into_iter().peekable();
        while rest.peek().is_some() {
            let chunk: Vec<_> = rest.by_ref().take(INSERT_CHUNK).collect();
            E::insert_many(chunk)
                .exec_without_returning(&self.txn)
                .await?;
        }
        Ok(())
    }
}
