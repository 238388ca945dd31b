//! Personal links: one per recipient and purpose, scoped to one workflow instance (one
//! förvaltning's answer), revoked when the answer is approved or the ärende closes. The token
//! itself is never stored: it is an HMAC of the row's nonce under a secret kept outside the
//! database, and the row keeps only the token's SHA-256 to find the link by.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Invitation::Table)
                    .col(pk_auto(Invitation::Id))
                    .col(integer(Invitation::InstanceId))
                    .col(string(Invitation::Purpose))
                    .col(string_uniq(Invitation::Nonce))
                    .col(string_uniq(Invitation::TokenSha256))
                    .col(string(Invitation::RecipientEmail))
                    .col(timestamp_with_time_zone(Invitation::CreatedAt))
                    .col(timestamp_with_time_zone_null(Invitation::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Invitation::Table, Invitation::InstanceId)
                            .to(WorkflowInstance::Table, WorkflowInstance::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_invitation_instance")
                    .table(Invitation::Table)
                    .col(Invitation::InstanceId)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Invitation {
    Table,
    Id,
    InstanceId,
    Purpose,
    Nonce,
    TokenSha256,
    RecipientEmail,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum WorkflowInstance {
    Table,
    Id,
}
