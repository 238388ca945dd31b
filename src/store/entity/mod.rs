//! sea-orm entities, one per table, mirroring the migrations in `migrations/`.

#![allow(missing_docs)]

pub mod account;
pub mod agenda_item;
pub mod api_request;
pub mod api_token;
pub mod attendance;
pub mod audit_event;
pub mod case;
pub mod case_access;
pub mod cron_start;
pub mod document;
pub mod file_blob;
pub mod idempotency_key;
pub mod invitation;
pub mod login_attempt;
pub mod meeting;
pub mod municipality;
pub mod organ;
pub mod organ_member;
pub mod outbox;
pub mod paragraph;
pub mod paragraph_counter;
pub mod paragraph_remark;
pub mod paragraph_vote;
pub mod person;
pub mod protocol;
pub mod response;
pub mod role_assignment;
pub mod series;
pub mod series_counter;
pub mod session;
pub mod timer;
pub mod unit;
pub mod workflow_definition;
pub mod workflow_instance;
