//! `paragraph_remark`: a reservation, protokollsanteckning or jäv in a paragraph, naming its ledamot.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "paragraph_remark")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub paragraph_id: i32,
    pub kind: String,
    pub name: String,
    pub party: Option<String>,
    pub text: String,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
