//! A meeting's protocol: who justerade it, when, and the anslag with its dates.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Protocol::Table)
                    .col(integer(Protocol::MeetingId).primary_key())
                    .col(text(Protocol::Justerare))
                    .col(date(Protocol::JusteradOn))
                    .col(date(Protocol::PostedOn))
                    .col(date(Protocol::AppealLastDay))
                    .col(date(Protocol::TakenDownOn))
                    .col(timestamp_with_time_zone(Protocol::RecordedAt))
                    .col(string(Protocol::RecordedBy))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Protocol::Table, Protocol::MeetingId)
                            .to(Meeting::Table, Meeting::Id),
                    )
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Protocol {
    Table,
    MeetingId,
    Justerare,
    JusteradOn,
    PostedOn,
    AppealLastDay,
    TakenDownOn,
    RecordedAt,
    RecordedBy,
}

#[derive(DeriveIden)]
enum Meeting {
    Table,
    Id,
}
