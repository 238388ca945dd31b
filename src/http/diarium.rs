//! The diarium for staff: search (a number typed in the box goes straight to its ärende), the
//! ärende page (its data, handlingar with their files, each workflow instance's state, drawn as
//! a picture of its state machine, and the steps the user may take now as buttons named in
//! Swedish, the history), and a handling's file.

use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::{Deserialize, Serialize};

use super::staff::{csrf_refusal, require_to};
use super::{AppState, municipality, render_page};
use crate::domain::calendar::format_local;
use crate::domain::case_status::CaseStatus;
use crate::domain::search::SearchWords;
use crate::service::access::Permission;
use crate::service::accounts::User;
use crate::service::{
    Actor, CaseQuery, CaseView, HistoryEntry, InstanceEvents, Outcome, ServiceError, Target,
};
use crate::workflow::engine::substitute;
use crate::workflow::picture::Picture;

const PAGE_SIZE: u64 = 25;

/// A query value, percent-encoded.
fn encode(text: &str) -> String {
    super::percent_encode(text, &[])
}

/// The search form's fields, as typed (checked by the service, whose errors are shown).
#[derive(Deserialize, Default, Serialize)]
pub(super) struct SearchQuery {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    #[serde(default)]
    serie: String,
    #[serde(default)]
    ar: String,
    #[serde(default)]
    handlaggare: String,
    #[serde(default)]
    fran: String,
    #[serde(default)]
    till: String,
    #[serde(default, skip_serializing)]
    sida: Option<u64>,
}

impl SearchQuery {
    /// The query string of these fields, for the page links.
    fn encoded(&self) -> String {
        [
            ("q", &self.q),
            ("status", &self.status),
            ("serie", &self.serie),
            ("ar", &self.ar),
            ("handlaggare", &self.handlaggare),
            ("fran", &self.fran),
            ("till", &self.till),
        ]
        .iter()
        .filter(|(_, v)| !v.trim().is_empty())
        .map(|(k, v)| format!("{k}={}", encode(v.trim())))
        .collect::<Vec<_>>()
        .join("&")
    }

    /// The service's query; a wrong year or date is an error that names the field.
    fn to_case_query(&self, page: u64) -> Result<CaseQuery, ServiceError> {
        let text = |v: &str| Some(v.trim().to_owned()).filter(|t| !t.is_empty());
        let day = |field: &str, v: &str| match text(v) {
            Some(v) => crate::domain::calendar::parse_date(field, &v)
                .map(Some)
                .map_err(ServiceError::Invalid),
            None => Ok(None),
        };
        let year = match text(&self.ar) {
            Some(y) => Some(
                y.parse::<i32>()
                    .ok()
                    .filter(|y| (1..=9999).contains(y))
                    .ok_or_else(|| ServiceError::Invalid(format!("År: {y:?} är inget årtal")))?,
            ),
            None => None,
        };
        Ok(CaseQuery {
            text: text(&self.q),
            status: text(&self.status),
            series: text(&self.serie),
            year,
            handlaggare: text(&self.handlaggare),
            from: day("Från", &self.fran)?,
            to: day("Till", &self.till)?,
            limit: Some(PAGE_SIZE + 1),
            offset: Some((page - 1) * PAGE_SIZE),
        })
    }
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

fn choices(options: Vec<(String, String)>, chosen: &str) -> Vec<Choice> {
    options
        .into_iter()
        .map(|(value, label)| Choice {
            selected: value == chosen.trim(),
            value,
            label,
        })
        .collect()
}

#[derive(Serialize)]
struct SearchPage<'a> {
    page_title: &'a str,
    municipality: String,
    user: &'a User,
    form: &'a SearchQuery,
    statuses: Vec<Choice>,
    series: Vec<Choice>,
    handlaggare: Vec<Choice>,
    error: Option<String>,
    cases: Vec<CaseRowVm>,
    searched: bool,
    page: u64,
    previous: Option<String>,
    next: Option<String>,
}

