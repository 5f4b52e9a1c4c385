//! The command line, with Nodestream's command and option names (spec §5).

use crate::pipeline::run::{RunOptions, run_pipeline};
use crate::pipeline::sink::Sink;
use crate::pipeline::{LoadOptions, LoadedPipeline, Step, load_pipeline};
use crate::project::{PipelineRef, Project, Scope};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::process::ExitCode;

/// Nodestream, in Rust: declarative graph ETL into Neo4j over raw Bolt.
#[derive(Debug, Parser)]
#[command(name = "nodestream", version, about)]
pub struct Cli {
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Every command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run pipelines of the project.
    Run(RunArgs),
    /// Show the project's pipelines.
    Show(ShowArgs),
    /// Copy data from one target to another.
    Copy(crate::copy::cli::CopyArgs),
    /// Print things about the project.
    Print {
        /// What to print.
        #[command(subcommand)]
        what: PrintCommand,
    },
    /// Create, apply, list and squash schema migrations.
    Migrations(crate::migrations::cli::MigrationsArgs),
    /// Benchmark a Neo4j's write throughput through the writer (workloads, sweeps, latency, server ceiling).
    Bench(crate::bench::BenchArgs),
    /// Bulk initial load: the pipelines' graph through neo4j-admin import (server stopped).
    Import(crate::import::ImportArgs),
    /// Explain things about the project.
    Explain {
        /// What to explain.
        #[command(subcommand)]
        what: ExplainCommand,
    },
    /// Audit the project.
    Audit {
        /// Which audit.
        #[command(subcommand)]
        what: AuditCommand,
    },
}

/// `explain …`
#[derive(Debug, Subcommand)]
pub enum ExplainCommand {
    /// Explain which pipelines contribute to a given graph type.
    Schema(ExplainSchemaArgs),
}

/// `explain schema` options.
#[derive(Debug, Args)]
pub struct ExplainSchemaArgs {
    /// `node` or `relationship` (with NAME).
    pub kind: Option<String>,
    /// The node or relationship type name when using positional KIND/NAME.
    pub name: Option<String>,
    /// The project file.
    #[arg(short = 'p', long = "project", default_value = "nodestream.yaml")]
    pub project: PathBuf,
    /// Limit the explanation to a single scope (defaults to all scopes).
    #[arg(short = 's', long = "scope")]
    pub scope: Option<String>,
    /// Pipelines contributing to this node type.
    #[arg(long = "node")]
    pub node: Option<String>,
    /// Pipelines contributing to this relationship type.
    #[arg(long = "relationship")]
    pub relationship: Option<String>,
}

/// `audit …`
#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Audit the project for missing TTLs.
    Ttls(AuditArgs),
}

/// Audit options.
#[derive(Debug, Args)]
pub struct AuditArgs {
    /// The project file.
    #[arg(short = 'p', long = "project", default_value = "nodestream.yaml")]
    pub project: PathBuf,
}

/// `print …`
#[derive(Debug, Subcommand)]
pub enum PrintCommand {
    /// Print the schema inferred from the pipelines.
    Schema(PrintSchemaArgs),
}

/// `run` options (spec §5.1).
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Pipelines to run, in order (default: all, in project order).
    pub pipelines: Vec<String>,
    /// The project file.
    #[arg(short = 'p', long = "project", default_value = "nodestream.yaml")]
    pub project: PathBuf,
    /// JSON logs and progress on stderr.
    #[arg(short = 'j', long = "json")]
    pub json: bool,
    /// Extra targets (repeatable).
    #[arg(short = 't', long = "target")]
    pub target: Vec<String>,
    /// Only load steps carrying one of these annotations (repeatable).
    #[arg(short = 'a', long = "annotations", alias = "annotation")]
    pub annotations: Vec<String>,
    /// Report progress every N records.
    #[arg(short = 'r', long = "reporting-frequency", default_value_t = 1000)]
    pub reporting_frequency: u64,
    /// Queue capacity between steps.
    #[arg(short = 's', long = "step-outbox-size", default_value_t = 1000)]
    pub step_outbox_size: usize,
    /// More logging (-v, -vv, -vvv).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Write nothing: print each record's nodes and relationships as JSON lines on stdout.
    #[arg(long = "dry-run")]
    pub dry_run: bool,
    /// Only log batches that fail inside Neo4j (APOC failedBatches), as Python does, instead of failing the run.
    #[arg(long = "lenient-apoc-errors")]
    pub lenient_apoc_errors: bool,
    /// Enable the Prometheus metrics server.
    #[arg(long = "prometheus")]
    pub prometheus: bool,
    /// The port to run the Prometheus metrics server on.
    #[arg(
        long = "prometheus-listen-port",
        alias = "prometheus-server-port",
        default_value_t = 9090
    )]
    pub prometheus_listen_port: u16,
    /// The address to run the Prometheus metrics server on.
    #[arg(
        long = "prometheus-listen-address",
        alias = "prometheus-server-address",
        default_value = "0.0.0.0"
    )]
    pub prometheus_listen_address: String,
    /// How often the metrics are refreshed, in seconds.
    #[arg(long = "metrics-interval-in-seconds")]
    pub metrics_interval_in_seconds: Option<f64>,
}

