//! The Cypher text the writer sends (spec §4.1, §4.3, §4.4, §4.6). For plain identifiers the statements are
//! byte-for-byte those of the Python plugin; other names are backtick-escaped (Python would emit broken Cypher).

use crate::model::{GraphObjectType, NodeCreationRule, RelationshipCreationRule};
use crate::quoting::push_name;
use std::fmt::Write;

/// The APOC envelope around every batch (Python's `COMMIT_QUERY`, including the newlines).
pub const APOC_COMMIT_QUERY: &str = "\nCALL apoc.periodic.iterate(\n    $iterable_query,\n    $batched_query,\n    {batchSize: $chunk_size, parallel: $execute_chunks_in_parallel, retries: $retries_per_chunk, params: $iterate_params}\n)\nYIELD batches, total, timeTaken, committedOperations, failedOperations, failedBatches, retries, errorMessages, wasTerminated, updateStatistics\nRETURN batches, total, timeTaken, committedOperations, failedOperations, failedBatches, retries, errorMessages, wasTerminated, updateStatistics\n";

/// The iterable query of ingestion batches.
pub const UNWIND_QUERY: &str = "UNWIND $batched_parameter_sets as params RETURN params";

/// Prefix of the statements sent without APOC: one chunk of rows per query.
pub const PLAIN_UNWIND_PREFIX: &str = "UNWIND $rows AS params ";

/// Appends `params.__{prefix}_{name}`, quoting the member name when needed.
fn push_param(out: &mut String, prefix: &str, name: &str) {
    out.push_str("params.");
    let member = format!("__{prefix}_{name}");
    push_name(out, &member);
}

/// The part of a node shape that Cypher depends on.
#[derive(Debug, Clone, Copy)]
pub struct NodeSpec<'a> {
    /// Primary label.
    pub label: &'a str,
    /// Key names, in order.
    pub keys: &'a [String],
    /// Additional labels.
    pub additional_labels: &'a [String],
    /// Creation rule (already creation-prevented for relationship endpoints).
    pub rule: NodeCreationRule,
}

/// Appends `MATCH (ref: L) WHERE ref.k1 {op} params.__ref_k1 AND ...`.
fn push_match(out: &mut String, node: &NodeSpec<'_>, reference: &str) {
    let op = if node.rule == NodeCreationRule::Fuzzy {
        "=~"
    } else {
        "="
    };
    let _ = write!(out, "MATCH ({reference}: ");
    push_name(out, node.label);
    out.push_str(") WHERE ");
    for (i, k) in node.keys.iter().enumerate() {
        if i > 0 {
            out.push_str(" AND ");
        }
        out.push_str(reference);
        out.push('.');
        push_name(out, k);
        let _ = write!(out, " {op} ");
        push_param(out, reference, k);
    }
}

/// Appends ` {k1 : params.__prefix_k1, ...}` (leading space), or nothing without keys.
fn push_key_map(out: &mut String, keys: &[String], prefix: &str) {
    if keys.is_empty() {
        return;
    }
    out.push_str(" {");
    for (i, k) in keys.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        push_name(out, k);
        out.push_str(" : ");
        push_param(out, prefix, k);
    }
    out.push('}');
}

/// The per-row node statement (§4.3). With `use_apoc: false` additional labels are set statically instead of
/// through `apoc.create.addLabels` (they are constant per bucket).
pub fn node_statement(node: &NodeSpec<'_>, first_ingested_at: bool, use_apoc: bool) -> String {
    let mut q = String::with_capacity(160);
    if node.rule == NodeCreationRule::Eager {
        q.push_str("MERGE (node: ");
        push_name(&mut q, node.label);
        push_key_map(&mut q, node.keys, "node");
        q.push(')');
        if first_ingested_at {
            q.push_str(
                " ON CREATE SET node.first_ingested_at = params.__node_properties['last_ingested_at']",
            );
        }
    } else {
        push_match(&mut q, node, "node");
    }
    if !node.additional_labels.is_empty() {
        if use_apoc {
            q.push_str(" WITH node, params CALL apoc.create.addLabels(node, params.__node_additional_labels) yield node as _");
        } else {
            q.push_str(" SET node");
            for l in node.additional_labels {
                q.push(':');
                push_name(&mut q, l);
            }
        }
    }
    q.push_str(" SET node += params.__node_properties");
    q
}

