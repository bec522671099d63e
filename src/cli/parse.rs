//! `pagewire parse FILE`: the parser from the command line.

use std::process::ExitCode;

/// Arguments of `pagewire parse`.
#[derive(Debug, clap::Args)]
pub struct Args {
    /// The page file (markdown or plain text).
    pub file: std::path::PathBuf,
}

/// Runs `pagewire parse`.
pub fn run(args: Args) -> anyhow::Result<ExitCode> {
    let _ = args;
    Ok(ExitCode::SUCCESS)
}
