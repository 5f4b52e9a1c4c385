//! A Bolt 4.4/5.x client for Neo4j, layered like postgres-protocol under tokio-postgres:
//! a sans-I/O codec (`packstream`, `proto`), a connection layer that owns the socket, then pool and routing.
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod packstream;
pub mod value;

pub use value::{Map, Value};
