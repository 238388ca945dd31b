//! `kansli meeting` and `kansli extract`: the sekreterare's meetings, agendas, decisions and
//! protocol extracts.

use clap::Subcommand;

use super::CliError;
use super::workflow::engine_for;
use crate::config::Settings;
use crate::domain::calendar::parse_date;
use crate::domain::protocol::{ParagraphKind, RemarkKind, VoteChoice};
use crate::service::{
    Actor, AttendanceInput, DocumentFormat, Kansli, ParagraphInput, ParagraphRef, RemarkInput,
    VoteInput,
};

/// `kansli meeting ...`
#[derive(Debug, Subcommand)]
pub enum MeetingCommand {
    /// Plan a meeting of an organ; prints its id on the last line.
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
        /// When, as the protocol writes it (13.00-15.30).
        #[arg(long)]
        time: Option<String>,
        /// Where and when the protocol is to be justerat ("Kommunkansliet 2026-12-14").
        #[arg(long)]
        justering: Option<String>,
    },
    /// A meeting's protocol: printed as HTML, or written as PDF/A-2b with --pdf.
    Protocol {
        /// The meeting's id.
        meeting: i32,
        /// Write the PDF/A-2b to this file instead of printing the HTML.
        #[arg(long, value_name = "FILE")]
        pdf: Option<std::path::PathBuf>,
    },
    /// The meetings, with where they stand, their agendas and paragraphs.
    List,
    /// Put an ärende on a meeting's agenda (anmälan), or with --title an item without one.
    Add {
        /// The meeting's id.
        meeting: i32,
        /// The ärende's number.
        #[arg(required_unless_present = "title", conflicts_with = "title")]
        number: Option<String>,
        /// An item without an ärende: "Månadsrapport".
        #[arg(long)]
        title: Option<String>,
    },
    /// Send the kallelse with the föredragningslista to the organ's ledamöter and ersättare,
    /// and register it in each ärende on the agenda.
    Kallelse {
        /// The meeting's id.
        meeting: i32,
    },
    /// Move an agenda item one place up or down.
    Move {
        /// The meeting's id.
        meeting: i32,
        /// The item's position on the agenda.
        position: i32,
        /// Up (earlier); without it, down.
        #[arg(long)]
        up: bool,
    },
    /// Record who is at the meeting: every ledamot serves unless --absent; the meeting is held.
    Attend {
        /// The meeting's id.
        meeting: i32,
        /// The ordförande (a tjänstgörande ledamot).
        #[arg(long)]
        chair: String,
        /// The sekreterare [default: you].
        #[arg(long)]
        secretary: Option<String>,
        /// A ledamot who is away; repeat for several.
        #[arg(long)]
        absent: Vec<String>,
        /// An ersättare serving for an absent ledamot: "ERSÄTTARE=LEDAMOT"; repeat.
        #[arg(long)]
        substitute: Vec<String>,
        /// An ersättare present without serving; repeat.
        #[arg(long)]
        ersattare: Vec<String>,
        /// Someone else present: "NAME, ROLE" ("Kim Falk, kommundirektör"); repeat.
        #[arg(long)]
        other: Vec<String>,
    },
    /// Record the justering of a meeting's protocol and its anslag; prints the last day for
    /// appeal alone on the last line.
    Justera {
        /// The meeting's id.
        meeting: i32,
        /// A justerare (present at the meeting); repeat for several.
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
        /// Send the decision on to this ärende (a nämnd's to kommunstyrelsen's): at the
        /// justering its protokollsutdrag is registered there as an inkommande handling.
        #[arg(long, value_name = "NUMBER")]
        send_on: Option<String>,
        #[command(flatten)]
        debate: Debate,
    },
    /// Send an ärende back for more preparation (återremiss); prints the paragraph.
    Return {
        /// The meeting's id.
        meeting: i32,
        /// The ärende's number.
        number: String,
        /// The decision's text [default: the usual sentence]; repeat for several att-satser.
        #[arg(long = "att")]
        att: Vec<String>,
        #[command(flatten)]
        debate: Debate,
    },
    /// Postpone an ärende (bordläggning): it goes onto the organ's next meeting; prints the
    /// paragraph.
    Postpone {
        /// The meeting's id.
        meeting: i32,
        /// The ärende's number.
        number: String,
        #[command(flatten)]
        debate: Debate,
    },
    /// Record an information item ("… noterar informationen"), on an ärende or under a title.
    Inform {
        /// The meeting's id.
        meeting: i32,
        /// The ärende's number, if it has one.
        #[arg(required_unless_present = "title")]
        number: Option<String>,
        /// The heading, for an item without an ärende ("Månadsrapport").
        #[arg(long)]
        title: Option<String>,
        /// The text; repeat for several paragraphs [default: "… noterar informationen."].
        #[arg(long)]
        text: Vec<String>,
    },
    /// Record a paragraph without an ärende: Mötets öppnande, Val av justerare.
    Note {
        /// The meeting's id.
        meeting: i32,
        /// The heading.
        #[arg(long)]
        title: String,
        /// The text; repeat for several paragraphs.
        #[arg(long, required = true)]
        text: Vec<String>,
    },
}

