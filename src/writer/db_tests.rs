//! The writer against the real Neo4j (NODESTREAM_TEST_URI), driven with model objects, so it is tested without
//! the interpreter. Labels are prefixed per test; each test cleans only its own.

use super::*;
use crate::model::{
    DesiredIngestion, Node, NodeCreationRule, Relationship, RelationshipCreationRule,
    RelationshipWithNodes,
};
use bolt::Value;

fn uri() -> String {
    std::env::var("NODESTREAM_TEST_URI")
        .expect("NODESTREAM_TEST_URI must point at the test Neo4j (scripts/test sets it)")
}

fn password() -> String {
    std::env::var("NODESTREAM_TEST_PASSWORD").unwrap_or_else(|_| "password".into())
}

fn target(extra: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    let mut m = serde_json::json!({"uri": uri(), "username": "neo4j", "password": password()});
    if let (Some(m), Some(extra)) = (m.as_object_mut(), extra.as_object()) {
        m.extend(extra.clone());
    }
    m.as_object().cloned().unwrap_or_default()
}

async fn check(q: &str) -> Vec<Vec<Value>> {
    let driver = bolt::Driver::connect(bolt::Config::new(&uri(), "neo4j", &password()))
        .await
        .unwrap();
    let r = driver
        .run(bolt::Query::new(q.to_string()))
        .await
        .unwrap_or_else(|e| panic!("{q}: {e}"));
    r.rows
}

async fn count(q: &str) -> i64 {
    match check(q).await.first().and_then(|r| r.first()) {
        Some(Value::Integer(i)) => *i,
        other => panic!("{q}: {other:?}"),
    }
}

async fn clean(prefix: &str) {
    check(&format!(
        "MATCH (n) WHERE any(l IN labels(n) WHERE l STARTS WITH '{prefix}') DETACH DELETE n"
    ))
    .await;
}

fn now() -> Value {
    Value::DateTime(utc_now_minus_hours(0.0))
}

fn node(label: &str, key: &str, v: &str, props: &[(&str, Value)]) -> Node {
    let mut properties: crate::model::Properties = props
        .iter()
        .map(|(k, v)| ((*k).into(), v.clone()))
        .collect();
    properties.insert("last_ingested_at".into(), now());
    Node {
        type_: label.into(),
        key_values: [(key.into(), Value::String(v.into()))]
            .into_iter()
            .collect(),
        properties,
        additional_types: vec![],
    }
}

fn airport(p: &str, i: usize) -> Ingestible {
    let ident = format!("a{i:06}");
    let country = format!("c{}", i % 12);
    let region = format!("r{}", i % 40);
    let rel = |to: Node| RelationshipWithNodes {
        from_node: node(&format!("{p}Airport"), "identifier", &ident, &[]),
        to_node: to,
        relationship: Relationship {
            type_: format!("{p}WITHIN"),
            key_values: Default::default(),
            properties: [("last_ingested_at".into(), now())].into_iter().collect(),
        },
        from_side_node_creation_rule: NodeCreationRule::Eager,
        to_side_node_creation_rule: NodeCreationRule::Eager,
        relationship_creation_rule: RelationshipCreationRule::Eager,
    };
    Ingestible::Ingestion(DesiredIngestion {
        source: node(
            &format!("{p}Airport"),
            "identifier",
            &ident,
            &[
                ("name", Value::String(format!("Airport {i}"))),
                ("n", Value::Integer(i as i64)),
            ],
        ),
        source_node_creation_rule: NodeCreationRule::Eager,
        relationships: vec![
            rel(node(&format!("{p}Country"), "code", &country, &[])),
            rel(node(&format!("{p}Region"), "code", &region, &[])),
        ],
    })
}

async fn load_airports(p: &str, extra: serde_json::Value, n: usize) -> WriteStats {
    let mut w = Neo4jWriter::connect("t", &target(extra), "test", 1000)
        .await
        .unwrap();
    for i in 0..n {
        w.write(airport(p, i)).await.unwrap();
    }
    w.finish().await.unwrap()
}