/// `show` options.
#[derive(Debug, Args)]
pub struct ShowArgs {
    /// The project file.
    #[arg(short = 'p', long = "project", default_value = "nodestream.yaml")]
    pub project: PathBuf,
    /// Only this scope.
    #[arg(short = 's', long = "scope")]
    pub scope: Option<String>,
    /// JSON output.
    #[arg(short = 'j', long = "json")]
    pub json: bool,
    /// Full pipeline entries in JSON output.
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// Schema output formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum SchemaFormat {
    /// `[NODE] Label:` blocks.
    Plain,
    /// `Node Types:` / `Relationship Types:` / `Adjancies:`.
    Cypheresque,
}

/// `print schema` options.
#[derive(Debug, Args)]
pub struct PrintSchemaArgs {
    /// Only these pipelines.
    pub pipelines: Vec<String>,
    /// The project file.
    #[arg(short = 'p', long = "project", default_value = "nodestream.yaml")]
    pub project: PathBuf,
    /// Output format.
    #[arg(short = 'f', long = "format", value_enum, default_value = "plain")]
    pub format: SchemaFormat,
    /// Write to this file instead of stdout.
    #[arg(short = 'o', long = "out")]
    pub out: Option<PathBuf>,
}

fn init_logging(json: bool, verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let level = std::env::var("NODESTREAM_LOG_LEVEL")
        .map(|l| l.to_lowercase())
        .unwrap_or_else(|_| default.to_string());
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(level));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}

/// Parses the command line and runs the command.
pub fn main() -> anyhow::Result<ExitCode> {
    let cli = Cli::parse();
    match cli.command {
        Command::Run(args) => {
            init_logging(args.json, args.verbose);
            let rt = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()?;
            rt.block_on(run(args))
        }
        Command::Show(args) => {
            init_logging(args.json, 0);
            show(args)
        }
        Command::Copy(args) => {
            init_logging(args.json, args.verbose);
            crate::copy::cli::main(args)
        }
        Command::Print {
            what: PrintCommand::Schema(args),
        } => {
            init_logging(false, 0);
            print_schema(args)
        }
        Command::Migrations(args) => {
            init_logging(false, 0);
            crate::migrations::cli::run(args)
        }
        Command::Bench(args) => {
            init_logging(false, args.verbose);
            crate::bench::main(args)
        }
        Command::Import(args) => {
            init_logging(args.json, 0);
            crate::import::main(args)
        }
        Command::Explain {
            what: ExplainCommand::Schema(args),
        } => {
            init_logging(false, 0);
            explain_schema(args)
        }
        Command::Audit {
            what: AuditCommand::Ttls(args),
        } => {
            init_logging(false, 0);
            let project = Project::load(&args.project)?;
            let report = crate::audit::audit_ttls(&project)?;
            for line in &report.lines {
                println!("{line}");
            }
            // Python exits with the number of failures.
            Ok(ExitCode::from(
                u8::try_from(report.failures).unwrap_or(u8::MAX),
            ))
        }
    }
}

fn say(to_stderr: bool, text: &str) {
    if to_stderr {
        eprintln!("{text}");
    } else {
        println!("{text}");
    }
}

