//! Answering the questionnaire over real HTTP: the chef's form, drafts, errors, review and
//! submission; the förvaltningschef's return and approval; links that reach nothing.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::harness::{AppOptions, TestApp, spawn_app, spawn_app_with};
use crate::helpers::local;
use crate::helpers::{TestDb, complete, http_get, http_post};
use crate::on_both_backends;

/// Kansli as the harness runs it, the follow-up started on 1 October at 07:00.
struct Site(TestApp);

impl std::ops::Deref for Site {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.0
    }
}

async fn site(db: &TestDb) -> Site {
    let app = spawn_app(db, local(2026, 10, 1, 7)).await;
    app.engine.tick().await.unwrap();
    Site(app)
}

/// A site whose engine runs the workflows in `workflows`.
async fn site_running(db: &TestDb, workflows: &Path) -> Site {
    let options = AppOptions {
        workflows: Some(workflows.to_owned()),
        ..AppOptions::default()
    };
    let app = spawn_app_with(db, local(2026, 10, 1, 7), options).await;
    app.engine.tick().await.unwrap();
    Site(app)
}

impl Site {
    /// Sends what is queued and returns the personal link path in the newest message to `to`.
    async fn link_for(&self, to: &str) -> String {
        self.postman.dispatch_all_pending().await.unwrap();
        let mut files: Vec<(std::time::SystemTime, PathBuf)> = std::fs::read_dir(self.mail_dir())
            .unwrap()
            .flatten()
            .map(|e| (e.metadata().unwrap().modified().unwrap(), e.path()))
            .collect();
        files.sort();
        for (_, path) in files.iter().rev() {
            let raw = std::fs::read_to_string(path).unwrap();
            // Quoted-printable folds long lines with "=\r\n"; unfold before reading the link.
            let raw = raw.replace("=\r\n", "");
            if raw.contains(&format!("To: {to}")) || raw.contains(&format!("<{to}>")) {
                let at = raw.find("/enkat/").expect("a personal link");
                return raw[at..at + 7 + 64].to_owned();
            }
        }
        panic!("no message to {to}");
    }

    async fn handlingar(&self) -> Vec<String> {
        self.kansli
            .show_case("KS 2026/1")
            .await
            .unwrap()
            .documents
            .into_iter()
            .map(|d| d.description)
            .collect()
    }
}

fn with(
    mut pairs: Vec<(&'static str, &'static str)>,
    action: &'static str,
) -> Vec<(&'static str, &'static str)> {
    pairs.push(("atgard", action));
    pairs
}

