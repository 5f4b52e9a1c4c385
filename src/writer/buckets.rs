//! Buckets and de-duplication (spec §3.6) and the encoding of each bucket's rows straight into PackStream.
//!
//! A bucket is one operation shape. Each row keeps its identity as an already-encoded fragment of the row map
//! (`"__node_k1" v1 "__node_k2" v2 ...`) in a per-bucket arena; equal fragments are equal identities, so the
//! fragment is both the de-duplication key and the bytes copied into the outgoing batch. Properties are moved
//! from the model objects and merged on duplicates (later value wins, first insertion order kept).

use crate::model::{
    DesiredIngestion, Node, NodeCreationRule, Properties, RelationshipCreationRule,
    RelationshipWithNodes,
};
use bolt::packstream::encode::{self, Encode, WireFormat};
use bytes::{BufMut, BytesMut};
use hashbrown::HashTable;
use std::hash::BuildHasher;
use std::ops::Range;

/// Hashes node identities the same way in every batch of a run, so the scheduler sees one node across batches.
pub const IDENTITY: foldhash::fast::FixedState =
    foldhash::fast::FixedState::with_seed(0x6e6f_6465_7374_7265);

/// A node operation shape: (label, key names, additional labels, rule).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct NodeShape {
    /// Primary label.
    pub label: String,
    /// Key names, in order.
    pub keys: Vec<String>,
    /// Additional labels.
    pub additional_labels: Vec<String>,
    /// Creation rule.
    pub rule: NodeCreationRule,
}

impl NodeShape {
    fn of(node: &Node, rule: NodeCreationRule) -> NodeShape {
        NodeShape {
            label: node.type_.clone(),
            keys: node.key_values.keys().map(|k| k.to_string()).collect(),
            additional_labels: node.additional_types.clone(),
            rule,
        }
    }

    fn matches(&self, node: &Node, rule: NodeCreationRule) -> bool {
        self.rule == rule
            && self.label == node.type_
            && self.additional_labels == node.additional_types
            && self.keys.len() == node.key_values.len()
            && self
                .keys
                .iter()
                .zip(node.key_values.keys())
                .all(|(a, b)| **a == **b)
    }

    /// The view the Cypher generator needs.
    pub fn spec(&self) -> super::cypher::NodeSpec<'_> {
        super::cypher::NodeSpec {
            label: &self.label,
            keys: &self.keys,
            additional_labels: &self.additional_labels,
            rule: self.rule,
        }
    }
}

/// A relationship operation shape: endpoints (creation-prevented), type, key names and rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RelShape {
    /// Start node shape.
    pub from: NodeShape,
    /// End node shape.
    pub to: NodeShape,
    /// Relationship type.
    pub rel_type: String,
    /// Relationship key names.
    pub keys: Vec<String>,
    /// MERGE or CREATE.
    pub rule: RelationshipCreationRule,
}

impl RelShape {
    fn of(r: &RelationshipWithNodes) -> RelShape {
        RelShape {
            from: NodeShape::of(
                &r.from_node,
                r.from_side_node_creation_rule.prevent_creation(),
            ),
            to: NodeShape::of(&r.to_node, r.to_side_node_creation_rule.prevent_creation()),
            rel_type: r.relationship.type_.clone(),
            keys: r
                .relationship
                .key_values
                .keys()
                .map(|k| k.to_string())
                .collect(),
            rule: r.relationship_creation_rule,
        }
    }

    fn matches(&self, r: &RelationshipWithNodes) -> bool {
        self.rule == r.relationship_creation_rule
            && self.rel_type == r.relationship.type_
            && self.keys.len() == r.relationship.key_values.len()
            && self
                .keys
                .iter()
                .zip(r.relationship.key_values.keys())
                .all(|(a, b)| **a == **b)
            && self.from.matches(
                &r.from_node,
                r.from_side_node_creation_rule.prevent_creation(),
            )
            && self
                .to
                .matches(&r.to_node, r.to_side_node_creation_rule.prevent_creation())
    }

    /// The view the Cypher generator needs.
    pub fn spec(&self) -> super::cypher::RelSpec<'_> {
        super::cypher::RelSpec {
            from: self.from.spec(),
            to: self.to.spec(),
            rel_type: &self.rel_type,
            keys: &self.keys,
            rule: self.rule,
        }
    }
}

