//! The Neo4j writer: batching, de-duplication, Cypher and pre-encoded APOC batches (spec §3.6, §4).
//!
//! Records are buffered into [`buckets::Batch`]; every `batch_size` records the batch is handed to a background
//! flush task. Flush tasks are chained: the nodes of batch k+1 start when the nodes of batch k are done, and
//! the relationships of batch k start when its own nodes (hence all earlier nodes) and the relationships of
//! batch k-1 are done. So relationships always find their endpoints, updates to one object keep record order,
//! and the server works on the nodes of one batch while it writes the relationships of the previous one.

pub mod buckets;
pub mod cypher;
pub mod exec;
pub mod extractor;
pub mod options;

use crate::model::{GraphObjectType, Ingestible, TimeToLiveConfiguration};
use anyhow::{Context, anyhow};
use bolt::packstream::encode;
use buckets::{Batch, RowSource};
use bytes::{Bytes, BytesMut};
use exec::{ApocSummary, Database, DbError, RetryPolicy};
use indexmap::IndexMap;
use options::TargetOptions;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{Semaphore, oneshot};
use tokio::task::JoinHandle;

/// Flushes allowed in flight before `write` waits for the oldest one.
const MAX_PENDING_FLUSHES: usize = 2;

/// Live counters, readable by the CLI while the writer runs.
#[derive(Debug, Default)]
pub struct Progress {
    /// Node rows sent (after de-duplication), as Python's `nodes_upserted`.
    pub nodes_upserted: AtomicU64,
    /// Relationship rows sent, as Python's `relationships_upserted`.
    pub relationships_upserted: AtomicU64,
    /// TTL configurations executed.
    pub time_to_live_operations: AtomicU64,
    /// APOC inner batches (or plain chunks) that failed.
    pub failed_batches: AtomicU64,
    /// Rows in those failed batches.
    pub failed_operations: AtomicU64,
    /// Retries of whole queries or buckets.
    pub retries: AtomicU64,
    /// Queries sent.
    pub queries: AtomicU64,
    /// Nodes created, from the server's statistics.
    pub nodes_created: AtomicU64,
    /// Relationships created, from the server's statistics.
    pub relationships_created: AtomicU64,
    /// Nodes deleted (TTL).
    pub nodes_deleted: AtomicU64,
    /// Relationships deleted (TTL).
    pub relationships_deleted: AtomicU64,
    /// Properties set, from the server's statistics.
    pub properties_set: AtomicU64,
    /// `nodes_upserted_by_type_<Label>`.
    pub nodes_by_type: Mutex<IndexMap<String, u64>>,
    /// `relationships_upserted_by_relationship_type_<TYPE>`.
    pub relationships_by_type: Mutex<IndexMap<String, u64>>,
}

fn add(c: &AtomicU64, n: i64) {
    if n > 0 {
        c.fetch_add(n as u64, Ordering::Relaxed);
    }
}

impl Progress {
    fn count_type(map: &Mutex<IndexMap<String, u64>>, name: &str, n: usize) {
        if let Ok(mut m) = map.lock() {
            match m.get_mut(name) {
                Some(c) => *c += n as u64,
                None => {
                    m.insert(name.to_string(), n as u64);
                }
            }
        }
    }

    fn absorb(&self, s: &ApocSummary) {
        add(&self.nodes_created, s.nodes_created);
        add(&self.relationships_created, s.relationships_created);
        add(&self.nodes_deleted, s.nodes_deleted);
        add(&self.relationships_deleted, s.relationships_deleted);
        add(&self.properties_set, s.properties_set);
    }

