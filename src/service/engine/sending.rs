//! Sending an event to an instance: from outside through the group commit (`ingest`), or as
//! one step of a larger use case's transaction under a savepoint (`send_within`).

use super::*;

impl Engine {
    /// Sends an event to an ärende's instance. With an idempotency key, the same key twice is
    /// applied once.
    pub async fn send(
        &self,
        target: &Target,
        event: &str,
        sender: Sender,
        actor: &Actor,
        idempotency_key: Option<&str>,
    ) -> Result<Outcome, ServiceError> {
        self.send_with(target, event, Map::new(), sender, actor, idempotency_key)
            .await
    }

    /// Sends an event that also sets declared variables (a handläggare's texts, say), each
    /// checked against its type.
    pub async fn send_with(
        &self,
        target: &Target,
        event: &str,
        values: Map<String, Value>,
        sender: Sender,
        actor: &Actor,
        idempotency_key: Option<&str>,
    ) -> Result<Outcome, ServiceError> {
        let aim = Aim::Target(target.clone());
        self.send_aimed(aim, event, values, sender, actor, idempotency_key)
            .await
    }

    /// The workflow an ärende's instance runs (the unit's child with `target.unit`).
    pub async fn workflow_of_target(&self, target: &Target) -> Result<Arc<Workflow>, ServiceError> {
        let instance = self.target_instance(target).await?;
        self.definition(instance.definition_id).await
    }

    /// Sends an event that sets `values` (declared variables) to an instance.
    pub(crate) async fn send_to(
        &self,
        instance: InstanceRow,
        event: &str,
        values: Map<String, Value>,
        sender: Sender,
        actor: &Actor,
        idempotency_key: Option<&str>,
    ) -> Result<Outcome, ServiceError> {
        let aim = Aim::Instance(instance);
        self.send_aimed(aim, event, values, sender, actor, idempotency_key)
            .await
    }

    /// Queues an event for the instance `aim` names; the batch finds the instance.
    pub(super) async fn send_aimed(
        &self,
        aim: Aim,
        event: &str,
        values: Map<String, Value>,
        sender: Sender,
        actor: &Actor,
        idempotency_key: Option<&str>,
    ) -> Result<Outcome, ServiceError> {
        if let Some(key) = idempotency_key
            && self.kansli.store.idempotency_key_used(key).await?
        {
            return Ok(Outcome::AlreadyApplied);
        }
        let request = Request::Send {
            aim,
            event: event.to_owned(),
            values,
            sender,
            actor: actor.clone(),
            idempotency_key: idempotency_key.map(str::to_owned),
        };
        match self.submit(request).await? {
            Response::Sent(outcome) => Ok(outcome),
            Response::Started(..) => {
                Err(anyhow::anyhow!("an event was answered as a start").into())
            }
        }
    }

    /// Applies an event to an instance as one step of a larger use case's transaction `tx`
    /// (a meeting's paragraph and the step it moves its ärende by), under a savepoint: the
    /// inner result is the step's, undone alone when it failed, so that the caller decides
    /// what stands; the outer error is the database's.
    #[allow(clippy::too_many_arguments)]
    pub(crate) async fn send_within(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        instance_id: i32,
        event: &str,
        values: &Map<String, Value>,
        sender: Sender,
        actor: &Actor,
        idempotency_key: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Result<Outcome, ServiceError>, ServiceError> {
        let step = tx.savepoint().await?;
        let answer = self
            .send_in(
                &step,
                org,
                instance_id,
                event,
                values,
                sender,
                actor,
                idempotency_key,
                now,
            )
            .await;
        match answer {
            Ok(_) => step.commit().await?,
            // Not the step's own failure: the whole use case runs again once its documents
            // are rendered, so it ends here with nothing written.
            Err(ServiceError::Unrendered(wanted)) => {
                step.rollback().await?;
                return Err(ServiceError::Unrendered(wanted));
            }
            Err(_) => step.rollback().await?,
        }
        Ok(answer)
    }

    /// Applies an event to an instance inside `tx`, reading the instance through it.
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn send_in(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        instance_id: i32,
        event: &str,
        values: &Map<String, Value>,
        sender: Sender,
        actor: &Actor,
        idempotency_key: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Outcome, ServiceError> {
        if let Some(key) = idempotency_key
            && tx.idempotency_key_used(key).await?
        {
            return Ok(Outcome::AlreadyApplied);
        }
        let row = tx
            .instance(instance_id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("instance {instance_id} not found")))?;
        let loaded = self.load_in(tx, row).await?;
        // A request with the same key on another lane or process may have committed since the
        // key was looked up: the instance it moved then refuses this one, or the key is found
        // taken when recorded. Either way that request's answer stands, as for a repeat.
        let decision = match decide(&loaded, event, values, sender, now) {
            Ok(decision) => decision,
            Err(refused) => {
                if let Some(key) = idempotency_key
                    && tx.idempotency_key_used(key).await?
                {
                    return Ok(Outcome::AlreadyApplied);
                }
                return Err(refused);
            }
        };
        if let Some(key) = idempotency_key {
            let outcome = format!("{} -> {}", decision.from, decision.to);
            if !tx
                .record_idempotency_key(key, loaded.row.id, &outcome, now)
                .await?
            {
                return Ok(Outcome::AlreadyApplied);
            }
        }
        let case = case_for(tx, loaded.row.case_id, &decision).await?;
        let by = StepBy {
            actor,
            sender,
            event,
        };
        self.apply_loaded(tx, org, &loaded, case.as_ref(), &decision, &by, now)
            .await?;
        Ok(Outcome::Applied {
            from: decision.from,
            to: decision.to,
        })
    }
}
