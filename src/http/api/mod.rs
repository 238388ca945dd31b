//! The JSON API under `/api/v1`, for integrations (the e-archive, the intranet): the same use
//! cases as the staff pages, described by the OpenAPI document at `/api/v1/openapi.json`
//! (kept in `docs/api/openapi.json`).
//!
//! A caller authenticates with a personal API token (`Authorization: Bearer kansli_...`) and
//! acts with the roles of the token's account. Every error is `application/problem+json`
//! (RFC 9457). A POST may carry an `Idempotency-Key`: repeated, it answers what the first one
//! answered, without doing it twice.

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::Serialize;

use super::AppState;
use crate::service::ServiceError;

mod cases;
mod idempotency;

/// The OpenAPI document, served as it is written.
const OPENAPI: &str = include_str!("../../../docs/api/openapi.json");

/// The routes under `/api/v1`.
pub(super) fn routes(state: AppState) -> Router<AppState> {
    let authenticated = Router::new()
        .route("/me", get(cases::me))
        .route("/cases", get(cases::search).post(cases::open))
        .route("/cases/{number}", get(cases::show))
        .route("/cases/{number}/history", get(cases::history))
        .route("/cases/{number}/workflow", get(cases::workflow))
        .route("/cases/{number}/events", post(cases::event))
        .route(
            "/cases/{number}/documents",
            post(cases::register).layer(axum::extract::DefaultBodyLimit::max(
                idempotency::MAX_BODY_BYTES,
            )),
        )
        .route("/documents/{number}/file", get(cases::file))
        .route("/inbox", get(cases::inbox))
        // Outermost last: the token is checked before the key is looked up.
        .layer(middleware::from_fn_with_state(
            state.clone(),
            idempotency::idempotent,
        ))
        .layer(middleware::from_fn_with_state(state, authenticate));
    Router::new()
        .route("/openapi.json", get(openapi))
        .route("/postlista", get(cases::postlista))
        .merge(authenticated)
        .fallback(|| async { Problem::new(StatusCode::NOT_FOUND, "no such API route") })
        .method_not_allowed_fallback(|| async {
            Problem::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "the route does not take this method",
            )
        })
}

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

/// The token's user, or 401. The user goes into the request for the handlers.
async fn authenticate(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let token = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .map(str::to_owned);
    let user = match token {
        Some(t) => state.kansli.token_user(&t).await,
        None => Ok(None),
    };
    match user {
        Ok(Some(user)) => {
            request.extensions_mut().insert(user);
            next.run(request).await
        }
        Ok(None) => {
            let mut response = Problem::new(
                StatusCode::UNAUTHORIZED,
                "an API token is needed: Authorization: Bearer kansli_...",
            )
            .into_response();
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"kansli\""),
            );
            response
        }
        Err(e) => Problem::from(e).into_response(),
    }
}

/// An RFC 9457 problem: the status, its title, and what the caller can do.
#[derive(Debug, Serialize)]
pub(crate) struct Problem {
    #[serde(rename = "type")]
    kind: &'static str,
    title: &'static str,
    #[serde(serialize_with = "status_code")]
    status: StatusCode,
    detail: String,
}

fn status_code<S: serde::Serializer>(status: &StatusCode, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u16(status.as_u16())
}

impl Problem {
    /// A problem with `status` and a detail that says what to do.
    pub(crate) fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            kind: "about:blank",
            title: status.canonical_reason().unwrap_or("Error"),
            status,
            detail: detail.into(),
        }
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = serde_json::to_vec(&self).unwrap_or_default();
        (
            self.status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body,
        )
            .into_response()
    }
}

impl From<ServiceError> for Problem {
    fn from(err: ServiceError) -> Self {
        match err {
            ServiceError::Invalid(m) => Problem::new(StatusCode::UNPROCESSABLE_ENTITY, m),
            // The API keeps the engine's English.
            ServiceError::Refused(r) => Problem::new(super::refusal_status(&r), r.to_string()),
            ServiceError::InvalidDocument(r) => {
                Problem::new(StatusCode::UNPROCESSABLE_ENTITY, r.to_string())
            }
            ServiceError::NotFound(m) => Problem::new(StatusCode::NOT_FOUND, m),
            ServiceError::Conflict(m) | ServiceError::Final(m) => {
                Problem::new(StatusCode::CONFLICT, m)
            }
            ServiceError::Forbidden(m) => Problem::new(StatusCode::FORBIDDEN, m),
            // The engine renders what a use case asks for and runs it again: one that still
            // asks when it reaches here is a fault of ours.
            e @ ServiceError::Unrendered(_) => {
                tracing::error!(error.message = %e, "API request failed");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error; it is logged, try again later",
                )
            }
            ServiceError::Unexpected(e) => {
                tracing::error!(error.message = %e, error.cause_chain = ?e, "API request failed");
                Problem::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal error; it is logged, try again later",
                )
            }
        }
    }
}

impl From<axum::extract::rejection::JsonRejection> for Problem {
    fn from(rejection: axum::extract::rejection::JsonRejection) -> Self {
        let status = match rejection.status() {
            StatusCode::UNSUPPORTED_MEDIA_TYPE => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            StatusCode::PAYLOAD_TOO_LARGE => StatusCode::PAYLOAD_TOO_LARGE,
            StatusCode::UNPROCESSABLE_ENTITY => StatusCode::UNPROCESSABLE_ENTITY,
            _ => StatusCode::BAD_REQUEST,
        };
        Problem::new(status, rejection.body_text())
    }
}

impl From<axum::extract::rejection::QueryRejection> for Problem {
    fn from(rejection: axum::extract::rejection::QueryRejection) -> Self {
        Problem::new(StatusCode::BAD_REQUEST, rejection.body_text())
    }
}

impl From<axum::extract::rejection::PathRejection> for Problem {
    fn from(rejection: axum::extract::rejection::PathRejection) -> Self {
        Problem::new(StatusCode::BAD_REQUEST, rejection.body_text())
    }
}
