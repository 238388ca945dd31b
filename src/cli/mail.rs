//! `kansli mail`: the outbox, what was sent and what failed.

use std::sync::Arc;

use clap::Subcommand;

use super::CliError;
use super::output::Format;
use crate::config::Settings;
use crate::domain::calendar::format_local;
use crate::service::{Actor, Kansli};

/// `kansli mail ...`
#[derive(Debug, Subcommand)]
pub enum MailCommand {
    /// The messages in the outbox, oldest first.
    List {
        /// Only this status: pending, sent, failed, no_recipients.
        #[arg(long)]
        status: Option<String>,
        /// Only this ärende's messages.
        #[arg(long, value_name = "NUMBER")]
        case: Option<String>,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// One stored message, whole: the record of what was sent.
    Show {
        /// The message's id (from `mail list`).
        id: i32,
        /// Output format.
        #[arg(long, value_enum, default_value_t)]
        format: Format,
    },
    /// Queue a failed message again, to be sent at once.
    Retry {
        /// The message's id.
        id: i32,
    },
    /// Send every message that is due now, then exit.
    Dispatch,
}

pub(super) async fn mail(
    settings: &Settings,
    kansli: &Kansli,
    command: MailCommand,
    actor: &Actor,
) -> Result<(), CliError> {
    match command {
        MailCommand::List {
            status,
            case,
            format,
        } => {
            let messages = kansli.messages(status.as_deref(), case.as_deref()).await?;
            if let Format::Json = format {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&messages).map_err(anyhow::Error::from)?
                );
                return Ok(());
            }
            if messages.is_empty() {
                println!("Inga meddelanden.");
            }
            for m in messages {
                println!(
                    "{:>5}  {:<13} {}  {:<14} {:<34} {}",
                    m.id,
                    m.status,
                    format_local(m.created_at),
                    m.case_number.unwrap_or_default(),
                    m.to.unwrap_or_default(),
                    m.subject.unwrap_or_else(|| m.template.clone())
                );
            }
        }
        MailCommand::Show { id, format } => {
            let m = kansli.message(id).await?;
            if let Format::Json = format {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&m).map_err(anyhow::Error::from)?
                );
                return Ok(());
            }
            println!("Meddelande {}  ({}, mall {})", m.id, m.status, m.template);
            println!("Message-ID: {}", m.message_id.unwrap_or_default());
            println!("Till:       {}", m.to.unwrap_or_default());
            println!("Ämne:       {}", m.subject.unwrap_or_default());
            println!("Köat:       {}", format_local(m.created_at));
            println!("Försök:     {}", m.attempts);
            if let Some(at) = m.sent_at {
                println!("Skickat:    {}", format_local(at));
            } else if let Some(at) = m.next_attempt_at.filter(|_| m.status == "pending") {
                println!("Nästa:      {}", format_local(at));
            }
            if let Some(e) = m.last_error {
                println!("Senaste fel: {e}");
            }
            println!("\n{}", m.text.unwrap_or_default());
        }
        MailCommand::Retry { id } => {
            let m = kansli.retry_message(id, actor).await?;
            println!(
                "Meddelande {} köat igen till {}.",
                m.id,
                m.to.unwrap_or_default()
            );
        }
        MailCommand::Dispatch => {
            let renderer = crate::render::Renderer::load(&settings.workflows.templates)
                .ok()
                .map(Arc::new);
            let postman = crate::app::postman(settings, kansli, renderer)
                .map_err(|e| CliError::Usage(e.to_string()))?;
            let n = postman.dispatch_all_pending().await?;
            println!("{n} meddelande(n) hanterade.");
        }
    }
    Ok(())
}
