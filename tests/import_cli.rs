//! `nodestream import` against a real Neo4j: the graph after `import` equals the graph after `run` of the same
//! project (every label, property with its type, relationship with its properties, dumped through Bolt), a
//! running server is refused, and a failure mid-stream leaves the old database as it was.
//!
//! The tests use their own instance (`NODESTREAM_TEST_IMPORT_NAME`, default `imptest`, on
//! `NODESTREAM_TEST_IMPORT_PORT`, default 7699), started and stopped through `scripts/neo4j`.

mod writer_support;

use serde_json::Value as Json;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Mutex;
use writer_support::{cypher_on, text};

/// One instance, so one test at a time.
static SERVER: Mutex<()> = Mutex::new(());

fn name() -> String {
    std::env::var("NODESTREAM_TEST_IMPORT_NAME").unwrap_or_else(|_| "imptest".into())
}

fn port() -> String {
    std::env::var("NODESTREAM_TEST_IMPORT_PORT").unwrap_or_else(|_| "7699".into())
}

fn script(args: &[&str]) -> String {
    let out = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/neo4j"))
        .args(args)
        .args(["--name", &name()])
        .env(
            "NEO4J_HEAP",
            std::env::var("NEO4J_HEAP").unwrap_or("768m".into()),
        )
        .env(
            "NEO4J_PAGECACHE",
            std::env::var("NEO4J_PAGECACHE").unwrap_or("256m".into()),
        )
        .output()
        .expect("scripts/neo4j runs");
    assert!(
        out.status.success(),
        "scripts/neo4j {args:?}: {}",
        text(&out)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn start() -> String {
    let p = port();
    let out = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/neo4j"))
        .args(["start", "--name", &name(), "--port", &p])
        .output()
        .expect("scripts/neo4j runs");
    assert!(out.status.success(), "start: {}", text(&out));
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn stop() {
    script(&["stop"]);
}

fn home() -> String {
    script(&["home"])
}

fn wipe(uri: &str) {
    cypher_on(uri, &["MATCH (n) DETACH DELETE n"]);
}

fn nodestream(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_nodestream"));
    c.current_dir(dir).args(args);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("nodestream runs")
}

/// Timestamps differ between two loads: keep their presence and type, not their value.
fn normalize(props: &Json) -> BTreeMap<String, Json> {
    let mut m = BTreeMap::new();
    if let Json::Object(o) = props {
        for (k, v) in o {
            let ts = k == "last_ingested_at"
                || k == "first_ingested_at"
                || (k.starts_with("last_ingested_by_") && k.ends_with("_at"));
            m.insert(
                k.clone(),
                if ts {
                    Json::String("<ts>".into())
                } else {
                    v.clone()
                },
            );
        }
    }
    m
}

fn sorted(v: &Json) -> Vec<String> {
    let mut l: Vec<String> = v
        .as_array()
        .map(|a| {
            a.iter()
                .map(|x| x.as_str().unwrap_or("?").to_string())
                .collect()
        })
        .unwrap_or_default();
    l.sort();
    l
}

/// Every node and relationship, canonical and sorted.
fn dump(uri: &str) -> Vec<String> {
    let r = cypher_on(
        uri,
        &[
            "MATCH (n) RETURN labels(n) AS labels, properties(n) AS props, [k IN keys(n) | k + ':' + valueType(n[k])] AS types",
            "MATCH (a)-[r]->(b) RETURN type(r) AS type, properties(r) AS props, [k IN keys(r) | k + ':' + valueType(r[k])] AS types, labels(a) AS al, properties(a) AS ap, labels(b) AS bl, properties(b) AS bp",
        ],
    );
    let mut out = Vec::new();
    for n in &r[0] {
        out.push(format!(
            "node {:?} {} {:?}",
            sorted(&n["labels"]),
            serde_json::to_string(&normalize(&n["props"])).unwrap(),
            sorted(&n["types"])
        ));
    }
    for x in &r[1] {
        out.push(format!(
            "rel {} {} {:?} from {:?} {} to {:?} {}",
            x["type"],
            serde_json::to_string(&normalize(&x["props"])).unwrap(),
            sorted(&x["types"]),
            sorted(&x["al"]),
            serde_json::to_string(&normalize(&x["ap"])).unwrap(),
            sorted(&x["bl"]),
            serde_json::to_string(&normalize(&x["bp"])).unwrap(),
        ));
    }
    out.sort();
    out
}

/// `run` into the instance, dump; stop, `import --overwrite`, start, dump; both dumps must be equal.
fn run_then_import(dir: &Path, run: &[&str], import: &[&str], env: &[(&str, &str)]) -> Vec<String> {
    let uri = start();
    wipe(&uri);
    let mut env: Vec<(&str, &str)> = env.to_vec();
    env.push(("NEO4J_CONNECT_URI", &uri));
    let out = nodestream(dir, run, &env);
    assert!(out.status.success(), "run: {}", text(&out));
    let online = dump(&uri);
    assert!(!online.is_empty());
    stop();
    let h = home();
    let mut args = import.to_vec();
    args.extend(["--neo4j-home", &h, "--overwrite"]);
    let out = nodestream(dir, &args, &env);
    assert!(out.status.success(), "import: {}", text(&out));
    let uri = start();
    let offline = dump(&uri);
    if online != offline {
        let only_online: Vec<_> = online
            .iter()
            .filter(|x| !offline.contains(x))
            .take(5)
            .collect();
        let only_offline: Vec<_> = offline
            .iter()
            .filter(|x| !online.contains(x))
            .take(5)
            .collect();
        panic!(
            "graphs differ ({} vs {} objects)\nonly after run: {only_online:#?}\nonly after import: {only_offline:#?}\nimport output: {}",
            online.len(),
            offline.len(),
            text(&out)
        );
    }
    online
}

#[test]
fn airports_import_equals_run() {
    let _g = SERVER.lock().unwrap_or_else(|e| e.into_inner());
    let dir = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/examples/airports"));
    let graph = run_then_import(
        &dir,
        &["run", "airports", "fifa", "-t", "my-creation-ts-db"],
        &["import", "airports", "fifa", "-t", "my-creation-ts-db"],
        &[],
    );
    assert!(graph.iter().any(|l| l.contains("first_ingested_at")));
    assert!(graph.iter().any(|l| l.starts_with("rel \"WITHIN\"")));
}

const PEOPLE: &str = r#"
- implementation: nodestream.pipeline.extractors:FileExtractor
  factory: local
  arguments:
    globs: [DATA]
- implementation: nodestream.interpreting:Interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: Person
        key:
          first: !jmespath first
          last: !jmespath last
        properties:
          age: !jmespath age
          score: !jmespath score
          active: !jmespath active
          tags: !jmespath tags
          nums: !jmespath nums
          weights: !jmespath weights
          flags: !jmespath flags
          note: !jmespath note
          nickname: !jmespath nickname
          email: !jmespath email
          level: !cast {data: !jmespath level, to: int}
        additional_types: [LABEL]
      - type: relationship
        node_type: Company
        relationship_type: WORKS_AT
        node_key:
          name: !jmespath company
        relationship_key:
          role: !jmespath role
        relationship_properties:
          since: !jmespath since
      - type: relationship
        node_type: City
        relationship_type: LIVES_IN
        node_key:
          code: !jmespath city
        node_creation_rule: MATCH_ONLY
      - type: relationship
        node_type: City
        relationship_type: VISITED
        node_key:
          code: !jmespath visit
        node_creation_rule: MATCH_ONLY
        relationship_creation_rule: CREATE
"#;

const CITIES: &str = r#"
- implementation: nodestream.pipeline.extractors:FileExtractor
  factory: local
  arguments:
    globs: [cities.jsonl]
- implementation: nodestream.interpreting:Interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: City
        key:
          code: !jmespath code
        properties:
          name: !jmespath name
          pop: !jmespath pop
"#;

const UPDATES: &str = r#"
- implementation: nodestream.pipeline.extractors:FileExtractor
  factory: local
  arguments:
    globs: [updates.jsonl]
- implementation: nodestream.interpreting:Interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: Person
        allow_create: false
        key:
          first: !jmespath first
          last: !jmespath last
        properties:
          vip: !jmespath vip
"#;

/// A project with multi-key nodes, relationship keys, additional labels, MATCH_ONLY nodes and endpoints,
/// CREATE relationships, one node in several files with different properties, and values of every type.
fn own_project(dir: &Path, bad_line: bool) {
    let w = |name: &str, text: &str| std::fs::write(dir.join(name), text).unwrap();
    w("cities.yaml", CITIES);
    w(
        "people.yaml",
        &PEOPLE
            .replace("DATA", "people.jsonl")
            .replace("LABEL", "Human"),
    );
    w(
        "people2.yaml",
        &PEOPLE
            .replace("DATA", "people2.jsonl")
            .replace("LABEL", "Employee"),
    );
    w("updates.yaml", UPDATES);
    w(
        "nodestream.yaml",
        "scopes:\n  default:\n    pipelines:\n      - {path: cities.yaml, name: cities}\n      - {path: people.yaml, name: people}\n      - {path: people2.yaml, name: people2}\n      - {path: updates.yaml, name: updates}\ntargets:\n  t:\n    database: neo4j\n    uri: !env NEO4J_CONNECT_URI\n    username: neo4j\n    password: password\n    _experimental_set_first_ingested_at: true\n",
    );
    let mut cities = String::new();
    for (i, c) in ["SEA", "PDX", "SFO", "LAX"].iter().enumerate() {
        cities +=
            &serde_json::json!({"code": c, "name": format!("City {c}"), "pop": 100_000 * (i + 1)})
                .to_string();
        cities.push('\n');
    }
    w("cities.jsonl", &cities);
    let notes = [
        "plain",
        "quote \" and, comma",
        "new\nline and \r\n crlf",
        " leading and trailing ",
        "back\\slash ünïcødé ✓",
        "",
    ];
    let mut people = String::new();
    let mut people2 = String::new();
    for i in 0..300 {
        let p = serde_json::json!({
            "first": format!("F{}", i % 120),
            "last": format!("L{}", i % 7),
            "age": 20 + i,
            "score": (i as f64) * 0.5 - 3.25,
            "active": i % 2 == 0,
            "tags": [format!("t{}", i % 3), "x"],
            "nums": [i, 9_007_199_254_740_993_i64, -1],
            "weights": [1e-7, 1e300, -0.5],
            "flags": [true, i % 3 == 0],
            "note": notes[i % notes.len()],
            "nickname": if i % 4 == 0 { Json::Null } else { Json::String(format!("n{i}")) },
            "company": format!("C{}", i % 5),
            "role": if i % 2 == 0 { "dev" } else { "ops" },
            "since": 2000 + (i % 20),
            "level": format!("{}", i % 9),
            "city": (["SEA", "PDX", "NOPE", "SFO"])[i % 4],
            "visit": (["LAX", "SEA", "ZZZ"])[i % 3],
        });
        people += &p.to_string();
        people.push('\n');
        if bad_line && i == 150 {
            // `int("seven")` fails the pipeline mid-stream.
            people +=
                &serde_json::json!({"first": "Bad", "last": "Row", "level": "seven"}).to_string();
            people.push('\n');
        }
        if i % 3 == 0 {
            let q = serde_json::json!({
                "first": format!("F{}", i % 120),
                "last": format!("L{}", i % 7),
                "age": 1000 + i,
                "email": format!("p{i}@example.com"),
                "nickname": Json::Null,
                "company": format!("C{}", i % 5),
                "role": if i % 2 == 0 { "dev" } else { "lead" },
                "since": 3000 + i,
                "level": "3",
                "city": "PDX",
                "visit": "LAX",
            });
            people2 += &q.to_string();
            people2.push('\n');
        }
    }
    w("people.jsonl", &people);
    w("people2.jsonl", &people2);
    let mut updates = String::new();
    for i in (0..200).step_by(10) {
        updates += &serde_json::json!({"first": format!("F{i}"), "last": format!("L{}", i % 7), "vip": true}).to_string();
        updates.push('\n');
    }
    w("updates.jsonl", &updates);
}

#[test]
fn own_project_import_equals_run() {
    let _g = SERVER.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    own_project(dir.path(), false);
    let graph = run_then_import(dir.path(), &["run", "-t", "t"], &["import", "-t", "t"], &[]);
    for want in [
        "Employee",
        "Human",
        "vip",
        "WORKS_AT",
        "LIVES_IN",
        "VISITED",
        "FLOAT NOT NULL",
        "INTEGER NOT NULL",
        "BOOLEAN NOT NULL",
        "ZONED DATETIME NOT NULL",
        "level:INTEGER",
        "first_ingested_at",
    ] {
        assert!(
            graph.iter().any(|l| l.contains(want)),
            "no {want} in the graph"
        );
    }
    // Nothing creates NOPE or ZZZ: those relationships are dropped both ways.
    assert!(
        !graph
            .iter()
            .any(|l| l.contains("NOPE") || l.contains("ZZZ"))
    );
}

fn counts(uri: &str) -> (i64, i64) {
    let r = cypher_on(
        uri,
        &[
            "MATCH (n) RETURN count(n) AS n",
            "MATCH ()-[r]->() RETURN count(r) AS r",
        ],
    );
    (
        r[0][0]["n"].as_i64().unwrap_or(-1),
        r[1][0]["r"].as_i64().unwrap_or(-1),
    )
}

#[test]
fn refuses_a_running_server_and_keeps_the_old_database_on_failure() {
    let _g = SERVER.lock().unwrap_or_else(|e| e.into_inner());
    let dir = tempfile::tempdir().unwrap();
    own_project(dir.path(), false);
    let uri = start();
    wipe(&uri);
    cypher_on(
        &uri,
        &["UNWIND range(1, 42) AS i CREATE (:Old {i: i})-[:KEEP]->(:Old {i: -i})"],
    );
    let before = counts(&uri);
    assert_eq!(before, (84, 42));
    let h = home();
    // Running: refused, nothing changed.
    let out = nodestream(
        dir.path(),
        &["import", "--neo4j-home", &h, "--overwrite"],
        &[],
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("is running"), "{}", text(&out));
    assert_eq!(counts(&uri), before);
    stop();
    // Data and no --overwrite: refused.
    let out = nodestream(dir.path(), &["import", "--neo4j-home", &h], &[]);
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("--overwrite"), "{}", text(&out));
    // Bad input mid-stream: the import fails and the old database is left as it was.
    let bad = tempfile::tempdir().unwrap();
    own_project(bad.path(), true);
    let out = nodestream(
        bad.path(),
        &["import", "--neo4j-home", &h, "--overwrite"],
        &[],
    );
    assert!(!out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("people"), "{}", text(&out));
    let uri = start();
    assert_eq!(counts(&uri), before);
    // --files-only writes files and prints the command, touching no database.
    stop();
    let files = tempfile::tempdir().unwrap();
    let f = files.path().to_str().unwrap();
    let out = nodestream(
        dir.path(),
        &["import", "--files-only", f, "--neo4j-home", &h],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("database import full"),
        "{}",
        text(&out)
    );
    assert!(std::fs::read_dir(files.path()).unwrap().count() > 4);
    let uri = start();
    assert_eq!(counts(&uri), before);
}
