//! The plugin's exact statements (spec §6.2) and what runs them.

use crate::migrations::operation::{Literal, NameSet};
use crate::quoting::{escaped as quoted, name as schema_name};
use std::fmt::Write as _;

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
    pub(super) fn new(text: impl Into<String>) -> Self {
        Statement {
            text: text.into(),
            params: Vec::new(),
            auto_commit: false,
        }
    }

    pub(super) fn implicit(text: impl Into<String>) -> Self {
        Statement {
            text: text.into(),
            params: Vec::new(),
            auto_commit: true,
        }
    }

    pub(super) fn param(mut self, name: &'static str, value: bolt::Value) -> Self {
        self.params.push((name, value));
        self
    }
}

/// A failed statement: the one error type of our Bolt adapter.
pub type CypherError = crate::writer::exec::DbError;

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

pub(super) fn node_key_name(t: &str) -> String {
    format!("{t}_node_key")
}

pub(super) fn index_name(t: &str, field: &str) -> String {
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

pub(super) fn drop_constraint(name: &str) -> Statement {
    Statement::new(format!("DROP CONSTRAINT {} IF EXISTS", schema_name(name)))
}

pub(super) fn drop_index(name: &str) -> Statement {
    Statement::new(format!("DROP INDEX {} IF EXISTS", schema_name(name)))
}

pub(super) fn node_index(t: &str, f: &str) -> Statement {
    Statement::new(format!(
        "CREATE INDEX {} IF NOT EXISTS FOR (n:`{}`) ON (n.`{}`)",
        schema_name(&index_name(t, f)),
        quoted(t),
        quoted(f)
    ))
}

pub(super) fn relationship_index(t: &str, f: &str) -> Statement {
    Statement::new(format!(
        "CREATE INDEX {} IF NOT EXISTS FOR ()-[r:`{}`]-() ON (r.`{}`)",
        schema_name(&index_name(t, f)),
        quoted(t),
        quoted(f)
    ))
}

pub(super) fn set_node_property(t: &str, p: &str, value: &Literal, b: u64) -> Statement {
    let (t, p) = (quoted(t), quoted(p));
    Statement::implicit(format!(
        "MATCH (n:`{t}`) WHERE n.`{p}` IS NULL WITH n, $value AS value CALL {{ WITH n, value SET n.`{p}` = coalesce(n.`{p}`, value) }} IN TRANSACTIONS OF {b} ROWS"
    ))
    .param("value", value.to_bolt())
}

pub(super) fn set_relationship_property(t: &str, p: &str, value: &Literal, b: u64) -> Statement {
    let (t, p) = (quoted(t), quoted(p));
    Statement::implicit(format!(
        "MATCH ()-[r:`{t}`]->() WHERE r.`{p}` IS NULL WITH r, $value AS value CALL {{ WITH r, value SET r.`{p}` = coalesce(r.`{p}`, value) }} IN TRANSACTIONS OF {b} ROWS"
    ))
    .param("value", value.to_bolt())
}

pub(super) fn rename_node_property(t: &str, old: &str, new: &str, b: u64) -> Statement {
    let (t, old, new) = (quoted(t), quoted(old), quoted(new));
    Statement::implicit(format!(
        "MATCH (n:`{t}`) CALL {{ WITH n SET n.`{new}` = n.`{old}` REMOVE n.`{old}` }} IN TRANSACTIONS OF {b} ROWS"
    ))
}

pub(super) fn rename_relationship_property(t: &str, old: &str, new: &str, b: u64) -> Statement {
    let (t, old, new) = (quoted(t), quoted(old), quoted(new));
    Statement::implicit(format!(
        "MATCH ()-[r:`{t}`]->() CALL {{ WITH r SET r.`{new}` = r.`{old}` REMOVE r.`{old}` }} IN TRANSACTIONS OF {b} ROWS"
    ))
}

pub(super) const CONSTRAINT_PROPERTIES: &str =
    "SHOW CONSTRAINTS YIELD name, properties WHERE name = $constraint_name RETURN properties";
pub(super) const INDEXED_PROPERTIES: &str = "SHOW INDEXES YIELD properties, entityType, labelsOrTypes, owningConstraint WHERE entityType = $entity_type and labelsOrTypes = [$object_type] and owningConstraint is null RETURN properties";

pub(super) const INDEXED_PROPERTIES_4_4: &str = "SHOW INDEXES YIELD properties, entityType, labelsOrTypes, uniqueness WHERE entityType = $entity_type and labelsOrTypes = [$object_type] and uniqueness = 'NONUNIQUE' RETURN properties";

pub(super) fn strings(value: &bolt::Value) -> impl Iterator<Item = String> + '_ {
    let items: &[bolt::Value] = match value {
        bolt::Value::List(items) => items,
        _ => &[],
    };
    items.iter().filter_map(|v| match v {
        bolt::Value::String(s) => Some(s.clone()),
        _ => None,
    })
}
