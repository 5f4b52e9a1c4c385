//! Executing operations on Neo4j, with the plugin's exact statements (spec §6.2), and the lock and
//! bookkeeping protocol (§6.6).

use super::graph::{Migration, MigrationGraph};
use super::operation::{Literal, NameSet, Operation};
use crate::quoting::{escaped as quoted, name as schema_name};
use std::collections::HashSet;
use std::fmt::Write as _;
use std::time::{Duration, Instant};

/// One statement to send.
#[derive(Debug, Clone, PartialEq)]
pub struct Statement {
    /// Cypher text.
    pub text: String,
    /// Parameters.
    pub params: Vec<(&'static str, bolt::Value)>,
    /// Sent as an implicit (auto-commit) transaction, as `CALL { } IN TRANSACTIONS` requires.
    pub auto_commit: bool,
}

impl Statement {
    fn new(text: impl Into<String>) -> Self {
        Statement {
            text: text.into(),
            params: Vec::new(),
            auto_commit: false,
        }
    }

    fn implicit(text: impl Into<String>) -> Self {
        Statement {
            text: text.into(),
            params: Vec::new(),
            auto_commit: true,
        }
    }

    fn param(mut self, name: &'static str, value: bolt::Value) -> Self {
        self.params.push((name, value));
        self
    }
}

/// A failed statement.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct CypherError {
    /// The server's status code (`Neo.ClientError…`), when the server answered.
    pub code: Option<String>,
    /// What went wrong.
    pub message: String,
}

/// Something that runs Cypher: the real driver, or a recorder in tests.
pub trait Cypher {
    /// Runs a statement and returns its rows (each a list of column values).
    fn run(
        &self,
        statement: Statement,
    ) -> impl Future<Output = Result<Vec<Vec<bolt::Value>>, CypherError>>;
}

/// Connector options that shape the statements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// `IS NODE KEY` instead of `IS UNIQUE`.
    pub use_enterprise_features: bool,
    /// Rows per inner transaction of data-moving statements.
    pub transaction_batch_size: u64,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            use_enterprise_features: false,
            transaction_batch_size: 10_000,
        }
    }
}

fn node_key_name(t: &str) -> String {
    format!("{t}_node_key")
}

fn index_name(t: &str, field: &str) -> String {
    format!("{t}_{field}_additional_index")
}

/// `CREATE CONSTRAINT … REQUIRE (n.`a`,n.`b`) IS UNIQUE|IS NODE KEY`; `None` without keys.
pub fn node_constraint(
    opts: Options,
    label: &str,
    keys: &NameSet,
    name: &str,
) -> Option<Statement> {
    if keys.is_empty() {
        return None;
    }
    let mut pattern = String::new();
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            pattern.push(',');
        }
        let _ = write!(pattern, "n.`{}`", quoted(k));
    }
    let kind = if opts.use_enterprise_features {
        "IS NODE KEY"
    } else {
        "IS UNIQUE"
    };
    Some(Statement::new(format!(
        "CREATE CONSTRAINT {} IF NOT EXISTS FOR (n:`{}`) REQUIRE ({pattern}) {kind}",
        schema_name(name),
        quoted(label)
    )))
}

fn drop_constraint(name: &str) -> Statement {
    Statement::new(format!("DROP CONSTRAINT {} IF EXISTS", schema_name(name)))
}

fn drop_index(name: &str) -> Statement {
    Statement::new(format!("DROP INDEX {} IF EXISTS", schema_name(name)))
}

fn node_index(t: &str, f: &str) -> Statement {
    Statement::new(format!(
        "CREATE INDEX {} IF NOT EXISTS FOR (n:`{}`) ON (n.`{}`)",
        schema_name(&index_name(t, f)),
        quoted(t),
        quoted(f)
    ))
}

fn relationship_index(t: &str, f: &str) -> Statement {
    Statement::new(format!(
        "CREATE INDEX {} IF NOT EXISTS FOR ()-[r:`{}`]-() ON (r.`{}`)",
        schema_name(&index_name(t, f)),
        quoted(t),
        quoted(f)
    ))
}

fn set_node_property(t: &str, p: &str, value: &Literal, b: u64) -> Statement {
    let (t, p) = (quoted(t), quoted(p));
    Statement::implicit(format!(
        "MATCH (n:`{t}`) WHERE n.`{p}` IS NULL WITH n, $value AS value CALL {{ WITH n, value SET n.`{p}` = coalesce(n.`{p}`, value) }} IN TRANSACTIONS OF {b} ROWS"
    ))
    .param("value", value.to_bolt())
}

fn set_relationship_property(t: &str, p: &str, value: &Literal, b: u64) -> Statement {
    let (t, p) = (quoted(t), quoted(p));
    Statement::implicit(format!(
        "MATCH ()-[r:`{t}`]->() WHERE r.`{p}` IS NULL WITH r, $value AS value CALL {{ WITH r, value SET r.`{p}` = coalesce(r.`{p}`, value) }} IN TRANSACTIONS OF {b} ROWS"
    ))
    .param("value", value.to_bolt())
}

fn rename_node_property(t: &str, old: &str, new: &str, b: u64) -> Statement {
    let (t, old, new) = (quoted(t), quoted(old), quoted(new));
    Statement::implicit(format!(
        "MATCH (n:`{t}`) CALL {{ WITH n SET n.`{new}` = n.`{old}` REMOVE n.`{old}` }} IN TRANSACTIONS OF {b} ROWS"
    ))
}

fn rename_relationship_property(t: &str, old: &str, new: &str, b: u64) -> Statement {
    let (t, old, new) = (quoted(t), quoted(old), quoted(new));
    Statement::implicit(format!(
        "MATCH ()-[r:`{t}`]->() CALL {{ WITH r SET r.`{new}` = r.`{old}` REMOVE r.`{old}` }} IN TRANSACTIONS OF {b} ROWS"
    ))
}

const CONSTRAINT_PROPERTIES: &str =
    "SHOW CONSTRAINTS YIELD name, properties WHERE name = $constraint_name RETURN properties";
const INDEXED_PROPERTIES: &str = "SHOW INDEXES YIELD properties, entityType, labelsOrTypes, owningConstraint WHERE entityType = $entity_type and labelsOrTypes = [$object_type] and owningConstraint is null RETURN properties";

