//! The `series` table.

use sea_orm::entity::prelude::*;

/// A diarieserie and its number format.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "series")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    #[sea_orm(unique)]
    pub prefix: String,
    pub name: String,
    pub format: String,
    pub default_classification: Option<String>,
    pub organ_code: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
