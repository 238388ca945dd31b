//! The `document` table.

use sea_orm::entity::prelude::*;

/// A handling registered in an ärende.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "document")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub case_id: i32,
    pub seq: i32,
    pub date: Date,
    pub direction: String,
    pub counterpart: Option<String>,
    pub counterpart_protected: bool,
    pub description: String,
    pub description_protected: bool,
    pub secrecy_provision: Option<String>,
    pub secrecy_date: Option<Date>,
    pub secrecy_authority: Option<String>,
    pub file_sha256: Option<String>,
    pub file_name: Option<String>,
    pub media_type: Option<String>,
    pub registered_at: DateTimeUtc,
    pub registered_by: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
