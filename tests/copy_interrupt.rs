//! A copy interrupted by stopping the destination fails, and a re-run converges to the source's graph.
//! Uses its own pair of servers (started and stopped here, by name) so the shared ones are never stopped.

mod copy_support;

use copy_support::*;
use std::process::Command;
use std::time::{Duration, Instant};

const SRC: (&str, &str) = ("copyint-src", "7790");
const DST: (&str, &str) = ("copyint-dst", "7791");

fn neo4j(action: &str, (name, port): (&str, &str)) -> String {
    let mut c = Command::new(root().join("scripts/neo4j"));
    c.args([action, "--name", name]);
    if action == "start" {
        c.args(["--port", port]);
    }
    let out = c.output().expect("scripts/neo4j runs");
    assert!(
        out.status.success(),
        "scripts/neo4j {action} --name {name} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .trim()
        .to_string()
}

/// Stops the dedicated servers even when an assertion fails.
struct Servers;

impl Drop for Servers {
    fn drop(&mut self) {
        for s in [SRC, DST] {
            let _ = Command::new(root().join("scripts/neo4j"))
                .args(["stop", "--name", s.0])
                .output();
        }
    }
}

#[test]
fn interrupted_copy_converges_on_rerun() {
    let _guard = Servers;
    let src = neo4j("start", SRC);
    let dst = neo4j("start", DST);
    let t = Names::new("CpInt");
    clean(&src, &t.prefix);
    clean(&dst, &t.prefix);
    // 30 000 people, each working at 6 of 1 000 companies: 180 000 relationships.
    cypher(
        &src,
        &[format!(
            "CREATE INDEX {}c IF NOT EXISTS FOR (n:{}) ON (n.id)",
            t.prefix,
            t.n("Company")
        )],
    );
    seed_wide(&src, &t, 30_000, 1_000, 6);
    for (label, key) in [("Person", "id"), ("Company", "id"), ("City", "name")] {
        cypher(
            &dst,
            &[format!(
                "CREATE CONSTRAINT {p}{label}_key IF NOT EXISTS FOR (n:{p}{label}) REQUIRE n.{key} IS UNIQUE",
                p = t.prefix
            )],
        );
    }
    let p = Project::new(&t, &src, &dst, "");

    let child = p
        .command(&[
            "-f",
            "src",
            "-t",
            "dst",
            "--shard-size",
            "2000",
            "-c",
            "2",
            // One destination query at a time: the writer's overlapping flushes otherwise deadlock on hub nodes
            // (reported to the writer); the point here is the interruption.
            "--connector-option",
            "connection_semaphore_limit=1",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("nodestream runs");
    // Stop the destination once part of the graph has arrived.
    let works = t.n("WORKS_AT");
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let n = count(
            &dst,
            &format!("MATCH ()-[r:{works}]->() RETURN count(r) AS c"),
        );
        if n > 0 {
            assert!(
                n < 180_000,
                "the copy finished before it could be interrupted"
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "nothing arrived at the destination"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    neo4j("stop", DST);
    let out = child.wait_with_output().expect("copy ends");
    assert!(
        !out.status.success(),
        "the copy should fail when its destination stops:\n{}",
        text(&out)
    );

    neo4j("start", DST);
    let partial = count(
        &dst,
        &format!("MATCH ()-[r:{works}]->() RETURN count(r) AS c"),
    );
    assert!(partial < 180_000, "{partial}");
    let out = p.copy(&[
        "-f",
        "src",
        "-t",
        "dst",
        "-c",
        "2",
        "--connector-option",
        "connection_semaphore_limit=1",
    ]);
    assert!(out.status.success(), "re-run failed:\n{}", text(&out));
    assert_eq!(dump(&dst, &t), dump(&src, &t));
    assert_eq!(counts(&dst, &t.n("Person"), &works), (30_000, 180_000));
}
