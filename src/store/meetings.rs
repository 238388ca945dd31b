//! Meetings, their agendas and the numbered paragraphs of their protocols.

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, Set,
};

use super::entity::{
    agenda_item, attendance, meeting, paragraph, paragraph_counter, paragraph_remark,
    paragraph_vote, protocol,
};
use super::{Store, StoreError, Tx};

/// A meeting.
pub type MeetingRow = meeting::Model;
/// A paragraph.
pub type ParagraphRow = paragraph::Model;
/// An agenda item.
pub type AgendaRow = agenda_item::Model;
/// A justerat protocol.
pub type ProtocolRow = protocol::Model;
/// Someone at a meeting.
pub type AttendanceRow = attendance::Model;
/// A ledamot's vote at a paragraph.
pub type VoteRow = paragraph_vote::Model;
/// A reservation, protokollsanteckning or jäv at a paragraph.
pub type RemarkRow = paragraph_remark::Model;

/// A meeting as the sekreterare plans it.
#[derive(Debug, Clone)]
pub struct MeetingPlan {
    /// The organ's code.
    pub organ: String,
    /// The day.
    pub date: NaiveDate,
    /// Where.
    pub place: String,
    /// When it starts (and ends), as the protocol writes it: `13.00-15.30`.
    pub starts_at: Option<String>,
    /// Where and when the protocol is to be justerat.
    pub justering_at: Option<String>,
}

