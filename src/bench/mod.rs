//! `nodestream bench`: write throughput of a Neo4j through the project's own writer. Built-in workloads (or a
//! pipeline of the project), a sweep over connections × batch size × APOC, batch latency percentiles, client
//! CPU, the server's counters, and the server ceiling for the same statements (rows built inside the server).
//! Each configuration starts from a database without the bench's data, and the bench leaves it as it found it.

pub mod report;
pub mod workload;

use crate::model::Ingestible;
use crate::writer::{Instruments, Neo4jWriter, WriteStats};
use anyhow::Context;
use bolt::Value;
use clap::{Args, ValueEnum};
use serde_json::{Value as Json, json};
use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use workload::{Shape, Workload};

/// `bench` options.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// A Neo4j target of the project (its connection keys and options).
    #[arg(short = 't', long = "target", conflicts_with = "uri")]
    pub target: Option<String>,
    /// The project file (with -t or --pipeline).
    #[arg(short = 'p', long = "project", default_value = "nodestream.yaml")]
    pub project: PathBuf,
    /// Bolt URI, instead of a target.
    #[arg(long = "uri")]
    pub uri: Option<String>,
    /// User (with --uri).
    #[arg(long = "user", default_value = "neo4j")]
    pub user: String,
    /// Password (with --uri).
    #[arg(long = "password", env = "NEO4J_PASSWORD", hide_env_values = true)]
    pub password: Option<String>,
    /// Built-in workload.
    #[arg(
        long = "shape",
        value_enum,
        default_value = "airports",
        conflicts_with = "pipeline"
    )]
    pub shape: Shape,
    /// Benchmark a pipeline of the project with its own data (its extractors and interpreter, then the writer).
    #[arg(long = "pipeline")]
    pub pipeline: Option<String>,
    /// Rows per run (default 100000; with --pipeline, the pipeline's records, repeated or cut to N).
    #[arg(long = "rows", conflicts_with = "duration")]
    pub rows: Option<u64>,
    /// Run each configuration this many seconds instead of a number of rows.
    #[arg(long = "duration")]
    pub duration: Option<f64>,
    /// Queries in flight: a list (1,2,4) or `auto` (1, 2, 4, … until rows/s rises less than 5 %).
    #[arg(long = "connections", default_value = "1,2,4")]
    pub connections: String,
    /// Records per writer batch (list).
    #[arg(long = "batch-size", default_value = "1000")]
    pub batch_size: String,
    /// Through `apoc.periodic.iterate` (on), plain `UNWIND` queries (off), or both.
    #[arg(long = "apoc", value_enum, default_value = "on")]
    pub apoc: ApocMode,
    /// Unmeasured warm-up runs before each configuration (the server's JIT compiler).
    #[arg(long = "warmup", default_value_t = 1)]
    pub warmup: u32,
    /// Measured runs per configuration; the median (by rows/s) is reported.
    #[arg(long = "runs", default_value_t = 1)]
    pub runs: u32,
    /// One JSON object per configuration on stdout instead of the table.
    #[arg(long = "json")]
    pub json: bool,
    /// Write a self-contained SVG picture of the results.
    #[arg(long = "report")]
    pub report: Option<PathBuf>,
    /// Run against a database holding data, as long as the bench's labels (`Bench*`, or the pipeline's) hold none:
    /// only those are written and deleted.
    #[arg(long = "allow-existing-data")]
    pub allow_existing_data: bool,
    /// Distinct source keys (default: the rows; fewer makes later rows update earlier nodes).
    #[arg(long = "key-cardinality")]
    pub key_cardinality: Option<u64>,
    /// Properties per source node.
    #[arg(long = "properties", default_value_t = 4)]
    pub properties: usize,
    /// Characters per property value (0: integers).
    #[arg(long = "property-size", default_value_t = 16)]
    pub property_size: usize,
    /// Hub nodes (star: hubs; airports: countries, and ten times as many regions).
    #[arg(long = "hubs", default_value_t = 10)]
    pub hubs: u64,
    /// Skip the server ceiling.
    #[arg(long = "no-ceiling")]
    pub no_ceiling: bool,
    /// Keep what the last run wrote (for tests that count what landed).
    #[arg(long = "keep-data", hide = true)]
    pub keep_data: bool,
    /// More logging (-v, -vv).
    #[arg(short = 'v', long = "verbose", action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// `--apoc`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApocMode {
    /// `apoc.periodic.iterate`.
    On,
    /// Plain `UNWIND` queries.
    Off,
    /// Both, side by side.
    Both,
}

