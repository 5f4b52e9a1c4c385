//! Migrations: files, the migration graph, schema diff and execution on Neo4j (spec §6).

pub mod cli;
pub mod driver;
pub mod file;
pub mod graph;
pub mod neo4j;
pub mod operation;
pub mod schema;
pub mod target;

/// Any migrations failure.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The graph is broken.
    #[error(transparent)]
    Graph(#[from] graph::GraphError),
    /// Replaying migrations in memory failed.
    #[error(transparent)]
    Replay(#[from] schema::ReplayError),
    /// The diff found a change it cannot express.
    #[error(transparent)]
    Diff(#[from] schema::DiffError),
    /// Running on the database failed.
    #[error(transparent)]
    Run(#[from] neo4j::RunError),
}
