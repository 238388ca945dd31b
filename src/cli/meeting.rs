//! `kansli meeting` and `kansli extract`: the sekreterare's meetings, agendas, decisions and
//! protocol extracts.

use clap::Subcommand;

use super::CliError;
use super::workflow::engine_for;
use crate::config::Settings;
use crate::domain::calendar::parse_date;
use crate::service::{Actor, DocumentFormat, Kansli, ParagraphRef, paragraph_label};

/// `kansli meeting ...`
#[derive(Debug, Subcommand)]
pub enum MeetingCommand {
    /// Create a meeting of an organ; prints its id on the last line.
    Create {
        /// The organ, e.g. KSAU.
        #[arg(long)]
        organ: String,
        /// The day (YYYY-MM-DD).
        #[arg(long)]
        date: String,
        /// Where.
        #[arg(long)]
        place: String,
    },
    /// A meeting's protocol: printed as HTML, or written as PDF/A-2b with --pdf.
    Protocol {
        /// The meeting's id.
        meeting: i32,
        /// Write the PDF/A-2b to this file instead of printing the HTML.
        #[arg(long, value_name = "FILE")]
        pdf: Option<std::path::PathBuf>,
    },
    /// The meetings, with their agendas and paragraphs.
    List,
    /// Put an ärende on a meeting's agenda (anmälan).
    Add {
        /// The meeting's id.
        meeting: i32,
        /// The ärende's number.
        number: String,
    },
    /// Record the justering of a meeting's protocol and its anslag; prints the last day for
    /// appeal alone on the last line.
    Justera {
        /// The meeting's id.
        meeting: i32,
        /// A justerare; repeat for several.
        #[arg(long, required = true)]
        justerare: Vec<String>,
        /// The day it was justerat (YYYY-MM-DD).
        #[arg(long)]
        date: String,
        /// The day the notice went up on the anslagstavla [default: the justering day].
        #[arg(long)]
        anslag: Option<String>,
    },
    /// Record the decision on an ärende; prints the paragraph (`KSAU § 12/26`) on the last line.
    Decide {
        /// The meeting's id.
        meeting: i32,
        /// The ärende's number.
        number: String,
        /// An att-sats of the decision; repeat for several.
        #[arg(long = "att", required = true)]
        att: Vec<String>,
        /// The decision proposes to this organ (e.g. KS) rather than deciding.
        #[arg(long)]
        proposal_to: Option<String>,
        /// Beslutet skickas till; repeat for several.
        #[arg(long = "send-to")]
        send_to: Vec<String>,
    },
}

pub(super) async fn meeting(
    settings: &Settings,
    kansli: &Kansli,
    command: MeetingCommand,
    actor: &Actor,
) -> Result<(), CliError> {
    let engine = engine_for(settings, kansli)?;
    match command {
        MeetingCommand::Create { organ, date, place } => {
            let date = parse_date("--date", &date).map_err(CliError::Usage)?;
            let m = engine.create_meeting(&organ, date, &place, actor).await?;
            println!(
                "Sammanträde {} {} ({}) skapat.",
                m.organ_code, m.date, m.place
            );
            println!("{}", m.id);
        }
        MeetingCommand::Protocol { meeting, pdf } => {
            let format = match pdf {
                Some(_) => DocumentFormat::Pdf,
                None => DocumentFormat::Html,
            };
            let document = engine.protocol_document(meeting, format).await?;
            write_or_print(document, pdf.as_deref())?;
        }
        MeetingCommand::List => {
            let store = kansli.store();
            for m in store
                .meetings()
                .await
                .map_err(crate::service::ServiceError::from)?
            {
                println!("{:>4}  {} {:<6} {}", m.id, m.date, m.organ_code, m.place);
                for item in store
                    .agenda(m.id)
                    .await
                    .map_err(crate::service::ServiceError::from)?
                {
                    println!(
                        "        {}. {}",
                        item.position,
                        kansli.case_number(item.case_id).await?
                    );
                }
                for p in store
                    .paragraphs_of_meeting(m.id)
                    .await
                    .map_err(crate::service::ServiceError::from)?
                {
                    println!(
                        "        {}  {}: {}",
                        paragraph_label(&p),
                        kansli.case_number(p.case_id).await?,
                        p.decision.replace('\n', " ")
                    );
                }
            }
        }
        MeetingCommand::Justera {
            meeting,
            justerare,
            date,
            anslag,
        } => {
            let date = parse_date("--date", &date).map_err(CliError::Usage)?;
            let anslag = anslag
                .as_deref()
                .map(|a| parse_date("--anslag", a))
                .transpose()
                .map_err(CliError::Usage)?;
            let (p, warnings) = engine
                .justera(meeting, &justerare, date, anslag, actor)
                .await?;
            for w in warnings {
                eprintln!("kansli: varning: {w}");
            }
            println!("Justerat:                   {}", p.justerad_on);
            println!("Anslaget:                   {}", p.posted_on);
            println!("Anslaget tas ned:           {}", p.taken_down_on);
            println!("Sista dag för överklagande:");
            println!("{}", p.appeal_last_day);
        }
        MeetingCommand::Add { meeting, number } => {
            engine.add_to_agenda(meeting, &number, actor).await?;
            println!("{number} anmält till sammanträde {meeting}.");
        }
        MeetingCommand::Decide {
            meeting,
            number,
            att,
            proposal_to,
            send_to,
        } => {
            let decision = att
                .iter()
                .map(|a| format!("att {}", a.trim().trim_start_matches("att ").trim()))
                .collect::<Vec<_>>()
                .join("\n");
            let p = engine
                .record_decision(
                    meeting,
                    &number,
                    &decision,
                    proposal_to.as_deref(),
                    &send_to,
                    actor,
                )
                .await?;
            println!("{} {}: {}", p.label, p.case_number, p.workflow);
            println!("{}", p.label);
            if !p.workflow_moved {
                return Err(CliError::NeedsAttention(format!(
                    "{} is recorded and stands, but the ärende's workflow did not move: {}",
                    p.label, p.workflow
                )));
            }
        }
    }
    Ok(())
}

/// `kansli extract`
#[derive(Debug, clap::Args)]
pub struct ExtractArgs {
    /// The ärende's number.
    pub number: String,
    /// The paragraph: `KS § 12/26` (or `KS 12/26`).
    pub paragraph: String,
    /// Write the PDF/A-2b to this file instead of printing the HTML.
    #[arg(long, value_name = "FILE")]
    pub pdf: Option<std::path::PathBuf>,
}

pub(super) async fn extract(
    settings: &Settings,
    kansli: &Kansli,
    args: ExtractArgs,
) -> Result<(), CliError> {
    let paragraph: ParagraphRef = args
        .paragraph
        .parse()
        .map_err(|e: String| CliError::Usage(format!("paragraph: {e}")))?;
    let engine = engine_for(settings, kansli)?;
    let format = match args.pdf {
        Some(_) => DocumentFormat::Pdf,
        None => DocumentFormat::Html,
    };
    let document = engine.extract_as(&args.number, &paragraph, format).await?;
    write_or_print(document, args.pdf.as_deref())
}

/// Writes a PDF to `path` and prints the path, or prints the HTML.
fn write_or_print(document: Vec<u8>, path: Option<&std::path::Path>) -> Result<(), CliError> {
    match path {
        None => print!("{}", String::from_utf8_lossy(&document)),
        Some(path) => {
            std::fs::write(path, document).map_err(|e| {
                CliError::Usage(format!("--pdf: cannot write {}: {e}", path.display()))
            })?;
            println!("{}", path.display());
        }
    }
    Ok(())
}
