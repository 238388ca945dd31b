//! The web server: the staff application, the questionnaire's personal links, the public
//! postlista and anslagstavla, the JSON API, health and metrics. Handlers call services and
//! never touch the store; [`protect`] guards every request and response.

use std::net::SocketAddr;

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use chrono::{Duration, NaiveDate};
use serde::Deserialize;

use crate::config::Settings;
use crate::service::{Kansli, ServiceError, postlista_csv};
use crate::workflow::TransitionError;

mod account;
mod admin;
mod api;
mod diarium;
mod enkat;
mod meetings;
mod protect;
mod public;
mod staff;

pub use protect::Protection;

/// `kansli serve`
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Listen on HOST:PORT [default: from the settings, 127.0.0.1:8080].
    #[arg(long)]
    pub addr: Option<SocketAddr>,
    /// Load the fictional demo municipality if the database has no organisation yet.
    #[arg(long)]
    pub demo: bool,
}

/// The password of the demo municipality's accounts (`serve --demo` only).
pub const DEMO_PASSWORD: &str = "norrvika-demo";
/// The demo person who administers Kansli.
const DEMO_ADMIN: &str = "mikael.aro";

/// Runs the server until Ctrl-C or SIGTERM.
pub async fn serve(args: ServeArgs, mut settings: Settings) -> anyhow::Result<()> {
    if let Some(addr) = args.addr {
        settings.server.addr = addr;
    }
    let app = crate::app::Application::build(&settings).await?;
    if args.demo {
        seed_demo(app.kansli()).await?;
    }
    let local = app.addr();
    tracing::info!(%local, "Kansli is listening");
    eprintln!("Kansli lyssnar på http://{local}/ (Ctrl-C avslutar)");
    app.run_until(shutdown_signal()).await
}

/// The fictional demo municipality, when the database has no organisation yet, and an
/// account for each of its people: the person key as the username, one shared password
/// (README). Each missing account is made, so a start that was stopped half-way is completed.
async fn seed_demo(kansli: &Kansli) -> anyhow::Result<()> {
    if kansli.organisation().await?.municipality.is_none() {
        let summary = kansli
            .import_organisation("demo-organisation.toml", crate::service::DEMO_ORGANISATION)
            .await?;
        tracing::info!(
            units = summary.units,
            people = summary.people,
            "demo organisation loaded"
        );
    }
    let existing: std::collections::HashSet<String> = kansli
        .accounts()
        .await?
        .into_iter()
        .map(|a| a.username)
        .collect();
    for person in kansli.organisation().await?.people {
        if existing.contains(&person.key) {
            continue;
        }
        let admin = person.key == DEMO_ADMIN;
        kansli
            .add_account(&person.key, &person.key, DEMO_PASSWORD, admin)
            .await?;
    }
    eprintln!(
        "Demokonton: personnyckeln som användarnamn (t.ex. amira.hadzic), lösenord {DEMO_PASSWORD}"
    );
    Ok(())
}

/// What the handlers share.
#[derive(Clone)]
pub struct AppState {
    kansli: Kansli,
    engine: Option<crate::service::Engine>,
    /// Requests served, for `/metrics`.
    requests: std::sync::Arc<std::sync::atomic::AtomicU64>,
    /// Trusted proxies, the metrics token, https.
    protection: Protection,
}

/// The routes, without the workflow pages (the public postlista and health).
pub fn router(kansli: Kansli) -> Router {
    routes(AppState {
        kansli,
        engine: None,
        requests: Default::default(),
        protection: Protection::default(),
    })
}

/// The routes, with the questionnaire pages run by `engine`; no trusted proxies and no
/// metrics token.
pub fn router_with_engine(kansli: Kansli, engine: crate::service::Engine) -> Router {
    let https = engine.base_url().starts_with("https://");
    let protection = Protection {
        https,
        ..Protection::default()
    };
    router_for(kansli, engine, protection)
}

/// The routes, with the questionnaire pages run by `engine`, guarded as `protection` says.
/// Serve it with `into_make_service_with_connect_info::<SocketAddr>()`: throttling and
/// `/metrics` need the peer's address.
pub fn router_for(
    kansli: Kansli,
    engine: crate::service::Engine,
    protection: Protection,
) -> Router {
    routes(AppState {
        kansli,
        engine: Some(engine),
        requests: Default::default(),
        protection,
    })
}

