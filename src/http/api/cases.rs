//! The API's use cases: ärenden (search, open, read, history), their workflow (state, the
//! events the caller may send, sending one), handlingar (register, download), the caller's
//! inbox, and the public postlista. Each checks the caller's roles through
//! [`crate::service::access`] before it reads or writes.

use axum::Extension;
use axum::Json;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::Problem;
use crate::domain::document::Direction;
use crate::http::AppState;
use crate::service::access::Permission;
use crate::service::accounts::User;
use crate::service::{Actor, CaseQuery, CaseView, NewDocumentInput, OpenCase, Outcome, Target};

type Answer = Result<Response, Problem>;

/// The engine, or 503 for a server started without its workflows.
fn engine(state: &AppState) -> Result<&crate::service::Engine, Problem> {
    state.engine.as_ref().ok_or_else(|| {
        Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "the workflows are not loaded on this server",
        )
    })
}

#[derive(Serialize)]
struct Me<'a> {
    username: &'a str,
    name: &'a str,
    admin: bool,
    roles: Vec<RoleInUnit<'a>>,
}

#[derive(Serialize)]
struct RoleInUnit<'a> {
    role: String,
    unit: &'a str,
}

/// `GET /api/v1/me`: the token's account and its roles.
pub(super) async fn me(Extension(user): Extension<User>) -> Answer {
    Ok(Json(Me {
        username: &user.username,
        name: &user.name,
        admin: user.admin,
        roles: user
            .roles
            .iter()
            .map(|(r, u)| RoleInUnit {
                role: r.code().to_owned(),
                unit: u,
            })
            .collect(),
    })
    .into_response())
}

#[derive(Deserialize)]
pub(super) struct SearchParams {
    q: Option<String>,
    series: Option<String>,
    year: Option<i32>,
    status: Option<CaseStatus>,
    handlaggare: Option<String>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    page: Option<u64>,
    per_page: Option<u64>,
}

#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum CaseStatus {
    Open,
    Closed,
}

#[derive(Serialize)]
struct CasePage {
    page: u64,
    per_page: u64,
    has_more: bool,
    items: Vec<CaseView>,
}

/// The largest page.
const MAX_PER_PAGE: u64 = 200;

/// The largest page number.
const MAX_PAGE: u64 = 100_000;

/// `GET /api/v1/cases`: ärenden by words, series, year, status, handläggare and dates; paged.
pub(super) async fn search(
    State(state): State<AppState>,
    Extension(user): Extension<User>,
    params: Result<Query<SearchParams>, QueryRejection>,
) -> Answer {
    user.may(Permission::ReadDiarium)?;
    let Query(p) = params?;
    let page = p.page.unwrap_or(1);
    let per_page = p.per_page.unwrap_or(50);
    if !(1..=MAX_PAGE).contains(&page) || !(1..=MAX_PER_PAGE).contains(&per_page) {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            format!("page is 1 to {MAX_PAGE}; per_page is 1 to {MAX_PER_PAGE}"),
        ));
    }
    if p.year.is_some_and(|y| !(1..=9999).contains(&y)) {
        return Err(Problem::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "year is 1 to 9999",
        ));
    }
    let offset = (page - 1) * per_page;
    let text = |v: Option<String>| v.map(|t| t.trim().to_owned()).filter(|t| !t.is_empty());
    let mut cases = state
        .kansli
        .list_cases(CaseQuery {
            text: text(p.q),
            series: text(p.series),
            year: p.year,
            status: p.status.map(|s| {
                match s {
                    CaseStatus::Open => crate::domain::case_status::CaseStatus::Open,
                    CaseStatus::Closed => crate::domain::case_status::CaseStatus::Closed,
                }
                .code()
                .to_owned()
            }),
            handlaggare: text(p.handlaggare),
            from: p.from,
            to: p.to,
            limit: Some(per_page + 1),
            offset: Some(offset),
        })
        .await?
        .cases;
    let has_more = cases.len() as u64 > per_page;
    cases.truncate(per_page as usize);
    Ok(Json(CasePage {
        page,
        per_page,
        has_more,
        items: cases,
    })
    .into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewCase {
    series: String,
    title: String,
    public_title: Option<String>,
    classification: Option<String>,
    handlaggare: Option<String>,
    previous: Option<String>,
}

/// The address of an ärende in the API.
fn case_location(number: &str) -> String {
    format!("/api/v1/cases/{}", crate::http::percent_encode(number, &[]))
}

/// `POST /api/v1/cases`: opens an ärende under the next number of its series.
pub(super) async fn open(
    State(state): State<AppState>,
    Extension(user): Extension<User>,
    body: Result<Json<NewCase>, JsonRejection>,
) -> Answer {
    user.may(Permission::OpenCases)?;
    let Json(new) = body?;
    let case = state
        .kansli
        .open_case(
            OpenCase {
                series: new.series,
                title: new.title,
                public_title: new.public_title,
                classification: new.classification,
                handlaggare: new.handlaggare,
                previous: new.previous,
            },
            &Actor::new(user.username.clone()),
        )
        .await?;
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, case_location(&case.number))],
        Json(case),
    )
        .into_response())
}

