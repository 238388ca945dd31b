//! `kansli bench ...`: throughput measured against the database's own limit on the same
//! machine, so a number means something. Benchmarks are never tests: they print, they do not
//! assert.

mod engine;
mod http;
mod mail;
mod registry;

use std::future::Future;

use clap::Subcommand;

use crate::config::Settings;
use crate::store::scratch;

/// The benchmarks.
#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Diarienummer allocated per second, with 1 and 8 writers, beside the database's own rate
    /// for single-row insert transactions.
    Registry(registry::RegistryArgs),
    /// The questionnaire-case workload through the engine: cases per second and step
    /// latencies at concurrency 1 and 200, beside the raw database rate.
    Engine(engine::EngineArgs),
    /// Messages rendered and queued, and delivered to an SMTP sink, per second, beside a bare
    /// lettre client's rate against the same sink.
    Mail(mail::MailArgs),
    /// Requests per second and p50/p99 latency of the ärende page and diarium search over
    /// HTTP/1.1 keep-alive on loopback, over a diarium of 100,000 ärenden.
    Http(http::HttpArgs),
}

/// Runs a benchmark.
pub async fn run(command: BenchCommand, settings: &Settings) -> anyhow::Result<()> {
    match command {
        BenchCommand::Registry(args) => registry::run(args, settings).await,
        BenchCommand::Engine(args) => engine::run(args, settings).await,
        BenchCommand::Mail(args) => mail::run(args, settings).await,
        BenchCommand::Http(args) => http::run(args, settings).await,
    }
}

/// Runs `measure(backend, url, variant)` for every variant on a scratch SQLite file, then on a
/// scratch PostgreSQL database of its own when a server is given; removes both afterwards.
async fn on_backends<F, Fut>(
    postgres: Option<&str>,
    variants: &[usize],
    measure: F,
) -> anyhow::Result<()>
where
    F: Fn(&'static str, String, usize) -> Fut,
    Fut: Future<Output = anyhow::Result<()>>,
{
    let dir = std::env::temp_dir().join(format!(
        "kansli-bench-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    std::fs::create_dir_all(&dir)?;
    let mut result = Ok(());
    for &variant in variants {
        let url = format!(
            "sqlite://{}",
            dir.join(format!("bench-{variant}.db")).display()
        );
        result = measure("sqlite", url, variant).await;
        if result.is_err() {
            break;
        }
    }
    let _ = std::fs::remove_dir_all(&dir);
    result?;
    let Some(server) = postgres else {
        println!("(PostgreSQL skipped: give --postgres URL or set TEST_DATABASE_URL)");
        return Ok(());
    };
    for &variant in variants {
        let url = scratch::create_postgres_database(server, "kansli_bench").await?;
        let result = measure("postgres", url.clone(), variant).await;
        scratch::drop_postgres_database(server, &url).await?;
        result?;
    }
    Ok(())
}
