//! The `workflow_instance` table.

use sea_orm::entity::prelude::*;

/// A running (or finished) workflow instance.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "workflow_instance")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub definition_id: i32,
    pub workflow_id: String,
    pub case_id: Option<i32>,
    pub parent_id: Option<i32>,
    pub unit_code: Option<String>,
    pub state: String,
    pub variables: String,
    pub row_version: i32,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
