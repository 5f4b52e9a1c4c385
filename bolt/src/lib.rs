//! A Bolt 4.4/5.x client for Neo4j, layered like postgres-protocol under tokio-postgres:
//! a sans-I/O codec (`packstream`, `proto`), a connection layer that owns the socket, then pool and routing.
//!
//! ```no_run
//! # async fn demo() -> Result<(), bolt::Error> {
//! let driver = bolt::Driver::connect(bolt::Config::new("bolt://localhost:7687", "neo4j", "password")).await?;
//! let r = driver.run(bolt::Query::new("RETURN $x AS x").param("x", 1)).await?;
//! assert_eq!(r.single("x"), Some(&bolt::Value::Integer(1)));
//! # Ok(()) }
//! ```
#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod config;
mod driver;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
// The layers below are public for our stub server, benches and fuzz targets, not for users: the API is the
// driver, queries, values, config and errors re-exported here, plus the sans-I/O codec (`packstream`, `proto`).
#[doc(hidden)]
pub mod net;
pub mod packstream;
mod pool;
pub mod proto;
mod query;
#[doc(hidden)]
pub mod retry;
#[doc(hidden)]
pub mod routing;
pub mod value;

pub use config::{Config, OptionOutcome, Trust, warn_unknown_options};
pub use driver::Driver;
pub use error::Error;
pub use proto::version::Version;
pub use query::{Query, QueryResult, RowStream};
pub use value::{Map, Value};
