//! Email: rendered at enqueue, delivered over real SMTP, retried, reported, never lost.

use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use kansli::clock::ManualClock;
use kansli::mail::{SmtpMailer, SmtpSecurity, SmtpSettings};
use kansli::render::{MessageContext, Renderer};
use kansli::service::links::LinkSecret;
use kansli::service::{Actor, DispatchOutcome, Engine, Kansli, Postman};
use kansli::store::{NewFile, NewOutbox, OutboxStatus};
use kansli::workflow::Catalog;
use serde_json::Map;

use crate::helpers::TestDb;
use crate::helpers::{copy_dir, local};
use crate::on_both_backends;
use crate::smtp::SmtpSink;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn shipped() -> Catalog {
    Catalog::load(&root().join("workflows"), &root().join("templates")).unwrap()
}

fn postman(kansli: &Kansli, sink: &SmtpSink, owner: &str) -> Postman {
    let mailer = SmtpMailer::new(&SmtpSettings {
        host: "127.0.0.1".into(),
        port: sink.port,
        security: SmtpSecurity::None,
        timeout_seconds: 5,
        ..Default::default()
    })
    .unwrap();
    Postman::new(
        kansli.clone(),
        Arc::new(mailer),
        shipped().shared_renderer(),
        owner,
    )
    .with_links(secret(), BASE_URL)
}

const BASE_URL: &str = "https://kansli.norrvika.example";

/// The link secret the tests' engine and postman share, as a server's do.
fn secret() -> Arc<LinkSecret> {
    Arc::new(LinkSecret::from_hex(&"5a".repeat(32)).unwrap())
}

/// The yearly follow-up started on 1 October: seven invitations in the outbox.
async fn started(db: &TestDb, organisation: Option<&str>) -> (Kansli, Engine, ManualClock) {
    let clock = ManualClock::new(local(2026, 10, 1, 7));
    let kansli = Kansli::new(db.store(6).await, Arc::new(clock.clone()));
    kansli
        .import_organisation(
            "org",
            organisation.unwrap_or(kansli::service::DEMO_ORGANISATION),
        )
        .await
        .unwrap();
    let engine = Engine::new(kansli.clone(), Arc::new(shipped()), "engine")
        .with_base_url(BASE_URL)
        .with_link_secret(secret());
    engine.tick().await.unwrap();
    (kansli, engine, clock)
}

async fn count(kansli: &Kansli, status: &str) -> usize {
    kansli.messages(Some(status), None).await.unwrap().len()
}

