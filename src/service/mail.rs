//! Delivering the outbox. A [`Postman`] claims due messages by lease, hands each to the
//! [`Mailer`], and records what happened: sent; a transient failure retried later with
//! exponential backoff and jitter (the [`RetryPolicy`]); or, after a permanent failure or the
//! last attempt, failed, in the ärende's history and in a notice to the administrators.
//!
//! Delivery is at least once: a dispatcher that dies after the mail server accepted a message
//! but before it recorded that, leaves the message to be sent again when its lease runs out.
//! The copy carries the same Message-ID, fixed when the message was queued, so mail programs
//! and archives can tell it is the same message.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde_json::json;

use super::links::{self, LinkSecret};
use super::{Kansli, ServiceError};
use crate::domain::audit::Action;
use crate::domain::organisation::Role;
use crate::mail::{Address, Attachment, MailError, Mailer, OutgoingMessage};
use crate::render::{DELIVERY_FAILURE_TEMPLATE, DeliveryFailureContext, Municipality, Renderer};
use crate::store::{NewOutbox, OutboxFilter, OutboxRow, OutboxStatus};

/// A Message-ID unique to one queued message: random, in the sender's domain. Fixed when the
/// message is queued, so every delivery of it carries the same id.
pub(crate) fn new_message_id(sender: &str) -> String {
    let domain = sender.rsplit_once('@').map_or("kansli.invalid", |(_, d)| d);
    format!("<{:032x}.kansli@{domain}>", rand::random::<u128>())
}

/// The municipality as message footers show it.
pub(crate) fn municipality_of(org: &crate::store::OrgSnapshot) -> Municipality {
    let m = org.municipality.as_ref();
    Municipality {
        name: m.map(|m| m.name.clone()).unwrap_or_default(),
        email: m.map(|m| m.sender_email.clone()).unwrap_or_default(),
        phone: m.and_then(|m| m.phone.clone()).unwrap_or_default(),
        website: m.and_then(|m| m.website.clone()).unwrap_or_default(),
    }
}

/// How long a claimed message is held before another dispatcher may take it over.
pub const MESSAGE_LEASE: Duration = Duration::seconds(120);

/// How often and how patiently a transient failure is retried.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// The wait after the first failure.
    pub first_delay: Duration,
    /// The longest wait.
    pub max_delay: Duration,
    /// A share of the wait drawn at random and added, so many messages that failed together
    /// do not all come back at the same second (0.0 to 1.0).
    pub jitter: f64,
}

impl RetryPolicy {
    /// Eighteen attempts over about a day: after 1, 2, 4, … minutes, then every two hours.
    pub const DEFAULT: RetryPolicy = RetryPolicy {
        max_attempts: 18,
        first_delay: Duration::minutes(1),
        max_delay: Duration::hours(2),
        jitter: 0.2,
    };

    /// The wait after failed attempt number `attempt` (1-based); `random` in `[0, 1)`.
    pub fn delay(&self, attempt: u32, random: f64) -> Duration {
        let doubled = 2_i64.saturating_pow(attempt.saturating_sub(1).min(30));
        let base = self
            .first_delay
            .num_seconds()
            .saturating_mul(doubled)
            .min(self.max_delay.num_seconds());
        let extra = (base as f64 * self.jitter * random.clamp(0.0, 1.0)) as i64;
        Duration::seconds(base + extra)
    }
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// What one look at the outbox did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DispatchOutcome {
    /// A message was handled (sent, rescheduled or failed).
    Dispatched,
    /// Nothing was due.
    Empty,
}

/// A stored message, for `kansli mail list|show`.
#[derive(Debug, Clone, Serialize)]
pub struct MessageView {
    /// Outbox id.
    pub id: i32,
    /// Status.
    pub status: String,
    /// Template.
    pub template: String,
    /// The ärende's number.
    pub case_number: Option<String>,
    /// Recipient.
    pub to: Option<String>,
    /// Subject.
    pub subject: Option<String>,
    /// Message-ID.
    pub message_id: Option<String>,
    /// Attempts made.
    pub attempts: i32,
    /// Next attempt.
    pub next_attempt_at: Option<DateTime<Utc>>,
    /// When sent.
    pub sent_at: Option<DateTime<Utc>>,
    /// Last error.
    pub last_error: Option<String>,
    /// Queued at.
    pub created_at: DateTime<Utc>,
    /// The text part.
    pub text: Option<String>,
    /// The HTML part.
    pub html: Option<String>,
}

