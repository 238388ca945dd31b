//! A nämnd's decision sent on to another ärende, and the justerat protocol kept as it was.
//!
//! - `paragraph.forward_case_id`: the ärende (KS's, say) that the decision is sent on to; at
//!   the justering its protokollsutdrag is registered there as an inkommande handling.
//! - `protocol.html_sha256` and `protocol.pdf_sha256`: the protocol as rendered at its
//!   justering, stored by content hash, so that it reads the same to the byte whatever
//!   changes later (an ärende's title, an organ's name, a template).

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .alter_table(
                Table::alter()
                    .table(Paragraph::Table)
                    .add_column(integer_null(Paragraph::ForwardCaseId))
                    .to_owned(),
            )
            .await?;
        for column in [
            string_null(Protocol::HtmlSha256),
            string_null(Protocol::PdfSha256),
        ] {
            manager
                .alter_table(
                    Table::alter()
                        .table(Protocol::Table)
                        .add_column(column)
                        .to_owned(),
                )
                .await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Paragraph {
    Table,
    ForwardCaseId,
}

#[derive(DeriveIden)]
enum Protocol {
    Table,
    HtmlSha256,
    PdfSha256,
}