    /// A snapshot of every counter.
    pub fn snapshot(&self) -> WriteStats {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        WriteStats {
            nodes_upserted: get(&self.nodes_upserted),
            relationships_upserted: get(&self.relationships_upserted),
            nodes_upserted_by_type: self
                .nodes_by_type
                .lock()
                .map(|m| m.clone())
                .unwrap_or_default(),
            relationships_upserted_by_type: self
                .relationships_by_type
                .lock()
                .map(|m| m.clone())
                .unwrap_or_default(),
            time_to_live_operations: get(&self.time_to_live_operations),
            failed_batches: get(&self.failed_batches),
            failed_operations: get(&self.failed_operations),
            retries: get(&self.retries),
            queries: get(&self.queries),
            nodes_created: get(&self.nodes_created),
            relationships_created: get(&self.relationships_created),
            nodes_deleted: get(&self.nodes_deleted),
            relationships_deleted: get(&self.relationships_deleted),
            properties_set: get(&self.properties_set),
        }
    }
}

/// Totals of one writer, as reported at the end of a run (metric names of spec §5.1 in the field docs).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct WriteStats {
    /// `nodes_upserted`.
    pub nodes_upserted: u64,
    /// `relationships_upserted`.
    pub relationships_upserted: u64,
    /// `nodes_upserted_by_type_<Label>`.
    pub nodes_upserted_by_type: IndexMap<String, u64>,
    /// `relationships_upserted_by_relationship_type_<TYPE>`.
    pub relationships_upserted_by_type: IndexMap<String, u64>,
    /// `time_to_live_operations`.
    pub time_to_live_operations: u64,
    /// APOC failed inner batches (or failed plain chunks).
    pub failed_batches: u64,
    /// Rows in failed batches.
    pub failed_operations: u64,
    /// `neo4j_query_retries` plus our own query retries.
    pub retries: u64,
    /// Queries sent.
    pub queries: u64,
    /// `neo4j_query_write_metrics_nodes_created`.
    pub nodes_created: u64,
    /// `neo4j_query_write_metrics_relationships_created`.
    pub relationships_created: u64,
    /// `neo4j_query_write_metrics_nodes_deleted`.
    pub nodes_deleted: u64,
    /// `neo4j_query_write_metrics_relationships_deleted`.
    pub relationships_deleted: u64,
    /// `neo4j_query_write_metrics_properties_set`.
    pub properties_set: u64,
}

impl WriteStats {
    /// The metrics as Nodestream names them, in a stable order (for the summary table and `--json`).
    pub fn metrics(&self) -> Vec<(String, u64)> {
        let mut m = vec![
            ("nodes_upserted".to_string(), self.nodes_upserted),
            (
                "relationships_upserted".to_string(),
                self.relationships_upserted,
            ),
        ];
        for (k, v) in &self.nodes_upserted_by_type {
            m.push((format!("nodes_upserted_by_type_{k}"), *v));
        }
        for (k, v) in &self.relationships_upserted_by_type {
            m.push((
                format!("relationships_upserted_by_relationship_type_{k}"),
                *v,
            ));
        }
        m.push((
            "time_to_live_operations".into(),
            self.time_to_live_operations,
        ));
        m.push((
            "neo4j_query_write_metrics_nodes_created".into(),
            self.nodes_created,
        ));
        m.push((
            "neo4j_query_write_metrics_relationships_created".into(),
            self.relationships_created,
        ));
        m.push((
            "neo4j_query_write_metrics_nodes_deleted".into(),
            self.nodes_deleted,
        ));
        m.push((
            "neo4j_query_write_metrics_relationships_deleted".into(),
            self.relationships_deleted,
        ));
        m.push((
            "neo4j_query_write_metrics_properties_set".into(),
            self.properties_set,
        ));
        m.push(("neo4j_query_retries".into(), self.retries));
        m.push(("neo4j_failed_batches".into(), self.failed_batches));
        m
    }
}

