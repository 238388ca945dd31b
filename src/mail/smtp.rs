//! SMTP through lettre, with a connection pool and timeouts. A 5xx reply is permanent; a 4xx
//! reply, a refused connection or a timeout is transient and retried by the dispatcher.

use std::time::Duration;

use lettre::transport::smtp::PoolConfig;
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use serde::Deserialize;

use super::{MailError, Mailer, OutgoingMessage, message::to_lettre};

/// How the connection to the SMTP server is protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection upgraded with STARTTLS (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only for a relay on the same machine or network.
    None,
}

/// SMTP settings.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SmtpSettings {
    /// Server host name.
    pub host: String,
    /// Port.
    pub port: u16,
    /// starttls, tls or none.
    pub security: SmtpSecurity,
    /// User name, when the server wants one.
    pub username: Option<String>,
    /// Password (never printed).
    pub password: Option<String>,
    /// Connections kept open.
    pub pool_size: u32,
    /// Seconds before a command times out.
    pub timeout_seconds: u64,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        Self {
            host: "localhost".into(),
            port: 587,
            security: SmtpSecurity::Starttls,
            username: None,
            password: None,
            pool_size: 4,
            timeout_seconds: 30,
        }
    }
}

impl std::fmt::Debug for SmtpSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SmtpSettings")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "***"))
            .field("pool_size", &self.pool_size)
            .field("timeout_seconds", &self.timeout_seconds)
            .finish()
    }
}

/// Delivers over SMTP.
#[derive(Clone)]
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    describe: String,
}

impl std::fmt::Debug for SmtpMailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe)
    }
}

impl SmtpMailer {
    /// A transport for the settings; fails only on a host name TLS cannot use.
    pub fn new(settings: &SmtpSettings) -> Result<Self, MailError> {
        let bad =
            |e: lettre::transport::smtp::Error| MailError::Permanent(format!("SMTP settings: {e}"));
        let builder = match settings.security {
            SmtpSecurity::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&settings.host).map_err(bad)?
            }
            SmtpSecurity::Tls => {
                AsyncSmtpTransport::<Tokio1Executor>::relay(&settings.host).map_err(bad)?
            }
            SmtpSecurity::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&settings.host)
            }
        };
        let mut builder = builder
            .port(settings.port)
            .timeout(Some(Duration::from_secs(settings.timeout_seconds.max(1))))
            .pool_config(PoolConfig::new().max_size(settings.pool_size.max(1)));
        if let (Some(user), Some(password)) = (&settings.username, &settings.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        Ok(Self {
            transport: builder.build(),
            describe: format!(
                "SmtpMailer({}:{}, {:?})",
                settings.host, settings.port, settings.security
            ),
        })
    }
}

#[async_trait::async_trait]
impl Mailer for SmtpMailer {
    async fn send(&self, message: &OutgoingMessage) -> Result<(), MailError> {
        let email = to_lettre(message)?;
        match self.transport.send(email).await {
            Ok(_) => Ok(()),
            Err(e) if e.is_permanent() && refuses_the_recipient(&e) => {
                Err(MailError::Permanent(e.to_string()))
            }
            // Other 5xx replies are about the session, not this message: a quota, a login, a
            // TLS requirement. They are retried (and reported when the attempts run out).
            Err(e) => Err(MailError::Transient(e.to_string())),
        }
    }
}

/// Whether a permanent reply refuses the recipient or the message itself (550, 551, 553: no
/// such mailbox, not local, name not allowed) rather than the session.
fn refuses_the_recipient(error: &lettre::transport::smtp::Error) -> bool {
    error
        .status()
        .map(|code| code.to_string())
        .is_some_and(|code| matches!(code.as_str(), "550" | "551" | "553"))
}