/// What was said and voted on at a paragraph.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Debate {
    /// A yrkande: "Lena Ek (V): avslag"; repeat.
    #[arg(long)]
    yrkande: Vec<String>,
    /// The beslutsgång: how the ordförande put the proposals.
    #[arg(long)]
    beslutsgang: Option<String>,
    /// What an omröstning was between: "Ja för arbetsutskottets förslag, nej för avslag".
    #[arg(long, requires = "vote")]
    vote_question: Option<String>,
    /// A ledamot's vote in the omröstning: "NAME=ja|nej|avstår"; repeat for every
    /// tjänstgörande ledamot.
    #[arg(long, requires = "vote_question")]
    vote: Vec<String>,
    /// A reservation: "NAME: TEXT"; repeat.
    #[arg(long)]
    reservation: Vec<String>,
    /// A protokollsanteckning: "NAME: TEXT"; repeat.
    #[arg(long)]
    anteckning: Vec<String>,
    /// A ledamot who is jävig and takes no part; repeat.
    #[arg(long)]
    jav: Vec<String>,
}

impl Debate {
    /// Fills in the paragraph's yrkanden, omröstning and remarks.
    fn into_input(self, input: &mut ParagraphInput) -> Result<(), CliError> {
        input.yrkanden = self.yrkande;
        input.beslutsgang = self.beslutsgang;
        if let Some(question) = self.vote_question {
            let mut votes = Vec::new();
            for v in &self.vote {
                let (name, choice) = v.split_once('=').ok_or_else(|| {
                    CliError::Usage(format!("--vote: {v:?} is not NAME=ja|nej|avstår"))
                })?;
                let choice: VoteChoice = choice
                    .parse()
                    .map_err(|e| CliError::Usage(format!("--vote: {e}")))?;
                votes.push((name.trim().to_owned(), choice));
            }
            input.vote = Some(VoteInput { question, votes });
        }
        for (flag, kind, list) in [
            ("--reservation", RemarkKind::Reservation, &self.reservation),
            ("--anteckning", RemarkKind::Anteckning, &self.anteckning),
        ] {
            for r in list {
                let (name, text) = r
                    .split_once(':')
                    .ok_or_else(|| CliError::Usage(format!("{flag}: {r:?} is not NAME: TEXT")))?;
                input.remarks.push(RemarkInput {
                    kind,
                    name: name.trim().to_owned(),
                    text: text.trim().to_owned(),
                });
            }
        }
        for name in self.jav {
            input.remarks.push(RemarkInput {
                kind: RemarkKind::Jav,
                name,
                text: String::new(),
            });
        }
        Ok(())
    }
}

/// Att-satser as typed, each starting with "att".
fn att_satser(att: &[String]) -> Vec<String> {
    att.iter()
        .map(|a| format!("att {}", a.trim().trim_start_matches("att ").trim()))
        .collect()
}

