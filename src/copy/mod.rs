//! `nodestream copy`: the type retriever and the copier (spec §5.2, §7.2).
//!
//! Pipeline: a shard planner streams the ids of each type and cuts them into shards; `-c` readers fetch shards
//! (element-id seeks) and map rows into ingestions; the main task feeds them to the destination's
//! [`Neo4jWriter`], the same writer as `run`, and reports progress per type.
//!
//! Memory is bounded by the options, not by the size of the graph:
//! - between the readers and the writer, at most `--step-outbox-size` source rows exist (decoded, mapped, or
//!   queued): a reader reserves a page of rows in the [`reader::Outbox`] before pulling it from the server
//!   (`PULL` of `step_outbox_size / -c` rows, at most 1000 and at most `--shard-size`), and the reservation is
//!   released only once the page's records are in the writer. A row is one record, except for a relationship
//!   type with several schema adjacencies matching the same endpoints (one record each);
//! - the writer holds its batch (`--batch-size` records, de-duplicated into buckets) and a bounded number of
//!   earlier batches being flushed, as encoded PackStream payloads (see [`crate::writer`]; it grows with
//!   `--flush-concurrency`);
//! - shard ids: at most `2 × -c + 1` shards of `--shard-size` ids, PackStream-encoded (queued, being read, being
//!   planned), plus one page of the id listing per open type stream.
//!
//! Differences from Python 0.16, on purpose:
//! - Paging: element-id shards instead of `ORDER BY … SKIP/LIMIT` (see [`query`]); one scan per type, no record
//!   read twice or skipped while the graph changes.
//! - Relationship types whose schema declares keys keep them as keys (Python drops them, so parallel
//!   relationships collapse into one per endpoint pair). Undeclared keys still collapse, as in Python.
//! - Node types without schema keys are still not copied (no identity to merge on), but said once per type up
//!   front, and their shards are not read at all.
//! - When every endpoint type also gets its own node shards (no `relationships_only`, no `latest_hours`),
//!   relationship endpoints carry only their keys and labels: the node shards set the properties once, instead
//!   of every relationship re-writing its endpoints.
//! - Unknown retriever options and bad values are errors naming them (Python raises a `TypeError`).
//! - Without `-f`/`-t` and without a terminal, a clear error instead of a prompt.

pub mod cli;
pub mod mapping;
pub mod options;
pub mod query;
pub mod reader;
pub mod schema;
#[cfg(test)]
mod tests;

use crate::model::Ingestible;
use crate::writer::options::TargetOptions;
use crate::writer::{Neo4jWriter, WriteStats};
use anyhow::Context;
use indexmap::IndexMap;
use mapping::Mapper;
use options::RetrieverOptions;
use reader::{Kind, Outbox, Source, TypeJob};
use schema::CopySchema;
use serde_json::{Value as Json, json};
use std::io::Write;
use std::sync::Arc;
use std::sync::atomic::AtomicI64;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// A target as the project gives it: its name and its keys (without `database`).
#[derive(Debug, Clone)]
pub struct TargetSpec {
    /// Target name.
    pub name: String,
    /// Connector keys (`uri`, `username`, `password`, …).
    pub options: serde_json::Map<String, Json>,
}

/// Writer settings of the destination for this run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WriterSettings {
    /// Records per writer batch (`--batch-size`).
    pub batch_size: usize,
    /// Flush lanes (`--flush-concurrency`).
    pub flush_concurrency: usize,
}

/// Everything one copy run needs.
#[derive(Debug, Clone)]
pub struct CopyRequest {
    /// Source target.
    pub from: TargetSpec,
    /// Destination target.
    pub to: TargetSpec,
    /// The (already filtered) schema.
    pub schema: CopySchema,
    /// Retriever options (after merging `--shard-size`/`--preload-nodes`).
    pub retriever: RetrieverOptions,
    /// The retriever overrides as given, for the `Starting copy` log.
    pub retriever_overrides: serde_json::Map<String, Json>,
    /// `--connector-option` overrides, merged into the destination's keys.
    pub connector_overrides: serde_json::Map<String, Json>,
    /// Shards read at once (`-c`).
    pub concurrency: usize,
    /// Writer settings.
    pub writer: WriterSettings,
    /// Records buffered between the readers and the writer (`--step-outbox-size`).
    pub step_outbox_size: usize,
    /// Report every N records (`--reporting-frequency`), at most once a second.
    pub reporting_frequency: u64,
    /// Report every F seconds instead (`--metrics-interval-in-seconds`).
    pub metrics_interval: Option<f64>,
    /// JSON progress on stderr.
    pub json: bool,
}

