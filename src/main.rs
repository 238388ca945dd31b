//! The `kansli` binary: parses the command line and hands it to the library.

use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    // `kansli ... | head` closes the pipe early; print! then panics on the broken pipe. Leave
    // quietly with the status a shell expects from a process ended by SIGPIPE.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if info.to_string().contains("Broken pipe") {
            std::process::exit(141);
        }
        default_hook(info);
    }));
    kansli::cli::run(kansli::cli::Cli::parse()).await
}
