//! The outbox: rendered messages written in the transaction of the step that caused them, and
//! claimed by lease by whichever dispatcher sends them.
//!
//! status: `pending` (to send; `next_attempt_at` says when), `sent`, `failed` (given up; the
//! admin was told), `no_recipients` (nobody to send to), `superseded` (queued before messages
//! were rendered at enqueue).

use chrono::{DateTime, Duration, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType, Query};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, FromQueryResult, PaginatorTrait,
    QueryFilter, QueryOrder, QuerySelect, Set,
};

use super::entity::outbox;
use super::sets::one_of;
use super::{Store, StoreError, Tx};

/// An outbox message.
pub type OutboxRow = outbox::Model;

pub use super::entity::outbox::OutboxStatus;

/// A rendered message to queue.
#[derive(Debug, Clone)]
pub struct NewOutbox {
    /// The instance whose step caused it.
    pub instance_id: Option<i32>,
    /// The ärende.
    pub case_id: Option<i32>,
    /// Template id.
    pub template: String,
    /// The recipient as JSON `{name, email}` (an array of one, for older readers).
    pub recipients: String,
    /// The context it was rendered with, as JSON.
    pub context: String,
    /// `pending`, or `no_recipients`.
    pub status: OutboxStatus,
    /// When.
    pub at: DateTime<Utc>,
    /// The Message-ID.
    pub message_id: Option<String>,
    /// The sender as JSON.
    pub sender: Option<String>,
    /// Reply-To as JSON.
    pub reply_to: Option<String>,
    /// The recipient's address, for finding messages.
    pub recipient_email: Option<String>,
    /// Subject.
    pub subject: Option<String>,
    /// Text part.
    pub text_body: Option<String>,
    /// HTML part.
    pub html_body: Option<String>,
    /// Attachments as JSON `[{name, media_type, sha256}]`.
    pub attachments: Option<String>,
}

/// Which messages to list.
#[derive(Debug, Clone, Default)]
pub struct OutboxFilter {
    /// Only this status.
    pub status: Option<OutboxStatus>,
    /// Only this ärende.
    pub case_id: Option<i32>,
    /// At most this many (0: all).
    pub limit: u64,
    /// Only those older than this one (its id).
    pub before: Option<i32>,
    /// Newest first, rather than oldest first.
    pub newest_first: bool,
}

/// The update that ends a delivery attempt: records the attempts made and gives the lease up,
/// and applies only while `owner` still holds the message (a dispatcher that lost its lease
/// records nothing).
fn end_attempt(id: i32, owner: &str, attempts: i32) -> sea_orm::UpdateMany<outbox::Entity> {
    outbox::Entity::update_many()
        .col_expr(outbox::Column::Attempts, Expr::value(attempts))
        .col_expr(
            outbox::Column::LeaseOwner,
            Expr::value(Option::<String>::None),
        )
        .col_expr(
            outbox::Column::LeaseUntil,
            Expr::value(Option::<DateTime<Utc>>::None),
        )
        .filter(outbox::Column::Id.eq(id))
        .filter(outbox::Column::LeaseOwner.eq(owner))
}

pub(super) fn outbox_model(new: NewOutbox) -> outbox::ActiveModel {
    outbox::ActiveModel {
        instance_id: Set(new.instance_id),
        case_id: Set(new.case_id),
        template: Set(new.template),
        recipients: Set(new.recipients),
        context: Set(new.context),
        status: Set(new.status),
        created_at: Set(new.at),
        message_id: Set(new.message_id),
        sender: Set(new.sender),
        reply_to: Set(new.reply_to),
        recipient_email: Set(new.recipient_email),
        subject: Set(new.subject),
        text_body: Set(new.text_body),
        html_body: Set(new.html_body),
        attachments: Set(new.attachments),
        attempts: Set(0),
        next_attempt_at: Set(Some(new.at)),
        lease_owner: Set(None),
        lease_until: Set(None),
        last_error: Set(None),
        sent_at: Set(None),
        ..Default::default()
    }
}

impl Tx {
    /// Queues a message; returns its id.
    pub async fn insert_outbox(&self, new: NewOutbox) -> Result<i32, StoreError> {
        Ok(outbox_model(new).insert(&self.txn).await?.id)
    }

