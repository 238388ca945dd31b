//! `paragraph_vote`: a ledamot's vote (ja, nej, avstår) in a paragraph's omröstning.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "paragraph_vote")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub paragraph_id: i32,
    pub name: String,
    pub party: Option<String>,
    pub choice: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
