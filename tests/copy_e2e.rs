//! `nodestream copy` between two real servers (NODESTREAM_TEST_URI → NODESTREAM_TEST_URI2), through the binary.

mod copy_support;

use copy_support::*;

fn assert_ok(out: &std::process::Output) {
    assert!(out.status.success(), "copy failed:\n{}", text(out));
}

#[test]
fn copy_whole_graph_preserves_labels_properties_and_types() {
    let t = Names::new("CpWhole");
    let (src, dst) = (uri(), uri2());
    clean(&src, &t.prefix);
    clean(&dst, &t.prefix);
    seed(&src, &t, 30, 10, 3);
    let p = Project::new(&t, &src, &dst, "");
    let out = p.copy(&["-f", "src", "-t", "dst", "--shard-size", "7", "-c", "3"]);
    assert_ok(&out);

    let (sn, sr) = dump(&src, &t);
    let (dn, dr) = dump(&dst, &t);
    assert_eq!(sn.len(), 30 + 10 + 3);
    assert_eq!(sr.len(), 150 + 10);
    assert_eq!(dn, sn, "nodes differ");
    assert_eq!(dr, sr, "relationships differ");
    // Types survived the trip (the dump compares them too; spelled out for the reader).
    let rows = cypher(
        &dst,
        &[format!(
            "MATCH (p:{} {{id: 6}}), (c:{} {{id: 3}}) RETURN apoc.meta.cypher.type(p.created_at) AS dt, \
             apoc.meta.cypher.type(p.tags) AS tags, apoc.meta.cypher.type(p.active) AS b, \
             apoc.meta.cypher.type(c.rating) AS f, labels(p) AS pl, labels(c) AS cl",
            t.n("Person"),
            t.n("Company")
        )],
    );
    let r = &rows[0][0];
    assert_eq!(r["dt"], "DATE_TIME");
    assert_eq!(r["tags"], "LIST OF STRING");
    assert_eq!(r["b"], "BOOLEAN");
    assert_eq!(r["f"], "FLOAT");
    let mut pl: Vec<String> = serde_json::from_value(r["pl"].clone()).unwrap();
    pl.sort();
    assert_eq!(pl, [t.n("Contractor"), t.n("Employee"), t.n("Person")]);
    let cl: Vec<String> = serde_json::from_value(r["cl"].clone()).unwrap();
    assert!(cl.contains(&t.n("Vendor")), "{cl:?}");
    // Progress names every type with its count and rate; the final table has the per-type totals.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let progress = stderr
        .lines()
        .rfind(|l| l.starts_with("Copied 203 records in "))
        .unwrap_or_else(|| panic!("no final progress line: {}", text(&out)));
    for part in [
        format!(" | {} 150 (", t.n("WORKS_AT")),
        format!(" | {} 10 (", t.n("LOCATED_IN")),
        format!(" | {} 30 (", t.n("Person")),
    ] {
        assert!(progress.contains(&part), "{part} not in {progress}");
    }
    assert!(progress.ends_with("/s)"), "{progress}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("records_by_type_{}", t.n("WORKS_AT"))),
        "{}",
        text(&out)
    );

    // A second run converges to the same graph (MERGE everywhere).
    assert_ok(&p.copy(&["-f", "src", "-t", "dst"]));
    assert_eq!(dump(&dst, &t), (sn, sr));
    clean(&src, &t.prefix);
    clean(&dst, &t.prefix);
}

