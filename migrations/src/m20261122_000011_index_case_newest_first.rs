//! An index in the diarium's own order, newest first (year, then number, then series), so that
//! its first page and a search with many hits read the first rows of the index and stop,
//! instead of reading and sorting every ärende. Measured with `kansli bench http` over 100,000
//! ärenden (README).

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_index(
                Index::create()
                    .name("ix_diary_case_newest")
                    .table(DiaryCase::Table)
                    // The directions are list_cases' ORDER BY, so both backends walk the
                    // index as is, without a sort step.
                    .col((DiaryCase::Year, IndexOrder::Desc))
                    .col((DiaryCase::Seq, IndexOrder::Desc))
                    .col((DiaryCase::SeriesId, IndexOrder::Asc))
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum DiaryCase {
    Table,
    Year,
    Seq,
    SeriesId,
}
