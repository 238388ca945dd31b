//! Recording a paragraph of a protocol, of any kind: a decision, a proposal to another organ,
//! an information item, an återremiss, a bordläggning or a paragraph without an ärende, with
//! its yrkanden, beslutsgång, omröstning, reservationer, protokollsanteckningar and jäv.
//!
//! The paragraph and the step it moves the ärende's workflow by are one transaction: the
//! workflow's own event for the outcome (`meetings:` in its file) is applied under a savepoint
//! of the recording transaction. A recorded decision is a legal fact and always stands: when
//! the workflow does not take it, the paragraph is kept with the workflow's reason, and the
//! ärende waits for a registrator (in the inbox and on the ärende page) until one has seen to
//! it. A bordläggning puts the ärende on the organ's next meeting, when one is planned.

use std::collections::HashSet;

use chrono::Datelike;
use serde::Serialize;

use super::{MEETING_DATE, held_open, lines_of, paragraph_label};
use crate::domain::audit::Action;
use crate::domain::organisation::Role;
use crate::domain::protocol::{
    ParagraphKind, Presence, RemarkKind, Seat, Tally, VoteChoice, beslutfor,
};
use crate::service::{Actor, Engine, Outcome, ServiceError, optional_text, required_text};
use crate::store::{AttendanceRow, MeetingRow, NewParagraph};
use crate::workflow::Sender;

/// How many times a paragraph is recorded again when another writer moved its ärende's
/// workflow between the look and the write.
const CONFLICT_RETRIES: usize = 3;

/// A paragraph as the sekreterare writes it.
#[derive(Debug, Clone)]
pub struct ParagraphInput {
    /// What it records.
    pub kind: ParagraphKind,
    /// The ärende; none for a paragraph such as Val av justerare.
    pub case_number: Option<String>,
    /// The heading, for a paragraph without an ärende (and an information item's subject).
    pub title: Option<String>,
    /// The decision's att-satser, or the text of an information item or other paragraph, one
    /// line each; an information item, återremiss or bordläggning without one reads as the
    /// law's usual sentence.
    pub text: Vec<String>,
    /// The organ a proposal is made to.
    pub proposal_to: Option<String>,
    /// Beslutet skickas till.
    pub recipients: Vec<String>,
    /// Yrkanden: "Anna Berg (S): bifall till arbetsutskottets förslag".
    pub yrkanden: Vec<String>,
    /// Beslutsgång: the propositions and how the ordförande put them.
    pub beslutsgang: Option<String>,
    /// The omröstning, if one was asked for.
    pub vote: Option<VoteInput>,
    /// Reservationer, protokollsanteckningar and jäv.
    pub remarks: Vec<RemarkInput>,
    /// The ärende the decision is sent on to (a nämnd's to kommunstyrelsen's): at the
    /// justering its protokollsutdrag is registered there as an inkommande handling.
    pub forward_to: Option<String>,
}

impl ParagraphInput {
    /// A paragraph of `kind` on an ärende, with nothing but its text.
    pub fn on_case(kind: ParagraphKind, case_number: &str, text: Vec<String>) -> Self {
        Self {
            kind,
            case_number: Some(case_number.to_owned()),
            title: None,
            text,
            proposal_to: None,
            recipients: Vec::new(),
            yrkanden: Vec::new(),
            beslutsgang: None,
            vote: None,
            remarks: Vec::new(),
            forward_to: None,
        }
    }
}

/// An omröstning: what it was between, and each tjänstgörande ledamot's vote.
#[derive(Debug, Clone)]
pub struct VoteInput {
    /// "Ja för arbetsutskottets förslag, nej för Lena Eks (V) yrkande".
    pub question: String,
    /// Each voter by name, with the vote.
    pub votes: Vec<(String, VoteChoice)>,
}

/// A reservation, protokollsanteckning or jäv, naming its ledamot.
#[derive(Debug, Clone)]
pub struct RemarkInput {
    /// Which.
    pub kind: RemarkKind,
    /// The ledamot, as the närvaro names them.
    pub name: String,
    /// The reservation's or anteckning's text (empty for jäv).
    pub text: String,
}

