//! Accounts, sessions and login attempts. Sessions are found by the hash of their token, so a
//! copy of the database holds no usable session; expired and idle ones are never returned, and
//! [`Store::sweep_expired`] deletes them with the old login attempts and idempotency records.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder, Set,
};

use super::entity::{account, api_request, api_token, login_attempt, session};
use super::{Store, StoreError, Tx};

/// An account row.
pub type AccountRow = account::Model;
/// A session row.
pub type SessionRow = session::Model;

/// An account to create.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// The login name.
    pub username: String,
    /// The person of the organisation it belongs to.
    pub person_key: String,
    /// The argon2id hash (PHC string).
    pub password_hash: String,
    /// Whether it administers Kansli.
    pub admin: bool,
}

/// Inserts an account on `db` (the pool, or a transaction); a conflict when the username is
/// taken.
async fn insert_account_on(
    db: &impl ConnectionTrait,
    new: NewAccount,
    at: DateTime<Utc>,
) -> Result<AccountRow, StoreError> {
    account::ActiveModel {
        username: Set(new.username.clone()),
        person_key: Set(new.person_key),
        password_hash: Set(new.password_hash),
        admin: Set(new.admin),
        created_at: Set(at),
        ..Default::default()
    }
    .insert(db)
    .await
    .map_err(|e| StoreError::from_write(e, &format!("the username {} is taken", new.username)))
}

impl Tx {
    /// Creates an account in this transaction; a conflict when the username is taken.
    pub async fn insert_account(
        &self,
        new: NewAccount,
        at: DateTime<Utc>,
    ) -> Result<AccountRow, StoreError> {
        insert_account_on(&self.txn, new, at).await
    }

    /// Turns an account off (`Some(when)`) or on again (`None`); false if there is no such
    /// account.
    pub async fn set_account_disabled(
        &self,
        id: i32,
        disabled_at: Option<DateTime<Utc>>,
    ) -> Result<bool, StoreError> {
        let result = account::Entity::update_many()
            .col_expr(account::Column::DisabledAt, Expr::value(disabled_at))
            .filter(account::Column::Id.eq(id))
            .exec(&self.txn)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Replaces an account's password hash; false if there is no such account.
    pub async fn set_account_password(
        &self,
        id: i32,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        let result = account::Entity::update_many()
            .col_expr(
                account::Column::PasswordHash,
                Expr::value(password_hash.to_owned()),
            )
            .filter(account::Column::Id.eq(id))
            .exec(&self.txn)
            .await?;
        Ok(result.rows_affected == 1)
    }

    /// Revokes every live API token of an account (a new password, an account turned off);
    /// how many there were.
    pub async fn revoke_api_tokens_of(
        &self,
        account_id: i32,
        now: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        let result = api_token::Entity::update_many()
            .col_expr(api_token::Column::RevokedAt, Expr::value(now))
            .filter(api_token::Column::AccountId.eq(account_id))
            .filter(api_token::Column::RevokedAt.is_null())
            .exec(&self.txn)
            .await?;
        Ok(result.rows_affected)
    }

    /// Ends every session of an account; how many there were.
    pub async fn delete_sessions_of(&self, account_id: i32) -> Result<u64, StoreError> {
        let result = session::Entity::delete_many()
            .filter(session::Column::AccountId.eq(account_id))
            .exec(&self.txn)
            .await?;
        Ok(result.rows_affected)
    }
}

impl Store {
    /// Creates an account; a conflict when the username is taken.
    pub async fn insert_account(
        &self,
        new: NewAccount,
        at: DateTime<Utc>,
    ) -> Result<AccountRow, StoreError> {
        insert_account_on(self.db(), new, at).await
    }

    /// An account by username.
    pub async fn account_by_username(
        &self,
        username: &str,
    ) -> Result<Option<AccountRow>, StoreError> {
        Ok(account::Entity::find()
            .filter(account::Column::Username.eq(username))
            .one(self.db())
            .await?)
    }

    /// An account by id.
    pub async fn account(&self, id: i32) -> Result<Option<AccountRow>, StoreError> {
        Ok(account::Entity::find_by_id(id).one(self.db()).await?)
    }

    /// Every account, by username.
    pub async fn accounts(&self) -> Result<Vec<AccountRow>, StoreError> {
        Ok(account::Entity::find()
            .order_by_asc(account::Column::Username)
            .all(self.db())
            .await?)
    }

    /// Stores a new session.
    pub async fn insert_session(&self, row: SessionRow) -> Result<(), StoreError> {
        session::ActiveModel {
            token_sha256: Set(row.token_sha256),
            account_id: Set(row.account_id),
            csrf_token: Set(row.csrf_token),
            created_at: Set(row.created_at),
            expires_at: Set(row.expires_at),
            last_seen_at: Set(row.last_seen_at),
        }
        .insert(self.db())
        .await?;
        Ok(())
    }

    /// The live session with this token hash: before its end, and used within `idle` of
    /// `now`. A use is remembered (at most once a minute, so that reading pages is not a write
    /// each time).
    pub async fn session(
        &self,
        token_sha256: &str,
        now: DateTime<Utc>,
        idle: chrono::Duration,
    ) -> Result<Option<SessionRow>, StoreError> {
        let Some(found) = session::Entity::find_by_id(token_sha256.to_owned())
            .filter(session::Column::ExpiresAt.gt(now))
            .one(self.db())
            .await?
        else {
            return Ok(None);
        };
        let seen = found.last_seen_at.unwrap_or(found.created_at);
        if now - seen >= idle {
            return Ok(None);
        }
        if now - seen > chrono::Duration::minutes(1) {
            session::Entity::update_many()
                .col_expr(session::Column::LastSeenAt, Expr::value(now))
                .filter(session::Column::TokenSha256.eq(token_sha256))
                .exec(self.db())
                .await?;
        }
        Ok(Some(found))
    }

