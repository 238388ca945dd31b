//! Answering the questionnaire through a personal link: the chef's draft and submission, the
//! förvaltningschef's approval or return. The link decides everything: which förvaltning's
//! answer it reaches and what its holder may do. A link that is forged or replaced by a newer
//! one reaches nothing and says nothing about why; one whose answer is approved or whose round
//! is compiled says so, and whom to ask.
//!
//! A save writes the answers and the steps they take the workflow (a first draft, the
//! submission) in one transaction; when a submission's step is refused, the answers are kept as
//! a draft, so nothing typed is lost. A sign-off is one step of its own.
//!
//! Which questionnaire, which states take answers and which events a save, a submission, an
//! approval and a return send are the workflow's own declaration (`questionnaire:` in its
//! file, [`AnswerFlow`]); nothing here names a state or an event.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value, json};

use super::links::token_hash;
use super::{Actor, Engine, Outcome, ServiceError};
use crate::domain::organisation::Role;
use crate::questionnaire::{Answer, Answers, FieldError, Fields, Kind, Questionnaire};
use crate::store::{InstanceRow, InvitationRow};
use crate::workflow::model::AnswerFlow;
use crate::workflow::{Sender, Workflow};

/// What a link reaches.
#[derive(Debug, Clone)]
pub struct LinkView {
    /// `answer` or `signoff`.
    pub purpose: String,
    /// The förvaltning's instance.
    pub instance: InstanceRow,
    /// The ärende's number.
    pub case_number: String,
    /// The förvaltning's name.
    pub unit_name: String,
    /// The questionnaire, in the version for the ärende's year.
    pub questionnaire: Questionnaire,
    /// The answers saved so far.
    pub answers: Answers,
    /// The approver's comment on a returned answer.
    pub comment: String,
    /// The link's row (for idempotency keys).
    invitation: InvitationRow,
    /// The instance's workflow, whose declaration says how answering moves it.
    workflow: Arc<Workflow>,
    flow: AnswerFlow,
}

impl LinkView {
    /// Whether the answer can be edited now: an answer link, in a state that takes answers.
    pub fn editable(&self) -> bool {
        self.purpose == "answer" && self.flow.takes_answers_in(&self.instance.state)
    }

    /// Whether the answer waits for sign-off.
    pub fn awaiting_signoff(&self) -> bool {
        self.instance.state == self.flow.awaiting_approval
    }

    /// The approver's comment, while the answer is back with the one who answers.
    pub fn returned_comment(&self) -> Option<&str> {
        (self.editable() && !self.comment.is_empty()).then_some(self.comment.as_str())
    }

    /// Who sends `event` now: the role the workflow gives it in the current state, else the
    /// role the link's purpose implies.
    fn sender(&self, event: &str) -> Sender {
        let fallback = if self.purpose == "signoff" {
            Role::Forvaltningschef
        } else {
            Role::Chef
        };
        Sender::Role(
            self.workflow
                .person_sending(&self.instance.state, event)
                .unwrap_or(fallback),
        )
    }
}

/// What a save did.
#[derive(Debug, Clone, Serialize)]
pub enum Saved {
    /// The draft was saved; there may be problems to show.
    Draft(Vec<FieldError>),
    /// The answer was submitted.
    Submitted,
    /// Not submitted: these answers are missing or wrong. The draft was saved.
    Refused(Vec<FieldError>),
}

impl Engine {
    /// Why a finished instance's link no longer works, in the words of its workflow's final
    /// state, with the handläggare to ask: `Final`, for the page to show. `None` while the
    /// instance runs.
    async fn closed(&self, instance: &InstanceRow) -> Result<Option<ServiceError>, ServiceError> {
        if instance.finished_at.is_none() {
            return Ok(None);
        }
        let Some(case_id) = instance.case_id else {
            return Ok(None);
        };
        let workflow = self.workflow_of_instance(instance.clone()).await?;
        let why = workflow
            .states
            .get(&instance.state)
            .and_then(|s| s.description.clone())
            .unwrap_or_else(|| instance.state.clone());
        let store = self.kansli().store();
        let number = self.kansli().case_number(case_id).await?;
        let org = store.org_snapshot().await?;
        let contact = store
            .case_by_id(case_id)
            .await?
            .and_then(|c| c.handlaggare_id)
            .and_then(|id| org.people.iter().find(|p| p.id == id))
            .map(|p| {
                format!(
                    " Kontakta handläggaren {}, {}, om du har frågor.",
                    p.name, p.email
                )
            })
            .unwrap_or_default();
        Ok(Some(ServiceError::Final(format!(
            "Enkäten är stängd: {why} (ärende {number}).{contact}"
        ))))
    }

