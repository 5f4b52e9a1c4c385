//! Schema inference from pipelines (spec §6.3): input to `print schema`, `migrations make` and `copy`.
//!
//! API: [`infer_project`]`(project, names) -> Result<`[`Schema`]`>`; [`Schema`] keeps node and relationship
//! types in first-seen order ([`Schema::types`]) and adjacencies ([`Schema::adjacencies`]);
//! [`Schema::plain`] and [`Schema::cypheresque`] print it as Python does.

use crate::interpreter::{InterpKind, Interpretation, Interpreter, PropMap, SourceNode};
use crate::model::NodeCreationRule;
use crate::pipeline::{LoadOptions, Step, load_pipeline};
use crate::project::Project;
use indexmap::{IndexMap, IndexSet};

/// Node or relationship.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ObjectKind {
    /// A node label.
    Node,
    /// A relationship type.
    Relationship,
}

/// A property's type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyType {
    /// `STRING`
    String,
    /// `DATETIME`
    DateTime,
}

impl PropertyType {
    /// Python's enum value.
    pub fn name(self) -> &'static str {
        match self {
            PropertyType::String => "STRING",
            PropertyType::DateTime => "DATETIME",
        }
    }
}

/// A property of a type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PropertyMeta {
    /// Type.
    pub ty: PropertyType,
    /// Part of the identity.
    pub is_key: bool,
    /// Has an index.
    pub is_indexed: bool,
}

/// A node or relationship type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TypeSchema {
    /// Label or type.
    pub name: String,
    /// Node or relationship.
    pub kind: ObjectKind,
    /// Properties in first-seen order.
    pub properties: IndexMap<String, PropertyMeta>,
    /// Key names (a set, in first-seen order).
    pub keys: IndexSet<String>,
}

impl TypeSchema {
    fn add_property(&mut self, name: &str, ty: PropertyType) -> &mut PropertyMeta {
        self.properties
            .entry(name.to_string())
            .or_insert(PropertyMeta {
                ty,
                is_key: false,
                is_indexed: false,
            })
    }

    fn add_keys(&mut self, keys: &[String]) -> anyhow::Result<()> {
        let new: IndexSet<String> = keys.iter().cloned().collect();
        if !self.keys.is_empty() && self.keys != new {
            anyhow::bail!(
                "Cannot add keys {:?} to node type {} because it already has keys {:?}.",
                keys,
                self.name,
                self.keys.iter().collect::<Vec<_>>()
            );
        }
        for k in keys {
            self.add_property(k, PropertyType::String).is_key = true;
        }
        self.keys = new;
        Ok(())
    }

    fn add_properties(&mut self, names: &[String]) {
        for n in names {
            self.add_property(n, PropertyType::String);
        }
    }

    fn add_indexed_timestamp(&mut self) {
        let p = self.add_property("last_ingested_at", PropertyType::DateTime);
        p.is_indexed = true;
    }
}

/// Cardinality of one side of an adjacency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cardinality {
    /// One.
    Single,
    /// Many.
    Many,
}

/// `(from)-[rel]->(to)`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Adjacency {
    /// Start label.
    pub from_node_type: String,
    /// End label.
    pub to_node_type: String,
    /// Relationship type.
    pub relationship_type: String,
}

/// An inferred schema.
#[derive(Debug, Clone, Default)]
pub struct Schema {
    /// Types in first-seen order.
    pub types: IndexMap<(ObjectKind, String), TypeSchema>,
    /// Adjacencies with (from, to) cardinalities.
    pub adjacencies: IndexMap<Adjacency, (Cardinality, Cardinality)>,
}

enum SourceOp<'a> {
    Source(&'a SourceNode),
    Props(Vec<String>),
}

/// (from, to, rel, from_card, to_card); a `None` endpoint is the source node.
type PendingAdjacency = (
    Option<String>,
    Option<String>,
    String,
    Cardinality,
    Cardinality,
);

struct PassState<'a> {
    source_type: Option<String>,
    additional: Vec<String>,
    ops: Vec<SourceOp<'a>>,
    /// (from, to, rel, from_card, to_card); `None` endpoint = the source node.
    adjacencies: Vec<PendingAdjacency>,
}

