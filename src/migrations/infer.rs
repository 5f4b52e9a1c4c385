//! Interim schema inference for `migrations make` (spec §6.3), reading Interpreter steps straight from the
//! pipeline YAML. To be replaced by `crate::schema` (the core helper's inference) when it lands; it covers
//! `source_node`, `properties`, `relationship`, `switch` and multi-pass lists, without
//! `include_additional_types`.

use super::schema::{PropertyMeta, Schema, TypeSchema};
use crate::project::yaml::{self, YamlNode};
use std::path::{Path, PathBuf};

/// A pipeline or project file that cannot be used for inference.
#[derive(Debug, thiserror::Error)]
pub enum InferError {
    /// Unreadable or invalid YAML.
    #[error(transparent)]
    Yaml(#[from] yaml::YamlError),
    /// A schema conflict or malformed interpretation.
    #[error("{file}:{line}:{col}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// Line.
        line: usize,
        /// Column.
        col: usize,
        /// What is wrong.
        message: String,
    },
}

const KEY: PropertyMeta = PropertyMeta {
    is_key: true,
    is_indexed: false,
};
const PLAIN: PropertyMeta = PropertyMeta {
    is_key: false,
    is_indexed: false,
};
const INDEXED: PropertyMeta = PropertyMeta {
    is_key: false,
    is_indexed: true,
};

/// A static type name: an untagged string scalar (providers like `!jmespath` are dynamic).
fn static_name(node: Option<&YamlNode>) -> Option<String> {
    let node = node?;
    if node.tag.is_some() {
        return None;
    }
    node.as_scalar().map(|s| s.raw.clone())
}

/// Names of a mapping given literally (a provider returning a map contributes none).
fn names(node: Option<&YamlNode>) -> Vec<String> {
    match node {
        Some(n) if n.tag.is_none() => n
            .as_map()
            .map(|m| m.iter().map(|(k, _)| k.key_text()).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn list_names(node: Option<&YamlNode>) -> Vec<String> {
    node.and_then(YamlNode::as_seq)
        .map(|s| {
            s.iter()
                .filter_map(|i| i.as_scalar().map(|s| s.raw.clone()))
                .collect()
        })
        .unwrap_or_default()
}

struct Inference<'a> {
    schema: Schema,
    file: &'a str,
}

impl Inference<'_> {
    fn add_keys(
        &mut self,
        node_type: &str,
        keys: &[String],
        at: &YamlNode,
    ) -> Result<(), InferError> {
        let t = self.schema.nodes.entry(node_type.to_owned()).or_default();
        let existing = t.keys();
        let wanted: std::collections::BTreeSet<String> = keys.iter().cloned().collect();
        if !existing.is_empty() && !wanted.is_empty() && existing != wanted {
            return Err(InferError::Invalid {
                file: self.file.to_owned(),
                line: at.mark.line,
                col: at.mark.col,
                message: format!(
                    "Cannot add keys {wanted:?} to node type {node_type} because it already has keys {existing:?}."
                ),
            });
        }
        for k in keys {
            t.add_property(k, KEY);
        }
        Ok(())
    }

    fn node(&mut self, name: &str) -> &mut TypeSchema {
        self.schema.nodes.entry(name.to_owned()).or_default()
    }

    /// One pass: a list of interpretations applied to the same context; returns its source node type.
    fn pass(&mut self, items: &[YamlNode], outer_source: Option<&str>) -> Result<(), InferError> {
        // The source node may come after `properties` in the pass; find it first.
        let source = items
            .iter()
            .filter(|i| i.get("type").and_then(YamlNode::as_str) == Some("source_node"))
            .find_map(|i| static_name(i.get("node_type")))
            .or_else(|| outer_source.map(str::to_owned));
        for item in items {
            self.interpretation(item, source.as_deref())?;
        }
        Ok(())
    }

    fn interpretation(&mut self, i: &YamlNode, source: Option<&str>) -> Result<(), InferError> {
        match i.get("type").and_then(YamlNode::as_str) {
            Some("source_node") => {
                let Some(t) = static_name(i.get("node_type")) else {
                    return Ok(());
                };
                self.add_keys(&t, &names(i.get("key")), i)?;
                let node = self.node(&t);
                for p in names(i.get("properties")) {
                    node.add_property(&p, PLAIN);
                }
                for p in list_names(i.get("additional_indexes")) {
                    node.add_property(&p, INDEXED);
                }
                node.add_property("last_ingested_at", INDEXED);
            }
            Some("properties") => {
                if let Some(t) = source {
                    let node = self.node(t);
                    for p in names(i.get("properties")) {
                        node.add_property(&p, PLAIN);
                    }
                }
            }
            Some("relationship") => {
                if let Some(r) = static_name(i.get("relationship_type")) {
                    let rel = self.schema.relationships.entry(r).or_default();
                    for k in names(i.get("relationship_key")) {
                        rel.add_property(&k, KEY);
                    }
                    for p in names(i.get("relationship_properties")) {
                        rel.add_property(&p, PLAIN);
                    }
                    rel.add_property("last_ingested_at", INDEXED);
                }
                if let Some(t) = static_name(i.get("node_type")) {
                    let rule = i
                        .get("node_creation_rule")
                        .or_else(|| i.get("match_strategy"))
                        .and_then(YamlNode::as_str)
                        .unwrap_or("EAGER");
                    let keys = names(i.get("node_key"));
                    if rule == "EAGER" {
                        self.add_keys(&t, &keys, i)?;
                    }
                    let node = self.node(&t);
                    if rule != "EAGER" {
                        for k in &keys {
                            node.add_property(k, PLAIN);
                        }
                    }
                    for p in names(i.get("node_properties")) {
                        node.add_property(&p, PLAIN);
                    }
                    node.add_property("last_ingested_at", INDEXED);
                }
            }
            Some("switch") => {
                let branches = i
                    .get("cases")
                    .and_then(YamlNode::as_map)
                    .map(|m| m.iter().map(|(_, v)| v).collect::<Vec<_>>())
                    .unwrap_or_default();
                for branch in branches.into_iter().chain(i.get("default")) {
                    match branch.as_seq() {
                        Some(items) => self.pass(items, source)?,
                        None => self.pass(std::slice::from_ref(branch), source)?,
                    }
                }
            }
            _ => {}
        }
        Ok(())
    }

    /// `interpretations`/`before_iteration`: one pass, or a list of passes.
    fn passes(&mut self, node: Option<&YamlNode>) -> Result<(), InferError> {
        let Some(items) = node.and_then(YamlNode::as_seq) else {
            return Ok(());
        };
        if items.iter().all(|i| i.as_seq().is_some()) && !items.is_empty() {
            for pass in items {
                self.pass(pass.as_seq().unwrap_or_default(), None)?;
            }
        } else {
            self.pass(items, None)?;
        }
        Ok(())
    }
}

/// Pipeline paths of every scope (CWD-relative, as Python resolves them).
fn pipeline_paths(project: &YamlNode) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for (_, scope) in project
        .get("scopes")
        .and_then(YamlNode::as_map)
        .unwrap_or_default()
    {
        for p in scope
            .get("pipelines")
            .and_then(YamlNode::as_seq)
            .unwrap_or_default()
        {
            let path = p
                .as_str()
                .or_else(|| p.get("path").and_then(YamlNode::as_str));
            if let Some(path) = path {
                out.push(PathBuf::from(path));
            }
        }
    }
    out
}

