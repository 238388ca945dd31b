//! The administration pages, for accounts with the admin flag: an overview, the organisation
//! (and its re-import from the TOML file `kansli org import` reads), the diarieserier and their
//! number formats, accounts and the roles people hold, and the outbox with its failed messages.
//!
//! Anyone else gets the login page or the 403 page. Every change is a POST with the session's
//! CSRF token, done by a service in `service::admin` that checks the administrator again and
//! writes the audit trail. A refused change shows the page again with an error summary whose
//! entries link to the fields.

use axum::Form;
use axum::extract::{Multipart, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::staff::{csrf_refusal, refused, user};
use super::{AppState, municipality, render_page};
use crate::domain::calendar::format_local;
use crate::domain::organisation::{OrganKind, Role, UnitKind};
use crate::domain::protocol::Seat;
use crate::service::accounts::User;
use crate::service::admin::{AccountInput, AdminError, OUTBOX_STATUSES, Problem, SeriesInput};
use crate::service::{ImportSummary, MessageView};
use crate::store::OutboxStatus;
use crate::store::{OrgSnapshot, OrganRow, UnitRow};

const WHAT: &str = "administrera Kansli";

/// The logged-in administrator; else the login page, or the 403 page.
async fn admin(state: &AppState, headers: &HeaderMap, here: &str) -> Result<User, Response> {
    let user = user(state, headers, here).await?;
    match user.admin {
        true => Ok(user),
        false => Err(refused(state, &user, WHAT).await),
    }
}

/// A form's sender: an administrator whose form carries the session's CSRF token.
async fn form_sender(
    state: &AppState,
    headers: &HeaderMap,
    here: &str,
    csrf_token: &str,
) -> Result<User, Response> {
    let user = admin(state, headers, here).await?;
    match csrf_refusal(&user, csrf_token) {
        Some(stale) => Err(stale),
        None => Ok(user),
    }
}

/// What a change left to show: a notice, or the problems with their status.
#[derive(Default)]
struct Outcome {
    status: Option<StatusCode>,
    notice: Option<String>,
    errors: Vec<Problem>,
}

impl Outcome {
    fn done(notice: String) -> Self {
        Self {
            notice: Some(notice),
            ..Default::default()
        }
    }

    /// A refusal to show on the page; an unexpected error (or a non-admin, which the page
    /// already checked) is answered as it is.
    fn refused(e: AdminError) -> Result<Self, Box<Response>> {
        let (status, errors) = match e {
            AdminError::Invalid(problems) => (StatusCode::BAD_REQUEST, problems),
            AdminError::NotFound(m) => (
                StatusCode::NOT_FOUND,
                vec![Problem {
                    field: String::new(),
                    message: m,
                }],
            ),
            AdminError::NotAdmin(_) => {
                return Err(Box::new(
                    (StatusCode::FORBIDDEN, "ingen behörighet").into_response(),
                ));
            }
            AdminError::Service(e) => {
                return Err(Box::new(super::ApiError::from(e).into_response()));
            }
        };
        Ok(Self {
            status: Some(status),
            notice: None,
            errors,
        })
    }

    fn status(&self) -> StatusCode {
        self.status.unwrap_or(StatusCode::OK)
    }
}

/// Reads a page's data; a refusal or failure becomes the response.
fn read<T>(result: Result<T, AdminError>) -> Result<T, Box<Response>> {
    result.map_err(|e| match Outcome::refused(e) {
        Ok(o) => Box::new(
            (
                o.status(),
                o.errors
                    .into_iter()
                    .map(|p| p.message)
                    .collect::<Vec<_>>()
                    .join(" "),
            )
                .into_response(),
        ),
        Err(r) => r,
    })
}

// --- The overview ----------------------------------------------------------------------------

#[derive(Serialize)]
struct OverviewPage<'a> {
    page_title: &'a str,
    municipality: String,
    user: &'a User,
    failed: u64,
    /// Timers whose step failed, each with its retry button.
    timers: Vec<FailedTimerVm>,
    notice: Option<String>,
    error: Option<String>,
}

#[derive(Serialize)]
struct FailedTimerVm {
    id: i32,
    case_number: String,
    what: String,
    due: String,
    reason: String,
}

#[derive(Deserialize)]
pub(super) struct TimerRetryForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    timer: String,
}

