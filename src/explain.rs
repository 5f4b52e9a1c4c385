//! `explain schema` (Python's `ExplainProjectSchema`): which pipelines contribute to a node type, a
//! relationship type, or both, printed as `show`'s table.

use crate::pipeline::{LoadOptions, Step, load_pipeline};
use crate::project::{PipelineRef, Project, Scope};
use crate::schema::{ObjectKind, Schema};

/// What to explain.
#[derive(Debug, Default)]
pub struct ExplainQuery {
    /// A node type.
    pub node: Option<String>,
    /// A relationship type.
    pub relationship: Option<String>,
    /// Only this scope.
    pub scope: Option<String>,
}

impl ExplainQuery {
    fn scope_fragment(&self) -> String {
        match &self.scope {
            Some(s) => format!(" in scope '{s}'"),
            None => " across all scopes".to_string(),
        }
    }

    fn no_pipelines_message(&self) -> String {
        let scope = self.scope_fragment();
        match (&self.node, &self.relationship) {
            (Some(n), Some(r)) => format!(
                "No pipelines found that contribute to both node type '{n}' and relationship type '{r}'{scope}."
            ),
            (Some(n), None) => format!("No pipelines found for node type '{n}'{scope}."),
            (None, Some(r)) => format!("No pipelines found for relationship type '{r}'{scope}."),
            (None, None) => format!("No pipelines found{scope}."),
        }
    }

    fn header_message(&self) -> String {
        let mut parts = Vec::new();
        if let Some(n) = &self.node {
            parts.push(format!("node type '{n}'"));
        }
        if let Some(r) = &self.relationship {
            parts.push(format!("relationship type '{r}'"));
        }
        let types = if parts.is_empty() {
            "all types".to_string()
        } else {
            parts.join(" and ")
        };
        format!(
            "Pipelines contributing to {types}{}:",
            self.scope_fragment()
        )
    }
}

fn expand_pipeline(scope: &Scope, p: &PipelineRef, schema: &mut Schema) -> anyhow::Result<()> {
    let opts = LoadOptions {
        annotations: Vec::new(),
        introspection: true,
    };
    let loaded = load_pipeline(&p.path, &p.name, scope.config.as_ref(), &opts)?;
    for step in &loaded.steps {
        if let Step::Interpreter(i) = step {
            // Python's explain expands with a fresh coordinator: no additional types.
            schema.expand(i, false)?;
        }
    }
    Ok(())
}

/// The matching (scope, pipeline) pairs, in project order.
pub fn explain<'a>(
    project: &'a Project,
    q: &ExplainQuery,
) -> anyhow::Result<Vec<(&'a Scope, &'a PipelineRef)>> {
    let candidates: Vec<(&Scope, &PipelineRef)> = project
        .all_pipelines()
        .filter(|(s, _)| q.scope.as_ref().is_none_or(|x| *x == s.name))
        .collect();
    if q.node.is_none() && q.relationship.is_none() {
        return Ok(candidates);
    }
    // A pipeline contributes to a type when its own expansion touches it (Python's provenance).
    let mut combined = Schema::default();
    let mut solo = Vec::new();
    for (s, p) in &candidates {
        let mut one = Schema::default();
        expand_pipeline(s, p, &mut one)?;
        expand_pipeline(s, p, &mut combined)?;
        solo.push(one);
    }
    if let (Some(n), Some(r)) = (&q.node, &q.relationship) {
        let touches = combined
            .adjacencies
            .keys()
            .any(|a| &a.relationship_type == r && (&a.from_node_type == n || &a.to_node_type == n));
        if !touches {
            return Ok(Vec::new());
        }
    }
    Ok(candidates
        .into_iter()
        .zip(solo)
        .filter(|(_, one)| {
            q.node
                .as_ref()
                .is_none_or(|n| one.types.contains_key(&(ObjectKind::Node, n.clone())))
                && q.relationship.as_ref().is_none_or(|r| {
                    one.types
                        .contains_key(&(ObjectKind::Relationship, r.clone()))
                })
        })
        .map(|(c, _)| c)
        .collect())
}

/// The text Python prints: a header and `show`'s table, or the "No pipelines found" line.
pub fn explain_text(project: &Project, q: &ExplainQuery) -> anyhow::Result<String> {
    let matching = explain(project, q)?;
    if matching.is_empty() {
        return Ok(format!("{}\n", q.no_pipelines_message()));
    }
    let rows: Vec<Vec<String>> = matching
        .iter()
        .map(|(s, p)| crate::cli::show_row(s, p))
        .collect();
    Ok(format!(
        "{}\n{}",
        q.header_message(),
        crate::cli::table(&["scope", "name", "file", "targets", "annotations"], &rows)
    ))
}
