//! `nodestream`: a Rust implementation of Nodestream's Neo4j path, as a library under the thin `nodestream`
//! binary (`src/main.rs`), so that tests, benches and fuzz targets can call it without spawning the binary.

mod audit;
pub mod bench;
pub mod cli;
mod copy;
mod explain;
mod import;
mod interpreter;
mod jsonlog;
mod migrations;
mod model;
mod pipeline;
mod project;
mod prometheus;
mod pyfloat;
mod quoting;
mod record;
mod schema;
mod writer;

pub use pipeline::sources::read_file_json;
