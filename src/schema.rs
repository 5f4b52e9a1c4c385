//! Schema inference from pipelines (spec §6.3): input to `print schema`, `migrations make` and `copy`.
//!
//! API (stable: migrations and copy use it):
//! * [`infer_project`]`(project, names)`: every pipeline (or those named), with the project's
//!   `include_additional_types`; [`infer`]`(project, names, include_additional_types)` chooses (copy passes
//!   `false`). Both load pipelines with the annotation set `{introspection}` and build only interpreters.
//! * [`Schema`]: [`Schema::types`] keyed by ([`ObjectKind`], name) in first-seen order, each a [`TypeSchema`]
//!   with `properties` (name → [`PropertyMeta`] `{ty, is_key, is_indexed}`) and `keys` (a set);
//!   [`Schema::nodes`], [`Schema::relationships`]; [`Schema::adjacencies`] maps [`Adjacency`] `{from_node_type,
//!   to_node_type, relationship_type}` to the (from, to) [`Cardinality`]. Indexed properties are the
//!   `additional_indexes` and `last_ingested_at` (on nodes and relationships).
//! * [`Schema::plain`] and [`Schema::cypheresque`] print it exactly as Python's `print schema` does.
//!
//! Python quirks kept: interpretations with a `condition` contribute nothing; `!config` is resolved with the
//! scope's config (Python leaves it unresolved during introspection and records a `None` label).

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
    /// With `include_additional_types`: main type → its additional labels.
    additional: IndexMap<String, Vec<String>>,
}