/// A recorded paragraph.
#[derive(Debug, Clone, Serialize)]
pub struct ParagraphView {
    /// `KSAU § 12/26`.
    pub label: String,
    /// The ärende, if the paragraph has one.
    pub case_number: Option<String>,
    /// The decision.
    pub decision: String,
    /// What the workflow did: the states before and after, or why it did nothing.
    pub workflow: String,
    /// Whether the ärende's workflow should have moved and did not: the paragraph stands, and
    /// a registrator must see to the ärende.
    pub needs_attention: bool,
}

/// Who may do what at a paragraph, from the meeting's närvaro.
struct Roll<'a> {
    attendance: &'a [AttendanceRow],
}

impl<'a> Roll<'a> {
    fn find(&self, name: &str) -> Option<&'a AttendanceRow> {
        let name = name.trim().to_lowercase();
        self.attendance
            .iter()
            .find(|a| a.name.to_lowercase() == name)
    }

    fn serving(a: &AttendanceRow) -> bool {
        a.presence == Presence::Ledamot.code()
            || a.presence == Presence::TjanstgorandeErsattare.code()
    }

    fn serving_names(&self) -> Vec<&'a str> {
        self.attendance
            .iter()
            .filter(|a| Self::serving(a))
            .map(|a| a.name.as_str())
            .collect()
    }
}

impl Engine {
    /// Records the decision on an ärende on a meeting's agenda under the organ's next
    /// paragraph number, and moves the ärende's workflow on: a decision, or a proposal when
    /// `proposal_to` names an organ.
    pub async fn record_decision(
        &self,
        meeting_id: i32,
        case_number: &str,
        decision: &str,
        proposal_to: Option<&str>,
        recipients: &[String],
        actor: &Actor,
    ) -> Result<ParagraphView, ServiceError> {
        let kind = match proposal_to.map(str::trim).filter(|t| !t.is_empty()) {
            Some(_) => ParagraphKind::Forslag,
            None => ParagraphKind::Beslut,
        };
        let mut input = ParagraphInput::on_case(kind, case_number, lines_of(decision));
        input.proposal_to = proposal_to.map(str::to_owned);
        input.recipients = recipients.to_vec();
        self.record_paragraph(meeting_id, input, actor).await
    }

    /// Records a paragraph of any kind under the organ's next paragraph number, with the step
    /// it moves the ärende's workflow by, in one transaction; the documents the step registers
    /// are rendered before it.
    pub async fn record_paragraph(
        &self,
        meeting_id: i32,
        input: ParagraphInput,
        actor: &Actor,
    ) -> Result<ParagraphView, ServiceError> {
        self.rendering_first(|| self.record_paragraph_once(meeting_id, input.clone(), actor))
            .await
    }

