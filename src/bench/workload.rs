//! The built-in deterministic workloads of `nodestream bench`: the rows the client sends, and the same rows built
//! inside the server (Cypher expressions of the row number `i`) for the server ceiling.

use crate::model::{
    DesiredIngestion, Name, Node, NodeCreationRule, Properties, Relationship,
    RelationshipCreationRule, RelationshipWithNodes,
};
use crate::writer::cypher::{self, NodeSpec, RelSpec};
use bolt::Value;
use clap::ValueEnum;

/// A built-in workload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Shape {
    /// Per row: an airport, its country and region (shared hubs) and the two relationships to them.
    Airports,
    /// Per row: one node with `--properties` properties, no relationship.
    Nodes,
    /// Per row: a leaf node and one relationship onto one of `--hubs` hub nodes (lock contention on the hubs).
    Star,
    /// Per row: a node and a relationship to the next row's node (the last one closes the ring).
    Chain,
}

impl Shape {
    /// The name in the JSON output and the table.
    pub fn name(self) -> &'static str {
        match self {
            Shape::Airports => "airports",
            Shape::Nodes => "nodes",
            Shape::Star => "star",
            Shape::Chain => "chain",
        }
    }
}

/// One relationship kind of a workload: type, end label and end key, and how the end key is made from `i`.
struct RelKind {
    rel_type: &'static str,
    to_label: &'static str,
    to_key: &'static str,
    /// Distinct end nodes (0: the chain's next row).
    hubs: u64,
    prefix: &'static str,
}

/// A workload with its parameters. Every label and type starts with `Bench`, so the bench can delete exactly
/// what it wrote from a database that holds other data.
pub struct Workload {
    /// The shape.
    pub shape: Shape,
    /// Distinct source keys (rows beyond that update earlier nodes).
    pub cardinality: u64,
    props: Vec<Name>,
    /// Characters per property value (0: integer values).
    size: usize,
    hubs: u64,
    zeros: String,
}

const SOURCE_KEY: &str = "id";

impl Workload {
    /// A workload; `cardinality` is clamped to at least 1.
    pub fn new(
        shape: Shape,
        cardinality: u64,
        properties: usize,
        size: usize,
        hubs: u64,
    ) -> Workload {
        Workload {
            shape,
            cardinality: cardinality.max(1),
            props: (0..properties)
                .map(|j| Name::from(format!("p{j}")))
                .collect(),
            size,
            hubs: hubs.max(1),
            zeros: "0".repeat(size),
        }
    }

