//! The engine's loop: scheduled starts and due timers, every period.

use std::time::Duration;

use crate::service::Engine;

/// Ticks `engine` every `period`, for as long as the process runs.
pub async fn run(engine: Engine, period: Duration) {
    let mut interval = super::every(period);
    loop {
        interval.tick().await;
        match engine.tick().await {
            Ok((started, fired)) => {
                for s in started {
                    tracing::info!(start = %s, "scheduled workflow started");
                }
                if fired > 0 {
                    tracing::info!(fired, "timers fired");
                }
            }
            Err(e) => {
                tracing::error!(error.message = %e, error.cause_chain = ?e, "engine tick failed")
            }
        }
    }
}
