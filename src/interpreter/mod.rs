//! The interpreter: records to nodes and relationships (spec §2.7–§2.9, §3.1).

pub mod values;

use crate::model::{
    DesiredIngestion, Node, NodeCreationRule, Properties, Relationship, RelationshipCreationRule,
    RelationshipWithNodes,
};
use crate::project::yaml::{Kind, YamlNode};
use crate::project::{LoadError, boolean, check_keys, string_list};
use jmespath::Variable;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use values::{Doc, EvalCtx, Normalizers, Provider, Var, parse_flags, to_bolt};

/// An error while interpreting a record (fatal for the pipeline, as in Python).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InterpretError(pub String);

/// A map of names to providers, or one provider returning a map.
#[derive(Debug)]
pub enum PropMap {
    /// `{name: provider}` in file order.
    Static(Vec<(crate::model::Name, Provider)>),
    /// A provider whose single value is a map.
    Dynamic(Provider),
}

impl PropMap {
    fn parse(node: &YamlNode, file: &str, what: &str) -> Result<PropMap, LoadError> {
        if node.tag.is_some() {
            return Ok(PropMap::Dynamic(Provider::from_yaml(node, file)?));
        }
        if node.is_null() {
            return Ok(PropMap::Static(Vec::new()));
        }
        let Some(entries) = node.as_map() else {
            return Err(LoadError::at(
                file,
                node,
                format!(
                    "`{what}` must be a mapping or a value provider, found {}",
                    node.type_name()
                ),
            ));
        };
        Ok(PropMap::Static(
            entries
                .iter()
                .map(|(k, v)| Ok((k.key_text().into(), Provider::from_yaml(v, file)?)))
                .collect::<Result<_, LoadError>>()?,
        ))
    }

    /// Number of static entries (0 for a dynamic map): a capacity hint.
    pub fn static_len(&self) -> usize {
        match self {
            PropMap::Static(v) => v.len(),
            PropMap::Dynamic(_) => 0,
        }
    }

    /// Static names (schema inference); empty for a dynamic map.
    pub fn names(&self) -> Vec<String> {
        match self {
            PropMap::Static(v) => v.iter().map(|(k, _)| k.to_string()).collect(),
            PropMap::Dynamic(_) => Vec::new(),
        }
    }

    fn apply(
        &self,
        ctx: &EvalCtx<'_>,
        out: &mut Properties,
        norm: &Normalizers,
    ) -> Result<(), InterpretError> {
        match self {
            PropMap::Static(entries) => {
                for (k, p) in entries {
                    let v = p.single_bolt(ctx, norm).map_err(InterpretError)?;
                    // Small maps (the usual few defaults): comparing names is cheaper than SipHash-ing each
                    // name for the lookup on top of the insert.
                    let slot = if out.len() <= 8 {
                        out.iter_mut()
                            .find_map(|(name, slot)| (name == k).then_some(slot))
                    } else {
                        out.get_mut(&**k)
                    };
                    match slot {
                        Some(slot) => *slot = v,
                        None => {
                            out.insert(k.clone(), v);
                        }
                    }
                }
            }
            PropMap::Dynamic(p) => {
                let v = p.single(ctx).map_err(InterpretError)?;
                match &*v {
                    Variable::Object(m) => {
                        for (k, v) in m {
                            out.insert(k.as_str().into(), to_bolt(v, norm));
                        }
                    }
                    Variable::Null => {}
                    _ => {
                        return Err(InterpretError(format!(
                            "expected a map of properties, got {}",
                            values::py_repr(&v)
                        )));
                    }
                }
            }
        }
        Ok(())
    }

    fn apply_vars(
        &self,
        ctx: &EvalCtx<'_>,
        norm: &Normalizers,
    ) -> Result<Vec<(String, Var)>, InterpretError> {
        let mut out = Vec::new();
        match self {
            PropMap::Static(entries) => {
                for (k, p) in entries {
                    out.push((
                        k.to_string(),
                        norm.apply(p.single(ctx).map_err(InterpretError)?),
                    ));
                }
            }
            PropMap::Dynamic(p) => {
                if let Variable::Object(m) = &*p.single(ctx).map_err(InterpretError)? {
                    for (k, v) in m {
                        out.push((k.clone(), norm.apply(v.clone())));
                    }
                }
            }
        }
        Ok(out)
    }
}

/// `source_node` (spec §2.8.1).
#[derive(Debug)]
pub struct SourceNode {
    /// Primary label.
    pub node_type: Provider,
    /// Keys.
    pub key: PropMap,
    /// Properties.
    pub properties: PropMap,
    /// Extra labels.
    pub additional_types: Vec<String>,
    /// Schema-only indexes.
    pub additional_indexes: Vec<String>,
    /// EAGER (true) or MATCH_ONLY.
    pub allow_create: bool,
    /// Keep `last_ingested_at`.
    pub update_last_ingested: bool,
    key_norm: Normalizers,
    prop_norm: Normalizers,
}

/// `relationship` (spec §2.8.3).
#[derive(Debug)]
pub struct RelationshipInterp {
    /// Related node label.
    pub node_type: Provider,
    /// Relationship type.
    pub relationship_type: Provider,
    /// Related node keys.
    pub node_key: PropMap,
    /// Related node properties.
    pub node_properties: PropMap,
    /// Relationship keys.
    pub relationship_key: PropMap,
    /// Relationship properties.
    pub relationship_properties: PropMap,
    /// Source → related when true.
    pub outbound: bool,
    /// Zip many key values.
    pub find_many: bool,
    /// One evaluation per item.
    pub iterate_on: Option<Provider>,
    /// Schema only: `MANY` when true.
    pub cardinality_many: bool,
    /// Related node rule.
    pub node_creation_rule: NodeCreationRule,
    /// Relationship rule.
    pub relationship_creation_rule: RelationshipCreationRule,
    /// Extra labels of the related node.
    pub node_additional_types: Vec<String>,
    node_update_last_ingested: bool,
    relationship_update_last_ingested: bool,
    key_norm: Normalizers,
    prop_norm: Normalizers,
}

