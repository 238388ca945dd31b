//! A step's emails: who receives them, what their templates are given, and the rows that
//! queue them (a message per recipient, with a personal link when the effect asks for one).
//! Composing is pure, so a single step writes the rows one by one and a round writes a whole
//! batch's at once.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};

use super::Engine;
use crate::domain::calendar::local_date;
use crate::domain::organisation::Role;
use crate::mail::Address;
use crate::render::MessageContext;
use crate::service::ServiceError;
use crate::service::links;
use crate::service::mail::{municipality_of, new_message_id};
use crate::store::{CaseRow, InstanceRow, NewInvitation, NewOutbox, OrgSnapshot, OutboxStatus, Tx};
use crate::workflow::model::{LinkPurpose, Recipient};
use crate::workflow::{Decision, Workflow};

/// A message ready to queue, with the personal link it carries.
pub(super) struct Queued {
    pub(super) invitation: Option<NewInvitation>,
    pub(super) outbox: NewOutbox,
}

/// Resolves an email's recipients to names and addresses from the organisation.
fn recipients(
    org: &OrgSnapshot,
    to: &[Recipient],
    unit: Option<&str>,
    case: Option<&CaseRow>,
) -> Vec<Address> {
    let unit_id = unit
        .and_then(|u| org.units.iter().find(|x| x.code == u))
        .map(|u| u.id);
    let mut out: Vec<Address> = Vec::new();
    let mut push = |name: &str, email: &str| {
        if !out.iter().any(|a| a.email == email) {
            out.push(Address {
                name: name.to_owned(),
                email: email.to_owned(),
            });
        }
    };
    for r in to {
        match r {
            Recipient::Handlaggare => {
                let person = case
                    .and_then(|c| c.handlaggare_id)
                    .and_then(|id| org.people.iter().find(|p| p.id == id));
                match person {
                    Some(p) => push(&p.name, &p.email),
                    None => {
                        for p in holders(org, Role::Handlaggare, None) {
                            push(&p.0, &p.1);
                        }
                    }
                }
            }
            Recipient::Role(role) => {
                for p in holders(org, *role, unit_id) {
                    push(&p.0, &p.1);
                }
            }
            Recipient::Unit => {
                if let Some(u) = unit.and_then(|u| org.units.iter().find(|x| x.code == u))
                    && let Some(email) = &u.email
                {
                    push(&u.name, email);
                }
            }
        }
    }
    out
}

fn holders(org: &OrgSnapshot, role: Role, unit_id: Option<i32>) -> Vec<(String, String)> {
    org.roles
        .iter()
        .filter(|r| r.role == role.code() && unit_id.is_none_or(|u| r.unit_id == u))
        .filter_map(|r| org.people.iter().find(|p| p.id == r.person_id))
        .map(|p| (p.name.clone(), p.email.clone()))
        .collect()
}

/// A file in the store attached to a queued message, as the outbox row lists it.
#[derive(Debug, Clone, Serialize)]
pub(super) struct StoredAttachment {
    pub(super) name: String,
    pub(super) media_type: String,
    pub(super) sha256: String,
}

/// What a step's email is written from.
pub(super) struct Letter<'a> {
    pub(super) org: &'a OrgSnapshot,
    pub(super) workflow: &'a Workflow,
    pub(super) instance: &'a InstanceRow,
    pub(super) decision: &'a Decision,
    pub(super) case: Option<&'a CaseRow>,
    pub(super) deadline: Option<DateTime<Utc>>,
}

impl Letter<'_> {
    /// The typed context for one recipient.
    fn context(&self, recipient: &Address, base_url: &str) -> MessageContext {
        let org = self.org;
        let vars = &self.decision.variables;
        let text = |k: &str| match vars.get(k) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(v) => v.to_string(),
        };
        let handlaggare = self
            .case
            .and_then(|c| c.handlaggare_id)
            .and_then(|id| org.people.iter().find(|p| p.id == id));
        let unit = self
            .instance
            .unit_code
            .as_deref()
            .and_then(|u| org.units.iter().find(|x| x.code == u));
        MessageContext {
            municipality: municipality_of(org).name,
            kommun: municipality_of(org),
            case_number: text("case_number"),
            case_title: self
                .case
                .map(|c| c.public_title.clone())
                .unwrap_or_else(|| self.workflow.title.clone()),
            year: text("year"),
            unit_name: unit.map(|u| u.name.clone()).unwrap_or_default(),
            recipient_name: recipient.name.clone(),
            // Without a personal link (the effect asks for none), the service's start page.
            link: format!("{}/", base_url.trim_end_matches('/')),
            deadline: self
                .deadline
                .map(|d| local_date(d).to_string())
                .unwrap_or_default(),
            handlaggare_name: handlaggare.map(|p| p.name.clone()).unwrap_or_default(),
            handlaggare_email: handlaggare.map(|p| p.email.clone()).unwrap_or_default(),
            // The approver's comment, from the variable the workflow's questionnaire names.
            comment: self
                .workflow
                .questionnaire
                .as_ref()
                .map(|flow| text(&flow.comment))
                .unwrap_or_default(),
        }
    }
}