impl Schema {
    fn ty(&mut self, kind: ObjectKind, name: &str) -> &mut TypeSchema {
        self.types
            .entry((kind, name.to_string()))
            .or_insert_with(|| TypeSchema {
                name: name.to_string(),
                kind,
                properties: IndexMap::new(),
                keys: IndexSet::new(),
            })
    }

    /// Node types in order.
    pub fn nodes(&self) -> impl Iterator<Item = &TypeSchema> {
        self.types.values().filter(|t| t.kind == ObjectKind::Node)
    }

    /// Relationship types in order.
    pub fn relationships(&self) -> impl Iterator<Item = &TypeSchema> {
        self.types
            .values()
            .filter(|t| t.kind == ObjectKind::Relationship)
    }

    /// Adds what one interpreter contributes.
    pub fn expand(
        &mut self,
        interp: &Interpreter,
        include_additional_types: bool,
    ) -> anyhow::Result<()> {
        let mut passes = Vec::new();
        if let Some(b) = &interp.before_iteration {
            passes.extend(b.passes());
        }
        passes.extend(interp.interpretations.passes());
        for pass in passes {
            self.expand_pass(pass, include_additional_types)?;
        }
        Ok(())
    }

    fn expand_pass(&mut self, pass: &[Interpretation], extra: bool) -> anyhow::Result<()> {
        let mut st = PassState {
            source_type: None,
            additional: Vec::new(),
            ops: Vec::new(),
            adjacencies: Vec::new(),
        };
        self.walk(pass, &mut st, extra)?;
        let Some(src) = st.source_type.clone() else {
            // No static source node: relationships to the source cannot be placed.
            for (f, t, r, fc, tc) in st.adjacencies {
                if let (Some(f), Some(t)) = (f, t) {
                    self.adjacencies
                        .entry(Adjacency {
                            from_node_type: f,
                            to_node_type: t,
                            relationship_type: r,
                        })
                        .or_insert((fc, tc));
                }
            }
            return Ok(());
        };
        let mut labels = vec![src.clone()];
        if extra {
            labels.extend(st.additional.iter().cloned());
        }
        for label in &labels {
            for op in &st.ops {
                let t = self.ty(ObjectKind::Node, label);
                match op {
                    SourceOp::Source(s) => {
                        t.add_keys(&s.key.names())?;
                        t.add_properties(&s.properties.names());
                        for i in &s.additional_indexes {
                            t.add_property(i, PropertyType::String).is_indexed = true;
                        }
                        t.add_indexed_timestamp();
                    }
                    SourceOp::Props(names) => t.add_properties(names),
                }
            }
        }
        for (f, t, r, fc, tc) in st.adjacencies {
            let froms = f.map_or_else(|| labels.clone(), |x| vec![x]);
            let tos = t.map_or_else(|| labels.clone(), |x| vec![x]);
            for from in &froms {
                for to in &tos {
                    self.adjacencies
                        .entry(Adjacency {
                            from_node_type: from.clone(),
                            to_node_type: to.clone(),
                            relationship_type: r.clone(),
                        })
                        .or_insert((fc, tc));
                }
            }
        }
        Ok(())
    }

