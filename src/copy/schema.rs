//! The part of the project schema (spec §6.3) that `copy` needs, and the `--node/--relationship` filter.
//!
//! Kept small on purpose: the project's full schema converts into it (`From` impls live next to the schema
//! type), so the copier does not depend on property types or cardinalities.

use indexmap::{IndexMap, IndexSet};

/// Node types, relationship types (each with key names) and adjacencies.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CopySchema {
    /// Node type → key names, in declaration order.
    pub nodes: IndexMap<String, Vec<String>>,
    /// Relationship type → key names.
    pub relationships: IndexMap<String, Vec<String>>,
    /// (from node type, relationship type, to node type), de-duplicated, in declaration order.
    pub adjacencies: IndexSet<Adjacency>,
}

/// One `(from)-[rel]->(to)` combination the project writes.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Adjacency {
    /// Start node type.
    pub from: String,
    /// Relationship type.
    pub rel: String,
    /// End node type.
    pub to: String,
}

impl Adjacency {
    /// Builds an adjacency.
    pub fn new(from: &str, rel: &str, to: &str) -> Adjacency {
        Adjacency {
            from: from.into(),
            rel: rel.into(),
            to: to.into(),
        }
    }
}

impl CopySchema {
    #[cfg(test)]
    /// Adds a node type (keys are kept if the type is already known without keys).
    pub fn add_node(&mut self, name: &str, keys: &[&str]) -> &mut Self {
        let entry = self.nodes.entry(name.to_string()).or_default();
        if entry.is_empty() {
            *entry = keys.iter().map(|k| k.to_string()).collect();
        }
        self
    }

    #[cfg(test)]
    /// Adds a relationship type.
    pub fn add_relationship(&mut self, name: &str, keys: &[&str]) -> &mut Self {
        let entry = self.relationships.entry(name.to_string()).or_default();
        if entry.is_empty() {
            *entry = keys.iter().map(|k| k.to_string()).collect();
        }
        self
    }

    /// Adds an adjacency (its types must be added separately, as the schema does).
    pub fn add_adjacency(&mut self, from: &str, rel: &str, to: &str) -> &mut Self {
        self.adjacencies.insert(Adjacency::new(from, rel, to));
        self
    }

    /// The adjacencies of one relationship type.
    pub fn adjacencies_of<'s, 'r>(
        &'s self,
        rel: &'r str,
    ) -> impl Iterator<Item = &'s Adjacency> + use<'s, 'r> {
        self.adjacencies.iter().filter(move |a| a.rel == rel)
    }

    /// Python's `Schema.filtered` after the CLI dropped unknown names (returned as warnings):
    /// an adjacency survives when its type passes the relationship filter and one of its ends passes the node
    /// filter (an empty filter passes everything); endpoint types of surviving adjacencies are kept even when
    /// not named; relationship types without a surviving adjacency are dropped.
    pub fn filtered(
        &self,
        node_filter: &[String],
        rel_filter: &[String],
    ) -> (CopySchema, Vec<String>) {
        let mut warnings = Vec::new();
        let nodes: IndexSet<&str> = node_filter
            .iter()
            .filter(|n| {
                let known = self.nodes.contains_key(n.as_str());
                if !known {
                    warnings.push(format!("Unknown node type '{n}' — skipping"));
                }
                known
            })
            .map(String::as_str)
            .collect();
        let rels: IndexSet<&str> = rel_filter
            .iter()
            .filter(|r| {
                let known = self.relationships.contains_key(r.as_str());
                if !known {
                    warnings.push(format!("Unknown relationship type '{r}' — skipping"));
                }
                known
            })
            .map(String::as_str)
            .collect();
        let node_ok = |n: &str| nodes.is_empty() || nodes.contains(n);
        let rel_ok = |r: &str| rels.is_empty() || rels.contains(r);

        let adjacencies: IndexSet<Adjacency> = self
            .adjacencies
            .iter()
            .filter(|a| rel_ok(&a.rel) && (node_ok(&a.from) || node_ok(&a.to)))
            .cloned()
            .collect();
        let endpoint = |n: &str| adjacencies.iter().any(|a| a.from == n || a.to == n);
        let out = CopySchema {
            nodes: self
                .nodes
                .iter()
                .filter(|(n, _)| node_ok(n) || endpoint(n))
                .map(|(n, k)| (n.clone(), k.clone()))
                .collect(),
            relationships: self
                .relationships
                .iter()
                .filter(|(r, _)| adjacencies.iter().any(|a| &a.rel == *r))
                .map(|(r, k)| (r.clone(), k.clone()))
                .collect(),
            adjacencies,
        };
        (out, warnings)
    }
}

