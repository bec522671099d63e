//! The `pagewire` command line: the service (`run`) and the tools around it.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cli;

/// Printed newspaper pages in, structured article events out, over NATS JetStream.
#[derive(Debug, Parser)]
#[command(name = "pagewire", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Parse one page file and print the page with its articles (no NATS involved).
    Parse(cli::parse::Args),
    /// Score the parser on a corpus of annotated real pages (tests/corpus by default).
    Eval(cli::eval::Args),
    /// Run the service: raw pages from JetStream in, articles out (stops on SIGTERM/SIGINT).
    Run(cli::run::Args),
    /// Send page files as raw page events and wait until JetStream has stored them.
    Publish(cli::publish::Args),
    /// Watch an output topic, printing decoded messages as JSON lines.
    Tail(cli::tail::Args),
    /// Show streams, consumer lag, dead letters and replicas; exit non-zero when the consumer is
    /// missing (2) or not making progress (3).
    Status(cli::status::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Parse(args) => cli::parse::run(args),
        Command::Eval(args) => cli::eval::run(args),
        Command::Run(args) => cli::run::run(args),
        Command::Publish(args) => cli::publish::run(args),
        Command::Tail(args) => cli::tail::run(args),
        Command::Status(args) => cli::status::run(args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("pagewire: {}", cli::one_line(&e));
            ExitCode::FAILURE
        }
    }
}
