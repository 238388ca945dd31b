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
    pub status: OutboxStatus,
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

/// Where a message is: to send, sent, given up, or with nobody to send it to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum)]
#[sea_orm(rs_type = "String", db_type = "Text")]
pub enum OutboxStatus {
    /// To send; `next_attempt_at` says when.
    #[sea_orm(string_value = "pending")]
    Pending,
    /// Delivered to the mail server.
    #[sea_orm(string_value = "sent")]
    Sent,
    /// Given up, with the last error.
    #[sea_orm(string_value = "failed")]
    Failed,
    /// Nobody to send to.
    #[sea_orm(string_value = "no_recipients")]
    NoRecipients,
}

impl OutboxStatus {
    /// Every status, as the outbox page offers them.
    pub const ALL: [OutboxStatus; 4] = [
        OutboxStatus::Pending,
        OutboxStatus::Failed,
        OutboxStatus::Sent,
        OutboxStatus::NoRecipients,
    ];

    /// The status a code names.
    pub fn from_code(code: &str) -> Option<Self> {
        Self::try_from_value(&code.to_owned()).ok()
    }

    /// The stored code, as the pages and the API name it (the `string_value` above).
    pub fn code(self) -> String {
        self.to_value()
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
