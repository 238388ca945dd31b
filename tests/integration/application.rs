//! Kansli built from its settings, as `kansli serve` builds it: the background loops start
//! the year's follow-up on schedule and send its invitations to the mail folder, a handläggare
//! logs in over HTTP and finds the ärende in the inbox, and the server stops cleanly.

use std::time::{Duration, Instant};

use crate::harness::{AppOptions, spawn_app_with};
use crate::helpers::local;
use crate::on_both_backends;

on_both_backends! {
    async fn the_application_runs_its_loops_serves_its_pages_and_stops(db) {
        let app = spawn_app_with(db, local(2026, 10, 1, 7), AppOptions { tick_seconds: 1, ..AppOptions::default() }).await;
        app.kansli.add_account("amira", "amira.hadzic", "ett-långt-lösenord", false).await.unwrap();

        // No test ticks the engine or sends the outbox: the application's own loops do.
        let deadline = Instant::now() + Duration::from_secs(60);
        let invitations = loop {
            let sent = std::fs::read_dir(app.mail_dir()).map(|d| d.flatten().count()).unwrap_or(0);
            if sent >= 7 || Instant::now() > deadline {
                break sent;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        assert_eq!(invitations, 7, "one invitation per förvaltning, sent by the loops");

        let next = app.log_in("amira", "ett-långt-lösenord").await;
        let start = app.client.get(app.url(&next)).send().await.unwrap();
        assert_eq!(start.status(), 200);
        let page = start.text().await.unwrap();
        assert!(page.contains("KS 2026/1"), "the follow-up waits in the handläggare's inbox: {page}");

        app.stop().await.expect("the server stops cleanly");
    }
}