/// What can go wrong before or between runs.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// A bad option value.
    #[error("{0}")]
    Usage(String),
    /// The database holds data and `--allow-existing-data` was not given.
    #[error(
        "the database holds {0} node(s); nodestream bench writes and deletes data, so it runs against an empty \
         database only, unless --allow-existing-data is given (it then touches only its own labels)"
    )]
    NotEmpty(i64),
    /// The server cannot be reached or refused the credentials.
    #[error("cannot connect to {uri}: {message}")]
    Connect {
        /// Address.
        uri: String,
        /// The driver's message, on one line.
        message: String,
    },
    /// A control query failed.
    #[error("{what} failed: {message}")]
    Query {
        /// What the bench was doing.
        what: String,
        /// The server's message, on one line.
        message: String,
    },
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Parses `1,2,4`.
fn parse_list(flag: &str, s: &str) -> Result<Vec<usize>, BenchError> {
    let mut out = Vec::new();
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        match part.parse::<usize>() {
            Ok(n) if n >= 1 => out.push(n),
            _ => {
                return Err(BenchError::Usage(format!(
                    "{flag}: '{part}' is not a positive integer (expected a list such as 1,2,4)"
                )));
            }
        }
    }
    if out.is_empty() {
        return Err(BenchError::Usage(format!("{flag}: empty list")));
    }
    Ok(out)
}

/// The knee rule of `--connections auto`: stop doubling when rows/s rose less than this.
const AUTO_MIN_GAIN: f64 = 0.05;
const AUTO_MAX_CONNECTIONS: usize = 64;

/// Where rows come from.
enum Source {
    Shape(Workload),
    /// A pipeline's ingestions (TTLs left out), replayed.
    Pipeline {
        name: String,
        items: Vec<crate::model::DesiredIngestion>,
        labels: Vec<String>,
        rel_types: Vec<String>,
        keys: Vec<(String, Vec<String>)>,
    },
}

impl Source {
    fn name(&self) -> String {
        match self {
            Source::Shape(w) => w.shape.name().to_string(),
            Source::Pipeline { name, .. } => format!("pipeline:{name}"),
        }
    }

    fn row(&self, i: u64) -> crate::model::DesiredIngestion {
        match self {
            Source::Shape(w) => w.row(i),
            Source::Pipeline { items, .. } => items[(i % items.len() as u64) as usize].clone(),
        }
    }

    fn labels(&self) -> Vec<String> {
        match self {
            Source::Shape(w) => w.labels(),
            Source::Pipeline { labels, .. } => labels.clone(),
        }
    }

    fn rel_types(&self) -> Vec<String> {
        match self {
            Source::Shape(w) => w.rel_types(),
            Source::Pipeline { rel_types, .. } => rel_types.clone(),
        }
    }

    fn keys(&self) -> Vec<(String, Vec<String>)> {
        match self {
            Source::Shape(w) => w.keys(),
            Source::Pipeline { keys, .. } => keys.clone(),
        }
    }
}

/// The control connection: emptiness checks, indexes, cleanup and the ceiling.
struct Control {
    driver: bolt::Driver,
    database: String,
}

impl Control {
    async fn run(
        &self,
        what: &str,
        text: &str,
        params: Vec<(&str, Value)>,
    ) -> Result<bolt::QueryResult, BenchError> {
        let mut q = bolt::Query::new(text.to_string())
            .database(self.database.as_str())
            .auto_commit();
        for (k, v) in params {
            q = q.param(k, v);
        }
        self.driver.run(q).await.map_err(|e| BenchError::Query {
            what: what.to_string(),
            message: one_line(&e.to_string()),
        })
    }

