//! The workflow engine, durably: a year on a manual clock, downtime, crashes, races.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use kansli::clock::ManualClock;
use kansli::domain::organisation::Role;
use kansli::service::{Actor, Engine, Kansli, Outcome, ServiceError, Target};
use kansli::store::StoreError;
use kansli::workflow::{Catalog, Sender};
use serde_json::Map;

use crate::helpers::TestDb;
use crate::helpers::local;
use crate::on_both_backends;

fn shipped() -> Catalog {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    Catalog::load(&root.join("workflows"), &root.join("templates"))
        .expect("the shipped workflows are valid")
}

/// The engine of Kansli as `kansli serve` builds it (the harness), its clock at `at`.
async fn engine(db: &TestDb, at: DateTime<Utc>) -> (Engine, ManualClock) {
    let app = crate::harness::spawn_app(db, at).await;
    (app.engine.clone(), app.clock.clone())
}

/// A second worker on the same database and clock, with a pool of its own.
async fn second_worker(db: &TestDb, clock: &ManualClock, catalog: Catalog) -> Engine {
    let kansli = Kansli::new(db.store(4).await, Arc::new(clock.clone()));
    Engine::new(kansli, Arc::new(catalog), "worker-b")
}

fn role(r: Role) -> Sender {
    Sender::Role(r)
}

fn unit(case: &str, unit: &str) -> Target {
    Target {
        case_number: case.into(),
        unit: Some(unit.into()),
    }
}

fn root(case: &str) -> Target {
    Target {
        case_number: case.into(),
        unit: None,
    }
}

async fn send(engine: &Engine, target: &Target, event: &str, sender: Sender) -> Outcome {
    engine
        .send(target, event, sender, &Actor::new("test"), None)
        .await
        .unwrap_or_else(|e| panic!("{event} to {target:?}: {e}"))
}

async fn state_of(engine: &Engine, case: &str, unit: Option<&str>) -> String {
    engine
        .events_of(case)
        .await
        .unwrap()
        .into_iter()
        .find(|i| i.unit.as_deref() == unit)
        .map(|i| i.state)
        .unwrap_or_else(|| panic!("no instance for {unit:?}"))
}

async fn outbox_count(engine: &Engine, template: &str) -> usize {
    engine
        .kansli()
        .store()
        .outbox(None)
        .await
        .unwrap()
        .iter()
        .filter(|o| o.template == template)
        .count()
}

async fn audit_count(engine: &Engine, action: &str) -> usize {
    engine
        .kansli()
        .store()
        .audit_since(0)
        .await
        .unwrap()
        .iter()
        .filter(|a| a.action == action)
        .count()
}

const UNITS: [&str; 7] = ["BUF", "KFF", "KLF", "MHF", "SBF", "SOF", "VOF"];