/// What is shared between the writer and its background flush tasks.
struct Shared {
    db: Arc<dyn Database>,
    opts: TargetOptions,
    target: String,
    retry: RetryPolicy,
    progress: Arc<Progress>,
    permits: Semaphore,
    /// Set when TTL queries must use `id()` (a server without `elementId`).
    legacy_ids: std::sync::atomic::AtomicBool,
    /// Whether the server takes UTC datetimes (Bolt 5, or 4.4 with the utc patch).
    utc: bool,
    /// Each distinct statement is logged once, as Python does.
    logged: Mutex<hashbrown::HashSet<String>>,
}

/// The Neo4j writer of one target in one pipeline run.
pub struct Neo4jWriter {
    shared: Arc<Shared>,
    batch: Batch,
    batch_size: usize,
    pending: VecDeque<JoinHandle<anyhow::Result<()>>>,
    chain: Option<Chain>,
    lenient: bool,
}

/// Completion signals of the previous flush (false or dropped = it failed).
struct Chain {
    nodes_done: oneshot::Receiver<bool>,
    rels_done: oneshot::Receiver<bool>,
}

impl Neo4jWriter {
    /// Connects to the target (verifying the address and credentials) and prepares a writer.
    /// `options` are the target's keys except `database`.
    pub async fn connect(
        target_name: &str,
        options: &serde_json::Map<String, serde_json::Value>,
        pipeline_name: &str,
        batch_size: usize,
    ) -> anyhow::Result<Neo4jWriter> {
        let opts = TargetOptions::parse(target_name, options)?;
        for w in &opts.warnings {
            tracing::warn!("{w}");
        }
        let db = bolt_db::BoltDatabase::connect(&opts)
            .await
            .with_context(|| format!("target '{target_name}': cannot connect to {}", opts.uri))?;
        tracing::debug!(
            target = target_name,
            pipeline = pipeline_name,
            "connected to Neo4j"
        );
        Ok(Neo4jWriter::with_database(
            target_name,
            opts,
            Arc::new(db),
            batch_size,
        ))
    }

    /// A writer over any [`Database`] (tests use fakes).
    pub fn with_database(
        target_name: &str,
        opts: TargetOptions,
        db: Arc<dyn Database>,
        batch_size: usize,
    ) -> Neo4jWriter {
        let retry = RetryPolicy {
            max_attempts: opts.max_retry_attempts,
            factor: opts.retry_factor,
            max_transaction_retry_time: if db.retries_transients() {
                std::time::Duration::ZERO
            } else {
                opts.driver
                    .max_transaction_retry_time
                    .unwrap_or(std::time::Duration::from_secs(30))
            },
            ..RetryPolicy::default()
        };
        let lenient = opts.lenient_apoc_errors;
        let utc = db.utc_datetimes();
        let permits = Semaphore::new(opts.concurrency());
        Neo4jWriter {
            shared: Arc::new(Shared {
                db,
                opts,
                target: target_name.to_string(),
                retry,
                progress: Arc::new(Progress::default()),
                permits,
                legacy_ids: Default::default(),
                utc,
                logged: Mutex::new(Default::default()),
            }),
            batch: Batch::default(),
            batch_size: batch_size.max(1),
            pending: VecDeque::new(),
            chain: None,
            lenient,
        }
    }

    /// The live counters (cheap to clone; read them from another task for a progress display).
    #[allow(dead_code)] // For the CLI's progress display (nodes/relationships written), not wired yet.
    pub fn progress(&self) -> Arc<Progress> {
        self.shared.progress.clone()
    }

    /// Python's behaviour: APOC's failed batches are only logged, the run still succeeds
    /// (`--lenient-apoc-errors`, or the target option `lenient_apoc_errors: true`).
    pub fn set_lenient_apoc_errors(&mut self, lenient: bool) {
        self.lenient = lenient;
    }

    /// Takes one record: buffers an ingestion, runs a TTL now, or flushes.
    pub async fn write(&mut self, item: Ingestible) -> anyhow::Result<()> {
        match item {
            Ingestible::Ingestion(ingestion) => {
                self.batch.add(ingestion);
                if self.batch.records >= self.batch_size {
                    self.flush().await?;
                }
            }
            Ingestible::TimeToLive(config) => {
                self.wait_all().await?;
                self.time_to_live(config).await?;
            }
            Ingestible::Flush => self.flush().await?,
        }
        Ok(())
    }