/// A condition (spec §2.9).
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // Built once per pipeline; boxing buys nothing.
pub enum Condition {
    /// Always true.
    True,
    /// All.
    And(Vec<Condition>),
    /// Any.
    Or(Vec<Condition>),
    /// Negation.
    Not(Box<Condition>),
    /// A comparison.
    Compare {
        /// Left side.
        left: Provider,
        /// Right side.
        right: Provider,
        /// `equals`, `greater_than`, `less_than`, `contains`.
        operator: CompareOp,
    },
}

/// Comparison operators.
#[derive(Debug, Clone, Copy)]
pub enum CompareOp {
    /// ==
    Equals,
    /// >
    GreaterThan,
    /// <
    LessThan,
    /// right in left
    Contains,
}

/// One interpretation with its optional condition.
#[derive(Debug)]
pub struct Interpretation {
    /// What it does.
    pub kind: InterpKind,
    /// Runs only when true.
    pub condition: Option<Condition>,
}

/// The interpretation types.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // Built once per pipeline; boxing buys nothing.
pub enum InterpKind {
    /// `source_node`
    SourceNode(SourceNode),
    /// `properties`
    Properties {
        /// Properties.
        properties: PropMap,
        /// Normalization.
        norm: Normalizers,
    },
    /// `relationship`
    Relationship(Box<RelationshipInterp>),
    /// `variables`
    Variables {
        /// Variables.
        variables: PropMap,
        /// Normalization.
        norm: Normalizers,
    },
    /// `switch`
    Switch {
        /// Switch value.
        switch_on: Provider,
        /// Cases: value → interpretations.
        cases: Vec<(Var, Vec<Interpretation>)>,
        /// Fallback.
        default: Option<Vec<Interpretation>>,
        /// Normalization of the switch value.
        norm: Normalizers,
        /// Error when nothing matches.
        fail_on_unhandled: bool,
    },
}

/// A pass list: one flat pass or several passes each on its own copy.
#[derive(Debug)]
pub enum Passes {
    /// One pass.
    Single(Vec<Interpretation>),
    /// Several passes, one output each.
    Multi(Vec<Vec<Interpretation>>),
}

impl Passes {
    /// Every pass.
    pub fn passes(&self) -> Vec<&Vec<Interpretation>> {
        match self {
            Passes::Single(p) => vec![p],
            Passes::Multi(ps) => ps.iter().collect(),
        }
    }
}

#[derive(Debug, Clone)]
struct PendingRel {
    related: Node,
    relationship: Relationship,
    outbound: bool,
    related_rule: NodeCreationRule,
    rel_rule: RelationshipCreationRule,
}

#[derive(Debug, Clone)]
struct Context {
    document: Doc,
    variables: BTreeMap<String, Var>,
    source: Node,
    source_rule: NodeCreationRule,
    rels: Vec<PendingRel>,
}

impl Context {
    fn eval(&self) -> EvalCtx<'_> {
        EvalCtx {
            document: &self.document,
            variables: &self.variables,
        }
    }
}

/// The ingestion timestamp, refreshed every 2 s as Python caches it.
pub struct Clock {
    fixed: Option<bolt::Value>,
    last: Option<Instant>,
    value: bolt::Value,
}

impl Clock {
    /// A clock; `NODESTREAM_FIXED_NOW` (RFC 3339) freezes it, for reproducible dry runs and tests.
    pub fn new() -> Self {
        let fixed = std::env::var("NODESTREAM_FIXED_NOW").ok().and_then(|s| {
            chrono::DateTime::parse_from_rfc3339(&s)
                .ok()
                .map(|d| datetime(d.with_timezone(&chrono::Utc)))
        });
        Clock {
            fixed,
            last: None,
            value: bolt::Value::Null,
        }
    }

    /// The current (cached) timestamp.
    pub fn now(&mut self) -> &bolt::Value {
        if let Some(f) = &self.fixed {
            return f;
        }
        let stale = self
            .last
            .is_none_or(|l| l.elapsed() >= Duration::from_secs(2));
        if stale {
            self.value = datetime(chrono::Utc::now());
            self.last = Some(Instant::now());
        }
        &self.value
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}

fn datetime(d: chrono::DateTime<chrono::Utc>) -> bolt::Value {
    bolt::Value::DateTime(bolt::value::DateTime {
        seconds: d.timestamp(),
        nanoseconds: i64::from(d.timestamp_subsec_micros()) * 1000,
        tz_offset_seconds: 0,
    })
}

/// The `Interpreter` step.
#[derive(Debug)]
pub struct Interpreter {
    /// `before_iteration`.
    pub before_iteration: Option<Passes>,
    /// `iterate_on`.
    pub iterate_on: Option<Provider>,
    /// `interpretations`.
    pub interpretations: Passes,
    defaults_full: Properties,
    defaults_short: Properties,
}

/// `last_ingested_at` (optional), `last_ingested_by_<p>_at`, `was_ingested_by_<p>`; timestamps set per use.
fn default_template(pipeline_name: &str, keep_last_ingested: bool) -> Properties {
    let mut p = Properties::with_capacity(3);
    if keep_last_ingested {
        p.insert("last_ingested_at".into(), bolt::Value::Null);
    }
    p.insert(
        format!("last_ingested_by_{pipeline_name}_at").into(),
        bolt::Value::Null,
    );
    p.insert(
        format!("was_ingested_by_{pipeline_name}").into(),
        bolt::Value::Boolean(true),
    );
    p
}

const INTERPRETER_ARGS: &[&str] = &["interpretations", "before_iteration", "iterate_on"];

impl Interpreter {
    /// Builds from the step's `arguments` (tags resolved).
    pub fn from_args(args: &YamlNode, file: &str, pipeline_name: &str) -> Result<Self, LoadError> {
        check_keys(args, file, "the Interpreter arguments", INTERPRETER_ARGS)?;
        let interpretations = match args.get("interpretations") {
            Some(n) => parse_passes(n, file, "interpretations")?,
            None => {
                return Err(LoadError::at(
                    file,
                    args,
                    "the Interpreter needs `interpretations`",
                ));
            }
        };
        let before_iteration = match args.get("before_iteration") {
            Some(n) if !n.is_null() => Some(parse_passes(n, file, "before_iteration")?),
            _ => None,
        };
        let iterate_on = match args.get("iterate_on") {
            Some(n) if !n.is_null() => Some(Provider::from_yaml(n, file)?),
            _ => None,
        };
        Ok(Interpreter {
            before_iteration,
            iterate_on,
            interpretations,
            defaults_full: default_template(pipeline_name, true),
            defaults_short: default_template(pipeline_name, false),
        })
    }

