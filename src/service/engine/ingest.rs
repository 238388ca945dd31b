//! Group commit for starts and events from outside: the callers of one moment share one
//! transaction, so a burst of a few hundred answers costs one disk flush, not a few hundred.
//!
//! There is no background task. A caller queues its request and waits for a lane; whoever
//! holds a lane takes everything queued and applies it as one batch, each request under its own
//! savepoint and reading through the batch's transaction, so a request sees the ones before it
//! (an instance's events keep the order they were queued in, and the row-version check still
//! guards against other processes). Every caller's request is taken by the first lane acquired
//! after it was queued, its own or another's, so nothing waits in the queue unseen.
//!
//! SQLite has one lane: its writers take turns anyway. PostgreSQL has a few, so that batches
//! overlap their round trips; two lanes touching one instance meet at its row version, and the
//! later one gets a conflict to retry, as two processes would. The engine's timer batches take
//! the same lanes.
//!
//! Starts and events queue apart, and only one lane at a time takes starts: a start takes a
//! number in its series, whose counter stays locked until the batch commits, so two lanes
//! with starts would only wait for each other (and a lane of events behind them with them).
//! One lane takes all the starts of the moment instead, while the others take events.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, oneshot};

use super::opening::Opening;
use super::{Engine, Outcome, PreparedStart, SeriesBook, Target};
use crate::service::{Actor, ServiceError};
use crate::store::{Backend, InstanceRow, OrgSnapshot, Tx};
use crate::workflow::Sender;

/// What a caller asks of the engine.
#[derive(Debug, Clone)]
pub(super) enum Request {
    /// Start a root instance of a workflow.
    Start {
        workflow_id: String,
        variables: Map<String, Value>,
        period: String,
        actor: Actor,
    },
    /// Send an event to an instance.
    Send {
        aim: Aim,
        event: String,
        values: Map<String, Value>,
        sender: Sender,
        actor: Actor,
        idempotency_key: Option<String>,
    },
}

/// The instance an event is for: known to the caller, or named by an ärende's number (found
/// by the batch, with the others', see `target`).
#[derive(Debug, Clone)]
pub(super) enum Aim {
    Instance(InstanceRow),
    Target(Target),
}

/// A request read and checked before the batch's transaction.
enum Ready<'r> {
    Start(PreparedStart, &'r Actor),
    Send(InstanceRow),
}

/// What the engine answers.
#[derive(Debug)]
pub(super) enum Response {
    Started(i32, Option<String>),
    Sent(Outcome),
}

/// Times an event that met a conflict is sent again before the conflict is the answer.
const CONFLICT_RETRIES: usize = 3;

/// At most this many yields for the queue to settle before a batch is taken.
const SETTLING_YIELDS: usize = 64;

type Reply = oneshot::Sender<Result<Response, ServiceError>>;

/// The queue and its lanes, shared by an engine's clones.
#[derive(Debug)]
pub(super) struct Ingest {
    starts: Mutex<Vec<(Request, Reply)>>,
    events: Mutex<Vec<(Request, Reply)>>,
    lanes: Arc<Semaphore>,
    /// Held, beside a lane, by the lane that takes starts.
    numbering: Arc<Semaphore>,
}

impl Ingest {
    pub(super) fn new(backend: Backend) -> Self {
        let lanes = match backend {
            Backend::Sqlite => 1,
            Backend::Postgres => 4,
        };
        Self {
            starts: Mutex::default(),
            events: Mutex::default(),
            lanes: Arc::new(Semaphore::new(lanes)),
            numbering: Arc::new(Semaphore::new(1)),
        }
    }

