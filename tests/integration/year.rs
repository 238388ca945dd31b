//! The whole year, end to end, on a simulated clock: the cron start opens the ärende, the
//! questionnaire goes out over real SMTP, every förvaltning answers through its personal link
//! (one is returned and completes), the förvaltningschefer approve, the handläggare writes the
//! tjänsteskrivelse with Barn- och utbildningsnämnden's own decision on its förvaltning's report
//! in the Beslutsunderlag, KSAG proposes to KS, KS to KF, KF is called and decides, its protocol
//! is justerat and announced, the extracts go out as PDF attachments, and the ärende closes on
//! the day after the last day for appeal, across New Year.
//! Every document and email is read back.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use kansli::mail::{SmtpMailer, SmtpSecurity, SmtpSettings};
use kansli::service::links::LinkSecret;
use kansli::service::{Actor, DocumentFormat, Engine, Outcome, Postman, Saved, Target};
use kansli::workflow::{Catalog, Sender};
use serde_json::{Map, json};

use crate::helpers::{date as day, local};
use crate::on_both_backends;
use crate::smtp::{Received, SmtpSink};

const BASE: &str = "https://kansli.norrvika.example";
const FORVALTNINGAR: [&str; 7] = [
    "Barn- och utbildningsförvaltningen",
    "Kommunledningsförvaltningen",
    "Kultur- och fritidsförvaltningen",
    "Miljö- och hälsoskyddsförvaltningen",
    "Samhällsbyggnadsförvaltningen",
    "Socialförvaltningen",
    "Vård- och omsorgsförvaltningen",
];

/// The personal link's token in a received message.
fn token(message: &Received) -> String {
    let text = message.text.as_deref().unwrap();
    let at = text
        .find(&format!("{BASE}/enkat/"))
        .expect("a personal link")
        + BASE.len()
        + 7;
    text[at..at + 64].to_owned()
}

/// The messages received so far whose subject mentions `what`, oldest first.
fn about<'a>(received: &'a [Received], what: &str) -> Vec<&'a Received> {
    received
        .iter()
        .filter(|m| m.subject.contains(what))
        .collect()
}

fn answers() -> kansli::questionnaire::Fields {
    crate::helpers::complete()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), vec![v.to_owned()]))
        .collect()
}