const INDEXED_PROPERTIES_4_4: &str = "SHOW INDEXES YIELD properties, entityType, labelsOrTypes, uniqueness WHERE entityType = $entity_type and labelsOrTypes = [$object_type] and uniqueness = 'NONUNIQUE' RETURN properties";

fn strings(value: &bolt::Value) -> impl Iterator<Item = String> + '_ {
    let items: &[bolt::Value] = match value {
        bolt::Value::List(items) => items,
        _ => &[],
    };
    items.iter().filter_map(|v| match v {
        bolt::Value::String(s) => Some(s.clone()),
        _ => None,
    })
}

/// Runs operations against one database.
pub struct Executor<'a, C> {
    db: &'a C,
    opts: Options,
}

impl<'a, C: Cypher> Executor<'a, C> {
    /// An executor over `db`.
    pub fn new(db: &'a C, opts: Options) -> Self {
        Executor { db, opts }
    }

    async fn run(&self, statement: Statement) -> Result<Vec<Vec<bolt::Value>>, CypherError> {
        tracing::debug!(statement = %statement.text, "migration statement");
        self.db.run(statement).await
    }

    async fn constraint_keys(&self, name: &str) -> Result<NameSet, CypherError> {
        let rows = self
            .run(
                Statement::new(CONSTRAINT_PROPERTIES)
                    .param("constraint_name", bolt::Value::String(name.to_owned())),
            )
            .await?;
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .map(|v| strings(v).collect())
            .unwrap_or_default())
    }

    async fn indexed_properties(
        &self,
        entity: &str,
        object_type: &str,
    ) -> Result<NameSet, CypherError> {
        let query = |text: &str| {
            Statement::new(text)
                .param("entity_type", bolt::Value::String(entity.to_owned()))
                .param("object_type", bolt::Value::String(object_type.to_owned()))
        };
        let rows = match self.run(query(INDEXED_PROPERTIES)).await {
            // Neo4j 4.4 has no `owningConstraint` column (the plugin fails there); its constraint-backed
            // indexes are the UNIQUE ones.
            Err(e) if e.message.contains("owningConstraint") => {
                self.run(query(INDEXED_PROPERTIES_4_4)).await?
            }
            other => other?,
        };
        Ok(rows
            .iter()
            .filter_map(|r| r.first())
            .filter_map(|v| strings(v).next())
            .collect())
    }

    async fn make_constraint(
        &self,
        label: &str,
        keys: &NameSet,
        name: &str,
    ) -> Result<(), CypherError> {
        if let Some(s) = node_constraint(self.opts, label, keys, name) {
            self.run(s).await?;
        }
        Ok(())
    }

    /// Executes one operation with the plugin's statements, in the plugin's order.
    pub async fn execute(&self, op: &Operation) -> Result<(), CypherError> {
        use Operation::*;
        let b = self.opts.transaction_batch_size;
        match op {
            CreateNodeType { name, keys, .. } => {
                self.make_constraint(name, keys, &node_key_name(name))
                    .await?
            }
            CreateRelationshipType { .. } => {}
            DropNodeType { name } => {
                self.run(drop_constraint(&node_key_name(name))).await?;
                for field in self.indexed_properties("NODE", name).await? {
                    self.run(drop_index(&index_name(name, &field))).await?;
                }
                let t = quoted(name);
                self.run(Statement::implicit(format!(
                    "MATCH (n:`{t}`) CALL {{ WITH n DETACH DELETE n }} IN TRANSACTIONS OF {b} ROWS"
                )))
                .await?;
            }
            DropRelationshipType { name } => {
                for field in self.indexed_properties("RELATIONSHIP", name).await? {
                    self.run(drop_index(&index_name(name, &field))).await?;
                }
                let t = quoted(name);
                self.run(Statement::implicit(format!(
                    "MATCH ()-[r:`{t}`]->() CALL {{ WITH r DELETE r }} IN TRANSACTIONS OF {b} ROWS"
                )))
                .await?;
            }
            RenameNodeProperty {
                node_type,
                old_property_name,
                new_property_name,
            } => {
                self.run(rename_node_property(
                    node_type,
                    old_property_name,
                    new_property_name,
                    b,
                ))
                .await?;
            }
            RenameRelationshipProperty {
                relationship_type,
                old_property_name,
                new_property_name,
            } => {
                self.run(rename_relationship_property(
                    relationship_type,
                    old_property_name,
                    new_property_name,
                    b,
                ))
                .await?;
            }
            RenameNodeType { old_type, new_type } => {
                let keys = self.constraint_keys(&node_key_name(old_type)).await?;
                self.run(drop_constraint(&node_key_name(old_type))).await?;
                let indexed = self.indexed_properties("NODE", old_type).await?;
                for field in &indexed {
                    self.run(drop_index(&index_name(old_type, field))).await?;
                }
                let (o, n) = (quoted(old_type), quoted(new_type));
                self.run(Statement::implicit(format!(
                    "MATCH (n:`{o}`) CALL {{ WITH n SET n:`{n}` REMOVE n:`{o}` }} IN TRANSACTIONS OF {b} ROWS"
                )))
                .await?;
                self.make_constraint(new_type, &keys, &node_key_name(new_type))
                    .await?;
                for field in &indexed {
                    self.run(node_index(new_type, field)).await?;
                }
            }
            RenameRelationshipType { old_type, new_type } => {
                let indexed = self.indexed_properties("RELATIONSHIP", old_type).await?;
                for field in &indexed {
                    self.run(drop_index(&index_name(old_type, field))).await?;
                }
                let (o, n) = (quoted(old_type), quoted(new_type));
                self.run(Statement::implicit(format!(
                    "MATCH (n)-[r:`{o}`]->(m) CALL {{ WITH n, r, m CREATE (n)-[r2:`{n}`]->(m) SET r2 += properties(r) DELETE r }} IN TRANSACTIONS OF {b} ROWS"
                )))
                .await?;
                for field in &indexed {
                    self.run(relationship_index(new_type, field)).await?;
                }
            }
            AddAdditionalNodePropertyIndex {
                node_type,
                field_name,
            } => {
                self.run(node_index(node_type, field_name)).await?;
            }
            DropAdditionalNodePropertyIndex {
                node_type,
                field_name,
            } => {
                self.run(drop_index(&index_name(node_type, field_name)))
                    .await?;
            }
            AddAdditionalRelationshipPropertyIndex {
                relationship_type,
                field_name,
            } => {
                self.run(relationship_index(relationship_type, field_name))
                    .await?;
            }
            DropAdditionalRelationshipPropertyIndex {
                relationship_type,
                field_name,
            } => {
                self.run(drop_index(&index_name(relationship_type, field_name)))
                    .await?;
            }
            AddNodeProperty {
                node_type,
                property_name,
                default,
            } => {
                self.run(set_node_property(node_type, property_name, default, b))
                    .await?;
            }
            AddRelationshipProperty {
                relationship_type,
                property_name,
                default,
            } => {
                self.run(set_relationship_property(
                    relationship_type,
                    property_name,
                    default,
                    b,
                ))
                .await?;
            }
            DropNodeProperty {
                node_type,
                property_name,
            } => {
                let (t, p) = (quoted(node_type), quoted(property_name));
                self.run(Statement::implicit(format!(
                    "MATCH (n:`{t}`) CALL {{ WITH n REMOVE n.`{p}` }} IN TRANSACTIONS OF {b} ROWS"
                )))
                .await?;
            }
            DropRelationshipProperty {
                relationship_type,
                property_name,
            } => {
                let (t, p) = (quoted(relationship_type), quoted(property_name));
                self.run(Statement::implicit(format!(
                    "MATCH ()-[r:`{t}`]->() CALL {{ WITH r REMOVE r.`{p}` }} IN TRANSACTIONS OF {b} ROWS"
                )))
                .await?;
            }
            NodeKeyExtended {
                node_type,
                added_key_property,
                default,
            } => {
                let name = node_key_name(node_type);
                // ⚠ QUIRK (spec §11 #28): a null default becomes the string "null", so the key is never null.
                let default = if default.is_null() {
                    Literal::Str("null".into())
                } else {
                    default.clone()
                };
                let mut keys = self.constraint_keys(&name).await?;
                keys.insert(added_key_property.clone());
                self.run(drop_constraint(&name)).await?;
                self.run(set_node_property(
                    node_type,
                    added_key_property,
                    &default,
                    b,
                ))
                .await?;
                self.make_constraint(node_type, &keys, &name).await?;
            }
            RelationshipKeyExtended {
                relationship_type,
                added_key_property,
                default,
            } => {
                self.run(set_relationship_property(
                    relationship_type,
                    added_key_property,
                    default,
                    b,
                ))
                .await?;
            }
            NodeKeyPartRenamed {
                node_type,
                old_key_part_name,
                new_key_part_name,
            } => {
                let name = node_key_name(node_type);
                let mut keys = self.constraint_keys(&name).await?;
                if !keys.remove(old_key_part_name) {
                    return Ok(());
                }
                keys.insert(new_key_part_name.clone());
                self.run(drop_constraint(&name)).await?;
                self.run(rename_node_property(
                    node_type,
                    old_key_part_name,
                    new_key_part_name,
                    b,
                ))
                .await?;
                self.make_constraint(node_type, &keys, &name).await?;
            }
            RelationshipKeyPartRenamed {
                relationship_type,
                old_key_part_name,
                new_key_part_name,
            } => {
                self.run(rename_relationship_property(
                    relationship_type,
                    old_key_part_name,
                    new_key_part_name,
                    b,
                ))
                .await?;
            }
        }
        Ok(())
    }
}

