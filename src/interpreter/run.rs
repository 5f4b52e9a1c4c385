//! Running an interpretation over one record: the context it builds, the ingestion clock, and the output.

use super::condition::eval_condition;
use super::parse::parse_passes;
use super::*;
use crate::interpreter::normalize::to_bolt;
use crate::interpreter::providers::{EvalCtx, Provider};
use crate::model::{
    DesiredIngestion, Node, NodeCreationRule, Properties, Relationship, RelationshipCreationRule,
    RelationshipWithNodes,
};
use crate::project::yaml::YamlNode;
use crate::project::{LoadError, check_keys};
use crate::record;
use crate::record::{Doc, Var};
use ::jmespath::Variable;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

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
                            record::py_str(&v)
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
        other => Some(record::py_str(other)),
    })
}
