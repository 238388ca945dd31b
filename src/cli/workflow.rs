//! `kansli workflow`, `kansli event`, `kansli engine`, `kansli simulate`, `kansli deadline`.

use std::path::PathBuf;

use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Map, Value};

use super::CliError;
use super::output::Format;
use crate::config::Settings;
use crate::domain::calendar::{format_local, parse_date};
use crate::domain::{deadline, holidays};
use crate::service::{Actor, Engine, Kansli, Outcome, Target};
use crate::workflow::picture::Picture;
use crate::workflow::{Catalog, Sender, Workflow, graph};

/// `kansli workflow ...`
#[derive(Debug, Subcommand)]
pub enum WorkflowCommand {
    /// Check every workflow file; every problem is printed as FILE:LINE:COLUMN: message.
    Check {
        /// The folder [default: the configured workflows folder].
        dir: Option<PathBuf>,
        /// The templates folder [default: the configured one].
        #[arg(long)]
        templates: Option<PathBuf>,
    },
    /// The workflows in the folder and the stored versions in use.
    List,
    /// Draw a workflow's state machine.
    Graph {
        /// The workflow id.
        name: String,
        /// mermaid, dot or svg.
        #[arg(long, value_enum, default_value_t = GraphFormat::Mermaid)]
        format: GraphFormat,
        /// Mark where this ärende's workflow stands (drawn from the version it runs on).
        #[arg(long, value_name = "NUMBER")]
        case: Option<String>,
    },
    /// Start a workflow now (a scheduled workflow starts by itself on its date).
    Start {
        /// The workflow id.
        name: String,
        /// Set a declared variable: NAME=VALUE, read as the variable's type.
        #[arg(long = "var", value_name = "NAME=VALUE")]
        vars: Vec<String>,
        /// Start a scheduled workflow although it has run for this year already (a second
        /// follow-up). Workflows without a schedule start as often as asked.
        #[arg(long)]
        again: bool,
    },
}

/// Graph formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum GraphFormat {
    /// Mermaid stateDiagram-v2.
    Mermaid,
    /// Graphviz dot.
    Dot,
    /// An SVG picture, laid out by Kansli (as on the ärende page).
    Svg,
}

/// `kansli event ...`
#[derive(Debug, Subcommand)]
pub enum EventCommand {
    /// Send an event to an ärende's workflow.
    Send(SendArgs),
}

/// `kansli event send`
#[derive(Debug, Args)]
pub struct SendArgs {
    /// The ärende's number.
    pub number: String,
    /// The event (see `kansli case events NUMBER`).
    pub event: String,
    /// The role you send it in (handläggare, chef, förvaltningschef, sekreterare, ...).
    #[arg(long = "as", value_name = "ROLE")]
    pub role: String,
    /// Send it to the child instance of this unit (e.g. BUF) instead of the ärende's own.
    #[arg(long)]
    pub unit: Option<String>,
    /// Apply at most once per key, however often the command is repeated.
    #[arg(long)]
    pub idempotency_key: Option<String>,
    /// Set a declared variable with the event, `NAME=VALUE`; repeat for several.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    pub set: Vec<String>,
    /// Set a declared variable to a file's text, `NAME=PATH` (a long text such as the
    /// tjänsteskrivelse's Ärendet); repeat for several.
    #[arg(long = "set-file", value_name = "NAME=PATH")]
    pub set_file: Vec<String>,
}

/// `kansli engine ...`
#[derive(Debug, Subcommand)]
pub enum EngineCommand {
    /// Make the due scheduled starts and fire the due timers once, then exit.
    Tick,
    /// What failed and waits for an administrator: timers whose step failed, with the reason,
    /// and how many messages could not be delivered (`kansli mail list --status failed`).
    Failed,
    /// Put a failed timer back in the queue, due now: the next tick tries its step again.
    Retry {
        /// The timer's id (from `engine failed`).
        timer: i32,
    },
}