/// Writes the string `__{prefix}_{name}` without building it first.
#[inline]
fn prefixed_name(buf: &mut Vec<u8>, prefix: &str, name: &str) {
    let len = 3 + prefix.len() + name.len();
    encode::string_header(buf, len);
    buf.extend_from_slice(b"__");
    buf.extend_from_slice(prefix.as_bytes());
    buf.push(b'_');
    buf.extend_from_slice(name.as_bytes());
}

/// Appends the key fragment of `keys` (name/value pairs) to the arena, reusing one scratch `BytesMut`.
fn key_fragment(arena: &mut Vec<u8>, scratch: &mut BytesMut, prefix: &str, keys: &Properties) {
    for (k, v) in keys {
        prefixed_name(arena, prefix, k);
        scratch.clear();
        v.encode(scratch);
        arena.extend_from_slice(scratch);
    }
}

/// One bucket's rows: identity fragments in `arena`, properties per row, and a hash index for de-duplication.
#[derive(Default)]
struct Rows {
    arena: Vec<u8>,
    rows: Vec<(Range<u32>, Properties)>,
    index: HashTable<u32>,
}

impl Rows {
    /// De-duplicates the fragment written at `arena[start..]`: a new row (true), or properties merged into the
    /// old one (false).
    fn insert(
        &mut self,
        start: usize,
        props: Properties,
        hasher: &hashbrown::DefaultHashBuilder,
        garbage: &mut Garbage,
    ) -> bool {
        let Rows { arena, rows, index } = self;
        let key = &arena[start..];
        let hash = hasher.hash_one(key);
        let found = index.find(hash, |&i| {
            let r = &rows[i as usize].0;
            &arena[r.start as usize..r.end as usize] == key
        });
        match found {
            Some(&i) => {
                arena.truncate(start);
                merge(&mut rows[i as usize].1, props, garbage);
                false
            }
            None => {
                let i = rows.len() as u32;
                rows.push((start as u32..arena.len() as u32, props));
                index.insert_unique(hash, i, |&j| {
                    let r = &rows[j as usize].0;
                    hasher.hash_one(&arena[r.start as usize..r.end as usize])
                });
                true
            }
        }
    }

    fn len(&self) -> usize {
        self.rows.len()
    }
}

/// Python's `dict.update`: later values win, first insertion order kept. Duplicates usually carry the same
/// names in the same order (the same interpretation made them), so those overwrite in place without hashing.
fn merge(old: &mut Properties, new: Properties, garbage: &mut Garbage) {
    if old.len() == new.len() && old.keys().zip(new.keys()).all(|(a, b)| **a == **b) {
        // Same names in the same order: the merged map is the new one.
        garbage.props.push(std::mem::replace(old, new));
    } else {
        old.extend(new);
    }
}

/// The node rows of one shape.
pub struct NodeBucket {
    /// The shape.
    pub shape: NodeShape,
    rows: Rows,
    labels: BytesMut,
    /// The node identity (see [`Batch::add_node`]) of each row, for the scheduler's lock footprints.
    ids: Vec<u64>,
}

/// The relationship rows of one shape.
pub struct RelBucket {
    /// The shape.
    pub shape: RelShape,
    rows: Rows,
    /// The identities of both endpoints of each row (MERGE locks both).
    ends: Vec<[u64; 2]>,
}

impl NodeBucket {
    /// The identity of row `i`: the node a write of it locks.
    pub fn id(&self, i: usize) -> u64 {
        self.ids[i]
    }
}

impl RelBucket {
    /// The endpoint identities of row `i`: the nodes a write of it locks.
    pub fn ends(&self, i: usize) -> [u64; 2] {
        self.ends[i]
    }
}

/// Everything buffered between two flushes.
#[derive(Default)]
pub struct Batch {
    /// Node buckets, in first-seen order.
    pub nodes: Vec<NodeBucket>,
    /// Relationship buckets, in first-seen order.
    pub rels: Vec<RelBucket>,
    node_index: hashbrown::HashMap<String, Vec<u32>>,
    rel_index: hashbrown::HashMap<String, Vec<u32>>,
    scratch: BytesMut,
    hasher: hashbrown::DefaultHashBuilder,
    /// What this batch is done with, freed by the thread that allocated it (see [`recycle`]).
    garbage: Garbage,
    /// Records added since the last flush.
    pub records: usize,
}

