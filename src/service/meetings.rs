//! Meetings of the organs: the agenda (föredragningslista) and the decisions recorded as
//! numbered paragraphs, `KSAU § 12/26`, one series per organ and calendar year.
//!
//! Recording a decision writes the paragraph and its history entry in one transaction, then
//! moves the ärende's workflow on with the event its workflow declares (`meetings:` in its
//! file) for a proposal to another organ or for a decision; a justering sends the declared
//! justering event. No workflow, state or event is named here. The paragraph stands even if
//! the workflow does not take the event (it says why), and the event carries the paragraph as
//! its idempotency key.

use chrono::{Datelike, NaiveDate};
use serde::Serialize;

use super::{Actor, DocumentFormat, Engine, Outcome, ServiceError, optional_text, required_text};
use crate::domain::organisation::Role;
use crate::render::{DocumentContext, ProtocolParagraph};
use crate::store::{MeetingRow, NewParagraph, ParagraphRow, ProtocolRow};
use crate::workflow::Sender;

/// A recorded paragraph.
#[derive(Debug, Clone, Serialize)]
pub struct ParagraphView {
    /// `KSAU § 12/26`.
    pub label: String,
    /// The ärende.
    pub case_number: String,
    /// The decision.
    pub decision: String,
    /// What the workflow did: the states before and after, or why it did nothing.
    pub workflow: String,
    /// Whether the workflow took the decision (now or before); when not, the paragraph stands
    /// and a person must see to the ärende.
    pub workflow_moved: bool,
}

/// A meeting as the sekreterare sees it: the agenda, the paragraphs, the protocol.
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
    /// The föredragningslista, in order.
    pub agenda: Vec<AgendaEntry>,
    /// How many ärenden are on it.
    pub cases: usize,
    /// Whether the protocol is justerat.
    pub justerat: bool,
    /// The protocol's dates once justerat: justerat, anslaget, last day for appeal.
    pub justering: Option<(String, String, String)>,
}