/// What a finished copy did.
#[derive(Debug, Clone)]
pub struct CopyReport {
    /// Counts per type before copying.
    pub histogram: reader::Histogram,
    /// Records handed to the writer per type (`<label or type>` → count).
    pub records_by_type: IndexMap<String, u64>,
    /// Rows read from the source.
    pub rows_read: u64,
    /// Records handed to the writer.
    pub records: u64,
    /// Wall time.
    pub elapsed: Duration,
    /// The writer's totals.
    pub write: WriteStats,
}

/// The destination's options for this run: the target's keys, then the `--connector-option` overrides, parsed
/// once; then the copy's own `flush_concurrency`.
fn writer_options(
    to: &TargetSpec,
    overrides: &serde_json::Map<String, Json>,
    settings: WriterSettings,
) -> Result<TargetOptions, crate::writer::options::OptionsError> {
    let mut keys = to.options.clone();
    for (k, v) in overrides {
        keys.insert(k.clone(), v.clone());
    }
    let mut opts = TargetOptions::parse(&to.name, &keys)?;
    opts.flush_concurrency = settings.flush_concurrency.max(1);
    Ok(opts)
}

/// Connects the destination writer with the copy's settings.
async fn connect_writer(
    to: &TargetSpec,
    overrides: &serde_json::Map<String, Json>,
    settings: WriterSettings,
) -> anyhow::Result<Neo4jWriter> {
    let opts = writer_options(to, overrides, settings)?;
    Neo4jWriter::connect_options(&to.name, opts, "copy", settings.batch_size).await
}

/// The types to copy, grouped in the order their shards are read (spec §7.2 "Order of yielded shards").
fn plan_types(
    schema: &CopySchema,
    histogram: &reader::Histogram,
    opts: &RetrieverOptions,
) -> (Vec<Arc<TypeJob>>, Vec<Vec<Arc<TypeJob>>>) {
    let mut all = Vec::new();
    let mut nodes = Vec::new();
    let mut rels = Vec::new();
    for (name, count) in &histogram.relationships {
        if *count > 0 && schema.adjacencies_of(name).next().is_some() {
            let job = Arc::new(TypeJob {
                kind: Kind::Relationship,
                name: name.clone(),
                index: all.len(),
            });
            all.push(job.clone());
            rels.push(job);
        }
    }
    if !opts.relationships_only {
        for (name, count) in &histogram.nodes {
            let keyless = schema.nodes.get(name).is_none_or(|k| k.is_empty());
            if keyless {
                // Preserved consequence (spec §5.2): a node without a key has no identity to merge on.
                tracing::warn!(
                    "Node type '{name}' has no key in the project's schema: its nodes cannot be copied"
                );
                continue;
            }
            if *count > 0 {
                let job = Arc::new(TypeJob {
                    kind: Kind::Node,
                    name: name.clone(),
                    index: all.len(),
                });
                all.push(job.clone());
                nodes.push(job);
            }
        }
    }
    let groups = if opts.relationships_only {
        vec![rels]
    } else if opts.preload_nodes {
        vec![nodes, rels]
    } else {
        vec![rels, nodes]
    };
    (all, groups)
}

/// Progress per type and its display.
struct Progress {
    start: Instant,
    last: Instant,
    last_records: u64,
    last_by_type: Vec<u64>,
    by_type: Vec<u64>,
    names: Vec<String>,
    records: u64,
    rows: u64,
    next_report_at: u64,
    json: bool,
}

/// One JSON log line of `copy` on stderr.
fn json_line(message: &str, extra: Json) {
    let source = crate::jsonlog::Source {
        logger: "nodestream.copy",
        pipeline: "copy",
        scope: None,
    };
    crate::jsonlog::emit(source, "INFO", message, extra);
}