impl Drop for Batch {
    fn drop(&mut self) {
        let g = &mut self.garbage;
        for b in &mut self.nodes {
            g.rows.push(std::mem::take(&mut b.rows.rows));
        }
        for b in &mut self.rels {
            g.rows.push(std::mem::take(&mut b.rows.rows));
        }
        recycle::give(std::mem::replace(g, Garbage::EMPTY));
    }
}

/// Record parts the writer no longer needs, to be freed where they were allocated.
pub struct Garbage {
    nodes: Vec<Node>,
    props: Vec<Properties>,
    rels: Vec<Vec<RelationshipWithNodes>>,
    types: Vec<String>,
    rows: Vec<Vec<(Range<u32>, Properties)>>,
}

impl Garbage {
    const EMPTY: Garbage = Garbage {
        nodes: Vec::new(),
        props: Vec::new(),
        rels: Vec::new(),
        types: Vec::new(),
        rows: Vec::new(),
    };

    /// Frees the contents, keeping the lists' room for the next batch.
    fn clear(&mut self) {
        self.nodes.clear();
        self.props.clear();
        self.rels.clear();
        self.types.clear();
        self.rows.clear();
    }
}

impl Default for Garbage {
    /// Emptied lists of an earlier batch when there are some: a batch's lists are large, and fresh ones would
    /// be fresh memory for every batch.
    fn default() -> Self {
        recycle::spare().unwrap_or(Garbage::EMPTY)
    }
}

/// Hands the memory of written records back to the pipeline's steps thread, which allocated it.
///
/// mimalloc frees a block of another thread's page far more slowly than one of its own (an atomic hand-off,
/// attempts to reclaim the full page it abandoned, the owner collecting the block later): profiled, those
/// frees on the writer were ~20% of the client's CPU. Garbage is only handed over while a steps thread
/// takes it; otherwise (copy, tests, after the steps end) it is freed where it is.
pub mod recycle {
    use super::Garbage;
    use std::sync::Mutex;

    struct Bin {
        takers: usize,
        garbage: Vec<Garbage>,
        /// Emptied garbage lists, for the next batches.
        spare: Vec<Garbage>,
    }

    static BIN: Mutex<Bin> = Mutex::new(Bin {
        takers: 0,
        garbage: Vec::new(),
        spare: Vec::new(),
    });

    /// Emptied lists to reuse, if a taker has emptied some.
    pub(super) fn spare() -> Option<Garbage> {
        BIN.lock().ok()?.spare.pop()
    }

    /// Queues garbage for a taker, or frees it here when there is none.
    pub(super) fn give(g: Garbage) {
        let rest = match BIN.lock() {
            Ok(mut bin) if bin.takers > 0 => {
                bin.garbage.push(g);
                None
            }
            _ => Some(g),
        };
        drop(rest);
    }

    /// Frees the queued garbage on the thread holding it (the steps thread) while it lives.
    pub struct Taker(());

    impl Taker {
        /// Starts taking garbage.
        pub fn new() -> Taker {
            if let Ok(mut bin) = BIN.lock() {
                bin.takers += 1;
            }
            Taker(())
        }

        /// Frees what is queued; the emptied lists go back for reuse.
        pub fn collect(&self) {
            let mut queued = match BIN.lock() {
                Ok(mut bin) if !bin.garbage.is_empty() => std::mem::take(&mut bin.garbage),
                _ => return,
            };
            for g in &mut queued {
                g.clear();
            }
            if let Ok(mut bin) = BIN.lock() {
                // A few in reserve cover the batches in flight.
                let room = 4usize.saturating_sub(bin.spare.len());
                bin.spare.extend(queued.drain(..).take(room));
            }
        }
    }

    impl Drop for Taker {
        fn drop(&mut self) {
            let queued = match BIN.lock() {
                Ok(mut bin) => {
                    bin.takers = bin.takers.saturating_sub(1);
                    if bin.takers == 0 {
                        let spare = std::mem::take(&mut bin.spare);
                        bin.garbage.extend(spare);
                    }
                    std::mem::take(&mut bin.garbage)
                }
                Err(_) => Vec::new(),
            };
            drop(queued);
        }
    }
}

impl Batch {
    /// Whether nothing is buffered.
    pub fn is_empty(&self) -> bool {
        self.nodes.is_empty() && self.rels.is_empty()
    }

