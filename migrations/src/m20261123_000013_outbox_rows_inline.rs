//! Messages stay whole in their rows on PostgreSQL. A queued message carries its rendered text
//! and HTML and its data, a few kilobytes, and PostgreSQL compressed every row over 2 kB, or
//! moved parts of it to a TOAST table, as it was written: the outbox insert was the costliest
//! statement of an engine batch. With `toast_tuple_target` at its largest, a row is left as it
//! is up to a page (8 kB); larger messages are still compressed. SQLite has nothing to tune.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        if manager.get_database_backend() == DbBackend::Postgres {
            manager
                .get_connection()
                .execute_unprepared("ALTER TABLE \"outbox\" SET (toast_tuple_target = 8160)")
                .await?;
        }
        Ok(())
    }
}
