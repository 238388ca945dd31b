//! Kansli as a test runs it: built through the composition root from settings like a user's
//! ([`kansli::app::Application`]), on a free port, with a real HTTP client that keeps its
//! cookies, and the engine and the dispatcher at hand to drive on a clock the test sets.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use kansli::app::Application;
use kansli::clock::ManualClock;
use kansli::config::{MailTransport, Settings};
use kansli::service::{Engine, Kansli, Postman};

use crate::helpers::TestDb;

/// A running Kansli and a client for it.
pub struct TestApp {
    /// Where it listens.
    pub addr: SocketAddr,
    /// A browser without the browser: cookies kept, redirects not followed.
    pub client: reqwest::Client,
    /// The services it runs on.
    pub kansli: Kansli,
    /// Its engine, to tick when the test says.
    pub engine: Engine,
    /// Its dispatcher, to send the outbox when the test says.
    pub postman: Postman,
    /// Its time.
    pub clock: ManualClock,
    /// Its files: the link secret and the mail folder.
    pub files: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<anyhow::Result<()>>>,
}

/// Options of [`spawn_app_with`].
#[derive(Default)]
pub struct AppOptions {
    /// Run the engine's and the dispatcher's loops every this many seconds (0: the test drives
    /// them).
    pub tick_seconds: u64,
    /// The folder of workflows, when not the shipped one.
    pub workflows: Option<std::path::PathBuf>,
    /// The guards, when not the settings' defaults.
    pub protection: Option<kansli::http::Protection>,
    /// The folder of templates, when not the shipped one.
    pub templates: Option<std::path::PathBuf>,
    /// Engine options the settings do not carry (`Application::map_engine`).
    pub engine: Option<Box<dyn FnOnce(Engine) -> Engine + Send>>,
}

/// The secret personal links are made with, the same in every test app: a dispatcher the test
/// builds itself fills in the same links ([`link_secret`]).
const LINK_SECRET_HEX: &str = "5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a5a";

/// The test apps' link secret.
pub fn link_secret() -> Arc<kansli::service::links::LinkSecret> {
    Arc::new(kansli::service::links::LinkSecret::from_hex(LINK_SECRET_HEX).unwrap())
}

/// Kansli on `db` with the demo municipality, its clock at `at`, the test driving the engine.
pub async fn spawn_app(db: &TestDb, at: DateTime<Utc>) -> TestApp {
    spawn_app_with(db, at, AppOptions::default()).await
}

/// Like [`spawn_app`], with `options`.
pub async fn spawn_app_with(db: &TestDb, at: DateTime<Utc>, options: AppOptions) -> TestApp {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let files = tempfile::tempdir().unwrap();
    let mut settings = Settings::default();
    settings.database.url = db.url.clone();
    settings.database.max_connections = 10;
    settings.server.addr = "127.0.0.1:0".parse().unwrap();
    settings.server.secret_file = files.path().join("secret");
    settings.mail.transport = MailTransport::File;
    settings.mail.dir = files.path().join("mail");
    settings.mail.base_url = "http://127.0.0.1".into();
    settings.workflows.dir = options.workflows.unwrap_or_else(|| root.join("workflows"));
    settings.workflows.templates = options.templates.unwrap_or_else(|| root.join("templates"));
    settings.engine.tick_seconds = options.tick_seconds;
    std::fs::write(&settings.server.secret_file, LINK_SECRET_HEX).unwrap();
    let clock = ManualClock::new(at);
    let mut app = Application::build_with_clock(&settings, Arc::new(clock.clone()))
        .await
        .expect("Kansli builds from its settings");
    if let Some(protection) = options.protection {
        app = app.with_protection(protection);
    }
    if let Some(change) = options.engine {
        app = app.map_engine(change);
    }
    app.kansli()
        .import_organisation("demo", kansli::service::DEMO_ORGANISATION)
        .await
        .expect("the demo organisation imports");
    let (kansli, engine, postman, addr) = (
        app.kansli().clone(),
        app.engine().clone(),
        app.postman().clone(),
        app.addr(),
    );
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let served = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    TestApp {
        addr,
        client,
        kansli,
        engine,
        postman,
        clock,
        files,
        stop: Some(stop),
        served: Some(served),
    }
}

impl TestApp {
    /// The URL of `path` on this server.
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// The mail folder.
    pub fn mail_dir(&self) -> std::path::PathBuf {
        self.files.path().join("mail")
    }

    /// Logs the client in as `username`, as the login form does; returns where it was sent.
    pub async fn log_in(&self, username: &str, password: &str) -> String {
        let form = self.client.get(self.url("/logga-in")).send().await.unwrap();
        assert_eq!(form.status(), 200);
        let body = form.text().await.unwrap();
        let csrf = body
            .split("name=\"csrf_token\" value=\"")
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .expect("the login form carries its token")
            .to_owned();
        let reply = self
            .client
            .post(self.url("/logga-in"))
            .form(&[
                ("username", username),
                ("password", password),
                ("csrf_token", &csrf),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(reply.status(), 303, "{}", reply.text().await.unwrap());
        reply.headers()["location"].to_str().unwrap().to_owned()
    }

    /// Stops the server, as Ctrl-C does, and waits for it to finish its requests.
    pub async fn stop(mut self) -> anyhow::Result<()> {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        self.served.take().unwrap().await?
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(served) = &self.served {
            served.abort();
        }
    }
}
