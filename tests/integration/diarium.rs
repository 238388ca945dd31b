//! Ärenden and handlingar through the service, on both backends.

use chrono::{Duration, NaiveDate, TimeZone, Utc};
use kansli::domain::document::SecrecyMarking;
use kansli::service::{
    CaseQuery, DocumentField, DocumentRefusal, NewDocumentInput, OpenCase, ServiceError,
};
use kansli::store::{NewCase, StoreError};

use crate::helpers::{actor, day, incoming, open};
use crate::on_both_backends;

on_both_backends! {
    async fn each_series_numbers_from_1_and_renders_its_own_format(db) {
        let (kansli, _clock) = db.app(day(3, 2)).await;
        let ks1 = kansli.open_case(open("KS", "Första"), &actor()).await.unwrap();
        let ks2 = kansli.open_case(open("KS", "Andra"), &actor()).await.unwrap();
        let bun = kansli.open_case(open("BUN", "Skolskjuts"), &actor()).await.unwrap();
        let sn = kansli.open_case(open("SN", "Riktlinjer"), &actor()).await.unwrap();
        let sbn = kansli.open_case(OpenCase { classification: Some("3.2.1".into()), ..open("SBN", "Detaljplan") }, &actor()).await.unwrap();
        assert_eq!(ks1.number, "KS 2026/1");
        assert_eq!(ks2.number, "KS 2026/2");
        assert_eq!(bun.number, "BUN2026.0001");
        assert_eq!(sn.number, "SN 2026-00001");
        assert_eq!(sbn.number, "2026/SBN 0001 3.2.1");
        // Each reads back as the series writes it, and as people type it.
        for (typed, expected) in [("KS 2026/2", &ks2), ("ks 2026/2", &ks2), ("BUN2026.0001", &bun),
                                  ("SN 2026-00001", &sn), ("2026/SBN 0001 3.2.1", &sbn)] {
            assert_eq!(&kansli.show_case(typed).await.unwrap().title, &expected.title, "{typed}");
        }
    }

    async fn numbers_restart_at_1_when_the_year_turns_in_stockholm(db) {
        let (kansli, clock) = db.app(Utc.with_ymd_and_hms(2026, 12, 31, 22, 30, 0).unwrap()).await;
        assert_eq!(kansli.open_case(open("KS", "Sista"), &actor()).await.unwrap().number, "KS 2026/1");
        assert_eq!(kansli.open_case(open("KS", "Sista igen"), &actor()).await.unwrap().number, "KS 2026/2");
        // 23:30 UTC on New Year's Eve is already 00:30 on New Year's Day in Stockholm.
        clock.advance(Duration::hours(1));
        assert_eq!(kansli.open_case(open("KS", "Första"), &actor()).await.unwrap().number, "KS 2027/1");
        assert_eq!(kansli.show_case("KS 2026/2").await.unwrap().title, "Sista igen");
    }

    async fn a_registration_that_fails_inside_its_transaction_gives_its_number_back(db) {
        let (kansli, _clock) = db.app(day(3, 2)).await;
        let store = kansli.store();
        let series = store.all_series().await.unwrap().into_iter().find(|s| s.prefix == "KS").unwrap();
        // A handläggare id no person has: the insert fails on the foreign key after the
        // number was taken.
        let tx = store.begin().await.unwrap();
        let seq = tx.allocate_case_seq(series.id, 2026).await.unwrap();
        assert_eq!(seq, 1);
        let err = tx.insert_case(NewCase {
            series_id: series.id, year: 2026, classification: None, title: "Trasig".into(),
            public_title: "Trasig".into(), search_text: "trasig".into(), handlaggare_id: Some(999_999),
            previous_case_id: None, opened_at: day(3, 2), opened_by: "test".into(),
        }, seq).await.unwrap_err();
        assert!(matches!(err, StoreError::Database(_)), "{err:?}");
        drop(tx);
        // Refused before any transaction: an empty title.
        let err = kansli.open_case(open("KS", "   "), &actor()).await.unwrap_err();
        assert!(matches!(err, ServiceError::Invalid(ref m) if m.contains("title")), "{err}");
        // Neither left a number used or a row behind.
        assert_eq!(store.count_cases(series.id, 2026).await.unwrap(), 0);
        let next = kansli.open_case(open("KS", "Hel"), &actor()).await.unwrap();
        assert_eq!(next.number, "KS 2026/1");

        // The same for a handling: a file reference that is not stored fails on its key.
        let tx = store.begin().await.unwrap();
        let case_id = store.list_cases(&Default::default()).await.unwrap()[0].id;
        let doc_seq = tx.allocate_document_seq(case_id).await.unwrap();
        let err = tx.insert_document(kansli::store::NewDocument {
            case_id, date: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(), direction: "in".into(),
            counterpart: None, counterpart_protected: false, description: "x".into(),
            description_protected: false, secrecy: None,
            file: Some(("0".repeat(64), "saknas.pdf".into(), "application/pdf".into())),
            registered_at: day(3, 2), registered_by: "test".into(),
        }, doc_seq).await;
        assert!(err.is_err());
        drop(tx);
        let doc = kansli.add_document("KS 2026/1", incoming("Första handlingen"), &actor()).await.unwrap();
        assert_eq!(doc.number, "KS 2026/1:1");
        let history = kansli.case_history("KS 2026/1").await.unwrap();
        assert_eq!(history.len(), 2, "{history:?}");
    }

    async fn bad_input_is_refused_with_the_field_named_and_nothing_written(db) {
        let (kansli, _clock) = db.app(day(3, 2)).await;
        let invalid = |e: ServiceError| match e { ServiceError::Invalid(m) => m, other => panic!("{other:?}") };
        let m = invalid(kansli.open_case(open("XX", "t"), &actor()).await.unwrap_err());
        assert!(m.contains("unknown series \"XX\"") && m.contains("KS"), "{m}");
        let m = invalid(kansli.open_case(OpenCase { handlaggare: Some("nobody".into()), ..open("KS", "t") }, &actor()).await.unwrap_err());
        assert!(m.contains("handläggare \"nobody\""), "{m}");
        let err = kansli.open_case(OpenCase { previous: Some("KS 2025/99".into()), ..open("KS", "t") }, &actor()).await.unwrap_err();
        assert!(matches!(err, ServiceError::NotFound(ref m) if m.contains("KS 2025/99")), "{err}");
        let m = invalid(kansli.open_case(open("KS", &"x".repeat(501)), &actor()).await.unwrap_err());
        assert!(m.contains("title is 501 characters"), "{m}");
        let m = invalid(kansli.show_case("KS 2026-1").await.unwrap_err());
        assert!(m.contains("not a diarienummer"), "{m}");
        assert!(matches!(kansli.show_case("KS 2026/7").await, Err(ServiceError::NotFound(_))));
        let case = kansli.open_case(open("KS", "Giltigt"), &actor()).await.unwrap();
        assert_eq!(case.number, "KS 2026/1", "refusals used no number");
        // A refused handling says what was wrong, typed, with the English the API and CLI show.
        let refusal = |e: ServiceError| match e { ServiceError::InvalidDocument(r) => r, other => panic!("{other:?}") };
        let r = refusal(kansli.add_document(&case.number, NewDocumentInput { file: Some(("../etc/passwd".into(), b"x".to_vec())), ..incoming("x") }, &actor()).await.unwrap_err());
        assert_eq!(r, DocumentRefusal::FileName { name: "../etc/passwd".into() });
        assert!(r.to_string().contains("plain name"), "{r}");
        let r = refusal(kansli.add_document(&case.number, incoming(""), &actor()).await.unwrap_err());
        assert_eq!(r, DocumentRefusal::Empty { field: DocumentField::Description });
        assert_eq!(r.to_string(), "description must not be empty");
        let r = refusal(kansli.add_document(&case.number, NewDocumentInput { counterpart: None, counterpart_protected: true, ..incoming("x") }, &actor()).await.unwrap_err());
        assert_eq!(r, DocumentRefusal::ProtectedWithoutCounterpart);
        let secrecy = SecrecyMarking { provision: "OSL 39 kap 3 §".into(), date: NaiveDate::from_ymd_opt(2026, 3, 4).unwrap(), authority: " ".into() };
        let r = refusal(kansli.add_document(&case.number, NewDocumentInput { secrecy: Some(secrecy), ..incoming("x") }, &actor()).await.unwrap_err());
        assert_eq!(r, DocumentRefusal::Empty { field: DocumentField::SecrecyAuthority });
        assert!(kansli.show_case(&case.number).await.unwrap().documents.is_empty());
    }

    async fn an_open_case_links_last_years_case_and_shows_its_handlaggare(db) {
        let (kansli, clock) = db.app(day(11, 2)).await;
        let last = kansli.open_case(open("KS", "Årlig uppföljning av aktiva åtgärder 2026"), &actor()).await.unwrap();
        clock.set(Utc.with_ymd_and_hms(2027, 11, 2, 9, 0, 0).unwrap());
        let this = kansli.open_case(OpenCase {
            public_title: Some("Uppföljning av aktiva åtgärder 2027".into()),
            handlaggare: Some("amira.hadzic@norrvika.example".into()),
            previous: Some(last.number.clone()),
            ..open("KS", "Årlig uppföljning av aktiva åtgärder 2027")
        }, &actor()).await.unwrap();
        let shown = kansli.show_case(&this.number).await.unwrap();
        assert_eq!(shown.previous.as_deref(), Some("KS 2026/1"));
        assert_eq!(shown.handlaggare.as_ref().unwrap().name, "Amira Hadžić");
        assert_eq!(shown.classification.as_deref(), Some("2.4.1"), "the series default");
        assert_eq!(shown.public_title, "Uppföljning av aktiva åtgärder 2027");
    }

    async fn close_and_reopen_are_recorded_and_a_closed_case_takes_no_handlingar(db) {
        let (kansli, clock) = db.app(day(3, 2)).await;
        let case = kansli.open_case(open("KS", "Att avsluta"), &actor()).await.unwrap();
        clock.advance(Duration::days(3));
        let closed = kansli.close_case(&case.number, Some("Beslut expedierat"), &actor()).await.unwrap();
        assert_eq!(closed.status, "closed");
        assert_eq!(closed.closed_at, Some(day(3, 5)));
        assert!(matches!(kansli.close_case(&case.number, None, &actor()).await, Err(ServiceError::Invalid(_))));
        let refused = kansli.add_document(&case.number, incoming("Sen"), &actor()).await.unwrap_err();
        assert!(refused.to_string().contains("closed"), "{refused}");
        assert!(matches!(refused, ServiceError::InvalidDocument(DocumentRefusal::CaseClosed { case: ref closed }) if *closed == case.number), "{refused:?}");
        let reopened = kansli.reopen_case(&case.number, Some("Komplettering"), &actor()).await.unwrap();
        assert_eq!(reopened.status, "open");
        assert_eq!(reopened.closed_at, None);
        let actions: Vec<String> = kansli.case_history(&case.number).await.unwrap().into_iter().map(|h| h.action).collect();
        assert_eq!(actions, ["ärende öppnat", "ärende avslutat", "ärende återöppnat"]);
    }

    async fn a_stale_writer_gets_a_conflict_and_changes_nothing(db) {
        let (kansli, _clock) = db.app(day(3, 2)).await;
        let case = kansli.open_case(open("KS", "Två skrivare"), &actor()).await.unwrap();
        let store = kansli.store();
        let row = store.list_cases(&Default::default()).await.unwrap().remove(0);
        let first = store.begin().await.unwrap();
        first.set_case_status(row.id, row.row_version, "closed", Some((day(3, 2), "a".into()))).await.unwrap();
        first.commit().await.unwrap();
        let second = store.begin().await.unwrap();
        let err = second.set_case_status(row.id, row.row_version, "closed", Some((day(3, 2), "b".into()))).await.unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)), "{err:?}");
        drop(second);
        assert_eq!(kansli.show_case(&case.number).await.unwrap().closed_by.as_deref(), Some("a"));
    }

    async fn search_finds_words_with_swedish_letters_and_treats_metacharacters_as_text(db) {
        let (kansli, clock) = db.app(day(3, 2)).await;
        kansli.open_case(OpenCase { handlaggare: Some("amira.hadzic".into()), ..open("KS", "Årlig uppföljning av aktiva åtgärder") }, &actor()).await.unwrap();
        kansli.open_case(open("KS", "Rabatt 100% på taxan"), &actor()).await.unwrap();
        clock.advance(Duration::days(40));
        kansli.open_case(open("KLF", "Lönekartläggning ÅÄÖ"), &actor()).await.unwrap();
        kansli.open_case(open("KS", "x'; DROP TABLE diary_case; --"), &actor()).await.unwrap();
        let find = |q: CaseQuery| { let k = kansli.clone(); async move { k.list_cases(q).await.unwrap().cases.into_iter().map(|c| c.number).collect::<Vec<_>>() } };
        assert_eq!(find(CaseQuery { text: Some("ÅRLIG åtgärder".into()), ..Default::default() }).await, ["KS 2026/1"]);
        assert_eq!(find(CaseQuery { text: Some("åäö".into()), ..Default::default() }).await, ["KLF 2026/1"]);
        assert_eq!(find(CaseQuery { text: Some("100%".into()), ..Default::default() }).await, ["KS 2026/2"]);
        assert!(find(CaseQuery { text: Some("%".into()), series: Some("KLF".into()), ..Default::default() }).await.is_empty());
        assert_eq!(find(CaseQuery { text: Some("drop table".into()), ..Default::default() }).await, ["KS 2026/3"]);
        assert_eq!(find(CaseQuery { text: Some("ks 2026/2".into()), ..Default::default() }).await, ["KS 2026/2"]);
        assert_eq!(find(CaseQuery { handlaggare: Some("amira.hadzic".into()), ..Default::default() }).await, ["KS 2026/1"]);
        assert_eq!(find(CaseQuery { series: Some("KS".into()), ..Default::default() }).await, ["KS 2026/3", "KS 2026/2", "KS 2026/1"]);
        let march = NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        assert_eq!(find(CaseQuery { from: Some(march), to: Some(march), ..Default::default() }).await.len(), 2);
        assert_eq!(find(CaseQuery { from: Some(march + Duration::days(1)), ..Default::default() }).await.len(), 2);
        assert_eq!(find(CaseQuery { limit: Some(1), offset: Some(1), series: Some("KS".into()), ..Default::default() }).await, ["KS 2026/2"]);
        assert_eq!(find(CaseQuery { status: Some("closed".into()), ..Default::default() }).await.len(), 0);
    }

    async fn an_attached_file_is_stored_once_by_content_and_read_back_whole(db) {
        let (kansli, _clock) = db.app(day(3, 2)).await;
        let case = kansli.open_case(open("KS", "Med filer"), &actor()).await.unwrap();
        let content = "Svar på uppföljningsenkäten, åäö\n".repeat(1000).into_bytes();
        let a = kansli.add_document(&case.number, NewDocumentInput { file: Some(("svar.txt".into(), content.clone())), ..incoming("Svar") }, &actor()).await.unwrap();
        let b = kansli.add_document(&case.number, NewDocumentInput { file: Some(("kopia.csv".into(), content.clone())), ..incoming("Kopia") }, &actor()).await.unwrap();
        assert_eq!(a.file.as_ref().unwrap().sha256, b.file.as_ref().unwrap().sha256);
        assert_eq!(b.file.as_ref().unwrap().media_type, "text/csv; charset=utf-8");
        // A name that lies about the content is refused, and nothing is registered.
        for (name, bytes) in [("svar.pdf", content.clone()), ("bild.png", b"%PDF-1.7".to_vec()), ("notering.txt", b"MZ\0\0binary".to_vec()), ("program.txt", b"\x7fELF\x02".to_vec())] {
            let err = kansli.add_document(&case.number, NewDocumentInput { file: Some((name.into(), bytes)), ..incoming("Lögn") }, &actor()).await.unwrap_err();
            assert!(err.to_string().contains("not what the name says"), "{name}: {err}");
        }
        assert_eq!(kansli.show_case(&case.number).await.unwrap().documents.len(), 2);
        assert_eq!(kansli.store().count_files().await.unwrap(), 1);
        let (file, bytes) = kansli.document_file(&b.number).await.unwrap();
        assert_eq!(file.name, "kopia.csv");
        assert_eq!(bytes, content);
        let marked = kansli.add_document(&case.number, NewDocumentInput {
            secrecy: Some(SecrecyMarking { provision: "OSL 39 kap 3 §".into(), date: NaiveDate::from_ymd_opt(2026, 3, 2).unwrap(), authority: "Norrvika kommun".into() }),
            ..incoming("Personalärende")
        }, &actor()).await.unwrap();
        let shown = kansli.show_case(&case.number).await.unwrap();
        assert_eq!(shown.documents[2].secrecy.as_ref().unwrap().provision, "OSL 39 kap 3 §");
        assert_eq!(marked.number, format!("{}:3", case.number));
    }
}
