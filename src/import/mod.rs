//! `nodestream import`: the bulk initial load. Runs the pipelines as `run` does, but instead of MERGE
//! transactions it de-duplicates the graph on disk ([`graph`], [`spill`]), writes neo4j-admin import files
//! ([`files`]) and runs the import tool of the Neo4j at `--neo4j-home` ([`admin`]).

mod admin;
mod files;
mod graph;
mod spill;

use crate::pipeline::run::{RunOptions, json_log, run_pipeline};
use crate::pipeline::sink::{ItemSink, Sink};
use crate::pipeline::{LoadOptions, Step, load_pipeline};
use crate::project::Project;
use anyhow::Context;
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// `import` options.
#[derive(Debug, Args)]
pub struct ImportArgs {
    /// Pipelines to load, in order (default: all, in project order).
    pub pipelines: Vec<String>,
    /// The project file.
    #[arg(short = 'p', long = "project", default_value = "nodestream.yaml")]
    pub project: PathBuf,
    /// Targets whose writer options apply (`_experimental_set_first_ingested_at`, `batch_size`).
    #[arg(short = 't', long = "target")]
    pub target: Vec<String>,
    /// The Neo4j home to import into (its server stopped): `"$(scripts/neo4j home --name N)"`.
    #[arg(long = "neo4j-home")]
    pub neo4j_home: Option<PathBuf>,
    /// The database to import into.
    #[arg(long = "database", default_value = "neo4j")]
    pub database: String,
    /// Replace a database that already holds data.
    #[arg(long = "overwrite")]
    pub overwrite: bool,
    /// Keep the import files in this directory.
    #[arg(long = "keep-files")]
    pub keep_files: Option<PathBuf>,
    /// Only write the files into this directory and print the neo4j-admin command.
    #[arg(long = "files-only")]
    pub files_only: Option<PathBuf>,
    /// Only load steps carrying one of these annotations (repeatable).
    #[arg(short = 'a', long = "annotations", alias = "annotation")]
    pub annotations: Vec<String>,
    /// JSON logs and progress on stderr.
    #[arg(short = 'j', long = "json")]
    pub json: bool,
    /// Report progress every N records.
    #[arg(short = 'r', long = "reporting-frequency", default_value_t = 10000)]
    pub reporting_frequency: u64,
    /// Memory for each sorted run before it spills to disk, in MiB.
    #[arg(long = "run-memory-mib", default_value_t = 64)]
    pub run_memory_mib: usize,
}

struct ImportSink(Arc<Mutex<graph::Collector>>);

impl ItemSink for ImportSink {
    fn write(&mut self, item: crate::model::Ingestible) -> anyhow::Result<()> {
        let mut c = self
            .0
            .lock()
            .map_err(|_| anyhow::anyhow!("import collector poisoned"))?;
        c.add(item)?;
        Ok(())
    }
    fn finish(self: Box<Self>) -> anyhow::Result<Vec<(String, u64)>> {
        Ok(Vec::new())
    }
}

fn phase(json: bool, message: &str, extra: serde_json::Value) {
    if json {
        json_log("INFO", "import", "import", message, extra);
    } else {
        eprintln!("{message}");
    }
}

/// A temporary directory removed on drop.
struct WorkDir(PathBuf, bool);