#[test]
fn copy_through_a_one_row_outbox_copies_everything() {
    // The outbox bounds rows in flight; with room for one row, three readers take turns and nothing is lost.
    let t = Names::new("CpOutbox");
    let (src, dst) = (uri(), uri2());
    clean(&src, &t.prefix);
    clean(&dst, &t.prefix);
    seed(&src, &t, 24, 8, 3);
    let p = Project::new(&t, &src, &dst, "");
    let out = p.copy(&[
        "-f",
        "src",
        "-t",
        "dst",
        "--step-outbox-size",
        "1",
        "-c",
        "3",
        "--shard-size",
        "5",
        "--batch-size",
        "7",
    ]);
    assert_ok(&out);
    let (sn, sr) = dump(&src, &t);
    assert_eq!(sn.len(), 24 + 8 + 3);
    assert_eq!(sr.len(), 12 * 8 + 8);
    assert_eq!(dump(&dst, &t), (sn, sr));
    clean(&src, &t.prefix);
    clean(&dst, &t.prefix);
}

#[test]
fn copy_with_type_filters() {
    let t = Names::new("CpFilter");
    let (src, dst) = (uri(), uri2());
    clean(&src, &t.prefix);
    clean(&dst, &t.prefix);
    seed(&src, &t, 20, 6, 2);
    let p = Project::new(&t, &src, &dst, "");

    // --node City --relationship LOCATED_IN: Company -LOCATED_IN-> City survives, with Company as its endpoint.
    let out = p.copy(&[
        "-f",
        "src",
        "-t",
        "dst",
        "--node",
        &t.n("City"),
        "--relationship",
        &t.n("LOCATED_IN"),
        "--node",
        "NoSuchType",
    ]);
    assert_ok(&out);
    assert_eq!(counts(&dst, &t.n("Company"), &t.n("LOCATED_IN")), (6, 6));
    assert_eq!(counts(&dst, &t.n("City"), &t.n("WORKS_AT")), (2, 0));
    assert_eq!(counts(&dst, &t.n("Person"), &t.n("WORKS_AT")), (0, 0));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("Unknown node type 'NoSuchType'"),
        "{}",
        text(&out)
    );
    // The copied part equals the source's.
    let only = |d: (Vec<String>, Vec<String>)| {
        let person = t.n("Person");
        (
            d.0.into_iter()
                .filter(|n| !n.contains(&person))
                .collect::<Vec<_>>(),
            d.1.into_iter()
                .filter(|r| r.contains(&t.n("LOCATED_IN")))
                .collect::<Vec<_>>(),
        )
    };
    assert_eq!(dump(&dst, &t), only(dump(&src, &t)));

    // --node Person: Person -WORKS_AT-> Company (and Company's own node shards), but not LOCATED_IN.
    clean(&dst, &t.prefix);
    assert_ok(&p.copy(&[
        "-f",
        "src",
        "-t",
        "dst",
        "--node",
        &t.n("Person"),
        "--preload-nodes",
    ]));
    assert_eq!(counts(&dst, &t.n("Person"), &t.n("WORKS_AT")), (20, 60));
    assert_eq!(counts(&dst, &t.n("Company"), &t.n("LOCATED_IN")), (6, 0));
    assert_eq!(counts(&dst, &t.n("City"), &t.n("LOCATED_IN")), (0, 0));
    clean(&src, &t.prefix);
    clean(&dst, &t.prefix);
}

#[test]
fn copy_relationships_only_brings_endpoints_with_their_properties() {
    let t = Names::new("CpRelOnly");
    let (src, dst) = (uri(), uri2());
    clean(&src, &t.prefix);
    clean(&dst, &t.prefix);
    seed(&src, &t, 30, 10, 3);
    let p = Project::new(&t, &src, &dst, "");
    let out = p.copy(&[
        "-f",
        "src",
        "-t",
        "dst",
        "--relationship",
        &t.n("WORKS_AT"),
        "--retriever-option",
        "relationships_only=true",
        "--retriever-option",
        "distribution=round_robin",
        "--shard-size",
        "40",
    ]);
    assert_ok(&out);
    // Only people with a job (even ids) come along, as endpoints, with all their properties and labels.
    assert_eq!(counts(&dst, &t.n("Person"), &t.n("WORKS_AT")), (15, 150));
    assert_eq!(counts(&dst, &t.n("City"), &t.n("LOCATED_IN")), (0, 0));
    let person = t.n("Person");
    let (sn, sr) = dump(&src, &t);
    let expected_nodes: Vec<String> = sn
        .into_iter()
        .filter(|n| {
            let v: serde_json::Value = serde_json::from_str(n).unwrap();
            let labels = v["labels"].to_string();
            labels.contains(&t.n("Company"))
                || (labels.contains(&person) && v["props"]["id"].as_i64().unwrap() % 2 == 0)
        })
        .collect();
    let (dn, dr) = dump(&dst, &t);
    assert_eq!(dn, expected_nodes);
    assert_eq!(
        dr,
        sr.into_iter()
            .filter(|r| r.contains(&t.n("WORKS_AT")))
            .collect::<Vec<_>>()
    );
    clean(&src, &t.prefix);
    clean(&dst, &t.prefix);
}

