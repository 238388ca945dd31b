//! Numbers under concurrent writers: never twice, never a gap.

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use kansli::domain::document::Direction;
use kansli::service::{Engine, Kansli, NewDocumentInput};
use kansli::store::{NewCase, Store, Tx};
use kansli::workflow::Catalog;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Map, Value};

use crate::helpers::{Backend, actor, day, open};
use crate::on_both_backends;

const WRITERS: usize = 8;
const EACH: usize = 500;

/// A workflow whose start opens an ärende and emails an invitation naming it.
const INVITING: &str = "\
id: inbjudan
title: Inbjudan
case: { series: KLF, title: Inbjudan, handlaggare: amira.hadzic }
initial: inbjuden
states:
  inbjuden:
    on_entry:
      - email: { template: enkat-inbjudan, to: [handläggare] }
    on:
      - { event: svar, by: [chef], to: klar }
  klar:
    final: true
";

/// An engine for [`INVITING`], and for `andra`, the same under another name: each engine is
/// one `kansli` process, with queues and lanes of its own.
fn inviting(kansli: Kansli, owner: &str) -> Engine {
    let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
    let other = INVITING.replace("id: inbjudan", "id: andra");
    let catalog = Catalog::from_sources(
        vec![
            ("inbjudan.yaml".into(), INVITING.into()),
            ("andra.yaml".into(), other),
        ],
        Some(&templates),
    )
    .expect("the workflows are valid");
    Engine::new(kansli, Arc::new(catalog), owner)
}

/// An ärende of KLF 2026, registered as the test says, without the engine.
fn registered(series_id: i32) -> NewCase {
    NewCase {
        series_id,
        year: 2026,
        classification: None,
        title: "Registrerad".into(),
        public_title: "Registrerad".into(),
        search_text: "registrerad".into(),
        handlaggare_id: None,
        previous_case_id: None,
        opened_at: day(3, 2),
        opened_by: "test".into(),
    }
}

/// Checks every ärende the engine opened against what was written with it: its instance's
/// `case_number` and its invitation's subject name it by its own number. Returns the numbers.
async fn numbers_as_written(store: &Store) -> Vec<u32> {
    let cases = store
        .list_cases(&kansli::store::CaseFilter {
            limit: 100_000,
            ..Default::default()
        })
        .await
        .unwrap();
    let mut seqs = Vec::new();
    for case in cases {
        seqs.push(case.seq as u32);
        let number = format!("KLF 2026/{}", case.seq);
        let instances = store.instances_of_case(case.id).await.unwrap();
        let Some(instance) = instances.first() else {
            continue;
        };
        let vars: Map<String, Value> = serde_json::from_str(&instance.variables).unwrap();
        assert_eq!(
            vars["case_number"],
            Value::from(number.clone()),
            "instance {}",
            instance.id
        );
        let mail = store.outbox(Some(case.id)).await.unwrap();
        assert_eq!(mail.len(), 1, "one invitation for {number}");
        let subject = mail[0].subject.clone().unwrap_or_default();
        assert!(
            subject.ends_with(&format!("({number})")),
            "{number}: {subject}"
        );
    }
    seqs.sort_unstable();
    seqs
}

/// A registration that takes KLF 2026/1 and keeps the series' counter locked until the
/// transaction it returns ends.
async fn registration_holding_the_counter(store: &Store) -> (Tx, i32) {
    let klf = store
        .org_snapshot()
        .await
        .unwrap()
        .series
        .into_iter()
        .find(|s| s.prefix == "KLF")
        .unwrap();
    let tx = store.begin().await.unwrap();
    let seq = tx.allocate_case_seq(klf.id, 2026).await.unwrap();
    assert_eq!(seq, 1);
    tx.insert_case(registered(klf.id), seq).await.unwrap();
    (tx, klf.id)
}

