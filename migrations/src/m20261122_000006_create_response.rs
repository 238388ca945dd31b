//! A förvaltning's answer to its questionnaire: the answers as JSON, kept as a draft until it is
//! submitted, with the förvaltningschef's comment when it was returned.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Response::Table)
                    .col(pk_auto(Response::Id))
                    .col(integer_uniq(Response::InstanceId))
                    .col(string(Response::QuestionnaireId))
                    .col(integer(Response::Version))
                    .col(text(Response::Answers))
                    .col(timestamp_with_time_zone(Response::UpdatedAt))
                    .col(timestamp_with_time_zone_null(Response::SubmittedAt))
                    .col(integer(Response::RowVersion))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Response::Table, Response::InstanceId)
                            .to(WorkflowInstance::Table, WorkflowInstance::Id),
                    )
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Response {
    Table,
    Id,
    InstanceId,
    QuestionnaireId,
    Version,
    Answers,
    UpdatedAt,
    SubmittedAt,
    RowVersion,
}

#[derive(DeriveIden)]
enum WorkflowInstance {
    Table,
    Id,
}
