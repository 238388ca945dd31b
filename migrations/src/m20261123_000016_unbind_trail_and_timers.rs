//! The audit trail and the timers stop checking a foreign key on every row they write.
//!
//! - `audit_event.case_id` no longer references `diary_case`. The trail is history: it is
//!   appended to, never changed, and must outlive what it describes (as a workflow engine's
//!   history tables do), so it cannot be tied to the life of the ärende rows. It already
//!   named its instance without a key.
//! - `timer.instance_id` no longer references `workflow_instance`. A timer is written only in
//!   the transaction that inserted its instance or moved it under the row-version check, so
//!   the instance is there by construction, and instances are never deleted.
//!
//! Why: on PostgreSQL a foreign key check is a locking query per row (`SELECT ... FOR KEY
//! SHARE` on the referenced row). Every step of the engine appends audit rows and most set
//! timers; the checks were two thirds of the cost of the audit inserts and half of the timers',
//! and `kansli bench engine` on PostgreSQL completes about a seventh more cases per second
//! without them (means 2,935 vs 2,582 over five runs each, interleaved).
//!
//! PostgreSQL drops the constraints. SQLite cannot drop a constraint, so the two tables are
//! rebuilt without it, in one transaction (see [`Migration::use_transaction`]): created anew,
//! filled with every row under its own id, its id counter set to the old one's (so that an id
//! is never handed out twice, even where the newest rows were removed), the old one dropped,
//! the new one renamed, and the old table's indexes and triggers created again from their own
//! stored definitions.

use sea_orm_migration::sea_orm::{ConnectionTrait, DbBackend};
use sea_orm_migration::{prelude::*, schema::*};

use crate::sqlite::rebuild as rebuild_sqlite;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        match manager.get_database_backend() {
            DbBackend::Postgres => drop_postgres_keys(manager).await,
            _ => {
                rebuild_sqlite(manager, "audit_event", audit_event()).await?;
                rebuild_sqlite(manager, "timer", timer()).await
            }
        }
    }

    /// SQLite's rebuild must be all or nothing: a table dropped and not yet renamed back
    /// would be a trail lost.
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }
}

/// Drops the two keys by what they connect, not by a generated name.
async fn drop_postgres_keys(manager: &SchemaManager<'_>) -> Result<(), DbErr> {
    manager
        .get_connection()
        .execute_unprepared(
            r#"DO $$
DECLARE k record;
BEGIN
  FOR k IN
    SELECT conrelid::regclass AS child, conname
    FROM pg_constraint
    WHERE contype = 'f'
      AND ((conrelid = 'audit_event'::regclass AND confrelid = 'diary_case'::regclass)
        OR (conrelid = 'timer'::regclass AND confrelid = 'workflow_instance'::regclass))
  LOOP
    EXECUTE format('ALTER TABLE %s DROP CONSTRAINT %I', k.child, k.conname);
  END LOOP;
END $$"#,
        )
        .await?;
    Ok(())
}

/// `audit_event` as migration 000002 created it, without the key to `diary_case`.
fn audit_event() -> TableCreateStatement {
    Table::create()
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
        .to_owned()
}

/// `timer` as migration 000003 created it, without the key to `workflow_instance`.
fn timer() -> TableCreateStatement {
    Table::create()
        .col(pk_auto(Timer::Id))
        .col(integer(Timer::InstanceId))
        .col(string(Timer::Name))
        .col(string(Timer::Event))
        .col(string(Timer::State))
        .col(timestamp_with_time_zone(Timer::DueAt))
        .col(big_integer_null(Timer::RepeatEverySecs))
        .col(integer_null(Timer::RepeatsLeft))
        .col(string(Timer::Status))
        .col(string_null(Timer::LeaseOwner))
        .col(timestamp_with_time_zone_null(Timer::LeaseUntil))
        .col(timestamp_with_time_zone_null(Timer::FiredAt))
        .col(text_null(Timer::Note))
        .to_owned()
}

#[derive(DeriveIden)]
enum AuditEvent {
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

#[derive(DeriveIden)]
enum Timer {
    Id,
    InstanceId,
    Name,
    Event,
    State,
    DueAt,
    RepeatEverySecs,
    RepeatsLeft,
    Status,
    LeaseOwner,
    LeaseUntil,
    FiredAt,
    Note,
}
