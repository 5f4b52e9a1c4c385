//! Writer tests that need no server: flush order, overlap, counters and failure reporting, over a fake database.

use super::exec::{BoxFuture, Database, DbError, Output};
use super::*;
use crate::model::{
    DesiredIngestion, Node, NodeCreationRule, Relationship, RelationshipCreationRule,
    RelationshipWithNodes,
};
use bolt::Value;
use std::time::{Duration, Instant};

/// Records when each statement started and ended; answers like APOC with optional failures.
#[derive(Default)]
struct Fake {
    log: Mutex<Vec<(String, Instant, Instant)>>,
    fail_label: Option<&'static str>,
}

impl Database for Fake {
    fn run<'a>(&'a self, _text: &'a str, params: Bytes) -> BoxFuture<'a, Result<Output, DbError>> {
        Box::pin(async move {
            let start = Instant::now();
            tokio::time::sleep(Duration::from_millis(20)).await;
            // The statement is inside the parameters (batched_query); find the label in it.
            let text = String::from_utf8_lossy(&params).to_string();
            let after = |tag: &str| {
                text.find(tag).map(|i| {
                    text[i + tag.len()..]
                        .chars()
                        .take_while(|c| c.is_ascii_alphanumeric())
                        .collect::<String>()
                })
            };
            let name = after("[rel: ")
                .or_else(|| after("(node: "))
                .unwrap_or_default();
            self.log
                .lock()
                .unwrap()
                .push((name.clone(), start, Instant::now()));
            let mut out = Output {
                keys: vec![
                    "failedBatches".into(),
                    "failedOperations".into(),
                    "errorMessages".into(),
                ],
                rows: vec![vec![
                    Value::Integer(0),
                    Value::Integer(0),
                    Value::Map(Default::default()),
                ]],
                ..Output::default()
            };
            if self.fail_label.is_some_and(|l| name == l) {
                let mut m = bolt::Map::new();
                m.insert(
                    "Property values can only be of primitive types".into(),
                    Value::Integer(1),
                );
                out.rows = vec![vec![Value::Integer(1), Value::Integer(3), Value::Map(m)]];
            }
            Ok(out)
        })
    }
}

fn node(label: &str, id: i64) -> Node {
    Node {
        type_: label.into(),
        key_values: [("id".into(), Value::Integer(id))].into_iter().collect(),
        properties: Default::default(),
        additional_types: vec![],
    }
}

fn record(k: usize) -> Ingestible {
    Ingestible::Ingestion(DesiredIngestion {
        source: node(&format!("A{k}"), k as i64),
        source_node_creation_rule: NodeCreationRule::Eager,
        relationships: vec![RelationshipWithNodes {
            from_node: node(&format!("A{k}"), k as i64),
            to_node: node(&format!("B{k}"), k as i64),
            relationship: Relationship {
                type_: format!("R{k}"),
                ..Default::default()
            },
            from_side_node_creation_rule: NodeCreationRule::Eager,
            to_side_node_creation_rule: NodeCreationRule::Eager,
            relationship_creation_rule: RelationshipCreationRule::Eager,
        }],
    })
}

fn opts() -> TargetOptions {
    let m = serde_json::json!({"uri": "bolt://x", "username": "u", "password": "p"});
    TargetOptions::parse("t", m.as_object().unwrap()).unwrap()
}

#[tokio::test]
async fn nodes_before_relationships_and_batches_overlap() {
    let fake = Arc::new(Fake::default());
    let mut w = Neo4jWriter::with_database("t", opts(), fake.clone(), 1);
    for k in 0..3 {
        w.write(record(k)).await.unwrap();
    }
    let stats = w.finish().await.unwrap();
    assert_eq!((stats.nodes_upserted, stats.relationships_upserted), (6, 3));
    assert_eq!(stats.nodes_upserted_by_type.get("A1"), Some(&1));
    assert_eq!(stats.relationships_upserted_by_type.get("R2"), Some(&1));
    let log = fake.log.lock().unwrap();
    let at = |name: &str| {
        log.iter()
            .find(|(n, ..)| n == name)
            .unwrap_or_else(|| panic!("{name} in {log:?}"))
            .clone()
    };
    for k in 0..3 {
        let rel = at(&format!("R{k}"));
        // A relationship starts after both of its endpoints were written.
        assert!(rel.1 >= at(&format!("A{k}")).2 && rel.1 >= at(&format!("B{k}")).2);
    }
    // Records that share no node are written at the same time: the nodes of batch 1 start before the
    // relationships of batch 0 finish, and even before the nodes of batch 0 finish.
    assert!(at("A1").1 < at("R0").2, "{log:?}");
    assert!(at("A1").1 < at("A0").2, "{log:?}");
}

