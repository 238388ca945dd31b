//! `/enkat/{token}`: the questionnaire form for the chef, and the sign-off page for the
//! förvaltningschef, reached by their personal links. Pages are built from view models so the
//! templates stay plain; every value is escaped by the HTML registry.

use std::borrow::Cow;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use super::{AppState, municipality};
use crate::questionnaire::{Answer, Answers, ColumnKind, FieldError, Fields, Kind, Questionnaire};
use crate::service::{LinkView, Saved, ServiceError};

#[derive(Serialize, Clone)]
struct Page<'a> {
    page_title: &'a str,
    municipality: String,
    title: String,
    intro: String,
    unit_name: String,
    case_number: String,
    action: String,
    sections: Vec<SectionVm>,
    errors: Vec<FieldError>,
    error_count: usize,
    notice: Option<&'a str>,
    returned_comment: Option<String>,
    hidden: Vec<Hidden>,
    heading: &'a str,
    message: Cow<'a, str>,
}

#[derive(Serialize, Clone)]
struct Hidden {
    name: String,
    value: String,
}

#[derive(Serialize, Clone)]
struct SectionVm {
    id: String,
    title: String,
    questions: Vec<QuestionVm>,
}

#[derive(Serialize, Default, Clone)]
struct QuestionVm {
    id: String,
    text: String,
    help: Option<String>,
    required: bool,
    error: Option<String>,
    is_single_input: bool,
    is_text: bool,
    is_integer: bool,
    is_date: bool,
    is_jnd: bool,
    max_length: usize,
    value: String,
    comment: String,
    input_type: &'static str,
    options: Vec<OptionVm>,
    fields: Vec<FieldVm>,
    columns: Vec<String>,
    rows: Vec<RowVm>,
    answer_text: String,
}

#[derive(Serialize, Clone)]
struct OptionVm {
    value: String,
    input_id: String,
    checked: bool,
}

#[derive(Serialize, Clone)]
struct FieldVm {
    name: String,
    label: String,
    value: String,
    input_type: &'static str,
    error: Option<String>,
}

#[derive(Serialize, Clone)]
struct RowVm {
    cells: Vec<FieldVm>,
}

fn input_type(kind: &ColumnKind) -> &'static str {
    match kind {
        ColumnKind::Date => "date",
        _ => "text",
    }
}