/// Label of the lock node.
pub const LOCK_LABEL: &str = "__NodestreamMigrationLock__";
/// Label of the bookkeeping nodes.
pub const MIGRATION_LABEL: &str = "__NodestreamMigration__";

/// How to remove a lock left by a run that died.
pub const CLEAR_LOCK_HINT: &str = "MATCH (l:__NodestreamMigrationLock__ {lock: 'lock'}) DELETE l";

/// Why a migration run stopped.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Reading the applied migrations failed.
    #[error("cannot read the applied migrations")]
    Completed(#[source] CypherError),
    /// The lock could not be created for a reason other than another holder.
    #[error("cannot acquire the migration lock")]
    CannotAcquireLock(#[source] CypherError),
    /// Another run holds the lock (or a crashed run left it).
    #[error(
        "cannot acquire the migration lock: another `migrations run` has held it for over {waited:?}. \
         If no other run is active, a crashed run left it behind; remove it with: {CLEAR_LOCK_HINT}"
    )]
    LockHeld {
        /// How long we waited.
        waited: Duration,
    },
    /// An operation failed; the migration is not recorded and the lock was released.
    #[error("migration '{migration}' failed at operation '{operation}'")]
    Operation {
        /// The migration.
        migration: String,
        /// The failed operation's description.
        operation: String,
        /// The database's error.
        #[source]
        source: CypherError,
    },
    /// Recording the migration failed; the lock stays (as in Python).
    #[error(
        "migration '{migration}' ran but could not be recorded; the lock was left in place. \
         Remove it with: {CLEAR_LOCK_HINT}"
    )]
    Bookkeeping {
        /// The migration.
        migration: String,
        /// The database's error.
        #[source]
        source: CypherError,
    },
    /// Releasing the lock failed.
    #[error(
        "migration '{migration}' was applied but the lock could not be released; remove it with: {CLEAR_LOCK_HINT}"
    )]
    Release {
        /// The migration.
        migration: String,
        /// The database's error.
        #[source]
        source: CypherError,
    },
    /// The migration graph is broken.
    #[error(transparent)]
    Graph(#[from] super::graph::GraphError),
}

fn is_schema_race(e: &CypherError) -> bool {
    e.code
        .as_deref()
        .is_some_and(|c| c.contains("AlreadyExists") || c.starts_with("Neo.TransientError"))
}

fn is_constraint_violation(e: &CypherError) -> bool {
    e.code.as_deref().is_some_and(|c| {
        c.contains("ConstraintValidationFailed") || c.contains("ConstraintViolation")
    })
}

/// Migration runner for one target: the protocol of spec §6.6.
pub struct Migrator<'a, C> {
    db: &'a C,
    opts: Options,
    /// How long to wait for a lock held by someone else before failing.
    pub lock_timeout: Duration,
}