/// `POST /admin`: a failed timer back in the queue.
pub(super) async fn retry_timer(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<TimerRetryForm>,
) -> Response {
    let user = match form_sender(&state, &headers, "/admin", &form.csrf_token).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let (notice, error, status) = match form.timer.trim().parse::<i32>() {
        Err(_) => (
            None,
            Some(format!("{:?} är inget timernummer.", form.timer)),
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
        Ok(id) => match state.kansli.admin_retry_timer(&user, id).await {
            Ok(()) => (
                Some(format!(
                    "Timer {id} är köad igen och prövas vid nästa körning."
                )),
                None,
                StatusCode::OK,
            ),
            Err(AdminError::NotFound(m)) => (None, Some(m), StatusCode::NOT_FOUND),
            Err(e) => match Outcome::refused(e) {
                Ok(o) => (
                    None,
                    Some(
                        o.errors
                            .iter()
                            .map(|p| p.message.clone())
                            .collect::<Vec<_>>()
                            .join(" "),
                    ),
                    StatusCode::UNPROCESSABLE_ENTITY,
                ),
                Err(r) => return *r,
            },
        },
    };
    overview_page(&state, &user, status, notice, error).await
}

/// `GET /admin`
pub(super) async fn overview(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let user = match admin(&state, &headers, "/admin").await {
        Ok(u) => u,
        Err(r) => return r,
    };
    overview_page(&state, &user, StatusCode::OK, None, None).await
}

/// The overview, with what failed and waits for an administrator.
async fn overview_page(
    state: &AppState,
    user: &User,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> Response {
    let failed = match read(
        state
            .kansli
            .admin_message_count(user, OutboxStatus::Failed)
            .await,
    ) {
        Ok(n) => n,
        Err(r) => return *r,
    };
    let timers = match read(state.kansli.admin_failed_timers(user).await) {
        Ok(t) => t,
        Err(r) => return *r,
    };
    let context = OverviewPage {
        page_title: "Administration",
        municipality: municipality(state).await,
        user,
        failed,
        timers: timers
            .into_iter()
            .map(|t| FailedTimerVm {
                id: t.id,
                case_number: t.case_number.unwrap_or_default(),
                what: format!(
                    "{}{}: {} → {}",
                    t.workflow,
                    t.unit.map(|u| format!(" ({u})")).unwrap_or_default(),
                    t.timer,
                    t.event
                ),
                due: crate::domain::calendar::format_local(t.due_at),
                reason: t.reason,
            })
            .collect(),
        notice,
        error,
    };
    render_page(state, status, "admin", &context)
}

// --- The organisation ------------------------------------------------------------------------

#[derive(Serialize)]
struct OrganisationPage<'a> {
    page_title: &'a str,
    municipality: String,
    user: &'a User,
    kommun: Option<KommunVm>,
    organs: Vec<OrganNode>,
    loose_units: Vec<UnitVm>,
    people: Vec<PersonVm>,
    toml: String,
    notice: Option<String>,
    errors: Vec<Problem>,
}

#[derive(Serialize)]
struct KommunVm {
    name: String,
    sender_email: String,
    phone: String,
    website: String,
}

/// An organ with its units and the organs under it (utskott under their styrelse).
#[derive(Serialize)]
struct OrganNode {
    code: String,
    name: String,
    kind: String,
    proposes_to: String,
    units: Vec<UnitVm>,
    children: Vec<OrganNode>,
    /// Its ledamöter and ersättare, one line per mandatperiod.
    terms: Vec<TermVm>,
    has_items: bool,
}

#[derive(Serialize)]
struct TermVm {
    period: String,
    ledamoter: String,
    ersattare: String,
}

/// An organ's members, grouped by mandatperiod in the order of the file.
fn terms_of(organ: &str, org: &OrgSnapshot) -> Vec<TermVm> {
    let mut terms: Vec<TermVm> = Vec::new();
    let mut periods: Vec<(chrono::NaiveDate, chrono::NaiveDate)> = org
        .members
        .iter()
        .filter(|m| m.organ_code == organ)
        .map(|m| (m.term_from, m.term_to))
        .collect();
    periods.dedup();
    for (from, to) in periods {
        let named = |seat: Seat| {
            org.members
                .iter()
                .filter(|m| m.organ_code == organ && m.term_from == from && m.seat == seat.code())
                .map(|m| format!("{} ({})", m.name, m.party))
                .collect::<Vec<_>>()
                .join(", ")
        };
        terms.push(TermVm {
            period: format!("{from} – {to}"),
            ledamoter: named(Seat::Ledamot),
            ersattare: named(Seat::Ersattare),
        });
    }
    terms
}

#[derive(Serialize)]
struct UnitVm {
    code: String,
    name: String,
    kind: String,
    email: String,
}

#[derive(Serialize)]
struct PersonVm {
    key: String,
    name: String,
    title: String,
    email: String,
    roles: String,
    roles_href: String,
}

fn unit_vm(u: &UnitRow) -> UnitVm {
    UnitVm {
        code: u.code.clone(),
        name: u.name.clone(),
        kind: u
            .kind
            .parse::<UnitKind>()
            .map_or_else(|_| u.kind.clone(), |k| k.label().to_owned()),
        email: u.email.clone().unwrap_or_default(),
    }
}

fn organ_node(organ: &OrganRow, org: &OrgSnapshot, depth: usize) -> OrganNode {
    let units: Vec<UnitVm> = org
        .units
        .iter()
        .filter(|u| u.organ_code.as_deref() == Some(organ.code.as_str()))
        .map(unit_vm)
        .collect();
    // The depth bound keeps a parent cycle in stored data from recursing for ever.
    let children: Vec<OrganNode> = match depth < 8 {
        true => org
            .organs
            .iter()
            .filter(|o| o.parent_code.as_deref() == Some(organ.code.as_str()))
            .map(|o| organ_node(o, org, depth + 1))
            .collect(),
        false => Vec::new(),
    };
    OrganNode {
        code: organ.code.clone(),
        name: organ.name.clone(),
        kind: organ
            .kind
            .parse::<OrganKind>()
            .map_or_else(|_| organ.kind.clone(), |k| k.label().to_owned()),
        proposes_to: organ.proposes_to_code.clone().unwrap_or_default(),
        has_items: !units.is_empty() || !children.is_empty(),
        terms: terms_of(&organ.code, org),
        units,
        children,
    }
}

/// A person's roles in words: `handläggare (HR), chef (BUF)`.
fn roles_of(person_id: i32, org: &OrgSnapshot) -> Vec<(Role, String)> {
    org.roles
        .iter()
        .filter(|r| r.person_id == person_id)
        .filter_map(|r| {
            let role = r.role.parse::<Role>().ok()?;
            let unit = org.units.iter().find(|u| u.id == r.unit_id)?;
            Some((role, unit.code.clone()))
        })
        .collect()
}

fn people_vm(org: &OrgSnapshot) -> Vec<PersonVm> {
    org.people
        .iter()
        .map(|p| PersonVm {
            key: p.key.clone(),
            name: p.name.clone(),
            title: p.title.clone(),
            email: p.email.clone(),
            roles: roles_of(p.id, org)
                .iter()
                .map(|(r, u)| format!("{} ({u})", r.label()))
                .collect::<Vec<_>>()
                .join(", "),
            roles_href: format!(
                "/admin/anvandare/roller?person={}",
                super::percent_encode(&p.key, &[])
            ),
        })
        .collect()
}

async fn organisation_page(
    state: &AppState,
    user: &User,
    toml: String,
    outcome: Outcome,
) -> Response {
    let org = match read(state.kansli.admin_organisation(user).await) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    // Fullmäktige first, then the styrelse, then the nämnder: the order decisions go up in.
    let rank = |kind: &str| {
        kind.parse::<OrganKind>()
            .ok()
            .and_then(|k| OrganKind::ALL.iter().position(|x| *x == k))
            .unwrap_or(usize::MAX)
    };
    let mut roots: Vec<&OrganRow> = org
        .organs
        .iter()
        .filter(|o| {
            o.parent_code
                .as_deref()
                .is_none_or(|p| !org.organs.iter().any(|x| x.code == p))
        })
        .collect();
    roots.sort_by_key(|o| (rank(&o.kind), o.code.clone()));
    let organs = roots.into_iter().map(|o| organ_node(o, &org, 0)).collect();
    let context = OrganisationPage {
        page_title: "Organisationen",
        municipality: municipality(state).await,
        user,
        kommun: org.municipality.as_ref().map(|m| KommunVm {
            name: m.name.clone(),
            sender_email: m.sender_email.clone(),
            phone: m.phone.clone().unwrap_or_default(),
            website: m.website.clone().unwrap_or_default(),
        }),
        organs,
        loose_units: org
            .units
            .iter()
            .filter(|u| {
                u.organ_code
                    .as_deref()
                    .is_none_or(|o| !org.organs.iter().any(|x| x.code == o))
            })
            .map(unit_vm)
            .collect(),
        people: people_vm(&org),
        toml,
        notice: outcome.notice.clone(),
        errors: outcome.errors.clone(),
    };
    render_page(state, outcome.status(), "admin-organisation", &context)
}

/// `GET /admin/organisation`
pub(super) async fn organisation(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match admin(&state, &headers, "/admin/organisation").await {
        Ok(user) => organisation_page(&state, &user, String::new(), Outcome::default()).await,
        Err(r) => r,
    }
}

/// `POST /admin/organisation` (multipart): the organisation file pasted into `organisation`,
/// or uploaded as `fil` (which wins when both are given).
pub(super) async fn import(
    State(state): State<AppState>,
    headers: HeaderMap,
    mut form: Multipart,
) -> Response {
    let mut csrf = String::new();
    let mut pasted = String::new();
    let mut upload: Option<(String, Vec<u8>)> = None;
    // The form has three parts; a body of many more is not its own.
    for _ in 0..=16 {
        match form.next_field().await {
            Ok(Some(field)) => {
                let name = field.name().unwrap_or_default().to_owned();
                let file_name = field.file_name().map(str::to_owned);
                let bytes = match field.bytes().await {
                    Ok(b) => b,
                    Err(e) => return (e.status(), e.body_text()).into_response(),
                };
                match (name.as_str(), file_name) {
                    ("csrf_token", _) => csrf = String::from_utf8_lossy(&bytes).into_owned(),
                    ("organisation", _) => pasted = String::from_utf8_lossy(&bytes).into_owned(),
                    ("fil", Some(f)) if !f.is_empty() && !bytes.is_empty() => {
                        upload = Some((f, bytes.to_vec()))
                    }
                    _ => {}
                }
            }
            Ok(None) => break,
            Err(e) => return (e.status(), e.body_text()).into_response(),
        }
    }
    if let Ok(Some(_)) = form.next_field().await {
        return (StatusCode::BAD_REQUEST, "formuläret har för många delar").into_response();
    }
    let user = match form_sender(&state, &headers, "/admin/organisation", &csrf).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let (file, text) = match upload {
        Some((name, bytes)) => match String::from_utf8(bytes) {
            Ok(text) => (name, text),
            Err(_) => {
                let problem = Problem {
                    field: "fil".into(),
                    message: format!("Filen {name:?} är inte text i UTF-8; spara den som UTF-8."),
                };
                let outcome = Outcome {
                    status: Some(StatusCode::BAD_REQUEST),
                    notice: None,
                    errors: vec![problem],
                };
                return organisation_page(&state, &user, pasted, outcome).await;
            }
        },
        None => ("organisation.toml".to_owned(), pasted.clone()),
    };
    let outcome = match state
        .kansli
        .admin_import_organisation(&user, &file, &text)
        .await
    {
        Ok(ImportSummary {
            organs,
            units,
            people,
            roles,
            series,
            members,
        }) => Outcome::done(format!(
            "Organisationen är importerad: {organs} organ ({members} ledamöter och ersättare), {units} enheter, {people} personer ({roles} roller), {series} diarieserier."
        )),
        Err(e) => match Outcome::refused(e) {
            Ok(o) => o,
            Err(r) => return *r,
        },
    };
    // After a refusal the text stays in the box to be fixed; after an import it is done with.
    let keep = match outcome.errors.is_empty() {
        true => String::new(),
        false => text,
    };
    organisation_page(&state, &user, keep, outcome).await
}

// --- The diarieserier ------------------------------------------------------------------------

#[derive(Serialize)]
struct SeriesPage<'a> {
    page_title: &'a str,
    municipality: String,
    user: &'a User,
    series: Vec<SeriesRowVm>,
    organs: Vec<Choice>,
    form: SeriesForm,
    editing: bool,
    notice: Option<String>,
    errors: Vec<Problem>,
}

