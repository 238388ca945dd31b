//! The justering: the protocol becomes final, the anslag goes up, and the decisions it holds
//! take effect.
//!
//! Recorded in one transaction with the steps it moves ärenden by: the protocol row (which
//! closes the meeting to every change), an audit entry per paragraph, and for each ärende whose
//! last decision so far is in this protocol, the workflow's own justering event (`meetings:`)
//! with the justering's dates, applied under a savepoint as a paragraph's step is.

use chrono::NaiveDate;

use super::{APPEAL_LAST_DAY, JUSTERAD_ON, POSTED_ON, held_open, paragraph_label};
use crate::domain::audit::Action;
use crate::domain::deadline;
use crate::domain::document::Direction;
use crate::domain::organisation::Role;
use crate::domain::protocol::{ParagraphKind, Presence};
use crate::service::engine::EXTRACT;
use crate::service::{Actor, DocumentFormat, Engine, ServiceError, optional_text};
use crate::store::{NewDocument, ParagraphRow, ProtocolRow};
use crate::workflow::Sender;

/// How many times a justering is recorded again when another writer moved one of its ärenden
/// between the look and the write.
const CONFLICT_RETRIES: usize = 3;

impl Engine {
    /// Records a meeting's justering and its anslag on the anslagstavla, with the dates the law
    /// sets: the notice by the second day after justering, the appeal period of three weeks
    /// moved to the next vardag (lag 1930:173), the notice up until then. Ärenden whose
    /// workflow waits for the justering move on. Returns the protocol and any warnings, in
    /// Swedish.
    ///
    /// The documents the steps register (the protokollsutdrag) are rendered before the
    /// transaction, as the protocol is.
    pub async fn justera(
        &self,
        meeting_id: i32,
        justerare: &[String],
        justerad_on: NaiveDate,
        posted_on: Option<NaiveDate>,
        actor: &Actor,
    ) -> Result<(ProtocolRow, Vec<String>), ServiceError> {
        self.rendering_first(|| {
            self.justera_once(meeting_id, justerare, justerad_on, posted_on, actor)
        })
        .await
    }