    async fn record_paragraph_once(
        &self,
        meeting_id: i32,
        input: ParagraphInput,
        actor: &Actor,
    ) -> Result<ParagraphView, ServiceError> {
        let meeting = self.meeting_open(meeting_id).await?;
        let store = self.kansli().store();
        let org = store.org_snapshot().await?;
        let organ_name = super::organ_name(&org, &meeting.organ_code);
        let kind = input.kind;

        let case = match input
            .case_number
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            Some(number) if kind == ParagraphKind::Ovrigt => {
                return Err(ServiceError::Invalid(format!(
                    "ärende: a paragraph of kind övrigt has no ärende (got {number}); record it as \
                     a decision or an information item instead"
                )));
            }
            Some(number) => Some(self.case_row_of(number).await?),
            None if kind.is_decision() => {
                return Err(ServiceError::Invalid(format!(
                    "ärende: a paragraph of kind {kind} is on an ärende; give its number"
                )));
            }
            None => None,
        };
        let title = optional_text("title", input.title.as_deref(), 300)?;
        if case.is_none() && title.is_none() {
            return Err(ServiceError::Invalid(
                "title: a paragraph without an ärende needs a heading (Val av justerare)".into(),
            ));
        }
        let proposal_to = optional_text("proposal to", input.proposal_to.as_deref(), 20)?
            .map(|o| o.to_uppercase());
        match (&proposal_to, kind) {
            (None, ParagraphKind::Forslag) => {
                return Err(ServiceError::Invalid(
                    "proposal to: a proposal names the organ it is made to (KS)".into(),
                ));
            }
            (Some(to), ParagraphKind::Forslag) => {
                if !org.organs.iter().any(|o| &o.code == to) {
                    return Err(ServiceError::Invalid(format!(
                        "proposal to: unknown organ {to:?}"
                    )));
                }
            }
            (Some(to), _) => {
                return Err(ServiceError::Invalid(format!(
                    "proposal to: only a proposal is made to another organ ({to}); this paragraph \
                     is of kind {kind}"
                )));
            }
            (None, _) => {}
        }
        let mut text = Vec::new();
        for line in &input.text {
            if let Some(line) = optional_text("decision", Some(line), 2000)? {
                text.push(line);
            }
        }
        if text.is_empty() {
            match kind.default_text(&organ_name) {
                Some(default) => text.push(default),
                None => {
                    return Err(ServiceError::Invalid(format!(
                        "decision: write what {organ_name} decided, at least one att-sats"
                    )));
                }
            }
        }
        let decision = required_text("decision", &text.join("\n"), 8000)?;
        let recipients = texts("recipient", &input.recipients, 200)?;
        let forward = match input
            .forward_to
            .as_deref()
            .map(str::trim)
            .filter(|n| !n.is_empty())
        {
            None => None,
            Some(_) if kind != ParagraphKind::Beslut => {
                return Err(ServiceError::Invalid(format!(
                    "send on to: only a decision is sent on to another ärende, not a paragraph of \
                     kind {kind}"
                )));
            }
            Some(number) => {
                let target = self.case_row_of(number).await.map_err(|e| match e {
                    ServiceError::NotFound(m) => ServiceError::Invalid(format!("send on to: {m}")),
                    other => other,
                })?;
                if case.as_ref().is_some_and(|c| c.id == target.id) {
                    return Err(ServiceError::Invalid(
                        "send on to: the decision is in that ärende already; name the ärende it \
                         goes on to"
                            .into(),
                    ));
                }
                Some(target.id)
            }
        };
        let yrkanden = texts("yrkande", &input.yrkanden, 1000)?;
        let beslutsgang = optional_text("beslutsgång", input.beslutsgang.as_deref(), 4000)?;

        let facts = match &case {
            Some(_) => vec![(MEETING_DATE, meeting.date)],
            None => Vec::new(),
        };
        // The ärende's running workflow and the event its file declares for this outcome.
        let instance = match &case {
            Some(case) => store
                .instances_of_case(case.id)
                .await?
                .into_iter()
                .find(|i| i.parent_id.is_none() && i.finished_at.is_none()),
            None => None,
        };
        let step = match &instance {
            Some(instance) => {
                let declared = self
                    .workflow_of_instance(instance.clone())
                    .await?
                    .meetings
                    .clone();
                let event = match kind {
                    ParagraphKind::Beslut => Some(declared.decision),
                    ParagraphKind::Forslag => Some(declared.proposal),
                    ParagraphKind::Aterremiss => Some(declared.referral),
                    _ => None,
                };
                match event {
                    None => None,
                    Some(event) => {
                        Some((instance.id, event, self.facts_for(instance, &facts).await?))
                    }
                }
            }
            None => None,
        };

