//! `kansli bench http`: the staff pages people wait on most, the ärende page and diarium
//! search, measured through the real router over HTTP/1.1 on loopback, over a diarium of
//! realistic size (the benchmark corpus), with many keep-alive connections at once.
//!
//! The server is `axum::serve` in this process on 127.0.0.1:0, with the pool size `serve` would
//! use. The load client is a few lines of HTTP/1.1 over tokio `TcpStream`s, one per connection,
//! each sending its next request when the last answer is read whole (closed loop), with the
//! registrator's session cookie. Client and server share the machine's cores, so the rates are
//! a floor for a server of its own. Any answer but 200 (or an ärende page without its number)
//! is an error: reported per row, loudly, and the command then fails.

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use crate::clock::SystemClock;
use crate::config::Settings;
use crate::service::{Corpus, Engine, Kansli};
use crate::store::Store;

/// `kansli bench http`
#[derive(Debug, clap::Args)]
pub struct HttpArgs {
    /// Ärenden in the diarium.
    #[arg(long, default_value_t = 100_000)]
    pub cases: usize,
    /// Keep-alive connections sending at once.
    #[arg(long, default_value_t = 64)]
    pub connections: usize,
    /// Seconds to measure each page, after a short warm-up.
    #[arg(long, default_value_t = 10)]
    pub seconds: u64,
    /// Also run on PostgreSQL: a server URL; a scratch database is created on it and dropped.
    #[arg(long, env = "TEST_DATABASE_URL", value_name = "URL")]
    pub postgres: Option<String>,
}

/// The demo registrator, who reads the diarium.
const USER: &str = "per.ekdahl";
const WARM_UP: Duration = Duration::from_secs(2);
const SESSION_COOKIE: &str = "kansli_session";

/// What is asked for.
#[derive(Debug, Clone, Copy)]
enum Operation {
    /// `GET /arende?nummer=...`, a random ärende.
    CasePage,
    /// `GET /arenden`: the diarium's first page, the newest ärenden.
    Newest,
    /// `GET /arenden?q=...`, one or two words from the titles.
    SearchWords,
    /// `GET /arenden?serie=KS&ar=2024`: a series' year, by the search form's fields.
    SearchSeriesYear,
}

impl Operation {
    const ALL: [Operation; 4] = [
        Operation::CasePage,
        Operation::Newest,
        Operation::SearchWords,
        Operation::SearchSeriesYear,
    ];

    fn label(self) -> &'static str {
        match self {
            Operation::CasePage => "ärende page",
            Operation::Newest => "diarium, newest",
            Operation::SearchWords => "search, words",
            Operation::SearchSeriesYear => "search, series+year",
        }
    }

    /// A request path, and text the answer must contain.
    fn request(self, corpus: &Corpus) -> (String, Option<String>) {
        let enc = |t: &str| crate::http::percent_encode(t, &[]);
        match self {
            Operation::CasePage => {
                let number = pick(&corpus.numbers);
                (
                    format!("/arende?nummer={}", enc(number)),
                    Some(number.clone()),
                )
            }
            Operation::Newest => ("/arenden".into(), None),
            Operation::SearchWords => {
                let q = pick(&corpus.searches);
                (format!("/arenden?q={}", enc(q)), None)
            }
            Operation::SearchSeriesYear => {
                let (series, year) = pick(&corpus.series_years)
                    .split_once(' ')
                    .expect("a series year is written \"KS 2024\"");
                (format!("/arenden?serie={}&ar={year}", enc(series)), None)
            }
        }
    }
}

pub(super) async fn run(args: HttpArgs, settings: &Settings) -> anyhow::Result<()> {
    anyhow::ensure!(
        args.cases > 0 && args.connections > 0 && args.seconds > 0,
        "--cases, --connections and --seconds must be at least 1"
    );
    println!(
        "{:<20} {:<9} {:>5} {:>11} {:>9} {:>9} {:>7}",
        "operation", "backend", "conns", "requests/s", "p50 ms", "p99 ms", "errors"
    );
    let failed = Arc::new(AtomicU64::new(0));
    super::on_backends(
        args.postgres.as_deref(),
        &[args.connections],
        |name, url, connections| {
            let failed = failed.clone();
            let args = &args;
            async move { measure(name, &url, connections, args, settings, &failed).await }
        },
    )
    .await?;
    let failed = failed.load(Ordering::Relaxed);
    anyhow::ensure!(
        failed == 0,
        "{failed} requests failed (see the !!! lines above): these numbers are not valid"
    );
    Ok(())
}

