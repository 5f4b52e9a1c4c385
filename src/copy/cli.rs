//! `nodestream copy [options]` (spec §5.2): options, target choice, schema from the project, then the copier.

use super::options::{RetrieverOptions, parse_key_values};
use super::schema::CopySchema;
use super::{CopyRequest, TargetSpec, WriterSettings, execute, print_report};
use crate::pipeline::{LoadOptions, Step, load_pipeline};
use crate::project::Project;
use anyhow::{Context, bail};
use clap::Args;
use serde_json::Value as Json;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;

/// `copy` options.
#[derive(Debug, Args)]
pub struct CopyArgs {
    /// The project file.
    #[arg(short = 'p', long = "project", default_value = "nodestream.yaml")]
    pub project: PathBuf,
    /// JSON logs and progress on stderr.
    #[arg(short = 'j', long = "json")]
    pub json: bool,
    /// The target to copy from (asked for when missing and a terminal is present).
    #[arg(short = 'f', long = "from")]
    pub from: Option<String>,
    /// The target to copy to (asked for when missing and a terminal is present).
    #[arg(short = 't', long = "to")]
    pub to: Option<String>,
    /// Filter to these node types (repeatable; omit for all).
    #[arg(long = "node")]
    pub node: Vec<String>,
    /// Filter to these relationship types (repeatable; omit for all).
    #[arg(long = "relationship")]
    pub relationship: Vec<String>,
    /// Shards read concurrently.
    #[arg(short = 'c', long = "concurrency-limit", default_value_t = 1)]
    pub concurrency_limit: usize,
    /// Records per writer batch.
    #[arg(long = "batch-size", default_value_t = 1000)]
    pub batch_size: usize,
    /// Source rows buffered between the readers and the writer (with --batch-size, what bounds memory).
    #[arg(long = "step-outbox-size", default_value_t = 10000)]
    pub step_outbox_size: usize,
    /// Writer flush lanes.
    #[arg(long = "flush-concurrency", default_value_t = 1)]
    pub flush_concurrency: usize,
    /// key=value override of the destination's connector options (repeatable).
    #[arg(long = "connector-option")]
    pub connector_option: Vec<String>,
    /// key=value option of the source's type retriever (repeatable): shard_size, sample_ratio, latest_hours,
    /// preload_nodes, relationships_only, distribution.
    #[arg(long = "retriever-option")]
    pub retriever_option: Vec<String>,
    /// Records per shard (same as --retriever-option shard_size=N, which wins).
    #[arg(long = "shard-size")]
    pub shard_size: Option<usize>,
    /// Copy nodes first, then relationships.
    #[arg(long = "preload-nodes")]
    pub preload_nodes: bool,
    /// Report progress every N records (at most once a second).
    #[arg(long = "reporting-frequency", default_value_t = 1000)]
    pub reporting_frequency: u64,
    /// Report progress every F seconds instead.
    #[arg(long = "metrics-interval-in-seconds")]
    pub metrics_interval_in_seconds: Option<f64>,
    /// More logging (-v, -vv).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// The copy schema of a project: every pipeline's interpreters, additional types not expanded; a pipeline that
/// fails to load is logged and skipped (as Python does).
pub fn project_schema(project: &Project) -> CopySchema {
    let mut schema = crate::schema::Schema::default();
    let opts = LoadOptions {
        annotations: Vec::new(),
        introspection: true,
    };
    for (scope, p) in project.all_pipelines() {
        let loaded = match load_pipeline(&p.path, &p.name, scope.config.as_ref(), &opts) {
            Ok(l) => l,
            Err(e) => {
                tracing::warn!("pipeline '{}' skipped for the copy schema: {e:#}", p.name);
                continue;
            }
        };
        for step in &loaded.steps {
            if let Step::Interpreter(i) = step
                && let Err(e) = schema.expand(i, false)
            {
                tracing::warn!("pipeline '{}' skipped for the copy schema: {e:#}", p.name);
            }
        }
    }
    CopySchema::from(&schema)
}

/// Picks a target: the option, or an interactive choice on a terminal.
fn choose_target(project: &Project, given: Option<&str>, action: &str) -> anyhow::Result<String> {
    let names: Vec<&String> = project.targets.keys().collect();
    if let Some(name) = given {
        return Ok(name.to_string());
    }
    let flag = if action == "from" {
        "-f/--from"
    } else {
        "-t/--to"
    };
    if !(std::io::stdin().is_terminal() && std::io::stderr().is_terminal()) {
        bail!(
            "no target to copy {action}: pass {flag} (targets in {}: {})",
            project.file.display(),
            names
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    if names.is_empty() {
        bail!("{} defines no targets", project.file.display());
    }
    let mut err = std::io::stderr().lock();
    writeln!(err, "Which target would you like to copy {action}?")?;
    for (i, n) in names.iter().enumerate() {
        writeln!(err, "  [{i}] {n}")?;
    }
    loop {
        write!(err, " > ")?;
        err.flush()?;
        let mut line = String::new();
        if std::io::stdin().lock().read_line(&mut line)? == 0 {
            bail!("no target chosen to copy {action}");
        }
        let answer = line.trim();
        if let Ok(i) = answer.parse::<usize>()
            && let Some(n) = names.get(i)
        {
            return Ok(n.to_string());
        }
        if let Some(n) = names.iter().find(|n| n.as_str() == answer) {
            return Ok(n.to_string());
        }
        writeln!(err, "Value \"{answer}\" is invalid")?;
    }
}

fn target_spec(project: &Project, name: &str) -> anyhow::Result<Option<TargetSpec>> {
    let Some(t) = project.targets.get(name) else {
        return Ok(None);
    };
    let r = t.resolve()?;
    if r.database != "neo4j" {
        bail!(
            "target '{name}': copy needs a Neo4j target (database: neo4j), this one is '{}'",
            r.database
        );
    }
    Ok(Some(TargetSpec {
        name: r.name,
        options: r.options,
    }))
}

/// The retriever options of the command line: `--retriever-option` items, with `--preload-nodes` and
/// `--shard-size` filling in only what they did not set (Python's `setdefault`). Returns the options and the
/// merged overrides (for the `Starting copy` log).
pub fn retriever_options(
    args: &CopyArgs,
) -> anyhow::Result<(RetrieverOptions, serde_json::Map<String, Json>)> {
    let mut overrides = parse_key_values("--retriever-option", &args.retriever_option)?;
    overrides
        .entry("preload_nodes")
        .or_insert(Json::Bool(args.preload_nodes));
    if let Some(s) = args.shard_size {
        overrides
            .entry("shard_size")
            .or_insert(Json::from(s as u64));
    }
    let retriever = RetrieverOptions::from_map(&overrides)?;
    Ok((retriever, overrides))
}

/// Runs `nodestream copy`.
pub fn main(args: CopyArgs) -> anyhow::Result<ExitCode> {
    let project = Project::load(&args.project)?;
    let from = choose_target(&project, args.from.as_deref(), "from")?;
    let to = choose_target(&project, args.to.as_deref(), "to")?;
    let Some(from) = target_spec(&project, &from)? else {
        eprintln!("Unknown target: {from}");
        return Ok(ExitCode::FAILURE);
    };
    let Some(to) = target_spec(&project, &to)? else {
        eprintln!("Unknown target: {to}");
        return Ok(ExitCode::FAILURE);
    };

    let connector_overrides = parse_key_values("--connector-option", &args.connector_option)?;
    let (retriever, retriever_overrides) = retriever_options(&args)?;
    if args.batch_size == 0 || args.flush_concurrency == 0 || args.step_outbox_size == 0 {
        bail!("--batch-size, --flush-concurrency and --step-outbox-size must be positive");
    }

    let full = project_schema(&project);
    let (schema, warnings) = full.filtered(&args.node, &args.relationship);
    for w in warnings {
        tracing::warn!("{w}");
    }

    let req = CopyRequest {
        from,
        to,
        schema,
        retriever,
        retriever_overrides,
        connector_overrides,
        concurrency: args.concurrency_limit.max(1),
        writer: WriterSettings {
            batch_size: args.batch_size,
            flush_concurrency: args.flush_concurrency,
        },
        step_outbox_size: args.step_outbox_size,
        reporting_frequency: args.reporting_frequency,
        metrics_interval: args.metrics_interval_in_seconds,
        json: args.json,
    };
    let json = req.json;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let report = rt.block_on(execute(req))?;
    print_report(&report, json);
    Ok(ExitCode::SUCCESS)
}
