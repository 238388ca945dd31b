//! The staff pages over real HTTP: login with CSRF and throttling, sessions that change at
//! login and end at logout, and pages refused to those without the role.

use std::net::SocketAddr;
use std::sync::Arc;

use chrono::{TimeZone, Utc};

use crate::harness::{AppOptions, TestApp, spawn_app_with};
use crate::helpers::{TestDb, http, http_upload};
use crate::on_both_backends;

const STATUS: &str = "/arende/status?nummer=KS%202026%2F1";

/// Kansli as the harness runs it, the follow-up started on 1 October 2026 at 07:00, with
/// accounts for a handläggare, a chef and a nämndsekreterare.
pub(crate) struct Site(TestApp);

impl std::ops::Deref for Site {
    type Target = TestApp;

    fn deref(&self) -> &TestApp {
        &self.0
    }
}

/// The secret the site's engine writes personal links with, for a postman to fill them in.
pub(crate) fn link_secret() -> Arc<kansli::service::links::LinkSecret> {
    crate::harness::link_secret()
}

pub(crate) async fn site(db: &TestDb) -> Site {
    site_with(db, kansli::http::Protection::default()).await
}

/// [`site`], guarded as `protection` says, served with the peer's address as `kansli serve`
/// serves it.
pub(crate) async fn site_with(db: &TestDb, protection: kansli::http::Protection) -> Site {
    let options = AppOptions {
        protection: Some(protection),
        ..AppOptions::default()
    };
    let app = spawn_app_with(db, crate::helpers::local(2026, 10, 1, 7), options).await;
    app.engine.tick().await.unwrap();
    for (username, person, password) in [
        ("amira", "amira.hadzic", "ett-långt-lösenord"),
        ("oskar", "oskar.lindfors", "ett-annat-lösenord"),
        ("sara", "sara.nyqvist", "sekreterarens-lösenord"),
    ] {
        app.kansli
            .add_account(username, person, password, false)
            .await
            .unwrap();
    }
    Site(app)
}

/// Fetches the login form: its CSRF token, which the form and its cookie both carry.
pub(crate) async fn login_csrf(addr: SocketAddr) -> String {
    let form = http(addr, "/logga-in", "", None).await;
    assert_eq!(form.status, 200);
    let cookie = form.set_cookie("kansli_csrf").expect("a CSRF cookie");
    assert!(
        form.body
            .contains(&format!("name=\"csrf_token\" value=\"{cookie}\"")),
        "{}",
        form.body
    );
    cookie
}

/// Logs in and returns the session token.
pub(crate) async fn log_in(addr: SocketAddr, user: &str, password: &str, planted: &str) -> String {
    let csrf = login_csrf(addr).await;
    let cookies = format!("kansli_csrf={csrf}; kansli_session={planted}");
    let reply = http(
        addr,
        "/logga-in",
        &cookies,
        Some(&[
            ("username", user),
            ("password", password),
            ("csrf_token", &csrf),
            ("next", STATUS),
        ]),
    )
    .await;
    assert_eq!(reply.status, 303, "{}", reply.body);
    assert_eq!(
        reply.location(),
        Some(STATUS),
        "back to where the visitor was going"
    );
    let header = reply
        .head
        .lines()
        .find(|l| {
            l.to_ascii_lowercase()
                .starts_with("set-cookie: kansli_session=")
        })
        .unwrap()
        .to_owned();
    assert!(
        header.contains("HttpOnly") && header.contains("SameSite=Lax"),
        "{header}"
    );
    reply.set_cookie("kansli_session").unwrap()
}

