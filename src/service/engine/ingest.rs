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
//! later one gets a conflict to retry, as two processes would.

use std::sync::{Arc, Mutex};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};
use tokio::sync::{Semaphore, oneshot};

use super::{Engine, Outcome};
use crate::service::{Actor, ServiceError};
use crate::store::{Backend, InstanceRow};
use crate::workflow::Sender;

/// What a caller asks of the engine.
#[derive(Debug)]
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
        instance: InstanceRow,
        event: String,
        values: Map<String, Value>,
        sender: Sender,
        actor: Actor,
        idempotency_key: Option<String>,
    },
}

/// What the engine answers.
#[derive(Debug)]
pub(super) enum Response {
    Started(i32, Option<String>),
    Sent(Outcome),
}

type Reply = oneshot::Sender<Result<Response, ServiceError>>;

/// The queue and its lanes, shared by an engine's clones.
#[derive(Debug)]
pub(super) struct Ingest {
    queue: Mutex<Vec<(Request, Reply)>>,
    lanes: Arc<Semaphore>,
}

impl Ingest {
    pub(super) fn new(backend: Backend) -> Self {
        let lanes = match backend {
            Backend::Sqlite => 1,
            Backend::Postgres => 4,
        };
        Self {
            queue: Mutex::default(),
            lanes: Arc::new(Semaphore::new(lanes)),
        }
    }

    fn take(&self) -> Vec<(Request, Reply)> {
        std::mem::take(&mut *self.queue.lock().unwrap_or_else(|e| e.into_inner()))
    }
}

impl Engine {
    /// Queues `request` for the next group commit and waits for its answer.
    pub(super) async fn submit(&self, request: Request) -> Result<Response, ServiceError> {
        let (reply, answer) = oneshot::channel();
        self.ingest
            .queue
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((request, reply));
        let lane = self
            .ingest
            .lanes
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| anyhow::anyhow!("the engine's queue is closed"))?;
        let batch = self.ingest.take();
        if batch.is_empty() {
            // Another lane took this request; its answer is on the way.
            drop(lane);
        } else {
            // The batch runs as a task of its own: a caller that goes away (a closed HTTP
            // connection) must not cut it short between its commit and the answers to the
            // other callers in it.
            let engine = self.clone();
            tokio::spawn(async move {
                engine.apply_batch(batch).await;
                drop(lane);
            });
        }
        answer.await.map_err(|_| {
            ServiceError::Unexpected(anyhow::anyhow!(
                "the engine stopped before answering; look in the ärende's history whether the step was taken"
            ))
        })?
    }

    /// Applies a batch in one transaction and answers each caller after the commit.
    async fn apply_batch(&self, batch: Vec<(Request, Reply)>) {
        let now = self.now();
        let (requests, replies): (Vec<_>, Vec<_>) = batch.into_iter().unzip();
        match self.apply_all(&requests, now).await {
            Ok(answers) => {
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
        let mut prepared = Vec::with_capacity(requests.len());
        for request in requests {
            prepared.push(match request {
                Request::Start {
                    workflow_id,
                    variables,
                    period,
                    ..
                } => self
                    .prepare_start(&book, workflow_id, variables.clone(), period, now)
                    .await
                    .map(Some),
                Request::Send { instance, .. } => {
                    self.definition(instance.definition_id).await.map(|_| None)
                }
            });
        }
        let tx = self.kansli.store.begin().await?;
        let mut answers = Vec::with_capacity(requests.len());
        for (request, prepared) in requests.iter().zip(prepared) {
            let prepared = match prepared {
                Ok(p) => p,
                Err(e) => {
                    answers.push(Err(e));
                    continue;
                }
            };
            // A request that fails is undone to its savepoint; the rest of the batch stands.
            let step = tx.savepoint().await?;
            let answer = match (request, prepared) {
                (Request::Start { actor, .. }, Some(start)) => self
                    .start_in(&step, &org, &book, start, None, actor, now)
                    .await
                    .map(|(id, number)| Response::Started(id, number)),
                (
                    Request::Send {
                        instance,
                        event,
                        values,
                        sender,
                        actor,
                        idempotency_key,
                    },
                    _,
                ) => self
                    .send_in(
                        &step,
                        &org,
                        instance.id,
                        event,
                        values,
                        *sender,
                        actor,
                        idempotency_key.as_deref(),
                        now,
                    )
                    .await
                    .map(Response::Sent),
                (Request::Start { .. }, None) => {
                    Err(anyhow::anyhow!("a start was not prepared").into())
                }
            };
            match &answer {
                Ok(_) => step.commit().await?,
                Err(_) => step.rollback().await?,
            }
            answers.push(answer);
        }
        tx.commit().await?;
        Ok(answers)
    }
}
