//! `run --prometheus`: scrape the metrics server while a load runs against the real Neo4j, and check the
//! gauges (Python Nodestream's names, text exposition format) against what landed in the database.

mod writer_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Command, Stdio};
use writer_support::{Project, clean, count, cypher, password, uri};

/// One HTTP GET; the body of a 200 response.
fn scrape(addr: &str) -> Option<String> {
    let mut s = std::net::TcpStream::connect(addr).ok()?;
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        .ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("text/plain; version=0.0.4"), "{head}");
    Some(body.to_string())
}

fn gauge(body: &str, name: &str) -> Option<f64> {
    body.lines()
        .find_map(|l| l.strip_prefix(&format!("{name} ")))
        .and_then(|v| v.parse().ok())
}

#[test]
fn prometheus_gauges_follow_a_running_load() {
    let p = "WtProm";
    clean(p);
    // An index on the key: MERGE on an unindexed label scans every node, and the load would take minutes.
    cypher(&[&format!(
        "CREATE INDEX {p}Number_number IF NOT EXISTS FOR (x:{p}Number) ON (x.number)"
    )]);
    let n = 50_000;
    let mut proj = Project::new();
    proj.pipeline(
        "numbers",
        &format!(
            "- implementation: nodestream.pipeline:IterableExtractor\n  factory: range\n  arguments: {{stop: {n}}}\n\
             - implementation: nodestream.interpreting:Interpreter\n  arguments:\n    interpretations:\n\
             \x20     - {{type: source_node, node_type: {p}Number, key: {{number: !jmespath index}}}}\n"
        ),
    )
    .target("db", &uri(), &password(), "");
    let project = proj.write();
    let mut child = Command::new(env!("CARGO_BIN_EXE_nodestream"))
        .current_dir(proj.dir.path())
        .args([
            "run",
            "numbers",
            "-p",
            project.to_str().unwrap(),
            "-t",
            "db",
        ])
        .args([
            "--prometheus",
            "--prometheus-listen-address",
            "127.0.0.1",
            "--prometheus-listen-port",
            "0",
            "--metrics-interval-in-seconds",
            "0.05",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("nodestream runs");
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr"));
    let mut line = String::new();
    stderr.read_line(&mut line).expect("first stderr line");
    let addr = line
        .trim()
        .strip_prefix("Prometheus metrics server started on ")
        .unwrap_or_else(|| panic!("unexpected first line: {line}"))
        .to_string();
    // Drain the rest of stderr so the child never blocks on it.
    let drain = std::thread::spawn(move || {
        let mut rest = String::new();
        let _ = stderr.read_to_string(&mut rest);
        rest
    });
    let mut scrapes = Vec::new();
    while let Some(body) = scrape(&addr) {
        scrapes.push(body);
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let status = child.wait().expect("wait");
    let rest = drain.join().unwrap_or_default();
    assert!(status.success(), "run failed: {rest}");
    assert!(!scrapes.is_empty(), "no scrape succeeded");
    let last = scrapes.last().unwrap();
    for name in ["records", "nodes_upserted", "relationships_upserted"] {
        assert!(
            last.contains(&format!("# TYPE {name} gauge\n")),
            "{name} missing:\n{last}"
        );
    }
    // Gauges never go down during one run, and never exceed what the load holds.
    let records: Vec<f64> = scrapes.iter().filter_map(|b| gauge(b, "records")).collect();
    assert!(records.windows(2).all(|w| w[0] <= w[1]), "{records:?}");
    assert!(records.iter().all(|r| *r <= n as f64), "{records:?}");
    assert!(
        records.iter().any(|r| *r > 0.0),
        "records never moved: {records:?}"
    );
    let landed = count(&format!("MATCH (x:{p}Number) RETURN count(x) AS c"));
    assert_eq!(landed, n);
    let by_type = format!("nodes_upserted_by_type_{p}Number");
    for b in &scrapes {
        if let Some(v) = gauge(b, &by_type) {
            assert!(v <= landed as f64, "{by_type} {v} > {landed}");
        }
    }
    clean(p);
    cypher(&[&format!("DROP INDEX {p}Number_number IF EXISTS")]);
}