    /// A lane of the engine's own, for a batch of its own (the timers'). On SQLite, where
    /// writers take turns anyway, they queue here rather than in SQLite's busy handler, which
    /// sleeps.
    pub(super) async fn lane(&self) -> Result<OwnedSemaphorePermit, ServiceError> {
        Ok(self
            .lanes
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| anyhow::anyhow!("the engine's queue is closed"))?)
    }

    fn queue(&self, starts: bool) -> std::sync::MutexGuard<'_, Vec<(Request, Reply)>> {
        let queue = if starts { &self.starts } else { &self.events };
        queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A lane, and for starts the numbering beside it.
    async fn lanes(
        &self,
        starts: bool,
    ) -> Result<(Option<OwnedSemaphorePermit>, OwnedSemaphorePermit), ServiceError> {
        let closed = |_| anyhow::anyhow!("the engine's queue is closed");
        let numbering = match starts {
            true => Some(
                self.numbering
                    .clone()
                    .acquire_owned()
                    .await
                    .map_err(closed)?,
            ),
            false => None,
        };
        Ok((numbering, self.lane().await?))
    }
}

impl Engine {
    /// Queues `request` for the next group commit and waits for its answer.
    ///
    /// An event that meets a conflict is sent again. A batch reads each instance itself, so a
    /// conflict means that another lane (or process) moved the instance on between that read
    /// and the write: the event is then judged again on the instance as it is now, as the
    /// caller would do on a retry. Starts take no such turn: theirs is a new row.
    ///
    /// A request whose step needs documents rendered gets them rendered outside the batch,
    /// and is queued again (see `renditions`).
    pub(super) async fn submit(&self, request: Request) -> Result<Response, ServiceError> {
        self.rendering_first(|| self.submit_retrying(&request))
            .await
    }

    /// Queues a copy of `request` until it is answered other than by a conflict an event may
    /// meet again (a start's is a new row and takes no such turn).
    async fn submit_retrying(&self, request: &Request) -> Result<Response, ServiceError> {
        let retries_allowed = match request {
            Request::Send { .. } => CONFLICT_RETRIES,
            Request::Start { .. } => 0,
        };
        let mut retries = 0;
        loop {
            match self.submit_once(request.clone()).await {
                Err(ServiceError::Conflict(_)) if retries < retries_allowed => retries += 1,
                answer => return answer,
            }
        }
    }

    async fn submit_once(&self, request: Request) -> Result<Response, ServiceError> {
        let (reply, mut answer) = oneshot::channel();
        let starts = matches!(request, Request::Start { .. });
        self.ingest.queue(starts).push((request, reply));
        // Wait for a lane, unless the answer comes first: a batch another caller started may
        // have taken this request, and its caller must then not queue for a lane behind every
        // other caller (lanes are handed out in turn, and a caller that waited its turn for
        // nothing would leave each lane to one request at a time).
        let lanes = tokio::select! {
            answered = &mut answer => return unanswered(answered),
            lanes = self.ingest.lanes(starts) => lanes?,
        };
        // The callers the last batch answered are queuing their next requests right now.
        // Yielding while the queue still grows lets them do so, so that this batch takes them
        // instead of leaving them to a batch of a few, with a commit of its own, right after
        // it. It costs no waiting: the queue stops growing as soon as nobody is queuing.
        let mut queued = self.ingest.queue(starts).len();
        for _ in 0..SETTLING_YIELDS {
            tokio::task::yield_now().await;
            let now_queued = self.ingest.queue(starts).len();
            if now_queued == queued {
                break;
            }
            queued = now_queued;
        }
        let batch = std::mem::take(&mut *self.ingest.queue(starts));
        if batch.is_empty() {
            // Another lane took this request; its answer is on the way.
            drop(lanes);
        } else {
            // The batch runs as a task of its own: a caller that goes away (a closed HTTP
            // connection) must not cut it short between its commit and the answers to the
            // other callers in it.
            let engine = self.clone();
            tokio::spawn(async move {
                engine.apply_batch(batch).await;
                drop(lanes);
            });
        }
        unanswered(answer.await)
    }