/// `kansli simulate`
#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The workflow.
    #[arg(long)]
    pub workflow: String,
    /// First day (YYYY-MM-DD).
    #[arg(long)]
    pub from: String,
    /// Last day (YYYY-MM-DD).
    #[arg(long)]
    pub to: String,
    /// An organisation file [default: the demo municipality].
    #[arg(long)]
    pub organisation: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    pub format: Format,
}

/// `kansli deadline ...`
#[derive(Debug, Subcommand)]
pub enum DeadlineCommand {
    /// The last day for laglighetsprövning of a decision whose justering was announced on the
    /// anslagstavla on --posted: three weeks, moved to the next vardag (lag 1930:173).
    Appeal {
        /// The day the notice was posted (YYYY-MM-DD).
        #[arg(long)]
        posted: String,
    },
    /// The days of a year that are not vardagar.
    Holidays {
        /// The year.
        year: i32,
    },
}

/// The engine as the server would run it, over the configured workflows.
pub(super) fn engine_for(settings: &Settings, kansli: &Kansli) -> Result<Engine, CliError> {
    engine_with(settings, kansli, load_catalog(settings)?)
}

/// The engine as the server would run it, over `catalog`.
pub(super) fn engine_with(
    settings: &Settings,
    kansli: &Kansli,
    catalog: Catalog,
) -> Result<Engine, CliError> {
    crate::app::engine(settings, kansli, catalog).map_err(|e| CliError::Usage(e.to_string()))
}

/// Loads the configured catalog, or the one in `dir`.
pub(super) fn load_catalog(settings: &Settings) -> Result<Catalog, CliError> {
    crate::app::catalog(settings).map_err(problems)
}

fn problems(list: Vec<crate::workflow::Problem>) -> CliError {
    let lines: Vec<String> = list.iter().map(ToString::to_string).collect();
    CliError::Usage(format!(
        "{} problem(s) in the workflows:\n{}",
        lines.len(),
        lines.join("\n")
    ))
}

pub(super) async fn workflow(
    settings: &Settings,
    kansli: Option<&Kansli>,
    command: WorkflowCommand,
    actor: &Actor,
) -> Result<(), CliError> {
    match command {
        WorkflowCommand::Check { dir, templates } => {
            let dir = dir.unwrap_or_else(|| settings.workflows.dir.clone());
            let templates = templates.unwrap_or_else(|| settings.workflows.templates.clone());
            let catalog = Catalog::load(&dir, &templates).map_err(problems)?;
            let ids: Vec<String> = catalog.iter().map(|e| e.workflow.id.clone()).collect();
            println!(
                "{} arbetsflöden och {} enkäter utan fel: {}",
                ids.len(),
                catalog.questionnaires().len(),
                ids.join(", ")
            );
            Ok(())
        }
        WorkflowCommand::List => {
            let catalog = load_catalog(settings)?;
            let kansli = kansli.ok_or_else(|| CliError::Usage("no database".into()))?;
            let engine = engine_with(settings, kansli, catalog)?;
            println!("I mappen:");
            for e in engine.catalog().iter() {
                let schedule = e
                    .workflow
                    .schedule
                    .as_ref()
                    .map(|s| format!(" (startar enligt \"{}\")", s.expression))
                    .unwrap_or_default();
                println!(
                    "  {:<24} {}{schedule}  [{}]",
                    e.workflow.id,
                    e.workflow.title,
                    &e.hash[..12]
                );
            }
            let versions = engine.versions().await?;
            println!("Lagrade versioner:");
            if versions.is_empty() {
                println!("  inga ännu (en version lagras när en instans först använder den)");
            }
            for v in versions {
                println!(
                    "  {:<24} v{:<3} [{}] {:<10} {} pågående, {} avslutade",
                    v.workflow,
                    v.version,
                    v.hash,
                    if v.current { "aktuell" } else { "äldre" },
                    v.running,
                    v.finished
                );
            }
            Ok(())
        }
        WorkflowCommand::Graph { name, format, case } => {
            let catalog = load_catalog(settings)?;
            let (workflow, current) = match &case {
                Some(number) => {
                    let kansli = kansli.ok_or_else(|| CliError::Usage("no database".into()))?;
                    let engine = engine_with(settings, kansli, catalog)?;
                    let (wf, state) = engine.workflow_of(number).await?;
                    if wf.id != name {
                        return Err(CliError::Usage(format!(
                            "ärende {number} runs {}, not {name}",
                            wf.id
                        )));
                    }
                    (wf, Some(state))
                }
                None => (
                    catalog
                        .get(&name)
                        .ok_or_else(|| {
                            CliError::Usage(format!("no workflow {name:?} in the folder"))
                        })?
                        .workflow
                        .clone(),
                    None,
                ),
            };
            match format {
                GraphFormat::Mermaid => print!("{}", graph::mermaid(&workflow, current.as_deref())),
                GraphFormat::Dot => print!("{}", graph::dot(&workflow, current.as_deref())),
                GraphFormat::Svg => print!(
                    "{}",
                    Picture::new(&workflow).current(current.as_deref()).svg()
                ),
            }
            Ok(())
        }
        WorkflowCommand::Start { name, vars, again } => {
            let catalog = load_catalog(settings)?;
            let kansli = kansli.ok_or_else(|| CliError::Usage("no database".into()))?;
            let workflow = catalog
                .get(&name)
                .ok_or_else(|| CliError::Usage(format!("no workflow {name:?} in the catalog")))?
                .workflow
                .clone();
            let variables = typed_values(&workflow, &[("--var", &vars, false)])?;
            let engine = engine_with(settings, kansli, catalog)?;
            let (instance, number) = engine.start_by_hand(&name, variables, again, actor).await?;
            println!("Arbetsflöde {name} startat (instans {instance}).");
            if let Some(n) = number {
                println!("{n}");
            }
            Ok(())
        }
    }
}

