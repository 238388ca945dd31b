//! The workflow engine: stored definitions, instances, timers claimed by lease, cron starts
//! keyed by period, idempotency keys, and the outbox that effects write to.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // A definition is stored by the hash of its source the first time an instance uses
        // it; an instance keeps pointing at that row when the file changes.
        manager
            .create_table(
                Table::create()
                    .table(WorkflowDefinition::Table)
                    .col(pk_auto(WorkflowDefinition::Id))
                    .col(string(WorkflowDefinition::WorkflowId))
                    .col(integer(WorkflowDefinition::Version))
                    .col(string_uniq(WorkflowDefinition::ContentHash))
                    .col(text(WorkflowDefinition::Source))
                    .col(timestamp_with_time_zone(WorkflowDefinition::StoredAt))
                    .index(
                        Index::create()
                            .name("ux_workflow_definition_version")
                            .col(WorkflowDefinition::WorkflowId)
                            .col(WorkflowDefinition::Version)
                            .unique(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(WorkflowInstance::Table)
                    .col(pk_auto(WorkflowInstance::Id))
                    .col(integer(WorkflowInstance::DefinitionId))
                    .col(string(WorkflowInstance::WorkflowId))
                    .col(integer_null(WorkflowInstance::CaseId))
                    .col(integer_null(WorkflowInstance::ParentId))
                    .col(string_null(WorkflowInstance::UnitCode))
                    .col(string(WorkflowInstance::State))
                    .col(text(WorkflowInstance::Variables))
                    .col(integer(WorkflowInstance::RowVersion))
                    .col(timestamp_with_time_zone(WorkflowInstance::CreatedAt))
                    .col(timestamp_with_time_zone(WorkflowInstance::UpdatedAt))
                    .col(timestamp_with_time_zone_null(WorkflowInstance::FinishedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(WorkflowInstance::Table, WorkflowInstance::DefinitionId)
                            .to(WorkflowDefinition::Table, WorkflowDefinition::Id),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(WorkflowInstance::Table, WorkflowInstance::ParentId)
                            .to(WorkflowInstance::Table, WorkflowInstance::Id),
                    )
                    .to_owned(),
            )
            .await?;
        for (name, col) in [
            ("ix_workflow_instance_case", WorkflowInstance::CaseId),
            ("ix_workflow_instance_parent", WorkflowInstance::ParentId),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(WorkflowInstance::Table)
                        .col(col)
                        .to_owned(),
                )
                .await?;
        }
        // Timers and queued events alike: a row due at a time, fired once by whoever holds its
        // lease. status: pending, fired, canceled, discarded.
        manager
            .create_table(
                Table::create()
                    .table(Timer::Table)
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
                    .foreign_key(
                        ForeignKey::create()
                            .from(Timer::Table, Timer::InstanceId)
                            .to(WorkflowInstance::Table, WorkflowInstance::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_timer_due")
                    .table(Timer::Table)
                    .col(Timer::Status)
                    .col(Timer::DueAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_timer_instance")
                    .table(Timer::Table)
                    .col(Timer::InstanceId)
                    .col(Timer::Status)
                    .to_owned(),
            )
            .await?;
        // One row per scheduled start: the primary key is what makes a start happen once.
        manager
            .create_table(
                Table::create()
                    .table(CronStart::Table)
                    .col(string(CronStart::WorkflowId))
                    .col(string(CronStart::Period))
                    .col(integer_null(CronStart::InstanceId))
                    .col(timestamp_with_time_zone(CronStart::StartedAt))
                    .primary_key(
                        Index::create()
                            .col(CronStart::WorkflowId)
                            .col(CronStart::Period),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(IdempotencyKey::Table)
                    .col(string(IdempotencyKey::Key).primary_key())
                    .col(integer_null(IdempotencyKey::InstanceId))
                    .col(text_null(IdempotencyKey::Outcome))
                    .col(timestamp_with_time_zone(IdempotencyKey::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Outbox::Table)
                    .col(pk_auto(Outbox::Id))
                    .col(integer_null(Outbox::InstanceId))
                    .col(integer_null(Outbox::CaseId))
                    .col(string(Outbox::Template))
                    .col(text(Outbox::Recipients))
                    .col(text(Outbox::Context))
                    .col(string(Outbox::Status))
                    .col(timestamp_with_time_zone(Outbox::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_outbox_status")
                    .table(Outbox::Table)
                    .col(Outbox::Status)
                    .col(Outbox::Id)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum WorkflowDefinition {
    Table,
    Id,
    WorkflowId,
    Version,
    ContentHash,
    Source,
    StoredAt,
}

#[derive(DeriveIden)]
enum WorkflowInstance {
    Table,
    Id,
    DefinitionId,
    WorkflowId,
    CaseId,
    ParentId,
    UnitCode,
    State,
    Variables,
    RowVersion,
    CreatedAt,
    UpdatedAt,
    FinishedAt,
}

#[derive(DeriveIden)]
enum Timer {
    Table,
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

#[derive(DeriveIden)]
enum CronStart {
    Table,
    WorkflowId,
    Period,
    InstanceId,
    StartedAt,
}

#[derive(DeriveIden)]
enum IdempotencyKey {
    Table,
    Key,
    InstanceId,
    Outcome,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Id,
    InstanceId,
    CaseId,
    Template,
    Recipients,
    Context,
    Status,
    CreatedAt,
}
