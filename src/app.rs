//! The composition root: builds the concrete store and clock from settings and hands them to
//! the services. No rules live here.

use std::sync::Arc;

use crate::clock::{Clock, SystemClock};
use crate::config::Settings;
use crate::service::Kansli;
use crate::store::{Store, StoreError};

/// Opens the database named in `settings`, brings its schema up to date, and returns the
/// services over it with the real clock.
pub async fn open(settings: &Settings) -> Result<Kansli, StoreError> {
    open_with_clock(settings, Arc::new(SystemClock)).await
}

/// Like [`open`], with time from `clock`.
pub async fn open_with_clock(
    settings: &Settings,
    clock: Arc<dyn Clock>,
) -> Result<Kansli, StoreError> {
    let store = Store::connect(&settings.database.url, settings.database.max_connections).await?;
    store.migrate().await?;
    let idle = chrono::Duration::minutes(i64::from(settings.server.session_idle_minutes.max(1)));
    Ok(Kansli::new(store, clock).with_session_idle(idle))
}

/// Loads and checks the workflows named in `settings`.
pub fn catalog(
    settings: &Settings,
) -> Result<crate::workflow::Catalog, Vec<crate::workflow::Problem>> {
    crate::workflow::Catalog::load(&settings.workflows.dir, &settings.workflows.templates)
}

/// A name for this process in timer leases: host and process id.
pub fn worker_name() -> String {
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "kansli".into());
    format!("{host}:{}", std::process::id())
}

/// The mail transport named in `settings`.
pub fn mailer(settings: &Settings) -> Result<Arc<dyn crate::mail::Mailer>, crate::mail::MailError> {
    Ok(match settings.mail.transport {
        crate::config::MailTransport::File => {
            Arc::new(crate::mail::FileMailer::new(&settings.mail.dir))
        }
        crate::config::MailTransport::Smtp => {
            Arc::new(crate::mail::SmtpMailer::new(&settings.mail.smtp)?)
        }
    })
}

/// The engine over `kansli` with the workflows of `catalog`, its links and office hours as
/// `settings` say.
pub fn engine(
    settings: &Settings,
    kansli: &crate::service::Kansli,
    catalog: crate::workflow::Catalog,
) -> Result<crate::service::Engine, crate::config::ConfigError> {
    Ok(
        crate::service::Engine::new(kansli.clone(), Arc::new(catalog), worker_name())
            .with_base_url(&settings.mail.base_url)
            .with_office_hours(settings.engine.office_hours()?)
            .with_link_secret(link_secret(settings)?),
    )
}

/// The secret personal links are made with, from `server.secret_file`.
pub fn link_secret(
    settings: &Settings,
) -> Result<Arc<crate::service::links::LinkSecret>, crate::config::ConfigError> {
    crate::service::links::LinkSecret::load_or_create(&settings.server.secret_file)
        .map(Arc::new)
        .map_err(|message| crate::config::ConfigError::Env {
            name: "server.secret_file".into(),
            message,
        })
}

/// The dispatcher for the outbox, with the mail transport and link secret `settings` name.
pub fn postman(
    settings: &Settings,
    kansli: &crate::service::Kansli,
    renderer: Option<Arc<crate::render::Renderer>>,
) -> anyhow::Result<crate::service::Postman> {
    Ok(
        crate::service::Postman::new(kansli.clone(), mailer(settings)?, renderer, worker_name())
            .with_links(link_secret(settings)?, &settings.mail.base_url),
    )
}

/// Kansli assembled from its settings: the services, the engine and the outbox's dispatcher
/// over one database, and the web server's listener, already bound (`127.0.0.1:0` takes a free
/// port, as the tests do). [`Application::run_until`] serves until told to stop, with the
/// background loops of [`crate::jobs`].
pub struct Application {
    kansli: Kansli,
    engine: crate::service::Engine,
    postman: crate::service::Postman,
    listener: tokio::net::TcpListener,
    addr: std::net::SocketAddr,
    protection: crate::http::Protection,
    tick: Option<std::time::Duration>,
}

impl Application {
    /// Builds Kansli as `settings` say, with the real clock. Refused, with every problem, when
    /// the database cannot be opened, a workflow is invalid, or the address is taken.
    pub async fn build(settings: &Settings) -> anyhow::Result<Self> {
        Self::build_with_clock(settings, Arc::new(SystemClock)).await
    }

    /// Like [`Application::build`], with time from `clock`.
    pub async fn build_with_clock(
        settings: &Settings,
        clock: Arc<dyn Clock>,
    ) -> anyhow::Result<Self> {
        let kansli = open_with_clock(settings, clock).await?;
        crate::private::create_dir_all(&settings.mail.dir)?;
        // An invalid workflow stops the server here, with every problem listed.
        let catalog = catalog(settings).map_err(|problems| {
            let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
            anyhow::anyhow!(
                "the workflows have problems; the server does not start:\n{}",
                lines.join("\n")
            )
        })?;
        let renderer = catalog.shared_renderer();
        let engine = engine(settings, &kansli, catalog)?;
        let postman = postman(settings, &kansli, renderer)?;
        let listener = tokio::net::TcpListener::bind(settings.server.addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", settings.server.addr))?;
        let addr = listener.local_addr()?;
        let tick = (settings.engine.tick_seconds > 0)
            .then(|| std::time::Duration::from_secs(settings.engine.tick_seconds));
        Ok(Self {
            kansli,
            engine,
            postman,
            listener,
            addr,
            protection: crate::http::Protection::from_settings(settings),
            tick,
        })
    }

    /// Guards requests as `protection` says instead of as the settings do (an embedding
    /// process with proxies of its own, a test of the guards).
    pub fn with_protection(mut self, protection: crate::http::Protection) -> Self {
        self.protection = protection;
        self
    }

    /// The engine changed by `f`: options the settings do not carry (a process that takes
    /// every step alone, a look at each document as it is rendered).
    pub fn map_engine(
        mut self,
        f: impl FnOnce(crate::service::Engine) -> crate::service::Engine,
    ) -> Self {
        self.engine = f(self.engine);
        self
    }

    /// Where it listens.
    pub fn addr(&self) -> std::net::SocketAddr {
        self.addr
    }

    /// The services.
    pub fn kansli(&self) -> &Kansli {
        &self.kansli
    }

    /// The engine the pages and the background loop share.
    pub fn engine(&self) -> &crate::service::Engine {
        &self.engine
    }

    /// The outbox's dispatcher.
    pub fn postman(&self) -> &crate::service::Postman {
        &self.postman
    }

    /// Serves until `shutdown` completes, with the background loops running (the engine's and
    /// the dispatcher's only when `engine.tick_seconds` is above 0).
    pub async fn run_until(
        self,
        shutdown: impl std::future::Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let jobs = crate::jobs::spawn(&self.kansli, &self.engine, &self.postman, self.tick);
        // The peer's address is kept for throttling logins per address.
        let app = crate::http::router_for(self.kansli, self.engine, self.protection)
            .into_make_service_with_connect_info::<std::net::SocketAddr>();
        let served = axum::serve(self.listener, app)
            .with_graceful_shutdown(shutdown)
            .await;
        for job in jobs {
            job.abort();
        }
        Ok(served?)
    }
}
