//! The project's Neo4j script works end to end against the server the test command started.

use std::process::Command;

fn script(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/neo4j"))
        .args(args)
        .output()
        .expect("scripts/neo4j runs");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn status_reports_neo4j_and_apoc_through_the_server() {
    let (ok, out, err) = script(&["status", "--name", "test"]);
    assert!(ok, "status failed: {err}");
    assert!(
        out.contains("\"neo4j\": \"Neo4j Kernel 5.26"),
        "unexpected status: {out}"
    );
    assert!(
        out.contains("\"apoc\": \"5.26"),
        "APOC missing from status: {out}"
    );
}

#[test]
fn start_is_idempotent_and_prints_the_same_uri() {
    let (ok, first, err) = script(&["start", "--name", "test", "--port", "7697"]);
    assert!(ok, "start failed: {err}");
    assert_eq!(first.trim(), "bolt://127.0.0.1:7697");
    let (ok, again, _) = script(&["uri", "--name", "test"]);
    assert!(ok);
    assert_eq!(again.trim(), first.trim());
}

#[test]
fn status_of_a_stopped_instance_fails_with_a_clear_message() {
    let (ok, _, err) = script(&["status", "--name", "never-started"]);
    assert!(!ok);
    assert!(
        err.contains("instance 'never-started' is not running"),
        "{err}"
    );
}
