//! The sweep: ended sessions, old login attempts and the API's expired answers, every ten
//! minutes.

use std::time::Duration;

use crate::service::Kansli;

const PERIOD: Duration = Duration::from_secs(600);

/// Sweeps every ten minutes, for as long as the process runs.
pub async fn run(kansli: Kansli) {
    let mut interval = super::every(PERIOD);
    loop {
        interval.tick().await;
        match kansli.sweep_expired().await {
            Ok(0) => {}
            Ok(rows) => tracing::info!(rows, "expired sessions and login attempts swept"),
            Err(e) => {
                tracing::error!(error.message = %e, error.cause_chain = ?e, "sweep failed")
            }
        }
    }
}
