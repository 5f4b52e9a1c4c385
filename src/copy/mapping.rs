//! Source rows → desired ingestions (spec §5.2 step 4, §7.2 "Mapping of a row").
//!
//! A node of type T: T's schema keys become keys, every other property a property, every other label an
//! additional label, rule EAGER. A relationship: both endpoints mapped the same way (EAGER), every relationship
//! property copied. Deliberate difference from Python: relationship types whose schema declares keys keep them as
//! keys, so parallel relationships that differ in their keys stay distinct instead of collapsing into one.

use super::schema::{Adjacency, CopySchema};
use crate::model::{
    DesiredIngestion, Node, NodeCreationRule, Properties, Relationship, RelationshipCreationRule,
    RelationshipWithNodes,
};
use bolt::value::Node as SourceNode;
use bolt::value::Relationship as SourceRelationship;
use std::collections::HashSet;
use std::sync::Mutex;

/// Maps rows of one copy run; warns once per type about missing keys.
pub struct Mapper {
    schema: CopySchema,
    /// Endpoint nodes of relationships carry only keys and labels (their node shards set the properties).
    keys_only_endpoints: bool,
    warned: Mutex<HashSet<String>>,
}

impl Mapper {
    /// A mapper over the (filtered) schema.
    pub fn new(schema: CopySchema, keys_only_endpoints: bool) -> Mapper {
        Mapper {
            schema,
            keys_only_endpoints,
            warned: Mutex::new(HashSet::new()),
        }
    }

    /// The schema the mapper uses.
    pub fn schema(&self) -> &CopySchema {
        &self.schema
    }

    fn warn_once(&self, key: String, message: impl FnOnce() -> String) {
        let mut w = self.warned.lock().unwrap_or_else(|p| p.into_inner());
        if w.insert(key) {
            tracing::warn!("{}", message());
        }
    }

    /// Maps a source node as type `node_type`; `None` when the type is not in the schema.
    pub fn node(&self, source: SourceNode, node_type: &str, keys_only: bool) -> Option<Node> {
        let Some(keys) = self.schema.nodes.get(node_type) else {
            self.warn_once(format!("type:{node_type}"), || {
                format!("Node type '{node_type}' not found in schema — skipping record")
            });
            return None;
        };
        let mut properties = source.properties;
        let mut key_values = Properties::with_capacity(keys.len());
        for k in keys {
            match properties.swap_remove(k) {
                Some(v) => {
                    key_values.insert(k.as_str().into(), v);
                }
                None => self.warn_once(format!("key:{node_type}:{k}"), || {
                    format!(
                        "Node type '{node_type}' is missing declared key '{k}' — it will be absent from the copy"
                    )
                }),
            }
        }
        if keys_only {
            // The node's own shard sets the properties. Labels stay: the endpoint then has the same shape as the
            // node-shard record, so both land in one bucket and are merged once (two buckets would MERGE the same
            // node concurrently, which creates duplicates on a destination without key constraints).
            properties.clear();
        }
        let mut additional_types = source.labels;
        additional_types.retain(|l| l != node_type);
        Some(Node {
            type_: node_type.to_string(),
            key_values,
            properties: crate::model::properties(properties),
            additional_types,
        })
    }

    /// Maps one node-shard row into a node ingestion (None if the type is unknown).
    pub fn node_ingestion(&self, source: SourceNode, node_type: &str) -> Option<DesiredIngestion> {
        let node = self.node(source, node_type, false)?;
        Some(DesiredIngestion {
            source: node,
            source_node_creation_rule: NodeCreationRule::Eager,
            relationships: Vec::new(),
        })
    }

    /// Maps one relationship row: one ingestion per schema adjacency of the relationship's type whose end
    /// types are labels of the endpoints (as Python, which reads each adjacency with its own labelled query).
    pub fn relationship_ingestions(
        &self,
        from: SourceNode,
        rel: SourceRelationship,
        to: SourceNode,
        out: &mut Vec<DesiredIngestion>,
    ) {
        let mut matching: Vec<&Adjacency> = self
            .schema
            .adjacencies_of(&rel.rel_type)
            .filter(|a| from.labels.contains(&a.from) && to.labels.contains(&a.to))
            .collect();
        let Some(last) = matching.pop() else {
            return;
        };
        for adj in matching {
            if let Some(i) = self.relationship(from.clone(), rel.clone(), to.clone(), adj) {
                out.push(i);
            }
        }
        if let Some(i) = self.relationship(from, rel, to, last) {
            out.push(i);
        }
    }

