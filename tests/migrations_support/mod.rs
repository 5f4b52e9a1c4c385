//! Shared by the migrations test binaries: the test server, throw-away projects, and the built binary.
#![allow(dead_code)] // Each test binary uses a different subset.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The test server's URI; tests fail (not skip) without it.
pub fn uri() -> String {
    std::env::var("NODESTREAM_TEST_URI")
        .expect("NODESTREAM_TEST_URI must point at the test Neo4j (scripts/test sets it)")
}

/// The test server's password.
pub fn password() -> String {
    std::env::var("NODESTREAM_TEST_PASSWORD").unwrap_or_else(|_| "password".into())
}

/// A Bolt connection for setup and checks.
pub struct Db {
    rt: tokio::runtime::Runtime,
    driver: bolt::Driver,
}

impl Db {
    /// Connects to the test server.
    pub fn connect() -> Db {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let driver = rt
            .block_on(bolt::Driver::connect(bolt::Config::new(
                &uri(),
                "neo4j",
                &password(),
            )))
            .expect("test Neo4j reachable");
        Db { rt, driver }
    }

    /// Runs a statement, panicking on failure.
    pub fn q(&self, text: &str) -> Vec<Vec<bolt::Value>> {
        self.try_q(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    /// Runs a statement as an auto-commit transaction.
    pub fn try_q(&self, text: &str) -> Result<Vec<Vec<bolt::Value>>, bolt::Error> {
        let q = bolt::Query::new(text.to_owned())
            .database("neo4j")
            .auto_commit();
        self.rt.block_on(self.driver.run(q)).map(|r| r.rows)
    }

    /// One string list per row of the first column.
    pub fn string_lists(&self, text: &str) -> Vec<Vec<String>> {
        self.q(text)
            .into_iter()
            .map(|r| match r.into_iter().next() {
                Some(bolt::Value::List(items)) => items
                    .into_iter()
                    .map(|v| v.as_str().unwrap_or_default().to_owned())
                    .collect(),
                other => panic!("expected a list, got {other:?}"),
            })
            .collect()
    }

    /// The single value of a one-row, one-column query.
    pub fn value(&self, text: &str) -> bolt::Value {
        let rows = self.q(text);
        assert_eq!(rows.len(), 1, "{text}: expected one row, got {rows:?}");
        rows[0][0].clone()
    }

    /// Recorded migration names starting with `prefix`, sorted.
    pub fn recorded(&self, prefix: &str) -> Vec<String> {
        let mut names: Vec<String> = self
            .q(&format!("MATCH (m:__NodestreamMigration__) WHERE m.name STARTS WITH '{prefix}' RETURN m.name"))
            .into_iter()
            .map(|r| r[0].as_str().unwrap_or_default().to_owned())
            .collect();
        names.sort();
        names
    }

    /// Removes everything a test made: nodes with the labels, relationships of the types, constraints and
    /// indexes on them, and bookkeeping nodes whose name starts with `prefix`.
    pub fn cleanup(&self, prefix: &str, labels: &[&str], types: &[&str]) {
        for l in labels {
            self.q(&format!("MATCH (n:`{l}`) DETACH DELETE n"));
        }
        for t in types {
            self.q(&format!("MATCH ()-[r:`{t}`]->() DELETE r"));
        }
        for row in self.q("SHOW CONSTRAINTS YIELD name, labelsOrTypes RETURN name, labelsOrTypes") {
            if on_any(&row[1], labels, types) {
                self.q(&format!(
                    "DROP CONSTRAINT `{}` IF EXISTS",
                    row[0].as_str().unwrap_or_default()
                ));
            }
        }
        for (name, on) in self.indexes() {
            if on_any(&on, labels, types) {
                self.q(&format!("DROP INDEX `{name}` IF EXISTS"));
            }
        }
        self.q(&format!(
            "MATCH (m:__NodestreamMigration__) WHERE m.name STARTS WITH '{prefix}' DELETE m"
        ));
    }

    /// Indexes that no constraint owns, as (name, labelsOrTypes); works on Neo4j 4.4 and 5.
    pub fn indexes(&self) -> Vec<(String, bolt::Value)> {
        let constraints: Vec<String> = self
            .q("SHOW CONSTRAINTS YIELD name RETURN name")
            .into_iter()
            .map(|r| r[0].as_str().unwrap_or_default().to_owned())
            .collect();
        self.q("SHOW INDEXES YIELD name, labelsOrTypes RETURN name, labelsOrTypes")
            .into_iter()
            .map(|r| (r[0].as_str().unwrap_or_default().to_owned(), r[1].clone()))
            .filter(|(name, _)| !constraints.contains(name))
            .collect()
    }

    /// (name, properties) of the indexes on exactly `label_or_type` that no constraint owns, by name.
    pub fn indexes_on(&self, label_or_type: &str) -> Vec<(String, Vec<String>)> {
        let own: Vec<String> = self.indexes().into_iter().map(|(n, _)| n).collect();
        let mut v: Vec<(String, Vec<String>)> = self
            .q(&format!(
                "SHOW INDEXES YIELD name, labelsOrTypes, properties WHERE labelsOrTypes = ['{label_or_type}'] RETURN name, properties"
            ))
            .into_iter()
            .map(|r| {
                let props = r[1].as_list().unwrap_or_default().iter().map(|v| v.as_str().unwrap_or_default().to_owned()).collect();
                (r[0].as_str().unwrap_or_default().to_owned(), props)
            })
            .filter(|(n, _)| own.contains(n))
            .collect();
        v.sort();
        v
    }

    /// Waits (up to `secs`) for a moment when nobody holds the migration lock; false if it never happens.
    pub fn lock_becomes_free(&self, secs: u64) -> bool {
        let until = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        while std::time::Instant::now() < until {
            if self.value("MATCH (l:__NodestreamMigrationLock__) RETURN count(l)")
                == bolt::Value::Integer(0)
            {
                return true;
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        false
    }
}

fn on_any(v: &bolt::Value, labels: &[&str], types: &[&str]) -> bool {
    v.as_list().is_some_and(|l| {
        l.iter().any(|x| {
            x.as_str()
                .is_some_and(|s| labels.contains(&s) || types.contains(&s))
        })
    })
}

/// A throw-away project whose target `t` is the test server.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    /// A project with target `t` (extra target settings appended) and no pipelines.
    pub fn new(extra_target_yaml: &str) -> Project {
        let dir = tempfile::tempdir().unwrap();
        let src = format!(
            "targets:\n  t:\n    database: neo4j\n    uri: {}\n    username: neo4j\n    password: {}\n{extra_target_yaml}",
            uri(),
            password()
        );
        std::fs::write(dir.path().join("nodestream.yaml"), src).unwrap();
        std::fs::create_dir_all(dir.path().join("migrations")).unwrap();
        Project { dir }
    }

    /// The project file.
    pub fn file(&self) -> PathBuf {
        self.dir.path().join("nodestream.yaml")
    }

    /// The migrations directory.
    pub fn migrations(&self) -> PathBuf {
        self.dir.path().join("migrations")
    }

    /// Writes `migrations/<name>.yaml`.
    pub fn migration(&self, name: &str, text: &str) {
        std::fs::write(self.migrations().join(format!("{name}.yaml")), text).unwrap();
    }

    /// Runs our binary with `args` and `-p <project file>`, from the project directory.
    pub fn rust(&self, args: &[&str]) -> Output {
        let mut all: Vec<&str> = args.to_vec();
        let file = self.file();
        all.extend(["-p", file.to_str().unwrap()]);
        run(Command::new(env!("CARGO_BIN_EXE_nodestream"))
            .args(&all)
            .current_dir(self.dir.path()))
    }

    /// Runs Python Nodestream 0.16 with `args`, from the project directory.
    pub fn python(&self, args: &[&str]) -> Output {
        let venv = python_venv();
        run(Command::new(venv.join("bin/nodestream"))
            .args(args)
            .current_dir(self.dir.path()))
    }
}

fn run(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"))
}

/// The Python venv (`NODESTREAM_PY_VENV`, else `scripts/python-env`).
pub fn python_venv() -> PathBuf {
    if let Ok(v) = std::env::var("NODESTREAM_PY_VENV") {
        return PathBuf::from(v);
    }
    let out = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/python-env"))
        .output()
        .expect("scripts/python-env runs");
    assert!(
        out.status.success(),
        "scripts/python-env failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}

/// stdout and stderr as text, for messages.
pub fn text(o: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Panics with both streams unless the command succeeded.
pub fn ok(o: &Output) -> String {
    let (out, err) = text(o);
    assert!(
        o.status.success(),
        "command failed ({}):\nstdout:\n{out}\nstderr:\n{err}",
        o.status
    );
    out
}