#[derive(Serialize)]
struct CaseRowVm {
    number: String,
    href: String,
    title: String,
    status: String,
    opened: String,
}

/// `GET /arenden?q=...`: search; a known number goes straight to its ärende.
pub(super) async fn search(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(query): Query<SearchQuery>,
) -> Response {
    let here = format!("/arenden?{}", query.encoded());
    let user = match require_to(&state, &headers, &here, Permission::ReadDiarium).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let q = query.q.trim().to_owned();
    // The words are checked first: a search too large to run is refused before anything
    // reads it, in the page's Swedish.
    let words = SearchWords::parse(&q);
    if words.is_ok() && !q.is_empty() && state.kansli.show_case(&q).await.is_ok() {
        return Redirect::to(&format!("/arende?nummer={}", encode(&q))).into_response();
    }
    let page = query.sida.unwrap_or(1).clamp(1, 100_000);
    let searched = !query.encoded().is_empty();
    let listed = match (words, query.to_case_query(page)) {
        (Err(refused), _) => Err(refused.swedish()),
        (Ok(_), Ok(case_query)) => match state.kansli.list_cases(case_query).await {
            Ok(list) => Ok(list.cases),
            Err(ServiceError::Invalid(m) | ServiceError::NotFound(m)) => Err(m),
            Err(e) => return super::ApiError::from(e).into_response(),
        },
        (Ok(_), Err(ServiceError::Invalid(m) | ServiceError::NotFound(m))) => Err(m),
        (Ok(_), Err(e)) => return super::ApiError::from(e).into_response(),
    };
    let (mut cases, error) = match listed {
        Ok(cases) => (cases, None),
        Err(message) => (Vec::new(), Some(message)),
    };
    let more = cases.len() as u64 > PAGE_SIZE;
    cases.truncate(PAGE_SIZE as usize);
    let link = |p: u64| format!("/arenden?{}&sida={p}", query.encoded());
    let offered = match state.kansli.search_choices().await {
        Ok(c) => c,
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    let statuses = vec![
        (CaseStatus::Open.code().to_owned(), "Öppna".to_owned()),
        (CaseStatus::Closed.code().to_owned(), "Avslutade".to_owned()),
    ];
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let context = SearchPage {
        page_title: "Diariet",
        municipality: municipality(&state).await,
        user: &user,
        form: &query,
        statuses: choices(statuses, &query.status),
        series: choices(offered.series, &query.serie),
        handlaggare: choices(offered.handlaggare, &query.handlaggare),
        error,
        cases: cases
            .into_iter()
            .map(|c| CaseRowVm {
                href: format!("/arende?nummer={}", encode(&c.number)),
                number: c.number,
                title: c.title,
                status: c.status.label().into(),
                opened: format_local(c.opened_at),
            })
            .collect(),
        searched,
        page,
        previous: (page > 1).then(|| link(page - 1)),
        next: more.then(|| link(page + 1)),
    };
    render_page(&state, status, "arenden", &context)
}

#[derive(Deserialize)]
pub(super) struct CaseNumber {
    #[serde(default)]
    nummer: String,
}

#[derive(Serialize)]
struct CasePage<'a> {
    page_title: &'a str,
    municipality: String,
    user: &'a User,
    case: CaseView,
    status_text: &'static str,
    may_register: bool,
    /// Whether the user may mark a decision the workflow did not take as seen to.
    may_see_to: bool,
    today: String,
    handlingar: Vec<HandlingVm>,
    instances: Vec<InstanceVm>,
    /// Why the workflow could not be read, when it could not.
    workflow_error: Option<String>,
    history: Vec<HistoryVm>,
    /// The ärende's decisions with their justering and appeal dates.
    decisions: Vec<DecisionVm>,
    /// Whether the user keeps the access list to the ärende's secret handlingar (it has one,
    /// and the user needs to know them).
    keeps_access: bool,
    /// That list.
    access: Vec<AccessVm>,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Serialize)]