    /// Applies a batch in one transaction and answers each caller after the commit.
    async fn apply_batch(&self, batch: Vec<(Request, Reply)>) {
        let started = std::time::Instant::now();
        let now = self.now();
        let (requests, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        match self.apply_all(&requests, now).await {
            Ok(answers) => {
                tracing::debug!(
                    requests = requests.len(),
                    elapsed_ms = super::ms(started),
                    "batch applied"
                );
                for (reply, answer) in replies.into_iter().zip(answers) {
                    // A caller that went away no longer needs its answer.
                    let _ = reply.send(answer);
                }
            }
            Err(e) => {
                tracing::error!(error.message = %e, requests = requests.len(), "batch failed");
                for reply in replies {
                    let _ = reply.send(Err(ServiceError::Unexpected(anyhow::anyhow!(
                        "nothing was written: {e}"
                    ))));
                }
            }
        }
    }

    /// Each request's own result, or the error that undid the whole batch.
    async fn apply_all(
        &self,
        requests: &[Request],
        now: DateTime<Utc>,
    ) -> Result<Vec<Result<Response, ServiceError>>, ServiceError> {
        let org = self.kansli.store.org_snapshot().await?;
        let book = super::SeriesBook::from_rows(org.series.clone())?;
        // What is read from the pool is read before the transaction: a batch holds one
        // connection for its transaction and must not wait for a second (a pool of one would
        // deadlock).
        let targets: Vec<&Target> = requests
            .iter()
            .filter_map(|r| match r {
                Request::Send {
                    aim: Aim::Target(t),
                    ..
                } => Some(t),
                _ => None,
            })
            .collect();
        let mut found = self.target_instances(&book, &targets).await?.into_iter();
        let mut prepared = Vec::with_capacity(requests.len());
        for request in requests {
            prepared.push(match request {
                Request::Start {
                    workflow_id,
                    variables,
                    period,
                    actor,
                } => self
                    .prepare_start(&book, workflow_id, variables.clone(), period, now)
                    .await
                    .map(|p| Ready::Start(p, actor)),
                Request::Send { aim, .. } => {
                    let instance = match aim {
                        Aim::Instance(row) => Ok(row.clone()),
                        Aim::Target(_) => found.next().unwrap_or_else(|| {
                            Err(anyhow::anyhow!("a target was not looked up").into())
                        }),
                    };
                    match instance {
                        Ok(row) => self
                            .definition(row.definition_id)
                            .await
                            .map(|_| Ready::Send(row)),
                        Err(e) => Err(e),
                    }
                }
            });
        }
        let tx = self.kansli.store.begin().await?;
        let mut answers: Vec<Option<Result<Response, ServiceError>>> =
            requests.iter().map(|_| None).collect();
        let mut sends = Vec::new();
        let mut openings = Vec::new();
        for (at, ready) in prepared.into_iter().enumerate() {
            match ready {
                Err(e) => answers[at] = Some(Err(e)),
                Ok(Ready::Send(row)) => sends.push((at, row.id)),
                Ok(Ready::Start(prepared, actor)) => openings.push(Opening {
                    at,
                    prepared,
                    actor,
                }),
            }
        }
        // Starts in one set where they can be, each of the others alone.
        let (set, alone): (Vec<_>, Vec<_>) = openings
            .into_iter()
            .partition(|o| self.opens_in_set(o, now));
        let places: Vec<usize> = set.iter().map(|o| o.at).collect();
        let opened = tx.savepoint().await?;
        match self.open_set(&opened, &org, &book, set, now).await {
            Ok(made) => {
                opened.commit().await?;
                for (at, id, number) in made {
                    answers[at] = Some(Ok(Response::Started(id, Some(number))));
                }
            }
            Err(e) => {
                opened.rollback().await?;
                tracing::error!(error.message = %e, starts = places.len(), "starts failed");
                for at in places {
                    answers[at] = Some(Err(ServiceError::Unexpected(anyhow::anyhow!(
                        "the workflow was not started, nothing was written: {e}"
                    ))));
                }
            }
        }
        for o in alone {
            answers[o.at] = Some(
                self.apply_start(&tx, &org, &book, o.actor, o.prepared, now)
                    .await?,
            );
        }
        // Events in rounds of one per instance, each instance's in the order they came.
        for round in super::round::rounds(sends, |&(_, instance)| instance) {
            let calls: Vec<(usize, super::round::Call)> = round
                .iter()
                .filter_map(|&(at, instance_id)| match &requests[at] {
                    // A keyed event is recorded with its key, which the one-by-one path does.
                    Request::Send {
                        event,
                        values,
                        sender,
                        actor,
                        idempotency_key: None,
                        ..
                    } => Some((
                        at,
                        super::round::Call {
                            instance_id,
                            event,
                            values,
                            sender: *sender,
                            actor,
                            timer: None,
                        },
                    )),
                    _ => None,
                })
                .collect();
            let (places, calls): (Vec<usize>, Vec<_>) = calls.into_iter().unzip();
            let taken = self.take_round(&tx, &org, &calls, now).await?;
            for (at, outcome) in places.into_iter().zip(taken) {
                answers[at] = outcome.map(|o| Ok(Response::Sent(o)));
            }
            for (at, instance_id) in round {
                if answers[at].is_none() {
                    answers[at] = Some(
                        self.apply_send(&tx, &org, &requests[at], instance_id, now)
                            .await?,
                    );
                }
            }
        }
        tx.commit().await?;
        Ok(answers
            .into_iter()
            .map(|a| a.unwrap_or_else(|| Err(anyhow::anyhow!("a request was not applied").into())))
            .collect())
    }

    /// Applies a start under a savepoint of its own: a start that fails is undone to it, and
    /// the rest of the batch stands. The outer error is the database's, which undoes the whole
    /// batch.
    async fn apply_start(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        book: &SeriesBook,
        actor: &Actor,
        start: PreparedStart,
        now: DateTime<Utc>,
    ) -> Result<Result<Response, ServiceError>, ServiceError> {
        self.steps.count(0, 1);
        let step = tx.savepoint().await?;
        let answer = self
            .start_in(&step, org, book, start, None, actor, now)
            .await
            .map(|(id, number)| Response::Started(id, number));
        settle(step, answer).await
    }

    /// Applies an event alone, under a savepoint of its own (see [`Engine::apply_start`]).
    async fn apply_send(
        &self,
        tx: &Tx,
        org: &OrgSnapshot,
        request: &Request,
        instance_id: i32,
        now: DateTime<Utc>,
    ) -> Result<Result<Response, ServiceError>, ServiceError> {
        let Request::Send {
            event,
            values,
            sender,
            actor,
            idempotency_key,
            ..
        } = request
        else {
            return Ok(Err(
                anyhow::anyhow!("a start was prepared as an event").into()
            ));
        };
        self.steps.count(0, 1);
        let answer = self
            .send_within(
                tx,
                org,
                instance_id,
                event,
                values,
                *sender,
                actor,
                idempotency_key.as_deref(),
                now,
            )
            .await;
        match answer {
            // This request's documents are rendered by its caller; the batch goes on.
            Err(ServiceError::Unrendered(wanted)) => Ok(Err(ServiceError::Unrendered(wanted))),
            answer => Ok(answer?.map(Response::Sent)),
        }
    }
}

/// A caller's answer, or what to say when the engine went away without giving one.
fn unanswered(
    answer: Result<Result<Response, ServiceError>, oneshot::error::RecvError>,
) -> Result<Response, ServiceError> {
    answer.map_err(|_| {
        ServiceError::Unexpected(anyhow::anyhow!(
            "the engine stopped before answering; look in the ärende's history whether the step was taken"
        ))
    })?
}

/// Keeps a request's writes when it succeeded, undoes them to its savepoint when it failed.
async fn settle(
    step: Tx,
    answer: Result<Response, ServiceError>,
) -> Result<Result<Response, ServiceError>, ServiceError> {
    match &answer {
        Ok(_) => step.commit().await?,
        Err(_) => step.rollback().await?,
    }
    Ok(answer)
}
