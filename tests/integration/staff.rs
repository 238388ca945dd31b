//! The staff pages over real HTTP: login with CSRF and throttling, sessions that change at
//! login and end at logout, and pages refused to those without the role.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use chrono::{TimeZone, Utc};
use kansli::service::{Engine, Kansli};
use kansli::workflow::Catalog;

use crate::helpers::{TestDb, http};
use crate::on_both_backends;

const STATUS: &str = "/arende/status?nummer=KS%202026%2F1";

struct Site {
    kansli: Kansli,
    addr: SocketAddr,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for Site {
    fn drop(&mut self) {
        self.server.abort();
    }
}

async fn site(db: &TestDb) -> Site {
    let start = chrono_tz::Europe::Stockholm
        .with_ymd_and_hms(2026, 10, 1, 7, 0, 0)
        .unwrap()
        .with_timezone(&Utc);
    let (kansli, _clock) = db.app(start).await;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let catalog = Catalog::load(&root.join("workflows"), &root.join("templates")).unwrap();
    let engine = Engine::new(kansli.clone(), Arc::new(catalog), "e");
    engine.tick().await.unwrap();
    kansli
        .add_account("amira", "amira.hadzic", "ett-långt-lösenord", false)
        .await
        .unwrap();
    kansli
        .add_account("oskar", "oskar.lindfors", "ett-annat-lösenord", false)
        .await
        .unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = kansli::http::router_with_engine(kansli.clone(), engine);
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    Site {
        kansli,
        addr,
        server,
    }
}

/// Fetches the login form: its CSRF token, which the form and its cookie both carry.
async fn login_csrf(addr: SocketAddr) -> String {
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
async fn log_in(addr: SocketAddr, user: &str, password: &str, planted: &str) -> String {
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
}