    fn relationship(
        &self,
        from: SourceNode,
        rel: SourceRelationship,
        to: SourceNode,
        adj: &Adjacency,
    ) -> Option<DesiredIngestion> {
        let from_node = self.node(from, &adj.from, self.keys_only_endpoints)?;
        let to_node = self.node(to, &adj.to, self.keys_only_endpoints)?;
        let mut properties = rel.properties;
        let mut key_values = Properties::new();
        if let Some(keys) = self.schema.relationships.get(&adj.rel) {
            for k in keys {
                if let Some(v) = properties.swap_remove(k) {
                    key_values.insert(k.as_str().into(), v);
                }
            }
        }
        let relationship = RelationshipWithNodes {
            from_node: from_node.clone(),
            to_node,
            relationship: Relationship {
                type_: adj.rel.clone(),
                key_values,
                properties: crate::model::properties(properties),
            },
            from_side_node_creation_rule: NodeCreationRule::Eager,
            to_side_node_creation_rule: NodeCreationRule::Eager,
            relationship_creation_rule: RelationshipCreationRule::Eager,
        };
        // Python's RelationshipWithNodes.into_ingest: the start node is the source of the ingestion.
        Some(DesiredIngestion {
            source: from_node,
            source_node_creation_rule: NodeCreationRule::Eager,
            relationships: vec![relationship],
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bolt::Value;

    fn node(labels: &[&str], props: &[(&str, Value)]) -> SourceNode {
        SourceNode {
            id: 1,
            labels: labels.iter().map(|s| s.to_string()).collect(),
            properties: props
                .iter()
                .map(|(k, v)| (k.to_string(), v.clone()))
                .collect(),
            element_id: Some("4:x:1".into()),
        }
    }

    fn schema() -> CopySchema {
        let mut s = CopySchema::default();
        s.add_node("Person", &["id"])
            .add_node("Company", &["id"])
            .add_node("Keyless", &[])
            .add_relationship("WORKS_AT", &[])
            .add_relationship("OWNS", &["since"])
            .add_adjacency("Person", "WORKS_AT", "Company")
            .add_adjacency("Person", "OWNS", "Company");
        s
    }

    #[test]
    fn node_keys_properties_and_labels() {
        let m = Mapper::new(schema(), false);
        let n = m
            .node(
                node(
                    &["Employee", "Person"],
                    &[("name", "a".into()), ("id", 1.into())],
                ),
                "Person",
                false,
            )
            .unwrap();
        assert_eq!(n.type_, "Person");
        assert_eq!(n.key_values.get("id"), Some(&Value::Integer(1)));
        assert_eq!(n.properties.len(), 1);
        assert_eq!(n.properties.get("name"), Some(&Value::from("a")));
        assert_eq!(n.additional_types, ["Employee"]);
        assert!(n.is_valid());
        // Unknown type: skipped. Key-less type: mapped but invalid (the writer skips it, as in Python).
        assert!(m.node(node(&["X"], &[]), "X", false).is_none());
        let k = m
            .node(node(&["Keyless"], &[("a", 1.into())]), "Keyless", false)
            .unwrap();
        assert!(!k.is_valid());
        // Missing key: absent, so the node is invalid too.
        assert!(
            !m.node(node(&["Person"], &[("name", "a".into())]), "Person", false)
                .unwrap()
                .is_valid()
        );
    }

    #[test]
    fn relationships_follow_matching_adjacencies() {
        let m = Mapper::new(schema(), true);
        let rel = |t: &str| SourceRelationship {
            id: 7,
            start_node_id: 1,
            end_node_id: 2,
            rel_type: t.into(),
            properties: [("since".to_string(), Value::Integer(2020))]
                .into_iter()
                .collect(),
            element_id: None,
            start_node_element_id: None,
            end_node_element_id: None,
        };
        let p = node(&["Person"], &[("id", 1.into()), ("name", "p".into())]);
        let c = node(&["Company", "Vendor"], &[("id", 2.into())]);
        let mut out = Vec::new();
        m.relationship_ingestions(p.clone(), rel("WORKS_AT"), c.clone(), &mut out);
        assert_eq!(out.len(), 1);
        let r = &out[0].relationships[0];
        assert_eq!(out[0].source.type_, "Person");
        // keys_only endpoints: no properties, but their labels (same shape as the node-shard record).
        assert!(r.from_node.properties.is_empty());
        assert_eq!(r.to_node.additional_types, ["Vendor"]);
        assert_eq!(r.to_node.key_values.get("id"), Some(&Value::Integer(2)));
        let full = Mapper::new(schema(), false);
        let mut out2 = Vec::new();
        full.relationship_ingestions(p.clone(), rel("WORKS_AT"), c.clone(), &mut out2);
        let r2 = &out2[0].relationships[0];
        assert_eq!(r2.to_node.additional_types, ["Vendor"]);
        assert_eq!(r2.from_node.properties.get("name"), Some(&Value::from("p")));
        assert!(r.relationship.key_values.is_empty());
        assert_eq!(
            r.relationship.properties.get("since"),
            Some(&Value::Integer(2020))
        );
        // A declared relationship key is kept as a key.
        out.clear();
        m.relationship_ingestions(p.clone(), rel("OWNS"), c.clone(), &mut out);
        let r = &out[0].relationships[0];
        assert_eq!(
            r.relationship.key_values.get("since"),
            Some(&Value::Integer(2020))
        );
        assert!(r.relationship.properties.is_empty());
        // Endpoints that match no adjacency: nothing.
        out.clear();
        m.relationship_ingestions(c, rel("WORKS_AT"), p, &mut out);
        assert!(out.is_empty());
    }
}