impl Progress {
    fn report(&mut self, write: &WriteStats, active: i64) {
        let now = Instant::now();
        let dt = now.duration_since(self.last).as_secs_f64().max(1e-9);
        let elapsed = now.duration_since(self.start).as_secs_f64();
        let rate = (self.records - self.last_records) as f64 / dt;
        let per_type: Vec<(String, u64, f64)> = self
            .names
            .iter()
            .enumerate()
            .map(|(i, n)| {
                (
                    n.clone(),
                    self.by_type[i],
                    (self.by_type[i] - self.last_by_type[i]) as f64 / dt,
                )
            })
            .collect();
        if self.json {
            let mut metrics = serde_json::Map::new();
            metrics.insert("records".into(), json!(self.records));
            metrics.insert("active_queries".into(), json!(active));
            for (n, c, r) in &per_type {
                metrics.insert(format!("records_by_type_{n}"), json!(c));
                metrics.insert(
                    format!("records_per_second_by_type_{n}"),
                    json!((r * 10.0).round() / 10.0),
                );
            }
            for (k, v) in write.metrics() {
                metrics.insert(k, json!(v));
            }
            json_line(
                "Processing Record",
                json!({"index": self.records, "elapsed_seconds": elapsed,
                       "records_per_second": (rate * 10.0).round() / 10.0}),
            );
            json_line("Metrics Report", Json::Object(metrics));
        } else {
            let mut line = format!(
                "Copied {} records in {elapsed:.1}s ({rate:.0} rec/s)",
                self.records
            );
            for (n, c, r) in per_type.iter().filter(|t| t.1 > 0) {
                line.push_str(&format!(" | {n} {c} ({r:.0}/s)"));
            }
            let mut err = std::io::stderr().lock();
            let _ = writeln!(err, "{line}");
        }
        self.last = now;
        self.last_records = self.records;
        self.last_by_type.clone_from(&self.by_type);
    }
}

/// Runs one copy to completion.
pub async fn execute(req: CopyRequest) -> anyhow::Result<CopyReport> {
    let now = chrono::Utc::now();
    let from_opts = TargetOptions::parse(&req.from.name, &req.from.options)?;
    for w in &from_opts.warnings {
        tracing::warn!("{w}");
    }
    let ro = &req.retriever;
    if req.json {
        json_line(
            "Starting copy",
            json!({
                "from": req.from.name, "to": req.to.name, "preload_nodes": ro.preload_nodes,
                "node_types": req.schema.nodes.keys().collect::<Vec<_>>(),
                "relationship_types": req.schema.relationships.keys().collect::<Vec<_>>(),
                "retriever_overrides": req.retriever_overrides,
                "connector_overrides": req.connector_overrides,
            }),
        );
    } else {
        tracing::info!(
            from = %req.from.name, to = %req.to.name,
            node_types = ?req.schema.nodes.keys().collect::<Vec<_>>(),
            relationship_types = ?req.schema.relationships.keys().collect::<Vec<_>>(),
            "Starting copy"
        );
    }
    let source = Source::connect(&req.from.name, &from_opts, ro, now).await?;
    let mut writer = connect_writer(&req.to, &req.connector_overrides, req.writer).await?;
    // Endpoints of relationships carry their properties only when no node shard will set them.
    let keys_only_endpoints = !ro.relationships_only && ro.latest_hours.is_none();
    let mapper = Arc::new(Mapper::new(req.schema.clone(), keys_only_endpoints));

    let histogram = source.histogram(&mapper).await?;
    for line in histogram.lines() {
        if req.json {
            json_line(&line, json!({}));
        } else {
            eprintln!("{line}");
        }
    }
    let (types, groups) = plan_types(&req.schema, &histogram, ro);

    let concurrency = req.concurrency.max(1);
    let mut tasks: JoinSet<anyhow::Result<()>> = JoinSet::new();
    let (shard_tx, shard_rx) = mpsc::channel(concurrency);
    let outbox = Outbox::new(req.step_outbox_size, concurrency, ro.shard_size);
    // Unbounded on purpose: the outbox's permits bound what the channel can hold.
    let (rec_tx, mut rec_rx) = mpsc::unbounded_channel();
    let active = Arc::new(AtomicI64::new(0));
    {
        let source = source.clone();
        let ro = ro.clone();
        tasks.spawn(async move { source.plan(groups, &ro, shard_tx).await });
    }
    source.spawn_readers(
        &mut tasks,
        concurrency,
        shard_rx,
        mapper.clone(),
        (outbox, rec_tx),
        active.clone(),
    );

    let start = Instant::now();
    let mut progress = Progress {
        start,
        last: start,
        last_records: 0,
        last_by_type: vec![0; types.len()],
        by_type: vec![0; types.len()],
        names: types.iter().map(|t| t.name.clone()).collect(),
        records: 0,
        rows: 0,
        next_report_at: req.reporting_frequency.max(1),
        json: req.json,
    };
    let writer_progress = writer.progress();
    let interval = req
        .metrics_interval
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(Duration::from_secs_f64);
    let mut ticker = tokio::time::interval(interval.unwrap_or(Duration::from_secs(1)));
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut due = false;
    loop {
        tokio::select! {
            msg = rec_rx.recv() => {
                let Some(chunk) = msg else { break };
                progress.rows += chunk.rows as u64;
                for rec in chunk.records {
                    writer.write(Ingestible::Ingestion(rec)).await?;
                }
                // Only now is the page's room in the outbox given back to the readers.
                drop(chunk.permit);
                let n = chunk.counted as u64;
                progress.records += n;
                progress.by_type[chunk.type_index] += n;
                if interval.is_none() && progress.records >= progress.next_report_at {
                    let f = req.reporting_frequency.max(1);
                    progress.next_report_at = (progress.records / f + 1) * f;
                    due = true;
                }
            }
            _ = ticker.tick() => {
                if interval.is_some() || due {
                    progress.report(&writer_progress.snapshot(), active.load(std::sync::atomic::Ordering::Relaxed));
                    due = false;
                }
            }
            Some(joined) = tasks.join_next() => {
                // A reader or the planner ended: surface its error now instead of at the end.
                joined.map_err(|e| anyhow::anyhow!("copy task failed: {e}"))??;
            }
        }
    }
    while let Some(joined) = tasks.join_next().await {
        joined.map_err(|e| anyhow::anyhow!("copy task failed: {e}"))??;
    }
    let write = writer
        .finish()
        .await
        .with_context(|| format!("destination target '{}'", req.to.name))?;
    progress.report(&write, 0);
    let elapsed = start.elapsed();
    let records_by_type = types
        .iter()
        .map(|t| (t.name.clone(), progress.by_type[t.index]))
        .collect();
    Ok(CopyReport {
        histogram,
        records_by_type,
        rows_read: progress.rows,
        records: progress.records,
        elapsed,
        write,
    })
}

