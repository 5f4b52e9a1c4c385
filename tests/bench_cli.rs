//! `nodestream bench` against the real server (NODESTREAM_TEST_URI), through the binary: what landed matches what
//! the bench reports, the JSON keys, a sweep of two connection counts, cleanup, one-line connection errors, and
//! a pipeline of examples/. The database is read through the official Python driver (writer_support), not ours.

mod writer_support;

use serde_json::Value as Json;
use std::process::{Command, Output};
use std::sync::Mutex;
use writer_support::{count, cypher, password, uri};

/// The tests share the bench's labels: one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

fn bench(args: &[&str]) -> Output {
    bench_in(env!("CARGO_MANIFEST_DIR"), args)
}

fn bench_in(dir: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nodestream"))
        .current_dir(dir)
        .arg("bench")
        .args(["--uri", &uri(), "--password", &password()])
        // Other tests' data may be in the test database: the bench then only touches its own labels.
        .args(["--allow-existing-data", "--warmup", "0"])
        .args(args)
        .output()
        .expect("the binary runs")
}

fn json_lines(out: &Output) -> Vec<serde_json::Map<String, Json>> {
    assert!(
        out.status.success(),
        "bench failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| match serde_json::from_str::<Json>(l) {
            Ok(Json::Object(m)) => m,
            other => panic!("not a JSON object: {l} ({other:?})"),
        })
        .collect()
}

fn bench_nodes() -> i64 {
    count("MATCH (n) WHERE any(l IN labels(n) WHERE l STARTS WITH 'Bench') RETURN count(n) AS c")
}

/// What the database looks like, for "left as found": node and relationship counts, labels in use, indexes.
fn snapshot() -> (i64, i64, Vec<String>, Vec<String>) {
    let r = cypher(&[
        "MATCH (n) RETURN count(n) AS c",
        "MATCH ()-[r]->() RETURN count(r) AS c",
        "MATCH (n) UNWIND labels(n) AS l RETURN DISTINCT l AS name ORDER BY name",
        "SHOW INDEXES YIELD name RETURN name ORDER BY name",
    ]);
    let int = |i: usize| r[i][0]["c"].as_i64().unwrap_or(-1);
    let names = |i: usize| {
        r[i].iter()
            .filter_map(|row| row["name"].as_str().map(str::to_string))
            .collect::<Vec<_>>()
    };
    (int(0), int(1), names(2), names(3))
}

#[test]
fn counters_match_what_landed() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // airports, 3000 rows, 5 hubs: 3000 airports + 5 countries + 50 regions, 6000 relationships.
    let out = bench(&[
        "--shape",
        "airports",
        "--rows",
        "3000",
        "--hubs",
        "5",
        "--connections",
        "2",
        "--apoc",
        "off",
        "--json",
        "--keep-data",
        "--no-ceiling",
    ]);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 1);
    let j = &lines[0];
    assert_eq!(j["rows"], 3000);
    assert_eq!(j["nodes_created"], 3055);
    assert_eq!(j["relationships_created"], 6000);
    assert_eq!(j["failed_batches"], 0);
    assert_eq!(count("MATCH (n:BenchAirport) RETURN count(n) AS c"), 3000);
    assert_eq!(count("MATCH (n:BenchCountry) RETURN count(n) AS c"), 5);
    assert_eq!(count("MATCH (n:BenchRegion) RETURN count(n) AS c"), 50);
    assert_eq!(
        count("MATCH (:BenchAirport)-[r:BenchIN_COUNTRY|BenchIN_REGION]->() RETURN count(r) AS c"),
        6000
    );
    // The properties the bench sends: p0..p3, 16 characters of the zero-padded row number.
    let r = cypher(&["MATCH (n:BenchAirport {id: 'k7'}) RETURN n.p1 AS p1, n.p3 AS p3"]);
    assert_eq!(r[0][0]["p1"], "0000000000000029");
    assert_eq!(r[0][0]["p3"], "0000000000000031");
    // Each created node's key, and 4 properties per airport (the hubs get none).
    assert_eq!(j["properties_set"], 3055 + 12000);
    cypher(&[
        "MATCH (n) WHERE any(l IN labels(n) WHERE l STARTS WITH 'Bench') DETACH DELETE n",
        "DROP INDEX nodestream_bench_0 IF EXISTS",
        "DROP INDEX nodestream_bench_1 IF EXISTS",
        "DROP INDEX nodestream_bench_2 IF EXISTS",
    ]);

    // Through APOC the counters come from apoc.periodic.iterate's row: the same numbers.
    let out = bench(&[
        "--shape",
        "star",
        "--rows",
        "2000",
        "--hubs",
        "3",
        "--connections",
        "1",
        "--apoc",
        "on",
        "--json",
        "--no-ceiling",
        "--properties",
        "2",
        "--property-size",
        "0",
    ]);
    let j = &json_lines(&out)[0];
    assert_eq!(j["nodes_created"], 2003);
    assert_eq!(j["relationships_created"], 2000);
    assert_eq!(j["properties_set"], 2003 + 4000);
    assert_eq!(bench_nodes(), 0, "the bench deletes what it wrote");
}

