//! Migrations over a database that holds data: a rebuilt or altered table keeps every row.

use std::path::Path;
use std::sync::Arc;

use chrono::Duration;
use kansli::clock::ManualClock;
use kansli::service::{Actor, DEMO_ORGANISATION, Engine, Kansli};
use kansli::store::Store;
use kansli::workflow::Catalog;
use migrations::{Migrator, MigratorTrait};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use serde_json::Map;

use crate::helpers::day;
use crate::on_both_backends;

/// Migrations before 000016, which unbinds the audit trail and the timers.
const BEFORE_UNBINDING: u32 = 15;

/// A workflow whose start writes audit rows and sets a timer that later fires.
const WORKFLOW: &str = "\
id: upgrade
title: Uppgradering
case: { series: KS, title: Uppgradering }
initial: waiting
states:
  waiting:
    timers:
      - { name: deadline, after: 1d, event: expire }
    on:
      - { event: expire, by: [system], to: done }
  done:
    final: true
";

/// The number a query answers.
async fn number(conn: &DatabaseConnection, sql: String) -> i64 {
    let backend = conn.get_database_backend();
    let row = conn
        .query_one_raw(Statement::from_string(backend, sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

/// The indexes on `table`, by name.
async fn indexes(conn: &DatabaseConnection, table: &str) -> Vec<String> {
    let backend = conn.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => {
            format!("SELECT indexname FROM pg_indexes WHERE tablename = '{table}' ORDER BY 1")
        }
        _ => format!(
            "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = '{table}' ORDER BY 1"
        ),
    };
    conn.query_all_raw(Statement::from_string(backend, sql))
        .await
        .unwrap()
        .iter()
        .map(|row| row.try_get_by_index::<String>(0).unwrap())
        .collect()
}

/// How many foreign keys go from `table` to `parent`.
async fn keys(conn: &DatabaseConnection, table: &str, parent: &str) -> i64 {
    let backend = conn.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Postgres => format!(
            "SELECT count(*) FROM pg_constraint WHERE contype = 'f' \
             AND conrelid = '{table}'::regclass AND confrelid = '{parent}'::regclass"
        ),
        _ => format!(
            "SELECT count(*) FROM pragma_foreign_key_list('{table}') WHERE \"table\" = '{parent}'"
        ),
    };
    number(conn, sql).await
}

on_both_backends! {
    async fn unbinding_the_trail_and_timers_keeps_every_row(db) {
        // The store creates the database file; the migrator is run on a connection beside it.
        let store = Store::connect(&db.url, 4).await.unwrap();
        let conn = Database::connect(&db.url).await.unwrap();
        Migrator::up(&conn, Some(BEFORE_UNBINDING)).await.unwrap();
        assert_eq!(keys(&conn, "audit_event", "diary_case").await, 1);
        assert_eq!(keys(&conn, "timer", "workflow_instance").await, 1);

        // Today's code also reads the organs' members, which came later (migration 000018):
        // their table stands beside the old schema while it is used, and goes before the
        // migrations make it for real.
        let id = match db.backend() {
            crate::helpers::Backend::Postgres => "id SERIAL PRIMARY KEY",
            _ => "id INTEGER PRIMARY KEY AUTOINCREMENT",
        };
        for sql in [
            format!("CREATE TABLE organ_member ({id}, organ_code TEXT NOT NULL, name TEXT NOT NULL, party TEXT NOT NULL, seat TEXT NOT NULL, ordinal INTEGER NOT NULL, term_from DATE NOT NULL, term_to DATE NOT NULL, email TEXT)"),
            "CREATE UNIQUE INDEX ux_organ_member ON organ_member (organ_code, name, term_from)".into(),
        ] {
            conn.execute_unprepared(&sql).await.unwrap();
        }
        // Steps taken on the old schema: a start writes the trail and sets the timer.
        let clock = ManualClock::new(day(3, 2));
        let kansli = Kansli::new(store.clone(), Arc::new(clock.clone()));
        kansli.import_organisation("demo", DEMO_ORGANISATION).await.unwrap();
        let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let catalog =
            Catalog::from_sources(vec![("upgrade.yaml".into(), WORKFLOW.into())], Some(&templates))
                .unwrap();
        let engine = Engine::new(kansli, Arc::new(catalog), "worker");
        let (instance_id, _) = engine.start("upgrade", Map::new(), &Actor::new("test")).await.unwrap();
        let instance = store
            .all_instances()
            .await
            .unwrap()
            .into_iter()
            .find(|i| i.id == instance_id)
            .unwrap();
        let case_id = instance.case_id.unwrap();
        let trail = store.audit_of(case_id).await.unwrap();
        let timers = store.timers_of(instance_id).await.unwrap();
        assert!(trail.len() >= 2, "the start wrote its trail: {trail:?}");
        assert_eq!(timers.len(), 1, "the start set its timer");
        // The newest entry of the trail removed (by hand: Kansli never does): its id must not
        // be handed out again.
        let removed = number(&conn, "SELECT CAST(max(id) AS BIGINT) FROM audit_event".into()).await;
        conn.execute_unprepared(&format!("DELETE FROM audit_event WHERE id = {removed}"))
            .await
            .unwrap();
        let trail: Vec<_> = trail.into_iter().filter(|e| i64::from(e.id) != removed).collect();
        let rows = |table: &str| number(&conn, format!("SELECT count(*) FROM {table}"));
        let (audit_rows, timer_rows) = (rows("audit_event").await, rows("timer").await);
        let (audit_indexes, timer_indexes) =
            (indexes(&conn, "audit_event").await, indexes(&conn, "timer").await);
        assert!(audit_indexes.contains(&"ix_audit_event_case".to_owned()), "{audit_indexes:?}");
        assert!(timer_indexes.contains(&"ix_timer_due".to_owned()), "{timer_indexes:?}");

        conn.execute_unprepared("DROP TABLE organ_member").await.unwrap();
        store.migrate().await.unwrap();

        assert_eq!(rows("audit_event").await, audit_rows, "every audit row is kept");
        assert_eq!(rows("timer").await, timer_rows, "every timer is kept");
        assert_eq!(indexes(&conn, "audit_event").await, audit_indexes);
        assert_eq!(indexes(&conn, "timer").await, timer_indexes);

        assert_eq!(store.audit_of(case_id).await.unwrap(), trail, "the trail is whole");
        assert_eq!(store.timers_of(instance_id).await.unwrap(), timers, "the timers are whole");
        assert_eq!(keys(&conn, "audit_event", "diary_case").await, 0);
        assert_eq!(keys(&conn, "timer", "workflow_instance").await, 0);
        // The other keys stand.
        assert_eq!(keys(&conn, "diary_case", "series").await, 1);
        assert_eq!(keys(&conn, "workflow_instance", "workflow_definition").await, 1);

        // The rebuilt tables go on: the timer fires on the new schema, and the step it takes
        // is audited under a number after the old ones.
        clock.advance(Duration::days(2));
        assert_eq!(engine.fire_due_timers().await.unwrap(), 1);
        let after = store.audit_of(case_id).await.unwrap();
        assert_eq!(after[..trail.len()], trail[..]);
        assert!(after.len() > trail.len());
        assert!(
            after[trail.len()..].iter().all(|e| i64::from(e.id) > removed),
            "new entries take ids after every id handed out: {after:?}"
        );
        let fired = store.timers_of(instance_id).await.unwrap();
        assert_eq!(fired[0].id, timers[0].id);
        assert_eq!(fired[0].status, kansli::store::TimerStatus::Fired);
        conn.close().await.unwrap();
        store.close().await.unwrap();
    }
}

/// Migrations before 000018, which gives protocols their content.
const BEFORE_PROTOCOL_CONTENT: u32 = 17;

on_both_backends! {
    async fn protocol_content_keeps_every_meeting_agenda_item_and_paragraph(db) {
        let _store = Store::connect(&db.url, 4).await.unwrap();
        let conn = Database::connect(&db.url).await.unwrap();
        Migrator::up(&conn, Some(BEFORE_PROTOCOL_CONTENT)).await.unwrap();
        for sql in [
            "INSERT INTO meeting (organ_code, date, place, created_at, created_by) VALUES ('KSAU', '2026-11-24', 'Rummet', '2026-11-01T09:00:00Z', 'sara')",
            "INSERT INTO meeting (organ_code, date, place, created_at, created_by) VALUES ('KS', '2026-12-08', 'Salen', '2026-11-01T09:00:00Z', 'sara')",
            "INSERT INTO agenda_item (meeting_id, case_id, position) VALUES (1, 42, 1)",
            "INSERT INTO agenda_item (meeting_id, case_id, position) VALUES (2, 42, 1)",
            "INSERT INTO agenda_item (meeting_id, case_id, position) VALUES (2, 43, 2)",
            "INSERT INTO paragraph (organ_code, year, number, meeting_id, case_id, decision, proposal_to, recipients, recorded_at, recorded_by) VALUES ('KSAU', 2026, 1, 1, 42, 'att föreslå', 'KS', '', '2026-11-24T10:00:00Z', 'sara')",
            "INSERT INTO paragraph (organ_code, year, number, meeting_id, case_id, decision, proposal_to, recipients, recorded_at, recorded_by) VALUES ('KS', 2026, 1, 2, 42, 'att besluta', NULL, 'HR', '2026-12-08T10:00:00Z', 'sara')",
        ] {
            conn.execute_unprepared(sql).await.unwrap();
        }
        Migrator::up(&conn, None).await.unwrap();

        let text = |sql: &str| {
            let sql = sql.to_owned();
            let conn = &conn;
            async move {
                let row = conn.query_one_raw(Statement::from_string(conn.get_database_backend(), sql)).await.unwrap().unwrap();
                row.try_get_by_index::<String>(0).unwrap()
            }
        };
        assert_eq!(number(&conn, "SELECT count(*) FROM meeting".into()).await, 2);
        assert_eq!(number(&conn, "SELECT count(*) FROM agenda_item".into()).await, 3);
        assert_eq!(text("SELECT kind FROM paragraph WHERE id = 1").await, "forslag", "a proposal is one");
        assert_eq!(text("SELECT kind FROM paragraph WHERE id = 2").await, "beslut");
        assert_eq!(text("SELECT decision FROM paragraph WHERE id = 2").await, "att besluta");
        // Each paragraph answers the agenda item of its ärende at its meeting.
        assert_eq!(number(&conn, "SELECT CAST(agenda_item_id AS BIGINT) FROM paragraph WHERE id = 1".into()).await, 1);
        assert_eq!(number(&conn, "SELECT CAST(agenda_item_id AS BIGINT) FROM paragraph WHERE id = 2".into()).await, 2);
        // A paragraph may now stand without an ärende, but an item gets one paragraph only.
        conn.execute_unprepared("INSERT INTO paragraph (organ_code, year, number, meeting_id, case_id, decision, recipients, recorded_at, recorded_by) VALUES ('KS', 2026, 2, 2, NULL, 'Mötet öppnas.', '', '2026-12-08T10:00:00Z', 'sara')").await.unwrap();
        assert!(number(&conn, "SELECT CAST(max(id) AS BIGINT) FROM paragraph".into()).await > 2, "ids go on from the old ones");
        let twice = conn.execute_unprepared("INSERT INTO paragraph (organ_code, year, number, meeting_id, case_id, decision, recipients, recorded_at, recorded_by, agenda_item_id) VALUES ('KS', 2026, 3, 2, 42, 'igen', '', '2026-12-08T10:00:00Z', 'sara', 2)").await;
        assert!(twice.is_err(), "a second paragraph for agenda item 2");
        // The paragraph numbers stay unique per organ and year.
        let again = conn.execute_unprepared("INSERT INTO paragraph (organ_code, year, number, meeting_id, case_id, decision, recipients, recorded_at, recorded_by) VALUES ('KS', 2026, 1, 2, 43, 'x', '', '2026-12-08T10:00:00Z', 'sara')").await;
        assert!(again.is_err(), "KS § 1/26 twice");
    }
}
