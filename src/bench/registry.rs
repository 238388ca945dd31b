//! How fast the diarium hands out numbers, next to how fast the same database commits a bare
//! single-row insert transaction: the ratio is the cost of doing it right (the counter, the
//! ärende row, the audit entry, in one durable transaction).

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::clock::SystemClock;
use crate::config::Settings;
use crate::service::{Actor, Kansli, OpenCase};
use crate::store::{Backend, Store};

/// `kansli bench registry`
#[derive(Debug, clap::Args)]
pub struct RegistryArgs {
    /// Ärenden to open per run.
    #[arg(long, default_value_t = 2000)]
    pub cases: usize,
    /// Also run on PostgreSQL: a server URL; a scratch database is created on it and dropped.
    #[arg(long, env = "TEST_DATABASE_URL", value_name = "URL")]
    pub postgres: Option<String>,
}

const WRITERS: [usize; 2] = [1, 8];

pub(super) async fn run(args: RegistryArgs, _settings: &Settings) -> anyhow::Result<()> {
    println!(
        "{:<10} {:>7} {:>16} {:>18} {:>7}",
        "backend", "writers", "numbers/s", "raw inserts/s", "ratio"
    );
    super::on_backends(
        args.postgres.as_deref(),
        &WRITERS,
        |name, url, writers| async move { measure(name, &url, writers, args.cases).await },
    )
    .await
}

async fn measure(name: &str, url: &str, writers: usize, cases: usize) -> anyhow::Result<()> {
    let store = Store::connect(url, writers as u32 + 1).await?;
    store.migrate().await?;
    let kansli = Kansli::new(store.clone(), Arc::new(SystemClock));
    kansli
        .import_organisation("demo", crate::service::DEMO_ORGANISATION)
        .await?;

    let per_writer = cases / writers;
    let numbers = run_parallel(writers, per_writer, |_| {
        let kansli = kansli.clone();
        async move {
            kansli
                .open_case(
                    OpenCase {
                        series: "KS".into(),
                        title: "Benchmark".into(),
                        ..Default::default()
                    },
                    &Actor::new("bench"),
                )
                .await
                .map(drop)
                .map_err(anyhow::Error::from)
        }
    })
    .await?;

    let id_type = match store.backend() {
        Backend::Sqlite => "INTEGER PRIMARY KEY",
        Backend::Postgres => "BIGSERIAL PRIMARY KEY",
    };
    store
        .execute_raw(&format!(
            "CREATE TABLE bench_raw (id {id_type}, v TEXT NOT NULL)"
        ))
        .await?;
    let raw = run_parallel(writers, per_writer, |_| {
        let store = store.clone();
        async move {
            let tx = store.begin().await?;
            tx.execute_raw("INSERT INTO bench_raw (v) VALUES ('x')")
                .await?;
            tx.commit().await?;
            Ok(())
        }
    })
    .await?;

    let total = (per_writer * writers) as f64;
    let (n, r) = (total / numbers.as_secs_f64(), total / raw.as_secs_f64());
    println!(
        "{name:<10} {writers:>7} {n:>16.0} {r:>18.0} {:>6.0}%",
        100.0 * n / r
    );
    store.close().await?;
    Ok(())
}

async fn run_parallel<F, Fut>(writers: usize, each: usize, op: F) -> anyhow::Result<Duration>
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>> + Send + 'static,
{
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(writers);
    for w in 0..writers {
        let ops: Vec<Fut> = (0..each).map(|i| op(w * each + i)).collect();
        tasks.push(tokio::spawn(async move {
            for fut in ops {
                fut.await?;
            }
            anyhow::Ok(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(started.elapsed())
}