#[test]
fn json_keys_and_a_sweep_of_two_connection_counts() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let before = snapshot();
    let dir = tempfile::tempdir().expect("a temp dir");
    let svg = dir.path().join("r.svg");
    let out = bench(&[
        "--shape",
        "chain",
        "--rows",
        "1500",
        "--connections",
        "1,2",
        "--batch-size",
        "500",
        "--apoc",
        "off",
        "--json",
        "--report",
        svg.to_str().unwrap_or_default(),
    ]);
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2);
    assert_eq!(
        lines
            .iter()
            .map(|j| j["connections"].as_u64())
            .collect::<Vec<_>>(),
        vec![Some(1), Some(2)]
    );
    for j in &lines {
        for k in [
            "shape",
            "rows",
            "connections",
            "batch_size",
            "apoc",
            "seconds",
            "rows_per_s",
            "nodes_per_s",
            "relationships_per_s",
            "latency_ms",
            "ceiling_rows_per_s",
            "ratio_to_ceiling",
            "client_cpu_s",
            "nodes_created",
            "properties_set",
            "relationships_created",
            "retries",
            "failed_batches",
        ] {
            assert!(j.contains_key(k), "key {k} missing in {j:?}");
        }
        for p in ["p50", "p95", "p99", "max"] {
            assert!(j["latency_ms"][p].as_f64().is_some_and(|v| v > 0.0), "{p}");
        }
        assert_eq!(j["shape"], "chain");
        assert_eq!(j["batch_size"], 500);
        assert_eq!(j["nodes_created"], 1500);
        assert_eq!(j["relationships_created"], 1500);
        assert!(j["ceiling_rows_per_s"].as_f64().is_some_and(|v| v > 0.0));
        assert!(j["ratio_to_ceiling"].as_f64().is_some_and(|v| v > 0.0));
    }
    let picture = std::fs::read_to_string(&svg).expect("the report was written");
    assert!(picture.starts_with("<svg") && picture.contains("<polyline"));
    assert_eq!(
        snapshot(),
        before,
        "the bench leaves the database as it found it"
    );
}

#[test]
fn the_table_and_cleanup_of_every_shape() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let before = snapshot();
    for shape in ["airports", "nodes", "star", "chain"] {
        let out = bench(&[
            "--shape",
            shape,
            "--rows",
            "600",
            "--connections",
            "2",
            "--apoc",
            "both",
        ]);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{shape}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(text.starts_with("shape"), "{text}");
        assert_eq!(
            text.lines().filter(|l| l.starts_with(shape)).count(),
            2,
            "{text}"
        );
    }
    assert_eq!(snapshot(), before);
}

#[test]
fn wrong_password_and_unreachable_server_are_one_line_errors() {
    for (u, pw) in [
        (uri(), "not-the-password".to_string()),
        ("bolt://127.0.0.1:1".into(), password()),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_nodestream"))
            .args(["bench", "--uri", &u, "--password", &pw, "--rows", "10"])
            .output()
            .expect("the binary runs");
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(err.trim_end().lines().count(), 1, "{err}");
        assert!(err.starts_with("error: cannot connect to"), "{err}");
        assert!(
            !err.contains("not-the-password"),
            "the password is not shown"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn a_pipeline_of_the_project_with_its_own_data() {
    let _g = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let before = snapshot();
    if count("MATCH (n:Employee) RETURN count(n) AS c") > 0 {
        // Refused, not deleted: the pipeline's labels must be empty.
        let out = bench_in(
            concat!(env!("CARGO_MANIFEST_DIR"), "/examples/org-chart"),
            &["-p", "nodestream.yaml", "--pipeline", "org-chart", "--json"],
        );
        assert!(!out.status.success());
        return;
    }
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/org-chart");
    let out = bench_in(
        dir,
        &[
            "-p",
            "nodestream.yaml",
            "--pipeline",
            "org-chart",
            "--connections",
            "1,2",
            "--json",
        ],
    );
    let lines = json_lines(&out);
    assert_eq!(lines.len(), 2);
    for j in &lines {
        assert_eq!(j["shape"], "pipeline:org-chart");
        assert!(j["ceiling_rows_per_s"].is_null());
        // Every run starts from a clean slate: each one creates the employees again.
        assert!(j["nodes_created"].as_i64().is_some_and(|n| n > 0), "{j:?}");
        assert_eq!(j["nodes_created"], lines[0]["nodes_created"]);
        assert_eq!(
            j["relationships_created"],
            lines[0]["relationships_created"]
        );
        assert_eq!(j["failed_batches"], 0);
    }
    assert_eq!(
        snapshot(),
        before,
        "the pipeline's data and the indexes are gone"
    );
}
