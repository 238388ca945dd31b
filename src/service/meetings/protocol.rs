//! A meeting's protocol as a document (KL 5 kap 67-69 §§): the first page with the meeting's
//! time and place, the närvaro (tjänstgörande ledamöter, ersättare, övriga närvarande), the
//! ordförande, sekreterare and the justering's place and time; then the paragraphs in number
//! order, each with its yrkanden, beslutsgång, omröstning, beslut, reservationer,
//! protokollsanteckningar and jäv; last the underskrifter and the anslag.
//!
//! A justerat protocol is rendered as at its justering, so that it reads the same to the byte
//! however often it is asked for.

use super::{justering_into, lines_of, organ_name, paragraph_label};
use crate::domain::protocol::{ParagraphKind, Presence, RemarkKind, Tally, VoteChoice};
use crate::render::{DocumentContext, ProtocolParagraph};
use crate::service::{DocumentFormat, Engine, ServiceError};
use crate::store::{AttendanceRow, OrgSnapshot, ParagraphRow, RemarkRow, VoteRow};

/// A person as protocols name them: "Anna Berg (S)".
pub(crate) fn with_party(name: &str, party: Option<&str>) -> String {
    match party {
        Some(p) if !p.is_empty() => format!("{name} ({p})"),
        _ => name.to_owned(),
    }
}

/// What a paragraph's att-satser follow, with the organ as the subject: "Kommunstyrelsen
/// beslutar", "Kommunstyrelsens arbetsutskott föreslår kommunstyrelsen besluta"; empty when the
/// decision is a sentence of its own.
pub(crate) fn beslut_lead(org: &OrgSnapshot, p: &ParagraphRow) -> String {
    let first = p.decision.lines().next().unwrap_or_default().trim_start();
    if !first.to_lowercase().starts_with("att ") {
        return String::new();
    }
    let organ = organ_name(org, &p.organ_code);
    match &p.proposal_to {
        Some(to) if p.kind == ParagraphKind::Forslag.code() => {
            let to = organ_name(org, to);
            let mut chars = to.chars();
            let to = match chars.next() {
                Some(c) => c.to_lowercase().chain(chars).collect::<String>(),
                None => to,
            };
            format!("{organ} föreslår {to} besluta")
        }
        _ => format!("{organ} beslutar"),
    }
}

/// The närvaro as the protocol's first page lists it.
pub(crate) fn attendance_into(
    attendance: &[AttendanceRow],
    chair: Option<&str>,
    context: &mut DocumentContext,
) {
    for a in attendance {
        let mut who = with_party(&a.name, a.party.as_deref());
        if Some(a.name.as_str()) == chair {
            who.push_str(", ordförande");
        }
        match a.presence.parse::<Presence>() {
            Ok(Presence::Ledamot) => context.ledamoter.push(who),
            Ok(Presence::TjanstgorandeErsattare) => {
                context.tjanstgorande_ersattare.push(match &a.replaces {
                    Some(ledamot) => format!("{who} för {ledamot}"),
                    None => who,
                })
            }
            Ok(Presence::Ersattare) => context.ersattare.push(who),
            Ok(Presence::Ovrig) | Err(_) => context.ovriga.push(match &a.note {
                Some(role) => format!("{}, {role}", a.name),
                None => a.name.clone(),
            }),
        }
    }
}

/// A paragraph with its ärende's number and title, votes and remarks, as the protocol shows it.
fn protocol_paragraph(
    org: &OrgSnapshot,
    p: &ParagraphRow,
    case: Option<(String, String)>,
    votes: &[&VoteRow],
    remarks: &[&RemarkRow],
    chair: &str,
) -> ProtocolParagraph {
    let (case_number, case_title) = case.unwrap_or_default();
    let of = |kind: RemarkKind| remarks.iter().filter(move |r| r.kind == kind.code());
    let counted: Vec<(String, VoteChoice)> = votes
        .iter()
        .filter_map(|v| Some((v.name.clone(), v.choice.parse().ok()?)))
        .collect();
    ProtocolParagraph {
        label: paragraph_label(p),
        case_number,
        title: p.title.clone().unwrap_or(case_title),
        beslut: lines_of(&p.decision),
        beslut_lead: beslut_lead(org, p),
        proposal_to: p.proposal_to.clone().unwrap_or_default(),
        skickas_till: lines_of(&p.recipients),
        kind: p
            .kind
            .parse::<ParagraphKind>()
            .map_or_else(|_| p.kind.clone(), |k| k.label().to_owned()),
        jav: of(RemarkKind::Jav)
            .map(|r| {
                format!(
                    "{} deltar inte i handläggningen på grund av jäv.",
                    with_party(&r.name, r.party.as_deref())
                )
            })
            .collect(),
        yrkanden: lines_of(&p.yrkanden),
        beslutsgang: p.beslutsgang.clone(),
        vote_question: p.vote_question.clone().unwrap_or_default(),
        votes: votes
            .iter()
            .map(|v| {
                let choice = v
                    .choice
                    .parse::<VoteChoice>()
                    .map_or_else(|_| v.choice.clone(), |c| c.label().to_owned());
                format!("{}: {choice}", with_party(&v.name, v.party.as_deref()))
            })
            .collect(),
        vote_result: Tally::count(&counted, chair)
            .map(|t| t.in_swedish())
            .unwrap_or_default(),
        reservationer: of(RemarkKind::Reservation)
            .map(|r| {
                format!(
                    "{} reserverar sig mot beslutet: {}",
                    with_party(&r.name, r.party.as_deref()),
                    r.text
                )
            })
            .collect(),
        anteckningar: of(RemarkKind::Anteckning)
            .map(|r| format!("{}: {}", with_party(&r.name, r.party.as_deref()), r.text))
            .collect(),
    }
}