/// Waits until a session on `url`'s database waits for a lock another holds.
async fn until_someone_waits_for_a_lock(url: &str) {
    let conn = Database::connect(url).await.unwrap();
    let waiting = Statement::from_string(
        sea_orm::DbBackend::Postgres,
        "SELECT count(*) FROM pg_stat_activity \
         WHERE datname = current_database() AND wait_event_type = 'Lock'",
    );
    for _ in 0..2000 {
        let row = conn.query_one_raw(waiting.clone()).await.unwrap().unwrap();
        if row.try_get_by_index::<i64>(0).unwrap() > 0 {
            conn.close().await.unwrap();
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("nobody came to wait for the counter");
}

on_both_backends! {
    async fn eight_writers_opening_500_cases_each_get_numbers_1_to_4000_without_a_gap(db) {
        let (kansli, _clock) = db.app(day(3, 2)).await;
        let mut tasks = Vec::new();
        for _ in 0..WRITERS {
            let kansli = kansli.clone();
            tasks.push(tokio::spawn(async move {
                let mut seqs = Vec::with_capacity(EACH);
                for _ in 0..EACH {
                    let case = kansli.open_case(open("KS", "Samtidig registrering"), &actor()).await
                        .expect("every registration succeeds");
                    seqs.push(case.seq);
                }
                seqs
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.expect("writer task"));
        }
        let distinct: BTreeSet<u32> = all.iter().copied().collect();
        assert_eq!(all.len(), WRITERS * EACH);
        assert_eq!(distinct.len(), WRITERS * EACH, "a number was given twice");
        assert_eq!(distinct.first(), Some(&1));
        assert_eq!(distinct.last(), Some(&((WRITERS * EACH) as u32)), "a number was skipped");
        // What the database holds agrees with what the writers were told.
        let listed = kansli.list_cases(kansli::service::CaseQuery {
            series: Some("KS".into()), limit: Some(1), ..Default::default()
        }).await.unwrap();
        assert_eq!(listed.cases[0].number, format!("KS 2026/{}", WRITERS * EACH));
    }

    async fn eight_writers_registering_500_handlingar_each_in_one_case_get_1_to_4000(db) {
        let (kansli, _clock) = db.app(day(3, 2)).await;
        let case = kansli.open_case(open("KS", "Många handlingar"), &actor()).await.unwrap();
        let mut tasks = Vec::new();
        for w in 0..WRITERS {
            let kansli = kansli.clone();
            let number = case.number.clone();
            tasks.push(tokio::spawn(async move {
                let mut seqs = Vec::with_capacity(EACH);
                for i in 0..EACH {
                    let doc = kansli.add_document(&number, NewDocumentInput {
                        date: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(),
                        direction: Direction::Incoming,
                        counterpart: Some(format!("Avsändare {w}")),
                        counterpart_protected: false,
                        description: format!("Svar {i}"),
                        description_protected: false,
                        secrecy: None,
                        file: None,
                    }, &actor()).await.expect("every registration succeeds");
                    seqs.push(doc.seq);
                }
                seqs
            }));
        }
        let mut all = BTreeSet::new();
        for task in tasks {
            for seq in task.await.expect("writer task") {
                assert!(all.insert(seq), "handling number {seq} was given twice");
            }
        }
        assert_eq!(all.len(), WRITERS * EACH);
        assert_eq!(all.last(), Some(&((WRITERS * EACH) as u32)), "a number was skipped");
        let shown = kansli.show_case(&case.number).await.unwrap();
        assert_eq!(shown.documents.len(), WRITERS * EACH);
        assert_eq!(shown.documents.last().unwrap().number, format!("{}:{}", case.number, WRITERS * EACH));
    }

    async fn a_start_whose_number_a_registration_takes_first_gets_the_next_and_says_so(db) {
        let (kansli, _clock) = db.app(day(3, 2)).await;
        let engine = inviting(kansli.clone(), "worker-a");
        let store = kansli.store();
        // A registration takes KLF 2026/1 and holds the counter, not yet committed.
        let (tx, _) = registration_holding_the_counter(store).await;
        let start = {
            let engine = engine.clone();
            tokio::spawn(async move { engine.start("inbjudan", Map::new(), &actor()).await })
        };
        // On PostgreSQL the start's batch comes to wait for the counter's row lock (SQLite's
        // writers wait for the database's write lock alike, which the test cannot see).
        if let Backend::Postgres = db.backend() {
            until_someone_waits_for_a_lock(&db.url).await;
        }
        tx.commit().await.unwrap();
        let (_, number) = start.await.unwrap().expect("the start is made");
        assert_eq!(number.as_deref(), Some("KLF 2026/2"));
        // The ärende, the instance's variables and the invitation all say 2: the number was
        // taken only once the registration's was given.
        assert_eq!(numbers_as_written(store).await, vec![1, 2]);
    }

    async fn two_engines_and_a_registrator_opening_at_once_leave_no_gap_and_no_stale_number(db) {
        const CALLERS: usize = 40;
        const STARTS: usize = 5;
        let (kansli, clock) = db.app(day(3, 2)).await;
        let second = Kansli::new(db.store(4).await, Arc::new(clock.clone()));
        let engines = [inviting(kansli.clone(), "worker-a"), inviting(second, "worker-b")];
        let mut tasks = Vec::new();
        for c in 0..CALLERS {
            let engine = engines[c % 2].clone();
            tasks.push(tokio::spawn(async move {
                for _ in 0..STARTS {
                    engine.start("inbjudan", Map::new(), &actor()).await.expect("every start is made");
                }
            }));
        }
        // A registrator opens ärenden in the same series meanwhile.
        let registrator = {
            let kansli = kansli.clone();
            tokio::spawn(async move {
                for _ in 0..20 {
                    kansli.open_case(open("KLF", "Registrerad"), &actor()).await.unwrap();
                }
            })
        };
        for task in tasks {
            task.await.unwrap();
        }
        registrator.await.unwrap();
        let total = (CALLERS * STARTS + 20) as u32;
        assert_eq!(numbers_as_written(kansli.store()).await, (1..=total).collect::<Vec<_>>(),
            "every number once, none skipped");
    }

    async fn a_failed_set_of_starts_leaves_its_workflow_startable(db) {
        let (kansli, _clock) = db.app(day(3, 2)).await;
        let engine = inviting(kansli.clone(), "worker-a");
        let store = kansli.store();
        // A registration holds the counter with KLF 2026/1, and an ärende stands at KLF
        // 2026/4 that no counter gave.
        let (tx, klf) = registration_holding_the_counter(store).await;
        tx.insert_case(registered(klf), 4).await.unwrap();
        // The lane of starts waits behind it with a start of one workflow, while starts of
        // another, never started before, queue for one set.
        let first = {
            let engine = engine.clone();
            tokio::spawn(async move { engine.start("inbjudan", Map::new(), &actor()).await })
        };
        match db.backend() {
            Backend::Postgres => until_someone_waits_for_a_lock(&db.url).await,
            // SQLite's wait for its write lock cannot be seen: the start is given time to
            // take the lane and come to it.
            Backend::Sqlite => tokio::time::sleep(std::time::Duration::from_millis(300)).await,
        }
        let queued: Vec<_> = (0..4)
            .map(|_| {
                let engine = engine.clone();
                tokio::spawn(async move { engine.start("andra", Map::new(), &actor()).await })
            })
            .collect();
        tokio::time::sleep(std::time::Duration::from_millis(200)).await;
        tx.commit().await.unwrap();
        assert_eq!(first.await.unwrap().unwrap().1.as_deref(), Some("KLF 2026/2"));
        // The set is numbered 3 to 6, meets 4, and is undone with the definition it stored.
        let mut failed = 0;
        for start in queued {
            failed += usize::from(start.await.unwrap().is_err());
        }
        assert!(failed > 0, "a start met the number taken");
        store.execute_raw("DELETE FROM diary_case WHERE seq = 4").await.unwrap();
        // The workflow starts afterwards: the undone definition's id was not remembered.
        let (_, number) = engine.start("andra", Map::new(), &actor()).await
            .expect("the workflow starts after the failed set");
        assert!(number.is_some());
    }

    async fn a_definition_stored_by_a_transaction_is_its_own_at_any_precision_of_the_clock(db) {
        let (kansli, _clock) = db.app(day(3, 2)).await;
        let store = kansli.store();
        // A clock with nanoseconds, which the database does not keep.
        let at = day(3, 2) + chrono::Duration::nanoseconds(123_456_789);
        let tx = store.begin().await.unwrap();
        let (id, fresh) = tx.definition_id("inbjudan", "hash-1", INVITING, at).await.unwrap();
        assert!(fresh, "stored by this call");
        // Found again in the same transaction (the next child of the same workflow, say): it
        // is still the transaction's own, which may roll back, and must not be remembered.
        assert_eq!(tx.definition_id("inbjudan", "hash-1", INVITING, at).await.unwrap(), (id, true));
        tx.commit().await.unwrap();
        // Found later by another transaction: stored before, to be remembered.
        let later = at + chrono::Duration::seconds(1);
        let tx = store.begin().await.unwrap();
        assert_eq!(tx.definition_id("inbjudan", "hash-1", INVITING, later).await.unwrap(), (id, false));
        tx.rollback().await.unwrap();
    }
}