impl Drop for WorkDir {
    fn drop(&mut self) {
        if self.1 {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// Runs `nodestream import`.
pub fn main(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(import(args))
}

async fn import(args: ImportArgs) -> anyhow::Result<ExitCode> {
    let started = Instant::now();
    // Refuse before any work when the import could not run.
    let home = match (&args.files_only, &args.neo4j_home) {
        (Some(_), h) => h.as_deref().map(admin::Home::open).transpose()?,
        (None, Some(h)) => {
            let home = admin::Home::open(h)?;
            home.check_stopped()?;
            if home.holds_data(&args.database) && !args.overwrite {
                let [store, _] = home.store_dirs(&args.database);
                return Err(admin::AdminError::NotEmpty {
                    db: args.database.clone(),
                    dir: store.display().to_string(),
                }
                .into());
            }
            Some(home)
        }
        (None, None) => anyhow::bail!(
            "import needs --neo4j-home DIR (the Neo4j to import into, stopped) or --files-only DIR"
        ),
    };
    let project = Project::load(&args.project)?;
    let mut selected = Vec::new();
    if args.pipelines.is_empty() {
        selected.extend(project.all_pipelines());
    } else {
        for name in &args.pipelines {
            let found: Vec<_> = project
                .all_pipelines()
                .filter(|(_, p)| &p.name == name)
                .collect();
            if found.is_empty() {
                anyhow::bail!(
                    "No pipeline with the name '{name}' found in your project (see `nodestream show`)"
                );
            }
            selected.extend(found);
        }
    }
    let load_opts = LoadOptions {
        annotations: args.annotations.clone(),
        introspection: false,
    };
    // Writer options: the first Neo4j target of each pipeline decides (the online writer's options).
    let mut plan = Vec::new();
    let mut first_ingested_at = false;
    for (scope, p) in selected {
        let loaded = load_pipeline(&p.path, &p.name, scope.config.as_ref(), &load_opts)?;
        let mut targets = Vec::new();
        for step in &loaded.steps {
            if let Step::Writer(t) = step {
                targets.push(t.clone());
            }
        }
        let mut names = args.target.clone();
        for t in p.effective_targets(scope) {
            if !names.contains(&t) {
                names.push(t);
            }
        }
        for t in &names {
            targets.push(project.target(t)?.resolve()?);
        }
        let neo = targets.iter().find(|t| t.database == "neo4j");
        let batch_size = neo.map_or(1000, |t| t.batch_size);
        if let Some(t) = neo
            && t.options
                .get("_experimental_set_first_ingested_at")
                .and_then(serde_json::Value::as_bool)
                == Some(true)
        {
            first_ingested_at = true;
        }
        plan.push((scope.name.clone(), p.name.clone(), loaded, batch_size));
    }

    let files_dir = args.files_only.clone().or(args.keep_files.clone());
    let temp_root = std::env::temp_dir().join(format!(
        "nodestream-import-{}-{}",
        std::process::id(),
        started.elapsed().as_nanos()
    ));
    std::fs::create_dir_all(&temp_root)
        .with_context(|| format!("cannot create {}", temp_root.display()))?;
    let _temp = WorkDir(temp_root.clone(), true);
    let spill_dir = temp_root.join("spill");
    std::fs::create_dir_all(&spill_dir)?;
    let out_dir = match &files_dir {
        Some(d) => {
            std::fs::create_dir_all(d).with_context(|| format!("cannot create {}", d.display()))?;
            // The tool's command line names the files: make them absolute.
            d.canonicalize().unwrap_or_else(|_| d.clone())
        }
        None => temp_root.join("files"),
    };

    let collector = Arc::new(Mutex::new(graph::Collector::new(
        &spill_dir,
        args.run_memory_mib.max(1) << 20,
    )));
    let t_pipelines = Instant::now();
    for (scope, name, loaded, batch_size) in plan {
        if let Ok(mut c) = collector.lock() {
            c.start_pipeline(batch_size);
        }
        if !args.json {
            eprintln!("Running pipeline: '{name}'");
        }
        let opts = RunOptions {
            step_outbox_size: 1000,
            reporting_frequency: args.reporting_frequency,
            json: args.json,
            scope,
        };
        let sink = Sink::Custom(Box::new(ImportSink(collector.clone())));
        run_pipeline(loaded, vec![sink], &opts).await?;
    }
    let pipelines_s = t_pipelines.elapsed().as_secs_f64();
    let collector = Arc::try_unwrap(collector)
        .map_err(|_| anyhow::anyhow!("import collector still shared"))?
        .into_inner()
        .map_err(|_| anyhow::anyhow!("import collector poisoned"))?;
    phase(
        args.json,
        "Merging nodes and relationships",
        serde_json::json!({"records": collector.stats.records}),
    );
    let t_build = Instant::now();
    let stats = tokio::task::spawn_blocking({
        let out = out_dir.clone();
        move || collector.build(&out, first_ingested_at)
    })
    .await??;
    let build_s = t_build.elapsed().as_secs_f64();

    let mut tool_args = vec!["database".into(), "import".into(), "full".into()];
    for (h, d, node) in &stats.files {
        tool_args.push(format!(
            "--{}={},{}",
            if *node { "nodes" } else { "relationships" },
            h.display(),
            d.display()
        ));
    }
    tool_args.extend([
        "--array-delimiter=U+001F".to_string(),
        "--multiline-fields=true".to_string(),
        "--id-type=integer".to_string(),
        "--overwrite-destination=true".to_string(),
    ]);
    if args.files_only.is_none() {
        tool_args.push(format!(
            "--report-file={}",
            temp_root.join("import.report").display()
        ));
    }
    tool_args.push(args.database.clone());
    let mut tool_s = 0.0;
    match (&args.files_only, &home) {
        (Some(dir), h) => {
            let cmd = match h {
                Some(h) => {
                    let mut c = vec![
                        format!("NEO4J_HOME={}", h.dir.display()),
                        format!("NEO4J_CONF={}", h.dir.join("conf").display()),
                    ];
                    c.extend(h.command(&tool_args));
                    c
                }
                None => {
                    let mut c = vec!["neo4j-admin".to_string()];
                    c.extend(tool_args.iter().cloned());
                    c
                }
            };
            let words: Vec<String> = cmd.iter().map(|w| admin::shell_word(w)).collect();
            println!(
                "Import files written to {}. Run (with the server stopped):",
                dir.display()
            );
            println!("{}", words.join(" "));
        }
        (None, Some(h)) => {
            phase(
                args.json,
                "Running neo4j-admin database import full",
                serde_json::json!({"database": args.database}),
            );
            let t = Instant::now();
            let log = temp_root.join("neo4j-admin.log");
            h.import(&args.database, &tool_args, &log)?;
            tool_s = t.elapsed().as_secs_f64();
        }
        (None, None) => {}
    }
    report(
        &args,
        &stats,
        pipelines_s,
        build_s,
        tool_s,
        started,
        &out_dir,
    );
    Ok(ExitCode::SUCCESS)
}

fn report(
    args: &ImportArgs,
    s: &graph::BuildStats,
    pipelines_s: f64,
    build_s: f64,
    tool_s: f64,
    started: Instant,
    out_dir: &Path,
) {
    let total = started.elapsed().as_secs_f64();
    let mut rows: Vec<(String, String)> = vec![
        ("records".into(), s.records.to_string()),
        (
            "records_per_second".into(),
            format!("{:.0}", s.records as f64 / total.max(1e-9)),
        ),
        (
            "nodes".into(),
            s.nodes_by_label.values().sum::<u64>().to_string(),
        ),
        (
            "relationships".into(),
            s.relationships_by_type.values().sum::<u64>().to_string(),
        ),
    ];
    for (k, v) in &s.nodes_by_label {
        rows.push((format!("nodes_by_type_{k}"), v.to_string()));
    }
    for (k, v) in &s.relationships_by_type {
        rows.push((format!("relationships_by_type_{k}"), v.to_string()));
    }
    rows.extend([
        ("node_writes".into(), s.node_writes.to_string()),
        (
            "relationship_writes".into(),
            s.relationship_writes.to_string(),
        ),
        (
            "match_only_nodes_dropped".into(),
            s.match_only_nodes_dropped.to_string(),
        ),
        (
            "relationships_dropped_missing_endpoint".into(),
            s.relationships_dropped.to_string(),
        ),
        (
            "skipped_invalid_source_node".into(),
            s.skipped_invalid_source.to_string(),
        ),
        ("time_to_live_skipped".into(), s.ttl_skipped.to_string()),
        ("files".into(), (s.files.len() * 2).to_string()),
        ("seconds_pipelines".into(), format!("{pipelines_s:.1}")),
        ("seconds_merge_and_files".into(), format!("{build_s:.1}")),
        ("seconds_neo4j_admin".into(), format!("{tool_s:.1}")),
        ("seconds_total".into(), format!("{total:.1}")),
    ]);
    if args.json {
        let m: serde_json::Map<String, serde_json::Value> = rows
            .iter()
            .map(|(k, v)| {
                let j = v
                    .parse::<u64>()
                    .map(serde_json::Value::from)
                    .or_else(|_| v.parse::<f64>().map(serde_json::Value::from))
                    .unwrap_or_else(|_| serde_json::Value::String(v.clone()));
                (k.clone(), j)
            })
            .collect();
        json_log(
            "INFO",
            "import",
            "import",
            "Import Completed",
            serde_json::Value::Object(m),
        );
        return;
    }
    let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(9).max(9);
    let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(5).max(5);
    let sep = format!("+{}+{}+", "-".repeat(w0 + 2), "-".repeat(w1 + 2));
    println!("{sep}");
    println!("| {:w0$} | {:w1$} |", "Statistic", "Value");
    println!("{sep}");
    for (k, v) in &rows {
        println!("| {k:w0$} | {v:w1$} |");
    }
    println!("{sep}");
    if args.keep_files.is_some() || args.files_only.is_some() {
        println!("Files in {}", out_dir.display());
    }
}
