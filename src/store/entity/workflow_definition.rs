//! The `workflow_definition` table.

use sea_orm::entity::prelude::*;

/// A stored version of a workflow file.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "workflow_definition")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub workflow_id: String,
    pub version: i32,
    #[sea_orm(unique)]
    pub content_hash: String,
    pub source: String,
    pub stored_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