struct HandlingVm {
    number: String,
    date: String,
    direction: String,
    counterpart: String,
    description: String,
    file: Option<String>,
    /// The sekretessmarkering's provision.
    secrecy: Option<String>,
    /// Masked for this reader.
    withheld: bool,
}

#[derive(Serialize)]
struct DecisionVm {
    label: String,
    meeting: String,
    dates: String,
    /// Why the ärende's workflow did not take the decision, while no registrator has seen to
    /// it.
    attention: Option<String>,
    paragraph_id: i32,
}

#[derive(Serialize)]
struct AccessVm {
    person: String,
    name: String,
    granted: String,
}

#[derive(Serialize)]
struct InstanceVm {
    label: String,
    unit: String,
    state: String,
    /// The state's description, filled in; empty when it has none.
    state_text: String,
    finished: bool,
    actions: Vec<ActionVm>,
    /// The state machine as an SVG, the current state marked: escaped by the drawing, so the
    /// template puts it in as it is.
    picture: String,
    picture_label: String,
    /// The ärende's own workflow is drawn open; each unit's, folded.
    open: bool,
}

/// A step's button: the Swedish label shown, the event's code posted.
#[derive(Serialize)]
struct ActionVm {
    event: String,
    label: String,
}

#[derive(Serialize)]
struct HistoryVm {
    at: String,
    actor: String,
    action: String,
    detail: String,
}

