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
    let row = conn
        .query_one_raw(Statement::from_string(backend, sql))
        .await
        .unwrap()
        .unwrap();
    row.try_get_by_index::<i64>(0).unwrap()
}

on_both_backends! {
    async fn unbinding_the_trail_and_timers_keeps_every_row(db) {
        // The store creates the database file; the migrator is run on a connection beside it.
        let store = Store::connect(&db.url, 4).await.unwrap();
        let conn = Database::connect(&db.url).await.unwrap();
        Migrator::up(&conn, Some(BEFORE_UNBINDING)).await.unwrap();
        assert_eq!(keys(&conn, "audit_event", "diary_case").await, 1);
        assert_eq!(keys(&conn, "timer", "workflow_instance").await, 1);

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

        store.migrate().await.unwrap();

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
        let last_before = trail.iter().map(|e| e.id).max().unwrap();
        assert!(after.len() > trail.len());
        assert!(after[trail.len()..].iter().all(|e| e.id > last_before), "{after:?}");
        let fired = store.timers_of(instance_id).await.unwrap();
        assert_eq!(fired[0].id, timers[0].id);
        assert_eq!(fired[0].status, "fired");
        conn.close().await.unwrap();
        store.close().await.unwrap();
    }
}
