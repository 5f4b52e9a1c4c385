//! The [`Database`] seam implemented with the `bolt` crate's driver.

use super::exec::{BoxFuture, Database, DbError, Output};
use super::options::TargetOptions;
use bytes::Bytes;

/// A pooled Bolt driver for one target.
pub struct BoltDatabase {
    driver: bolt::Driver,
    database: String,
}

fn db_error(e: bolt::Error) -> DbError {
    DbError {
        code: e.code().map(str::to_string),
        message: e.to_string(),
        retryable: e.is_retryable(),
        unknown_outcome: e.is_unknown_outcome(),
    }
}

/// Maps the target's options onto the driver's configuration.
pub fn config(opts: &TargetOptions) -> bolt::Config {
    let mut c = bolt::Config::new(&opts.uri, &opts.username, &opts.password);
    c.database = Some(opts.database_name.clone());
    let d = &opts.driver;
    if let Some(v) = &d.user_agent {
        c.user_agent = v.clone();
    }
    if let Some(v) = d.max_connection_pool_size {
        c.max_connection_pool_size = v;
    }
    if let Some(v) = d.connection_timeout {
        c.connection_timeout = v;
    }
    if let Some(v) = d.connection_acquisition_timeout {
        c.connection_acquisition_timeout = v;
    }
    if let Some(v) = d.max_connection_lifetime {
        c.max_connection_lifetime = Some(v);
    }
    if let Some(v) = d.keep_alive {
        c.keep_alive = v;
    }
    if let Some(v) = d.max_transaction_retry_time {
        c.max_transaction_retry_time = v;
    }
    if let Some(v) = d.fetch_size {
        c.fetch_size = v;
    }
    c.max_bolt_version = d.max_bolt_version;
    c
}

impl BoltDatabase {
    /// Opens the driver and checks the server and credentials.
    pub async fn connect(opts: &TargetOptions) -> anyhow::Result<BoltDatabase> {
        let driver = bolt::Driver::connect(config(opts)).await?;
        tracing::debug!(
            server = %driver.server_agent(),
            bolt = ?driver.protocol_version(),
            "connected"
        );
        Ok(BoltDatabase {
            driver,
            database: opts.database_name.clone(),
        })
    }
}

impl Database for BoltDatabase {
    fn run<'a>(&'a self, text: &'a str, params: Bytes) -> BoxFuture<'a, Result<Output, DbError>> {
        Box::pin(async move {
            let q = bolt::Query::new(text)
                .encoded_params(params)
                .database(self.database.as_str());
            let r = self.driver.run(q).await.map_err(db_error)?;
            Ok(Output {
                keys: r.keys,
                rows: r.rows,
            })
        })
    }

    fn run_read<'a>(
        &'a self,
        text: &'a str,
        params: Bytes,
    ) -> BoxFuture<'a, Result<Output, DbError>> {
        Box::pin(async move {
            let q = bolt::Query::new(text)
                .encoded_params(params)
                .database(self.database.as_str())
                .read();
            let r = self.driver.run(q).await.map_err(db_error)?;
            Ok(Output {
                keys: r.keys,
                rows: r.rows,
            })
        })
    }

    fn utc_datetimes(&self) -> bool {
        self.driver.utc_datetimes()
    }

    fn retries_transients(&self) -> bool {
        true
    }
}
