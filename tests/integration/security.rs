//! Security over real HTTP (OWASP ASVS level 2): each test is one weakness a security pass
//! found, and fails where it is back. A search that once aborted the process, redirects off
//! the site, throttling that raced, bodies read before the login, missing headers, tokens that
//! outlived a password, weak passwords, dangerous uploads, secret handlingar open to everyone,
//! script URLs in emails, metrics for anyone, and world-readable files.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use chrono::NaiveDate;
use kansli::domain::document::{Direction, MASK, SecrecyMarking};
use kansli::http::Protection;
use kansli::service::NewDocumentInput;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{Reply, TestDb, actor, http, http_json, http_raw, http_upload};
use crate::on_both_backends;
use crate::staff::{Site, log_in, login_csrf, site, site_with};

const CASE: &str = "KS 2026/1";
const CASE_PATH: &str = "/arende?nummer=KS%202026%2F1";
const AMIRA: (&str, &str) = ("amira", "ett-långt-lösenord");
const SARA: (&str, &str) = ("sara", "sekreterarens-lösenord");

fn localhost() -> IpAddr {
    IpAddr::from([127, 0, 0, 1])
}

/// A site behind a proxy on this machine: `X-Forwarded-For` names the client.
async fn proxied_site(db: &TestDb) -> Site {
    site_with(
        db,
        Protection {
            trusted_proxies: vec![localhost()],
            ..Protection::default()
        },
    )
    .await
}

/// A session cookie for `user`.
async fn session(site: &Site, (user, password): (&str, &str)) -> String {
    format!(
        "kansli_session={}",
        log_in(site.addr, user, password, "").await
    )
}

/// A login attempt as a browser at `client` (sent through the proxy when it is given).
async fn attempt(addr: SocketAddr, user: &str, password: &str, client: Option<&str>) -> Reply {
    let csrf = login_csrf(addr).await;
    let encode = |s: &str| kansli_encode(s);
    let body = format!(
        "username={}&password={}&csrf_token={csrf}&next=%2F",
        encode(user),
        encode(password)
    );
    let forwarded = client
        .map(|c| format!("X-Forwarded-For: {c}\r\n"))
        .unwrap_or_default();
    http_raw(
        addr,
        &format!(
            "POST /logga-in HTTP/1.1\r\nHost: {addr}\r\nCookie: kansli_csrf={csrf}\r\n{forwarded}\
             Connection: close\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             Content-Length: {}\r\n\r\n{body}",
            body.len()
        ),
    )
    .await
}

fn kansli_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Statuses of `n` login attempts made at once, each from `client(i)` as user `user(i)`.
async fn at_once(
    addr: SocketAddr,
    n: usize,
    user: impl Fn(usize) -> String,
    client: impl Fn(usize) -> String,
) -> Vec<u16> {
    let mut set = tokio::task::JoinSet::new();
    for i in 0..n {
        let (user, client) = (user(i), client(i));
        set.spawn(async move {
            attempt(addr, &user, "fel-lösenord-helt-och-hållet", Some(&client))
                .await
                .status
        });
    }
    let mut statuses = Vec::new();
    while let Some(status) = set.join_next().await {
        statuses.push(status.unwrap());
    }
    statuses
}

fn count(statuses: &[u16], status: u16) -> usize {
    statuses.iter().filter(|s| **s == status).count()
}

/// Writes a request's head only and reads the answer's head, within `within`: the server
/// must answer without the body it was promised.
async fn answer_before_body(addr: SocketAddr, head: &str, within: Duration) -> Option<String> {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    let read = async {
        let mut buf = [0u8; 4096];
        loop {
            let n = stream.read(&mut buf).await.unwrap_or(0);
            if n == 0 {
                break;
            }
            raw.extend_from_slice(&buf[..n]);
            if raw.windows(4).any(|w| w == b"\r\n\r\n") {
                break;
            }
        }
    };
    tokio::time::timeout(within, read).await.ok()?;
    Some(String::from_utf8_lossy(&raw).into_owned())
}