on_both_backends! {
    async fn the_whole_year_from_the_cron_start_to_the_expedited_decision_and_the_closed_case(db) {
        let sink = SmtpSink::start();
        let (kansli, clock) = db.app(local(2026, 9, 30, 12)).await;
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let catalog = Catalog::load(&root.join("workflows"), &root.join("templates")).unwrap();
        let secret = Arc::new(LinkSecret::random());
        let engine = Engine::new(kansli.clone(), Arc::new(catalog.clone()), "e")
            .with_base_url(BASE)
            .with_link_secret(secret.clone());
        let smtp = SmtpMailer::new(&SmtpSettings { host: "127.0.0.1".into(), port: sink.port, security: SmtpSecurity::None, timeout_seconds: 5, ..Default::default() }).unwrap();
        let postman = Postman::new(kansli.clone(), Arc::new(smtp), catalog.shared_renderer(), "p").with_links(secret, BASE);
        let deliver = || async { postman.dispatch_all_pending().await.unwrap(); sink.received() };

        // 1 October 07:00: the cron start opens the ärende and invites every förvaltning.
        assert!(engine.tick().await.unwrap().0.is_empty(), "nothing before the cron date");
        clock.set(local(2026, 10, 1, 7));
        let (started, _) = engine.tick().await.unwrap();
        assert_eq!(started.len(), 1, "{started:?}");
        let number = "KS 2026/1";
        assert!(started[0].ends_with(number), "{started:?}");
        let received = deliver().await;
        let invitations = about(&received, "enkät till");
        assert_eq!(invitations.len(), 7);
        for f in FORVALTNINGAR {
            assert_eq!(about(&received, &format!("enkät till {f}")).len(), 1, "{f}");
        }

        // 5 October: every chef answers through the link; each answer is an inkommande handling.
        clock.set(local(2026, 10, 5, 10));
        for invitation in &invitations {
            let (saved, _) = engine.save_answers(&token(invitation), &answers(), true).await.unwrap();
            assert!(matches!(saved, Saved::Submitted), "{saved:?}");
        }
        let received = deliver().await;
        let signoffs = about(&received, "Att godkänna:");
        assert_eq!(signoffs.len(), 7, "{:?}", received.iter().map(|m| &m.subject).collect::<Vec<_>>());

        // The förvaltningschef of BUF returns the answer; the chef completes it; then all approve.
        let buf = |m: &&Received| m.subject.contains("Barn- och utbildningsförvaltningen");
        let buf_signoff = signoffs.iter().copied().find(buf).unwrap();
        engine.sign_off(&token(buf_signoff), false, "Komplettera E2 med antal utbildade chefer.").await.unwrap();
        let received = deliver().await;
        let returned = received.iter().find(|m| m.text.as_deref().is_some_and(|t| t.contains("Komplettera E2"))).expect("the chef is told");
        assert_eq!(returned.rcpt_tos, ["oskar.lindfors@norrvika.example"]);
        let (saved, _) = engine.save_answers(&token(returned), &answers(), true).await.unwrap();
        assert!(matches!(saved, Saved::Submitted));
        let received = deliver().await;
        let mut latest: BTreeMap<String, String> = BTreeMap::new();
        for m in about(&received, "Att godkänna:") {
            latest.insert(m.rcpt_tos[0].clone(), token(m));
        }
        clock.set(local(2026, 10, 7, 9));
        for token in latest.values() {
            // The BUF chef's first link died with the return; the newest one per chef approves.
            let _ = engine.sign_off(token, true, "").await;
        }
        engine.tick().await.unwrap();
        let progress = engine.progress(number).await.unwrap();
        assert!(progress.iter().all(|p| p.state == "godkand"), "{progress:?}");
        let events = engine.events_of(number).await.unwrap();
        assert_eq!(events.iter().find(|i| i.unit.is_none()).unwrap().state, "sammanstallning");

        // Barn- och utbildningsnämnden takes its förvaltning's report as a decision of its own,
        // in its own ärende, and sends it on to kommunstyrelsen's.
        let sara = Actor::new("sara.nyqvist");
        let bun_case = kansli.open_case(crate::helpers::open("BUN", "Uppföljning av aktiva åtgärder 2026, Barn- och utbildningsförvaltningen"), &sara).await.unwrap();
        clock.set(local(2026, 10, 15, 10));
        let bun = crate::helpers::held_meeting(&engine, "BUN", day(2026, 10, 13), "Nämndrummet", &sara).await;
        engine.add_to_agenda(bun.id, &bun_case.number, &sara).await.unwrap();
        let mut report = kansli::service::ParagraphInput::on_case(kansli::domain::protocol::ParagraphKind::Beslut, &bun_case.number, vec!["att godkänna förvaltningens uppföljning av aktiva åtgärder 2026".into()]);
        report.forward_to = Some(number.to_owned());
        engine.record_paragraph(bun.id, report, &sara).await.unwrap();
        engine.justera(bun.id, &["Örjan Jakobsson".into()], day(2026, 10, 15), None, &sara).await.unwrap();

        // The handläggare writes the texts and registers the tjänsteskrivelse; the chain goes
        // on to kommunfullmäktige.
        clock.set(local(2026, 10, 20, 9));
        let target = Target { case_number: number.into(), unit: None };
        let handlaggare = Sender::Role(kansli::domain::organisation::Role::Handlaggare);
        let amira = Actor::new("amira.hadzic");
        let texts = Map::from_iter([
            ("sammanfattning".to_owned(), json!("Alla sju förvaltningar har svarat och fått sina svar godkända.")),
            ("arendet".to_owned(), json!("Uppföljningen visar att förvaltningarna arbetar med samtliga fem områden.")),
            ("preparing_organ".to_owned(), json!("KSAG")),
            ("to_kf".to_owned(), json!(true)),
        ]);
        engine.send_with(&target, "texter_sparade", texts, handlaggare, &amira, None).await.unwrap();
        assert!(matches!(engine.send(&target, "tjansteskrivelse_klar", handlaggare, &amira, None).await.unwrap(), Outcome::Applied { .. }));
        let tjansteskrivelse = kansli.show_case(number).await.unwrap().documents.into_iter().find(|d| d.description.starts_with("Tjänsteskrivelse")).unwrap();
        let text = crate::helpers::document_text(kansli.document_file(&tjansteskrivelse.number).await.unwrap().1);
        let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(flat.contains("Protokollsutdrag BUN § 1/26") && flat.contains("föreslå kommunfullmäktige besluta"), "the nämnd's decision is in the Beslutsunderlag: {flat}");

        // KSAG proposes on 10 November, KS proposes on 24 November, KF decides on 14 December.
        let ksag = crate::helpers::held_meeting(&engine, "KSAG", day(2026, 11, 10), "Sammanträdesrummet", &sara).await;
        engine.add_to_agenda(ksag.id, number, &sara).await.unwrap();
        let proposal = engine.record_decision(ksag.id, number, "Kommunstyrelsens arbetsgivarutskott föreslår kommunstyrelsen besluta att föreslå kommunfullmäktige att godkänna rapporten.", Some("KS"), &[], &sara).await.unwrap();
        assert_eq!(proposal.label, "KSAG § 1/26");
        let ks = crate::helpers::held_meeting(&engine, "KS", day(2026, 11, 24), "Sessionssalen", &sara).await;
        engine.add_to_agenda(ks.id, number, &sara).await.unwrap();
        let to_kf = engine.record_decision(ks.id, number, "att föreslå kommunfullmäktige att godkänna rapporten om aktiva åtgärder 2026", Some("KF"), &[], &sara).await.unwrap();
        assert!(to_kf.label == "KS § 1/26" && to_kf.workflow.contains("ks_behandling → kf_behandling"), "{}", to_kf.workflow);
        clock.set(local(2026, 11, 26, 15));
        let (_, warnings) = engine.justera(ks.id, &["Eva Ek".into(), "Olle Ås".into()], day(2026, 11, 26), None, &sara).await.unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert!(about(&deliver().await, "Beslut:").is_empty(), "KS's proposal is not the decision: nothing goes out");

        let kf = engine.plan_meeting("KF", day(2026, 12, 14), "Fullmäktigesalen", Some("18.00"), Some("Kommunkansliet 2026-12-16"), &sara).await.unwrap();
        engine.add_to_agenda(kf.id, number, &sara).await.unwrap();
        assert_eq!(engine.send_kallelse(kf.id, &sara).await.unwrap(), 20, "15 ledamöter and 5 ersättare");
        assert_eq!(about(&deliver().await, "Kallelse: Kommunfullmäktige 2026-12-14").len(), 20);
        crate::helpers::hold(&engine, kf.id, &sara).await;
        let send_to = ["HR-chef".to_owned(), "Sektorchefer".to_owned(), "Samtliga nämnder".to_owned()];
        let decision = engine.record_decision(kf.id, number, "att godkänna rapporten om aktiva åtgärder 2026", None, &send_to, &sara).await.unwrap();
        assert_eq!(decision.label, "KF § 1/26");
        // Justerat on Wednesday 16 December: three weeks is Trettondedag jul, so the last day
        // for appeal is the vardag after it, Thursday 7 January 2027.
        clock.set(local(2026, 12, 16, 15));
        let (protocol, warnings) = engine.justera(kf.id, &["Eva Ek".into(), "Olle Ås".into()], day(2026, 12, 16), None, &sara).await.unwrap();
        assert!(warnings.is_empty(), "{warnings:?}");
        assert_eq!(protocol.appeal_last_day, day(2027, 1, 7), "across New Year and Trettondedag jul");

        // The protocols: KF's justerat with its dates, KSAG's not yet.
        let html = String::from_utf8(engine.protocol_document(kf.id, DocumentFormat::Html).await.unwrap()).unwrap();
        for expected in ["<span>KF § 1/26</span>", "<p>KS 2026/1</p>", "<p>Kommunfullmäktige beslutar</p>\n<p>att godkänna rapporten om aktiva åtgärder 2026</p>",
            "Justerat 2026-12-16 av Eva Ek, Olle Ås.", "Sista dag att begära laglighetsprövning är 2027-01-07."] {
            assert!(html.contains(expected), "{expected:?} missing from the protocol:\n{html}");
        }
        let ksag_html = String::from_utf8(engine.protocol_document(ksag.id, DocumentFormat::Html).await.unwrap()).unwrap();
        assert!(ksag_html.contains("(Förslag till KS.)") && ksag_html.contains("ännu inte justerat"), "{ksag_html}");
        #[cfg(feature = "pdf")]
        {
            let pdf = engine.protocol_document(kf.id, DocumentFormat::Pdf).await.unwrap();
            assert!(crate::helpers::pdf_tool("qpdf", &["--check"], &pdf).contains("No syntax or stream encoding errors"));
            let text = crate::helpers::document_text(pdf);
            assert!(text.contains("KF § 1/26") && text.contains("2027-01-07"), "{text}");
        }

        // The extracts go out: one message per person and mailbox, each with the PDF/A.
        let received = deliver().await;
        let decisions = about(&received, "Beslut:");
        let mut to: Vec<&str> = decisions.iter().map(|m| m.rcpt_tos[0].as_str()).collect();
        to.sort_unstable();
        assert_eq!(to, [
            "annika.rydh@norrvika.example", "buf@norrvika.example", "gustav.ahlqvist@norrvika.example", "helena.voss@norrvika.example",
            "ingrid.falk@norrvika.example", "jonas.berglind@norrvika.example", "karin.welander@norrvika.example",
            "kff@norrvika.example", "lena.stromgren@norrvika.example", "maria.sandell@norrvika.example",
            "mhf@norrvika.example", "sbf@norrvika.example", "sof@norrvika.example", "vof@norrvika.example",
        ]);
        for m in &decisions {
            assert_eq!(m.subject, format!("Beslut: Årlig uppföljning av aktiva åtgärder inom likabehandling 2026 ({number})"));
            assert_eq!(m.attachments.len(), 1, "{}", m.subject);
            let attachment = &m.attachments[0];
            let content = attachment.content();
            #[cfg(feature = "pdf")]
            {
                assert_eq!((attachment.filename.as_deref(), attachment.content_type.as_str()), (Some("protokollsutdrag.pdf"), "application/pdf"));
                assert!(content.starts_with(b"%PDF-"));
            }
            let text = crate::helpers::document_text(content);
            for expected in ["KF § 1/26", number, "Kommunfullmäktige beslutar", "att godkänna rapporten om aktiva åtgärder 2026",
                "Kommunstyrelsens arbetsgivarutskott", "2026-11-10", "2026-11-24", "2026-12-14", "2027-01-07", "Sara Nyqvist",
                "Uppföljningen visar att förvaltningarna arbetar med samtliga fem områden."] {
                assert!(text.contains(expected), "{expected:?} missing from the extract:\n{text}");
            }
        }

        // The ärende stays open through the last day for appeal and closes the day after.
        clock.set(local(2027, 1, 7, 23));
        engine.tick().await.unwrap();
        assert_eq!(kansli.show_case(number).await.unwrap().status, "open", "open on the last day for appeal");
        clock.set(local(2027, 1, 8, 0));
        engine.tick().await.unwrap();
        let closed = kansli.show_case(number).await.unwrap();
        assert_eq!(closed.status, "closed");
        let documents: Vec<(u32, String, String)> = closed.documents.iter()
            .map(|d| (d.seq, d.direction.code().to_owned(), d.description.clone())).collect();
        let count = |what: &str| documents.iter().filter(|(_, _, d)| d.contains(what)).count();
        assert_eq!(count("Svar på uppföljningsenkät"), 8, "seven answers and BUF's completed one: {documents:#?}");
        assert_eq!(count("Sammanställning"), 1, "{documents:#?}");
        assert_eq!(count("Tjänsteskrivelse"), 1, "{documents:#?}");
        assert_eq!(count("(expediering)"), decisions.len(), "{documents:#?}");
        assert_eq!(count("Protokollsutdrag BUN § 1/26"), 1, "the nämnd's decision, inkommande: {documents:#?}");
        assert_eq!(count("Kallelse med föredragningslista, Kommunfullmäktige 2026-12-14"), 1, "{documents:#?}");
        let seqs: Vec<u32> = documents.iter().map(|(s, _, _)| *s).collect();
        assert_eq!(seqs, (1..=documents.len() as u32).collect::<Vec<_>>(), "handlingar numbered without a gap");
        let history = kansli.case_history(number).await.unwrap();
        for action in ["beslut", "anmält till sammanträde", "beslut expedierat", "ärende avslutat"] {
            assert!(history.iter().any(|h| h.action == action), "{action} missing from the history");
        }
    }
}
