//! The ingestion model (spec §3.1): what the interpreter produces and the writer consumes.
#![allow(dead_code)] // Scaffolding: removed once the interpreter and writer use every item.

use bolt::Value;
use indexmap::IndexMap;

/// Property maps keep insertion order, as Python dicts do.
pub type Properties = IndexMap<String, Value>;

/// How a node is upserted, or matched as a relationship endpoint (spec §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeCreationRule {
    /// `MERGE` on (label, keys).
    Eager,
    /// `MATCH` on (label, keys); nothing is created.
    MatchOnly,
    /// `MATCH` with `=~` on every key.
    Fuzzy,
}

impl NodeCreationRule {
    /// Relationship queries never create nodes: EAGER becomes MATCH_ONLY.
    pub fn prevent_creation(self) -> Self {
        match self {
            NodeCreationRule::Eager => NodeCreationRule::MatchOnly,
            other => other,
        }
    }
}

/// How a relationship is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RelationshipCreationRule {
    /// `MERGE` on (from, type, to, keys); also what `MERGE_KEY` means.
    Eager,
    /// `CREATE` a new relationship every time.
    Create,
}

/// A node: primary label, identity keys, properties and extra labels.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Node {
    /// Primary label.
    pub type_: String,
    /// Identity keys, in order.
    pub key_values: Properties,
    /// Properties set with `SET n += …`.
    pub properties: Properties,
    /// Additional labels.
    pub additional_types: Vec<String>,
}

impl Node {
    /// Valid iff a type is set, there is at least one key and no key is null (an empty string is valid).
    pub fn is_valid(&self) -> bool {
        !self.type_.is_empty()
            && !self.key_values.is_empty()
            && self.key_values.values().all(|v| !matches!(v, Value::Null))
    }
}

/// A relationship's own data (endpoints live in [`RelationshipWithNodes`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Relationship {
    /// Relationship type.
    pub type_: String,
    /// Identity keys (usually empty).
    pub key_values: Properties,
    /// Properties.
    pub properties: Properties,
}

/// A relationship with both endpoints, as the writer receives it.
#[derive(Debug, Clone, PartialEq)]
pub struct RelationshipWithNodes {
    /// Start node.
    pub from_node: Node,
    /// End node.
    pub to_node: Node,
    /// The relationship.
    pub relationship: Relationship,
    /// Rule for the start node.
    pub from_side_node_creation_rule: NodeCreationRule,
    /// Rule for the end node.
    pub to_side_node_creation_rule: NodeCreationRule,
    /// Rule for the relationship.
    pub relationship_creation_rule: RelationshipCreationRule,
}

/// One interpreted record.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredIngestion {
    /// The source node.
    pub source: Node,
    /// Rule for the source node (`allow_create`).
    pub source_node_creation_rule: NodeCreationRule,
    /// Relationships from or to the source node.
    pub relationships: Vec<RelationshipWithNodes>,
}

/// Whether a TTL applies to nodes or relationships.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphObjectType {
    /// Nodes of a label.
    Node,
    /// Relationships of a type.
    Relationship,
}

/// A TTL configuration record (spec §2.3.3, §3.4).
#[derive(Debug, Clone, PartialEq)]
pub struct TimeToLiveConfiguration {
    /// Nodes or relationships.
    pub graph_object_type: GraphObjectType,
    /// The label or type.
    pub object_type: String,
    /// Objects older than this many hours are deleted.
    pub expiry_in_hours: f64,
    /// A query replacing the matching part; returns a column `id`.
    pub custom_query: Option<String>,
    /// Only enabled configurations run.
    pub enabled: bool,
    /// Batch size for the delete.
    pub batch_size: i64,
}

/// What reaches a writer: one item per pipeline record.
#[derive(Debug, Clone, PartialEq)]
pub enum Ingestible {
    /// An interpreted record.
    Ingestion(DesiredIngestion),
    /// A TTL configuration, executed immediately.
    TimeToLive(TimeToLiveConfiguration),
    /// Flush what is buffered.
    Flush,
}