    async fn count(&self, what: &str, text: &str) -> Result<i64, BenchError> {
        let r = self.run(what, text, Vec::new()).await?;
        Ok(r.rows
            .first()
            .and_then(|row| row.first())
            .and_then(Value::as_int)
            .unwrap_or(0))
    }

    async fn names(&self, what: &str, text: &str) -> Result<Vec<String>, BenchError> {
        let r = self.run(what, text, Vec::new()).await?;
        Ok(r.rows
            .iter()
            .filter_map(|row| row.first().and_then(Value::as_str).map(str::to_string))
            .collect())
    }

    /// Deletes the bench's relationships, then its nodes, 10000 per transaction.
    async fn clean(&self, source: &Source) -> Result<(), BenchError> {
        // Relationship types first (a hub's relationships would make one huge transaction), only the bench's
        // own: a pipeline's types may also connect other nodes, its nodes are detached below.
        for t in source.rel_types().iter().filter(|t| t.starts_with("Bench")) {
            let q = format!(
                "MATCH ()-[r:{}]->() CALL {{ WITH r DELETE r }} IN TRANSACTIONS OF 10000 ROWS",
                crate::quoting::name(t)
            );
            self.run("deleting the bench's relationships", &q, Vec::new())
                .await?;
        }
        for l in source.labels() {
            let q = format!(
                "MATCH (n:{}) CALL {{ WITH n DETACH DELETE n }} IN TRANSACTIONS OF 10000 ROWS",
                crate::quoting::name(&l)
            );
            self.run("deleting the bench's nodes", &q, Vec::new())
                .await?;
        }
        Ok(())
    }
}

/// What one run measured.
#[derive(Debug, Clone)]
struct Measured {
    rows: u64,
    seconds: f64,
    stats: WriteStats,
    latency_ms: [f64; 4],
    client_cpu_s: f64,
    nodes_created: u64,
    properties_set: u64,
    relationships_created: u64,
}

impl Measured {
    fn rows_per_s(&self) -> f64 {
        rate(self.rows, self.seconds)
    }
}

fn rate(n: u64, secs: f64) -> f64 {
    if secs > 0.0 { n as f64 / secs } else { 0.0 }
}

/// One configuration's result (a JSON object, a table line, a point in the picture).
#[derive(Debug, Clone)]
pub struct ConfigResult {
    /// Workload name.
    pub shape: String,
    /// Queries in flight.
    pub connections: usize,
    /// Records per batch.
    pub batch_size: usize,
    /// Through APOC.
    pub apoc: bool,
    /// rows/s of the median run.
    pub rows_per_s: f64,
    /// Latency percentiles p50, p95, p99, max in ms.
    pub latency_ms: [f64; 4],
    /// The JSON object.
    pub json: Json,
}

/// User CPU + system CPU of this process, in seconds (getrusage).
fn cpu_seconds() -> f64 {
    // SAFETY: getrusage only writes the struct we pass; a zeroed rusage is a valid value for it.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: RUSAGE_SELF with a valid pointer to a rusage.
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
        return 0.0;
    }
    let t = |tv: libc::timeval| tv.tv_sec as f64 + tv.tv_usec as f64 / 1e6;
    t(u.ru_utime) + t(u.ru_stime)
}

fn percentiles(h: &hdrhistogram::Histogram<u64>) -> [f64; 4] {
    if h.is_empty() {
        return [0.0; 4];
    }
    let ms = |us: u64| us as f64 / 1000.0;
    [
        ms(h.value_at_quantile(0.50)),
        ms(h.value_at_quantile(0.95)),
        ms(h.value_at_quantile(0.99)),
        ms(h.max()),
    ]
}

struct Bench {
    args: BenchArgs,
    target_name: String,
    options: serde_json::Map<String, Json>,
    control: Control,
    source: Source,
    rows: u64,
    progress: bool,
}