impl From<&crate::schema::Schema> for CopySchema {
    fn from(s: &crate::schema::Schema) -> CopySchema {
        let mut out = CopySchema::default();
        for t in s.nodes() {
            out.nodes
                .insert(t.name.clone(), t.keys.iter().cloned().collect());
        }
        for t in s.relationships() {
            out.relationships
                .insert(t.name.clone(), t.keys.iter().cloned().collect());
        }
        for a in s.adjacencies.keys() {
            out.add_adjacency(&a.from_node_type, &a.relationship_type, &a.to_node_type);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> CopySchema {
        let mut s = CopySchema::default();
        s.add_node("Person", &["id"])
            .add_node("Company", &["id"])
            .add_node("City", &["name"])
            .add_node("Lonely", &["id"])
            .add_relationship("WORKS_AT", &[])
            .add_relationship("LIVES_IN", &[])
            .add_relationship("UNUSED", &[])
            .add_adjacency("Person", "WORKS_AT", "Company")
            .add_adjacency("Person", "LIVES_IN", "City")
            .add_adjacency("Company", "LIVES_IN", "City");
        s
    }

    fn names<V>(m: &IndexMap<String, V>) -> Vec<&str> {
        m.keys().map(String::as_str).collect()
    }

    #[test]
    fn no_filter_keeps_all_nodes_and_used_relationships() {
        let (f, w) = sample().filtered(&[], &[]);
        assert!(w.is_empty());
        assert_eq!(names(&f.nodes), ["Person", "Company", "City", "Lonely"]);
        assert_eq!(names(&f.relationships), ["WORKS_AT", "LIVES_IN"]);
        assert_eq!(f.adjacencies.len(), 3);
    }

    #[test]
    fn node_filter_keeps_touching_adjacencies_and_their_endpoints() {
        let (f, _) = sample().filtered(&["Company".into()], &[]);
        assert_eq!(names(&f.nodes), ["Person", "Company", "City"]);
        assert_eq!(names(&f.relationships), ["WORKS_AT", "LIVES_IN"]);
        assert_eq!(
            f.adjacencies.iter().cloned().collect::<Vec<_>>(),
            [
                Adjacency::new("Person", "WORKS_AT", "Company"),
                Adjacency::new("Company", "LIVES_IN", "City")
            ]
        );
        let (f, _) = sample().filtered(&["Lonely".into()], &[]);
        assert_eq!(names(&f.nodes), ["Lonely"]);
        assert!(f.relationships.is_empty() && f.adjacencies.is_empty());
    }

    #[test]
    fn relationship_filter_and_both() {
        let (f, _) = sample().filtered(&[], &["LIVES_IN".into()]);
        // With no node filter every node type passes, so all node types stay.
        assert_eq!(names(&f.nodes), ["Person", "Company", "City", "Lonely"]);
        assert_eq!(names(&f.relationships), ["LIVES_IN"]);
        let (f, _) = sample().filtered(&["Person".into()], &["LIVES_IN".into()]);
        assert_eq!(names(&f.nodes), ["Person", "City"]);
        assert_eq!(f.adjacencies.len(), 1);
    }

    #[test]
    fn unknown_names_are_warned_and_ignored() {
        let (f, w) = sample().filtered(&["Nope".into()], &["NOPE".into()]);
        assert_eq!(
            w,
            [
                "Unknown node type 'Nope' — skipping",
                "Unknown relationship type 'NOPE' — skipping"
            ]
        );
        // Both filters end up empty: everything passes, as in Python.
        assert_eq!(f, sample().filtered(&[], &[]).0);
    }
}