impl<'a, C: Cypher> Migrator<'a, C> {
    /// A migrator over `db`.
    pub fn new(db: &'a C, opts: Options) -> Self {
        Migrator {
            db,
            opts,
            lock_timeout: Duration::from_secs(60),
        }
    }

    /// Names recorded as applied.
    pub async fn completed(&self) -> Result<HashSet<String>, RunError> {
        let rows = self
            .db
            .run(Statement::new(format!(
                "MATCH (m:{MIGRATION_LABEL}) RETURN m.name as name"
            )))
            .await
            .map_err(RunError::Completed)?;
        Ok(rows
            .into_iter()
            .filter_map(|r| match r.into_iter().next() {
                Some(bolt::Value::String(s)) => Some(s),
                _ => None,
            })
            .collect())
    }

    /// Creates the lock node, waiting (with back-off) while another run holds it.
    pub async fn acquire_lock(&self) -> Result<(), RunError> {
        let started = Instant::now();
        let mut pause = Duration::from_millis(50);
        loop {
            let exec = Executor::new(self.db, self.opts);
            let mut raced = false;
            for (label, key) in [(LOCK_LABEL, "lock"), (MIGRATION_LABEL, "name")] {
                let keys: NameSet = [key.to_owned()].into();
                match exec
                    .make_constraint(label, &keys, &node_key_name(label))
                    .await
                {
                    Ok(()) => {}
                    // Two first runs creating the constraint at once: the loser retries.
                    Err(e) if is_schema_race(&e) && started.elapsed() < self.lock_timeout => {
                        raced = true
                    }
                    Err(e) => return Err(RunError::CannotAcquireLock(e)),
                }
            }
            if raced {
                tokio::time::sleep(pause).await;
                continue;
            }
            match self
                .db
                .run(Statement::new(format!(
                    "CREATE (l:{LOCK_LABEL}{{lock: 'lock'}})"
                )))
                .await
            {
                Ok(_) => return Ok(()),
                Err(e) if is_constraint_violation(&e) => {
                    let waited = started.elapsed();
                    if waited >= self.lock_timeout {
                        return Err(RunError::LockHeld { waited });
                    }
                    if pause == Duration::from_millis(50) {
                        tracing::warn!(
                            "another `migrations run` holds the migration lock; waiting up to {:?}",
                            self.lock_timeout
                        );
                    }
                    tokio::time::sleep(pause.min(self.lock_timeout.saturating_sub(waited))).await;
                    pause = (pause * 2).min(Duration::from_secs(2));
                }
                Err(e) => return Err(RunError::CannotAcquireLock(e)),
            }
        }
    }

    async fn release_lock(&self) -> Result<(), CypherError> {
        self.db
            .run(Statement::new(format!(
                "MATCH (l:{LOCK_LABEL}{{lock: 'lock'}}) DELETE l"
            )))
            .await
            .map(|_| ())
    }

    /// Records names as applied.
    async fn record(&self, names: &[&str]) -> Result<(), CypherError> {
        for name in names {
            self.db
                .run(
                    Statement::new(format!("MERGE (:{MIGRATION_LABEL} {{name: $name}})"))
                        .param("name", bolt::Value::String((*name).to_owned())),
                )
                .await?;
        }
        Ok(())
    }

    /// Runs one migration under the lock: operations, then bookkeeping of `record` names.
    /// Returns `false` when another run applied it while this one waited for the lock.
    pub async fn execute_migration(
        &self,
        migration: &Migration,
        record: &[&str],
    ) -> Result<bool, RunError> {
        self.acquire_lock().await?;
        match self.is_recorded(&migration.name).await {
            Ok(false) => {}
            Ok(true) => {
                self.release_lock()
                    .await
                    .map_err(|source| RunError::Release {
                        migration: migration.name.clone(),
                        source,
                    })?;
                return Ok(false);
            }
            Err(e) => {
                let _ = self.release_lock().await;
                return Err(RunError::Completed(e));
            }
        }
        let exec = Executor::new(self.db, self.opts);
        for op in &migration.operations {
            if let Err(source) = exec.execute(op).await {
                if let Err(e) = self.release_lock().await {
                    tracing::error!(
                        "could not release the migration lock: {e}; remove it with: {CLEAR_LOCK_HINT}"
                    );
                }
                return Err(RunError::Operation {
                    migration: migration.name.clone(),
                    operation: op.to_string(),
                    source,
                });
            }
        }
        self.record(record)
            .await
            .map_err(|source| RunError::Bookkeeping {
                migration: migration.name.clone(),
                source,
            })?;
        self.release_lock()
            .await
            .map_err(|source| RunError::Release {
                migration: migration.name.clone(),
                source,
            })?;
        Ok(true)
    }

    /// Whether `name` is recorded (checked under the lock: a concurrent run may have just applied it).
    async fn is_recorded(&self, name: &str) -> Result<bool, CypherError> {
        let rows = self
            .db
            .run(
                Statement::new(format!(
                    "MATCH (m:{MIGRATION_LABEL} {{name: $name}}) RETURN count(m) AS n"
                ))
                .param("name", bolt::Value::String(name.to_owned())),
            )
            .await?;
        Ok(rows
            .first()
            .and_then(|r| r.first())
            .and_then(bolt::Value::as_int)
            .is_some_and(|n| n > 0))
    }

