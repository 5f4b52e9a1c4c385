//! Schema inference from pipelines (spec §6.3): input to `print schema`, `migrations make` and `copy`.
//!
//! API: [`infer_project`]`(project, names) -> Result<`[`Schema`]`>`; [`Schema`] keeps node and relationship
//! types in first-seen order ([`Schema::types`]) and adjacencies ([`Schema::adjacencies`]);
//! [`Schema::plain`] and [`Schema::cypheresque`] print it as Python does.

use crate::interpreter::{InterpKind, Interpretation, Interpreter, Passes};
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

/// (from, to, rel, from_card, to_card); a `None` endpoint is the source node of the pass.
type PendingAdjacency = (
    Option<String>,
    Option<String>,
    String,
    Cardinality,
    Cardinality,
);

/// One schema-expansion context (Python's coordinator level): the source-node alias, properties waiting for
/// it, and adjacencies waiting for it to be bound.
#[derive(Clone, Default)]
struct Ctx {
    alias: Option<String>,
    unbound_props: Vec<String>,
    adjacencies: Vec<PendingAdjacency>,
    additional: Vec<String>,
}

fn assigns_source_nodes(i: &Interpretation) -> bool {
    if i.condition.is_some() {
        return false;
    }
    match &i.kind {
        InterpKind::SourceNode(_) => true,
        InterpKind::Switch { cases, default, .. } => {
            cases
                .iter()
                .any(|(_, b)| b.iter().any(assigns_source_nodes))
                || default
                    .as_ref()
                    .is_some_and(|b| b.iter().any(assigns_source_nodes))
        }
        _ => false,
    }
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

    /// Adds what one interpreter contributes, in Python's order: the pass that does not assign source nodes
    /// first (as context), then the other; inside a pass the source node last.
    pub fn expand(
        &mut self,
        interp: &Interpreter,
        include_additional_types: bool,
    ) -> anyhow::Result<()> {
        let main_assigns = interp
            .interpretations
            .passes()
            .iter()
            .any(|p| p.iter().any(assigns_source_nodes));
        let mut order: Vec<&Passes> = Vec::new();
        if main_assigns {
            order.extend(interp.before_iteration.as_ref());
            order.push(&interp.interpretations);
        } else {
            order.push(&interp.interpretations);
            order.extend(interp.before_iteration.as_ref());
        }
        let mut ctx = Ctx::default();
        for passes in order {
            match passes {
                Passes::Single(list) => {
                    self.expand_pass(list, &mut ctx, include_additional_types)?
                }
                Passes::Multi(lists) => {
                    let distinct = lists.iter().any(|l| l.iter().any(assigns_source_nodes));
                    for list in lists {
                        if distinct {
                            let mut child = ctx.clone();
                            self.expand_pass(list, &mut child, include_additional_types)?;
                        } else {
                            self.expand_pass(list, &mut ctx, include_additional_types)?;
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn expand_pass(
        &mut self,
        list: &[Interpretation],
        ctx: &mut Ctx,
        extra: bool,
    ) -> anyhow::Result<()> {
        // Python's `schema_ordered_interpretations`: the source-node interpretation goes last. It pops while
        // enumerating, so the element right after a popped one is skipped and the last popped one wins;
        // with two source nodes in one pass the first is moved to the end and the second stays in place.
        let mut ordered: Vec<&Interpretation> = list.iter().collect();
        let mut source = None;
        let mut idx = 0;
        while idx < ordered.len() {
            if assigns_source_nodes(ordered[idx]) {
                source = Some(ordered.remove(idx));
            }
            idx += 1;
        }
        ordered.extend(source);
        for i in &ordered {
            self.expand_one(i, ctx, extra)?;
        }
        if ordered
            .iter()
            .any(|i| matches!(i.kind, InterpKind::SourceNode(_)))
        {
            self.bind_adjacencies(ctx);
        }
        Ok(())
    }

    fn bind_adjacencies(&mut self, ctx: &Ctx) {
        let Some(alias) = ctx.alias.clone() else {
            return;
        };
        let mut labels = vec![alias];
        labels.extend(ctx.additional.iter().cloned());
        for (f, t, r, fc, tc) in &ctx.adjacencies {
            let froms = f.clone().map_or_else(|| labels.clone(), |x| vec![x]);
            let tos = t.clone().map_or_else(|| labels.clone(), |x| vec![x]);
            for from in &froms {
                for to in &tos {
                    self.adjacencies
                        .entry(Adjacency {
                            from_node_type: from.clone(),
                            to_node_type: to.clone(),
                            relationship_type: r.clone(),
                        })
                        .or_insert((*fc, *tc));
                }
            }
        }
    }

    fn expand_one(&mut self, i: &Interpretation, ctx: &mut Ctx, extra: bool) -> anyhow::Result<()> {
        if i.condition.is_some() {
            // Interpretations with a condition contribute nothing (Python's ConditionedInterpretation).
            return Ok(());
        }
        match &i.kind {
            InterpKind::SourceNode(s) => {
                let Some(node_type) = s.node_type.static_str() else {
                    return Ok(());
                };
                let mut labels = vec![node_type.to_string()];
                if extra {
                    labels.extend(s.additional_types.iter().cloned());
                    for a in &s.additional_types {
                        if !ctx.additional.contains(a) {
                            ctx.additional.push(a.clone());
                        }
                    }
                }
                for label in &labels {
                    let pending = ctx.unbound_props.clone();
                    let t = self.ty(ObjectKind::Node, label);
                    // Properties added by `properties` interpretations wait on the alias until it is bound.
                    t.add_properties(&pending);
                    t.add_keys(&s.key.names())?;
                    t.add_properties(&s.properties.names());
                    for idx in &s.additional_indexes {
                        t.add_property(idx, PropertyType::String).is_indexed = true;
                    }
                    t.add_indexed_timestamp();
                }
                ctx.alias = Some(node_type.to_string());
            }
            InterpKind::Properties { properties, .. } => {
                for n in properties.names() {
                    if !ctx.unbound_props.contains(&n) {
                        ctx.unbound_props.push(n);
                    }
                }
            }
            InterpKind::Variables { .. } => {}
            InterpKind::Switch { cases, default, .. } => {
                let distinct = assigns_source_nodes(i);
                let branches = cases.iter().map(|(_, b)| b).chain(default.iter());
                for branch in branches {
                    if distinct {
                        let mut child = ctx.clone();
                        self.expand_pass(branch, &mut child, extra)?;
                    } else {
                        self.expand_pass(branch, ctx, extra)?;
                    }
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
                        let keys = r.node_key.names();
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
                                ctx.adjacencies.push((
                                    None,
                                    Some(l),
                                    rel.to_string(),
                                    source_card,
                                    Cardinality::Many,
                                ));
                            } else {
                                ctx.adjacencies.push((
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
