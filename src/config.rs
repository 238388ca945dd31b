//! Typed settings, layered: built-in defaults, then a TOML file (`--config`, or `kansli.toml`
//! when present), then `KANSLI_*` environment variables, then command-line flags. Each layer
//! overrides the one before. Unknown keys in the file and unknown `KANSLI_*` variables are
//! errors, because a misspelt setting that silently does nothing is worse than a refusal.

use std::fmt;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::telemetry::LogFormat;

/// The file read when no `--config` is given, if it exists.
pub const DEFAULT_CONFIG_FILE: &str = "kansli.toml";

/// The annotated example configuration, as shipped in `config/kansli.example.toml`.
pub const EXAMPLE: &str = include_str!("../config/kansli.example.toml");

/// All settings.
#[derive(Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// Where data lives.
    pub database: DatabaseSettings,
    /// The web server.
    pub server: ServerSettings,
    /// Outgoing mail.
    pub mail: MailSettings,
    /// Logging.
    pub log: LogSettings,
    /// Where workflows and templates are read from.
    pub workflows: WorkflowSettings,
    /// The engine's background work.
    pub engine: EngineSettings,
}

/// Where workflows and templates are read from.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct WorkflowSettings {
    /// The folder of workflow files.
    pub dir: PathBuf,
    /// The templates folder (`email/`, `documents/`, `web/`).
    pub templates: PathBuf,
}

impl Default for WorkflowSettings {
    fn default() -> Self {
        Self {
            dir: PathBuf::from("workflows"),
            templates: PathBuf::from("templates"),
        }
    }
}

/// The engine's background work in `kansli serve`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineSettings {
    /// Seconds between looks for due timers and scheduled starts; 0 turns the engine off.
    pub tick_seconds: u64,
    /// Office hours for reminders, `"HH-HH"` in Stockholm time, e.g. `"08-17"`.
    pub office_hours: String,
    /// Counts about people below this are not shown in the compiled report.
    pub min_group: i64,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self {
            tick_seconds: 5,
            office_hours: "08-17".into(),
            min_group: 5,
        }
    }
}

impl EngineSettings {
    /// The office hours as `(opens, closes)`.
    pub fn office_hours(&self) -> Result<(u32, u32), ConfigError> {
        let bad = || ConfigError::Env {
            name: "engine.office_hours".into(),
            message: format!(
                "{:?} is not HH-HH with opening before closing, e.g. 08-17",
                self.office_hours
            ),
        };
        let (open, close) = self.office_hours.split_once('-').ok_or_else(bad)?;
        let (open, close): (u32, u32) = (
            open.trim().parse().map_err(|_| bad())?,
            close.trim().parse().map_err(|_| bad())?,
        );
        if open < close && close <= 24 {
            Ok((open, close))
        } else {
            Err(bad())
        }
    }
}

/// Database settings.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseSettings {
    /// `sqlite://PATH` (created on first use) or `postgres://...`.
    pub url: String,
    /// Connections in the pool.
    pub max_connections: u32,
}

impl Default for DatabaseSettings {
    fn default() -> Self {
        Self {
            url: "sqlite://var/kansli.db".into(),
            max_connections: 8,
        }
    }
}

/// Web server settings.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ServerSettings {
    /// The address to listen on.
    pub addr: SocketAddr,
    /// The file holding the secret personal links are made with (created on first use). Keep
    /// it out of backups of the database: links need both.
    pub secret_file: PathBuf,
    /// The addresses of reverse proxies in front of Kansli, whose `X-Forwarded-For` names the
    /// client (for throttling logins per address). Empty: the peer is the client.
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// A token a scraper sends (`Authorization: Bearer …`) to read `/metrics` from another
    /// machine; without it only this machine may. Better given as
    /// `KANSLI_SERVER_METRICS_TOKEN_FILE`.
    pub metrics_token: Option<String>,
    /// Minutes a staff session may go unused before it ends (it ends after 10 hours anyway).
    pub session_idle_minutes: u32,
}

impl Default for ServerSettings {
    fn default() -> Self {
        Self {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            secret_file: PathBuf::from("var/secret"),
            trusted_proxies: Vec::new(),
            metrics_token: None,
            session_idle_minutes: 60,
        }
    }
}

