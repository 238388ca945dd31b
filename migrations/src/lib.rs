//! Kansli's schema, as forward-only sea-orm migrations.
//!
//! Every migration is written with `SchemaManager` DDL so that one file serves SQLite and
//! PostgreSQL. A migration is never edited once it is on `main`: a change to the schema is a new
//! migration, split into expand, backfill and contract steps when data must move.

pub use sea_orm_migration::prelude::*;

mod m20261122_000001_create_organisation;
mod m20261122_000002_create_diarium;
mod m20261122_000003_create_engine;
mod m20261122_000004_extend_outbox;
mod m20261122_000005_create_invitation;
mod m20261122_000006_create_response;
mod m20261122_000007_create_meetings;
mod m20261122_000008_create_protocol;
mod m20261122_000009_create_accounts;
mod m20261122_000010_create_api;
mod m20261122_000011_index_case_newest_first;
mod m20261122_000012_index_lookups;
mod m20261123_000013_outbox_rows_inline;
mod m20261123_000014_org_generation;
mod m20261123_000015_replay_location;
mod m20261123_000016_unbind_trail_and_timers;
mod m20261207_000017_security;
mod m20261208_000018_protocol_content;
mod m20261208_000019_forward_and_final_protocol;
mod sqlite;

/// The ordered list of Kansli's migrations.
pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_create_organisation::Migration),
            Box::new(m20261122_000002_create_diarium::Migration),
            Box::new(m20261122_000003_create_engine::Migration),
            Box::new(m20261122_000004_extend_outbox::Migration),
            Box::new(m20261122_000005_create_invitation::Migration),
            Box::new(m20261122_000006_create_response::Migration),
            Box::new(m20261122_000007_create_meetings::Migration),
            Box::new(m20261122_000008_create_protocol::Migration),
            Box::new(m20261122_000009_create_accounts::Migration),
            Box::new(m20261122_000010_create_api::Migration),
            Box::new(m20261122_000011_index_case_newest_first::Migration),
            Box::new(m20261122_000012_index_lookups::Migration),
            Box::new(m20261123_000013_outbox_rows_inline::Migration),
            Box::new(m20261123_000014_org_generation::Migration),
            Box::new(m20261123_000015_replay_location::Migration),
            Box::new(m20261123_000016_unbind_trail_and_timers::Migration),
            Box::new(m20261207_000017_security::Migration),
            Box::new(m20261208_000018_protocol_content::Migration),
            Box::new(m20261208_000019_forward_and_final_protocol::Migration),
        ]
    }
}
