//! The sekreterare's pages: the meetings, a meeting's föredragningslista with anmälan,
//! decisions and justering, and the protocol and extracts to read or download as PDF/A.
//! Every form carries the session's CSRF token; every page needs the sekreterare's (or an
//! administrator's) role. A refused step shows the meeting again with what was wrong.

use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::staff::{csrf_refusal, require};
use super::{AppState, municipality, render_page};
use crate::domain::organisation::Role;
use crate::domain::protocol::{ParagraphKind, RemarkKind, VoteChoice};
use crate::service::accounts::User;
use crate::service::lines_of;
use crate::service::{
    AttendanceInput, DocumentFormat, Engine, MeetingView, ParagraphInput, ParagraphRef,
    RemarkInput, ServiceError, VoteInput,
};

/// Who keeps the meetings.
const KEEPS_MEETINGS: [Role; 2] = [Role::Sekreterare, Role::Admin];
const WHAT: &str = "sköta sammanträden och protokoll";

#[derive(Serialize)]
struct MeetingsPage<'a> {
    page_title: &'a str,
    municipality: String,
    user: &'a User,
    meetings: Vec<MeetingView>,
    organs: Vec<Choice>,
    error: Option<String>,
}

#[derive(Serialize)]
struct MeetingPage<'a> {
    page_title: &'a str,
    municipality: String,
    user: &'a User,
    meeting: MeetingView,
    organs: Vec<Choice>,
    undecided: Vec<String>,
    /// The organ's ledamöter and ersättare on the day, for the närvaro form.
    ledamoter: Vec<(String, String)>,
    ersattare: Vec<(String, String)>,
    /// Agenda items without an ärende and without a paragraph yet.
    open_items: Vec<String>,
    error: Option<String>,
    notice: Option<String>,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
}

/// A form's sender: a sekreterare whose form carries the session's CSRF token.
async fn form_sender(
    state: &AppState,
    headers: &HeaderMap,
    here: &str,
    csrf_token: &str,
) -> Result<User, Response> {
    let user = require(state, headers, here, &KEEPS_MEETINGS, WHAT).await?;
    match csrf_refusal(&user, csrf_token) {
        Some(stale) => Err(stale),
        None => Ok(user),
    }
}

async fn organ_choices(engine: &Engine) -> Vec<Choice> {
    engine
        .organs()
        .await
        .unwrap_or_default()
        .into_iter()
        .map(|(code, name)| Choice {
            label: format!("{name} ({code})"),
            value: code,
        })
        .collect()
}