    fn walk<'a>(
        &mut self,
        list: &'a [Interpretation],
        st: &mut PassState<'a>,
        extra: bool,
    ) -> anyhow::Result<()> {
        for i in list {
            match &i.kind {
                InterpKind::SourceNode(s) => {
                    if let Some(t) = s.node_type.static_str() {
                        st.source_type = Some(t.to_string());
                        for a in &s.additional_types {
                            if !st.additional.contains(a) {
                                st.additional.push(a.clone());
                            }
                        }
                        st.ops.push(SourceOp::Source(s));
                    }
                }
                InterpKind::Properties { properties, .. } => {
                    st.ops.push(SourceOp::Props(properties.names()))
                }
                InterpKind::Variables { .. } => {}
                InterpKind::Switch { cases, default, .. } => {
                    // Each branch is expanded in isolation, with its own source node alias.
                    for (_, branch) in cases {
                        self.expand_pass(branch, extra)?;
                    }
                    if let Some(d) = default {
                        self.expand_pass(d, extra)?;
                    }
                }
                InterpKind::Relationship(r) => {
                    let rel = r.relationship_type.static_str();
                    let node = r.node_type.static_str();
                    if let Some(rel) = rel {
                        let t = self.ty(ObjectKind::Relationship, rel);
                        t.add_keys(&r.relationship_key.names())?;
                        t.add_properties(&r.relationship_properties.names());
                        t.add_indexed_timestamp();
                    }
                    if let Some(node) = node {
                        let mut labels = vec![node.to_string()];
                        if extra {
                            labels.extend(r.node_additional_types.iter().cloned());
                        }
                        for l in &labels {
                            let t = self.ty(ObjectKind::Node, l);
                            let keys = names(&r.node_key);
                            if r.node_creation_rule == NodeCreationRule::Eager {
                                t.add_keys(&keys)?;
                            } else {
                                t.add_properties(&keys);
                            }
                            t.add_properties(&r.node_properties.names());
                            t.add_indexed_timestamp();
                        }
                        if let Some(rel) = rel {
                            let source_card =
                                if r.find_many || r.iterate_on.is_some() || r.cardinality_many {
                                    Cardinality::Many
                                } else {
                                    Cardinality::Single
                                };
                            for l in labels {
                                if r.outbound {
                                    st.adjacencies.push((
                                        None,
                                        Some(l),
                                        rel.to_string(),
                                        source_card,
                                        Cardinality::Many,
                                    ));
                                } else {
                                    st.adjacencies.push((
                                        Some(l),
                                        None,
                                        rel.to_string(),
                                        Cardinality::Many,
                                        source_card,
                                    ));
                                }
                            }
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// `print schema -f plain`.
    pub fn plain(&self) -> String {
        let blocks: Vec<String> = self
            .types
            .values()
            .map(|t| {
                let kind = match t.kind {
                    ObjectKind::Node => "NODE",
                    ObjectKind::Relationship => "RELATIONSHIP",
                };
                let mut s = format!("[{kind}] {}:", t.name);
                for (p, m) in &t.properties {
                    s.push_str(&format!("\n  {p}: {}", m.ty.name()));
                }
                s
            })
            .collect();
        format!("{}\n", blocks.join("\n"))
    }

    /// `print schema -f cypheresque`.
    pub fn cypheresque(&self) -> String {
        let line = |t: &TypeSchema| {
            let props: Vec<String> = t
                .properties
                .iter()
                .map(|(p, m)| format!("{p}: {}", m.ty.name()))
                .collect();
            format!("{}: {}", t.name, props.join(", "))
        };
        let nodes: Vec<String> = self.nodes().map(line).collect();
        let rels: Vec<String> = self.relationships().map(line).collect();
        let adj: Vec<String> = self
            .adjacencies
            .keys()
            .map(|a| {
                format!(
                    "(:{})-[:{}]->(:{})",
                    a.from_node_type, a.relationship_type, a.to_node_type
                )
            })
            .collect();
        format!(
            "Node Types:\n{}\nRelationship Types:\n{}\nAdjancies:\n{}\n",
            nodes.join("\n"),
            rels.join("\n"),
            adj.join("\n")
        )
    }
}

fn names(p: &PropMap) -> Vec<String> {
    p.names()
}

/// Infers the schema of the project's pipelines (all, or those named), as Python's introspection does.
pub fn infer_project(project: &Project, only: &[String]) -> anyhow::Result<Schema> {
    let mut schema = Schema::default();
    let opts = LoadOptions {
        annotations: Vec::new(),
        introspection: true,
    };
    for (scope, p) in project.all_pipelines() {
        if !only.is_empty() && !only.contains(&p.name) {
            continue;
        }
        let loaded = load_pipeline(&p.path, &p.name, scope.config.as_ref(), &opts)?;
        for step in &loaded.steps {
            if let Step::Interpreter(i) = step {
                schema.expand(i, project.include_additional_types)?;
            }
        }
    }
    Ok(schema)
}
