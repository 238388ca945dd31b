//! A handling and the workflow step its registration brings stand or fall together: a refused
//! step registers nothing, a database that fails halfway leaves neither, and the same
//! registration goes through once the database is whole.

use kansli::domain::organisation::Role;
use kansli::service::{Actor, Outcome, ServiceError, Target};
use kansli::workflow::Sender;
use serde_json::Map;

use crate::harness::{AppOptions, spawn_app_with};
use crate::helpers::{day, incoming};
use crate::on_both_backends;

/// A remiss out: the registrator's registering of the answer is the step that moves it on.
const REMISS: &str = "\
id: remiss
title: Remiss
case: { series: KLF, title: Remiss till BUN, handlaggare: amira.hadzic }
initial: ute
states:
  ute:
    timers:
      - { name: svarstid, after: 30d, event: paminn }
    on:
      - { event: svar_inkommit, by: [registrator], to: besvarad }
      - { event: paminn, by: [system] }
  besvarad:
    on:
      - { event: avsluta, by: [handläggare], to: klar }
  klar:
    final: true
";

on_both_backends! {
    async fn a_handling_and_the_step_it_brings_stand_or_fall_together(db) {
        let workflows = tempfile::tempdir().unwrap();
        std::fs::write(workflows.path().join("remiss.yaml"), REMISS).unwrap();
        let options = AppOptions { workflows: Some(workflows.path().to_owned()), ..AppOptions::default() };
        let app = spawn_app_with(db, day(3, 2), options).await;
        let (kansli, engine) = (app.kansli.clone(), app.engine.clone());
        let per = Actor::new("per.ekdahl");
        let (_, number) = engine.start("remiss", Map::new(), &per).await.unwrap();
        let target = Target { case_number: number.unwrap(), unit: None };
        let registrator = Sender::Role(Role::Registrator);
        let state = || async { engine.workflow_of(&target.case_number).await.unwrap().1 };
        let handlingar = || async { kansli.show_case(&target.case_number).await.unwrap().documents.len() };
        let history = || async { kansli.case_history(&target.case_number).await.unwrap().len() };
        let before = history().await;

        // A step the state does not take: nothing is registered.
        let refused = engine.register_with_step(&target, incoming("Svar på remiss"), "avsluta", registrator, &per).await.unwrap_err();
        assert!(matches!(refused, ServiceError::Refused(_)), "{refused:?}");
        assert_eq!((handlingar().await, history().await, state().await), (0, before, "ute".to_owned()));

        // The database fails after the handling is written and before the step is: neither
        // stands (the timers' table is gone for a moment; the step stops the state's timer).
        let conn = sea_orm::Database::connect(&db.url).await.unwrap();
        sea_orm::ConnectionTrait::execute_unprepared(&conn, "ALTER TABLE timer RENAME TO timer_away").await.unwrap();
        let failed = engine.register_with_step(&target, incoming("Svar på remiss"), "svar_inkommit", registrator, &per).await.unwrap_err();
        assert!(matches!(failed, ServiceError::Unexpected(_)), "{failed:?}");
        sea_orm::ConnectionTrait::execute_unprepared(&conn, "ALTER TABLE timer_away RENAME TO timer").await.unwrap();
        assert_eq!((handlingar().await, history().await, state().await), (0, before, "ute".to_owned()), "neither the handling nor the step");

        // Whole again: the same registration goes through, with its step, once.
        let (document, outcome) = engine.register_with_step(&target, incoming("Svar på remiss"), "svar_inkommit", registrator, &per).await.unwrap();
        assert_eq!(document.number, format!("{}:1", target.case_number), "the number the failed attempts did not use");
        assert!(matches!(outcome, Outcome::Applied { ref to, .. } if to == "besvarad"), "{outcome:?}");
        assert_eq!((handlingar().await, state().await), (1, "besvarad".to_owned()));
        let steps = kansli.case_history(&target.case_number).await.unwrap();
        let registered = steps.iter().position(|h| h.action == "handling registrerad").expect("the registration");
        let moved = steps.iter().position(|h| h.action == "svar_inkommit").expect("the step");
        assert_eq!(steps[registered].at, steps[moved].at, "one transaction, one moment");
    }
}