async fn assert_airports(p: &str, n: usize) {
    assert_eq!(
        count(&format!("MATCH (a:{p}Airport) RETURN count(a)")).await,
        n as i64
    );
    assert_eq!(
        count(&format!("MATCH (a:{p}Country) RETURN count(a)")).await,
        12
    );
    assert_eq!(
        count(&format!("MATCH (a:{p}Region) RETURN count(a)")).await,
        40
    );
    assert_eq!(
        count(&format!("MATCH ()-[r:{p}WITHIN]->() RETURN count(r)")).await,
        2 * n as i64
    );
    let bad = count(&format!(
        "MATCH (a) WHERE any(l IN labels(a) WHERE l STARTS WITH '{p}') AND NOT a.last_ingested_at IS :: ZONED DATETIME RETURN count(a)"
    ))
    .await;
    assert_eq!(bad, 0);
    let rows = check(&format!("MATCH (a:{p}Airport {{identifier: 'a000007'}})-[:{p}WITHIN]->(c:{p}Country) RETURN c.code, a.name, a.n")).await;
    assert_eq!(
        rows,
        vec![vec![
            Value::String("c7".into()),
            Value::String("Airport 7".into()),
            Value::Integer(7)
        ]]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loads_airports_with_apoc_plain_unwind_and_bolt_44() {
    for (i, extra) in [
        serde_json::json!({}),
        serde_json::json!({"use_apoc": false, "chunk_size": 300}),
        serde_json::json!({"max_bolt_version": "4.4"}),
    ]
    .into_iter()
    .enumerate()
    {
        let p = format!("WdbAir{i}x");
        clean(&p).await;
        let stats = load_airports(&p, extra.clone(), 2500).await;
        assert_airports(&p, 2500).await;
        assert_eq!(
            stats
                .relationships_upserted_by_type
                .get(&format!("{p}WITHIN")),
            Some(&5000),
            "{extra}"
        );
        assert_eq!(stats.failed_batches, 0);
        clean(&p).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn map_property_fails_its_batch_and_the_run() {
    let p = "WdbMap";
    clean(p).await;
    for use_apoc in [true, false] {
        let mut w = Neo4jWriter::connect(
            "t",
            &target(serde_json::json!({"use_apoc": use_apoc})),
            "test",
            1000,
        )
        .await
        .unwrap();
        let mut bad = node(&format!("{p}Thing"), "id", "1", &[]);
        bad.properties.insert(
            "m".into(),
            Value::Map([("a".to_string(), Value::Integer(1))].into_iter().collect()),
        );
        w.write(Ingestible::Ingestion(DesiredIngestion {
            source: bad,
            source_node_creation_rule: NodeCreationRule::Eager,
            relationships: vec![],
        }))
        .await
        .unwrap();
        let progress = w.progress();
        let e = w.finish().await.unwrap_err().to_string();
        assert!(e.contains("1 batch(es)"), "{e}");
        assert_eq!(progress.failed_batches.load(Ordering::Relaxed), 1);
    }
    assert_eq!(
        count(&format!("MATCH (a:{p}Thing) RETURN count(a)")).await,
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttl_deletes_old_nodes_and_relationships() {
    let p = "WdbTtl";
    clean(p).await;
    check(&format!(
        "UNWIND range(0, 29) AS i CREATE (a:{p}A {{id: i, last_ingested_at: datetime() - duration({{hours: CASE WHEN i < 10 THEN 60 WHEN i < 20 THEN 36 ELSE 12 END}})}})-[:{p}R {{last_ingested_at: datetime() - duration({{hours: CASE WHEN i < 10 THEN 12 ELSE 60 END}})}}]->(:{p}B {{id: i}})"
    ))
    .await;
    let mut w = Neo4jWriter::connect("t", &target(serde_json::json!({})), "test", 1000)
        .await
        .unwrap();
    let ttl = |kind, t: String, h| {
        Ingestible::TimeToLive(TimeToLiveConfiguration {
            graph_object_type: kind,
            object_type: t,
            expiry_in_hours: h,
            custom_query: None,
            enabled: true,
            batch_size: 7,
        })
    };
    w.write(ttl(GraphObjectType::Relationship, format!("{p}R"), 48.0))
        .await
        .unwrap();
    assert_eq!(
        count(&format!("MATCH ()-[r:{p}R]->() RETURN count(r)")).await,
        10
    );
    w.write(ttl(GraphObjectType::Node, format!("{p}A"), 24.0))
        .await
        .unwrap();
    let stats = w.finish().await.unwrap();
    assert_eq!(stats.time_to_live_operations, 2);
    assert_eq!(count(&format!("MATCH (a:{p}A) RETURN count(a)")).await, 10);
    clean(p).await;
}

/// Throughput probe: `WRITER_PERF_ROWS=50000 cargo test --release --bin nodestream perf_probe -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore]
async fn perf_probe() {
    let n: usize = std::env::var("WRITER_PERF_ROWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let extra: serde_json::Value =
        serde_json::from_str(&std::env::var("WRITER_PERF_TARGET").unwrap_or_else(|_| "{}".into()))
            .unwrap();
    let p = "WdbPerf";
    clean(p).await;
    for (l, k) in [
        ("Airport", "identifier"),
        ("Country", "code"),
        ("Region", "code"),
    ] {
        check(&format!(
            "CREATE CONSTRAINT {p}{l} IF NOT EXISTS FOR (n:{p}{l}) REQUIRE n.{k} IS UNIQUE"
        ))
        .await;
    }
    let records: Vec<Ingestible> = (0..n).map(|i| airport(p, i)).collect();
    let t = std::time::Instant::now();
    let mut w = Neo4jWriter::connect("t", &target(extra), "test", 1000)
        .await
        .unwrap();
    for r in records {
        w.write(r).await.unwrap();
    }
    let stats = w.finish().await.unwrap();
    let s = t.elapsed().as_secs_f64();
    println!(
        "{n} rows in {s:.2}s = {:.0} rows/s; {stats:?}",
        n as f64 / s
    );
    assert_eq!(
        count(&format!("MATCH ()-[r:{p}WITHIN]->() RETURN count(r)")).await,
        2 * n as i64
    );
    clean(p).await;
}

/// Many small batches all hanging off two hub nodes: one hub changes with every record, the other never does.
/// The scheduler must keep record order on the changing hub, never let our own queries deadlock, and count the
/// identical hub rows it leaves out as upserted (as Python counts every row it sends).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hub_nodes_keep_record_order_and_our_queries_never_deadlock() {
    let p = "WdbHub";
    clean(p).await;
    let fixed = now();
    let mut w = Neo4jWriter::connect("t", &target(serde_json::json!({})), "test", 100)
        .await
        .unwrap();
    let n = 3000usize;
    for i in 0..n {
        let hub = |label: &str, props: &[(&str, Value)]| {
            let mut h = node(&format!("{p}{label}"), "k", "hub", props);
            h.properties
                .insert("last_ingested_at".into(), fixed.clone());
            h
        };
        let rel = |to: Node| RelationshipWithNodes {
            from_node: node(&format!("{p}Leaf"), "k", &format!("l{i}"), &[]),
            to_node: to,
            relationship: Relationship {
                type_: format!("{p}IN"),
                key_values: Default::default(),
                properties: Default::default(),
            },
            from_side_node_creation_rule: NodeCreationRule::Eager,
            to_side_node_creation_rule: NodeCreationRule::Eager,
            relationship_creation_rule: RelationshipCreationRule::Eager,
        };
        w.write(Ingestible::Ingestion(DesiredIngestion {
            source: node(&format!("{p}Leaf"), "k", &format!("l{i}"), &[]),
            source_node_creation_rule: NodeCreationRule::Eager,
            relationships: vec![
                rel(hub("Moving", &[("v", Value::Integer(i as i64))])),
                rel(hub("Still", &[("v", Value::Integer(1))])),
            ],
        }))
        .await
        .unwrap();
    }
    let stats = w.finish().await.unwrap();
    let rows = check(&format!(
        "MATCH (m:{p}Moving), (s:{p}Still) RETURN m.v, s.v, COUNT {{ (m)<-[:{p}IN]-() }}, COUNT {{ (s)<-[:{p}IN]-() }}"
    ))
    .await;
    let n64 = n as i64;
    assert_eq!(
        rows,
        vec![vec![
            Value::Integer(n64 - 1),
            Value::Integer(1),
            Value::Integer(n64),
            Value::Integer(n64)
        ]]
    );
    assert_eq!(stats.retries, 0, "our own queries contended for locks");
    assert_eq!(stats.failed_batches, 0);
    // 30 batches of 100 leaves + 2 hubs, every one counted.
    assert_eq!(stats.nodes_upserted, (n + 2 * n / 100) as u64);
    assert_eq!(
        stats.nodes_upserted_by_type.get(&format!("{p}Still")),
        Some(&30)
    );
    assert_eq!(stats.relationships_upserted, 2 * n as u64);
    clean(p).await;
}

#[tokio::test]
async fn in_flight_queries_follow_the_servers_processors() {
    let opts = options::TargetOptions::parse("t", &target(serde_json::json!({}))).unwrap();
    let db = bolt_db::BoltDatabase::connect(&opts).await.unwrap();
    // The test server runs on this machine, so it sees the same processors.
    let cores = std::thread::available_parallelism().unwrap().get();
    assert_eq!(db.server_cores().await, Some(cores));
    let w = Neo4jWriter::connect("t", &target(serde_json::json!({})), "test", 1000)
        .await
        .unwrap();
    assert_eq!(w.shared.opts.server_cores, Some(cores));
    assert_eq!(w.shared.opts.concurrency(), (2 * cores).clamp(2, 64));
    // The pool still caps it.
    let w = Neo4jWriter::connect(
        "t",
        &target(serde_json::json!({"max_connection_pool_size": 1})),
        "test",
        1000,
    )
    .await
    .unwrap();
    assert_eq!(w.shared.opts.concurrency(), 1);
}
