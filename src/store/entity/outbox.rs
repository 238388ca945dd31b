//! The `outbox` table.

use sea_orm::entity::prelude::*;

/// A message waiting to be rendered and sent.
#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i32,
    pub instance_id: Option<i32>,
    pub case_id: Option<i32>,
    pub template: String,
    pub recipients: String,
    pub context: String,
    pub status: String,
    pub created_at: DateTimeUtc,
    pub message_id: Option<String>,
    pub sender: Option<String>,
    pub reply_to: Option<String>,
    pub recipient_email: Option<String>,
    pub subject: Option<String>,
    pub text_body: Option<String>,
    pub html_body: Option<String>,
    pub attachments: Option<String>,
    pub attempts: i32,
    pub next_attempt_at: Option<DateTimeUtc>,
    pub lease_owner: Option<String>,
    pub lease_until: Option<DateTimeUtc>,
    pub last_error: Option<String>,
    pub sent_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
