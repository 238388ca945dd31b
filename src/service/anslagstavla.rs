//! The anslagstavla: the notices that protocols are justerade, up from the day they are
//! posted until they are taken down the day after the last day for appeal (kommunallagen 8 kap
//! 12 §, 13 kap 5 §). Public, without login.

use chrono::NaiveDate;
use serde::Serialize;

use super::{Kansli, ServiceError};

/// A notice on the anslagstavla.
#[derive(Debug, Clone, Serialize)]
pub struct Notice {
    /// The organ's name.
    pub organ: String,
    /// The meeting's day.
    pub meeting_date: NaiveDate,
    /// The paragraphs the protocol holds, `KS § 1/26` ...
    pub paragraphs: Vec<String>,
    /// The day it was justerat.
    pub justerad_on: NaiveDate,
    /// The day the notice went up.
    pub posted_on: NaiveDate,
    /// The last day to ask for laglighetsprövning.
    pub appeal_last_day: NaiveDate,
    /// The day it comes down.
    pub taken_down_on: NaiveDate,
    /// Where the protocol is kept.
    pub kept_at: String,
}

impl Kansli {
    /// The notices up on `day`, newest first.
    pub async fn anslagstavla(&self, day: NaiveDate) -> Result<Vec<Notice>, ServiceError> {
        let org = self.store.org_snapshot().await?;
        let kept_at = super::mail::municipality_of(&org).name;
        let mut notices = Vec::new();
        for protocol in self.store.protocols().await? {
            if !(protocol.posted_on <= day && day < protocol.taken_down_on) {
                continue;
            }
            let Some(meeting) = self.store.meeting(protocol.meeting_id).await? else {
                continue;
            };
            let paragraphs = self
                .store
                .paragraphs_of_meeting(meeting.id)
                .await?
                .iter()
                .map(super::paragraph_label)
                .collect();
            notices.push(Notice {
                organ: org
                    .organs
                    .iter()
                    .find(|o| o.code == meeting.organ_code)
                    .map_or_else(|| meeting.organ_code.clone(), |o| o.name.clone()),
                meeting_date: meeting.date,
                paragraphs,
                justerad_on: protocol.justerad_on,
                posted_on: protocol.posted_on,
                appeal_last_day: protocol.appeal_last_day,
                taken_down_on: protocol.taken_down_on,
                kept_at: format!("{kept_at}, kommunkansliet"),
            });
        }
        notices.sort_by_key(|n| std::cmp::Reverse(n.posted_on));
        Ok(notices)
    }

    /// Counts for monitoring.
    pub async fn gauges(&self) -> Result<crate::store::Gauges, ServiceError> {
        Ok(self.store.gauges(self.clock.now()).await?)
    }
}
