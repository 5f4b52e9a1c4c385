//! Targets of `nodestream.yaml` as migrations need them (spec §1.5, §1.6): connection settings and the
//! migrator's options. Interim: the project loader will own target parsing; this reads only `targets`.

use super::neo4j::Options;
use crate::project::yaml::{self, Kind, ScalarValue, YamlNode};
use std::collections::BTreeMap;
use std::path::Path;

/// A Neo4j target, ready to connect.
#[derive(Debug, Clone)]
pub struct Target {
    /// The target's name in the project.
    pub name: String,
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
    /// The project file cannot be read or parsed.
    #[error(transparent)]
    Yaml(#[from] yaml::YamlError),
    /// The name is not a key of `targets`.
    #[error("Target {0} not specified in the project.")]
    Unknown(String),
    /// A setting is missing or malformed.
    #[error("{file}:{line}:{col}: target {target}: {message}")]
    Invalid {
        /// Project file.
        file: String,
        /// Line.
        line: usize,
        /// Column.
        col: usize,
        /// Target name.
        target: String,
        /// What is wrong.
        message: String,
    },
}

/// Resolves `!env`/`!delayed` and plain scalars into a value (other lazy tags are errors).
fn resolve(node: &YamlNode) -> Result<bolt::Value, String> {
    match node.tag.as_deref() {
        Some("!env") => {
            let var = node
                .as_scalar()
                .map(|s| s.raw.as_str())
                .ok_or("!env takes a variable name")?;
            return Ok(std::env::var(var)
                .map(bolt::Value::String)
                .unwrap_or(bolt::Value::Null));
        }
        Some("!delayed") => {
            let inner = node.get("value").ok_or("!delayed needs a `value` key")?;
            return resolve(inner);
        }
        Some(t) if t.starts_with('!') && !t.starts_with("!!") => {
            return Err(format!("ArgumentResolver '{}' is not registered", &t[1..]));
        }
        _ => {}
    }
    Ok(match &node.kind {
        Kind::Scalar(s) => match s.value {
            ScalarValue::Null => bolt::Value::Null,
            ScalarValue::Bool(b) => bolt::Value::Boolean(b),
            ScalarValue::Int(i) => bolt::Value::Integer(i),
            ScalarValue::Float(f) => bolt::Value::Float(f),
            ScalarValue::Str => bolt::Value::String(s.raw.clone()),
        },
        Kind::Seq(items) => bolt::Value::List(items.iter().map(resolve).collect::<Result<_, _>>()?),
        Kind::Map(entries) => {
            let mut m = bolt::Map::new();
            for (k, v) in entries {
                m.insert(k.key_text(), resolve(v)?);
            }
            bolt::Value::Map(m)
        }
    })
}

/// Keys consumed by the writer or the connector that mean nothing to the migrator or the driver.
const NOT_DRIVER_OPTIONS: &[&str] = &[
    "batch_size",
    "flush_concurrency",
    "collect_stats",
    "ingest_strategy_name",
    "use_apoc",
    "chunk_size",
    "execute_chunks_in_parallel",
    "retries_per_chunk",
    "_experimental_set_first_ingested_at",
    "retry_factor",
    "connection_semaphore_limit",
];

/// The project's targets, in file order.
pub struct Targets {
    file: String,
    entries: Vec<(String, YamlNode)>,
}

impl Targets {
    /// Reads `targets` from the project file.
    pub fn load(project_file: &Path) -> Result<Targets, TargetError> {
        let root = yaml::load_file(project_file)?;
        let mut entries = Vec::new();
        if let Some(targets) = root.get("targets").and_then(YamlNode::as_map) {
            for (k, v) in targets {
                entries.retain(|(name, _): &(String, YamlNode)| *name != k.key_text());
                entries.push((k.key_text(), v.clone()));
            }
        }
        Ok(Targets {
            file: project_file.display().to_string(),
            entries,
        })
    }

    /// Target names, in file order.
    pub fn names(&self) -> Vec<String> {
        self.entries.iter().map(|(n, _)| n.clone()).collect()
    }