/// A protocol rendered for keeping: its HTML, and its PDF/A-2b where the build makes PDFs.
pub(crate) struct Rendered {
    pub(crate) html: Vec<u8>,
    pub(crate) pdf: Option<Vec<u8>>,
    /// The paragraphs it holds, by id, and the närvaro, as read for it: a justering stores
    /// it only if they are still so under its hold.
    pub(crate) paragraphs: Vec<i32>,
    pub(crate) attendance: Vec<AttendanceRow>,
}

impl Engine {
    /// A meeting's protocol as a document: its närvaro, every paragraph, and the justering and
    /// anslag once recorded (until then it is marked as not justerat). A justerat protocol is
    /// the one stored at its justering, to the byte.
    pub async fn protocol_document(
        &self,
        meeting_id: i32,
        format: DocumentFormat,
    ) -> Result<Vec<u8>, ServiceError> {
        let store = self.kansli().store();
        let protocol = store.protocol(meeting_id).await?;
        let kept = protocol.as_ref().and_then(|p| match format {
            DocumentFormat::Html => p.html_sha256.clone(),
            DocumentFormat::Pdf => p.pdf_sha256.clone(),
        });
        if let Some(sha256) = kept {
            return store.file(&sha256).await?.ok_or_else(|| {
                ServiceError::Unexpected(anyhow::anyhow!(
                    "the justerat protocol of meeting {meeting_id} is missing from the file store ({sha256})"
                ))
            });
        }
        let (context, now, ..) = self.protocol_context(meeting_id, protocol.as_ref()).await?;
        self.render_on_request("protokoll", &context, format, now)
    }

    /// The protocol as it reads with `protocol`'s justering (one about to be recorded, or
    /// the stored one), in both formats, with what it was read from.
    pub(crate) async fn render_protocol(
        &self,
        meeting_id: i32,
        protocol: &crate::store::ProtocolRow,
    ) -> Result<Rendered, ServiceError> {
        let (context, now, paragraphs, attendance) =
            self.protocol_context(meeting_id, Some(protocol)).await?;
        let html = self.render_on_request("protokoll", &context, DocumentFormat::Html, now)?;
        let pdf = match self.render_on_request("protokoll", &context, DocumentFormat::Pdf, now) {
            Ok(pdf) => Some(pdf),
            // A build without PDFs keeps the HTML alone.
            Err(ServiceError::Invalid(_)) => None,
            Err(e) => return Err(e),
        };
        Ok(Rendered {
            html,
            pdf,
            paragraphs,
            attendance,
        })
    }

    /// What the protocol shows, dated as at its justering when it has one, with the ids of its
    /// paragraphs and its närvaro.
    async fn protocol_context(
        &self,
        meeting_id: i32,
        protocol: Option<&crate::store::ProtocolRow>,
    ) -> Result<
        (
            DocumentContext,
            chrono::DateTime<chrono::Utc>,
            Vec<i32>,
            Vec<AttendanceRow>,
        ),
        ServiceError,
    > {
        let meeting = self.meeting(meeting_id).await?;
        let store = self.kansli().store();
        let org = store.org_snapshot().await?;
        let book = crate::service::diarium::SeriesBook::from_rows(org.series.clone())?;
        let organ = organ_name(&org, &meeting.organ_code);
        let rows = store.paragraphs_of_meeting(meeting_id).await?;
        let ids: Vec<i32> = rows.iter().map(|p| p.id).collect();
        let votes = store.votes_of(&ids).await?;
        let remarks = store.remarks_of(&ids).await?;
        let chair = meeting.chair.clone().unwrap_or_default();
        let mut paragraphs = Vec::with_capacity(rows.len());
        for p in &rows {
            let case = match p.case_id {
                Some(id) => {
                    let case = store
                        .case_by_id(id)
                        .await?
                        .ok_or_else(|| anyhow::anyhow!("paragraph {} has no ärende", p.id))?;
                    Some((book.render(&case)?, case.public_title.clone()))
                }
                None => None,
            };
            let votes: Vec<&VoteRow> = votes.iter().filter(|v| v.paragraph_id == p.id).collect();
            let remarks: Vec<&RemarkRow> =
                remarks.iter().filter(|r| r.paragraph_id == p.id).collect();
            paragraphs.push(protocol_paragraph(&org, p, case, &votes, &remarks, &chair));
        }
        // A justerat protocol is final: it is dated, and its PDF made, as at its justering.
        let now = protocol.map_or_else(|| self.kansli().clock.now(), |p| p.recorded_at);
        let mut context = DocumentContext {
            municipality: crate::service::mail::municipality_of(&org).name,
            description: format!("Protokoll, {organ} {}", meeting.date),
            organ_name: organ,
            meeting_date: meeting.date.to_string(),
            place: meeting.place.clone(),
            starts_at: meeting.starts_at.clone().unwrap_or_default(),
            justering_at: meeting.justering_at.clone().unwrap_or_default(),
            chair: chair.clone(),
            secretary: meeting.secretary.clone().unwrap_or_default(),
            date: crate::domain::calendar::local_date(now).to_string(),
            paragraphs,
            ..Default::default()
        };
        let attendance = store.attendance(meeting_id).await?;
        attendance_into(&attendance, meeting.chair.as_deref(), &mut context);
        if let Some(protocol) = protocol {
            justering_into(protocol, &mut context);
        }
        Ok((context, now, ids, attendance))
    }
}
