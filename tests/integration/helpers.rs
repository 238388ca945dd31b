//! Test databases and an app over them.

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};
use kansli::clock::ManualClock;
use kansli::service::{Actor, Kansli, OpenCase};
use kansli::store::{Store, scratch};

/// A database of a test's own, dropped at the end.
pub struct TestDb {
    pub url: String,
    server: Option<String>,
    _dir: Option<tempfile::TempDir>,
}

/// Which backend a test runs on.
#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl TestDb {
    pub async fn new(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("kansli.db").display());
                Self {
                    url,
                    server: None,
                    _dir: Some(dir),
                }
            }
            Backend::Postgres => {
                let server = std::env::var("TEST_DATABASE_URL").expect(
                    "TEST_DATABASE_URL must name a PostgreSQL server for the postgres tests, \
                     e.g. postgres://postgres@127.0.0.1:5432/test",
                );
                let url = scratch::create_postgres_database(&server, "kansli_t")
                    .await
                    .expect("create a scratch PostgreSQL database");
                Self {
                    url,
                    server: Some(server),
                    _dir: None,
                }
            }
        }
    }

    /// The backend this database is on.
    pub fn backend(&self) -> Backend {
        match self.server {
            Some(_) => Backend::Postgres,
            None => Backend::Sqlite,
        }
    }

    pub async fn store(&self, connections: u32) -> Store {
        let store = Store::connect(&self.url, connections)
            .await
            .expect("connect");
        store.migrate().await.expect("migrate");
        store
    }

    /// The services over this database, with the demo organisation and a clock standing at
    /// `at`.
    pub async fn app(&self, at: DateTime<Utc>) -> (Kansli, ManualClock) {
        let clock = ManualClock::new(at);
        let kansli = Kansli::new(self.store(10).await, Arc::new(clock.clone()));
        kansli
            .import_organisation("demo", kansli::service::DEMO_ORGANISATION)
            .await
            .expect("demo organisation imports");
        (kansli, clock)
    }

    pub async fn finish(self) {
        if let Some(server) = &self.server {
            scratch::drop_postgres_database(server, &self.url)
                .await
                .expect("drop the scratch database");
        }
    }
}

/// `h` o'clock on a day, Europe/Stockholm.
pub fn local(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    use chrono::TimeZone;
    chrono_tz::Europe::Stockholm
        .with_ymd_and_hms(y, m, d, h, 0, 0)
        .unwrap()
        .with_timezone(&Utc)
}

/// A calendar day.
pub fn date(y: i32, m: u32, d: u32) -> chrono::NaiveDate {
    chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap()
}

/// Copies a folder and everything in it.
pub fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// An inkommande handling from Barn- och utbildningsförvaltningen, received 4 March 2026.
pub fn incoming(description: &str) -> kansli::service::NewDocumentInput {
    kansli::service::NewDocumentInput {
        date: date(2026, 3, 4),
        direction: kansli::domain::document::Direction::Incoming,
        counterpart: Some("Barn- och utbildningsförvaltningen".into()),
        counterpart_protected: false,
        description: description.into(),
        description_protected: false,
        secrecy: None,
        file: None,
    }
}

/// Noon on a day in 2026, UTC.
pub fn day(month: u32, day: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, month, day, 11, 0, 0).unwrap()
}

pub fn actor() -> Actor {
    Actor::new("test:registrator")
}

pub fn open(series: &str, title: &str) -> OpenCase {
    OpenCase {
        series: series.into(),
        title: title.into(),
        ..Default::default()
    }
}

/// Declares each test twice: `name::sqlite` and `name::postgres` (ignored unless asked for).
#[macro_export]
macro_rules! on_both_backends {
    ($(async fn $name:ident($db:ident) $body:block)*) => {$(
        mod $name {
            #[allow(unused_imports)]
            use super::*;

            async fn body($db: &$crate::helpers::TestDb) $body

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn sqlite() {
                let db = $crate::helpers::TestDb::new($crate::helpers::Backend::Sqlite).await;
                body(&db).await;
                db.finish().await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            #[ignore = "PostgreSQL: set TEST_DATABASE_URL and run with --ignored (.ci/run does)"]
            async fn postgres() {
                let db = $crate::helpers::TestDb::new($crate::helpers::Backend::Postgres).await;
                body(&db).await;
                db.finish().await;
            }
        }
    )*};
}

/// A response read whole: the status, the header block and the body as text.
pub struct Reply {
    pub status: u16,
    pub head: String,
    pub body: String,
}

impl Reply {
    /// The value a `Set-Cookie` header gives the cookie `name`, if any.
    pub fn set_cookie(&self, name: &str) -> Option<String> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            if !key.eq_ignore_ascii_case("set-cookie") {
                return None;
            }
            let (cookie, _) = value.trim().split_once(';').unwrap_or((value.trim(), ""));
            let (k, v) = cookie.split_once('=')?;
            (k == name).then(|| v.to_owned())
        })
    }

    /// The `Location` header.
    pub fn location(&self) -> Option<&str> {
        self.header("location")
    }
}

