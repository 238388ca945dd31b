//! The staff pages: logging in and out, the start page, and the progress of a follow-up.
//!
//! A session is a random token in an HttpOnly, SameSite=Lax cookie (Secure when the server is
//! reached over https), stored only as its hash. Every form carries a CSRF token: the session's
//! own once logged in, and before that (the login form) a token in a cookie of its own that the
//! form must repeat. A page that needs a session sends the visitor to the login page; one that
//! needs a role the user lacks answers 403 with a page that says so.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{Extensions, HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

use super::{AppState, municipality, render_page};
use crate::domain::calendar::format_local;
use crate::domain::organisation::Role;
use crate::service::accounts::{LoginError, User};
use crate::service::{ServiceError, UnitProgress};

const SESSION_COOKIE: &str = "kansli_session";
const LOGIN_CSRF_COOKIE: &str = "kansli_csrf";

/// A cookie's value from the request.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

fn set_cookie(state: &AppState, name: &str, value: &str, max_age: Option<i64>) -> String {
    let secure = if state.protection.https {
        "; Secure"
    } else {
        ""
    };
    let age = max_age
        .map(|s| format!("; Max-Age={s}"))
        .unwrap_or_default();
    format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax{secure}{age}")
}

/// The session cookie's token, if the request carries one.
pub(super) fn session_token(headers: &HeaderMap) -> Option<String> {
    cookie(headers, SESSION_COOKIE)
}

/// Compares two tokens in time that does not depend on where they differ.
pub(super) fn same_token(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.bytes()
            .zip(b.bytes())
            .fold(0u8, |acc, (x, y)| acc | (x ^ y))
            == 0
}

/// The logged-in user, or the response that sends the visitor to log in.
pub(super) async fn user(
    state: &AppState,
    headers: &HeaderMap,
    here: &str,
) -> Result<User, Response> {
    let found = match cookie(headers, SESSION_COOKIE) {
        Some(token) => state.kansli.session_user(&token).await,
        None => Ok(None),
    };
    match found {
        Ok(Some(user)) => Ok(user),
        Ok(None) => {
            let next = urlencode(here);
            Err(Redirect::to(&format!("/logga-in?nasta={next}")).into_response())
        }
        Err(e) => Err(super::ApiError::from(e).into_response()),
    }
}

/// The logged-in user holding one of `roles`; else the login page, or the 403 page saying the
/// user may not `what`.
pub(super) async fn require(
    state: &AppState,
    headers: &HeaderMap,
    here: &str,
    roles: &[Role],
    what: &str,
) -> Result<User, Response> {
    let user = user(state, headers, here).await?;
    match user.has_any(roles) {
        true => Ok(user),
        false => Err(refused(state, &user, what).await),
    }
}

/// The logged-in user who may do `permission` (the rule of [`crate::service::access`]); else
/// the login page, or the 403 page.
pub(super) async fn require_to(
    state: &AppState,
    headers: &HeaderMap,
    here: &str,
    permission: crate::service::access::Permission,
) -> Result<User, Response> {
    require(state, headers, here, permission.roles(), permission.what()).await
}

/// Whether a form's CSRF token is the session's.
fn csrf_ok(user: &User, token: &str) -> bool {
    same_token(&user.csrf_token, token)
}

/// The 403 answer (logged) when a form's CSRF token is not the session's: a stale or forged
/// form; none when it is.
pub(super) fn csrf_refusal(user: &User, token: &str) -> Option<Response> {
    if csrf_ok(user, token) {
        return None;
    }
    tracing::warn!(username = %user.username, "form without a valid CSRF token");
    Some(stale_form())
}

/// The answer to a form whose CSRF token is missing or wrong.
fn stale_form() -> Response {
    (
        StatusCode::FORBIDDEN,
        "formuläret har gått ut; ladda om sidan",
    )
        .into_response()
}

/// The 403 page: the user is known but may not do this; logged.
pub(super) async fn refused(state: &AppState, user: &User, what: &str) -> Response {
    tracing::warn!(username = %user.username, %what, "refused");
    #[derive(Serialize)]
    struct Refused<'a> {
        page_title: &'a str,
        municipality: String,
        user: &'a User,
        what: &'a str,
    }
    let context = Refused {
        page_title: "Ingen behörighet",
        municipality: municipality(state).await,
        user,
        what,
    };
    render_page(state, StatusCode::FORBIDDEN, "nekad", &context)
}

/// A path to return to, percent-encoded as a query value (its slashes kept, for reading).
fn urlencode(text: &str) -> String {
    super::percent_encode(text, b"/")
}

/// Only a path on this server may be a place to return to after login: one leading `/` (no
/// `//` or `/\`, which browsers read as another host), no backslash, and nothing but visible
/// ASCII (a tab, a newline or a NUL is dropped or refused by browsers in ways that can turn a
/// path into a host). Everything else returns to the start page.
fn local_path(next: Option<&str>) -> String {
    match next {
        Some(p) if is_local_path(p) => p.to_owned(),
        _ => "/".to_owned(),
    }
}