/// The part of a relationship shape that Cypher depends on.
#[derive(Debug, Clone, Copy)]
pub struct RelSpec<'a> {
    /// Start node (creation-prevented rule).
    pub from: NodeSpec<'a>,
    /// End node (creation-prevented rule).
    pub to: NodeSpec<'a>,
    /// Relationship type.
    pub rel_type: &'a str,
    /// Relationship key names.
    pub keys: &'a [String],
    /// MERGE or CREATE.
    pub rule: RelationshipCreationRule,
}

/// The per-row relationship statement (§4.4).
pub fn relationship_statement(rel: &RelSpec<'_>, first_ingested_at: bool) -> String {
    let mut q = String::with_capacity(256);
    push_match(&mut q, &rel.from, "from_node");
    q.push(' ');
    push_match(&mut q, &rel.to, "to_node");
    q.push_str(match rel.rule {
        RelationshipCreationRule::Eager => " MERGE",
        RelationshipCreationRule::Create => " CREATE",
    });
    q.push_str(" (from_node)-[rel: ");
    push_name(&mut q, rel.rel_type);
    push_key_map(&mut q, rel.keys, "rel");
    q.push_str("]->(to_node)");
    const FIRST: &str = "rel.first_ingested_at = params.__rel_properties['last_ingested_at']";
    match rel.rule {
        RelationshipCreationRule::Eager => {
            if first_ingested_at {
                q.push_str(" ON CREATE SET ");
                q.push_str(FIRST);
            }
            q.push_str(" SET rel += params.__rel_properties");
        }
        RelationshipCreationRule::Create => {
            q.push_str(" SET rel += params.__rel_properties");
            if first_ingested_at {
                q.push_str(" SET ");
                q.push_str(FIRST);
            }
        }
    }
    q
}

