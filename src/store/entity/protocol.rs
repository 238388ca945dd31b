//! The `protocol` table.

use sea_orm::entity::prelude::*;

/// A meeting's justerade protocol and its anslag.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "protocol")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub meeting_id: i32,
    pub justerare: String,
    pub justerad_on: Date,
    pub posted_on: Date,
    pub appeal_last_day: Date,
    pub taken_down_on: Date,
    pub recorded_at: DateTimeUtc,
    pub recorded_by: String,
    /// The protocol as rendered at its justering (HTML), by content hash.
    pub html_sha256: Option<String>,
    /// The same as PDF/A-2b, when the build renders PDFs.
    pub pdf_sha256: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