impl Bench {
    /// One run of one configuration, from a clean database.
    async fn run_once(
        &self,
        connections: usize,
        batch_size: usize,
        apoc: bool,
        keep: bool,
    ) -> anyhow::Result<Measured> {
        self.control.clean(&self.source).await?;
        let mut options = self.options.clone();
        options.insert("use_apoc".into(), Json::Bool(apoc));
        // Enough batches buffered to keep every connection busy.
        options.insert("flush_concurrency".into(), Json::from(connections as u64));
        let instruments = Arc::new(Instruments::default());
        let mut writer = Neo4jWriter::connect_exact(
            &self.target_name,
            &options,
            batch_size,
            connections,
            instruments.clone(),
        )
        .await
        .map_err(|e| BenchError::Connect {
            uri: uri_of(&self.options),
            message: one_line(&format!("{e:#}")),
        })?;
        // Failed batches are counted and reported, not fatal.
        writer.set_lenient_apoc_errors(true);
        let fed = Arc::new(AtomicU64::new(0));
        let ticker = self.progress.then(|| {
            let fed = fed.clone();
            let inst = instruments.clone();
            tokio::spawn(async move {
                let start = Instant::now();
                let mut tick = tokio::time::interval(Duration::from_secs(1));
                tick.tick().await;
                loop {
                    tick.tick().await;
                    let n = fed.load(Ordering::Relaxed);
                    let p99 = inst
                        .latency_us
                        .lock()
                        .map(|h| percentiles(&h)[2])
                        .unwrap_or(0.0);
                    let secs = start.elapsed().as_secs_f64();
                    eprint!(
                        "\rprogress: {secs:.0} s, {n} rows, {:.0} rows/s, p99 {p99:.1} ms   ",
                        rate(n, secs)
                    );
                }
            })
        });
        let cpu0 = cpu_seconds();
        let start = Instant::now();
        let deadline = self.args.duration.map(Duration::from_secs_f64);
        let mut i = 0u64;
        loop {
            match deadline {
                Some(d) => {
                    if i % 256 == 0 && start.elapsed() >= d {
                        break;
                    }
                }
                None => {
                    if i >= self.rows {
                        break;
                    }
                }
            }
            writer
                .write(Ingestible::Ingestion(self.source.row(i)))
                .await?;
            i += 1;
            fed.store(i, Ordering::Relaxed);
        }
        let stats = writer.finish().await?;
        let seconds = start.elapsed().as_secs_f64();
        let client_cpu_s = cpu_seconds() - cpu0;
        if let Some(t) = ticker {
            t.abort();
            eprint!("\r{:78}\r", "");
        }
        let latency_ms = instruments
            .latency_us
            .lock()
            .map(|h| percentiles(&h))
            .unwrap_or([0.0; 4]);
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let m = Measured {
            rows: i,
            seconds,
            latency_ms,
            client_cpu_s,
            nodes_created: stats.nodes_created + get(&instruments.nodes_created),
            properties_set: stats.properties_set + get(&instruments.properties_set),
            relationships_created: stats.relationships_created
                + get(&instruments.relationships_created),
            stats,
        };
        if !keep {
            self.control.clean(&self.source).await?;
        }
        Ok(m)
    }

    /// Warm-ups, then the measured runs; the median by rows/s.
    async fn configuration(
        &self,
        connections: usize,
        batch_size: usize,
        apoc: bool,
        last: bool,
    ) -> anyhow::Result<Measured> {
        for _ in 0..self.args.warmup {
            self.run_once(connections, batch_size, apoc, false).await?;
        }
        let runs = self.args.runs.max(1);
        let mut all = Vec::new();
        for r in 0..runs {
            let keep = last && r + 1 == runs && self.args.keep_data;
            all.push(self.run_once(connections, batch_size, apoc, keep).await?);
        }
        all.sort_by(|a, b| a.rows_per_s().total_cmp(&b.rows_per_s()));
        Ok(all.swap_remove(all.len() / 2))
    }

