//! The set-based reads and writes of a round of workflow steps: one statement for the rows of
//! many instances, where a single step would write them one by one. The engine's rounds
//! (`service::engine::round`) use them; the single-row writers elsewhere in the store are
//! these with one row.
//!
//! How a list goes into one statement is [`super::sets`]'s business. Lists written out are cut
//! into chunks, so that no statement exceeds SQLite's limit on parameters (32,766).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Alias, Condition, Expr, ExprTrait, Query, TableRef, ValueTuple};
use sea_orm::{ColumnTrait, ConnectionTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder};

use super::entity::{audit_event, case, invitation, outbox, timer, workflow_instance};
use super::invitation::invitation_model;
use super::outbox::outbox_model;
use super::sets::{self, ID_CHUNK, find_in, one_of};
use super::workflow::{step_model, timer_model};
use super::{
    AuditInput, CaseRow, InstanceMove, InstanceRow, NewInvitation, NewOutbox, NewTimer, StoreError,
    TimerCancel, TimerRow, TimerStatus, Tx,
};

impl Tx {
    /// The instances with these ids, read inside the transaction.
    pub async fn instances(&self, ids: &[i32]) -> Result<Vec<InstanceRow>, StoreError> {
        let all = workflow_instance::Entity::find();
        Ok(find_in(&self.txn, all, workflow_instance::Column::Id, ids).await?)
    }

    /// The ärenden with these ids, read inside the transaction.
    pub async fn cases(&self, ids: &[i32]) -> Result<Vec<CaseRow>, StoreError> {
        Ok(find_in(&self.txn, case::Entity::find(), case::Column::Id, ids).await?)
    }

    /// The pending timers named `name` of these instances, read inside the transaction.
    pub async fn pending_timers_named(
        &self,
        instance_ids: &[i32],
        name: &str,
    ) -> Result<Vec<TimerRow>, StoreError> {
        let pending = timer::Entity::find()
            .filter(timer::Column::Name.eq(name))
            .filter(timer::Column::Status.eq(TimerStatus::Pending))
            .order_by_asc(timer::Column::Id);
        Ok(find_in(&self.txn, pending, timer::Column::InstanceId, instance_ids).await?)
    }