    /// Flushes what is left, waits for every write, and returns the totals. Fails if any write failed, or if
    /// APOC reported failed batches (unless lenient).
    pub async fn finish(mut self) -> anyhow::Result<WriteStats> {
        self.flush().await?;
        self.wait_all().await?;
        let stats = self.shared.progress.snapshot();
        if stats.failed_batches > 0 && !self.lenient {
            return Err(anyhow!(
                "target '{}': {} batch(es) with {} row(s) failed inside the database (see the errors above); \
                 use --lenient-apoc-errors to only log them, as Python Nodestream does",
                self.shared.target,
                stats.failed_batches,
                stats.failed_operations
            ));
        }
        Ok(stats)
    }

    async fn wait_all(&mut self) -> anyhow::Result<()> {
        let mut first_err = None;
        while let Some(h) = self.pending.pop_front() {
            let r = h
                .await
                .map_err(|e| anyhow!("flush task failed: {e}"))
                .and_then(|r| r);
            if let Err(e) = r {
                first_err.get_or_insert(e);
            }
        }
        match first_err {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }

    /// Hands the buffered batch to a background flush task (spec §3.6 flush order, overlapped across batches).
    async fn flush(&mut self) -> anyhow::Result<()> {
        if self.batch.is_empty() {
            self.batch.records = 0;
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch);
        let (nodes_tx, nodes_rx) = oneshot::channel();
        let (rels_tx, rels_rx) = oneshot::channel();
        let prev = self.chain.replace(Chain {
            nodes_done: nodes_rx,
            rels_done: rels_rx,
        });
        let shared = self.shared.clone();
        self.pending.push_back(tokio::spawn(async move {
            flush_batch(shared, batch, prev, nodes_tx, rels_tx).await
        }));
        while self.pending.len() > MAX_PENDING_FLUSHES {
            if let Some(h) = self.pending.pop_front() {
                h.await.map_err(|e| anyhow!("flush task failed: {e}"))??;
            }
        }
        Ok(())
    }

    async fn time_to_live(&mut self, config: TimeToLiveConfiguration) -> anyhow::Result<()> {
        if !config.enabled {
            return Ok(());
        }
        let shared = &self.shared;
        if !config.expiry_in_hours.is_finite() {
            anyhow::bail!("Expiry in hours must be set for TTL configuration");
        }
        tracing::debug!(object_type = %config.object_type, "Executing TTL");
        let cutoff = utc_now_minus_hours(config.expiry_in_hours);
        loop {
            let legacy = shared.legacy_ids.load(Ordering::Relaxed);
            let (iterable, delete) = cypher::ttl_statements(
                config.graph_object_type,
                &config.object_type,
                config.custom_query.as_deref(),
                legacy,
            );
            let mut buf = BytesMut::with_capacity(512);
            encode::map_header(&mut buf, 6);
            encode::string(&mut buf, "iterate_params");
            encode::map_header(&mut buf, 1);
            encode::string(&mut buf, "earliest_allowed_time");
            buckets::encode_value(&bolt::Value::DateTime(cutoff), &mut buf, shared.utc);
            encode::string(&mut buf, "batched_query");
            encode::string(&mut buf, delete);
            encode::string(&mut buf, "iterable_query");
            encode::string(&mut buf, &iterable);
            encode::string(&mut buf, "execute_chunks_in_parallel");
            encode::boolean(
                &mut buf,
                config.graph_object_type == GraphObjectType::Relationship,
            );
            encode::string(&mut buf, "chunk_size");
            encode::int(&mut buf, config.batch_size.max(1));
            encode::string(&mut buf, "retries_per_chunk");
            encode::int(&mut buf, shared.opts.retries_per_chunk);
            let params = buf.freeze();
            let out = shared
                .query(cypher::APOC_COMMIT_QUERY, &params, true)
                .await
                .map_err(|e| {
                    anyhow!(
                        "target '{}': TTL for {} failed: {e}",
                        shared.target,
                        config.object_type
                    )
                })?;
            let summary = ApocSummary::from_output(&out);
            let no_element_id = summary
                .error_messages
                .iter()
                .any(|(m, _)| m.contains("elementId") && m.contains("Unknown function"));
            if no_element_id && !legacy && config.custom_query.is_none() {
                shared.legacy_ids.store(true, Ordering::Relaxed);
                continue;
            }
            shared.progress.absorb(&summary);
            shared.report_failures(&summary, &format!("TTL of {}", config.object_type));
            break;
        }
        shared
            .progress
            .time_to_live_operations
            .fetch_add(1, Ordering::Relaxed);
        tracing::info!(object_type = %config.object_type, "Executed TTL");
        Ok(())
    }
}

/// Now minus `hours`, as a UTC Bolt DateTime.
fn utc_now_minus_hours(hours: f64) -> bolt::value::DateTime {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let total_nanos = now.as_nanos() as i128 - (hours * 3600.0 * 1e9) as i128;
    bolt::value::DateTime {
        seconds: total_nanos.div_euclid(1_000_000_000) as i64,
        nanoseconds: total_nanos.rem_euclid(1_000_000_000) as i64,
        tz_offset_seconds: 0,
    }
}

/// One bucket ready to send: its statement and encoded parameter maps (one per query).
struct Prepared {
    /// `Label` or `TYPE`, for counters and error messages.
    name: String,
    statement: String,
    payloads: Vec<Bytes>,
    rows: usize,
    idempotent: bool,
}

impl Shared {
    async fn query(
        &self,
        text: &str,
        params: &Bytes,
        idempotent: bool,
    ) -> Result<exec::Output, DbError> {
        let _permit = self.permits.acquire().await;
        self.progress.queries.fetch_add(1, Ordering::Relaxed);
        let progress = &self.progress;
        self.retry
            .run(self.db.as_ref(), text, params, idempotent, &|_| {
                progress.retries.fetch_add(1, Ordering::Relaxed);
            })
            .await
    }

