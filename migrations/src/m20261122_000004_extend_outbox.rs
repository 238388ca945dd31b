//! The outbox holds the whole rendered message (it is also the record of what was sent) and
//! its delivery state: attempts, the next attempt, the lease of the dispatcher sending it, the
//! last error, when it was sent. One column per statement, as SQLite wants.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let columns = [
            string_null(Outbox::MessageId),
            text_null(Outbox::Sender),
            text_null(Outbox::ReplyTo),
            string_null(Outbox::RecipientEmail),
            text_null(Outbox::Subject),
            text_null(Outbox::TextBody),
            text_null(Outbox::HtmlBody),
            text_null(Outbox::Attachments),
            integer(Outbox::Attempts).default(0).to_owned(),
            timestamp_with_time_zone_null(Outbox::NextAttemptAt),
            string_null(Outbox::LeaseOwner),
            timestamp_with_time_zone_null(Outbox::LeaseUntil),
            text_null(Outbox::LastError),
            timestamp_with_time_zone_null(Outbox::SentAt),
        ];
        for mut column in columns {
            manager
                .alter_table(
                    Table::alter()
                        .table(Outbox::Table)
                        .add_column(&mut column)
                        .to_owned(),
                )
                .await?;
        }
        // Rows queued before messages were rendered at enqueue have nothing to send.
        manager
            .exec_stmt(
                Query::update()
                    .table(Outbox::Table)
                    .value(Outbox::Status, "superseded")
                    .and_where(Expr::col(Outbox::MessageId).is_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ix_outbox_due")
                    .table(Outbox::Table)
                    .col(Outbox::Status)
                    .col(Outbox::NextAttemptAt)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Outbox {
    Table,
    Status,
    MessageId,
    Sender,
    ReplyTo,
    RecipientEmail,
    Subject,
    TextBody,
    HtmlBody,
    Attachments,
    Attempts,
    NextAttemptAt,
    LeaseOwner,
    LeaseUntil,
    LastError,
    SentAt,
}
