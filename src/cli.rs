//! The command line, with Nodestream's command and option names (spec §5).

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Nodestream, in Rust: declarative graph ETL into Neo4j over raw Bolt.
#[derive(Debug, Parser)]
#[command(name = "nodestream", version, about)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Every command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run pipelines of the project.
    Run,
    /// Create, apply, list and squash schema migrations.
    Migrations(crate::migrations::cli::MigrationsArgs),
}

/// Parses the command line and runs the command.
pub fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Run => anyhow::bail!("`nodestream run` is not implemented yet"),
        Command::Migrations(args) => crate::migrations::cli::run(args),
    }
}
