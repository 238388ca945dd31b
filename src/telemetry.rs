//! Structured logging through `tracing`: human-readable by default, JSON for log collectors.
//! Logs go to stderr so that stdout stays for what a command prints (a new number, an export).

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Readable lines for a terminal.
    #[default]
    Pretty,
    /// One JSON object per line.
    Json,
}

/// Installs the global subscriber. `RUST_LOG` filters; without it a long-running command
/// (`verbose`) logs Kansli's `info` lines and a one-shot command only warnings, so that its own
/// output stays readable.
pub fn init(format: LogFormat, verbose: bool) {
    let default = if verbose { "warn,kansli=info" } else { "warn" };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (tests calling in twice) is harmless, so its error is ignored.
    let _ = match format {
        LogFormat::Pretty => builder.compact().try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