    /// Ends a session.
    pub async fn delete_session(&self, token_sha256: &str) -> Result<(), StoreError> {
        session::Entity::delete_by_id(token_sha256.to_owned())
            .exec(self.db())
            .await?;
        Ok(())
    }

    /// Records a login attempt against each of `subjects` as failed, before its password is
    /// checked, so that attempts made at the same moment count each other: each is committed
    /// before it counts, so of N simultaneous attempts the k-th to be written sees at least k.
    /// The ids, for [`Store::login_attempts_succeeded`].
    pub async fn record_login_attempts(
        &self,
        subjects: &[String],
        at: DateTime<Utc>,
    ) -> Result<Vec<i32>, StoreError> {
        let mut ids = Vec::with_capacity(subjects.len());
        for subject in subjects {
            let row = login_attempt::ActiveModel {
                subject: Set(subject.clone()),
                succeeded: Set(false),
                at: Set(at),
                ..Default::default()
            }
            .insert(self.db())
            .await?;
            ids.push(row.id);
        }
        Ok(ids)
    }

    /// Marks recorded attempts as having succeeded.
    pub async fn login_attempts_succeeded(&self, ids: &[i32]) -> Result<(), StoreError> {
        login_attempt::Entity::update_many()
            .col_expr(login_attempt::Column::Succeeded, Expr::value(true))
            .filter(login_attempt::Column::Id.is_in(ids.iter().copied()))
            .exec(self.db())
            .await?;
        Ok(())
    }

    /// Failed attempts against `subject` since `since` (those under way included).
    pub async fn failed_logins_since(
        &self,
        subject: &str,
        since: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        Ok(login_attempt::Entity::find()
            .filter(login_attempt::Column::Subject.eq(subject))
            .filter(login_attempt::Column::Succeeded.eq(false))
            .filter(login_attempt::Column::At.gt(since))
            .count(self.db())
            .await?)
    }

    /// When the newest failed attempt against `subject` other than `except` was made.
    pub async fn previous_failed_login(
        &self,
        subject: &str,
        except: i32,
    ) -> Result<Option<DateTime<Utc>>, StoreError> {
        Ok(login_attempt::Entity::find()
            .filter(login_attempt::Column::Subject.eq(subject))
            .filter(login_attempt::Column::Succeeded.eq(false))
            .filter(login_attempt::Column::Id.ne(except))
            .order_by_desc(login_attempt::Column::At)
            .one(self.db())
            .await?
            .map(|a| a.at))
    }

    /// Whether an attempt against `subject` succeeded since `since`.
    pub async fn login_succeeded_since(
        &self,
        subject: &str,
        since: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        Ok(login_attempt::Entity::find()
            .filter(login_attempt::Column::Subject.eq(subject))
            .filter(login_attempt::Column::Succeeded.eq(true))
            .filter(login_attempt::Column::At.gt(since))
            .count(self.db())
            .await?
            > 0)
    }

    /// Deletes what has run out: sessions past their end or idle since before `idle_since`,
    /// failed login attempts from before `failures_since`, successful ones from before
    /// `successes_since`, and the API's kept answers (`Idempotency-Key`) from before `keys_since`.
    /// The engine's event keys stay: they promise an event once however late it is repeated.
    /// How many rows.
    pub async fn sweep_expired(&self, cutoffs: &SweepCutoffs) -> Result<u64, StoreError> {
        let mut removed = 0;
        removed += session::Entity::delete_many()
            .filter(
                Condition::any()
                    .add(session::Column::ExpiresAt.lte(cutoffs.now))
                    .add(
                        Condition::all()
                            .add(session::Column::LastSeenAt.is_null())
                            .add(session::Column::CreatedAt.lt(cutoffs.idle_since)),
                    )
                    .add(session::Column::LastSeenAt.lt(cutoffs.idle_since)),
            )
            .exec(self.db())
            .await?
            .rows_affected;
        removed += login_attempt::Entity::delete_many()
            .filter(
                Condition::any()
                    .add(
                        Condition::all()
                            .add(login_attempt::Column::Succeeded.eq(false))
                            .add(login_attempt::Column::At.lt(cutoffs.failures_since)),
                    )
                    .add(login_attempt::Column::At.lt(cutoffs.successes_since)),
            )
            .exec(self.db())
            .await?
            .rows_affected;
        removed += api_request::Entity::delete_many()
            .filter(api_request::Column::CreatedAt.lt(cutoffs.keys_since))
            .exec(self.db())
            .await?
            .rows_affected;
        Ok(removed)
    }
}

/// What [`Store::sweep_expired`] deletes: everything from before these moments.
#[derive(Debug, Clone, Copy)]
pub struct SweepCutoffs {
    /// Sessions that end by now.
    pub now: DateTime<Utc>,
    /// Sessions last used before this.
    pub idle_since: DateTime<Utc>,
    /// Failed login attempts before this.
    pub failures_since: DateTime<Utc>,
    /// Successful login attempts before this (they mark the addresses an account is used
    /// from, so they are kept longer).
    pub successes_since: DateTime<Utc>,
    /// The API's kept answers before this.
    pub keys_since: DateTime<Utc>,
}
