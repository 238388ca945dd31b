//! Kansli's integration tests: one binary, real databases, the real `kansli` binary.
//!
//! Every test that touches the store runs twice through [`on_both_backends!`]: on a fresh
//! SQLite file, and on a fresh PostgreSQL database. The PostgreSQL variants are `#[ignore]`d in
//! a plain `cargo test` and run by `.ci/run` with `TEST_DATABASE_URL` set and `--ignored`.

#![allow(clippy::unwrap_used)]

mod harness;
mod helpers;

mod admin;
mod api;
mod application;
mod cli;
mod concurrency;
mod corpus;
mod diarium;
mod engine;
mod enkat;
mod layering;
mod mail;
mod meetings;
mod migrations;
mod motion;
mod organisation;
mod postlista;
mod protocol;
mod registering;
mod rendering;
mod rounds;
mod security;
mod smtp;
mod staff;
mod workflow_validation;
mod year;