    fn log_statement(&self, statement: &str) {
        if let Ok(mut seen) = self.logged.lock()
            && !seen.contains(statement)
        {
            seen.insert(statement.to_string());
            tracing::info!(query = statement, "Executing Cypher Query to Neo4j.");
        }
    }

    fn report_failures(&self, s: &ApocSummary, what: &str) {
        if !s.has_failures() {
            return;
        }
        add(&self.progress.failed_batches, s.failed_batches.max(1));
        add(&self.progress.failed_operations, s.failed_operations);
        for (message, count) in &s.error_messages {
            tracing::error!(
                target_name = %self.target,
                shape = what,
                count,
                "Query Error Occurred: {what}: {message}"
            );
        }
        if s.was_terminated {
            tracing::error!(target_name = %self.target, shape = what, "APOC job was terminated: {what}");
        }
    }

    /// Encodes one bucket: the APOC envelope (one query), or `chunk_size` rows per plain `UNWIND` query.
    fn prepare(
        &self,
        name: String,
        statement: String,
        src: &dyn RowSource,
        idempotent: bool,
    ) -> Prepared {
        let n = src.len();
        let mut payloads = Vec::new();
        if self.opts.use_apoc {
            let mut buf = BytesMut::with_capacity(src.size_hint() + statement.len() + 256);
            encode::map_header(&mut buf, 6);
            encode::string(&mut buf, "iterate_params");
            encode::map_header(&mut buf, 1);
            encode::string(&mut buf, "batched_parameter_sets");
            encode::list_header(&mut buf, n);
            src.encode_rows(0..n, &mut buf, self.utc);
            encode::string(&mut buf, "batched_query");
            encode::string(&mut buf, &statement);
            encode::string(&mut buf, "iterable_query");
            encode::string(&mut buf, cypher::UNWIND_QUERY);
            encode::string(&mut buf, "execute_chunks_in_parallel");
            encode::boolean(&mut buf, self.opts.execute_chunks_in_parallel);
            encode::string(&mut buf, "chunk_size");
            encode::int(&mut buf, self.opts.chunk_size as i64);
            encode::string(&mut buf, "retries_per_chunk");
            encode::int(&mut buf, self.opts.retries_per_chunk);
            payloads.push(buf.freeze());
        } else {
            let chunk = self.opts.chunk_size.max(1);
            let mut start = 0;
            while start < n {
                let end = (start + chunk).min(n);
                let mut buf = BytesMut::with_capacity(src.size_hint() * (end - start) / n + 64);
                encode::map_header(&mut buf, 1);
                encode::string(&mut buf, "rows");
                encode::list_header(&mut buf, end - start);
                src.encode_rows(start..end, &mut buf, self.utc);
                payloads.push(buf.freeze());
                start = end;
            }
        }
        let statement = if self.opts.use_apoc {
            statement
        } else {
            format!("{}{statement}", cypher::PLAIN_UNWIND_PREFIX)
        };
        Prepared {
            name,
            statement,
            payloads,
            rows: n,
            idempotent,
        }
    }