    /// What a link reaches: `NotFound` for a link that never worked or was replaced (the same
    /// for each, so a guess learns nothing), `Final` with the reason for one whose round or
    /// answer is over.
    pub async fn open_link(&self, token: &str) -> Result<LinkView, ServiceError> {
        let gone = || ServiceError::NotFound("länken gäller inte".into());
        if token.len() != 64 || !token.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(gone());
        }
        let store = self.kansli().store();
        let hash = token_hash(token);
        let Some(invitation) = store.live_invitation(&hash).await? else {
            // A link that died with its round (or its approved answer) says so, and whom to
            // ask; one replaced by a newer link, or never given out, is simply not found.
            let closed = match store.invitation_by_token(&hash).await? {
                Some(dead) => match store.instance(dead.instance_id).await? {
                    Some(instance) => self.closed(&instance).await?,
                    None => None,
                },
                None => None,
            };
            return Err(closed.unwrap_or_else(gone));
        };
        let instance = store
            .instance(invitation.instance_id)
            .await?
            .ok_or_else(gone)?;
        if instance.finished_at.is_some() {
            return Err(self.closed(&instance).await?.unwrap_or_else(gone));
        }
        let case_id = instance.case_id.ok_or_else(gone)?;
        let case_number = self.kansli().case_number(case_id).await?;
        let workflow = self.workflow_of_instance(instance.clone()).await?;
        let flow = workflow.questionnaire.clone().ok_or_else(|| {
            anyhow::anyhow!(
                "workflow {} has a link but declares no questionnaire",
                workflow.id
            )
        })?;
        let vars: Map<String, Value> =
            serde_json::from_str(&instance.variables).unwrap_or_default();
        let year = vars.get("year").and_then(Value::as_i64).unwrap_or(0) as i32;
        let questionnaire = self
            .catalog()
            .questionnaires()
            .for_year(&flow.id, year)
            .cloned()
            .ok_or_else(|| anyhow::anyhow!("no questionnaire {} for {year}", flow.id))?;
        let mut answers: Answers = match store.response_of(instance.id).await? {
            Some(r) => serde_json::from_str(&r.answers).map_err(anyhow::Error::from)?,
            None => Answers::new(),
        };
        self.prefill(&questionnaire, &instance, case_id, &mut answers)
            .await?;
        let org = store.org_snapshot().await?;
        let unit_name = org
            .units
            .iter()
            .find(|u| Some(&u.code) == instance.unit_code.as_ref())
            .map(|u| u.name.clone())
            .unwrap_or_default();
        let comment = vars
            .get(&flow.comment)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        Ok(LinkView {
            purpose: invitation.purpose.clone(),
            instance,
            case_number,
            unit_name,
            questionnaire,
            answers,
            comment,
            invitation,
            workflow,
            flow,
        })
    }

    /// Fills an empty table that says `prefill_from` with last year's answer to that question,
    /// from the same förvaltning's answer in the ärende this one continues: last year's planned
    /// measures become this year's list to follow up. Columns are matched by id.
    async fn prefill(
        &self,
        questionnaire: &Questionnaire,
        instance: &InstanceRow,
        case_id: i32,
        answers: &mut Answers,
    ) -> Result<(), ServiceError> {
        let store = self.kansli().store();
        for question in questionnaire.questions() {
            let Kind::Table {
                columns,
                prefill_from: Some(from),
            } = &question.kind
            else {
                continue;
            };
            if answers.contains_key(&question.id) {
                continue;
            }
            let Some(previous) = store
                .case_by_id(case_id)
                .await?
                .and_then(|c| c.previous_case_id)
            else {
                continue;
            };
            let last_year = store
                .instances_of_case(previous)
                .await?
                .into_iter()
                .find(|i| i.unit_code == instance.unit_code);
            let Some(last_year) = last_year else { continue };
            let Some(response) = store.response_of(last_year.id).await? else {
                continue;
            };
            let old: Answers =
                serde_json::from_str(&response.answers).map_err(anyhow::Error::from)?;
            if let Some(Answer::Table { rows }) = old.get(from) {
                let rows: Vec<_> = rows
                    .iter()
                    .map(|row| {
                        row.iter()
                            .filter(|(k, _)| columns.iter().any(|c| &c.id == *k))
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect::<std::collections::BTreeMap<_, _>>()
                    })
                    .filter(|row| !row.is_empty())
                    .collect();
                if !rows.is_empty() {
                    answers.insert(question.id.clone(), Answer::Table { rows });
                }
            }
        }
        Ok(())
    }

    /// Saves posted answers through an answer link; `submit` also submits them. The answer
    /// document the submission registers is rendered before the transaction.
    pub async fn save_answers(
        &self,
        token: &str,
        fields: &Fields,
        submit: bool,
    ) -> Result<(Saved, Answers), ServiceError> {
        self.rendering_first(|| self.save_answers_once(token, fields, submit))
            .await
    }

    async fn save_answers_once(
        &self,
        token: &str,
        fields: &Fields,
        submit: bool,
    ) -> Result<(Saved, Answers), ServiceError> {
        let view = self.open_link(token).await?;
        if view.purpose != "answer" {
            return Err(ServiceError::NotFound("länken gäller inte".into()));
        }
        if !view.editable() {
            return Err(ServiceError::Conflict("svaret är redan inskickat".into()));
        }
        let (answers, errors) = view.questionnaire.check(fields, submit);
        let submitted = submit && errors.is_empty();
        let holder = Actor::new(format!("länk:{}", view.invitation.recipient_email));
        let store = self.kansli().store();
        let org = store.org_snapshot().await?;
        let json = serde_json::to_string(&answers).map_err(anyhow::Error::from)?;
        // The answer and the steps it takes the workflow are one transaction: a submitted
        // answer whose workflow did not move cannot be left behind by a crash between them.
        let mut attempt = 0;
        loop {
            let now = self.kansli().clock.now();
            let tx = store.begin().await?;
            tx.save_response(
                view.instance.id,
                (&view.questionnaire.id, view.questionnaire.version),
                &json,
                submitted,
                now,
            )
            .await?;
            let flow = &view.flow;
            let mut steps: Vec<(&str, Option<String>)> = Vec::new();
            // A save is recorded as a step only when it moves the instance (the first
            // draft); later drafts live in the response row alone.
            if let Some(draft) = &flow.draft
                && view.workflow.moves(&view.instance.state, draft)
            {
                steps.push((draft, None));
            }
            if submitted {
                // One submission per saved version of the answer: a double click registers
                // one handling.
                let key = format!("svar:{}:{}", view.instance.id, view.instance.row_version);
                steps.push((&flow.submit, Some(key)));
            }
            let mut retry = false;
            for (event, key) in &steps {
                let taken = self
                    .send_within(
                        &tx,
                        &org,
                        view.instance.id,
                        event,
                        &Map::new(),
                        view.sender(event),
                        &holder,
                        key.as_deref(),
                        now,
                    )
                    .await?;
                match taken {
                    Ok(_) => {}
                    Err(ServiceError::Conflict(_)) if attempt < 3 => {
                        retry = true;
                        break;
                    }
                    Err(e) => {
                        tx.rollback().await?;
                        if submitted {
                            // Nothing typed is lost: the answers stay, as a draft.
                            let keep = store.begin().await?;
                            keep.save_response(
                                view.instance.id,
                                (&view.questionnaire.id, view.questionnaire.version),
                                &json,
                                false,
                                now,
                            )
                            .await?;
                            keep.commit().await?;
                        }
                        return Err(e);
                    }
                }
            }
            if retry {
                tx.rollback().await?;
                attempt += 1;
                continue;
            }
            tx.commit().await?;
            break;
        }
        if !submit {
            return Ok((Saved::Draft(errors), answers));
        }
        if !errors.is_empty() {
            return Ok((Saved::Refused(errors), answers));
        }
        Ok((Saved::Submitted, answers))
    }

    /// Approves, or returns with a comment, the answer a sign-off link reaches.
    pub async fn sign_off(
        &self,
        token: &str,
        approve: bool,
        comment: &str,
    ) -> Result<Outcome, ServiceError> {
        let view = self.open_link(token).await?;
        if view.purpose != "signoff" {
            return Err(ServiceError::NotFound("länken gäller inte".into()));
        }
        if !view.awaiting_signoff() {
            return Err(ServiceError::Conflict(
                "svaret väntar inte på godkännande".into(),
            ));
        }
        let actor = Actor::new(format!("länk:{}", view.invitation.recipient_email));
        let key = format!("attest:{}:{}", view.instance.id, view.instance.row_version);
        if approve {
            return self
                .step(&view, &view.flow.approve, Map::new(), &actor, Some(&key))
                .await;
        }
        let comment = comment.trim();
        if comment.is_empty() {
            return Err(ServiceError::Invalid(
                "kommentar: skriv vad som behöver kompletteras".into(),
            ));
        }
        if comment.chars().count() > 2000 {
            return Err(ServiceError::Invalid("kommentar: högst 2000 tecken".into()));
        }
        let values = Map::from_iter([(view.flow.comment.clone(), json!(comment))]);
        self.step(&view, &view.flow.return_, values, &actor, Some(&key))
            .await
    }

    async fn step(
        &self,
        view: &LinkView,
        event: &str,
        values: Map<String, Value>,
        actor: &Actor,
        key: Option<&str>,
    ) -> Result<Outcome, ServiceError> {
        let sender = view.sender(event);
        let instance = self
            .kansli()
            .store()
            .instance(view.instance.id)
            .await?
            .ok_or_else(|| ServiceError::NotFound("länken gäller inte".into()))?;
        self.send_to(instance, event, values, sender, actor, key)
            .await
    }
}

