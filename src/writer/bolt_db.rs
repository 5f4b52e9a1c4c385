//! The [`Database`] seam implemented with the `bolt` crate's driver.

use super::exec::{BoxFuture, Database, DbError, Output};
use super::options::TargetOptions;
use bytes::Bytes;

/// A pooled Bolt driver for one target.
pub struct BoltDatabase;

impl BoltDatabase {
    /// Opens the driver and checks the server and credentials.
    pub async fn connect(_opts: &TargetOptions) -> anyhow::Result<BoltDatabase> {
        anyhow::bail!("the Bolt client is not available in this build yet")
    }
}

impl Database for BoltDatabase {
    fn run<'a>(&'a self, _text: &'a str, _params: Bytes) -> BoxFuture<'a, Result<Output, DbError>> {
        Box::pin(async move {
            Err(DbError {
                code: None,
                message: "the Bolt client is not available in this build yet".into(),
                retryable: false,
                unknown_outcome: false,
            })
        })
    }
}
