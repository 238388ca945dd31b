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
    pub status: String,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub fired_at: Option<DateTimeUtc>,
    pub note: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
