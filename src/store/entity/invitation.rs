//! The `invitation` table.

use sea_orm::entity::prelude::*;

/// A personal link, stored as the hash of its token.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "invitation")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub instance_id: i32,
    pub purpose: String,
    #[sea_orm(unique)]
    pub nonce: String,
    #[sea_orm(unique)]
    pub token_sha256: String,
    pub recipient_email: String,
    pub created_at: DateTimeUtc,
    pub revoked_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