#[derive(Serialize)]
struct SeriesRowVm {
    prefix: String,
    name: String,
    format: String,
    example: String,
    default_classification: String,
    organ: String,
    edit_href: String,
}

#[derive(Serialize)]
struct Choice {
    value: String,
    label: String,
    selected: bool,
}

/// The series form, as typed (or as stored, to change a series).
#[derive(Deserialize, Serialize, Default, Clone)]
pub(super) struct SeriesForm {
    #[serde(default, skip_serializing)]
    csrf_token: String,
    #[serde(default)]
    prefix: String,
    #[serde(default)]
    name: String,
    #[serde(default)]
    format: String,
    #[serde(default)]
    default_classification: String,
    #[serde(default)]
    organ: String,
}

async fn series_page(
    state: &AppState,
    user: &User,
    form: SeriesForm,
    editing: bool,
    outcome: Outcome,
) -> Response {
    let series = match read(state.kansli.admin_series(user).await) {
        Ok(s) => s,
        Err(r) => return *r,
    };
    let org = match read(state.kansli.admin_organisation(user).await) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let mut organs = vec![Choice {
        value: String::new(),
        label: "Inget organ".into(),
        selected: form.organ.is_empty(),
    }];
    organs.extend(org.organs.iter().map(|o| Choice {
        label: format!("{} ({})", o.name, o.code),
        selected: form.organ == o.code,
        value: o.code.clone(),
    }));
    let context = SeriesPage {
        page_title: "Diarieserier",
        municipality: municipality(state).await,
        user,
        series: series
            .into_iter()
            .map(|s| SeriesRowVm {
                edit_href: format!(
                    "/admin/serier?prefix={}#serieformular",
                    super::percent_encode(&s.prefix, &[])
                ),
                prefix: s.prefix,
                name: s.name,
                format: s.format,
                example: s.example,
                default_classification: s.default_classification.unwrap_or_default(),
                organ: s.organ.unwrap_or_default(),
            })
            .collect(),
        organs,
        form,
        editing,
        notice: outcome.notice.clone(),
        errors: outcome.errors.clone(),
    };
    render_page(state, outcome.status(), "admin-serier", &context)
}