/// Levenshtein distance, for "Did you mean" hints.
fn distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            cur.push(
                (prev[j] + usize::from(ca != *cb))
                    .min(prev[j + 1] + 1)
                    .min(cur[j] + 1),
            );
        }
        prev = cur;
    }
    prev[b.len()]
}

struct Planned<'a> {
    scope: &'a Scope,
    pipeline: &'a PipelineRef,
    targets: Vec<String>,
    loaded: LoadedPipeline,
}

async fn run(args: RunArgs) -> anyhow::Result<ExitCode> {
    let quiet = args.dry_run;
    if args.prometheus {
        let addr = crate::prometheus::start(
            &args.prometheus_listen_address,
            args.prometheus_listen_port,
            args.metrics_interval_in_seconds,
        )
        .await?;
        // Said on stderr so that tests (and users of port 0) learn the bound port.
        eprintln!("Prometheus metrics server started on {addr}");
    }
    let project = Project::load(&args.project)?;
    // Which (scope, pipeline) pairs run, in order.
    let mut selected: Vec<(&Scope, &PipelineRef)> = Vec::new();
    if args.pipelines.is_empty() {
        selected.extend(project.all_pipelines());
    } else {
        for name in &args.pipelines {
            let found: Vec<_> = project
                .all_pipelines()
                .filter(|(_, p)| &p.name == name)
                .collect();
            if found.is_empty() {
                say(
                    quiet,
                    &format!("No pipeline with the name '{name}' found in your project"),
                );
                if let Some((_, closest)) = project
                    .all_pipelines()
                    .min_by_key(|(_, p)| distance(&p.name, name))
                {
                    say(quiet, &format!("HINT: Did you mean '{}'?", closest.name));
                }
            }
            selected.extend(found);
        }
    }
    if selected.is_empty() {
        say(
            quiet,
            "No pipelines with the provided name were found in your project. If you didn't provide a name, you have no pipelines.",
        );
        say(
            quiet,
            "HINT: Check the pipeline names with `nodestream show`.",
        );
        say(
            quiet,
            "HINT: Pipelines are listed under `scopes` in your project file.",
        );
        return Ok(ExitCode::SUCCESS);
    }
    // Load and validate everything (targets included) before anything is written.
    let load_opts = LoadOptions {
        annotations: args.annotations.clone(),
        introspection: false,
    };
    let mut plan = Vec::new();
    for (scope, p) in selected {
        let mut targets = args.target.clone();
        for t in p.effective_targets(scope) {
            if !targets.contains(&t) {
                targets.push(t);
            }
        }
        for t in &targets {
            project.target(t)?.resolve()?;
        }
        if args.json {
            crate::pipeline::run::json_log(
                "INFO",
                &p.name,
                &scope.name,
                "Loading Pipeline",
                serde_json::json!({}),
            );
        }
        let loaded = load_pipeline(&p.path, &p.name, scope.config.as_ref(), &load_opts)?;
        plan.push(Planned {
            scope,
            pipeline: p,
            targets,
            loaded,
        });
    }
    for Planned {
        scope,
        pipeline,
        targets,
        loaded,
    } in plan
    {
        let mut sinks = Vec::new();
        if args.dry_run {
            sinks.push(Sink::dry_run());
        } else {
            for step in &loaded.steps {
                if let Step::Writer(t) = step {
                    sinks.push(Sink::for_target(t, &pipeline.name).await?);
                }
            }
            if targets.is_empty() && sinks.is_empty() {
                say(
                    quiet,
                    "No targets provided. Running pipeline without writing to any targets.",
                );
            }
            for t in &targets {
                let resolved = project.target(t)?.resolve()?;
                sinks.push(Sink::for_target(&resolved, &pipeline.name).await?);
            }
        }
        if args.lenient_apoc_errors {
            for s in &mut sinks {
                s.set_lenient_apoc_errors();
            }
        }
        if !args.json {
            say(quiet, &format!("Running pipeline: '{}'", pipeline.name));
        }
        let opts = RunOptions {
            step_outbox_size: args.step_outbox_size.max(1),
            reporting_frequency: args.reporting_frequency,
            json: args.json,
            scope: scope.name.clone(),
        };
        let stats = run_pipeline(loaded, sinks, &opts).await?;
        if !args.json {
            say(
                quiet,
                &format!(
                    "Finished running pipeline: '{}' in {:.1}s",
                    pipeline.name, stats.elapsed_seconds
                ),
            );
            let rate = stats.records as f64 / stats.elapsed_seconds.max(1e-9);
            let rows = vec![
                vec!["records".to_string(), stats.records.to_string()],
                vec!["records_per_second".to_string(), format!("{rate:.0}")],
            ];
            let mut rows = rows;
            if stats.skipped > 0 {
                rows.push(vec![
                    "skipped_invalid_source_node".to_string(),
                    stats.skipped.to_string(),
                ]);
            }
            rows.extend(
                stats
                    .metrics
                    .iter()
                    .map(|(k, v)| vec![k.clone(), v.to_string()]),
            );
            say(quiet, table(&["Statistic", "Value"], &rows).trim_end());
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `show`'s table row for a pipeline: scope, name, file, targets, annotation keys.
pub(crate) fn show_row(s: &Scope, p: &PipelineRef) -> Vec<String> {
    vec![
        s.name.clone(),
        p.name.clone(),
        p.path.clone(),
        p.effective_targets(s).join(","),
        p.effective_annotations(s)
            .keys()
            .cloned()
            .collect::<Vec<_>>()
            .join(","),
    ]
}

fn explain_schema(args: ExplainSchemaArgs) -> anyhow::Result<ExitCode> {
    let project = Project::load(&args.project)?;
    // Python: positional KIND NAME only when both are given and neither option is.
    let (node, relationship) = match (&args.kind, &args.name) {
        (Some(kind), Some(name)) if args.node.is_none() && args.relationship.is_none() => {
            match kind.as_str() {
                "node" => (Some(name.clone()), None),
                "relationship" => (None, Some(name.clone())),
                _ => {
                    eprintln!("Kind must be either 'node' or 'relationship'.");
                    return Ok(ExitCode::FAILURE);
                }
            }
        }
        _ => {
            if args.node.as_deref().is_none_or(str::is_empty)
                && args.relationship.as_deref().is_none_or(str::is_empty)
            {
                eprintln!(
                    "You must specify either positional KIND/NAME or at least one of --node/--relationship."
                );
                return Ok(ExitCode::FAILURE);
            }
            (args.node.clone(), args.relationship.clone())
        }
    };
    let q = crate::explain::ExplainQuery {
        node,
        relationship,
        scope: args.scope,
    };
    print!("{}", crate::explain::explain_text(&project, &q)?);
    Ok(ExitCode::SUCCESS)
}

/// A cleo-style ASCII table.
pub(crate) fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(c.chars().count());
        }
    }
    let sep = format!(
        "+{}+\n",
        widths
            .iter()
            .map(|w| "-".repeat(w + 2))
            .collect::<Vec<_>>()
            .join("+")
    );
    let line = |cells: Vec<&str>| {
        let parts: Vec<String> = cells
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!(" {c}{} ", " ".repeat(w - c.chars().count())))
            .collect();
        format!("|{}|\n", parts.join("|"))
    };
    let mut out = sep.clone();
    out.push_str(&line(header.to_vec()));
    out.push_str(&sep);
    for r in rows {
        out.push_str(&line(r.iter().map(String::as_str).collect()));
    }
    out.push_str(&sep);
    out
}

