//! Meetings: paragraph numbers per organ and year under concurrency, and decisions that move
//! the ärende's workflow.

use std::collections::BTreeSet;
use std::path::Path;

use chrono::{NaiveDate, TimeZone, Utc};
use kansli::clock::ManualClock;
use kansli::service::{Actor, Engine, ServiceError};
use serde_json::Map;

use crate::harness::{AppOptions, spawn_app_with};
use crate::helpers::date as day;
use crate::helpers::{actor, open};
use crate::on_both_backends;

async fn engine(db: &crate::helpers::TestDb) -> Engine {
    engine_and_clock(db).await.0
}

/// The engine over the demo municipality on 2 November 2026, and its clock.
async fn engine_and_clock(db: &crate::helpers::TestDb) -> (Engine, ManualClock) {
    let app =
        crate::harness::spawn_app(db, Utc.with_ymd_and_hms(2026, 11, 2, 9, 0, 0).unwrap()).await;
    (app.engine.clone(), app.clock.clone())
}

/// Noon (UTC) on `day`.
fn noon(day: NaiveDate) -> chrono::DateTime<Utc> {
    day.and_hms_opt(12, 0, 0).unwrap().and_utc()
}

on_both_backends! {
    async fn paragraphs_are_numbered_per_organ_and_year_without_a_gap_under_concurrent_recording(db) {
        let engine = engine(db).await;
        let sekreterare = Actor::new("sara.nyqvist");
        let ksau = crate::helpers::held_meeting(&engine, "KSAU", day(2026, 12, 1), "Sammanträdesrummet", &sekreterare).await;
        let ksag = crate::helpers::held_meeting(&engine, "ksag", day(2026, 12, 1), "Lilla salen", &sekreterare).await;
        // Eight sekreterare at once, each recording 25 ärenden of their own (an ärende gets one
        // paragraph a meeting), four at each organ's meeting.
        let mut cases = Vec::new();
        for i in 0..8 {
            let meeting = if i % 2 == 0 { ksau.id } else { ksag.id };
            let mut own = Vec::new();
            for j in 0..25 {
                let case = engine.kansli().open_case(open("KS", &format!("Ärende {i}.{j}")), &actor()).await.unwrap();
                engine.add_to_agenda(meeting, &case.number, &sekreterare).await.unwrap();
                own.push(case.number);
            }
            cases.push((meeting, own));
        }
        let mut tasks = Vec::new();
        for (meeting, own) in cases.clone() {
            let engine = engine.clone();
            tasks.push(tokio::spawn(async move {
                let mut labels = Vec::new();
                for number in own {
                    labels.push(engine.record_decision(meeting, &number, "att notera informationen", None, &[], &Actor::new("s")).await.unwrap().label);
                }
                labels
            }));
        }
        let mut ksau_numbers = BTreeSet::new();
        let mut ksag_numbers = BTreeSet::new();
        for t in tasks {
            for label in t.await.unwrap() {
                let (organ, rest) = label.split_once(" § ").unwrap();
                let (n, year) = rest.split_once('/').unwrap();
                assert_eq!(year, "26");
                let set = if organ == "KSAU" { &mut ksau_numbers } else { &mut ksag_numbers };
                assert!(set.insert(n.parse::<u32>().unwrap()), "{label} given twice");
            }
        }
        assert_eq!(ksau_numbers, (1..=100).collect::<BTreeSet<_>>(), "KSAU: 1 to 100, no gap");
        assert_eq!(ksag_numbers, (1..=100).collect::<BTreeSet<_>>(), "KSAG has its own series");
        // A new year starts a new series.
        let january = crate::helpers::held_meeting(&engine, "KSAU", day(2027, 1, 12), "Sammanträdesrummet", &sekreterare).await;
        engine.add_to_agenda(january.id, &cases[0].1[0], &sekreterare).await.unwrap();
        let first = engine.record_decision(january.id, &cases[0].1[0], "att notera informationen", None, &[], &sekreterare).await.unwrap();
        assert_eq!(first.label, "KSAU § 1/27");
    }

    async fn a_proposal_and_a_decision_move_the_follow_up_from_the_utskott_to_justering(db) {
        let (engine, clock) = engine_and_clock(db).await;
        let (_, number) = engine.start("aktiva-atgarder", Map::new(), &Actor::new("x")).await.unwrap();
        let number = number.unwrap();
        let target = kansli::service::Target { case_number: number.clone(), unit: None };
        let handlaggare = kansli::workflow::Sender::Role(kansli::domain::organisation::Role::Handlaggare);
        engine.send(&target, "sammanstall", handlaggare, &Actor::new("amira"), None).await.unwrap();
        engine.send(&target, "tjansteskrivelse_klar", handlaggare, &Actor::new("amira"), None).await.unwrap();
        let s = Actor::new("sara.nyqvist");
        let ksau = crate::helpers::held_meeting(&engine, "KSAU", day(2026, 12, 1), "Sammanträdesrummet", &s).await;
        // Not on the agenda: refused, and no number used.
        let err = engine.record_decision(ksau.id, &number, "att godkänna", None, &[], &s).await.unwrap_err();
        assert!(matches!(err, ServiceError::Invalid(ref m) if m.contains("not on the agenda")), "{err}");
        engine.add_to_agenda(ksau.id, &number, &s).await.unwrap();
        let proposal = engine.record_decision(ksau.id, &number, "att föreslå kommunstyrelsen besluta att godkänna rapporten", Some("KS"), &[], &s).await.unwrap();
        assert_eq!(proposal.label, "KSAU § 1/26");
        assert!(proposal.workflow.contains("beredning → ks_behandling"), "{}", proposal.workflow);
        let ks = crate::helpers::held_meeting(&engine, "KS", day(2026, 12, 15), "Sessionssalen", &s).await;
        engine.add_to_agenda(ks.id, &number, &s).await.unwrap();
        let decision = engine.record_decision(ks.id, &number, "att godkänna rapporten och lägga den till handlingarna", None, &["Samtliga nämnder".into()], &s).await.unwrap();
        assert_eq!(decision.label, "KS § 1/26");
        assert!(decision.workflow.contains("ks_behandling → justering"), "{}", decision.workflow);
        let history = engine.kansli().case_history(&number).await.unwrap();
        assert!(history.iter().any(|h| h.action == "beslut" && h.detail.as_deref().unwrap().starts_with("KS § 1/26")));
        assert!(engine.create_meeting("XYZ", day(2026, 12, 1), "x", &s).await.is_err());
        // Justerat and announced: the appeal clock runs, and the follow-up moves to anslag.
        clock.set(noon(day(2026, 12, 18)));
        let (protocol, warnings) = engine.justera(ks.id, &["Eva Ek".into(), "Olle Ås".into()], day(2026, 12, 18), Some(day(2026, 12, 18)), &s).await.unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(protocol.appeal_last_day, day(2027, 1, 8), "three weeks after Friday 18 December: Friday 8 January, a vardag");
        assert_eq!(protocol.taken_down_on, day(2027, 1, 9));
        let events = engine.events_of(&number).await.unwrap();
        assert_eq!(events.iter().find(|i| i.unit.is_none()).unwrap().state, "anslag");
        assert!(engine.justera(ks.id, &["Eva Ek".into()], day(2026, 12, 18), None, &s).await.is_err(), "justerat once");
    }

    async fn a_decision_at_the_moment_of_justering_is_in_the_protocol_or_refused(db) {
        let (engine, clock) = engine_and_clock(db).await;
        clock.set(noon(day(2026, 12, 2)));
        let s = Actor::new("sara.nyqvist");
        let ks = crate::helpers::held_meeting(&engine, "KS", day(2026, 12, 1), "Sessionssalen", &s).await;
        let mut numbers = Vec::new();
        for i in 0..16 {
            let case = engine.kansli().open_case(open("KS", &format!("Ärende {i}")), &actor()).await.unwrap();
            engine.add_to_agenda(ks.id, &case.number, &s).await.unwrap();
            numbers.push(case.number);
        }
        let mut tasks = tokio::task::JoinSet::new();
        for (i, number) in numbers.iter().enumerate() {
            let (engine, number) = (engine.clone(), number.clone());
            tasks.spawn(async move {
                if i == 8 {
                    engine.justera(ks.id, &["Eva Ek".into()], day(2026, 12, 2), None, &Actor::new("s")).await.map(|_| None)
                } else {
                    engine.record_decision(ks.id, &number, "att notera informationen", None, &[], &Actor::new("s")).await.map(|p| p.case_number)
                }
            });
        }
        let mut decided = BTreeSet::new();
        let mut refused = 0;
        while let Some(result) = tasks.join_next().await {
            match result.unwrap() {
                Ok(Some(number)) => { decided.insert(number); }
                Ok(None) => {}
                Err(ServiceError::Final(m)) => { assert!(m.contains("is justerat"), "{m}"); refused += 1; }
                Err(e) => panic!("{e}"),
            }
        }
        assert_eq!(decided.len() + refused, 15);
        // Every decision that was taken is in the justerat protocol: its ärende's history says
        // so, as the justering wrote it in the same transaction. None came after.
        for number in &numbers {
            let history = engine.kansli().case_history(number).await.unwrap();
            let in_protocol = history.iter().any(|h| h.action == "protokoll justerat");
            assert_eq!(in_protocol, decided.contains(number), "{number}: {history:?}");
        }
        let paragraphs = engine.kansli().store().paragraphs_of_meeting(ks.id).await.unwrap();
        assert_eq!(paragraphs.len(), decided.len());
        // And after it nothing more.
        let err = engine.record_decision(ks.id, &numbers[8], "att notera", None, &[], &s).await.unwrap_err();
        assert!(matches!(err, ServiceError::Final(_)), "{err}");
        let err = engine.add_to_agenda(ks.id, &numbers[0], &s).await.unwrap_err();
        assert!(matches!(err, ServiceError::Final(_)), "{err}");
    }

    async fn each_organs_decision_takes_effect_at_its_own_justering_in_every_order(db) {
        let (engine, clock) = engine_and_clock(db).await;
        let s = Actor::new("sara.nyqvist");
        let handlaggare = kansli::workflow::Sender::Role(kansli::domain::organisation::Role::Handlaggare);
        // Three follow-ups that go on to KF: KS's protocol is justerat after KF has decided one
        // of them and before KF decides the others; the utskott's last of all.
        let mut numbers = Vec::new();
        for _ in 0..3 {
            let vars = Map::from_iter([("to_kf".to_owned(), serde_json::json!(true))]);
            let (_, number) = engine.start("aktiva-atgarder", vars, &Actor::new("x")).await.unwrap();
            let number = number.unwrap();
            let target = kansli::service::Target { case_number: number.clone(), unit: None };
            engine.send(&target, "sammanstall", handlaggare, &Actor::new("amira"), None).await.unwrap();
            engine.send(&target, "tjansteskrivelse_klar", handlaggare, &Actor::new("amira"), None).await.unwrap();
            numbers.push(number);
        }
        clock.set(noon(day(2026, 12, 22)));
        let meeting = |organ: &'static str, date: NaiveDate| {
            let (engine, s) = (engine.clone(), s.clone());
            async move { crate::helpers::held_meeting(&engine, organ, date, "Salen", &s).await.id }
        };
        let decide = |meeting: i32, number: String, proposal: Option<&'static str>| {
            let (engine, s) = (engine.clone(), s.clone());
            async move {
                engine.add_to_agenda(meeting, &number, &s).await.unwrap();
                let p = engine.record_decision(meeting, &number, "att godkänna rapporten", proposal, &["HR-chef".into()], &s).await.unwrap();
                assert!(!p.needs_attention, "{}: {}", p.label, p.workflow);
                p.label
            }
        };
        let extracts = |number: String| {
            let engine = engine.clone();
            async move {
                let case = engine.kansli().show_case(&number).await.unwrap();
                let mut found = Vec::new();
                let drawn_up = case.documents.iter().filter(|d| d.direction == kansli::domain::document::Direction::Internal);
                for d in drawn_up.filter(|d| d.description.starts_with("Protokollsutdrag")) {
                    let text = crate::helpers::document_text(engine.kansli().document_file(&d.number).await.unwrap().1);
                    assert!(!text.contains("ännu inte justerat"), "a preliminary extract was registered: {text}");
                    found.push(if text.contains("KF § ") { "KF" } else { "other" });
                }
                let sent = case.documents.iter().filter(|d| d.direction == kansli::domain::document::Direction::Outgoing).count();
                (found, sent)
            }
        };
        let justera = |meeting: i32, on: NaiveDate| {
            let (engine, s) = (engine.clone(), s.clone());
            async move { engine.justera(meeting, &["Eva Ek".into()], on, None, &s).await.unwrap().1 }
        };
        let ksau = meeting("KSAU", day(2026, 12, 1)).await;
        let ks = meeting("KS", day(2026, 12, 8)).await;
        let kf = meeting("KF", day(2026, 12, 15)).await;
        for number in &numbers {
            decide(ksau, number.clone(), Some("KS")).await;
            decide(ks, number.clone(), Some("KF")).await;
        }
        // 0: KF decides, then KS's protocol is justerat: that justering gives nothing (KF's
        // decision is the ärende's last word), KF's own does.
        decide(kf, numbers[0].clone(), None).await;
        // 1: KS's protocol justerat while KF has not decided: nothing either.
        justera(ks, day(2026, 12, 10)).await;
        for number in &numbers {
            assert_eq!(extracts(number.clone()).await, (vec![], 0), "{number}: nothing before KF's justering");
        }
        decide(kf, numbers[1].clone(), None).await;
        decide(kf, numbers[2].clone(), None).await;
        justera(ksau, day(2026, 12, 3)).await;
        justera(kf, day(2026, 12, 17)).await;
        for number in &numbers {
            let (found, sent) = extracts(number.clone()).await;
            assert_eq!(found, ["KF"], "{number}: KF's extract, once");
            assert!(sent >= 1, "{number}: expedited");
        }
    }

    async fn the_arende_stays_open_until_the_day_after_the_last_day_for_appeal_from_the_anslag(db) {
        let (engine, clock) = engine_and_clock(db).await;
        let s = Actor::new("sara.nyqvist");
        let handlaggare = kansli::workflow::Sender::Role(kansli::domain::organisation::Role::Handlaggare);
        let local = |d: NaiveDate, h: u32, m: u32| {
            chrono_tz::Europe::Stockholm.from_local_datetime(&d.and_hms_opt(h, m, 0).unwrap()).unwrap().with_timezone(&Utc)
        };
        // Across New Year (anslag 18 December 2026, last day 8 January) and across Easter
        // (anslag 8 March 2027, three weeks on is Easter Monday: last day 30 March). Each
        // justering is recorded late, days after the anslag, as happens.
        for (meeting_on, justerad, posted, recorded, last_day) in [
            (day(2026, 12, 15), day(2026, 12, 17), day(2026, 12, 18), day(2026, 12, 28), day(2027, 1, 8)),
            (day(2027, 3, 2), day(2027, 3, 5), day(2027, 3, 8), day(2027, 3, 12), day(2027, 3, 30)),
        ] {
            clock.set(noon(meeting_on));
            let (_, number) = engine.start("aktiva-atgarder", Map::new(), &Actor::new("x")).await.unwrap();
            let number = number.unwrap();
            let target = kansli::service::Target { case_number: number.clone(), unit: None };
            engine.send(&target, "sammanstall", handlaggare, &Actor::new("amira"), None).await.unwrap();
            engine.send(&target, "tjansteskrivelse_klar", handlaggare, &Actor::new("amira"), None).await.unwrap();
            let ksau = crate::helpers::held_meeting(&engine, "KSAU", meeting_on, "Rummet", &s).await;
            engine.add_to_agenda(ksau.id, &number, &s).await.unwrap();
            engine.record_decision(ksau.id, &number, "att föreslå kommunstyrelsen att godkänna", Some("KS"), &[], &s).await.unwrap();
            let ks = crate::helpers::held_meeting(&engine, "KS", meeting_on, "Salen", &s).await;
            engine.add_to_agenda(ks.id, &number, &s).await.unwrap();
            engine.record_decision(ks.id, &number, "att godkänna rapporten", None, &[], &s).await.unwrap();
            clock.set(noon(recorded));
            let (protocol, _) = engine.justera(ks.id, &["Eva Ek".into()], justerad, Some(posted), &s).await.unwrap();
            assert_eq!(protocol.appeal_last_day, last_day);
            let status = |engine: Engine, number: String| async move { engine.kansli().show_case(&number).await.unwrap().status };
            // Open through the whole of the last day, though the step was recorded days late.
            clock.set(local(last_day, 23, 59));
            engine.tick().await.unwrap();
            assert_eq!(status(engine.clone(), number.clone()).await, "open", "{number} on {last_day}");
            // Closed by itself on the day after.
            clock.set(local(last_day.succ_opt().unwrap(), 0, 1));
            engine.tick().await.unwrap();
            assert_eq!(status(engine.clone(), number.clone()).await, "closed", "{number} the day after {last_day}");
        }
    }

    async fn a_workflow_with_names_of_its_own_is_moved_by_its_meetings_through_its_declaration(db) {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let options = AppOptions { workflows: Some(root.join("tests/fixtures/renamed-meetings")), ..AppOptions::default() };
        let app = spawn_app_with(db, noon(day(2026, 11, 30)), options).await;
        let (clock, engine) = (app.clock.clone(), app.engine.clone());
        let s = Actor::new("sara.nyqvist");
        let (_, number) = engine.start("arende-med-egna-namn", Map::new(), &s).await.unwrap();
        let number = number.unwrap();
        let state = |engine: Engine, number: String| async move {
            engine.events_of(&number).await.unwrap().into_iter().find(|i| i.unit.is_none()).unwrap().state
        };
        let ksau = crate::helpers::held_meeting(&engine, "KSAU", day(2026, 12, 1), "Rummet", &s).await;
        engine.add_to_agenda(ksau.id, &number, &s).await.unwrap();
        let proposal = engine.record_decision(ksau.id, &number, "att föreslå styrelsen att bifalla motionen", Some("KS"), &[], &s).await.unwrap();
        assert!(!proposal.needs_attention && proposal.workflow.contains("utskottet_foreslar: i_utskottet → i_styrelsen"), "{}", proposal.workflow);
        let ks = crate::helpers::held_meeting(&engine, "KS", day(2026, 12, 8), "Salen", &s).await;
        engine.add_to_agenda(ks.id, &number, &s).await.unwrap();
        let decision = engine.record_decision(ks.id, &number, "att bifalla motionen", None, &[], &s).await.unwrap();
        assert!(decision.workflow.contains("organet_har_sagt_sitt: i_styrelsen → vantar_pa_protokollet"), "{}", decision.workflow);
        clock.set(noon(day(2026, 12, 10)));
        let (protocol, warnings) = engine.justera(ks.id, &["Eva Ek".into()], day(2026, 12, 10), None, &s).await.unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(state(engine.clone(), number.clone()).await, "overklagbart");
        // Its own timer runs from the last day for appeal the justering told it.
        clock.set(noon(protocol.appeal_last_day));
        engine.tick().await.unwrap();
        assert_eq!(state(engine.clone(), number.clone()).await, "overklagbart");
        clock.set(noon(protocol.appeal_last_day.succ_opt().unwrap()));
        engine.tick().await.unwrap();
        assert_eq!(engine.kansli().show_case(&number).await.unwrap().status, "closed");
    }

    async fn the_appeal_deadline_follows_the_law_and_a_late_justering_is_warned_about(db) {
        let engine = engine(db).await;
        let s = Actor::new("sara.nyqvist");
        // The worked example: posted Monday 4 December 2023, three weeks is juldagen, then
        // annandag jul: the last day is Wednesday 27 December.
        let m = crate::helpers::held_meeting(&engine, "KS", day(2023, 11, 20), "Sessionssalen", &s).await;
        let (p, warnings) = engine.justera(m.id, &["Eva Ek".into()], day(2023, 12, 4), None, &s).await.unwrap();
        assert_eq!(p.appeal_last_day, day(2023, 12, 27));
        assert_eq!(p.taken_down_on, day(2023, 12, 28));
        assert_eq!(warnings.len(), 0, "14 days after the meeting is still in time: {warnings:?}");
        let late = crate::helpers::held_meeting(&engine, "KSAU", day(2023, 11, 20), "Rummet", &s).await;
        let (_, warnings) = engine.justera(late.id, &["Eva Ek".into()], day(2023, 12, 5), Some(day(2023, 12, 8)), &s).await.unwrap();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert!(warnings[0].contains("senare än 14 dagar efter sammanträdet") && warnings[1].contains("senare än andra dagen efter justeringen"), "{warnings:?}");
        let err = engine.justera(late.id, &[], day(2023, 12, 5), None, &s).await;
        assert!(err.is_err());
    }

    async fn the_tjansteskrivelse_is_drafted_from_the_arende_with_the_proposal_chain(db) {
        let engine = engine(db).await;
        let handlaggare = kansli::workflow::Sender::Role(kansli::domain::organisation::Role::Handlaggare);
        let draft = |vars: Map<String, serde_json::Value>| {
            let engine = engine.clone();
            async move {
                let (_, number) = engine.start("aktiva-atgarder", vars, &Actor::new("x")).await.unwrap();
                let number = number.unwrap();
                let target = kansli::service::Target { case_number: number.clone(), unit: None };
                engine.send(&target, "sammanstall", handlaggare, &Actor::new("amira"), None).await.unwrap();
                engine.send(&target, "tjansteskrivelse_klar", handlaggare, &Actor::new("amira"), None).await.unwrap();
                let case = engine.kansli().show_case(&number).await.unwrap();
                let ts = case.documents.iter().find(|d| d.description.starts_with("Tjänsteskrivelse")).unwrap();
                let (_, content) = engine.kansli().document_file(&ts.number).await.unwrap();
                String::from_utf8(content).unwrap()
            }
        };
        let html = draft(Map::new()).await;
        for expected in [
            "Amira Hadžić<br>HR-konsult<br>amira.hadzic@norrvika.example",
            "<strong>Kommunstyrelsen</strong>",
            "Kommunstyrelsens arbetsutskott föreslås besluta att föreslå kommunstyrelsen besluta</p>",
            "<li>Sammanställning av förvaltningarnas uppföljning av aktiva åtgärder 2026, 2026-11-02</li>",
            "Samtliga nämnder<br>Kommunledningsförvaltningen, HR-avdelningen<br>",
        ] {
            assert!(html.contains(expected), "{expected:?} missing:\n{html}");
        }
        let vars: Map<String, serde_json::Value> = serde_json::from_str(r#"{"preparing_organ": "KSAG", "to_kf": true}"#).unwrap();
        let html = draft(vars).await;
        assert!(
            html.contains("Kommunstyrelsens arbetsgivarutskott föreslås besluta att föreslå kommunstyrelsen besluta att föreslå kommunfullmäktige besluta</p>"),
            "{html}"
        );
    }

    async fn the_handlaggare_writes_the_texts_sees_the_draft_and_the_extract_follows_the_protocol(db) {
        let (engine, clock) = engine_and_clock(db).await;
        let handlaggare = kansli::workflow::Sender::Role(kansli::domain::organisation::Role::Handlaggare);
        let (_, number) = engine.start("aktiva-atgarder", Map::new(), &Actor::new("x")).await.unwrap();
        let number = number.unwrap();
        let target = kansli::service::Target { case_number: number.clone(), unit: None };
        let amira = Actor::new("amira");
        engine.send(&target, "sammanstall", handlaggare, &amira, None).await.unwrap();
        // The draft shows where the texts go before they are written.
        let draft = engine.draft_document(&number, "tjansteskrivelse").await.unwrap();
        assert!(draft.contains("[Handläggaren beskriver ärendet.]"), "{draft}");
        // A wrongly typed value is refused and changes nothing.
        let wrong = Map::from_iter([("sammanfattning".to_owned(), serde_json::json!(7))]);
        let err = engine.send_with(&target, "texter_sparade", wrong, handlaggare, &amira, None).await.unwrap_err();
        assert!(err.to_string().contains("sammanfattning is a string"), "{err}");
        let texts = Map::from_iter([
            ("sammanfattning".to_owned(), serde_json::json!("Sju av sju förvaltningar har svarat.\n\nAlla har <b>planer</b>.")),
            ("arendet".to_owned(), serde_json::json!("Uppföljningen gjordes\nmed enkät.")),
        ]);
        engine.send_with(&target, "texter_sparade", texts, handlaggare, &amira, None).await.unwrap();
        let draft = engine.draft_document(&number, "tjansteskrivelse").await.unwrap();
        assert!(draft.contains("<p>Sju av sju förvaltningar har svarat.</p>\n<p>Alla har &lt;b&gt;planer&lt;/b&gt;.</p>"), "{draft}");
        assert!(draft.contains("<p>Uppföljningen gjordes med enkät.</p>") && !draft.contains("[Handläggaren"), "{draft}");
        let before = engine.kansli().show_case(&number).await.unwrap().documents.len();
        assert!(engine.draft_document(&number, "finns-inte").await.is_err());
        engine.send(&target, "tjansteskrivelse_klar", handlaggare, &amira, None).await.unwrap();
        let case = engine.kansli().show_case(&number).await.unwrap();
        assert_eq!(case.documents.len(), before + 1, "the draft registered nothing; the event one handling");

        // KSAU proposes, KS decides, the protocol is justerat: the extract is registered.
        let s = Actor::new("sara.nyqvist");
        let ksau = crate::helpers::held_meeting(&engine, "KSAU", day(2026, 11, 24), "Sammanträdesrummet", &s).await;
        engine.add_to_agenda(ksau.id, &number, &s).await.unwrap();
        engine.record_decision(ksau.id, &number, "att föreslå kommunstyrelsen besluta att godkänna rapporten", Some("KS"), &[], &s).await.unwrap();
        let ks = crate::helpers::held_meeting(&engine, "KS", day(2026, 12, 8), "Sessionssalen", &s).await;
        engine.add_to_agenda(ks.id, &number, &s).await.unwrap();
        let recipients = ["HR-chef".to_owned(), "Samtliga nämnder".to_owned(), "Kommundirektör".to_owned(), "Sektorchefer".to_owned(), "Revisorerna".to_owned()];
        engine.record_decision(ks.id, &number, "Kommunstyrelsen godkänner rapporten.\nKommunstyrelsen lägger rapporten till handlingarna.", None, &recipients, &s).await.unwrap();
        let unjusterat = engine.extract(&number, &"KS § 1/26".parse().unwrap()).await.unwrap();
        assert!(unjusterat.contains("ännu inte justerat"), "{unjusterat}");
        clock.set(noon(day(2026, 12, 10)));
        engine.justera(ks.id, &["Eva Ek".into(), "Olle Ås".into()], day(2026, 12, 10), None, &s).await.unwrap();
        let case = engine.kansli().show_case(&number).await.unwrap();
        let extract = case.documents.iter().find(|d| d.description.starts_with("Protokollsutdrag")).expect("registered at anslag");
        let (file, content) = engine.kansli().document_file(&extract.number).await.unwrap();
        // The registered extract: the archival PDF/A with the pdf feature, else the HTML.
        let text = crate::helpers::document_text(content.clone());
        for expected in ["KS § 1/26", number.as_str(), "Kommunstyrelsen godkänner rapporten.", "Kommunstyrelsens arbetsutskott", "2027-01-04"] {
            assert!(text.contains(expected), "{expected:?} missing from {}:\n{text}", file.name);
        }
        #[cfg(feature = "pdf")]
        {
            use crate::helpers::pdf_tool;
            assert_eq!((file.name.as_str(), file.media_type.as_str()), ("protokollsutdrag.pdf", "application/pdf"));
            let check = pdf_tool("qpdf", &["--check"], &content);
            assert!(check.contains("No syntax or stream encoding errors"), "{check}");
            let xmp = String::from_utf8_lossy(&content);
            assert!(xmp.contains("<pdfaid:part>2</pdfaid:part>") && xmp.contains("<pdfaid:conformance>B</pdfaid:conformance>"), "no PDF/A-2b identification");
            let fonts = pdf_tool("pdffonts", &[], &content);
            let rows: Vec<&str> = fonts.lines().skip(2).collect();
            assert!(!rows.is_empty() && rows.iter().all(|r| r.contains("DejaVuSans") && r.split_whitespace().rev().nth(4) == Some("yes")), "every font embedded:\n{fonts}");
            let via_cli = engine.extract_as(&number, &"KS § 1/26".parse().unwrap(), kansli::service::DocumentFormat::Pdf).await.unwrap();
            assert!(via_cli.starts_with(b"%PDF-"));
        }
        let html = engine.extract(&number, &"KS § 1/26".parse().unwrap()).await.unwrap();
        for expected in [
            "<p class=\"paragraf\">KS § 1/26</p>",
            &format!("<p>{number}</p>"),
            "<tr><td>1</td><td>Kommunstyrelsens arbetsutskott</td><td>2026-11-24</td><td>1/26</td></tr>",
            "<tr><td>2</td><td>Kommunstyrelsen</td><td>2026-12-08</td><td>1/26</td></tr>",
            "<p>Kommunstyrelsen godkänner rapporten.</p>\n<p>Kommunstyrelsen lägger rapporten till handlingarna.</p>",
            "<h2>Bakgrund</h2>\n<p>Uppföljningen gjordes med enkät.</p>",
            "<li>Tjänsteskrivelse, Årlig uppföljning av aktiva åtgärder inom likabehandling 2026, 2026-11-02</li>",
            "HR-chef<br>Samtliga nämnder<br>Kommundirektör<br>Sektorchefer<br>Revisorerna<br>",
            "justerades 2026-12-10 av Eva Ek, Olle Ås",
            "Sista dag att begära laglighetsprövning är 2027-01-04.",
        ] {
            assert!(html.contains(expected), "{expected:?} missing:\n{html}");
        }
        // Expedierat to each person and mailbox once, the extract attached; the entry nobody
        // answers to is in the history for the registrator.
        let sent: Vec<_> = engine.kansli().store().outbox(None).await.unwrap().into_iter()
            .filter(|o| o.template == "beslut-expedierat").collect();
        let to: BTreeSet<&str> = sent.iter().filter_map(|o| o.recipient_email.as_deref()).collect();
        let chefs = ["lena.stromgren", "karin.welander", "maria.sandell", "helena.voss", "gustav.ahlqvist", "ingrid.falk"];
        for expected in ["jonas.berglind@norrvika.example", "buf@norrvika.example", "mhf@norrvika.example"].into_iter()
            .map(str::to_owned).chain(chefs.iter().map(|c| format!("{c}@norrvika.example"))) {
            assert!(to.contains(expected.as_str()), "{expected} missing from {to:?}");
        }
        assert_eq!(sent.len(), to.len(), "one message per address, though Lena Strömgren is both kommundirektör and förvaltningschef");
        let history = engine.kansli().case_history(&number).await.unwrap();
        assert!(history.iter().any(|h| h.action == "expediering saknar mottagare" && h.detail.as_deref().is_some_and(|d| d.starts_with("Revisorerna"))));
        let outgoing = engine.kansli().show_case(&number).await.unwrap().documents.into_iter()
            .filter(|d| d.direction == kansli::domain::document::Direction::Outgoing).count();
        assert_eq!(outgoing, sent.len());
        // The extract of the utskott's paragraph has only the utskott in its table.
        let ksau_extract = engine.extract(&number, &"KSAU § 1/26".parse().unwrap()).await.unwrap();
        assert!(ksau_extract.contains("<p class=\"paragraf\">KSAU § 1/26</p>") && !ksau_extract.contains("<td>Kommunstyrelsen</td>"), "{ksau_extract}");
        let err = engine.extract(&number, &"KS § 2/26".parse().unwrap()).await.unwrap_err();
        assert!(matches!(err, ServiceError::NotFound(ref m) if m.contains("KS § 2/26")), "{err}");
    }
}