/// Delivers the outbox through a mailer.
#[derive(Debug, Clone)]
pub struct Postman {
    kansli: Kansli,
    mailer: Arc<dyn Mailer>,
    renderer: Option<Arc<Renderer>>,
    policy: RetryPolicy,
    owner: String,
    links: Option<(Arc<LinkSecret>, String)>,
}

impl Postman {
    /// A postman for `kansli`'s outbox. `renderer` writes the notices of failed deliveries;
    /// `owner` names this process in leases.
    pub fn new(
        kansli: Kansli,
        mailer: Arc<dyn Mailer>,
        renderer: Option<Arc<Renderer>>,
        owner: impl Into<String>,
    ) -> Self {
        Self {
            kansli,
            mailer,
            renderer,
            policy: RetryPolicy::DEFAULT,
            owner: owner.into(),
            links: None,
        }
    }

    /// Writes personal links into messages when it sends them, with the engine's secret and the
    /// server's address. Without it, a message that holds a link waits (it is not sent with a
    /// link that would not work).
    pub fn with_links(mut self, secret: Arc<LinkSecret>, base_url: &str) -> Self {
        self.links = Some((secret, base_url.to_owned()));
        self
    }

    /// With another retry policy.
    pub fn with_policy(mut self, policy: RetryPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Claims up to `limit` due messages for this postman.
    async fn claim(&self, now: DateTime<Utc>, limit: u64) -> Result<Vec<OutboxRow>, ServiceError> {
        Ok(self
            .kansli
            .store
            .claim_due_messages(&self.owner, now, MESSAGE_LEASE, limit)
            .await?)
    }

    /// Handles the next due message, if any.
    pub async fn try_dispatch_next(&self) -> Result<DispatchOutcome, ServiceError> {
        let now = self.kansli.clock.now();
        match self.claim(now, 1).await?.into_iter().next() {
            Some(message) => {
                self.deliver(message, now).await?;
                Ok(DispatchOutcome::Dispatched)
            }
            None => Ok(DispatchOutcome::Empty),
        }
    }

    /// Handles every message due now; returns how many were handled.
    pub async fn dispatch_all_pending(&self) -> Result<usize, ServiceError> {
        let mut handled = 0;
        loop {
            // Small batches, each well inside its lease even when every send times out, and
            // the time taken for each message: a retry is due after a wait, not after a batch.
            let claimed = self.claim(self.kansli.clock.now(), 8).await?;
            if claimed.is_empty() {
                return Ok(handled);
            }
            for message in claimed {
                self.deliver(message, self.kansli.clock.now()).await?;
                handled += 1;
            }
        }
    }

    /// Claims a due message, delivers it, and stops before recording the delivery, as a
    /// dispatcher killed at that moment would. For crash tests and nothing else.
    pub async fn deliver_and_abandon(&self) -> Result<bool, ServiceError> {
        let now = self.kansli.clock.now();
        let Some(message) = self.claim(now, 1).await?.into_iter().next() else {
            return Ok(false);
        };
        let outgoing = self.outgoing(&message).await?;
        Ok(self.mailer.send(&outgoing).await.is_ok())
    }

    /// Claims due messages and stops, as a dispatcher killed right after claiming would.
    pub async fn claim_and_abandon(&self) -> Result<usize, ServiceError> {
        let now = self.kansli.clock.now();
        Ok(self.claim(now, 1000).await?.len())
    }

    async fn deliver(&self, message: OutboxRow, now: DateTime<Utc>) -> Result<(), ServiceError> {
        let attempts = message.attempts + 1;
        let outcome = match self.outgoing(&message).await {
            Ok(outgoing) => self.mailer.send(&outgoing).await,
            Err(ServiceError::Invalid(e)) => Err(MailError::Permanent(e)),
            Err(ServiceError::Unexpected(e)) => Err(MailError::Transient(e.to_string())),
            Err(e) => return Err(e),
        };
        let store = &self.kansli.store;
        match outcome {
            Ok(()) => {
                if store
                    .mark_sent(message.id, &self.owner, attempts, now)
                    .await?
                {
                    tracing::info!(outbox = message.id, "message sent");
                }
            }
            Err(MailError::Transient(error)) if (attempts as u32) < self.policy.max_attempts => {
                let next = now + self.policy.delay(attempts as u32, rand::random::<f64>());
                tracing::warn!(outbox = message.id, attempts, %error, "delivery failed; will retry");
                store
                    .mark_retry(message.id, &self.owner, attempts, &error, next)
                    .await?;
            }
            Err(MailError::Transient(error) | MailError::Permanent(error)) => {
                self.give_up(&message, attempts, &error, now).await?;
            }
        }
        Ok(())
    }

    /// Marks a message failed, writes it into the ärende's history, and tells the admins, all
    /// in one transaction.
    async fn give_up(
        &self,
        message: &OutboxRow,
        attempts: i32,
        error: &str,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        tracing::error!(outbox = message.id, attempts, %error, "delivery failed for good");
        // Read before the transaction: it holds a connection, and must not wait for another.
        let org = self.kansli.store.org_snapshot().await?;
        let case_number = match message.case_id {
            Some(id) => Some(self.kansli.case_number(id).await?),
            None => None,
        };
        let tx = self.kansli.store.begin().await?;
        if !tx
            .mark_failed(message.id, &self.owner, attempts, error)
            .await?
        {
            return Ok(());
        }
        let to = message.recipient_email.clone().unwrap_or_default();
        tx.append_audit(
            message.case_id,
            "system",
            Action::EmailFailed,
            Some(format!("meddelande {} till {to}: {error}", message.id)),
            now,
        )
        .await?;
        // A notice that itself fails is not noticed again, or one bad address would loop.
        if message.template != DELIVERY_FAILURE_TEMPLATE
            && let Some(renderer) = &self.renderer
        {
            let kommun = municipality_of(&org);
            let context = DeliveryFailureContext {
                municipality: kommun.name.clone(),
                kommun: kommun.clone(),
                case_number: case_number.clone().unwrap_or_default(),
                message_id: message.id.to_string(),
                recipient: to.clone(),
                subject: message.subject.clone().unwrap_or_default(),
                attempts: attempts.to_string(),
                error: error.to_owned(),
            };
            let rendered = renderer
                .email(DELIVERY_FAILURE_TEMPLATE, &context)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let admins: Vec<Address> = org
                .roles
                .iter()
                .filter(|r| r.role == Role::Admin.code())
                .filter_map(|r| org.people.iter().find(|p| p.id == r.person_id))
                .map(|p| Address {
                    name: p.name.clone(),
                    email: p.email.clone(),
                })
                .collect();
            let from = Address {
                name: kommun.name.clone(),
                email: kommun.email.clone(),
            };
            for admin in admins {
                tx.insert_outbox(NewOutbox {
                    instance_id: message.instance_id,
                    case_id: message.case_id,
                    template: DELIVERY_FAILURE_TEMPLATE.to_owned(),
                    recipients: json!([admin]).to_string(),
                    context: serde_json::to_string(&context).map_err(anyhow::Error::from)?,
                    status: OutboxStatus::Pending,
                    at: now,
                    message_id: Some(format!(
                        "<{:032x}.kansli@{}>",
                        rand::random::<u128>(),
                        from.email
                            .rsplit_once('@')
                            .map_or("kansli.invalid", |(_, d)| d)
                    )),
                    sender: Some(json!(from).to_string()),
                    reply_to: None,
                    recipient_email: Some(admin.email.clone()),
                    subject: Some(rendered.subject.clone()),
                    text_body: Some(rendered.text.clone()),
                    html_body: Some(rendered.html.clone()),
                    attachments: Some("[]".into()),
                })
                .await?;
            }
        }
        tx.commit().await?;
        Ok(())
    }

    /// The stored message as the mailer takes it, with its attachments read from the store.
    async fn outgoing(&self, row: &OutboxRow) -> Result<OutgoingMessage, ServiceError> {
        let parse = |what: &str, text: &Option<String>| -> Result<Address, ServiceError> {
            let text = text.as_deref().ok_or_else(|| {
                ServiceError::Invalid(format!("message {} has no {what}", row.id))
            })?;
            serde_json::from_str(text)
                .map_err(|e| ServiceError::Invalid(format!("message {}: bad {what}: {e}", row.id)))
        };
        let to = serde_json::from_str::<Vec<Address>>(&row.recipients)
            .ok()
            .and_then(|mut list| (list.len() == 1).then(|| list.remove(0)))
            .ok_or_else(|| {
                ServiceError::Invalid(format!(
                    "message {} does not have exactly one recipient",
                    row.id
                ))
            })?;
        let reply_to = match &row.reply_to {
            Some(_) => Some(parse("reply-to", &row.reply_to)?),
            None => None,
        };
        #[derive(serde::Deserialize)]
        struct Stored {
            name: String,
            media_type: String,
            sha256: String,
        }
        let stored: Vec<Stored> = serde_json::from_str(row.attachments.as_deref().unwrap_or("[]"))
            .map_err(|e| {
                ServiceError::Invalid(format!("message {}: bad attachments: {e}", row.id))
            })?;
        let mut attachments = Vec::with_capacity(stored.len());
        for a in stored {
            let content = self.kansli.store.file(&a.sha256).await?.ok_or_else(|| {
                ServiceError::Invalid(format!(
                    "message {}: attachment {} is missing from the store",
                    row.id, a.name
                ))
            })?;
            attachments.push(Attachment {
                name: a.name,
                media_type: a.media_type,
                content,
            });
        }
        let text = row.text_body.clone().unwrap_or_default();
        let html = row.html_body.clone().unwrap_or_default();
        let (text, html) = match &self.links {
            Some((secret, base_url)) => (
                links::fill(&text, base_url, secret),
                links::fill(&html, base_url, secret),
            ),
            None if links::redact(&text) != text || links::redact(&html) != html => {
                return Err(ServiceError::Unexpected(anyhow::anyhow!(
                    "message {} holds a personal link, but this dispatcher has no link secret",
                    row.id
                )));
            }
            None => (text, html),
        };
        Ok(OutgoingMessage {
            message_id: row.message_id.clone().ok_or_else(|| {
                ServiceError::Invalid(format!("message {} has no Message-ID", row.id))
            })?,
            from: parse("sender", &row.sender)?,
            reply_to,
            to,
            subject: row.subject.clone().unwrap_or_default(),
            text,
            html,
            attachments,
        })
    }
}

impl Kansli {
    /// Stored messages, oldest first.
    pub async fn messages(
        &self,
        status: Option<&str>,
        case: Option<&str>,
    ) -> Result<Vec<MessageView>, ServiceError> {
        let case_id = match case {
            Some(number) => {
                let book = super::diarium::SeriesBook::load(self).await?;
                Some(self.case_row(&book, number).await?.id)
            }
            None => None,
        };
        let rows = self
            .store
            .list_outbox(&OutboxFilter {
                status: outbox_status(status)?,
                case_id,
                ..Default::default()
            })
            .await?;
        self.message_views(rows, false).await
    }

