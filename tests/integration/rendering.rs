//! Render first, then write: a step's document is drawn up while no transaction is open, so
//! that no other writer waits for it, and a document that cannot be drawn up leaves the step
//! unwritten, with the reason.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use kansli::service::{Actor, Engine, Kansli, Outcome, RenderObserver, ServiceError, Target};
use kansli::workflow::Sender;
use serde_json::Map;

use crate::harness::{AppOptions, spawn_app_with};
use crate::helpers::copy_dir;
use crate::helpers::{day, open};
use crate::on_both_backends;

/// A workflow whose one step registers a tjänsteskrivelse.
const WRITING: &str = "\
id: skrivelse
title: Skrivelse
case: { series: KLF, title: Skrivelse, handlaggare: amira.hadzic }
initial: utkast
states:
  utkast:
    on:
      - event: klar
        by: [handläggare]
        to: klar
        effects:
          - document: { template: tjansteskrivelse, direction: upprättad, description: Tjänsteskrivelse }
  klar:
    final: true
";

/// A folder holding [`WRITING`] alone.
fn writing() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("skrivelse.yaml"), WRITING).unwrap();
    dir
}

fn shipped_templates() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("templates")
}

async fn started(engine: &Engine) -> String {
    let (_, number) = engine
        .start("skrivelse", Map::new(), &Actor::new("per.ekdahl"))
        .await
        .unwrap();
    number.unwrap()
}

on_both_backends! {
    async fn another_writer_writes_while_a_steps_document_is_being_drawn_up(db) {
        // Another process on the same database: it opens an ärende each time a document is
        // being rendered. Were the step's transaction open then, on SQLite it would wait for
        // the step, which waits for the document: the write fails after the busy timeout.
        let other = Kansli::new(db.store(1).await, Arc::new(kansli::clock::ManualClock::new(day(3, 2))));
        let writes: Arc<Mutex<Vec<Result<String, String>>>> = Arc::default();
        let seen = writes.clone();
        let runtime = tokio::runtime::Handle::current();
        let observer = RenderObserver(Arc::new(move |template: &str| {
            let opened = runtime.block_on(other.open_case(open("KLF", &format!("Under renderingen av {template}")), &Actor::new("per.ekdahl")));
            seen.lock().unwrap().push(opened.map(|c| c.number).map_err(|e| e.to_string()));
        }));
        let workflows = writing();
        let options = AppOptions {
            workflows: Some(workflows.path().to_owned()),
            engine: Some(Box::new(move |engine: Engine| engine.observing_renders(observer))),
            ..AppOptions::default()
        };
        let app = spawn_app_with(db, day(3, 2), options).await;
        let (kansli, engine) = (app.kansli.clone(), app.engine.clone());
        let number = started(&engine).await;
        let target = Target { case_number: number.clone(), unit: None };
        let outcome = engine.send(&target, "klar", Sender::Role(kansli::domain::organisation::Role::Handlaggare), &Actor::new("amira.hadzic"), None).await.unwrap();
        assert!(matches!(outcome, Outcome::Applied { .. }), "{outcome:?}");

        let writes = writes.lock().unwrap().clone();
        assert_eq!(writes.len(), 1, "the document was rendered once: {writes:?}");
        let written = writes[0].clone().expect("the other writer was not kept waiting");
        assert!(kansli.show_case(&written).await.is_ok(), "{written} was written during the rendering");
        let documents = kansli.show_case(&number).await.unwrap().documents;
        assert_eq!(documents.len(), 1, "{documents:?}");
        let text = crate::helpers::document_text(kansli.document_file(&documents[0].number).await.unwrap().1);
        assert!(text.contains("Tjänsteskrivelse") && text.contains("Amira Hadžić"), "{text}");
    }

    async fn a_document_that_cannot_be_drawn_up_leaves_the_step_unwritten_and_says_why(db) {
        // The template passes the check with the sample document, whose answer has sections,
        // and fails on this ärende's, which has none.
        let templates = tempfile::tempdir().unwrap();
        copy_dir(&shipped_templates(), templates.path());
        std::fs::write(templates.path().join("documents/tjansteskrivelse.html.hbs"), "<p>{{sections.[0].title}}</p>\n").unwrap();
        let workflows = writing();
        let options = AppOptions {
            workflows: Some(workflows.path().to_owned()),
            templates: Some(templates.path().to_owned()),
            ..AppOptions::default()
        };
        let app = spawn_app_with(db, day(3, 2), options).await;
        let (kansli, engine) = (app.kansli.clone(), app.engine.clone());
        let number = started(&engine).await;
        let before = kansli.case_history(&number).await.unwrap().len();
        let target = Target { case_number: number.clone(), unit: None };
        let refused = engine.send(&target, "klar", Sender::Role(kansli::domain::organisation::Role::Handlaggare), &Actor::new("amira.hadzic"), None).await.unwrap_err();
        let message = refused.to_string();
        assert!(matches!(refused, ServiceError::Unexpected(_)), "{refused:?}");
        assert!(message.contains("document tjansteskrivelse cannot be drawn up, nothing was written") && message.contains("sections"), "{message}");
        let (_, state) = engine.workflow_of(&number).await.unwrap();
        assert_eq!(state, "utkast", "the step was not taken");
        assert_eq!(kansli.case_history(&number).await.unwrap().len(), before, "nothing in the history");
        assert!(kansli.show_case(&number).await.unwrap().documents.is_empty(), "no handling");
    }
}