    /// Runs every pending migration; calls `done` after each. Returns the names executed.
    ///
    /// Order: the plan (spec §6.5), so a squash runs instead of what it replaces on a fresh database. So
    /// that Python (which walks every unrecorded name) sees the same state, a squash is recorded together
    /// with the names it replaces, and a squash whose replaced migrations have all run is recorded too.
    pub async fn run_pending(
        &self,
        graph: &MigrationGraph,
        mut done: impl FnMut(&Migration),
    ) -> Result<Vec<String>, RunError> {
        let completed = self.completed().await?;
        let mut executed = Vec::new();
        let mut now_completed = completed.clone();
        for m in graph.plan(&completed)? {
            let mut names: Vec<&str> = vec![&m.name];
            names.extend(
                m.replaces
                    .iter()
                    .map(String::as_str)
                    // Only names the project still has: Python crashes on recorded names it lacks,
                    // and projects often delete the files a squash replaced.
                    .filter(|r| !now_completed.contains(*r) && graph.get(r).is_some()),
            );
            let ran = self.execute_migration(m, &names).await?;
            now_completed.extend(names.iter().map(|n| n.to_string()));
            if ran {
                executed.push(m.name.clone());
                done(m);
            } else {
                tracing::info!("migration {} was applied by another run meanwhile", m.name);
            }
        }
        let finished: Vec<&Migration> = graph
            .all()
            .filter(|m| {
                m.is_squash()
                    && !now_completed.contains(&m.name)
                    && m.replaces.iter().all(|r| now_completed.contains(r))
            })
            .collect();
        for squash in finished {
            {
                let empty = Migration {
                    operations: vec![],
                    ..squash.clone()
                };
                self.execute_migration(&empty, &[&squash.name]).await?;
                now_completed.insert(squash.name.clone());
            }
        }
        Ok(executed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;

    /// Records statements; answers SHOW CONSTRAINTS with `keys` and SHOW INDEXES with `indexed`.
    #[derive(Default)]
    struct Recorder {
        log: RefCell<Vec<Statement>>,
        keys: Vec<&'static str>,
        indexed: Vec<&'static str>,
        fail_on: Option<&'static str>,
        lock_taken: RefCell<bool>,
        /// Answer like Neo4j 4.4, which has no `owningConstraint` column.
        neo4j_4_4: bool,
    }

    fn list(items: &[&str]) -> bolt::Value {
        bolt::Value::List(
            items
                .iter()
                .map(|s| bolt::Value::String(s.to_string()))
                .collect(),
        )
    }

    impl Cypher for Recorder {
        async fn run(&self, s: Statement) -> Result<Vec<Vec<bolt::Value>>, CypherError> {
            self.log.borrow_mut().push(s.clone());
            if self.neo4j_4_4 && s.text == INDEXED_PROPERTIES {
                return Err(CypherError {
                    code: Some("Neo.ClientError.Statement.SyntaxError".into()),
                    message: "Variable `owningConstraint` not defined".into(),
                });
            }
            if self.fail_on.is_some_and(|f| s.text.contains(f)) {
                return Err(CypherError {
                    code: Some("Neo.ClientError.Statement.SyntaxError".into()),
                    message: "boom".into(),
                });
            }
            if s.text.starts_with("CREATE (l:__NodestreamMigrationLock__") {
                let mut taken = self.lock_taken.borrow_mut();
                if *taken {
                    return Err(CypherError {
                        code: Some("Neo.ClientError.Schema.ConstraintValidationFailed".into()),
                        message: "exists".into(),
                    });
                }
                *taken = true;
            }
            if s.text.starts_with("MATCH (l:__NodestreamMigrationLock__") {
                *self.lock_taken.borrow_mut() = false;
            }
            Ok(if s.text.starts_with("SHOW CONSTRAINTS") {
                if self.keys.is_empty() {
                    vec![]
                } else {
                    vec![vec![list(&self.keys)]]
                }
            } else if s.text.starts_with("SHOW INDEXES") {
                self.indexed.iter().map(|i| vec![list(&[i])]).collect()
            } else {
                vec![]
            })
        }
    }

    fn texts(r: &Recorder) -> Vec<String> {
        r.log.borrow().iter().map(|s| s.text.clone()).collect()
    }

    fn block_on<F: Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap()
            .block_on(f)
    }

    fn set(items: &[&str]) -> NameSet {
        items.iter().map(|s| s.to_string()).collect()
    }

    const ENTERPRISE: Options = Options {
        use_enterprise_features: true,
        transaction_batch_size: 10_000,
    };

    #[test]
    fn create_node_type_uses_sorted_keys_and_the_constraint_kind() {
        let r = Recorder::default();
        let op = Operation::CreateNodeType {
            name: "TestNode".into(),
            keys: set(&["b", "a"]),
            properties: set(&["name"]),
        };
        block_on(Executor::new(&r, ENTERPRISE).execute(&op)).unwrap();
        block_on(Executor::new(&r, Options::default()).execute(&op)).unwrap();
        assert_eq!(
            texts(&r),
            [
                "CREATE CONSTRAINT TestNode_node_key IF NOT EXISTS FOR (n:`TestNode`) REQUIRE (n.`a`,n.`b`) IS NODE KEY",
                "CREATE CONSTRAINT TestNode_node_key IF NOT EXISTS FOR (n:`TestNode`) REQUIRE (n.`a`,n.`b`) IS UNIQUE",
            ]
        );
    }

    #[test]
    fn odd_names_are_escaped() {
        let r = Recorder::default();
        let op = Operation::CreateNodeType {
            name: "My`Label x".into(),
            keys: set(&["k`"]),
            properties: set(&[]),
        };
        block_on(Executor::new(&r, Options::default()).execute(&op)).unwrap();
        assert_eq!(
            texts(&r),
            [
                "CREATE CONSTRAINT `My``Label x_node_key` IF NOT EXISTS FOR (n:`My``Label x`) REQUIRE (n.`k```) IS UNIQUE"
            ]
        );
    }

    #[test]
    fn rename_node_type_in_enterprise_mode_moves_constraint_and_indexes() {
        let r = Recorder {
            keys: vec!["id"],
            indexed: vec!["name"],
            ..Default::default()
        };
        let op = Operation::RenameNodeType {
            old_type: "TestNode".into(),
            new_type: "RenamedTestNode".into(),
        };
        block_on(Executor::new(&r, ENTERPRISE).execute(&op)).unwrap();
        assert_eq!(
            texts(&r),
            [
                CONSTRAINT_PROPERTIES,
                "DROP CONSTRAINT TestNode_node_key IF EXISTS",
                INDEXED_PROPERTIES,
                "DROP INDEX TestNode_name_additional_index IF EXISTS",
                "MATCH (n:`TestNode`) CALL { WITH n SET n:`RenamedTestNode` REMOVE n:`TestNode` } IN TRANSACTIONS OF 10000 ROWS",
                "CREATE CONSTRAINT RenamedTestNode_node_key IF NOT EXISTS FOR (n:`RenamedTestNode`) REQUIRE (n.`id`) IS NODE KEY",
                "CREATE INDEX RenamedTestNode_name_additional_index IF NOT EXISTS FOR (n:`RenamedTestNode`) ON (n.`name`)",
            ]
        );
        let log = r.log.borrow();
        assert!(log[4].auto_commit && !log[5].auto_commit);
        assert_eq!(
            log[0].params,
            vec![(
                "constraint_name",
                bolt::Value::String("TestNode_node_key".into())
            )]
        );
    }

    #[test]
    fn key_operations_in_enterprise_mode() {
        let r = Recorder {
            keys: vec!["id"],
            ..Default::default()
        };
        let ext = Operation::NodeKeyExtended {
            node_type: "TestNode".into(),
            added_key_property: "name".into(),
            default: Literal::Null,
        };
        block_on(Executor::new(&r, ENTERPRISE).execute(&ext)).unwrap();
        let log = r.log.borrow().clone();
        assert_eq!(log[1].text, "DROP CONSTRAINT TestNode_node_key IF EXISTS");
        assert_eq!(
            log[2].text,
            "MATCH (n:`TestNode`) WHERE n.`name` IS NULL WITH n, $value AS value CALL { WITH n, value SET n.`name` = coalesce(n.`name`, value) } IN TRANSACTIONS OF 10000 ROWS"
        );
        assert_eq!(
            log[2].params,
            vec![("value", bolt::Value::String("null".into()))]
        );
        assert_eq!(
            log[3].text,
            "CREATE CONSTRAINT TestNode_node_key IF NOT EXISTS FOR (n:`TestNode`) REQUIRE (n.`id`,n.`name`) IS NODE KEY"
        );

        let r = Recorder {
            keys: vec!["id"],
            ..Default::default()
        };
        let ren = Operation::NodeKeyPartRenamed {
            node_type: "TestNode".into(),
            old_key_part_name: "id".into(),
            new_key_part_name: "new_id".into(),
        };
        block_on(Executor::new(&r, ENTERPRISE).execute(&ren)).unwrap();
        assert_eq!(
            texts(&r)[1..],
            [
                "DROP CONSTRAINT TestNode_node_key IF EXISTS",
                "MATCH (n:`TestNode`) CALL { WITH n SET n.`new_id` = n.`id` REMOVE n.`id` } IN TRANSACTIONS OF 10000 ROWS",
                "CREATE CONSTRAINT TestNode_node_key IF NOT EXISTS FOR (n:`TestNode`) REQUIRE (n.`new_id`) IS NODE KEY",
            ]
        );
        // An old key part that is not in the constraint: nothing after the lookup.
        let r = Recorder {
            keys: vec!["other"],
            ..Default::default()
        };
        block_on(Executor::new(&r, ENTERPRISE).execute(&ren)).unwrap();
        assert_eq!(texts(&r), [CONSTRAINT_PROPERTIES]);
    }

    #[test]
    fn relationship_operations_statements() {
        let r = Recorder {
            indexed: vec!["weight"],
            ..Default::default()
        };
        let exec = Executor::new(
            &r,
            Options {
                use_enterprise_features: true,
                transaction_batch_size: 500,
            },
        );
        block_on(async {
            exec.execute(&Operation::RenameRelationshipType {
                old_type: "R".into(),
                new_type: "S".into(),
            })
            .await
            .unwrap();
            exec.execute(&Operation::DropRelationshipType { name: "S".into() })
                .await
                .unwrap();
            exec.execute(&Operation::AddRelationshipProperty {
                relationship_type: "S".into(),
                property_name: "w".into(),
                default: Literal::Int(12),
            })
            .await
            .unwrap();
        });
        assert_eq!(
            texts(&r),
            [
                INDEXED_PROPERTIES,
                "DROP INDEX R_weight_additional_index IF EXISTS",
                "MATCH (n)-[r:`R`]->(m) CALL { WITH n, r, m CREATE (n)-[r2:`S`]->(m) SET r2 += properties(r) DELETE r } IN TRANSACTIONS OF 500 ROWS",
                "CREATE INDEX S_weight_additional_index IF NOT EXISTS FOR ()-[r:`S`]-() ON (r.`weight`)",
                INDEXED_PROPERTIES,
                "DROP INDEX S_weight_additional_index IF EXISTS",
                "MATCH ()-[r:`S`]->() CALL { WITH r DELETE r } IN TRANSACTIONS OF 500 ROWS",
                "MATCH ()-[r:`S`]->() WHERE r.`w` IS NULL WITH r, $value AS value CALL { WITH r, value SET r.`w` = coalesce(r.`w`, value) } IN TRANSACTIONS OF 500 ROWS",
            ]
        );
    }

    /// Every operation of spec §6.2 with `use_enterprise_features: true`, as sent (the plugin's strings).
    #[test]
    fn all_twenty_operations_in_enterprise_mode() {
        use Operation::*;
        let st = |v: &str| v.to_string();
        let cases: Vec<(Operation, Vec<&str>)> = vec![
            (
                CreateNodeType {
                    name: st("T"),
                    keys: set(&["id"]),
                    properties: set(&["name"]),
                },
                vec![
                    "CREATE CONSTRAINT T_node_key IF NOT EXISTS FOR (n:`T`) REQUIRE (n.`id`) IS NODE KEY",
                ],
            ),
            (
                CreateRelationshipType {
                    name: st("R"),
                    keys: set(&["id"]),
                    properties: set(&[]),
                },
                vec![],
            ),
            (
                DropNodeType { name: st("T") },
                vec![
                    "DROP CONSTRAINT T_node_key IF EXISTS",
                    INDEXED_PROPERTIES,
                    "DROP INDEX T_name_additional_index IF EXISTS",
                    "MATCH (n:`T`) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS",
                ],
            ),
            (
                DropRelationshipType { name: st("R") },
                vec![
                    INDEXED_PROPERTIES,
                    "DROP INDEX R_name_additional_index IF EXISTS",
                    "MATCH ()-[r:`R`]->() CALL { WITH r DELETE r } IN TRANSACTIONS OF 10000 ROWS",
                ],
            ),
            (
                RenameNodeProperty {
                    node_type: st("T"),
                    old_property_name: st("a"),
                    new_property_name: st("b"),
                },
                vec![
                    "MATCH (n:`T`) CALL { WITH n SET n.`b` = n.`a` REMOVE n.`a` } IN TRANSACTIONS OF 10000 ROWS",
                ],
            ),
            (
                RenameRelationshipProperty {
                    relationship_type: st("R"),
                    old_property_name: st("a"),
                    new_property_name: st("b"),
                },
                vec![
                    "MATCH ()-[r:`R`]->() CALL { WITH r SET r.`b` = r.`a` REMOVE r.`a` } IN TRANSACTIONS OF 10000 ROWS",
                ],
            ),
            (
                RenameNodeType {
                    old_type: st("T"),
                    new_type: st("U"),
                },
                vec![
                    CONSTRAINT_PROPERTIES,
                    "DROP CONSTRAINT T_node_key IF EXISTS",
                    INDEXED_PROPERTIES,
                    "DROP INDEX T_name_additional_index IF EXISTS",
                    "MATCH (n:`T`) CALL { WITH n SET n:`U` REMOVE n:`T` } IN TRANSACTIONS OF 10000 ROWS",
                    "CREATE CONSTRAINT U_node_key IF NOT EXISTS FOR (n:`U`) REQUIRE (n.`id`) IS NODE KEY",
                    "CREATE INDEX U_name_additional_index IF NOT EXISTS FOR (n:`U`) ON (n.`name`)",
                ],
            ),
            (
                RenameRelationshipType {
                    old_type: st("R"),
                    new_type: st("S"),
                },
                vec![
                    INDEXED_PROPERTIES,
                    "DROP INDEX R_name_additional_index IF EXISTS",
                    "MATCH (n)-[r:`R`]->(m) CALL { WITH n, r, m CREATE (n)-[r2:`S`]->(m) SET r2 += properties(r) DELETE r } IN TRANSACTIONS OF 10000 ROWS",
                    "CREATE INDEX S_name_additional_index IF NOT EXISTS FOR ()-[r:`S`]-() ON (r.`name`)",
                ],
            ),
            (
                AddAdditionalNodePropertyIndex {
                    node_type: st("T"),
                    field_name: st("f"),
                },
                vec!["CREATE INDEX T_f_additional_index IF NOT EXISTS FOR (n:`T`) ON (n.`f`)"],
            ),
            (
                DropAdditionalNodePropertyIndex {
                    node_type: st("T"),
                    field_name: st("f"),
                },
                vec!["DROP INDEX T_f_additional_index IF EXISTS"],
            ),
            (
                AddAdditionalRelationshipPropertyIndex {
                    relationship_type: st("R"),
                    field_name: st("f"),
                },
                vec![
                    "CREATE INDEX R_f_additional_index IF NOT EXISTS FOR ()-[r:`R`]-() ON (r.`f`)",
                ],
            ),
            (
                DropAdditionalRelationshipPropertyIndex {
                    relationship_type: st("R"),
                    field_name: st("f"),
                },
                vec!["DROP INDEX R_f_additional_index IF EXISTS"],
            ),
            (
                AddNodeProperty {
                    node_type: st("T"),
                    property_name: st("p"),
                    default: Literal::Int(4),
                },
                vec![
                    "MATCH (n:`T`) WHERE n.`p` IS NULL WITH n, $value AS value CALL { WITH n, value SET n.`p` = coalesce(n.`p`, value) } IN TRANSACTIONS OF 10000 ROWS",
                ],
            ),
            (
                AddRelationshipProperty {
                    relationship_type: st("R"),
                    property_name: st("p"),
                    default: Literal::Int(4),
                },
                vec![
                    "MATCH ()-[r:`R`]->() WHERE r.`p` IS NULL WITH r, $value AS value CALL { WITH r, value SET r.`p` = coalesce(r.`p`, value) } IN TRANSACTIONS OF 10000 ROWS",
                ],
            ),
            (
                DropNodeProperty {
                    node_type: st("T"),
                    property_name: st("p"),
                },
                vec!["MATCH (n:`T`) CALL { WITH n REMOVE n.`p` } IN TRANSACTIONS OF 10000 ROWS"],
            ),
            (
                DropRelationshipProperty {
                    relationship_type: st("R"),
                    property_name: st("p"),
                },
                vec![
                    "MATCH ()-[r:`R`]->() CALL { WITH r REMOVE r.`p` } IN TRANSACTIONS OF 10000 ROWS",
                ],
            ),
            (
                NodeKeyExtended {
                    node_type: st("T"),
                    added_key_property: st("k"),
                    default: Literal::Str(st("bob")),
                },
                vec![
                    CONSTRAINT_PROPERTIES,
                    "DROP CONSTRAINT T_node_key IF EXISTS",
                    "MATCH (n:`T`) WHERE n.`k` IS NULL WITH n, $value AS value CALL { WITH n, value SET n.`k` = coalesce(n.`k`, value) } IN TRANSACTIONS OF 10000 ROWS",
                    "CREATE CONSTRAINT T_node_key IF NOT EXISTS FOR (n:`T`) REQUIRE (n.`id`,n.`k`) IS NODE KEY",
                ],
            ),
            (
                RelationshipKeyExtended {
                    relationship_type: st("R"),
                    added_key_property: st("k"),
                    default: Literal::Str(st("bob")),
                },
                vec![
                    "MATCH ()-[r:`R`]->() WHERE r.`k` IS NULL WITH r, $value AS value CALL { WITH r, value SET r.`k` = coalesce(r.`k`, value) } IN TRANSACTIONS OF 10000 ROWS",
                ],
            ),
            (
                NodeKeyPartRenamed {
                    node_type: st("T"),
                    old_key_part_name: st("id"),
                    new_key_part_name: st("nid"),
                },
                vec![
                    CONSTRAINT_PROPERTIES,
                    "DROP CONSTRAINT T_node_key IF EXISTS",
                    "MATCH (n:`T`) CALL { WITH n SET n.`nid` = n.`id` REMOVE n.`id` } IN TRANSACTIONS OF 10000 ROWS",
                    "CREATE CONSTRAINT T_node_key IF NOT EXISTS FOR (n:`T`) REQUIRE (n.`nid`) IS NODE KEY",
                ],
            ),
            (
                RelationshipKeyPartRenamed {
                    relationship_type: st("R"),
                    old_key_part_name: st("a"),
                    new_key_part_name: st("b"),
                },
                vec![
                    "MATCH ()-[r:`R`]->() CALL { WITH r SET r.`b` = r.`a` REMOVE r.`a` } IN TRANSACTIONS OF 10000 ROWS",
                ],
            ),
        ];
        assert_eq!(cases.len(), 20);
        for (op, expected) in cases {
            let r = Recorder {
                keys: vec!["id"],
                indexed: vec!["name"],
                ..Default::default()
            };
            block_on(Executor::new(&r, ENTERPRISE).execute(&op)).unwrap();
            assert_eq!(texts(&r), expected, "{}", op.type_name());
            // Exactly the `CALL { } IN TRANSACTIONS` statements are auto-commit.
            for s in r.log.borrow().iter() {
                assert_eq!(
                    s.auto_commit,
                    s.text.contains("IN TRANSACTIONS"),
                    "{}",
                    s.text
                );
            }
        }
    }

    #[test]
    fn on_neo4j_4_4_additional_indexes_are_found_by_uniqueness() {
        let r = Recorder {
            indexed: vec!["name"],
            neo4j_4_4: true,
            ..Default::default()
        };
        let op = Operation::DropNodeType { name: "T".into() };
        block_on(Executor::new(&r, Options::default()).execute(&op)).unwrap();
        assert_eq!(
            texts(&r)[1..4],
            [
                INDEXED_PROPERTIES,
                INDEXED_PROPERTIES_4_4,
                "DROP INDEX T_name_additional_index IF EXISTS"
            ]
        );
    }

    fn migration(name: &str, ops: Vec<Operation>, deps: &[&str], replaces: &[&str]) -> Migration {
        Migration {
            name: name.into(),
            operations: ops,
            dependencies: deps.iter().map(|s| s.to_string()).collect(),
            replaces: replaces.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn protocol_in_enterprise_mode_locks_runs_records_and_unlocks() {
        let r = Recorder::default();
        let g = MigrationGraph::new([migration(
            "m1",
            vec![Operation::DropNodeProperty {
                node_type: "A".into(),
                property_name: "p".into(),
            }],
            &[],
            &[],
        )])
        .unwrap();
        let executed = block_on(Migrator::new(&r, ENTERPRISE).run_pending(&g, |_| {})).unwrap();
        assert_eq!(executed, ["m1"]);
        assert_eq!(
            texts(&r),
            [
                "MATCH (m:__NodestreamMigration__) RETURN m.name as name",
                "CREATE CONSTRAINT __NodestreamMigrationLock___node_key IF NOT EXISTS FOR (n:`__NodestreamMigrationLock__`) REQUIRE (n.`lock`) IS NODE KEY",
                "CREATE CONSTRAINT __NodestreamMigration___node_key IF NOT EXISTS FOR (n:`__NodestreamMigration__`) REQUIRE (n.`name`) IS NODE KEY",
                "CREATE (l:__NodestreamMigrationLock__{lock: 'lock'})",
                "MATCH (m:__NodestreamMigration__ {name: $name}) RETURN count(m) AS n",
                "MATCH (n:`A`) CALL { WITH n REMOVE n.`p` } IN TRANSACTIONS OF 10000 ROWS",
                "MERGE (:__NodestreamMigration__ {name: $name})",
                "MATCH (l:__NodestreamMigrationLock__{lock: 'lock'}) DELETE l",
            ]
        );
    }

    #[test]
    fn failing_operation_releases_the_lock_and_records_nothing() {
        let r = Recorder {
            fail_on: Some("REMOVE n.`p`"),
            ..Default::default()
        };
        let g = MigrationGraph::new([migration(
            "m1",
            vec![Operation::DropNodeProperty {
                node_type: "A".into(),
                property_name: "p".into(),
            }],
            &[],
            &[],
        )])
        .unwrap();
        let err =
            block_on(Migrator::new(&r, Options::default()).run_pending(&g, |_| {})).unwrap_err();
        assert_eq!(
            err.to_string(),
            "migration 'm1' failed at operation 'Drop property p from node type A'"
        );
        let cause = std::error::Error::source(&err).map(|s| s.to_string());
        assert_eq!(cause.as_deref(), Some("boom"));
        let t = texts(&r);
        assert_eq!(
            t.last().unwrap(),
            "MATCH (l:__NodestreamMigrationLock__{lock: 'lock'}) DELETE l"
        );
        assert!(!t.iter().any(|s| s.starts_with("MERGE")));
    }

    #[test]
    fn held_lock_times_out_with_the_clearing_hint() {
        let r = Recorder::default();
        *r.lock_taken.borrow_mut() = true;
        let mut m = Migrator::new(&r, Options::default());
        m.lock_timeout = Duration::from_millis(120);
        let err = block_on(m.acquire_lock()).unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.contains("MATCH (l:__NodestreamMigrationLock__ {lock: 'lock'}) DELETE l"),
            "{msg}"
        );
        assert!(
            texts(&r)
                .iter()
                .filter(|s| s.starts_with("CREATE (l:"))
                .count()
                >= 2,
            "retried"
        );
    }

    #[test]
    fn squash_whose_replaced_files_are_gone_records_only_itself() {
        let r = Recorder::default();
        let g = MigrationGraph::new([
            migration("s", vec![], &[], &["a", "b"]),
            migration("c", vec![], &[], &[]),
        ])
        .unwrap();
        let executed =
            block_on(Migrator::new(&r, Options::default()).run_pending(&g, |_| {})).unwrap();
        assert_eq!(executed, ["c", "s"]);
        let recorded: Vec<_> = r
            .log
            .borrow()
            .iter()
            .filter(|s| s.text.starts_with("MERGE"))
            .map(|s| s.params[0].1.clone())
            .collect();
        assert_eq!(recorded, ["c", "s"].map(|n| bolt::Value::String(n.into())));
    }

    #[test]
    fn squash_runs_instead_of_what_it_replaces_and_records_all_names() {
        let r = Recorder::default();
        let g = MigrationGraph::new([
            migration("a", vec![], &[], &[]),
            migration("b", vec![], &["a"], &[]),
            migration("s", vec![], &[], &["a", "b"]),
        ])
        .unwrap();
        let executed =
            block_on(Migrator::new(&r, Options::default()).run_pending(&g, |_| {})).unwrap();
        assert_eq!(executed, ["s"]);
        let recorded: Vec<_> = r
            .log
            .borrow()
            .iter()
            .filter(|s| s.text.starts_with("MERGE"))
            .map(|s| s.params[0].1.clone())
            .collect();
        assert_eq!(
            recorded,
            ["s", "a", "b"].map(|n| bolt::Value::String(n.into()))
        );
    }
}