#[test]
fn copy_json_progress_and_sampling() {
    let t = Names::new("CpJson");
    let (src, dst) = (uri(), uri2());
    clean(&src, &t.prefix);
    clean(&dst, &t.prefix);
    seed(&src, &t, 40, 10, 2);
    let p = Project::new(&t, &src, &dst, "");
    let out = p.copy(&[
        "-f",
        "src",
        "-t",
        "dst",
        "--json",
        "--retriever-option",
        "sample_ratio=4",
        "--reporting-frequency",
        "10",
        "--connector-option",
        "chunk_size=50",
    ]);
    assert_ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<serde_json::Value> = stderr
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    // With --json, every line on stderr is a JSON object.
    for l in stderr.lines() {
        assert!(
            serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(l).is_ok(),
            "not a JSON object: {l}"
        );
    }
    let find = |m: &str| lines.iter().find(|l| l["message"] == m);
    let start = find("Starting copy").unwrap_or_else(|| panic!("{}", text(&out)));
    assert_eq!(start["from"], "src");
    assert_eq!(start["retriever_overrides"]["sample_ratio"], 4);
    assert_eq!(start["connector_overrides"]["chunk_size"], 50);
    let last = lines
        .iter()
        .rev()
        .find(|l| l["message"] == "Metrics Report")
        .expect("a metrics report");
    // Sampling keeps relationships whose element-id number is divisible by 4: the same set the source selects.
    let expected = count(
        &src,
        &format!(
            "MATCH ()-[r:{}]->() WHERE toInteger(split(elementId(r), ':')[-1]) % 4 = 0 RETURN count(r) AS c",
            t.n("WORKS_AT")
        ),
    );
    assert!(expected > 0 && expected < 200);
    assert_eq!(
        last[format!("records_by_type_{}", t.n("WORKS_AT"))],
        expected.to_string()
    );
    assert_eq!(
        counts(&dst, &t.n("Person"), &t.n("WORKS_AT")),
        (40, expected)
    );
    // Progress: records/s overall and per type, as numbers (the final report's values are strings).
    let rec = find("Processing Record").unwrap_or_else(|| panic!("{}", text(&out)));
    assert!(rec["records_per_second"].as_f64().is_some(), "{rec}");
    let progress = lines
        .iter()
        .rfind(|l| l["message"] == "Metrics Report" && l["records"].is_number())
        .unwrap_or_else(|| panic!("no progress metrics: {}", text(&out)));
    let works = t.n("WORKS_AT");
    assert_eq!(progress[format!("records_by_type_{works}")], expected);
    assert!(
        progress[format!("records_per_second_by_type_{works}")]
            .as_f64()
            .is_some_and(|r| r > 0.0),
        "{progress}"
    );
    assert!(
        progress[format!("records_per_second_by_type_{}", t.n("Person"))]
            .as_f64()
            .is_some(),
        "{progress}"
    );
    clean(&src, &t.prefix);
    clean(&dst, &t.prefix);
}

