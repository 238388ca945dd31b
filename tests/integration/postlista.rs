//! The postlista never carries a protected value: not in JSON, not in CSV, not over HTTP.

use chrono::NaiveDate;
use kansli::domain::document::{Direction, MASK, SecrecyMarking};
use kansli::service::{NewDocumentInput, OpenCase, postlista_csv};

use crate::helpers::{actor, day, open};
use crate::on_both_backends;

// Values that would be easy to find anywhere they leaked to.
const SECRET_SENDER: &str = "Hemlig Avsändare QX7731";
const SECRET_DESCRIPTION: &str = "Skyddad beskrivning ZK4402";
const MARKED_DESCRIPTION: &str = "Sekretessmarkerad beskrivning PV9917";
const INTERNAL_TITLE: &str = "Internt namn Bengt Bengtsson WQ5560";
const OPEN_SENDER: &str = "Kultur- och fritidsförvaltningen";

fn document(counterpart: &str, description: &str) -> NewDocumentInput {
    NewDocumentInput {
        date: NaiveDate::from_ymd_opt(2026, 5, 12).unwrap(),
        direction: Direction::Incoming,
        counterpart: Some(counterpart.into()),
        counterpart_protected: false,
        description: description.into(),
        description_protected: false,
        secrecy: None,
        file: None,
    }
}

async fn fill(kansli: &kansli::service::Kansli) -> String {
    let case = kansli
        .open_case(
            OpenCase {
                public_title: Some("Personalärende".into()),
                ..open("KS", INTERNAL_TITLE)
            },
            &actor(),
        )
        .await
        .unwrap();
    let n = &case.number;
    kansli
        .add_document(
            n,
            NewDocumentInput {
                counterpart_protected: true,
                ..document(SECRET_SENDER, "Anmälan")
            },
            &actor(),
        )
        .await
        .unwrap();
    kansli
        .add_document(
            n,
            NewDocumentInput {
                description_protected: true,
                ..document(OPEN_SENDER, SECRET_DESCRIPTION)
            },
            &actor(),
        )
        .await
        .unwrap();
    kansli
        .add_document(
            n,
            NewDocumentInput {
                secrecy: Some(SecrecyMarking {
                    provision: "OSL 39 kap 3 §".into(),
                    date: NaiveDate::from_ymd_opt(2026, 5, 12).unwrap(),
                    authority: "Norrvika kommun".into(),
                }),
                ..document(OPEN_SENDER, MARKED_DESCRIPTION)
            },
            &actor(),
        )
        .await
        .unwrap();
    kansli
        .add_document(
            n,
            document(OPEN_SENDER, "Svar på uppföljningsenkät"),
            &actor(),
        )
        .await
        .unwrap();
    // Outside the period asked for.
    kansli
        .add_document(
            n,
            NewDocumentInput {
                date: NaiveDate::from_ymd_opt(2026, 6, 1).unwrap(),
                ..document(OPEN_SENDER, "Senare")
            },
            &actor(),
        )
        .await
        .unwrap();
    case.number
}

fn assert_clean(text: &str) {
    for secret in [
        SECRET_SENDER,
        SECRET_DESCRIPTION,
        MARKED_DESCRIPTION,
        INTERNAL_TITLE,
        "QX7731",
        "ZK4402",
        "PV9917",
        "WQ5560",
    ] {
        assert!(
            !text.contains(secret),
            "the postlista leaks {secret:?}:\n{text}"
        );
    }
}

on_both_backends! {
    async fn the_postlista_masks_protected_and_secret_values_and_shows_the_rest(db) {
        let (kansli, _clock) = db.app(day(5, 12)).await;
        let number = fill(&kansli).await;
        let may = |d| NaiveDate::from_ymd_opt(2026, 5, d).unwrap();
        let rows = kansli.postlista(may(1), may(31)).await.unwrap();
        assert_eq!(rows.len(), 4, "{rows:#?}");
        assert_eq!(rows[0].diarienummer, format!("{number}:1"));
        assert_eq!(rows[0].avsandare_mottagare, MASK);
        assert_eq!(rows[1].beskrivning, MASK);
        assert_eq!(rows[2].beskrivning, MASK);
        assert_eq!(rows[2].sekretessmarkering.as_deref(), Some("OSL 39 kap 3 §"));
        assert_eq!(rows[3].beskrivning, "Svar på uppföljningsenkät");
        assert!(rows.iter().all(|r| r.arende == "Personalärende"));
        let json = serde_json::to_string(&rows).unwrap();
        assert_clean(&json);
        let csv = String::from_utf8(postlista_csv(&rows).unwrap()).unwrap();
        assert_clean(&csv);
        assert!(csv.contains(OPEN_SENDER) && csv.contains(MASK), "{csv}");
        // The registrator still sees everything in the ärende itself.
        let shown = serde_json::to_string(&kansli.show_case(&number).await.unwrap()).unwrap();
        assert!(shown.contains(SECRET_SENDER) && shown.contains(SECRET_DESCRIPTION));
    }

    async fn the_public_postlista_over_http_masks_exactly_like_the_export(db) {
        let app = crate::harness::spawn_app(db, day(5, 12)).await;
        fill(&app.kansli).await;
        let addr = app.addr;
        let get = |path: String| async move { crate::helpers::http_get(addr, &path).await };
        let (status, body) = get("/postlista.json?from=2026-05-01&to=2026-05-31".into()).await;
        assert_eq!(status, 200, "{body}");
        assert_clean(&body);
        let rows: Vec<serde_json::Value> = serde_json::from_str(&body).unwrap();
        assert_eq!(rows.len(), 4);
        let (status, body) = get("/postlista.csv?from=2026-05-01&to=2026-05-31".into()).await;
        assert_eq!(status, 200);
        assert_clean(&body);
        assert!(body.contains(MASK));
        let (status, body) = get("/postlista.json?from=2026-02-30&to=2026-05-31".into()).await;
        assert_eq!(status, 400);
        assert!(body.contains("2026-02-30"), "{body}");
    }
}