/// A plain HTTP/1.1 GET over a real socket: the status and the body as text.
pub async fn http_get(addr: std::net::SocketAddr, path: &str) -> (u16, String) {
    let reply = http(addr, path, "", None).await;
    (reply.status, reply.body)
}

/// A plain HTTP/1.1 form POST over a real socket: the status and the body as text.
pub async fn http_post(
    addr: std::net::SocketAddr,
    path: &str,
    pairs: &[(&str, &str)],
) -> (u16, String) {
    let reply = http(addr, path, "", Some(pairs)).await;
    (reply.status, reply.body)
}

/// An HTTP/1.1 request over a real socket with a `Cookie` header (empty for none): a GET, or
/// a form POST when `form` is given.
pub async fn http(
    addr: std::net::SocketAddr,
    path: &str,
    cookies: &str,
    form: Option<&[(&str, &str)]>,
) -> Reply {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                    (b as char).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    let cookie = match cookies {
        "" => String::new(),
        c => format!("Cookie: {c}\r\n"),
    };
    let request = match form {
        None => format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\n{cookie}Connection: close\r\n\r\n"),
        Some(pairs) => {
            let body = pairs
                .iter()
                .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
                .collect::<Vec<_>>()
                .join("&");
            format!(
                "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{cookie}Connection: close\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{body}",
                body.len()
            )
        }
    };
    exchange(addr, request.as_bytes()).await
}

/// Sends `request` as it is (its head and body written out by the caller) and reads the whole
/// answer.
pub async fn http_raw(addr: std::net::SocketAddr, request: &str) -> Reply {
    exchange(addr, request.as_bytes()).await
}

/// Sends a whole request and reads the whole answer (the server closes the connection).
async fn exchange(addr: std::net::SocketAddr, request: &[u8]) -> Reply {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(request).await.expect("send");
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).await.expect("read");
    // A binary body (a PDF) is read lossily: tests look at its headers.
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").expect("a header block");
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("status");
    let chunked = head
        .to_ascii_lowercase()
        .contains("transfer-encoding: chunked");
    Reply {
        status,
        head: head.to_owned(),
        body: if chunked {
            dechunk(body)
        } else {
            body.to_owned()
        },
    }
}

/// A request to the JSON API over a real socket: `method` on `path` with extra `headers` and
/// an optional body, sent as JSON unless `headers` name another Content-Type.
pub async fn http_json(
    addr: std::net::SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    json: Option<&str>,
) -> Reply {
    let mut request = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        request.push_str(&format!("{k}: {v}\r\n"));
    }
    let body = json.unwrap_or_default();
    if json.is_some() {
        if !headers
            .iter()
            .any(|(k, _)| k.eq_ignore_ascii_case("content-type"))
        {
            request.push_str("Content-Type: application/json\r\n");
        }
        request.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    request.push_str("\r\n");
    request.push_str(body);
    exchange(addr, request.as_bytes()).await
}

impl Reply {
    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// A header's value.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

/// A multipart/form-data POST over a real socket: text fields and one file field `fil`.
pub async fn http_upload(
    addr: std::net::SocketAddr,
    path: &str,
    cookies: &str,
    fields: &[(&str, &str)],
    file: (&str, &[u8]),
) -> Reply {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    // The pages' upload forms repeat their CSRF token in their address, as here.
    let path = match fields.iter().find(|(k, _)| *k == "csrf_token") {
        Some((_, token)) => format!("{path}?csrf={token}"),
        None => path.to_owned(),
    };
    let boundary = "kansli-test-boundary-7f3a";
    let mut body = Vec::new();
    for (k, v) in fields {
        body.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"fil\"; filename=\"{}\"\r\nContent-Type: application/octet-stream\r\n\r\n", file.0).as_bytes());
    body.extend(file.1);
    body.extend(format!("\r\n--{boundary}--\r\n").as_bytes());
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookies}\r\nConnection: close\r\nContent-Type: multipart/form-data; boundary={boundary}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
    stream.write_all(head.as_bytes()).await.expect("send");
    // The server may answer (413) and close before it has read a body over the limit.
    let _ = stream.write_all(&body).await;
    let mut raw = Vec::new();
    let _ = stream.read_to_end(&mut raw).await;
    let text = String::from_utf8_lossy(&raw).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    Reply {
        status: head
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let size = usize::from_str_radix(size.trim(), 16).expect("chunk size");
        if size == 0 {
            break;
        }
        out.push_str(&rest[..size]);
        body = &rest[size + 2..];
    }
    out
}

