//! Helpers of the `copy` end-to-end tests: two servers, Cypher through the official Python driver (independent
//! of our client), the §8.6 seed graph under per-test labels, projects, and graph dumps to compare.
#![allow(dead_code)]

use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// The source server (tests fail, not skip, without it).
pub fn uri() -> String {
    std::env::var("NODESTREAM_TEST_URI")
        .expect("NODESTREAM_TEST_URI must point at the source test Neo4j (scripts/test sets it)")
}

/// The destination server.
pub fn uri2() -> String {
    std::env::var("NODESTREAM_TEST_URI2")
        .expect("NODESTREAM_TEST_URI2 must point at the second test Neo4j (scripts/test sets it)")
}

/// The test password.
pub fn password() -> String {
    std::env::var("NODESTREAM_TEST_PASSWORD").unwrap_or_else(|_| "password".into())
}

/// The repository root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The venv's Python (official driver, Python Nodestream).
pub fn python() -> PathBuf {
    let out = Command::new(root().join("scripts/python-env"))
        .output()
        .expect("scripts/python-env runs");
    Path::new(String::from_utf8_lossy(&out.stdout).trim()).join("bin/python")
}

const CYPHER_PY: &str = r#"
import json, sys
from neo4j import GraphDatabase
uri, password = sys.argv[1], sys.argv[2]
queries = json.load(sys.stdin)
out = []
with GraphDatabase.driver(uri, auth=("neo4j", password)) as driver:
    for q in queries:
        # Auto-commit, so that CALL { … } IN TRANSACTIONS works.
        with driver.session(database="neo4j") as session:
            out.append([r.data() for r in session.run(q)])
print(json.dumps(out, default=str, sort_keys=True))
"#;

