//! Shared helpers of the writer's end-to-end tests: the server under test, Cypher through the official Python
//! driver (independent of our client), generated projects, and running the built `nodestream` binary.
#![allow(dead_code)]

pub mod data;

use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The Bolt URI of the test server; the tests fail (not skip) without it.
pub fn uri() -> String {
    std::env::var("NODESTREAM_TEST_URI")
        .expect("NODESTREAM_TEST_URI must point at the test Neo4j (scripts/test sets it)")
}

/// The second test server (scripts/test starts it), if any.
pub fn uri2() -> Option<String> {
    std::env::var("NODESTREAM_TEST_URI2").ok()
}

/// The test password.
pub fn password() -> String {
    std::env::var("NODESTREAM_TEST_PASSWORD").unwrap_or_else(|_| "password".into())
}

fn python() -> PathBuf {
    let venv = match std::env::var("NODESTREAM_PY_VENV") {
        Ok(v) => v,
        Err(_) => {
            let out = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/python-env"))
                .output()
                .expect("scripts/python-env runs");
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        }
    };
    Path::new(&venv).join("bin/python")
}

const CYPHER_PY: &str = r#"
import json, sys
from neo4j import GraphDatabase
uri, password = sys.argv[1], sys.argv[2]
queries = json.load(sys.stdin)
out = []
with GraphDatabase.driver(uri, auth=("neo4j", password)) as driver:
    for q in queries:
        records, _, _ = driver.execute_query(q["q"], q.get("p", {}), database_="neo4j")
        out.append([r.data() for r in records])
print(json.dumps(out, default=str))
"#;

/// Runs each query (in order, each its own transaction) on `uri` and returns every row as a JSON map.
pub fn cypher_on(uri: &str, queries: &[&str]) -> Vec<Vec<serde_json::Map<String, Json>>> {
    let input: Vec<Json> = queries
        .iter()
        .map(|q| serde_json::json!({"q": q}))
        .collect();
    let mut child = Command::new(python())
        .args(["-c", CYPHER_PY, uri, &password()])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python runs");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(serde_json::to_string(&input).unwrap().as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().expect("python finishes");
    assert!(
        out.status.success(),
        "cypher failed: {}\nqueries: {queries:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: Vec<Vec<serde_json::Map<String, Json>>> =
        serde_json::from_slice(&out.stdout).expect("json from the cypher helper");
    v
}

/// [`cypher_on`] against the main test server.
pub fn cypher(queries: &[&str]) -> Vec<Vec<serde_json::Map<String, Json>>> {
    cypher_on(&uri(), queries)
}

/// The single integer a `RETURN count(...) AS c` query gives.
pub fn count(q: &str) -> i64 {
    let rows = cypher(&[q]);
    rows[0][0]["c"]
        .as_i64()
        .unwrap_or_else(|| panic!("no count from {q}: {rows:?}"))
}

/// Deletes everything with one of `labels` (nodes) — tests only clean what they created.
pub fn clean(prefix: &str) {
    // Labels and types of a test all start with its prefix.
    cypher(&[&format!(
        "CALL apoc.periodic.iterate('MATCH (n) WHERE any(l IN labels(n) WHERE l STARTS WITH \"{prefix}\") RETURN n', 'DETACH DELETE n', {{batchSize: 5000}})"
    )]);
}

/// A project in a temporary directory.
pub struct Project {
    pub dir: tempfile::TempDir,
    pipelines: Vec<(String, String)>,
    targets: Vec<(String, String)>,
}

impl Project {
    /// An empty project.
    pub fn new() -> Project {
        Project {
            dir: tempfile::tempdir().expect("tempdir"),
            pipelines: vec![],
            targets: vec![],
        }
    }

    /// A path inside the project.
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Adds a pipeline file.
    pub fn pipeline(&mut self, name: &str, yaml: &str) -> &mut Self {
        let file = format!("{name}.yaml");
        std::fs::write(self.path(&file), yaml).expect("write pipeline");
        self.pipelines.push((name.into(), file));
        self
    }

    /// Adds a Neo4j target with extra YAML lines (`key: value`, already indented by 4).
    pub fn target(&mut self, name: &str, uri: &str, password: &str, extra: &str) -> &mut Self {
        self.targets.push((
            name.into(),
            format!("    database: neo4j\n    uri: {uri}\n    username: neo4j\n    password: {password}\n{extra}"),
        ));
        self
    }

    /// Writes `nodestream.yaml`.
    pub fn write(&self) -> PathBuf {
        let mut y = String::from("scopes:\n  default:\n    pipelines:\n");
        for (name, file) in &self.pipelines {
            y += &format!(
                "      - path: {}\n        name: {name}\n",
                self.path(file).display()
            );
        }
        y += "targets:\n";
        for (name, body) in &self.targets {
            y += &format!("  {name}:\n{body}");
        }
        let p = self.path("nodestream.yaml");
        std::fs::write(&p, y).expect("write project");
        p
    }

    /// Runs `nodestream run <pipeline> -t <target> [extra...]` with the built binary.
    pub fn run(&self, pipeline: &str, target: &str, extra: &[&str]) -> Output {
        let project = self.write();
        Command::new(env!("CARGO_BIN_EXE_nodestream"))
            .current_dir(self.dir.path())
            .arg("run")
            .arg(pipeline)
            .args(["-p", project.to_str().unwrap(), "-t", target])
            .args(extra)
            .output()
            .expect("nodestream runs")
    }
}

/// stdout + stderr of a run, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}