/// Checks once that qpdf and poppler-utils are there: `scripts/test` installs them when they
/// are missing. Without them the PDF checks fail, with the reason, rather than being skipped.
#[cfg(feature = "pdf")]
fn ensure_pdf_tools() {
    static READY: std::sync::OnceLock<Vec<&'static str>> = std::sync::OnceLock::new();
    let missing = READY.get_or_init(|| {
        ["qpdf", "pdftotext", "pdffonts"]
            .into_iter()
            .filter(|tool| std::process::Command::new(tool).arg("-v").output().is_err())
            .collect()
    });
    assert!(
        missing.is_empty(),
        "the PDF checks need {} (qpdf, poppler-utils); run the tests with scripts/test, which installs them",
        missing.join(", ")
    );
}

/// Runs a PDF tool of qpdf or poppler-utils on `pdf`; its standard output.
#[cfg(feature = "pdf")]
pub fn pdf_tool(tool: &str, args: &[&str], pdf: &[u8]) -> String {
    ensure_pdf_tools();
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("document.pdf");
    std::fs::write(&path, pdf).expect("write the PDF");
    let out = std::process::Command::new(tool)
        .args(args)
        .arg(&path)
        .args(if tool == "pdftotext" {
            &["-"][..]
        } else {
            &[][..]
        })
        .output()
        .unwrap_or_else(|e| {
            panic!("{tool} is needed for the PDF checks; run the tests with scripts/test: {e}")
        });
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{tool} {args:?} failed: {}{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

/// A registered document's text: the PDF's through pdftotext, or the HTML as it is.
pub fn document_text(content: Vec<u8>) -> String {
    #[cfg(feature = "pdf")]
    if content.starts_with(b"%PDF-") {
        return pdf_tool("pdftotext", &["-layout"], &content);
    }
    String::from_utf8(content).expect("an HTML document is UTF-8")
}

/// Every required answer of the 2026 questionnaire.
pub fn complete() -> Vec<(&'static str, &'static str)> {
    let mut v = vec![
        ("A2.totalt", "120"),
        ("A2.kvinnor", "80"),
        ("A2.man", "40"),
        ("A3", "Förvaltningens HR-chef"),
        ("B3", "0"),
        ("D3.kvinnor", "6"),
        ("D3.man", "4"),
        ("E2", "3"),
    ];
    for q in [
        "B1", "B2", "C1", "C2", "D1", "D2", "E1", "F1", "F2", "G1", "G2", "G3", "H1",
    ] {
        v.push((q, "ja"));
    }
    v.extend([
        ("J1.0.atgard", "Utbildning i aktiva åtgärder för chefer"),
        ("J1.0.omrade", "arbetsförhållanden"),
        ("J1.0.ansvarig", "HR-chef"),
        ("J1.0.klart", "2027-06-30"),
    ]);
    v
}

/// A meeting planned and held: every ledamot of the organ on the day serves, and the first
/// who is not one of the usual justerare (Eva Ek, Olle Ås) is ordförande.
pub async fn held_meeting(
    engine: &kansli::service::Engine,
    organ: &str,
    date: chrono::NaiveDate,
    place: &str,
    actor: &Actor,
) -> kansli::store::MeetingRow {
    let meeting = engine
        .create_meeting(organ, date, place, actor)
        .await
        .unwrap();
    hold(engine, meeting.id, actor).await;
    meeting
}

/// Records every ledamot of the meeting's organ as present, with an ordförande who is not one
/// of the usual justerare; returns the ordförande.
pub async fn hold(engine: &kansli::service::Engine, meeting: i32, actor: &Actor) -> String {
    let view = engine.meeting_view(meeting).await.unwrap();
    let org = engine.kansli().store().org_snapshot().await.unwrap();
    let date = chrono::NaiveDate::parse_from_str(&view.date, "%Y-%m-%d").unwrap();
    let chair = org
        .members_on(&view.organ_code, date)
        .into_iter()
        .find(|m| m.seat == "ledamot" && m.name != "Eva Ek" && m.name != "Olle Ås")
        .expect("the organ has ledamöter")
        .name
        .clone();
    let input = kansli::service::AttendanceInput {
        chair: chair.clone(),
        secretary: Some("Sara Nyqvist".into()),
        ..Default::default()
    };
    engine
        .record_attendance(meeting, &input, actor)
        .await
        .unwrap();
    chair
}
