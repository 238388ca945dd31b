//! The outbox's loop: every message that is due, every period.

use std::time::Duration;

use crate::service::Postman;

/// Dispatches what is due through `postman` every `period`, for as long as the process runs.
pub async fn run(postman: Postman, period: Duration) {
    let mut interval = super::every(period);
    loop {
        interval.tick().await;
        match postman.dispatch_all_pending().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(messages = n, "outbox dispatched"),
            Err(e) => {
                tracing::error!(error.message = %e, error.cause_chain = ?e, "dispatch failed")
            }
        }
    }
}
