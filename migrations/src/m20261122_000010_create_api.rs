//! The JSON API's tables: personal API tokens (stored as hashes of the token, like sessions)
//! and the idempotency records that make a repeated POST with the same `Idempotency-Key`
//! answer what the first one answered instead of doing it twice.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ApiToken::Table)
                    .col(pk_auto(ApiToken::Id))
                    .col(integer(ApiToken::AccountId))
                    .col(string(ApiToken::Name))
                    .col(string_uniq(ApiToken::TokenSha256))
                    .col(timestamp_with_time_zone(ApiToken::CreatedAt))
                    .col(timestamp_with_time_zone_null(ApiToken::ExpiresAt))
                    .col(timestamp_with_time_zone_null(ApiToken::LastUsedAt))
                    .col(timestamp_with_time_zone_null(ApiToken::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApiToken::Table, ApiToken::AccountId)
                            .to(Account::Table, Account::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(ApiRequest::Table)
                    .col(pk_auto(ApiRequest::Id))
                    .col(integer(ApiRequest::AccountId))
                    .col(string(ApiRequest::IdempotencyKey))
                    .col(string(ApiRequest::RequestSha256))
                    .col(integer_null(ApiRequest::Status))
                    .col(string_null(ApiRequest::ContentType))
                    .col(blob_null(ApiRequest::Body))
                    .col(timestamp_with_time_zone(ApiRequest::CreatedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(ApiRequest::Table, ApiRequest::AccountId)
                            .to(Account::Table, Account::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("api_request_account_key")
                    .table(ApiRequest::Table)
                    .col(ApiRequest::AccountId)
                    .col(ApiRequest::IdempotencyKey)
                    .unique()
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Account {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum ApiToken {
    Table,
    Id,
    AccountId,
    Name,
    TokenSha256,
    CreatedAt,
    ExpiresAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum ApiRequest {
    Table,
    Id,
    AccountId,
    IdempotencyKey,
    RequestSha256,
    Status,
    ContentType,
    Body,
    CreatedAt,
}
