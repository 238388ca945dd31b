//! The protocol as kommunallagen has it: närvaro, omröstning, reservationer, jäv and paragraphs
//! of every kind; the input each of them refuses; återremiss and bordläggning moving the
//! ärende; a decision its workflow does not take waiting for a registrator; the meeting's
//! stages; and migration 000018 keeping every meeting, agenda item and paragraph.

use chrono::{NaiveDate, Utc};
use kansli::clock::ManualClock;
use kansli::domain::protocol::{MeetingStage, ParagraphKind, RemarkKind, VoteChoice};
use kansli::service::{
    Actor, AttendanceInput, DocumentFormat, Engine, ParagraphInput, RemarkInput, ServiceError,
    VoteInput,
};
use serde_json::Map;

use crate::helpers::date as day;
use crate::helpers::{actor, http, open};
use crate::on_both_backends;

fn noon(day: NaiveDate) -> chrono::DateTime<Utc> {
    day.and_hms_opt(12, 0, 0).unwrap().and_utc()
}

/// The engine over the demo municipality at noon on `today`, and its clock.
async fn engine_on(db: &crate::helpers::TestDb, today: NaiveDate) -> (Engine, ManualClock) {
    let app = crate::harness::spawn_app(db, noon(today)).await;
    (app.engine.clone(), app.clock.clone())
}

/// KS on 1 December 2026 with Olle Ås away and Hampus Kjellberg serving for him, Ingrid
/// Sandström present without serving, the kommundirektör beside them; Cecilia Palmgren
/// presides. Serving: Eva Ek, Cecilia Palmgren, David Åkesson, Elin Modig, Fredrik Åström,
/// Gunilla Dahlgren, Hampus Kjellberg.
async fn ks_meeting(engine: &Engine, s: &Actor) -> i32 {
    let m = engine
        .plan_meeting(
            "KS",
            day(2026, 12, 1),
            "Sessionssalen",
            Some("13.00-15.30"),
            Some("Kommunkansliet 2026-12-02"),
            s,
        )
        .await
        .unwrap();
    let input = AttendanceInput {
        chair: "Cecilia Palmgren".into(),
        secretary: Some("Sara Nyqvist".into()),
        absent: vec!["Olle Ås".into()],
        substitutes: vec![("Hampus Kjellberg".into(), "Olle Ås".into())],
        ersattare: vec!["Ingrid Sandström".into()],
        others: vec![("Kim Falk".into(), "kommundirektör".into())],
    };
    let warnings = engine.record_attendance(m.id, &input, s).await.unwrap();
    assert!(warnings.is_empty(), "{warnings:?}");
    m.id
}

/// An ärende of its own, on the meeting's agenda.
async fn on_agenda(engine: &Engine, meeting: i32, title: &str) -> String {
    let case = engine
        .kansli()
        .open_case(open("KS", title), &actor())
        .await
        .unwrap();
    engine
        .add_to_agenda(meeting, &case.number, &Actor::new("sara.nyqvist"))
        .await
        .unwrap();
    case.number
}

fn votes(list: &[(&str, VoteChoice)]) -> Vec<(String, VoteChoice)> {
    list.iter().map(|(n, v)| ((*n).to_owned(), *v)).collect()
}

fn html(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap()
}