async fn case_page(
    state: &AppState,
    user: &User,
    number: &str,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let case = match state.kansli.show_case_to(user, number).await {
        Ok(c) => c,
        Err(e @ (ServiceError::NotFound(_) | ServiceError::Invalid(_))) => {
            return no_such_case(state, user, number, &e).await;
        }
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    let access = match case.documents.iter().any(|d| d.secrecy.is_some()) {
        false => None,
        true => match state.kansli.case_access_list(user, number).await {
            Ok(list) => Some(
                list.into_iter()
                    .map(|g| AccessVm {
                        granted: format!("{} av {}", format_local(g.granted_at), g.granted_by),
                        person: g.person,
                        name: g.name,
                    })
                    .collect::<Vec<_>>(),
            ),
            Err(ServiceError::Forbidden(_)) => None,
            Err(e) => return super::ApiError::from(e).into_response(),
        },
    };
    let keeps_access = access.is_some();
    let decisions = match state.kansli.decisions_of(number).await {
        Ok(list) => list
            .into_iter()
            .map(|d| DecisionVm {
                meeting: format!(
                    "{} {}{}",
                    d.organ,
                    d.meeting_date,
                    d.proposal_to
                        .as_ref()
                        .map(|to| format!(", förslag till {to}"))
                        .unwrap_or_default()
                ),
                dates: d.dates_in_swedish(),
                label: d.label,
                attention: d.attention,
                paragraph_id: d.paragraph_id,
            })
            .collect(),
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    let history: Vec<HistoryEntry> = match state.kansli.case_history(number).await {
        Ok(h) => h,
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    // A workflow that cannot be read is said to be so, not shown as none.
    let (instances, workflow_error): (Vec<InstanceEvents>, Option<String>) = match &state.engine {
        Some(engine) => match engine.events_of(&case.number).await {
            Ok(instances) => (instances, None),
            Err(e) => {
                tracing::error!(case = %case.number, error.message = %e, "the workflow could not be read");
                (
                    Vec::new(),
                    Some("Arbetsflödet kunde inte läsas just nu; försök igen om en stund. Felet är loggat.".to_owned()),
                )
            }
        },
        None => (Vec::new(), None),
    };
    let context = CasePage {
        page_title: "Ärende",
        municipality: municipality(state).await,
        user,
        handlingar: case
            .documents
            .iter()
            .map(|d| HandlingVm {
                number: d.number.clone(),
                date: d.date.to_string(),
                direction: d.direction.label().to_owned(),
                counterpart: d.counterpart.clone().unwrap_or_default(),
                description: d.description.clone(),
                file: d
                    .file
                    .as_ref()
                    .map(|_| format!("/handling?nummer={}", encode(&d.number))),
                secrecy: d.secrecy.as_ref().map(|s| s.provision.clone()),
                withheld: d.withheld,
            })
            .collect(),
        instances: instances.iter().map(|i| instance_vm(user, i)).collect(),
        workflow_error,
        history: history
            .into_iter()
            .rev()
            .map(|h| HistoryVm {
                at: format_local(h.at),
                actor: h.actor,
                action: h.action,
                detail: h.detail.unwrap_or_default(),
            })
            .collect(),
        status_text: case.status.label(),
        may_register: user.can(Permission::RegisterDocuments) && case.status == CaseStatus::Open,
        may_see_to: user.can(Permission::RegisterDocuments),
        today: state.kansli.today().to_string(),
        decisions,
        keeps_access,
        access: access.unwrap_or_default(),
        case,
        notice,
        error,
    };
    render_page(state, status, "arende", &context)
}

/// The page for an ärende `number` that `error` says is not in the diarium (NotFound) or is
/// no diarienummer (Invalid).
pub(super) async fn no_such_case(
    state: &AppState,
    user: &User,
    number: &str,
    error: &ServiceError,
) -> Response {
    match error {
        ServiceError::Invalid(_) => {
            let message = format!(
                "”{number}” är inget diarienummer. Skriv numret som diariet visar det, till \
                 exempel KS 2026/1."
            );
            missing(
                state,
                user,
                StatusCode::BAD_REQUEST,
                "Inget diarienummer",
                message,
            )
            .await
        }
        _ => {
            let message = format!("Det finns inget ärende med numret ”{number}” i diariet.");
            missing(
                state,
                user,
                StatusCode::NOT_FOUND,
                "Ärendet finns inte",
                message,
            )
            .await
        }
    }
}

/// The page for an ärende or handling that is not there, or a number that is none: what was
/// asked for, in Swedish, with the way back to the diarium.
async fn missing(
    state: &AppState,
    user: &User,
    status: StatusCode,
    heading: &str,
    message: String,
) -> Response {
    #[derive(Serialize)]
    struct Missing<'a> {
        page_title: &'a str,
        municipality: String,
        user: &'a User,
        heading: &'a str,
        message: String,
    }
    let context = Missing {
        page_title: heading,
        municipality: municipality(state).await,
        user,
        heading,
        message,
    };
    render_page(state, status, "saknas", &context)
}

fn instance_vm(user: &User, i: &InstanceEvents) -> InstanceVm {
    let state = i.definition.states.get(&i.state);
    let unit = i.unit.clone().unwrap_or_default();
    InstanceVm {
        label: i.workflow.clone(),
        state: i.state.clone(),
        state_text: state
            .and_then(|s| s.description.as_deref())
            .map(|d| substitute(d, &i.variables))
            .unwrap_or_default(),
        finished: i.finished,
        actions: i
            .events
            .iter()
            .filter(|(_, senders)| user.acting_role(senders, i.unit.as_deref()).is_some())
            .map(|(event, _)| ActionVm {
                event: event.clone(),
                label: state
                    .map_or(event.as_str(), |s| s.event_label(event))
                    .to_owned(),
            })
            .collect(),
        picture: Picture::new(&i.definition)
            .current(Some(&i.state))
            .variables(&i.variables)
            .id(&format!("graf-{}", i.instance_id))
            .svg(),
        picture_label: match &unit {
            u if u.is_empty() => format!("Tillståndsgraf för {}", i.definition.title),
            u => format!("Tillståndsgraf för {} ({u})", i.definition.title),
        },
        open: i.unit.is_none(),
        unit,
    }
}

/// What people call an event of an instance: its label in the state the instance is in.
fn event_label(instance: Option<&InstanceEvents>, event: &str) -> String {
    let Some(instance) = instance else {
        return event.to_owned();
    };
    // The current state's label first; a button from a page shown before the instance moved
    // on names a step of another state, which is called what that state calls it.
    let states = &instance.definition.states;
    states
        .get(&instance.state)
        .into_iter()
        .chain(states.values())
        .map(|s| s.event_label(event))
        .find(|label| *label != event)
        .unwrap_or(event)
        .to_owned()
}

/// `GET /arende?nummer=KS+2026/1`
pub(super) async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CaseNumber>,
) -> Response {
    let here = format!("/arende?nummer={}", encode(&q.nummer));
    match require_to(&state, &headers, &here, Permission::ReadDiarium).await {
        Ok(user) => case_page(&state, &user, q.nummer.trim(), StatusCode::OK, None, None).await,
        Err(r) => r,
    }
}

#[derive(Deserialize)]
pub(super) struct EventForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    nummer: String,
    #[serde(default)]
    enhet: String,
    #[serde(default)]
    handelse: String,
}