/// Infers the schema of every pipeline of the project.
pub fn project_schema(project_file: &Path) -> Result<Schema, InferError> {
    let project = yaml::load_file(project_file)?;
    let mut schema = Schema::default();
    for path in pipeline_paths(&project) {
        let file = path.display().to_string();
        let pipeline = yaml::load_file(&path)?;
        let mut inf = Inference {
            schema: std::mem::take(&mut schema),
            file: &file,
        };
        for step in pipeline.as_seq().unwrap_or_default() {
            let is_interpreter = step
                .get("implementation")
                .and_then(YamlNode::as_str)
                .is_some_and(|i| i.ends_with(":Interpreter"));
            if is_interpreter && let Some(args) = step.get("arguments") {
                inf.passes(args.get("before_iteration"))?;
                inf.passes(args.get("interpretations"))?;
            }
        }
        schema = inf.schema;
    }
    Ok(schema)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn infers_nodes_relationships_and_switch_branches() {
        let dir = tempfile::tempdir().unwrap();
        let pipeline = dir.path().join("p.yaml");
        std::fs::write(
            &pipeline,
            "- implementation: nodestream.pipeline:IterableExtractor\n  arguments: {iterable: []}\n- implementation: nodestream.interpreting:Interpreter\n  arguments:\n    interpretations:\n      - type: properties\n        properties: {extra: !jmespath x}\n      - type: source_node\n        node_type: Person\n        key: {id: !jmespath id}\n        properties: {name: !jmespath name}\n        additional_indexes: [name]\n      - type: relationship\n        node_type: City\n        relationship_type: LIVES_IN\n        node_key: {code: !jmespath c}\n        relationship_key: {since: !jmespath s}\n      - type: relationship\n        node_type: Tag\n        node_creation_rule: MATCH_ONLY\n        relationship_type: !jmespath t\n        node_key: {label: !jmespath l}\n      - type: switch\n        switch_on: !jmespath kind\n        cases:\n          a: {type: properties, properties: {a_only: !jmespath a}}\n",
        )
        .unwrap();
        let project = dir.path().join("nodestream.yaml");
        std::fs::write(
            &project,
            format!(
                "scopes:\n  default:\n    pipelines:\n      - {}\n",
                pipeline.display()
            ),
        )
        .unwrap();
        let s = project_schema(&project).unwrap();
        let person = &s.nodes["Person"];
        assert_eq!(person.keys().into_iter().collect::<Vec<_>>(), ["id"]);
        assert_eq!(
            person.non_key_properties().into_iter().collect::<Vec<_>>(),
            ["a_only", "extra", "last_ingested_at", "name"]
        );
        assert_eq!(
            person.indexed().into_iter().collect::<Vec<_>>(),
            ["last_ingested_at", "name"]
        );
        assert_eq!(
            s.nodes["City"].keys().into_iter().collect::<Vec<_>>(),
            ["code"]
        );
        assert!(s.nodes["Tag"].keys().is_empty());
        assert_eq!(s.relationships.keys().collect::<Vec<_>>(), ["LIVES_IN"]);
        assert_eq!(
            s.relationships["LIVES_IN"]
                .keys()
                .into_iter()
                .collect::<Vec<_>>(),
            ["since"]
        );
    }
}