    async fn justera_once(
        &self,
        meeting_id: i32,
        justerare: &[String],
        justerad_on: NaiveDate,
        posted_on: Option<NaiveDate>,
        actor: &Actor,
    ) -> Result<(ProtocolRow, Vec<String>), ServiceError> {
        let meeting = self.meeting_open(meeting_id).await?;
        let mut named = Vec::new();
        for j in justerare {
            if let Some(j) = optional_text("justerare", Some(j), 200)? {
                named.push(j);
            }
        }
        if named.is_empty() {
            return Err(ServiceError::Invalid(
                "justerare: give at least one justerare".into(),
            ));
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
                "date: the justering {justerad_on} is before the meeting {}",
                meeting.date
            )));
        }
        let posted_on = posted_on.unwrap_or(justerad_on);
        if posted_on < justerad_on {
            return Err(ServiceError::Invalid(format!(
                "anslag: the anslag {posted_on} is before the justering {justerad_on}"
            )));
        }
        let mut warnings = Vec::new();
        if justerad_on > deadline::justering_latest(meeting.date) {
            warnings.push(format!(
                "justerat {justerad_on}, senare än 14 dagar efter sammanträdet ({}; kommunallagen \
                 5 kap 69 §)",
                deadline::justering_latest(meeting.date)
            ));
        }
        if posted_on > deadline::posting_latest(justerad_on) {
            warnings.push(format!(
                "anslaget {posted_on}, senare än andra dagen efter justeringen ({})",
                deadline::posting_latest(justerad_on)
            ));
        }
        let dates = deadline::AppealDates::for_posting(posted_on);
        let store = self.kansli().store();
        let org = store.org_snapshot().await?;

        let mut attempt = 0;
        'again: loop {
            // Everything the justering files is drawn up before its transaction opens: the
            // protocol as it will read, and the extracts no workflow draws up. The transaction
            // stores them only if the protocol still holds what they were drawn from.
            let now = self.kansli().clock.now();
            let mut row = ProtocolRow {
                meeting_id,
                justerare: self.signing(&meeting, &named).await?.join("\n"),
                justerad_on,
                posted_on,
                appeal_last_day: dates.appeal_last_day,
                taken_down_on: dates.notice_taken_down,
                recorded_at: now,
                recorded_by: actor.as_str().to_owned(),
                html_sha256: None,
                pdf_sha256: None,
            };
            let rendered = self.render_protocol(meeting_id, &row).await?;
            let extracts = self.plain_extracts(&org, meeting_id, &row, now).await?;

            let tx = store.begin().await?;
            held_open(&tx, &meeting).await?;
            // Read under the hold: a paragraph recorded a moment ago is in the protocol, and
            // none can be recorded after it.
            let paragraphs = tx.paragraphs_at(meeting_id).await?;
            let attendance = tx.attendance_in(meeting_id).await?;
            if paragraphs.iter().map(|p| p.id).collect::<Vec<_>>() != rendered.paragraphs
                || attendance != rendered.attendance
            {
                tx.rollback().await?;
                attempt += 1;
                if attempt > CONFLICT_RETRIES {
                    return Err(ServiceError::Conflict(format!(
                        "the protocol of meeting {meeting_id} kept changing while it was being \
                         justerat; justera it again"
                    )));
                }
                continue 'again;
            }
            row.html_sha256 = Some(tx.store_content(rendered.html, now).await?);
            if let Some(pdf) = rendered.pdf {
                row.pdf_sha256 = Some(tx.store_content(pdf, now).await?);
            }
            tx.insert_protocol(row.clone()).await?;
            for p in &paragraphs {
                tx.append_audit(
                    p.case_id,
                    actor.as_str(),
                    Action::ProtocolJusterat,
                    Some(format!(
                        "{}: justerat {justerad_on}, anslaget {posted_on}, sista dag för \
                         överklagande {}",
                        paragraph_label(p),
                        dates.appeal_last_day
                    )),
                    now,
                )
                .await?;
            }
            // This justering gives effect only to the decisions it holds that are their
            // ärende's last word so far: an ärende decided since by another organ (KS, then
            // KF) waits for that organ's justering, and a proposal moves the ärende on without
            // one.
            let mut takes_effect: Vec<&ParagraphRow> = Vec::new();
            for p in paragraphs
                .iter()
                .filter(|p| p.kind == ParagraphKind::Beslut.code())
            {
                let Some(case_id) = p.case_id else { continue };
                let newest = tx
                    .paragraphs_of_case(case_id)
                    .await?
                    .into_iter()
                    .rfind(|(q, _)| settles(&q.kind))
                    .map(|(newest, _)| newest.id);
                if newest == Some(p.id) && !takes_effect.iter().any(|t| t.case_id == p.case_id) {
                    takes_effect.push(p);
                }
            }
            for p in &takes_effect {
                if let Some(extract) = extracts.iter().find(|e| e.paragraph_id == p.id) {
                    self.file_extract(&tx, &org, p, extract, actor, now).await?;
                }
            }
            // The documents the steps need and miss, all at once: rendered together, before
            // the justering runs again.
            let mut unrendered = Vec::new();
            for case_id in takes_effect.iter().filter_map(|p| p.case_id) {
                let root = store
                    .instances_of_case(case_id)
                    .await?
                    .into_iter()
                    .find(|i| i.parent_id.is_none() && i.finished_at.is_none());
                let Some(instance) = root else { continue };
                // The workflow's own event for a justering, if it declares one, sent only when
                // its state waits for it now; one that does not (a paragraph the workflow had
                // no step for) is left as it is.
                let Some(event) = self
                    .workflow_of_instance(instance.clone())
                    .await?
                    .meetings
                    .justering
                    .clone()
                else {
                    continue;
                };
                if !self.takes_now(instance.clone(), &event).await? {
                    continue;
                }
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
                    .send_within(
                        &tx,
                        &org,
                        instance.id,
                        &event,
                        &facts,
                        Sender::Role(Role::Sekreterare),
                        actor,
                        Some(&key),
                        now,
                    )
                    .await;
                let sent = match sent {
                    Err(ServiceError::Unrendered(wanted)) => {
                        unrendered.extend(wanted);
                        continue;
                    }
                    sent => sent?,
                };
                // The justering is recorded whatever the workflow says; the answer says why
                // the workflow did not move, as for a paragraph.
                match sent {
                    Ok(_) => {}
                    Err(ServiceError::Conflict(_)) if attempt < CONFLICT_RETRIES => {
                        tx.rollback().await?;
                        attempt += 1;
                        continue 'again;
                    }
                    Err(ServiceError::Refused(why)) => warnings.push(format!(
                        "arbetsflödet tog inte emot justeringen: {}",
                        why.swedish()
                    )),
                    Err(ServiceError::Invalid(why)) => {
                        warnings.push(format!("arbetsflödet tog inte emot justeringen: {why}"))
                    }
                    Err(e) => return Err(e),
                }
            }
            if !unrendered.is_empty() {
                tx.rollback().await?;
                return Err(ServiceError::Unrendered(unrendered));
            }
            tx.commit().await?;
            return Ok((row, warnings));
        }
    }

    /// The justerare as the närvaro names them: chosen at the meeting among those there; the
    /// ordförande signs beside them and is not one of them.
    async fn signing(
        &self,
        meeting: &crate::store::MeetingRow,
        named: &[String],
    ) -> Result<Vec<String>, ServiceError> {
        let store = self.kansli().store();
        let held = self.meeting(meeting.id).await?;
        let Some(chair) = held.held_at.and(held.chair.clone()) else {
            return Err(ServiceError::Invalid(format!(
                "närvaro: meeting {} has no närvaro or ordförande; record them (kansli meeting \
                 attend) before the protocol is justerat",
                meeting.id
            )));
        };
        let attendance = store.attendance(meeting.id).await?;
        let mut signing = Vec::new();
        for name in named {
            let found = attendance.iter().find(|a| {
                a.name.to_lowercase() == name.to_lowercase() && a.presence != Presence::Ovrig.code()
            });
            match found {
                Some(a) if a.name == chair => {
                    return Err(ServiceError::Invalid(format!(
                        "justerare: {} is the ordförande, who signs the protocol anyway; choose \
                         a justerare among the others",
                        a.name
                    )));
                }
                Some(a) => signing.push(a.name.clone()),
                None => {
                    return Err(ServiceError::Invalid(format!(
                        "justerare: {name:?} is not a ledamot or ersättare in the meeting's närvaro"
                    )));
                }
            }
        }
        Ok(signing)
    }

    /// The protokollsutdrag that the justering itself files, drawn up before its transaction:
    /// of each decision on an ärende that runs no workflow (a nämnd's own, whose workflow-less
    /// extract nobody else draws up) or that is sent on to another ärende.
    async fn plain_extracts(
        &self,
        org: &crate::store::OrgSnapshot,
        meeting_id: i32,
        protocol: &ProtocolRow,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<Extract>, ServiceError> {
        let store = self.kansli().store();
        // Read through one transaction, rolled back (nothing is written here), and rendered
        // after it, so that no PDF is made while a transaction is open.
        let mut drawn = Vec::new();
        let read = store.begin().await?;
        for p in store.paragraphs_of_meeting(meeting_id).await? {
            let Some(case_id) = p.case_id.filter(|_| p.kind == ParagraphKind::Beslut.code()) else {
                continue;
            };
            let runs_workflow = store
                .instances_of_case(case_id)
                .await?
                .iter()
                .any(|i| i.parent_id.is_none());
            if runs_workflow && p.forward_case_id.is_none() {
                continue;
            }
            let case = store
                .case_by_id(case_id)
                .await?
                .ok_or_else(|| anyhow::anyhow!("paragraph {} has no ärende", p.id))?;
            let context = self
                .extract_context(&read, org, &case, &(&p).into(), Some(protocol), now)
                .await?;
            let description = format!(
                "Protokollsutdrag {}, {}",
                paragraph_label(&p),
                case.public_title
            );
            drawn.push((p.id, !runs_workflow, context, description));
        }
        read.rollback().await?;
        let mut out = Vec::with_capacity(drawn.len());
        for (paragraph_id, file_in_case, context, description) in drawn {
            let (content, name, media_type) =
                match self.render_on_request(EXTRACT, &context, DocumentFormat::Pdf, now) {
                    Ok(pdf) => (pdf, format!("{EXTRACT}.pdf"), "application/pdf"),
                    Err(ServiceError::Invalid(_)) => (
                        self.render_on_request(EXTRACT, &context, DocumentFormat::Html, now)?,
                        format!("{EXTRACT}.html"),
                        "text/html; charset=utf-8",
                    ),
                    Err(e) => return Err(e),
                };
            out.push(Extract {
                paragraph_id,
                file_in_case,
                content,
                name,
                media_type,
                description,
            });
        }
        Ok(out)
    }

    /// Files a drawn-up extract: in its own ärende, when no workflow does, and as an inkommande
    /// handling in the ärende the decision is sent on to.
    async fn file_extract(
        &self,
        tx: &crate::store::Tx,
        org: &crate::store::OrgSnapshot,
        p: &ParagraphRow,
        extract: &Extract,
        actor: &Actor,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<(), ServiceError> {
        let sha256 = tx.store_content(extract.content.clone(), now).await?;
        let file = (sha256, extract.name.clone(), extract.media_type.to_owned());
        let organ = super::organ_name(org, &p.organ_code);
        let label = paragraph_label(p);
        let filed = |case_id: i32, direction: Direction, counterpart: Option<String>| {
            let document = NewDocument {
                case_id,
                date: crate::domain::calendar::local_date(now),
                direction: direction.code().to_owned(),
                counterpart,
                counterpart_protected: false,
                description: extract.description.clone(),
                description_protected: false,
                secrecy: None,
                file: Some(file.clone()),
                registered_at: now,
                registered_by: actor.as_str().to_owned(),
            };
            async move {
                let seq = tx.allocate_document_seq(case_id).await?;
                tx.insert_document(document, seq).await?;
                tx.append_audit(
                    Some(case_id),
                    actor.as_str(),
                    Action::DocumentRegistered,
                    Some(format!(
                        ":{seq} {} ({})",
                        extract.description,
                        direction.label()
                    )),
                    now,
                )
                .await?;
                Ok::<_, ServiceError>(seq)
            }
        };
        if let (true, Some(case_id)) = (extract.file_in_case, p.case_id) {
            filed(case_id, Direction::Internal, None).await?;
        }
        if let Some(to) = p.forward_case_id {
            filed(to, Direction::Incoming, Some(organ.clone())).await?;
            if let Some(case_id) = p.case_id {
                let book = crate::service::diarium::SeriesBook::from_rows(org.series.clone())?;
                let target = tx
                    .case_by_id(to)
                    .await?
                    .map(|c| book.render(&c))
                    .transpose()?
                    .unwrap_or_default();
                tx.append_audit(
                    Some(case_id),
                    actor.as_str(),
                    Action::DecisionForwarded,
                    Some(format!(
                        "{label}: protokollsutdraget registrerat i ärende {target}"
                    )),
                    now,
                )
                .await?;
            }
        }
        Ok(())
    }
}

/// A protokollsutdrag drawn up for a justering to file.
struct Extract {
    paragraph_id: i32,
    /// Whether it is filed in its own ärende (which runs no workflow to do it).
    file_in_case: bool,
    content: Vec<u8>,
    name: String,
    media_type: &'static str,
    description: String,
}

/// Whether a paragraph of this kind (its stored code) is an organ's word on the ärende that a
/// later organ's supersedes: a decision, a proposal, an återremiss; not an information item
/// or a bordläggning.
fn settles(kind: &str) -> bool {
    [
        ParagraphKind::Beslut,
        ParagraphKind::Forslag,
        ParagraphKind::Aterremiss,
    ]
    .iter()
    .any(|k| k.code() == kind)
}