fn show(args: ShowArgs) -> anyhow::Result<ExitCode> {
    if args.verbose > 0 {
        println!("Running: Initialize Project");
    }
    let project = Project::load(&args.project)?;
    if args.verbose > 0 {
        println!("Running: Show Pipelines");
    }
    if let Some(scope) = &args.scope
        && !project.scopes.iter().any(|s| &s.name == scope)
    {
        anyhow::bail!(
            "{}: no scope named '{scope}' in the project",
            args.project.display()
        );
    }
    let pipelines: Vec<_> = project
        .all_pipelines()
        .filter(|(s, _)| args.scope.as_ref().is_none_or(|x| *x == s.name))
        .collect();
    if args.json {
        // Python's `PipelineDefinition.to_file_data`: a plain path unless something is not the default.
        let verbose = args.verbose > 0;
        let items: Vec<serde_json::Value> = pipelines
            .iter()
            .map(|(_, p)| {
                let default_name = std::path::Path::new(&p.path)
                    .file_stem()
                    .map(|s| s.to_string_lossy().into_owned());
                let using_default_name = default_name.as_deref() == Some(p.name.as_str());
                if using_default_name && p.annotations.is_empty() && !verbose {
                    return serde_json::Value::String(p.path.clone());
                }
                let mut m = serde_json::Map::new();
                m.insert("path".into(), p.path.clone().into());
                if !using_default_name || verbose {
                    m.insert("name".into(), p.name.clone().into());
                }
                if !p.targets.is_empty() || verbose {
                    m.insert("targets".into(), p.targets.clone().into());
                }
                if !p.annotations.is_empty() || verbose {
                    m.insert(
                        "annotations".into(),
                        p.annotations
                            .iter()
                            .map(|(k, v)| (k.clone(), v.clone()))
                            .collect(),
                    );
                }
                if p.exclude_inherited_targets || verbose {
                    m.insert(
                        "exclude_inherited_targets".into(),
                        p.exclude_inherited_targets.into(),
                    );
                }
                serde_json::Value::Object(m)
            })
            .collect();
        print!("{}", py_json(&serde_json::Value::Array(items)));
        return Ok(ExitCode::SUCCESS);
    }
    let rows: Vec<Vec<String>> = pipelines.iter().map(|(s, p)| show_row(s, p)).collect();
    print!(
        "{}",
        table(&["scope", "name", "file", "targets", "annotations"], &rows)
    );
    Ok(ExitCode::SUCCESS)
}

