//! The second shipped workflow, end to end: a motion to kommunfullmäktige (workflows/motion.yaml)
//! with state and event names of its own, run by the same engine, meetings and dispatch as the
//! yearly follow-up. One motion is answered within the year: the handläggare's tjänsteskrivelse,
//! KSAU's and KS's proposals, KF's decision, justering, expediering, and the ärende closed on the
//! day after the last day for appeal, its year's reminders never sent. Another is not answered:
//! the handläggare is reminded nine months on, and eleven months on a redovisning to fullmäktige
//! is registered, the nämndsekreterare told, and fullmäktige informed within the year (kommunallagen
//! 5 kap 35 §).

use std::path::Path;

use chrono::{TimeZone, Utc};
use kansli::domain::organisation::Role;
use kansli::domain::protocol::ParagraphKind;
use kansli::service::{Actor, Outcome, ParagraphInput, Target};
use kansli::workflow::Sender;
use serde_json::{Map, json};

use crate::harness::{AppOptions, spawn_app_with};
use crate::helpers::{date as day, local};
use crate::on_both_backends;

/// The shipped motion workflow alone, so that no scheduled workflow starts on the way.
fn motion_only() -> tempfile::TempDir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(
        root.join("workflows/motion.yaml"),
        dir.path().join("motion.yaml"),
    )
    .unwrap();
    dir
}

fn motion(amne: &str, motionar: &str, vackt: &str) -> Map<String, serde_json::Value> {
    Map::from_iter([
        ("amne".to_owned(), json!(amne)),
        ("motionar".to_owned(), json!(motionar)),
        ("vackt".to_owned(), json!(vackt)),
        (
            "skickas_till".to_owned(),
            json!("Kommunledningsförvaltningen"),
        ),
    ])
}

