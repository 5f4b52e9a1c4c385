//! The interpreter: records to nodes and relationships (spec §2.7–§2.9, §3.1).

mod condition;
mod jmespath;
pub mod normalize;
mod parse;
pub mod providers;
mod run;

pub use condition::Condition;
pub use run::{Clock, Interpreter};

use crate::interpreter::normalize::{Normalizers, to_bolt};
use crate::interpreter::providers::{EvalCtx, Provider};
use crate::model::{NodeCreationRule, Properties, RelationshipCreationRule};
use crate::project::LoadError;
use crate::project::yaml::YamlNode;
use crate::record;
use crate::record::Var;
use ::jmespath::Variable;

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
                            record::py_repr(&v)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::DesiredIngestion;
    use crate::project::yaml::load_str;
    use crate::record::Doc;
    use bolt::Value;

    fn interp(src: &str) -> Interpreter {
        let node = load_str(src, "p.yaml").unwrap();
        Interpreter::from_args(&node, "p.yaml", "pipe").unwrap()
    }

    fn run(i: &Interpreter, rec: serde_json::Value) -> Vec<DesiredIngestion> {
        let mut out = Vec::new();
        let mut clock = Clock::new();
        i.interpret(
            Doc::Var(record::from_json(rec)),
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
                Doc::Var(record::from_json(serde_json::json!({"k": "1"}))),
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
