//! A project target as the migrator needs it (spec §1.5, §1.6): the project loader resolves tags and splits
//! off the writer arguments; here the connector options become a `bolt::Config` plus migrator options.
//! The writer maps the same options for ingestion: the lead may unify the two mappings.

use super::neo4j::Options;
use crate::project::{LoadError, Project};
use crate::writer::options::{OptionsError, TargetOptions};

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
    /// A connection setting is missing or malformed.
    #[error(transparent)]
    Options(#[from] OptionsError),
    /// The target cannot be migrated.
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

/// Target names, in file order.
pub fn names(project: &Project) -> Vec<String> {
    project.targets.keys().cloned().collect()
}

/// Builds the named target's connection settings and migrator options. Options are parsed by the writer's
/// parser, so `run` and `migrations` accept, refuse and warn about the same keys.
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
    let parsed = TargetOptions::parse(name, &resolved.options)?;
    for w in &parsed.warnings {
        tracing::warn!("{w}");
    }
    let options = Options {
        use_enterprise_features: parsed.use_enterprise_features,
        transaction_batch_size: parsed.transaction_batch_size,
    };
    Ok(Target {
        config: parsed.bolt_config(),
        database: parsed.database_name.clone(),
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
        assert_eq!(err, "target 'a': key 'uri' must be a string, got null");
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
