//! `kansli bench engine`: the "questionnaire case" workload. Each case starts an instance
//! whose entry sends an invitation (an outbox row) and opens an ärende; a reminder timer fires
//! and sends a reminder; the answer arrives as an event; a short timer fires; a record step
//! runs and the instance ends. Timers fire through the group-committing runner.
//!
//! The clock is a manual one moved forward between phases, so the timers are due at once and
//! the measurement is of Kansli's work, not of waiting. Beside it, the raw database rate: the
//! same number of transactions with the same number of single-row inserts.

use std::sync::Arc;
use std::time::{Duration as StdDuration, Instant};

use chrono::{Duration, Utc};
use serde_json::Map;

use crate::clock::ManualClock;
use crate::config::Settings;
use crate::domain::organisation::Role;
use crate::service::{Actor, Engine, Kansli, Target};
use crate::store::{Backend, Store};
use crate::workflow::{Catalog, Sender};

/// `kansli bench engine`
#[derive(Debug, clap::Args)]
pub struct EngineArgs {
    /// Cases per run.
    #[arg(long, default_value_t = 2000)]
    pub cases: usize,
    /// Also run on PostgreSQL: a server URL; a scratch database is created on it and dropped.
    #[arg(long, env = "TEST_DATABASE_URL", value_name = "URL")]
    pub postgres: Option<String>,
    /// Take every step alone, under a savepoint of its own, as the engine did before it took
    /// steps in sets: the comparison the sets are measured against.
    #[arg(long)]
    pub alone: bool,
    /// Skip the raw database comparison (for profiling the engine alone).
    #[arg(long)]
    pub no_raw: bool,
    /// Concurrency levels to run, comma-separated.
    #[arg(long, value_delimiter = ',', default_values_t = [1, 200])]
    pub concurrency: Vec<usize>,
}

const WORKFLOW: &str = "\
id: bench
title: Benchmark
case: { series: KLF, title: Benchmark }
initial: invited
states:
  invited:
    on_entry:
      - email: { template: enkat-inbjudan, to: [handläggare] }
    timers:
      - { name: reminder, after: 1m, event: remind }
    on:
      - event: remind
        by: [system]
        effects:
          - email: { template: enkat-paminnelse, to: [handläggare] }
      - { event: answer, by: [chef], to: answered }
  answered:
    timers:
      - { name: short, after: 1m, event: record }
    on:
      - { event: record, by: [system], to: done }
  done:
    final: true
";

/// Statements a case's four steps write, for the raw comparison (counted from the audit and
/// row writes the steps make; see the module docs).
const WRITES_PER_STEP: usize = 5;
const STEPS_PER_CASE: usize = 4;

pub(super) async fn run(args: EngineArgs, settings: &Settings) -> anyhow::Result<()> {
    println!(
        "{:<9} {:>5} {:>8} {:>11} {:>17} {:>17} {:>17} {:>12} {:>6}",
        "backend",
        "conc",
        "cases/s",
        "cpu µs/case",
        "start p50/p95 ms",
        "answer p50/p95 ms",
        "batch p50/p95 ms",
        "raw cases/s",
        "ratio"
    );
    let args = &args;
    super::on_backends(
        args.postgres.as_deref(),
        &args.concurrency,
        |name, url, conc| async move { measure(name, &url, conc, args, settings).await },
    )
    .await
}

async fn measure(
    name: &str,
    url: &str,
    conc: usize,
    args: &EngineArgs,
    settings: &Settings,
) -> anyhow::Result<()> {
    let cases = args.cases;
    let pool = match url.starts_with("sqlite") {
        true => 8,
        false => conc.clamp(2, 40) as u32,
    };
    let store = Store::connect(url, pool).await?;
    store.migrate().await?;
    let clock = ManualClock::new(Utc::now());
    let kansli = Kansli::new(store.clone(), Arc::new(clock.clone()));
    kansli
        .import_organisation("demo", crate::service::DEMO_ORGANISATION)
        .await?;
    let templates = settings.workflows.templates.as_path();
    let catalog = Catalog::from_sources(
        vec![("bench.yaml".into(), WORKFLOW.into())],
        Some(templates),
    )
    .map_err(|p| anyhow::anyhow!("bench workflow: {p:?}"))?;
    let mut engine = Engine::new(kansli, Arc::new(catalog), "bench");
    if args.alone {
        engine = engine.taking_steps_alone();
    }
    let actor = Actor::new("bench");

    let started = Instant::now();
    let cpu_before = process_cpu();
    // Start every case.
    let (numbers, start_lat) = parallel(conc, cases, |_| {
        let (engine, actor) = (engine.clone(), actor.clone());
        async move {
            let (_, number) = engine.start("bench", Map::new(), &actor).await?;
            number.ok_or_else(|| anyhow::anyhow!("no ärende"))
        }
    })
    .await?;
    let mut phases = vec![("starts", started.elapsed())];
    // The reminders.
    clock.advance(Duration::minutes(2));
    let mut batch_lat = fire(&engine, conc).await?;
    phases.push(("reminders", started.elapsed()));
    // The answers.
    let numbers = Arc::new(numbers);
    let (_, answer_lat) = parallel(conc, cases, |i| {
        let (engine, actor, numbers) = (engine.clone(), actor.clone(), numbers.clone());
        async move {
            let target = Target {
                case_number: numbers[i].clone(),
                unit: None,
            };
            engine
                .send(&target, "answer", Sender::Role(Role::Chef), &actor, None)
                .await?;
            Ok(())
        }
    })
    .await?;
    phases.push(("answers", started.elapsed()));
    // The record step.
    clock.advance(Duration::minutes(2));
    batch_lat.extend(fire(&engine, conc).await?);
    let elapsed = started.elapsed();
    let cpu = process_cpu()
        .zip(cpu_before)
        .map(|(after, before)| {
            format!("{:.0}", (after - before).as_secs_f64() * 1e6 / cases as f64)
        })
        .unwrap_or_else(|| "-".into());
    phases.push(("records", elapsed));
    tracing::debug!(
        backend = name,
        conc,
        ?phases,
        "phases (time since the start)"
    );
    let done = store
        .all_instances()
        .await?
        .iter()
        .filter(|i| i.state == "done")
        .count();
    anyhow::ensure!(done == cases, "{done} of {cases} cases finished");

    let rate = cases as f64 / elapsed.as_secs_f64();
    // Skipped, the raw comparison shows as "-".
    let (raw, ratio) = match args.no_raw {
        true => ("-".to_owned(), "-".to_owned()),
        false => {
            let raw = raw_rate(&store, conc, cases).await?;
            (format!("{raw:.0}"), format!("{:.0}%", 100.0 * rate / raw))
        }
    };
    println!(
        "{name:<9} {conc:>5} {rate:>8.0} {cpu:>11} {:>17} {:>17} {:>17} {raw:>12} {ratio:>6}",
        p50_p95(start_lat),
        p50_p95(answer_lat),
        p50_p95(batch_lat),
    );
    store.close().await?;
    Ok(())
}

