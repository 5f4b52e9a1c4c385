//! Where interpreted records go: the `null` target, the dry run and the Neo4j writer.

use crate::model::{Ingestible, Node, NodeCreationRule, RelationshipCreationRule};
use crate::project::ResolvedTarget;
use serde_json::{Value as J, json};
use std::io::Write;

/// A writer at the end of a pipeline.
pub enum Sink {
    /// `database: null` (or no `database`): discards everything.
    Null {
        /// Target name.
        name: String,
    },
    /// `--dry-run`: one JSON line per record on stdout.
    DryRun(std::io::BufWriter<std::io::Stdout>),
    /// `database: neo4j`: the Neo4j writer.
    Neo4j(Box<crate::writer::Neo4jWriter>),
    /// A sink the caller supplies (`import` writes files instead of transactions).
    Custom(Box<dyn ItemSink>),
}

/// A synchronous sink supplied by the caller of [`super::run::run_pipeline`].
pub trait ItemSink: Send {
    /// Takes one item.
    fn write(&mut self, item: Ingestible) -> anyhow::Result<()>;
    /// Ends this pipeline's share; returns metrics under their names.
    fn finish(self: Box<Self>) -> anyhow::Result<Vec<(String, u64)>>;
}

/// Counts reported when a sink finishes.
#[derive(Debug, Default, Clone, Copy)]
pub struct SinkStats {
    /// Items received.
    pub items: u64,
    /// Records skipped because the source node had no valid identity.
    pub skipped: u64,
}

impl Sink {
    /// The sink for a target (spec §1.5: `null` writes nothing).
    pub async fn for_target(target: &ResolvedTarget, pipeline_name: &str) -> anyhow::Result<Sink> {
        match target.database.as_str() {
            "null" => Ok(Sink::Null {
                name: target.name.clone(),
            }),
            "neo4j" => Ok(Sink::Neo4j(Box::new(
                crate::writer::Neo4jWriter::connect_options(
                    &target.name,
                    {
                        let mut o = crate::writer::options::TargetOptions::parse(
                            &target.name,
                            &target.options,
                        )?;
                        o.flush_concurrency = target.flush_concurrency;
                        o
                    },
                    pipeline_name,
                    target.batch_size,
                )
                .await?,
            ))),
            other => anyhow::bail!(
                "target `{}`: unknown database `{other}` (expected neo4j or null)",
                target.name
            ),
        }
    }

    /// Whether this sink throws items away unseen (so they need not be sent to it).
    pub fn discards(&self) -> bool {
        matches!(self, Sink::Null { .. })
    }

    /// `--lenient-apoc-errors`: database-side batch failures are logged, not fatal.
    pub fn set_lenient_apoc_errors(&mut self) {
        if let Sink::Neo4j(w) = self {
            w.set_lenient_apoc_errors(true);
        }
    }

    /// The dry-run sink.
    pub fn dry_run() -> Sink {
        Sink::DryRun(std::io::BufWriter::with_capacity(
            1 << 16,
            std::io::stdout(),
        ))
    }

    /// Writes one item.
    pub async fn write(&mut self, item: Ingestible, stats: &mut SinkStats) -> anyhow::Result<()> {
        stats.items += 1;
        match self {
            Sink::Null { .. } => Ok(()),
            Sink::Neo4j(w) => w.write(item).await,
            Sink::Custom(s) => s.write(item),
            Sink::DryRun(out) => {
                let line = match &item {
                    Ingestible::Ingestion(d) if !d.source.is_valid() => {
                        // The writer skips these ("Identity value for source node was null. Skipping Ingest.").
                        stats.skipped += 1;
                        return Ok(());
                    }
                    other => ingestible_json(other),
                };
                serde_json::to_writer(&mut *out, &line)?;
                out.write_all(b"\n")?;
                Ok(())
            }
        }
    }

    /// Live counters of a database writer, for the progress display.
    pub fn progress(&self) -> Option<std::sync::Arc<crate::writer::Progress>> {
        match self {
            Sink::Neo4j(w) => Some(w.progress()),
            _ => None,
        }
    }

    /// Flushes and closes; returns the writer's metrics under Nodestream's names (none for null and dry run).
    pub async fn finish(self) -> anyhow::Result<Vec<(String, u64)>> {
        match self {
            Sink::Null { name } => {
                tracing::debug!("target {name}: null connector, nothing written");
                Ok(Vec::new())
            }
            Sink::DryRun(mut out) => {
                out.flush()?;
                Ok(Vec::new())
            }
            Sink::Neo4j(w) => Ok(w.finish().await?.metrics()),
            Sink::Custom(s) => s.finish(),
        }
    }
}

fn props(p: &crate::model::Properties) -> J {
    J::Object(
        p.iter()
            .map(|(k, v)| (k.to_string(), crate::model::value_json(v)))
            .collect(),
    )
}

fn node_json(n: &Node) -> J {
    let mut m = serde_json::Map::new();
    m.insert("type".into(), J::String(n.type_.clone()));
    m.insert("keys".into(), props(&n.key_values));
    if !n.additional_types.is_empty() {
        m.insert("additional_types".into(), json!(n.additional_types));
    }
    m.insert("properties".into(), props(&n.properties));
    J::Object(m)
}

fn rule(r: NodeCreationRule) -> &'static str {
    match r {
        NodeCreationRule::Eager => "EAGER",
        NodeCreationRule::MatchOnly => "MATCH_ONLY",
        NodeCreationRule::Fuzzy => "FUZZY",
    }
}

/// The dry-run JSON of one item.
pub fn ingestible_json(item: &Ingestible) -> J {
    match item {
        Ingestible::Ingestion(d) => {
            let mut source = node_json(&d.source);
            if let J::Object(m) = &mut source {
                m.insert(
                    "creation_rule".into(),
                    J::String(rule(d.source_node_creation_rule).into()),
                );
            }
            let rels: Vec<J> = d
                .relationships
                .iter()
                .map(|r| {
                    // The source side is the record's source node: print only its identity.
                    let brief = |n: &Node| json!({"type": n.type_, "keys": props(&n.key_values)});
                    let from_is_source = r.from_node.type_ == d.source.type_
                        && r.from_node.key_values == d.source.key_values;
                    let (from, to) = if from_is_source {
                        (brief(&r.from_node), node_json(&r.to_node))
                    } else {
                        (node_json(&r.from_node), brief(&r.to_node))
                    };
                    json!({
                        "type": r.relationship.type_,
                        "keys": props(&r.relationship.key_values),
                        "properties": props(&r.relationship.properties),
                        "from": from,
                        "from_creation_rule": rule(r.from_side_node_creation_rule),
                        "to": to,
                        "to_creation_rule": rule(r.to_side_node_creation_rule),
                        "creation_rule": match r.relationship_creation_rule {
                            RelationshipCreationRule::Eager => "EAGER",
                            RelationshipCreationRule::Create => "CREATE",
                        },
                    })
                })
                .collect();
            json!({"source": source, "relationships": rels})
        }
        Ingestible::TimeToLive(t) => json!({"time_to_live": {
            "graph_object_type": match t.graph_object_type {
                crate::model::GraphObjectType::Node => "NODE",
                crate::model::GraphObjectType::Relationship => "RELATIONSHIP",
            },
            "object_type": t.object_type,
            "expiry_in_hours": t.expiry_in_hours,
            "custom_query": t.custom_query,
            "batch_size": t.batch_size,
            "enabled": t.enabled,
        }}),
        Ingestible::Flush => json!({"flush": true}),
    }
}
