//! Indexes for lookups that read a table whole without them: an ärende's messages (its history
//! reads the outbox by ärende), and idempotency records past their day (forgotten whenever a
//! new key is claimed).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("ix_outbox_case")
                    .table(Outbox::Table)
                    .col(Outbox::CaseId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_api_request_created")
                    .table(ApiRequest::Table)
                    .col(ApiRequest::CreatedAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    CaseId,
}

#[derive(DeriveIden)]
enum ApiRequest {
    Table,
    CreatedAt,
}
