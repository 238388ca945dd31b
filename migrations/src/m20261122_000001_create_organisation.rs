//! The organisation: the municipality, its units, people, their roles, its organs and the
//! diarieserier with their yearly counters.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Municipality::Table)
                    .col(integer(Municipality::Id).primary_key())
                    .col(string(Municipality::Name))
                    .col(string(Municipality::SenderEmail))
                    .col(string_null(Municipality::Phone))
                    .col(string_null(Municipality::Website))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Organ::Table)
                    .col(pk_auto(Organ::Id))
                    .col(string_uniq(Organ::Code))
                    .col(string(Organ::Name))
                    .col(string(Organ::Kind))
                    .col(string_null(Organ::ParentCode))
                    .col(string_null(Organ::ProposesToCode))
                    .col(string_null(Organ::UnitCode))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Unit::Table)
                    .col(pk_auto(Unit::Id))
                    .col(string_uniq(Unit::Code))
                    .col(string(Unit::Name))
                    .col(string(Unit::Kind))
                    .col(string_null(Unit::OrganCode))
                    .col(string_null(Unit::Email))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Person::Table)
                    .col(pk_auto(Person::Id))
                    .col(string_uniq(Person::Key))
                    .col(string(Person::Name))
                    .col(string(Person::Title))
                    .col(string(Person::Email))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(RoleAssignment::Table)
                    .col(pk_auto(RoleAssignment::Id))
                    .col(integer(RoleAssignment::PersonId))
                    .col(string(RoleAssignment::Role))
                    .col(integer(RoleAssignment::UnitId))
                    .foreign_key(
                        ForeignKey::create()
                            .from(RoleAssignment::Table, RoleAssignment::PersonId)
                            .to(Person::Table, Person::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(RoleAssignment::Table, RoleAssignment::UnitId)
                            .to(Unit::Table, Unit::Id),
                    )
                    .index(
                        Index::create()
                            .name("ux_role_assignment")
                            .col(RoleAssignment::PersonId)
                            .col(RoleAssignment::Role)
                            .col(RoleAssignment::UnitId)
                            .unique(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(Series::Table)
                    .col(pk_auto(Series::Id))
                    .col(string_uniq(Series::Prefix))
                    .col(string(Series::Name))
                    .col(string(Series::Format))
                    .col(string_null(Series::DefaultClassification))
                    .col(string_null(Series::OrganCode))
                    .to_owned(),
            )
            .await?;
        // The only source of diarienummer: one row per series and year, bumped inside the
        // registering transaction, so a rolled-back registration gives its number back.
        manager
            .create_table(
                Table::create()
                    .table(SeriesCounter::Table)
                    .col(integer(SeriesCounter::SeriesId))
                    .col(integer(SeriesCounter::Year))
                    .col(integer(SeriesCounter::LastNumber))
                    .primary_key(
                        Index::create()
                            .col(SeriesCounter::SeriesId)
                            .col(SeriesCounter::Year),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .from(SeriesCounter::Table, SeriesCounter::SeriesId)
                            .to(Series::Table, Series::Id),
                    )
                    .to_owned(),
            )
            .await
    }
}

#[derive(DeriveIden)]
pub(crate) enum Municipality {
    Table,
    Id,
    Name,
    SenderEmail,
    Phone,
    Website,
}

#[derive(DeriveIden)]
pub(crate) enum Organ {
    Table,
    Id,
    Code,
    Name,
    Kind,
    ParentCode,
    ProposesToCode,
    UnitCode,
}

#[derive(DeriveIden)]
pub(crate) enum Unit {
    Table,
    Id,
    Code,
    Name,
    Kind,
    OrganCode,
    Email,
}

#[derive(DeriveIden)]
pub(crate) enum Person {
    Table,
    Id,
    Key,
    Name,
    Title,
    Email,
}

#[derive(DeriveIden)]
pub(crate) enum RoleAssignment {
    Table,
    Id,
    PersonId,
    Role,
    UnitId,
}

#[derive(DeriveIden)]
pub(crate) enum Series {
    Table,
    Id,
    Prefix,
    Name,
    Format,
    DefaultClassification,
    OrganCode,
}

#[derive(DeriveIden)]
pub(crate) enum SeriesCounter {
    Table,
    SeriesId,
    Year,
    LastNumber,
}
