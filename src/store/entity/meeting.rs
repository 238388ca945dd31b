//! `meeting`: a meeting of an organ.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "meeting")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub organ_code: String,
    pub date: Date,
    pub place: String,
    pub created_at: DateTimeUtc,
    pub created_by: String,
    pub starts_at: Option<String>,
    pub chair: Option<String>,
    pub secretary: Option<String>,
    pub justering_at: Option<String>,
    pub kallelse_sent_at: Option<DateTimeUtc>,
    pub held_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