/// JSON as Python's `json.dumps` writes it: `", "` and `": "` separators, non-ASCII escaped.
fn py_json(v: &serde_json::Value) -> String {
    fn string(s: &str, out: &mut String) {
        out.push('"');
        for c in s.chars() {
            match c {
                '"' => out.push_str("\\\""),
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\u{8}' => out.push_str("\\b"),
                '\u{c}' => out.push_str("\\f"),
                c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                    let mut buf = [0u16; 2];
                    for unit in c.encode_utf16(&mut buf) {
                        out.push_str(&format!("\\u{unit:04x}"));
                    }
                }
                c => out.push(c),
            }
        }
        out.push('"');
    }
    fn walk(v: &serde_json::Value, out: &mut String) {
        match v {
            serde_json::Value::String(s) => string(s, out),
            serde_json::Value::Array(a) => {
                out.push('[');
                for (i, x) in a.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    walk(x, out);
                }
                out.push(']');
            }
            serde_json::Value::Object(m) => {
                out.push('{');
                for (i, (k, x)) in m.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    string(k, out);
                    out.push_str(": ");
                    walk(x, out);
                }
                out.push('}');
            }
            other => out.push_str(&other.to_string()),
        }
    }
    let mut out = String::new();
    walk(v, &mut out);
    out
}

fn print_schema(args: PrintSchemaArgs) -> anyhow::Result<ExitCode> {
    let project = Project::load(&args.project)?;
    let schema = crate::schema::infer_project(&project, &args.pipelines)?;
    let text = match args.format {
        SchemaFormat::Plain => schema.plain(),
        SchemaFormat::Cypheresque => schema.cypheresque(),
    };
    match args.out {
        Some(path) => std::fs::write(&path, text)
            .map_err(|e| anyhow::anyhow!("cannot write {}: {e}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_and_distance() {
        let t = table(&["a", "bb"], &[vec!["xyz".into(), "".into()]]);
        assert_eq!(
            t,
            "+-----+----+\n| a   | bb |\n+-----+----+\n| xyz |    |\n+-----+----+\n"
        );
        assert_eq!(distance("airports", "airport"), 1);
        let v = serde_json::json!(["a", {"path": "p", "x": [1, true, null], "é": "ü\"\n"}]);
        assert_eq!(
            py_json(&v),
            r#"["a", {"path": "p", "x": [1, true, null], "\u00e9": "\u00fc\"\n"}]"#
        );
    }
}
