//! The shared Bolt adapter as the migrator's [`Cypher`] runner.

use super::neo4j::{Cypher, CypherError, Statement};
use super::target::Target;
pub use crate::writer::bolt_db::BoltDatabase as BoltDb;
use crate::writer::bolt_db::db_error;

/// Connects to a migration target.
pub async fn connect(target: &Target) -> Result<BoltDb, bolt::Error> {
    BoltDb::connect_config(target.config.clone(), &target.database).await
}

impl Cypher for BoltDb {
    async fn run(&self, statement: Statement) -> Result<Vec<Vec<bolt::Value>>, CypherError> {
        let mut query = bolt::Query::new(statement.text).database(self.database());
        for (k, v) in statement.params {
            query = query.param(k, v);
        }
        if statement.auto_commit {
            query = query.auto_commit();
        }
        match self.driver().run(query).await {
            Ok(result) => Ok(result.rows),
            Err(e) => Err(db_error(e)),
        }
    }
}
