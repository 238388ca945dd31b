//! Steps taken in sets (starts opened together, timers and events taken in rounds) write
//! exactly what the same steps write taken one by one. The same run goes on two databases: one
//! engine takes its steps in sets, the other takes every step alone, as the engine did before
//! sets; the ärenden, their histories, timers and messages come out the same.

use chrono::Duration;
use kansli::domain::organisation::Role;
use kansli::service::{Actor, Engine, ServiceError, Target};
use kansli::workflow::Sender;
use serde_json::Map;

use crate::harness::{AppOptions, spawn_app_with};
use crate::helpers::{TestDb, day};
use crate::on_both_backends;

/// Every kind of row a round writes: emails showing the deadline, a repeating reminder, a
/// referral, timers stopped with their state, a final state.
const WORKFLOW: &str = "\
id: runda
title: Uppföljning
case: { series: KLF, title: Uppföljning, handlaggare: amira.hadzic }
deadline: svarstid
initial: inbjuden
states:
  inbjuden:
    on_entry:
      - email: { template: enkat-inbjudan, to: [handläggare] }
    timers:
      - { name: svarstid, after: 10d, event: sent }
      - { name: paminnelse, after: 1d, event: paminn, repeat: { every: 2d, max: 2 } }
    on:
      - event: paminn
        by: [system]
        effects:
          - email: { template: enkat-paminnelse, to: [handläggare] }
      - { event: svar, by: [chef], to: besvarad }
      - { event: sent, by: [system], to: sen }
  besvarad:
    on_entry:
      - refer: { organ: KSAU }
    timers:
      - { name: kort, after: 1h, event: registrera }
    on:
      - { event: registrera, by: [system], to: klar }
  sen:
    final: true
  klar:
    final: true
";

const CASES: usize = 12;

/// What a run leaves, without row ids: per ärende, its instance, history, timers and messages.
type Snapshot = Vec<(String, Vec<String>)>;