    /// The default properties (spec §3.1), cloned from a template so the names are not hashed again, with
    /// room for `extra` more.
    fn defaults(&self, clock: &bolt::Value, keep_last_ingested: bool, extra: usize) -> Properties {
        let (mut p, stamped) = if keep_last_ingested {
            (self.defaults_full.clone(), 2)
        } else {
            (self.defaults_short.clone(), 1)
        };
        p.reserve(extra);
        for (_, v) in p.iter_mut().take(stamped) {
            *v = clock.clone();
        }
        p
    }

    /// Interprets one record, calling `emit` once per desired ingestion.
    pub fn interpret(
        &self,
        record: Doc,
        now: &bolt::Value,
        emit: &mut dyn FnMut(DesiredIngestion) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let mut ctx0 = Context {
            document: record,
            variables: BTreeMap::new(),
            source: Node::default(),
            source_rule: NodeCreationRule::Eager,
            rels: Vec::new(),
        };
        // The common shape (one flat pass, no before_iteration, no iterate_on) works in place.
        if let (None, None, Passes::Single(list)) = (
            &self.before_iteration,
            &self.iterate_on,
            &self.interpretations,
        ) {
            self.apply_list(list, &mut ctx0, now)?;
            return emit(finish(ctx0));
        }
        let befores = match &self.before_iteration {
            Some(p) => self.apply_passes(p, ctx0, now)?,
            None => vec![ctx0],
        };
        for ctx_b in befores {
            let subs = match &self.iterate_on {
                Some(p) => {
                    let items = p.many(&ctx_b.eval()).map_err(InterpretError)?;
                    items
                        .into_iter()
                        .map(|item| {
                            let mut c = ctx_b.clone();
                            c.document = Doc::Var(item);
                            c
                        })
                        .collect()
                }
                None => vec![ctx_b],
            };
            for ctx_s in subs {
                for out in self.apply_passes(&self.interpretations, ctx_s, now)? {
                    emit(finish(out))?;
                }
            }
        }
        Ok(())
    }

    fn apply_passes(
        &self,
        passes: &Passes,
        ctx: Context,
        now: &bolt::Value,
    ) -> Result<Vec<Context>, InterpretError> {
        match passes {
            Passes::Single(list) => {
                let mut ctx = ctx;
                self.apply_list(list, &mut ctx, now)?;
                Ok(vec![ctx])
            }
            Passes::Multi(lists) => {
                let mut out = Vec::with_capacity(lists.len());
                for list in lists {
                    let mut c = ctx.clone();
                    self.apply_list(list, &mut c, now)?;
                    out.push(c);
                }
                Ok(out)
            }
        }
    }

    fn apply_list(
        &self,
        list: &[Interpretation],
        ctx: &mut Context,
        now: &bolt::Value,
    ) -> Result<(), InterpretError> {
        for i in list {
            if let Some(c) = &i.condition
                && !eval_condition(c, &ctx.eval())?
            {
                continue;
            }
            self.apply_one(&i.kind, ctx, now)?;
        }
        Ok(())
    }

    fn apply_one(
        &self,
        kind: &InterpKind,
        ctx: &mut Context,
        now: &bolt::Value,
    ) -> Result<(), InterpretError> {
        match kind {
            InterpKind::SourceNode(s) => {
                let e = ctx.eval();
                let node_type = type_name(&s.node_type, &e)?;
                let mut keys = Properties::with_capacity(s.key.static_len());
                s.key.apply(&e, &mut keys, &s.key_norm)?;
                let mut props =
                    self.defaults(now, s.update_last_ingested, s.properties.static_len());
                s.properties.apply(&e, &mut props, &s.prop_norm)?;
                ctx.source.type_ = node_type.unwrap_or_default();
                ctx.source_rule = if s.allow_create {
                    NodeCreationRule::Eager
                } else {
                    NodeCreationRule::MatchOnly
                };
                for t in &s.additional_types {
                    if !ctx.source.additional_types.contains(t) {
                        ctx.source.additional_types.push(t.clone());
                    }
                }
                // A second source_node merges into the first (later values win).
                if ctx.source.key_values.is_empty() {
                    ctx.source.key_values = keys;
                } else {
                    ctx.source.key_values.extend(keys);
                }
                if ctx.source.properties.is_empty() {
                    ctx.source.properties = props;
                } else {
                    ctx.source.properties.extend(props);
                }
            }
            InterpKind::Properties { properties, norm } => {
                let e = EvalCtx {
                    document: &ctx.document,
                    variables: &ctx.variables,
                };
                properties.apply(&e, &mut ctx.source.properties, norm)?;
            }
            InterpKind::Variables { variables, norm } => {
                let vars = variables.apply_vars(&ctx.eval(), norm)?;
                ctx.variables.extend(vars);
            }
            InterpKind::Switch {
                switch_on,
                cases,
                default,
                norm,
                fail_on_unhandled,
            } => {
                let v = norm.apply(switch_on.single(&ctx.eval()).map_err(InterpretError)?);
                let branch = cases
                    .iter()
                    .find(|(k, _)| **k == *v)
                    .map(|(_, b)| b)
                    .or(default.as_ref());
                match branch {
                    Some(b) => self.apply_list(b, ctx, now)?,
                    None if *fail_on_unhandled => {
                        return Err(InterpretError(format!(
                            "'{}' was not matched in switch case",
                            values::py_str(&v)
                        )));
                    }
                    None => {}
                }
            }
            InterpKind::Relationship(r) => match &r.iterate_on {
                Some(it) => {
                    let items = it.many(&ctx.eval()).map_err(InterpretError)?;
                    for item in items {
                        let e = EvalCtx {
                            document: &Doc::Var(item.clone()),
                            variables: &ctx.variables,
                        };
                        self.relationships(r, &e, now, &mut ctx.rels)?;
                    }
                }
                None => {
                    let e = EvalCtx {
                        document: &ctx.document,
                        variables: &ctx.variables,
                    };
                    self.relationships(r, &e, now, &mut ctx.rels)?;
                }
            },
        }
        Ok(())
    }

