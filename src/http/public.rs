//! The public pages, without login: the postlista for a period (masked exactly like the
//! export) and the anslagstavla; and the operator's `/readyz` and `/metrics`.

use std::sync::atomic::Ordering;

use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::{AppState, Period, municipality, render_page};
use crate::service::{Notice, PostlistaRow};

#[derive(Serialize)]
struct PostlistaPage {
    page_title: &'static str,
    municipality: String,
    from: String,
    to: String,
    rows: Vec<PostlistaRow>,
    error: Option<String>,
}

/// `GET /postlista?from=YYYY-MM-DD&to=YYYY-MM-DD` (the last 30 days by default)
pub(super) async fn postlista(
    State(state): State<AppState>,
    Query(period): Query<Period>,
) -> Response {
    let asked = period.days(&state.kansli);
    let (from, to, listed) = match asked {
        Ok((from, to)) => (
            from.to_string(),
            to.to_string(),
            state.kansli.postlista(from, to).await,
        ),
        Err(e) => (
            period.from.clone().unwrap_or_default(),
            period.to.clone().unwrap_or_default(),
            Err(e.0),
        ),
    };
    let (status, rows, error) = match listed {
        Ok(rows) => (StatusCode::OK, rows, None),
        Err(crate::service::ServiceError::Invalid(m)) => {
            (StatusCode::BAD_REQUEST, Vec::new(), Some(m))
        }
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    let context = PostlistaPage {
        page_title: "Postlista",
        municipality: municipality(&state).await,
        from,
        to,
        rows,
        error,
    };
    render_page(&state, status, "postlista", &context)
}

#[derive(Serialize)]
struct AnslagstavlaPage {
    page_title: &'static str,
    municipality: String,
    notices: Vec<Notice>,
}

/// `GET /anslagstavla`: the notices up today.
pub(super) async fn anslagstavla(State(state): State<AppState>) -> Response {
    match state.kansli.anslagstavla(state.kansli.today()).await {
        Ok(notices) => {
            let context = AnslagstavlaPage {
                page_title: "Anslagstavla",
                municipality: municipality(&state).await,
                notices,
            };
            render_page(&state, StatusCode::OK, "anslagstavla", &context)
        }
        Err(e) => super::ApiError::from(e).into_response(),
    }
}

/// `GET /readyz`: 200 once the database answers, else 503.
pub(super) async fn readyz(State(state): State<AppState>) -> Response {
    match state.kansli.gauges().await {
        Ok(_) => (StatusCode::OK, "ready").into_response(),
        Err(e) => {
            tracing::warn!(error.message = %e, "not ready");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the database does not answer",
            )
                .into_response()
        }
    }
}

/// `GET /stil.css`: the pages' stylesheet (the same for everyone, so it may be cached).
pub(super) async fn stylesheet(State(state): State<AppState>) -> Response {
    let Some(renderer) = state.engine.as_ref().and_then(|e| e.catalog().renderer()) else {
        return super::no_engine();
    };
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        renderer.stylesheet().to_owned(),
    )
        .into_response()
}

/// `GET /metrics`: Prometheus text format, for this machine or a scraper with the configured
/// token (the counts say how busy the municipality is and whether mail fails: not for
/// everyone).
pub(super) async fn metrics(
    State(state): State<AppState>,
    extensions: axum::http::Extensions,
    headers: axum::http::HeaderMap,
) -> Response {
    if !super::protect::may_read_metrics(&state, &extensions, &headers) {
        return (
            StatusCode::FORBIDDEN,
            "/metrics answers this machine, or a scraper with the configured token",
        )
            .into_response();
    }
    let gauges = match state.kansli.gauges().await {
        Ok(g) => g,
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    let requests = state.requests.load(Ordering::Relaxed);
    let mut body = format!(
        "# HELP kansli_http_requests_total HTTP requests served.\n\
         # TYPE kansli_http_requests_total counter\n\
         kansli_http_requests_total {requests}\n\
         # HELP kansli_workflow_steps_total Workflow steps applied (events, timers, starts).\n\
         # TYPE kansli_workflow_steps_total counter\n\
         kansli_workflow_steps_total {}\n\
         # HELP kansli_outbox_messages Messages in the outbox by status.\n\
         # TYPE kansli_outbox_messages gauge\n\
         kansli_outbox_messages{{status=\"pending\"}} {}\n\
         kansli_outbox_messages{{status=\"failed\"}} {}\n\
         kansli_outbox_messages{{status=\"sent\"}} {}\n\
         # HELP kansli_outbox_failed Messages that could not be delivered and wait for an administrator.\n\
         # TYPE kansli_outbox_failed gauge\n\
         kansli_outbox_failed {}\n\
         # HELP kansli_timers_due Timers due and not yet fired.\n\
         # TYPE kansli_timers_due gauge\n\
         kansli_timers_due {}\n\
         # HELP kansli_timers_failed Timers whose step failed, set aside until an administrator retries them.\n\
         # TYPE kansli_timers_failed gauge\n\
         kansli_timers_failed {}\n",
        gauges.steps_applied,
        gauges.outbox_pending,
        gauges.outbox_failed,
        gauges.outbox_sent,
        gauges.outbox_failed,
        gauges.timers_due,
        gauges.timers_failed,
    );
    if let Some(engine) = &state.engine {
        let steps = engine.step_counts();
        body.push_str(&format!(
            "# HELP kansli_engine_steps_total Workflow steps this process took, in sets (one \
             statement per kind of row for many steps) or alone.\n\
             # TYPE kansli_engine_steps_total counter\n\
             kansli_engine_steps_total{{taken=\"in_set\"}} {}\n\
             kansli_engine_steps_total{{taken=\"alone\"}} {}\n",
            steps.in_sets(),
            steps.alone()
        ));
    }
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body).into_response()
}