/// The view of a questionnaire with its answers (and the problems to show by each field).
fn sections(q: &Questionnaire, answers: &Answers, errors: &[FieldError]) -> Vec<SectionVm> {
    let error_of = |field: &str| {
        errors
            .iter()
            .find(|e| e.field == field)
            .map(|e| e.message.clone())
    };
    q.sections
        .iter()
        .map(|s| SectionVm {
            id: s.id.clone(),
            title: s.title.clone(),
            questions: s
                .questions
                .iter()
                .map(|question| {
                    let answer = answers.get(&question.id);
                    let mut vm = QuestionVm {
                        id: question.id.clone(),
                        text: question.text.clone(),
                        help: question.help.clone(),
                        required: question.required,
                        error: errors
                            .iter()
                            .find(|e| e.question == question.id)
                            .map(|e| e.message.clone()),
                        answer_text: answer.map(Answer::display).unwrap_or_default(),
                        input_type: "radio",
                        ..Default::default()
                    };
                    let option = |value: &str, checked: bool, i: usize| OptionVm {
                        value: value.to_owned(),
                        input_id: if i == 0 {
                            format!("f-{}", question.id)
                        } else {
                            format!("f-{}-{i}", question.id)
                        },
                        checked,
                    };
                    match (&question.kind, answer) {
                        (Kind::Jnd, a) => {
                            vm.is_jnd = true;
                            let (value, comment) = match a {
                                Some(Answer::Jnd { value, comment }) => {
                                    (value.clone().unwrap_or_default(), comment.clone())
                                }
                                _ => Default::default(),
                            };
                            vm.options = ["ja", "nej", "delvis"]
                                .iter()
                                .enumerate()
                                .map(|(i, v)| option(v, *v == value, i))
                                .collect();
                            vm.comment = comment;
                        }
                        (Kind::Text { max_length }, a) => {
                            vm.is_single_input = true;
                            vm.is_text = true;
                            vm.max_length = *max_length;
                            if let Some(Answer::Text { value }) = a {
                                vm.value = value.clone();
                            }
                        }
                        (Kind::Integer { .. }, a) => {
                            vm.is_single_input = true;
                            vm.is_integer = true;
                            if let Some(Answer::Integer { value }) = a {
                                vm.value = value.to_string();
                            }
                        }
                        (Kind::Date, a) => {
                            vm.is_single_input = true;
                            vm.is_date = true;
                            if let Some(Answer::Date { value }) = a {
                                vm.value = value.to_string();
                            }
                        }
                        (Kind::Choice { options } | Kind::MultiChoice { options }, a) => {
                            let chosen = match a {
                                Some(Answer::Choices { values }) => values.clone(),
                                _ => Vec::new(),
                            };
                            vm.input_type = if matches!(question.kind, Kind::MultiChoice { .. }) {
                                "checkbox"
                            } else {
                                "radio"
                            };
                            vm.options = options
                                .iter()
                                .enumerate()
                                .map(|(i, o)| option(o, chosen.contains(o), i))
                                .collect();
                        }
                        (Kind::Group { fields }, a) => {
                            let values = match a {
                                Some(Answer::Group { values }) => values.clone(),
                                _ => Default::default(),
                            };
                            vm.fields = fields
                                .iter()
                                .map(|f| {
                                    let name = format!("{}.{}", question.id, f.id);
                                    FieldVm {
                                        error: error_of(&name),
                                        value: values.get(&f.id).cloned().unwrap_or_default(),
                                        label: f.label.clone(),
                                        input_type: input_type(&f.kind),
                                        name,
                                    }
                                })
                                .collect();
                        }
                        (Kind::Table { columns, .. }, a) => {
                            let rows = match a {
                                Some(Answer::Table { rows }) => rows.clone(),
                                _ => Vec::new(),
                            };
                            vm.columns = columns.iter().map(|c| c.label.clone()).collect();
                            // Two empty rows to write in, and no script needed for more: save
                            // the draft and two more appear.
                            let count = (rows.len() + 2).max(3);
                            vm.rows = (0..count)
                                .map(|r| RowVm {
                                    cells: columns
                                        .iter()
                                        .map(|c| FieldVm {
                                            name: format!("{}.{r}.{}", question.id, c.id),
                                            label: format!("{}, rad {}", c.label, r + 1),
                                            value: rows
                                                .get(r)
                                                .and_then(|row| row.get(&c.id))
                                                .cloned()
                                                .unwrap_or_default(),
                                            input_type: input_type(&c.kind),
                                            error: None,
                                        })
                                        .collect(),
                                })
                                .collect();
                        }
                    }
                    vm
                })
                .collect(),
        })
        .collect()
}

/// The posted answers again, as hidden fields of the review page.
fn hidden(fields: &Fields) -> Vec<Hidden> {
    fields
        .iter()
        .filter(|(name, _)| name.as_str() != "atgard")
        .flat_map(|(name, values)| {
            values.iter().map(move |v| Hidden {
                name: name.clone(),
                value: v.clone(),
            })
        })
        .collect()
}

fn unavailable() -> Response {
    (StatusCode::SERVICE_UNAVAILABLE, "enkäten är inte i gång").into_response()
}

fn page(state: &AppState, status: StatusCode, name: &str, context: &Page<'_>) -> Response {
    let counted;
    let context = if context.error_count != context.errors.len() {
        counted = Page {
            error_count: context.errors.len(),
            ..context.clone()
        };
        &counted
    } else {
        context
    };
    super::render_page(state, status, name, context)
}

impl<'a> Page<'a> {
    fn new(municipality: String, view: Option<&LinkView>, action: String) -> Self {
        Self {
            page_title: "Uppföljningsenkät",
            municipality,
            title: view
                .map(|v| v.questionnaire.title.clone())
                .unwrap_or_default(),
            intro: view
                .map(|v| v.questionnaire.intro.clone())
                .unwrap_or_default(),
            unit_name: view.map(|v| v.unit_name.clone()).unwrap_or_default(),
            case_number: view.map(|v| v.case_number.clone()).unwrap_or_default(),
            action,
            sections: Vec::new(),
            errors: Vec::new(),
            error_count: 0,
            notice: None,
            returned_comment: view.and_then(LinkView::returned_comment).map(str::to_owned),
            hidden: Vec::new(),
            heading: "",
            message: Cow::Borrowed(""),
        }
    }
}

