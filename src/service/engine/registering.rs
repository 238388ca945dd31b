//! A handling registered together with the workflow step it brings: an inkommande answer that
//! moves the ärende on, a skrivelse whose registration is the step. One transaction, so that
//! the handling never stands without its step or the step without its handling; a step the
//! workflow refuses leaves nothing registered, with the refusal as the answer.

use serde_json::Map;

use super::{Engine, Outcome, Target};
use crate::service::accounts::User;
use crate::service::diarium::{DocumentView, NewDocumentInput};
use crate::service::{Actor, ServiceError};
use crate::workflow::Sender;

/// Times the use case runs again when another writer moved the instance first.
const CONFLICT_RETRIES: usize = 3;

impl Engine {
    /// Registers `input` in ärende `target.case_number` and sends `event` to the instance
    /// `target` names, as `sender`, in one transaction.
    pub async fn register_with_step(
        &self,
        target: &Target,
        input: NewDocumentInput,
        event: &str,
        sender: Sender,
        actor: &Actor,
    ) -> Result<(DocumentView, Outcome), ServiceError> {
        let now = self.now();
        // Checked before anything is written: a refused field or file is refused here.
        let prepared = self
            .kansli
            .prepare_document(&target.case_number, input, now)
            .await?;
        let values = Map::new();
        self.rendering_first(|| async {
            let mut attempt = 0;
            loop {
                let instance = self.target_instance(target).await?;
                let org = self.kansli.store.org_snapshot().await?;
                let tx = self.kansli.store.begin().await?;
                let document = prepared.clone().register_in(&tx, actor, now).await?;
                let step = self
                    .send_within(
                        &tx,
                        &org,
                        instance.id,
                        event,
                        &values,
                        sender,
                        actor,
                        None,
                        now,
                    )
                    .await;
                match step {
                    Ok(Ok(outcome)) => {
                        tx.commit().await?;
                        return Ok((document, outcome));
                    }
                    Ok(Err(ServiceError::Conflict(_))) if attempt < CONFLICT_RETRIES => {
                        tx.rollback().await?;
                        attempt += 1;
                    }
                    Ok(Err(e)) | Err(e) => {
                        tx.rollback().await?;
                        return Err(e);
                    }
                }
            }
        })
        .await
    }

    /// [`Engine::register_with_step`] in a role of `user`'s that the state allows for
    /// `event`, refused as [`Engine::send_as_user`] refuses.
    pub async fn register_as_user(
        &self,
        user: &User,
        target: &Target,
        input: NewDocumentInput,
        event: &str,
    ) -> Result<(DocumentView, Outcome), ServiceError> {
        let sender = self.acting_sender(user, target, event).await?;
        let actor = Actor::new(user.username.clone());
        self.register_with_step(target, input, event, sender, &actor)
            .await
    }
}