    /// Buffers one interpreted record (spec §3.1: nothing is written when the source node is invalid).
    pub fn add(&mut self, ingestion: DesiredIngestion) {
        self.records += 1;
        if !ingestion.source.is_valid() {
            if ingestion.relationships.is_empty() {
                tracing::debug!("Identity value for source node was null. Skipping Ingest.");
            } else {
                tracing::warn!("Identity value for source node was null. Skipping Ingest.");
            }
            return;
        }
        let DesiredIngestion {
            mut source,
            source_node_creation_rule: rule,
            relationships,
        } = ingestion;
        let props = std::mem::take(&mut source.properties);
        let id = self.insert_node(&source, props, rule);
        let mut relationships = relationships;
        for rel in relationships.drain(..) {
            self.add_relationship_of(rel, Some((&source, rule, id)));
        }
        self.garbage.nodes.push(source);
        self.garbage.rels.push(relationships);
    }

    /// Whether buffering `node` under `rule` would only merge nothing into the source's row: the relationship
    /// side that is the source node itself (same label, keys in order, labels, rule; no properties). Only
    /// values whose equality is byte equality of their encoding qualify.
    fn is_source(
        node: &Node,
        rule: NodeCreationRule,
        source: &Node,
        source_rule: NodeCreationRule,
    ) -> bool {
        use bolt::Value as V;
        rule == source_rule
            && node.properties.is_empty()
            && node.type_ == source.type_
            && node.additional_types == source.additional_types
            && node.key_values.len() == source.key_values.len()
            && node
                .key_values
                .iter()
                .zip(&source.key_values)
                .all(|((ka, va), (kb, vb))| {
                    ka == kb
                        && match (va, vb) {
                            (V::String(a), V::String(b)) => a == b,
                            (V::Integer(a), V::Integer(b)) => a == b,
                            (V::Boolean(a), V::Boolean(b)) => a == b,
                            _ => false,
                        }
                })
    }

    fn node_bucket(&mut self, node: &Node, rule: NodeCreationRule) -> usize {
        let candidates = match self.node_index.get(node.type_.as_str()) {
            Some(c) => c,
            None => self.node_index.entry(node.type_.clone()).or_default(),
        };
        if let Some(&i) = candidates
            .iter()
            .find(|&&i| self.nodes[i as usize].shape.matches(node, rule))
        {
            return i as usize;
        }
        let i = self.nodes.len();
        let shape = NodeShape::of(node, rule);
        let mut labels = BytesMut::new();
        shape.additional_labels.encode(&mut labels);
        self.nodes.push(NodeBucket {
            shape,
            rows: Rows::default(),
            labels,
            ids: Vec::new(),
        });
        if let Some(c) = self.node_index.get_mut(node.type_.as_str()) {
            c.push(i as u32);
        }
        i
    }

    /// Buffers one node under its shape, merging duplicates. Returns the node's identity: a hash of its primary
    /// label and key fragment, equal for every shape the node appears in (spec §4 "identity semantics").
    pub fn add_node(&mut self, mut node: Node, rule: NodeCreationRule) -> u64 {
        let props = std::mem::take(&mut node.properties);
        let id = self.insert_node(&node, props, rule);
        self.garbage.nodes.push(node);
        id
    }

    /// [`Batch::add_node`] with the properties apart, so the caller keeps the node's identity.
    fn insert_node(&mut self, node: &Node, props: Properties, rule: NodeCreationRule) -> u64 {
        let b = self.node_bucket(node, rule);
        let bucket = &mut self.nodes[b];
        let start = bucket.rows.arena.len();
        key_fragment(
            &mut bucket.rows.arena,
            &mut self.scratch,
            "node",
            &node.key_values,
        );
        let id = IDENTITY.hash_one((node.type_.as_str(), &bucket.rows.arena[start..]));
        if bucket
            .rows
            .insert(start, props, &self.hasher, &mut self.garbage)
        {
            bucket.ids.push(id);
        }
        id
    }

    /// Buffers a relationship and both endpoint nodes (with their own, not creation-prevented, rules).
    #[cfg(test)]
    pub fn add_relationship(&mut self, rel: RelationshipWithNodes) {
        self.add_relationship_of(rel, None);
    }

