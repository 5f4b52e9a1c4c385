//! Building interpretations from the pipeline file's `Interpreter` arguments (spec §2.8), with errors naming
//! the file, line and key.

use super::condition::parse_condition;
use super::*;
use crate::interpreter::normalize;
use crate::interpreter::normalize::{Normalizers, parse_flags};
use crate::interpreter::providers::Provider;
use crate::model::{NodeCreationRule, RelationshipCreationRule};
use crate::project::yaml::YamlNode;
use crate::project::{LoadError, boolean, check_keys, string_list};
use crate::record;

pub(super) fn parse_passes(node: &YamlNode, file: &str, what: &str) -> Result<Passes, LoadError> {
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

fn get_flags(
    node: &YamlNode,
    key: &str,
    file: &str,
) -> Result<Option<normalize::Flags>, LoadError> {
    match node.get(key) {
        Some(v) if !v.is_null() => Ok(Some(parse_flags(v, file, key)?)),
        _ => Ok(None),
    }
}

fn norms(
    defaults: &[(&str, bool)],
    flags: Option<&normalize::Flags>,
    node: &YamlNode,
    file: &str,
) -> Result<Normalizers, LoadError> {
    Normalizers::from_flags(defaults, flags.unwrap_or(&Vec::new()))
        .map_err(|e| LoadError::at(file, node, e))
}

pub(super) fn required<'a>(
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
                cases.push((record::from_yaml(k), switch_branch(v, file)?));
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
