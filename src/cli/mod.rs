//! The `kansli` command line: what the user typed ([`Cli`]) is parsed by clap, settings are
//! layered, and each command calls one service. No rules live here.
//!
//! Exit codes: 0 done; 1 something outside the caller's control failed; 2 the input is wrong
//! (also clap's code for a bad command line); 3 what the input names does not exist; 4 a
//! conflict with a concurrent change (retry).

mod case;
mod mail;
mod meeting;
mod output;
mod workflow;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config::Settings;
use crate::service::{Actor, Kansli, ServiceError};
use crate::telemetry::{self, LogFormat};

/// Kansli: ärendehantering and workflows for Swedish municipalities.
#[derive(Debug, Parser)]
#[command(name = "kansli", version, about, long_about = None)]
pub struct Cli {
    /// Configuration file [default: kansli.toml if present].
    #[arg(long, global = true, env = "KANSLI_CONFIG", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Database URL: sqlite://PATH or postgres://... (overrides the file and KANSLI_DATABASE_URL).
    #[arg(long, global = true, value_name = "URL")]
    pub database_url: Option<String>,
    /// Log format.
    #[arg(long, global = true, value_enum)]
    pub log_format: Option<LogFormat>,
    /// Who is acting, for the audit trail [default: cli:$USER].
    #[arg(long, global = true, env = "KANSLI_ACTOR", value_name = "NAME")]
    pub actor: Option<String>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server.
    Serve(crate::http::ServeArgs),
    /// The database.
    #[command(subcommand)]
    Db(DbCommand),
    /// The organisation: units, people, roles, organs, diarieserier.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Ärenden.
    #[command(subcommand)]
    Case(case::CaseCommand),
    /// Handlingar in an ärende.
    #[command(subcommand)]
    Document(case::DocumentCommand),
    /// The public register (postlista).
    #[command(subcommand)]
    Registry(case::RegistryCommand),
    /// Workflows: check, list, draw, start.
    #[command(subcommand)]
    Workflow(workflow::WorkflowCommand),
    /// Send events to an ärende's workflow.
    #[command(subcommand)]
    Event(workflow::EventCommand),
    /// Meetings, agendas and decisions.
    #[command(subcommand)]
    Meeting(meeting::MeetingCommand),
    /// Print the protokollsutdrag of a paragraph on an ärende as HTML, e.g.
    /// `kansli extract "KS 2026/1" "KS § 12/26"`.
    Extract(meeting::ExtractArgs),
    /// The outbox: list, show, retry, send.
    #[command(subcommand)]
    Mail(mail::MailCommand),
    /// Run the engine's due work once.
    #[command(subcommand)]
    Engine(workflow::EngineCommand),
    /// Simulate a workflow's schedule and timers over a period and print the dated plan.
    Simulate(workflow::SimulateArgs),
    /// Statutory deadlines and Swedish holidays.
    #[command(subcommand)]
    Deadline(workflow::DeadlineCommand),
    /// Staff accounts for the web application.
    #[command(subcommand)]
    User(UserCommand),
    /// Configuration.
    #[command(subcommand)]
    Config(ConfigCommand),
    /// Benchmarks.
    #[command(subcommand)]
    Bench(crate::bench::BenchCommand),
}

/// `kansli user ...`
#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create an account for a person of the organisation; the password is read from the
    /// first line of standard input (at least 12 characters).
    Add {
        /// The login name.
        username: String,
        /// The person (key or email) whose roles the account carries.
        #[arg(long)]
        person: String,
        /// The account administers Kansli (accounts, organisation, outbox).
        #[arg(long)]
        admin: bool,
    },
    /// The accounts.
    List,
    /// Personal API tokens of an account, for integrations (`Authorization: Bearer ...`).
    #[command(subcommand)]
    Token(TokenCommand),
}

/// `kansli user token ...`
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create a token and print it once; only its hash is kept.
    Create {
        /// The account the token acts as (with that person's roles).
        username: String,
        /// What the token is for, e.g. "e-arkivet".
        #[arg(long)]
        name: String,
        /// Valid for this many days [default: until revoked].
        #[arg(long)]
        days: Option<u32>,
    },
    /// The account's tokens.
    List {
        /// The account.
        username: String,
    },
    /// Revoke a token at once.
    Revoke {
        /// The account.
        username: String,
        /// The token's id, from `list`.
        id: i32,
    },
}

/// `kansli db ...`
#[derive(Debug, Subcommand)]
pub enum DbCommand {
    /// Bring the schema up to date (also done on every start).
    Migrate,
}