on_both_backends! {
    async fn a_year_runs_from_the_cron_start_to_the_closed_case_on_a_manual_clock(db) {
        let (engine, clock) = engine(db, local(2026, 9, 30, 12)).await;
        assert_eq!(engine.tick().await.unwrap(), (vec![], 0), "nothing is due in September");

        // 1 October 07:00: the ärende opens and every förvaltning is invited.
        clock.set(local(2026, 10, 1, 7));
        let (started, _) = engine.tick().await.unwrap();
        assert_eq!(started.len(), 1, "{started:?}");
        let case = "KS 2026/1";
        let shown = engine.kansli().show_case(case).await.unwrap();
        assert_eq!(shown.title, "Årlig uppföljning av aktiva åtgärder inom likabehandling 2026");
        assert_eq!(shown.handlaggare.unwrap().key, "amira.hadzic");
        assert_eq!(state_of(&engine, case, None).await, "insamling");
        for u in UNITS {
            assert_eq!(state_of(&engine, case, Some(u)).await, "inbjuden", "{u}");
        }
        assert_eq!(outbox_count(&engine, "enkat-inbjudan").await, 7);
        assert_eq!(engine.tick().await.unwrap().0.len(), 0, "the same period never starts twice");

        // BUF answers at once; SOF answers, is returned, completes.
        send(&engine, &unit(case, "BUF"), "utkast_sparat", role(Role::Chef)).await;
        send(&engine, &unit(case, "BUF"), "svar_inskickat", role(Role::Chef)).await;
        send(&engine, &unit(case, "SOF"), "svar_inskickat", role(Role::Chef)).await;
        send(&engine, &unit(case, "SOF"), "returnera", role(Role::Forvaltningschef)).await;
        assert_eq!(state_of(&engine, case, Some("SOF")).await, "returnerad");
        send(&engine, &unit(case, "SOF"), "svar_inskickat", role(Role::Chef)).await;
        send(&engine, &unit(case, "SOF"), "godkann", role(Role::Forvaltningschef)).await;
        send(&engine, &unit(case, "BUF"), "godkann", role(Role::Forvaltningschef)).await;
        engine.tick().await.unwrap(); // the children's notices to the parent
        assert_eq!(state_of(&engine, case, None).await, "insamling", "five förvaltningar remain");
        let answers: Vec<_> = engine.kansli().show_case(case).await.unwrap().documents.into_iter()
            .filter(|d| d.description.starts_with("Svar på uppföljningsenkät")).collect();
        assert_eq!(answers.len(), 3, "BUF once, SOF twice: each submission is registered");

        // 15 October 08:00: the first reminder, only to those who have not answered.
        clock.set(local(2026, 10, 15, 9));
        engine.tick().await.unwrap();
        assert_eq!(outbox_count(&engine, "enkat-paminnelse").await, 5);
        // 26 October: the last reminder; 29 October 07:00: the deadline, escalated.
        clock.set(local(2026, 10, 26, 9));
        engine.tick().await.unwrap();
        assert_eq!(outbox_count(&engine, "enkat-sista-paminnelse").await, 5);
        clock.set(local(2026, 10, 29, 7));
        engine.tick().await.unwrap();
        let escalations = engine.kansli().store().outbox(None).await.unwrap().into_iter()
            .filter(|o| o.template == "enkat-eskalering").collect::<Vec<_>>();
        assert_eq!(escalations.len(), 5);
        assert!(escalations.iter().any(|o| o.recipients.contains("helena.voss@norrvika.example")), "VOF's förvaltningschef");
        assert!(!escalations.iter().any(|o| o.recipients.contains("karin.welander")), "BUF answered");

        // The rest answer late and are approved: the parent moves on when the last is approved.
        for u in ["KFF", "KLF", "MHF", "SBF", "VOF"] {
            send(&engine, &unit(case, u), "svar_inskickat", role(Role::Chef)).await;
            send(&engine, &unit(case, u), "godkann", role(Role::Forvaltningschef)).await;
        }
        clock.set(local(2026, 10, 30, 10));
        engine.tick().await.unwrap();
        assert_eq!(state_of(&engine, case, None).await, "sammanstallning");
        // The parent's own deadline stopped with the state: nothing fires on 5 November.
        clock.set(local(2026, 11, 6, 10));
        assert_eq!(engine.tick().await.unwrap().1, 0);
        assert_eq!(outbox_count(&engine, "svarstid-ute").await, 0);

        // Tjänsteskrivelse, KSAU, KS, justering, anslag, and the appeal period.
        send(&engine, &root(case), "tjansteskrivelse_klar", role(Role::Handlaggare)).await;
        send(&engine, &root(case), "forslag_beslutat", role(Role::Sekreterare)).await;
        send(&engine, &root(case), "beslut_fattat", role(Role::Sekreterare)).await;
        assert_eq!(state_of(&engine, case, None).await, "justering");
        clock.set(local(2026, 12, 2, 10));
        // The justering tells the workflow the last day for appeal, as a meeting's does: three
        // weeks from the anslag on 2 December.
        let justering = serde_json::Map::from_iter([("appeal_last_day".to_owned(), serde_json::json!("2026-12-23"))]);
        engine.send_with(&root(case), "protokoll_justerat", justering, role(Role::Sekreterare), &Actor::new("test"), None).await.unwrap();
        // Expediering to "Samtliga nämnder; Kommunledningsförvaltningen, HR-avdelningen": each
        // nämnd's registratur and HR, the protokollsutdrag attached, each an utgående handling.
        let sent: Vec<_> = engine.kansli().store().outbox(None).await.unwrap().into_iter()
            .filter(|o| o.template == "beslut-expedierat").collect();
        let mut to: Vec<&str> = sent.iter().filter_map(|o| o.recipient_email.as_deref()).collect();
        to.sort_unstable();
        assert_eq!(to, ["buf@norrvika.example", "hr@norrvika.example", "kff@norrvika.example", "mhf@norrvika.example",
            "sbf@norrvika.example", "sof@norrvika.example", "vof@norrvika.example"]);
        let attached = if cfg!(feature = "pdf") { "protokollsutdrag.pdf" } else { "protokollsutdrag.html" };
        assert!(sent.iter().all(|o| o.attachments.as_deref().is_some_and(|a| a.contains(attached))), "{attached}");
        let outgoing: Vec<_> = engine.kansli().show_case(case).await.unwrap().documents.into_iter()
            .filter(|d| d.direction == kansli::domain::document::Direction::Outgoing).collect();
        assert_eq!(outgoing.len(), 7);
        assert!(outgoing.iter().any(|d| d.counterpart.as_deref() == Some("Socialnämnden")), "{outgoing:?}");
        clock.set(local(2026, 12, 23, 23));
        engine.tick().await.unwrap();
        assert_eq!(state_of(&engine, case, None).await, "anslag", "the last day for appeal has not ended");
        clock.set(local(2026, 12, 24, 10));
        engine.tick().await.unwrap();
        assert_eq!(state_of(&engine, case, None).await, "avslutat");
        let closed = engine.kansli().show_case(case).await.unwrap();
        assert_eq!(closed.status, "closed");
        let descriptions: Vec<String> = closed.documents.iter().map(|d| d.description.clone()).collect();
        assert!(descriptions.iter().any(|d| d.starts_with("Sammanställning")), "{descriptions:?}");
        assert!(descriptions.iter().any(|d| d.starts_with("Tjänsteskrivelse")), "{descriptions:?}");
        assert!(descriptions.iter().any(|d| d.starts_with("Protokollsutdrag")), "{descriptions:?}");

        // The audit trail tells the story in order.
        let history = engine.kansli().case_history(case).await.unwrap();
        let root_path: Vec<String> = history.iter()
            .filter(|h| h.detail.as_deref() == Some("Årlig uppföljning av aktiva åtgärder inom likabehandling"))
            .filter_map(|h| h.to_state.clone())
            .fold(Vec::new(), |mut v, s| { if v.last() != Some(&s) { v.push(s) } v });
        assert_eq!(root_path, ["insamling", "sammanstallning", "beredning", "ks_behandling", "justering", "anslag", "avslutat"]);
        assert!(history.windows(2).all(|w| w[0].at <= w[1].at), "the history is in time order");
        assert!(history.iter().any(|h| h.action == "anmält till organ" && h.detail.as_deref().is_some_and(|d| d.contains("KSAU"))));
    }

    async fn a_start_missed_during_downtime_is_made_once_when_the_engine_returns(db) {
        let (engine, clock) = engine(db, local(2026, 10, 5, 12)).await;
        let (started, _) = engine.tick().await.unwrap();
        assert_eq!(started.len(), 1, "{started:?}");
        assert!(started[0].contains("2026-10-01T07:00"), "{started:?}");
        clock.advance(Duration::hours(1));
        assert!(engine.tick().await.unwrap().0.is_empty());
        assert_eq!(engine.kansli().store().cron_starts("aktiva-atgarder").await.unwrap(), ["2026-10-01T07:00"]);
        // Next year, back after more than the 30-day catch-up window: no stale start.
        clock.set(local(2027, 11, 15, 12));
        assert!(engine.tick().await.unwrap().0.is_empty());
        // The year after, on time, the new ärende links last year's.
        clock.set(local(2028, 10, 1, 7));
        engine.tick().await.unwrap();
        let shown = engine.kansli().show_case("KS 2028/1").await.unwrap();
        assert_eq!(shown.previous.as_deref(), Some("KS 2026/1"));
    }

    async fn a_worker_that_dies_after_claiming_leaves_every_timer_to_fire_exactly_once(db) {
        let (a, clock) = engine(db, local(2026, 10, 1, 7)).await;
        a.tick().await.unwrap();
        clock.set(local(2026, 10, 15, 9));
        let b = second_worker(db, &clock, shipped()).await;
        // A claims the seven reminders and dies before firing any.
        assert_eq!(a.claim_and_abandon().await.unwrap(), 7);
        drop(a);
        assert_eq!(b.fire_due_timers().await.unwrap(), 0, "A's leases still hold");
        clock.advance(Duration::seconds(61));
        assert_eq!(b.fire_due_timers().await.unwrap(), 7);
        assert_eq!(b.fire_due_timers().await.unwrap(), 0);
        assert_eq!(audit_count(&b, "paminn").await, 7);
        assert_eq!(outbox_count(&b, "enkat-paminnelse").await, 7);
    }

    async fn two_engines_racing_start_each_period_and_fire_each_timer_once(db) {
        let (a, clock) = engine(db, local(2026, 9, 30, 7)).await;
        let b = second_worker(db, &clock, shipped()).await;
        clock.set(local(2026, 10, 1, 7));
        let (ra, rb) = tokio::join!(a.tick(), b.tick());
        assert_eq!(ra.unwrap().0.len() + rb.unwrap().0.len(), 1, "one start between them");
        assert_eq!(a.kansli().store().cron_starts("aktiva-atgarder").await.unwrap().len(), 1);
        assert!(a.kansli().show_case("KS 2026/2").await.is_err(), "no second ärende");
        clock.set(local(2026, 10, 15, 9));
        let (fa, fb) = tokio::join!(a.fire_due_timers(), b.fire_due_timers());
        assert_eq!(fa.unwrap() + fb.unwrap(), 7);
        assert_eq!(audit_count(&a, "paminn").await, 7);
        assert_eq!(outbox_count(&a, "enkat-paminnelse").await, 7);
    }

    async fn concurrent_events_to_one_instance_never_lose_an_update(db) {
        let (engine, _clock) = engine(db, local(2026, 10, 1, 7)).await;
        engine.tick().await.unwrap();
        let target = unit("KS 2026/1", "BUF");
        send(&engine, &target, "utkast_sparat", role(Role::Chef)).await;
        let mut tasks = Vec::new();
        for _ in 0..8 {
            let (e, t) = (engine.clone(), target.clone());
            tasks.push(tokio::spawn(async move {
                e.send(&t, "utkast_sparat", Sender::Role(Role::Chef), &Actor::new("chef"), None).await
            }));
        }
        let mut applied = 0;
        for t in tasks {
            match t.await.unwrap() {
                Ok(Outcome::Applied { .. }) => applied += 1,
                Err(ServiceError::Conflict(m)) => assert!(m.contains("retry"), "{m}"),
                other => panic!("{other:?}"),
            }
        }
        assert!(applied >= 1);
        // Every applied step is in the history, and the row version counts them all.
        assert_eq!(audit_count(&engine, "utkast_sparat").await, 1 + applied);
        let store = engine.kansli().store();
        let case_id = store.list_cases(&Default::default()).await.unwrap()[0].id;
        let instance = store.instances_of_case(case_id).await.unwrap().into_iter()
            .find(|i| i.unit_code.as_deref() == Some("BUF")).unwrap();
        assert_eq!(instance.row_version as usize, 2 + applied);
        // A writer holding a stale version is refused outright.
        let tx = store.begin().await.unwrap();
        let err = tx.update_instance(instance.id, instance.row_version - 1, "utkast", "{}", Utc::now(), false).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
    }

    async fn concurrent_callers_share_commits_yet_each_gets_its_own_answer(db) {
        const SMALL: &str = "\
id: enkel
title: Enkel
case: { series: KLF, title: Enkel }
initial: väntar
states:
  väntar:
    on:
      - { event: svar, by: [chef], to: klar }
  klar:
    final: true
";
        let workflows = tempfile::tempdir().unwrap();
        std::fs::write(workflows.path().join("enkel.yaml"), SMALL).unwrap();
        let options = crate::harness::AppOptions { workflows: Some(workflows.path().to_owned()), ..Default::default() };
        let app = crate::harness::spawn_app_with(db, local(2026, 10, 1, 7), options).await;
        let engine = app.engine.clone();
        // Thirty starts at once, and one of a workflow that does not exist.
        let mut tasks = Vec::new();
        for i in 0..31 {
            let e = engine.clone();
            let id = if i == 17 { "saknas" } else { "enkel" };
            tasks.push(tokio::spawn(async move { e.start(id, Map::new(), &Actor::new("t")).await }));
        }
        let mut numbers = Vec::new();
        for (i, t) in tasks.into_iter().enumerate() {
            match t.await.unwrap() {
                Ok((_, number)) => numbers.push(number.unwrap()),
                Err(ServiceError::Invalid(m)) => assert!(i == 17 && m.contains("saknas"), "{m}"),
                Err(e) => panic!("{e}"),
            }
        }
        let mut seqs: Vec<u32> = numbers.iter().map(|n| n.rsplit('/').next().unwrap().parse().unwrap()).collect();
        seqs.sort_unstable();
        assert_eq!(seqs, (1..=30).collect::<Vec<_>>(), "one number each, no gap");
        // An answer to each, a refused event in their midst, and a double-clicked answer.
        let mut tasks = Vec::new();
        for (i, number) in numbers.iter().enumerate() {
            let (e, t) = (engine.clone(), root(number));
            let sender = if i == 5 { role(Role::Registrator) } else { role(Role::Chef) };
            let key = (i == 9).then(|| "dubbelklick".to_owned());
            tasks.push(tokio::spawn(async move { e.send(&t, "svar", sender, &Actor::new("t"), key.as_deref()).await }));
            if i == 9 {
                let (e, t) = (engine.clone(), root(number));
                tasks.push(tokio::spawn(async move {
                    e.send(&t, "svar", role(Role::Chef), &Actor::new("t"), Some("dubbelklick")).await
                }));
            }
        }
        let (mut applied, mut again, mut refused) = (0, 0, 0);
        for t in tasks {
            match t.await.unwrap() {
                Ok(Outcome::Applied { to, .. }) => {
                    assert_eq!(to, "klar");
                    applied += 1;
                }
                Ok(Outcome::AlreadyApplied) => again += 1,
                Err(e @ ServiceError::Refused(_)) => {
                    let m = e.to_string();
                    assert!(m.contains("registrator may not send"), "{m}");
                    refused += 1;
                }
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!((applied, again, refused), (29, 1, 1));
        assert_eq!(audit_count(&engine, "svar").await, 29, "the refused and the repeated left no trace");
    }

    async fn refused_events_say_why_and_change_nothing(db) {
        let (engine, _clock) = engine(db, local(2026, 10, 1, 7)).await;
        engine.tick().await.unwrap();
        let target = unit("KS 2026/1", "KLF");
        let before = engine.kansli().store().audit_since(0).await.unwrap().len();
        let refuse = |event: &'static str, sender: Sender| {
            let (e, t) = (engine.clone(), target.clone());
            async move { e.send(&t, event, sender, &Actor::new("x"), None).await.unwrap_err().to_string() }
        };
        let m = refuse("godkann", role(Role::Forvaltningschef)).await;
        assert!(m.contains("\"godkann\" is not allowed in state inbjuden") && m.contains("svar_inskickat"), "{m}");
        let m = refuse("svar_inskickat", role(Role::Registrator)).await;
        assert!(m.contains("registrator may not send \"svar_inskickat\"") && m.contains("chef"), "{m}");
        let m = refuse("paminn", role(Role::Chef)).await;
        assert!(m.contains("may be sent by: system"), "{m}");
        assert_eq!(engine.kansli().store().audit_since(0).await.unwrap().len(), before, "nothing was written");
        assert_eq!(state_of(&engine, "KS 2026/1", Some("KLF")).await, "inbjuden");

        // A guard that does not hold, in a workflow of the test's own.
        let source = "id: vakt\ntitle: Vakt\ncase: { series: KLF, title: Vakt }\nvariables:\n  klar: { type: boolean, default: false }\ninitial: a\nstates:\n  a:\n    on:\n      - event: vidare\n        by: [handläggare]\n        guard: { variable: { name: klar, equals: true } }\n        to: b\n  b:\n    final: true\n";
        let catalog = Catalog::from_sources(vec![("vakt.yaml".into(), source.into())], None).unwrap();
        let guarded = Engine::new(engine.kansli().clone(), Arc::new(catalog), "w");
        let (_, number) = guarded.start("vakt", Map::new(), &Actor::new("x")).await.unwrap();
        let number = number.expect("the workflow opens an ärende");
        let before = guarded.kansli().store().audit_since(0).await.unwrap().len();
        let err = guarded.send(&root(&number), "vidare", role(Role::Handlaggare), &Actor::new("x"), None).await.unwrap_err();
        assert!(matches!(err, ServiceError::Refused(_)), "{err:?}");
        assert!(err.to_string().contains("the condition does not hold (klar = true)"), "{err}");
        assert_eq!(guarded.kansli().store().audit_since(0).await.unwrap().len(), before);
        assert_eq!(state_of(&guarded, &number, None).await, "a");
    }

    async fn a_broken_step_or_start_is_set_aside_and_every_other_timer_still_fires(db) {
        // A timer whose step cannot be taken (a document with no ärende to register it in),
        // and a scheduled start that cannot be made (a series that does not exist), beside the
        // yearly follow-up.
        let broken = "id: trasig\ntitle: Trasig\ninitial: a\nstates:\n  a:\n    timers:\n      - { name: t, after: 1d, event: vidare }\n    on:\n      - event: vidare\n        by: [system]\n        to: b\n        effects:\n          - document: { template: sammanstallning, direction: upprättad, description: X }\n  b:\n    final: true\n";
        let unstartable = "id: ostartbar\ntitle: Ostartbar\ncase: { series: XX, title: Nej }\nschedule: { cron: \"0 0 7 * * *\" }\ninitial: a\nstates:\n  a:\n    final: true\n";
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let mut files: Vec<(std::path::PathBuf, String)> = ["aktiva-atgarder.yaml", "aktiva-atgarder-enkat.yaml"]
            .iter().map(|f| (root.join("workflows").join(f), std::fs::read_to_string(root.join("workflows").join(f)).unwrap())).collect();
        files.push(("trasig.yaml".into(), broken.into()));
        files.push(("ostartbar.yaml".into(), unstartable.into()));
        let catalog = Catalog::from_sources(files, Some(&root.join("templates"))).unwrap();
        let (kansli, clock) = db.app(local(2026, 10, 1, 7)).await;
        let engine = Engine::new(kansli, Arc::new(catalog), "w");
        let (started, _) = engine.tick().await.expect("a broken start does not fail the tick");
        assert_eq!(started.len(), 1, "the follow-up starts: {started:?}");
        engine.start("trasig", Map::new(), &Actor::new("x")).await.unwrap();
        clock.set(local(2026, 10, 15, 9));
        let (_, fired) = engine.tick().await.unwrap();
        assert_eq!(fired, 7, "the seven reminders fire");
        assert_eq!(outbox_count(&engine, "enkat-paminnelse").await, 7);
        let store = engine.kansli().store();
        let instances = store.all_instances().await.unwrap();
        let trasig = instances.iter().find(|i| i.workflow_id == "trasig").unwrap();
        let timers = store.timers_of(trasig.id).await.unwrap();
        assert_eq!(timers[0].status, kansli::store::TimerStatus::Failed);
        assert!(timers[0].note.as_deref().unwrap().contains("needs an ärende"), "{:?}", timers[0].note);
        assert_eq!(engine.tick().await.unwrap().1, 0, "set aside, not retried in a loop");
        // Seen, not silent: counted for /metrics, listed with its reason, retried on request.
        let kansli = engine.kansli();
        assert_eq!(kansli.gauges().await.unwrap().timers_failed, 1);
        let failed = kansli.failed_timers().await.unwrap();
        assert_eq!(failed.len(), 1);
        assert!(failed[0].workflow == "trasig" && failed[0].event == "vidare" && failed[0].reason.contains("needs an ärende"), "{failed:?}");
        let admin = Actor::new("mikael.aro");
        kansli.retry_timer(failed[0].id, &admin).await.unwrap();
        assert_eq!(kansli.gauges().await.unwrap().timers_failed, 0, "back in the queue");
        let err = kansli.retry_timer(failed[0].id, &admin).await.unwrap_err();
        assert!(matches!(err, ServiceError::NotFound(_)), "only a failed timer is retried: {err}");
        // Still broken: it is tried once, and set aside again.
        engine.tick().await.unwrap();
        assert_eq!(kansli.failed_timers().await.unwrap().len(), 1);
    }

    async fn a_cancelled_follow_up_ends_its_children_and_sends_no_more_reminders(db) {
        let (engine, clock) = engine(db, local(2026, 10, 1, 7)).await;
        engine.tick().await.unwrap();
        send(&engine, &root("KS 2026/1"), "avbryt", role(Role::Handlaggare)).await;
        let instances = engine.events_of("KS 2026/1").await.unwrap();
        assert!(instances.iter().all(|i| i.finished), "{instances:?}");
        assert_eq!(engine.kansli().show_case("KS 2026/1").await.unwrap().status, "closed");
        clock.set(local(2026, 11, 30, 9));
        engine.tick().await.unwrap();
        for template in ["enkat-paminnelse", "enkat-sista-paminnelse", "enkat-eskalering"] {
            assert_eq!(outbox_count(&engine, template).await, 0, "{template}");
        }
        let err = engine.send(&unit("KS 2026/1", "BUF"), "svar_inskickat", role(Role::Chef), &Actor::new("c"), None).await.unwrap_err();
        assert!(err.to_string().contains("finished"), "{err}");
    }

    async fn a_reminder_that_a_holiday_would_push_past_its_deadline_is_not_set(db) {
        // Started Monday 30 November: the deadline is Monday 28 December 07:00, and the last
        // reminder, 3 days before, would fall on juldagen and move to the 28th at 08:00.
        let (engine, _clock) = engine(db, local(2026, 11, 30, 7)).await;
        engine.start("aktiva-atgarder", Map::new(), &Actor::new("x")).await.unwrap();
        let store = engine.kansli().store();
        let case_id = store.list_cases(&Default::default()).await.unwrap()[0].id;
        let buf = store.instances_of_case(case_id).await.unwrap().into_iter().find(|i| i.unit_code.as_deref() == Some("BUF")).unwrap();
        let names: Vec<String> = store.timers_of(buf.id).await.unwrap().into_iter().map(|t| t.name).collect();
        assert!(names.contains(&"svarstid".to_owned()) && names.contains(&"paminnelse".to_owned()), "{names:?}");
        assert!(!names.contains(&"sista_paminnelse".to_owned()), "{names:?}");
    }

    async fn the_progress_shows_each_forvaltning_with_its_dates(db) {
        let (engine, clock) = engine(db, local(2026, 10, 1, 7)).await;
        engine.tick().await.unwrap();
        clock.set(local(2026, 10, 2, 10));
        send(&engine, &unit("KS 2026/1", "BUF"), "svar_inskickat", role(Role::Chef)).await;
        send(&engine, &unit("KS 2026/1", "BUF"), "godkann", role(Role::Forvaltningschef)).await;
        send(&engine, &unit("KS 2026/1", "SOF"), "utkast_sparat", role(Role::Chef)).await;
        clock.set(local(2026, 10, 15, 9));
        engine.tick().await.unwrap();
        let progress = engine.progress("KS 2026/1").await.unwrap();
        assert_eq!(progress.len(), 7);
        let of = |code: &str| progress.iter().find(|p| p.unit_code == code).unwrap();
        assert_eq!((of("BUF").state.as_str(), of("SOF").state.as_str(), of("KLF").state.as_str()), ("godkand", "utkast", "inbjuden"));
        assert_eq!(of("BUF").submitted_at, Some(local(2026, 10, 2, 10)));
        assert_eq!(of("BUF").finished_at, Some(local(2026, 10, 2, 10)));
        assert!(of("BUF").reminders.is_empty());
        assert_eq!(of("KLF").reminders, [local(2026, 10, 15, 9)]);
        assert_eq!(of("KLF").invited_at, local(2026, 10, 1, 7));
        assert!(of("SOF").state_text.contains("Utkast"), "{}", of("SOF").state_text);
    }

    async fn a_line_break_in_an_imported_name_is_refused(db) {
        let (kansli, _clock) = db.app(local(2026, 10, 1, 7)).await;
        let org = kansli::service::DEMO_ORGANISATION.replace("name = \"Ali Rahimi\"", "name = \"Ali\\nRahimi\"");
        let err = kansli.import_organisation("org.toml", &org).await.unwrap_err().to_string();
        assert!(err.contains("line break"), "{err}");
    }

    async fn the_same_idempotency_key_twice_is_applied_once(db) {
        let (engine, _clock) = engine(db, local(2026, 10, 1, 7)).await;
        engine.tick().await.unwrap();
        let target = unit("KS 2026/1", "MHF");
        let first = engine.send(&target, "svar_inskickat", role(Role::Chef), &Actor::new("c"), Some("form-42")).await.unwrap();
        assert!(matches!(first, Outcome::Applied { .. }));
        let again = engine.send(&target, "svar_inskickat", role(Role::Chef), &Actor::new("c"), Some("form-42")).await.unwrap();
        assert_eq!(again, Outcome::AlreadyApplied);
        assert_eq!(audit_count(&engine, "svar_inskickat").await, 1);
        let registered = engine.kansli().show_case("KS 2026/1").await.unwrap().documents.len();
        assert_eq!(registered, 1, "one handling for one submission");
    }

    async fn a_running_instance_keeps_its_version_when_the_file_changes(db) {
        let (engine, clock) = engine(db, local(2026, 10, 1, 7)).await;
        engine.tick().await.unwrap();
        // The municipality shortens the answering time in the file.
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("workflows");
        let files = ["aktiva-atgarder.yaml", "aktiva-atgarder-enkat.yaml"].map(|f| {
            let text = std::fs::read_to_string(root.join(f)).unwrap().replace("after: 28d", "after: 10d");
            (root.join(f), text)
        });
        let templates = Path::new(env!("CARGO_MANIFEST_DIR")).join("templates");
        let changed = Catalog::from_sources(files.to_vec(), Some(&templates)).unwrap();
        let b = second_worker(db, &clock, changed).await;
        // Old children still run on version 1: no deadline on day 10.
        clock.set(local(2026, 10, 11, 9));
        b.tick().await.unwrap();
        assert_eq!(outbox_count(&b, "enkat-eskalering").await, 0);
        // A new start (next year) uses version 2.
        clock.set(local(2027, 10, 1, 7));
        b.tick().await.unwrap();
        let versions = b.versions().await.unwrap();
        let enkat: Vec<_> = versions.iter().filter(|v| v.workflow == "aktiva-atgarder-enkat").collect();
        assert_eq!(enkat.len(), 2, "{versions:?}");
        assert_eq!((enkat[0].version, enkat[0].current, enkat[0].running), (1, false, 7));
        assert_eq!((enkat[1].version, enkat[1].current, enkat[1].running), (2, true, 7));
        let events = b.events_of("KS 2027/1").await.unwrap();
        assert!(events.iter().filter(|i| i.unit.is_some()).all(|i| i.version == 2));
        assert!(b.events_of("KS 2026/1").await.unwrap().iter().filter(|i| i.unit.is_some()).all(|i| i.version == 1));
    }
}
