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
    // Progress names every type with its rate; the final table has the per-type totals.
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
