//! A counter of changes to the organisation (municipality, organs, units, people, roles,
//! series), bumped in the transaction of every change. Readers keep the organisation they read
//! and read it again only when the counter has moved: one small query instead of six for every
//! batch of the engine, and on every process that shares the database.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OrgGeneration::Table)
                    .col(
                        ColumnDef::new(OrgGeneration::Id)
                            .integer()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(OrgGeneration::Generation)
                            .big_integer()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .exec_stmt(
                Query::insert()
                    .into_table(OrgGeneration::Table)
                    .columns([OrgGeneration::Id, OrgGeneration::Generation])
                    .values_panic([1.into(), 0i64.into()])
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum OrgGeneration {
    Table,
    Id,
    Generation,
}