/// Records sharing a hub node: every write touching the hub waits for the previous one (record order), while
/// the leaves are written at once.
#[tokio::test]
async fn writes_sharing_a_node_keep_record_order() {
    let fake = Arc::new(Fake::default());
    let mut w = Neo4jWriter::with_database("t", opts(), fake.clone(), 1);
    for k in 0..4 {
        let mut hub = node("H", 0);
        hub.properties.insert("v".into(), Value::Integer(k));
        w.write(Ingestible::Ingestion(DesiredIngestion {
            source: node(&format!("L{k}"), k),
            source_node_creation_rule: NodeCreationRule::Eager,
            relationships: vec![RelationshipWithNodes {
                from_node: node(&format!("L{k}"), k),
                to_node: hub,
                relationship: Relationship {
                    type_: format!("R{k}"),
                    ..Default::default()
                },
                from_side_node_creation_rule: NodeCreationRule::Eager,
                to_side_node_creation_rule: NodeCreationRule::Eager,
                relationship_creation_rule: RelationshipCreationRule::Eager,
            }],
        }))
        .await
        .unwrap();
    }
    w.finish().await.unwrap();
    let log = fake.log.lock().unwrap();
    let hub: Vec<_> = log
        .iter()
        .filter(|(n, ..)| n == "H" || n.starts_with('R'))
        .collect();
    // H0 R0 H1 R1 ...: each starts after the previous one ended.
    assert_eq!(hub.len(), 8, "{log:?}");
    for pair in hub.windows(2) {
        assert!(pair[1].1 >= pair[0].2, "{log:?}");
    }
    let names: Vec<&str> = hub.iter().map(|(n, ..)| n.as_str()).collect();
    assert_eq!(names, ["H", "R0", "H", "R1", "H", "R2", "H", "R3"]);
}

#[tokio::test]
async fn apoc_failures_fail_the_run_unless_lenient() {
    for lenient in [false, true] {
        let fake = Arc::new(Fake {
            fail_label: Some("B0"),
            ..Default::default()
        });
        let mut w = Neo4jWriter::with_database("t", opts(), fake, 10);
        w.set_lenient_apoc_errors(lenient);
        w.write(record(0)).await.unwrap();
        let progress = w.progress();
        let r = w.finish().await;
        assert_eq!(progress.failed_batches.load(Ordering::Relaxed), 1);
        assert_eq!(progress.failed_operations.load(Ordering::Relaxed), 3);
        if lenient {
            assert!(r.is_ok());
        } else {
            let e = r.unwrap_err().to_string();
            assert!(e.contains("target 't'") && e.contains("1 batch(es)"), "{e}");
        }
    }
}

/// `execute_chunks_in_parallel: false`: the chunks of one bucket run one after the other; with `true` they
/// overlap (different nodes, nothing else orders them).
#[tokio::test]
async fn sequential_chunks_do_not_overlap() {
    for parallel in [false, true] {
        let fake = Arc::new(Fake::default());
        let m = serde_json::json!({"uri": "bolt://x", "username": "u", "password": "p",
            "chunk_size": 1, "execute_chunks_in_parallel": parallel});
        let o = TargetOptions::parse("t", m.as_object().unwrap()).unwrap();
        let mut w = Neo4jWriter::with_database("t", o, fake.clone(), 3);
        for k in 0..3 {
            w.write(Ingestible::Ingestion(DesiredIngestion {
                source: node("S", k),
                source_node_creation_rule: NodeCreationRule::Eager,
                relationships: vec![],
            }))
            .await
            .unwrap();
        }
        let stats = w.finish().await.unwrap();
        assert_eq!(stats.nodes_upserted, 3);
        let log = fake.log.lock().unwrap();
        let mut s: Vec<_> = log.iter().filter(|(n, ..)| n == "S").collect();
        assert_eq!(s.len(), 3, "{log:?}");
        s.sort_by_key(|(_, start, _)| *start);
        let overlap = s.windows(2).any(|p| p[1].1 < p[0].2);
        assert_eq!(overlap, parallel, "{log:?}");
    }
}