on_both_backends! {
    async fn a_chef_drafts_submits_is_returned_completes_and_is_approved_over_http(db) {
        let site = site(db).await;
        let chef = site.link_for("oskar.lindfors@norrvika.example").await;

        let (status, form) = http_get(site.addr, &chef).await;
        assert_eq!(status, 200, "{form}");
        assert!(form.contains("<html lang=\"sv\">") && form.contains("<legend>B1. Har arbetsplatserna"), "{form}");
        assert!(form.contains("for=\"f-A3\"") && form.contains("id=\"f-A3\""), "labels point at their inputs");

        // A draft keeps what was typed, valid or not.
        let (status, page) = http_post(site.addr, &chef, &[("B1", "delvis"), ("B1.kommentar", "Enkät <b>2026</b>"), ("E2", "tre"), ("atgard", "spara")]).await;
        assert_eq!(status, 422, "the wrong number is flagged: {page}");
        assert!(page.contains("Utkastet är sparat"), "{page}");
        assert!(page.contains("href=\"#f-E2\""), "the error summary links to the field: {page}");
        assert!(page.contains("value=\"delvis\" checked"), "the draft is kept");
        assert!(page.contains("Enkät &lt;b&gt;2026&lt;/b&gt;"), "values are escaped: {page}");

        // Submitting an incomplete answer is refused with every missing answer listed.
        let (status, page) = http_post(site.addr, &chef, &[("B1", "delvis"), ("atgard", "skicka")]).await;
        assert_eq!(status, 422);
        assert!(page.contains("href=\"#f-C1\"") && page.contains("href=\"#f-J1.0.atgard\""), "{page}");
        assert!(site.handlingar().await.is_empty(), "nothing registered");

        // Review, then submit; a second submit registers nothing more.
        let (status, page) = http_post(site.addr, &chef, &with(complete(), "granska")).await;
        assert_eq!(status, 200);
        assert!(page.contains("Skicka in svaret") && page.contains("Utbildning i aktiva åtgärder för chefer"), "{page}");
        let (status, page) = http_post(site.addr, &chef, &with(complete(), "skicka")).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("Tack för svaret"));
        let (status, _) = http_post(site.addr, &chef, &with(complete(), "skicka")).await;
        assert_eq!(status, 409);
        let answers: Vec<String> = site.handlingar().await.into_iter().filter(|d| d.starts_with("Svar på uppföljningsenkät")).collect();
        assert_eq!(answers.len(), 1, "one handling for one submission: {answers:?}");
        assert!(answers[0].contains("Barn- och utbildningsförvaltningen"));
        // The handling carries the answer as a readable document.
        let case = site.kansli.show_case("KS 2026/1").await.unwrap();
        let handling = case.documents.iter().find(|d| d.description.starts_with("Svar på")).unwrap();
        assert_eq!(handling.direction.label(), "inkommande");
        let (file, content) = site.kansli.document_file(&handling.number).await.unwrap();
        assert_eq!(file.media_type, "text/html; charset=utf-8");
        let html = String::from_utf8(content).unwrap();
        for expected in ["<html lang=\"sv\">", "B1. Har arbetsplatserna", "Förvaltningens HR-chef", "Utbildning i aktiva åtgärder för chefer", "Barn- och utbildningsförvaltningen"] {
            assert!(html.contains(expected), "{expected} missing from the registered answer");
        }

        // The förvaltningschef returns it with a comment.
        let head = site.link_for("karin.welander@norrvika.example").await;
        let (status, page) = http_get(site.addr, &head).await;
        assert_eq!(status, 200);
        assert!(page.contains("Godkänn svaret") && page.contains("Förvaltningens HR-chef"), "{page}");
        let (status, page) = http_post(site.addr, &head, &[("atgard", "return"), ("kommentar", "")]).await;
        assert_eq!(status, 422, "a return needs a comment: {page}");
        let (status, _) = http_post(site.addr, &head, &[("atgard", "return"), ("kommentar", "Beskriv samverkan i H1.")]).await;
        assert_eq!(status, 200);
        let chef_again = site.link_for("oskar.lindfors@norrvika.example").await;
        let returned = site.kansli.messages(None, None).await.unwrap().into_iter().rfind(|m| m.template == "enkat-returnerad").unwrap();
        assert!(site.kansli.message(returned.id).await.unwrap().text.unwrap().contains("Beskriv samverkan i H1."));
        let (_, form) = http_get(site.addr, &chef_again).await;
        assert!(form.contains("Beskriv samverkan i H1.") && form.contains("Förvaltningens HR-chef"), "the comment and the answers: {form}");

        // Completed and approved: every link into the answer dies, and says why.
        let (status, _) = http_post(site.addr, &chef_again, &with(complete(), "skicka")).await;
        assert_eq!(status, 200);
        let head_again = site.link_for("karin.welander@norrvika.example").await;
        let (status, page) = http_post(site.addr, &head_again, &[("atgard", "approve")]).await;
        assert_eq!(status, 200, "{page}");
        for link in [&chef, &chef_again, &head, &head_again] {
            let (status, page) = http_get(site.addr, link).await;
            assert_eq!(status, 410, "{link}");
            assert!(page.contains("Enkäten är stängd: Godkänt av förvaltningschefen (ärende KS 2026/1).") && !page.contains("Barn- och utbildning"), "{page}");
        }
        let history = site.kansli.case_history("KS 2026/1").await.unwrap();
        assert!(history.iter().any(|h| h.action == "godkann" && h.actor.contains("karin.welander")), "who and when");
    }

    async fn last_years_planned_measures_are_prefilled_into_this_years_follow_up(db) {
        let site = site(db).await;
        let chef = site.link_for("oskar.lindfors@norrvika.example").await;
        let (status, _) = http_post(site.addr, &chef, &with(complete(), "skicka")).await;
        assert_eq!(status, 200);
        let late = site.link_for("tobias.frank@norrvika.example").await;
        // This year's round runs out and is compiled; its links die with it, and a late answer
        // is told so, and whom to ask.
        site.clock.set(local(2026, 11, 6, 8));
        site.engine.tick().await.unwrap();
        site.postman.dispatch_all_pending().await.unwrap();
        let (status, page) = http_get(site.addr, &late).await;
        assert!(status == 410 && page.contains("Enkäten är stängd: Inget svar kom in innan svaren sammanställdes (ärende KS 2026/1). Kontakta handläggaren Amira Hadžić, amira.hadzic@norrvika.example, om du har frågor."), "{status}: {page}");
        let (status, _) = http_post(site.addr, &late, &with(complete(), "skicka")).await;
        assert_eq!(status, 410, "a late answer is not taken");
        // A year later the follow-up starts again and links last year's ärende.
        site.clock.set(local(2027, 10, 1, 7));
        site.engine.tick().await.unwrap();
        assert_eq!(site.kansli.show_case("KS 2027/1").await.unwrap().previous.as_deref(), Some("KS 2026/1"));
        let next = site.link_for("oskar.lindfors@norrvika.example").await;
        assert_ne!(next, chef);
        let (status, form) = http_get(site.addr, &next).await;
        assert_eq!(status, 200);
        assert!(form.contains("name=\"I1.0.atgard\" value=\"Utbildning i aktiva åtgärder för chefer\""), "{form}");
        assert!(form.contains("name=\"J1.0.atgard\" value=\"\""), "this year's plan starts empty");
        // Another förvaltning, which planned nothing last year, starts with an empty table.
        let other = site.link_for("tobias.frank@norrvika.example").await;
        let (_, form) = http_get(site.addr, &other).await;
        assert!(form.contains("name=\"I1.0.atgard\" value=\"\""));
    }

    async fn the_whole_round_ends_in_a_report_whose_counts_match_the_answers(db) {
        let site = site(db).await;
        // Four förvaltningar answer, SOF after being returned once; three never answer.
        let answering = [
            ("oskar.lindfors", "karin.welander", vec![("B3", "1")]),
            ("tobias.frank", "maria.sandell", vec![("B1", "delvis"), ("B3", "0")]),
            ("ali.rahimi", "helena.voss", vec![("B3", "2")]),
            ("daniel.oberg", "ingrid.falk", vec![("B3", "0"), ("A3", "=HYPERLINK(\"http://x\")"), ("B1.kommentar", "<script>alert(1)</script>")]),
        ];
        for (chef, head, overrides) in &answering {
            let mut answers = complete();
            for (k, v) in overrides {
                answers.retain(|(q, _)| q != k);
                answers.push((k, v));
            }
            let link = site.link_for(&format!("{chef}@norrvika.example")).await;
            assert_eq!(http_post(site.addr, &link, &with(answers.clone(), "skicka")).await.0, 200);
            let sign = site.link_for(&format!("{head}@norrvika.example")).await;
            if *chef == "tobias.frank" {
                assert_eq!(http_post(site.addr, &sign, &[("atgard", "return"), ("kommentar", "Komplettera C2.")]).await.0, 200);
                let again = site.link_for(&format!("{chef}@norrvika.example")).await;
                assert_eq!(http_post(site.addr, &again, &with(answers, "skicka")).await.0, 200);
                let sign = site.link_for(&format!("{head}@norrvika.example")).await;
                assert_eq!(http_post(site.addr, &sign, &[("atgard", "approve")]).await.0, 200);
            } else {
                assert_eq!(http_post(site.addr, &sign, &[("atgard", "approve")]).await.0, 200);
            }
        }
        let progress = site.engine.progress("KS 2026/1").await.unwrap();
        assert_eq!(progress.iter().filter(|p| p.state == "godkand").count(), 4);
        assert_eq!(progress.iter().filter(|p| p.state == "inbjuden").count(), 3);

        // The deadline passes: the follow-up moves on and the report is drawn up.
        site.clock.set(local(2026, 11, 5, 8));
        site.engine.tick().await.unwrap();
        let case = site.kansli.show_case("KS 2026/1").await.unwrap();
        let report = case.documents.iter().find(|d| d.description.starts_with("Sammanställning")).expect("the report is registered");
        assert_eq!(report.direction.label(), "upprättad");
        let (_, content) = site.kansli.document_file(&report.number).await.unwrap();
        let html = String::from_utf8(content).unwrap();
        for expected in [
            "B1. Har arbetsplatserna",
            "ja: 3, nej: 0, delvis: 1",          // B1: SOF said delvis
            "Summa: färre än 5",                  // B3 counts people: 1 + 0 + 2 + 0
            "Summa: 12",                          // E2: 3 each from four förvaltningar
            "Socialförvaltningen: Utbildning i aktiva åtgärder för chefer",
        ] {
            assert!(html.contains(expected), "{expected:?} missing from the report");
        }
        assert!(!html.contains("Summa: 3<"), "a small count about people is not shown");
        assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;") && !html.contains("<script>"), "answers are escaped in the report");
        assert!(!html.contains("Samhällsbyggnadsförvaltningen: Utbildning"), "no answer, no row");
        // The response rate, and who did not answer.
        let progress = site.engine.progress("KS 2026/1").await.unwrap();
        let silent: Vec<String> = progress.iter().filter(|p| p.state != "godkand").map(|p| p.unit_name.clone()).collect();
        assert!(html.contains("<strong>Svarsfrekvens:</strong> 4 av 7 förvaltningar har svarat (57 %). Svar saknas från "), "{html}");
        for name in &silent {
            assert!(html.contains(name.as_str()), "{name} is named as not having answered");
        }
        // The round is closed: the three that did not answer end, and nothing of the round
        // waits for their chefs any more.
        assert_eq!(progress.iter().filter(|p| p.state == "inget_svar").count(), 3, "{progress:?}");
        let chefs: Vec<(kansli::domain::organisation::Role, String)> = progress.iter().filter(|p| p.state == "inget_svar").map(|p| (kansli::domain::organisation::Role::Chef, p.unit_code.clone())).collect();
        assert!(site.engine.inbox(&chefs).await.unwrap().is_empty(), "nothing waits for their chefs");

        // The exports hold every förvaltning, answered or not, and no formula.
        let compilation = site.engine.compilation("KS 2026/1").await.unwrap();
        let csv = String::from_utf8(compilation.csv().unwrap()).unwrap();
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(lines.len(), 8, "{csv}");
        assert!(lines[0].contains("Förvaltning;Läge;A2 Totalt"), "{}", lines[0]);
        let kff = lines.iter().find(|l| l.contains("Kultur- och fritidsförvaltningen")).unwrap();
        assert!(kff.contains("'=HYPERLINK"), "{kff}");
        let xlsx = compilation.xlsx().unwrap();
        assert_eq!(&xlsx[..2], b"PK", "an XLSX workbook is a zip file");
        let names = String::from_utf8_lossy(&xlsx).into_owned();
        assert!(names.contains("xl/worksheets/sheet10.xml"), "a sheet per section");
    }

    async fn the_running_server_never_writes_a_token_into_its_logs(db) {
        let dir = tempfile::tempdir().unwrap();
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let port = crate::smtp::free_port();
        let kansli = |args: &[&str]| {
            let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_kansli"));
            c.args(args)
                .current_dir(dir.path())
                .env("KANSLI_DATABASE_URL", &db.url)
                .env("KANSLI_MAIL_DIR", dir.path().join("mail"))
                .env("KANSLI_SERVER_SECRET_FILE", dir.path().join("secret"))
                .env("KANSLI_WORKFLOWS_DIR", root.join("workflows"))
                .env("KANSLI_WORKFLOWS_TEMPLATES", root.join("templates"))
                .env("KANSLI_ENGINE_TICK_SECONDS", "1")
                .env("RUST_LOG", "debug");
            c
        };
        assert!(kansli(&["org", "import", "--demo"]).status().unwrap().success());
        assert!(kansli(&["workflow", "start", "aktiva-atgarder"]).output().unwrap().status.success());
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let mut server = kansli(&["serve", "--addr", &format!("127.0.0.1:{port}")]).stderr(log).spawn().unwrap();
        let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
        // Ready, and the seven invitations written by the server's own dispatcher.
        let mut token = None;
        for _ in 0..100 {
            tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            let files: Vec<PathBuf> = std::fs::read_dir(dir.path().join("mail")).map(|r| r.flatten().map(|e| e.path()).filter(|p| p.extension().is_some_and(|e| e == "eml")).collect()).unwrap_or_default();
            if files.len() == 7 {
                let raw = std::fs::read_to_string(&files[0]).unwrap().replace("=\r\n", "");
                let at = raw.find("/enkat/").unwrap();
                token = Some(raw[at + 7..at + 7 + 64].to_owned());
                break;
            }
        }
        let token = token.expect("the server sent the invitations");
        let (status, _) = http_get(addr, &format!("/enkat/{token}")).await;
        assert_eq!(status, 200);
        let (status, _) = http_post(addr, &format!("/enkat/{token}"), &[("B1", "ja"), ("atgard", "spara")]).await;
        assert_eq!(status, 200);
        let _ = server.kill();
        let _ = server.wait();
        let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap();
        assert!(log.contains("Kansli is listening"), "the log was written: {log}");
        assert!(!log.contains(&token), "the token is in the log");
        assert!(!log.contains(&token[..16]), "part of the token is in the log");
    }

    async fn a_forged_or_malformed_link_gets_404_and_reveals_nothing(db) {
        let site = site(db).await;
        let real = site.link_for("oskar.lindfors@norrvika.example").await;
        let forged = format!("/enkat/{}", "ab".repeat(32));
        let flipped = format!("{}{}", &real[..real.len() - 1], if real.ends_with('0') { '1' } else { '0' });
        for path in [forged.as_str(), flipped.as_str(), "/enkat/abc", "/enkat/..%2F..%2Fetc%2Fpasswd", "/enkat/%3Cscript%3E"] {
            let (status, page) = http_get(site.addr, path).await;
            assert_eq!(status, 404, "{path}");
            assert!(!page.contains("Barn- och utbildning") && !page.contains("KS 2026"), "{path}: {page}");
            let (status, _) = http_post(site.addr, path, &with(complete(), "skicka")).await;
            assert_eq!(status, 404, "{path}");
        }
        assert!(site.handlingar().await.is_empty());
    }

    async fn a_submitted_answer_and_its_workflow_step_stand_or_fall_together(db) {
        let site = site(db).await;
        let link = site.link_for("oskar.lindfors@norrvika.example").await;
        let buf = |progress: Vec<kansli::service::UnitProgress>| progress.into_iter().find(|p| p.unit_code == "BUF").unwrap();
        // The step cannot register the answer as a handling (its table is gone for a moment,
        // as when the database fails halfway): nothing of the submission stands.
        let conn = sea_orm::Database::connect(&db.url).await.unwrap();
        sea_orm::ConnectionTrait::execute_unprepared(&conn, "ALTER TABLE document RENAME TO document_away").await.unwrap();
        let (status, _) = http_post(site.addr, &link, &with(complete(), "skicka")).await;
        assert_eq!(status, 500);
        let after = buf(site.engine.progress("KS 2026/1").await.unwrap());
        assert!(after.submitted_at.is_none() && after.state == "inbjuden", "neither the submission nor the step: {after:?}");
        // Once the database is whole again, the same submission goes through, once.
        sea_orm::ConnectionTrait::execute_unprepared(&conn, "ALTER TABLE document_away RENAME TO document").await.unwrap();
        let (_, form) = http_get(site.addr, &link).await;
        assert!(form.contains("Förvaltningens HR-chef"), "what was typed is kept, as a draft: {form}");
        let (status, _) = http_post(site.addr, &link, &with(complete(), "skicka")).await;
        assert_eq!(status, 200);
        let after = buf(site.engine.progress("KS 2026/1").await.unwrap());
        assert!(after.submitted_at.is_some() && after.state == "inskickad", "{after:?}");
        assert_eq!(site.handlingar().await.iter().filter(|d| d.contains("Barn- och utbildningsförvaltningen")).count(), 1);
    }
}

