//! `paragraph`: a numbered paragraph of a protocol.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "paragraph")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub organ_code: String,
    pub year: i32,
    pub number: i32,
    pub meeting_id: i32,
    pub case_id: Option<i32>,
    pub decision: String,
    pub proposal_to: Option<String>,
    pub recipients: String,
    pub recorded_at: DateTimeUtc,
    pub recorded_by: String,
    pub kind: String,
    pub title: Option<String>,
    pub agenda_item_id: Option<i32>,
    pub yrkanden: String,
    pub beslutsgang: String,
    pub vote_question: Option<String>,
    pub workflow_note: Option<String>,
    pub attention_cleared_at: Option<DateTimeUtc>,
    pub attention_cleared_by: Option<String>,
    pub forward_case_id: Option<i32>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