fn routes(state: AppState) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/postlista.json", get(postlista_json))
        .route("/postlista.csv", get(postlista_csv_route))
        .route("/enkat/{token}", get(enkat::show).post(enkat::post))
        .route("/", get(staff::start))
        .route("/stil.css", get(public::stylesheet))
        .route(
            "/logga-in",
            get(staff::login_form)
                .post(staff::login)
                .layer(axum::extract::DefaultBodyLimit::max(LOGIN_FORM_BYTES)),
        )
        .route("/logga-ut", axum::routing::post(staff::logout))
        .route("/arende/status", get(staff::status))
        .route("/konto", get(account::show).post(account::act))
        .route("/sammantraden", get(meetings::list).post(meetings::create))
        .route(
            "/sammantraden/{id}",
            get(meetings::show).post(meetings::act),
        )
        .route("/sammantraden/{id}/protokoll", get(meetings::protocol))
        .route("/utdrag", get(meetings::extract))
        .route("/arenden", get(diarium::search))
        .route("/arende", get(diarium::show))
        .route("/arende/handelse", axum::routing::post(diarium::event))
        .route("/arende/atkomst", axum::routing::post(diarium::access))
        .route(
            "/arende/beslut",
            axum::routing::post(diarium::decision_seen_to),
        )
        .route(
            "/arende/handling",
            axum::routing::post(diarium::register).layer(axum::extract::DefaultBodyLimit::max(
                crate::service::MAX_FILE_BYTES + 64 * 1024,
            )),
        )
        .route("/handling", get(diarium::file))
        .route("/postlista", get(public::postlista))
        .route("/anslagstavla", get(public::anslagstavla))
        .route("/readyz", get(public::readyz))
        .route("/metrics", get(public::metrics))
        .nest("/api/v1", api::routes(state.clone()))
        .route("/admin", get(admin::overview).post(admin::retry_timer))
        .route(
            "/admin/organisation",
            get(admin::organisation).post(admin::import),
        )
        .route("/admin/serier", get(admin::series).post(admin::save_series))
        .route(
            "/admin/anvandare",
            get(admin::accounts).post(admin::account_action),
        )
        .route(
            "/admin/anvandare/roller",
            get(admin::roles).post(admin::set_roles),
        )
        .route("/admin/utskick", get(admin::outbox).post(admin::retry))
        // Outermost last: a request is counted, then its headers set and any panic caught
        // around everything else, and a staff form's login checked before its body is read.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            protect::sign_in_before_body,
        ))
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(
            protect::panic_answer,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            protect::security_headers,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            count_request,
        ))
        .with_state(state)
}

/// The most a login form's body may be: a username, a password and two tokens.
const LOGIN_FORM_BYTES: usize = 16 * 1024;

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// Percent-encodes `text` for a URL, leaving the unreserved characters and those in `keep`.
pub(crate) fn percent_encode(text: &str, keep: &[u8]) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            b if keep.contains(&b) => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A handling's file as a download: always an attachment (never shown in Kansli's origin,
/// whatever it holds), with its stored media type, never sniffed, and a name of plain ASCII.
pub(crate) fn file_download(name: &str, media_type: String, content: Vec<u8>) -> Response {
    let name: String = name
        .chars()
        .map(
            |c| match c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_') {
                true => c,
                false => '_',
            },
        )
        .collect();
    (
        [
            (header::CONTENT_TYPE, media_type),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"{name}\""),
            ),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_owned()),
        ],
        content,
    )
        .into_response()
}