on_both_backends! {
    async fn a_motion_is_answered_by_fullmaktige_within_the_year_and_another_is_reported_to_it_when_not(db) {
        let workflows = motion_only();
        let options = AppOptions { workflows: Some(workflows.path().to_owned()), ..AppOptions::default() };
        let app = spawn_app_with(db, local(2026, 2, 17, 9), options).await;
        let (kansli, clock, engine) = (app.kansli.clone(), app.clock.clone(), app.engine.clone());
        let per = Actor::new("per.ekdahl");
        let sara = Actor::new("sara.nyqvist");
        let tove = Actor::new("tove.lindqvist");

        // Two motions raised at KF's February meeting; a workflow without a schedule starts as
        // often as asked.
        let (_, answered) = engine.start_by_hand("motion", motion("solceller på kommunens tak", "Fia Lund (MP)", "2026-02-16"), false, &per).await.unwrap();
        let (_, unanswered) = engine.start_by_hand("motion", motion("fler bänkar i centrum", "Bo Strand (C)", "2026-02-16"), false, &per).await.unwrap();
        let (answered, unanswered) = (answered.unwrap(), unanswered.unwrap());
        assert_eq!((answered.as_str(), unanswered.as_str()), ("KS 2026/1", "KS 2026/2"));
        let case = kansli.show_case(&answered).await.unwrap();
        assert_eq!(case.title, "Motion om solceller på kommunens tak (Fia Lund (MP))");
        assert_eq!(case.handlaggare.map(|p| p.name).as_deref(), Some("Tove Lindqvist"));

        // The handläggare writes the answer and registers it: the proposal runs KSAU → KS → KF.
        clock.set(local(2026, 3, 20, 10));
        let target = Target { case_number: answered.clone(), unit: None };
        let handlaggare = Sender::Role(Role::Handlaggare);
        let texts = Map::from_iter([
            ("sammanfattning".to_owned(), json!("Motionären föreslår solceller på kommunens tak.")),
            ("arendet".to_owned(), json!("Tre av kommunens byggnader har tak som lämpar sig för solceller.")),
        ]);
        engine.send_with(&target, "svarstexter_sparade", texts, handlaggare, &tove, None).await.unwrap();
        assert!(matches!(engine.send(&target, "svarsforslag_klart", handlaggare, &tove, None).await.unwrap(), Outcome::Applied { .. }));
        let documents = kansli.show_case(&answered).await.unwrap().documents;
        let svar = documents.iter().find(|d| d.description == "Tjänsteskrivelse, svar på motion om solceller på kommunens tak").expect("the tjänsteskrivelse");
        let text = crate::helpers::document_text(kansli.document_file(&svar.number).await.unwrap().1);
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        for expected in ["Svar på Motion om solceller på kommunens tak", "Tove Lindqvist", "föreslå kommunfullmäktige besluta", "Tre av kommunens byggnader"] {
            assert!(flat.contains(expected), "{expected:?} missing: {flat}");
        }

        // KSAU proposes to KS, KS to KF, KF decides: each by the motion's own meeting events.
        let ksau = crate::helpers::held_meeting(&engine, "KSAU", day(2026, 4, 7), "Sammanträdesrummet", &sara).await;
        engine.add_to_agenda(ksau.id, &answered, &sara).await.unwrap();
        let p = engine.record_decision(ksau.id, &answered, "att föreslå kommunstyrelsen föreslå kommunfullmäktige att anse motionen besvarad", Some("KS"), &[], &sara).await.unwrap();
        assert!(p.workflow.contains("i_utskottet → i_kommunstyrelsen") && !p.needs_attention, "{}", p.workflow);
        let ks = crate::helpers::held_meeting(&engine, "KS", day(2026, 4, 21), "Sessionssalen", &sara).await;
        engine.add_to_agenda(ks.id, &answered, &sara).await.unwrap();
        let p = engine.record_decision(ks.id, &answered, "att föreslå kommunfullmäktige att anse motionen besvarad", Some("KF"), &[], &sara).await.unwrap();
        assert!(p.workflow.contains("i_kommunstyrelsen → i_fullmaktige"), "{}", p.workflow);
        let kf = crate::helpers::held_meeting(&engine, "KF", day(2026, 5, 11), "Fullmäktigesalen", &sara).await;
        engine.add_to_agenda(kf.id, &answered, &sara).await.unwrap();
        let p = engine.record_decision(kf.id, &answered, "att anse motionen besvarad", None, &[], &sara).await.unwrap();
        assert!(p.label == "KF § 1/26" && p.workflow.contains("i_fullmaktige → protokoll_justeras"), "{} {}", p.label, p.workflow);
        clock.set(local(2026, 5, 13, 15));
        let (protocol, _) = engine.justera(kf.id, &["Eva Ek".into(), "Olle Ås".into()], day(2026, 5, 13), None, &sara).await.unwrap();
        let documents = kansli.show_case(&answered).await.unwrap().documents;
        assert!(documents.iter().any(|d| d.description == "Protokollsutdrag, motion om solceller på kommunens tak"), "{documents:#?}");
        assert!(documents.iter().any(|d| d.description.contains("(expediering)")), "the decision is expedited: {documents:#?}");

        // Open through the last day for appeal, closed the day after.
        let last = protocol.appeal_last_day;
        clock.set(chrono_tz::Europe::Stockholm.from_local_datetime(&last.and_hms_opt(23, 0, 0).unwrap()).unwrap().with_timezone(&Utc));
        engine.tick().await.unwrap();
        assert_eq!(kansli.show_case(&answered).await.unwrap().status, "open");
        let after = last.succ_opt().unwrap();
        clock.set(chrono_tz::Europe::Stockholm.from_local_datetime(&after.and_hms_opt(0, 30, 0).unwrap()).unwrap().with_timezone(&Utc));
        engine.tick().await.unwrap();
        assert_eq!(kansli.show_case(&answered).await.unwrap().status, "closed");

        // Nine months on the other motion's handläggare is reminded, with the year's last day;
        // the answered one sends nothing more.
        clock.set(local(2026, 11, 16, 10));
        engine.tick().await.unwrap();
        let messages = kansli.messages(None, None).await.unwrap();
        let reminders: Vec<_> = messages.iter().filter(|m| m.template == "motion-paminnelse").collect();
        assert_eq!(reminders.len(), 1, "one reminder, for the unanswered motion: {reminders:#?}");
        let reminder = kansli.message(reminders[0].id).await.unwrap();
        assert!(reminder.to.as_deref().unwrap_or_default().contains("tove.lindqvist@norrvika.example"), "{:?}", reminder.to);
        let text = reminder.text.unwrap();
        assert!(text.contains(&unanswered) && text.contains("senast 2027-02-16") && text.contains("5 kap 35 §"), "{text}");

        // Eleven months on: a redovisning to fullmäktige is registered, and the handläggare and
        // the nämndsekreterare are told to report it within the year.
        clock.set(local(2027, 1, 12, 10));
        engine.tick().await.unwrap();
        let documents = kansli.show_case(&unanswered).await.unwrap().documents;
        let redovisning = documents.iter().find(|d| d.description.starts_with("Redovisning till kommunfullmäktige av motion som inte har beretts inom ett år")).expect("the redovisning");
        let text = crate::helpers::document_text(kansli.document_file(&redovisning.number).await.unwrap().1);
        assert!(text.contains("kommunallagen 5 kap 35 §") && text.contains("fler bänkar i centrum"), "{text}");
        let told: Vec<String> = kansli.messages(None, None).await.unwrap().into_iter().filter(|m| m.template == "motion-redovisning").map(|m| m.to.unwrap_or_default()).collect();
        assert_eq!(told.len(), 2, "{told:?}");
        assert!(told.iter().any(|t| t.contains("sara.nyqvist")) && told.iter().any(|t| t.contains("tove.lindqvist")), "{told:?}");
        assert!(kansli.messages(None, None).await.unwrap().iter().all(|m| m.template != "motion-paminnelse" || m.case_number.as_deref() != Some(answered.as_str())));

        // Fullmäktige is informed at its January meeting, within the year.
        let kf = crate::helpers::held_meeting(&engine, "KF", day(2027, 1, 25), "Fullmäktigesalen", &sara).await;
        engine.add_to_agenda(kf.id, &unanswered, &sara).await.unwrap();
        let info = ParagraphInput::on_case(ParagraphKind::Information, &unanswered, vec!["Kommunfullmäktige noterar redovisningen av motionen.".into()]);
        let p = engine.record_paragraph(kf.id, info, &sara).await.unwrap();
        assert_eq!(p.label, "KF § 1/27");
        let case = kansli.show_case(&unanswered).await.unwrap();
        assert_eq!(case.status, "open", "the motion is still being prepared");
        let history = kansli.case_history(&unanswered).await.unwrap();
        for action in ["aret_narmar_sig", "redovisning_behovs"] {
            assert!(history.iter().any(|h| h.action == action), "{action} in the history");
        }
    }
}