/// A link whose round or answer is over: 410, with why and whom to ask.
fn closed(state: &AppState, municipality: String, why: String) -> Response {
    let mut p = Page::new(municipality, None, String::new());
    p.page_title = "Enkäten är stängd";
    p.heading = "Enkäten är stängd";
    p.message = why.into();
    page(state, StatusCode::GONE, "ogiltig", &p)
}

fn not_found(state: &AppState, municipality: String) -> Response {
    let mut p = Page::new(municipality, None, String::new());
    p.page_title = "Länken gäller inte";
    page(state, StatusCode::NOT_FOUND, "ogiltig", &p)
}

/// GET: the form, the sign-off page, or a note that the answer is in.
pub(super) async fn show(State(state): State<AppState>, Path(token): Path<String>) -> Response {
    let Some(engine) = state.engine.as_ref() else {
        return unavailable();
    };
    let municipality = municipality(&state).await;
    let view = match engine.open_link(&token).await {
        Ok(v) => v,
        Err(ServiceError::NotFound(_)) => return not_found(&state, municipality),
        Err(ServiceError::Final(why)) => return closed(&state, municipality, why),
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    let mut p = Page::new(municipality, Some(&view), format!("/enkat/{token}"));
    p.sections = sections(&view.questionnaire, &view.answers, &[]);
    if view.purpose == "signoff" {
        if view.awaiting_signoff() {
            p.page_title = "Godkänn svaret";
            return page(&state, StatusCode::OK, "attest", &p);
        }
        p.heading = "Inget att godkänna just nu";
        p.message =
            "Svaret är inte inskickat för godkännande. Du får ett nytt meddelande när det är det."
                .into();
        return page(&state, StatusCode::OK, "klart", &p);
    }
    if !view.editable() {
        p.heading = "Svaret är inskickat";
        p.message = "Svaret väntar på förvaltningschefens godkännande. Du får ett meddelande om det skickas tillbaka.".into();
        return page(&state, StatusCode::OK, "klart", &p);
    }
    page(&state, StatusCode::OK, "enkat", &p)
}

/// POST: save a draft, review, submit; or approve, return.
pub(super) async fn post(
    State(state): State<AppState>,
    Path(token): Path<String>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Response {
    let Some(engine) = state.engine.as_ref() else {
        return unavailable();
    };
    let municipality = municipality(&state).await;
    let mut fields = Fields::new();
    for (name, value) in pairs {
        fields.entry(name).or_default().push(value);
    }
    let action = fields
        .get("atgard")
        .and_then(|v| v.first())
        .cloned()
        .unwrap_or_default();
    let view = match engine.open_link(&token).await {
        Ok(v) => v,
        Err(ServiceError::NotFound(_)) => return not_found(&state, municipality),
        Err(ServiceError::Final(why)) => return closed(&state, municipality, why),
        Err(e) => return super::ApiError::from(e).into_response(),
    };
    let mut p = Page::new(municipality, Some(&view), format!("/enkat/{token}"));
    if view.purpose == "signoff" {
        let comment = fields
            .get("kommentar")
            .and_then(|v| v.first())
            .cloned()
            .unwrap_or_default();
        let approve = action == "approve";
        return match engine.sign_off(&token, approve, &comment).await {
            Ok(_) => {
                p.heading = if approve {
                    "Svaret är godkänt"
                } else {
                    "Svaret är skickat tillbaka"
                };
                p.message = if approve {
                    "Tack! Svaret är godkänt och går vidare till sammanställningen."
                } else {
                    "Den som svarat har fått din kommentar och kan komplettera svaret."
                }
                .into();
                page(&state, StatusCode::OK, "klart", &p)
            }
            Err(ServiceError::Invalid(message)) => {
                p.sections = sections(&view.questionnaire, &view.answers, &[]);
                p.errors = vec![FieldError {
                    field: "kommentar".into(),
                    question: String::new(),
                    message,
                }];
                page(&state, StatusCode::UNPROCESSABLE_ENTITY, "attest", &p)
            }
            Err(ServiceError::Conflict(_)) => {
                p.heading = "Inget att godkänna just nu";
                p.message = "Svaret har redan hanterats.".into();
                page(&state, StatusCode::CONFLICT, "klart", &p)
            }
            // The workflow moved on since the page was shown: say why in Swedish, with the
            // button's name. The steps the ärende takes now are not this page's to list.
            Err(ServiceError::Refused(r)) => {
                let label = match approve {
                    true => "Godkänn svaret",
                    false => "Skicka tillbaka för komplettering",
                };
                p.heading = "Inget att godkänna just nu";
                p.message = r.swedish_naming_steps(label, &|_| None).into();
                page(&state, StatusCode::CONFLICT, "klart", &p)
            }
            Err(ServiceError::NotFound(_)) => not_found(&state, p.municipality),
            Err(e) => super::ApiError::from(e).into_response(),
        };
    }
    if action == "granska" {
        // The draft is saved, then checked as a submission would be: only a complete answer
        // reaches the review page, whose button submits it.
        return match engine.save_answers(&token, &fields, false).await {
            Ok((_, answers)) => {
                let (_, errors) = view.questionnaire.check(&fields, true);
                p.sections = sections(&view.questionnaire, &answers, &errors);
                if errors.is_empty() {
                    p.page_title = "Granska svaret";
                    p.hidden = hidden(&fields);
                    page(&state, StatusCode::OK, "granska", &p)
                } else {
                    p.errors = errors;
                    page(&state, StatusCode::UNPROCESSABLE_ENTITY, "enkat", &p)
                }
            }
            Err(e) => refused(&state, p, e, "Granska och skicka in"),
        };
    }
    match engine
        .save_answers(&token, &fields, action == "skicka")
        .await
    {
        Ok((Saved::Submitted, _)) => {
            p.heading = "Tack för svaret!";
            p.message = "Svaret är inskickat och registrerat i ärendet. Förvaltningschefen har fått en länk för att godkänna det.".into();
            page(&state, StatusCode::OK, "klart", &p)
        }
        Ok((Saved::Draft(errors), answers)) => {
            p.sections = sections(&view.questionnaire, &answers, &errors);
            p.notice = Some("Utkastet är sparat. Du kan fortsätta nu eller senare med samma länk.");
            p.errors = errors;
            let status = if p.errors.is_empty() {
                StatusCode::OK
            } else {
                StatusCode::UNPROCESSABLE_ENTITY
            };
            page(&state, status, "enkat", &p)
        }
        Ok((Saved::Refused(errors), answers)) => {
            p.sections = sections(&view.questionnaire, &answers, &errors);
            p.errors = errors;
            page(&state, StatusCode::UNPROCESSABLE_ENTITY, "enkat", &p)
        }
        Err(e) => {
            let label = match action == "skicka" {
                true => "Skicka in svaret",
                false => "Spara utkast",
            };
            refused(&state, p, e, label)
        }
    }
}

/// A save the service refused: already submitted, a step the workflow no longer takes, a dead
/// link, or a fault. `label` is what the button pressed says.
fn refused(state: &AppState, mut p: Page<'_>, e: ServiceError, label: &str) -> Response {
    match e {
        ServiceError::Conflict(_) => {
            p.heading = "Svaret är redan inskickat";
            p.message = "Svaret väntar på förvaltningschefens godkännande.".into();
            page(state, StatusCode::CONFLICT, "klart", &p)
        }
        // The steps the ärende takes now are not this page's to list.
        ServiceError::Refused(r) => {
            p.heading = "Svaret kan inte tas emot just nu";
            p.message = r.swedish_naming_steps(label, &|_| None).into();
            page(state, StatusCode::CONFLICT, "klart", &p)
        }
        ServiceError::NotFound(_) => not_found(state, p.municipality),
        e => super::ApiError::from(e).into_response(),
    }
}
