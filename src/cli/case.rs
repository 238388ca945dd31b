//! `kansli case`, `kansli document` and `kansli registry`.

use std::path::PathBuf;

use chrono::NaiveDate;
use clap::{Args, Subcommand, ValueEnum};

use super::CliError;
use super::output::{self, Format};
use crate::domain::calendar::parse_date;
use crate::domain::case_status::CaseStatus;
use crate::domain::document::{Direction, SecrecyMarking};
use crate::service::{
    Actor, CaseQuery, Kansli, NewDocumentInput, OpenCase, Outcome, Target, postlista_csv,
};
use crate::workflow::Sender;

/// `kansli case ...`
#[derive(Debug, Subcommand)]
pub enum CaseCommand {
    /// Open an ärende; prints its new number alone on the last line.
    Open(OpenArgs),
    /// Show an ärende and its handlingar.
    Show {
        /// The number as the series writes it, e.g. "KS 2021/841".
        number: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// List and search ärenden, newest first.
    List(ListArgs),
    /// Close (avsluta) an ärende.
    Close {
        /// The number.
        number: String,
        /// Why, for the history.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Reopen a closed ärende.
    Reopen {
        /// The number.
        number: String,
        /// Why, for the history.
        #[arg(long)]
        reason: Option<String>,
    },
    /// Each förvaltning's progress in the ärende's follow-up: invited, draft, submitted,
    /// returned, approved, with the dates of invitation, reminders and submission.
    Status {
        /// The number.
        number: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Every förvaltning's answers, for a spreadsheet: CSV, or XLSX with a sheet per section.
    Export {
        /// The number.
        number: String,
        /// csv or xlsx.
        #[arg(long, value_enum)]
        format: AnswerFormat,
        /// Where to write it [default: stdout for CSV; required for XLSX].
        #[arg(long)]
        output: Option<PathBuf>,
    },
    /// A document of the ärende's workflow as it would be registered now (the tjänsteskrivelse
    /// with the texts set so far, say), printed as HTML; nothing is registered.
    Draft {
        /// The number.
        number: String,
        /// The document template, e.g. tjansteskrivelse.
        template: String,
    },
    /// The events the ärende's workflow takes now, and who may send them.
    Events {
        /// The number.
        number: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// The ärende's history: who did what, when.
    History {
        /// The number.
        number: String,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
}

/// `kansli case open`
#[derive(Debug, Args)]
pub struct OpenArgs {
    /// The diarieserie, e.g. KS.
    #[arg(long)]
    series: String,
    /// The ärendemening.
    #[arg(long)]
    title: String,
    /// The title the public sees in the postlista [default: the title].
    #[arg(long)]
    public_title: Option<String>,
    /// KLASSA classification code [default: the series' default].
    #[arg(long)]
    classification: Option<String>,
    /// The handläggare, by person key or email.
    #[arg(long)]
    handlaggare: Option<String>,
    /// An earlier ärende this one continues, e.g. last year's follow-up.
    #[arg(long, value_name = "NUMBER")]
    previous: Option<String>,
}

/// `kansli case list`
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this series.
    #[arg(long)]
    series: Option<String>,
    /// Only this year.
    #[arg(long)]
    year: Option<i32>,
    /// Only open or closed ärenden.
    #[arg(long, value_enum)]
    status: Option<Status>,
    /// Words that must occur in the title, public title or number.
    #[arg(long)]
    text: Option<String>,
    /// Only this handläggare (key or email).
    #[arg(long)]
    handlaggare: Option<String>,
    /// Opened on or after (YYYY-MM-DD).
    #[arg(long)]
    from: Option<String>,
    /// Opened on or before (YYYY-MM-DD).
    #[arg(long)]
    to: Option<String>,
    /// At most this many.
    #[arg(long, default_value_t = 50)]
    limit: u64,
    /// Skip this many (for paging).
    #[arg(long, default_value_t = 0)]
    offset: u64,
    /// Output format.
    #[arg(long, value_enum, default_value_t)]
    format: Format,
}

/// An ärende's status.
#[derive(Debug, Clone, Copy, ValueEnum)]
enum Status {
    /// Pågående.
    Open,
    /// Avslutat.
    Closed,
}

/// `kansli document ...`
#[derive(Debug, Subcommand)]
pub enum DocumentCommand {
    /// Register a handling in an ärende; prints its number alone on the last line.
    Add(Box<AddDocumentArgs>),
    /// Write a handling's attached file to a path.
    Get {
        /// The handling's number, e.g. "KS 2021/841:3".
        number: String,
        /// Where to write the file [default: its own name, in the current folder].
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

/// `kansli document add`
#[derive(Debug, Args)]
pub struct AddDocumentArgs {
    /// The ärende's number.
    number: String,
    /// inkommande (in), upprättad (internal) or utgående (out).
    #[arg(long)]
    direction: String,
    /// Received or drawn up on (YYYY-MM-DD) [default: today].
    #[arg(long)]
    date: Option<String>,
    /// What the handling is about.
    #[arg(long)]
    description: String,
    /// The sender (inkommande) or recipient (utgående).
    #[arg(long)]
    counterpart: Option<String>,
    /// Keep the sender/recipient out of the postlista (OSL 5 kap 2 §).
    #[arg(long)]
    protect_counterpart: bool,
    /// Keep the description out of the postlista (OSL 5 kap 2 §).
    #[arg(long)]
    protect_description: bool,
    /// Sekretessmarkering: the provision, e.g. "OSL 39 kap 3 §".
    #[arg(long, value_name = "PROVISION")]
    secrecy: Option<String>,
    /// Sekretessmarkering: the day it was made (YYYY-MM-DD) [default: today].
    #[arg(long, requires = "secrecy")]
    secrecy_date: Option<String>,
    /// Sekretessmarkering: the authority that made it [default: the municipality].
    #[arg(long, requires = "secrecy")]
    secrecy_authority: Option<String>,
    /// A file to attach.
    #[arg(long)]
    file: Option<PathBuf>,
    /// A workflow step the registration brings (see `kansli case events NUMBER`), taken in
    /// the same transaction: when the workflow refuses it, nothing is registered.
    #[arg(long, requires = "role")]
    event: Option<String>,
    /// The role the step is sent in (handläggare, registrator, sekreterare, ...).
    #[arg(long = "as", value_name = "ROLE", requires = "event")]
    role: Option<String>,
    /// The unit whose part of the workflow the step is for (e.g. BUF).
    #[arg(long, requires = "event")]
    unit: Option<String>,
}

/// `kansli registry ...`
#[derive(Debug, Subcommand)]
pub enum RegistryCommand {
    /// The postlista for a period, with protected values masked.
    Export {
        /// First day (YYYY-MM-DD).
        #[arg(long)]
        from: String,
        /// Last day (YYYY-MM-DD).
        #[arg(long)]
        to: String,
        /// csv (semicolon-separated, for a spreadsheet) or json.
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Write to this file instead of stdout.
        #[arg(long)]
        output: Option<PathBuf>,
    },
}

/// The answer export's file formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AnswerFormat {
    /// Semicolon-separated values with a byte-order mark.
    Csv,
    /// An Excel workbook, one sheet per section.
    Xlsx,
}

/// The postlista's file formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ExportFormat {
    /// Semicolon-separated values with a byte-order mark.
    Csv,
    /// A JSON array.
    Json,
}

fn date_arg(field: &str, text: &str) -> Result<NaiveDate, CliError> {
    parse_date(field, text).map_err(CliError::Usage)
}

pub(super) async fn case(
    kansli: &Kansli,
    command: CaseCommand,
    actor: &Actor,
) -> Result<(), CliError> {
    match command {
        CaseCommand::Open(args) => {
            let case = kansli
                .open_case(
                    OpenCase {
                        series: args.series,
                        title: args.title,
                        public_title: args.public_title,
                        classification: args.classification,
                        handlaggare: args.handlaggare,
                        previous: args.previous,
                    },
                    actor,
                )
                .await?;
            println!("Ärende öppnat: {}", case.title);
            println!("{}", case.number);
        }
        CaseCommand::Show { number, format } => {
            output::case(&kansli.show_case(&number).await?, format);
            if let output::Format::Text = format {
                output::decisions(&kansli.decisions_of(&number).await?);
            }
        }
        CaseCommand::List(args) => {
            let query = CaseQuery {
                series: args.series,
                year: args.year,
                status: args.status.map(|s| {
                    match s {
                        Status::Open => CaseStatus::Open,
                        Status::Closed => CaseStatus::Closed,
                    }
                    .code()
                    .to_owned()
                }),
                text: args.text,
                handlaggare: args.handlaggare,
                from: args
                    .from
                    .as_deref()
                    .map(|d| date_arg("--from", d))
                    .transpose()?,
                to: args
                    .to
                    .as_deref()
                    .map(|d| date_arg("--to", d))
                    .transpose()?,
                limit: Some(args.limit),
                offset: Some(args.offset),
            };
            output::case_list(&kansli.list_cases(query).await?, args.format);
        }
        CaseCommand::Close { number, reason } => {
            let case = kansli.close_case(&number, reason.as_deref(), actor).await?;
            println!("Ärende {} avslutat.", case.number);
        }
        CaseCommand::Reopen { number, reason } => {
            let case = kansli
                .reopen_case(&number, reason.as_deref(), actor)
                .await?;
            println!("Ärende {} återöppnat.", case.number);
        }
        CaseCommand::History { number, format } => {
            output::history(&kansli.case_history(&number).await?, format);
        }
        CaseCommand::Events { .. }
        | CaseCommand::Status { .. }
        | CaseCommand::Export { .. }
        | CaseCommand::Draft { .. } => {
            unreachable!("handled with the workflows")
        }
    }
    Ok(())
}

pub(super) async fn document(
    settings: &crate::config::Settings,
    kansli: &Kansli,
    command: DocumentCommand,
    actor: &Actor,
) -> Result<(), CliError> {
    match command {
        DocumentCommand::Add(args) => {
            let direction: Direction =
                args.direction
                    .parse()
                    .map_err(|e: crate::domain::organisation::UnknownWord| {
                        CliError::Usage(format!("--direction: {e}"))
                    })?;
            let date = match &args.date {
                Some(d) => date_arg("--date", d)?,
                None => kansli.today(),
            };
            let secrecy = match args.secrecy {
                Some(provision) => Some(SecrecyMarking {
                    provision,
                    date: match &args.secrecy_date {
                        Some(d) => date_arg("--secrecy-date", d)?,
                        None => kansli.today(),
                    },
                    authority: match args.secrecy_authority {
                        Some(a) => a,
                        None => municipality_name(kansli).await?,
                    },
                }),
                None => None,
            };
            let file = match &args.file {
                Some(path) => {
                    let content = std::fs::read(path).map_err(|e| {
                        CliError::Usage(format!("--file: cannot read {}: {e}", path.display()))
                    })?;
                    let name = path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .ok_or_else(|| {
                            CliError::Usage(format!("--file: {} is not a file", path.display()))
                        })?;
                    Some((name, content))
                }
                None => None,
            };
            let input = NewDocumentInput {
                date,
                direction,
                counterpart: args.counterpart,
                counterpart_protected: args.protect_counterpart,
                description: args.description,
                description_protected: args.protect_description,
                secrecy,
                file,
            };
            let (document, step) = match (args.event, args.role) {
                (Some(event), Some(role)) => {
                    let sender: Sender = role
                        .parse()
                        .map_err(|e: String| CliError::Usage(format!("--as: {e}")))?;
                    let engine = super::workflow::engine_for(settings, kansli)?;
                    let target = Target {
                        case_number: args.number.clone(),
                        unit: args.unit,
                    };
                    let (document, outcome) = engine
                        .register_with_step(&target, input, &event, sender, actor)
                        .await?;
                    (document, Some((event, outcome)))
                }
                _ => (kansli.add_document(&args.number, input, actor).await?, None),
            };
            println!(
                "Handling registrerad ({}): {}",
                document.direction.label(),
                document.description
            );
            match step {
                Some((event, Outcome::Applied { from, to })) => {
                    println!("{}: {event} ({from} → {to})", args.number)
                }
                Some((event, Outcome::AlreadyApplied)) => {
                    println!("{}: {event} (redan gjort)", args.number)
                }
                None => {}
            }
            println!("{}", document.number);
        }
        DocumentCommand::Get { number, output } => {
            let (file, content) = kansli.document_file_by(actor, &number).await?;
            let path = output.unwrap_or_else(|| PathBuf::from(&file.name));
            std::fs::write(&path, content)
                .map_err(|e| CliError::Usage(format!("cannot write {}: {e}", path.display())))?;
            println!("{}", path.display());
        }
    }
    Ok(())
}

async fn municipality_name(kansli: &Kansli) -> Result<String, CliError> {
    let snapshot = kansli.organisation().await?;
    snapshot.municipality.map(|m| m.name).ok_or_else(|| {
        CliError::Usage("--secrecy-authority is needed: no municipality is imported yet".into())
    })
}

pub(super) async fn registry(kansli: &Kansli, command: RegistryCommand) -> Result<(), CliError> {
    let RegistryCommand::Export {
        from,
        to,
        format,
        output,
    } = command;
    let rows = kansli
        .postlista(date_arg("--from", &from)?, date_arg("--to", &to)?)
        .await?;
    let bytes = match format {
        ExportFormat::Csv => postlista_csv(&rows)?,
        ExportFormat::Json => {
            let mut json = serde_json::to_vec_pretty(&rows).map_err(anyhow::Error::from)?;
            json.push(b'\n');
            json
        }
    };
    match output {
        Some(path) => std::fs::write(&path, bytes)
            .map_err(|e| CliError::Usage(format!("cannot write {}: {e}", path.display())))?,
        None => {
            use std::io::Write;
            std::io::stdout()
                .write_all(&bytes)
                .map_err(anyhow::Error::from)?;
        }
    }
    Ok(())
}
