//! Personal API tokens and idempotency records. Tokens are found by the hash of their value,
//! so a copy of the database holds no usable token.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{ActiveModelTrait, ColumnTrait, EntityTrait, QueryFilter, QueryOrder, Set};

use super::entity::{api_request, api_token};
use super::{Store, StoreError};

/// An API token row.
pub type ApiTokenRow = api_token::Model;
/// An idempotency record.
pub type ApiRequestRow = api_request::Model;

/// A finished request's answer, kept for repeats of its idempotency key.
#[derive(Debug, Clone)]
pub struct StoredAnswer {
    /// The HTTP status.
    pub status: u16,
    /// The Content-Type header.
    pub content_type: String,
    /// The body.
    pub body: Vec<u8>,
    /// The `Location` header, for an answer that created something.
    pub location: Option<String>,
}

impl Store {
    /// Stores a new token of `account_id`, by hash.
    pub async fn insert_api_token(
        &self,
        account_id: i32,
        name: &str,
        token_sha256: &str,
        now: DateTime<Utc>,
        expires_at: Option<DateTime<Utc>>,
    ) -> Result<ApiTokenRow, StoreError> {
        Ok(api_token::ActiveModel {
            account_id: Set(account_id),
            name: Set(name.to_owned()),
            token_sha256: Set(token_sha256.to_owned()),
            created_at: Set(now),
            expires_at: Set(expires_at),
            ..Default::default()
        }
        .insert(self.db())
        .await?)
    }

    /// The live token with this hash (not revoked, not expired); marks it used.
    pub async fn use_api_token(
        &self,
        token_sha256: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ApiTokenRow>, StoreError> {
        let found = api_token::Entity::find()
            .filter(api_token::Column::TokenSha256.eq(token_sha256))
            .filter(api_token::Column::RevokedAt.is_null())
            .one(self.db())
            .await?
            .filter(|t| t.expires_at.is_none_or(|e| e > now));
        if let Some(token) = &found {
            // Once a minute is enough to show an administrator which tokens are in use.
            if token
                .last_used_at
                .is_none_or(|t| now - t > chrono::Duration::minutes(1))
            {
                api_token::Entity::update_many()
                    .col_expr(api_token::Column::LastUsedAt, Expr::value(now))
                    .filter(api_token::Column::Id.eq(token.id))
                    .exec(self.db())
                    .await?;
            }
        }
        Ok(found)
    }

    /// The tokens of an account, newest first.
    pub async fn api_tokens_of(&self, account_id: i32) -> Result<Vec<ApiTokenRow>, StoreError> {
        Ok(api_token::Entity::find()
            .filter(api_token::Column::AccountId.eq(account_id))
            .order_by_desc(api_token::Column::Id)
            .all(self.db())
            .await?)
    }

    /// Revokes a token of `account_id`; false when it has none by that id, or it is revoked.
    pub async fn revoke_api_token(
        &self,
        account_id: i32,
        id: i32,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = api_token::Entity::update_many()
            .col_expr(api_token::Column::RevokedAt, Expr::value(now))
            .filter(api_token::Column::Id.eq(id))
            .filter(api_token::Column::AccountId.eq(account_id))
            .filter(api_token::Column::RevokedAt.is_null())
            .exec(self.db())
            .await?;
        Ok(done.rows_affected == 1)
    }

    /// Claims `key` for a request of `account_id` with this fingerprint. `Ok(None)` when the
    /// claim is new (the caller goes on and later calls [`Store::finish_api_request`]);
    /// otherwise the earlier claim, whose fingerprint and answer the caller compares.
    pub async fn claim_api_request(
        &self,
        account_id: i32,
        key: &str,
        request_sha256: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<ApiRequestRow>, StoreError> {
        let inserted = api_request::ActiveModel {
            account_id: Set(account_id),
            idempotency_key: Set(key.to_owned()),
            request_sha256: Set(request_sha256.to_owned()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(self.db())
        .await;
        match inserted {
            Ok(_) => Ok(None),
            Err(e) => match StoreError::from_write(e, "idempotency key") {
                StoreError::Conflict(_) => Ok(api_request::Entity::find()
                    .filter(api_request::Column::AccountId.eq(account_id))
                    .filter(api_request::Column::IdempotencyKey.eq(key))
                    .one(self.db())
                    .await?),
                other => Err(other),
            },
        }
    }

    /// Keeps the answer of a claimed request.
    pub async fn finish_api_request(
        &self,
        account_id: i32,
        key: &str,
        answer: StoredAnswer,
    ) -> Result<(), StoreError> {
        api_request::Entity::update_many()
            .col_expr(
                api_request::Column::Status,
                Expr::value(i32::from(answer.status)),
            )
            .col_expr(
                api_request::Column::ContentType,
                Expr::value(answer.content_type),
            )
            .col_expr(api_request::Column::Body, Expr::value(answer.body))
            .col_expr(api_request::Column::Location, Expr::value(answer.location))
            .filter(api_request::Column::AccountId.eq(account_id))
            .filter(api_request::Column::IdempotencyKey.eq(key))
            .exec(self.db())
            .await?;
        Ok(())
    }

    /// Lets a claimed key go unanswered (the request failed in a way a retry may mend).
    pub async fn release_api_request(&self, account_id: i32, key: &str) -> Result<(), StoreError> {
        api_request::Entity::delete_many()
            .filter(api_request::Column::AccountId.eq(account_id))
            .filter(api_request::Column::IdempotencyKey.eq(key))
            .filter(api_request::Column::Status.is_null())
            .exec(self.db())
            .await?;
        Ok(())
    }

    /// Forgets idempotency records made before `before`.
    pub async fn forget_api_requests(&self, before: DateTime<Utc>) -> Result<u64, StoreError> {
        Ok(api_request::Entity::delete_many()
            .filter(api_request::Column::CreatedAt.lt(before))
            .exec(self.db())
            .await?
            .rows_affected)
    }
}
