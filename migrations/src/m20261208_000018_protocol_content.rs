//! A protocol as kommunallagen has it (5 kap 67-69 §§, 6 kap 30-35 §§): the organs' members
//! with their party and term, a meeting's kallelse and närvaro, its ordförande, sekreterare and
//! the time and place of justering, and paragraphs of every kind, with yrkanden, omröstning,
//! reservationer, protokollsanteckningar and jäv.
//!
//! - `organ_member`: ledamöter and ersättare of an organ for a mandatperiod, from the
//!   organisation file.
//! - `meeting` gains its time, ordförande, sekreterare, the justering's place and time, and when
//!   the kallelse went out and the meeting was held (närvaro recorded).
//! - `attendance`: who was there, as the protocol records it (name and party copied, so that a
//!   later change of the organisation file leaves a protocol as it was).
//! - `agenda_item` and `paragraph` may stand without an ärende (Mötets öppnande, Val av
//!   justerare, Månadsrapport); a paragraph has a kind, may answer one agenda item only (a
//!   unique key), and keeps what its workflow said when it did not take the decision, until a
//!   registrator has seen to it.
//! - `paragraph_vote` (ja, nej, avstår per ledamot) and `paragraph_remark` (reservation,
//!   protokollsanteckning, jäv, each naming its ledamot).
//!
//! PostgreSQL lets `case_id` go nullable in place; SQLite cannot, so `agenda_item` and
//! `paragraph` are rebuilt (see [`crate::sqlite`]) in one transaction.

use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OrganMember::Table)
                    .col(pk_auto(OrganMember::Id))
                    .col(string(OrganMember::OrganCode))
                    .col(string(OrganMember::Name))
                    .col(string(OrganMember::Party))
                    .col(string(OrganMember::Seat))
                    .col(integer(OrganMember::Ordinal))
                    .col(date(OrganMember::TermFrom))
                    .col(date(OrganMember::TermTo))
                    .col(string_null(OrganMember::Email))
                    .index(
                        Index::create()
                            .name("ux_organ_member")
                            .col(OrganMember::OrganCode)
                            .col(OrganMember::Name)
                            .col(OrganMember::TermFrom)
                            .unique(),
                    )
                    .to_owned(),
            )
            .await?;
        for column in [
            string_null(Meeting::StartsAt),
            string_null(Meeting::Chair),
            string_null(Meeting::Secretary),
            string_null(Meeting::JusteringAt),
            timestamp_with_time_zone_null(Meeting::KallelseSentAt),
            timestamp_with_time_zone_null(Meeting::HeldAt),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Meeting::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(Attendance::Table)
                    .col(pk_auto(Attendance::Id))
                    .col(integer(Attendance::MeetingId))
                    .col(string(Attendance::Name))
                    .col(string_null(Attendance::Party))
                    .col(string(Attendance::Presence))
                    .col(string_null(Attendance::Replaces))
                    .col(string_null(Attendance::Note))
                    .col(integer(Attendance::Ordinal))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Attendance::Table, Attendance::MeetingId)
                            .to(Meeting::Table, Meeting::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_attendance_meeting")
                    .table(Attendance::Table)
                    .col(Attendance::MeetingId)
                    .to_owned(),
            )
            .await?;

        // The new columns first, so that a rebuild copies them with the rest.
        manager
            .alter_table(
                Table::alter()
                    .table(AgendaItem::Table)
                    .add_column(text_null(AgendaItem::Title))
                    .to_owned(),
            )
            .await?;
        for column in [
            string(Paragraph::Kind).default("beslut").to_owned(),
            text_null(Paragraph::Title),
            integer_null(Paragraph::AgendaItemId),
            text(Paragraph::Yrkanden).default("").to_owned(),
            text(Paragraph::Beslutsgang).default("").to_owned(),
            text_null(Paragraph::VoteQuestion),
            text_null(Paragraph::WorkflowNote),
            timestamp_with_time_zone_null(Paragraph::AttentionClearedAt),
            string_null(Paragraph::AttentionClearedBy),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Paragraph::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        let db = manager.get_connection();
        // A proposal was a decision with an organ to propose to; each decided agenda item
        // gets its paragraph's key.
        db.execute_unprepared(
            "UPDATE paragraph SET kind = 'forslag' WHERE proposal_to IS NOT NULL",
        )
        .await?;
        db.execute_unprepared(
            "UPDATE paragraph SET agenda_item_id = (SELECT a.id FROM agenda_item a \
             WHERE a.meeting_id = paragraph.meeting_id AND a.case_id = paragraph.case_id)",
        )
        .await?;
        match manager.get_database_backend() {
            DbBackend::Postgres => {
                for table in ["agenda_item", "paragraph"] {
                    db.execute_unprepared(&format!(
                        "ALTER TABLE {table} ALTER COLUMN case_id DROP NOT NULL"
                    ))
                    .await?;
                }
            }
            _ => {
                crate::sqlite::rebuild(manager, "agenda_item", agenda_item()).await?;
                crate::sqlite::rebuild(manager, "paragraph", paragraph()).await?;
            }
        }
        manager
            .create_index(
                Index::create()
                    .name("ux_paragraph_agenda_item")
                    .table(Paragraph::Table)
                    .col(Paragraph::AgendaItemId)
                    .unique()
                    .to_owned(),
            )
            .await?;

        manager
            .create_table(
                Table::create()
                    .table(ParagraphVote::Table)
                    .col(pk_auto(ParagraphVote::Id))
                    .col(integer(ParagraphVote::ParagraphId))
                    .col(string(ParagraphVote::Name))
                    .col(string_null(ParagraphVote::Party))
                    .col(string(ParagraphVote::Choice))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ParagraphVote::Table, ParagraphVote::ParagraphId)
                            .to(Paragraph::Table, Paragraph::Id),
                    )
                    .index(
                        Index::create()
                            .name("ux_paragraph_vote")
                            .col(ParagraphVote::ParagraphId)
                            .col(ParagraphVote::Name)
                            .unique(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ParagraphRemark::Table)
                    .col(pk_auto(ParagraphRemark::Id))
                    .col(integer(ParagraphRemark::ParagraphId))
                    .col(string(ParagraphRemark::Kind))
                    .col(string(ParagraphRemark::Name))
                    .col(string_null(ParagraphRemark::Party))
                    .col(text(ParagraphRemark::Text))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ParagraphRemark::Table, ParagraphRemark::ParagraphId)
                            .to(Paragraph::Table, Paragraph::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_paragraph_remark")
                    .table(ParagraphRemark::Table)
                    .col(ParagraphRemark::ParagraphId)
                    .to_owned(),
            )
            .await
    }

    /// SQLite's rebuilds must be all or nothing.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