    /// A page of messages, newest first: at most `size` older than the message `before`
    /// (from the newest when `None`), of one status when given. Also says whether older ones
    /// are left.
    pub async fn messages_page(
        &self,
        status: Option<&str>,
        before: Option<i32>,
        size: u64,
    ) -> Result<(Vec<MessageView>, bool), ServiceError> {
        let mut rows = self
            .store
            .list_outbox(&OutboxFilter {
                status: outbox_status(status)?,
                limit: size + 1,
                before,
                newest_first: true,
                ..Default::default()
            })
            .await?;
        let more = rows.len() as u64 > size;
        rows.truncate(size as usize);
        Ok((self.message_views(rows, false).await?, more))
    }

    /// One stored message, whole.
    pub async fn message(&self, id: i32) -> Result<MessageView, ServiceError> {
        let row = self
            .store
            .outbox_row(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("message {id} does not exist")))?;
        self.message_view(row, true).await
    }

    /// Puts a failed message back in the queue, to be sent at once.
    pub async fn retry_message(
        &self,
        id: i32,
        actor: &super::Actor,
    ) -> Result<MessageView, ServiceError> {
        let row = self
            .store
            .outbox_row(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("message {id} does not exist")))?;
        let now = self.clock.now();
        let tx = self.store.begin().await?;
        if !tx.reset_failed(id, now).await? {
            return Err(ServiceError::Invalid(format!(
                "message {id} is {}, not failed; only a failed message can be retried",
                row.status.code()
            )));
        }
        tx.append_audit(
            row.case_id,
            actor.as_str(),
            Action::EmailQueuedAgain,
            Some(format!("meddelande {id}")),
            now,
        )
        .await?;
        tx.commit().await?;
        self.message(id).await
    }

    async fn message_view(&self, row: OutboxRow, whole: bool) -> Result<MessageView, ServiceError> {
        let mut views = self.message_views(vec![row], whole).await?;
        views
            .pop()
            .ok_or_else(|| anyhow::anyhow!("a message view went missing").into())
    }

    /// Views of stored messages, in their order, with their ärenden's numbers read at once.
    async fn message_views(
        &self,
        rows: Vec<OutboxRow>,
        whole: bool,
    ) -> Result<Vec<MessageView>, ServiceError> {
        let mut ids: Vec<i32> = rows.iter().filter_map(|r| r.case_id).collect();
        ids.sort_unstable();
        ids.dedup();
        let mut numbers = HashMap::with_capacity(ids.len());
        if !ids.is_empty() {
            let book = super::diarium::SeriesBook::load(self).await?;
            for case in self.store.cases_by_ids(&ids).await? {
                numbers.insert(case.id, book.render(&case)?);
            }
        }
        rows.into_iter()
            .map(|row| {
                let case_number = match row.case_id {
                    Some(id) => Some(numbers.get(&id).cloned().ok_or_else(|| {
                        ServiceError::NotFound(format!("ärende id {id} not found"))
                    })?),
                    None => None,
                };
                Ok(message_view(row, case_number, whole))
            })
            .collect()
    }
}