/// The meetings list, with `error` from a refused creation.
async fn meetings_page(
    state: &AppState,
    user: &User,
    status: StatusCode,
    error: Option<String>,
) -> Response {
    let Some(engine) = state.engine.as_ref() else {
        return super::no_engine();
    };
    let meetings = match engine.meeting_views().await {
        Ok(m) => m,
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    let context = MeetingsPage {
        page_title: "Sammanträden",
        municipality: municipality(state).await,
        user,
        meetings,
        organs: organ_choices(engine).await,
        error,
    };
    render_page(state, status, "sammantraden", &context)
}

/// One meeting, with `error` from a refused step or `notice` from a taken one.
async fn meeting_page(
    state: &AppState,
    user: &User,
    id: i32,
    status: StatusCode,
    error: Option<String>,
    notice: Option<String>,
) -> Response {
    let Some(engine) = state.engine.as_ref() else {
        return super::no_engine();
    };
    let meeting = match engine.meeting_view(id).await {
        Ok(m) => m,
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    let undecided = meeting
        .agenda
        .iter()
        .filter(|a| a.paragraph.is_none() && !a.case_number.is_empty())
        .map(|a| a.case_number.clone())
        .collect();
    let open_items = meeting
        .agenda
        .iter()
        .filter(|a| a.paragraph.is_none() && a.case_number.is_empty())
        .map(|a| a.title.clone())
        .collect();
    let (ledamoter, ersattare) = match engine.members_of_meeting(id).await {
        Ok(m) => m,
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    let context = MeetingPage {
        page_title: "Sammanträde",
        municipality: municipality(state).await,
        user,
        organs: organ_choices(engine).await,
        undecided,
        ledamoter,
        ersattare,
        open_items,
        meeting,
        error,
        notice,
    };
    render_page(state, status, "sammantrade", &context)
}

/// A refused step: 422 with the reason for what the user typed (the field it names), 409 for a
/// change to what is final, the rest as its status; an unexpected error is handed back.
fn refusal(e: ServiceError) -> Result<(StatusCode, String), ServiceError> {
    match e {
        ServiceError::Invalid(m) => Ok((StatusCode::UNPROCESSABLE_ENTITY, m)),
        ServiceError::Refused(r) => Ok((super::refusal_status(&r), r.swedish())),
        ServiceError::InvalidDocument(r) => Ok((StatusCode::UNPROCESSABLE_ENTITY, r.swedish())),
        ServiceError::NotFound(m) => Ok((StatusCode::NOT_FOUND, m)),
        ServiceError::Conflict(m) | ServiceError::Final(m) => Ok((StatusCode::CONFLICT, m)),
        other => Err(other),
    }
}

/// `GET /sammantraden`
pub(super) async fn list(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match require(&state, &headers, "/sammantraden", &KEEPS_MEETINGS, WHAT).await {
        Ok(user) => meetings_page(&state, &user, StatusCode::OK, None).await,
        Err(r) => r,
    }
}

#[derive(Deserialize)]
pub(super) struct NewMeeting {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    organ: String,
    #[serde(default)]
    date: String,
    #[serde(default)]
    place: String,
    #[serde(default)]
    time: String,
    #[serde(default)]
    justering: String,
}

/// `POST /sammantraden`
pub(super) async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<NewMeeting>,
) -> Response {
    let user = match form_sender(&state, &headers, "/sammantraden", &form.csrf_token).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let Some(engine) = state.engine.as_ref() else {
        return super::no_engine();
    };
    let Ok(date) = NaiveDate::parse_from_str(form.date.trim(), "%Y-%m-%d") else {
        let message = format!("Datum: {:?} är inte ett datum (ÅÅÅÅ-MM-DD).", form.date);
        return meetings_page(
            &state,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            Some(message),
        )
        .await;
    };
    let actor = crate::service::Actor::new(user.username.clone());
    match engine
        .plan_meeting(
            &form.organ,
            date,
            &form.place,
            Some(form.time.as_str()),
            Some(form.justering.as_str()),
            &actor,
        )
        .await
    {
        Ok(m) => Redirect::to(&format!("/sammantraden/{}", m.id)).into_response(),
        Err(e) => match refusal(e) {
            Ok((status, m)) => meetings_page(&state, &user, status, Some(m)).await,
            Err(e) => super::ApiError::from(e).into_response(),
        },
    }
}

/// `GET /sammantraden/{id}`
pub(super) async fn show(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i32>,
) -> Response {
    let here = format!("/sammantraden/{id}");
    match require(&state, &headers, &here, &KEEPS_MEETINGS, WHAT).await {
        Ok(user) => meeting_page(&state, &user, id, StatusCode::OK, None, None).await,
        Err(r) => r,
    }
}

/// A submitted form's fields, in order; a field may repeat (the checkboxes of the närvaro,
/// the votes of an omröstning).
struct Fields(Vec<(String, String)>);

impl Fields {
    /// The first value of `name`, or "".
    fn one(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// Every non-blank value of `name`.
    fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, v)| k == name && !v.trim().is_empty())
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    }

    /// The lines of a text field, as a list.
    fn lines(&self, name: &str) -> Vec<String> {
        lines_of(self.one(name))
    }
}

fn day(field: &str, text: &str) -> Result<NaiveDate, ServiceError> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").map_err(|_| {
        ServiceError::Invalid(format!("{field}: {text:?} är inte ett datum (ÅÅÅÅ-MM-DD)"))
    })
}

/// Lines of "NAME<sep>TEXT", each split in two; `field` names the box in an error.
fn pairs(
    field: &str,
    lines: Vec<String>,
    sep: char,
) -> Result<Vec<(String, String)>, ServiceError> {
    lines
        .into_iter()
        .map(|l| {
            l.split_once(sep)
                .map(|(a, b)| (a.trim().to_owned(), b.trim().to_owned()))
                .ok_or_else(|| {
                    ServiceError::Invalid(format!("{field}: raden {l:?} saknar {sep:?}"))
                })
        })
        .collect()
}

