//! Meetings of the organs and the paragraphs of their protocols. Paragraphs are numbered per
//! organ and calendar year from a counter bumped in the recording transaction, like
//! diarienummer: never reused, never skipped.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Meeting::Table)
                    .col(pk_auto(Meeting::Id))
                    .col(string(Meeting::OrganCode))
                    .col(date(Meeting::Date))
                    .col(string(Meeting::Place))
                    .col(timestamp_with_time_zone(Meeting::CreatedAt))
                    .col(string(Meeting::CreatedBy))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AgendaItem::Table)
                    .col(pk_auto(AgendaItem::Id))
                    .col(integer(AgendaItem::MeetingId))
                    .col(integer(AgendaItem::CaseId))
                    .col(integer(AgendaItem::Position))
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
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ParagraphCounter::Table)
                    .col(string(ParagraphCounter::OrganCode))
                    .col(integer(ParagraphCounter::Year))
                    .col(integer(ParagraphCounter::LastNumber))
                    .primary_key(
                        Index::create()
                            .col(ParagraphCounter::OrganCode)
                            .col(ParagraphCounter::Year),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Paragraph::Table)
                    .col(pk_auto(Paragraph::Id))
                    .col(string(Paragraph::OrganCode))
                    .col(integer(Paragraph::Year))
                    .col(integer(Paragraph::Number))
                    .col(integer(Paragraph::MeetingId))
                    .col(integer(Paragraph::CaseId))
                    .col(text(Paragraph::Decision))
                    .col(string_null(Paragraph::ProposalTo))
                    .col(text(Paragraph::Recipients))
                    .col(timestamp_with_time_zone(Paragraph::RecordedAt))
                    .col(string(Paragraph::RecordedBy))
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
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Meeting {
    Table,
    Id,
    OrganCode,
    Date,
    Place,
    CreatedAt,
    CreatedBy,
}

#[derive(DeriveIden)]
enum AgendaItem {
    Table,
    Id,
    MeetingId,
    CaseId,
    Position,
}

#[derive(DeriveIden)]
enum ParagraphCounter {
    Table,
    OrganCode,
    Year,
    LastNumber,
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
}