/// The sender of a form on the ärende page `number`: logged in, one who may read the diarium,
/// with the session's CSRF token; else the answer (the login page, 403).
async fn case_form_sender(
    state: &AppState,
    headers: &HeaderMap,
    number: &str,
    csrf_token: &str,
) -> Result<User, Response> {
    let here = format!("/arende?nummer={}", encode(number));
    let user = require_to(state, headers, &here, Permission::ReadDiarium).await?;
    match csrf_refusal(&user, csrf_token) {
        Some(stale) => Err(stale),
        None => Ok(user),
    }
}

/// `POST /arende/handelse`: a step of the ärende's workflow, in a role the user holds.
pub(super) async fn event(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<EventForm>,
) -> Response {
    let number = form.nummer.trim().to_owned();
    let user = match case_form_sender(&state, &headers, &number, &form.csrf_token).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let Some(engine) = &state.engine else {
        return super::no_engine();
    };
    let target = Target {
        case_number: number.clone(),
        unit: Some(form.enhet.trim().to_owned()).filter(|u| !u.is_empty()),
    };
    let allowed = match engine.events_of(&number).await {
        Ok(allowed) => allowed,
        Err(e @ ServiceError::NotFound(_)) => {
            return no_such_case(&state, &user, &number, &e).await;
        }
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    let instance = allowed.iter().find(|i| i.unit == target.unit);
    let label = event_label(instance, &form.handelse);
    match engine
        .send_as_user(&user, &target, &form.handelse, None)
        .await
    {
        Ok(Outcome::Applied { from, to }) => {
            let notice = format!("”{label}” är gjort ({from} → {to}).");
            case_page(&state, &user, &number, StatusCode::OK, Some(notice), None).await
        }
        Ok(Outcome::AlreadyApplied) => {
            case_page(
                &state,
                &user,
                &number,
                StatusCode::OK,
                Some("Redan gjort.".into()),
                None,
            )
            .await
        }
        Err(ServiceError::Forbidden(_)) => {
            let message = format!("Du har ingen roll som får göra ”{label}” nu.");
            case_page(
                &state,
                &user,
                &number,
                StatusCode::FORBIDDEN,
                None,
                Some(message),
            )
            .await
        }
        // The workflow's refusal in Swedish, the step called what its button says.
        Err(ServiceError::Refused(r)) => {
            // The steps that can be taken now by their labels too, those of the system left out.
            let step = |event: &str| {
                let (_, senders) = instance?.events.iter().find(|(e, _)| e == event)?;
                if senders.iter().all(|s| s == "system") {
                    return None;
                }
                Some(event_label(instance, event))
            };
            let message = r.swedish_naming_steps(&label, &step);
            let status = super::refusal_status(&r);
            case_page(&state, &user, &number, status, None, Some(message)).await
        }
        // An ärende not in the diarium gets the page that says so; one without a workflow for
        // the unit, its own page with why.
        Err(ServiceError::NotFound(_)) => {
            let message = match &target.unit {
                Some(unit) => format!("Ärendet har inget arbetsflöde för enheten ”{unit}”."),
                None => "Ärendet följer inget arbetsflöde.".to_owned(),
            };
            case_page(
                &state,
                &user,
                &number,
                StatusCode::NOT_FOUND,
                None,
                Some(message),
            )
            .await
        }
        Err(ServiceError::Invalid(m) | ServiceError::Conflict(m)) => {
            case_page(&state, &user, &number, StatusCode::CONFLICT, None, Some(m)).await
        }
        Err(e) => super::ApiError::from(e).into_response(),
    }
}

/// `POST /arende/handling` (multipart): registers a handling with its file. The file's name
/// must be a plain name and its content what the name says; the body may not exceed the file
/// limit (413). Every refusal is shown on the ärende page in Swedish, the field named as the
/// form labels it.
pub(super) async fn register(
    State(state): State<AppState>,
    headers: HeaderMap,
    mut form: axum::extract::Multipart,
) -> Response {
    let mut fields = std::collections::HashMap::new();
    let mut file: Option<(String, Vec<u8>)> = None;
    // A body over the limit (or not multipart at all) is answered after the login and the
    // token are checked, like any other refusal.
    let mut unreadable: Option<StatusCode> = None;
    let mut parts = 0;
    loop {
        let field = match form.next_field().await {
            Ok(Some(field)) => field,
            Ok(None) => break,
            Err(e) => {
                tracing::info!(error = %e.body_text(), "unreadable handling form");
                unreadable = Some(e.status());
                break;
            }
        };
        // The form has eight parts: a body of many more is not one of its own, and reading
        // them all would cost the server for nothing.
        parts += 1;
        if parts > MAX_FORM_PARTS {
            tracing::info!(parts, "a handling form with too many parts");
            unreadable = Some(StatusCode::BAD_REQUEST);
            break;
        }
        let name = field.name().unwrap_or_default().to_owned();
        let file_name = field.file_name().map(str::to_owned);
        match field.bytes().await {
            Ok(bytes) => match file_name {
                Some(f) if name == "fil" && !f.is_empty() => file = Some((f, bytes.to_vec())),
                _ if bytes.len() > MAX_TEXT_PART_BYTES => {
                    tracing::info!(field = %name, bytes = bytes.len(), "a handling form's text too large");
                    unreadable = Some(StatusCode::BAD_REQUEST);
                    break;
                }
                _ => {
                    fields.insert(name, String::from_utf8_lossy(&bytes).into_owned());
                }
            },
            Err(e) => {
                tracing::info!(error = %e.body_text(), "unreadable handling form");
                unreadable = Some(e.status());
                break;
            }
        }
    }
    let field = |k: &str| {
        fields
            .get(k)
            .map(|v| v.trim().to_owned())
            .unwrap_or_default()
    };
    let number = field("nummer");
    let here = format!("/arende?nummer={}", encode(&number));
    let user = match require_to(&state, &headers, &here, Permission::RegisterDocuments).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    if let Some(stale) = csrf_refusal(&user, &field("csrf_token")) {
        return stale;
    }
    let refusal = |status: StatusCode, message: String| {
        let (state, user, number) = (&state, &user, &number);
        async move {
            if number.is_empty() {
                return (status, message).into_response();
            }
            case_page(state, user, number, status, None, Some(message)).await
        }
    };
    if let Some(status) = unreadable {
        return refusal(status, unreadable_form(status)).await;
    }
    let input = (|| {
        Ok::<_, String>(crate::service::NewDocumentInput {
            date: form_date(&field("datum"))?,
            direction: form_direction(&field("riktning"))?,
            counterpart: Some(field("motpart")).filter(|c| !c.is_empty()),
            counterpart_protected: false,
            description: field("beskrivning"),
            description_protected: false,
            secrecy: None,
            file,
        })
    })();
    let input = match input {
        Ok(input) => input,
        Err(message) => return refusal(StatusCode::BAD_REQUEST, message).await,
    };
    let actor = Actor::new(user.username.clone());
    match state.kansli.add_document(&number, input, &actor).await {
        Ok(d) => {
            let notice = format!("Handlingen är registrerad som {}.", d.number);
            case_page(&state, &user, &number, StatusCode::OK, Some(notice), None).await
        }
        Err(ServiceError::InvalidDocument(r)) => {
            refusal(StatusCode::BAD_REQUEST, r.swedish()).await
        }
        // The only other input is the form's hidden number: one that does not read as a
        // diarienummer, or no ärende's.
        Err(e @ (ServiceError::Invalid(_) | ServiceError::NotFound(_))) => {
            no_such_case(&state, &user, &number, &e).await
        }
        // Two registrations raced for the same number; nothing of this one was written.
        Err(ServiceError::Conflict(_)) => {
            let message = "Någon annan registrerade en handling i ärendet samtidigt. Försök igen.";
            refusal(StatusCode::CONFLICT, message.into()).await
        }
        Err(e) => super::ApiError::from(e).into_response(),
    }
}

#[derive(Deserialize)]
pub(super) struct AccessForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    nummer: String,
    #[serde(default)]
    person: String,
    /// `ge` (give) or `ta-bort` (take away).
    #[serde(default)]
    atgard: String,
}