/// An upload's head: a multipart body of `length` bytes that is never sent.
fn upload_head(addr: SocketAddr, path: &str, cookies: &str, length: usize) -> String {
    format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookies}\r\nConnection: close\r\n\
         Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {length}\r\n\r\n"
    )
}

/// A header's value in a reply (the first of its name).
fn header<'a>(reply: &'a Reply, name: &str) -> Option<&'a str> {
    reply.header(name)
}

on_both_backends! {
    async fn no_search_can_take_the_server_down(db) {
        let site = site(db).await;
        let addr = site.addr;
        let amira = session(&site, AMIRA).await;
        let (_, token) = site.kansli.create_api_token("amira", "test", None).await.unwrap();
        let bearer = format!("Bearer {token}");
        let thousand: Vec<String> = (0..1000).map(|i| format!("ord{i}")).collect();
        // As long a word as a request line takes (hyper answers 414 to 64 KB).
        let huge_word = "a".repeat(32 * 1024);
        for q in [thousand.join("+"), huge_word.clone()] {
            let page = http(addr, &format!("/arenden?q={q}"), &amira, None).await;
            assert_eq!(page.status, 400, "{}", page.body);
            assert!(page.body.contains("högst 20 ord") || page.body.contains("högst 100 tecken"), "{}", page.body);
            let api = http_json(addr, "GET", &format!("/api/v1/cases?q={q}"), &[("Authorization", &bearer)], None).await;
            assert_eq!(api.status, 422, "{}", api.body);
            assert!(api.body.contains("at most"), "{}", api.body);
        }
        // At the bounds the search runs.
        let twenty = (0..20).map(|i| format!("o{i}")).collect::<Vec<_>>().join("+");
        assert_eq!(http(addr, &format!("/arenden?q={twenty}"), &amira, None).await.status, 200);
        let longest = "å".repeat(100);
        assert_eq!(http(addr, &format!("/arenden?q={}", kansli_encode(&longest)), &amira, None).await.status, 200);
        // The server is still there, and still finds.
        let (status, body) = crate::helpers::http_get(addr, "/readyz").await;
        assert_eq!((status, body.as_str()), (200, "ready"));
        let found = http(addr, "/arenden?q=uppf%C3%B6ljning&status=open", &amira, None).await;
        assert_eq!(found.status, 200);
    }

    async fn login_returns_only_to_a_path_of_this_server(db) {
        let site = site(db).await;
        let addr = site.addr;
        for (next, expected) in [
            ("/\t/evil.example/phish", "/"),
            ("//evil.example", "/"),
            ("/\\evil.example", "/"),
            ("/\\/evil.example", "/"),
            ("https://evil.example/", "/"),
            ("javascript:alert(1)", "/"),
            (" /arenden", "/"),
            ("/ok\r\nSet-Cookie: x=y", "/"),
            ("/ok\x0b", "/"),
            ("/ok\0", "/"),
            ("/arenden?q=bygglov&sida=2", "/arenden?q=bygglov&sida=2"),
        ] {
            let csrf = login_csrf(addr).await;
            let reply = http(addr, "/logga-in", &format!("kansli_csrf={csrf}"), Some(&[
                ("username", AMIRA.0),
                ("password", AMIRA.1),
                ("csrf_token", &csrf),
                ("next", next),
            ])).await;
            assert_eq!(reply.status, 303, "{next:?}: {}", reply.body);
            assert_eq!(reply.location(), Some(expected), "{next:?}");
            // The form carries only what it would return to.
            let form = http(addr, &format!("/logga-in?nasta={}", kansli_encode(next)), "", None).await;
            assert_eq!(form.status, 200);
            if expected == "/" {
                assert!(form.body.contains("name=\"next\" value=\"/\""), "{next:?}");
            }
        }
    }

    async fn thirty_logins_at_once_are_counted_and_the_owner_is_never_locked_out(db) {
        let site = proxied_site(db).await;
        let addr = site.addr;
        // Amira has logged in from her office before.
        assert_eq!(attempt(addr, AMIRA.0, AMIRA.1, Some("192.0.2.10")).await.status, 303);

        // Thirty wrong passwords for one account from one address, all at once: at most five
        // are checked (each counts the others under way, so fewer may be), the rest held back.
        let statuses = at_once(addr, 30, |_| AMIRA.0.to_owned(), |_| "198.51.100.7".to_owned()).await;
        assert_eq!(count(&statuses, 401) + count(&statuses, 429), 30, "{statuses:?}");
        assert!(count(&statuses, 401) <= 5, "{statuses:?}");

        // Thirty wrong logins for thirty names from one address: twenty at most are checked.
        let statuses = at_once(addr, 30, |i| format!("okand{i}"), |_| "198.51.100.8".to_owned()).await;
        assert!(count(&statuses, 401) <= 20, "{statuses:?}");
        assert_eq!(count(&statuses, 429), 30 - count(&statuses, 401), "{statuses:?}");

        // The account was attacked from far more than ten failures' worth: from a new address
        // even the right password waits, but from her own office Amira gets in at once.
        assert_eq!(attempt(addr, AMIRA.0, AMIRA.1, Some("203.0.113.9")).await.status, 429);
        assert_eq!(attempt(addr, AMIRA.0, AMIRA.1, Some("192.0.2.10")).await.status, 303);
        // The back-off ends: five minutes after the last failure the new address gets in too.
        site.clock.advance(chrono::Duration::minutes(6));
        assert_eq!(attempt(addr, AMIRA.0, AMIRA.1, Some("203.0.113.9")).await.status, 303);

    }

    async fn forwarded_for_is_believed_only_from_a_trusted_proxy(db) {
        // Without a trusted proxy, X-Forwarded-For is the client's own word and is not
        // believed: six wrong passwords "from six addresses" are six from one.
        let plain = site(db).await;
        let mut statuses = Vec::new();
        for i in 0..6 {
            statuses.push(attempt(plain.addr, "oskar", "fel-lösenord-helt-och-hållet", Some(&format!("203.0.113.{i}"))).await.status);
        }
        assert_eq!(statuses, [401, 401, 401, 401, 401, 429]);
    }

    async fn a_staff_form_is_refused_before_its_body_is_read(db) {
        let site = site(db).await;
        let addr = site.addr;
        let soon = Duration::from_secs(10);
        // A stranger announces 52 MB: sent to log in without a byte of it read.
        let head = answer_before_body(addr, &upload_head(addr, "/arende/handling", "", 52_000_000), soon)
            .await
            .expect("an answer before the body");
        assert!(head.starts_with("HTTP/1.1 303"), "{head}");
        assert!(head.to_ascii_lowercase().contains("location: /logga-in"), "{head}");
        // A form with a forged session likewise.
        let forged = answer_before_body(addr, &upload_head(addr, "/admin/organisation", "kansli_session=forfalskad", 52_000_000), soon)
            .await
            .expect("an answer before the body");
        assert!(forged.starts_with("HTTP/1.1 303"), "{forged}");
        // A logged-in upload without the form's token in its address is refused unread.
        let amira = session(&site, AMIRA).await;
        let refused = answer_before_body(addr, &upload_head(addr, "/arende/handling", &amira, 52_000_000), soon)
            .await
            .expect("an answer before the body");
        assert!(refused.starts_with("HTTP/1.1 403"), "{refused}");
        // A form posted from another site is refused, the right token notwithstanding.
        let page = http(addr, CASE_PATH, &amira, None).await;
        let csrf = page.body.split("name=\"csrf_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let body = format!("csrf_token={csrf}&nummer=KS+2026%2F1&handelse=x&enhet=");
        let cross = http_raw(addr, &format!(
            "POST /arende/handelse HTTP/1.1\r\nHost: {addr}\r\nOrigin: https://evil.example\r\nCookie: {amira}\r\n\
             Connection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        )).await;
        assert_eq!(cross.status, 403, "{}", cross.body);
        // A multipart body of more parts than the form has is not read to its end.
        let many: Vec<(String, String)> = (0..200).map(|i| (format!("f{i}"), "x".to_owned())).collect();
        let mut pairs: Vec<(&str, &str)> = vec![("csrf_token", &csrf), ("nummer", CASE)];
        pairs.extend(many.iter().map(|(k, v)| (k.as_str(), v.as_str())));
        let before = site.kansli.show_case(CASE).await.unwrap().documents.len();
        let reply = http_upload(addr, "/arende/handling", &amira, &pairs, ("a.txt", b"a")).await;
        assert_eq!(reply.status, 400, "{}", reply.body);
        assert_eq!(site.kansli.show_case(CASE).await.unwrap().documents.len(), before);
    }

    async fn every_kind_of_page_carries_the_security_headers(db) {
        let site = site(db).await;
        let addr = site.addr;
        let amira = session(&site, AMIRA).await;
        // A personal link's page, here one that is not (or no longer) valid.
        let token = "ab".repeat(32);
        let pages: Vec<(String, String)> = vec![
            ("/logga-in".into(), String::new()),
            ("/".into(), amira.clone()),
            (CASE_PATH.into(), amira.clone()),
            ("/arenden?q=x".into(), amira.clone()),
            ("/postlista".into(), String::new()),
            ("/anslagstavla".into(), String::new()),
            ("/api/v1/openapi.json".into(), String::new()),
            (format!("/enkat/{token}"), String::new()),
            ("/finns-inte".into(), String::new()),
        ];
        for (path, cookies) in &pages {
            let reply = http(addr, path, cookies, None).await;
            let csp = header(&reply, "content-security-policy").unwrap_or_default();
            assert!(csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"), "{path}: {csp:?}");
            assert!(!csp.contains("script-src") || !csp.contains("unsafe-inline"), "{path}: {csp:?}");
            assert_eq!(header(&reply, "x-frame-options"), Some("DENY"), "{path}");
            assert_eq!(header(&reply, "x-content-type-options"), Some("nosniff"), "{path}");
            assert_eq!(header(&reply, "cache-control"), Some("no-store"), "{path}");
            let referrer = if path.starts_with("/enkat/") { "no-referrer" } else { "strict-origin-when-cross-origin" };
            assert_eq!(header(&reply, "referrer-policy"), Some(referrer), "{path}");
            assert_eq!(header(&reply, "strict-transport-security"), None, "{path}: no HSTS over http");
            // The pages keep no inline script or style, so the policy holds them whole.
            assert!(!reply.body.contains("<script") && !reply.body.contains("<style") && !reply.body.contains(" style="), "{path}");
        }
        let css = http(addr, "/stil.css", "", None).await;
        assert_eq!(css.status, 200);
        assert!(header(&css, "content-type").unwrap().starts_with("text/css"));
        assert!(css.body.contains("font-family"));
    }

    async fn over_https_browsers_are_told_to_keep_to_it(db) {
        let https = site_with(db, Protection { https: true, ..Protection::default() }).await;
        let reply = http(https.addr, "/logga-in", "", None).await;
        assert_eq!(header(&reply, "strict-transport-security"), Some("max-age=31536000; includeSubDomains"));
    }

    async fn a_new_password_revokes_the_tokens_and_sessions_end_when_idle(db) {
        let site = site(db).await;
        let addr = site.addr;
        let (row, token) = site.kansli.create_api_token("amira", "intranätet", None).await.unwrap();
        // A token lives a year unless told otherwise.
        assert_eq!(row.expires_at.unwrap() - row.created_at, chrono::Duration::days(365));
        let bearer = format!("Bearer {token}");
        assert_eq!(http_json(addr, "GET", "/api/v1/me", &[("Authorization", &bearer)], None).await.status, 200);
        // The administrator gives Amira a new password on the page.
        site.kansli.add_account("mikael", "mikael.aro", "administratorns-lösenord", true).await.unwrap();
        let admin = session(&site, ("mikael", "administratorns-lösenord")).await;
        let page = http(addr, "/admin/anvandare", &admin, None).await;
        let csrf = page.body.split("name=\"csrf_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        assert!(page.body.contains("API-nycklar återkallas"), "the page says so");
        let reply = http(addr, "/admin/anvandare", &admin, Some(&[
            ("csrf_token", &csrf), ("atgard", "losenord"), ("konto", "amira"), ("new_password", "blåbärssoppa-vid-älven"),
        ])).await;
        assert_eq!(reply.status, 200, "{}", reply.body);
        assert!(reply.body.contains("API-nycklar återkallade"), "{}", reply.body);
        let after = http_json(addr, "GET", "/api/v1/me", &[("Authorization", &bearer)], None).await;
        assert_eq!(after.status, 401, "{}", after.body);

        // A session ends after an hour unused, not while it is used.
        let amira = session(&site, ("amira", "blåbärssoppa-vid-älven")).await;
        for _ in 0..3 {
            site.clock.advance(chrono::Duration::minutes(50));
            assert_eq!(http(addr, "/", &amira, None).await.status, 200);
        }
        site.clock.advance(chrono::Duration::minutes(61));
        let idle = http(addr, "/", &amira, None).await;
        assert_eq!(idle.status, 303);
        assert!(idle.location().unwrap().starts_with("/logga-in"));
        // The sweep deletes what ran out: the idle session, the old login attempts.
        site.clock.advance(chrono::Duration::days(91));
        assert!(site.kansli.sweep_expired().await.unwrap() >= 3);
        assert_eq!(site.kansli.sweep_expired().await.unwrap(), 0);
    }

    async fn easily_guessed_passwords_are_refused(db) {
        let site = site(db).await;
        for weak in ["aaaaaaaaaaaa", "password1234", "123456789012", "            ", "qwertyuiop12", "amirahadzic1", "Hadzic-Amira-88"] {
            let err = site.kansli.add_account("svag", "amira.hadzic", weak, false).await.unwrap_err();
            assert!(err.to_string().contains("too easy to guess"), "{weak:?}: {err}");
        }
        assert!(site.kansli.add_account("kort", "amira.hadzic", "kort", false).await.unwrap_err().to_string().contains("at least 12"));
        site.kansli.add_account("stark", "amira.hadzic", "lingonsylt-på-fredag", false).await.unwrap();
        // On the administration page, in Swedish.
        site.kansli.add_account("mikael", "mikael.aro", "administratorns-lösenord", true).await.unwrap();
        let admin = session(&site, ("mikael", "administratorns-lösenord")).await;
        let page = http(site.addr, "/admin/anvandare", &admin, None).await;
        let csrf = page.body.split("name=\"csrf_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let reply = http(site.addr, "/admin/anvandare", &admin, Some(&[
            ("csrf_token", &csrf), ("atgard", "losenord"), ("konto", "amira"), ("new_password", "password1234"),
        ])).await;
        assert_eq!(reply.status, 400, "{}", reply.body);
        assert!(reply.body.contains("för lätt att gissa"), "{}", reply.body);
    }

    async fn only_archive_and_office_formats_are_accepted_and_every_file_is_a_download(db) {
        let site = site(db).await;
        let addr = site.addr;
        let amira = session(&site, AMIRA).await;
        let page = http(addr, CASE_PATH, &amira, None).await;
        let csrf = page.body.split("name=\"csrf_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let fields = [("csrf_token", csrf.as_str()), ("nummer", CASE), ("riktning", "inkommande"), ("datum", "2026-10-01"), ("motpart", "N.N."), ("beskrivning", "Bilaga")];
        let before = site.kansli.show_case(CASE).await.unwrap().documents.len();
        for (name, content) in [
            ("skript.js", &b"alert(document.cookie)"[..]),
            ("start.bat", b"del /q *"),
            ("app.hta", b"<html><script>x</script></html>"),
            ("sida.html", b"<html><body><script>alert(1)</script></body></html>"),
            ("bild.svg", b"<svg xmlns=\"http://www.w3.org/2000/svg\"><script>alert(1)</script></svg>"),
            ("svar.pdf", b"%PDF-1.4\n<html><script>alert(1)</script></html>"),
            ("svar.txt", b"<!DOCTYPE html><script>alert(1)</script>"),
        ] {
            let reply = http_upload(addr, "/arende/handling", &amira, &fields, (name, content)).await;
            assert_eq!(reply.status, 400, "{name}: {}", reply.body);
            assert!(reply.body.contains("Fil:"), "{name}: {}", reply.body);
        }
        assert_eq!(site.kansli.show_case(CASE).await.unwrap().documents.len(), before, "nothing registered");
        let ok = http_upload(addr, "/arende/handling", &amira, &fields, ("svar.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n%%EOF\n")).await;
        assert_eq!(ok.status, 200, "{}", ok.body);
        let number = site.kansli.show_case(CASE).await.unwrap().documents.last().unwrap().number.clone();
        let file = http(addr, &format!("/handling?nummer={}", kansli_encode(&number)), &amira, None).await;
        assert_eq!(file.status, 200);
        assert_eq!(header(&file, "content-type"), Some("application/pdf"));
        assert_eq!(header(&file, "content-disposition"), Some("attachment; filename=\"svar.pdf\""));
        assert_eq!(header(&file, "x-content-type-options"), Some("nosniff"));
        let (_, token) = site.kansli.create_api_token("amira", "test", None).await.unwrap();
        let api = http_json(addr, "GET", &format!("/api/v1/documents/{}/file", kansli_encode(&number)), &[("Authorization", &format!("Bearer {token}"))], None).await;
        assert_eq!(api.status, 200);
        assert_eq!(header(&api, "content-disposition"), Some("attachment; filename=\"svar.pdf\""));
        assert_eq!(header(&api, "x-content-type-options"), Some("nosniff"));
    }

    async fn a_secret_handling_is_read_only_by_those_who_need_to_know_it(db) {
        let site = site(db).await;
        let addr = site.addr;
        let kansli = &site.kansli;
        assert_eq!(kansli.show_case(CASE).await.unwrap().handlaggare.unwrap().key, "amira.hadzic");
        let secret = kansli.add_document(CASE, NewDocumentInput {
            date: NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(),
            direction: Direction::Incoming,
            counterpart: Some("Anmälaren".into()),
            counterpart_protected: true,
            description: "Anmälan om trakasserier på förskolan Solrosen".into(),
            description_protected: false,
            secrecy: Some(SecrecyMarking { provision: "OSL 39 kap 3 §".into(), date: NaiveDate::from_ymd_opt(2026, 10, 1).unwrap(), authority: "Norrvika kommun".into() }),
            file: Some(("anmalan.txt".into(), "Det hemliga innehållet".as_bytes().to_vec())),
        }, &actor()).await.unwrap();
        let file_path = format!("/handling?nummer={}", kansli_encode(&secret.number));
        kansli.add_account("per", "per.ekdahl", "registratorns-lösenord", false).await.unwrap();
        let sara = session(&site, SARA).await;
        let amira = session(&site, AMIRA).await;
        let per = session(&site, ("per", "registratorns-lösenord")).await;

        // The sekreterare has nothing to do with the ärende: she sees the register entry
        // masked as the postlista masks it, and no file.
        let page = http(addr, CASE_PATH, &sara, None).await;
        assert_eq!(page.status, 200);
        assert!(!page.body.contains("Solrosen") && !page.body.contains("Anmälaren"), "masked");
        assert!(page.body.contains(MASK) && page.body.contains("OSL 39 kap 3 §"));
        assert!(!page.body.contains(&file_path.replace('&', "&amp;")) && !page.body.contains("Åtkomst till sekretessmarkerade"));
        assert_eq!(http(addr, &file_path, &sara, None).await.status, 403);
        // The handläggare and the organ's registrator read it; each read is in the history.
        for (who, cookie) in [("amira", &amira), ("per", &per)] {
            let file = http(addr, &file_path, cookie, None).await;
            assert_eq!((file.status, file.body.as_str()), (200, "Det hemliga innehållet"), "{who}");
        }
        let reads: Vec<String> = kansli.case_history(CASE).await.unwrap().into_iter()
            .filter(|h| h.action == "sekretessmarkerad handling läst")
            .map(|h| format!("{} {}", h.actor, h.detail.unwrap_or_default()))
            .collect();
        assert_eq!(reads, [format!("amira {}", secret.number), format!("per {}", secret.number)]);
        // Through the API, the same.
        let (_, sara_token) = kansli.create_api_token("sara", "test", None).await.unwrap();
        let bearer = format!("Bearer {sara_token}");
        let shown = http_json(addr, "GET", "/api/v1/cases/KS%202026%2F1", &[("Authorization", &bearer)], None).await;
        let json: Value = serde_json::from_str(&shown.body).unwrap();
        let entry = json["documents"].as_array().unwrap().iter().find(|d| d["number"] == secret.number.as_str()).unwrap();
        assert_eq!((entry["withheld"].as_bool(), entry["description"].as_str(), entry["counterpart"].as_str()), (Some(true), Some(MASK), Some(MASK)), "{entry}");
        assert!(entry["file"].is_null());
        let api_file = http_json(addr, "GET", &format!("/api/v1/documents/{}/file", kansli_encode(&secret.number)), &[("Authorization", &bearer)], None).await;
        assert_eq!(api_file.status, 403, "{}", api_file.body);

        // The handläggare gives Sara access on the ärende page; she reads it; access taken away.
        let page = http(addr, CASE_PATH, &amira, None).await;
        assert!(page.body.contains("Åtkomst till sekretessmarkerade handlingar"), "{}", page.body);
        let csrf = page.body.split("name=\"csrf_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        // Sara cannot give herself access.
        let sara_csrf = http(addr, "/konto", &sara, None).await.body.split("name=\"csrf_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let own = http(addr, "/arende/atkomst", &sara, Some(&[("csrf_token", &sara_csrf), ("nummer", CASE), ("person", "sara.nyqvist"), ("atgard", "ge")])).await;
        assert_eq!(own.status, 403);
        let grant = http(addr, "/arende/atkomst", &amira, Some(&[("csrf_token", &csrf), ("nummer", CASE), ("person", "sara.nyqvist"), ("atgard", "ge")])).await;
        assert_eq!(grant.status, 200, "{}", grant.body);
        assert!(grant.body.contains("Sara Nyqvist (sara.nyqvist)"), "{}", grant.body);
        assert_eq!(http(addr, &file_path, &sara, None).await.status, 200);
        let revoke = http(addr, "/arende/atkomst", &amira, Some(&[("csrf_token", &csrf), ("nummer", CASE), ("person", "sara.nyqvist"), ("atgard", "ta-bort")])).await;
        assert_eq!(revoke.status, 200, "{}", revoke.body);
        assert_eq!(http(addr, &file_path, &sara, None).await.status, 403);
        let changes: Vec<String> = kansli.case_history(CASE).await.unwrap().into_iter()
            .filter(|h| h.action.starts_with("åtkomst till sekretessmarkerade"))
            .map(|h| format!("{}: {} {}", h.actor, h.action, h.detail.unwrap_or_default()))
            .collect();
        assert_eq!(changes, [
            "amira: åtkomst till sekretessmarkerade handlingar given sara.nyqvist",
            "amira: åtkomst till sekretessmarkerade handlingar återtagen sara.nyqvist",
        ]);
    }

    async fn the_organisation_file_takes_only_web_addresses(db) {
        let (kansli, _clock) = db.app(crate::helpers::day(10, 1)).await;
        let demo = kansli::service::DEMO_ORGANISATION;
        assert!(demo.contains("website = \"https://"), "the demo has a website");
        for bad in ["javascript:alert(1)", "data:text/html,<script>x</script>", "https://a\" onclick=\"x", "//evil.example", "ftp://files.example"] {
            let text = demo.replacen("website = \"https://", &format!("website = \"{}\" # was https://", bad.replace('"', "\\\"")), 1);
            let err = kansli.import_organisation("kommun.toml", &text).await.unwrap_err().to_string();
            assert!(err.contains("kommun.toml:") && err.contains("website") && err.contains("https://"), "{bad}: {err}");
        }
        kansli.import_organisation("kommun.toml", demo).await.unwrap();
    }

    async fn metrics_answer_this_machine_or_the_token(db) {
        let site = site_with(db, Protection {
            trusted_proxies: vec![localhost()],
            metrics_token: Some("skrapans-hemlighet".into()),
            ..Protection::default()
        }).await;
        let addr = site.addr;
        let get = |headers: Vec<(&'static str, &'static str)>| async move {
            http_json(addr, "GET", "/metrics", &headers, None).await.status
        };
        assert_eq!(get(vec![]).await, 200, "this machine");
        assert_eq!(get(vec![("X-Forwarded-For", "203.0.113.4")]).await, 403, "a stranger through the proxy");
        assert_eq!(get(vec![("X-Forwarded-For", "203.0.113.4"), ("Authorization", "Bearer fel")]).await, 403);
        assert_eq!(get(vec![("X-Forwarded-For", "203.0.113.4"), ("Authorization", "Bearer skrapans-hemlighet")]).await, 200);
    }
}

/// The database, the links' secret and the emails written to a folder are the owner's only.
#[cfg(unix)]
#[tokio::test]
async fn database_secret_and_mail_files_are_the_owners_only() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    let db = root.path().join("var/kansli.db");
    let store = kansli::store::Store::connect(&format!("sqlite://{}", db.display()), 2)
        .await
        .unwrap();
    store.migrate().await.unwrap();
    assert_eq!(mode(&db), 0o600);
    assert_eq!(mode(&root.path().join("var")), 0o700);
    for wal in ["var/kansli.db-wal", "var/kansli.db-shm"] {
        let path = root.path().join(wal);
        if path.exists() {
            assert_eq!(mode(&path), 0o600, "{wal}");
        }
    }
    let secret = root.path().join("hemligt/secret");
    kansli::service::links::LinkSecret::load_or_create(&secret).unwrap();
    assert_eq!(mode(&secret), 0o600);
    assert_eq!(mode(&root.path().join("hemligt")), 0o700);
    let mail = root.path().join("mail");
    let mailer = kansli::mail::FileMailer::new(&mail);
    let address = |email: &str| kansli::mail::Address {
        name: String::new(),
        email: email.into(),
    };
    kansli::mail::Mailer::send(
        &mailer,
        &kansli::mail::OutgoingMessage {
            message_id: "<1.kansli@norrvika.example>".into(),
            from: address("kansli@norrvika.example"),
            reply_to: None,
            to: address("chef@norrvika.example"),
            subject: "Enkät".into(),
            text: "Din personliga länk: http://127.0.0.1:8080/enkat/abc".into(),
            html: "<p>Länk</p>".into(),
            attachments: Vec::new(),
        },
    )
    .await
    .unwrap();
    assert_eq!(mode(&mail), 0o700);
    let written: Vec<_> = std::fs::read_dir(&mail)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(written.len(), 1);
    assert_eq!(mode(&written[0]), 0o600);
}