    /// Appends the relationships of one evaluation to `out`.
    fn relationships(
        &self,
        r: &RelationshipInterp,
        e: &EvalCtx<'_>,
        now: &bolt::Value,
        out: &mut Vec<PendingRel>,
    ) -> Result<(), InterpretError> {
        let rel_type = type_name(&r.relationship_type, e)?.unwrap_or_default();
        let mut relationship = Relationship {
            type_: rel_type,
            key_values: Properties::new(),
            properties: self.defaults(
                now,
                r.relationship_update_last_ingested,
                r.relationship_properties.static_len(),
            ),
        };
        r.relationship_key
            .apply(e, &mut relationship.key_values, &r.prop_norm)?;
        r.relationship_properties
            .apply(e, &mut relationship.properties, &r.prop_norm)?;

        if r.find_many {
            let PropMap::Static(entries) = &r.node_key else {
                let mut k = Properties::new();
                r.node_key.apply(e, &mut k, &r.key_norm)?;
                return self.related(r, e, now, std::iter::once(k), relationship, out);
            };
            let mut columns = Vec::with_capacity(entries.len());
            for (name, p) in entries {
                let many = p.many(e).map_err(InterpretError)?;
                columns.push((name, many));
            }
            let len = columns.first().map_or(0, |c| c.1.len());
            if columns.iter().any(|c| c.1.len() != len) {
                return Err(InterpretError(
                    "Node Relationships do not have a consistent key length. Please check the find_many configuration.".into(),
                ));
            }
            let key_sets = (0..len).map(|i| {
                columns
                    .iter()
                    .map(|(n, vals)| ((*n).clone(), to_bolt(&vals[i], &r.key_norm)))
                    .collect()
            });
            self.related(r, e, now, key_sets, relationship, out)
        } else {
            let mut k = Properties::new();
            r.node_key.apply(e, &mut k, &r.key_norm)?;
            self.related(r, e, now, std::iter::once(k), relationship, out)
        }
    }

