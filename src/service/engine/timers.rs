//! Firing due timers: claimed under a lease, applied in batches of rounds (one timer per
//! instance per round), a step that conflicts given back for the next batch, one that cannot be
//! taken set aside as failed with its reason.

use super::*;

impl Engine {
    /// Fires every timer due now, in batches, until none is left; returns how many fired.
    ///
    /// Group commit: a claimed batch is applied in one transaction (one disk flush), in rounds
    /// of one timer per instance (see `round`), so a later step of the same instance sees the
    /// earlier one. A step the round hands back is taken alone under its own savepoint; one
    /// that conflicts with a concurrent writer is rolled back to it and given back, and the
    /// instance's later timers in the batch wait for the next batch, which keeps every
    /// instance's events in order.
    pub async fn fire_due_timers(&self) -> Result<usize, ServiceError> {
        let mut fired = 0;
        // Batches a timer was put back in to have its documents rendered: a step whose
        // documents change each time is set aside as failed, like any step that cannot be taken.
        let mut rendering_rounds: HashMap<i32, usize> = HashMap::new();
        let mut rendered_for_timers: Vec<Unrendered> = Vec::new();
        loop {
            let started = std::time::Instant::now();
            let lane = self.ingest.lane().await?;
            let now = self.now();
            let claimed = self
                .kansli
                .store
                .claim_due_timers(&self.owner, now, TIMER_LEASE, 200)
                .await?;
            if claimed.is_empty() {
                self.renditions.forget(&rendered_for_timers);
                return Ok(fired);
            }
            let claim_ms = ms(started);
            let org = self.kansli.store.org_snapshot().await?;
            // Everything read from the pool is read now: a batch holds one connection for its
            // transaction, and must not wait for a second one (a pool of one would deadlock).
            let instances: Vec<i32> = claimed.iter().map(|t| t.instance_id).collect();
            for id in self.kansli.store.definition_ids_of(&instances).await? {
                self.definition(id).await?;
            }
            let read_ms = ms(started);
            let tx = self.kansli.store.begin().await?;
            let mut deferred: Vec<i32> = Vec::new();
            let mut blocked: Vec<i32> = Vec::new();
            let mut unrendered: Vec<Unrendered> = Vec::new();
            let no_values = Map::new();
            let system = Actor::system();
            for round in round::rounds(&claimed, |t| t.instance_id) {
                let (round, waiting): (Vec<&TimerRow>, Vec<_>) = round
                    .into_iter()
                    .partition(|t| !blocked.contains(&t.instance_id));
                deferred.extend(waiting.iter().map(|t| t.id));
                let calls: Vec<round::Call> = round
                    .iter()
                    .map(|t| round::Call {
                        instance_id: t.instance_id,
                        event: &t.event,
                        values: &no_values,
                        sender: Sender::System,
                        actor: &system,
                        timer: Some(t),
                    })
                    .collect();
                let taken = self.take_round(&tx, &org, &calls, now).await?;
                for (timer, outcome) in round.into_iter().zip(taken) {
                    if outcome.is_some() {
                        fired += 1;
                        continue;
                    }
                    self.steps.count(0, 1);
                    let step = tx.savepoint().await?;
                    match self.fire(&step, &org, timer, now).await {
                        Ok(did) => {
                            step.commit().await?;
                            fired += usize::from(did);
                        }
                        Err(ServiceError::Conflict(_)) => {
                            step.rollback().await?;
                            blocked.push(timer.instance_id);
                            deferred.push(timer.id);
                        }
                        // Its documents are rendered after the batch, outside it, and the
                        // timer fires in the next batch.
                        Err(ServiceError::Unrendered(wanted))
                            if rendering_rounds.get(&timer.id).copied().unwrap_or(0)
                                < RENDERING_ROUNDS =>
                        {
                            step.rollback().await?;
                            *rendering_rounds.entry(timer.id).or_default() += 1;
                            blocked.push(timer.instance_id);
                            deferred.push(timer.id);
                            unrendered.extend(wanted);
                        }
                        Err(e) => {
                            // A step that cannot be taken (a broken effect, a definition that
                            // no longer loads) must not hold up every timer behind it: it is
                            // set aside as failed, with its reason, for an administrator.
                            step.rollback().await?;
                            tracing::error!(timer = timer.id, error.message = %e, "timer failed");
                            let note = format!("failed: {e}");
                            tx.finish_timer(
                                timer.id,
                                &self.owner,
                                TimerStatus::Failed,
                                Some(note),
                                now,
                            )
                            .await?;
                            blocked.push(timer.instance_id);
                        }
                    }
                }
            }
            let steps_ms = ms(started);
            tx.commit().await?;
            tracing::debug!(
                claimed = claimed.len(),
                deferred = deferred.len(),
                claim_ms,
                read_ms,
                steps_ms,
                elapsed_ms = ms(started),
                "timer batch (times since its start)"
            );
            for id in deferred {
                self.kansli.store.release_timer(id, &self.owner).await?;
            }
            drop(lane);
            // Renditions serve the batch after the one that asked for them; then they go.
            self.renditions.forget(&rendered_for_timers);
            if !unrendered.is_empty() {
                self.render_outside(&unrendered).await?;
            }
            rendered_for_timers = unrendered;
        }
    }