#[derive(Deserialize)]
pub(super) struct PrefixQuery {
    #[serde(default)]
    prefix: String,
}

/// `GET /admin/serier[?prefix=KS]`: the series, and the form (filled in to change one).
pub(super) async fn series(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PrefixQuery>,
) -> Response {
    let user = match admin(&state, &headers, "/admin/serier").await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let existing = match read(state.kansli.admin_series(&user).await) {
        Ok(s) => s
            .into_iter()
            .find(|s| !q.prefix.is_empty() && s.prefix.eq_ignore_ascii_case(q.prefix.trim())),
        Err(r) => return *r,
    };
    let editing = existing.is_some();
    let form = existing.map_or_else(
        || SeriesForm {
            format: "{prefix} {year}/{seq}".into(),
            ..Default::default()
        },
        |s| SeriesForm {
            csrf_token: String::new(),
            prefix: s.prefix,
            name: s.name,
            format: s.format,
            default_classification: s.default_classification.unwrap_or_default(),
            organ: s.organ.unwrap_or_default(),
        },
    );
    series_page(&state, &user, form, editing, Outcome::default()).await
}

/// `POST /admin/serier`: adds a series, or changes the one with the prefix.
pub(super) async fn save_series(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SeriesForm>,
) -> Response {
    let user = match form_sender(&state, &headers, "/admin/serier", &form.csrf_token).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let input = SeriesInput {
        prefix: form.prefix.clone(),
        name: form.name.clone(),
        format: form.format.clone(),
        default_classification: form.default_classification.clone(),
        organ: form.organ.clone(),
    };
    match state.kansli.admin_save_series(&user, input).await {
        Ok((prefix, created)) => {
            let notice = format!(
                "Serien {prefix} är {}.",
                if created { "skapad" } else { "ändrad" }
            );
            let blank = SeriesForm {
                format: "{prefix} {year}/{seq}".into(),
                ..Default::default()
            };
            series_page(&state, &user, blank, false, Outcome::done(notice)).await
        }
        Err(e) => match Outcome::refused(e) {
            Ok(o) => series_page(&state, &user, form, false, o).await,
            Err(r) => *r,
        },
    }
}

