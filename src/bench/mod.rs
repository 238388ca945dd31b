//! `kansli bench ...`: throughput measured against the database's own limit on the same
//! machine, so a number means something. Benchmarks are never tests: they print, they do not
//! assert.

mod engine;
mod mail;
mod registry;

use clap::Subcommand;

use crate::config::Settings;

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
}

/// Runs a benchmark.
pub async fn run(command: BenchCommand, settings: &Settings) -> anyhow::Result<()> {
    match command {
        BenchCommand::Registry(args) => registry::run(args, settings).await,
        BenchCommand::Engine(args) => engine::run(args, settings).await,
        BenchCommand::Mail(args) => mail::run(args, settings).await,
    }
}
