//! The justering: the protocol becomes final, the anslag goes up, and the decisions it holds
//! take effect.
//!
//! Recorded in one transaction with the steps it moves ärenden by: the protocol row (which
//! closes the meeting to every change), an audit entry per paragraph, and for each ärende whose
//! last decision so far is in this protocol, the workflow's own justering event (`meetings:`)
//! with the justering's dates, applied under a savepoint as a paragraph's step is.

use chrono::NaiveDate;

use super::{APPEAL_LAST_DAY, JUSTERAD_ON, POSTED_ON, held_open, paragraph_label};
use crate::domain::deadline;
use crate::domain::organisation::Role;
use crate::domain::protocol::{ParagraphKind, Presence};
use crate::service::{Actor, Engine, ServiceError, optional_text};
use crate::store::ProtocolRow;
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
    pub async fn justera(
        &self,
        meeting_id: i32,
        justerare: &[String],
        justerad_on: NaiveDate,
        posted_on: Option<NaiveDate>,
        actor: &Actor,
    ) -> Result<(ProtocolRow, Vec<String>), ServiceError> {
        let meeting = self.meeting(meeting_id).await?;
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
            let now = self.kansli().clock.now();
            let tx = store.begin().await?;
            held_open(&tx, &meeting).await?;
            let Some((held, _)) = tx.hold_meeting(meeting.id).await? else {
                return Err(ServiceError::NotFound(format!(
                    "meeting {meeting_id} does not exist"
                )));
            };
            let attendance = tx.attendance_in(meeting.id).await?;
            let Some(chair) = held.held_at.and(held.chair.clone()) else {
                return Err(ServiceError::Invalid(format!(
                    "närvaro: meeting {meeting_id} has no närvaro or ordförande; record them \
                     (kansli meeting attend) before the protocol is justerat"
                )));
            };
            // The justerare are chosen at the meeting among those there; the ordförande signs
            // beside them and is not one of them.
            let mut signing = Vec::new();
            for name in &named {
                let found = attendance.iter().find(|a| {
                    a.name.to_lowercase() == name.to_lowercase()
                        && a.presence != Presence::Ovrig.code()
                });
                match found {
                    Some(a) if a.name == chair => {
                        return Err(ServiceError::Invalid(format!(
                            "justerare: {} is the ordförande, who signs the protocol anyway; \
                             choose a justerare among the others",
                            a.name
                        )));
                    }
                    Some(a) => signing.push(a.name.clone()),
                    None => {
                        return Err(ServiceError::Invalid(format!(
                            "justerare: {name:?} is not a ledamot or ersättare in the meeting's \
                             närvaro"
                        )));
                    }
                }
            }
            let row = ProtocolRow {
                meeting_id,
                justerare: signing.join("\n"),
                justerad_on,
                posted_on,
                appeal_last_day: dates.appeal_last_day,
                taken_down_on: dates.notice_taken_down,
                recorded_at: now,
                recorded_by: actor.as_str().to_owned(),
            };
            // Read under the hold: a paragraph recorded a moment ago is in the protocol, and
            // none can be recorded after it.
            let paragraphs = tx.paragraphs_at(meeting_id).await?;
            tx.insert_protocol(row.clone()).await?;
            for p in &paragraphs {
                tx.append_audit(
                    p.case_id,
                    actor.as_str(),
                    "protokoll justerat",
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
            let mut takes_effect: Vec<i32> = Vec::new();
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
                if newest == Some(p.id) && !takes_effect.contains(&case_id) {
                    takes_effect.push(case_id);
                }
            }
            for case_id in takes_effect {
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
                    .await?;
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
            tx.commit().await?;
            return Ok((row, warnings));
        }
    }
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