    /// Gives a message up, if this owner holds it.
    pub async fn mark_failed(
        &self,
        id: i32,
        owner: &str,
        attempts: i32,
        error: &str,
    ) -> Result<bool, StoreError> {
        let result = end_attempt(id, owner, attempts)
            .col_expr(outbox::Column::Status, Expr::value(OutboxStatus::Failed))
            .col_expr(
                outbox::Column::LastError,
                Expr::value(Some(error.to_owned())),
            )
            .exec(&self.txn)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Makes a failed message pending again, to be sent at once; false if it was not failed.
    pub async fn reset_failed(&self, id: i32, now: DateTime<Utc>) -> Result<bool, StoreError> {
        let result = outbox::Entity::update_many()
            .col_expr(outbox::Column::Status, Expr::value(OutboxStatus::Pending))
            .col_expr(outbox::Column::Attempts, Expr::value(0))
            .col_expr(outbox::Column::NextAttemptAt, Expr::value(Some(now)))
            .filter(outbox::Column::Id.eq(id))
            .filter(outbox::Column::Status.eq(OutboxStatus::Failed))
            .exec(&self.txn)
            .await?;
        Ok(result.rows_affected == 1)
    }
}

impl Store {
    /// Claims up to `limit` messages due at `now` for `owner` until `now + lease`.
    pub async fn claim_due_messages(
        &self,
        owner: &str,
        now: DateTime<Utc>,
        lease: Duration,
        limit: u64,
    ) -> Result<Vec<OutboxRow>, StoreError> {
        let due = Query::select()
            .column(outbox::Column::Id)
            .from(outbox::Entity)
            .and_where(outbox::Column::Status.eq(OutboxStatus::Pending))
            .and_where(outbox::Column::NextAttemptAt.lte(now))
            .and_where(
                outbox::Column::LeaseUntil
                    .is_null()
                    .or(outbox::Column::LeaseUntil.lt(now)),
            )
            .order_by(outbox::Column::Id, sea_orm::Order::Asc)
            .limit(limit)
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
            .table(outbox::Entity)
            .value(outbox::Column::LeaseOwner, owner)
            .value(outbox::Column::LeaseUntil, now + lease)
            .and_where(one_of(tx.db_backend(), outbox::Column::Id, ids))
            .and_where(outbox::Column::Status.eq(OutboxStatus::Pending))
            .and_where(
                outbox::Column::LeaseUntil
                    .is_null()
                    .or(outbox::Column::LeaseUntil.lt(now)),
            )
            .returning_all()
            .to_owned();
        let rows = tx.txn.query_all(&claim).await?;
        tx.commit().await?;
        let mut messages = rows
            .iter()
            .map(|r| outbox::Model::from_query_result(r, ""))
            .collect::<Result<Vec<_>, _>>()?;
        messages.sort_by_key(|m| m.id);
        Ok(messages)
    }

    /// Records a delivery, if this owner still holds the message.
    pub async fn mark_sent(
        &self,
        id: i32,
        owner: &str,
        attempts: i32,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = end_attempt(id, owner, attempts)
            .col_expr(outbox::Column::Status, Expr::value(OutboxStatus::Sent))
            .col_expr(outbox::Column::SentAt, Expr::value(Some(at)))
            .col_expr(
                outbox::Column::LastError,
                Expr::value(Option::<String>::None),
            )
            .exec(self.db())
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Records a failed attempt and when to try again, if this owner still holds the message.
    pub async fn mark_retry(
        &self,
        id: i32,
        owner: &str,
        attempts: i32,
        error: &str,
        next_at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let result = end_attempt(id, owner, attempts)
            .col_expr(
                outbox::Column::LastError,
                Expr::value(Some(error.to_owned())),
            )
            .col_expr(outbox::Column::NextAttemptAt, Expr::value(Some(next_at)))
            .exec(self.db())
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// A message by id.
    pub async fn outbox_row(&self, id: i32) -> Result<Option<OutboxRow>, StoreError> {
        Ok(outbox::Entity::find_by_id(id).one(self.db()).await?)
    }

    /// Messages, oldest first.
    pub async fn list_outbox(&self, filter: &OutboxFilter) -> Result<Vec<OutboxRow>, StoreError> {
        let mut query = match filter.newest_first {
            true => outbox::Entity::find().order_by_desc(outbox::Column::Id),
            false => outbox::Entity::find().order_by_asc(outbox::Column::Id),
        };
        if let Some(before) = filter.before {
            query = query.filter(outbox::Column::Id.lt(before));
        }
        if let Some(status) = &filter.status {
            query = query.filter(outbox::Column::Status.eq(*status));
        }
        if let Some(id) = filter.case_id {
            query = query.filter(outbox::Column::CaseId.eq(id));
        }
        if filter.limit > 0 {
            query = query.limit(filter.limit);
        }
        Ok(query.all(self.db()).await?)
    }

    /// How many messages have `status`.
    pub async fn count_outbox(&self, status: OutboxStatus) -> Result<u64, StoreError> {
        Ok(outbox::Entity::find()
            .filter(outbox::Column::Status.eq(status))
            .count(self.db())
            .await?)
    }

    /// Outbox messages, oldest first; of one ärende when given.
    pub async fn outbox(&self, case_id: Option<i32>) -> Result<Vec<OutboxRow>, StoreError> {
        self.list_outbox(&OutboxFilter {
            case_id,
            ..Default::default()
        })
        .await
    }

    /// When the next pending message is due.
    pub async fn next_message_due(&self) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(outbox::Entity::find()
            .filter(outbox::Column::Status.eq(OutboxStatus::Pending))
            .order_by_asc(outbox::Column::NextAttemptAt)
            .one(self.db())
            .await?
            .and_then(|m| m.next_attempt_at))
    }
}
