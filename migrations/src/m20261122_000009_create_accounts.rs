//! Staff accounts (local passwords as argon2id hashes, each tied to a person of the
//! organisation, whose roles it carries), their sessions (stored as hashes of the cookie's
//! token), and login attempts for throttling. Single sign-on later adds a way in, not a table:
//! an account is found by its username whatever proved who the user is.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Account::Table)
                    .col(pk_auto(Account::Id))
                    .col(string_uniq(Account::Username))
                    .col(string(Account::PersonKey))
                    .col(text(Account::PasswordHash))
                    .col(boolean(Account::Admin))
                    .col(timestamp_with_time_zone(Account::CreatedAt))
                    .col(timestamp_with_time_zone_null(Account::DisabledAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Session::Table)
                    .col(string(Session::TokenSha256).primary_key())
                    .col(integer(Session::AccountId))
                    .col(string(Session::CsrfToken))
                    .col(timestamp_with_time_zone(Session::CreatedAt))
                    .col(timestamp_with_time_zone(Session::ExpiresAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(Session::Table, Session::AccountId)
                            .to(Account::Table, Account::Id),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(LoginAttempt::Table)
                    .col(pk_auto(LoginAttempt::Id))
                    .col(string(LoginAttempt::Subject))
                    .col(boolean(LoginAttempt::Succeeded))
                    .col(timestamp_with_time_zone(LoginAttempt::At))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("login_attempt_subject_at")
                    .table(LoginAttempt::Table)
                    .col(LoginAttempt::Subject)
                    .col(LoginAttempt::At)
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
enum Account {
    Table,
    Id,
    Username,
    PersonKey,
    PasswordHash,
    Admin,
    CreatedAt,
    DisabledAt,
}

#[derive(DeriveIden)]
enum Session {
    Table,
    TokenSha256,
    AccountId,
    CsrfToken,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum LoginAttempt {
    Table,
    Id,
    Subject,
    Succeeded,
    At,
}
