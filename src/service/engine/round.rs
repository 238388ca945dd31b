//! Rounds: the steps of a batch taken set-based, with one statement per kind of row for all
//! of them, where a step taken alone costs a dozen statements of its own.
//!
//! A round holds at most one step per instance, so no step reads what another step of the
//! round writes; taking them together is then the same as taking them one after another. The
//! engine decides every step in memory from rows read with one query, then writes the round
//! in phases: the fired timers, the instances (each guarded by its row version), the timers
//! stopped and set, the revoked links, the deadlines the emails show, the messages, the audit
//! trail. Those are the writes a step makes alone (`Engine::persist`), from the same
//! [`step_rows`](super::rows::step_rows) and the same composed letters.
//!
//! What a round does not take is handed back to be taken one by one, under a savepoint of its
//! own, as before rounds existed: a refused event (its error says why), a step with effects
//! beyond emails, notices to the parent and referrals (documents, children, dispatch, closing
//! the ärende), and the steps of a workflow with children. When anything in the round
//! surprises (an instance that moved meanwhile, a timer whose lease was lost, an email whose
//! template fails), the round's writes are rolled back to its savepoint and every step is handed
//! back: the one-by-one path knows how to answer each of those.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::letter::{Letter, Queued};
use super::rows::{notice_to_parent, referral, repeat_of, sends_email, step_rows};
use super::{Engine, Loaded, Outcome, StepBy, decide};
use crate::service::{Actor, ServiceError};
use crate::store::{AuditInput, CaseRow, InstanceMove, OrgSnapshot, TimerRow, TimerStatus, Tx};
use crate::workflow::model::{LinkPurpose, Recipient};
use crate::workflow::{Decision, Effect, Sender};

/// A step a round is asked to take.
pub(super) struct Call<'a> {
    pub(super) instance_id: i32,
    pub(super) event: &'a str,
    pub(super) values: &'a Map<String, Value>,
    pub(super) sender: Sender,
    pub(super) actor: &'a Actor,
    /// The claimed timer that fires this step, if a timer does.
    pub(super) timer: Option<&'a TimerRow>,
}

/// A step the round takes: its call, its instance and what the engine decided.
pub(super) struct Planned<'c, 'a> {
    /// Its place among the calls.
    pub(super) at: usize,
    pub(super) call: &'c Call<'a>,
    pub(super) loaded: Loaded,
    pub(super) decision: Decision,
}

impl Engine {
    /// Takes `calls`, each on a different instance, set-based where it can. Returns each
    /// call's outcome, or `None` for a call the caller must take one by one (see the module
    /// docs). Only a failure of the database itself is an error.
    pub(super) async fn take_round(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        calls: &[Call<'_>],
        now: DateTime<Utc>,
    ) -> Result<Vec<Option<Outcome>>, ServiceError> {
        let started = std::time::Instant::now();
        let mut outcomes: Vec<Option<Outcome>> = calls.iter().map(|_| None).collect();
        let taken = |outcomes: &[Option<Outcome>]| {
            self.steps
                .count(outcomes.iter().filter(|o| o.is_some()).count(), 0);
        };
        let planned = match self.alone {
            true => Vec::new(),
            false => self.plan(tx, calls, now).await?,
        };
        let planned_at = started.elapsed();
        if planned.is_empty() {
            taken(&outcomes);
            return Ok(outcomes);
        }
        let case_ids: Vec<i32> = planned
            .iter()
            .filter(|p| sends_email(&p.decision))
            .filter_map(|p| p.loaded.row.case_id)
            .collect();
        let cases: HashMap<i32, CaseRow> = tx
            .cases(&case_ids)
            .await?
            .into_iter()
            .map(|c| (c.id, c))
            .collect();
        let round = tx.savepoint().await?;
        match self.write(&round, org, &planned, &cases, now).await {
            Ok(true) => {
                round.commit().await?;
                tracing::debug!(
                    steps = calls.len(),
                    taken = planned.len(),
                    plan_ms = planned_at.as_secs_f64() * 1000.0,
                    total_ms = super::ms(started),
                    "round taken"
                );
                for p in &planned {
                    outcomes[p.at] = Some(Outcome::Applied {
                        from: p.decision.from.clone(),
                        to: p.decision.to.clone(),
                    });
                }
            }
            Ok(false) => round.rollback().await?,
            Err(e) => {
                tracing::debug!(error.message = %e, steps = planned.len(), "round handed back");
                round.rollback().await?;
            }
        }
        taken(&outcomes);
        Ok(outcomes)
    }

    /// The calls a round can take, decided in memory from their instances read at once.
    async fn plan<'c, 'a>(
        &self,
        tx: &Tx,
        calls: &'c [Call<'a>],
        now: DateTime<Utc>,
    ) -> Result<Vec<Planned<'c, 'a>>, ServiceError> {
        let ids: Vec<i32> = calls.iter().map(|c| c.instance_id).collect();
        let mut rows: HashMap<i32, _> = tx
            .instances(&ids)
            .await?
            .into_iter()
            .map(|r| (r.id, r))
            .collect();
        let mut planned = Vec::with_capacity(calls.len());
        for (at, call) in calls.iter().enumerate() {
            let Some(row) = rows.remove(&call.instance_id) else {
                continue;
            };
            // A definition that no longer loads is for the one-by-one path to report.
            let Ok(workflow) = self.definition(row.definition_id).await else {
                continue;
            };
            if workflow.has_children() || row.finished_at.is_some() {
                continue;
            }
            let Ok(loaded) = self.loaded(row, Vec::new()).await else {
                continue;
            };
            let Ok(decision) = decide(&loaded, call.event, call.values, call.sender, now) else {
                continue;
            };
            if decision.effects.iter().all(takes_in_round) {
                planned.push(Planned {
                    at,
                    call,
                    loaded,
                    decision,
                });
            }
        }
        Ok(planned)
    }