    /// Sends one prepared bucket. Database-side failures are reported and counted, not returned; only a query
    /// that cannot be run at all (after retries) is an error.
    async fn send(&self, p: &Prepared) -> anyhow::Result<()> {
        if self.opts.use_apoc {
            self.log_statement(&p.statement);
            let params = &p.payloads[0];
            let mut replays = 0;
            loop {
                let out = self
                    .query(cypher::APOC_COMMIT_QUERY, params, p.idempotent)
                    .await
                    .map_err(|e| self.query_error(p, e))?;
                let summary = ApocSummary::from_output(&out);
                add(&self.progress.retries, summary.retries);
                self.progress.absorb(&summary);
                // Deadlocks between concurrent shapes: replaying a MERGE bucket is harmless and usually works.
                if summary.has_failures()
                    && summary.lock_contention()
                    && p.idempotent
                    && replays < self.retry.max_attempts.max(5)
                {
                    replays += 1;
                    self.progress.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(shape = %p.name, "lock contention inside APOC batches; replaying the bucket");
                    tokio::time::sleep(std::time::Duration::from_millis(200 * replays as u64))
                        .await;
                    continue;
                }
                self.report_failures(&summary, &format!("{} ({})", p.name, p.statement));
                return Ok(());
            }
        }
        let text = p.statement.as_str();
        self.log_statement(text);
        let run_chunk = |params: &Bytes| {
            let params = params.clone();
            async move {
                match self.query(text, &params, p.idempotent).await {
                    Ok(_) => Ok(()),
                    // A refused row (a map property, a constraint) fails its chunk; like an APOC failed batch.
                    Err(e)
                        if e.code
                            .as_deref()
                            .is_some_and(|c| c.starts_with("Neo.ClientError.")) =>
                    {
                        let rows = params_rows_hint(&params);
                        self.report_failures(
                            &ApocSummary {
                                failed_batches: 1,
                                failed_operations: rows,
                                error_messages: vec![(e.message.clone(), 1)],
                                ..ApocSummary::default()
                            },
                            &format!("{} ({})", p.name, p.statement),
                        );
                        Ok(())
                    }
                    Err(e) => Err(self.query_error(p, e)),
                }
            }
        };
        if self.opts.execute_chunks_in_parallel {
            let results = futures_join_all(p.payloads.iter().map(run_chunk)).await;
            results.into_iter().collect::<anyhow::Result<Vec<()>>>()?;
        } else {
            for params in &p.payloads {
                run_chunk(params).await?;
            }
        }
        Ok(())
    }