impl Ctx {
    fn register_additional(&mut self, main: &str, labels: &[String]) {
        let entry = self.additional.entry(main.to_string()).or_default();
        for l in labels {
            if !entry.contains(l) {
                entry.push(l.clone());
            }
        }
    }
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
            .any(|i| i.condition.is_none() && matches!(i.kind, InterpKind::SourceNode(_)))
        {
            self.bind_adjacencies(ctx, extra);
        }
        Ok(())
    }

    /// Python's `clear_aliases`: bind the pending adjacencies to the source node type, then (with
    /// `include_additional_types`) duplicate them and the alias's properties for the additional labels.
    fn bind_adjacencies(&mut self, ctx: &Ctx, extra: bool) {
        let Some(alias) = ctx.alias.clone() else {
            return;
        };
        let mut bound = Vec::new();
        for (f, t, r, fc, tc) in &ctx.adjacencies {
            let adj = Adjacency {
                from_node_type: f.clone().unwrap_or_else(|| alias.clone()),
                to_node_type: t.clone().unwrap_or_else(|| alias.clone()),
                relationship_type: r.clone(),
            };
            self.adjacencies.entry(adj.clone()).or_insert((*fc, *tc));
            bound.push((adj, (*fc, *tc)));
        }
        if !extra {
            return;
        }
        let labels_of = |t: &str| -> Vec<String> {
            let mut v = vec![t.to_string()];
            v.extend(ctx.additional.get(t).cloned().unwrap_or_default());
            v
        };
        for (adj, card) in bound {
            for from in labels_of(&adj.from_node_type) {
                for to in labels_of(&adj.to_node_type) {
                    if from == adj.from_node_type && to == adj.to_node_type {
                        continue;
                    }
                    let dup = Adjacency {
                        from_node_type: from.clone(),
                        to_node_type: to,
                        relationship_type: adj.relationship_type.clone(),
                    };
                    self.adjacencies.entry(dup).or_insert(card);
                }
            }
        }
        for label in ctx.additional.get(&alias).cloned().unwrap_or_default() {
            self.ty(ObjectKind::Node, &label)
                .add_properties(&ctx.unbound_props);
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
                let apply = |t: &mut TypeSchema| -> anyhow::Result<()> {
                    t.add_keys(&s.key.names())?;
                    t.add_properties(&s.properties.names());
                    for idx in &s.additional_indexes {
                        t.add_property(idx, PropertyType::String).is_indexed = true;
                    }
                    t.add_indexed_timestamp();
                    Ok(())
                };
                let pending = ctx.unbound_props.clone();
                let t = self.ty(ObjectKind::Node, node_type);
                // Properties added by `properties` interpretations wait on the alias until it is bound.
                t.add_properties(&pending);
                apply(t)?;
                ctx.alias = Some(node_type.to_string());
                if extra && !s.additional_types.is_empty() {
                    for label in &s.additional_types {
                        apply(self.ty(ObjectKind::Node, label))?;
                    }
                    ctx.register_additional(node_type, &s.additional_types);
                }
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
                        ctx.register_additional(node, &r.node_additional_types);
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
                        // Additional labels get their adjacencies when the alias is bound.
                        if r.outbound {
                            ctx.adjacencies.push((
                                None,
                                Some(node.to_string()),
                                rel.to_string(),
                                source_card,
                                Cardinality::Many,
                            ));
                        } else {
                            ctx.adjacencies.push((
                                Some(node.to_string()),
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
    infer(project, only, project.include_additional_types)
}

/// Like [`infer_project`], choosing whether additional labels become node types of their own.
pub fn infer(
    project: &Project,
    only: &[String],
    include_additional_types: bool,
) -> anyhow::Result<Schema> {
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
                schema.expand(i, include_additional_types)?;
            }
        }
    }
    Ok(schema)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::yaml::load_str;

    fn interp(src: &str) -> Interpreter {
        Interpreter::from_args(&load_str(src, "p.yaml").unwrap(), "p.yaml", "p").unwrap()
    }

    #[test]
    fn keys_indexes_and_cardinalities() {
        let mut s = Schema::default();
        s.expand(
            &interp(
                "interpretations:\n- {type: source_node, node_type: A, key: {id: x}, properties: {p: y}, additional_indexes: [p]}\n- {type: relationship, node_type: B, relationship_type: R, node_key: {k: z}, find_many: true, relationship_key: {rk: 1}}\n- {type: relationship, node_type: C, relationship_type: S, node_key: {k: z}, node_creation_rule: MATCH_ONLY, outbound: false}\n",
            ),
            false,
        )
        .unwrap();
        let a = &s.types[&(ObjectKind::Node, "A".to_string())];
        assert!(
            a.properties["id"].is_key
                && a.properties["p"].is_indexed
                && a.properties["last_ingested_at"].is_indexed
        );
        assert_eq!(a.properties["last_ingested_at"].ty, PropertyType::DateTime);
        assert!(s.types[&(ObjectKind::Node, "B".to_string())].properties["k"].is_key);
        // MATCH_ONLY related nodes get their key names as plain properties.
        assert!(!s.types[&(ObjectKind::Node, "C".to_string())].properties["k"].is_key);
        assert!(s.types[&(ObjectKind::Relationship, "R".to_string())].properties["rk"].is_key);
        let r = Adjacency {
            from_node_type: "A".into(),
            to_node_type: "B".into(),
            relationship_type: "R".into(),
        };
        assert_eq!(s.adjacencies[&r], (Cardinality::Many, Cardinality::Many));
        let c = Adjacency {
            from_node_type: "C".into(),
            to_node_type: "A".into(),
            relationship_type: "S".into(),
        };
        assert_eq!(s.adjacencies[&c], (Cardinality::Many, Cardinality::Single));
    }

    #[test]
    fn conflicting_keys_are_an_error() {
        let mut s = Schema::default();
        s.expand(
            &interp("interpretations:\n- {type: source_node, node_type: A, key: {id: x}}\n"),
            false,
        )
        .unwrap();
        let e = s
            .expand(
                &interp("interpretations:\n- {type: source_node, node_type: A, key: {other: x}}\n"),
                false,
            )
            .unwrap_err();
        assert!(e.to_string().contains("Cannot add keys"), "{e}");
    }
}