// --- Accounts and roles ----------------------------------------------------------------------

#[derive(Serialize)]
struct AccountsPage<'a> {
    page_title: &'a str,
    municipality: String,
    user: &'a User,
    accounts: Vec<AccountVm>,
    people: Vec<PersonVm>,
    person_choices: Vec<Choice>,
    account_choices: Vec<Choice>,
    form: AccountFormVm,
    notice: Option<String>,
    errors: Vec<Problem>,
}

#[derive(Serialize)]
struct AccountVm {
    username: String,
    person: String,
    admin: bool,
    disabled: bool,
    disabled_at: String,
    created_at: String,
    is_me: bool,
}

/// What was typed into the new-account form, shown again after a refusal (never the password).
#[derive(Serialize, Default)]
struct AccountFormVm {
    username: String,
    person: String,
    admin: bool,
}

async fn accounts_page(
    state: &AppState,
    user: &User,
    form: AccountFormVm,
    outcome: Outcome,
) -> Response {
    let accounts = match read(state.kansli.admin_accounts(user).await) {
        Ok(a) => a,
        Err(r) => return *r,
    };
    let org = match read(state.kansli.admin_organisation(user).await) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let name_of = |key: &str| {
        org.people
            .iter()
            .find(|p| p.key == key)
            .map_or_else(|| key.to_owned(), |p| format!("{} ({key})", p.name))
    };
    let context = AccountsPage {
        page_title: "Användare och roller",
        municipality: municipality(state).await,
        user,
        account_choices: accounts
            .iter()
            .map(|a| Choice {
                value: a.username.clone(),
                label: format!("{} – {}", a.username, name_of(&a.person_key)),
                selected: false,
            })
            .collect(),
        accounts: accounts
            .iter()
            .map(|a| AccountVm {
                username: a.username.clone(),
                person: name_of(&a.person_key),
                admin: a.admin,
                disabled: a.disabled_at.is_some(),
                disabled_at: a.disabled_at.map(format_local).unwrap_or_default(),
                created_at: format_local(a.created_at),
                is_me: a.username == user.username,
            })
            .collect(),
        person_choices: org
            .people
            .iter()
            .map(|p| Choice {
                value: p.key.clone(),
                label: format!("{} – {} ({})", p.name, p.title, p.key),
                selected: p.key == form.person,
            })
            .collect(),
        people: people_vm(&org),
        form,
        notice: outcome.notice.clone(),
        errors: outcome.errors.clone(),
    };
    render_page(state, outcome.status(), "admin-anvandare", &context)
}

