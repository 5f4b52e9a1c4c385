//! The Neo4j writer: batching, de-duplication, Cypher and pre-encoded APOC batches (spec §3.6, §4).
//!
//! Records are buffered into [`buckets::Batch`]; every `batch_size` records the batch is encoded into units (one
//! query per chunk of each bucket, node buckets first) and handed to the [`schedule`]r, which runs every unit as
//! soon as no earlier unit touching the same nodes is unfinished. So relationships always find their endpoints,
//! updates to one object keep record order, our queries never deadlock on each other, and several batches are
//! written at once (`flush_concurrency` + 2 batches may be buffered).

pub mod buckets;
pub mod cypher;
pub mod exec;
pub mod options;
mod schedule;

use crate::model::{GraphObjectType, Ingestible, TimeToLiveConfiguration};
use anyhow::{Context, anyhow};
use bolt::packstream::encode;
use buckets::{Batch, RowSource};
use bytes::{Bytes, BytesMut};
use exec::{ApocSummary, Database, DbError, RetryPolicy};
use indexmap::IndexMap;
use options::TargetOptions;
use schedule::Scheduler;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

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

/// Measurements for `nodestream bench`: the latency of every query the writer sends (microseconds, an HDR
/// histogram) and the server's update counters of plain (non-APOC) queries, from their SUCCESS metadata (APOC
/// queries report theirs in [`Progress`], from `apoc.periodic.iterate`'s result row).
#[derive(Debug)]
pub struct Instruments {
    /// Query latencies in microseconds.
    pub latency_us: Mutex<hdrhistogram::Histogram<u64>>,
    /// `nodes-created` of plain queries.
    pub nodes_created: AtomicU64,
    /// `relationships-created` of plain queries.
    pub relationships_created: AtomicU64,
    /// `properties-set` of plain queries.
    pub properties_set: AtomicU64,
}

impl Default for Instruments {
    fn default() -> Self {
        Instruments {
            // 1 µs to 1 hour at 3 significant digits: constant bounds, which `new_with_bounds` accepts.
            #[allow(clippy::expect_used)]
            latency_us: Mutex::new(
                hdrhistogram::Histogram::new_with_bounds(1, 3_600_000_000, 3)
                    .expect("constant histogram bounds are valid"),
            ),
            nodes_created: AtomicU64::new(0),
            relationships_created: AtomicU64::new(0),
            properties_set: AtomicU64::new(0),
        }
    }
}

impl Instruments {
    fn record(&self, started: std::time::Instant) {
        let us = (started.elapsed().as_micros() as u64).max(1);
        if let Ok(mut h) = self.latency_us.lock() {
            h.saturating_record(us);
        }
    }

    fn absorb(&self, c: &exec::Counters) {
        add(&self.nodes_created, c.nodes_created);
        add(&self.relationships_created, c.relationships_created);
        add(&self.properties_set, c.properties_set);
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
    /// How zoned datetimes go on the wire, as the server negotiated.
    format: bolt::packstream::WireFormat,
    /// Each distinct statement is logged once, as Python does.
    logged: Mutex<hashbrown::HashSet<String>>,
    /// Set by `nodestream bench` only.
    instruments: std::sync::OnceLock<Arc<Instruments>>,
}

/// The Neo4j writer of one target in one pipeline run.
pub struct Neo4jWriter {
    shared: Arc<Shared>,
    batch: Batch,
    batch_size: usize,
    /// Started at the first flush, closed (and awaited) by TTLs and `finish`.
    scheduler: Option<Scheduler>,
    /// One permit per batch buffered or being written: the writer waits when all are taken.
    batches: Arc<Semaphore>,
    written: Written,
    /// Batches handed to the scheduler so far (names each batch's sequential-chunk order).
    batches_flushed: u64,
    /// Reused between flushes: rows are encoded here, then copied into each unit's parameters.
    encoded: Encoded,
    lenient: bool,
}

impl Neo4jWriter {
    /// Parses `options` (the target's keys except `database`) and connects.
    #[cfg(test)]
    pub async fn connect(
        target_name: &str,
        options: &serde_json::Map<String, serde_json::Value>,
        pipeline_name: &str,
        batch_size: usize,
    ) -> anyhow::Result<Neo4jWriter> {
        let opts = TargetOptions::parse(target_name, options)?;
        Self::connect_options(target_name, opts, pipeline_name, batch_size).await
    }

