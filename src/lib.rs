//! Kansli: case handling (ärendehantering) and a workflow engine for Swedish municipalities.
//!
//! The crate is layered so that rules never depend on IO: [`domain`] holds value types,
//! [`store`] is the only module that speaks SQL (through sea-orm, on SQLite or PostgreSQL),
//! [`service`] holds the use cases and owns the transaction boundary, and [`cli`] and [`http`]
//! are thin edges that parse input and call services. [`app`] wires the concrete parts.

pub mod app;
pub mod bench;
pub mod cli;
pub mod clock;
pub mod config;
pub mod domain;
pub mod http;
pub mod jobs;
pub mod mail;
pub mod private;
pub mod questionnaire;
pub mod render;
pub mod service;
pub mod store;
pub mod telemetry;
pub mod workflow;
