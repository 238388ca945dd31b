//! The diarium: ärenden, their handlingar, attached files stored once by content hash, and the
//! append-only audit trail.

use sea_orm_migration::{prelude::*, schema::*};

use crate::m20261122_000001_create_organisation::{Person, Series};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DiaryCase::Table)
                    .col(pk_auto(DiaryCase::Id))
                    .col(integer(DiaryCase::SeriesId))
                    .col(integer(DiaryCase::Year))
                    .col(integer(DiaryCase::Seq))
                    .col(string_null(DiaryCase::Classification))
                    .col(text(DiaryCase::Title))
                    .col(text(DiaryCase::PublicTitle))
                    .col(text(DiaryCase::SearchText))
                    .col(integer_null(DiaryCase::HandlaggareId))
                    .col(string(DiaryCase::Status))
                    .col(integer_null(DiaryCase::PreviousCaseId))
                    .col(integer(DiaryCase::LastDocumentSeq).default(0))
                    .col(timestamp_with_time_zone(DiaryCase::OpenedAt))
                    .col(string(DiaryCase::OpenedBy))
                    .col(timestamp_with_time_zone_null(DiaryCase::ClosedAt))
                    .col(string_null(DiaryCase::ClosedBy))
                    .col(integer(DiaryCase::RowVersion).default(1))
                    .foreign_key(
                        ForeignKey::create()
                            .from(DiaryCase::Table, DiaryCase::SeriesId)
                            .to(Series::Table, Series::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(DiaryCase::Table, DiaryCase::HandlaggareId)
                            .to(Person::Table, Person::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(DiaryCase::Table, DiaryCase::PreviousCaseId)
                            .to(DiaryCase::Table, DiaryCase::Id),
                    )
                    .index(
                        Index::create()
                            .name("ux_diary_case_number")
                            .col(DiaryCase::SeriesId)
                            .col(DiaryCase::Year)
                            .col(DiaryCase::Seq)
                            .unique(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_diary_case_opened_at")
                    .table(DiaryCase::Table)
                    .col(DiaryCase::OpenedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(FileBlob::Table)
                    .col(string(FileBlob::Sha256).primary_key())
                    .col(big_integer(FileBlob::Size))
                    .col(blob(FileBlob::Content))
                    .col(timestamp_with_time_zone(FileBlob::StoredAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Document::Table)
                    .col(pk_auto(Document::Id))
                    .col(integer(Document::CaseId))
                    .col(integer(Document::Seq))
                    .col(date(Document::Date))
                    .col(string(Document::Direction))
                    .col(text_null(Document::Counterpart))
                    .col(boolean(Document::CounterpartProtected))
                    .col(text(Document::Description))
                    .col(boolean(Document::DescriptionProtected))
                    .col(string_null(Document::SecrecyProvision))
                    .col(date_null(Document::SecrecyDate))
                    .col(string_null(Document::SecrecyAuthority))
                    .col(string_null(Document::FileSha256))
                    .col(string_null(Document::FileName))
                    .col(string_null(Document::MediaType))
                    .col(timestamp_with_time_zone(Document::RegisteredAt))
                    .col(string(Document::RegisteredBy))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Document::Table, Document::CaseId)
                            .to(DiaryCase::Table, DiaryCase::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(Document::Table, Document::FileSha256)
                            .to(FileBlob::Table, FileBlob::Sha256),
                    )
                    .index(
                        Index::create()
                            .name("ux_document_number")
                            .col(Document::CaseId)
                            .col(Document::Seq)
                            .unique(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_document_date")
                    .table(Document::Table)
                    .col(Document::Date)
                    .to_owned(),
            )
            .await?;
        // Append-only: rows are inserted, never updated or deleted. The workflow columns
        // (instance, from/to state) stay empty for steps taken outside a workflow.
        manager
            .create_table(
                Table::create()
                    .table(AuditEvent::Table)
                    .col(pk_auto(AuditEvent::Id))
                    .col(integer_null(AuditEvent::CaseId))
                    .col(integer_null(AuditEvent::InstanceId))
                    .col(string(AuditEvent::Actor))
                    .col(string_null(AuditEvent::Role))
                    .col(string(AuditEvent::Action))
                    .col(string_null(AuditEvent::FromState))
                    .col(string_null(AuditEvent::ToState))
                    .col(text_null(AuditEvent::Detail))
                    .col(timestamp_with_time_zone(AuditEvent::At))
                    .foreign_key(
                        ForeignKey::create()
                            .from(AuditEvent::Table, AuditEvent::CaseId)
                            .to(DiaryCase::Table, DiaryCase::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_audit_event_case")
                    .table(AuditEvent::Table)
                    .col(AuditEvent::CaseId)
                    .col(AuditEvent::Id)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum DiaryCase {
    Table,
    Id,
    SeriesId,
    Year,
    Seq,
    Classification,
    Title,
    PublicTitle,
    SearchText,
    HandlaggareId,
    Status,
    PreviousCaseId,
    LastDocumentSeq,
    OpenedAt,
    OpenedBy,
    ClosedAt,
    ClosedBy,
    RowVersion,
}

#[derive(DeriveIden)]
enum FileBlob {
    Table,
    Sha256,
    Size,
    Content,
    StoredAt,
}

#[derive(DeriveIden)]
enum Document {
    Table,
    Id,
    CaseId,
    Seq,
    Date,
    Direction,
    Counterpart,
    CounterpartProtected,
    Description,
    DescriptionProtected,
    SecrecyProvision,
    SecrecyDate,
    SecrecyAuthority,
    FileSha256,
    FileName,
    MediaType,
    RegisteredAt,
    RegisteredBy,
}

#[derive(DeriveIden)]
enum AuditEvent {
    Table,
    Id,
    CaseId,
    InstanceId,
    Actor,
    Role,
    Action,
    FromState,
    ToState,
    Detail,
    At,
}
