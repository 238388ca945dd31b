//! Importing the organisation: idempotent, all or nothing, with every problem's line named.

use kansli::service::{DEMO_ORGANISATION, ServiceError};

use crate::helpers::day;
use crate::on_both_backends;

on_both_backends! {
    async fn importing_the_same_file_twice_changes_nothing(db) {
        let (kansli, _clock) = db.app(day(1, 5)).await; // imports the demo once
        let before = kansli.store().org_snapshot().await.unwrap();
        let summary = kansli.import_organisation("demo", DEMO_ORGANISATION).await.unwrap();
        let after = kansli.store().org_snapshot().await.unwrap();
        assert_eq!(format!("{before:?}"), format!("{after:?}"));
        assert!(summary.units >= 6 && after.units.iter().filter(|u| u.kind == "forvaltning").count() >= 6);
        assert!(after.series.iter().any(|s| s.prefix == "KS") && after.series.iter().any(|s| s.prefix == "KLF"));
    }

    async fn a_changed_file_updates_people_and_replaces_their_roles(db) {
        let (kansli, _clock) = db.app(day(1, 5)).await;
        let changed = DEMO_ORGANISATION
            .replace("title = \"HR-konsult\"", "title = \"Senior HR-konsult\"")
            .replace("roles = [{ role = \"handläggare\", unit = \"HR\" }]",
                     "roles = [{ role = \"handläggare\", unit = \"HR\" }, { role = \"registrator\", unit = \"KLF\" }]");
        kansli.import_organisation("changed", &changed).await.unwrap();
        let org = kansli.store().org_snapshot().await.unwrap();
        let amira = org.people.iter().find(|p| p.key == "amira.hadzic").unwrap();
        assert_eq!(amira.title, "Senior HR-konsult");
        assert_eq!(org.roles.iter().filter(|r| r.person_id == amira.id).count(), 2);
        kansli.import_organisation("demo", DEMO_ORGANISATION).await.unwrap();
        let org = kansli.store().org_snapshot().await.unwrap();
        assert_eq!(org.roles.iter().filter(|r| r.person_id == amira.id).count(), 1);
    }

    async fn a_kept_organisation_is_read_again_when_another_process_changes_it(db) {
        let (kansli, _clock) = db.app(day(1, 5)).await;
        // Another process on the same database, which keeps the organisation it has read.
        let other = db.store(2).await;
        let title = |org: &kansli::store::OrgSnapshot| {
            org.people.iter().find(|p| p.key == "amira.hadzic").unwrap().title.clone()
        };
        assert_eq!(title(&other.org_snapshot().await.unwrap()), "HR-konsult");
        assert_eq!(title(&other.org_snapshot().await.unwrap()), "HR-konsult", "kept");
        let changed = DEMO_ORGANISATION.replace("title = \"HR-konsult\"", "title = \"Senior HR-konsult\"");
        kansli.import_organisation("changed", &changed).await.unwrap();
        assert_eq!(title(&other.org_snapshot().await.unwrap()), "Senior HR-konsult");
        assert_eq!(title(&kansli.store().org_snapshot().await.unwrap()), "Senior HR-konsult");
    }

    async fn a_file_with_bad_rows_names_each_line_and_imports_nothing(db) {
        let store = db.store(2).await;
        let kansli = kansli::service::Kansli::new(store, std::sync::Arc::new(kansli::clock::SystemClock));
        let text = "\
[municipality]
name = \"Testby kommun\"
sender_email = \"kansli@testby.example\"

[[units]]
code = \"KLF\"
name = \"Kommunledningsförvaltningen\"
kind = \"förvaltning\"

[[people]]
key = \"ok.person\"
name = \"Ok Person\"
title = \"Registrator\"
email = \"ok@testby.example\"
roles = [{ role = \"registrator\", unit = \"KLF\" }]

[[people]]
key = \"bad.person\"
name = \"Bad Person\"
title = \"Chef\"
email = \"not-an-address\"
roles = [{ role = \"kung\", unit = \"KLF\" }]

[[series]]
prefix = \"KS\"
name = \"Kommunstyrelsens diarium\"
format = \"{prefix} {seq}\"
";
        let err = kansli.import_organisation("testby.toml", text).await.unwrap_err();
        let ServiceError::Invalid(message) = err else { panic!("{err:?}") };
        assert!(message.contains("testby.toml:17: person \"bad.person\": email"), "{message}");
        assert!(message.contains("testby.toml:17: person \"bad.person\": unknown role \"kung\""), "{message}");
        assert!(message.contains("testby.toml:24: series \"KS\": format"), "{message}");
        assert!(!message.contains("ok.person"), "{message}");
        let org = kansli.store().org_snapshot().await.unwrap();
        assert!(org.municipality.is_none() && org.people.is_empty() && org.units.is_empty(), "{org:?}");

        let err = kansli.import_organisation("syntax.toml", "[municipality]\nname = \"x\"\nsender_email = 3\n").await.unwrap_err();
        assert!(err.to_string().starts_with("syntax.toml:3:"), "{err}");
        let err = kansli.import_organisation("typo.toml", "[[unitz]]\ncode = \"A\"\n").await.unwrap_err();
        assert!(err.to_string().contains("unitz"), "{err}");
    }
}
