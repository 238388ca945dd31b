//! The background work of a Kansli process, each loop a task of its own so that one that
//! waits (a mail server that times out) never holds up another: the engine's tick (scheduled
//! starts and due timers, [`engine`]), the outbox's dispatch ([`mail`]), and the sweep of
//! ended sessions and expired answers ([`sweep`]). Each failed round is logged and tried again
//! at the next; work claimed by a process that died is taken again when its lease runs out.

use std::time::Duration;

use tokio::task::JoinHandle;

use crate::service::{Engine, Kansli, Postman};

pub mod engine;
pub mod mail;
pub mod sweep;

/// Starts the loops: the engine and the dispatcher every `every` (none when `None`, for a
/// process whose tests drive them), the sweep always. Returns their tasks.
pub fn spawn(
    kansli: &Kansli,
    engine: &Engine,
    postman: &Postman,
    every: Option<Duration>,
) -> Vec<JoinHandle<()>> {
    let mut tasks = Vec::new();
    if let Some(every) = every {
        tasks.push(tokio::spawn(mail::run(postman.clone(), every)));
        tasks.push(tokio::spawn(engine::run(engine.clone(), every)));
    }
    tasks.push(tokio::spawn(sweep::run(kansli.clone())));
    tasks
}

/// An interval that waits a whole period after a round that ran late, rather than catching up.
fn every(period: Duration) -> tokio::time::Interval {
    let mut interval = tokio::time::interval(period);
    interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    interval
}