pub(super) async fn event(
    settings: &Settings,
    kansli: &Kansli,
    command: EventCommand,
    actor: &Actor,
) -> Result<(), CliError> {
    let EventCommand::Send(args) = command;
    let sender: Sender = args
        .role
        .parse()
        .map_err(|e: String| CliError::Usage(format!("--as: {e}")))?;
    let engine = engine_for(settings, kansli)?;
    let target = Target {
        case_number: args.number.clone(),
        unit: args.unit.clone(),
    };
    let values = if args.set.is_empty() && args.set_file.is_empty() {
        Map::new()
    } else {
        let workflow = engine.workflow_of_target(&target).await?;
        let flags = [
            ("--set", &args.set, false),
            ("--set-file", &args.set_file, true),
        ];
        typed_values(&workflow, &flags)?
    };
    match engine
        .send_with(
            &target,
            &args.event,
            values,
            sender,
            actor,
            args.idempotency_key.as_deref(),
        )
        .await?
    {
        Outcome::Applied { from, to } if from == to => {
            println!("{}: {} (kvar i {to})", args.number, args.event)
        }
        Outcome::Applied { from, to } => {
            println!("{}: {} ({from} → {to})", args.number, args.event)
        }
        Outcome::AlreadyApplied => println!(
            "{}: redan utfört med samma nyckel; inget gjordes",
            args.number
        ),
    }
    Ok(())
}

/// The values of flags such as `--set NAME=VALUE` and `--set-file NAME=PATH` (each flag with
/// its pairs, and whether the value names a file to read), typed by the workflow's
/// declarations.
fn typed_values(
    workflow: &Workflow,
    flags: &[(&str, &Vec<String>, bool)],
) -> Result<Map<String, Value>, CliError> {
    let mut values = Map::new();
    let pairs = flags
        .iter()
        .flat_map(|&(flag, pairs, from_file)| pairs.iter().map(move |p| (flag, p, from_file)));
    for (flag, pair, from_file) in pairs {
        let (name, raw) = pair
            .split_once('=')
            .ok_or_else(|| CliError::Usage(format!("{flag} {pair:?}: write NAME=VALUE")))?;
        let name = name.trim();
        let declared = workflow.variables.get(name).ok_or_else(|| {
            let known: Vec<&str> = workflow.variables.keys().map(String::as_str).collect();
            CliError::Usage(format!(
                "{flag} {name}: {} declares no such variable; it declares: {}",
                workflow.id,
                known.join(", ")
            ))
        })?;
        let text = match from_file {
            false => raw.to_owned(),
            true => std::fs::read_to_string(raw)
                .map_err(|e| CliError::Usage(format!("{flag} {name}: cannot read {raw}: {e}")))?,
        };
        let value = declared
            .kind
            .parse(&text)
            .map_err(|e| CliError::Usage(format!("{flag} {name}: {e}")))?;
        values.insert(name.to_owned(), value);
    }
    Ok(values)
}

