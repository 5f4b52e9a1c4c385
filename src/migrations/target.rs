//! A project target as the migrator needs it (spec §1.5, §1.6): the project loader resolves tags and splits
//! off the writer arguments; here the connector options become a `bolt::Config` plus migrator options.
//! The writer maps the same options for ingestion: the lead may unify the two mappings.

use super::neo4j::Options;
use crate::project::{LoadError, Project};

/// A Neo4j target, ready to connect.
#[derive(Debug, Clone)]
pub struct Target {
    /// Driver configuration (URI, credentials, driver options).
    pub config: bolt::Config,
    /// `database_name` (default `neo4j`).
    pub database: String,
    /// Statement options.
    pub options: Options,
}

/// A target that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TargetError {
    /// Unknown name, or tags that cannot be resolved.
    #[error(transparent)]
    Load(#[from] LoadError),
    /// A setting is missing or malformed.
    #[error("{file}: target {target}: {message}")]
    Invalid {
        /// Project file.
        file: String,
        /// Target name.
        target: String,
        /// What is wrong.
        message: String,
    },
}

/// Connector options that mean nothing to the migrator or the driver.
const NOT_DRIVER_OPTIONS: &[&str] = &[
    "use_apoc",
    "chunk_size",
    "execute_chunks_in_parallel",
    "retries_per_chunk",
    "_experimental_set_first_ingested_at",
    "retry_factor",
    "connection_semaphore_limit",
];

fn to_bolt(v: &serde_json::Value) -> bolt::Value {
    use serde_json::Value as J;
    match v {
        J::Null => bolt::Value::Null,
        J::Bool(b) => bolt::Value::Boolean(*b),
        J::Number(n) => match n.as_i64() {
            Some(i) => bolt::Value::Integer(i),
            None => bolt::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        J::String(s) => bolt::Value::String(s.clone()),
        J::Array(items) => bolt::Value::List(items.iter().map(to_bolt).collect()),
        J::Object(m) => bolt::Value::Map(m.iter().map(|(k, v)| (k.clone(), to_bolt(v))).collect()),
    }
}

/// Target names, in file order.
pub fn names(project: &Project) -> Vec<String> {
    project.targets.keys().cloned().collect()
}

/// Builds the named target's connection settings and migrator options.
pub fn target(project: &Project, name: &str) -> Result<Target, TargetError> {
    let resolved = project.target(name)?.resolve()?;
    let bad = |message: String| TargetError::Invalid {
        file: project.file.display().to_string(),
        target: name.to_owned(),
        message,
    };
    if resolved.database != "neo4j" {
        return Err(bad(format!(
            "migrations need `database: neo4j`, found `{}` (the null connector has no migrations)",
            resolved.database
        )));
    }
    let o = &resolved.options;
    let text = |key: &str| -> Result<String, TargetError> {
        match o.get(key) {
            Some(serde_json::Value::String(s)) => Ok(s.clone()),
            Some(serde_json::Value::Null) => Err(bad(format!(
                "`{key}` is null (an unset environment variable?)"
            ))),
            Some(_) => Err(bad(format!("`{key}` must be a string"))),
            None => Err(bad(format!("missing `{key}`"))),
        }
    };
    let mut config = bolt::Config::new(&text("uri")?, &text("username")?, &text("password")?);
    let database = match o.get("database_name") {
        None | Some(serde_json::Value::Null) => "neo4j".to_owned(),
        Some(_) => text("database_name")?,
    };
    config.database = Some(database.clone());
    let mut options = Options::default();
    match o.get("use_enterprise_features") {
        None | Some(serde_json::Value::Null) => {}
        Some(serde_json::Value::Bool(b)) => options.use_enterprise_features = *b,
        Some(_) => return Err(bad("`use_enterprise_features` must be true or false".into())),
    }
    match o.get("transaction_batch_size") {
        None | Some(serde_json::Value::Null) => {}
        Some(v) => {
            options.transaction_batch_size = v
                .as_u64()
                .filter(|n| *n > 0)
                .ok_or_else(|| bad("`transaction_batch_size` must be a positive integer".into()))?
        }
    }
    match o.get("max_retry_attempts") {
        None | Some(serde_json::Value::Null) => {}
        Some(v) => {
            let n = v
                .as_u64()
                .filter(|n| *n > 0)
                .ok_or_else(|| bad("`max_retry_attempts` must be a positive integer".into()))?;
            config.max_retry_attempts = Some(n as usize);
        }
    }
    let mut unknown = Vec::new();
    for (key, value) in o {
        let handled = [
            "uri",
            "username",
            "password",
            "database_name",
            "use_enterprise_features",
            "transaction_batch_size",
            "max_retry_attempts",
        ];
        if handled.contains(&key.as_str()) || NOT_DRIVER_OPTIONS.contains(&key.as_str()) {
            continue;
        }
        match config
            .set_option(key, &to_bolt(value))
            .map_err(|e| bad(e.to_string()))?
        {
            bolt::OptionOutcome::Unknown => unknown.push(key.as_str()),
            bolt::OptionOutcome::Applied | bolt::OptionOutcome::Ignored => {}
        }
    }
    bolt::warn_unknown_options(unknown);
    Ok(Target {
        config,
        database,
        options,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(src: &str) -> (tempfile::TempDir, Project) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nodestream.yaml");
        std::fs::write(&path, src).unwrap();
        let p = Project::load(&path).unwrap();
        (dir, p)
    }

    #[test]
    fn reads_connection_and_migrator_options() {
        let (_d, p) = project(
            "targets:\n  a:\n    database: neo4j\n    uri: !env NODESTREAM_MIGRATIONS_TEST_UNSET_URI\n    username: u\n    password: p\n  b:\n    database: neo4j\n    uri: bolt://h:1\n    username: u\n    password: !delayed {value: pw}\n    database_name: other\n    use_enterprise_features: true\n    transaction_batch_size: 5\n    max_connection_pool_size: 3\n    batch_size: 100\n",
        );
        assert_eq!(names(&p), ["a", "b"]);
        let err = target(&p, "a").unwrap_err().to_string();
        assert!(
            err.ends_with("target a: `uri` is null (an unset environment variable?)"),
            "{err}"
        );
        let b = target(&p, "b").unwrap();
        assert_eq!(b.database, "other");
        assert_eq!(b.config.password, "pw");
        assert_eq!(b.config.max_connection_pool_size, 3);
        assert_eq!(
            b.options,
            Options {
                use_enterprise_features: true,
                transaction_batch_size: 5
            }
        );
        let err = target(&p, "zz").unwrap_err().to_string();
        assert!(
            err.contains("Target zz not specified in the project."),
            "{err}"
        );
    }

    #[test]
    fn non_neo4j_target_is_refused() {
        let (_d, p) = project("targets:\n  a:\n    uri: bolt://h:1\n");
        let err = target(&p, "a").unwrap_err().to_string();
        assert!(
            err.contains("target a: migrations need `database: neo4j`, found `null`"),
            "{err}"
        );
    }
}