    /// The server alone: the same statements, rows built inside the server; rows/s.
    async fn ceiling(&self, batch_size: usize) -> anyhow::Result<Option<f64>> {
        let Source::Shape(w) = &self.source else {
            return Ok(None);
        };
        if self.args.no_ceiling {
            return Ok(None);
        }
        // As many rows as the measured runs (with --duration: what the first run wrote is not known yet, so
        // the row count is used).
        let n = self.rows as i64;
        self.control.clean(&self.source).await?;
        let start = Instant::now();
        for stmt in w.ceiling_statements() {
            self.control
                .run(
                    "the server ceiling",
                    &stmt,
                    vec![
                        ("n", Value::Integer(n)),
                        ("b", Value::Integer(batch_size as i64)),
                        ("zeros", Value::String(w.zeros().to_string())),
                    ],
                )
                .await?;
        }
        let secs = start.elapsed().as_secs_f64();
        self.control.clean(&self.source).await?;
        Ok(Some(rate(self.rows, secs)))
    }

    fn result(
        &self,
        m: &Measured,
        connections: usize,
        batch_size: usize,
        apoc: bool,
        ceiling: Option<f64>,
    ) -> ConfigResult {
        let r = m.rows_per_s();
        let [p50, p95, p99, max] = m.latency_ms;
        let round = |x: f64| (x * 1000.0).round() / 1000.0;
        let json = json!({
            "shape": self.source.name(),
            "rows": m.rows,
            "connections": connections,
            "batch_size": batch_size,
            "apoc": apoc,
            "seconds": round(m.seconds),
            "rows_per_s": r.round(),
            "nodes_per_s": rate(m.stats.nodes_upserted, m.seconds).round(),
            "relationships_per_s": rate(m.stats.relationships_upserted, m.seconds).round(),
            "latency_ms": {"p50": round(p50), "p95": round(p95), "p99": round(p99), "max": round(max)},
            "ceiling_rows_per_s": ceiling.map(f64::round),
            "ratio_to_ceiling": ceiling.filter(|c| *c > 0.0).map(|c| round(r / c)),
            "client_cpu_s": round(m.client_cpu_s),
            "nodes_upserted": m.stats.nodes_upserted,
            "relationships_upserted": m.stats.relationships_upserted,
            "nodes_created": m.nodes_created,
            "properties_set": m.properties_set,
            "relationships_created": m.relationships_created,
            "queries": m.stats.queries,
            "retries": m.stats.retries,
            "failed_batches": m.stats.failed_batches,
        });
        ConfigResult {
            shape: self.source.name(),
            connections,
            batch_size,
            apoc,
            rows_per_s: r,
            latency_ms: m.latency_ms,
            json,
        }
    }
}

fn uri_of(options: &serde_json::Map<String, Json>) -> String {
    options
        .get("uri")
        .and_then(Json::as_str)
        .unwrap_or("?")
        .to_string()
}

/// The connection keys: from a project target, or from --uri/--user/--password.
fn connection(args: &BenchArgs) -> anyhow::Result<(String, serde_json::Map<String, Json>)> {
    if let Some(name) = &args.target {
        let project = crate::project::Project::load(&args.project)
            .with_context(|| format!("loading {}", args.project.display()))?;
        let Some(t) = project.targets.get(name) else {
            let known: Vec<&str> = project.targets.keys().map(String::as_str).collect();
            return Err(BenchError::Usage(format!(
                "no target '{name}' in {} (targets: {})",
                args.project.display(),
                known.join(", ")
            ))
            .into());
        };
        let r = t.resolve()?;
        if r.database != "neo4j" {
            return Err(BenchError::Usage(format!(
                "target '{name}': bench needs a Neo4j target (database: neo4j), this one is '{}'",
                r.database
            ))
            .into());
        }
        return Ok((r.name, r.options));
    }
    let Some(uri) = &args.uri else {
        return Err(BenchError::Usage(
            "give a target (-t NAME [-p FILE]) or --uri URI [--user U] --password P".into(),
        )
        .into());
    };
    let mut m = serde_json::Map::new();
    m.insert("uri".into(), Json::String(uri.clone()));
    m.insert("username".into(), Json::String(args.user.clone()));
    m.insert(
        "password".into(),
        Json::String(args.password.clone().unwrap_or_default()),
    );
    Ok(("bench".to_string(), m))
}