/// `GET /admin/anvandare`
pub(super) async fn accounts(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match admin(&state, &headers, "/admin/anvandare").await {
        Ok(user) => {
            accounts_page(&state, &user, AccountFormVm::default(), Outcome::default()).await
        }
        Err(r) => r,
    }
}

/// The forms of the accounts page, told apart by `atgard`.
#[derive(Deserialize)]
pub(super) struct AccountForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    atgard: String,
    #[serde(default)]
    username: String,
    #[serde(default)]
    person: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    admin: Option<String>,
    #[serde(default)]
    konto: String,
    #[serde(default)]
    new_password: String,
}

/// `POST /admin/anvandare`: create an account (`skapa`), turn one off (`stang_av`) or on
/// (`oppna`), or set its password (`losenord`).
pub(super) async fn account_action(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<AccountForm>,
) -> Response {
    let user = match form_sender(&state, &headers, "/admin/anvandare", &form.csrf_token).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let kansli = &state.kansli;
    let mut typed = AccountFormVm::default();
    let done = match form.atgard.as_str() {
        "skapa" => {
            typed = AccountFormVm {
                username: form.username.clone(),
                person: form.person.clone(),
                admin: form.admin.is_some(),
            };
            let input = AccountInput {
                username: form.username.clone(),
                person: form.person.clone(),
                password: form.password.clone(),
                admin: form.admin.is_some(),
            };
            kansli.admin_add_account(&user, input).await.map(|a| {
                typed = AccountFormVm::default();
                format!(
                    "Kontot {} är skapat för {}{}.",
                    a.username,
                    a.person_key,
                    if a.admin { " (administratör)" } else { "" }
                )
            })
        }
        "stang_av" => kansli
            .admin_set_account_enabled(&user, &form.konto, false)
            .await
            .map(|()| format!("Kontot {} är avstängt.", form.konto.trim())),
        "oppna" => kansli
            .admin_set_account_enabled(&user, &form.konto, true)
            .await
            .map(|()| format!("Kontot {} är öppnat igen.", form.konto.trim())),
        "losenord" => kansli
            .admin_set_password(&user, &form.konto, &form.new_password)
            .await
            .map(|()| {
                format!(
                    "Kontot {} har fått ett nytt lösenord; dess inloggningar är avslutade och dess API-nycklar återkallade.",
                    form.konto.trim()
                )
            }),
        other => Err(AdminError::Invalid(vec![Problem {
            field: String::new(),
            message: format!("Okänd åtgärd {other:?}."),
        }])),
    };
    let outcome = match done {
        Ok(notice) => Outcome::done(notice),
        Err(e) => match Outcome::refused(e) {
            Ok(o) => o,
            Err(r) => return *r,
        },
    };
    accounts_page(&state, &user, typed, outcome).await
}

#[derive(Serialize)]
struct RolesPage<'a> {
    page_title: &'a str,
    municipality: String,
    user: &'a User,
    person: PersonVm,
    units: Vec<UnitRoles>,
    notice: Option<String>,
    errors: Vec<Problem>,
}

#[derive(Serialize)]
struct UnitRoles {
    code: String,
    name: String,
    roles: Vec<RoleBox>,
}

#[derive(Serialize)]
struct RoleBox {
    id: String,
    value: String,
    label: String,
    checked: bool,
}