/// Outgoing mail settings.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MailSettings {
    /// `file` (write `.eml` files into `dir`) or `smtp`.
    pub transport: MailTransport,
    /// The folder the file transport writes `.eml` files into.
    pub dir: PathBuf,
    /// The address people reach Kansli at, for links in emails.
    pub base_url: String,
    /// The SMTP server, for `transport = "smtp"`.
    pub smtp: crate::mail::SmtpSettings,
}

/// How mail leaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum MailTransport {
    /// `.eml` files in a folder.
    #[default]
    File,
    /// An SMTP server.
    Smtp,
}

impl Default for MailSettings {
    fn default() -> Self {
        Self {
            transport: MailTransport::File,
            dir: PathBuf::from("var/mail"),
            base_url: "http://127.0.0.1:8080".into(),
            smtp: crate::mail::SmtpSettings::default(),
        }
    }
}

/// Logging settings.
#[derive(Debug, Clone, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct LogSettings {
    /// `pretty` or `json`.
    pub format: LogFormat,
}

/// A setting that could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read the configuration file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not valid TOML or holds an unknown or mistyped key.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with line and column.
        message: String,
    },
    /// An environment variable is unknown or its value has the wrong type.
    #[error("environment variable {name}: {message}")]
    Env {
        /// The variable.
        name: String,
        /// What is wrong.
        message: String,
    },
}

impl Settings {
    /// Loads the defaults, then the file, then the given environment.
    pub fn load(
        file: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Self, ConfigError> {
        let mut settings = match file {
            Some(path) => Self::from_file(path)?,
            None if Path::new(DEFAULT_CONFIG_FILE).exists() => {
                Self::from_file(Path::new(DEFAULT_CONFIG_FILE))?
            }
            None => Self::default(),
        };
        for (name, value) in env {
            if name.starts_with("KANSLI_") {
                settings.apply_env(&name, &value)?;
            }
        }
        Ok(settings)
    }

    fn from_file(path: &Path) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    fn apply_env(&mut self, name: &str, value: &str) -> Result<(), ConfigError> {
        let bad = |message: String| ConfigError::Env {
            name: name.to_owned(),
            message,
        };
        match name {
            "KANSLI_DATABASE_URL" => self.database.url = value.to_owned(),
            "KANSLI_DATABASE_MAX_CONNECTIONS" => {
                self.database.max_connections = value
                    .parse()
                    .map_err(|_| bad(format!("{value:?} is not a whole number")))?;
            }
            "KANSLI_SERVER_ADDR" => {
                self.server.addr = value
                    .parse()
                    .map_err(|_| bad(format!("{value:?} is not HOST:PORT")))?;
            }
            "KANSLI_MAIL_DIR" => self.mail.dir = PathBuf::from(value),
            "KANSLI_SERVER_SECRET_FILE" => self.server.secret_file = PathBuf::from(value),
            "KANSLI_SERVER_TRUSTED_PROXIES" => {
                self.server.trusted_proxies = value
                    .split(',')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(|a| {
                        a.parse()
                            .map_err(|_| bad(format!("{a:?} is not an IP address")))
                    })
                    .collect::<Result<_, _>>()?;
            }
            "KANSLI_SERVER_METRICS_TOKEN" => self.server.metrics_token = Some(value.to_owned()),
            "KANSLI_SERVER_METRICS_TOKEN_FILE" => {
                let secret = std::fs::read_to_string(value)
                    .map_err(|e| bad(format!("cannot read {value}: {e}")))?;
                self.server.metrics_token = Some(secret.trim_end_matches(['\n', '\r']).to_owned());
            }
            "KANSLI_SERVER_SESSION_IDLE_MINUTES" => {
                self.server.session_idle_minutes = value
                    .parse()
                    .map_err(|_| bad(format!("{value:?} is not a whole number of minutes")))?;
            }
            "KANSLI_MAIL_TRANSPORT" => {
                self.mail.transport = match value {
                    "file" => MailTransport::File,
                    "smtp" => MailTransport::Smtp,
                    _ => return Err(bad(format!("{value:?} is neither file nor smtp"))),
                }
            }
            "KANSLI_MAIL_BASE_URL" => self.mail.base_url = value.to_owned(),
            "KANSLI_MAIL_SMTP_HOST" => self.mail.smtp.host = value.to_owned(),
            "KANSLI_MAIL_SMTP_PORT" => {
                self.mail.smtp.port = value
                    .parse()
                    .map_err(|_| bad(format!("{value:?} is not a port number")))?;
            }
            "KANSLI_MAIL_SMTP_SECURITY" => {
                self.mail.smtp.security = match value {
                    "starttls" => crate::mail::SmtpSecurity::Starttls,
                    "tls" => crate::mail::SmtpSecurity::Tls,
                    "none" => crate::mail::SmtpSecurity::None,
                    _ => return Err(bad(format!("{value:?} is not starttls, tls or none"))),
                }
            }
            "KANSLI_MAIL_SMTP_USERNAME" => self.mail.smtp.username = Some(value.to_owned()),
            "KANSLI_MAIL_SMTP_PASSWORD" => self.mail.smtp.password = Some(value.to_owned()),
            "KANSLI_MAIL_SMTP_PASSWORD_FILE" => {
                let secret = std::fs::read_to_string(value)
                    .map_err(|e| bad(format!("cannot read {value}: {e}")))?;
                self.mail.smtp.password = Some(secret.trim_end_matches(['\n', '\r']).to_owned());
            }
            "KANSLI_WORKFLOWS_DIR" => self.workflows.dir = PathBuf::from(value),
            "KANSLI_WORKFLOWS_TEMPLATES" => self.workflows.templates = PathBuf::from(value),
            "KANSLI_ENGINE_OFFICE_HOURS" => {
                self.engine.office_hours = value.to_owned();
                self.engine.office_hours().map_err(|e| bad(e.to_string()))?;
            }
            "KANSLI_ENGINE_MIN_GROUP" => {
                self.engine.min_group = value
                    .parse()
                    .map_err(|_| bad(format!("{value:?} is not a whole number")))?;
            }
            "KANSLI_ENGINE_TICK_SECONDS" => {
                self.engine.tick_seconds = value
                    .parse()
                    .map_err(|_| bad(format!("{value:?} is not a whole number of seconds")))?;
            }
            "KANSLI_LOG_FORMAT" => {
                self.log.format = match value {
                    "pretty" => LogFormat::Pretty,
                    "json" => LogFormat::Json,
                    _ => return Err(bad(format!("{value:?} is neither pretty nor json"))),
                }
            }
            // Read by the CLI itself, not settings.
            "KANSLI_CONFIG" | "KANSLI_ACTOR" => {}
            _ => {
                return Err(bad(
                    "unknown setting; see `kansli config example` for the known ones".into(),
                ));
            }
        }
        Ok(())
    }
}

/// Hides the password in a database URL.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

impl fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &redact_url(&self.url))
            .field("max_connections", &self.max_connections)
            .finish()
    }
}