/// Fires due timers with `conc` workers racing for batches; returns each worker's time.
async fn fire(engine: &Engine, conc: usize) -> anyhow::Result<Vec<StdDuration>> {
    let workers = conc.min(8);
    let mut tasks = Vec::new();
    for _ in 0..workers {
        let engine = engine.clone();
        tasks.push(tokio::spawn(async move {
            let t = Instant::now();
            engine.fire_due_timers().await?;
            anyhow::Ok(t.elapsed())
        }));
    }
    let mut out = Vec::new();
    for t in tasks {
        out.push(t.await??);
    }
    Ok(out)
}

/// The database's own rate for the same work shape: per case, four transactions of five
/// single-row inserts, at the same concurrency.
async fn raw_rate(store: &Store, conc: usize, cases: usize) -> anyhow::Result<f64> {
    let id = match store.backend() {
        Backend::Sqlite => "INTEGER PRIMARY KEY",
        Backend::Postgres => "BIGSERIAL PRIMARY KEY",
    };
    store
        .execute_raw(&format!(
            "CREATE TABLE bench_engine_raw (id {id}, v TEXT NOT NULL)"
        ))
        .await?;
    let started = Instant::now();
    parallel(conc, cases * STEPS_PER_CASE, |_| {
        let store = store.clone();
        async move {
            let tx = store.begin().await?;
            for _ in 0..WRITES_PER_STEP {
                tx.execute_raw("INSERT INTO bench_engine_raw (v) VALUES ('x')")
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        }
    })
    .await?;
    Ok(cases as f64 / started.elapsed().as_secs_f64())
}

/// Runs `n` operations on `conc` tasks; returns the results in order and each one's latency.
async fn parallel<T, F, Fut>(
    conc: usize,
    n: usize,
    op: F,
) -> anyhow::Result<(Vec<T>, Vec<StdDuration>)>
where
    T: Send + 'static,
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<T>> + Send + 'static,
{
    let mut lanes: Vec<Vec<(usize, Fut)>> = (0..conc).map(|_| Vec::new()).collect();
    for i in 0..n {
        lanes[i % conc].push((i, op(i)));
    }
    let mut tasks = Vec::new();
    for lane in lanes {
        tasks.push(tokio::spawn(async move {
            let mut out = Vec::with_capacity(lane.len());
            for (i, fut) in lane {
                let t = Instant::now();
                let value = fut.await?;
                out.push((i, value, t.elapsed()));
            }
            anyhow::Ok(out)
        }));
    }
    let mut all = Vec::with_capacity(n);
    for t in tasks {
        all.extend(t.await??);
    }
    all.sort_by_key(|(i, _, _)| *i);
    let latencies = all.iter().map(|(_, _, d)| *d).collect();
    Ok((all.into_iter().map(|(_, v, _)| v).collect(), latencies))
}

/// The CPU time this process has used, user and system, where the system tells (Linux's
/// `/proc/self/stat`, in clock ticks of 10 ms): the engine's side of the work, without the
/// database server's.
fn process_cpu() -> Option<StdDuration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name, which is in parentheses and may hold spaces.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i)?.parse::<u64>().ok();
    // utime and stime are fields 14 and 15 of the line: 11 and 12 counted from 0 after the
    // name. A tick is 10 ms on Linux (USER_HZ is 100).
    Some(StdDuration::from_millis((ticks(11)? + ticks(12)?) * 10))
}

fn p50_p95(mut v: Vec<StdDuration>) -> String {
    if v.is_empty() {
        return "-".into();
    }
    v.sort();
    let at = |q: f64| v[((v.len() - 1) as f64 * q).round() as usize].as_secs_f64() * 1000.0;
    format!("{:.1}/{:.1}", at(0.5), at(0.95))
}