    /// [`Batch::add_relationship`]; a side equal to `source` (already buffered, with this identity) is not
    /// buffered again.
    fn add_relationship_of(
        &mut self,
        rel: RelationshipWithNodes,
        source: Option<(&Node, NodeCreationRule, u64)>,
    ) {
        let b = self.rel_bucket(&rel);
        let RelationshipWithNodes {
            from_node,
            to_node,
            relationship,
            from_side_node_creation_rule,
            to_side_node_creation_rule,
            ..
        } = rel;
        let rows = &mut self.rels[b].rows;
        let start = rows.arena.len();
        key_fragment(
            &mut rows.arena,
            &mut self.scratch,
            "rel",
            &relationship.key_values,
        );
        key_fragment(
            &mut rows.arena,
            &mut self.scratch,
            "from_node",
            &from_node.key_values,
        );
        key_fragment(
            &mut rows.arena,
            &mut self.scratch,
            "to_node",
            &to_node.key_values,
        );
        let new = rows.insert(
            start,
            relationship.properties,
            &self.hasher,
            &mut self.garbage,
        );
        self.garbage.types.push(relationship.type_);
        let side = |batch: &mut Batch, node: Node, rule: NodeCreationRule| match source {
            Some((s, s_rule, id)) if Batch::is_source(&node, rule, s, s_rule) => {
                batch.garbage.nodes.push(node);
                id
            }
            _ => batch.add_node(node, rule),
        };
        let from = side(self, from_node, from_side_node_creation_rule);
        let to = side(self, to_node, to_side_node_creation_rule);
        if new {
            self.rels[b].ends.push([from, to]);
        }
    }

    fn rel_bucket(&mut self, rel: &RelationshipWithNodes) -> usize {
        let ty = rel.relationship.type_.as_str();
        let candidates = match self.rel_index.get(ty) {
            Some(c) => c,
            None => self.rel_index.entry(ty.to_string()).or_default(),
        };
        if let Some(&i) = candidates
            .iter()
            .find(|&&i| self.rels[i as usize].shape.matches(rel))
        {
            return i as usize;
        }
        let i = self.rels.len();
        self.rels.push(RelBucket {
            shape: RelShape::of(rel),
            rows: Rows::default(),
            ends: Vec::new(),
        });
        if let Some(c) = self.rel_index.get_mut(ty) {
            c.push(i as u32);
        }
        i
    }
}

/// Something that can write its rows into an outgoing parameter map.
pub trait RowSource {
    /// Number of (de-duplicated) rows.
    fn len(&self) -> usize;
    /// Writes row `i` as a PackStream map (datetimes in the negotiated `format`).
    fn encode_row(&self, i: usize, buf: &mut BytesMut, format: WireFormat);
    /// Writes rows `range`, one after the other.
    #[cfg(test)]
    fn encode_rows(&self, range: Range<usize>, buf: &mut BytesMut, format: WireFormat) {
        for i in range {
            self.encode_row(i, buf, format);
        }
    }
}

impl RowSource for NodeBucket {
    fn len(&self) -> usize {
        self.rows.len()
    }

    fn encode_row(&self, i: usize, buf: &mut BytesMut, format: WireFormat) {
        let (key, props) = &self.rows.rows[i];
        encode::map_header(buf, self.shape.keys.len() + 2);
        buf.put_slice(&self.rows.arena[key.start as usize..key.end as usize]);
        encode::string(buf, "__node_properties");
        encode::props(buf, props, format);
        encode::string(buf, "__node_additional_labels");
        buf.put_slice(&self.labels);
    }
}

impl RowSource for RelBucket {
    fn len(&self) -> usize {
        self.rows.len()
    }