/// `POST /arende/atkomst`: gives a person access to the ärende's secret handlingar, or takes
/// it away; for those who need to know them.
pub(super) async fn access(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<AccessForm>,
) -> Response {
    let number = form.nummer.trim().to_owned();
    let user = match case_form_sender(&state, &headers, &number, &form.csrf_token).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let grant = match form.atgard.as_str() {
        "ge" => true,
        "ta-bort" => false,
        _ => {
            let message = "Välj om personen ska få eller förlora åtkomst.".to_owned();
            return case_page(
                &state,
                &user,
                &number,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(message),
            )
            .await;
        }
    };
    let person = form.person.trim();
    match state
        .kansli
        .set_case_access(&user, &number, person, grant)
        .await
    {
        Ok(changed) => {
            let notice = match (grant, changed) {
                (true, true) => format!(
                    "{person} har fått åtkomst till ärendets sekretessmarkerade handlingar."
                ),
                (false, true) => format!(
                    "{person} har inte längre åtkomst till ärendets sekretessmarkerade handlingar."
                ),
                (true, false) => format!("{person} hade redan åtkomst."),
                (false, false) => format!("{person} hade ingen åtkomst att ta bort."),
            };
            case_page(&state, &user, &number, StatusCode::OK, Some(notice), None).await
        }
        Err(ServiceError::Forbidden(why)) => super::staff::refused(&state, &user, &why).await,
        Err(ServiceError::Invalid(_)) => {
            let message = format!(
                "Person: ”{person}” finns inte i organisationen; ange personnyckel eller e-postadress."
            );
            case_page(
                &state,
                &user,
                &number,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(message),
            )
            .await
        }
        Err(e @ ServiceError::NotFound(_)) => no_such_case(&state, &user, &number, &e).await,
        Err(e) => super::ApiError::from(e).into_response(),
    }
}