/// Runs the year of `CASES` ärenden on `db` and reads back what it left.
async fn run(db: &TestDb, alone: bool) -> (Snapshot, u64, u64) {
    let workflows = tempfile::tempdir().unwrap();
    std::fs::write(workflows.path().join("runda.yaml"), WORKFLOW).unwrap();
    let options = AppOptions {
        workflows: Some(workflows.path().to_owned()),
        engine: alone.then(|| {
            Box::new(Engine::taking_steps_alone) as Box<dyn FnOnce(Engine) -> Engine + Send>
        }),
        ..AppOptions::default()
    };
    let app = spawn_app_with(db, day(10, 1), options).await;
    let (kansli, clock, engine) = (app.kansli.clone(), app.clock.clone(), app.engine.clone());
    // The starts at once, so that they share batches.
    let starts: Vec<_> = (0..CASES)
        .map(|_| {
            let e = engine.clone();
            tokio::spawn(async move { e.start("runda", Map::new(), &Actor::new("t")).await })
        })
        .collect();
    let mut numbers = Vec::new();
    for s in starts {
        numbers.push(s.await.unwrap().unwrap().1.unwrap());
    }
    numbers.sort();
    // Two reminders fire for everyone.
    for _ in 0..2 {
        clock.advance(Duration::days(2));
        engine.fire_due_timers().await.unwrap();
    }
    // Most answer, at once; one answer comes from a role that may not send it.
    let answers: Vec<_> = numbers
        .iter()
        .enumerate()
        .filter(|(i, _)| i % 4 != 3)
        .map(|(i, n)| {
            let (e, target) = (
                engine.clone(),
                Target {
                    case_number: n.clone(),
                    unit: None,
                },
            );
            let sender = Sender::Role(if i == 5 {
                Role::Registrator
            } else {
                Role::Chef
            });
            tokio::spawn(async move {
                e.send(&target, "svar", sender, &Actor::new("c"), None)
                    .await
            })
        })
        .collect();
    for (i, a) in answers.into_iter().enumerate() {
        match a.await.unwrap() {
            Err(e @ ServiceError::Refused(_)) => {
                assert!(e.to_string().contains("may not send"), "{i}: {e}")
            }
            other => {
                other.unwrap();
            }
        }
    }
    // The short timer records the answers; the deadline ends the rest.
    clock.advance(Duration::hours(2));
    engine.fire_due_timers().await.unwrap();
    clock.advance(Duration::days(10));
    engine.fire_due_timers().await.unwrap();

    let store = kansli.store();
    let cases = store.list_cases(&Default::default()).await.unwrap();
    let mut snapshot = Vec::new();
    for number in &numbers {
        let seq: i32 = number.rsplit('/').next().unwrap().parse().unwrap();
        let case = cases.iter().find(|c| c.seq == seq).unwrap();
        let mut rows = Vec::new();
        for i in store.instances_of_case(case.id).await.unwrap() {
            rows.push(format!(
                "instance {} v{} finished={}",
                i.state,
                i.row_version,
                i.finished_at.is_some()
            ));
            for t in store.timers_of(i.id).await.unwrap() {
                rows.push(format!(
                    "timer {} {} {} {} {:?} {:?}",
                    t.name, t.event, t.state, t.due_at, t.status, t.repeats_left
                ));
            }
        }
        for a in kansli.case_history(number).await.unwrap() {
            rows.push(format!(
                "audit {} {} {:?} {:?} {:?} {:?} {}",
                a.actor, a.action, a.role, a.from_state, a.to_state, a.detail, a.at
            ));
        }
        for m in store.outbox(Some(case.id)).await.unwrap() {
            rows.push(format!(
                "message {} {:?} {:?} {:?} {:?} {}",
                m.template, m.status, m.recipient_email, m.subject, m.text_body, m.created_at
            ));
        }
        snapshot.push((number.clone(), rows));
    }
    let steps = engine.step_counts();
    (snapshot, steps.in_sets(), steps.alone())
}

on_both_backends! {
    async fn steps_taken_in_sets_write_what_the_same_steps_write_one_by_one(db) {
        let other = TestDb::new(db.backend()).await;
        let (in_sets, set_steps, set_alone) = run(db, false).await;
        let (alone, alone_in_sets, alone_steps) = run(&other, true).await;
        other.finish().await;

        // The run did what it says: each ärende has its history and messages, the late ones
        // ended at the deadline, and a reminder showed the deadline's date.
        assert_eq!(in_sets.len(), CASES);
        let text = |s: &Snapshot| s.iter().flat_map(|(_, r)| r.clone()).collect::<Vec<_>>().join("\n");
        let all = text(&in_sets);
        let (answered, late) = (CASES - CASES / 4 - 1, CASES / 4 + 1);
        // Two reminders for those who answered, three (the last repeat) for the late ones,
        // each showing the deadline.
        let reminders = all
            .lines()
            .filter(|l| l.starts_with("message enkat-paminnelse") && l.contains("Svara senast 2026-10-11"))
            .count();
        assert_eq!(reminders, 2 * answered + 3 * late, "{all}");
        assert_eq!(all.matches("audit c anmält till organ").count(), answered, "{all}");
        assert_eq!(all.matches("instance klar").count(), answered);
        assert_eq!(all.matches("instance sen").count(), late);

        // Most steps went in sets on one side, every step alone on the other.
        assert!(set_steps >= 5 * CASES as u64, "{set_steps} in sets, {set_alone} alone");
        assert_eq!(alone_in_sets, 0);
        assert!(alone_steps >= 5 * CASES as u64);

        // And they wrote the same, ärende by ärende.
        for ((number, a), (_, b)) in in_sets.iter().zip(&alone) {
            assert_eq!(a, b, "ärende {number} differs between sets (left) and one by one (right)");
        }
    }
}