/// `agenda_item` as migration 000007 created it, with a title and `case_id` nullable.
fn agenda_item() -> TableCreateStatement {
    Table::create()
        .col(pk_auto(AgendaItem::Id))
        .col(integer(AgendaItem::MeetingId))
        .col(integer_null(AgendaItem::CaseId))
        .col(integer(AgendaItem::Position))
        .col(text_null(AgendaItem::Title))
        .foreign_key(
            ForeignKey::create()
                .from(AgendaItem::Table, AgendaItem::MeetingId)
                .to(Meeting::Table, Meeting::Id),
        )
        .index(
            Index::create()
                .name("ux_agenda_item")
                .col(AgendaItem::MeetingId)
                .col(AgendaItem::CaseId)
                .unique(),
        )
        .to_owned()
}

/// `paragraph` as migration 000007 created it, with the columns above and `case_id` nullable.
fn paragraph() -> TableCreateStatement {
    Table::create()
        .col(pk_auto(Paragraph::Id))
        .col(string(Paragraph::OrganCode))
        .col(integer(Paragraph::Year))
        .col(integer(Paragraph::Number))
        .col(integer(Paragraph::MeetingId))
        .col(integer_null(Paragraph::CaseId))
        .col(text(Paragraph::Decision))
        .col(string_null(Paragraph::ProposalTo))
        .col(text(Paragraph::Recipients))
        .col(timestamp_with_time_zone(Paragraph::RecordedAt))
        .col(string(Paragraph::RecordedBy))
        .col(string(Paragraph::Kind).default("beslut"))
        .col(text_null(Paragraph::Title))
        .col(integer_null(Paragraph::AgendaItemId))
        .col(text(Paragraph::Yrkanden).default(""))
        .col(text(Paragraph::Beslutsgang).default(""))
        .col(text_null(Paragraph::VoteQuestion))
        .col(text_null(Paragraph::WorkflowNote))
        .col(timestamp_with_time_zone_null(Paragraph::AttentionClearedAt))
        .col(string_null(Paragraph::AttentionClearedBy))
        .foreign_key(
            ForeignKey::create()
                .from(Paragraph::Table, Paragraph::MeetingId)
                .to(Meeting::Table, Meeting::Id),
        )
        .index(
            Index::create()
                .name("ux_paragraph_number")
                .col(Paragraph::OrganCode)
                .col(Paragraph::Year)
                .col(Paragraph::Number)
                .unique(),
        )
        .to_owned()
}

#[derive(DeriveIden)]
enum OrganMember {
    Table,
    Id,
    OrganCode,
    Name,
    Party,
    Seat,
    Ordinal,
    TermFrom,
    TermTo,
    Email,
}

#[derive(DeriveIden)]
enum Meeting {
    Table,
    Id,
    StartsAt,
    Chair,
    Secretary,
    JusteringAt,
    KallelseSentAt,
    HeldAt,
}

#[derive(DeriveIden)]
enum Attendance {
    Table,
    Id,
    MeetingId,
    Name,
    Party,
    Presence,
    Replaces,
    Note,
    Ordinal,
}

#[derive(DeriveIden)]
enum AgendaItem {
    Table,
    Id,
    MeetingId,
    CaseId,
    Position,
    Title,
}

#[derive(DeriveIden)]
enum Paragraph {
    Table,
    Id,
    OrganCode,
    Year,
    Number,
    MeetingId,
    CaseId,
    Decision,
    ProposalTo,
    Recipients,
    RecordedAt,
    RecordedBy,
    Kind,
    Title,
    AgendaItemId,
    Yrkanden,
    Beslutsgang,
    VoteQuestion,
    WorkflowNote,
    AttentionClearedAt,
    AttentionClearedBy,
}

#[derive(DeriveIden)]
enum ParagraphVote {
    Table,
    Id,
    ParagraphId,
    Name,
    Party,
    Choice,
}

#[derive(DeriveIden)]
enum ParagraphRemark {
    Table,
    Id,
    ParagraphId,
    Kind,
    Name,
    Party,
    Text,
}