#[test]
fn copy_rejects_bad_options_and_targets() {
    let t = Names::new("CpBad");
    let p = Project::new(&t, &uri(), &uri2(), "");
    let out = p.copy(&["-f", "src", "-t", "dst", "--retriever-option", "limit=5"]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("unknown retriever option(s) 'limit'"),
        "{}",
        text(&out)
    );
    let out = p.copy(&["-f", "src", "-t", "nope"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("Unknown target: nope"));
    // No terminal: no prompt, a clear error naming the flag and the targets.
    let out = p.copy(&["-f", "src"]);
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("pass -t/--to") && e.contains("src, dst"),
        "{}",
        text(&out)
    );
    let out = p.copy(&[
        "-f",
        "src",
        "-t",
        "dst",
        "--retriever-option",
        "distribution=random",
    ]);
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("'sequential' or 'round_robin'"),
        "{}",
        text(&out)
    );
}

/// Answers the target prompts of `nodestream copy` on a pseudo-terminal: the arguments are the command; each
/// ` > ` prompt gets the next answer of $ANSWERS (comma-separated). Prints everything the terminal showed.
const PTY_PY: &str = r#"
import os, pty, select, sys, time
answers = os.environ["ANSWERS"].split(",")
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
out, sent, deadline = b"", 0, time.time() + 120
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 1)
    if r:
        try:
            chunk = os.read(fd, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
        while out.count(b" > ") > sent and sent < len(answers):
            os.write(fd, answers[sent].encode() + b"\n")
            sent += 1
_, status = os.waitpid(pid, 0)
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
"#;

#[test]
fn copy_asks_for_missing_targets_on_a_terminal() {
    let t = Names::new("CpAsk");
    let (src, dst) = (uri(), uri2());
    clean(&src, &t.prefix);
    clean(&dst, &t.prefix);
    seed(&src, &t, 10, 4, 2);
    let p = Project::new(&t, &src, &dst, "");
    // No -f/-t: asked for both; a bad answer is refused and asked again; a name or an index is accepted.
    let out = std::process::Command::new(python())
        .arg("-c")
        .arg(PTY_PY)
        .arg(env!("CARGO_BIN_EXE_nodestream"))
        .args(["copy", "--shard-size", "3"])
        .current_dir(p.dir.path())
        .env("ANSWERS", "9,src,1")
        .output()
        .expect("python runs");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        shown.contains("Which target would you like to copy from?")
            && shown.contains("Which target would you like to copy to?")
            && shown.contains("[0] src")
            && shown.contains("[1] dst")
            && shown.contains("Value \"9\" is invalid"),
        "{shown}"
    );
    assert_eq!(dump(&dst, &t), dump(&src, &t));
    assert_eq!(counts(&dst, &t.n("Person"), &t.n("WORKS_AT")), (10, 20));
    clean(&src, &t.prefix);
    clean(&dst, &t.prefix);
}

#[test]
fn copy_connector_options_reach_the_destination() {
    let t = Names::new("CpConn");
    let (src, dst) = (uri(), uri2());
    clean(&src, &t.prefix);
    clean(&dst, &t.prefix);
    seed(&src, &t, 12, 4, 2);
    let p = Project::new(&t, &src, &dst, "");
    // database_name: the writes go to that database of the destination (which does not exist), not the source.
    let out = p.copy(&[
        "--from",
        "src",
        "--to",
        "dst",
        "--connector-option",
        "database_name=nosuchdb",
    ]);
    assert!(!out.status.success(), "{}", text(&out));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("target 'dst'") && e.contains("DatabaseNotFound") && e.contains("nosuchdb"),
        "{}",
        text(&out)
    );
    assert_eq!(counts(&dst, &t.n("Person"), &t.n("WORKS_AT")), (0, 0));
    // use_apoc=false: plain UNWIND queries (logged once each at -v) instead of apoc.periodic.iterate.
    let out = p.copy(&[
        "--from",
        "src",
        "--to",
        "dst",
        "-v",
        "--connector-option",
        "use_apoc=false",
        "--connector-option",
        "chunk_size=5",
    ]);
    assert_ok(&out);
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains("UNWIND $rows AS params MERGE") && !e.contains("apoc.periodic.iterate"),
        "{}",
        text(&out)
    );
    assert_eq!(dump(&dst, &t), dump(&src, &t));
    clean(&src, &t.prefix);
    clean(&dst, &t.prefix);
}

