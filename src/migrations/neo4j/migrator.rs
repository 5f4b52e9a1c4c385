//! The lock and bookkeeping protocol of a migration run (spec §6.6).

use super::executor::*;
use super::statements::*;
use crate::migrations::graph::{Migration, MigrationGraph};
use crate::migrations::operation::NameSet;
use std::collections::HashSet;
use std::time::{Duration, Instant};

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
    Graph(#[from] crate::migrations::graph::GraphError),
}

pub(super) fn is_schema_race(e: &CypherError) -> bool {
    e.code
        .as_deref()
        .is_some_and(|c| c.contains("AlreadyExists") || c.starts_with("Neo.TransientError"))
}

pub(super) fn is_constraint_violation(e: &CypherError) -> bool {
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