        let mut attempt = 0;
        loop {
            let now = self.kansli().clock.now();
            let tx = store.begin().await?;
            let held = held_open(&tx, &meeting).await?;
            let attendance = tx.attendance_in(meeting.id).await?;
            let Some(chair) = held.held_at.and(held.chair) else {
                return Err(ServiceError::Invalid(format!(
                    "närvaro: record who is present at meeting {} first (kansli meeting attend): \
                     the protocol says who took part in each decision",
                    meeting.id
                )));
            };
            let roll = Roll {
                attendance: &attendance,
            };
            let ledamoter = org
                .members_on(&meeting.organ_code, meeting.date)
                .iter()
                .filter(|m| m.seat == Seat::Ledamot.code())
                .count();
            let (votes, remarks) = checked_participation(&roll, &input, &chair, ledamoter)?;
            let agenda = tx.agenda_in(meeting.id).await?;
            let item = match (&case, &title) {
                (Some(case), _) => Some(
                    agenda
                        .iter()
                        .find(|i| i.case_id == Some(case.id))
                        .ok_or_else(|| {
                            ServiceError::Invalid(format!(
                                "ärende: {} is not on the agenda of meeting {}; add it first \
                                 (kansli meeting add)",
                                input.case_number.as_deref().unwrap_or_default().trim(),
                                meeting.id
                            ))
                        })?
                        .clone(),
                ),
                (None, Some(title)) => agenda
                    .iter()
                    .find(|i| i.case_id.is_none() && i.title.as_deref() == Some(title.as_str()))
                    .cloned(),
                (None, None) => None,
            };
            if let Some(item) = &item
                && let Some(earlier) = tx.paragraph_for_item(item.id).await?
            {
                return Err(ServiceError::Final(format!(
                    "agenda item {} has its paragraph already, {}; a paragraph stands (a \
                     correction is a new paragraph at a later meeting)",
                    item.position,
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
                    case_id: case.as_ref().map(|c| c.id),
                    kind: kind.code().to_owned(),
                    title: title.clone(),
                    agenda_item_id: item.as_ref().map(|i| i.id),
                    decision: decision.clone(),
                    yrkanden: yrkanden.join("\n"),
                    beslutsgang: beslutsgang.clone().unwrap_or_default(),
                    vote_question: input.vote.as_ref().map(|v| v.question.trim().to_owned()),
                    forward_case_id: forward,
                    proposal_to: proposal_to.clone(),
                    recipients: recipients.join("\n"),
                    at: now,
                    by: actor.as_str().to_owned(),
                })
                .await?;
            tx.insert_votes(paragraph.id, &votes).await?;
            tx.insert_remarks(paragraph.id, &remarks).await?;
            let label = paragraph_label(&paragraph);
            tx.append_audit(
                case.as_ref().map(|c| c.id),
                actor.as_str(),
                Action::Paragraph(kind),
                Some(format!("{label}: {}", decision.replace('\n', " "))),
                now,
            )
            .await?;

            let mut workflow = match (&case, &instance) {
                (None, _) => String::new(),
                (Some(_), None) => "inget arbetsflöde".to_owned(),
                (Some(_), Some(_)) => "arbetsflödet väntar kvar".to_owned(),
            };
            let mut unmoved = None;
            if let Some((instance_id, event, values)) = &step {
                match event {
                    None => {
                        unmoved = Some(format!(
                            "arbetsflödet anger ingen händelse för {} vid ett sammanträde",
                            kind.label()
                        ));
                    }
                    Some(event) => {
                        let key = format!("paragraf:{}", paragraph.id);
                        match self
                            .send_within(
                                &tx,
                                &org,
                                *instance_id,
                                event,
                                values,
                                Sender::Role(Role::Sekreterare),
                                actor,
                                Some(&key),
                                now,
                            )
                            .await?
                        {
                            Ok(Outcome::Applied { from, to }) => {
                                workflow = format!("{event}: {from} → {to}");
                            }
                            Ok(Outcome::AlreadyApplied) => {
                                workflow = format!("{event}: redan gjort")
                            }
                            Err(ServiceError::Conflict(_)) if attempt < CONFLICT_RETRIES => {
                                tx.rollback().await?;
                                attempt += 1;
                                continue;
                            }
                            Err(ServiceError::Invalid(why)) => {
                                unmoved =
                                    Some(format!("arbetsflödet tog inte emot {event}: {why}"));
                            }
                            Err(ServiceError::Refused(why)) => {
                                unmoved = Some(format!(
                                    "arbetsflödet tog inte emot {event}: {}",
                                    why.swedish()
                                ));
                            }
                            Err(e) => return Err(e),
                        }
                    }
                }
            }
            if let Some(why) = &unmoved {
                tx.note_unmoved(paragraph.id, why).await?;
                tx.append_audit(
                    case.as_ref().map(|c| c.id),
                    actor.as_str(),
                    Action::DecisionAwaitsRegistrator,
                    Some(format!("{label}: {why}")),
                    now,
                )
                .await?;
                workflow = why.clone();
            }
            if kind == ParagraphKind::Bordlaggning
                && let Some(case) = &case
            {
                workflow = self.postpone(&tx, &meeting, case.id, actor, now).await?;
            }
            tx.commit().await?;
            return Ok(ParagraphView {
                label,
                case_number: input.case_number.as_deref().map(|n| n.trim().to_owned()),
                decision,
                workflow,
                needs_attention: unmoved.is_some(),
            });
        }
    }

    /// Puts a bordlagt ärende on the organ's next meeting whose protocol is still open, and
    /// says where it went.
    async fn postpone(
        &self,
        tx: &crate::store::Tx,
        meeting: &MeetingRow,
        case_id: i32,
        actor: &Actor,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<String, ServiceError> {
        let later = self
            .kansli()
            .store()
            .meetings()
            .await?
            .into_iter()
            .filter(|m| m.organ_code == meeting.organ_code && m.date > meeting.date)
            .collect::<Vec<_>>();
        for next in later {
            if tx.protocol_of(next.id).await?.is_some() {
                continue;
            }
            tx.add_agenda_item(next.id, Some(case_id), None).await?;
            tx.append_audit(
                Some(case_id),
                actor.as_str(),
                Action::ReferredToMeeting,
                Some(format!(
                    "{} {} (bordlagt {})",
                    next.organ_code, next.date, meeting.date
                )),
                now,
            )
            .await?;
            return Ok(format!(
                "bordlagt; anmält till sammanträdet {} {}",
                next.organ_code, next.date
            ));
        }
        Ok(format!(
            "bordlagt; inget senare sammanträde med {} är planerat: anmäl ärendet när det är det",
            meeting.organ_code
        ))
    }

    /// Marks a paragraph the ärende's workflow did not take as seen to by a registrator.
    pub async fn clear_attention(
        &self,
        paragraph_id: i32,
        actor: &Actor,
    ) -> Result<(), ServiceError> {
        let now = self.kansli().clock.now();
        let tx = self.kansli().store().begin().await?;
        if !tx
            .clear_attention(paragraph_id, actor.as_str(), now)
            .await?
        {
            return Err(ServiceError::NotFound(format!(
                "paragraph {paragraph_id} waits for no registrator"
            )));
        }
        tx.append_audit(
            None,
            actor.as_str(),
            Action::DecisionHandled,
            Some(format!("paragraf {paragraph_id}")),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Checks each text of a list and keeps the non-blank ones.
fn texts(field: &str, list: &[String], max: usize) -> Result<Vec<String>, ServiceError> {
    let mut out = Vec::new();
    for item in list {
        if let Some(item) = optional_text(field, Some(item), max)? {
            out.push(item);
        }
    }
    Ok(out)
}

/// Votes and remarks as stored, after checking them against the närvaro: only a tjänstgörande
/// ledamot who is not jävig votes or reserves, every one of them votes once in an omröstning,
/// a tie has a result only by the ordförande's vote, and a decision needs a beslutför organ.
#[allow(clippy::type_complexity)]
fn checked_participation(
    roll: &Roll<'_>,
    input: &ParagraphInput,
    chair: &str,
    ledamoter: usize,
) -> Result<
    (
        Vec<(String, Option<String>, String)>,
        Vec<(String, String, Option<String>, String)>,
    ),
    ServiceError,
> {
    let mut javiga = HashSet::new();
    let mut remarks = Vec::new();
    for remark in &input.remarks {
        let field = remark.kind.label();
        let Some(person) = roll.find(&remark.name) else {
            return Err(ServiceError::Invalid(format!(
                "{field}: {:?} is not in the meeting's närvaro",
                remark.name.trim()
            )));
        };
        match remark.kind {
            RemarkKind::Jav => {
                if !Roll::serving(person) {
                    return Err(ServiceError::Invalid(format!(
                        "jäv: {} does not serve at this meeting; only a tjänstgörande ledamot \
                         leaves a matter for jäv",
                        person.name
                    )));
                }
                javiga.insert(person.name.clone());
            }
            RemarkKind::Reservation if !Roll::serving(person) => {
                return Err(ServiceError::Invalid(format!(
                    "reservation: {} does not serve at this meeting; only a ledamot who took part \
                     in the decision can reserve against it (KL 4 kap 27 §)",
                    person.name
                )));
            }
            _ => {}
        }
        let text = optional_text(field, Some(&remark.text), 4000)?.unwrap_or_default();
        if remark.kind != RemarkKind::Jav && text.is_empty() {
            return Err(ServiceError::Invalid(format!(
                "{field}: write what {} had recorded",
                person.name
            )));
        }
        remarks.push((
            remark.kind.code().to_owned(),
            person.name.clone(),
            person.party.clone(),
            text,
        ));
    }
    for (kind_code, name, ..) in &remarks {
        if kind_code == RemarkKind::Reservation.code() && javiga.contains(name) {
            return Err(ServiceError::Invalid(format!(
                "reservation: {name} is jävig in this matter and took no part in it"
            )));
        }
    }
    let taking_part: Vec<&str> = roll
        .serving_names()
        .into_iter()
        .filter(|n| !javiga.contains(*n))
        .collect();
    let kind = input.kind;
    if kind.is_decision() && !beslutfor(taking_part.len(), ledamoter) {
        return Err(ServiceError::Invalid(format!(
            "närvaro: {} of {ledamoter} ledamöter take part in this matter; the organ decides \
             only when more than half do (KL 5 kap 45 §, 6 kap 27 §)",
            taking_part.len()
        )));
    }
    let mut votes = Vec::new();
    if let Some(vote) = &input.vote {
        if !kind.is_decision() {
            return Err(ServiceError::Invalid(format!(
                "omröstning: a paragraph of kind {kind} decides nothing to vote on"
            )));
        }
        required_text("omröstning", &vote.question, 1000).map_err(|_| {
            ServiceError::Invalid(
                "omröstning: say what the vote was between (ja för …, nej för …)".into(),
            )
        })?;
        let mut seen = HashSet::new();
        let mut counted = Vec::new();
        for (name, choice) in &vote.votes {
            let Some(person) = roll.find(name) else {
                return Err(ServiceError::Invalid(format!(
                    "omröstning: {:?} is not in the meeting's närvaro",
                    name.trim()
                )));
            };
            if !Roll::serving(person) {
                return Err(ServiceError::Invalid(format!(
                    "omröstning: {} is not a tjänstgörande ledamot and has no vote",
                    person.name
                )));
            }
            if javiga.contains(&person.name) {
                return Err(ServiceError::Invalid(format!(
                    "omröstning: {} is jävig in this matter and has no vote",
                    person.name
                )));
            }
            if !seen.insert(person.name.clone()) {
                return Err(ServiceError::Invalid(format!(
                    "omröstning: {} votes twice",
                    person.name
                )));
            }
            counted.push((person.name.clone(), *choice));
            votes.push((
                person.name.clone(),
                person.party.clone(),
                choice.code().to_owned(),
            ));
        }
        let missing: Vec<&str> = taking_part
            .iter()
            .copied()
            .filter(|n| !seen.contains(*n))
            .collect();
        if !missing.is_empty() {
            return Err(ServiceError::Invalid(format!(
                "omröstning: every tjänstgörande ledamot votes (ja, nej or avstår); missing: {}",
                missing.join(", ")
            )));
        }
        if Tally::count(&counted, chair).is_none() {
            return Err(ServiceError::Invalid(
                "omröstning: the votes are tied and the ordförande voted neither ja nor nej, so the \
                 vote has no result; record the ordförande's utslagsröst"
                    .into(),
            ));
        }
    }
    Ok((votes, remarks))
}