async fn measure(
    name: &str,
    url: &str,
    connections: usize,
    args: &HttpArgs,
    settings: &Settings,
    failed: &AtomicU64,
) -> anyhow::Result<()> {
    let store = Store::connect(url, settings.database.max_connections).await?;
    store.migrate().await?;
    let kansli = Kansli::new(store.clone(), Arc::new(SystemClock));
    kansli
        .import_organisation("demo", crate::service::DEMO_ORGANISATION)
        .await?;
    let started = Instant::now();
    let corpus = Arc::new(kansli.write_bench_corpus(args.cases).await?);
    eprintln!(
        "{name}: {} ärenden written in {:.1} s",
        args.cases,
        started.elapsed().as_secs_f64()
    );
    // A real session, opened as the login handler opens one once the password is checked.
    let account = kansli
        .add_account("bench", USER, "bench-password", false)
        .await?;
    let cookie = format!(
        "{SESSION_COOKIE}={}",
        kansli.open_session(&account).await?.token
    );

    let catalog = crate::app::catalog(settings).map_err(|problems| {
        let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
        anyhow::anyhow!("the workflows have problems:\n{}", lines.join("\n"))
    })?;
    let engine = Engine::new(kansli.clone(), Arc::new(catalog), "bench");
    let app = crate::http::router_with_engine(kansli, engine)
        .into_make_service_with_connect_info::<SocketAddr>();
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await
    });

    let measured = Duration::from_secs(args.seconds);
    for op in Operation::ALL {
        let load = drive(addr, &cookie, op, &corpus, connections, measured).await;
        let stats = load.map(|l| l.summary())?;
        println!(
            "{:<20} {name:<9} {connections:>5} {:>11.0} {:>9.1} {:>9.1} {:>7}",
            op.label(),
            stats.rate,
            stats.p50_ms,
            stats.p99_ms,
            stats.errors
        );
        if stats.errors > 0 {
            failed.fetch_add(stats.errors, Ordering::Relaxed);
            println!(
                "!!! {} of {} requests for {} on {name} FAILED; the first: {}",
                stats.errors,
                stats.errors + stats.ok,
                op.label(),
                stats.first_error.as_deref().unwrap_or("?")
            );
        }
    }
    let _ = stop.send(());
    server.await??;
    store.close().await?;
    Ok(())
}

/// What the connections saw while measuring.
struct Load {
    latencies: Vec<Duration>,
    errors: u64,
    first_error: Option<String>,
    elapsed: Duration,
}

struct Summary {
    ok: u64,
    errors: u64,
    rate: f64,
    p50_ms: f64,
    p99_ms: f64,
    first_error: Option<String>,
}

impl Load {
    fn summary(mut self) -> Summary {
        self.latencies.sort();
        let at = |q: f64| match self.latencies.len() {
            0 => f64::NAN,
            n => self.latencies[((n - 1) as f64 * q).round() as usize].as_secs_f64() * 1000.0,
        };
        Summary {
            ok: self.latencies.len() as u64,
            errors: self.errors,
            rate: self.latencies.len() as f64 / self.elapsed.as_secs_f64(),
            p50_ms: at(0.5),
            p99_ms: at(0.99),
            first_error: self.first_error,
        }
    }
}

/// Runs `connections` closed-loop clients for the warm-up and then `measured`; counts the
/// requests sent after the warm-up, over the time until the last of them is answered.
async fn drive(
    addr: SocketAddr,
    cookie: &str,
    op: Operation,
    corpus: &Arc<Corpus>,
    connections: usize,
    measured: Duration,
) -> anyhow::Result<Load> {
    let warm_until = Instant::now() + WARM_UP;
    let end = warm_until + measured;
    let mut tasks = Vec::with_capacity(connections);
    for _ in 0..connections {
        let corpus = corpus.clone();
        let cookie = cookie.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut client = Client::new(addr, cookie);
            let mut latencies = Vec::new();
            let (mut errors, mut first_error, mut last) = (0u64, None, warm_until);
            loop {
                let sent = Instant::now();
                if sent >= end {
                    break;
                }
                let (path, expect) = op.request(&corpus);
                let answer = client.get(&path).await;
                let done = Instant::now();
                if sent < warm_until {
                    continue;
                }
                last = last.max(done);
                let problem = match answer {
                    Ok((200, body)) => match &expect {
                        Some(text) if !contains(&body, text.as_bytes()) => {
                            Some(format!("200 without {text:?} for {path}"))
                        }
                        _ => None,
                    },
                    Ok((status, body)) => Some(format!(
                        "{status} for {path}: {}",
                        String::from_utf8_lossy(&body[..body.len().min(200)])
                    )),
                    Err(e) => Some(format!("{e} for {path}")),
                };
                match problem {
                    None => latencies.push(done - sent),
                    Some(p) => {
                        errors += 1;
                        first_error.get_or_insert(p);
                    }
                }
            }
            anyhow::Ok((latencies, errors, first_error, last))
        }));
    }
    let mut load = Load {
        latencies: Vec::new(),
        errors: 0,
        first_error: None,
        elapsed: Duration::ZERO,
    };
    for task in tasks {
        let (latencies, errors, first_error, last) = task.await??;
        load.latencies.extend(latencies);
        load.errors += errors;
        if load.first_error.is_none() {
            load.first_error = first_error;
        }
        load.elapsed = load.elapsed.max(last - warm_until);
    }
    Ok(load)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// One keep-alive HTTP/1.1 connection that sends GETs with a cookie and reads each answer