on_both_backends! {
    async fn a_handlaggare_logs_in_follows_the_progress_and_logs_out(db) {
        let site = site(db).await;
        let addr = site.addr;
        // Without a session: to the login page, with the way back.
        let reply = http(addr, STATUS, "", None).await;
        assert_eq!(reply.status, 303);
        assert_eq!(reply.location(), Some("/logga-in?nasta=/arende/status%3Fnummer%3DKS%25202026/1"));
        assert_eq!(http(addr, "/", "", None).await.status, 303);

        // Session fixation: a planted session id is replaced at login.
        let token = log_in(addr, "amira", "ett-långt-lösenord", "planterad").await;
        assert_ne!(token, "planterad");
        assert_eq!(token.len(), 64);
        let session = format!("kansli_session={token}");
        let page = http(addr, STATUS, &session, None).await;
        assert_eq!(page.status, 200, "{}", page.body);
        for expected in ["<h1>Uppföljningens förlopp</h1>", "<th scope=\"row\">Barn- och utbildningsförvaltningen</th>", "2026-10-01 07:00"] {
            assert!(page.body.contains(expected), "{expected:?} missing:\n{}", page.body);
        }
        let start = http(addr, "/", &session, None).await;
        assert!(start.body.contains("Välkommen, Amira Hadžić") && start.body.contains("handläggare (HR)"), "{}", start.body);

        // Logout needs the session's CSRF token; afterwards the token is worth nothing.
        assert_eq!(http(addr, "/logga-ut", &session, Some(&[])).await.status, 403);
        let csrf = start.body.split("name=\"csrf_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let out = http(addr, "/logga-ut", &session, Some(&[("csrf_token", &csrf)])).await;
        assert_eq!((out.status, out.location()), (303, Some("/logga-in")));
        assert_eq!(http(addr, STATUS, &session, None).await.status, 303);
    }

    async fn the_login_form_wants_its_token_the_right_password_and_patience(db) {
        let site = site(db).await;
        let addr = site.addr;
        // No CSRF token, or another one than the cookie's: refused before any password check.
        let csrf = login_csrf(addr).await;
        let cookies = format!("kansli_csrf={csrf}");
        let right = [("username", "amira"), ("password", "ett-långt-lösenord")];
        assert_eq!(http(addr, "/logga-in", &cookies, Some(&right)).await.status, 403);
        let forged = [right[0], right[1], ("csrf_token", "0000")];
        assert_eq!(http(addr, "/logga-in", &cookies, Some(&forged)).await.status, 403);
        // A wrong password, or an unknown user, says the same and nothing more.
        for (user, password) in [("amira", "fel-lösenord-här"), ("ingen", "ett-långt-lösenord")] {
            let reply = http(addr, "/logga-in", &cookies, Some(&[("username", user), ("password", password), ("csrf_token", &csrf)])).await;
            assert_eq!(reply.status, 401);
            assert!(reply.body.contains("Fel användarnamn eller lösenord."), "{}", reply.body);
            assert!(reply.set_cookie("kansli_session").is_none());
        }
        // Five failures hold the account back, even from the right password, for a while.
        for _ in 0..4 {
            let reply = http(addr, "/logga-in", &cookies, Some(&[("username", "amira"), ("password", "fel-igen-och-igen"), ("csrf_token", &csrf)])).await;
            assert_eq!(reply.status, 401);
        }
        let reply = http(addr, "/logga-in", &cookies, Some(&[right[0], right[1], ("csrf_token", &csrf)])).await;
        assert_eq!(reply.status, 429, "{}", reply.body);
        assert!(reply.body.contains("För många misslyckade inloggningar"), "{}", reply.body);
        // Another account from the same address is not held back by amira's failures.
        let token = log_in(addr, "oskar", "ett-annat-lösenord", "").await;
        assert_eq!(token.len(), 64);
        // A return address off this server is not followed.
        let csrf = login_csrf(addr).await;
        let cookies = format!("kansli_csrf={csrf}");
        let reply = http(addr, "/logga-in", &cookies, Some(&[("username", "oskar"), ("password", "ett-annat-lösenord"), ("csrf_token", &csrf), ("next", "//elak.example/")])).await;
        assert_eq!(reply.location(), Some("/"));
        drop(site.kansli.clone());
    }

    async fn a_chef_without_the_role_is_refused_the_progress_page(db) {
        let site = site(db).await;
        let token = log_in(site.addr, "oskar", "ett-annat-lösenord", "").await;
        let reply = http(site.addr, STATUS, &format!("kansli_session={token}"), None).await;
        assert_eq!(reply.status, 403);
        assert!(reply.body.contains("<h1>Ingen behörighet</h1>") && reply.body.contains("Oskar Lindfors"), "{}", reply.body);
        assert!(!reply.body.contains("Barn- och utbildningsförvaltningen</th>"), "nothing of the ärende leaks");
        // Accounts are checked when made.
        let err = site.kansli.add_account("kort", "amira.hadzic", "kort", false).await.unwrap_err();
        assert!(err.to_string().contains("at least 12"), "{err}");
        let err = site.kansli.add_account("ny", "ingen.alls", "ett-långt-lösenord", false).await.unwrap_err();
        assert!(err.to_string().contains("not in the organisation"), "{err}");
        let err = site.kansli.add_account("amira", "amira.hadzic", "ett-långt-lösenord", false).await.unwrap_err();
        assert!(err.to_string().contains("taken"), "{err}");
    }

    async fn the_sekreterare_keeps_a_meeting_from_anmalan_to_justering_in_the_browser(db) {
        let site = site(db).await;
        // The day of the justering (the follow-up started on 1 October).
        site.clock.set(Utc.with_ymd_and_hms(2026, 11, 26, 14, 0, 0).unwrap());
        let addr = site.addr;
        let token = log_in(addr, "sara", "sekreterarens-lösenord", "").await;
        let session = format!("kansli_session={token}");
        let list = http(addr, "/sammantraden", &session, None).await;
        assert_eq!(list.status, 200, "{}", list.body);
        assert!(list.body.contains("Inga sammanträden ännu."));
        let csrf = list.body.split("name=\"csrf_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let new = [("organ", "KSAU"), ("date", "2026-11-24"), ("place", "Sammanträdesrummet")];
        assert_eq!(http(addr, "/sammantraden", &session, Some(&new)).await.status, 403, "no CSRF token");
        let bad = [("csrf_token", csrf.as_str()), ("organ", "KSAU"), ("date", "24/11"), ("place", "Rummet")];
        let reply = http(addr, "/sammantraden", &session, Some(&bad)).await;
        assert!(reply.status == 422 && reply.body.contains("är inte ett datum"), "{}", reply.body);
        let good = [("csrf_token", csrf.as_str()), new[0], new[1], new[2]];
        let reply = http(addr, "/sammantraden", &session, Some(&good)).await;
        assert_eq!((reply.status, reply.location()), (303, Some("/sammantraden/1")));

        let step = |pairs: Vec<(&'static str, &'static str)>| {
            let (session, csrf) = (session.clone(), csrf.clone());
            async move {
                let mut all: Vec<(&str, &str)> = vec![("csrf_token", csrf.as_str())];
                all.extend(pairs);
                http(addr, "/sammantraden/1", &session, Some(&all)).await
            }
        };
        let reply = step(vec![("atgard", "anmal"), ("nummer", "KS 2026/1")]).await;
        assert!(reply.status == 200 && reply.body.contains("KS 2026/1 är anmält"), "{}", reply.body);
        let reply = step(vec![("atgard", "anmal"), ("nummer", "KS 2026/1")]).await;
        assert!(reply.status == 422 && reply.body.contains("already"), "{}", reply.body);
        // A decision needs the närvaro, which the page records with its ordförande.
        let reply = step(vec![("atgard", "besluta"), ("nummer", "KS 2026/1"), ("beslut", "Något."), ("forslag_till", "KS")]).await;
        assert!(reply.status == 422 && reply.body.contains("närvaro: record who is present"), "{}", reply.body);
        let reply = step(vec![("atgard", "narvaro"), ("ordforande", "Cecilia Palmgren"), ("sekreterare", "Sara Nyqvist"), ("franvarande", "Olle Ås"), ("tjanstgorande", "Hampus Kjellberg=Olle Ås")]).await;
        assert!(reply.status == 200 && reply.body.contains("Närvaron är registrerad"), "{}", reply.body);
        assert!(reply.body.contains("<li>Hampus Kjellberg (KD) för Olle Ås (tjänstgörande ersättare)</li>"), "{}", reply.body);
        // An omröstning by someone who does not serve is refused by its field; nothing is written.
        let reply = step(vec![("atgard", "besluta"), ("typ", "forslag"), ("nummer", "KS 2026/1"), ("beslut", "att föreslå"), ("forslag_till", "KS"), ("omrostning", "Ja för, nej mot"), ("rost", "Eva Ek=ja"), ("rost", "Cecilia Palmgren=ja"), ("rost", "Olle Ås=nej")]).await;
        assert!(reply.status == 422 && reply.body.contains("omröstning: &quot;Olle Ås&quot; is not in the meeting&#x27;s närvaro"), "{}", reply.body);
        let reply = step(vec![("atgard", "besluta"), ("nummer", "KS 2026/1"), ("beslut", "Arbetsutskottet föreslår kommunstyrelsen att godkänna rapporten.\n<script>alert(1)</script>"), ("forslag_till", "KS"), ("skickas_till", "")]).await;
        assert!(reply.status == 200 && reply.body.contains("protokollförd som KSAU § 1/26"), "{}", reply.body);
        assert!(reply.body.contains("&lt;script&gt;") && !reply.body.contains("<script>alert"), "escaped: {}", reply.body);
        let protocol = http(addr, "/sammantraden/1/protokoll", &session, None).await;
        assert!(protocol.status == 200 && protocol.body.contains("<span>KSAU § 1/26</span>") && protocol.body.contains("ännu inte justerat"), "{}", protocol.body);
        let reply = step(vec![("atgard", "justera"), ("justerare", "Eva Ek"), ("justerat", "igår"), ("anslag", "")]).await;
        assert!(reply.status == 422 && reply.body.contains("Justerat: &quot;igår&quot; är inte ett datum"), "{}", reply.body);
        // A justering in the future is refused: it is recorded on the day it was signed.
        let reply = step(vec![("atgard", "justera"), ("justerare", "Eva Ek\nOlle Ås"), ("justerat", "2026-11-27"), ("anslag", "")]).await;
        assert!(reply.status == 422 && reply.body.contains("in the future"), "{}", reply.body);
        // The justerare are chosen among those present: Olle Ås was away.
        let reply = step(vec![("atgard", "justera"), ("justerare", "Eva Ek\nOlle Ås"), ("justerat", "2026-11-26"), ("anslag", "")]).await;
        assert!(reply.status == 422 && reply.body.contains("justerare: &quot;Olle Ås&quot; is not a ledamot or ersättare in the meeting"), "{}", reply.body);
        let reply = step(vec![("atgard", "justera"), ("justerare", "Eva Ek\nHampus Kjellberg"), ("justerat", "2026-11-26"), ("anslag", "")]).await;
        assert!(reply.status == 200 && reply.body.contains("sista dag för överklagande är 2026-12-17"), "{}", reply.body);
        // The ärende page shows the decision with its justering and the last day for appeal.
        let page = http(addr, "/arende?nummer=KS%202026%2F1", &session, None).await;
        assert!(page.body.contains("<th scope=\"row\">KSAU § 1/26</th><td>Kommunstyrelsens arbetsutskott 2026-11-24, förslag till KS</td><td>justerat 2026-11-26, anslaget 2026-11-26, sista dag för överklagande 2026-12-17</td>"), "{}", page.body);
        // Justerat is final: the page refuses every change with 409, and says why.
        for change in [
            vec![("atgard", "anmal"), ("nummer", "KS 2026/1")],
            vec![("atgard", "besluta"), ("nummer", "KS 2026/1"), ("beslut", "Något annat."), ("forslag_till", ""), ("skickas_till", "")],
            vec![("atgard", "justera"), ("justerare", "Eva Ek"), ("justerat", "2026-11-26"), ("anslag", "")],
            vec![("atgard", "narvaro"), ("ordforande", "Eva Ek"), ("sekreterare", "Sara Nyqvist")],
            vec![("atgard", "flytta"), ("punkt", "1"), ("riktning", "ned")],
            vec![("atgard", "punkt"), ("rubrik", "Något nytt")],
        ] {
            let reply = step(change.clone()).await;
            assert!(reply.status == 409 && reply.body.contains("is justerat"), "{change:?}: {}", reply.body);
        }
        let extract = http(addr, "/utdrag?nummer=KS%202026%2F1&paragraf=KSAU%20%C2%A7%201%2F26", &session, None).await;
        assert!(extract.status == 200 && extract.body.contains("<p class=\"paragraf\">KSAU § 1/26</p>"), "{}", extract.body);
        if cfg!(feature = "pdf") {
            let pdf = http(addr, "/sammantraden/1/protokoll?format=pdf", &session, None).await;
            assert!(pdf.status == 200 && pdf.head.to_ascii_lowercase().contains("content-type: application/pdf"), "{}", pdf.head);
        }
        // Not for a chef.
        let chef = log_in(addr, "oskar", "ett-annat-lösenord", "").await;
        let reply = http(addr, "/sammantraden/1", &format!("kansli_session={chef}"), None).await;
        assert_eq!(reply.status, 403);
    }

    async fn the_public_pages_and_the_operators_endpoints_need_no_login(db) {
        let site = site(db).await;
        let addr = site.addr;
        let s = kansli::service::Actor::new("sara.nyqvist");
        let day = |m: u32, d: u32| chrono::NaiveDate::from_ymd_opt(2026, m, d).unwrap();
        // A protocol justerat yesterday is up; one from August has come down.
        for (meeting, justerad) in [(day(9, 28), day(9, 30)), (day(8, 3), day(8, 4))] {
            let m = crate::helpers::held_meeting(&site.engine, "KS", meeting, "Sessionssalen", &s).await;
            site.engine.add_to_agenda(m.id, "KS 2026/1", &s).await.ok();
            site.engine.record_decision(m.id, "KS 2026/1", "Kommunstyrelsen noterar informationen.", None, &[], &s).await.ok();
            site.engine.justera(m.id, &["Eva Ek".into()], justerad, None, &s).await.unwrap();
        }
        let board = http(addr, "/anslagstavla", "", None).await;
        assert_eq!(board.status, 200);
        assert!(board.body.contains("Kommunstyrelsen, sammanträde 2026-09-28") && board.body.contains("<dd>2026-10-21</dd>"), "{}", board.body);
        assert!(!board.body.contains("2026-08-03"), "taken down after the appeal period: {}", board.body);

        // A handling with a protected sender: listed, the sender masked as in the export.
        let input = kansli::service::NewDocumentInput {
            date: day(9, 29),
            direction: kansli::domain::document::Direction::Incoming,
            counterpart: Some("Privatperson Hemlig".into()),
            counterpart_protected: true,
            description: "Synpunkt på <b>likabehandling</b>".into(),
            description_protected: false,
            secrecy: None,
            file: None,
        };
        site.kansli.add_document("KS 2026/1", input, &s).await.unwrap();
        let list = http(addr, "/postlista?from=2026-09-01&to=2026-10-01", "", None).await;
        assert!(list.body.contains("Synpunkt på &lt;b&gt;likabehandling&lt;/b&gt;") && !list.body.contains("Hemlig"), "{}", list.body);
        assert!(list.status == 200 && list.body.contains("<caption>Postlista 2026-09-01 – 2026-10-01</caption>"), "{}", list.body);
        let bad = http(addr, "/postlista?from=igår", "", None).await;
        assert!(bad.status == 400 && bad.body.contains("role=\"alert\""), "{}", bad.body);

        assert_eq!(http(addr, "/readyz", "", None).await.status, 200);
        let metrics = http(addr, "/metrics", "", None).await;
        assert!(metrics.body.contains("kansli_outbox_messages{status=\"pending\"} 7"), "seven invitations wait: {}", metrics.body);
        assert!(metrics.body.contains("\nkansli_timers_failed 0\n") && metrics.body.contains("\nkansli_outbox_failed 0\n"), "what failed is counted: {}", metrics.body);
        let served: u64 = metrics.body.lines().find_map(|l| l.strip_prefix("kansli_http_requests_total ")).unwrap().parse().unwrap();
        assert!(served >= 5, "{served}");
    }

    async fn the_diarium_is_searched_an_arende_opened_and_its_next_step_taken(db) {
        let site = site(db).await;
        let addr = site.addr;
        let token = log_in(addr, "amira", "ett-långt-lösenord", "").await;
        let session = format!("kansli_session={token}");
        // A number typed in the search box goes straight to its ärende.
        let reply = http(addr, "/arenden?q=KS%202026%2F1", &session, None).await;
        assert_eq!((reply.status, reply.location()), (303, Some("/arende?nummer=KS%202026%2F1")));
        let reply = http(addr, "/arenden?q=uppf%C3%B6ljning", &session, None).await;
        assert!(reply.status == 200 && reply.body.contains("<a href=\"/arende?nummer&#x3D;KS%202026%2F1\">KS 2026/1</a>"), "{}", reply.body);
        // Metacharacters are words like any other: nothing found, nothing run, all escaped.
        for q in ["%27%20OR%201%3D1%20--", "%3Cscript%3Ealert(1)%3C%2Fscript%3E", "%25"] {
            let reply = http(addr, &format!("/arenden?q={q}"), &session, None).await;
            assert!(reply.status == 200 && reply.body.contains("Inga ärenden motsvarar sökningen."), "{q}: {}", reply.body);
            assert!(!reply.body.contains("<script>alert"), "{}", reply.body);
        }
        // Narrowed by series, year, status and dates; a wrong year or date is named.
        let narrowed = http(addr, "/arenden?serie=KS&ar=2026&status=open&fran=2026-10-01&till=2026-10-01", &session, None).await;
        assert!(narrowed.status == 200 && narrowed.body.contains(">KS 2026/1</a>"), "{}", narrowed.body);
        assert!(narrowed.body.contains("<option value=\"KS\" selected>"), "the form keeps its choices: {}", narrowed.body);
        let other_year = http(addr, "/arenden?serie=KS&ar=2025", &session, None).await;
        assert!(other_year.status == 200 && other_year.body.contains("Inga ärenden motsvarar sökningen."), "{}", other_year.body);
        let later = http(addr, "/arenden?fran=2026-10-02", &session, None).await;
        assert!(!later.body.contains(">KS 2026/1</a>"), "{}", later.body);
        for (query, field) in [("ar=tjugo", "År"), ("fran=2026-13-01", "Från"), ("serie=XX", "XX")] {
            let wrong = http(addr, &format!("/arenden?{query}"), &session, None).await;
            assert!(wrong.status == 400 && wrong.body.contains("role=\"alert\"") && wrong.body.contains(field), "{query}: {}", wrong.body);
        }
        let page = http(addr, "/arende?nummer=KS%202026%2F1", &session, None).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert!(page.body.contains("value=\"sammanstall\"") && !page.body.contains("value=\"godkann\""), "the handläggare's steps only: {}", page.body);
        // The buttons say in Swedish what they do and post the event's code.
        assert!(page.body.contains("<button type=\"submit\" name=\"handelse\" value=\"sammanstall\" class=\"sekundar\">Sammanställ svaren nu</button>"), "{}", page.body);
        assert!(page.body.contains("value=\"avbryt\" class=\"sekundar\">Avbryt uppföljningen</button>") && !page.body.contains("\">sammanstall</button>"), "{}", page.body);
        // Each instance's state machine is drawn, the current state marked in words too, in a
        // named region the keyboard reaches; the text beside it says the state as well.
        assert!(page.body.contains("<strong>aktiva-atgarder</strong>: Enkäten är utskickad; förvaltningarna svarar (insamling)"), "{}", page.body);
        assert!(page.body.contains("<div class=\"graf-yta\" tabindex=\"0\" role=\"group\" aria-label=\"Tillståndsgraf för Årlig uppföljning av aktiva åtgärder inom likabehandling\"><svg "), "{}", page.body);
        assert_eq!(page.body.matches("role=\"img\"").count(), 8, "the ärende's workflow and each of the seven förvaltningar's");
        let root = page.body.split("<details class=\"graf\" open>").nth(1).expect("the ärende's own picture is open").split("</svg>").next().unwrap();
        assert!(root.contains("<g class=\"tillstand nu\" data-tillstand=\"insamling\">") && root.matches("(nu)").count() == 1, "{root}");
        assert!(root.contains("Nu: Enkäten är utskickad; förvaltningarna svarar (insamling).") && root.contains("Anmält till KSAU, som bereder"), "the instance's variables filled in: {root}");
        assert!(root.contains(">Sammanställ svaren nu</tspan>"), "the arrows carry the labels: {root}");
        let csrf = page.body.split("name=\"csrf_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        // A step only a chef may take is refused the handläggare (403); one the state does not
        // take now is a conflict that says what it does take (409); without the token, 403.
        let refused = http(addr, "/arende/handelse", &session, Some(&[("csrf_token", &csrf), ("nummer", "KS 2026/1"), ("enhet", "BUF"), ("handelse", "svar_inskickat")])).await;
        assert!(refused.status == 403 && refused.body.contains("Din roll (handläggare) får inte göra ”Skicka in svaret” när ärendet är i läget ”inbjuden”. Det får chef."), "{}", refused.body);
        let not_now = http(addr, "/arende/handelse", &session, Some(&[("csrf_token", &csrf), ("nummer", "KS 2026/1"), ("enhet", "BUF"), ("handelse", "godkann")])).await;
        assert!(not_now.status == 409 && not_now.body.contains("Åtgärden ”Godkänn svaret” går inte att göra när ärendet är i läget ”inbjuden”. Nu går det att: ”Spara utkast”, ”Skicka in svaret”"), "{}", not_now.body);
        assert!(!not_now.body.contains("”paminn”") && !not_now.body.contains("”utkast_sparat”"), "the steps by their labels, the system's left out: {}", not_now.body);
        let no_unit = http(addr, "/arende/handelse", &session, Some(&[("csrf_token", &csrf), ("nummer", "KS 2026/1"), ("enhet", "XYZ"), ("handelse", "godkann")])).await;
        assert!(no_unit.status == 404 && no_unit.body.contains("Ärendet har inget arbetsflöde för enheten ”XYZ”.") && no_unit.body.contains("<h1"), "{}", no_unit.body);
        let forged = http(addr, "/arende/handelse", &session, Some(&[("nummer", "KS 2026/1"), ("enhet", ""), ("handelse", "sammanstall")])).await;
        assert_eq!(forged.status, 403);
        let done = http(addr, "/arende/handelse", &session, Some(&[("csrf_token", &csrf), ("nummer", "KS 2026/1"), ("enhet", ""), ("handelse", "sammanstall")])).await;
        assert!(done.status == 200 && done.body.contains("”Sammanställ svaren nu” är gjort (insamling → sammanstallning)"), "{}", done.body);
        assert!(done.body.contains("<g class=\"tillstand nu\" data-tillstand=\"sammanstallning\">") && !done.body.contains("<g class=\"tillstand nu\" data-tillstand=\"insamling\">"), "the picture follows the step: {}", done.body);
        assert!(done.body.contains(">Registrera tjänsteskrivelsen</button>"), "{}", done.body);
        // The compiled report is a handling with its file.
        let file = http(addr, "/handling?nummer=KS%202026%2F1%3A1", &session, None).await;
        assert!(file.status == 200 && file.head.to_ascii_lowercase().contains("content-disposition: attachment"), "{}", file.head);
        assert!(file.body.contains("Sammanställning"), "{}", file.body);
        // A number that is not there, or is no number, gets a page that says so in Swedish.
        for (path, status, says) in [
            ("/arende?nummer=KS%202026%2F99", 404, "Det finns inget ärende med numret ”KS 2026/99” i diariet."),
            ("/arende?nummer=lokaler", 400, "”lokaler” är inget diarienummer."),
            ("/handling?nummer=KS%202026%2F1%3A99", 404, "Det finns ingen handling ”KS 2026/1:99” med en fil i diariet."),
            ("/handling?nummer=KS%202026%2F1", 400, "”KS 2026/1” är inget handlingsnummer."),
            ("/arende/status?nummer=KS%202026%2F99", 404, "Det finns inget ärende med numret ”KS 2026/99” i diariet."),
        ] {
            let page = http(addr, path, &session, None).await;
            assert!(page.status == status && page.body.contains(says) && page.body.contains("<a href=\"/arenden\">Till diariet</a>"), "{path}: {}", page.body);
            assert!(!page.body.contains("not found") && !page.body.contains("does not exist") && !page.body.contains("is not a"), "{path}: {}", page.body);
        }
        // Not for a chef.
        let chef = log_in(addr, "oskar", "ett-annat-lösenord", "").await;
        assert_eq!(http(addr, "/arenden", &format!("kansli_session={chef}"), None).await.status, 403);
        assert_eq!(http(addr, "/handling?nummer=KS%202026%2F1%3A1", &format!("kansli_session={chef}"), None).await.status, 403);
    }

    async fn every_staff_route_answers_each_role_as_the_table_says(db) {
        let site = site(db).await;
        let addr = site.addr;
        let s = kansli::service::Actor::new("sara.nyqvist");
        let meeting = crate::helpers::held_meeting(&site.engine, "KS", chrono::NaiveDate::from_ymd_opt(2026, 10, 5).unwrap(), "Sessionssalen", &s).await;
        site.engine.add_to_agenda(meeting.id, "KS 2026/1", &s).await.unwrap();
        site.engine.record_decision(meeting.id, "KS 2026/1", "Kommunstyrelsen noterar informationen.", None, &[], &s).await.unwrap();
        site.kansli.add_account("mikael", "mikael.aro", "administratorns-lösenord", true).await.unwrap();
        let mut sessions = vec![("anonym", String::new())];
        for (user, password) in [("oskar", "ett-annat-lösenord"), ("amira", "ett-långt-lösenord"), ("sara", "sekreterarens-lösenord"), ("mikael", "administratorns-lösenord")] {
            sessions.push((user, format!("kansli_session={}", log_in(addr, user, password, "").await)));
        }
        let m = meeting.id;
        // Per route, the status for: anonymous, chef, handläggare, sekreterare, admin.
        let table: Vec<(String, [u16; 5])> = vec![
            ("/".into(), [303, 200, 200, 200, 200]),
            ("/konto".into(), [303, 200, 200, 200, 200]),
            ("/arenden?q=aktiva".into(), [303, 403, 200, 200, 200]),
            ("/arende?nummer=KS%202026%2F1".into(), [303, 403, 200, 200, 200]),
            (STATUS.into(), [303, 403, 200, 200, 200]),
            ("/sammantraden".into(), [303, 403, 403, 200, 200]),
            (format!("/sammantraden/{m}"), [303, 403, 403, 200, 200]),
            (format!("/sammantraden/{m}/protokoll"), [303, 403, 403, 200, 200]),
            ("/utdrag?nummer=KS%202026%2F1&paragraf=KS%20%C2%A7%201%2F26".into(), [303, 403, 403, 200, 200]),
            ("/postlista".into(), [200, 200, 200, 200, 200]),
            ("/anslagstavla".into(), [200, 200, 200, 200, 200]),
            ("/admin".into(), [303, 403, 403, 403, 200]),
            ("/admin/organisation".into(), [303, 403, 403, 403, 200]),
            ("/admin/serier".into(), [303, 403, 403, 403, 200]),
            ("/admin/anvandare".into(), [303, 403, 403, 403, 200]),
            ("/admin/anvandare/roller?person=amira.hadzic".into(), [303, 403, 403, 403, 200]),
            ("/admin/utskick".into(), [303, 403, 403, 403, 200]),
            ("/admin/utskick?status=failed".into(), [303, 403, 403, 403, 200]),
        ];
        for (route, expected) in &table {
            for ((who, cookie), want) in sessions.iter().zip(expected) {
                let reply = http(addr, route, cookie, None).await;
                assert_eq!(reply.status, *want, "{who} on {route}: {}", reply.body);
                if reply.status == 403 {
                    assert!(!reply.body.contains("KS 2026/1"), "{who} on {route}: a refusal shows nothing of the ärende");
                }
            }
        }
        // Forms without a session go to the login page; nothing is done.
        for route in ["/sammantraden", "/arende/handelse", "/logga-ut", "/admin/serier", "/admin/anvandare", "/admin/anvandare/roller", "/admin/utskick"] {
            let reply = http(addr, route, "", Some(&[("csrf_token", "x")])).await;
            assert_eq!(reply.status, 303, "{route}");
        }
    }

    async fn a_handling_is_registered_with_its_file_and_lying_or_oversized_files_are_refused(db) {
        let site = site(db).await;
        let addr = site.addr;
        let token = log_in(addr, "amira", "ett-långt-lösenord", "").await;
        let session = format!("kansli_session={token}");
        let page = http(addr, "/arende?nummer=KS%202026%2F1", &session, None).await;
        assert!(page.body.contains("enctype=\"multipart/form-data\""), "{}", page.body);
        let csrf = page.body.split("name=\"csrf_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let fields = |description: &'static str| vec![("csrf_token", csrf.clone()), ("nummer", "KS 2026/1".to_owned()), ("riktning", "inkommande".to_owned()), ("datum", "2026-10-01".to_owned()), ("motpart", "Barn- och utbildningsförvaltningen".to_owned()), ("beskrivning", description.to_owned())];
        let send = |description: &'static str, name: &'static str, content: Vec<u8>| {
            let session = session.clone();
            let fields = fields(description);
            async move {
                let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                http_upload(addr, "/arende/handling", &session, &pairs, (name, &content)).await
            }
        };
        let ok = send("Svar på enkät", "svar.pdf", b"%PDF-1.7 svar".to_vec()).await;
        assert!(ok.status == 200 && ok.body.contains("registrerad som KS 2026/1:1"), "{}", ok.body);
        // Each refusal says on the page, in Swedish, what was wrong with the file.
        let lying = send("Lögn", "svar.pdf", b"MZ\x90\x00 a program".to_vec()).await;
        assert!(lying.status == 400 && lying.body.contains("Fil: innehållet i ”svar.pdf” är inte det som filnamnet säger; ge filen rätt filändelse."), "{}", lying.body);
        assert!(!lying.body.contains("not what the name says"), "{}", lying.body);
        let path = send("Sökväg", "../../etc/passwd.txt", b"root".to_vec()).await;
        assert!(path.status == 400 && path.body.contains("Fil: ”../../etc/passwd.txt” är inget enkelt filnamn; namnet får inte innehålla mappar."), "{}", path.body);
        assert!(!path.body.contains("without folders"), "{}", path.body);
        let big = send("Stor", "stor.txt", vec![b'a'; kansli::service::MAX_FILE_BYTES + 128 * 1024]).await;
        assert_eq!(big.status, 413, "{}", big.head);
        assert!(big.body.contains("Fil: filen är för stor; högst 50 MB är tillåtet."), "{}", big.body);
        let case = site.kansli.show_case("KS 2026/1").await.unwrap();
        assert_eq!(case.documents.len(), 1, "only the honest file is registered");
        let file = http(addr, "/handling?nummer=KS%202026%2F1%3A1", &session, None).await;
        assert!(file.body.starts_with("%PDF-1.7 svar") && file.head.contains("nosniff"), "{}", file.head);
        // A chef registers nothing, and without the token nobody does.
        let chef = log_in(addr, "oskar", "ett-annat-lösenord", "").await;
        let pairs: Vec<(&str, &str)> = vec![("csrf_token", "x"), ("nummer", "KS 2026/1")];
        assert_eq!(http_upload(addr, "/arende/handling", &format!("kansli_session={chef}"), &pairs, ("a.txt", b"a")).await.status, 403);
        assert_eq!(http_upload(addr, "/arende/handling", &session, &pairs, ("a.txt", b"a")).await.status, 403);
    }

    async fn a_refused_handling_is_explained_in_swedish_on_the_page_and_nothing_is_registered(db) {
        let site = site(db).await;
        let addr = site.addr;
        let token = log_in(addr, "amira", "ett-långt-lösenord", "").await;
        let session = format!("kansli_session={token}");
        let page = http(addr, "/arende?nummer=KS%202026%2F1", &session, None).await;
        let csrf = page.body.split("name=\"csrf_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let closed = site.kansli.open_case(crate::helpers::open("KS", "Redan avslutat"), &crate::helpers::actor()).await.unwrap();
        site.kansli.close_case(&closed.number, None, &crate::helpers::actor()).await.unwrap();
        let send = |changed: Vec<(&'static str, String)>, file: (&'static str, Vec<u8>)| {
            let (session, csrf) = (session.clone(), csrf.clone());
            async move {
                let mut fields = [("csrf_token", csrf), ("nummer", "KS 2026/1".to_owned()), ("riktning", "inkommande".to_owned()), ("datum", "2026-10-01".to_owned()), ("motpart", "Barn- och utbildningsförvaltningen".to_owned()), ("beskrivning", "Svar på enkät".to_owned())];
                for (name, value) in changed {
                    fields.iter_mut().find(|(k, _)| *k == name).unwrap().1 = value;
                }
                let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
                http_upload(addr, "/arende/handling", &session, &pairs, (file.0, &file.1)).await
            }
        };
        let pdf = || ("svar.pdf", b"%PDF-1.7 svar".to_vec());
        // What is sent, the Swedish the page shows, and the service's English it must not show.
        type Changed = Vec<(&'static str, String)>;
        type File = (&'static str, Vec<u8>);
        let refusals: Vec<(Changed, File, String, &str)> = vec![
            (vec![("beskrivning", "   ".into())], pdf(), "Beskrivning måste fyllas i.".into(), "must not be empty"),
            (vec![("beskrivning", "å".repeat(1001))], pdf(), "Beskrivning: texten har 1001 tecken; högst 1000 tecken är tillåtna.".into(), "characters long"),
            (vec![("motpart", "Barn-\u{1}förvaltningen".into())], pdf(), "Avsändare eller mottagare: texten innehåller ett styrtecken, som inte är tillåtet; ta bort det.".into(), "control character"),
            (vec![("motpart", "x".repeat(501))], pdf(), "Avsändare eller mottagare: texten har 501 tecken; högst 500 tecken är tillåtna.".into(), "at most 500"),
            (vec![("datum", "2026-02-30".into())], pdf(), "Datum: ”2026-02-30” är inget datum som finns; skriv det som ÅÅÅÅ-MM-DD.".into(), "is not a date"),
            (vec![("datum", "".into())], pdf(), "Datum måste fyllas i (ÅÅÅÅ-MM-DD).".into(), "is not a date"),
            (vec![("riktning", "sidledes".into())], pdf(), "Riktning: ”sidledes” är ingen riktning; välj Inkommande, Upprättad eller Utgående.".into(), "unknown direction"),
            (vec![], (" ", b"x".to_vec()), "Fil: filen har inget namn.".into(), "plain name"),
            (vec![], ("svar.docx", b"%PDF-1.7 svar".to_vec()), "Fil: innehållet i ”svar.docx” är inte det som filnamnet säger; ge filen rätt filändelse.".into(), "give the file its right extension"),
            // Over the service's limit, under the body's: the service refuses it.
            (vec![], ("stor.txt", vec![b'a'; kansli::service::MAX_FILE_BYTES + 1]), "Fil: ”stor.txt” är 50,1 MB; högst 50 MB är tillåtet.".into(), "bytes; at most"),
            (vec![("nummer", closed.number.clone())], pdf(), format!("Ärendet {} är avslutat. Återöppna det innan du registrerar en handling i det.", closed.number), "reopen it"),
        ];
        for (changed, file, swedish, english) in refusals {
            let what = format!("{changed:?} {}", file.0);
            let reply = send(changed, file).await;
            assert_eq!(reply.status, 400, "{what}: {}", reply.body);
            let shown = reply.body.split("<p class=\"fel-text\">").nth(1).and_then(|b| b.split("</p>").next()).unwrap_or_else(|| panic!("{what}: no error on the page: {}", reply.body));
            assert_eq!(shown, swedish, "{what}");
            assert!(!reply.body.contains(english), "{what}: {english:?} in {}", reply.body);
        }
        for number in ["KS 2026/1", closed.number.as_str()] {
            let case = site.kansli.show_case(number).await.unwrap();
            assert!(case.documents.is_empty(), "{number}: nothing is registered: {:?}", case.documents);
            let history = site.kansli.case_history(number).await.unwrap();
            assert!(history.iter().all(|h| h.action != "handling registrerad"), "{number}");
        }
        // A number that is no ärende's is said in Swedish too.
        let missing = send(vec![("nummer", "KS 2026/99".into())], pdf()).await;
        assert!(missing.status == 404 && missing.body.contains("Det finns inget ärende med numret ”KS 2026/99” i diariet.") && !missing.body.contains("does not exist"), "{}", missing.body);
    }

    async fn the_inbox_shows_each_person_what_waits_for_them_in_their_own_units(db) {
        let site = site(db).await;
        let addr = site.addr;
        let start = |user: &'static str, password: &'static str| async move {
            let token = log_in(addr, user, password, "").await;
            http(addr, "/", &format!("kansli_session={token}"), None).await.body
        };
        let amira = start("amira", "ett-långt-lösenord").await;
        assert!(amira.contains("KS 2026/1</a>") && amira.contains("<td>Sammanställ svaren nu, Avbryt uppföljningen</td>"), "{amira}");
        assert!(amira.contains("<td>2026-11-05 07:00</td>"), "due with the answering deadline: {amira}");
        let oskar = start("oskar", "ett-annat-lösenord").await;
        assert!(oskar.contains("<td>BUF</td>") && oskar.contains("Skicka in svaret"), "{oskar}");
        assert!(!oskar.contains("<td>KLF</td>") && !oskar.contains("Sammanställ"), "only the chef's own unit: {oskar}");
        let sara = start("sara", "sekreterarens-lösenord").await;
        assert!(sara.contains("Inget väntar på dig just nu."), "{sara}");
    }

    async fn a_step_the_workflow_refuses_is_explained_in_swedish_on_the_arende_page(db) {
        // A step the handläggare sees a button for, whose condition does not hold: the role
        // check before the engine lets it through, and the engine refuses it.
        const VAKT: &str = "id: vakt\ntitle: Vakt\ncase: { series: KLF, title: Vakt, handlaggare: amira.hadzic }\nvariables:\n  klar: { type: boolean, default: false }\ninitial: utkast\nstates:\n  utkast:\n    on:\n      - event: vidare\n        by: [handläggare]\n        label: Skicka vidare\n        guard: { variable: { name: klar, equals: true } }\n        to: klart\n  klart:\n    final: true\n";
        let workflows = tempfile::tempdir().unwrap();
        std::fs::write(workflows.path().join("vakt.yaml"), VAKT).unwrap();
        let options = AppOptions { workflows: Some(workflows.path().to_owned()), ..AppOptions::default() };
        let app = spawn_app_with(db, Utc.with_ymd_and_hms(2026, 10, 1, 5, 0, 0).unwrap(), options).await;
        let (kansli, engine, addr) = (&app.kansli, &app.engine, app.addr);
        let (_, number) = engine.start("vakt", Default::default(), &kansli::service::Actor::new("t")).await.unwrap();
        let number = number.expect("the workflow opens an ärende");
        kansli.add_account("amira", "amira.hadzic", "ett-långt-lösenord", false).await.unwrap();

        let session = format!("kansli_session={}", log_in(addr, "amira", "ett-långt-lösenord", "").await);
        let path = format!("/arende?nummer={}", number.replace(' ', "%20").replace('/', "%2F"));
        let page = http(addr, &path, &session, None).await;
        assert!(page.status == 200 && page.body.contains("value=\"vidare\""), "the button is there: {}", page.body);
        let csrf = page.body.split("name=\"csrf_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let refused = http(addr, "/arende/handelse", &session, Some(&[("csrf_token", &csrf), ("nummer", &number), ("enhet", ""), ("handelse", "vidare")])).await;
        assert_eq!(refused.status, 409, "{}", refused.body);
        assert!(refused.body.contains("Villkoret för ”Skicka vidare” är inte uppfyllt: ”klar” är ja."), "{}", refused.body);
        assert!(refused.body.contains("role=\"alert\""), "shown as the page's error: {}", refused.body);
        for english in ["condition does not hold", "is not allowed in state", "may not send", "event \"vidare\""] {
            assert!(!refused.body.contains(english), "no engine English ({english}): {}", refused.body);
        }
        // Nothing moved; the engine itself still says it in English (the API and the CLI).
        let target = kansli::service::Target { case_number: number.clone(), unit: None };
        let err = engine.send(&target, "vidare", kansli::workflow::Sender::Role(kansli::domain::organisation::Role::Handlaggare), &kansli::service::Actor::new("t"), None).await.unwrap_err();
        assert!(matches!(err, kansli::service::ServiceError::Refused(_)), "{err:?}");
        assert!(err.to_string().contains("the condition does not hold (klar = true)"), "{err}");
    }

    async fn an_arende_page_says_when_its_workflow_cannot_be_read(db) {
        let site = site(db).await;
        let token = log_in(site.addr, "amira", "ett-långt-lösenord", "").await;
        let session = format!("kansli_session={token}");
        let page = http(site.addr, "/arende?nummer=KS%202026%2F1", &session, None).await;
        assert!(page.status == 200 && !page.body.contains("Arbetsflödet kunde inte läsas"), "{}", page.body);
        // The instances cannot be read (a restore that lost a table, say): the page says the
        // workflow could not be read, not that the ärende has none.
        let conn = sea_orm::Database::connect(&db.url).await.unwrap();
        sea_orm::ConnectionTrait::execute_unprepared(&conn, "ALTER TABLE workflow_instance RENAME TO workflow_instance_gone").await.unwrap();
        let page = http(site.addr, "/arende?nummer=KS%202026%2F1", &session, None).await;
        assert!(page.status == 200 && page.body.contains("Arbetsflödet kunde inte läsas just nu") && !page.body.contains("Ärendet följer inget arbetsflöde"), "{}", page.body);
    }
}
