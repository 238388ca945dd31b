//! The `paragraph` table.

use sea_orm::entity::prelude::*;

/// A paragraph of a protocol: a decision on an ärende.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "paragraph")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub organ_code: String,
    pub year: i32,
    pub number: i32,
    pub meeting_id: i32,
    pub case_id: i32,
    pub decision: String,
    pub proposal_to: Option<String>,
    pub recipients: String,
    pub recorded_at: DateTimeUtc,
    pub recorded_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
