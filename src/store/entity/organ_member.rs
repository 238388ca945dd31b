//! `organ_member`: a ledamot or ersättare of an organ for a mandatperiod.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "organ_member")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub organ_code: String,
    pub name: String,
    pub party: String,
    pub seat: String,
    pub ordinal: i32,
    pub term_from: Date,
    pub term_to: Date,
    pub email: Option<String>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