/// `GET /api/v1/cases/{number}`: the ärende with its handlingar.
pub(super) async fn show(
    State(state): State<AppState>,
    Extension(user): Extension<User>,
    number: Result<Path<String>, PathRejection>,
) -> Answer {
    user.may(Permission::ReadDiarium)?;
    let Path(number) = number?;
    Ok(Json(state.kansli.show_case_to(&user, number.trim()).await?).into_response())
}

/// `GET /api/v1/cases/{number}/history`: the audit trail, oldest first.
pub(super) async fn history(
    State(state): State<AppState>,
    Extension(user): Extension<User>,
    number: Result<Path<String>, PathRejection>,
) -> Answer {
    user.may(Permission::ReadDiarium)?;
    let Path(number) = number?;
    Ok(Json(state.kansli.case_history(number.trim()).await?).into_response())
}

#[derive(Serialize)]
struct WorkflowInstance {
    workflow: String,
    version: i32,
    unit: Option<String>,
    state: String,
    finished: bool,
    events: Vec<AllowedEvent>,
}

#[derive(Serialize)]
struct AllowedEvent {
    event: String,
    roles: Vec<String>,
    /// Whether the caller holds one of the roles.
    allowed: bool,
}

/// `GET /api/v1/cases/{number}/workflow`: each workflow instance of the ärende, its state and
/// the events it takes now, marked with whether the caller may send them.
pub(super) async fn workflow(
    State(state): State<AppState>,
    Extension(user): Extension<User>,
    number: Result<Path<String>, PathRejection>,
) -> Answer {
    user.may(Permission::ReadDiarium)?;
    let Path(number) = number?;
    let instances = engine(&state)?.events_of(number.trim()).await?;
    let body: Vec<WorkflowInstance> = instances
        .into_iter()
        .map(|i| WorkflowInstance {
            events: i
                .events
                .into_iter()
                .map(|(event, roles)| AllowedEvent {
                    allowed: user.acting_role(&roles, i.unit.as_deref()).is_some(),
                    event,
                    roles,
                })
                .collect(),
            workflow: i.workflow,
            version: i.version,
            unit: i.unit,
            state: i.state,
            finished: i.finished,
        })
        .collect();
    Ok(Json(body).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewEvent {
    event: String,
    unit: Option<String>,
}

#[derive(Serialize)]
struct EventOutcome {
    outcome: &'static str,
    from: Option<String>,
    to: Option<String>,
}

/// The instance a step is for: the ärende's own, or its unit's child.
fn target_of(number: &str, unit: Option<String>) -> Target {
    Target {
        case_number: number.trim().to_owned(),
        unit: unit.map(|u| u.trim().to_owned()).filter(|u| !u.is_empty()),
    }
}

impl From<Outcome> for EventOutcome {
    fn from(outcome: Outcome) -> Self {
        match outcome {
            Outcome::Applied { from, to } => EventOutcome {
                outcome: "applied",
                from: Some(from),
                to: Some(to),
            },
            Outcome::AlreadyApplied => EventOutcome {
                outcome: "already_applied",
                from: None,
                to: None,
            },
        }
    }
}

/// `POST /api/v1/cases/{number}/events`: a workflow step, in a role of the caller's that the
/// state allows for it.
pub(super) async fn event(
    State(state): State<AppState>,
    Extension(user): Extension<User>,
    number: Result<Path<String>, PathRejection>,
    body: Result<Json<NewEvent>, JsonRejection>,
) -> Answer {
    user.may(Permission::ReadDiarium)?;
    let Path(number) = number?;
    let Json(new) = body?;
    let target = target_of(&number, new.unit);
    let outcome = engine(&state)?
        .send_as_user(&user, &target, new.event.trim(), None)
        .await?;
    Ok(Json(EventOutcome::from(outcome)).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewDocument {
    direction: Direction,
    date: NaiveDate,
    counterpart: Option<String>,
    description: String,
    file: Option<NewFile>,
    /// A workflow step the registration brings, taken in the same transaction.
    event: Option<String>,
    /// The unit whose instance the step is for; the ärende's own when absent.
    unit: Option<String>,
}

/// A registered handling, with the step it brought.
#[derive(Serialize)]
struct Registered {
    #[serde(flatten)]
    document: crate::service::DocumentView,
    workflow: EventOutcome,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct NewFile {
    name: String,
    content_base64: String,
}

/// `POST /api/v1/cases/{number}/documents`: registers a handling, with its file in base64.
pub(super) async fn register(
    State(state): State<AppState>,
    Extension(user): Extension<User>,
    number: Result<Path<String>, PathRejection>,
    body: Result<Json<NewDocument>, JsonRejection>,
) -> Answer {
    user.may(Permission::RegisterDocuments)?;
    let Path(number) = number?;
    let Json(new) = body?;
    let invalid = |m: String| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, m);
    let file = match new.file {
        Some(f) => {
            let content = base64::engine::general_purpose::STANDARD
                .decode(f.content_base64.trim())
                .map_err(|e| invalid(format!("file.content_base64: not base64 ({e})")))?;
            Some((f.name, content))
        }
        None => None,
    };
    let input = NewDocumentInput {
        date: new.date,
        direction: new.direction,
        counterpart: new
            .counterpart
            .map(|c| c.trim().to_owned())
            .filter(|c| !c.is_empty()),
        counterpart_protected: false,
        description: new.description,
        description_protected: false,
        secrecy: None,
        file,
    };
    let Some(event) = new
        .event
        .map(|e| e.trim().to_owned())
        .filter(|e| !e.is_empty())
    else {
        let document = state
            .kansli
            .add_document(number.trim(), input, &Actor::new(user.username.clone()))
            .await?;
        return Ok((StatusCode::CREATED, Json(document)).into_response());
    };
    let target = target_of(&number, new.unit);
    let (document, outcome) = engine(&state)?
        .register_as_user(&user, &target, input, &event)
        .await?;
    let body = Registered {
        document,
        workflow: EventOutcome::from(outcome),
    };
    Ok((StatusCode::CREATED, Json(body)).into_response())
}

/// `GET /api/v1/documents/{number}/file`: a handling's file, as it was registered.
pub(super) async fn file(
    State(state): State<AppState>,
    Extension(user): Extension<User>,
    number: Result<Path<String>, PathRejection>,
) -> Answer {
    user.may(Permission::ReadDiarium)?;
    let Path(number) = number?;
    let (file, content) = state.kansli.document_file_for(&user, number.trim()).await?;
    Ok(crate::http::file_download(
        &file.name,
        file.media_type,
        content,
    ))
}

/// `GET /api/v1/inbox`: what waits for the caller, soonest due first.
pub(super) async fn inbox(
    State(state): State<AppState>,
    Extension(user): Extension<User>,
) -> Answer {
    Ok(Json(engine(&state)?.inbox(&user.roles).await?).into_response())
}

#[derive(Deserialize)]
pub(super) struct Period {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

/// `GET /api/v1/postlista`: the public postlista for a period (the last 30 days by default),
/// masked as the export is.
pub(super) async fn postlista(
    State(state): State<AppState>,
    params: Result<Query<Period>, QueryRejection>,
) -> Answer {
    let Query(p) = params?;
    let to = p.to.unwrap_or_else(|| state.kansli.today());
    let month_before = to
        .checked_sub_signed(chrono::Duration::days(30))
        .unwrap_or(to);
    let from = p.from.unwrap_or(month_before);
    Ok(Json(state.kansli.postlista(from, to).await?).into_response())
}