/// The TTL matching and delete statements (§4.6). We use `elementId` (Python: the deprecated `id`), except
/// for a user's `custom_query`, which returns `id(x)` values; `legacy_ids` forces `id` (servers before 5.0).
pub fn ttl_statements(
    kind: GraphObjectType,
    object_type: &str,
    custom_query: Option<&str>,
    legacy_ids: bool,
) -> (String, &'static str) {
    let legacy = legacy_ids || custom_query.is_some();
    let delete = match (kind, legacy) {
        (GraphObjectType::Node, false) => "MATCH (n) WHERE elementId(n) = id DETACH DELETE n",
        (GraphObjectType::Node, true) => "MATCH (n) WHERE id(n) = id DETACH DELETE n",
        (GraphObjectType::Relationship, false) => {
            "MATCH ()-[r]->() WHERE elementId(r) = id DELETE r"
        }
        (GraphObjectType::Relationship, true) => "MATCH ()-[r]->() WHERE id(r) = id DELETE r",
    };
    if let Some(custom) = custom_query {
        return (custom.to_string(), delete);
    }
    let mut q = String::from("MATCH ");
    match kind {
        GraphObjectType::Node => {
            q.push_str("(x: ");
            push_name(&mut q, object_type);
            q.push(')');
        }
        GraphObjectType::Relationship => {
            q.push_str("()-[x: ");
            push_name(&mut q, object_type);
            q.push_str("]->()");
        }
    }
    q.push_str(" WHERE x.last_ingested_at <= $earliest_allowed_time RETURN ");
    q.push_str(if legacy {
        "id(x) as id"
    } else {
        "elementId(x) as id"
    });
    (q, delete)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value as Json;

    fn rule(s: &str) -> NodeCreationRule {
        match s {
            "EAGER" => NodeCreationRule::Eager,
            "MATCH_ONLY" => NodeCreationRule::MatchOnly,
            "FUZZY" => NodeCreationRule::Fuzzy,
            other => panic!("rule {other}"),
        }
    }

    fn strings(v: &Json) -> Vec<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    }

    /// Every statement the Python plugin generates for these shapes (testdata/gen_cypher_golden.py).
    #[test]
    fn statements_match_python_byte_for_byte() {
        let golden: Json =
            serde_json::from_str(include_str!("testdata/cypher_golden.json")).unwrap();
        let mut checked = 0;
        for case in golden.as_array().unwrap() {
            let fia = case["fia"].as_bool().unwrap_or(false);
            match case["kind"].as_str().unwrap() {
                "node" => {
                    let keys = strings(&case["keys"]);
                    let add = strings(&case["add"]);
                    let spec = NodeSpec {
                        label: "Airport",
                        keys: &keys,
                        additional_labels: &add,
                        rule: rule(case["rule"].as_str().unwrap()),
                    };
                    assert_eq!(
                        node_statement(&spec, fia, true),
                        case["q"].as_str().unwrap()
                    );
                }
                "rel" => {
                    let (fk, tk, rk) = (
                        vec!["identifier".to_string()],
                        vec!["a".into(), "b".into()],
                        strings(&case["rk"]),
                    );
                    let spec = RelSpec {
                        from: NodeSpec {
                            label: "Airport",
                            keys: &fk,
                            additional_labels: &[],
                            rule: rule(case["from"].as_str().unwrap()),
                        },
                        to: NodeSpec {
                            label: "Multi",
                            keys: &tk,
                            additional_labels: &[],
                            rule: rule(case["to"].as_str().unwrap()),
                        },
                        rel_type: "WITHIN",
                        keys: &rk,
                        rule: if case["rule"] == "CREATE" {
                            RelationshipCreationRule::Create
                        } else {
                            RelationshipCreationRule::Eager
                        },
                    };
                    assert_eq!(
                        relationship_statement(&spec, fia),
                        case["q"].as_str().unwrap()
                    );
                }
                "ttl" => {
                    assert_eq!(case["text"].as_str().unwrap(), APOC_COMMIT_QUERY);
                    let kind = if case["t"] == "NODE" {
                        GraphObjectType::Node
                    } else {
                        GraphObjectType::Relationship
                    };
                    let (m, d) = ttl_statements(kind, "ObjectA", None, true);
                    assert_eq!(m, case["params"]["iterable_query"].as_str().unwrap());
                    assert_eq!(d, case["params"]["batched_query"].as_str().unwrap());
                }
                other => panic!("kind {other}"),
            }
            checked += 1;
        }
        assert_eq!(checked, 74);
    }

    #[test]
    fn odd_names_are_escaped() {
        let keys = vec!["my-key".to_string()];
        let add = vec!["Bad `Label`".to_string()];
        let spec = NodeSpec {
            label: "A b`c",
            keys: &keys,
            additional_labels: &add,
            rule: NodeCreationRule::Eager,
        };
        assert_eq!(
            node_statement(&spec, false, false),
            "MERGE (node: `A b``c` {`my-key` : params.`__node_my-key`}) SET node:`Bad ``Label``` SET node += params.__node_properties"
        );
        let (m, d) = ttl_statements(GraphObjectType::Node, "Obj A", None, false);
        assert_eq!(
            m,
            "MATCH (x: `Obj A`) WHERE x.last_ingested_at <= $earliest_allowed_time RETURN elementId(x) as id"
        );
        assert_eq!(d, "MATCH (n) WHERE elementId(n) = id DETACH DELETE n");
        let (m, d) = ttl_statements(
            GraphObjectType::Relationship,
            "R",
            Some("MATCH (x) RETURN id(x) as id"),
            false,
        );
        assert_eq!(
            (m.as_str(), d),
            (
                "MATCH (x) RETURN id(x) as id",
                "MATCH ()-[r]->() WHERE id(r) = id DELETE r"
            )
        );
    }
}