/// One förvaltning's progress in the yearly follow-up.
#[derive(Debug, Clone, Serialize)]
pub struct UnitProgress {
    /// Unit code.
    pub unit_code: String,
    /// Unit name.
    pub unit_name: String,
    /// The state of its answer.
    pub state: String,
    /// What the state means.
    pub state_text: String,
    /// When the invitation went out.
    pub invited_at: chrono::DateTime<chrono::Utc>,
    /// When reminders were sent (the steps its workflow declares as `reminders`).
    pub reminders: Vec<chrono::DateTime<chrono::Utc>>,
    /// When the answer was last submitted.
    pub submitted_at: Option<chrono::DateTime<chrono::Utc>>,
    /// When the answer was approved (or the follow-up ended for it).
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Engine {
    /// Each förvaltning's progress in an ärende's follow-up.
    pub async fn progress(&self, case_number: &str) -> Result<Vec<UnitProgress>, ServiceError> {
        let book = super::diarium::SeriesBook::load(self.kansli()).await?;
        let case = self.kansli().case_row(&book, case_number).await?;
        let store = self.kansli().store();
        let org = store.org_snapshot().await?;
        let history = store.audit_of(case.id).await?;
        let mut out = Vec::new();
        for instance in store.instances_of_case(case.id).await? {
            let Some(unit_code) = instance.unit_code.clone() else {
                continue;
            };
            let workflow = self.workflow_of_instance(instance.clone()).await?;
            let state_text = workflow
                .states
                .get(&instance.state)
                .and_then(|s| s.description.clone())
                .unwrap_or_default();
            let Some(flow) = workflow.questionnaire.as_ref() else {
                continue;
            };
            // The history says when, however it came about (the form, a timer or `event send`).
            let steps = || {
                history
                    .iter()
                    .filter(|a| a.instance_id == Some(instance.id))
            };
            let reminders = steps()
                .filter(|a| flow.reminders.contains(&a.action))
                .map(|a| a.at)
                .collect();
            let submitted_at = steps()
                .filter(|a| a.action == flow.submit)
                .map(|a| a.at)
                .next_back();
            out.push(UnitProgress {
                unit_name: org
                    .units
                    .iter()
                    .find(|u| u.code == unit_code)
                    .map(|u| u.name.clone())
                    .unwrap_or_default(),
                unit_code,
                state: instance.state.clone(),
                state_text,
                invited_at: instance.created_at,
                reminders,
                submitted_at,
                finished_at: instance.finished_at,
            });
        }
        out.sort_by(|a, b| a.unit_code.cmp(&b.unit_code));
        Ok(out)
    }
}