pub(super) async fn draft(
    settings: &Settings,
    kansli: &Kansli,
    number: &str,
    template: &str,
) -> Result<(), CliError> {
    let engine = engine_for(settings, kansli)?;
    print!("{}", engine.draft_document(number, template).await?);
    Ok(())
}

pub(super) async fn events(
    settings: &Settings,
    kansli: &Kansli,
    number: &str,
    format: Format,
) -> Result<(), CliError> {
    let engine = engine_for(settings, kansli)?;
    let list = engine.events_of(number).await?;
    if let Format::Json = format {
        println!(
            "{}",
            serde_json::to_string_pretty(&list).map_err(anyhow::Error::from)?
        );
        return Ok(());
    }
    if list.is_empty() {
        println!("Ärende {number} har inget arbetsflöde.");
    }
    for i in list {
        let who = i
            .unit
            .as_deref()
            .map(|u| format!(" [{u}]"))
            .unwrap_or_default();
        let done = if i.finished { ", avslutat" } else { "" };
        println!("{} v{}{who}: {}{done}", i.workflow, i.version, i.state);
        for (event, by) in i.events {
            println!("    {event:<24} av {}", by.join(", "));
        }
    }
    Ok(())
}

pub(super) async fn status(
    settings: &Settings,
    kansli: &Kansli,
    number: &str,
    format: Format,
) -> Result<(), CliError> {
    let engine = engine_for(settings, kansli)?;
    let progress = engine.progress(number).await?;
    if let Format::Json = format {
        println!(
            "{}",
            serde_json::to_string_pretty(&progress).map_err(anyhow::Error::from)?
        );
        return Ok(());
    }
    if progress.is_empty() {
        println!("Ärende {number} har inga förvaltningar med enkät.");
    }
    let day = |d: chrono::DateTime<chrono::Utc>| format_local(d)[..10].to_owned();
    let header = format!(
        "{:<5} {:<38} {:<11} {:<10} {:<22} {:<10} Klar",
        "", "Förvaltning", "Läge", "Inbjuden", "Påminnelser", "Inskickad"
    );
    println!("{header}");
    for p in progress {
        let reminders: Vec<String> = p.reminders.iter().map(|d| day(*d)).collect();
        println!(
            "{:<5} {:<38} {:<11} {:<10} {:<22} {:<10} {}",
            p.unit_code,
            p.unit_name,
            p.state,
            day(p.invited_at),
            if reminders.is_empty() {
                "–".to_owned()
            } else {
                reminders.join(", ")
            },
            p.submitted_at.map(day).unwrap_or_else(|| "–".into()),
            p.finished_at.map(day).unwrap_or_else(|| "–".into()),
        );
    }
    Ok(())
}

pub(super) async fn export(
    settings: &Settings,
    kansli: &Kansli,
    number: &str,
    format: super::case::AnswerFormat,
    output: Option<std::path::PathBuf>,
) -> Result<(), CliError> {
    let engine = engine_for(settings, kansli)?;
    let compilation = engine.compilation(number).await?;
    let bytes = match format {
        super::case::AnswerFormat::Csv => compilation.csv()?,
        super::case::AnswerFormat::Xlsx => compilation.xlsx()?,
    };
    match (output, format) {
        (Some(path), _) => {
            std::fs::write(&path, bytes)
                .map_err(|e| CliError::Usage(format!("cannot write {}: {e}", path.display())))?;
            println!("{}", path.display());
        }
        (None, super::case::AnswerFormat::Csv) => {
            use std::io::Write;
            std::io::stdout()
                .write_all(&bytes)
                .map_err(anyhow::Error::from)?;
        }
        (None, super::case::AnswerFormat::Xlsx) => {
            return Err(CliError::Usage("--output FILE is needed for xlsx".into()));
        }
    }
    Ok(())
}

