//! A kept API answer keeps its `Location` header: a POST that created something and is made
//! again with the same `Idempotency-Key` answers 201 with the same `Location` as the first time.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(ApiRequest::Table)
                    .add_column(ColumnDef::new(ApiRequest::Location).string().null())
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum ApiRequest {
    Table,
    Location,
}