    fn source_label(&self) -> &'static str {
        match self.shape {
            Shape::Airports => "BenchAirport",
            Shape::Nodes => "BenchNode",
            Shape::Star => "BenchLeaf",
            Shape::Chain => "BenchLink",
        }
    }

    fn rel_kinds(&self) -> Vec<RelKind> {
        match self.shape {
            Shape::Airports => vec![
                RelKind {
                    rel_type: "BenchIN_COUNTRY",
                    to_label: "BenchCountry",
                    to_key: "code",
                    hubs: self.hubs,
                    prefix: "c",
                },
                RelKind {
                    rel_type: "BenchIN_REGION",
                    to_label: "BenchRegion",
                    to_key: "code",
                    hubs: self.hubs * 10,
                    prefix: "r",
                },
            ],
            Shape::Nodes => Vec::new(),
            Shape::Star => vec![RelKind {
                rel_type: "BenchSTAR",
                to_label: "BenchHub",
                to_key: "id",
                hubs: self.hubs,
                prefix: "h",
            }],
            Shape::Chain => vec![RelKind {
                rel_type: "BenchNEXT",
                to_label: "BenchLink",
                to_key: SOURCE_KEY,
                hubs: 0,
                prefix: "k",
            }],
        }
    }

    /// Node labels written, sources first.
    pub fn labels(&self) -> Vec<String> {
        let mut out = vec![self.source_label().to_string()];
        for r in self.rel_kinds() {
            if !out.iter().any(|l| l == r.to_label) {
                out.push(r.to_label.to_string());
            }
        }
        out
    }

    /// Relationship types written.
    pub fn rel_types(&self) -> Vec<String> {
        self.rel_kinds()
            .iter()
            .map(|r| r.rel_type.to_string())
            .collect()
    }

    /// (label, key) pairs that need an index for `MERGE` to find nodes fast.
    pub fn keys(&self) -> Vec<(String, Vec<String>)> {
        let mut out = vec![(
            self.source_label().to_string(),
            vec![SOURCE_KEY.to_string()],
        )];
        for r in self.rel_kinds() {
            if !out.iter().any(|(l, _)| l == r.to_label) {
                out.push((r.to_label.to_string(), vec![r.to_key.to_string()]));
            }
        }
        out
    }

    fn source_key(&self, i: u64) -> String {
        format!("k{}", i % self.cardinality)
    }

    fn end_key(&self, r: &RelKind, i: u64) -> String {
        if r.hubs == 0 {
            self.source_key(i + 1)
        } else {
            format!("{}{}", r.prefix, i % r.hubs)
        }
    }

    fn value(&self, i: u64, j: usize) -> Value {
        let n = i * self.props.len() as u64 + j as u64;
        if self.size == 0 {
            return Value::Integer(n as i64);
        }
        // The last `size` characters of zeros followed by the number: Cypher's right($zeros + toString(n), size).
        let s = format!("{}{n}", self.zeros);
        Value::String(s[s.len() - self.size..].to_string())
    }

    fn node(label: &str, key: &str, value: String, properties: Properties) -> Node {
        Node {
            type_: label.to_string(),
            key_values: [(Name::from(key), Value::String(value))]
                .into_iter()
                .collect(),
            properties,
            additional_types: Vec::new(),
        }
    }

    /// Row `i`.
    pub fn row(&self, i: u64) -> DesiredIngestion {
        let props: Properties = self
            .props
            .iter()
            .enumerate()
            .map(|(j, p)| (p.clone(), self.value(i, j)))
            .collect();
        let key = self.source_key(i);
        let source = Self::node(self.source_label(), SOURCE_KEY, key.clone(), props);
        let relationships = self
            .rel_kinds()
            .iter()
            .map(|r| RelationshipWithNodes {
                from_node: Self::node(
                    self.source_label(),
                    SOURCE_KEY,
                    key.clone(),
                    Default::default(),
                ),
                to_node: Self::node(r.to_label, r.to_key, self.end_key(r, i), Default::default()),
                relationship: Relationship {
                    type_: r.rel_type.to_string(),
                    key_values: Default::default(),
                    properties: Default::default(),
                },
                from_side_node_creation_rule: NodeCreationRule::Eager,
                to_side_node_creation_rule: NodeCreationRule::Eager,
                relationship_creation_rule: RelationshipCreationRule::Eager,
            })
            .collect();
        DesiredIngestion {
            source,
            source_node_creation_rule: NodeCreationRule::Eager,
            relationships,
        }
    }

    /// The Cypher map of the source properties of row `i` (`$zeros` is the string of `size` zeros).
    fn cypher_props(&self) -> String {
        let n = self.props.len();
        let items: Vec<String> = (0..n)
            .map(|j| {
                let v = if self.size == 0 {
                    format!("i * {n} + {j}")
                } else {
                    format!("right($zeros + toString(i * {n} + {j}), {})", self.size)
                };
                format!("{}: {v}", self.props[j])
            })
            .collect();
        format!("{{{}}}", items.join(", "))
    }

    fn cypher_end_key(&self, r: &RelKind) -> String {
        if r.hubs == 0 {
            format!("'k' + toString((i + 1) % {})", self.cardinality)
        } else {
            format!("'{}' + toString(i % {})", r.prefix, r.hubs)
        }
    }

    /// Zeros for the `$zeros` parameter of the ceiling statements.
    pub fn zeros(&self) -> &str {
        &self.zeros
    }

    /// The ceiling: the writer's own per-row statements (plain, as with `use_apoc: false`), fed by the same row
    /// maps built inside the server from `range(0, $n - 1)`, in the writer's order (nodes, then relationships),
    /// `$b` rows per transaction. Parameters: `$n`, `$b`, `$zeros`.
    pub fn ceiling_statements(&self) -> Vec<String> {
        let keys = [SOURCE_KEY.to_string()];
        let mut out = Vec::new();
        let node_stmt = |label: &str, key: &[String]| {
            cypher::node_statement(
                &NodeSpec {
                    label,
                    keys: key,
                    additional_labels: &[],
                    rule: NodeCreationRule::Eager,
                },
                false,
                false,
            )
        };
        let key_param =
            |prefix: &str, key: &str| crate::quoting::name(&format!("__{prefix}_{key}"));
        let source_key = format!("'k' + toString(i % {})", self.cardinality);
        out.push(format!(
            "UNWIND range(0, $n - 1) AS i CALL {{ WITH i WITH {{{}: {source_key}, __node_properties: {}}} AS params {} }} IN TRANSACTIONS OF $b ROWS",
            key_param("node", SOURCE_KEY),
            self.cypher_props(),
            node_stmt(self.source_label(), &keys)
        ));
        let kinds = self.rel_kinds();
        for r in &kinds {
            if r.hubs == 0 {
                continue; // The chain's end nodes are the source nodes.
            }
            let key = [r.to_key.to_string()];
            out.push(format!(
                "UNWIND range(0, $n - 1) AS i WITH DISTINCT {} AS k CALL {{ WITH k WITH {{{}: k, __node_properties: {{}}}} AS params {} }} IN TRANSACTIONS OF $b ROWS",
                self.cypher_end_key(r),
                key_param("node", r.to_key),
                node_stmt(r.to_label, &key)
            ));
        }
        for r in &kinds {
            let to_keys = [r.to_key.to_string()];
            let spec = RelSpec {
                from: NodeSpec {
                    label: self.source_label(),
                    keys: &keys,
                    additional_labels: &[],
                    rule: NodeCreationRule::MatchOnly,
                },
                to: NodeSpec {
                    label: r.to_label,
                    keys: &to_keys,
                    additional_labels: &[],
                    rule: NodeCreationRule::MatchOnly,
                },
                rel_type: r.rel_type,
                keys: &[],
                rule: RelationshipCreationRule::Eager,
            };
            out.push(format!(
                "UNWIND range(0, $n - 1) AS i CALL {{ WITH i WITH {{{}: {source_key}, {}: {}, __rel_properties: {{}}}} AS params {} }} IN TRANSACTIONS OF $b ROWS",
                key_param("from_node", SOURCE_KEY),
                key_param("to_node", r.to_key),
                self.cypher_end_key(r),
                cypher::relationship_statement(&spec, false)
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_match_the_cypher_formula() {
        let w = Workload::new(Shape::Nodes, 10, 2, 4, 1);
        assert_eq!(w.value(3, 1), Value::String("0007".into()));
        assert_eq!(w.value(60000, 0), Value::String("0000".into()));
        let w = Workload::new(Shape::Nodes, 10, 2, 0, 1);
        assert_eq!(w.value(3, 1), Value::Integer(7));
    }

    #[test]
    fn airports_rows_have_two_relationships_and_bench_labels() {
        let w = Workload::new(Shape::Airports, 100, 3, 8, 5);
        let r = w.row(7);
        assert_eq!(r.relationships.len(), 2);
        assert_eq!(r.source.properties.len(), 3);
        assert!(w.labels().iter().all(|l| l.starts_with("Bench")));
        assert_eq!(w.ceiling_statements().len(), 5);
        let c = Workload::new(Shape::Chain, 10, 1, 0, 1);
        assert_eq!(c.ceiling_statements().len(), 2);
        assert_eq!(c.labels(), vec!["BenchLink".to_string()]);
    }
}
