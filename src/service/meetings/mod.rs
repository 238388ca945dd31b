//! Meetings of the organs: their life (planned, kallelse sent, held, justerat, anslaget), the
//! föredragningslista, the närvaro, and the protocol's numbered paragraphs, `KSAU § 12/26`, one
//! series per organ and calendar year.
//!
//! - [`life`]: planning, the agenda and its order, the närvaro.
//! - [`paragraphs`]: a paragraph of any kind, with the step it moves the ärende's workflow by
//!   in the same transaction.
//! - [`justering`]: the protocol made final, and the decisions in it given effect.
//! - [`protocol`]: the protocol as a document.
//!
//! The events that move an ärende are its workflow's own, declared in its file (`meetings:`):
//! no workflow, state or event is named here.

mod justering;
mod life;
mod paragraphs;
mod protocol;

use chrono::NaiveDate;
use serde::Serialize;

pub use life::AttendanceInput;
pub use paragraphs::{ParagraphInput, ParagraphView, RemarkInput, VoteInput};
pub(crate) use protocol::{attendance_into, beslut_lead};

use super::{Engine, ServiceError};
use crate::domain::protocol::{MeetingStage, ParagraphKind, Presence};
use crate::render::DocumentContext;
use crate::store::{MeetingRow, OrgSnapshot, ParagraphRow, ProtocolRow};

/// A meeting as the sekreterare sees it: where it stands, the närvaro, the agenda with its
/// paragraphs, the protocol.
#[derive(Debug, Clone, Serialize)]
pub struct MeetingView {
    /// The meeting's id.
    pub id: i32,
    /// The organ's code.
    pub organ_code: String,
    /// The organ's name.
    pub organ_name: String,
    /// The day.
    pub date: String,
    /// Where.
    pub place: String,
    /// When: `13.00-15.30`.
    pub starts_at: String,
    /// Where and when the protocol is justerat.
    pub justering_at: String,
    /// Where the meeting stands.
    pub stage: MeetingStage,
    /// The same in Swedish.
    pub stage_label: String,
    /// Whether the kallelse has gone out.
    pub kallat: bool,
    /// Whether the närvaro is recorded (the meeting is held).
    pub held: bool,
    /// The ordförande, once the närvaro is recorded.
    pub chair: String,
    /// The sekreterare.
    pub secretary: String,
    /// Those who serve (tjänstgörande), by name: who may vote, reserve and be jävig.
    pub serving: Vec<String>,
    /// The närvaro as the protocol lists it.
    pub attendance: Vec<String>,
    /// The föredragningslista, in order.
    pub agenda: Vec<AgendaEntry>,
    /// Paragraphs that answer no agenda item (Val av justerare), in number order.
    pub other_paragraphs: Vec<AgendaEntry>,
    /// How many ärenden are on it.
    pub cases: usize,
    /// How many paragraphs the protocol has: once it has one, the närvaro stands.
    pub paragraphs: usize,
    /// Whether the protocol is justerat.
    pub justerat: bool,
    /// The protocol's dates once justerat: justerat, anslaget, last day for appeal.
    pub justering: Option<(String, String, String)>,
}

/// An item of a meeting's agenda (an ärende or an item with a title), with its paragraph once
/// recorded.
#[derive(Debug, Clone, Serialize)]
pub struct AgendaEntry {
    /// The position on the agenda (0 for a paragraph that answers no item).
    pub position: i32,
    /// The ärende's number; empty for an item without one.
    pub case_number: String,
    /// Its public title, or the item's own.
    pub title: String,
    /// `KS § 12/26`, once the paragraph is recorded.
    pub paragraph: Option<String>,
    /// What the paragraph records, in Swedish.
    pub kind: String,
    /// The decision, att-sats by att-sats.
    pub decision: Vec<String>,
}

/// The organ's name, or its code when the organisation no longer has it.
pub(crate) fn organ_name(org: &OrgSnapshot, code: &str) -> String {
    org.organs
        .iter()
        .find(|o| o.code == code)
        .map_or_else(|| code.to_owned(), |o| o.name.clone())
}

