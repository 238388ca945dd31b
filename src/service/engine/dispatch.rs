//! The `dispatch` effect (expediering): the decision goes to everyone on "Beslutet skickas
//! till", each recipient with the latest handling drawn up from a document template attached
//! (the protokollsutdrag), and each sending is registered in the ärende as an utgående
//! handling with the recipient as counterpart, all in the step's transaction.

use chrono::{DateTime, Utc};

use super::extract::listed;
use super::{Engine, Letter, StoredAttachment};
use crate::domain::audit::Action;
use crate::domain::calendar::local_date;
use crate::domain::document::Direction;
use crate::service::dispatch::resolve;
use crate::service::meetings::lines_of;
use crate::service::{Actor, ServiceError};
use crate::store::{CaseRow, NewDocument, Tx};

impl Engine {
    /// Expedites the decision of `case` with its latest `attach` handling.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn dispatch(
        &self,
        tx: &Tx,
        letter: &Letter<'_>,
        case: &CaseRow,
        template: &str,
        attach: &str,
        actor: &Actor,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        // The deciding paragraph's recipients; without them, the workflow's own list.
        let decided = tx
            .paragraphs_of_case(case.id)
            .await?
            .into_iter()
            .rev()
            .find(|(p, _)| p.proposal_to.is_none())
            .map(|(p, _)| lines_of(&p.recipients))
            .filter(|r| !r.is_empty());
        let entries = decided.unwrap_or_else(|| listed(&letter.decision.variables, "skickas_till"));
        let documents = tx.documents_of(case.id).await?;
        let prefix = format!("{attach}.");
        let attached = documents
            .iter()
            .rev()
            .find(|d| {
                d.file_sha256.is_some()
                    && d.file_name.as_deref().is_some_and(|n| n.starts_with(&prefix))
            })
            .ok_or_else(|| {
                anyhow::anyhow!(
                    "dispatch: ärende has no handling drawn up from {attach} to attach; the workflow must register it first"
                )
            })?;
        let file = StoredAttachment {
            name: attached.file_name.clone().unwrap_or_default(),
            media_type: attached.media_type.clone().unwrap_or_default(),
            sha256: attached.file_sha256.clone().unwrap_or_default(),
        };
        let resolution = resolve(letter.org, &entries);
        for unresolved in &resolution.unresolved {
            // Named on the decision but unknown to the organisation: the registrator sends it
            // by hand, and the history says so.
            tx.append_audit(
                Some(case.id),
                actor.as_str(),
                Action::DispatchUnaddressed,
                Some(format!(
                    "{unresolved}: finns inte i organisationen; skicka för hand"
                )),
                now,
            )
            .await?;
        }
        for addressee in &resolution.addressees {
            let address = &addressee.address;
            self.queue_to(
                tx,
                letter,
                template,
                vec![address.clone()],
                None,
                std::slice::from_ref(&file),
                now,
            )
            .await?;
            let seq = tx.allocate_document_seq(case.id).await?;
            let counterpart = match address.name.is_empty() {
                true => address.email.clone(),
                false => address.name.clone(),
            };
            tx.insert_document(
                NewDocument {
                    case_id: case.id,
                    date: local_date(now),
                    direction: Direction::Outgoing.code().to_owned(),
                    counterpart: Some(counterpart.clone()),
                    counterpart_protected: false,
                    description: format!("{} (expediering)", attached.description),
                    description_protected: false,
                    secrecy: None,
                    file: Some((
                        file.sha256.clone(),
                        file.name.clone(),
                        file.media_type.clone(),
                    )),
                    registered_at: now,
                    registered_by: actor.as_str().to_owned(),
                },
                seq,
            )
            .await?;
            tx.append_audit(
                Some(case.id),
                actor.as_str(),
                Action::DecisionDispatched,
                Some(format!(":{seq} till {counterpart} <{}>", address.email)),
                now,
            )
            .await?;
        }
        Ok(())
    }
}
