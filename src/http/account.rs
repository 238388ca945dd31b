//! The user's own account page: who they are, in which roles, and their personal API tokens
//! for integrations (created with a name and an optional lifetime, shown once, revoked at once).

use axum::Form;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};

use super::staff::{csrf_refusal, user};
use super::{AppState, municipality, render_page};
use crate::domain::calendar::format_local;
use crate::service::ServiceError;
use crate::service::accounts::User;

const HERE: &str = "/konto";

#[derive(Serialize)]
struct AccountPage<'a> {
    page_title: &'a str,
    municipality: String,
    user: &'a User,
    roles: Vec<String>,
    tokens: Vec<TokenVm>,
    new_token: Option<String>,
    notice: Option<String>,
    error: Option<String>,
    name: String,
    days: String,
}

#[derive(Serialize)]
struct TokenVm {
    id: i32,
    name: String,
    created: String,
    state: String,
    live: bool,
    used: String,
}

#[derive(Default)]
struct Outcome {
    status: Option<StatusCode>,
    new_token: Option<String>,
    notice: Option<String>,
    error: Option<String>,
    name: String,
    days: String,
}

async fn page(state: &AppState, user: &User, outcome: Outcome) -> Response {
    let now = state.kansli.now();
    let tokens = match state.kansli.api_tokens(&user.username).await {
        Ok(t) => t,
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    let context = AccountPage {
        page_title: "Mitt konto",
        municipality: municipality(state).await,
        user,
        roles: user
            .roles
            .iter()
            .map(|(r, u)| format!("{} i {u}", r.label()))
            .collect(),
        tokens: tokens
            .into_iter()
            .map(|t| {
                let expired = t.expires_at.is_some_and(|e| e <= now);
                TokenVm {
                    id: t.id,
                    created: format_local(t.created_at),
                    state: match (t.revoked_at, t.expires_at) {
                        (Some(r), _) => format!("återkallad {}", format_local(r)),
                        (None, Some(e)) if expired => format!("gick ut {}", format_local(e)),
                        (None, Some(e)) => format!("giltig till {}", format_local(e)),
                        (None, None) => "giltig tills den återkallas".to_owned(),
                    },
                    live: t.revoked_at.is_none() && !expired,
                    used: t.last_used_at.map(format_local).unwrap_or_default(),
                    name: t.name,
                }
            })
            .collect(),
        new_token: outcome.new_token,
        notice: outcome.notice,
        error: outcome.error,
        name: outcome.name,
        days: outcome.days,
    };
    render_page(
        state,
        outcome.status.unwrap_or(StatusCode::OK),
        "konto",
        &context,
    )
}

/// `GET /konto`
pub(super) async fn show(State(state): State<AppState>, headers: HeaderMap) -> Response {
    match user(&state, &headers, HERE).await {
        Ok(user) => page(&state, &user, Outcome::default()).await,
        Err(r) => r,
    }
}

#[derive(Deserialize)]
pub(super) struct TokenForm {
    #[serde(default)]
    csrf_token: String,
    #[serde(default)]
    atgard: String,
    #[serde(default)]
    namn: String,
    #[serde(default)]
    dagar: String,
    #[serde(default)]
    id: String,
}

/// `POST /konto`: `atgard=skapa` (a token with `namn` and `dagar`) or `atgard=aterkalla`
/// (the token `id`).
pub(super) async fn act(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<TokenForm>,
) -> Response {
    let user = match user(&state, &headers, HERE).await {
        Ok(u) => u,
        Err(r) => return r,
    };
    if let Some(stale) = csrf_refusal(&user, &form.csrf_token) {
        return stale;
    }
    let kansli = &state.kansli;
    let outcome = match form.atgard.as_str() {
        "skapa" => {
            let days = match form.dagar.trim() {
                "" => Ok(None),
                d => d
                    .parse::<u32>()
                    .ok()
                    .filter(|d| (1..=3650).contains(d))
                    .map(Some)
                    .ok_or_else(|| {
                        ServiceError::Invalid(format!(
                            "Giltig i dagar: {d:?} är inte ett antal dagar mellan 1 och 3650"
                        ))
                    }),
            };
            let made = match days {
                Ok(days) => {
                    kansli
                        .create_api_token(&user.username, &form.namn, days)
                        .await
                }
                Err(e) => Err(e),
            };
            match made {
                Ok((row, token)) => Outcome {
                    new_token: Some(token),
                    notice: Some(format!("API-nyckeln {} är skapad.", row.name)),
                    ..Default::default()
                },
                Err(ServiceError::Invalid(m)) => Outcome {
                    status: Some(StatusCode::BAD_REQUEST),
                    error: Some(m),
                    name: form.namn.clone(),
                    days: form.dagar.clone(),
                    ..Default::default()
                },
                Err(e) => return super::ApiError::from(e).into_response(),
            }
        }
        "aterkalla" => {
            let id = form.id.trim().parse::<i32>().unwrap_or(0);
            match kansli.revoke_api_token(&user.username, id).await {
                Ok(()) => Outcome {
                    notice: Some("API-nyckeln är återkallad.".into()),
                    ..Default::default()
                },
                Err(ServiceError::NotFound(_)) => Outcome {
                    status: Some(StatusCode::NOT_FOUND),
                    error: Some("Du har ingen giltig API-nyckel med det numret.".into()),
                    ..Default::default()
                },
                Err(e) => return super::ApiError::from(e).into_response(),
            }
        }
        _ => Outcome {
            status: Some(StatusCode::BAD_REQUEST),
            error: Some("Okänd åtgärd.".into()),
            ..Default::default()
        },
    };
    page(&state, &user, outcome).await
}
