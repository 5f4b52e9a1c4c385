//! The one adapter between our code and the `bolt` driver, for run (the writer's [`Database`] seam), copy (the
//! source reader) and migrations (their `Cypher` runner), with one error type, [`DbError`].

use super::exec::{BoxFuture, Counters, Database, DbError, Output};
use super::options::TargetOptions;
use bytes::Bytes;

/// A pooled Bolt driver for one target.
#[derive(Clone)]
pub struct BoltDatabase {
    driver: bolt::Driver,
    database: String,
}

/// Classifies a driver error (the only conversion from `bolt::Error`).
pub fn db_error(e: bolt::Error) -> DbError {
    DbError {
        code: e.code().map(str::to_string),
        message: e.to_string(),
        retryable: e.is_retryable(),
        unknown_outcome: e.is_unknown_outcome(),
    }
}

fn output(r: bolt::QueryResult) -> Output {
    let counters = Counters {
        nodes_created: r.counter("nodes-created"),
        relationships_created: r.counter("relationships-created"),
        properties_set: r.counter("properties-set"),
    };
    Output {
        keys: r.keys,
        rows: r.rows,
        counters,
    }
}

impl BoltDatabase {
    /// Opens the driver and checks the server and credentials.
    pub async fn connect(opts: &TargetOptions) -> Result<BoltDatabase, bolt::Error> {
        Self::connect_config(opts.bolt_config(), &opts.database_name).await
    }

    /// Opens the driver from a Bolt configuration, for `database`.
    pub async fn connect_config(
        config: bolt::Config,
        database: &str,
    ) -> Result<BoltDatabase, bolt::Error> {
        let driver = bolt::Driver::connect(config).await?;
        tracing::debug!(
            server = %driver.server_agent(),
            bolt = ?driver.protocol_version(),
            "connected"
        );
        Ok(BoltDatabase {
            driver,
            database: database.to_owned(),
        })
    }

    /// The driver, for what the seams do not cover (copy's row streams).
    pub fn driver(&self) -> &bolt::Driver {
        &self.driver
    }

    /// The database every query runs against.
    pub fn database(&self) -> &str {
        &self.database
    }

    /// Closes the connections.
    pub async fn close(&self) {
        self.driver.close().await;
    }

    /// The server's processor count, from its JMX bean; `None` when the procedure is refused (restricted
    /// procedures, a user without the privilege) or the answer is odd: the writer then uses its fixed default.
    pub async fn server_cores(&self) -> Option<usize> {
        let q = bolt::Query::new(
            "CALL dbms.queryJmx('java.lang:type=OperatingSystem') YIELD attributes \
             RETURN attributes.AvailableProcessors.value AS n",
        )
        .database(self.database.as_str())
        .read();
        match self.driver.run(q).await {
            Ok(r) => {
                let n = r.rows.first()?.first()?.as_int()?;
                usize::try_from(n).ok().filter(|n| (1..=4096).contains(n))
            }
            Err(e) => {
                tracing::debug!("the server's processor count is not available: {e}");
                None
            }
        }
    }
}

impl Database for BoltDatabase {
    fn run<'a>(&'a self, text: &'a str, params: Bytes) -> BoxFuture<'a, Result<Output, DbError>> {
        Box::pin(async move {
            let q = bolt::Query::new(text)
                .encoded_params(params)
                .database(self.database.as_str());
            let r = self.driver.run(q).await.map_err(db_error)?;
            Ok(output(r))
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
            Ok(output(r))
        })
    }

    fn wire_format(&self) -> bolt::packstream::WireFormat {
        self.driver.wire_format()
    }

    fn retries_transients(&self) -> bool {
        true
    }
}