impl Engine {
    /// The messages of an email effect: one per recipient the organisation resolves.
    pub(super) fn compose_email(
        &self,
        letter: &Letter<'_>,
        template: &str,
        to: &[Recipient],
        link: Option<LinkPurpose>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Queued>, ServiceError> {
        let recipients = recipients(
            letter.org,
            to,
            letter.instance.unit_code.as_deref(),
            letter.case,
        );
        self.compose(letter, template, recipients, link, &[], now)
    }

    /// Renders a step's email for each recipient and queues it in the step's transaction.
    pub(super) async fn queue_email(
        &self,
        tx: &Tx,
        letter: &Letter<'_>,
        template: &str,
        to: &[Recipient],
        link: Option<LinkPurpose>,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        queue(tx, self.compose_email(letter, template, to, link, now)?).await
    }

    /// Queues one message from `template` per recipient, each with `attachments` (files in the
    /// store); with nobody to send to, a row that says so.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn queue_to(
        &self,
        tx: &Tx,
        letter: &Letter<'_>,
        template: &str,
        recipients: Vec<Address>,
        link: Option<LinkPurpose>,
        attachments: &[StoredAttachment],
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        let queued = self.compose(letter, template, recipients, link, attachments, now)?;
        queue(tx, queued).await
    }

    /// Renders one message from `template` per recipient; with nobody to send to, a row that
    /// says so. Nothing is written.
    fn compose(
        &self,
        letter: &Letter<'_>,
        template: &str,
        recipients: Vec<Address>,
        link: Option<LinkPurpose>,
        attachments: &[StoredAttachment],
        now: DateTime<Utc>,
    ) -> Result<Vec<Queued>, ServiceError> {
        let renderer = self.catalog.renderer().ok_or_else(|| {
            anyhow::anyhow!("email {template}: the workflows were loaded without their templates")
        })?;
        let municipality = letter.org.municipality.as_ref().ok_or_else(|| {
            anyhow::anyhow!(
                "email {template}: no municipality is imported, so there is no sender address"
            )
        })?;
        let from = Address {
            name: municipality.name.clone(),
            email: municipality.sender_email.clone(),
        };
        let reply_to = letter
            .case
            .and_then(|c| c.handlaggare_id)
            .and_then(|id| letter.org.people.iter().find(|p| p.id == id))
            .map(|p| Address {
                name: p.name.clone(),
                email: p.email.clone(),
            });
        let attachments = serde_json::to_string(attachments).map_err(anyhow::Error::from)?;
        if recipients.is_empty() {
            let context = letter.context(
                &Address {
                    name: String::new(),
                    email: String::new(),
                },
                &self.base_url,
            );
            return Ok(vec![Queued {
                invitation: None,
                outbox: NewOutbox {
                    instance_id: Some(letter.instance.id),
                    case_id: letter.instance.case_id,
                    template: template.to_owned(),
                    recipients: "[]".into(),
                    context: serde_json::to_string(&context).map_err(anyhow::Error::from)?,
                    status: OutboxStatus::NoRecipients,
                    at: now,
                    message_id: None,
                    sender: None,
                    reply_to: None,
                    recipient_email: None,
                    subject: None,
                    text_body: None,
                    html_body: None,
                    attachments: None,
                },
            }]);
        }
        let mut out = Vec::with_capacity(recipients.len());
        for recipient in recipients {
            let mut context = letter.context(&recipient, &self.base_url);
            let invitation = link.map(|purpose| {
                // A link of the recipient's own. The message is stored with a marker; the
                // dispatcher writes the link in when it sends (see `links`).
                let nonce = links::new_nonce();
                context.link = links::marker(&nonce);
                NewInvitation {
                    instance_id: letter.instance.id,
                    purpose: purpose.code().to_owned(),
                    token_sha256: links::token_hash(&self.link_secret.token(&nonce)),
                    nonce,
                    recipient_email: recipient.email.clone(),
                    at: now,
                }
            });
            let mut rendered = renderer
                .email(template, &context)
                .map_err(|e| anyhow::anyhow!("email {template}: {e}"))?;
            // Every message names its ärende, whatever the template says.
            if !context.case_number.is_empty() && !rendered.subject.contains(&context.case_number) {
                rendered.subject = format!("{} ({})", rendered.subject, context.case_number);
            }
            out.push(Queued {
                invitation,
                outbox: NewOutbox {
                    instance_id: Some(letter.instance.id),
                    case_id: letter.instance.case_id,
                    template: template.to_owned(),
                    recipients: json!([recipient]).to_string(),
                    context: serde_json::to_string(&context).map_err(anyhow::Error::from)?,
                    status: OutboxStatus::Pending,
                    at: now,
                    message_id: Some(new_message_id(&from.email)),
                    sender: Some(json!(from).to_string()),
                    reply_to: reply_to.as_ref().map(|r| json!(r).to_string()),
                    recipient_email: Some(recipient.email.clone()),
                    subject: Some(rendered.subject),
                    text_body: Some(rendered.text),
                    html_body: Some(rendered.html),
                    attachments: Some(attachments.clone()),
                },
            });
        }
        Ok(out)
    }
}

/// Writes composed messages, each link before its message.
async fn queue(tx: &Tx, queued: Vec<Queued>) -> Result<(), ServiceError> {
    for q in queued {
        if let Some(invitation) = q.invitation {
            tx.insert_invitation(invitation).await?;
        }
        tx.insert_outbox(q.outbox).await?;
    }
    Ok(())
}