/// The status a filter names, refused by name when it names none.
fn outbox_status(code: Option<&str>) -> Result<Option<OutboxStatus>, ServiceError> {
    code.map(|c| {
        OutboxStatus::from_code(c.trim()).ok_or_else(|| {
            ServiceError::Invalid(format!(
                "status: {c:?} is none of pending, sent, failed, no_recipients"
            ))
        })
    })
    .transpose()
}

/// A stored message as it is shown, its ärende's number given.
fn message_view(row: OutboxRow, case_number: Option<String>, whole: bool) -> MessageView {
    MessageView {
        id: row.id,
        status: row.status.code(),
        template: row.template,
        case_number,
        to: row.recipient_email,
        subject: row.subject,
        message_id: row.message_id,
        attempts: row.attempts,
        next_attempt_at: row.next_attempt_at,
        sent_at: row.sent_at,
        last_error: row.last_error,
        created_at: row.created_at,
        // The stored message shows where its personal link was, never the link.
        text: if whole {
            row.text_body.as_deref().map(links::redact)
        } else {
            None
        },
        html: if whole {
            row.html_body.as_deref().map(links::redact)
        } else {
            None
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_up_to_its_ceiling_and_jitter_only_adds() {
        let p = RetryPolicy::DEFAULT;
        assert_eq!(p.delay(1, 0.0), Duration::minutes(1));
        assert_eq!(p.delay(2, 0.0), Duration::minutes(2));
        assert_eq!(p.delay(6, 0.0), Duration::minutes(32));
        assert_eq!(p.delay(7, 0.0), Duration::minutes(64));
        assert_eq!(p.delay(8, 0.0), Duration::hours(2));
        assert_eq!(p.delay(30, 0.0), Duration::hours(2));
        // The waits before giving up add up to about a day.
        let total: i64 = (1..p.max_attempts)
            .map(|a| p.delay(a, 0.0).num_minutes())
            .sum();
        assert!((20 * 60..=30 * 60).contains(&total), "{total} minutes");
        assert_eq!(p.delay(1, 0.99), Duration::seconds(71));
    }
}