/// Counts every request for `/metrics`.
async fn count_request(
    State(state): State<AppState>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> Response {
    state
        .requests
        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    next.run(request).await
}

#[derive(Debug, Deserialize)]
struct Period {
    from: Option<String>,
    to: Option<String>,
}

impl Period {
    /// The asked period; the last 30 days by default.
    fn days(&self, kansli: &Kansli) -> Result<(NaiveDate, NaiveDate), ApiError> {
        let parse = |field: &str, v: &Option<String>| {
            v.as_deref()
                .map(|s| crate::domain::calendar::parse_date(field, s))
                .transpose()
                .map_err(|m| ApiError(ServiceError::Invalid(m)))
        };
        let to = parse("to", &self.to)?.unwrap_or_else(|| kansli.today());
        let from = parse("from", &self.from)?.unwrap_or(to - Duration::days(30));
        Ok((from, to))
    }
}

async fn postlista_json(
    State(AppState { kansli, .. }): State<AppState>,
    Query(period): Query<Period>,
) -> Result<Response, ApiError> {
    let (from, to) = period.days(&kansli)?;
    let rows = kansli.postlista(from, to).await?;
    Ok(axum::Json(rows).into_response())
}

async fn postlista_csv_route(
    State(AppState { kansli, .. }): State<AppState>,
    Query(period): Query<Period>,
) -> Result<Response, ApiError> {
    let (from, to) = period.days(&kansli)?;
    let bytes = postlista_csv(&kansli.postlista(from, to).await?)?;
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"postlista.csv\"",
            ),
        ],
        bytes,
    )
        .into_response())
}

/// A page from `templates/web/` with `status`; a template that fails is logged and answered
/// with 500, never half a page.
pub(crate) fn render_page<C: serde::Serialize>(
    state: &AppState,
    status: StatusCode,
    name: &str,
    context: &C,
) -> Response {
    let Some(renderer) = state.engine.as_ref().and_then(|e| e.catalog().renderer()) else {
        return (StatusCode::SERVICE_UNAVAILABLE, "mallarna saknas").into_response();
    };
    match renderer.page(name, context) {
        Ok(html) => (status, axum::response::Html(html)).into_response(),
        Err(e) => {
            tracing::error!(error.message = %e, page = name, "page failed to render");
            (StatusCode::INTERNAL_SERVER_ERROR, "internt fel").into_response()
        }
    }
}

/// The answer of a server started without its workflows (a router for the postlista only).
pub(crate) fn no_engine() -> Response {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "arbetsflödena är inte laddade",
    )
        .into_response()
}

/// The municipality's name for page headers (empty before an organisation is imported).
pub(crate) async fn municipality(state: &AppState) -> String {
    state.kansli.municipality_name().await.unwrap_or_default()
}

/// A service error as an HTTP response: the status says what the client can do.
pub(crate) struct ApiError(ServiceError);

impl From<ServiceError> for ApiError {
    fn from(err: ServiceError) -> Self {
        Self(err)
    }
}

/// A workflow's refusal as HTTP says it, on pages and in the API alike: a step the state or
/// its conditions do not take now is 409, one the caller's roles may not send 403, values the
/// workflow does not take 422.
pub(crate) fn refusal_status(refusal: &TransitionError) -> StatusCode {
    match refusal {
        TransitionError::SenderNotPermitted { .. } => StatusCode::FORBIDDEN,
        TransitionError::UndeclaredVariable { .. } | TransitionError::WrongType { .. } => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        TransitionError::Finished { .. }
        | TransitionError::NotAllowed { .. }
        | TransitionError::GuardFailed { .. }
        | TransitionError::UnknownState(_) => StatusCode::CONFLICT,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match &self.0 {
            ServiceError::Invalid(_) => StatusCode::BAD_REQUEST,
            // These are the pages' errors: a workflow's refusal and a refused handling in the
            // pages' Swedish.
            ServiceError::Refused(r) => {
                return (refusal_status(r), r.swedish()).into_response();
            }
            ServiceError::InvalidDocument(r) => {
                return (StatusCode::BAD_REQUEST, r.swedish()).into_response();
            }
            ServiceError::NotFound(_) => StatusCode::NOT_FOUND,
            ServiceError::Conflict(_) | ServiceError::Final(_) => StatusCode::CONFLICT,
            ServiceError::Forbidden(_) => StatusCode::FORBIDDEN,
            ServiceError::Unexpected(e) => {
                tracing::error!(error.message = %e, error.cause_chain = ?e, "request failed");
                return (StatusCode::INTERNAL_SERVER_ERROR, "internt fel").into_response();
            }
            e @ ServiceError::Unrendered(_) => {
                tracing::error!(error.message = %e, "request failed");
                return (StatusCode::INTERNAL_SERVER_ERROR, "internt fel").into_response();
            }
        };
        (status, self.0.to_string()).into_response()
    }
}
