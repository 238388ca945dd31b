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
