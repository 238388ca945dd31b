//! The `Idempotency-Key` header on POSTs: a request with a key the account used before for
//! the same request is answered from the stored answer (`Idempotent-Replayed: true`) and not
//! done again; see [`crate::service::idempotency`] for the rules.

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::Problem;
use crate::http::AppState;
use crate::service::accounts::User;
use crate::service::idempotency::Claim;
use crate::store::StoredAnswer;

/// The largest request body the API takes: a handling's file in base64, and the rest.
pub(super) const MAX_BODY_BYTES: usize = crate::service::MAX_FILE_BYTES / 3 * 4 + 64 * 1024;
/// The request header.
const KEY_HEADER: HeaderName = HeaderName::from_static("idempotency-key");
/// Marks an answer given again for a repeated key.
const REPLAYED_HEADER: HeaderName = HeaderName::from_static("idempotent-replayed");

/// What identifies a request: its method, path and query, content type and body.
fn fingerprint(request: &axum::http::request::Parts, body: &[u8]) -> String {
    let mut hash = Sha256::new();
    hash.update(request.method.as_str());
    hash.update(b" ");
    hash.update(
        request
            .uri
            .path_and_query()
            .map_or("", |p| p.as_str())
            .as_bytes(),
    );
    hash.update(b"\n");
    if let Some(t) = request.headers.get(header::CONTENT_TYPE) {
        hash.update(t.as_bytes());
    }
    hash.update(b"\n");
    hash.update(body);
    hex::encode(hash.finalize())
}

/// Answers a POST with a known key from its stored answer; records the answer of a new one.
pub(super) async fn idempotent(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(key) = request.headers().get(KEY_HEADER).cloned() else {
        return next.run(request).await;
    };
    let Ok(key) = key.to_str().map(str::to_owned) else {
        return Problem::new(
            StatusCode::BAD_REQUEST,
            "Idempotency-Key must be visible ASCII characters",
        )
        .into_response();
    };
    let Some(account) = request.extensions().get::<User>().map(|u| u.account_id) else {
        return next.run(request).await;
    };
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(b) => b,
        Err(_) => {
            return Problem::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("the request body is over {MAX_BODY_BYTES} bytes"),
            )
            .into_response();
        }
    };
    let claim = state
        .kansli
        .claim_key(account, &key, &fingerprint(&parts, &bytes))
        .await;
    match claim {
        Ok(Claim::New) => {}
        Ok(Claim::Done(answer)) => return replay(answer),
        Ok(Claim::Mismatch) => {
            return Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "this Idempotency-Key was used for a different request; use a new key",
            )
            .into_response();
        }
        Ok(Claim::InProgress) => {
            let mut response = Problem::new(
                StatusCode::CONFLICT,
                "a request with this Idempotency-Key is still running; retry shortly",
            )
            .into_response();
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            return response;
        }
        Err(e) => return Problem::from(e).into_response(),
    }
    let response = next
        .run(Request::from_parts(parts, Body::from(bytes)))
        .await;
    let (parts, body) = response.into_parts();
    // API answers are small JSON documents; a file is never the answer to a POST.
    let bytes = match axum::body::to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            // The key is released so that a retry can succeed; if even that fails, the key
            // stays taken until it expires, which the log says.
            if let Err(release) = state.kansli.release_key(account, &key).await {
                tracing::error!(error.message = %release, "an idempotency key could not be released");
            }
            return Problem::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response();
        }
    };
    let kept = if parts.status.is_server_error() {
        // A failure on our side is not the answer: a retry with the key may succeed.
        state.kansli.release_key(account, &key).await
    } else {
        let answer = StoredAnswer {
            status: parts.status.as_u16(),
            content_type: parts
                .headers
                .get(header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .unwrap_or("application/json")
                .to_owned(),
            body: bytes.to_vec(),
            location: parts
                .headers
                .get(header::LOCATION)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
        };
        state.kansli.keep_answer(account, &key, answer).await
    };
    if let Err(e) = kept {
        tracing::error!(error.message = %e, %key, "idempotency record not kept");
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// The stored answer, marked as a replay.
fn replay(answer: StoredAnswer) -> Response {
    let status = StatusCode::from_u16(answer.status).unwrap_or(StatusCode::OK);
    let mut response = (status, answer.body).into_response();
    let headers = response.headers_mut();
    if let Ok(t) = HeaderValue::from_str(&answer.content_type) {
        headers.insert(header::CONTENT_TYPE, t);
    }
    if let Some(Ok(location)) = answer.location.as_deref().map(HeaderValue::from_str) {
        headers.insert(header::LOCATION, location);
    }
    headers.insert(REPLAYED_HEADER, HeaderValue::from_static("true"));
    response
}