/// See [`local_path`].
fn is_local_path(path: &str) -> bool {
    let mut chars = path.chars();
    chars.next() == Some('/')
        && !matches!(chars.next(), Some('/' | '\\'))
        && path.len() <= 2048
        && path.chars().all(|c| c.is_ascii_graphic() && c != '\\')
}

#[derive(Serialize)]
struct LoginPage<'a> {
    page_title: &'a str,
    municipality: String,
    csrf_token: String,
    next: String,
    username: String,
    error: Option<String>,
}

#[derive(Deserialize)]
pub(super) struct Next {
    nasta: Option<String>,
}

/// `GET /logga-in`
pub(super) async fn login_form(
    State(state): State<AppState>,
    Query(next): Query<Next>,
) -> Response {
    let csrf = hex::encode(rand::random::<[u8; 32]>());
    let context = LoginPage {
        page_title: "Logga in",
        municipality: municipality(&state).await,
        csrf_token: csrf.clone(),
        next: local_path(next.nasta.as_deref()),
        username: String::new(),
        error: None,
    };
    let mut response = render_page(&state, StatusCode::OK, "logga-in", &context);
    if let Ok(value) = set_cookie(&state, LOGIN_CSRF_COOKIE, &csrf, None).parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[derive(Deserialize)]
pub(super) struct LoginForm {
    #[serde(default)]
    username: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    next: String,
}

/// `POST /logga-in`
pub(super) async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    extensions: Extensions,
    Form(form): Form<LoginForm>,
) -> Response {
    let expected = cookie(&headers, LOGIN_CSRF_COOKIE).unwrap_or_default();
    if expected.is_empty() || !same_token(&expected, &form.csrf_token) {
        tracing::warn!("login form without a valid CSRF token");
        return stale_form();
    }
    let address = super::protect::client_address(&state, &extensions, &headers)
        .map_or_else(|| "okänd".to_owned(), |a| a.to_string());
    let next = local_path(Some(&form.next));
    match state
        .kansli
        .login(&form.username, &form.password, &address)
        .await
    {
        Ok(session) => {
            // A planted session cookie is replaced, and the old session ended.
            if let Some(old) = cookie(&headers, SESSION_COOKIE)
                && let Err(e) = state.kansli.logout(&old).await
            {
                // The new session is good; the old token is unknown or will run out.
                tracing::warn!(error.message = %e, "a replaced session could not be ended");
            }
            let max_age = (session.expires_at - state.kansli.now()).num_seconds();
            let mut response = Redirect::to(&next).into_response();
            for value in [
                set_cookie(&state, SESSION_COOKIE, &session.token, Some(max_age)),
                set_cookie(&state, LOGIN_CSRF_COOKIE, "", Some(0)),
            ] {
                if let Ok(value) = value.parse() {
                    response.headers_mut().append(header::SET_COOKIE, value);
                }
            }
            response
        }
        Err(e) => {
            let status = match &e {
                LoginError::WrongCredentials => StatusCode::UNAUTHORIZED,
                LoginError::Throttled => StatusCode::TOO_MANY_REQUESTS,
                LoginError::Failed(err) => {
                    tracing::error!(error.message = %err, "login failed");
                    StatusCode::INTERNAL_SERVER_ERROR
                }
            };
            let context = LoginPage {
                page_title: "Logga in",
                municipality: municipality(&state).await,
                csrf_token: expected,
                next,
                username: form.username.clone(),
                error: Some(match e {
                    LoginError::Failed(_) => "Inloggningen misslyckades; försök igen.".into(),
                    other => format!("{}.", capitalised(&other.to_string())),
                }),
            };
            render_page(&state, status, "logga-in", &context)
        }
    }
}

