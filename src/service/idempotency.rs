//! Idempotency keys for the API's POSTs (the IETF `Idempotency-Key` header): the first request
//! with a key is done and its answer kept; a repeat with the same request gets that answer
//! again without anything being done twice; the same key with another request, or while the
//! first is still running, is refused. Keys are kept a day per account.

use chrono::Duration;

use super::{Kansli, ServiceError};
use crate::store::StoredAnswer;

/// How long a key is remembered.
pub const KEY_LIFETIME: Duration = Duration::hours(24);
/// The longest key accepted.
pub const MAX_KEY_LENGTH: usize = 255;

/// What a key says about a request.
#[derive(Debug)]
pub enum Claim {
    /// The key is new: do the request, then [`Kansli::keep_answer`] or
    /// [`Kansli::release_key`].
    New,
    /// The same request was done before: answer this.
    Done(StoredAnswer),
    /// The same key was used for a different request.
    Mismatch,
    /// The first request with this key has not finished.
    InProgress,
}

impl Kansli {
    /// Claims `key` for the request whose fingerprint is `request_sha256`, for `account_id`.
    pub async fn claim_key(
        &self,
        account_id: i32,
        key: &str,
        request_sha256: &str,
    ) -> Result<Claim, ServiceError> {
        if key.is_empty()
            || key.len() > MAX_KEY_LENGTH
            || !key.bytes().all(|b| b.is_ascii_graphic())
        {
            return Err(ServiceError::Invalid(format!(
                "Idempotency-Key must be 1 to {MAX_KEY_LENGTH} visible ASCII characters"
            )));
        }
        let now = self.clock.now();
        self.store.forget_api_requests(now - KEY_LIFETIME).await?;
        let Some(earlier) = self
            .store
            .claim_api_request(account_id, key, request_sha256, now)
            .await?
        else {
            return Ok(Claim::New);
        };
        if earlier.request_sha256 != request_sha256 {
            return Ok(Claim::Mismatch);
        }
        Ok(match (earlier.status, earlier.content_type, earlier.body) {
            (Some(status), Some(content_type), Some(body)) => Claim::Done(StoredAnswer {
                status: u16::try_from(status).unwrap_or(500),
                content_type,
                body,
                location: earlier.location,
            }),
            _ => Claim::InProgress,
        })
    }

    /// Keeps the answer of a request that claimed `key`.
    pub async fn keep_answer(
        &self,
        account_id: i32,
        key: &str,
        answer: StoredAnswer,
    ) -> Result<(), ServiceError> {
        Ok(self
            .store
            .finish_api_request(account_id, key, answer)
            .await?)
    }

    /// Frees `key` after a request that failed in a way a retry may mend.
    pub async fn release_key(&self, account_id: i32, key: &str) -> Result<(), ServiceError> {
        Ok(self.store.release_api_request(account_id, key).await?)
    }
}
