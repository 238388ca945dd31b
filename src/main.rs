//! The `kansli` binary: parses the command line and hands it to the library.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    kansli::cli::run(kansli::cli::Cli::parse()).await
}