    /// Writes the planned steps, phase by phase. False when a row was not as read (an
    /// instance moved meanwhile, a lease was lost): the caller rolls the round back.
    async fn write(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        planned: &[Planned<'_, '_>],
        cases: &HashMap<i32, CaseRow>,
        now: DateTime<Utc>,
    ) -> Result<bool, ServiceError> {
        let fired: Vec<i32> = planned
            .iter()
            .filter_map(|p| p.call.timer.map(|t| t.id))
            .collect();
        let finished = tx
            .finish_timers(&fired, &self.owner, TimerStatus::Fired, now)
            .await?;
        if finished != fired.len() as u64 {
            return Ok(false);
        }
        let moves: Vec<InstanceMove> = planned
            .iter()
            .map(|p| InstanceMove {
                id: p.loaded.row.id,
                row_version: p.loaded.row.row_version,
                state: p.decision.to.clone(),
                variables: Value::Object(p.decision.variables.clone()).to_string(),
                at: now,
                finished: p.decision.finished,
            })
            .collect();
        if tx.move_instances(&moves).await? != moves.len() as u64 {
            return Ok(false);
        }
        self.write_rows(tx, org, planned, cases, Vec::new(), now)
            .await?;
        Ok(true)
    }

    /// Writes the rows of planned steps whose instances stand where the steps leave them (moved
    /// by the round, or just created): audit, timers, links and messages. `audit` holds entries
    /// that go in the trail before the steps' own (the opening of their ärenden).
    pub(super) async fn write_rows(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        planned: &[Planned<'_, '_>],
        cases: &HashMap<i32, CaseRow>,
        mut audit: Vec<AuditInput>,
        now: DateTime<Utc>,
    ) -> Result<(), ServiceError> {
        audit.reserve(planned.len());
        let mut cancels = Vec::new();
        let mut timers = Vec::new();
        let mut ended = Vec::new();
        let mut deadlines = Vec::with_capacity(planned.len());
        for p in planned {
            let by = StepBy {
                actor: p.call.actor,
                sender: p.call.sender,
                event: p.call.event,
            };
            let instance = &p.loaded.row;
            let rows = step_rows(
                instance,
                &p.loaded.workflow,
                &p.decision,
                &by,
                self.office_hours,
                now,
            );
            audit.push(rows.audit);
            cancels.extend(rows.cancels);
            timers.extend(rows.timers);
            deadlines.push(rows.deadline);
            if p.decision.finished {
                ended.push(instance.id);
            }
            if let Some(again) = p.call.timer.and_then(|t| repeat_of(t, &p.decision)) {
                timers.push(again);
            }
            for effect in &p.decision.effects {
                match effect {
                    Effect::NotifyParent { event } => {
                        timers.extend(notice_to_parent(instance, event, now));
                    }
                    Effect::Refer { organ } => {
                        audit.push(referral(org, instance, organ, &by, now));
                    }
                    // Written with the others' emails below.
                    Effect::Email { .. } => {}
                    // Never in a round: `takes_in_round` sends a step with any of these to be
                    // taken alone. Named one by one, so that a new kind of effect must be
                    // placed here or there before this compiles.
                    Effect::Document { .. }
                    | Effect::StartChildren { .. }
                    | Effect::NotifyChildren { .. }
                    | Effect::CloseCase { .. }
                    | Effect::Dispatch { .. } => {}
                }
            }
        }
        tx.cancel_timer_sets(&cancels).await?;
        // An approved answer cannot be changed through an old link.
        tx.revoke_invitations(&ended, now).await?;
        tx.insert_timers(timers).await?;

        // The answering deadline the emails show: set by the step, or still pending.
        // Each workflow names its own deadline timer: one read per name.
        let mut unknown: HashMap<&str, Vec<i32>> = HashMap::new();
        for (p, d) in planned.iter().zip(&deadlines) {
            if let Some(timer) = &p.loaded.workflow.deadline
                && d.is_none()
                && sends_email(&p.decision)
            {
                unknown.entry(timer).or_default().push(p.loaded.row.id);
            }
        }
        let mut pending: HashMap<i32, DateTime<Utc>> = HashMap::new();
        for (timer, ids) in &unknown {
            for t in tx.pending_timers_named(ids, timer).await? {
                pending.entry(t.instance_id).or_insert(t.due_at);
            }
        }
        let mut letters = Vec::new();
        for (p, deadline) in planned.iter().zip(deadlines) {
            for effect in &p.decision.effects {
                let Effect::Email { template, to, link } = effect else {
                    continue;
                };
                let letter = Letter {
                    org,
                    workflow: &p.loaded.workflow,
                    instance: &p.loaded.row,
                    decision: &p.decision,
                    case: p.loaded.row.case_id.and_then(|id| cases.get(&id)),
                    deadline: deadline.or_else(|| pending.get(&p.loaded.row.id).copied()),
                };
                letters.push(Email {
                    letter,
                    template,
                    to,
                    link: *link,
                });
            }
        }
        let mut invitations = Vec::new();
        let mut messages = Vec::new();
        for queued in self.compose_all(&letters, now)? {
            invitations.extend(queued.invitation);
            messages.push(queued.outbox);
        }
        tx.insert_invitations(invitations).await?;
        tx.insert_outbox_rows(messages).await?;
        tx.append_steps(audit).await?;
        Ok(())
    }
}