/// Prints the final report: a table on stdout, or JSON lines on stderr.
pub fn print_report(report: &CopyReport, json: bool) {
    let secs = report.elapsed.as_secs_f64().max(1e-9);
    let mut rows: Vec<(String, String)> = vec![
        ("records".into(), report.records.to_string()),
        ("rows_read".into(), report.rows_read.to_string()),
        (
            "records_per_second".into(),
            format!("{:.0}", report.records as f64 / secs),
        ),
    ];
    for (t, n) in report
        .histogram
        .nodes
        .iter()
        .chain(&report.histogram.relationships)
    {
        rows.push((format!("source_count_{t}"), n.to_string()));
    }
    for (t, n) in &report.records_by_type {
        rows.push((format!("records_by_type_{t}"), n.to_string()));
        rows.push((
            format!("records_per_second_by_type_{t}"),
            format!("{:.0}", *n as f64 / secs),
        ));
    }
    for (k, v) in report.write.metrics() {
        rows.push((k, v.to_string()));
    }
    if json {
        json_line(
            "Copy Completed",
            json!({"elapsed_seconds": report.elapsed.as_secs_f64()}),
        );
        let m: serde_json::Map<String, Json> =
            rows.into_iter().map(|(k, v)| (k, json!(v))).collect();
        json_line("Metrics Report", Json::Object(m));
        return;
    }
    let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(9).max(9);
    let w1 = rows.iter().map(|r| r.1.len()).max().unwrap_or(5).max(5);
    let sep = format!("+-{}-+-{}-+", "-".repeat(w0), "-".repeat(w1));
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        " Finished copy in {:.1}s",
        report.elapsed.as_secs_f64()
    );
    let _ = writeln!(out, "{sep}");
    let _ = writeln!(out, "| {:<w0$} | {:<w1$} |", "Statistic", "Value");
    let _ = writeln!(out, "{sep}");
    for (k, v) in rows {
        let _ = writeln!(out, "| {k:<w0$} | {v:<w1$} |");
    }
    let _ = writeln!(out, "{sep}");
}