/// A decision about to be recorded under the next paragraph number.
#[derive(Debug, Clone)]
pub struct NewParagraph {
    /// The meeting.
    pub meeting_id: i32,
    /// The organ (whose series the number is in).
    pub organ_code: String,
    /// The calendar year of the meeting.
    pub year: i32,
    /// The ärende, unless the paragraph has none (Val av justerare).
    pub case_id: Option<i32>,
    /// What it records (`ParagraphKind`'s code).
    pub kind: String,
    /// Its heading, for a paragraph without an ärende.
    pub title: Option<String>,
    /// The agenda item it answers; one paragraph per item.
    pub agenda_item_id: Option<i32>,
    /// The decision, att-satser one per line.
    pub decision: String,
    /// The yrkanden, one per line.
    pub yrkanden: String,
    /// The beslutsgång (the propositions and how they were put).
    pub beslutsgang: String,
    /// What the omröstning was between, when there was one.
    pub vote_question: Option<String>,
    /// The ärende the decision is sent on to (KS's, for a nämnd's), once justerat.
    pub forward_case_id: Option<i32>,
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
        plan: &MeetingPlan,
        at: DateTime<Utc>,
        by: &str,
    ) -> Result<MeetingRow, StoreError> {
        Ok(meeting::ActiveModel {
            organ_code: Set(plan.organ.clone()),
            date: Set(plan.date),
            place: Set(plan.place.clone()),
            starts_at: Set(plan.starts_at.clone()),
            justering_at: Set(plan.justering_at.clone()),
            created_at: Set(at),
            created_by: Set(by.to_owned()),
            ..Default::default()
        }
        .insert(&self.txn)
        .await?)
    }

    /// Puts an ärende, or an item with a title of its own, last on a meeting's agenda; `None`
    /// when the ärende is on it already.
    pub async fn add_agenda_item(
        &self,
        meeting_id: i32,
        case_id: Option<i32>,
        title: Option<&str>,
    ) -> Result<Option<AgendaRow>, StoreError> {
        let items = agenda_item::Entity::find()
            .filter(agenda_item::Column::MeetingId.eq(meeting_id))
            .all(&self.txn)
            .await?;
        if case_id.is_some() && items.iter().any(|i| i.case_id == case_id) {
            return Ok(None);
        }
        let last = items.iter().map(|i| i.position).max().unwrap_or(0);
        Ok(Some(
            agenda_item::ActiveModel {
                meeting_id: Set(meeting_id),
                case_id: Set(case_id),
                title: Set(title.map(str::to_owned)),
                position: Set(last + 1),
                ..Default::default()
            }
            .insert(&self.txn)
            .await?,
        ))
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
            html_sha256: Set(row.html_sha256),
            pdf_sha256: Set(row.pdf_sha256),
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
            kind: Set(new.kind),
            title: Set(new.title),
            agenda_item_id: Set(new.agenda_item_id),
            yrkanden: Set(new.yrkanden),
            beslutsgang: Set(new.beslutsgang),
            vote_question: Set(new.vote_question),
            forward_case_id: Set(new.forward_case_id),
            decision: Set(new.decision),
            proposal_to: Set(new.proposal_to),
            recipients: Set(new.recipients),
            recorded_at: Set(new.at),
            recorded_by: Set(new.by),
            ..Default::default()
        }
        .insert(&self.txn)
        .await
        .map_err(|e| {
            StoreError::from_write(
                e,
                "that agenda item has its paragraph already (or the number is taken)",
            )
        })
    }

    /// Records the omröstning's votes at a paragraph: `(name, party, choice code)`.
    pub async fn insert_votes(
        &self,
        paragraph_id: i32,
        votes: &[(String, Option<String>, String)],
    ) -> Result<(), StoreError> {
        if votes.is_empty() {
            return Ok(());
        }
        paragraph_vote::Entity::insert_many(votes.iter().map(|(name, party, choice)| {
            paragraph_vote::ActiveModel {
                paragraph_id: Set(paragraph_id),
                name: Set(name.clone()),
                party: Set(party.clone()),
                choice: Set(choice.clone()),
                ..Default::default()
            }
        }))
        .exec(&self.txn)
        .await?;
        Ok(())
    }

    /// Records reservations, protokollsanteckningar and jäv at a paragraph: `(kind code, name,
    /// party, text)`.
    pub async fn insert_remarks(
        &self,
        paragraph_id: i32,
        remarks: &[(String, String, Option<String>, String)],
    ) -> Result<(), StoreError> {
        if remarks.is_empty() {
            return Ok(());
        }
        paragraph_remark::Entity::insert_many(remarks.iter().map(|(kind, name, party, text)| {
            paragraph_remark::ActiveModel {
                paragraph_id: Set(paragraph_id),
                kind: Set(kind.clone()),
                name: Set(name.clone()),
                party: Set(party.clone()),
                text: Set(text.clone()),
                ..Default::default()
            }
        }))
        .exec(&self.txn)
        .await?;
        Ok(())
    }

    /// Notes why the ärende's workflow did not take a paragraph, for a registrator to see to.
    pub async fn note_unmoved(&self, paragraph_id: i32, why: &str) -> Result<(), StoreError> {
        paragraph::ActiveModel {
            id: Set(paragraph_id),
            workflow_note: Set(Some(why.to_owned())),
            ..Default::default()
        }
        .update(&self.txn)
        .await?;
        Ok(())
    }

    /// Marks a paragraph's note as seen to by a registrator; false when there was none open.
    pub async fn clear_attention(
        &self,
        paragraph_id: i32,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let done = paragraph::Entity::update_many()
            .col_expr(paragraph::Column::AttentionClearedAt, Expr::value(at))
            .col_expr(paragraph::Column::AttentionClearedBy, Expr::value(by))
            .filter(paragraph::Column::Id.eq(paragraph_id))
            .filter(paragraph::Column::WorkflowNote.is_not_null())
            .filter(paragraph::Column::AttentionClearedAt.is_null())
            .exec(&self.txn)
            .await?;
        Ok(done.rows_affected == 1)
    }

    /// Makes a meeting's närvaro exactly `rows` and records the meeting as held by
    /// `chair` with `secretary`.
    pub async fn record_attendance(
        &self,
        meeting_id: i32,
        chair: &str,
        secretary: &str,
        rows: &[AttendanceRow],
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        attendance::Entity::delete_many()
            .filter(attendance::Column::MeetingId.eq(meeting_id))
            .exec(&self.txn)
            .await?;
        if !rows.is_empty() {
            attendance::Entity::insert_many(rows.iter().map(|r| attendance::ActiveModel {
                meeting_id: Set(meeting_id),
                name: Set(r.name.clone()),
                party: Set(r.party.clone()),
                presence: Set(r.presence.clone()),
                replaces: Set(r.replaces.clone()),
                note: Set(r.note.clone()),
                ordinal: Set(r.ordinal),
                ..Default::default()
            }))
            .exec(&self.txn)
            .await?;
        }
        meeting::ActiveModel {
            id: Set(meeting_id),
            chair: Set(Some(chair.to_owned())),
            secretary: Set(Some(secretary.to_owned())),
            held_at: Set(Some(at)),
            ..Default::default()
        }
        .update(&self.txn)
        .await?;
        Ok(())
    }

    /// Records that the kallelse went out.
    pub async fn mark_kallelse_sent(
        &self,
        meeting_id: i32,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        meeting::ActiveModel {
            id: Set(meeting_id),
            kallelse_sent_at: Set(Some(at)),
            ..Default::default()
        }
        .update(&self.txn)
        .await?;
        Ok(())
    }

    /// Moves an agenda item one place up (`-1`) or down (`1`), swapping it with its
    /// neighbour; false when it is first or last already, or not on the meeting's agenda.
    pub async fn move_agenda_item(
        &self,
        meeting_id: i32,
        item_id: i32,
        by: i32,
    ) -> Result<bool, StoreError> {
        let items = agenda_item::Entity::find()
            .filter(agenda_item::Column::MeetingId.eq(meeting_id))
            .order_by_asc(agenda_item::Column::Position)
            .all(&self.txn)
            .await?;
        let Some(at) = items.iter().position(|i| i.id == item_id) else {
            return Ok(false);
        };
        let Some(other) = at
            .checked_add_signed(by as isize)
            .and_then(|o| items.get(o))
        else {
            return Ok(false);
        };
        let item = &items[at];
        for (id, position) in [(item.id, other.position), (other.id, item.position)] {
            agenda_item::ActiveModel {
                id: Set(id),
                position: Set(position),
                ..Default::default()
            }
            .update(&self.txn)
            .await?;
        }
        Ok(true)
    }

    /// A meeting's agenda, in order, read inside the transaction.
    pub async fn agenda_in(&self, meeting_id: i32) -> Result<Vec<AgendaRow>, StoreError> {
        Ok(agenda_item::Entity::find()
            .filter(agenda_item::Column::MeetingId.eq(meeting_id))
            .order_by_asc(agenda_item::Column::Position)
            .all(&self.txn)
            .await?)
    }

    /// A meeting's närvaro, read inside the transaction.
    pub async fn attendance_in(&self, meeting_id: i32) -> Result<Vec<AttendanceRow>, StoreError> {
        Ok(attendance::Entity::find()
            .filter(attendance::Column::MeetingId.eq(meeting_id))
            .order_by_asc(attendance::Column::Ordinal)
            .all(&self.txn)
            .await?)
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

    /// The paragraph an agenda item got, if it got one, read inside the transaction.
    pub async fn paragraph_for_item(
        &self,
        agenda_item_id: i32,
    ) -> Result<Option<ParagraphRow>, StoreError> {
        Ok(paragraph::Entity::find()
            .filter(paragraph::Column::AgendaItemId.eq(agenda_item_id))
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

    /// A meeting's närvaro, in the protocol's order.
    pub async fn attendance(&self, meeting_id: i32) -> Result<Vec<AttendanceRow>, StoreError> {
        Ok(attendance::Entity::find()
            .filter(attendance::Column::MeetingId.eq(meeting_id))
            .order_by_asc(attendance::Column::Ordinal)
            .all(self.db())
            .await?)
    }

    /// The votes cast at these paragraphs.
    pub async fn votes_of(&self, paragraph_ids: &[i32]) -> Result<Vec<VoteRow>, StoreError> {
        Ok(paragraph_vote::Entity::find()
            .filter(paragraph_vote::Column::ParagraphId.is_in(paragraph_ids.iter().copied()))
            .order_by_asc(paragraph_vote::Column::Id)
            .all(self.db())
            .await?)
    }

    /// The reservations, protokollsanteckningar and jäv at these paragraphs.
    pub async fn remarks_of(&self, paragraph_ids: &[i32]) -> Result<Vec<RemarkRow>, StoreError> {
        Ok(paragraph_remark::Entity::find()
            .filter(paragraph_remark::Column::ParagraphId.is_in(paragraph_ids.iter().copied()))
            .order_by_asc(paragraph_remark::Column::Id)
            .all(self.db())
            .await?)
    }

    /// Paragraphs whose ärende's workflow did not take them and that no registrator has seen
    /// to yet, oldest first.
    pub async fn paragraphs_needing_attention(&self) -> Result<Vec<ParagraphRow>, StoreError> {
        Ok(paragraph::Entity::find()
            .filter(paragraph::Column::WorkflowNote.is_not_null())
            .filter(paragraph::Column::AttentionClearedAt.is_null())
            .order_by_asc(paragraph::Column::Id)
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
