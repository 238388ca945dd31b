//! The `timer` table.

use sea_orm::entity::prelude::*;

/// A timer or queued event, fired once by whoever holds its lease.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "timer")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub instance_id: i32,
    pub name: String,
    pub event: String,
    pub state: String,
    pub due_at: DateTimeUtc,
    pub repeat_every_secs: Option<i64>,
    pub repeats_left: Option<i32>,
    pub status: TimerStatus,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub fired_at: Option<DateTimeUtc>,
    pub note: Option<String>,
}

/// Where a timer is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum TimerStatus {
    /// Waiting to fire.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// Fired and applied.
    #[sea_orm(string_value = "fired")]
    Fired,
    /// Stopped because its state was left or an effect cancelled it.
    #[sea_orm(string_value = "canceled")]
    Canceled,
    /// Fired, but the instance no longer took its event.
    #[sea_orm(string_value = "discarded")]
    Discarded,
    /// Its step failed (a broken effect); set aside with the reason in its note.
    #[sea_orm(string_value = "failed")]
    Failed,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