    fn related(
        &self,
        r: &RelationshipInterp,
        e: &EvalCtx<'_>,
        now: &bolt::Value,
        key_sets: impl ExactSizeIterator<Item = Properties>,
        relationship: Relationship,
        out: &mut Vec<PendingRel>,
    ) -> Result<(), InterpretError> {
        let node_type = type_name(&r.node_type, e)?;
        let Some(node_type) = node_type else {
            tracing::warn!("the related node type evaluated to null; relationship skipped");
            return Ok(());
        };
        out.reserve(key_sets.len());
        let last = key_sets.len().saturating_sub(1);
        let mut relationship = Some(relationship);
        let mut node_type = Some(node_type);
        for (i, keys) in key_sets.enumerate() {
            if keys.is_empty() || keys.values().any(|v| matches!(v, bolt::Value::Null)) {
                continue;
            }
            let mut related = Node {
                // Like the relationship: the last related node takes the type name, the others copy it.
                type_: if i == last {
                    node_type.take().unwrap_or_default()
                } else {
                    node_type.clone().unwrap_or_default()
                },
                key_values: keys,
                properties: self.defaults(
                    now,
                    r.node_update_last_ingested,
                    r.node_properties.static_len(),
                ),
                additional_types: r.node_additional_types.clone(),
            };
            r.node_properties
                .apply(e, &mut related.properties, &r.prop_norm)?;
            out.push(PendingRel {
                related,
                // Every related node of this evaluation shares the relationship; the last one takes it.
                relationship: if i == last {
                    relationship.take().unwrap_or_default()
                } else {
                    relationship.clone().unwrap_or_default()
                },
                outbound: r.outbound,
                related_rule: r.node_creation_rule,
                rel_rule: r.relationship_creation_rule,
            });
        }
        Ok(())
    }
}

fn finish(ctx: Context) -> DesiredIngestion {
    let Context {
        source,
        source_rule,
        rels,
        ..
    } = ctx;
    // The source side of each relationship carries the source's identity (type, keys, labels) but not its
    // properties: the writer ingests `DesiredIngestion::source` itself with every property, so copying them
    // into each relationship would only cost allocations.
    let endpoint = || Node {
        type_: source.type_.clone(),
        key_values: source.key_values.clone(),
        properties: Properties::new(),
        additional_types: source.additional_types.clone(),
    };
    let relationships = rels
        .into_iter()
        .map(|p| {
            let (from_node, to_node, from_rule, to_rule) = if p.outbound {
                (endpoint(), p.related, source_rule, p.related_rule)
            } else {
                (p.related, endpoint(), p.related_rule, source_rule)
            };
            RelationshipWithNodes {
                from_node,
                to_node,
                relationship: p.relationship,
                from_side_node_creation_rule: from_rule,
                to_side_node_creation_rule: to_rule,
                relationship_creation_rule: p.rel_rule,
            }
        })
        .collect();
    DesiredIngestion {
        source,
        source_node_creation_rule: source_rule,
        relationships,
    }
}

fn type_name(p: &Provider, e: &EvalCtx<'_>) -> Result<Option<String>, InterpretError> {
    if let Some(s) = p.static_str() {
        return Ok(Some(s.to_string()));
    }
    let v = p.single(e).map_err(InterpretError)?;
    Ok(match &*v {
        Variable::Null => None,
        Variable::String(s) => Some(s.clone()),
        other => Some(values::py_str(other)),
    })
}

fn eval_condition(c: &Condition, e: &EvalCtx<'_>) -> Result<bool, InterpretError> {
    Ok(match c {
        Condition::True => true,
        Condition::And(cs) => {
            for c in cs {
                if !eval_condition(c, e)? {
                    return Ok(false);
                }
            }
            true
        }
        Condition::Or(cs) => {
            for c in cs {
                if eval_condition(c, e)? {
                    return Ok(true);
                }
            }
            false
        }
        Condition::Not(c) => !eval_condition(c, e)?,
        Condition::Compare {
            left,
            right,
            operator,
        } => {
            let l = left.single(e).map_err(InterpretError)?;
            let r = right.single(e).map_err(InterpretError)?;
            compare(&l, &r, *operator).map_err(InterpretError)?
        }
    })
}

/// Python comparison semantics for conditions.
pub fn compare(l: &Variable, r: &Variable, op: CompareOp) -> Result<bool, String> {
    use std::cmp::Ordering;
    let order = || -> Result<Ordering, String> {
        match (l, r) {
            (Variable::Number(a), Variable::Number(b)) => Ok(a
                .as_f64()
                .partial_cmp(&b.as_f64())
                .unwrap_or(Ordering::Equal)),
            (Variable::String(a), Variable::String(b)) => Ok(a.cmp(b)),
            (Variable::Bool(a), Variable::Bool(b)) => Ok(a.cmp(b)),
            _ => Err(format!(
                "comparison not supported between {} and {}",
                values::py_repr(l),
                values::py_repr(r)
            )),
        }
    };
    Ok(match op {
        CompareOp::Equals => l == r,
        CompareOp::GreaterThan => order()? == Ordering::Greater,
        CompareOp::LessThan => order()? == Ordering::Less,
        CompareOp::Contains => match (l, r) {
            (Variable::String(a), Variable::String(b)) => a.contains(b.as_str()),
            (Variable::Array(a), _) => a.iter().any(|x| **x == *r),
            (Variable::Object(m), Variable::String(k)) => m.contains_key(k),
            _ => {
                return Err(format!(
                    "argument of type {} is not iterable",
                    values::py_repr(l)
                ));
            }
        },
    })
}

fn parse_passes(node: &YamlNode, file: &str, what: &str) -> Result<Passes, LoadError> {
    let Some(items) = node.as_seq() else {
        return Err(LoadError::at(
            file,
            node,
            format!(
                "`{what}` must be a list of interpretations, found {}",
                node.type_name()
            ),
        ));
    };
    let lists = items.iter().filter(|i| i.as_seq().is_some()).count();
    if lists > 0 && lists == items.len() {
        let mut passes = Vec::new();
        for item in items {
            passes.push(parse_list(item, file, what)?);
        }
        Ok(Passes::Multi(passes))
    } else {
        Ok(Passes::Single(parse_list(node, file, what)?))
    }
}

fn parse_list(node: &YamlNode, file: &str, what: &str) -> Result<Vec<Interpretation>, LoadError> {
    match node.as_seq() {
        Some(items) => items
            .iter()
            .map(|i| parse_interpretation(i, file))
            .collect(),
        None if node.as_map().is_some() => Ok(vec![parse_interpretation(node, file)?]),
        None => Err(LoadError::at(
            file,
            node,
            format!(
                "`{what}` must be a list of interpretations, found {}",
                node.type_name()
            ),
        )),
    }
}

fn get_bool(
    node: &YamlNode,
    key: &str,
    default: bool,
    file: &str,
    what: &str,
) -> Result<bool, LoadError> {
    match node.get(key) {
        Some(v) if !v.is_null() => boolean(v, file, &format!("{what}.{key}")),
        _ => Ok(default),
    }
}

fn get_strings(
    node: &YamlNode,
    key: &str,
    file: &str,
    what: &str,
) -> Result<Vec<String>, LoadError> {
    match node.get(key) {
        Some(v) => string_list(v, file, &format!("{what}.{key}")),
        None => Ok(Vec::new()),
    }
}

fn get_flags(node: &YamlNode, key: &str, file: &str) -> Result<Option<values::Flags>, LoadError> {
    match node.get(key) {
        Some(v) if !v.is_null() => Ok(Some(parse_flags(v, file, key)?)),
        _ => Ok(None),
    }
}

fn norms(
    defaults: &[(&str, bool)],
    flags: Option<&values::Flags>,
    node: &YamlNode,
    file: &str,
) -> Result<Normalizers, LoadError> {
    Normalizers::from_flags(defaults, flags.unwrap_or(&Vec::new()))
        .map_err(|e| LoadError::at(file, node, e))
}

fn required<'a>(
    node: &'a YamlNode,
    key: &str,
    file: &str,
    what: &str,
) -> Result<&'a YamlNode, LoadError> {
    node.get(key)
        .ok_or_else(|| LoadError::at(file, node, format!("{what} needs `{key}`")))
}

