//! The benchmark corpus (`kansli bench http`'s bulk seeding), on both backends: what it writes
//! must read back through the ordinary services like any registered ärende.

use std::collections::HashSet;

use kansli::service::{CaseQuery, ServiceError};

use crate::helpers::{actor, day, open};
use crate::on_both_backends;

/// More than one multi-row INSERT's worth (1,000 rows).
const CASES: usize = 2_500;

on_both_backends! {
    async fn the_bench_corpus_writes_n_ärenden_with_unique_numbers_that_search_and_the_counter_respect(db) {
        let (kansli, _clock) = db.app(day(3, 2)).await;
        let corpus = kansli.write_bench_corpus(CASES).await.unwrap();

        assert_eq!(corpus.numbers.len(), CASES);
        let unique: HashSet<&String> = corpus.numbers.iter().collect();
        assert_eq!(unique.len(), CASES, "numbers repeat");
        // Five series over five years, as the demo organisation has them.
        assert_eq!(corpus.series_years.len(), 25, "{:?}", corpus.series_years);

        let mut with_documents = 0;
        for number in corpus.numbers.iter().step_by(101) {
            let case = kansli.show_case(number).await.unwrap();
            assert_eq!(&case.number, number);
            // Found by its number as words, as the search box does.
            let found = kansli
                .list_cases(CaseQuery { text: Some(number.clone()), ..Default::default() })
                .await
                .unwrap();
            assert!(found.cases.iter().any(|c| &c.number == number), "{number} not found by search");
            let history = kansli.case_history(number).await.unwrap();
            assert_eq!(history[0].action, "ärende öppnat", "{number}");
            for (i, d) in case.documents.iter().enumerate() {
                assert_eq!(d.number, format!("{number}:{}", i + 1));
            }
            let registered = history.iter().filter(|h| h.action == "handling registrerad").count();
            assert_eq!(registered, case.documents.len(), "{number}");
            if !case.documents.is_empty() {
                with_documents += 1;
            }
            assert_eq!(case.status == "closed", history.iter().any(|h| h.action == "ärende avslutat"), "{number}");
        }
        assert!(with_documents > 0, "no sampled ärende has handlingar");

        // Every series-and-year search finds ärenden, and so does every search the bench makes.
        for q in &corpus.series_years {
            let found = kansli
                .list_cases(CaseQuery { text: Some(q.clone()), limit: Some(5), ..Default::default() })
                .await
                .unwrap();
            assert!(!found.cases.is_empty(), "{q} finds nothing");
        }
        for q in &corpus.searches {
            let found = kansli
                .list_cases(CaseQuery { text: Some(q.clone()), limit: Some(1), ..Default::default() })
                .await
                .unwrap();
            assert!(!found.cases.is_empty(), "{q} finds nothing");
        }

        // The counter stands past the corpus: a real registration takes the next number.
        let this_year = kansli
            .list_cases(CaseQuery { series: Some("KS".into()), year: Some(2026), limit: Some(1), ..Default::default() })
            .await
            .unwrap();
        let last = this_year.cases.first().map_or(0, |c| c.seq);
        let next = kansli.open_case(open("KS", "Efter korpusen"), &actor()).await.unwrap();
        assert_eq!(next.number, format!("KS 2026/{}", last + 1));

        // And it is written only into an empty diarium.
        match kansli.write_bench_corpus(10).await {
            Err(ServiceError::Conflict(m)) => assert!(m.contains("empty diarium"), "{m}"),
            other => panic!("a second corpus was not refused: {other:?}"),
        }
    }
}