/// The shipped workflows with the questionnaire workflow's states and events renamed: the
/// answering code must follow the declaration, not the names.
fn renamed_workflows() -> tempfile::TempDir {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("workflows");
    let dir = tempfile::tempdir().unwrap();
    let renames = [
        ("inbjuden", "invited"),
        ("utkast", "drafting"),
        ("returnerad", "sent_back"),
        ("inskickad", "handed_in"),
        ("godkand", "accepted"),
        ("utkast_sparat", "draft_kept"),
        ("svar_inskickat", "hand_in"),
        ("godkann", "accept"),
        ("returnera", "send_back_for_more"),
        ("paminn", "nudge"),
        ("svarstid", "answer_by"),
    ];
    let whole = |text: &str, from: &str, to: &str| {
        // A whole name only: not a template's `enkat-returnerad`, not `utkast_sparat` for
        // `utkast`.
        let mut out = String::new();
        let mut rest = text;
        let part = |c: char| c.is_alphanumeric() || c == '_' || c == '-';
        while let Some(at) = rest.find(from) {
            let before = rest[..at].chars().next_back();
            let after = rest[at + from.len()..].chars().next();
            out.push_str(&rest[..at]);
            if before.is_some_and(part) || after.is_some_and(part) {
                out.push_str(from);
            } else {
                out.push_str(to);
            }
            rest = &rest[at + from.len()..];
        }
        out.push_str(rest);
        out
    };
    for entry in std::fs::read_dir(&root).unwrap().flatten() {
        let path = entry.path();
        let target = dir.path().join(entry.file_name());
        if path.is_dir() {
            std::fs::create_dir(&target).unwrap();
            for file in std::fs::read_dir(&path).unwrap().flatten() {
                std::fs::copy(file.path(), target.join(file.file_name())).unwrap();
            }
            continue;
        }
        let mut text = std::fs::read_to_string(&path).unwrap();
        if path.extension().is_some_and(|e| e == "yaml") {
            for (from, to) in renames {
                text = whole(&text, from, to);
            }
        }
        std::fs::write(target, text).unwrap();
    }
    let enkat = std::fs::read_to_string(dir.path().join("aktiva-atgarder-enkat.yaml")).unwrap();
    for gone in [
        "\n  inbjuden:\n",
        "\n  returnerad:\n",
        "event: svar_inskickat\n",
        "event: godkann\n",
        "event: paminn\n",
    ] {
        assert!(!enkat.contains(gone), "{gone} is renamed");
    }
    dir
}