/// An email effect of a round's step, with what its messages are composed from.
struct Email<'a> {
    letter: Letter<'a>,
    template: &'a str,
    to: &'a [Recipient],
    link: Option<LinkPurpose>,
}

/// Rounds with at least this many emails compose them on two threads.
const PARALLEL_EMAILS: usize = 32;

impl Engine {
    /// Composes a round's emails, in order. Rendering is CPU work and the messages do not
    /// depend on each other, so a large round renders half of them on a second thread: the
    /// round is otherwise waiting for its database thread, and it is the round, holding the
    /// write lock, that every other step waits for.
    fn compose_all(
        &self,
        emails: &[Email<'_>],
        now: DateTime<Utc>,
    ) -> Result<Vec<Queued>, ServiceError> {
        let compose = |emails: &[Email<'_>]| -> Result<Vec<Queued>, ServiceError> {
            let mut out = Vec::with_capacity(emails.len());
            for e in emails {
                out.extend(self.compose_email(&e.letter, e.template, e.to, e.link, now)?);
            }
            Ok(out)
        };
        if emails.len() < PARALLEL_EMAILS {
            return compose(emails);
        }
        let (first, second) = emails.split_at(emails.len() / 2);
        let (first, second) = std::thread::scope(|scope| {
            let second = scope.spawn(|| compose(second));
            (compose(first), second.join())
        });
        let mut out = first?;
        out.extend(second.map_err(|_| anyhow::anyhow!("composing emails panicked"))??);
        Ok(out)
    }
}

/// Whether a round can take an effect: one that writes rows of its own only.
pub(super) fn takes_in_round(effect: &Effect) -> bool {
    match effect {
        Effect::Email { .. } | Effect::NotifyParent { .. } | Effect::Refer { .. } => true,
        Effect::Document { .. }
        | Effect::StartChildren { .. }
        | Effect::NotifyChildren { .. }
        | Effect::CloseCase { .. }
        | Effect::Dispatch { .. } => false,
    }
}

/// Splits items into rounds with at most one item per instance, each instance's items in
/// their order: the n-th item of an instance goes to the n-th round.
pub(super) fn rounds<T>(
    items: impl IntoIterator<Item = T>,
    instance: impl Fn(&T) -> i32,
) -> Vec<Vec<T>> {
    let mut seen: HashMap<i32, usize> = HashMap::new();
    let mut rounds: Vec<Vec<T>> = Vec::new();
    for item in items {
        let n = seen.entry(instance(&item)).or_default();
        if rounds.len() <= *n {
            rounds.push(Vec::new());
        }
        rounds[*n].push(item);
        *n += 1;
    }
    rounds
}