    /// Connects to the target (verifying the address and credentials) and prepares a writer, with options
    /// already parsed (and adjusted by the caller, e.g. `flush_concurrency`).
    pub async fn connect_options(
        target_name: &str,
        mut opts: TargetOptions,
        pipeline_name: &str,
        batch_size: usize,
    ) -> anyhow::Result<Neo4jWriter> {
        for w in &opts.warnings {
            tracing::warn!("{w}");
        }
        let db = bolt_db::BoltDatabase::connect(&opts)
            .await
            .with_context(|| format!("target '{target_name}': cannot connect to {}", opts.uri))?;
        opts.server_cores = db.server_cores().await;
        tracing::debug!(
            target = target_name,
            pipeline = pipeline_name,
            server_cores = opts.server_cores,
            in_flight = opts.concurrency(),
            "connected to Neo4j"
        );
        Ok(Neo4jWriter::with_database(
            target_name,
            opts,
            Arc::new(db),
            batch_size,
        ))
    }

    /// Like [`Neo4jWriter::connect`], for `nodestream bench`: exactly `connections` queries in flight (and as
    /// many pooled connections, at most 64), whatever the server's processor count, and `instruments` measuring
    /// every query.
    pub async fn connect_exact(
        target_name: &str,
        options: &serde_json::Map<String, serde_json::Value>,
        batch_size: usize,
        connections: usize,
        instruments: Arc<Instruments>,
    ) -> anyhow::Result<Neo4jWriter> {
        let connections = connections.clamp(1, 64);
        let mut opts = TargetOptions::parse(target_name, options)?;
        opts.bolt.max_connection_pool_size = connections;
        opts.connection_semaphore_limit = connections;
        let db = bolt_db::BoltDatabase::connect(&opts)
            .await
            .with_context(|| format!("target '{target_name}': cannot connect to {}", opts.uri))?;
        // 32 processors make the default 64 in flight, so the limits above alone decide.
        opts.server_cores = Some(32);
        let w = Neo4jWriter::with_database(target_name, opts, Arc::new(db), batch_size);
        let _ = w.shared.instruments.set(instruments);
        Ok(w)
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
                opts.bolt.max_transaction_retry_time
            },
            ..RetryPolicy::default()
        };
        let lenient = opts.lenient_apoc_errors;
        let format = db.wire_format();
        let permits = Semaphore::new(opts.concurrency());
        let batches = Arc::new(Semaphore::new(opts.flush_concurrency.max(1) + 2));
        Neo4jWriter {
            shared: Arc::new(Shared {
                db,
                opts,
                target: target_name.to_string(),
                retry,
                progress: Arc::new(Progress::default()),
                permits,
                legacy_ids: Default::default(),
                format,
                logged: Mutex::new(Default::default()),
                instruments: std::sync::OnceLock::new(),
            }),
            batch: Batch::default(),
            batch_size: batch_size.max(1),
            scheduler: None,
            batches,
            written: Written::default(),
            batches_flushed: 0,
            encoded: Encoded::default(),
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
                self.written.rows.clear();
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
        match self.scheduler.take() {
            Some(s) => s.close().await,
            None => Ok(()),
        }
    }