    /// Moves instances on, each provided nobody did since its row version was read. Returns
    /// how many moved: fewer than asked means someone else got to one of them first.
    ///
    /// `UPDATE ... FROM (VALUES ...)` on SQLite, `FROM unnest(...)` on PostgreSQL: each row
    /// joins its own new values, and the row version is checked in the join. On SQLite the
    /// moves go in chunks of powers of two, so that the statements' texts repeat and stay
    /// prepared.
    pub async fn move_instances(&self, moves: &[InstanceMove]) -> Result<u64, StoreError> {
        use workflow_instance::{Column, Entity};
        if self.db_backend() == DbBackend::Postgres {
            return self.move_instances_arrays(moves).await;
        }
        let mut moved = 0;
        let mut rest = moves;
        for size in sets::chunk_sizes(moves.len()) {
            let (chunk, after) = rest.split_at(size);
            rest = after;
            let rows = chunk.iter().map(|m| ValueTuple::Many(move_values(m)));
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
        status: TimerStatus,
        at: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let mut finished = 0;
        for chunk in ids.chunks(ID_CHUNK) {
            finished += timer::Entity::update_many()
                .col_expr(timer::Column::Status, Expr::value(status))
                .col_expr(timer::Column::FiredAt, Expr::value(Some(at)))
                .filter(one_of(
                    self.db_backend(),
                    timer::Column::Id,
                    chunk.iter().copied(),
                ))
                .filter(timer::Column::Status.eq(TimerStatus::Pending))
                .filter(timer::Column::LeaseOwner.eq(owner))
                .exec(&self.txn)
                .await?
                .rows_affected;
        }
        Ok(finished)
    }

    /// Cancels pending timers, each [`TimerCancel`] saying whose and which.
    ///
    /// The cancels are grouped by what they pick (a state, a name, both or neither), and each
    /// group is one statement over its instances as a list: `instance_id IN (...) AND state =
    /// ?`. A round's cancels mostly share one shape. One OR'd condition per instance instead
    /// nests a level deeper per instance, and sea-query and SQLite both walk such a nest
    /// recursively: that was most of the engine's work in a round of 200 on SQLite.
    pub async fn cancel_timer_sets(&self, cancels: &[TimerCancel]) -> Result<u64, StoreError> {
        use timer::Column;
        let mut groups: BTreeMap<(Option<&str>, Option<&str>), Vec<i32>> = BTreeMap::new();
        for c in cancels {
            groups
                .entry((c.state.as_deref(), c.name.as_deref()))
                .or_default()
                .push(c.instance_id);
        }
        let mut cancelled = 0;
        for ((state, name), mut ids) in groups {
            ids.sort_unstable();
            ids.dedup();
            for chunk in ids.chunks(ID_CHUNK) {
                cancelled += timer::Entity::update_many()
                    .col_expr(Column::Status, Expr::value(TimerStatus::Canceled))
                    .filter(Column::Status.eq(TimerStatus::Pending))
                    .filter(one_of(
                        self.db_backend(),
                        Column::InstanceId,
                        chunk.iter().copied(),
                    ))
                    .filter(
                        Condition::all()
                            .add_option(state.map(|s| Column::State.eq(s)))
                            .add_option(name.map(|n| Column::Name.eq(n))),
                    )
                    .exec(&self.txn)
                    .await?
                    .rows_affected;
            }
        }
        Ok(cancelled)
    }

    /// [`Tx::move_instances`] on PostgreSQL: the moves as one [`sets::ArraySet`].
    async fn move_instances_arrays(&self, moves: &[InstanceMove]) -> Result<u64, StoreError> {
        use workflow_instance::{Column, Entity};
        if moves.is_empty() {
            return Ok(0);
        }
        let columns = [
            Column::Id,
            Column::RowVersion,
            Column::State,
            Column::Variables,
            Column::UpdatedAt,
            Column::FinishedAt,
        ];
        let set =
            sets::ArraySet::new::<Entity>(&columns, moves.iter().map(|m| Ok(move_values(m))), "v")?;
        let sql = format!(
            "UPDATE \"workflow_instance\" AS w SET \"row_version\" = {} + 1, \"state\" = {}, \
             \"variables\" = {}, \"updated_at\" = {}, \"finished_at\" = {} FROM {} \
             WHERE w.\"id\" = {} AND w.\"row_version\" = {}",
            set.value(1),
            set.value(2),
            set.value(3),
            set.value(4),
            set.value(5),
            set.source(),
            set.value(0),
            set.value(1),
        );
        Ok(self
            .txn
            .execute_raw(set.statement(sql))
            .await?
            .rows_affected())
    }

    /// Stores timers.
    pub async fn insert_timers(&self, timers: Vec<NewTimer>) -> Result<(), StoreError> {
        sets::insert::<timer::Entity>(&self.txn, timers.into_iter().map(timer_model).collect())
            .await
    }

    /// Appends workflow steps to the audit trail, in order.
    pub async fn append_steps(&self, entries: Vec<AuditInput>) -> Result<(), StoreError> {
        sets::insert::<audit_event::Entity>(
            &self.txn,
            entries.into_iter().map(step_model).collect(),
        )
        .await
    }

    /// Queues messages.
    pub async fn insert_outbox_rows(&self, rows: Vec<NewOutbox>) -> Result<(), StoreError> {
        sets::insert::<outbox::Entity>(&self.txn, rows.into_iter().map(outbox_model).collect())
            .await
    }

    /// Stores links' hashes.
    pub async fn insert_invitations(&self, rows: Vec<NewInvitation>) -> Result<(), StoreError> {
        sets::insert::<invitation::Entity>(
            &self.txn,
            rows.into_iter().map(invitation_model).collect(),
        )
        .await
    }
}

/// A move's values, in the order both forms of [`Tx::move_instances`] read them: id, row
/// version read, state, variables, when, when finished.
fn move_values(m: &InstanceMove) -> Vec<sea_orm::Value> {
    vec![
        m.id.into(),
        m.row_version.into(),
        m.state.clone().into(),
        m.variables.clone().into(),
        m.at.into(),
        m.finished.then_some(m.at).into(),
    ]
}