impl fmt::Debug for ServerSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ServerSettings")
            .field("addr", &self.addr)
            .field("secret_file", &self.secret_file)
            .field("trusted_proxies", &self.trusted_proxies)
            .field(
                "metrics_token",
                &self.metrics_token.as_ref().map(|_| "(hidden)"),
            )
            .field("session_idle_minutes", &self.session_idle_minutes)
            .finish()
    }
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("database", &self.database)
            .field("server", &self.server)
            .field("mail", &self.mail)
            .field("log", &self.log)
            .field("workflows", &self.workflows)
            .field("engine", &self.engine)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn the_environment_overrides_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.toml");
        std::fs::write(
            &path,
            "[database]\nurl = \"sqlite://a.db\"\nmax_connections = 3\n",
        )
        .unwrap();
        let s = Settings::load(
            Some(&path),
            env(&[("KANSLI_DATABASE_URL", "postgres://u:hemligt-QX91@h/db")]),
        )
        .unwrap();
        assert_eq!(s.database.url, "postgres://u:hemligt-QX91@h/db");
        assert_eq!(s.database.max_connections, 3);
        assert!(!format!("{s:?}").contains("hemligt-QX91"));
    }

    #[test]
    fn an_unknown_key_or_variable_is_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.toml");
        std::fs::write(&path, "[database]\nulr = \"x\"\n").unwrap();
        let err = Settings::load(Some(&path), env(&[]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("ulr"), "{err}");
        let err = Settings::load(None, env(&[("KANSLI_DATABSE_URL", "x")]))
            .unwrap_err()
            .to_string();
        assert!(err.contains("KANSLI_DATABSE_URL"), "{err}");
    }

    #[test]
    fn the_shipped_example_is_valid() {
        let parsed: Settings = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(parsed.database.url, Settings::default().database.url);
    }
}
