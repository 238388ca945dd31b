//! Meetings, their agendas and the numbered paragraphs of their protocols.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use super::entity::{agenda_item, meeting, paragraph, paragraph_counter, protocol};
use super::{Store, StoreError, Tx};

/// A meeting.
pub type MeetingRow = meeting::Model;
/// A paragraph.
pub type ParagraphRow = paragraph::Model;
/// An agenda item.
pub type AgendaRow = agenda_item::Model;
/// A justerat protocol.
pub type ProtocolRow = protocol::Model;

/// A decision about to be recorded under the next paragraph number.
#[derive(Debug, Clone)]
pub struct NewParagraph {
    /// The meeting.
    pub meeting_id: i32,
    /// The organ (whose series the number is in).
    pub organ_code: String,
    /// The calendar year of the meeting.
    pub year: i32,
    /// The ärende.
    pub case_id: i32,
    /// The decision, att-satser one per line.
    pub decision: String,
    /// The organ the decision proposes to, for a proposal.
    pub proposal_to: Option<String>,
    /// Beslutet skickas till, one per line.
    pub recipients: String,
    /// When.
    pub at: DateTime<Utc>,
    /// Who.
    pub by: String,
}

impl Tx {
    /// Creates a meeting.
    pub async fn insert_meeting(
        &self,
        organ: &str,
        date: NaiveDate,
        place: &str,
        at: DateTime<Utc>,
        by: &str,
    ) -> Result<MeetingRow, StoreError> {
        Ok(meeting::ActiveModel {
            organ_code: Set(organ.to_owned()),
            date: Set(date),
            place: Set(place.to_owned()),
            created_at: Set(at),
            created_by: Set(by.to_owned()),
            ..Default::default()
        }
        .insert(&self.txn)
        .await?)
    }

    /// Puts an ärende last on a meeting's agenda; false when it is on it already.
    pub async fn add_agenda_item(&self, meeting_id: i32, case_id: i32) -> Result<bool, StoreError> {
        let items = agenda_item::Entity::find()
            .filter(agenda_item::Column::MeetingId.eq(meeting_id))
            .all(&self.txn)
            .await?;
        if items.iter().any(|i| i.case_id == case_id) {
            return Ok(false);
        }
        agenda_item::ActiveModel {
            meeting_id: Set(meeting_id),
            case_id: Set(case_id),
            position: Set(items.len() as i32 + 1),
            ..Default::default()
        }
        .insert(&self.txn)
        .await?;
        Ok(true)
    }

    /// Records a meeting's justering and anslag; a conflict when it was justerat already.
    pub async fn insert_protocol(&self, row: ProtocolRow) -> Result<(), StoreError> {
        protocol::ActiveModel {
            meeting_id: Set(row.meeting_id),
            justerare: Set(row.justerare),
            justerad_on: Set(row.justerad_on),
            posted_on: Set(row.posted_on),
            appeal_last_day: Set(row.appeal_last_day),
            taken_down_on: Set(row.taken_down_on),
            recorded_at: Set(row.recorded_at),
            recorded_by: Set(row.recorded_by),
        }
        .insert(&self.txn)
        .await
        .map_err(|e| StoreError::from_write(e, "the protocol is justerat already"))?;
        Ok(())
    }

    /// Records a decision under the organ's next paragraph number for the year.
    pub async fn insert_paragraph(&self, new: NewParagraph) -> Result<ParagraphRow, StoreError> {
        let number = self
            .bump_counter(
                paragraph_counter::Entity,
                (
                    paragraph_counter::Column::OrganCode,
                    new.organ_code.clone().into(),
                ),
                (paragraph_counter::Column::Year, new.year),
                paragraph_counter::Column::LastNumber,
            )
            .await?;
        paragraph::ActiveModel {
            organ_code: Set(new.organ_code),
            year: Set(new.year),
            number: Set(number as i32),
            meeting_id: Set(new.meeting_id),
            case_id: Set(new.case_id),
            decision: Set(new.decision),
            proposal_to: Set(new.proposal_to),
            recipients: Set(new.recipients),
            recorded_at: Set(new.at),
            recorded_by: Set(new.by),
            ..Default::default()
        }
        .insert(&self.txn)
        .await
        .map_err(|e| StoreError::from_write(e, "that paragraph number is already taken"))
    }
}

impl Tx {
    /// An ärende's paragraphs with their meetings, oldest meeting first, read inside the
    /// transaction.
    pub async fn paragraphs_of_case(
        &self,
        case_id: i32,
    ) -> Result<Vec<(ParagraphRow, MeetingRow)>, StoreError> {
        let paragraphs = paragraph::Entity::find()
            .filter(paragraph::Column::CaseId.eq(case_id))
            .order_by_asc(paragraph::Column::Id)
            .all(&self.txn)
            .await?;
        let mut out = Vec::with_capacity(paragraphs.len());
        for p in paragraphs {
            let meeting = meeting::Entity::find_by_id(p.meeting_id)
                .one(&self.txn)
                .await?
                .ok_or_else(|| StoreError::NotFound(format!("meeting {}", p.meeting_id)))?;
            out.push((p, meeting));
        }
        out.sort_by_key(|(p, m)| (m.date, p.id));
        Ok(out)
    }