    /// Claims due timers and stops, as a worker that dies right after claiming would. For
    /// crash tests and nothing else.
    pub async fn claim_and_abandon(&self) -> Result<usize, ServiceError> {
        Ok(self
            .kansli
            .store
            .claim_due_timers(&self.owner, self.now(), TIMER_LEASE, 1000)
            .await?
            .len())
    }

    /// Fires one claimed timer inside `tx`. Returns false when the timer was no longer this
    /// worker's to fire, or its event no longer applies (then it is recorded as discarded).
    pub(super) async fn fire(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        timer: &TimerRow,
        now: DateTime<Utc>,
    ) -> Result<bool, ServiceError> {
        let row = tx
            .instance(timer.instance_id)
            .await?
            .ok_or_else(|| anyhow::anyhow!("timer {} has no instance", timer.id))?;
        let loaded = self.load_in(tx, row).await?;
        let decision = if loaded.row.finished_at.is_some() {
            Err(TransitionError::Finished {
                state: loaded.row.state.clone(),
            }
            .to_string())
        } else {
            decide(&loaded, &timer.event, &Map::new(), Sender::System, now)
                .map_err(|e| e.to_string())
        };
        let decision = match decision {
            Ok(d) => d,
            Err(refusal) => {
                // The instance no longer takes this event (it moved on): record why and stop.
                tx.finish_timer(
                    timer.id,
                    &self.owner,
                    TimerStatus::Discarded,
                    Some(refusal),
                    now,
                )
                .await?;
                return Ok(false);
            }
        };
        if !tx
            .finish_timer(timer.id, &self.owner, TimerStatus::Fired, None, now)
            .await?
        {
            // Another worker took the timer over after our lease ran out.
            return Ok(false);
        }
        let case = case_for(tx, loaded.row.case_id, &decision).await?;
        let actor = Actor::system();
        let by = StepBy {
            actor: &actor,
            sender: Sender::System,
            event: &timer.event,
        };
        self.apply_loaded(tx, org, &loaded, case.as_ref(), &decision, &by, now)
            .await?;
        // A repeating timer comes back while the instance stays where the timer belongs.
        if let Some(again) = repeat_of(timer, &decision) {
            tx.insert_timer(again).await?;
        }
        Ok(true)
    }

    /// The next moment anything is due: a timer, or a scheduled start after `after`.
    pub async fn next_due(
        &self,
        after: DateTime<Utc>,
    ) -> Result<Option<DateTime<Utc>>, ServiceError> {
        let timer = self.kansli.store.next_timer_due().await?;
        let cron = self
            .schedules()
            .filter_map(|(_, s)| s.cron.after(&after.with_timezone(&Stockholm)).next())
            .map(|t| t.with_timezone(&Utc))
            .min();
        Ok([timer, cron].into_iter().flatten().min())
    }
}