on_both_backends! {
    async fn an_omrostning_is_counted_into_the_protocol_and_a_reservation_names_its_ledamot(db) {
        use VoteChoice::*;
        let (engine, _clock) = engine_on(db, day(2026, 12, 2)).await;
        let s = Actor::new("sara.nyqvist");
        let ks = ks_meeting(&engine, &s).await;
        engine.add_item_to_agenda(ks, "Val av justerare", &s).await.unwrap();
        let opening = ParagraphInput {
            title: Some("Val av justerare".into()),
            ..ParagraphInput::on_case(ParagraphKind::Ovrigt, "", vec!["Eva Ek utses att jämte ordföranden justera protokollet.".into()])
        };
        let opening = ParagraphInput { case_number: None, ..opening };
        assert_eq!(engine.record_paragraph(ks, opening, &s).await.unwrap().label, "KS § 1/26");
        let number = on_agenda(&engine, ks, "Motion om cykelbanor").await;
        let mut input = ParagraphInput::on_case(ParagraphKind::Beslut, &number, vec!["att bifalla motionen".into()]);
        input.yrkanden = vec!["Eva Ek (S): bifall till motionen".into(), "Gunilla Dahlgren (SD): avslag på motionen".into()];
        input.beslutsgang = Some("Ordföranden ställer proposition på bifall och avslag och finner bifall. Omröstning begärs.".into());
        input.vote = Some(VoteInput {
            question: "Ja för bifall, nej för avslag".into(),
            votes: votes(&[("Eva Ek", Ja), ("Cecilia Palmgren", Ja), ("David Åkesson", Ja), ("Elin Modig", Ja), ("Fredrik Åström", Avstar), ("Gunilla Dahlgren", Nej), ("hampus kjellberg", Nej)]),
        });
        input.remarks = vec![RemarkInput { kind: RemarkKind::Reservation, name: "Gunilla Dahlgren".into(), text: "Motionen är för dyr.".into() }];
        input.recipients = vec!["Samhällsbyggnadsnämnden".into()];
        let p = engine.record_paragraph(ks, input, &s).await.unwrap();
        assert_eq!(p.label, "KS § 2/26");
        // A tie, with one ledamot jävig: the ordförande's utslagsröst decides.
        let second = on_agenda(&engine, ks, "Markanvisning vid Norra hamnen").await;
        let mut tie = ParagraphInput::on_case(ParagraphKind::Beslut, &second, vec!["att godkänna markanvisningen".into()]);
        tie.remarks = vec![RemarkInput { kind: RemarkKind::Jav, name: "Fredrik Åström".into(), text: String::new() }];
        tie.vote = Some(VoteInput {
            question: "Ja för förslaget, nej för avslag".into(),
            votes: votes(&[("Eva Ek", Ja), ("Cecilia Palmgren", Ja), ("David Åkesson", Ja), ("Elin Modig", Nej), ("Gunilla Dahlgren", Nej), ("Hampus Kjellberg", Nej)]),
        });
        engine.record_paragraph(ks, tie, &s).await.unwrap();
        // An information item without an ärende reads as the law's usual sentence.
        let info = ParagraphInput { case_number: None, title: Some("Månadsrapport".into()), ..ParagraphInput::on_case(ParagraphKind::Information, "", Vec::new()) };
        engine.record_paragraph(ks, info, &s).await.unwrap();

        let protocol = html(engine.protocol_document(ks, DocumentFormat::Html).await.unwrap());
        for expected in [
            "<tr><th scope=\"row\">Plats och tid</th><td>Sessionssalen, 2026-12-01 kl. 13.00-15.30</td></tr>",
            "Cecilia Palmgren (L), ordförande<br>",
            "Hampus Kjellberg (KD) för Olle Ås, tjänstgörande ersättare<br>",
            "<tr><th scope=\"row\">Ersättare</th><td>Ingrid Sandström (SD)<br></td></tr>",
            "<tr><th scope=\"row\">Övriga närvarande</th><td>Kim Falk, kommundirektör<br></td></tr>",
            "<tr><th scope=\"row\">Sekreterare</th><td>Sara Nyqvist</td></tr>",
            "<tr><th scope=\"row\">Justeringens plats och tid</th><td>Kommunkansliet 2026-12-02</td></tr>",
            "<tr><th scope=\"row\">Paragrafer</th><td>KS § 1/26 – KS § 4/26</td></tr>",
            "<h2><span>Val av justerare</span><span>KS § 1/26</span></h2>",
            "<p>Eva Ek (S): bifall till motionen</p>",
            "<li>Hampus Kjellberg (KD): nej</li>",
            "<li>Fredrik Åström (MP): avstår</li>",
            "<p>Omröstningen utföll med 4 ja-röster och 2 nej-röster; 1 avstod. Ja har vunnit.</p>",
            "<p>Kommunstyrelsen beslutar</p>\n<p>att bifalla motionen</p>",
            "<h3>Reservationer</h3>\n<p>Gunilla Dahlgren (SD) reserverar sig mot beslutet: Motionen är för dyr.</p>",
            "<p><em>Fredrik Åström (MP) deltar inte i handläggningen på grund av jäv.</em></p>",
            "<p>Omröstningen utföll med 3 ja-röster och 3 nej-röster. Ordförandens utslagsröst avgör för ja.</p>",
            "<h2><span>Månadsrapport</span><span>KS § 4/26</span></h2>",
            "<p>Kommunstyrelsen noterar informationen.</p>",
        ] {
            assert!(protocol.contains(expected), "{expected:?} missing from:\n{protocol}");
        }
        assert!(!protocol.contains("Olle Ås (C), "), "an absent ledamot is not listed as present");
        if cfg!(feature = "pdf") {
            let text = crate::helpers::document_text(engine.protocol_document(ks, DocumentFormat::Pdf).await.unwrap());
            let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
            for expected in ["Omröstningen utföll med 4 ja-röster och 2 nej-röster; 1 avstod. Ja har vunnit.", "Gunilla Dahlgren (SD) reserverar sig mot beslutet", "Underskrifter", "Beslutande"] {
                assert!(flat.contains(expected), "{expected:?} missing from the PDF:\n{flat}");
            }
        }
    }

    async fn a_bad_vote_or_paragraph_is_refused_by_its_field_and_writes_nothing(db) {
        use VoteChoice::*;
        let (engine, _clock) = engine_on(db, day(2026, 12, 2)).await;
        let s = Actor::new("sara.nyqvist");
        let ks = ks_meeting(&engine, &s).await;
        let number = on_agenda(&engine, ks, "Motion om cykelbanor").await;
        let elsewhere = engine.kansli().open_case(open("KS", "Inte anmält"), &actor()).await.unwrap().number;
        let all_but = |left_out: &str, extra: &[(&str, VoteChoice)]| {
            let mut list: Vec<(&str, VoteChoice)> = ["Eva Ek", "Cecilia Palmgren", "David Åkesson", "Elin Modig", "Fredrik Åström", "Gunilla Dahlgren", "Hampus Kjellberg"]
                .into_iter()
                .filter(|n| *n != left_out)
                .map(|n| (n, Ja))
                .collect();
            list.extend_from_slice(extra);
            votes(&list)
        };
        let with_vote = |list: Vec<(String, VoteChoice)>| {
            let mut input = ParagraphInput::on_case(ParagraphKind::Beslut, &number, vec!["att bifalla motionen".into()]);
            input.vote = Some(VoteInput { question: "Ja för bifall, nej för avslag".into(), votes: list });
            input
        };
        let remark = |kind, name: &str| {
            let mut input = ParagraphInput::on_case(ParagraphKind::Beslut, &number, vec!["att bifalla motionen".into()]);
            input.remarks = vec![RemarkInput { kind, name: name.into(), text: "Skäl.".into() }];
            input
        };
        let mut jav_and_vote = with_vote(all_but("", &[]));
        jav_and_vote.remarks = vec![RemarkInput { kind: RemarkKind::Jav, name: "Elin Modig".into(), text: String::new() }];
        let mut proposal_nowhere = ParagraphInput::on_case(ParagraphKind::Forslag, &number, vec!["att föreslå".into()]);
        proposal_nowhere.proposal_to = Some("XYZ".into());
        let mut tie = with_vote(votes(&[("Eva Ek", Ja), ("Cecilia Palmgren", Avstar), ("David Åkesson", Ja), ("Elin Modig", Nej), ("Fredrik Åström", Nej), ("Gunilla Dahlgren", Ja), ("Hampus Kjellberg", Nej)]));
        tie.remarks = Vec::new();
        for (input, field) in [
            (with_vote(all_but("", &[("Ingrid Sandström", Ja)])), "omröstning: Ingrid Sandström is not a tjänstgörande ledamot"),
            (with_vote(all_but("", &[("Olle Ås", Ja)])), "omröstning: \"Olle Ås\" is not in the meeting's närvaro"),
            (with_vote(all_but("Elin Modig", &[])), "missing: Elin Modig"),
            (with_vote(all_but("Elin Modig", &[("Eva Ek", Nej)])), "omröstning: Eva Ek votes twice"),
            (jav_and_vote, "omröstning: Elin Modig is jävig in this matter"),
            (tie, "the votes are tied and the ordförande voted neither ja nor nej"),
            (remark(RemarkKind::Reservation, "Ingrid Sandström"), "reservation: Ingrid Sandström does not serve"),
            (remark(RemarkKind::Jav, "Kim Falk"), "jäv: Kim Falk does not serve"),
            (remark(RemarkKind::Anteckning, "Någon Annan"), "protokollsanteckning: \"Någon Annan\" is not in the meeting's närvaro"),
            (ParagraphInput::on_case(ParagraphKind::Beslut, &elsewhere, vec!["att bifalla".into()]), "is not on the agenda of meeting"),
            (ParagraphInput::on_case(ParagraphKind::Beslut, &number, Vec::new()), "decision: write what Kommunstyrelsen decided"),
            (proposal_nowhere, "proposal to: unknown organ \"XYZ\""),
            (ParagraphInput { case_number: None, ..ParagraphInput::on_case(ParagraphKind::Ovrigt, "", vec!["Text.".into()]) }, "title: a paragraph without an ärende needs a heading"),
        ] {
            match engine.record_paragraph(ks, input, &s).await {
                Err(ServiceError::Invalid(m)) => assert!(m.contains(field), "{field:?} not in {m:?}"),
                other => panic!("{field}: {other:?}"),
            }
        }
        assert!(engine.kansli().store().paragraphs_of_meeting(ks).await.unwrap().is_empty(), "nothing was written");
        // The first paragraph recorded has the first number: no refusal took one.
        assert_eq!(engine.record_paragraph(ks, with_vote(all_but("", &[])), &s).await.unwrap().label, "KS § 1/26");
        // A second paragraph for the same agenda item is refused as final.
        let again = engine.record_decision(ks, &number, "att avslå motionen", None, &[], &s).await.unwrap_err();
        assert!(matches!(&again, ServiceError::Final(m) if m.contains("has its paragraph already, KS § 1/26")), "{again}");

        // A meeting whose ledamöter are mostly away is not beslutför: it may take information
        // but no decision.
        let thin = engine.create_meeting("KS", day(2026, 12, 2), "Lilla salen", &s).await.unwrap();
        let away = AttendanceInput { chair: "Eva Ek".into(), absent: ["Olle Ås", "Cecilia Palmgren", "David Åkesson", "Elin Modig"].map(String::from).to_vec(), ..Default::default() };
        let warnings = engine.record_attendance(thin.id, &AttendanceInput { secretary: Some("Sara Nyqvist".into()), ..away }, &s).await.unwrap();
        assert!(warnings[0].contains("3 av 7 ledamöter tjänstgör") && warnings[0].contains("inte beslutför"), "{warnings:?}");
        let case = on_agenda(&engine, thin.id, "Ett ärende till").await;
        let err = engine.record_decision(thin.id, &case, "att bifalla", None, &[], &s).await.unwrap_err();
        assert!(err.to_string().contains("närvaro: 3 of 7 ledamöter take part"), "{err}");
        // The närvaro names only the organ's members, and an ersättare only for one away.
        for (input, field) in [
            (AttendanceInput { chair: "Eva Ek".into(), absent: vec!["Kim Falk".into()], ..Default::default() }, "absent: \"Kim Falk\" is not a ledamot of KS"),
            (AttendanceInput { chair: "Eva Ek".into(), substitutes: vec![("Hampus Kjellberg".into(), "Olle Ås".into())], ..Default::default() }, "who is not absent"),
            (AttendanceInput { chair: "Ingrid Sandström".into(), ..Default::default() }, "chair: \"Ingrid Sandström\" is not a tjänstgörande ledamot"),
        ] {
            let err = engine.record_attendance(ks, &AttendanceInput { secretary: Some("Sara Nyqvist".into()), ..input }, &s).await.unwrap_err();
            assert!(err.to_string().contains(field), "{field:?} not in {err}");
        }
        // Once a paragraph stands, so does the närvaro it was decided by.
        let err = engine.record_attendance(ks, &AttendanceInput { chair: "Eva Ek".into(), secretary: Some("S".into()), ..Default::default() }, &s).await.unwrap_err();
        assert!(err.to_string().contains("has paragraphs already"), "{err}");
    }

    async fn aterremiss_sends_the_arende_back_and_bordlaggning_puts_it_on_the_next_meeting(db) {
        let (engine, clock) = engine_on(db, day(2026, 10, 1)).await;
        let s = Actor::new("sara.nyqvist");
        let a = Actor::new("amira.hadzic");
        let (_, number) = engine.start("aktiva-atgarder", Map::new(), &s).await.unwrap();
        let number = number.unwrap();
        let state = |engine: Engine, number: String| async move { engine.workflow_of(&number).await.unwrap().1 };
        let handlaggare = kansli::workflow::Sender::Role(kansli::domain::organisation::Role::Handlaggare);
        let target = kansli::service::Target { case_number: number.clone(), unit: None };
        engine.send(&target, "sammanstall", handlaggare, &a, None).await.unwrap();
        engine.send(&target, "tjansteskrivelse_klar", handlaggare, &a, None).await.unwrap();
        assert_eq!(state(engine.clone(), number.clone()).await, "beredning");
        clock.set(noon(day(2026, 11, 25)));
        let first = crate::helpers::held_meeting(&engine, "KSAU", day(2026, 11, 10), "Rummet", &s).await;
        let next = engine.create_meeting("KSAU", day(2026, 11, 24), "Rummet", &s).await.unwrap();
        engine.add_to_agenda(first.id, &number, &s).await.unwrap();
        // Bordlagt: the ärende waits where it was, on the next meeting's agenda.
        let p = engine.record_paragraph(first.id, ParagraphInput::on_case(ParagraphKind::Bordlaggning, &number, Vec::new()), &s).await.unwrap();
        assert!(!p.needs_attention && p.workflow.contains("anmält till sammanträdet KSAU 2026-11-24"), "{}", p.workflow);
        assert_eq!(state(engine.clone(), number.clone()).await, "beredning");
        let agenda = engine.meeting_view(next.id).await.unwrap().agenda;
        assert_eq!(agenda.iter().map(|a| a.case_number.as_str()).collect::<Vec<_>>(), [number.as_str()]);
        // Återremitterat: back to the handläggare, by the workflow's own declared event.
        crate::helpers::hold(&engine, next.id, &s).await;
        let p = engine.record_paragraph(next.id, ParagraphInput::on_case(ParagraphKind::Aterremiss, &number, Vec::new()), &s).await.unwrap();
        assert!(!p.needs_attention && p.workflow.contains("aterremitterat: beredning → sammanstallning"), "{}", p.workflow);
        let protocol = html(engine.protocol_document(next.id, DocumentFormat::Html).await.unwrap());
        assert!(protocol.contains("<p>Kommunstyrelsens arbetsutskott beslutar att återremittera ärendet för ytterligare beredning.</p>"), "{protocol}");
        engine.send(&target, "tjansteskrivelse_klar", handlaggare, &a, None).await.unwrap();
        assert_eq!(state(engine.clone(), number.clone()).await, "beredning", "prepared again, for the utskott");
    }

    async fn a_decision_the_workflow_does_not_take_waits_for_a_registrator(db) {
        let site = crate::staff::site(db).await;
        site.clock.set(noon(day(2026, 11, 2)));
        let s = Actor::new("sara.nyqvist");
        // KS 2026/1 is still collecting answers: its workflow has no step for a decision.
        let ks = crate::helpers::held_meeting(&site.engine, "KS", day(2026, 11, 2), "Sessionssalen", &s).await;
        site.engine.add_to_agenda(ks.id, "KS 2026/1", &s).await.unwrap();
        let p = site.engine.record_decision(ks.id, "KS 2026/1", "att godkänna rapporten", None, &[], &s).await.unwrap();
        assert!(p.needs_attention && p.workflow.contains("arbetsflödet tog inte emot beslut_fattat"), "{}", p.workflow);
        assert_eq!(site.engine.workflow_of("KS 2026/1").await.unwrap().1, "insamling", "the workflow stays");
        let waiting = site.kansli.decisions_needing_attention().await.unwrap();
        assert_eq!(waiting.iter().map(|w| w.label.as_str()).collect::<Vec<_>>(), ["KS § 1/26"]);

        // The registrator sees it in the inbox and on the ärende page, and marks it seen to.
        site.kansli.add_account("per", "per.ekdahl", "registratorns-lösenord", false).await.unwrap();
        let token = crate::staff::log_in(site.addr, "per", "registratorns-lösenord", "").await;
        let session = format!("kansli_session={token}");
        let start = http(site.addr, "/", &session, None).await;
        assert!(start.body.contains("KS § 1/26 väntar på en registrator"), "{}", start.body);
        let page = http(site.addr, "/arende?nummer=KS%202026%2F1", &session, None).await;
        assert!(page.body.contains("KS § 1/26 väntar på en registrator"), "{}", page.body);
        let csrf = page.body.split("name=\"csrf_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let id = waiting[0].paragraph_id.to_string();
        // A chef may read the ärende but not see to its decisions.
        let chef = crate::staff::log_in(site.addr, "oskar", "ett-annat-lösenord", "").await;
        let chef_page = http(site.addr, "/arende?nummer=KS%202026%2F1", &format!("kansli_session={chef}"), None).await;
        assert!(!chef_page.body.contains("Markera KS § 1/26 som omhändertaget"), "{}", chef_page.body);
        let reply = http(site.addr, "/arende/beslut", &session, Some(&[("csrf_token", csrf.as_str()), ("nummer", "KS 2026/1"), ("paragraf", id.as_str())])).await;
        assert!(reply.status == 200 && reply.body.contains("KS § 1/26 är markerat som omhändertaget"), "{}", reply.body);
        assert!(site.kansli.decisions_needing_attention().await.unwrap().is_empty());
        let reply = http(site.addr, "/arende/beslut", &session, Some(&[("csrf_token", csrf.as_str()), ("nummer", "KS 2026/1"), ("paragraf", id.as_str())])).await;
        assert!(reply.status == 409 && reply.body.contains("väntar inte på någon registrator"), "{}", reply.body);
        // The paragraph stands, in the protocol.
        let protocol = html(site.engine.protocol_document(ks.id, DocumentFormat::Html).await.unwrap());
        assert!(protocol.contains("<span>KS § 1/26</span>"), "{protocol}");
    }

    async fn a_meeting_goes_from_planned_to_the_anslag_taken_down(db) {
        let (engine, clock) = engine_on(db, day(2026, 11, 20)).await;
        let s = Actor::new("sara.nyqvist");
        let m = engine.create_meeting("KSAU", day(2026, 12, 1), "Rummet", &s).await.unwrap();
        let stage = |engine: Engine| async move { engine.meeting_view(m.id).await.unwrap().stage };
        assert_eq!(stage(engine.clone()).await, MeetingStage::Planerat);
        clock.set(noon(day(2026, 12, 1)));
        crate::helpers::hold(&engine, m.id, &s).await;
        assert_eq!(stage(engine.clone()).await, MeetingStage::Genomfort);
        clock.set(noon(day(2026, 12, 3)));
        let (p, _) = engine.justera(m.id, &["Eva Ek".into()], day(2026, 12, 3), Some(day(2026, 12, 4)), &s).await.unwrap();
        assert_eq!(stage(engine.clone()).await, MeetingStage::Justerat, "justerat, the anslag not up yet");
        clock.set(noon(day(2026, 12, 4)));
        assert_eq!(stage(engine.clone()).await, MeetingStage::Anslaget);
        clock.set(noon(p.taken_down_on));
        assert_eq!(stage(engine.clone()).await, MeetingStage::Nedtaget);
        // The ordförande signs beside the justerare and is not one of them.
        let other = crate::helpers::held_meeting(&engine, "KSAU", day(2026, 12, 15), "Rummet", &s).await;
        clock.set(noon(day(2026, 12, 16)));
        let chair = engine.meeting_view(other.id).await.unwrap().chair;
        let err = engine.justera(other.id, std::slice::from_ref(&chair), day(2026, 12, 16), None, &s).await.unwrap_err();
        assert!(err.to_string().contains("is the ordförande"), "{err}");
        // No justering without a närvaro.
        let unheld = engine.create_meeting("KSAU", day(2026, 12, 15), "Annat rum", &s).await.unwrap();
        let err = engine.justera(unheld.id, &["Eva Ek".into()], day(2026, 12, 16), None, &s).await.unwrap_err();
        assert!(err.to_string().contains("has no närvaro or ordförande"), "{err}");
    }

    async fn a_namnd_decides_on_its_forvaltnings_report_and_the_extract_reaches_the_ks_arende(db) {
        let (engine, clock) = engine_on(db, day(2026, 10, 1)).await;
        let s = Actor::new("sara.nyqvist");
        let (_, ks_number) = engine.start("aktiva-atgarder", Map::new(), &s).await.unwrap();
        let ks_number = ks_number.unwrap();
        // The nämnd's own ärende, in its own series, for its förvaltning's report.
        let bun = engine.kansli().open_case(open("BUN", "Uppföljning av aktiva åtgärder 2026, Barn- och utbildningsförvaltningen"), &actor()).await.unwrap();
        assert!(bun.number.starts_with("BUN2026."), "{}", bun.number);
        clock.set(noon(day(2026, 11, 12)));
        let meeting = crate::helpers::held_meeting(&engine, "BUN", day(2026, 11, 10), "Nämndrummet", &s).await;
        engine.add_to_agenda(meeting.id, &bun.number, &s).await.unwrap();
        let mut wrong = ParagraphInput::on_case(ParagraphKind::Beslut, &bun.number, vec!["att godkänna rapporten".into()]);
        wrong.forward_to = Some("KS 2026/999".into());
        let err = engine.record_paragraph(meeting.id, wrong, &s).await.unwrap_err();
        assert!(err.to_string().starts_with("send on to:"), "{err}");
        let mut input = ParagraphInput::on_case(ParagraphKind::Beslut, &bun.number, vec!["att godkänna förvaltningens rapport".into(), "att översända beslutet till kommunstyrelsen".into()]);
        input.forward_to = Some(ks_number.clone());
        input.recipients = vec!["Kommunstyrelsen".into()];
        let p = engine.record_paragraph(meeting.id, input, &s).await.unwrap();
        assert_eq!((p.label.as_str(), p.needs_attention), ("BUN § 1/26", false));
        // Before the justering the nämnd's extract can be read, marked as not justerat; the
        // KS ärende has nothing from the nämnd yet.
        let paragraph: kansli::service::ParagraphRef = "BUN § 1/26".parse().unwrap();
        let preview = engine.extract(&bun.number, &paragraph).await.unwrap();
        assert!(preview.contains("ännu inte justerat") && preview.contains("<p>Barn- och utbildningsnämnden beslutar</p>"), "{preview}");
        let from_bun = |case: kansli::service::CaseView| case.documents.into_iter().filter(|d| d.description.starts_with("Protokollsutdrag BUN")).collect::<Vec<_>>();
        assert!(from_bun(engine.kansli().show_case(&ks_number).await.unwrap()).is_empty());

        engine.justera(meeting.id, &["Örjan Jakobsson".into()], day(2026, 11, 12), None, &s).await.unwrap();
        let store = engine.kansli().store();
        let own = from_bun(engine.kansli().show_case(&bun.number).await.unwrap());
        let sent_on = from_bun(engine.kansli().show_case(&ks_number).await.unwrap());
        assert_eq!(own.len(), 1, "the nämnd's extract is filed in its own ärende: {own:?}");
        assert_eq!(sent_on.len(), 1, "and reaches the KS ärende once: {sent_on:?}");
        assert_eq!((own[0].direction.code(), sent_on[0].direction.code()), ("internal", "in"));
        assert_eq!(sent_on[0].counterpart.as_deref(), Some("Barn- och utbildningsnämnden"));
        let (own_file, sent_file) = (own[0].file.clone().unwrap(), sent_on[0].file.clone().unwrap());
        assert_eq!(own_file.sha256, sent_file.sha256, "the same extract");
        let file = store.file(&sent_file.sha256).await.unwrap().unwrap();
        let text = match sent_file.media_type.as_str() {
            "application/pdf" => crate::helpers::document_text(file),
            _ => String::from_utf8(file).unwrap(),
        };
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains("Protokollet justerades 2026-11-12 av Örjan Jakobsson") && flat.contains("Sara Nyqvist") && !flat.contains("ännu inte justerat"), "{flat}");
        // KS's tjänsteskrivelse lists the nämnd's decision in its Beslutsunderlag.
        let draft = engine.draft_document(&ks_number, "tjansteskrivelse").await.unwrap();
        assert!(draft.contains("Protokollsutdrag BUN § 1/26, Uppföljning av aktiva åtgärder 2026, Barn- och utbildningsförvaltningen, 2026-11-12"), "{draft}");
        let history = engine.kansli().case_history(&bun.number).await.unwrap();
        assert!(history.iter().any(|h| h.action == "beslut översänt"), "{history:?}");
    }

    async fn a_justerat_protocol_reads_the_same_to_the_byte_whatever_changes_after(db) {
        let (engine, _clock) = engine_on(db, day(2026, 12, 2)).await;
        let s = Actor::new("sara.nyqvist");
        let ks = ks_meeting(&engine, &s).await;
        let number = on_agenda(&engine, ks, "Motion om cykelbanor").await;
        engine.record_decision(ks, &number, "att bifalla motionen", None, &[], &s).await.unwrap();
        engine.justera(ks, &["Eva Ek".into()], day(2026, 12, 2), None, &s).await.unwrap();
        let html = engine.protocol_document(ks, DocumentFormat::Html).await.unwrap();
        let pdf = cfg!(feature = "pdf").then_some(());
        let pdf = match pdf {
            Some(()) => Some(engine.protocol_document(ks, DocumentFormat::Pdf).await.unwrap()),
            None => None,
        };
        // The ärende's title changes, and the organisation renames the organ and a party.
        let conn = sea_orm::Database::connect(&db.url).await.unwrap();
        sea_orm::ConnectionTrait::execute_unprepared(&conn, "UPDATE diary_case SET public_title = 'Ett annat namn'").await.unwrap();
        let renamed = kansli::service::DEMO_ORGANISATION.replace("name = \"Kommunstyrelsen\"", "name = \"Regionstyrelsen\"").replace("\"Eva Ek\", party = \"S\"", "\"Eva Ek\", party = \"V\"");
        engine.kansli().import_organisation("omdöpt", &renamed).await.unwrap();
        assert_eq!(engine.protocol_document(ks, DocumentFormat::Html).await.unwrap(), html, "the HTML to the byte");
        if let Some(pdf) = pdf {
            assert_eq!(engine.protocol_document(ks, DocumentFormat::Pdf).await.unwrap(), pdf, "the PDF to the byte");
        }
        let text = String::from_utf8(html).unwrap();
        assert!(text.contains("Motion om cykelbanor") && text.contains("Eva Ek (S)") && text.contains("<p>Kommunstyrelsen beslutar</p>"), "{text}");
    }

    async fn the_kallelse_goes_to_every_member_with_the_foredragningslista_and_is_registered(db) {
        let (engine, _clock) = engine_on(db, day(2026, 11, 20)).await;
        let s = Actor::new("sara.nyqvist");
        let m = engine.plan_meeting("KS", day(2026, 12, 1), "Sessionssalen", Some("13.00"), None, &s).await.unwrap();
        let err = engine.send_kallelse(m.id, &s).await.unwrap_err();
        assert!(err.to_string().starts_with("agenda: the föredragningslista of meeting"), "{err}");
        let number = on_agenda(&engine, m.id, "Motion om cykelbanor").await;
        engine.add_item_to_agenda(m.id, "Månadsrapport", &s).await.unwrap();
        engine.move_agenda_item(m.id, 2, true, &s).await.unwrap();
        let err = engine.move_agenda_item(m.id, 1, true, &s).await.unwrap_err();
        assert!(err.to_string().contains("position: item 1 is first on the agenda already"), "{err}");
        assert_eq!(engine.send_kallelse(m.id, &s).await.unwrap(), 10, "7 ledamöter and 3 ersättare of KS");
        assert_eq!(engine.meeting_view(m.id).await.unwrap().stage, MeetingStage::Kallat);
        let conn = sea_orm::Database::connect(&db.url).await.unwrap();
        let text = |sql: String| {
            let conn = &conn;
            async move {
                let rows = conn.query_all_raw(sea_orm::Statement::from_string(conn.get_database_backend(), sql)).await.unwrap();
                rows.iter().map(|r| r.try_get_by_index::<String>(0).unwrap()).collect::<Vec<_>>()
            }
        };
        use sea_orm::ConnectionTrait;
        let to = text("SELECT recipient_email FROM outbox WHERE template = 'kallelse' ORDER BY id".into()).await;
        assert_eq!(to.len(), 10);
        assert!(to.contains(&"eva.ek@fortroendevald.norrvika.example".to_owned()) && to.contains(&"hampus.kjellberg@fortroendevald.norrvika.example".to_owned()), "{to:?}");
        let body = text("SELECT text_body FROM outbox WHERE recipient_email = 'hampus.kjellberg@fortroendevald.norrvika.example'".into()).await;
        assert!(body[0].contains("Du kallas som ersättare till sammanträde med Kommunstyrelsen 2026-12-01 kl. 13.00, Sessionssalen.") && body[0].contains("1. Månadsrapport\n2. ") && body[0].contains("Motion om cykelbanor"), "{}", body[0]);
        let case = engine.kansli().show_case(&number).await.unwrap();
        assert!(case.documents.iter().any(|d| d.description == "Kallelse med föredragningslista, Kommunstyrelsen 2026-12-01" && d.direction.code() == "out"), "{:?}", case.documents);
        // Once the meeting is held, the kallelse is history.
        crate::helpers::hold(&engine, m.id, &s).await;
        let err = engine.send_kallelse(m.id, &s).await.unwrap_err();
        assert!(err.to_string().contains("is held already"), "{err}");
    }
}