/// Parses one interpretation mapping.
pub fn parse_interpretation(node: &YamlNode, file: &str) -> Result<Interpretation, LoadError> {
    if node.as_map().is_none() {
        return Err(LoadError::at(
            file,
            node,
            format!(
                "an interpretation must be a mapping with `type:`, found {}",
                node.type_name()
            ),
        ));
    }
    let ty_node = required(node, "type", file, "an interpretation")?;
    let ty = ty_node.key_text();
    let what = format!("the `{ty}` interpretation");
    let condition = match node.get("condition") {
        Some(c) if !c.is_null() => Some(parse_condition(c, file)?),
        _ => None,
    };
    let kind = match ty.as_str() {
        "source_node" => {
            check_keys(
                node,
                file,
                &what,
                &[
                    "type",
                    "condition",
                    "node_type",
                    "key",
                    "properties",
                    "additional_types",
                    "additional_indexes",
                    "allow_create",
                    "update_last_ingested",
                    "normalization",
                    "key_normalization",
                    "properties_normalization",
                    "property_normalization",
                ],
            )?;
            let normalization = get_flags(node, "normalization", file)?;
            let key_normalization = get_flags(node, "key_normalization", file)?;
            let properties_normalization = match get_flags(node, "properties_normalization", file)?
            {
                Some(f) => Some(f),
                None => get_flags(node, "property_normalization", file)?,
            };
            if normalization.is_some()
                && (key_normalization.is_some() || properties_normalization.is_some())
            {
                return Err(LoadError::at(
                    file,
                    node,
                    "`normalization` cannot be combined with `key_normalization` or `properties_normalization`",
                ));
            }
            let key_flags = key_normalization.as_ref().or(normalization.as_ref());
            let prop_flags = properties_normalization.as_ref().or(normalization.as_ref());
            InterpKind::SourceNode(SourceNode {
                node_type: Provider::from_yaml(required(node, "node_type", file, &what)?, file)?,
                key: PropMap::parse(required(node, "key", file, &what)?, file, "key")?,
                properties: match node.get("properties") {
                    Some(p) => PropMap::parse(p, file, "properties")?,
                    None => PropMap::Static(Vec::new()),
                },
                additional_types: get_strings(node, "additional_types", file, &what)?,
                additional_indexes: get_strings(node, "additional_indexes", file, &what)?,
                allow_create: get_bool(node, "allow_create", true, file, &what)?,
                update_last_ingested: get_bool(node, "update_last_ingested", true, file, &what)?,
                key_norm: norms(&[("do_lowercase_strings", true)], key_flags, node, file)?,
                prop_norm: norms(&[], prop_flags, node, file)?,
            })
        }
        "properties" => {
            check_keys(
                node,
                file,
                &what,
                &["type", "condition", "properties", "normalization"],
            )?;
            InterpKind::Properties {
                properties: PropMap::parse(
                    required(node, "properties", file, &what)?,
                    file,
                    "properties",
                )?,
                norm: norms(
                    &[],
                    get_flags(node, "normalization", file)?.as_ref(),
                    node,
                    file,
                )?,
            }
        }
        "variables" => {
            check_keys(
                node,
                file,
                &what,
                &["type", "condition", "variables", "normalization"],
            )?;
            InterpKind::Variables {
                variables: PropMap::parse(
                    required(node, "variables", file, &what)?,
                    file,
                    "variables",
                )?,
                norm: norms(
                    &[],
                    get_flags(node, "normalization", file)?.as_ref(),
                    node,
                    file,
                )?,
            }
        }
        "relationship" => {
            check_keys(
                node,
                file,
                &what,
                &[
                    "type",
                    "condition",
                    "node_type",
                    "relationship_type",
                    "node_key",
                    "node_properties",
                    "relationship_key",
                    "relationship_properties",
                    "outbound",
                    "find_many",
                    "iterate_on",
                    "cardinality",
                    "node_creation_rule",
                    "match_strategy",
                    "relationship_creation_rule",
                    "key_normalization",
                    "properties_normalization",
                    "property_normalization",
                    "node_additional_types",
                    "node_update_last_ingested",
                    "relationship_update_last_ingested",
                ],
            )?;
            let opt_map = |key: &str| -> Result<PropMap, LoadError> {
                match node.get(key) {
                    Some(p) => PropMap::parse(p, file, key),
                    None => Ok(PropMap::Static(Vec::new())),
                }
            };
            let rule_node = node
                .get("node_creation_rule")
                .or_else(|| node.get("match_strategy"));
            let node_creation_rule = match rule_node {
                None => NodeCreationRule::Eager,
                Some(n) => match n.key_text().as_str() {
                    "EAGER" => NodeCreationRule::Eager,
                    "MATCH_ONLY" => NodeCreationRule::MatchOnly,
                    "FUZZY" => NodeCreationRule::Fuzzy,
                    other => {
                        return Err(LoadError::at(
                            file,
                            n,
                            format!(
                                "node_creation_rule `{other}`: expected EAGER, MATCH_ONLY or FUZZY"
                            ),
                        ));
                    }
                },
            };
            let relationship_creation_rule = match node.get("relationship_creation_rule") {
                None => RelationshipCreationRule::Eager,
                Some(n) => match n.key_text().as_str() {
                    "EAGER" | "MERGE_KEY" => RelationshipCreationRule::Eager,
                    "CREATE" => RelationshipCreationRule::Create,
                    other => {
                        return Err(LoadError::at(
                            file,
                            n,
                            format!(
                                "relationship_creation_rule `{other}`: expected EAGER, MERGE_KEY or CREATE"
                            ),
                        ));
                    }
                },
            };
            let cardinality_many = match node.get("cardinality") {
                None => false,
                Some(n) => match n.key_text().as_str() {
                    "SINGLE" => false,
                    "MANY" => true,
                    other => {
                        return Err(LoadError::at(
                            file,
                            n,
                            format!("cardinality `{other}`: expected SINGLE or MANY"),
                        ));
                    }
                },
            };
            let prop_flags = match get_flags(node, "properties_normalization", file)? {
                Some(f) => Some(f),
                None => get_flags(node, "property_normalization", file)?,
            };
            InterpKind::Relationship(Box::new(RelationshipInterp {
                node_type: Provider::from_yaml(required(node, "node_type", file, &what)?, file)?,
                relationship_type: Provider::from_yaml(
                    required(node, "relationship_type", file, &what)?,
                    file,
                )?,
                node_key: PropMap::parse(
                    required(node, "node_key", file, &what)?,
                    file,
                    "node_key",
                )?,
                node_properties: opt_map("node_properties")?,
                relationship_key: opt_map("relationship_key")?,
                relationship_properties: opt_map("relationship_properties")?,
                outbound: get_bool(node, "outbound", true, file, &what)?,
                find_many: get_bool(node, "find_many", false, file, &what)?,
                iterate_on: match node.get("iterate_on") {
                    Some(n) if !n.is_null() => Some(Provider::from_yaml(n, file)?),
                    _ => None,
                },
                cardinality_many,
                node_creation_rule,
                relationship_creation_rule,
                node_additional_types: get_strings(node, "node_additional_types", file, &what)?,
                node_update_last_ingested: get_bool(
                    node,
                    "node_update_last_ingested",
                    true,
                    file,
                    &what,
                )?,
                relationship_update_last_ingested: get_bool(
                    node,
                    "relationship_update_last_ingested",
                    true,
                    file,
                    &what,
                )?,
                key_norm: norms(
                    &[("do_lowercase_strings", true)],
                    get_flags(node, "key_normalization", file)?.as_ref(),
                    node,
                    file,
                )?,
                prop_norm: norms(&[], prop_flags.as_ref(), node, file)?,
            }))
        }
        "switch" => {
            check_keys(
                node,
                file,
                &what,
                &[
                    "type",
                    "condition",
                    "switch_on",
                    "cases",
                    "default",
                    "normalization",
                    "fail_on_unhandled",
                ],
            )?;
            let cases_node = required(node, "cases", file, &what)?;
            let Some(entries) = cases_node.as_map() else {
                return Err(LoadError::at(
                    file,
                    cases_node,
                    "`cases` must be a mapping of values to interpretations",
                ));
            };
            let mut cases = Vec::new();
            for (k, v) in entries {
                cases.push((values::from_yaml(k), switch_branch(v, file)?));
            }
            InterpKind::Switch {
                switch_on: Provider::from_yaml(required(node, "switch_on", file, &what)?, file)?,
                cases,
                default: match node.get("default") {
                    Some(d) if !d.is_null() => Some(switch_branch(d, file)?),
                    _ => None,
                },
                norm: norms(
                    &[],
                    get_flags(node, "normalization", file)?.as_ref(),
                    node,
                    file,
                )?,
                fail_on_unhandled: get_bool(node, "fail_on_unhandled", true, file, &what)?,
            }
        }
        other => {
            return Err(LoadError::at(
                file,
                ty_node,
                format!(
                    "unknown interpretation type `{other}` (expected source_node, properties, relationship, variables or switch)"
                ),
            ));
        }
    };
    Ok(Interpretation { kind, condition })
}

