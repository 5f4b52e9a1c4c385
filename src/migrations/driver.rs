//! The Bolt driver as the migrator's [`Cypher`] runner.

use super::neo4j::{Cypher, CypherError, Statement};
use super::target::Target;

/// A connected target.
pub struct BoltDb {
    driver: bolt::Driver,
    database: String,
}

impl BoltDb {
    /// Connects to a target.
    pub async fn connect(target: &Target) -> Result<BoltDb, bolt::Error> {
        let driver = bolt::Driver::connect(target.config.clone()).await?;
        Ok(BoltDb {
            driver,
            database: target.database.clone(),
        })
    }

    /// Closes the connections.
    pub async fn close(&self) {
        self.driver.close().await;
    }
}

impl Cypher for BoltDb {
    async fn run(&self, statement: Statement) -> Result<Vec<Vec<bolt::Value>>, CypherError> {
        let mut query = bolt::Query::new(statement.text).database(self.database.clone());
        for (k, v) in statement.params {
            query = query.param(k, v);
        }
        if statement.auto_commit {
            query = query.auto_commit();
        }
        match self.driver.run(query).await {
            Ok(result) => Ok(result.rows),
            Err(e) => Err(CypherError {
                code: e.code().map(str::to_owned),
                message: e.to_string(),
            }),
        }
    }
}