    /// Holds the meeting for this transaction's changes and reads its protocol: whatever the
    /// transaction then writes of the meeting, no justering can come between the look and the
    /// write (PostgreSQL locks the meeting's row; SQLite's write transactions take turns
    /// already). `None` for the meeting when there is none.
    pub async fn hold_meeting(
        &self,
        meeting_id: i32,
    ) -> Result<Option<(MeetingRow, Option<ProtocolRow>)>, StoreError> {
        use sea_orm::{ConnectionTrait, DbBackend, QuerySelect};
        let mut query = meeting::Entity::find_by_id(meeting_id);
        if self.txn.get_database_backend() == DbBackend::Postgres {
            query = query.lock_exclusive();
        }
        let Some(meeting) = query.one(&self.txn).await? else {
            return Ok(None);
        };
        Ok(Some((meeting, self.protocol_of(meeting_id).await?)))
    }

    /// The paragraph an ärende got at a meeting, if it got one, read inside the transaction.
    pub async fn paragraph_at(
        &self,
        meeting_id: i32,
        case_id: i32,
    ) -> Result<Option<ParagraphRow>, StoreError> {
        Ok(paragraph::Entity::find()
            .filter(paragraph::Column::MeetingId.eq(meeting_id))
            .filter(paragraph::Column::CaseId.eq(case_id))
            .one(&self.txn)
            .await?)
    }

    /// A meeting's paragraphs in number order, read inside the transaction.
    pub async fn paragraphs_at(&self, meeting_id: i32) -> Result<Vec<ParagraphRow>, StoreError> {
        Ok(paragraph::Entity::find()
            .filter(paragraph::Column::MeetingId.eq(meeting_id))
            .order_by_asc(paragraph::Column::Number)
            .all(&self.txn)
            .await?)
    }

    /// A meeting's protocol, once justerat, read inside the transaction.
    pub async fn protocol_of(&self, meeting_id: i32) -> Result<Option<ProtocolRow>, StoreError> {
        Ok(protocol::Entity::find_by_id(meeting_id)
            .one(&self.txn)
            .await?)
    }
}

impl Store {
    /// A meeting.
    pub async fn meeting(&self, id: i32) -> Result<Option<MeetingRow>, StoreError> {
        Ok(meeting::Entity::find_by_id(id).one(self.db()).await?)
    }

    /// Meetings, by date.
    pub async fn meetings(&self) -> Result<Vec<MeetingRow>, StoreError> {
        Ok(meeting::Entity::find()
            .order_by_asc(meeting::Column::Date)
            .order_by_asc(meeting::Column::Id)
            .all(self.db())
            .await?)
    }

    /// A meeting's protocol, once justerat.
    pub async fn protocol(&self, meeting_id: i32) -> Result<Option<ProtocolRow>, StoreError> {
        Ok(protocol::Entity::find_by_id(meeting_id)
            .one(self.db())
            .await?)
    }

    /// A meeting's agenda, in order.
    pub async fn agenda(&self, meeting_id: i32) -> Result<Vec<AgendaRow>, StoreError> {
        Ok(agenda_item::Entity::find()
            .filter(agenda_item::Column::MeetingId.eq(meeting_id))
            .order_by_asc(agenda_item::Column::Position)
            .all(self.db())
            .await?)
    }

    /// A meeting's paragraphs, in number order.
    pub async fn paragraphs_of_meeting(
        &self,
        meeting_id: i32,
    ) -> Result<Vec<ParagraphRow>, StoreError> {
        Ok(paragraph::Entity::find()
            .filter(paragraph::Column::MeetingId.eq(meeting_id))
            .order_by_asc(paragraph::Column::Number)
            .all(self.db())
            .await?)
    }

    /// An organ's paragraphs in a year, in number order.
    pub async fn paragraphs_of_organ(
        &self,
        organ: &str,
        year: i32,
    ) -> Result<Vec<ParagraphRow>, StoreError> {
        Ok(paragraph::Entity::find()
            .filter(paragraph::Column::OrganCode.eq(organ))
            .filter(paragraph::Column::Year.eq(year))
            .order_by_asc(paragraph::Column::Number)
            .all(self.db())
            .await?)
    }

    /// How many paragraphs an ärende has, for checks.
    pub async fn count_paragraphs_of_case(&self, case_id: i32) -> Result<u64, StoreError> {
        Ok(paragraph::Entity::find()
            .filter(paragraph::Column::CaseId.eq(case_id))
            .count(self.db())
            .await?)
    }
}