fn switch_branch(node: &YamlNode, file: &str) -> Result<Vec<Interpretation>, LoadError> {
    if let Some(items) = node.as_seq()
        && items.iter().any(|i| i.as_seq().is_some())
    {
        return Err(LoadError::at(
            file,
            node,
            "a switch branch is a single pass: a list of lists is not allowed",
        ));
    }
    parse_list(node, file, "switch case")
}

fn parse_condition(node: &YamlNode, file: &str) -> Result<Condition, LoadError> {
    if node.as_map().is_none() {
        return Err(LoadError::at(
            file,
            node,
            format!("a condition must be a mapping, found {}", node.type_name()),
        ));
    }
    let ty = node
        .get("type")
        .map(YamlNode::key_text)
        .unwrap_or_else(|| "true".into());
    let list = |key: &str| -> Result<Vec<Condition>, LoadError> {
        let n = required(node, key, file, "the condition")?;
        match &n.kind {
            Kind::Seq(items) => items.iter().map(|i| parse_condition(i, file)).collect(),
            _ => Err(LoadError::at(
                file,
                n,
                "`conditions` must be a list of conditions",
            )),
        }
    };
    Ok(match ty.as_str() {
        "true" | "True" => Condition::True,
        "and" => Condition::And(list("conditions")?),
        "or" => Condition::Or(list("conditions")?),
        "not" => Condition::Not(Box::new(parse_condition(
            required(node, "condition", file, "the `not` condition")?,
            file,
        )?)),
        "compare" => {
            check_keys(
                node,
                file,
                "the `compare` condition",
                &["type", "left", "right", "operator"],
            )?;
            let op_node = required(node, "operator", file, "the `compare` condition")?;
            let operator = match op_node.key_text().as_str() {
                "equals" => CompareOp::Equals,
                "greater_than" => CompareOp::GreaterThan,
                "less_than" => CompareOp::LessThan,
                "contains" => CompareOp::Contains,
                other => {
                    return Err(LoadError::at(
                        file,
                        op_node,
                        format!(
                            "unknown operator `{other}` (expected equals, greater_than, less_than or contains)"
                        ),
                    ));
                }
            };
            Condition::Compare {
                left: Provider::from_yaml(
                    required(node, "left", file, "the `compare` condition")?,
                    file,
                )?,
                right: Provider::from_yaml(
                    required(node, "right", file, "the `compare` condition")?,
                    file,
                )?,
                operator,
            }
        }
        other => {
            return Err(LoadError::at(
                file,
                node,
                format!("unknown condition type `{other}` (expected and, or, not, compare)"),
            ));
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::yaml::load_str;
    use bolt::Value;

    fn interp(src: &str) -> Interpreter {
        let node = load_str(src, "p.yaml").unwrap();
        Interpreter::from_args(&node, "p.yaml", "pipe").unwrap()
    }

    fn run(i: &Interpreter, rec: serde_json::Value) -> Vec<DesiredIngestion> {
        let mut out = Vec::new();
        let mut clock = Clock::new();
        i.interpret(
            Doc::Var(values::from_json(rec)),
            &clock.now().clone(),
            &mut |d| {
                out.push(d);
                Ok(())
            },
        )
        .unwrap();
        out
    }

    fn s(v: &str) -> Value {
        Value::String(v.into())
    }

    #[test]
    fn airports_shape_lowercases_keys_only() {
        let i = interp(
            "interpretations:\n- type: source_node\n  node_type: Airport\n  key: {identifier: !jmespath ident}\n  properties: {name: !jmespath name}\n- type: relationship\n  node_type: Country\n  relationship_type: WITHIN\n  node_key: {code: !jmespath iso_country}\n- type: relationship\n  node_type: Team\n  relationship_type: PLAYS_FOR\n  node_key: {name: !jmespath team}\n  key_normalization: {do_trim_whitespace: true, do_lowercase_strings: false}\n",
        );
        let out = run(
            &i,
            serde_json::json!({"ident": "05PN", "name": "State Police", "iso_country": "US", "team": "Liverpool "}),
        );
        assert_eq!(out.len(), 1);
        let d = &out[0];
        assert_eq!(d.source.type_, "Airport");
        assert_eq!(d.source.key_values["identifier"], s("05pn"));
        assert_eq!(d.source.properties["name"], s("State Police"));
        assert!(matches!(
            d.source.properties["last_ingested_at"],
            Value::DateTime(_)
        ));
        assert_eq!(
            d.source.properties["was_ingested_by_pipe"],
            Value::Boolean(true)
        );
        assert!(d.source.properties.contains_key("last_ingested_by_pipe_at"));
        assert_eq!(d.relationships.len(), 2);
        assert_eq!(d.relationships[0].to_node.key_values["code"], s("us"));
        assert_eq!(
            d.relationships[0].from_node.key_values["identifier"],
            s("05pn")
        );
        assert_eq!(
            d.relationships[1].to_node.key_values["name"],
            s("Liverpool")
        );
    }

    #[test]
    fn find_many_outbound_false_and_null_keys() {
        let i = interp(
            "interpretations:\n- type: source_node\n  node_type: P\n  key: {id: !jmespath id}\n  update_last_ingested: false\n- type: relationship\n  node_type: T\n  relationship_type: HAS\n  find_many: true\n  outbound: false\n  node_key: {name: !jmespath tags}\n  relationship_key: {k: !jmespath id}\n  node_creation_rule: MATCH_ONLY\n  relationship_creation_rule: CREATE\n",
        );
        let out = run(&i, serde_json::json!({"id": "X", "tags": ["A", "B"]}));
        let d = &out[0];
        assert!(!d.source.properties.contains_key("last_ingested_at"));
        assert_eq!(d.relationships.len(), 2);
        let r = &d.relationships[1];
        assert_eq!(r.from_node.key_values["name"], s("b"));
        assert_eq!(r.to_node.key_values["id"], s("x"));
        assert_eq!(r.relationship.key_values["k"], s("X"));
        assert_eq!(r.from_side_node_creation_rule, NodeCreationRule::MatchOnly);
        assert_eq!(
            r.relationship_creation_rule,
            RelationshipCreationRule::Create
        );
        // A null key skips the related node; an empty string is a valid key.
        let out = run(&i, serde_json::json!({"id": "", "tags": []}));
        assert_eq!(out[0].source.key_values["id"], s(""));
        assert!(out[0].source.is_valid());
        assert!(out[0].relationships.is_empty());
        let out = run(&i, serde_json::json!({"tags": ["a"]}));
        assert!(!out[0].source.is_valid());
    }

    #[test]
    fn before_iteration_iterate_on_variables_switch_conditions() {
        let i = interp(
            "before_iteration:\n- type: variables\n  variables: {team: !jmespath team}\niterate_on: !jmespath members[*]\ninterpretations:\n- type: source_node\n  node_type: Person\n  key: {name: !jmespath name}\n  properties: {team: !variable team}\n- type: switch\n  switch_on: !jmespath role\n  fail_on_unhandled: false\n  cases:\n    lead:\n      - type: properties\n        properties: {lead: true}\n- type: properties\n  condition: {type: compare, left: !jmespath age, right: 30, operator: greater_than}\n  properties: {senior: true}\n",
        );
        let out = run(
            &i,
            serde_json::json!({"team": "A", "members": [{"name": "X", "role": "lead", "age": 40}, {"name": "Y", "role": "dev", "age": 20}]}),
        );
        assert_eq!(out.len(), 2);
        assert_eq!(out[0].source.properties["team"], s("A"));
        assert_eq!(out[0].source.properties["lead"], Value::Boolean(true));
        assert_eq!(out[0].source.properties["senior"], Value::Boolean(true));
        assert!(!out[1].source.properties.contains_key("lead"));
        assert!(!out[1].source.properties.contains_key("senior"));
    }

    #[test]
    fn multi_pass_multiplies_outputs_and_unmatched_switch_fails() {
        let i = interp(
            "interpretations:\n- - type: source_node\n    node_type: A\n    key: {id: !jmespath id}\n- - type: source_node\n    node_type: B\n    key: {id: !jmespath id}\n",
        );
        let out = run(&i, serde_json::json!({"id": 1}));
        assert_eq!(
            out.iter()
                .map(|d| d.source.type_.as_str())
                .collect::<Vec<_>>(),
            vec!["A", "B"]
        );
        assert_eq!(out[0].source.key_values["id"], Value::Integer(1));
        let i = interp(
            "interpretations:\n- type: switch\n  switch_on: !jmespath k\n  cases: {1: {type: properties, properties: {a: 1}}}\n",
        );
        let mut clock = Clock::new();
        let err = i
            .interpret(
                Doc::Var(values::from_json(serde_json::json!({"k": "1"}))),
                &clock.now().clone(),
                &mut |_| Ok(()),
            )
            .unwrap_err();
        assert_eq!(err.to_string(), "'1' was not matched in switch case");
    }

    #[test]
    fn interpretation_errors_name_the_place() {
        let node = load_str("interpretations:\n  - type: source_node\n    node_type: A\n    key: {id: x}\n    colour: red\n", "f.yaml").unwrap();
        let e = Interpreter::from_args(&node, "f.yaml", "p").unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("f.yaml", 5), "{e}");
        assert!(e.message.contains("unknown key `colour`"), "{e}");
        let node = load_str("interpretations:\n  - type: source_node\n    node_type: A\n    key: {id: x}\n    key_normalization: {do_shout: true}\n", "f.yaml").unwrap();
        let e = Interpreter::from_args(&node, "f.yaml", "p").unwrap_err();
        assert!(
            e.message
                .contains("Normalization flag with name 'do_shout' is not valid."),
            "{e}"
        );
    }
}
