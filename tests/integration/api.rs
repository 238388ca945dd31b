//! The JSON API over real HTTP: tokens and roles on every route, problem+json errors,
//! idempotency keys, handlingar in and out as base64, and an OpenAPI document that names
//! exactly the routes that answer.

use std::net::SocketAddr;

use serde_json::{Value, json};

use crate::helpers::{Reply, http, http_json};
use crate::on_both_backends;
use crate::staff::{Site, log_in, site};

const CASE: &str = "KS%202026%2F1";

/// Accounts with an API token each: chef, handläggare, registrator, sekreterare, admin.
async fn tokens(site: &Site) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    for (user, person, admin) in [
        ("tobias", "tobias.frank", false),
        ("amira-api", "amira.hadzic", false),
        ("per", "per.ekdahl", false),
        ("sara-api", "sara.nyqvist", false),
        ("mikael", "mikael.aro", true),
    ] {
        site.kansli
            .add_account(user, person, "ett-långt-lösenord", admin)
            .await
            .unwrap();
        let (_, token) = site
            .kansli
            .create_api_token(user, "test", None)
            .await
            .unwrap();
        out.push((user, token));
    }
    out
}

async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&Value>,
) -> Reply {
    let auth = format!("Bearer {token}");
    let headers: Vec<(&str, &str)> = match token {
        "" => vec![],
        _ => vec![("Authorization", auth.as_str())],
    };
    let body = body.map(Value::to_string);
    http_json(
        addr,
        method,
        &format!("/api/v1{path}"),
        &headers,
        body.as_deref(),
    )
    .await
}

/// A problem+json answer with `status`, whose detail is returned.
fn problem(reply: &Reply, status: u16) -> String {
    assert_eq!(reply.status, status, "{}\n{}", reply.head, reply.body);
    assert_eq!(
        reply.header("content-type"),
        Some("application/problem+json"),
        "{}",
        reply.head
    );
    let body = reply.json();
    assert_eq!(body["status"], status, "{body}");
    assert!(
        body["title"].is_string() && body["type"].is_string(),
        "{body}"
    );
    body["detail"].as_str().unwrap().to_owned()
}