fn capitalised(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

#[derive(Deserialize)]
pub(super) struct CsrfForm {
    #[serde(default)]
    csrf_token: String,
}

/// `POST /logga-ut`
pub(super) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<CsrfForm>,
) -> Response {
    let user = match user(&state, &headers, "/").await {
        Ok(u) => u,
        Err(to_login) => return to_login,
    };
    if let Some(stale) = csrf_refusal(&user, &form.csrf_token) {
        return stale;
    }
    // A logout that did not end the session says so: the user must not think it ended.
    if let Some(token) = cookie(&headers, SESSION_COOKIE)
        && let Err(e) = state.kansli.logout(&token).await
    {
        return super::ApiError::from(e).into_response();
    }
    let mut response = Redirect::to("/logga-in").into_response();
    if let Ok(value) = set_cookie(&state, SESSION_COOKIE, "", Some(0)).parse() {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[derive(Serialize)]
struct StartPage<'a> {
    page_title: &'a str,
    municipality: String,
    user: &'a User,
    roles: Vec<String>,
    inbox: Vec<InboxRow>,
}

/// An item of the inbox, with its due time in Stockholm.
#[derive(Serialize)]
struct InboxRow {
    href: String,
    case_number: String,
    title: String,
    unit: String,
    state_text: String,
    events: String,
    due: String,
}

/// `GET /`: who is logged in, in which roles, and where to go.
pub(super) async fn start(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let user = match user(&state, &headers, "/").await {
        Ok(u) => u,
        Err(to_login) => return to_login,
    };
    let roles = user
        .roles
        .iter()
        .map(|(r, unit)| format!("{} ({unit})", r.label()))
        .collect();
    let inbox = match &state.engine {
        Some(engine) => match engine.inbox(&user.roles).await {
            Ok(items) => items,
            Err(e) => return super::ApiError::from(e).into_response(),
        },
        None => Vec::new(),
    };
    // Decisions the workflow did not take wait for a registrator, first in the inbox.
    let attention = match user.can(crate::service::access::Permission::RegisterDocuments) {
        true => match state.kansli.decisions_needing_attention().await {
            Ok(items) => items,
            Err(e) => return super::ApiError::from(e).into_response(),
        },
        false => Vec::new(),
    };
    let attention = attention.into_iter().map(|a| InboxRow {
        href: format!(
            "/arende?nummer={}",
            super::percent_encode(&a.case_number, &[])
        ),
        case_number: a.case_number,
        title: a.title,
        unit: String::new(),
        state_text: format!(
            "{} väntar på en registrator: arbetsflödet tog inte emot beslutet ({})",
            a.label, a.why
        ),
        events: "Se till ärendet".to_owned(),
        due: String::new(),
    });
    let context = StartPage {
        page_title: "Start",
        municipality: municipality(&state).await,
        user: &user,
        roles,
        inbox: attention
            .chain(inbox.into_iter().map(|i| InboxRow {
                href: format!(
                    "/arende?nummer={}",
                    super::percent_encode(&i.case_number, &[])
                ),
                case_number: i.case_number,
                title: i.title,
                unit: i.unit.unwrap_or_default(),
                state_text: i.state_text,
                events: i.labels.join(", "),
                due: i.due.map(format_local).unwrap_or_default(),
            }))
            .collect(),
    };
    render_page(&state, StatusCode::OK, "start", &context)
}

#[derive(Deserialize)]
pub(super) struct CaseQuery {
    #[serde(default)]
    nummer: String,
}

#[derive(Serialize)]
struct StatusPage<'a> {
    page_title: &'a str,
    municipality: String,
    user: &'a User,
    case_number: String,
    units: Vec<UnitRow>,
}

/// A förvaltning's row, with times in Stockholm.
#[derive(Serialize)]
struct UnitRow {
    unit_name: String,
    state_text: String,
    invited: String,
    reminders: String,
    submitted: String,
    finished: String,
}

impl From<UnitProgress> for UnitRow {
    fn from(p: UnitProgress) -> Self {
        let at = |t: Option<chrono::DateTime<chrono::Utc>>| t.map(format_local).unwrap_or_default();
        Self {
            unit_name: p.unit_name,
            state_text: p.state_text,
            invited: format_local(p.invited_at),
            reminders: p
                .reminders
                .into_iter()
                .map(format_local)
                .collect::<Vec<_>>()
                .join(", "),
            submitted: at(p.submitted_at),
            finished: at(p.finished_at),
        }
    }
}

/// Who may follow a follow-up's progress.
const FOLLOWS_PROGRESS: [Role; 4] = [
    Role::Handlaggare,
    Role::Registrator,
    Role::Sekreterare,
    Role::Admin,
];

/// `GET /arende/status?nummer=KS+2026/1`: per förvaltning, where its answer stands.
pub(super) async fn status(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<CaseQuery>,
) -> Response {
    let here = format!("/arende/status?nummer={}", urlencode(&query.nummer));
    let user = match require(
        &state,
        &headers,
        &here,
        &FOLLOWS_PROGRESS,
        "följa uppföljningens förlopp",
    )
    .await
    {
        Ok(u) => u,
        Err(r) => return r,
    };
    let Some(engine) = &state.engine else {
        return super::no_engine();
    };
    match engine.progress(query.nummer.trim()).await {
        Ok(units) => {
            let context = StatusPage {
                page_title: "Uppföljningens förlopp",
                municipality: municipality(&state).await,
                user: &user,
                case_number: query.nummer.trim().to_owned(),
                units: units.into_iter().map(UnitRow::from).collect(),
            };
            render_page(&state, StatusCode::OK, "status", &context)
        }
        Err(e @ (ServiceError::NotFound(_) | ServiceError::Invalid(_))) => {
            super::diarium::no_such_case(&state, &user, query.nummer.trim(), &e).await
        }
        Err(e) => super::ApiError::from(e).into_response(),
    }
}