#[derive(Deserialize)]
pub(super) struct SeenToForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    nummer: String,
    #[serde(default)]
    paragraf: i32,
}

/// `POST /arende/beslut`: a registrator marks a decision the ärende's workflow did not take as
/// seen to (the ärende moved by hand, or nothing to do).
pub(super) async fn decision_seen_to(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SeenToForm>,
) -> Response {
    let number = form.nummer.trim().to_owned();
    let user = match case_form_sender(&state, &headers, &number, &form.csrf_token).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    if !user.can(Permission::RegisterDocuments) {
        return super::staff::refused(
            &state,
            &user,
            "se till beslut som arbetsflödet inte tog emot",
        )
        .await;
    }
    let Some(engine) = &state.engine else {
        return super::no_engine();
    };
    // Only a paragraph of this ärende, so that the form cannot reach another's.
    let ours = match state.kansli.decisions_of(&number).await {
        Ok(list) => list.into_iter().find(|d| d.paragraph_id == form.paragraf),
        Err(e @ ServiceError::NotFound(_)) => {
            return no_such_case(&state, &user, &number, &e).await;
        }
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    let actor = crate::service::Actor::new(user.username.clone());
    let outcome = match ours {
        None => Err(format!(
            "Ärendet har ingen sådan paragraf ({}).",
            form.paragraf
        )),
        Some(d) => match engine.clear_attention(d.paragraph_id, &actor).await {
            Ok(()) => Ok(format!("{} är markerat som omhändertaget.", d.label)),
            Err(ServiceError::NotFound(_)) => {
                Err(format!("{} väntar inte på någon registrator.", d.label))
            }
            Err(e) => return super::ApiError::from(e).into_response(),
        },
    };
    match outcome {
        Ok(notice) => case_page(&state, &user, &number, StatusCode::OK, Some(notice), None).await,
        Err(error) => {
            case_page(
                &state,
                &user,
                &number,
                StatusCode::CONFLICT,
                None,
                Some(error),
            )
            .await
        }
    }
}

/// The most parts a handling form may have (it has eight).
const MAX_FORM_PARTS: usize = 32;
/// The most bytes a text field of the handling form may have (its longest takes 2,000
/// characters).
const MAX_TEXT_PART_BYTES: usize = 64 * 1024;

/// The handling form's body could not be read: too large (413), or broken.
fn unreadable_form(status: StatusCode) -> String {
    if status == StatusCode::PAYLOAD_TOO_LARGE {
        format!(
            "Fil: filen är för stor; högst {} MB är tillåtet.",
            crate::service::megabytes(crate::service::MAX_FILE_BYTES)
        )
    } else {
        "Formuläret gick inte att läsa. Ladda om sidan och försök igen.".into()
    }
}

/// The form's Datum, in Swedish when it is not a day.
fn form_date(text: &str) -> Result<chrono::NaiveDate, String> {
    if text.is_empty() {
        return Err("Datum måste fyllas i (ÅÅÅÅ-MM-DD).".into());
    }
    crate::domain::calendar::parse_date("datum", text)
        .map_err(|_| format!("Datum: ”{text}” är inget datum som finns; skriv det som ÅÅÅÅ-MM-DD."))
}

/// The form's Riktning, in Swedish when it is none of the three.
fn form_direction(text: &str) -> Result<crate::domain::document::Direction, String> {
    text.parse().map_err(|_| {
        format!("Riktning: ”{text}” är ingen riktning; välj Inkommande, Upprättad eller Utgående.")
    })
}

/// `GET /handling?nummer=KS+2026/1:3`: the handling's file.
pub(super) async fn file(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<CaseNumber>,
) -> Response {
    let here = format!("/handling?nummer={}", encode(&q.nummer));
    let user = match require_to(&state, &headers, &here, Permission::ReadDiarium).await {
        Ok(user) => user,
        Err(r) => return r,
    };
    let number = q.nummer.trim();
    match state.kansli.document_file_for(&user, number).await {
        Ok((file, content)) => super::file_download(&file.name, file.media_type, content),
        Err(ServiceError::NotFound(_)) => {
            let message = format!("Det finns ingen handling ”{number}” med en fil i diariet.");
            missing(
                &state,
                &user,
                StatusCode::NOT_FOUND,
                "Handlingen finns inte",
                message,
            )
            .await
        }
        Err(ServiceError::Forbidden(why)) => super::staff::refused(&state, &user, &why).await,
        Err(ServiceError::Invalid(_)) => {
            let message = format!(
                "”{number}” är inget handlingsnummer. Det skrivs som ärendets nummer, kolon och \
                 handlingens, till exempel KS 2026/1:3."
            );
            missing(
                &state,
                &user,
                StatusCode::BAD_REQUEST,
                "Inget handlingsnummer",
                message,
            )
            .await
        }
        Err(e) => super::ApiError::from(e).into_response(),
    }
}
