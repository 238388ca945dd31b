//! The `diary_case` table.

use sea_orm::entity::prelude::*;

/// An ärende.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "diary_case")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub series_id: i32,
    pub year: i32,
    pub seq: i32,
    pub classification: Option<String>,
    pub title: String,
    pub public_title: String,
    pub search_text: String,
    pub handlaggare_id: Option<i32>,
    pub status: String,
    pub previous_case_id: Option<i32>,
    pub last_document_seq: i32,
    pub opened_at: DateTimeUtc,
    pub opened_by: String,
    pub closed_at: Option<DateTimeUtc>,
    pub closed_by: Option<String>,
    pub row_version: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
