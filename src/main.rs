//! `nodestream`: a Rust implementation of Nodestream's Neo4j path.

mod cli;
mod copy;
mod interpreter;
mod migrations;
mod model;
mod pipeline;
mod project;
mod schema;
mod writer;

use std::process::ExitCode;

fn main() -> ExitCode {
    match cli::main() {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}