/// Runs each query (own transaction each) and returns the rows as JSON maps (temporal values as strings).
pub fn cypher(uri: &str, queries: &[String]) -> Vec<Vec<serde_json::Map<String, Json>>> {
    let mut child = Command::new(python())
        .args(["-c", CYPHER_PY, uri, &password()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python runs");
    {
        use std::io::Write;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin
            .write_all(serde_json::to_string(queries).unwrap().as_bytes())
            .unwrap();
    }
    let out = child.wait_with_output().expect("python finishes");
    assert!(
        out.status.success(),
        "cypher on {uri} failed: {}\nqueries: {queries:?}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("json from the cypher helper")
}

/// The integer of `RETURN … AS c`.
pub fn count(uri: &str, q: &str) -> i64 {
    let rows = cypher(uri, &[q.to_string()]);
    rows[0][0]["c"]
        .as_i64()
        .unwrap_or_else(|| panic!("no count from {q}: {rows:?}"))
}

/// Deletes every node whose labels start with `prefix` (tests only clean what they created).
pub fn clean(uri: &str, prefix: &str) {
    cypher(
        uri,
        &[format!(
            "MATCH (n) WHERE any(l IN labels(n) WHERE l STARTS WITH '{prefix}') \
             CALL (n) {{ DETACH DELETE n }} IN TRANSACTIONS OF 5000 ROWS"
        )],
    );
}

/// Label and type names of one test: `<prefix>Person`, `<prefix>WORKS_AT`, ...
pub struct Names {
    pub prefix: String,
}

impl Names {
    pub fn new(prefix: &str) -> Names {
        Names {
            prefix: prefix.into(),
        }
    }
    pub fn n(&self, s: &str) -> String {
        format!("{}{s}", self.prefix)
    }
}

/// Seeds spec §8.6's graph (people, companies, WORKS_AT; extra labels; lists, floats, booleans, datetimes) plus
/// cities and LOCATED_IN (company → city i % cities + 1) for the filter tests.
pub fn seed(uri: &str, t: &Names, people: i64, companies: i64, cities: i64) {
    let (person, company, city) = (t.n("Person"), t.n("Company"), t.n("City"));
    let (employee, contractor, vendor) = (t.n("Employee"), t.n("Contractor"), t.n("Vendor"));
    let (works, located) = (t.n("WORKS_AT"), t.n("LOCATED_IN"));
    cypher(
        uri,
        &[
            format!(
                "UNWIND range(1, {people}) AS i CREATE (p:{person} {{id: i, name: 'p' + i, age: i, active: i % 2 = 0, \
                 tags: ['t' + i, 'common'], scores: [i, i + 1], created_at: datetime()}}) \
                 FOREACH (_ IN CASE WHEN i % 2 = 0 THEN [1] ELSE [] END | SET p:{employee}) \
                 FOREACH (_ IN CASE WHEN i % 3 = 0 THEN [1] ELSE [] END | SET p:{contractor})"
            ),
            format!(
                "UNWIND range(1, {companies}) AS i CREATE (c:{company} {{id: i, name: 'c' + i, rating: toFloat(i), \
                 categories: ['catA', 'catB']}}) \
                 FOREACH (_ IN CASE WHEN i % 2 = 1 THEN [1] ELSE [] END | SET c:{vendor})"
            ),
            format!(
                "UNWIND range(1, {cities}) AS i CREATE (:{city} {{name: 'city' + i, population: i * 1000}})"
            ),
            format!(
                "MATCH (p:{person}) WHERE p.id % 2 = 0 MATCH (c:{company}) \
                 CREATE (p)-[:{works} {{since: 2020, last_ingested_at: datetime()}}]->(c)"
            ),
            format!(
                "MATCH (c:{company}) MATCH (t:{city} {{name: 'city' + (c.id % {cities} + 1)}}) \
                 CREATE (c)-[:{located} {{primary: true, share: 0.5}}]->(t)"
            ),
        ],
    );
}

/// The pipeline whose interpreter declares the seed's schema: Person(id) -WORKS_AT-> Company(id),
/// Company(id) -LOCATED_IN-> City(name). It extracts nothing; `copy` only reads its schema.
pub fn schema_pipeline(t: &Names) -> String {
    format!(
        r#"- implementation: nodestream.pipeline:IterableExtractor
  arguments:
    iterable: []
- implementation: nodestream.interpreting:Interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: {person}
        key:
          id: !jmespath id
      - type: relationship
        node_type: {company}
        relationship_type: {works}
        node_key:
          id: !jmespath company
- implementation: nodestream.interpreting:Interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: {company}
        key:
          id: !jmespath id
      - type: relationship
        node_type: {city}
        relationship_type: {located}
        node_key:
          name: !jmespath city
"#,
        person = t.n("Person"),
        company = t.n("Company"),
        city = t.n("City"),
        works = t.n("WORKS_AT"),
        located = t.n("LOCATED_IN"),
    )
}

/// A project directory with a source and a destination target and the schema pipeline.
pub struct Project {
    pub dir: tempfile::TempDir,
}

impl Project {
    pub fn new(t: &Names, from_uri: &str, to_uri: &str, to_extra: &str) -> Project {
        let dir = tempfile::tempdir().expect("tempdir");
        let pipeline = dir.path().join("schema.yaml");
        std::fs::write(&pipeline, schema_pipeline(t)).unwrap();
        let pw = password();
        let y = format!(
            "scopes:\n  default:\n    pipelines:\n      - path: {}\n        name: schema\n\
             targets:\n  src:\n    database: neo4j\n    uri: {from_uri}\n    username: neo4j\n    password: {pw}\n\
             \x20 dst:\n    database: neo4j\n    uri: {to_uri}\n    username: neo4j\n    password: {pw}\n{to_extra}",
            pipeline.display()
        );
        std::fs::write(dir.path().join("nodestream.yaml"), y).unwrap();
        Project { dir }
    }

    /// A `nodestream copy` command in the project directory (stdin not a terminal).
    pub fn command(&self, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_nodestream"));
        c.current_dir(self.dir.path())
            .arg("copy")
            .args(args)
            .stdin(Stdio::null());
        c
    }

    /// Runs `nodestream copy args…`.
    pub fn copy(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("nodestream runs")
    }
}

/// stdout + stderr, for assertion messages.
pub fn text(out: &Output) -> String {
    format!(
        "status {:?}\n--- stdout\n{}\n--- stderr\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Every node with a label of this test (sorted labels + all properties) and every relationship between them
/// (type, endpoint labels and identity, properties), sorted: two graphs are equal iff their dumps are.
pub fn dump(uri: &str, t: &Names) -> (Vec<String>, Vec<String>) {
    let p = &t.prefix;
    let rows = cypher(
        uri,
        &[
            format!(
                "MATCH (n) WHERE any(l IN labels(n) WHERE l STARTS WITH '{p}') \
                 WITH n, apoc.coll.sort(labels(n)) AS labels \
                 RETURN labels, properties(n) AS props, \
                 [k IN apoc.coll.sort(keys(n)) | [k, apoc.meta.cypher.type(n[k])]] AS types"
            ),
            format!(
                "MATCH (a)-[r]->(b) WHERE type(r) STARTS WITH '{p}' \
                 RETURN type(r) AS type, apoc.coll.sort(labels(a)) AS a, coalesce(a.id, a.name) AS ak, \
                 apoc.coll.sort(labels(b)) AS b, coalesce(b.id, b.name) AS bk, properties(r) AS props, \
                 [k IN apoc.coll.sort(keys(r)) | [k, apoc.meta.cypher.type(r[k])]] AS types"
            ),
        ],
    );
    let mut nodes: Vec<String> = rows[0]
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    let mut rels: Vec<String> = rows[1]
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    nodes.sort();
    rels.sort();
    (nodes, rels)
}

/// Counts nodes with label `label` and relationships of type `rel` on `uri`.
pub fn counts(uri: &str, label: &str, rel: &str) -> (i64, i64) {
    (
        count(uri, &format!("MATCH (n:{label}) RETURN count(n) AS c")),
        count(uri, &format!("MATCH ()-[r:{rel}]->() RETURN count(r) AS c")),
    )
}

/// A graph without hub nodes: `people` Person(id, name, score) each working at `per_person` distinct companies
/// out of `companies` (Company(id, name)), relationships carrying `since` and a float `weight`.
pub fn seed_wide(uri: &str, t: &Names, people: i64, companies: i64, per_person: i64) {
    let (person, company, works) = (t.n("Person"), t.n("Company"), t.n("WORKS_AT"));
    let step = companies / per_person;
    cypher(
        uri,
        &[
            format!(
                "UNWIND range(1, {companies}) AS i CREATE (:{company} {{id: i, name: 'c' + i}})"
            ),
            format!(
                "UNWIND range(1, {people}) AS i CALL (i) {{ CREATE (:{person} {{id: i, name: 'p' + i, \
                 score: toFloat(i) / 3, tags: ['a', 'b']}}) }} IN TRANSACTIONS OF 10000 ROWS"
            ),
            format!(
                "MATCH (p:{person}) CALL (p) {{ UNWIND range(0, {per_person} - 1) AS j \
                 MATCH (c:{company} {{id: (p.id + j * {step}) % {companies} + 1}}) \
                 CREATE (p)-[:{works} {{since: 2000 + j, weight: j * 0.25}}]->(c) }} IN TRANSACTIONS OF 2000 ROWS"
            ),
        ],
    );
}