/// The non-empty lines of a text, trimmed: a decision's att-satser, a list of recipients or
/// justerare as they are stored and typed, one a line.
pub fn lines_of(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

/// A justerat protocol's justerare and dates, as documents show them.
pub(crate) fn justering_into(protocol: &ProtocolRow, context: &mut DocumentContext) {
    context.justerare = protocol.justerare.lines().collect::<Vec<_>>().join(", ");
    context.justerad_on = protocol.justerad_on.to_string();
    context.posted_on = protocol.posted_on.to_string();
    context.taken_down_on = protocol.taken_down_on.to_string();
    context.appeal_last_day = protocol.appeal_last_day.to_string();
}

/// A paragraph's label: organ, number, two-digit year.
pub fn paragraph_label(p: &ParagraphRow) -> String {
    format!(
        "{} § {}/{:02}",
        p.organ_code,
        p.number,
        p.year.rem_euclid(100)
    )
}

/// A decision on an ärende as its bevakning shows it: where it was taken, and when it takes
/// effect and can be appealed, or by when it must be justerat.
#[derive(Debug, Clone, Serialize)]
pub struct DecisionView {
    /// `KS § 12/26`.
    pub label: String,
    /// The organ's name.
    pub organ: String,
    /// The meeting's day.
    pub meeting_date: NaiveDate,
    /// The organ the paragraph proposes to, for a proposal.
    pub proposal_to: Option<String>,
    /// What the paragraph records, in Swedish.
    pub kind: String,
    /// Why the ärende's workflow did not take it, while no registrator has seen to it.
    pub attention: Option<String>,
    /// The paragraph's id, for a registrator to mark it seen to.
    pub paragraph_id: i32,
    /// Once the protocol is justerat: justerat, anslaget, the last day for appeal.
    pub justering: Option<(NaiveDate, NaiveDate, NaiveDate)>,
    /// The last day for justering (KL 5 kap 69 §: 14 days after the meeting).
    pub justering_latest: NaiveDate,
}

impl DecisionView {
    /// The decision's dates in Swedish, as the ärende page and `kansli case show` print them.
    pub fn dates_in_swedish(&self) -> String {
        match self.justering {
            Some((justerad, posted, last)) => {
                format!("justerat {justerad}, anslaget {posted}, sista dag för överklagande {last}")
            }
            None => format!("ej justerat; ska justeras senast {}", self.justering_latest),
        }
    }
}

/// A paragraph's kind (its stored code) in Swedish.
fn kind_label(code: &str) -> String {
    code.parse::<ParagraphKind>()
        .map_or_else(|_| code.to_owned(), |k| k.label().to_owned())
}

/// A decision the ärende's workflow did not take, waiting for a registrator.
#[derive(Debug, Clone, Serialize)]
pub struct AttentionItem {
    /// The paragraph's id.
    pub paragraph_id: i32,
    /// `KS § 12/26`.
    pub label: String,
    /// The ärende's number.
    pub case_number: String,
    /// Its public title.
    pub title: String,
    /// Why the workflow did not take it.
    pub why: String,
}

impl super::Kansli {
    /// Decisions whose ärende's workflow did not take them, for the registrators' inbox.
    pub async fn decisions_needing_attention(&self) -> Result<Vec<AttentionItem>, ServiceError> {
        let book = super::diarium::SeriesBook::load(self).await?;
        let mut out = Vec::new();
        for p in self.store.paragraphs_needing_attention().await? {
            let Some(case_id) = p.case_id else { continue };
            let Some(case) = self.store.case_by_id(case_id).await? else {
                continue;
            };
            out.push(AttentionItem {
                paragraph_id: p.id,
                label: paragraph_label(&p),
                case_number: book.render(&case)?,
                title: case.public_title.clone(),
                why: p.workflow_note.clone().unwrap_or_default(),
            });
        }
        Ok(out)
    }

    /// The paragraphs an ärende has got, oldest meeting first, with their justering and appeal
    /// dates.
    pub async fn decisions_of(&self, number: &str) -> Result<Vec<DecisionView>, ServiceError> {
        let book = super::diarium::SeriesBook::load(self).await?;
        let case = self.case_row(&book, number).await?;
        let org = self.store.org_snapshot().await?;
        let tx = self.store.begin().await?;
        let paragraphs = tx.paragraphs_of_case(case.id).await?;
        let mut out = Vec::with_capacity(paragraphs.len());
        for (p, meeting) in paragraphs {
            let justering = tx
                .protocol_of(meeting.id)
                .await?
                .map(|j| (j.justerad_on, j.posted_on, j.appeal_last_day));
            out.push(DecisionView {
                label: paragraph_label(&p),
                organ: organ_name(&org, &meeting.organ_code),
                meeting_date: meeting.date,
                proposal_to: p.proposal_to.clone(),
                kind: kind_label(&p.kind),
                attention: p
                    .workflow_note
                    .clone()
                    .filter(|_| p.attention_cleared_at.is_none()),
                paragraph_id: p.id,
                justering,
                justering_latest: crate::domain::deadline::justering_latest(meeting.date),
            });
        }
        tx.commit().await?;
        Ok(out)
    }
}

/// The meeting's day, offered with a decision (the justeringsfrist runs from it).
pub const MEETING_DATE: &str = "meeting_date";
/// The day the protocol was justerat, offered with the justering.
pub const JUSTERAD_ON: &str = "justerad_on";
/// The day the justering was announced on the anslagstavla, offered with the justering.
pub const POSTED_ON: &str = "posted_on";
/// The last day for laglighetsprövning (lag 1930:173, from the anslag), offered with the
/// justering: the appeal period ends with it.
pub const APPEAL_LAST_DAY: &str = "appeal_last_day";

/// Holds `meeting` for this transaction's changes, refusing them when its protocol is
/// justerat: a justerat protocol is a final allmän handling. Returns the meeting as read under
/// the hold.
async fn held_open(
    tx: &crate::store::Tx,
    meeting: &MeetingRow,
) -> Result<MeetingRow, ServiceError> {
    match tx.hold_meeting(meeting.id).await? {
        None => Err(ServiceError::NotFound(format!(
            "meeting {} does not exist",
            meeting.id
        ))),
        Some((held, None)) => Ok(held),
        Some((_, Some(protocol))) => Err(justerat(meeting, &protocol)),
    }
}

/// The refusal of a change to a justerat protocol.
fn justerat(meeting: &MeetingRow, protocol: &ProtocolRow) -> ServiceError {
    ServiceError::Final(format!(
        "the protocol of meeting {} ({} {}) is justerat ({}); nothing in it can be added, \
         removed or changed: a correction is a new paragraph at a later meeting",
        meeting.id, meeting.organ_code, meeting.date, protocol.justerad_on
    ))
}

impl Engine {
    /// The facts of a meeting step (the days above) that the instance's workflow declares as
    /// variables of type `date`: sent with the step's event, so that its timers can run from
    /// them (`after_date`). A workflow that declares none gets none.
    async fn facts_for(
        &self,
        instance: &crate::store::InstanceRow,
        facts: &[(&str, NaiveDate)],
    ) -> Result<serde_json::Map<String, serde_json::Value>, ServiceError> {
        let workflow = self.workflow_of_instance(instance.clone()).await?;
        Ok(facts
            .iter()
            .filter(|(name, _)| {
                workflow
                    .variables
                    .get(*name)
                    .is_some_and(|v| v.kind == crate::workflow::model::VariableKind::Date)
            })
            .map(|(name, day)| ((*name).to_owned(), serde_json::Value::from(day.to_string())))
            .collect())
    }

    /// The organ's ledamöter and ersättare on the meeting's day, by name, as the närvaro form
    /// lists them: `(ledamöter, ersättare)`, each as its name and "name (party)".
    #[allow(clippy::type_complexity)]
    pub async fn members_of_meeting(
        &self,
        meeting_id: i32,
    ) -> Result<(Vec<(String, String)>, Vec<(String, String)>), ServiceError> {
        let meeting = self.meeting(meeting_id).await?;
        let org = self.kansli().store().org_snapshot().await?;
        let (ledamoter, ersattare): (Vec<_>, Vec<_>) = org
            .members_on(&meeting.organ_code, meeting.date)
            .into_iter()
            .partition(|m| m.seat == crate::domain::protocol::Seat::Ledamot.code());
        let named = |list: Vec<&crate::store::OrganMemberRow>| {
            list.into_iter()
                .map(|m| {
                    (
                        m.name.clone(),
                        protocol::with_party(&m.name, Some(&m.party)),
                    )
                })
                .collect()
        };
        Ok((named(ledamoter), named(ersattare)))
    }

    /// The organs that hold meetings, by code: `(code, name)`.
    pub async fn organs(&self) -> Result<Vec<(String, String)>, ServiceError> {
        let org = self.kansli().store().org_snapshot().await?;
        Ok(org.organs.into_iter().map(|o| (o.code, o.name)).collect())
    }

    /// Every meeting, newest first, as the sekreterare's list shows them.
    pub async fn meeting_views(&self) -> Result<Vec<MeetingView>, ServiceError> {
        let org = self.kansli().store().org_snapshot().await?;
        let mut views = Vec::new();
        for m in self.kansli().store().meetings().await?.into_iter().rev() {
            views.push(self.view_of(&org, m).await?);
        }
        Ok(views)
    }

    /// A meeting with its agenda, paragraphs and protocol.
    pub async fn meeting_view(&self, meeting_id: i32) -> Result<MeetingView, ServiceError> {
        let meeting = self.meeting(meeting_id).await?;
        let org = self.kansli().store().org_snapshot().await?;
        self.view_of(&org, meeting).await
    }

    async fn view_of(
        &self,
        org: &OrgSnapshot,
        meeting: MeetingRow,
    ) -> Result<MeetingView, ServiceError> {
        let meeting_id = meeting.id;
        let store = self.kansli().store();
        let book = super::diarium::SeriesBook::from_rows(org.series.clone())?;
        let paragraphs = store.paragraphs_of_meeting(meeting_id).await?;
        let entry = |position: i32,
                     case_number: String,
                     title: String,
                     paragraph: Option<&ParagraphRow>| AgendaEntry {
            position,
            case_number,
            title,
            paragraph: paragraph.map(paragraph_label),
            kind: paragraph.map(|p| kind_label(&p.kind)).unwrap_or_default(),
            decision: paragraph.map(|p| lines_of(&p.decision)).unwrap_or_default(),
        };
        let mut agenda = Vec::new();
        let mut cases = 0;
        for item in store.agenda(meeting_id).await? {
            let paragraph = paragraphs
                .iter()
                .find(|p| p.agenda_item_id == Some(item.id));
            let (number, title) = match item.case_id {
                Some(case_id) => {
                    cases += 1;
                    let case = store
                        .case_by_id(case_id)
                        .await?
                        .ok_or_else(|| anyhow::anyhow!("agenda item {} has no ärende", item.id))?;
                    (book.render(&case)?, case.public_title.clone())
                }
                None => (String::new(), item.title.clone().unwrap_or_default()),
            };
            agenda.push(entry(item.position, number, title, paragraph));
        }
        let mut other_paragraphs = Vec::new();
        for p in paragraphs.iter().filter(|p| p.agenda_item_id.is_none()) {
            let number = match p.case_id {
                Some(id) => match store.case_by_id(id).await? {
                    Some(case) => book.render(&case)?,
                    None => String::new(),
                },
                None => String::new(),
            };
            other_paragraphs.push(entry(
                0,
                number,
                p.title.clone().unwrap_or_default(),
                Some(p),
            ));
        }
        let attendance = store.attendance(meeting_id).await?;
        let mut listed = DocumentContext::default();
        attendance_into(&attendance, meeting.chair.as_deref(), &mut listed);
        let protocol = store.protocol(meeting_id).await?;
        let stage = MeetingStage::of(
            meeting.kallelse_sent_at.is_some(),
            meeting.held_at.is_some(),
            protocol.as_ref().map(|p| (p.posted_on, p.taken_down_on)),
            self.kansli().today(),
        );
        Ok(MeetingView {
            id: meeting.id,
            organ_name: organ_name(org, &meeting.organ_code),
            organ_code: meeting.organ_code,
            date: meeting.date.to_string(),
            place: meeting.place,
            starts_at: meeting.starts_at.unwrap_or_default(),
            justering_at: meeting.justering_at.unwrap_or_default(),
            stage,
            stage_label: stage.label().to_owned(),
            kallat: meeting.kallelse_sent_at.is_some(),
            held: meeting.held_at.is_some(),
            chair: meeting.chair.unwrap_or_default(),
            secretary: meeting.secretary.unwrap_or_default(),
            serving: attendance
                .iter()
                .filter(|a| {
                    a.presence == Presence::Ledamot.code()
                        || a.presence == Presence::TjanstgorandeErsattare.code()
                })
                .map(|a| a.name.clone())
                .collect(),
            attendance: listed
                .ledamoter
                .into_iter()
                .chain(
                    listed
                        .tjanstgorande_ersattare
                        .into_iter()
                        .map(|e| format!("{e} (tjänstgörande ersättare)")),
                )
                .chain(
                    listed
                        .ersattare
                        .into_iter()
                        .map(|e| format!("{e} (ersättare)")),
                )
                .chain(listed.ovriga)
                .collect(),
            cases,
            paragraphs: paragraphs.len(),
            agenda,
            other_paragraphs,
            justerat: protocol.is_some(),
            justering: protocol.map(|p| {
                (
                    p.justerad_on.to_string(),
                    p.posted_on.to_string(),
                    p.appeal_last_day.to_string(),
                )
            }),
        })
    }

    /// The meeting, refused at once when its protocol is justerat: whatever else is wrong
    /// with a change to a final protocol, that is what the user needs to hear. (The change's
    /// own transaction checks again, under its hold.)
    async fn meeting_open(&self, id: i32) -> Result<MeetingRow, ServiceError> {
        let meeting = self.meeting(id).await?;
        match self.kansli().store().protocol(id).await? {
            Some(protocol) => Err(justerat(&meeting, &protocol)),
            None => Ok(meeting),
        }
    }

    async fn meeting(&self, id: i32) -> Result<MeetingRow, ServiceError> {
        self.kansli()
            .store()
            .meeting(id)
            .await?
            .ok_or_else(|| ServiceError::NotFound(format!("meeting {id} does not exist")))
    }

    async fn case_row_of(&self, number: &str) -> Result<crate::store::CaseRow, ServiceError> {
        let book = super::diarium::SeriesBook::load(self.kansli()).await?;
        self.kansli().case_row(&book, number).await
    }
}