on_both_backends! {
    async fn a_message_reaches_a_real_smtp_server_whole_with_swedish_letters_and_an_attachment(db) {
        let sink = SmtpSink::start();
        let (kansli, _engine, clock) = started(db, None).await;
        // A message with an attachment, queued as a decision step would queue it.
        let pdf = b"%PDF-1.7 protokollsutdrag \xc3\xa5\xc3\xa4\xc3\xb6".to_vec();
        let sha = {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(&pdf))
        };
        let tx = kansli.store().begin().await.unwrap();
        tx.store_file(NewFile { sha256: sha.clone(), content: pdf.clone(), stored_at: clock.now_for_test() }).await.unwrap();
        tx.insert_outbox(NewOutbox {
            instance_id: None,
            case_id: None,
            template: "beslut-expedierat".into(),
            recipients: r#"[{"name":"Örjan Ås","email":"orjan.as@norrvika.example"}]"#.into(),
            context: "{}".into(),
            status: OutboxStatus::Pending,
            at: clock.now_for_test(),
            message_id: Some("<bilaga-1.kansli@norrvika.example>".into()),
            sender: Some(r#"{"name":"Norrvika kommun","email":"kansli@norrvika.example"}"#.into()),
            reply_to: Some(r#"{"name":"Amira Hadžić","email":"amira.hadzic@norrvika.example"}"#.into()),
            recipient_email: Some("orjan.as@norrvika.example".into()),
            subject: Some("Beslut: Årlig uppföljning – åtgärder (KS 2026/1)".into()),
            text_body: Some("Hej Örjan!\n\nBifogat finns protokollsutdraget.".into()),
            html_body: Some("<p>Hej Örjan!</p>".into()),
            attachments: Some(format!(r#"[{{"name":"Protokollsutdrag KS § 1-26.pdf","media_type":"application/pdf","sha256":"{sha}"}}]"#)),
        }).await.unwrap();
        tx.commit().await.unwrap();

        let delivered = postman(&kansli, &sink, "p").dispatch_all_pending().await.unwrap();
        assert_eq!(delivered, 8, "seven invitations and the decision");
        assert_eq!(count(&kansli, "sent").await, 8);
        let received = sink.received();
        assert_eq!(received.len(), 8);

        let invitation = received.iter().find(|m| m.rcpt_tos == ["oskar.lindfors@norrvika.example"]).unwrap();
        assert_eq!(invitation.subject, "Uppföljning av aktiva åtgärder 2026: enkät till Barn- och utbildningsförvaltningen (KS 2026/1)");
        assert_eq!(invitation.from, "Norrvika kommun <kansli@norrvika.example>");
        assert_eq!(invitation.reply_to.as_deref(), Some("Amira Hadžić <amira.hadzic@norrvika.example>"));
        let text = invitation.text.as_deref().unwrap();
        assert!(text.starts_with("Hej Oskar Lindfors!"), "{text}");
        assert!(text.contains(&format!("{BASE_URL}/enkat/")), "a personal link: {text}");
        assert!(text.contains("Svara senast 2026-10-29"), "{text}");
        assert!(text.contains("Norrvika kommun\nkansli@norrvika.example"), "the footer partial: {text}");
        let html = invitation.html.as_deref().unwrap();
        assert!(html.contains("<html lang=\"sv\">") && html.contains("Barn- och utbildningsförvaltningen"), "{html}");
        let stored = kansli.messages(Some("sent"), None).await.unwrap();
        let stored_id = stored.iter().find(|m| m.to.as_deref() == Some("oskar.lindfors@norrvika.example")).unwrap().message_id.clone().unwrap();
        assert_eq!(invitation.message_id, stored_id, "the Message-ID fixed at enqueue is the one sent");

        let decision = received.iter().find(|m| m.rcpt_tos == ["orjan.as@norrvika.example"]).unwrap();
        assert_eq!(decision.subject, "Beslut: Årlig uppföljning – åtgärder (KS 2026/1)");
        assert_eq!(decision.to, "Örjan Ås <orjan.as@norrvika.example>");
        assert_eq!(decision.text.as_deref().unwrap().trim_end(), "Hej Örjan!\n\nBifogat finns protokollsutdraget.");
        assert_eq!(decision.attachments.len(), 1);
        assert_eq!(decision.attachments[0].filename.as_deref(), Some("Protokollsutdrag KS § 1-26.pdf"));
        assert_eq!(decision.attachments[0].content_type, "application/pdf");
        assert_eq!(decision.attachments[0].size, pdf.len());
    }

    async fn with_the_server_down_for_a_while_every_message_arrives_once_it_is_up(db) {
        let mut sink = SmtpSink::stopped();
        let (kansli, _engine, clock) = started(db, None).await;
        let p = postman(&kansli, &sink, "p");
        assert_eq!(p.dispatch_all_pending().await.unwrap(), 7, "seven attempts, all refused");
        let waiting = kansli.messages(Some("pending"), None).await.unwrap();
        assert_eq!(waiting.len(), 7);
        assert!(waiting.iter().all(|m| m.attempts == 1 && m.last_error.is_some() && m.next_attempt_at.unwrap() > clock.now_for_test()));
        assert_eq!(p.try_dispatch_next().await.unwrap(), DispatchOutcome::Empty, "nothing is due before the backoff");
        // Still down at the first retry: the wait doubles.
        clock.advance(Duration::seconds(80));
        assert_eq!(p.dispatch_all_pending().await.unwrap(), 7);
        assert!(kansli.messages(Some("pending"), None).await.unwrap().iter().all(|m| m.attempts == 2));
        // Up again.
        sink.resume();
        clock.advance(Duration::minutes(3));
        assert_eq!(p.dispatch_all_pending().await.unwrap(), 7);
        clock.advance(Duration::hours(2));
        assert_eq!(p.dispatch_all_pending().await.unwrap(), 0);
        let received = sink.received();
        assert_eq!(received.len(), 7);
        let mut ids: Vec<&str> = received.iter().map(|m| m.message_id.as_str()).collect();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 7, "none twice");
        assert_eq!(count(&kansli, "sent").await, 7);
    }

    async fn a_permanent_failure_is_reported_to_the_admin_and_in_the_history_and_not_retried(db) {
        let sink = SmtpSink::start();
        let org = kansli::service::DEMO_ORGANISATION.replace("oskar.lindfors@norrvika.example", "avvisa.oskar@norrvika.example");
        let (kansli, _engine, clock) = started(db, Some(&org)).await;
        let p = postman(&kansli, &sink, "p");
        p.dispatch_all_pending().await.unwrap();
        let failed = kansli.messages(Some("failed"), None).await.unwrap();
        assert_eq!(failed.len(), 1);
        assert_eq!(failed[0].attempts, 1, "no retry after a 5xx");
        assert!(failed[0].last_error.as_deref().unwrap().contains("550"), "{:?}", failed[0].last_error);
        // The admin is told, by a message that is itself delivered.
        let notices: Vec<_> = sink.received().into_iter().filter(|m| m.subject.starts_with("E-post kunde inte levereras")).collect();
        assert_eq!(notices.len(), 1);
        assert_eq!(notices[0].rcpt_tos, ["mikael.aro@norrvika.example"]);
        assert!(notices[0].text.as_deref().unwrap().contains("avvisa.oskar@norrvika.example"));
        let history = kansli.case_history("KS 2026/1").await.unwrap();
        assert!(history.iter().any(|h| h.action == "e-post kunde inte levereras" && h.detail.as_deref().unwrap().contains("550")), "{history:?}");
        // Later rounds leave it alone until someone retries it.
        clock.advance(Duration::days(1));
        assert_eq!(p.dispatch_all_pending().await.unwrap(), 0);
        let retried = kansli.retry_message(failed[0].id, &Actor::new("mikael.aro")).await.unwrap();
        assert_eq!(retried.status, "pending");
        assert_eq!(p.dispatch_all_pending().await.unwrap(), 2, "the retry, and the notice of its failure");
        assert_eq!(count(&kansli, "failed").await, 1, "refused again");
        let err = kansli.retry_message(kansli.messages(Some("sent"), None).await.unwrap()[0].id, &Actor::new("x")).await.unwrap_err();
        assert!(err.to_string().contains("only a failed message can be retried"), "{err}");
    }

    async fn a_dispatcher_killed_mid_way_leaves_each_message_delivered_with_one_message_id(db) {
        let sink = SmtpSink::start();
        let (kansli, _engine, clock) = started(db, None).await;
        let a = postman(&kansli, &sink, "a");
        let b = postman(&kansli, &sink, "b");
        // Killed between claiming and sending.
        assert_eq!(a.claim_and_abandon().await.unwrap(), 7);
        assert_eq!(b.dispatch_all_pending().await.unwrap(), 0, "a's leases hold");
        clock.advance(Duration::seconds(121));
        assert_eq!(b.dispatch_all_pending().await.unwrap(), 7);
        assert_eq!(sink.received().len(), 7);
        // Killed after the server took the message, before it was recorded: sent again, as the
        // same message.
        let tx = kansli.store().begin().await.unwrap();
        tx.insert_outbox(NewOutbox {
            instance_id: None, case_id: None, template: "enkat-godkand".into(),
            recipients: r#"[{"name":"Oskar","email":"oskar.lindfors@norrvika.example"}]"#.into(),
            context: "{}".into(), status: OutboxStatus::Pending, at: clock.now_for_test(),
            message_id: Some("<en-gang.kansli@norrvika.example>".into()),
            sender: Some(r#"{"name":"Norrvika kommun","email":"kansli@norrvika.example"}"#.into()),
            reply_to: None, recipient_email: Some("oskar.lindfors@norrvika.example".into()),
            subject: Some("Godkänt (KS 2026/1)".into()), text_body: Some("Godkänt.".into()),
            html_body: Some("<p>Godkänt.</p>".into()), attachments: Some("[]".into()),
        }).await.unwrap();
        tx.commit().await.unwrap();
        assert!(a.deliver_and_abandon().await.unwrap());
        clock.advance(Duration::seconds(121));
        assert_eq!(b.dispatch_all_pending().await.unwrap(), 1);
        let copies: Vec<_> = sink.received().into_iter().filter(|m| m.subject.starts_with("Godkänt")).collect();
        assert_eq!(copies.len(), 2, "at least once: delivered again");
        assert!(copies.iter().all(|m| m.message_id == "<en-gang.kansli@norrvika.example>"));
        assert_eq!(count(&kansli, "sent").await, 8);
    }

    async fn a_step_that_fails_leaves_no_message_in_the_outbox(db) {
        let clock = ManualClock::new(local(2026, 10, 1, 7));
        let kansli = Kansli::new(db.store(2).await, Arc::new(clock));
        kansli.import_organisation("org", kansli::service::DEMO_ORGANISATION).await.unwrap();
        // The email is queued first; the document after it cannot be registered without an
        // ärende, so the whole step rolls back.
        let source = "id: rulla\ntitle: Rulla tillbaka\ninitial: a\nstates:\n  a:\n    on_entry:\n      - email: { template: enkat-inbjudan, to: [handläggare] }\n      - document: { template: sammanstallning, direction: upprättad, description: X }\n    on:\n      - { event: klar, by: [handläggare], to: b }\n  b:\n    final: true\n";
        let catalog = Catalog::from_sources(vec![("rulla.yaml".into(), source.into())], Some(&root().join("templates"))).unwrap();
        let engine = Engine::new(kansli.clone(), Arc::new(catalog), "e");
        let err = engine.start("rulla", Map::new(), &Actor::new("x")).await.unwrap_err();
        assert!(err.to_string().contains("needs an ärende"), "{err}");
        assert!(kansli.messages(None, None).await.unwrap().is_empty(), "no message without its step");
        assert!(kansli.store().all_instances().await.unwrap().is_empty());
    }

    async fn reminders_skip_holidays_and_weekends_and_stop_when_the_answer_is_in(db) {
        // Started on Thursday 10 December: the deadline is 7 January at 07:00, the first
        // reminder would be julafton and the last Monday 4 January before office hours.
        let clock = ManualClock::new(local(2026, 12, 10, 7));
        let kansli = Kansli::new(db.store(4).await, Arc::new(clock.clone()));
        kansli.import_organisation("org", kansli::service::DEMO_ORGANISATION).await.unwrap();
        let engine = Engine::new(kansli.clone(), Arc::new(shipped()), "e");
        let (_, number) = engine.start("aktiva-atgarder", Map::new(), &Actor::new("x")).await.unwrap();
        let number = number.unwrap();
        let store = kansli.store();
        let case_id = store.list_cases(&Default::default()).await.unwrap()[0].id;
        let buf = store.instances_of_case(case_id).await.unwrap().into_iter().find(|i| i.unit_code.as_deref() == Some("BUF")).unwrap();
        let due = |name: &str, timers: &[kansli::store::TimerRow]| timers.iter().find(|t| t.name == name).unwrap().due_at;
        let timers = store.timers_of(buf.id).await.unwrap();
        assert_eq!(due("paminnelse", &timers), local(2026, 12, 28, 8), "julafton to Monday 28 December, 08:00");
        assert_eq!(due("sista_paminnelse", &timers), local(2027, 1, 4, 8), "Monday 4 January at opening");
        assert_eq!(due("svarstid", &timers), local(2027, 1, 7, 7));
        // BUF answers before the first reminder; nobody else does.
        engine.send(&kansli::service::Target { case_number: number.clone(), unit: Some("BUF".into()) }, "svar_inskickat",
            kansli::workflow::Sender::Role(kansli::domain::organisation::Role::Chef), &Actor::new("oskar"), None).await.unwrap();
        for day in [(2026, 12, 24), (2026, 12, 26), (2026, 12, 27)] {
            clock.set(local(day.0, day.1, day.2, 12));
            engine.tick().await.unwrap();
            let sent: Vec<_> = kansli.messages(None, None).await.unwrap().into_iter().filter(|m| m.template == "enkat-paminnelse").collect();
            assert!(sent.is_empty(), "no reminder on {day:?}");
        }
        // The engine looks every few seconds; step to each due time as it would.
        for at in [local(2026, 12, 28, 8), local(2027, 1, 4, 8), local(2027, 1, 10, 12)] {
            clock.set(at);
            engine.tick().await.unwrap();
        }
        let messages = kansli.messages(None, None).await.unwrap();
        let to_of = |t: &str| messages.iter().filter(|m| m.template == t).map(|m| m.to.clone().unwrap()).collect::<Vec<_>>();
        assert_eq!(to_of("enkat-paminnelse").len(), 6, "one reminder each to the six that had not answered");
        assert_eq!(to_of("enkat-sista-paminnelse").len(), 6);
        assert!(!to_of("enkat-paminnelse").contains(&"oskar.lindfors@norrvika.example".to_owned()));
        assert!(!to_of("enkat-sista-paminnelse").contains(&"oskar.lindfors@norrvika.example".to_owned()));
        let first = messages.iter().find(|m| m.template == "enkat-paminnelse").unwrap().created_at;
        let last = messages.iter().find(|m| m.template == "enkat-sista-paminnelse").unwrap().created_at;
        assert_eq!((first, last), (local(2026, 12, 28, 8), local(2027, 1, 4, 8)), "sent when due, not when noticed");
    }
    async fn a_personal_link_is_stored_only_as_a_hash_and_dies_when_the_answer_is_approved(db) {
        let sink = SmtpSink::start();
        let (kansli, engine, _clock) = started(db, None).await;
        let p = postman(&kansli, &sink, "p");
        p.dispatch_all_pending().await.unwrap();
        let received = sink.received();
        let invitation = received.iter().find(|m| m.rcpt_tos == ["oskar.lindfors@norrvika.example"]).unwrap();
        let text = invitation.text.as_deref().unwrap();
        let token = text.split(&format!("{BASE_URL}/enkat/")).nth(1).unwrap().split_whitespace().next().unwrap().to_owned();
        assert_eq!(token.len(), 64, "{text}");
        // Every link is its own.
        let tokens: std::collections::HashSet<String> = received.iter().map(|m| m.text.clone().unwrap()).collect();
        assert_eq!(tokens.len(), 7);
        // The database holds the hash, and the stored message a placeholder, never the token.
        let store = kansli.store();
        let case_id = store.list_cases(&Default::default()).await.unwrap()[0].id;
        let buf = store.instances_of_case(case_id).await.unwrap().into_iter().find(|i| i.unit_code.as_deref() == Some("BUF")).unwrap();
        let links = store.invitations_of(buf.id).await.unwrap();
        assert_eq!(links.len(), 1);
        assert_eq!(links[0].token_sha256, kansli::service::links::token_hash(&token));
        assert_eq!(links[0].purpose, "answer");
        for m in store.outbox(None).await.unwrap() {
            let all = format!("{:?}", m);
            assert!(!all.contains(&token), "the outbox holds the token: {all}");
        }
        let shown = kansli.messages(None, None).await.unwrap();
        for m in &shown {
            let whole = kansli.message(m.id).await.unwrap();
            assert!(!whole.text.clone().unwrap_or_default().contains(&token));
        }
        let oskar = shown.iter().find(|m| m.to.as_deref() == Some("oskar.lindfors@norrvika.example")).unwrap();
        assert!(kansli.message(oskar.id).await.unwrap().text.unwrap().contains("[personlig länk]"));
        assert!(store.live_invitation(&kansli::service::links::token_hash(&token)).await.unwrap().is_some());
        // Submitted: the förvaltningschef gets a sign-off link of her own.
        let target = kansli::service::Target { case_number: "KS 2026/1".into(), unit: Some("BUF".into()) };
        let chef = kansli::workflow::Sender::Role(kansli::domain::organisation::Role::Chef);
        let head = kansli::workflow::Sender::Role(kansli::domain::organisation::Role::Forvaltningschef);
        engine.send(&target, "svar_inskickat", chef, &Actor::new("oskar"), None).await.unwrap();
        let links = store.invitations_of(buf.id).await.unwrap();
        assert_eq!(links.iter().filter(|l| l.purpose == "signoff").count(), 1);
        // Approved: every link of that answer dies; the others live on.
        engine.send(&target, "godkann", head, &Actor::new("karin"), None).await.unwrap();
        assert!(store.invitations_of(buf.id).await.unwrap().iter().all(|l| l.revoked_at.is_some()));
        assert!(store.live_invitation(&kansli::service::links::token_hash(&token)).await.unwrap().is_none());
        let sof = store.instances_of_case(case_id).await.unwrap().into_iter().find(|i| i.unit_code.as_deref() == Some("SOF")).unwrap();
        assert!(store.invitations_of(sof.id).await.unwrap().iter().all(|l| l.revoked_at.is_none()));
        // A dispatcher without the secret does not send a message with a link it cannot write.
        let blind = Postman::new(kansli.clone(), Arc::new(SmtpMailer::new(&SmtpSettings { host: "127.0.0.1".into(), port: sink.port, security: SmtpSecurity::None, ..Default::default() }).unwrap()), None, "blind");
        blind.dispatch_all_pending().await.unwrap();
        let after = kansli.messages(None, None).await.unwrap();
        let signoff = after.iter().find(|m| m.template == "enkat-attestering").unwrap();
        assert_eq!(signoff.status, "pending", "held back, not sent without its link");
        assert!(signoff.last_error.as_deref().unwrap().contains("no link secret"), "{:?}", signoff.last_error);
        let approved = after.iter().find(|m| m.template == "enkat-godkand").unwrap();
        assert_eq!(approved.status, "sent", "a message without a link goes as usual");
    }

}

#[test]
fn every_email_template_renders_as_its_snapshot() {
    let renderer = Renderer::load(&root().join("templates")).unwrap();
    let dir = root().join("tests/snapshots/email");
    let update = std::env::var_os("UPDATE_SNAPSHOTS").is_some();
    let mut mismatches = Vec::new();
    assert!(
        renderer.email_ids().len() >= 11,
        "{:?}",
        renderer.email_ids()
    );
    for id in renderer.email_ids() {
        let rendered = renderer.email_example(id).unwrap();
        let snapshot = format!(
            "Subject: {}\n\n--- text ---\n{}\n--- html ---\n{}\n",
            rendered.subject, rendered.text, rendered.html
        );
        let path = dir.join(format!("{id}.snap"));
        if update {
            std::fs::create_dir_all(&dir).unwrap();
            std::fs::write(&path, &snapshot).unwrap();
        } else {
            match std::fs::read_to_string(&path) {
                Ok(expected) if expected == snapshot => {}
                Ok(_) => mismatches.push(format!("{id}: differs from {}", path.display())),
                Err(_) => mismatches.push(format!("{id}: no snapshot at {}", path.display())),
            }
        }
    }
    assert!(
        mismatches.is_empty(),
        "run with UPDATE_SNAPSHOTS=1 after checking the change:\n{}",
        mismatches.join("\n")
    );
}

#[test]
fn values_with_html_are_escaped_in_html_and_left_plain_in_text() {
    let renderer = Renderer::load(&root().join("templates")).unwrap();
    let context = MessageContext {
        unit_name: "<script>alert('x')</script> & Co".into(),
        comment: "<b>Komplettera</b>".into(),
        ..MessageContext::example()
    };
    let rendered = renderer.email("enkat-returnerad", &context).unwrap();
    assert!(
        !rendered.html.contains("<script>") && !rendered.html.contains("<b>Komplettera"),
        "{}",
        rendered.html
    );
    assert!(
        rendered.html.contains("&lt;script&gt;")
            && rendered.html.contains("&lt;b&gt;Komplettera&lt;/b&gt;"),
        "{}",
        rendered.html
    );
    assert!(
        rendered.text.contains("<script>alert('x')</script> & Co"),
        "text is plain: {}",
        rendered.text
    );
    assert!(!rendered.subject.contains('\n'));
}

#[test]
fn a_template_using_a_field_its_context_lacks_or_a_missing_template_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("templates"), dir.path());
    std::fs::write(
        dir.path().join("email/enkat-godkand/text.hbs"),
        "Hej {{mottagare}}!\n",
    )
    .unwrap();
    let errors = Renderer::load(dir.path()).unwrap_err();
    assert!(
        errors
            .iter()
            .any(|e| e.file.ends_with("enkat-godkand/text.hbs") && e.message.contains("mottagare")),
        "{errors:?}"
    );
    // A workflow naming a template that does not exist is refused by the catalog.
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("templates"), dir.path());
    std::fs::remove_dir_all(dir.path().join("email/enkat-godkand")).unwrap();
    let problems = Catalog::load(&root().join("workflows"), dir.path()).unwrap_err();
    assert!(
        problems.iter().any(|p| p
            .message
            .contains("email template \"enkat-godkand\" is missing")
            && p.line > 0),
        "{problems:?}"
    );
}

/// The manual clock's time, for building rows in tests.
trait NowForTest {
    fn now_for_test(&self) -> DateTime<Utc>;
}

impl NowForTest for ManualClock {
    fn now_for_test(&self) -> DateTime<Utc> {
        use kansli::clock::Clock;
        self.now()
    }
}