    fn query_error(&self, p: &Prepared, e: DbError) -> anyhow::Error {
        let code = e
            .code
            .as_deref()
            .map(|c| format!(" [{c}]"))
            .unwrap_or_default();
        anyhow!(
            "target '{}': writing {} rows of {} failed{code}: {}",
            self.target,
            p.rows,
            p.name,
            e.message
        )
    }
}

/// The row count of a plain chunk: the list header right after `{rows: [`.
fn params_rows_hint(params: &Bytes) -> i64 {
    // map(1) "rows" = 1 + 5 bytes, then the list header.
    match params.get(6) {
        Some(&m) if m & 0xF0 == 0x90 => i64::from(m & 0x0F),
        Some(0xD4) => params.get(7).map_or(0, |&b| i64::from(b)),
        Some(0xD5) => params
            .get(7..9)
            .map_or(0, |b| i64::from(u16::from_be_bytes([b[0], b[1]]))),
        Some(0xD6) => params.get(7..11).map_or(0, |b| {
            i64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
        }),
        _ => 0,
    }
}

/// Awaits futures concurrently on the current task (no spawn: they borrow the prepared bucket).
async fn futures_join_all<F: std::future::Future>(futs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut set: Vec<_> = futs.map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = (0..set.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in set.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

async fn flush_batch(
    shared: Arc<Shared>,
    batch: Batch,
    prev: Option<Chain>,
    nodes_tx: oneshot::Sender<bool>,
    rels_tx: oneshot::Sender<bool>,
) -> anyhow::Result<()> {
    let fia = shared.opts.set_first_ingested_at;
    let use_apoc = shared.opts.use_apoc;
    // Encode everything first: this overlaps with the database work of the previous batch.
    let nodes: Vec<Prepared> = batch
        .nodes
        .iter()
        .map(|b| {
            let stmt = cypher::node_statement(&b.shape.spec(), fia, use_apoc);
            shared.prepare(b.shape.label.clone(), stmt, b, true)
        })
        .collect();
    let rels: Vec<Prepared> = batch
        .rels
        .iter()
        .map(|b| {
            let stmt = cypher::relationship_statement(&b.shape.spec(), fia);
            let idempotent = b.shape.rule == crate::model::RelationshipCreationRule::Eager;
            shared.prepare(b.shape.rel_type.clone(), stmt, b, idempotent)
        })
        .collect();
    drop(batch);
    let (prev_nodes, prev_rels) = match prev {
        Some(c) => (Some(c.nodes_done), Some(c.rels_done)),
        None => (None, None),
    };
    if let Some(rx) = prev_nodes
        && !rx.await.unwrap_or(false)
    {
        return Err(anyhow!("not written: an earlier batch failed"));
    }
    for r in futures_join_all(nodes.iter().map(|p| shared.send(p))).await {
        r?;
    }
    for p in &nodes {
        shared
            .progress
            .nodes_upserted
            .fetch_add(p.rows as u64, Ordering::Relaxed);
        Progress::count_type(&shared.progress.nodes_by_type, &p.name, p.rows);
    }
    let _ = nodes_tx.send(true);
    if let Some(rx) = prev_rels
        && !rx.await.unwrap_or(false)
    {
        return Err(anyhow!("not written: an earlier batch failed"));
    }
    for r in futures_join_all(rels.iter().map(|p| shared.send(p))).await {
        r?;
    }
    for p in &rels {
        shared
            .progress
            .relationships_upserted
            .fetch_add(p.rows as u64, Ordering::Relaxed);
        Progress::count_type(&shared.progress.relationships_by_type, &p.name, p.rows);
    }
    let _ = rels_tx.send(true);
    Ok(())
}

mod bolt_db;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod db_tests;
