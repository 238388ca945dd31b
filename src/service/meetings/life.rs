//! A meeting's life before its protocol: planned (organ, day, time, place, where and when the
//! protocol is justerat), the föredragningslista built and ordered, the kallelse sent, and the
//! meeting held with its närvaro and ordförande. Each step is one transaction with its audit
//! entry, and each is refused once the protocol is justerat.

use chrono::NaiveDate;

use super::{held_open, organ_name};
use crate::domain::audit::Action;
use crate::domain::protocol::{Presence, Seat, beslutfor};
use crate::service::{Actor, Engine, ServiceError, optional_text, required_text};
use crate::store::{AttendanceRow, MeetingPlan, MeetingRow};

/// Who was at a meeting, as the sekreterare records it: every ledamot of the organ on the day
/// serves unless listed as absent.
#[derive(Debug, Clone, Default)]
pub struct AttendanceInput {
    /// The ordförande: a tjänstgörande ledamot.
    pub chair: String,
    /// The sekreterare [default: the person recording it].
    pub secretary: Option<String>,
    /// Ledamöter who were away.
    pub absent: Vec<String>,
    /// Ersättare serving, each for an absent ledamot: `(ersättare, ledamot)`.
    pub substitutes: Vec<(String, String)>,
    /// Ersättare present without serving.
    pub ersattare: Vec<String>,
    /// Others present, each with their role: `("Kim Falk", "kommundirektör")`.
    pub others: Vec<(String, String)>,
}

impl Engine {
    /// Creates a meeting of an organ.
    pub async fn create_meeting(
        &self,
        organ: &str,
        date: NaiveDate,
        place: &str,
        actor: &Actor,
    ) -> Result<MeetingRow, ServiceError> {
        self.plan_meeting(organ, date, place, None, None, actor)
            .await
    }