async fn roles_page(state: &AppState, user: &User, key: &str, outcome: Outcome) -> Response {
    let org = match read(state.kansli.admin_organisation(user).await) {
        Ok(o) => o,
        Err(r) => return *r,
    };
    let Some(person) = org.people.iter().find(|p| p.key == key.trim()) else {
        return (
            StatusCode::NOT_FOUND,
            format!("Personen {:?} finns inte.", key.trim()),
        )
            .into_response();
    };
    let held = roles_of(person.id, &org);
    let Some(vm) = people_vm(&org).into_iter().find(|p| p.key == person.key) else {
        return (StatusCode::NOT_FOUND, "personen finns inte").into_response();
    };
    let context = RolesPage {
        page_title: "Roller",
        municipality: municipality(state).await,
        user,
        person: vm,
        units: org
            .units
            .iter()
            .map(|u| UnitRoles {
                code: u.code.clone(),
                name: u.name.clone(),
                roles: Role::ALL
                    .iter()
                    .map(|r| RoleBox {
                        id: format!("r-{}-{}", u.code, r.code()),
                        value: format!("{}@{}", r.code(), u.code),
                        label: r.label().to_owned(),
                        checked: held.iter().any(|(hr, hu)| hr == r && *hu == u.code),
                    })
                    .collect(),
            })
            .collect(),
        notice: outcome.notice.clone(),
        errors: outcome.errors.clone(),
    };
    render_page(state, outcome.status(), "admin-roller", &context)
}

#[derive(Deserialize)]
pub(super) struct PersonQuery {
    #[serde(default)]
    person: String,
}

/// `GET /admin/anvandare/roller?person=amira.hadzic`: a person's roles, per unit.
pub(super) async fn roles(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<PersonQuery>,
) -> Response {
    let here = format!(
        "/admin/anvandare/roller?person={}",
        super::percent_encode(&q.person, &[])
    );
    match admin(&state, &headers, &here).await {
        Ok(user) => roles_page(&state, &user, &q.person, Outcome::default()).await,
        Err(r) => r,
    }
}

/// `POST /admin/anvandare/roller`: `person`, and one `roll=ROLE@UNIT` per role held.
pub(super) async fn set_roles(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let value = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.clone())
            .unwrap_or_default()
    };
    let person = value("person");
    let here = format!(
        "/admin/anvandare/roller?person={}",
        super::percent_encode(&person, &[])
    );
    let user = match form_sender(&state, &headers, &here, &value("csrf_token")).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let mut roles = Vec::new();
    let mut problems = Vec::new();
    for (_, v) in pairs.iter().filter(|(k, _)| k == "roll") {
        match v.split_once('@').map(|(r, u)| (r.parse::<Role>(), u)) {
            Some((Ok(role), unit)) => roles.push((role, unit.to_owned())),
            _ => problems.push(Problem {
                field: "roller".into(),
                message: format!("{v:?} är ingen roll i en enhet."),
            }),
        }
    }
    let done = match problems.is_empty() {
        true => state.kansli.admin_set_roles(&user, &person, &roles).await,
        false => Err(AdminError::Invalid(problems)),
    };
    let outcome = match done {
        Ok(()) => Outcome::done(format!(
            "Rollerna för {person} är sparade och gäller från nästa sidvisning."
        )),
        Err(e) => match Outcome::refused(e) {
            Ok(o) => o,
            Err(r) => return *r,
        },
    };
    roles_page(&state, &user, &person, outcome).await
}

// --- The outbox ------------------------------------------------------------------------------

#[derive(Serialize)]
struct OutboxPage<'a> {
    page_title: &'a str,
    municipality: String,
    user: &'a User,
    statuses: Vec<Choice>,
    status: String,
    status_label: String,
    messages: Vec<MessageVm>,
    /// The message the next, older page starts before, when there is one.
    older: Option<i32>,
    notice: Option<String>,
    errors: Vec<Problem>,
}

#[derive(Serialize)]
struct MessageVm {
    id: i32,
    status: String,
    failed: bool,
    to: String,
    subject: String,
    case_number: String,
    attempts: i32,
    last_error: String,
    created_at: String,
    next_attempt_at: String,
    sent_at: String,
}

/// A message status in Swedish.
fn status_label(status: &str) -> &str {
    match status {
        "pending" => "väntar",
        "failed" => "misslyckat",
        "sent" => "skickat",
        "no_recipients" => "utan mottagare",
        "superseded" => "ersatt",
        other => other,
    }
}