    fn encode_row(&self, i: usize, buf: &mut BytesMut, format: WireFormat) {
        let s = &self.shape;
        let (key, props) = &self.rows.rows[i];
        encode::map_header(buf, s.keys.len() + s.from.keys.len() + s.to.keys.len() + 1);
        buf.put_slice(&self.rows.arena[key.start as usize..key.end as usize]);
        encode::string(buf, "__rel_properties");
        encode::props(buf, props, format);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Relationship;
    use bolt::Value;

    fn props(kv: &[(&str, Value)]) -> Properties {
        kv.iter()
            .map(|(k, v)| (k.to_string().into(), v.clone()))
            .collect()
    }

    /// A property map as the Bolt map the server decodes.
    fn map(p: Properties) -> Value {
        Value::Map(p.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    fn node(label: &str, keys: &[(&str, Value)], p: &[(&str, Value)], add: &[&str]) -> Node {
        Node {
            type_: label.into(),
            key_values: props(keys),
            properties: props(p),
            additional_types: add.iter().map(|a| a.to_string()).collect(),
        }
    }

    fn encoded(src: &dyn RowSource) -> BytesMut {
        let mut b = BytesMut::new();
        src.encode_rows(0..src.len(), &mut b, WireFormat::Utc);
        b
    }

    /// The rows must be byte-identical to encoding Python's per-row dicts as values.
    #[test]
    fn node_rows_equal_python_parameter_maps() {
        let mut batch = Batch::default();
        let a = node(
            "Player",
            &[("player_id", s("1"))],
            &[("name", s("A")), ("age", Value::Integer(3))],
            &["Person"],
        );
        batch.add_node(a, NodeCreationRule::Eager);
        batch.add_node(
            node(
                "Player",
                &[("player_id", s("2"))],
                &[("name", s("B"))],
                &["Person"],
            ),
            NodeCreationRule::Eager,
        );
        // A duplicate: merged into the first (later value wins, order kept), new keys appended.
        batch.add_node(
            node(
                "Player",
                &[("player_id", s("1"))],
                &[("age", Value::Integer(4)), ("x", Value::Null)],
                &["Person"],
            ),
            NodeCreationRule::Eager,
        );
        // Same label, other shape (no additional labels): another bucket.
        batch.add_node(
            node("Player", &[("player_id", s("1"))], &[], &[]),
            NodeCreationRule::Eager,
        );
        assert_eq!(batch.nodes.len(), 2);
        assert_eq!(batch.nodes[0].len(), 2);
        let expected = |id: &str, p: Properties| {
            Value::Map(
                [
                    ("__node_player_id".to_string(), s(id)),
                    ("__node_properties".to_string(), map(p)),
                    (
                        "__node_additional_labels".to_string(),
                        Value::List(vec![s("Person")]),
                    ),
                ]
                .into_iter()
                .collect(),
            )
        };
        let mut want = BytesMut::new();
        expected(
            "1",
            props(&[
                ("name", s("A")),
                ("age", Value::Integer(4)),
                ("x", Value::Null),
            ]),
        )
        .encode(&mut want);
        expected("2", props(&[("name", s("B"))])).encode(&mut want);
        assert_eq!(encoded(&batch.nodes[0]), want);
    }

    #[test]
    fn relationships_dedup_by_endpoints_and_keys_and_buffer_endpoints() {
        let mut batch = Batch::default();
        let rel = |to: &str, role: &str, w: i64| RelationshipWithNodes {
            from_node: node(
                "Airport",
                &[("identifier", s("05pn"))],
                &[("p", s("x"))],
                &[],
            ),
            to_node: node("Country", &[("code", s(to))], &[], &[]),
            relationship: Relationship {
                type_: "WITHIN".into(),
                key_values: props(&[("role", s(role))]),
                properties: props(&[("w", Value::Integer(w))]),
            },
            from_side_node_creation_rule: NodeCreationRule::Eager,
            to_side_node_creation_rule: NodeCreationRule::Eager,
            relationship_creation_rule: RelationshipCreationRule::Eager,
        };
        batch.add_relationship(rel("us", "a", 1));
        batch.add_relationship(rel("us", "a", 2));
        batch.add_relationship(rel("us", "b", 3));
        batch.add_relationship(rel("pr", "a", 4));
        assert_eq!(batch.rels.len(), 1);
        assert_eq!(batch.rels[0].len(), 3);
        assert_eq!(batch.rels[0].shape.from.rule, NodeCreationRule::MatchOnly);
        // Endpoints land in node buckets with their own rule: 1 airport, 2 countries.
        assert_eq!(batch.nodes.len(), 2);
        assert_eq!((batch.nodes[0].len(), batch.nodes[1].len()), (1, 2));
        assert_eq!(batch.nodes[1].shape.rule, NodeCreationRule::Eager);
        let row = |to: &str, role: &str, w: i64| {
            Value::Map(
                [
                    ("__rel_role".to_string(), s(role)),
                    ("__from_node_identifier".to_string(), s("05pn")),
                    ("__to_node_code".to_string(), s(to)),
                    (
                        "__rel_properties".to_string(),
                        map(props(&[("w", Value::Integer(w))])),
                    ),
                ]
                .into_iter()
                .collect(),
            )
        };
        let mut want = BytesMut::new();
        for v in [row("us", "a", 2), row("us", "b", 3), row("pr", "a", 4)] {
            v.encode(&mut want);
        }
        assert_eq!(encoded(&batch.rels[0]), want);
    }

    /// `add` skips re-buffering the source as a relationship side; the rows must be those of buffering it.
    #[test]
    fn source_sides_equal_buffering_them() {
        let source = node("A", &[("id", s("1"))], &[("p", s("x"))], &["L"]);
        let side = |p: &[(&str, Value)]| node("A", &[("id", s("1"))], p, &["L"]);
        let rel = |from: Node, to: Node| RelationshipWithNodes {
            from_node: from,
            to_node: to,
            relationship: Relationship {
                type_: "R".into(),
                key_values: Properties::new(),
                properties: props(&[("w", Value::Integer(1))]),
            },
            from_side_node_creation_rule: NodeCreationRule::Eager,
            to_side_node_creation_rule: NodeCreationRule::Eager,
            relationship_creation_rule: RelationshipCreationRule::Eager,
        };
        let rels = vec![
            rel(side(&[]), node("B", &[("k", s("b"))], &[], &[])),
            rel(
                node("B", &[("k", s("c"))], &[], &[]),
                side(&[("q", s("y"))]),
            ),
        ];
        let mut fast = Batch::default();
        fast.add(DesiredIngestion {
            source: source.clone(),
            source_node_creation_rule: NodeCreationRule::Eager,
            relationships: rels.clone(),
        });
        let mut slow = Batch::default();
        slow.add_node(source, NodeCreationRule::Eager);
        for r in rels {
            slow.add_relationship(r);
        }
        assert_eq!(fast.nodes.len(), slow.nodes.len());
        for (a, b) in fast.nodes.iter().zip(&slow.nodes) {
            assert_eq!(encoded(a), encoded(b));
            assert_eq!(a.ids, b.ids);
        }
        assert_eq!(encoded(&fast.rels[0]), encoded(&slow.rels[0]));
        assert_eq!(fast.rels[0].ends, slow.rels[0].ends);
    }

    #[test]
    fn invalid_source_writes_nothing_and_long_names_encode() {
        let mut batch = Batch::default();
        batch.add(DesiredIngestion {
            source: node("A", &[("k", Value::Null)], &[], &[]),
            source_node_creation_rule: NodeCreationRule::Eager,
            relationships: vec![],
        });
        assert!(batch.is_empty());
        assert_eq!(batch.records, 1);
        let long = "k".repeat(300);
        batch.add_node(
            node("A", &[(long.as_str(), Value::Integer(1))], &[], &[]),
            NodeCreationRule::MatchOnly,
        );
        let mut want = BytesMut::new();
        Value::Map(
            [
                (format!("__node_{long}"), Value::Integer(1)),
                ("__node_properties".to_string(), map(Properties::new())),
                ("__node_additional_labels".to_string(), Value::List(vec![])),
            ]
            .into_iter()
            .collect(),
        )
        .encode(&mut want);
        assert_eq!(encoded(&batch.nodes[0]), want);
    }

    #[test]
    fn legacy_datetimes_use_local_seconds() {
        let mut batch = Batch::default();
        let dt = Value::DateTime(bolt::value::DateTime {
            seconds: 4500,
            nanoseconds: 42,
            tz_offset_seconds: 3600,
        });
        batch.add_node(
            node(
                "A",
                &[("k", Value::Integer(1))],
                &[("t", Value::List(vec![dt]))],
                &[],
            ),
            NodeCreationRule::Eager,
        );
        let mut b = BytesMut::new();
        batch.nodes[0].encode_rows(0..1, &mut b, WireFormat::Legacy);
        // ... "t" [ F(8100, 42, 3600) ] — the worked example of bolt.md.
        let tail = [
            0x81, b't', 0x91, 0xB3, b'F', 0xC9, 0x1F, 0xA4, 42, 0xC9, 0x0E, 0x10,
        ];
        assert!(b.windows(tail.len()).any(|w| w == tail), "{b:?}");
    }

    #[test]
    fn many_rows_stay_distinct() {
        let mut batch = Batch::default();
        for i in 0..10_000 {
            batch.add_node(
                node("N", &[("id", Value::Integer(i % 5000))], &[], &[]),
                NodeCreationRule::Eager,
            );
        }
        assert_eq!(batch.nodes[0].len(), 5000);
    }
}
