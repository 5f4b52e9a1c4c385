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
        key_values: [("id".to_string(), Value::Integer(id))]
            .into_iter()
            .collect(),
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
        // Relationships of batch k start after every node of batches <= k has finished.
        for j in 0..=k {
            assert!(rel.1 >= at(&format!("A{j}")).2 && rel.1 >= at(&format!("B{j}")).2);
        }
        if k > 0 {
            // Nodes of batch k wait for the nodes of batch k-1; relationships keep batch order.
            assert!(at(&format!("A{k}")).1 >= at(&format!("A{}", k - 1)).2);
            assert!(rel.1 >= at(&format!("R{}", k - 1)).2);
        }
    }
    // The overlap: nodes of batch 1 started before relationships of batch 0 finished.
    assert!(at("A1").1 < at("R0").2, "{log:?}");
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

#[test]
fn plain_chunk_row_count_is_read_back() {
    for n in [0usize, 3, 15, 16, 300, 70_000] {
        let mut buf = BytesMut::new();
        encode::map_header(&mut buf, 1);
        encode::string(&mut buf, "rows");
        encode::list_header(&mut buf, n);
        assert_eq!(params_rows_hint(&buf.freeze()), n as i64);
    }
}