/// A paragraph from the paragraph form: its kind, ärende or heading, text, and the debate.
fn paragraph_input(f: &Fields) -> Result<ParagraphInput, ServiceError> {
    let kind: ParagraphKind = match f.one("typ") {
        "" => ParagraphKind::Beslut,
        other => other
            .parse()
            .map_err(|e| ServiceError::Invalid(format!("Typ: {e}")))?,
    };
    let proposal_to = Some(f.one("forslag_till").trim().to_owned()).filter(|t| !t.is_empty());
    let kind = match (kind, &proposal_to) {
        (ParagraphKind::Beslut, Some(_)) => ParagraphKind::Forslag,
        (kind, _) => kind,
    };
    let number = Some(f.one("nummer").trim().to_owned()).filter(|n| !n.is_empty());
    let mut input = ParagraphInput::on_case(kind, "", f.lines("beslut"));
    input.case_number = number;
    input.title = Some(f.one("rubrik").trim().to_owned()).filter(|t| !t.is_empty());
    input.proposal_to = proposal_to;
    input.recipients = f.lines("skickas_till");
    input.forward_to = Some(f.one("vidare_till").trim().to_owned()).filter(|n| !n.is_empty());
    input.yrkanden = f.lines("yrkanden");
    input.beslutsgang = Some(f.one("beslutsgang").trim().to_owned()).filter(|t| !t.is_empty());
    let votes = f.all("rost");
    if !votes.is_empty() || !f.one("omrostning").trim().is_empty() {
        let mut counted = Vec::new();
        for (name, choice) in pairs("Omröstning", votes, '=')? {
            let choice: VoteChoice = choice
                .parse()
                .map_err(|e| ServiceError::Invalid(format!("Omröstning: {e}")))?;
            counted.push((name, choice));
        }
        input.vote = Some(VoteInput {
            question: f.one("omrostning").to_owned(),
            votes: counted,
        });
    }
    for (field, kind) in [
        ("reservationer", RemarkKind::Reservation),
        ("anteckningar", RemarkKind::Anteckning),
    ] {
        for (name, text) in pairs(kind.label(), f.lines(field), ':')? {
            input.remarks.push(RemarkInput { kind, name, text });
        }
    }
    for name in f.all("jav") {
        input.remarks.push(RemarkInput {
            kind: RemarkKind::Jav,
            name,
            text: String::new(),
        });
    }
    Ok(input)
}

/// `POST /sammantraden/{id}`: anmälan, the order of the agenda, the närvaro, a paragraph, or
/// the justering.
pub(super) async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i32>,
    Form(form): Form<Vec<(String, String)>>,
) -> Response {
    let f = Fields(form);
    let here = format!("/sammantraden/{id}");
    let user = match form_sender(&state, &headers, &here, f.one("csrf_token")).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let Some(engine) = state.engine.as_ref() else {
        return super::no_engine();
    };
    let actor = crate::service::Actor::new(user.username.clone());
    let number = f.one("nummer").trim();
    let done: Result<String, ServiceError> = match f.one("atgard") {
        "anmal" => engine
            .add_to_agenda(id, number, &actor)
            .await
            .map(|()| format!("{number} är anmält till sammanträdet.")),
        "kallelse" => engine
            .send_kallelse(id, &actor)
            .await
            .map(|n| format!("Kallelsen är skickad till {n} ledamöter och ersättare och registrerad i ärendena.")),
        "punkt" => engine
            .add_item_to_agenda(id, f.one("rubrik"), &actor)
            .await
            .map(|()| "Punkten är uppsatt på föredragningslistan.".to_owned()),
        "flytta" => match f.one("punkt").trim().parse::<i32>() {
            Ok(position) => {
                let up = f.one("riktning") == "upp";
                engine
                    .move_agenda_item(id, position, up, &actor)
                    .await
                    .map(|()| format!("Punkt {position} är flyttad {}.", if up { "upp" } else { "ned" }))
            }
            Err(_) => Err(ServiceError::Invalid("Punkt: ange punktens nummer".into())),
        },
        "narvaro" => match (
            pairs("Tjänstgörande ersättare", f.lines("tjanstgorande"), '='),
            pairs("Övriga närvarande", f.lines("ovriga"), ','),
        ) {
            (Ok(substitutes), Ok(others)) => {
                let input = AttendanceInput {
                    chair: f.one("ordforande").to_owned(),
                    secretary: Some(f.one("sekreterare").trim().to_owned()).filter(|s| !s.is_empty()),
                    absent: f.all("franvarande"),
                    substitutes,
                    ersattare: f.lines("ersattare"),
                    others,
                };
                engine
                    .record_attendance(id, &input, &actor)
                    .await
                    .map(|warnings| {
                        let mut text = "Närvaron är registrerad; sammanträdet är genomfört.".to_owned();
                        for w in warnings {
                            text.push_str(&format!(" Varning: {w}."));
                        }
                        text
                    })
            }
            (Err(e), _) | (_, Err(e)) => Err(e),
        },
        "besluta" => match paragraph_input(&f) {
            Ok(input) => engine.record_paragraph(id, input, &actor).await.map(|p| {
                let mut text = format!("Paragrafen är protokollförd som {}", p.label);
                if !p.workflow.is_empty() {
                    text.push_str(&format!(" ({})", p.workflow));
                }
                text.push('.');
                if p.needs_attention {
                    text.push_str(
                        " Ärendets arbetsflöde tog inte emot beslutet; ärendet väntar på en registrator.",
                    );
                }
                text
            }),
            Err(e) => Err(e),
        },
        "justera" => match (day("Justerat", f.one("justerat")), f.one("anslag").trim()) {
            (Err(e), _) => Err(e),
            (Ok(justerat), "") => {
                engine
                    .justera(id, &f.lines("justerare"), justerat, None, &actor)
                    .await
            }
            (Ok(justerat), anslag) => match day("Anslag", anslag) {
                Ok(a) => {
                    engine
                        .justera(id, &f.lines("justerare"), justerat, Some(a), &actor)
                        .await
                }
                Err(e) => Err(e),
            },
        }
        .map(|(p, warnings)| {
            let mut text = format!(
                "Protokollet är justerat; sista dag för överklagande är {}.",
                p.appeal_last_day
            );
            for w in warnings {
                text.push_str(&format!(" Varning: {w}."));
            }
            text
        }),
        other => Err(ServiceError::Invalid(format!("okänd åtgärd {other:?}"))),
    };
    match done {
        Ok(notice) => meeting_page(&state, &user, id, StatusCode::OK, None, Some(notice)).await,
        Err(e) => match refusal(e) {
            Ok((status, m)) => meeting_page(&state, &user, id, status, Some(m), None).await,
            Err(e) => super::ApiError::from(e).into_response(),
        },
    }
}

