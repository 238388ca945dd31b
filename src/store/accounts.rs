//! Accounts, sessions and login attempts. Sessions are found by the hash of their token, so a
//! copy of the database holds no usable session; expired ones are never returned.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, Set,
};

use super::entity::{account, login_attempt, session};
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
        }
        .insert(self.db())
        .await?;
        Ok(())
    }

    /// The live session with this token hash.
    pub async fn session(
        &self,
        token_sha256: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<SessionRow>, StoreError> {
        Ok(session::Entity::find_by_id(token_sha256.to_owned())
            .filter(session::Column::ExpiresAt.gt(now))
            .one(self.db())
            .await?)
    }

    /// Ends a session.
    pub async fn delete_session(&self, token_sha256: &str) -> Result<(), StoreError> {
        session::Entity::delete_by_id(token_sha256.to_owned())
            .exec(self.db())
            .await?;
        Ok(())
    }

    /// Records a login attempt against `subject` (an account or an address).
    pub async fn record_login_attempt(
        &self,
        subject: &str,
        succeeded: bool,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        login_attempt::ActiveModel {
            subject: Set(subject.to_owned()),
            succeeded: Set(succeeded),
            at: Set(at),
            ..Default::default()
        }
        .insert(self.db())
        .await?;
        Ok(())
    }

    /// Failed attempts against `subject` since `since`.
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
}