/// `kansli org ...`
#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create or update the organisation from a TOML file; the same file twice changes nothing.
    Import {
        /// The file (see config/demo-organisation.toml for the format).
        #[arg(required_unless_present = "demo", conflicts_with = "demo")]
        file: Option<PathBuf>,
        /// Import the fictional demo municipality instead.
        #[arg(long)]
        demo: bool,
    },
    /// Show the organisation.
    Show {
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: output::Format,
    },
}

/// `kansli config ...`
#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the annotated example configuration.
    Example,
    /// Print the settings in force (secrets hidden).
    Show,
}

/// A failed command: its message goes to stderr and its kind picks the exit code.
#[derive(Debug, thiserror::Error)]
pub enum CliError {
    /// From a service.
    #[error(transparent)]
    Service(#[from] ServiceError),
    /// Settings, IO or anything else.
    #[error(transparent)]
    Other(#[from] anyhow::Error),
    /// Wrong input found by the CLI itself.
    #[error("{0}")]
    Usage(String),
    /// Done, and it stands, but it needs a person: a decision recorded whose workflow did not
    /// take it, say.
    #[error("{0}")]
    NeedsAttention(String),
}

impl CliError {
    /// The process exit code.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Service(
                ServiceError::Invalid(_)
                | ServiceError::Refused(_)
                | ServiceError::InvalidDocument(_)
                | ServiceError::Final(_),
            )
            | CliError::Usage(_) => 2,
            CliError::Service(ServiceError::NotFound(_)) => 3,
            CliError::Service(ServiceError::Conflict(_)) => 4,
            CliError::Service(ServiceError::Forbidden(_)) => 5,
            CliError::Service(ServiceError::Unexpected(_) | ServiceError::Unrendered(_))
            | CliError::Other(_) => 1,
            CliError::NeedsAttention(_) => 6,
        }
    }
}

/// Runs a parsed command line and reports failure as the exit code.
pub async fn run(cli: Cli) -> ExitCode {
    match execute(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("kansli: {}", error_chain(&err));
            ExitCode::from(err.exit_code())
        }
    }
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !message.contains(&text) {
            message.push_str(": ");
            message.push_str(&text);
        }
        source = cause.source();
    }
    message
}

async fn execute(cli: Cli) -> Result<(), CliError> {
    let mut settings = Settings::load(cli.config.as_deref(), std::env::vars())
        .map_err(|e| CliError::Usage(e.to_string()))?;
    if let Some(url) = cli.database_url {
        settings.database.url = url;
    }
    if let Some(format) = cli.log_format {
        settings.log.format = format;
    }
    telemetry::init(
        settings.log.format,
        matches!(cli.command, Command::Serve(_)),
    );
    let actor = Actor::new(cli.actor.unwrap_or_else(|| {
        let user = ["USER", "LOGNAME", "USERNAME"]
            .iter()
            .find_map(|v| std::env::var(v).ok())
            .unwrap_or_else(|| "okänd".into());
        format!("cli:{user}")
    }));

    match cli.command {
        Command::Config(ConfigCommand::Example) => {
            print!("{}", crate::config::EXAMPLE);
            Ok(())
        }
        Command::Config(ConfigCommand::Show) => {
            println!("{settings:#?}");
            Ok(())
        }
        Command::Bench(command) => crate::bench::run(command, &settings)
            .await
            .map_err(Into::into),
        Command::Serve(args) => crate::http::serve(args, settings).await.map_err(Into::into),
        Command::Simulate(args) => workflow::simulate(&settings, args).await,
        Command::Deadline(command) => workflow::deadline(command),
        Command::Workflow(command @ workflow::WorkflowCommand::Check { .. }) => {
            workflow::workflow(&settings, None, command, &actor).await
        }
        command => {
            let kansli = open(&settings).await?;
            match command {
                Command::Db(DbCommand::Migrate) => {
                    println!("Databasen är uppdaterad.");
                    Ok(())
                }
                Command::Org(command) => org(&kansli, command).await,
                Command::Case(case::CaseCommand::Events { number, format }) => {
                    workflow::events(&settings, &kansli, &number, format).await
                }
                Command::Case(case::CaseCommand::Draft { number, template }) => {
                    workflow::draft(&settings, &kansli, &number, &template).await
                }
                Command::Case(case::CaseCommand::Status { number, format }) => {
                    workflow::status(&settings, &kansli, &number, format).await
                }
                Command::Case(case::CaseCommand::Export {
                    number,
                    format,
                    output,
                }) => workflow::export(&settings, &kansli, &number, format, output).await,
                Command::Case(command) => case::case(&kansli, command, &actor).await,
                Command::Document(command) => {
                    case::document(&settings, &kansli, command, &actor).await
                }
                Command::Registry(command) => case::registry(&kansli, command).await,
                Command::Workflow(command) => {
                    workflow::workflow(&settings, Some(&kansli), command, &actor).await
                }
                Command::Event(command) => {
                    workflow::event(&settings, &kansli, command, &actor).await
                }
                Command::Engine(command) => {
                    workflow::engine(&settings, &kansli, command, &actor).await
                }
                Command::Mail(command) => mail::mail(&settings, &kansli, command, &actor).await,
                Command::Meeting(command) => {
                    meeting::meeting(&settings, &kansli, command, &actor).await
                }
                Command::Extract(args) => meeting::extract(&settings, &kansli, args).await,
                Command::User(command) => user(&kansli, command).await,
                Command::Config(_)
                | Command::Bench(_)
                | Command::Serve(_)
                | Command::Simulate(_)
                | Command::Deadline(_) => unreachable!("handled before the database is opened"),
            }
        }
    }
}