async fn outbox_page(
    state: &AppState,
    user: &User,
    status: &str,
    before: &str,
    mut outcome: Outcome,
) -> Response {
    let mut status = status.trim();
    if !status.is_empty() && OutboxStatus::from_code(status).is_none() {
        // An unknown status in the address: every message, and the problem.
        outcome.status = Some(StatusCode::BAD_REQUEST);
        outcome.errors.push(Problem {
            field: "status".into(),
            message: format!("Okänd status {status:?}; välj en i listan."),
        });
        status = "";
    }
    let before = match before.trim() {
        "" => None,
        id => match id.parse::<i32>() {
            Ok(id) if id > 0 => Some(id),
            _ => {
                // Not a message number: the newest messages, and the problem.
                outcome.status = Some(StatusCode::BAD_REQUEST);
                outcome.errors.push(Problem {
                    field: "fore".into(),
                    message: format!("{id:?} är inget meddelandenummer; visar de senaste."),
                });
                None
            }
        },
    };
    let filter = Some(status).filter(|s| !s.is_empty());
    let (messages, older): (Vec<MessageView>, Option<i32>) =
        match read(state.kansli.admin_messages_page(user, filter, before).await) {
            Ok(page) => page,
            Err(r) => return *r,
        };
    let mut statuses = vec![Choice {
        value: String::new(),
        label: "Alla".into(),
        selected: status.is_empty(),
    }];
    statuses.extend(OUTBOX_STATUSES.iter().map(|s| Choice {
        value: s.code(),
        label: status_label(&s.code()).to_owned(),
        selected: s.code() == status,
    }));
    let context = OutboxPage {
        page_title: "Utskick",
        municipality: municipality(state).await,
        user,
        statuses,
        status: status.to_owned(),
        status_label: match status {
            "" => "alla".to_owned(),
            s => status_label(s).to_owned(),
        },
        messages: messages
            .into_iter()
            .map(|m| MessageVm {
                id: m.id,
                failed: m.status == "failed",
                status: status_label(&m.status).to_owned(),
                to: m.to.unwrap_or_default(),
                // Subjects carry the number already; it is added only where one does not.
                case_number: m
                    .case_number
                    .filter(|n| !m.subject.as_deref().unwrap_or("").contains(n.as_str()))
                    .unwrap_or_default(),
                subject: m.subject.unwrap_or_default(),
                attempts: m.attempts,
                last_error: m.last_error.unwrap_or_default(),
                created_at: format_local(m.created_at),
                next_attempt_at: match m.status.as_str() {
                    "pending" => m.next_attempt_at.map(format_local).unwrap_or_default(),
                    _ => String::new(),
                },
                sent_at: m.sent_at.map(format_local).unwrap_or_default(),
            })
            .collect(),
        older,
        notice: outcome.notice.clone(),
        errors: outcome.errors.clone(),
    };
    render_page(state, outcome.status(), "admin-utskick", &context)
}

#[derive(Deserialize)]
pub(super) struct StatusQuery {
    #[serde(default)]
    status: String,
    /// The page of messages older than this one.
    #[serde(default)]
    fore: String,
}

/// `GET /admin/utskick[?status=failed][&fore=ID]`
pub(super) async fn outbox(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<StatusQuery>,
) -> Response {
    let here = format!(
        "/admin/utskick?status={}",
        super::percent_encode(&q.status, &[])
    );
    match admin(&state, &headers, &here).await {
        Ok(user) => outbox_page(&state, &user, &q.status, &q.fore, Outcome::default()).await,
        Err(r) => r,
    }
}

#[derive(Deserialize)]
pub(super) struct RetryForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    id: String,
    #[serde(default)]
    status: String,
}

/// `POST /admin/utskick`: a failed message queued again ("Försök igen").
pub(super) async fn retry(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<RetryForm>,
) -> Response {
    let user = match form_sender(&state, &headers, "/admin/utskick", &form.csrf_token).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    let done = match form.id.trim().parse::<i32>() {
        Ok(id) => state
            .kansli
            .admin_retry_message(&user, id)
            .await
            .map(|_| format!("Meddelande {id} är köat igen och skickas vid nästa utskick.")),
        Err(_) => Err(AdminError::Invalid(vec![Problem {
            field: String::new(),
            message: format!("{:?} är inget meddelandenummer.", form.id),
        }])),
    };
    let outcome = match done {
        Ok(notice) => Outcome::done(notice),
        Err(e) => match Outcome::refused(e) {
            Ok(o) => o,
            Err(r) => return *r,
        },
    };
    outbox_page(&state, &user, &form.status, "", outcome).await
}