/// Runs the pipeline's extractors and steps once and keeps its ingestions (TTL records are left out: they
/// would delete what the bench measures).
fn pipeline_items(args: &BenchArgs, name: &str) -> anyhow::Result<Source> {
    use crate::pipeline::{Output, Record, Step, finish_steps, push};
    let project = crate::project::Project::load(&args.project)
        .with_context(|| format!("loading {}", args.project.display()))?;
    let Some((scope, p)) = project.all_pipelines().find(|(_, p)| p.name == name) else {
        let known: Vec<&str> = project
            .all_pipelines()
            .map(|(_, p)| p.name.as_str())
            .collect();
        return Err(BenchError::Usage(format!(
            "no pipeline '{name}' in {} (pipelines: {})",
            args.project.display(),
            known.join(", ")
        ))
        .into());
    };
    let loaded = crate::pipeline::load_pipeline(
        &p.path,
        &p.name,
        scope.config.as_ref(),
        &crate::pipeline::LoadOptions::default(),
    )?;
    let steps = loaded.steps;
    let mut items = Vec::new();
    let mut clock = crate::interpreter::Clock::new();
    let mut out = |o: Output| -> anyhow::Result<()> {
        if let Output::Item(Ingestible::Ingestion(d)) = o
            && d.source.is_valid()
        {
            items.push(d);
        }
        Ok(())
    };
    if let Some(Step::Extractor(e)) = steps.first() {
        let mut records = Vec::new();
        e.run(&mut |x| {
            if let crate::pipeline::extractors::Extracted::Data(d) = x {
                records.push(Record::Data(d));
            }
            Ok(())
        })?;
        for r in records {
            push(&steps[1..], &mut clock, r, &mut out)?;
        }
        finish_steps(&steps, 1, &mut clock, &mut out)?;
    } else {
        finish_steps(&steps, 0, &mut clock, &mut out)?;
    }
    if items.is_empty() {
        return Err(BenchError::Usage(format!(
            "pipeline '{name}' produced nothing to write (no interpreted records)"
        ))
        .into());
    }
    let mut labels: Vec<String> = Vec::new();
    let mut rel_types: Vec<String> = Vec::new();
    let mut keys: Vec<(String, Vec<String>)> = Vec::new();
    let mut note = |n: &crate::model::Node| {
        for l in std::iter::once(&n.type_).chain(&n.additional_types) {
            if !labels.contains(l) {
                labels.push(l.clone());
            }
        }
        let k: Vec<String> = n.key_values.keys().map(|k| k.to_string()).collect();
        if !keys.iter().any(|(l, kk)| l == &n.type_ && kk == &k) {
            keys.push((n.type_.clone(), k));
        }
    };
    for d in &items {
        note(&d.source);
        for r in &d.relationships {
            note(&r.from_node);
            note(&r.to_node);
            if !rel_types.contains(&r.relationship.type_) {
                rel_types.push(r.relationship.type_.clone());
            }
        }
    }
    Ok(Source::Pipeline {
        name: name.to_string(),
        items,
        labels,
        rel_types,
        keys,
    })
}

/// `nodestream bench …`.
pub fn main(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(run(args))
}