on_both_backends! {
    async fn every_api_route_wants_a_live_token_and_answers_each_role_as_the_table_says(db) {
        let site = site(db).await;
        let addr = site.addr;
        let tokens = tokens(&site).await;
        let new_case = json!({"series": "KS", "title": "Skrivelse om lokaler"});
        let event = json!({"event": "sammanstall"});
        let document = json!({"direction": "internal", "date": "2026-10-02", "description": "Minnesanteckning"});
        // Per route, the status for: no token, chef, handläggare, registrator, sekreterare, admin.
        let table: Vec<(&str, String, Option<&Value>, [u16; 6])> = vec![
            ("GET", "/me".into(), None, [401, 200, 200, 200, 200, 200]),
            ("GET", "/cases?q=aktiva".into(), None, [401, 403, 200, 200, 200, 200]),
            ("GET", format!("/cases/{CASE}"), None, [401, 403, 200, 200, 200, 200]),
            ("GET", format!("/cases/{CASE}/history"), None, [401, 403, 200, 200, 200, 200]),
            ("GET", format!("/cases/{CASE}/workflow"), None, [401, 403, 200, 200, 200, 200]),
            ("GET", "/inbox".into(), None, [401, 200, 200, 200, 200, 200]),
            ("POST", "/cases".into(), Some(&new_case), [401, 403, 403, 201, 403, 201]),
            // Only the handläggare's role may compile (the chef, before her, is refused); after
            // her the state has moved on, and the step is a conflict for anyone.
            ("POST", format!("/cases/{CASE}/events"), Some(&event), [401, 403, 200, 409, 409, 409]),
            ("POST", format!("/cases/{CASE}/documents"), Some(&document), [401, 403, 201, 201, 403, 201]),
            ("GET", format!("/documents/{CASE}%3A1/file"), None, [401, 403, 200, 200, 200, 200]),
            ("GET", "/postlista".into(), None, [200, 200, 200, 200, 200, 200]),
            ("GET", "/openapi.json".into(), None, [200, 200, 200, 200, 200, 200]),
        ];
        let mut callers = vec![("no token", String::new())];
        callers.extend(tokens.iter().map(|(u, t)| (*u, t.clone())));
        for (method, route, body, expected) in &table {
            for ((who, token), want) in callers.iter().zip(expected) {
                let reply = call(addr, method, route, token, *body).await;
                assert_eq!(reply.status, *want, "{who}: {method} {route}: {}", reply.body);
                match reply.status {
                    401 => {
                        problem(&reply, 401);
                        assert_eq!(reply.header("www-authenticate"), Some("Bearer realm=\"kansli\""));
                    }
                    403 => {
                        let detail = problem(&reply, 403);
                        assert!(!reply.body.contains("KS 2026/1"), "{who}: {route}: a refusal shows nothing: {detail}");
                    }
                    _ => {}
                }
            }
        }
        // The inbox names each step by its code and its Swedish label, in the same order.
        let inbox = call(addr, "GET", "/inbox", &tokens[1].1, None).await.json();
        let root = inbox.as_array().unwrap().iter().find(|i| i["unit"].is_null()).expect("the ärende's own step");
        let (events, labels) = (root["events"].as_array().unwrap(), root["labels"].as_array().unwrap());
        let at = events.iter().position(|e| e == "avbryt").expect("avbryt");
        assert_eq!((events.len(), labels[at].as_str()), (labels.len(), Some("Avbryt uppföljningen")), "{root}");
        // The OpenAPI document names exactly the routes of the table.
        let doc = call(addr, "GET", "/openapi.json", "", None).await.json();
        assert_eq!(doc["openapi"], "3.1.0");
        let mut documented: Vec<String> = doc["paths"].as_object().unwrap().iter()
            .flat_map(|(path, ops)| ops.as_object().unwrap().keys().map(move |m| format!("{} {path}", m.to_uppercase())))
            .collect();
        let mut tested: Vec<String> = table.iter().map(|(m, r, _, _)| {
            let path = r.split('?').next().unwrap()
                .replace(&format!("{CASE}%3A1"), "{number}")
                .replace(CASE, "{number}");
            format!("{m} {path}")
        }).collect();
        documented.sort();
        tested.sort();
        assert_eq!(documented, tested);
        // A wrong, a revoked and a session token are no keys.
        let (_, amira) = &tokens[1];
        assert_eq!(call(addr, "GET", "/me", "kansli_0000", None).await.status, 401);
        let id = site.kansli.api_tokens("amira-api").await.unwrap()[0].id;
        site.kansli.revoke_api_token("amira-api", id).await.unwrap();
        problem(&call(addr, "GET", "/me", amira, None).await, 401);
        let session = site.kansli.open_session(&site.kansli.store().account_by_username("per").await.unwrap().unwrap()).await.unwrap();
        problem(&call(addr, "GET", "/me", &session.token, None).await, 401);
        // Unknown routes and methods answer as problems too.
        problem(&call(addr, "GET", "/nothing", &tokens[4].1, None).await, 404);
        problem(&call(addr, "DELETE", "/cases", &tokens[4].1, None).await, 405);
    }

    async fn a_repeated_idempotency_key_answers_again_and_does_nothing_twice(db) {
        let site = site(db).await;
        let addr = site.addr;
        let tokens = tokens(&site).await;
        let (registrator, handlaggare) = (&tokens[2].1, &tokens[1].1);
        let post = |token: &str, path: &str, key: &str, body: Value| {
            let (token, path, key) = (format!("Bearer {token}"), format!("/api/v1{path}"), key.to_owned());
            async move {
                http_json(addr, "POST", &path, &[("Authorization", &token), ("Idempotency-Key", &key)], Some(&body.to_string())).await
            }
        };
        let body = json!({"series": "KS", "title": "Medborgarförslag om cykelbana"});
        let first = post(registrator, "/cases", "k-1", body.clone()).await;
        assert_eq!(first.status, 201, "{}", first.body);
        let number = first.json()["number"].as_str().unwrap().to_owned();
        assert_eq!(first.location(), Some(format!("/api/v1/cases/{}", number.replace(' ', "%20").replace('/', "%2F")).as_str()));
        let again = post(registrator, "/cases", "k-1", body.clone()).await;
        assert_eq!((again.status, again.json()), (201, first.json()));
        assert_eq!(again.header("idempotent-replayed"), Some("true"));
        assert_eq!(again.location(), first.location(), "a replayed 201 says where, as the first did");
        let found = call(addr, "GET", "/cases?q=cykelbana", registrator, None).await.json();
        assert_eq!(found["items"].as_array().unwrap().len(), 1, "one ärende, not two: {found}");
        // The same key for another request is refused; a new key is a new ärende.
        let detail = problem(&post(registrator, "/cases", "k-1", json!({"series": "KS", "title": "Annat"})).await, 422);
        assert!(detail.contains("different request"), "{detail}");
        let other = post(registrator, "/cases", "k-2", body.clone()).await;
        assert!(other.status == 201 && other.json()["number"] != number, "{}", other.body);
        // Keys are the account's own: another account's k-1 is its own first request.
        let theirs = post(&tokens[4].1, "/cases", "k-1", body.clone()).await;
        assert_eq!(theirs.status, 201, "{}", theirs.body);
        assert!(theirs.header("idempotent-replayed").is_none());
        // A workflow step: done once, answered twice; without the key the repeat is a conflict.
        let step = post(handlaggare, &format!("/cases/{CASE}/events"), "steg-1", json!({"event": "sammanstall"})).await;
        assert_eq!(step.json(), json!({"outcome": "applied", "from": "insamling", "to": "sammanstallning"}));
        let repeat = post(handlaggare, &format!("/cases/{CASE}/events"), "steg-1", json!({"event": "sammanstall"})).await;
        assert_eq!((repeat.status, repeat.json()), (200, step.json()));
        let history = call(addr, "GET", &format!("/cases/{CASE}/history"), handlaggare, None).await.json();
        let compiled = history.as_array().unwrap().iter().filter(|h| h["to_state"] == "sammanstallning").count();
        assert_eq!(compiled, 1, "{history}");
        let bare = call(addr, "POST", &format!("/cases/{CASE}/events"), handlaggare, Some(&json!({"event": "sammanstall"}))).await;
        problem(&bare, 409);
        // A key that is no key.
        problem(&post(registrator, "/cases", &"x".repeat(300), body).await, 422);
    }

    async fn handlingar_go_in_as_base64_and_come_out_as_they_went_in(db) {
        let site = site(db).await;
        let addr = site.addr;
        let tokens = tokens(&site).await;
        let registrator = &tokens[2].1;
        let path = format!("/cases/{CASE}/documents");
        let pdf = b"%PDF-1.7\n% a letter from a citizen\n";
        use base64::Engine as _;
        let encoded = base64::engine::general_purpose::STANDARD.encode(pdf);
        let document = json!({
            "direction": "incoming", "date": "2026-10-01", "counterpart": "Anna Andersson",
            "description": "Skrivelse om skolskjuts", "file": {"name": "skrivelse.pdf", "content_base64": encoded},
        });
        let made = call(addr, "POST", &path, registrator, Some(&document)).await;
        assert_eq!(made.status, 201, "{}", made.body);
        let made = made.json();
        assert_eq!((made["number"].as_str(), made["direction"].as_str()), (Some("KS 2026/1:1"), Some("incoming")));
        assert_eq!(made["file"]["media_type"], "application/pdf");
        let file = call(addr, "GET", &format!("/documents/{CASE}%3A1/file"), registrator, None).await;
        assert_eq!((file.status, file.body.as_bytes()), (200, pdf.as_slice()));
        assert_eq!(file.header("x-content-type-options"), Some("nosniff"));
        // What is refused, and why; nothing of it is registered.
        let lying = json!({"direction": "incoming", "date": "2026-10-01", "description": "Lögn",
            "file": {"name": "svar.pdf", "content_base64": base64::engine::general_purpose::STANDARD.encode(b"MZ\x90\x00 a program")}});
        assert!(problem(&call(addr, "POST", &path, registrator, Some(&lying)).await, 422).contains("not what the name says"));
        let not_base64 = json!({"direction": "incoming", "date": "2026-10-01", "description": "x", "file": {"name": "a.txt", "content_base64": "***"}});
        assert!(problem(&call(addr, "POST", &path, registrator, Some(&not_base64)).await, 422).contains("content_base64"));
        let unknown_field = json!({"direction": "incoming", "date": "2026-10-01", "description": "x", "secret": true});
        assert!(problem(&call(addr, "POST", &path, registrator, Some(&unknown_field)).await, 422).contains("secret"));
        let bad_date = json!({"direction": "incoming", "date": "2026-02-30", "description": "x"});
        problem(&call(addr, "POST", &path, registrator, Some(&bad_date)).await, 422);
        let auth = format!("Bearer {registrator}");
        let broken = http_json(addr, "POST", &format!("/api/v1{path}"), &[("Authorization", &auth)], Some("{\"direction\":")).await;
        problem(&broken, 400);
        let form = http_json(addr, "POST", &format!("/api/v1{path}"), &[("Authorization", &auth), ("Content-Type", "text/plain")], Some("{}")).await;
        problem(&form, 415);
        let case = call(addr, "GET", &format!("/cases/{CASE}"), registrator, None).await.json();
        assert_eq!(case["documents"].as_array().unwrap().len(), 1, "{case}");
        // A handling that brings a workflow step: both in one transaction, or neither.
        let handlaggare = &tokens[1].1;
        let refused = json!({"direction": "internal", "date": "2026-10-02", "description": "Anteckning", "event": "tjansteskrivelse_klar"});
        problem(&call(addr, "POST", &path, handlaggare, Some(&refused)).await, 409);
        let case = call(addr, "GET", &format!("/cases/{CASE}"), registrator, None).await.json();
        assert_eq!(case["documents"].as_array().unwrap().len(), 1, "a refused step registers nothing: {case}");
        let compiling = json!({"direction": "internal", "date": "2026-10-02", "description": "Anteckning om sammanställningen", "event": "sammanstall"});
        let made = call(addr, "POST", &path, handlaggare, Some(&compiling)).await;
        assert_eq!(made.status, 201, "{}", made.body);
        let made = made.json();
        assert_eq!((made["number"].as_str(), made["workflow"]["outcome"].as_str(), made["workflow"]["to"].as_str()), (Some("KS 2026/1:2"), Some("applied"), Some("sammanstallning")), "{made}");
        // Search: metacharacters are words like any other.
        for q in ["%27%20OR%201%3D1%20--", "%25", "%3Cscript%3E"] {
            let found = call(addr, "GET", &format!("/cases?q={q}"), registrator, None).await;
            assert_eq!((found.status, found.json()["items"].as_array().map(Vec::len)), (200, Some(0)), "{q}: {}", found.body);
        }
        let found = call(addr, "GET", "/cases?q=uppf%C3%B6ljning&series=KS&year=2026&status=open", registrator, None).await.json();
        assert_eq!(found["items"][0]["number"], "KS 2026/1", "{found}");
        problem(&call(addr, "GET", "/cases?status=pending", registrator, None).await, 400);
        problem(&call(addr, "GET", "/cases?per_page=1000", registrator, None).await, 422);
    }

    async fn a_step_the_state_or_the_roles_do_not_take_is_refused_in_the_engines_english(db) {
        let site = site(db).await;
        let addr = site.addr;
        let tokens = tokens(&site).await;
        let (handlaggare, registrator, admin) = (&tokens[1].1, &tokens[2].1, &tokens[4].1);
        let events = format!("/cases/{CASE}/events");
        let send = |token: &str, body: Value| {
            let (token, events) = (token.to_owned(), events.clone());
            async move { call(addr, "POST", &events, &token, Some(&body)).await }
        };
        let english = |detail: &str| {
            for swedish in ["går inte", "läget", "det som går nu", "Du har ingen roll", "får inte"] {
                assert!(!detail.contains(swedish), "the API speaks English, not {swedish:?}: {detail}");
            }
        };
        // A step the state does not take now: 409, saying what it does take, by code.
        let detail = problem(&send(handlaggare, json!({"event": "tjansteskrivelse_klar"})).await, 409);
        english(&detail);
        assert_eq!(detail, "event \"tjansteskrivelse_klar\" is not allowed in state insamling; allowed now: enkat_godkand, svarstid_ute, sammanstall, avbryt");
        // A step the state takes, but from none of the caller's roles: 403, saying who may.
        let detail = problem(&send(registrator, json!({"event": "sammanstall"})).await, 403);
        english(&detail);
        assert_eq!(detail, "registrator may not send \"sammanstall\" in state insamling; it may be sent by: handläggare");
        // The same in a förvaltning's instance, for the handläggare and the administrator alike.
        let detail = problem(&send(handlaggare, json!({"event": "svar_inskickat", "unit": "BUF"})).await, 403);
        english(&detail);
        assert_eq!(detail, "handläggare may not send \"svar_inskickat\" in state inbjuden; it may be sent by: chef");
        let detail = problem(&send(admin, json!({"event": "svar_inskickat", "unit": "BUF"})).await, 403);
        english(&detail);
        assert_eq!(detail, "administratör may not send \"svar_inskickat\" in state inbjuden; it may be sent by: chef");
        let detail = problem(&send(handlaggare, json!({"event": "godkann", "unit": "BUF"})).await, 409);
        english(&detail);
        assert!(detail.starts_with("event \"godkann\" is not allowed in state inbjuden; allowed now: "), "{detail}");
        // Nothing of it moved the ärende.
        let flow = call(addr, "GET", &format!("/cases/{CASE}/workflow"), handlaggare, None).await.json();
        let root = flow.as_array().unwrap().iter().find(|i| i["unit"].is_null()).unwrap();
        assert_eq!(root["state"], "insamling", "{flow}");
        // The page words the same refusal in Swedish, the step called what its button says.
        let session = format!("kansli_session={}", log_in(addr, "per", "ett-långt-lösenord", "").await);
        let page = http(addr, "/arende?nummer=KS%202026%2F1", &session, None).await;
        let csrf = page.body.split("name=\"csrf_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let refused = http(addr, "/arende/handelse", &session, Some(&[("csrf_token", &csrf), ("nummer", "KS 2026/1"), ("enhet", ""), ("handelse", "sammanstall")])).await;
        assert_eq!(refused.status, 403, "{}", refused.body);
        assert!(refused.body.contains("Din roll (registrator) får inte göra ”Sammanställ svaren nu” när ärendet är i läget ”insamling”. Det får handläggare."), "{}", refused.body);
        assert!(!refused.body.contains("may not send") && !refused.body.contains("\"sammanstall\""), "{}", refused.body);
        // A finished instance takes nothing, and says so as the engine does.
        let done = send(handlaggare, json!({"event": "avbryt"})).await;
        assert_eq!((done.status, done.json()["to"].as_str()), (200, Some("avbrutet")), "{}", done.body);
        let detail = problem(&send(handlaggare, json!({"event": "sammanstall"})).await, 409);
        english(&detail);
        assert_eq!(detail, "the instance is finished (state avbrutet) and takes no events");
    }
}

on_both_backends! {
    async fn a_user_makes_and_revokes_a_token_of_their_own_on_the_account_page(db) {
        let site = site(db).await;
        let addr = site.addr;
        let session = format!("kansli_session={}", log_in(addr, "amira", "ett-långt-lösenord", "").await);
        let page = http(addr, "/konto", &session, None).await;
        assert!(page.status == 200 && page.body.contains("Du har inga API-nycklar."), "{}", page.body);
        let csrf = page.body.split("name=\"csrf_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let wrong = http(addr, "/konto", &session, Some(&[("csrf_token", &csrf), ("atgard", "skapa"), ("namn", "intranätet"), ("dagar", "tusen")])).await;
        assert!(wrong.status == 400 && wrong.body.contains("Giltig i dagar"), "{}", wrong.body);
        assert_eq!(http(addr, "/konto", &session, Some(&[("atgard", "skapa"), ("namn", "x")])).await.status, 403, "no CSRF token, no key");
        let made = http(addr, "/konto", &session, Some(&[("csrf_token", &csrf), ("atgard", "skapa"), ("namn", "intranätet"), ("dagar", "30")])).await;
        assert_eq!(made.status, 200, "{}", made.body);
        let token = made.body.split("id=\"ny-nyckel\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let me = call(addr, "GET", "/me", &token, None).await;
        assert_eq!((me.status, me.json()["username"].as_str()), (200, Some("amira")), "{}", me.body);
        // The page lists it without showing it again.
        let listed = http(addr, "/konto", &session, None).await;
        assert!(listed.body.contains("intranätet") && !listed.body.contains(&token), "{}", listed.body);
        let id = site.kansli.api_tokens("amira").await.unwrap()[0].id.to_string();
        // Another user cannot revoke it.
        let oskar = format!("kansli_session={}", log_in(addr, "oskar", "ett-annat-lösenord", "").await);
        let their_page = http(addr, "/konto", &oskar, None).await;
        let their_csrf = their_page.body.split("name=\"csrf_token\" value=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
        let theirs = http(addr, "/konto", &oskar, Some(&[("csrf_token", &their_csrf), ("atgard", "aterkalla"), ("id", &id)])).await;
        assert_eq!(theirs.status, 404, "{}", theirs.body);
        assert_eq!(call(addr, "GET", "/me", &token, None).await.status, 200);
        let revoked = http(addr, "/konto", &session, Some(&[("csrf_token", &csrf), ("atgard", "aterkalla"), ("id", &id)])).await;
        assert!(revoked.status == 200 && revoked.body.contains("återkallad"), "{}", revoked.body);
        problem(&call(addr, "GET", "/me", &token, None).await, 401);
    }
}