async fn open(settings: &Settings) -> Result<Kansli, CliError> {
    crate::app::open(settings)
        .await
        .map_err(|e| CliError::Other(e.into()))
}

async fn org(kansli: &Kansli, command: OrgCommand) -> Result<(), CliError> {
    match command {
        OrgCommand::Import { file, demo } => {
            let summary = match (file, demo) {
                (_, true) => {
                    kansli
                        .import_organisation(
                            "demo-organisation.toml",
                            crate::service::DEMO_ORGANISATION,
                        )
                        .await?
                }
                (Some(path), false) => kansli.import_organisation_file(&path).await?,
                (None, false) => return Err(CliError::Usage("give a FILE or --demo".into())),
            };
            println!(
                "Importerat: {} organ ({} ledamöter och ersättare), {} enheter, {} personer ({} roller), {} diarieserier.",
                summary.organs,
                summary.members,
                summary.units,
                summary.people,
                summary.roles,
                summary.series
            );
            Ok(())
        }
        OrgCommand::Show { format } => {
            let snapshot = kansli.organisation().await?;
            output::org(&snapshot, format);
            Ok(())
        }
    }
}

async fn user(kansli: &Kansli, command: UserCommand) -> Result<(), CliError> {
    match command {
        UserCommand::Add {
            username,
            person,
            admin,
        } => {
            let mut password = String::new();
            std::io::stdin().read_line(&mut password).map_err(|e| {
                CliError::Usage(format!("password: cannot read standard input: {e}"))
            })?;
            let password = password.trim_end_matches(['\r', '\n']);
            let account = kansli
                .add_account(&username, &person, password, admin)
                .await?;
            println!(
                "Konto {} skapat för {}{}.",
                account.username,
                account.person_key,
                if account.admin {
                    " (administratör)"
                } else {
                    ""
                }
            );
        }
        UserCommand::List => {
            for a in kansli.accounts().await? {
                let flags = [
                    a.admin.then_some("administratör"),
                    a.disabled_at.map(|_| "avstängt"),
                ];
                let flags: Vec<&str> = flags.into_iter().flatten().collect();
                println!(
                    "{:<24} {:<24} {}",
                    a.username,
                    a.person_key,
                    flags.join(", ")
                );
            }
        }
        UserCommand::Token(command) => token(kansli, command).await?,
    }
    Ok(())
}

async fn token(kansli: &Kansli, command: TokenCommand) -> Result<(), CliError> {
    let local = |t: chrono::DateTime<chrono::Utc>| crate::domain::calendar::format_local(t);
    match command {
        TokenCommand::Create {
            username,
            name,
            days,
        } => {
            let (row, token) = kansli.create_api_token(&username, &name, days).await?;
            eprintln!(
                "API-nyckel {} ({}) skapad för {username}{}. Den visas bara nu:",
                row.id,
                row.name,
                row.expires_at
                    .map(|e| format!(", giltig till {}", local(e)))
                    .unwrap_or_default()
            );
            println!("{token}");
        }
        TokenCommand::List { username } => {
            for t in kansli.api_tokens(&username).await? {
                let state = match (t.revoked_at, t.expires_at) {
                    (Some(r), _) => format!("återkallad {}", local(r)),
                    (None, Some(e)) => format!("giltig till {}", local(e)),
                    (None, None) => "giltig".to_owned(),
                };
                let used = t
                    .last_used_at
                    .map(|u| format!("senast använd {}", local(u)))
                    .unwrap_or_else(|| "aldrig använd".to_owned());
                println!("{:>4}  {:<24} {:<32} {}", t.id, t.name, state, used);
            }
        }
        TokenCommand::Revoke { username, id } => {
            kansli.revoke_api_token(&username, id).await?;
            println!("API-nyckel {id} är återkallad.");
        }
    }
    Ok(())
}