/// An ärende on a meeting's agenda, with its paragraph once decided.
#[derive(Debug, Clone, Serialize)]
pub struct AgendaEntry {
    /// The position on the agenda.
    pub position: i32,
    /// The ärende's number.
    pub case_number: String,
    /// Its public title.
    pub title: String,
    /// `KS § 12/26`, once the decision is recorded.
    pub paragraph: Option<String>,
    /// The decision, att-sats by att-sats.
    pub decision: Vec<String>,
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

impl super::Kansli {
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
                organ: org
                    .organs
                    .iter()
                    .find(|o| o.code == meeting.organ_code)
                    .map_or_else(|| meeting.organ_code.clone(), |o| o.name.clone()),
                meeting_date: meeting.date,
                proposal_to: p.proposal_to.clone(),
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
/// justerat: a justerat protocol is a final allmän handling.
async fn held_open(tx: &crate::store::Tx, meeting: &MeetingRow) -> Result<(), ServiceError> {
    match tx.hold_meeting(meeting.id).await? {
        None => Err(ServiceError::NotFound(format!(
            "meeting {} does not exist",
            meeting.id
        ))),
        Some((_, None)) => Ok(()),
        Some((_, Some(protocol))) => Err(ServiceError::Final(format!(
            "the protocol of meeting {} ({} {}) is justerat ({}); nothing in it can be added, \
             removed or changed: a correction is a new paragraph at a later meeting",
            meeting.id, meeting.organ_code, meeting.date, protocol.justerad_on
        ))),
    }
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

    /// Sends a meeting's event (the workflow's own, with the facts it declares) as the
    /// sekreterare who records the meeting, once for `key`.
    async fn send_from_meeting(
        &self,
        instance: crate::store::InstanceRow,
        event: &str,
        facts: serde_json::Map<String, serde_json::Value>,
        actor: &Actor,
        key: &str,
    ) -> Result<Outcome, ServiceError> {
        self.send_to(
            instance,
            event,
            facts,
            Sender::Role(Role::Sekreterare),
            actor,
            Some(key),
        )
        .await
    }

    /// Creates a meeting of an organ.
    pub async fn create_meeting(
        &self,
        organ: &str,
        date: NaiveDate,
        place: &str,
        actor: &Actor,
    ) -> Result<MeetingRow, ServiceError> {
        let store = self.kansli().store();
        let org = store.org_snapshot().await?;
        let organ = organ.trim().to_uppercase();
        if !org.organs.iter().any(|o| o.code == organ) {
            let known: Vec<&str> = org.organs.iter().map(|o| o.code.as_str()).collect();
            return Err(ServiceError::Invalid(format!(
                "unknown organ {organ:?}; known organs: {}",
                known.join(", ")
            )));
        }
        let place = required_text("place", place, 200)?;
        let tx = store.begin().await?;
        let row = tx
            .insert_meeting(
                &organ,
                date,
                &place,
                self.kansli().clock.now(),
                actor.as_str(),
            )
            .await?;
        tx.commit().await?;
        Ok(row)
    }

    /// Puts an ärende on a meeting's agenda (anmälan).
    pub async fn add_to_agenda(
        &self,
        meeting_id: i32,
        case_number: &str,
        actor: &Actor,
    ) -> Result<(), ServiceError> {
        let meeting = self.meeting(meeting_id).await?;
        let case = self.case_row_of(case_number).await?;
        let now = self.kansli().clock.now();
        let tx = self.kansli().store().begin().await?;
        held_open(&tx, &meeting).await?;
        if !tx.add_agenda_item(meeting.id, case.id).await? {
            return Err(ServiceError::Invalid(format!(
                "ärende {case_number} is on the agenda of meeting {meeting_id} already"
            )));
        }
        tx.append_audit(
            Some(case.id),
            actor.as_str(),
            "anmält till sammanträde",
            Some(format!("{} {}", meeting.organ_code, meeting.date)),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records the decision on an ärende on a meeting's agenda under the organ's next
    /// paragraph number, and moves the ärende's workflow on.
    pub async fn record_decision(
        &self,
        meeting_id: i32,
        case_number: &str,
        decision: &str,
        proposal_to: Option<&str>,
        recipients: &[String],
        actor: &Actor,
    ) -> Result<ParagraphView, ServiceError> {
        let meeting = self.meeting(meeting_id).await?;
        let case = self.case_row_of(case_number).await?;
        let store = self.kansli().store();
        if !store
            .agenda(meeting.id)
            .await?
            .iter()
            .any(|i| i.case_id == case.id)
        {
            return Err(ServiceError::Invalid(format!(
                "ärende {case_number} is not on the agenda of meeting {meeting_id}; add it first"
            )));
        }
        let decision = required_text("decision", decision, 4000)?;
        let proposal_to = optional_text("proposal to", proposal_to, 20)?.map(|o| o.to_uppercase());
        if let Some(to) = &proposal_to {
            let org = store.org_snapshot().await?;
            if !org.organs.iter().any(|o| &o.code == to) {
                return Err(ServiceError::Invalid(format!(
                    "proposal to: unknown organ {to:?}"
                )));
            }
        }
        let recipients: Vec<String> = recipients
            .iter()
            .filter_map(|r| optional_text("recipient", Some(r), 200).transpose())
            .collect::<Result<_, _>>()?;
        let now = self.kansli().clock.now();
        let tx = store.begin().await?;
        held_open(&tx, &meeting).await?;
        if let Some(earlier) = tx.paragraph_at(meeting.id, case.id).await? {
            return Err(ServiceError::Final(format!(
                "ärende {} was decided at this meeting already, as {}; a decision stands (a \
                 correction is a new paragraph at a later meeting)",
                case_number.trim(),
                paragraph_label(&earlier)
            )));
        }
        let paragraph = tx
            .insert_paragraph(NewParagraph {
                meeting_id: meeting.id,
                organ_code: meeting.organ_code.clone(),
                // The meeting's year, not today's: a December meeting recorded in January
                // belongs to December's series.
                year: meeting.date.year(),
                case_id: case.id,
                decision: decision.clone(),
                proposal_to: proposal_to.clone(),
                recipients: recipients.join("\n"),
                at: now,
                by: actor.as_str().to_owned(),
            })
            .await?;
        let label = paragraph_label(&paragraph);
        tx.append_audit(
            Some(case.id),
            actor.as_str(),
            "beslut",
            Some(format!("{label}: {decision}")),
            now,
        )
        .await?;
        tx.commit().await?;

        let root = store
            .instances_of_case(case.id)
            .await?
            .into_iter()
            .find(|i| i.parent_id.is_none() && i.finished_at.is_none());
        let (workflow, workflow_moved) = match root {
            None => ("inget arbetsflöde".to_owned(), false),
            Some(instance) => {
                // The workflow says which of its events a decision and a proposal are.
                let declared = self
                    .workflow_of_instance(instance.clone())
                    .await?
                    .meetings
                    .clone();
                let (event, what) = match &proposal_to {
                    Some(_) => (declared.proposal, "ett förslag"),
                    None => (declared.decision, "ett beslut"),
                };
                match event {
                    None => (
                        format!(
                            "arbetsflödet {} anger ingen händelse för {what} vid ett sammanträde",
                            instance.workflow_id
                        ),
                        false,
                    ),
                    Some(event) => {
                        let key = format!("paragraf:{}", paragraph.id);
                        let facts = self
                            .facts_for(&instance, &[(MEETING_DATE, meeting.date)])
                            .await?;
                        let sent = self
                            .send_from_meeting(instance, &event, facts, actor, &key)
                            .await;
                        match sent {
                            Ok(Outcome::Applied { from, to }) => {
                                (format!("{event}: {from} → {to}"), true)
                            }
                            Ok(Outcome::AlreadyApplied) => (format!("{event}: redan gjort"), true),
                            Err(ServiceError::Invalid(why)) => {
                                (format!("arbetsflödet tog inte emot {event}: {why}"), false)
                            }
                            // The paragraph is recorded whatever the workflow says; the page
                            // says why the workflow did not move, in Swedish.
                            Err(ServiceError::Refused(why)) => (
                                format!("arbetsflödet tog inte emot {event}: {}", why.swedish()),
                                false,
                            ),
                            Err(e) => return Err(e),
                        }
                    }
                }
            }
        };
        Ok(ParagraphView {
            label,
            case_number: case_number.trim().to_owned(),
            decision,
            workflow,
            workflow_moved,
        })
    }

    /// Records a meeting's justering and its anslag on the anslagstavla, with the dates the law
    /// sets: the notice by the second day after justering, the appeal period of three weeks
    /// moved to the next vardag (lag 1930:173), the notice up until then. Ärenden whose
    /// workflow waits for the justering move on. Returns the protocol and any warnings.
    pub async fn justera(
        &self,
        meeting_id: i32,
        justerare: &[String],
        justerad_on: NaiveDate,
        posted_on: Option<NaiveDate>,
        actor: &Actor,
    ) -> Result<(ProtocolRow, Vec<String>), ServiceError> {
        use crate::domain::deadline;
        let meeting = self.meeting(meeting_id).await?;
        let justerare: Vec<String> = justerare
            .iter()
            .filter_map(|j| optional_text("justerare", Some(j), 200).transpose())
            .collect::<Result<_, _>>()?;
        if justerare.is_empty() {
            return Err(ServiceError::Invalid("give at least one justerare".into()));
        }
        let today = self.kansli().today();
        if justerad_on > today {
            return Err(ServiceError::Invalid(format!(
                "date: the justering {justerad_on} is in the future (today is {today}); a \
                 protocol is justerat when it has been signed, so record it on that day"
            )));
        }
        if justerad_on < meeting.date {
            return Err(ServiceError::Invalid(format!(
                "the justering {justerad_on} is before the meeting {}",
                meeting.date
            )));
        }
        let posted_on = posted_on.unwrap_or(justerad_on);
        if posted_on < justerad_on {
            return Err(ServiceError::Invalid(format!(
                "the anslag {posted_on} is before the justering {justerad_on}"
            )));
        }
        let mut warnings = Vec::new();
        if justerad_on > deadline::justering_latest(meeting.date) {
            warnings.push(format!(
                "justerat {justerad_on}, later than 14 days after the meeting ({}; kommunallagen 5 kap 69 §)",
                deadline::justering_latest(meeting.date)
            ));
        }
        if posted_on > deadline::posting_latest(justerad_on) {
            warnings.push(format!(
                "anslaget {posted_on}, later than the second day after justering ({})",
                deadline::posting_latest(justerad_on)
            ));
        }
        let dates = deadline::AppealDates::for_posting(posted_on);
        let now = self.kansli().clock.now();
        let row = ProtocolRow {
            meeting_id,
            justerare: justerare.join("\n"),
            justerad_on,
            posted_on,
            appeal_last_day: dates.appeal_last_day,
            taken_down_on: dates.notice_taken_down,
            recorded_at: now,
            recorded_by: actor.as_str().to_owned(),
        };
        let store = self.kansli().store();
        let tx = store.begin().await?;
        held_open(&tx, &meeting).await?;
        // Read under the hold: a paragraph recorded a moment ago is in the protocol, and none
        // can be recorded after it.
        let paragraphs = tx.paragraphs_at(meeting_id).await?;
        tx.insert_protocol(row.clone()).await?;
        // This justering gives effect only to the decisions it holds that are their ärende's
        // last word so far: an ärende decided since by another organ (KS, then KF) waits for
        // that organ's justering, and a proposal moves the ärende on without one.
        let mut takes_effect: Vec<i32> = Vec::new();
        for p in paragraphs.iter().filter(|p| p.proposal_to.is_none()) {
            let newest = tx
                .paragraphs_of_case(p.case_id)
                .await?
                .into_iter()
                .last()
                .map(|(newest, _)| newest.id);
            if newest == Some(p.id) && !takes_effect.contains(&p.case_id) {
                takes_effect.push(p.case_id);
            }
        }
        for p in &paragraphs {
            tx.append_audit(
                Some(p.case_id),
                actor.as_str(),
                "protokoll justerat",
                Some(format!(
                    "{}: justerat {justerad_on}, anslaget {posted_on}, sista dag för överklagande {}",
                    paragraph_label(p),
                    dates.appeal_last_day
                )),
                now,
            )
            .await?;
        }
        tx.commit().await?;
        for case_id in takes_effect {
            let root = store
                .instances_of_case(case_id)
                .await?
                .into_iter()
                .find(|i| i.parent_id.is_none() && i.finished_at.is_none());
            let Some(instance) = root else { continue };
            // The workflow's own event for a justering, if it declares one, sent only when its
            // state waits for it now; one that does not (a paragraph the workflow had no step
            // for) is left as it is.
            let Some(event) = self
                .workflow_of_instance(instance.clone())
                .await?
                .meetings
                .justering
                .clone()
            else {
                continue;
            };
            if self.takes_now(instance.clone(), &event).await? {
                let key = format!("justering:{meeting_id}:{case_id}");
                let facts = self
                    .facts_for(
                        &instance,
                        &[
                            (JUSTERAD_ON, justerad_on),
                            (POSTED_ON, posted_on),
                            (APPEAL_LAST_DAY, dates.appeal_last_day),
                        ],
                    )
                    .await?;
                let sent = self
                    .send_from_meeting(instance, &event, facts, actor, &key)
                    .await;
                // The justering is recorded whatever the workflow says; the page says why the
                // workflow did not move, as for a paragraph.
                match sent {
                    Ok(_) => {}
                    Err(ServiceError::Refused(why)) => warnings.push(format!(
                        "arbetsflödet tog inte emot justeringen: {}",
                        why.swedish()
                    )),
                    Err(e) => return Err(e),
                }
            }
        }
        Ok((row, warnings))
    }

    /// A meeting's protocol as a document: every paragraph with its ärende and decision, and
    /// the justering and anslag once recorded (until then it is marked as not justerat).
    pub async fn protocol_document(
        &self,
        meeting_id: i32,
        format: DocumentFormat,
    ) -> Result<Vec<u8>, ServiceError> {
        let meeting = self.meeting(meeting_id).await?;
        let store = self.kansli().store();
        let org = store.org_snapshot().await?;
        let book = super::diarium::SeriesBook::from_rows(org.series.clone())?;
        let organ_name = org
            .organs
            .iter()
            .find(|o| o.code == meeting.organ_code)
            .map_or_else(|| meeting.organ_code.clone(), |o| o.name.clone());
        let mut paragraphs = Vec::new();
        for p in store.paragraphs_of_meeting(meeting_id).await? {
            let case = store
                .case_by_id(p.case_id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("paragraph {} has no ärende", p.id))?;
            paragraphs.push(ProtocolParagraph {
                label: paragraph_label(&p),
                case_number: book.render(&case)?,
                title: case.public_title.clone(),
                beslut: lines_of(&p.decision),
                proposal_to: p.proposal_to.clone().unwrap_or_default(),
                skickas_till: lines_of(&p.recipients),
            });
        }
        let protocol = store.protocol(meeting_id).await?;
        // A justerat protocol is final: it is dated, and its PDF made, as at its justering,
        // so it reads the same to the byte however often it is asked for.
        let now = protocol
            .as_ref()
            .map_or_else(|| self.kansli().clock.now(), |p| p.recorded_at);
        let mut context = DocumentContext {
            municipality: super::mail::municipality_of(&org).name,
            description: format!("Protokoll, {organ_name} {}", meeting.date),
            organ_name,
            meeting_date: meeting.date.to_string(),
            place: meeting.place.clone(),
            date: crate::domain::calendar::local_date(now).to_string(),
            paragraphs,
            ..Default::default()
        };
        if let Some(protocol) = &protocol {
            justering_into(protocol, &mut context);
        }
        self.render_on_request("protokoll", &context, format, now)
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
        org: &crate::store::OrgSnapshot,
        meeting: MeetingRow,
    ) -> Result<MeetingView, ServiceError> {
        let meeting_id = meeting.id;
        let store = self.kansli().store();
        let book = super::diarium::SeriesBook::from_rows(org.series.clone())?;
        let paragraphs = store.paragraphs_of_meeting(meeting_id).await?;
        let mut agenda = Vec::new();
        for item in store.agenda(meeting_id).await? {
            let case = store
                .case_by_id(item.case_id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("agenda item {} has no ärende", item.id))?;
            let paragraph = paragraphs.iter().find(|p| p.case_id == item.case_id);
            agenda.push(AgendaEntry {
                position: item.position,
                case_number: book.render(&case)?,
                title: case.public_title.clone(),
                paragraph: paragraph.map(paragraph_label),
                decision: paragraph.map(|p| lines_of(&p.decision)).unwrap_or_default(),
            });
        }
        let protocol = store.protocol(meeting_id).await?;
        Ok(MeetingView {
            id: meeting.id,
            organ_name: org
                .organs
                .iter()
                .find(|o| o.code == meeting.organ_code)
                .map_or_else(|| meeting.organ_code.clone(), |o| o.name.clone()),
            organ_code: meeting.organ_code,
            date: meeting.date.to_string(),
            place: meeting.place,
            cases: agenda.len(),
            agenda,
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