async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    let batch_sizes = parse_list("--batch-size", &args.batch_size)?;
    let auto = args.connections.trim() == "auto";
    let connection_list = if auto {
        Vec::new()
    } else {
        parse_list("--connections", &args.connections)?
    };
    if connection_list.iter().any(|&c| c > AUTO_MAX_CONNECTIONS) {
        return Err(
            BenchError::Usage(format!("--connections: at most {AUTO_MAX_CONNECTIONS}")).into(),
        );
    }
    if args.duration.is_some_and(|d| !(d > 0.0 && d.is_finite())) {
        return Err(BenchError::Usage("--duration: a positive number of seconds".into()).into());
    }
    let (target_name, options) = connection(&args)?;
    let source = match &args.pipeline {
        Some(name) => pipeline_items(&args, name)?,
        None => {
            let rows = args.rows.unwrap_or(100_000);
            Source::Shape(Workload::new(
                args.shape,
                args.key_cardinality.unwrap_or(rows),
                args.properties,
                args.property_size,
                args.hubs,
            ))
        }
    };
    let rows = match (&source, args.rows) {
        (_, Some(n)) => n,
        (Source::Pipeline { items, .. }, None) => items.len() as u64,
        (Source::Shape(_), None) => 100_000,
    };
    let topts = crate::writer::options::TargetOptions::parse(&target_name, &options)?;
    let driver = bolt::Driver::connect(topts.bolt_config())
        .await
        .map_err(|e| BenchError::Connect {
            uri: topts.uri.clone(),
            message: one_line(&e.to_string()),
        })?;
    let control = Control {
        driver,
        database: topts.database_name.clone(),
    };
    let bench = Bench {
        progress: std::io::stderr().is_terminal() && !args.json,
        args,
        target_name,
        options,
        control,
        source,
        rows,
    };
    let existing = bench
        .control
        .count("counting nodes", "MATCH (n) RETURN count(n) AS c")
        .await?;
    if existing > 0 && !bench.args.allow_existing_data {
        return Err(BenchError::NotEmpty(existing).into());
    }
    if existing > 0 {
        // The bench deletes every node of its labels: they must hold nothing yet.
        for l in bench.source.labels() {
            let q = format!(
                "MATCH (n:{}) RETURN count(n) AS c",
                crate::quoting::name(&l)
            );
            let n = bench.control.count("counting nodes", &q).await?;
            if n > 0 {
                return Err(BenchError::Usage(format!(
                    "label {l} already holds {n} node(s); the bench deletes what it writes, so its labels must be                      empty (--allow-existing-data only spares the other labels)"
                ))
                .into());
            }
        }
    }
    let indexes_before = bench
        .control
        .names("listing indexes", "SHOW INDEXES YIELD name RETURN name")
        .await?;
    let mut created = Vec::new();
    for (n, (label, keys)) in bench.source.keys().iter().enumerate() {
        let name = format!("nodestream_bench_{n}");
        if indexes_before.contains(&name) {
            continue;
        }
        let props: Vec<String> = keys
            .iter()
            .map(|k| format!("n.{}", crate::quoting::name(k)))
            .collect();
        let q = format!(
            "CREATE INDEX {name} IF NOT EXISTS FOR (n:{}) ON ({})",
            crate::quoting::name(label),
            props.join(", ")
        );
        bench
            .control
            .run("creating the bench's indexes", &q, Vec::new())
            .await?;
        created.push(name);
    }
    bench
        .control
        .run(
            "waiting for indexes",
            "CALL db.awaitIndexes(300)",
            Vec::new(),
        )
        .await?;
    let result = sweep(&bench, &batch_sizes, &connection_list, auto).await;
    // Leave the database as found, whatever happened.
    let cleanup = async {
        if !bench.args.keep_data {
            bench.control.clean(&bench.source).await?;
            for name in &created {
                bench
                    .control
                    .run(
                        "dropping the bench's indexes",
                        &format!("DROP INDEX {name} IF EXISTS"),
                        Vec::new(),
                    )
                    .await?;
            }
        }
        Ok::<(), BenchError>(())
    }
    .await;
    let results = result?;
    cleanup?;
    if !bench.args.json {
        print_table(&results);
    }
    if let Some(path) = &bench.args.report {
        let title = format!(
            "nodestream bench --shape {} --rows {}",
            bench.source.name(),
            bench.rows
        );
        std::fs::write(path, report::svg(&title, &results))
            .with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

async fn sweep(
    bench: &Bench,
    batch_sizes: &[usize],
    connections: &[usize],
    auto: bool,
) -> anyhow::Result<Vec<ConfigResult>> {
    let apocs: &[bool] = match bench.args.apoc {
        ApocMode::On => &[true],
        ApocMode::Off => &[false],
        ApocMode::Both => &[true, false],
    };
    let mut results = Vec::new();
    let n_configs = batch_sizes.len() * apocs.len();
    let mut k = 0;
    for &batch in batch_sizes {
        let ceiling = bench.ceiling(batch).await?;
        for &apoc in apocs {
            k += 1;
            let last_series = k == n_configs;
            let mut best: Option<f64> = None;
            let mut c = 1;
            let mut idx = 0;
            loop {
                let conns = if auto {
                    c
                } else {
                    match connections.get(idx) {
                        Some(&c) => c,
                        None => break,
                    }
                };
                let last = last_series && !auto && idx + 1 == connections.len();
                let m = bench.configuration(conns, batch, apoc, last).await?;
                let r = bench.result(&m, conns, batch, apoc, ceiling);
                if bench.args.json {
                    println!("{}", r.json);
                }
                let rps = r.rows_per_s;
                results.push(r);
                idx += 1;
                if auto {
                    let rising = best.is_none_or(|b| rps > b * (1.0 + AUTO_MIN_GAIN));
                    if !rising || c * 2 > AUTO_MAX_CONNECTIONS {
                        let knee = if rising { c } else { c / 2 };
                        let msg = format!(
                            "knee: {knee} connection(s) (batch {batch}, apoc {}): doubling raised rows/s less than {:.0} %",
                            if apoc { "on" } else { "off" },
                            AUTO_MIN_GAIN * 100.0
                        );
                        if bench.args.json {
                            println!(
                                "{}",
                                json!({"shape": bench.source.name(), "batch_size": batch, "apoc": apoc, "knee_connections": knee})
                            );
                        } else {
                            eprintln!("{msg}");
                        }
                        break;
                    }
                    best = Some(best.map_or(rps, |b| b.max(rps)));
                    c *= 2;
                }
            }
        }
    }
    Ok(results)
}

fn print_table(results: &[ConfigResult]) {
    println!(
        "{:<10} {:>5} {:>6} {:>4} {:>9} {:>9} {:>9} {:>8} {:>8} {:>8} {:>8} {:>9} {:>6} {:>7} {:>7}",
        "shape",
        "conns",
        "batch",
        "apoc",
        "rows/s",
        "nodes/s",
        "rels/s",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "max ms",
        "ceiling",
        "ratio",
        "cpu s",
        "retries"
    );
    for r in results {
        let j = &r.json;
        let f = |k: &str| j[k].as_f64().unwrap_or(0.0);
        let ceiling = j["ceiling_rows_per_s"]
            .as_f64()
            .map_or("-".to_string(), |c| format!("{c:.0}"));
        let ratio = j["ratio_to_ceiling"]
            .as_f64()
            .map_or("-".to_string(), |c| format!("{c:.2}"));
        println!(
            "{:<10} {:>5} {:>6} {:>4} {:>9.0} {:>9.0} {:>9.0} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>9} {:>6} {:>7.2} {:>7}",
            r.shape,
            r.connections,
            r.batch_size,
            if r.apoc { "on" } else { "off" },
            r.rows_per_s,
            f("nodes_per_s"),
            f("relationships_per_s"),
            r.latency_ms[0],
            r.latency_ms[1],
            r.latency_ms[2],
            r.latency_ms[3],
            ceiling,
            ratio,
            f("client_cpu_s"),
            j["retries"].as_u64().unwrap_or(0)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_and_refuse_garbage() {
        assert_eq!(
            parse_list("--connections", "1, 2,4").unwrap(),
            vec![1, 2, 4]
        );
        assert!(parse_list("--connections", "1,x").is_err());
        assert!(parse_list("--connections", "0").is_err());
        assert!(parse_list("--connections", "").is_err());
    }

    #[test]
    fn one_line_joins_lines() {
        assert_eq!(one_line("a\n  b\tc"), "a b c");
    }
}