pub(super) async fn engine(
    settings: &Settings,
    kansli: &Kansli,
    command: EngineCommand,
    actor: &Actor,
) -> Result<(), CliError> {
    match command {
        EngineCommand::Tick => {
            let engine = engine_for(settings, kansli)?;
            let (started, fired) = engine.tick().await?;
            for s in &started {
                println!("Startat: {s}");
            }
            println!("{} start(er), {fired} timer(s) utlösta.", started.len());
        }
        EngineCommand::Failed => {
            let timers = kansli.failed_timers().await?;
            for t in &timers {
                println!(
                    "timer {:>5}  {}  {} {}{}  {} → {}: {}",
                    t.id,
                    t.due_at.format("%Y-%m-%d %H:%M"),
                    t.case_number.as_deref().unwrap_or("(inget ärende)"),
                    t.workflow,
                    t.unit
                        .as_deref()
                        .map(|u| format!(" ({u})"))
                        .unwrap_or_default(),
                    t.timer,
                    t.event,
                    t.reason
                );
            }
            let messages = kansli.gauges().await?.outbox_failed;
            println!(
                "{} misslyckade timrar (kansli engine retry ID), {messages} misslyckade meddelanden (kansli mail list --status failed).",
                timers.len()
            );
        }
        EngineCommand::Retry { timer } => {
            kansli.retry_timer(timer, actor).await?;
            println!("Timer {timer} är köad igen och prövas vid nästa körning.");
        }
    }
    Ok(())
}

pub(super) async fn simulate(settings: &Settings, args: SimulateArgs) -> Result<(), CliError> {
    let from = parse_date("--from", &args.from).map_err(CliError::Usage)?;
    let to = parse_date("--to", &args.to).map_err(CliError::Usage)?;
    let organisation = match &args.organisation {
        Some(path) => std::fs::read_to_string(path).map_err(|e| {
            CliError::Usage(format!(
                "--organisation: cannot read {}: {e}",
                path.display()
            ))
        })?,
        None => crate::service::DEMO_ORGANISATION.to_owned(),
    };
    let plan = crate::service::simulation::simulate(
        load_catalog(settings)?,
        &args.workflow,
        from,
        to,
        &organisation,
    )
    .await?;
    if let Format::Json = args.format {
        println!(
            "{}",
            serde_json::to_string_pretty(&plan).map_err(anyhow::Error::from)?
        );
        return Ok(());
    }
    println!(
        "Simulering av {} {from} – {to} (ingen svarar):",
        args.workflow
    );
    for line in plan {
        println!(
            "{}  {:<12} {:<4} {}",
            format_local(line.at),
            line.case.unwrap_or_default(),
            line.unit.unwrap_or_default(),
            line.what
        );
    }
    Ok(())
}

pub(super) fn deadline(command: DeadlineCommand) -> Result<(), CliError> {
    match command {
        DeadlineCommand::Appeal { posted } => {
            let posted = parse_date("--posted", &posted).map_err(CliError::Usage)?;
            let dates = deadline::AppealDates::for_posting(posted);
            println!("Anslaget: {posted}");
            println!("Anslaget tas ned: {}", dates.notice_taken_down);
            println!("Sista dag för överklagande:");
            println!("{}", dates.appeal_last_day);
        }
        DeadlineCommand::Holidays { year } => {
            if !(1900..=2200).contains(&year) {
                return Err(CliError::Usage(format!("year {year} is outside 1900–2200")));
            }
            for (date, why) in holidays::non_vardagar(year) {
                println!("{date}  {why}");
            }
        }
    }
    Ok(())
}

impl From<Vec<crate::workflow::Problem>> for CliError {
    fn from(list: Vec<crate::workflow::Problem>) -> Self {
        problems(list)
    }
}