    /// Builds one target's settings.
    pub fn get(&self, name: &str) -> Result<Target, TargetError> {
        let (_, node) = self
            .entries
            .iter()
            .find(|(n, _)| n == name)
            .ok_or_else(|| TargetError::Unknown(name.to_owned()))?;
        let bad = |at: &YamlNode, message: String| TargetError::Invalid {
            file: self.file.clone(),
            line: at.mark.line,
            col: at.mark.col,
            target: name.to_owned(),
            message,
        };
        let entries = node.as_map().ok_or_else(|| {
            bad(
                node,
                format!("must be a mapping, found {}", node.type_name()),
            )
        })?;
        let mut values: BTreeMap<String, (bolt::Value, &YamlNode)> = BTreeMap::new();
        for (k, v) in entries {
            let value = resolve(v).map_err(|m| bad(v, format!("{}: {m}", k.key_text())))?;
            values.insert(k.key_text(), (value, v));
        }
        match values.get("database").map(|(v, _)| v) {
            Some(bolt::Value::String(db)) if db == "neo4j" => {}
            Some(other) => {
                return Err(bad(
                    node,
                    format!("migrations support `database: neo4j` only, found {other:?}"),
                ));
            }
            None => {
                return Err(bad(
                    node,
                    "has no `database: neo4j` (the null connector has no migrations)".into(),
                ));
            }
        }
        let text = |key: &str| -> Result<String, TargetError> {
            match values.get(key) {
                Some((bolt::Value::String(s), _)) => Ok(s.clone()),
                Some((bolt::Value::Null, at)) => Err(bad(
                    at,
                    format!("`{key}` is null (an unset environment variable?)"),
                )),
                Some((_, at)) => Err(bad(at, format!("`{key}` must be a string"))),
                None => Err(bad(node, format!("missing `{key}`"))),
            }
        };
        let mut config = bolt::Config::new(&text("uri")?, &text("username")?, &text("password")?);
        let database = match values.get("database_name") {
            None | Some((bolt::Value::Null, _)) => "neo4j".to_owned(),
            Some(_) => text("database_name")?,
        };
        config.database = Some(database.clone());
        let mut options = Options::default();
        if let Some((v, at)) = values.get("use_enterprise_features") {
            options.use_enterprise_features = match v {
                bolt::Value::Boolean(b) => *b,
                bolt::Value::Null => false,
                _ => {
                    return Err(bad(
                        at,
                        "`use_enterprise_features` must be true or false".into(),
                    ));
                }
            };
        }
        if let Some((v, at)) = values.get("transaction_batch_size") {
            options.transaction_batch_size = match v {
                bolt::Value::Integer(i) if *i > 0 => *i as u64,
                _ => {
                    return Err(bad(
                        at,
                        "`transaction_batch_size` must be a positive integer".into(),
                    ));
                }
            };
        }
        if let Some((v, at)) = values.get("max_retry_attempts") {
            config.max_retry_attempts = match v {
                bolt::Value::Integer(i) if *i > 0 => Some(*i as usize),
                _ => {
                    return Err(bad(
                        at,
                        "`max_retry_attempts` must be a positive integer".into(),
                    ));
                }
            };
        }
        let mut unknown = Vec::new();
        for (key, (value, at)) in &values {
            let known = [
                "database",
                "uri",
                "username",
                "password",
                "database_name",
                "use_enterprise_features",
                "transaction_batch_size",
                "max_retry_attempts",
            ];
            if known.contains(&key.as_str()) || NOT_DRIVER_OPTIONS.contains(&key.as_str()) {
                continue;
            }
            match config
                .set_option(key, value)
                .map_err(|e| bad(at, e.to_string()))?
            {
                bolt::OptionOutcome::Unknown => unknown.push(key.as_str()),
                bolt::OptionOutcome::Applied | bolt::OptionOutcome::Ignored => {}
            }
        }
        bolt::warn_unknown_options(unknown);
        Ok(Target {
            name: name.to_owned(),
            config,
            database,
            options,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(src: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("nodestream.yaml");
        std::fs::write(&path, src).unwrap();
        (dir, path)
    }

    #[test]
    fn reads_connection_and_migrator_options() {
        // SAFETY-free: a variable name unique to this test.
        let (_d, p) = project(
            "targets:\n  a:\n    database: neo4j\n    uri: !env NODESTREAM_MIGRATIONS_TEST_UNSET_URI\n    username: u\n    password: p\n  b:\n    database: neo4j\n    uri: bolt://h:1\n    username: u\n    password: !delayed {value: pw}\n    database_name: other\n    use_enterprise_features: true\n    transaction_batch_size: 5\n    max_connection_pool_size: 3\n    batch_size: 100\n",
        );
        let t = Targets::load(&p).unwrap();
        assert_eq!(t.names(), ["a", "b"]);
        let err = t.get("a").unwrap_err().to_string();
        assert!(
            err.ends_with("target a: `uri` is null (an unset environment variable?)"),
            "{err}"
        );
        let b = t.get("b").unwrap();
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
        assert_eq!(
            t.get("zz").unwrap_err().to_string(),
            "Target zz not specified in the project."
        );
    }

    #[test]
    fn non_neo4j_target_is_refused() {
        let (_d, p) = project("targets:\n  a:\n    uri: bolt://h:1\n");
        let err = Targets::load(&p).unwrap().get("a").unwrap_err().to_string();
        assert!(err.contains("target a: has no `database: neo4j`"), "{err}");
    }
}