pub(super) async fn meeting(
    settings: &Settings,
    kansli: &Kansli,
    command: MeetingCommand,
    actor: &Actor,
) -> Result<(), CliError> {
    let engine = engine_for(settings, kansli)?;
    let paragraph = match command {
        MeetingCommand::Create {
            organ,
            date,
            place,
            time,
            justering,
        } => {
            let date = parse_date("--date", &date).map_err(CliError::Usage)?;
            let m = engine
                .plan_meeting(
                    &organ,
                    date,
                    &place,
                    time.as_deref(),
                    justering.as_deref(),
                    actor,
                )
                .await?;
            println!(
                "Sammanträde {} {} ({}) planerat.",
                m.organ_code, m.date, m.place
            );
            println!("{}", m.id);
            return Ok(());
        }
        MeetingCommand::Protocol { meeting, pdf } => {
            let format = match pdf {
                Some(_) => DocumentFormat::Pdf,
                None => DocumentFormat::Html,
            };
            let document = engine.protocol_document(meeting, format).await?;
            return write_or_print(document, pdf.as_deref());
        }
        MeetingCommand::List => {
            for m in engine.meeting_views().await?.into_iter().rev() {
                println!(
                    "{:>4}  {} {:<6} {} ({})",
                    m.id, m.date, m.organ_code, m.place, m.stage_label
                );
                if !m.chair.is_empty() {
                    println!(
                        "        Ordförande: {}; sekreterare: {}",
                        m.chair, m.secretary
                    );
                }
                for item in m.agenda.iter().chain(&m.other_paragraphs) {
                    let what = match item.case_number.as_str() {
                        "" => item.title.clone(),
                        number => format!("{number} {}", item.title),
                    };
                    match &item.paragraph {
                        Some(label) => println!(
                            "        {label}  {what} ({}): {}",
                            item.kind,
                            item.decision.join(" ")
                        ),
                        None => println!("        {}. {what}", item.position),
                    }
                }
            }
            return Ok(());
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
            return Ok(());
        }
        MeetingCommand::Add {
            meeting,
            number,
            title,
        } => {
            match (number, title) {
                (Some(number), _) => {
                    engine.add_to_agenda(meeting, &number, actor).await?;
                    println!("{number} anmält till sammanträde {meeting}.");
                }
                (None, Some(title)) => {
                    engine.add_item_to_agenda(meeting, &title, actor).await?;
                    println!("{title} uppsatt på föredragningslistan för sammanträde {meeting}.");
                }
                (None, None) => {
                    return Err(CliError::Usage("give an ärende's number or --title".into()));
                }
            }
            return Ok(());
        }
        MeetingCommand::Kallelse { meeting } => {
            let sent = engine.send_kallelse(meeting, actor).await?;
            println!(
                "Kallelsen till sammanträde {meeting} är skickad till {sent} ledamöter och ersättare."
            );
            return Ok(());
        }
        MeetingCommand::Move {
            meeting,
            position,
            up,
        } => {
            engine
                .move_agenda_item(meeting, position, up, actor)
                .await?;
            println!(
                "Punkt {position} flyttad {}.",
                if up { "upp" } else { "ned" }
            );
            return Ok(());
        }
        MeetingCommand::Attend {
            meeting,
            chair,
            secretary,
            absent,
            substitute,
            ersattare,
            other,
        } => {
            let pair = |flag: &str, text: &str, sep: char| {
                text.split_once(sep)
                    .map(|(a, b)| (a.trim().to_owned(), b.trim().to_owned()))
                    .ok_or_else(|| CliError::Usage(format!("{flag}: {text:?} lacks {sep:?}")))
            };
            let input = AttendanceInput {
                chair,
                secretary,
                absent,
                substitutes: substitute
                    .iter()
                    .map(|s| pair("--substitute", s, '='))
                    .collect::<Result<_, _>>()?,
                ersattare,
                others: other
                    .iter()
                    .map(|o| pair("--other", o, ','))
                    .collect::<Result<_, _>>()?,
            };
            for w in engine.record_attendance(meeting, &input, actor).await? {
                eprintln!("kansli: varning: {w}");
            }
            println!("Närvaron är registrerad; sammanträdet {meeting} är genomfört.");
            return Ok(());
        }
        MeetingCommand::Decide {
            meeting,
            number,
            att,
            proposal_to,
            send_to,
            send_on,
            debate,
        } => {
            let kind = match &proposal_to {
                Some(_) => ParagraphKind::Forslag,
                None => ParagraphKind::Beslut,
            };
            let mut input = ParagraphInput::on_case(kind, &number, att_satser(&att));
            input.proposal_to = proposal_to;
            input.recipients = send_to;
            input.forward_to = send_on;
            debate.into_input(&mut input)?;
            (meeting, input)
        }
        MeetingCommand::Return {
            meeting,
            number,
            att,
            debate,
        } => {
            let mut input =
                ParagraphInput::on_case(ParagraphKind::Aterremiss, &number, att_satser(&att));
            debate.into_input(&mut input)?;
            (meeting, input)
        }
        MeetingCommand::Postpone {
            meeting,
            number,
            debate,
        } => {
            let mut input =
                ParagraphInput::on_case(ParagraphKind::Bordlaggning, &number, Vec::new());
            debate.into_input(&mut input)?;
            (meeting, input)
        }
        MeetingCommand::Inform {
            meeting,
            number,
            title,
            text,
        } => {
            let mut input = ParagraphInput::on_case(
                ParagraphKind::Information,
                number.as_deref().unwrap_or_default(),
                text,
            );
            input.case_number = number;
            input.title = title;
            (meeting, input)
        }
        MeetingCommand::Note {
            meeting,
            title,
            text,
        } => {
            let mut input = ParagraphInput::on_case(ParagraphKind::Ovrigt, "", text);
            input.case_number = None;
            input.title = Some(title);
            (meeting, input)
        }
    };
    let (meeting, input) = paragraph;
    let p = engine.record_paragraph(meeting, input, actor).await?;
    let what = p.case_number.clone().unwrap_or_default();
    match p.workflow.as_str() {
        "" => println!("{} {what}", p.label),
        workflow => println!("{} {what}: {workflow}", p.label),
    }
    println!("{}", p.label);
    if p.needs_attention {
        return Err(CliError::NeedsAttention(format!(
            "{} is recorded and stands, but the ärende's workflow did not move: {}; it waits for \
             a registrator",
            p.label, p.workflow
        )));
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