#[derive(Deserialize)]
pub(super) struct DocumentQuery {
    #[serde(default)]
    format: String,
    #[serde(default)]
    nummer: String,
    #[serde(default)]
    paragraf: String,
}

fn document(bytes: Vec<u8>, format: DocumentFormat, name: &str) -> Response {
    match format {
        // Shown in the browser, in a sandbox: the document's own inline style, nothing else.
        DocumentFormat::Html => (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (
                    header::CONTENT_SECURITY_POLICY,
                    super::protect::DOCUMENT_POLICY,
                ),
            ],
            bytes,
        )
            .into_response(),
        DocumentFormat::Pdf => (
            [
                (header::CONTENT_TYPE, "application/pdf".to_owned()),
                (
                    header::CONTENT_DISPOSITION,
                    format!("attachment; filename=\"{name}.pdf\""),
                ),
            ],
            bytes,
        )
            .into_response(),
    }
}

fn format_of(q: &DocumentQuery) -> DocumentFormat {
    match q.format.as_str() {
        "pdf" => DocumentFormat::Pdf,
        _ => DocumentFormat::Html,
    }
}

/// `GET /sammantraden/{id}/protokoll[?format=pdf]`
pub(super) async fn protocol(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i32>,
    Query(q): Query<DocumentQuery>,
) -> Response {
    let here = format!("/sammantraden/{id}/protokoll");
    if let Err(r) = require(&state, &headers, &here, &KEEPS_MEETINGS, WHAT).await {
        return r;
    }
    let Some(engine) = state.engine.as_ref() else {
        return super::no_engine();
    };
    match engine.protocol_document(id, format_of(&q)).await {
        Ok(bytes) => document(bytes, format_of(&q), &format!("protokoll-{id}")),
        Err(e) => super::ApiError::from(e).into_response(),
    }
}

/// `GET /utdrag?nummer=KS+2026/1&paragraf=KS+§+1/26[&format=pdf]`
pub(super) async fn extract(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<DocumentQuery>,
) -> Response {
    if let Err(r) = require(&state, &headers, "/sammantraden", &KEEPS_MEETINGS, WHAT).await {
        return r;
    }
    let Some(engine) = state.engine.as_ref() else {
        return super::no_engine();
    };
    let paragraph: ParagraphRef = match q.paragraf.parse() {
        Ok(p) => p,
        Err(m) => return (StatusCode::BAD_REQUEST, m).into_response(),
    };
    match engine
        .extract_as(q.nummer.trim(), &paragraph, format_of(&q))
        .await
    {
        Ok(bytes) => document(bytes, format_of(&q), "protokollsutdrag"),
        Err(e) => super::ApiError::from(e).into_response(),
    }
}
