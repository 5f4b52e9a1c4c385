//! Cypher read by `copy` on the source (spec §7.2), with our paging.
//!
//! The histogram counts are Python's. Shards differ on purpose: Python pages every shard with
//! `ORDER BY … SKIP $offset LIMIT $limit`, which re-sorts the whole type per shard (O(count) each) and can skip or
//! repeat records when the graph changes between shards. We stream the element ids of a type once (one scan),
//! cut them into shards of `shard_size` ids, and read each shard with an element-id seek
//! (`WHERE elementId(r) IN $ids`, an `…ByElementIdSeek` plan): every record that exists for the whole run is read
//! exactly once, and a shard costs O(shard_size). Servers without `elementId` (4.x) use `id()` the same way.

use crate::quoting::push_quoted;

/// Which identity function the server has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IdFunction {
    /// `elementId()` (Neo4j 5 and later).
    ElementId,
    /// `id()` (Neo4j 4.x).
    Id,
}

impl IdFunction {
    fn name(self) -> &'static str {
        match self {
            IdFunction::ElementId => "elementId",
            IdFunction::Id => "id",
        }
    }
}

/// The filters of one run: sampling (relationships only) and the `latest_hours` cutoff.
#[derive(Debug, Clone, Copy)]
pub struct Filters {
    /// Keep relationships whose id number is divisible by this.
    pub sample_ratio: Option<i64>,
    /// Filter on `last_ingested_at >= $cutoff`.
    pub latest: bool,
    /// The id function of the server.
    pub id_fn: IdFunction,
}

impl Filters {
    /// `WHERE <c1> AND <c2>\n`, or nothing; as Python's `build_where_clause`.
    fn push_where(&self, out: &mut String, var: &str, sample: bool) {
        let mut clauses: Vec<String> = Vec::new();
        if sample && let Some(n) = self.sample_ratio {
            clauses.push(match self.id_fn {
                IdFunction::ElementId => {
                    format!("toInteger(split(elementId({var}), ':')[-1]) % {n} = 0")
                }
                IdFunction::Id => format!("id({var}) % {n} = 0"),
            });
        }
        if self.latest {
            clauses.push(format!("{var}.`last_ingested_at` >= $cutoff"));
        }
        if !clauses.is_empty() {
            out.push_str("WHERE ");
            out.push_str(&clauses.join(" AND "));
            out.push('\n');
        }
    }

    /// Python's node count query.
    pub fn count_nodes(&self, label: &str) -> String {
        let mut q = String::from("MATCH (n:");
        push_quoted(&mut q, label);
        q.push_str(")\n");
        self.push_where(&mut q, "n", false);
        q.push_str("RETURN count(n) AS count\n");
        q
    }

    /// Python's relationship count query.
    pub fn count_relationships(&self, rel_type: &str) -> String {
        let mut q = String::from("MATCH ()-[r:");
        push_quoted(&mut q, rel_type);
        q.push_str("]->()\n");
        self.push_where(&mut q, "r", true);
        q.push_str("RETURN count(r) AS count\n");
        q
    }

    /// Streams the identity of every node of a label that passes the filters.
    pub fn node_ids(&self, label: &str) -> String {
        let mut q = String::from("MATCH (n:");
        push_quoted(&mut q, label);
        q.push_str(")\n");
        self.push_where(&mut q, "n", false);
        q.push_str("RETURN ");
        q.push_str(self.id_fn.name());
        q.push_str("(n) AS id\n");
        q
    }

    /// Streams the identity of every relationship of a type that passes the filters.
    pub fn relationship_ids(&self, rel_type: &str) -> String {
        let mut q = String::from("MATCH ()-[r:");
        push_quoted(&mut q, rel_type);
        q.push_str("]->()\n");
        self.push_where(&mut q, "r", true);
        q.push_str("RETURN ");
        q.push_str(self.id_fn.name());
        q.push_str("(r) AS id\n");
        q
    }

    /// Reads one node shard by identity seek (`$ids`).
    pub fn node_shard(&self) -> String {
        format!(
            "MATCH (n) WHERE {}(n) IN $ids\nRETURN n\n",
            self.id_fn.name()
        )
    }

    /// Reads one relationship shard, with both endpoints, by identity seek (`$ids`).
    pub fn relationship_shard(&self) -> String {
        format!(
            "MATCH (a)-[r]->(b) WHERE {}(r) IN $ids\nRETURN a, r, b\n",
            self.id_fn.name()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_match_python_text() {
        let f = Filters {
            sample_ratio: None,
            latest: false,
            id_fn: IdFunction::ElementId,
        };
        assert_eq!(
            f.count_nodes("Person"),
            "MATCH (n:`Person`)\nRETURN count(n) AS count\n"
        );
        assert_eq!(
            f.count_relationships("WORKS_AT"),
            "MATCH ()-[r:`WORKS_AT`]->()\nRETURN count(r) AS count\n"
        );
        let f = Filters {
            sample_ratio: Some(100),
            latest: true,
            id_fn: IdFunction::ElementId,
        };
        assert_eq!(
            f.count_relationships("WORKS_AT"),
            "MATCH ()-[r:`WORKS_AT`]->()\nWHERE toInteger(split(elementId(r), ':')[-1]) % 100 = 0 AND \
             r.`last_ingested_at` >= $cutoff\nRETURN count(r) AS count\n"
        );
        // Nodes are never sampled.
        assert_eq!(
            f.count_nodes("Person"),
            "MATCH (n:`Person`)\nWHERE n.`last_ingested_at` >= $cutoff\nRETURN count(n) AS count\n"
        );
    }

    #[test]
    fn ids_and_shards_escape_names() {
        let f = Filters {
            sample_ratio: Some(3),
            latest: false,
            id_fn: IdFunction::Id,
        };
        assert_eq!(
            f.node_ids("We`ird Label"),
            "MATCH (n:`We``ird Label`)\nRETURN id(n) AS id\n"
        );
        assert_eq!(
            f.relationship_ids("R"),
            "MATCH ()-[r:`R`]->()\nWHERE id(r) % 3 = 0\nRETURN id(r) AS id\n"
        );
        assert_eq!(
            f.relationship_shard(),
            "MATCH (a)-[r]->(b) WHERE id(r) IN $ids\nRETURN a, r, b\n"
        );
        let f = Filters {
            id_fn: IdFunction::ElementId,
            ..f
        };
        assert_eq!(
            f.node_shard(),
            "MATCH (n) WHERE elementId(n) IN $ids\nRETURN n\n"
        );
    }
}
