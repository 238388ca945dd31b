//! Numbers under concurrent writers: never twice, never a gap.

use std::collections::BTreeSet;

use chrono::NaiveDate;
use kansli::domain::document::Direction;
use kansli::service::NewDocumentInput;

use crate::helpers::{actor, day, open};
use crate::on_both_backends;

const WRITERS: usize = 8;
const EACH: usize = 500;

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
}
