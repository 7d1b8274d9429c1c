//! The `crampbot` binary: parses the command line and hands over to [`crampbot::cli`].

use std::process::ExitCode;

use clap::Parser as _;

fn main() -> ExitCode {
    crampbot::cli::run(crampbot::cli::Cli::parse())
}
