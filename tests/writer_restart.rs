//! The server stops in the middle of a load: the run fails clearly (or finishes, if it was faster), and a re-run
//! after the restart leaves the same graph as a clean load. Uses its own Neo4j instance (`writer-restart`), since
//! stopping the shared test server would break the other tests.

mod writer_support;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use writer_support::data::{airports_pipeline, write_airports_csv};
use writer_support::{Project, cypher_on, password, text};

fn neo4j(args: &[&str]) -> String {
    let out = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/neo4j"))
        .args(args)
        .output()
        .expect("scripts/neo4j runs");
    assert!(
        out.status.success(),
        "scripts/neo4j {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn a_load_survives_a_server_restart_by_rerunning() {
    let uri = neo4j(&["start", "--name", "writer-restart", "--port", "7711"]);
    let p = "WrRestart";
    cypher_on(
        &uri,
        &[&format!(
            "MATCH (n) WHERE any(l IN labels(n) WHERE l STARTS WITH '{p}') DETACH DELETE n"
        )],
    );
    let mut proj = Project::new();
    let csv = proj.path("airports.csv");
    let e = write_airports_csv(&csv, 20_000).unwrap();
    proj.pipeline("airports", &airports_pipeline(p, &csv));
    proj.target(
        "db",
        &uri,
        &password(),
        "    max_retry_attempts: 2\n    retry_factor: 0.5\n",
    );
    let project = proj.write();
    let child = Command::new(env!("CARGO_BIN_EXE_nodestream"))
        .args([
            "run",
            "airports",
            "-t",
            "db",
            "-p",
            project.to_str().unwrap(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nodestream starts");
    std::thread::sleep(Duration::from_secs(2));
    neo4j(&["stop", "--name", "writer-restart"]);
    let started = Instant::now();
    let out = child.wait_with_output().expect("nodestream finishes");
    let t = text(&out);
    assert!(
        started.elapsed() < Duration::from_secs(120),
        "the run hung after the server stopped: {t}"
    );
    if !out.status.success() {
        assert!(
            t.contains("target 'db'") || t.contains("7711"),
            "unclear error: {t}"
        );
    }
    let uri = neo4j(&["start", "--name", "writer-restart", "--port", "7711"]);
    let out = proj.run("airports", "db", &[]);
    assert!(out.status.success(), "re-run: {}", text(&out));
    let r = cypher_on(
        &uri,
        &[
            &format!(
                "MATCH (a:{p}Airport) RETURN count(a) AS c, count(DISTINCT a.identifier) AS d"
            ),
            &format!("MATCH (a:{p}Country) RETURN count(a) AS c, count(DISTINCT a.code) AS d"),
            &format!("MATCH (a:{p}Region) RETURN count(a) AS c, count(DISTINCT a.code) AS d"),
            &format!(
                "MATCH (a)-[r:{p}WITHIN]->(b) RETURN count(r) AS c, count(DISTINCT [id(a), id(b)]) AS d"
            ),
        ],
    );
    for (i, want) in [e.airports, e.countries, e.regions, e.within]
        .into_iter()
        .enumerate()
    {
        assert_eq!(
            r[i][0]["c"].as_i64(),
            Some(want as i64),
            "query {i}: {:?}",
            r[i]
        );
        assert_eq!(
            r[i][0]["d"].as_i64(),
            Some(want as i64),
            "duplicates in query {i}: {:?}",
            r[i]
        );
    }
    cypher_on(
        &uri,
        &[&format!(
            "MATCH (n) WHERE any(l IN labels(n) WHERE l STARTS WITH '{p}') DETACH DELETE n"
        )],
    );
    neo4j(&["stop", "--name", "writer-restart"]);
}