/// whole, by Content-Length or chunked. It connects when it has no connection: at first,
/// after an answer with `Connection: close`, and after a failure.
struct Client {
    addr: SocketAddr,
    cookie: String,
    stream: Option<BufReader<TcpStream>>,
}

impl Client {
    fn new(addr: SocketAddr, cookie: String) -> Self {
        Self {
            addr,
            cookie,
            stream: None,
        }
    }

    /// The status and body of `GET path`.
    async fn get(&mut self, path: &str) -> std::io::Result<(u16, Vec<u8>)> {
        let stream = match &mut self.stream {
            Some(stream) => stream,
            None => {
                let stream = TcpStream::connect(self.addr).await?;
                stream.set_nodelay(true)?;
                self.stream.insert(BufReader::new(stream))
            }
        };
        let request = format!(
            "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {}\r\n\r\n",
            self.cookie
        );
        let answer = exchange(stream, request.as_bytes()).await;
        if !matches!(answer, Ok((_, _, true))) {
            self.stream = None;
        }
        answer.map(|(status, body, _)| (status, body))
    }
}

/// Sends `request` and reads the answer: its status, its body, and whether the connection
/// may carry another request.
async fn exchange(
    stream: &mut BufReader<TcpStream>,
    request: &[u8],
) -> std::io::Result<(u16, Vec<u8>, bool)> {
    stream.get_mut().write_all(request).await?;
    let status_line = read_line(stream).await?;
    let status = status_line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| bad(format!("not an HTTP status line: {status_line:?}")))?;
    let (mut length, mut chunked, mut close) = (None, false, false);
    loop {
        let line = read_line(stream).await?;
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(bad(format!("not a header: {line:?}")));
        };
        let value = value.trim();
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => {
                length = Some(value.parse::<usize>().map_err(|_| bad(line.clone()))?)
            }
            "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
            "connection" => close = value.eq_ignore_ascii_case("close"),
            _ => {}
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let size_line = read_line(stream).await?;
            let hex = size_line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(hex, 16)
                .map_err(|_| bad(format!("not a chunk size: {size_line:?}")))?;
            if size == 0 {
                // Trailers, up to the empty line.
                while !read_line(stream).await?.is_empty() {}
                break;
            }
            let start = body.len();
            body.resize(start + size, 0);
            stream.read_exact(&mut body[start..]).await?;
            read_line(stream).await?;
        }
    } else if let Some(n) = length {
        body.resize(n, 0);
        stream.read_exact(&mut body).await?;
    } else {
        // Neither: the body runs to the end of the connection.
        stream.read_to_end(&mut body).await?;
        close = true;
    }
    Ok((status, body, !close))
}

/// A line without its CRLF; an error at the end of the stream.
async fn read_line(stream: &mut BufReader<TcpStream>) -> std::io::Result<String> {
    let mut line = Vec::new();
    if stream.read_until(b'\n', &mut line).await? == 0 {
        return Err(std::io::ErrorKind::UnexpectedEof.into());
    }
    while matches!(line.last(), Some(b'\n' | b'\r')) {
        line.pop();
    }
    String::from_utf8(line).map_err(|e| bad(e.to_string()))
}

fn bad(message: String) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, message)
}

fn pick<T>(items: &[T]) -> &T {
    &items[rand::random_range(0..items.len())]
}
