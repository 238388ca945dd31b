//! Security: a session remembers when it was last used, so that it ends after a while idle as
//! well as at its absolute end; and an ärende keeps a list of the people given access to its
//! secret handlingar (need-to-know, OSL), beside the handläggare and the registrators.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Session::Table)
                    .add_column(timestamp_with_time_zone_null(Session::LastSeenAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(CaseAccess::Table)
                    .col(integer(CaseAccess::CaseId))
                    .col(string(CaseAccess::PersonKey))
                    .col(string(CaseAccess::GrantedBy))
                    .col(timestamp_with_time_zone(CaseAccess::GrantedAt))
                    .primary_key(
                        Index::create()
                            .col(CaseAccess::CaseId)
                            .col(CaseAccess::PersonKey),
                    )
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Session {
    Table,
    LastSeenAt,
}

#[derive(DeriveIden)]
enum CaseAccess {
    Table,
    CaseId,
    PersonKey,
    GrantedBy,
    GrantedAt,
}