    /// Plans a meeting of an organ: its day, place, time (`13.00-15.30`) and where and when
    /// its protocol is to be justerat.
    pub async fn plan_meeting(
        &self,
        organ: &str,
        date: NaiveDate,
        place: &str,
        starts_at: Option<&str>,
        justering_at: Option<&str>,
        actor: &Actor,
    ) -> Result<MeetingRow, ServiceError> {
        let store = self.kansli().store();
        let org = store.org_snapshot().await?;
        let organ = organ.trim().to_uppercase();
        if !org.organs.iter().any(|o| o.code == organ) {
            let known: Vec<&str> = org.organs.iter().map(|o| o.code.as_str()).collect();
            return Err(ServiceError::Invalid(format!(
                "organ: unknown organ {organ:?}; known organs: {}",
                known.join(", ")
            )));
        }
        let plan = MeetingPlan {
            organ,
            date,
            place: required_text("place", place, 200)?,
            starts_at: optional_text("time", starts_at, 40)?,
            justering_at: optional_text("justering", justering_at, 200)?,
        };
        let now = self.kansli().clock.now();
        let tx = store.begin().await?;
        let row = tx.insert_meeting(&plan, now, actor.as_str()).await?;
        tx.append_audit(
            None,
            actor.as_str(),
            Action::MeetingPlanned,
            Some(format!("{} {} ({})", row.organ_code, row.date, row.place)),
            now,
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
        let meeting = self.meeting_open(meeting_id).await?;
        let case = self.case_row_of(case_number).await?;
        let now = self.kansli().clock.now();
        let tx = self.kansli().store().begin().await?;
        held_open(&tx, &meeting).await?;
        if tx
            .add_agenda_item(meeting.id, Some(case.id), None)
            .await?
            .is_none()
        {
            return Err(ServiceError::Invalid(format!(
                "ärende: {} is on the agenda of meeting {meeting_id} already",
                case_number.trim()
            )));
        }
        tx.append_audit(
            Some(case.id),
            actor.as_str(),
            Action::ReferredToMeeting,
            Some(format!("{} {}", meeting.organ_code, meeting.date)),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Puts an item without an ärende on a meeting's agenda: "Månadsrapport", "Val av
    /// justerare".
    pub async fn add_item_to_agenda(
        &self,
        meeting_id: i32,
        title: &str,
        actor: &Actor,
    ) -> Result<(), ServiceError> {
        let meeting = self.meeting_open(meeting_id).await?;
        let title = required_text("title", title, 300)?;
        let now = self.kansli().clock.now();
        let tx = self.kansli().store().begin().await?;
        held_open(&tx, &meeting).await?;
        tx.add_agenda_item(meeting.id, None, Some(&title)).await?;
        tx.append_audit(
            None,
            actor.as_str(),
            Action::AgendaItemAdded,
            Some(format!("{} {}: {title}", meeting.organ_code, meeting.date)),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Moves the agenda item at `position` one place up or down the föredragningslista.
    pub async fn move_agenda_item(
        &self,
        meeting_id: i32,
        position: i32,
        up: bool,
        actor: &Actor,
    ) -> Result<(), ServiceError> {
        let meeting = self.meeting_open(meeting_id).await?;
        let now = self.kansli().clock.now();
        let tx = self.kansli().store().begin().await?;
        held_open(&tx, &meeting).await?;
        let agenda = tx.agenda_in(meeting.id).await?;
        let Some(item) = agenda.iter().find(|i| i.position == position) else {
            return Err(ServiceError::NotFound(format!(
                "position: meeting {meeting_id} has no agenda item at {position}"
            )));
        };
        if !tx
            .move_agenda_item(meeting.id, item.id, if up { -1 } else { 1 })
            .await?
        {
            return Err(ServiceError::Invalid(format!(
                "position: item {position} is {} on the agenda already",
                if up { "first" } else { "last" }
            )));
        }
        tx.append_audit(
            item.case_id,
            actor.as_str(),
            Action::AgendaOrdered,
            Some(format!(
                "{} {}: punkt {position} flyttad {}",
                meeting.organ_code,
                meeting.date,
                if up { "upp" } else { "ned" }
            )),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sends the kallelse with the föredragningslista to every ledamot and ersättare of the
    /// organ on the meeting's day who has an address, and registers it in each ärende on the
    /// agenda as an utgående handling to the organ; returns how many it went to. May be sent
    /// again (an ändrad kallelse) until the meeting is held.
    pub async fn send_kallelse(
        &self,
        meeting_id: i32,
        actor: &Actor,
    ) -> Result<usize, ServiceError> {
        use crate::domain::document::Direction;
        use crate::render::{KALLELSE_TEMPLATE, KallelseContext};
        let meeting = self.meeting_open(meeting_id).await?;
        if meeting.held_at.is_some() {
            return Err(ServiceError::Invalid(format!(
                "kallelse: meeting {meeting_id} is held already (its närvaro is recorded)"
            )));
        }
        let store = self.kansli().store();
        let org = store.org_snapshot().await?;
        let view = self.meeting_view(meeting_id).await?;
        if view.agenda.is_empty() {
            return Err(ServiceError::Invalid(format!(
                "agenda: the föredragningslista of meeting {meeting_id} is empty; put the ärenden \
                 on it first (kansli meeting add)"
            )));
        }
        let members: Vec<_> = org
            .members_on(&meeting.organ_code, meeting.date)
            .into_iter()
            .filter(|m| m.email.is_some())
            .collect();
        if members.is_empty() {
            return Err(ServiceError::Invalid(format!(
                "kallelse: {} has no ledamöter or ersättare with an email address on {} in the \
                 organisation file",
                view.organ_name, meeting.date
            )));
        }
        let municipality = crate::service::mail::municipality_of(&org);
        if municipality.email.is_empty() {
            return Err(ServiceError::Invalid(
                "kallelse: no municipality is imported, so there is no sender address".into(),
            ));
        }
        let renderer = self.catalog().renderer().ok_or_else(|| {
            anyhow::anyhow!("kallelse: the engine was loaded without its templates")
        })?;
        let items: Vec<String> = view
            .agenda
            .iter()
            .map(|a| match a.case_number.as_str() {
                "" => format!("{}. {}", a.position, a.title),
                number => format!("{}. {number} {}", a.position, a.title),
            })
            .collect();
        let secretary = match store.find_person(actor.as_str()).await? {
            Some(person) => person.name,
            None => String::new(),
        };
        // Drawn up before the transaction opens.
        let from = crate::mail::Address {
            name: municipality.name.clone(),
            email: municipality.email.clone(),
        };
        let mut messages = Vec::with_capacity(members.len());
        for m in &members {
            let context = KallelseContext {
                kommun: municipality.clone(),
                municipality: municipality.name.clone(),
                recipient_name: m.name.clone(),
                seat: m
                    .seat
                    .parse::<Seat>()
                    .map_or_else(|_| m.seat.clone(), |s| s.label().to_owned()),
                organ_name: view.organ_name.clone(),
                meeting_date: view.date.clone(),
                starts_at: view.starts_at.clone(),
                place: view.place.clone(),
                items: items.clone(),
                secretary: secretary.clone(),
            };
            let rendered = renderer
                .email(KALLELSE_TEMPLATE, &context)
                .map_err(|e| anyhow::anyhow!("email {KALLELSE_TEMPLATE}: {e}"))?;
            let to = crate::mail::Address {
                name: m.name.clone(),
                email: m.email.clone().unwrap_or_default(),
            };
            messages.push((to, rendered, context));
        }
        let now = self.kansli().clock.now();
        let tx = store.begin().await?;
        held_open(&tx, &meeting).await?;
        for (to, rendered, context) in messages {
            tx.insert_outbox(crate::store::NewOutbox {
                instance_id: None,
                case_id: None,
                template: KALLELSE_TEMPLATE.to_owned(),
                recipients: serde_json::json!([to]).to_string(),
                context: serde_json::to_string(&context).map_err(anyhow::Error::from)?,
                status: crate::store::OutboxStatus::Pending,
                at: now,
                message_id: Some(crate::service::mail::new_message_id(&from.email)),
                sender: Some(serde_json::json!(from).to_string()),
                reply_to: None,
                recipient_email: Some(to.email.clone()),
                subject: Some(rendered.subject),
                text_body: Some(rendered.text),
                html_body: Some(rendered.html),
                attachments: Some("[]".into()),
            })
            .await?;
        }
        let description = format!(
            "Kallelse med föredragningslista, {} {}",
            view.organ_name, meeting.date
        );
        for item in tx.agenda_in(meeting.id).await? {
            let Some(case_id) = item.case_id else {
                continue;
            };
            let seq = tx.allocate_document_seq(case_id).await?;
            tx.insert_document(
                crate::store::NewDocument {
                    case_id,
                    date: crate::domain::calendar::local_date(now),
                    direction: Direction::Outgoing.code().to_owned(),
                    counterpart: Some(view.organ_name.clone()),
                    counterpart_protected: false,
                    description: description.clone(),
                    description_protected: false,
                    secrecy: None,
                    file: None,
                    registered_at: now,
                    registered_by: actor.as_str().to_owned(),
                },
                seq,
            )
            .await?;
            tx.append_audit(
                Some(case_id),
                actor.as_str(),
                Action::DocumentRegistered,
                Some(format!(":{seq} {description}")),
                now,
            )
            .await?;
        }
        tx.mark_kallelse_sent(meeting.id, now).await?;
        tx.append_audit(
            None,
            actor.as_str(),
            Action::KallelseSent,
            Some(format!(
                "{} {}: till {} ledamöter och ersättare",
                meeting.organ_code,
                meeting.date,
                members.len()
            )),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(members.len())
    }

    /// Records who was at the meeting and its ordförande and sekreterare: the meeting is held.
    /// Every ledamot of the organ on the day serves unless absent; an ersättare serves only in
    /// an absent ledamot's place. May be recorded again until the first paragraph is. Returns
    /// warnings in Swedish (the organ is not beslutför).
    pub async fn record_attendance(
        &self,
        meeting_id: i32,
        input: &AttendanceInput,
        actor: &Actor,
    ) -> Result<Vec<String>, ServiceError> {
        let meeting = self.meeting_open(meeting_id).await?;
        let store = self.kansli().store();
        let org = store.org_snapshot().await?;
        let members = org.members_on(&meeting.organ_code, meeting.date);
        let ledamoter: Vec<_> = members
            .iter()
            .filter(|m| m.seat == Seat::Ledamot.code())
            .collect();
        if ledamoter.is_empty() {
            return Err(ServiceError::Invalid(format!(
                "närvaro: {} has no ledamöter on {} in the organisation file; list its members \
                 (members = [...]) and import the file again",
                organ_name(&org, &meeting.organ_code),
                meeting.date
            )));
        }
        let find = |name: &str, seat: Seat| {
            members
                .iter()
                .find(|m| {
                    m.seat == seat.code() && m.name.to_lowercase() == name.trim().to_lowercase()
                })
                .copied()
        };
        let mut absent = Vec::new();
        for name in &input.absent {
            let Some(m) = find(name, Seat::Ledamot) else {
                return Err(ServiceError::Invalid(format!(
                    "absent: {:?} is not a ledamot of {} on {}",
                    name.trim(),
                    meeting.organ_code,
                    meeting.date
                )));
            };
            absent.push(m.name.clone());
        }
        let mut rows: Vec<AttendanceRow> = Vec::new();
        let row = |name: &str,
                   party: Option<String>,
                   presence: Presence,
                   replaces: Option<String>,
                   note: Option<String>| AttendanceRow {
            id: 0,
            meeting_id,
            name: name.to_owned(),
            party,
            presence: presence.code().to_owned(),
            replaces,
            note,
            ordinal: 0,
        };
        for m in &ledamoter {
            if !absent.contains(&m.name) {
                rows.push(row(
                    &m.name,
                    Some(m.party.clone()),
                    Presence::Ledamot,
                    None,
                    None,
                ));
            }
        }
        let mut replaced = Vec::new();
        for (ersattare, ledamot) in &input.substitutes {
            let Some(e) = find(ersattare, Seat::Ersattare) else {
                return Err(ServiceError::Invalid(format!(
                    "substitute: {:?} is not an ersättare of {} on {}",
                    ersattare.trim(),
                    meeting.organ_code,
                    meeting.date
                )));
            };
            let Some(l) = find(ledamot, Seat::Ledamot) else {
                return Err(ServiceError::Invalid(format!(
                    "substitute: {:?} is not a ledamot of {}",
                    ledamot.trim(),
                    meeting.organ_code
                )));
            };
            if !absent.contains(&l.name) {
                return Err(ServiceError::Invalid(format!(
                    "substitute: {} serves in the place of {}, who is not absent; list {} as \
                     absent",
                    e.name, l.name, l.name
                )));
            }
            if replaced.contains(&l.name) {
                return Err(ServiceError::Invalid(format!(
                    "substitute: {} has one ersättare already",
                    l.name
                )));
            }
            if rows.iter().any(|r| r.name == e.name) {
                return Err(ServiceError::Invalid(format!(
                    "substitute: {} serves once",
                    e.name
                )));
            }
            replaced.push(l.name.clone());
            rows.push(row(
                &e.name,
                Some(e.party.clone()),
                Presence::TjanstgorandeErsattare,
                Some(l.name.clone()),
                None,
            ));
        }
        for name in &input.ersattare {
            let Some(e) = find(name, Seat::Ersattare) else {
                return Err(ServiceError::Invalid(format!(
                    "ersättare: {:?} is not an ersättare of {} on {}",
                    name.trim(),
                    meeting.organ_code,
                    meeting.date
                )));
            };
            if rows.iter().any(|r| r.name == e.name) {
                return Err(ServiceError::Invalid(format!(
                    "ersättare: {} is listed as serving already",
                    e.name
                )));
            }
            rows.push(row(
                &e.name,
                Some(e.party.clone()),
                Presence::Ersattare,
                None,
                None,
            ));
        }
        for (name, role) in &input.others {
            let name = required_text("other", name, 200)?;
            let role = required_text("other's role", role, 200)?;
            rows.push(row(&name, None, Presence::Ovrig, None, Some(role)));
        }
        let secretary = match input
            .secretary
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty())
        {
            Some(s) => required_text("secretary", s, 200)?,
            None => match store.find_person(actor.as_str()).await? {
                Some(person) => person.name,
                None => {
                    return Err(ServiceError::Invalid(
                        "secretary: name the meeting's sekreterare".into(),
                    ));
                }
            },
        };
        let chair = required_text("chair", &input.chair, 200)?;
        let Some(chair) = rows
            .iter()
            .find(|r| {
                r.name.to_lowercase() == chair.to_lowercase()
                    && (r.presence == Presence::Ledamot.code()
                        || r.presence == Presence::TjanstgorandeErsattare.code())
            })
            .map(|r| r.name.clone())
        else {
            return Err(ServiceError::Invalid(format!(
                "chair: {chair:?} is not a tjänstgörande ledamot at this meeting"
            )));
        };
        for (i, row) in rows.iter_mut().enumerate() {
            row.ordinal = i as i32 + 1;
        }
        let serving = rows
            .iter()
            .filter(|r| {
                r.presence != Presence::Ersattare.code() && r.presence != Presence::Ovrig.code()
            })
            .count();
        let mut warnings = Vec::new();
        if !beslutfor(serving, ledamoter.len()) {
            warnings.push(format!(
                "{serving} av {} ledamöter tjänstgör: {} är inte beslutför (kommunallagen 5 kap \
                 45 §, 6 kap 27 §) och kan bara ta emot information",
                ledamoter.len(),
                organ_name(&org, &meeting.organ_code)
            ));
        }

        let now = self.kansli().clock.now();
        let tx = store.begin().await?;
        held_open(&tx, &meeting).await?;
        if !tx.paragraphs_at(meeting.id).await?.is_empty() {
            return Err(ServiceError::Invalid(format!(
                "närvaro: meeting {meeting_id} has paragraphs already; the närvaro they were \
                 decided by stands"
            )));
        }
        tx.record_attendance(meeting.id, &chair, &secretary, &rows, now)
            .await?;
        tx.append_audit(
            None,
            actor.as_str(),
            Action::AttendanceRecorded,
            Some(format!(
                "{} {}: {serving} tjänstgörande, ordförande {chair}, sekreterare {secretary}",
                meeting.organ_code, meeting.date
            )),
            now,
        )
        .await?;
        tx.commit().await?;
        Ok(warnings)
    }
}