    /// Encodes the buffered batch into units and queues them (spec §3.6 flush order; see [`schedule`]).
    async fn flush(&mut self) -> anyhow::Result<()> {
        if self.batch.is_empty() {
            self.batch.records = 0;
            return Ok(());
        }
        let batch = std::mem::take(&mut self.batch);
        let permit = Arc::new(
            self.batches
                .clone()
                .acquire_owned()
                .await
                .map_err(|e| anyhow!("writer closed: {e}"))?,
        );
        self.batches_flushed += 1;
        let written = (!self.lenient).then_some(&mut self.written);
        let units = self.shared.units(
            &batch,
            self.batches_flushed,
            &permit,
            written,
            &mut self.encoded,
        );
        drop(batch);
        let scheduler = self
            .scheduler
            .get_or_insert_with(|| Scheduler::start(self.shared.clone()));
        if !scheduler.submit(units)
            && let Some(stopped) = self.scheduler.take()
        {
            // It stopped on a write error: report that error.
            stopped.close().await?;
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
            encode::value(&mut buf, &bolt::Value::DateTime(cutoff), shared.format);
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

/// One query ready to send: a chunk of one bucket, its statement and its encoded parameter map.
struct Prepared {
    /// `Label` or `TYPE`, for counters and error messages.
    name: Arc<str>,
    statement: Arc<str>,
    payload: Bytes,
    rows: usize,
    idempotent: bool,
}

/// One bucket's rows, encoded back to back, with the node identities each row locks.
#[derive(Default)]
struct Encoded {
    bytes: BytesMut,
    /// Start of each row in `bytes`.
    starts: Vec<usize>,
    /// Identities per row: `width` each.
    ids: Vec<u64>,
    width: usize,
}

impl Encoded {
    fn clear(&mut self) {
        self.bytes.clear();
        self.starts.clear();
        self.ids.clear();
    }

    fn push_row(&mut self, start: usize, ids: &[u64]) {
        self.starts.push(start);
        self.width = ids.len();
        self.ids.extend_from_slice(ids);
    }

    fn len(&self) -> usize {
        self.starts.len()
    }

    fn range(&self, r: std::ops::Range<usize>) -> &[u8] {
        let end = self.starts.get(r.end).copied().unwrap_or(self.bytes.len());
        &self.bytes[self.starts[r.start]..end]
    }

    fn footprint(&self, r: std::ops::Range<usize>) -> &[u64] {
        &self.ids[r.start * self.width..r.end * self.width]
    }
}

/// Node rows this run has sent, by identity: a hash of the statement and the encoded row. A node row identical
/// to the one last sent for that node (a hub such as a country, re-sent by every batch with the same cached
/// timestamp) would `SET` the same values again, so it is left out; the scheduler still orders every later
/// relationship after the unit that wrote it. Not used in lenient mode, where a failed write does not stop the
/// run; cleared at each TTL and when it grows past [`Written::LIMIT`] entries.
#[derive(Default)]
struct Written {
    rows: hashbrown::HashMap<u64, u64, foldhash::fast::FixedState>,
}

impl Written {
    const LIMIT: usize = 1 << 20;

    /// Whether the row must be sent (and remembers it).
    fn fresh(&mut self, id: u64, row_hash: u64) -> bool {
        if self.rows.len() >= Self::LIMIT {
            self.rows.clear();
        }
        self.rows.insert(id, row_hash) != Some(row_hash)
    }
}

/// Node or relationship unit (for the counters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Node,
    Rel,
}

/// A query and the nodes it locks; the scheduler runs units whose footprints are disjoint at once.
struct Unit {
    prepared: Prepared,
    kind: Kind,
    /// Node identities written or locked, sorted and de-duplicated.
    footprint: Vec<u64>,
    /// Held until the last unit of the batch is done.
    _batch: Arc<OwnedSemaphorePermit>,
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
        let started = std::time::Instant::now();
        let out = self
            .retry
            .run(self.db.as_ref(), text, params, idempotent, &|_| {
                progress.retries.fetch_add(1, Ordering::Relaxed);
            })
            .await;
        if let Some(i) = self.instruments.get() {
            i.record(started);
            if let Ok(o) = &out {
                i.absorb(&o.counters);
            }
        }
        out
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

    /// Encodes a batch into units: each bucket cut into chunks of `chunk_size` rows, one query per chunk (the
    /// APOC envelope around it, or a plain `UNWIND`), node buckets first. Chunks of one bucket run one after
    /// the other when `execute_chunks_in_parallel` is false. Node rows this run already sent unchanged are left
    /// out (see [`Written`]).
    fn units(
        &self,
        batch: &Batch,
        batch_seq: u64,
        permit: &Arc<OwnedSemaphorePermit>,
        mut written: Option<&mut Written>,
        rows: &mut Encoded,
    ) -> Vec<Unit> {
        // Sequential chunks: one pseudo-identity shared by the chunks of a bucket (a collision with a node would
        // only order two units).
        let serial = |bucket: usize, rows: &Encoded| {
            (!self.opts.execute_chunks_in_parallel && rows.len() > self.opts.chunk_size.max(1))
                .then(|| buckets::IDENTITY.hash_one(("sequential chunks", batch_seq, bucket)))
        };
        let fia = self.opts.set_first_ingested_at;
        let use_apoc = self.opts.use_apoc;
        let mut units = Vec::new();
        for (i, b) in batch.nodes.iter().enumerate() {
            let stmt = cypher::node_statement(&b.shape.spec(), fia, use_apoc);
            let stmt_hash = buckets::IDENTITY.hash_one(&stmt);
            rows.clear();
            for r in 0..b.len() {
                let start = rows.bytes.len();
                b.encode_row(r, &mut rows.bytes, self.format);
                let id = b.id(r);
                if let Some(w) = written.as_deref_mut() {
                    let row_hash = buckets::IDENTITY.hash_one((stmt_hash, &rows.bytes[start..]));
                    if !w.fresh(id, row_hash) {
                        rows.bytes.truncate(start);
                        continue;
                    }
                }
                rows.push_row(start, &[id]);
            }
            // Rows left out count as upserted, as Python counts every row it sends.
            let skipped = b.len() - rows.len();
            if skipped > 0 {
                self.progress
                    .nodes_upserted
                    .fetch_add(skipped as u64, Ordering::Relaxed);
                Progress::count_type(&self.progress.nodes_by_type, &b.shape.label, skipped);
            }
            self.chunk(
                &mut units,
                Kind::Node,
                &b.shape.label,
                stmt,
                rows,
                true,
                serial(i, rows),
                permit,
            );
        }
        for (i, b) in batch.rels.iter().enumerate() {
            let stmt = cypher::relationship_statement(&b.shape.spec(), fia);
            let idempotent = b.shape.rule == crate::model::RelationshipCreationRule::Eager;
            rows.clear();
            for r in 0..b.len() {
                let start = rows.bytes.len();
                b.encode_row(r, &mut rows.bytes, self.format);
                rows.push_row(start, &b.ends(r));
            }
            let bucket = batch.nodes.len() + i;
            let name = &b.shape.rel_type;
            self.chunk(
                &mut units,
                Kind::Rel,
                name,
                stmt,
                rows,
                idempotent,
                serial(bucket, rows),
                permit,
            );
        }
        units
    }

    /// Cuts one bucket's encoded rows into units of `chunk_size` rows.
    #[allow(clippy::too_many_arguments)]
    fn chunk(
        &self,
        units: &mut Vec<Unit>,
        kind: Kind,
        name: &str,
        statement: String,
        rows: &Encoded,
        idempotent: bool,
        serial: Option<u64>,
        permit: &Arc<OwnedSemaphorePermit>,
    ) {
        let n = rows.len();
        if n == 0 {
            return;
        }
        let chunk = self.opts.chunk_size.max(1);
        let name: Arc<str> = Arc::from(name);
        let statement: Arc<str> = if self.opts.use_apoc {
            Arc::from(statement)
        } else {
            Arc::from(format!("{}{statement}", cypher::PLAIN_UNWIND_PREFIX))
        };
        let mut start = 0;
        while start < n {
            let end = (start + chunk).min(n);
            let body = rows.range(start..end);
            let mut buf = BytesMut::with_capacity(body.len() + statement.len() + 320);
            if self.opts.use_apoc {
                encode::map_header(&mut buf, 6);
                encode::string(&mut buf, "iterate_params");
                encode::map_header(&mut buf, 1);
                encode::string(&mut buf, "batched_parameter_sets");
                encode::list_header(&mut buf, end - start);
                buf.extend_from_slice(body);
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
            } else {
                encode::map_header(&mut buf, 1);
                encode::string(&mut buf, "rows");
                encode::list_header(&mut buf, end - start);
                buf.extend_from_slice(body);
            }
            let mut footprint = rows.footprint(start..end).to_vec();
            footprint.extend(serial);
            footprint.sort_unstable();
            footprint.dedup();
            units.push(Unit {
                prepared: Prepared {
                    name: name.clone(),
                    statement: statement.clone(),
                    payload: buf.freeze(),
                    rows: end - start,
                    idempotent,
                },
                kind,
                footprint,
                _batch: permit.clone(),
            });
            start = end;
        }
    }

    /// Adds a written unit to the counters.
    fn count_written(&self, unit: &Unit) {
        let p = &unit.prepared;
        let (total, by_type) = match unit.kind {
            Kind::Node => (&self.progress.nodes_upserted, &self.progress.nodes_by_type),
            Kind::Rel => (
                &self.progress.relationships_upserted,
                &self.progress.relationships_by_type,
            ),
        };
        total.fetch_add(p.rows as u64, Ordering::Relaxed);
        Progress::count_type(by_type, &p.name, p.rows);
    }

    /// Sends one unit. Database-side failures are reported and counted, not returned; only a query that cannot
    /// be run at all (after retries) is an error.
    async fn send(&self, p: &Prepared) -> anyhow::Result<()> {
        self.log_statement(&p.statement);
        if self.opts.use_apoc {
            let mut replays = 0;
            loop {
                let out = self
                    .query(cypher::APOC_COMMIT_QUERY, &p.payload, p.idempotent)
                    .await
                    .map_err(|e| self.query_error(p, e))?;
                let summary = ApocSummary::from_output(&out);
                add(&self.progress.retries, summary.retries);
                self.progress.absorb(&summary);
                // Deadlocks with other writers: replaying a MERGE unit is harmless and usually works.
                if summary.has_failures()
                    && summary.lock_contention()
                    && p.idempotent
                    && replays < self.retry.max_attempts.max(5)
                {
                    replays += 1;
                    self.progress.retries.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        shape = %p.name,
                        error = summary.error_messages.first().map(|(m, _)| m.as_str()).unwrap_or(""),
                        "lock contention inside APOC batches; replaying the chunk"
                    );
                    tokio::time::sleep(std::time::Duration::from_millis(200 * replays as u64))
                        .await;
                    continue;
                }
                self.report_failures(&summary, &format!("{} ({})", p.name, p.statement));
                return Ok(());
            }
        }
        match self.query(&p.statement, &p.payload, p.idempotent).await {
            Ok(_) => Ok(()),
            // A refused row (a map property, a constraint) fails its chunk; like an APOC failed batch.
            Err(e)
                if e.code
                    .as_deref()
                    .is_some_and(|c| c.starts_with("Neo.ClientError.")) =>
            {
                self.report_failures(
                    &ApocSummary {
                        failed_batches: 1,
                        failed_operations: p.rows as i64,
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

pub mod bolt_db;

#[cfg(test)]
mod tests;

#[cfg(test)]
mod db_tests;
