//! The `paragraph_counter` table.

use sea_orm::entity::prelude::*;

/// The last paragraph number an organ gave in a year.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "paragraph_counter")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub organ_code: String,
    #[sea_orm(primary_key, auto_increment = false)]
    pub year: i32,
    pub last_number: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
