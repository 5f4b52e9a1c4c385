//! Migrations: files, the migration graph, schema diff and execution on Neo4j (spec §6).