on_both_backends! {
    async fn a_questionnaire_workflow_with_its_own_state_and_event_names_runs_the_round(db) {
        let workflows = renamed_workflows();
        let site = site_running(db, workflows.path()).await;
        let chef = site.link_for("oskar.lindfors@norrvika.example").await;
        let (status, form) = http_get(site.addr, &chef).await;
        assert_eq!(status, 200, "{form}");

        // A first draft moves the instance by the declared draft event.
        let (status, _) = http_post(site.addr, &chef, &[("B1", "delvis"), ("atgard", "spara")]).await;
        assert_eq!(status, 200);
        let state = |units: &[kansli::service::UnitProgress], code: &str| {
            units.iter().find(|u| u.unit_code == code).unwrap().state.clone()
        };
        assert_eq!(state(&site.engine.progress("KS 2026/1").await.unwrap(), "BUF"), "drafting");

        // Submitted, sent back with a comment, completed, accepted: each by the declared event.
        assert_eq!(http_post(site.addr, &chef, &with(complete(), "skicka")).await.0, 200);
        let progress = site.engine.progress("KS 2026/1").await.unwrap();
        assert_eq!(state(&progress, "BUF"), "handed_in");
        assert!(progress.iter().find(|u| u.unit_code == "BUF").unwrap().submitted_at.is_some(), "the declared submit event dates it");
        assert!(site.handlingar().await.iter().any(|d| d.starts_with("Svar på uppföljningsenkät")), "the answer is registered");
        let head = site.link_for("karin.welander@norrvika.example").await;
        assert_eq!(http_post(site.addr, &head, &[("atgard", "return"), ("kommentar", "Beskriv H1.")]).await.0, 200);
        assert_eq!(state(&site.engine.progress("KS 2026/1").await.unwrap(), "BUF"), "sent_back");
        let again = site.link_for("oskar.lindfors@norrvika.example").await;
        let (status, form) = http_get(site.addr, &again).await;
        assert!(status == 200 && form.contains("Beskriv H1."), "the comment, by the declared variable: {form}");
        assert_eq!(http_post(site.addr, &again, &with(complete(), "skicka")).await.0, 200);
        let head = site.link_for("karin.welander@norrvika.example").await;
        assert_eq!(http_post(site.addr, &head, &[("atgard", "approve")]).await.0, 200);
        assert_eq!(state(&site.engine.progress("KS 2026/1").await.unwrap(), "BUF"), "accepted");
        let history = site.kansli.case_history("KS 2026/1").await.unwrap();
        for event in ["draft_kept", "hand_in", "send_back_for_more", "accept"] {
            assert!(history.iter().any(|h| h.action == event), "{event} in the history");
        }

        // Reminders by the renamed timer and event are counted; the round compiles with one
        // answer and names the six that did not answer.
        site.clock.set(local(2026, 10, 16, 10));
        site.engine.tick().await.unwrap();
        let progress = site.engine.progress("KS 2026/1").await.unwrap();
        assert!(progress.iter().filter(|u| u.unit_code != "BUF").all(|u| u.reminders.len() == 1), "{progress:?}");
        site.clock.set(local(2026, 11, 6, 8));
        site.engine.tick().await.unwrap();
        let report = site.engine.compilation("KS 2026/1").await.unwrap();
        assert_eq!(report.response_rate(), "1 av 7 förvaltningar har svarat (14 %)");
        assert_eq!(report.not_answered().len(), 6);
    }
}