#[test]
fn copy_latest_hours_keeps_only_recent_records() {
    let t = Names::new("CpLatest");
    let (src, dst) = (uri(), uri2());
    clean(&src, &t.prefix);
    clean(&dst, &t.prefix);
    seed(&src, &t, 20, 5, 2);
    // Recent: people 1..10 and WORKS_AT from people 2..10; everything else was last ingested 3 days ago.
    let (person, company, works) = (t.n("Person"), t.n("Company"), t.n("WORKS_AT"));
    cypher(
        &src,
        &[
            format!(
                "MATCH (p:{person}) SET p.last_ingested_at = CASE WHEN p.id <= 10 THEN datetime() ELSE datetime() - duration('P3D') END"
            ),
            format!("MATCH (c:{company}) SET c.last_ingested_at = datetime() - duration('P3D')"),
            format!(
                "MATCH (p)-[r:{works}]->() SET r.last_ingested_at = CASE WHEN p.id <= 10 THEN datetime() ELSE datetime() - duration('P3D') END"
            ),
        ],
    );
    let p = Project::new(&t, &src, &dst, "");
    let out = p.copy(&[
        "-f",
        "src",
        "-t",
        "dst",
        "--retriever-option",
        "latest_hours=24",
        "--node",
        &person,
    ]);
    assert_ok(&out);
    // 10 recent people; 5 of them (even ids) with 5 recent jobs each; old companies come only as endpoints.
    assert_eq!(counts(&dst, &person, &works), (10, 25));
    assert_eq!(
        count(
            &dst,
            &format!("MATCH (p:{person}) WHERE p.id > 10 RETURN count(p) AS c")
        ),
        0
    );
    assert_eq!(
        count(&dst, &format!("MATCH (c:{company}) RETURN count(c) AS c")),
        5
    );
    clean(&src, &t.prefix);
    clean(&dst, &t.prefix);
}

#[test]
fn copy_batch_size_sets_the_writer_batches() {
    // Within one writer batch the same source node is written once; with batches of one record, once per
    // relationship: the destination's counters show the batch size took effect.
    let t = Names::new("CpBatch");
    let (src, dst) = (uri(), uri2());
    clean(&src, &t.prefix);
    clean(&dst, &t.prefix);
    seed(&src, &t, 10, 6, 2);
    let p = Project::new(&t, &src, &dst, "");
    let person_rows = |batch: &str| {
        let out = p.copy(&[
            "-f",
            "src",
            "-t",
            "dst",
            "--json",
            "-c",
            "1",
            "--relationship",
            &t.n("WORKS_AT"),
            "--retriever-option",
            "relationships_only=true",
            "--batch-size",
            batch,
        ]);
        assert_ok(&out);
        let stderr = String::from_utf8_lossy(&out.stderr);
        let last = stderr
            .lines()
            .rev()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|l| l["message"] == "Metrics Report")
            .unwrap_or_else(|| panic!("{}", text(&out)));
        last[format!("nodes_upserted_by_type_{}", t.n("Person"))]
            .as_str()
            .and_then(|s| s.parse::<i64>().ok())
            .unwrap_or_else(|| panic!("{last}"))
    };
    // 5 employees x 6 companies = 30 relationships.
    assert_eq!(person_rows("1000"), 5);
    assert_eq!(person_rows("1"), 30);
    assert_eq!(counts(&dst, &t.n("Person"), &t.n("WORKS_AT")), (5, 30));
    clean(&src, &t.prefix);
    clean(&dst, &t.prefix);
}
