//! The source side of `copy`: histogram, shard planning and concurrent shard reads (spec §7.2).

use super::mapping::Mapper;
use super::options::{Distribution, RetrieverOptions};
use super::query::{Filters, IdFunction};
use crate::model::DesiredIngestion;
use crate::writer::options::TargetOptions;
use anyhow::{Context, anyhow};
use bolt::Value;
use bolt::packstream::{Encode, encode};
use bytes::{Bytes, BytesMut};
use indexmap::IndexMap;
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::{Mutex, OwnedSemaphorePermit, Semaphore, mpsc};
use tokio::task::JoinSet;

/// At most this many count queries at once (Python's `MAX_HISTOGRAM_CONCURRENCY`).
const MAX_HISTOGRAM_CONCURRENCY: usize = 20;
/// Round-robin keeps at most this many id streams (one connection each) open at once.
const ROUND_ROBIN_WINDOW: usize = 8;

/// Node or relationship.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// A node label.
    Node,
    /// A relationship type.
    Relationship,
}

/// Counts per type, in schema order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Histogram {
    /// Node label → count.
    pub nodes: IndexMap<String, i64>,
    /// Relationship type → count.
    pub relationships: IndexMap<String, i64>,
}

impl Histogram {
    /// Python's `TypeHistogram.log` lines: counts in descending order, then totals.
    pub fn lines(&self) -> Vec<String> {
        fn sorted(m: &IndexMap<String, i64>) -> Vec<(&String, &i64)> {
            let mut v: Vec<(&String, &i64)> = m.iter().collect();
            v.sort_by(|a, b| b.1.cmp(a.1));
            v
        }
        let mut out = vec!["Node type histogram (descending):".to_string()];
        out.extend(
            sorted(&self.nodes)
                .into_iter()
                .map(|(t, n)| format!("  {t}: {n}")),
        );
        out.push("Relationship type histogram (descending):".into());
        out.extend(
            sorted(&self.relationships)
                .into_iter()
                .map(|(t, n)| format!("  {t}: {n}")),
        );
        out.push(format!(
            "Total nodes: {}, Total relationships: {}",
            self.nodes.values().sum::<i64>(),
            self.relationships.values().sum::<i64>()
        ));
        out
    }
}

/// A type to copy, with its index in the progress table.
#[derive(Debug, Clone)]
pub struct TypeJob {
    /// Node or relationship.
    pub kind: Kind,
    /// Label or type.
    pub name: String,
    /// Index into the run's type list (progress counters).
    pub index: usize,
}

/// One shard: the identities of at most `shard_size` records of one type, encoded once as the query's
/// parameter map `{ids: [...]}` (compact, and a retried read reuses it as is).
#[derive(Debug)]
pub struct Shard {
    /// The type.
    pub job: Arc<TypeJob>,
    /// The PackStream map `{ids: [element ids (or ids on 4.x)]}`.
    pub params: Bytes,
    /// How many ids.
    pub len: usize,
}

impl Shard {
    /// A shard of `len` ids whose PackStream encodings are concatenated in `body`.
    pub fn new(job: Arc<TypeJob>, body: &[u8], len: usize) -> Shard {
        let mut buf = BytesMut::with_capacity(body.len() + 16);
        encode::map_header(&mut buf, 1);
        encode::string(&mut buf, "ids");
        encode::list_header(&mut buf, len);
        buf.extend_from_slice(body);
        Shard {
            job,
            params: buf.freeze(),
            len,
        }
    }
}

/// The bounded buffer between the readers and the writer, counted in source rows (one record per row, except a
/// relationship type with several schema adjacencies that match the same endpoints).
///
/// A reader reserves a page of rows from the outbox *before* pulling the page from the server, and the permits
/// travel with the page's records until the main task has handed them to the writer. So at most
/// `--step-outbox-size` rows, decoded or mapped, exist outside the writer at any time, whatever the shard size.
#[derive(Clone)]
pub struct Outbox {
    permits: Arc<Semaphore>,
    page: usize,
}

/// Rows pulled per page at most (a `PULL n` round trip per page; larger pages buy little).
const MAX_PAGE: usize = 1000;

impl Outbox {
    /// An outbox of `rows` rows shared by `readers` readers of shards of `shard_size`.
    pub fn new(rows: usize, readers: usize, shard_size: usize) -> Outbox {
        let capacity = rows.clamp(1, u32::MAX as usize);
        // Every reader can hold a page at once, so none waits for another's page to drain.
        let page = (capacity / readers.max(1)).clamp(1, MAX_PAGE.min(shard_size.max(1)));
        Outbox {
            permits: Arc::new(Semaphore::new(capacity)),
            page,
        }
    }

    /// Rows per page.
    pub fn page(&self) -> usize {
        self.page
    }

    async fn reserve(&self) -> anyhow::Result<OwnedSemaphorePermit> {
        // `page` ≤ capacity ≤ u32::MAX (see `new`), so this cannot wait forever nor truncate.
        self.permits
            .clone()
            .acquire_many_owned(self.page as u32)
            .await
            .map_err(|_| anyhow!("copy outbox closed"))
    }
}

/// Mapped records of one page of a shard, holding their share of the [`Outbox`] until dropped.
pub struct Chunk {
    /// Index of the type in the run's type list.
    pub type_index: usize,
    /// Source rows read, for the counters (rows re-read after a retried shard read are not counted again).
    pub rows: usize,
    /// Records for the counters (same rule).
    pub counted: usize,
    /// The ingestions (nodes, or relationships with both endpoints).
    pub records: Vec<DesiredIngestion>,
    /// The page's outbox reservation; dropping it frees room for the readers.
    pub permit: OwnedSemaphorePermit,
}

/// Attempts to read one shard when the source connection fails in the middle of it.
const SHARD_READ_ATTEMPTS: u32 = 3;

/// A connected source target.
#[derive(Clone)]
pub struct Source {
    /// The shared Bolt adapter (the same as the writer's and the migrator's).
    db: crate::writer::bolt_db::BoltDatabase,
    filters: Filters,
    cutoff: Value,
}

impl Source {
    /// Connects to the source target; `now` is the run's snapshot time (seconds since the epoch, UTC).
    pub async fn connect(
        target: &str,
        opts: &TargetOptions,
        retriever: &RetrieverOptions,
        now: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<Source> {
        let db = crate::writer::bolt_db::BoltDatabase::connect(opts)
            .await
            .with_context(|| format!("source target '{target}': cannot connect to {}", opts.uri))?;
        let id_fn = if db.driver().protocol_version().0 >= 5 {
            IdFunction::ElementId
        } else {
            IdFunction::Id
        };
        let cutoff = match retriever.latest_hours {
            Some(h) => now - chrono::Duration::milliseconds((h * 3_600_000.0) as i64),
            None => now,
        };
        Ok(Source {
            db,
            filters: Filters {
                sample_ratio: retriever.sample_ratio,
                latest: retriever.latest_hours.is_some(),
                id_fn,
            },
            cutoff: Value::DateTime(bolt::value::DateTime {
                seconds: cutoff.timestamp(),
                nanoseconds: i64::from(cutoff.timestamp_subsec_nanos()),
                tz_offset_seconds: 0,
            }),
        })
    }

    fn query(&self, text: String) -> bolt::Query {
        bolt::Query::new(text)
            .database(self.db.database())
            .param("cutoff", self.cutoff.clone())
            .read()
    }

    async fn count(&self, text: String) -> anyhow::Result<i64> {
        let r = self
            .db
            .driver()
            .run(self.query(text.clone()))
            .await
            .with_context(|| format!("source count query failed: {}", text.trim_end()))?;
        Ok(r.single("count").and_then(Value::as_int).unwrap_or(0))
    }

    /// Counts every node and relationship type of the schema, at most 20 queries at once.
    pub async fn histogram(&self, mapper: &Mapper) -> anyhow::Result<Histogram> {
        let schema = mapper.schema();
        let sem = Arc::new(Semaphore::new(MAX_HISTOGRAM_CONCURRENCY));
        let mut set = JoinSet::new();
        let items: Vec<(Kind, String)> = schema
            .nodes
            .keys()
            .map(|n| (Kind::Node, n.clone()))
            .chain(
                schema
                    .relationships
                    .keys()
                    .map(|r| (Kind::Relationship, r.clone())),
            )
            .collect();
        for (i, (kind, name)) in items.iter().enumerate() {
            let text = match kind {
                Kind::Node => self.filters.count_nodes(name),
                Kind::Relationship => self.filters.count_relationships(name),
            };
            let this = self.clone();
            let sem = sem.clone();
            set.spawn(async move {
                let _permit = sem.acquire_owned().await;
                (i, this.count(text).await)
            });
        }
        let mut counts = vec![0i64; items.len()];
        while let Some(joined) = set.join_next().await {
            let (i, r) = joined.map_err(|e| anyhow!("count task failed: {e}"))?;
            counts[i] = r?;
        }
        let mut h = Histogram::default();
        for ((kind, name), n) in items.into_iter().zip(counts) {
            match kind {
                Kind::Node => h.nodes.insert(name, n),
                Kind::Relationship => h.relationships.insert(name, n),
            };
        }
        Ok(h)
    }

    async fn open_ids(&self, job: &TypeJob) -> anyhow::Result<bolt::RowStream> {
        let text = match job.kind {
            Kind::Node => self.filters.node_ids(&job.name),
            Kind::Relationship => self.filters.relationship_ids(&job.name),
        };
        self.db
            .driver()
            .stream(self.query(text), 10_000)
            .await
            .with_context(|| format!("source: cannot list the records of '{}'", job.name))
    }

    /// Plans shards: streams the ids of each type in `groups` (in order; round-robin within a group) and sends
    /// shards of `shard_size` ids. Returns when every id was sent or the receiver is gone.
    pub async fn plan(
        &self,
        groups: Vec<Vec<Arc<TypeJob>>>,
        opts: &RetrieverOptions,
        tx: mpsc::Sender<Shard>,
    ) -> anyhow::Result<()> {
        let size = opts.shard_size;
        let window = match opts.distribution {
            Distribution::Sequential => 1,
            Distribution::RoundRobin => ROUND_ROBIN_WINDOW,
        };
        for group in groups {
            let mut pending: VecDeque<Arc<TypeJob>> = group.into();
            let mut active: VecDeque<(Arc<TypeJob>, bolt::RowStream)> = VecDeque::new();
            loop {
                while active.len() < window
                    && let Some(job) = pending.pop_front()
                {
                    let stream = self.open_ids(&job).await?;
                    active.push_back((job, stream));
                }
                let Some((job, mut stream)) = active.pop_front() else {
                    break;
                };
                // Sequential: one type's shards back to back; round-robin: one shard, then the next type.
                let per_turn = if window == 1 { usize::MAX } else { 1 };
                let mut ended = false;
                for _ in 0..per_turn {
                    // Ids are encoded as they arrive: no `Value` list is kept per shard.
                    let mut body = BytesMut::new();
                    let mut len = 0;
                    while len < size {
                        match stream.next().await {
                            Some(Ok(mut row)) => {
                                if let Some(v) = row.pop() {
                                    v.encode(&mut body);
                                    len += 1;
                                }
                            }
                            Some(Err(e)) => {
                                return Err(anyhow::Error::new(e).context(format!(
                                    "source: listing the records of '{}' failed",
                                    job.name
                                )));
                            }
                            None => {
                                ended = true;
                                break;
                            }
                        }
                    }
                    if len > 0 && tx.send(Shard::new(job.clone(), &body, len)).await.is_err() {
                        return Ok(());
                    }
                    if ended {
                        break;
                    }
                }
                if !ended {
                    active.push_back((job, stream));
                }
            }
        }
        Ok(())
    }

    /// Reads one shard page by page (each page reserved in `outbox` first), maps its rows and sends the records
    /// to `out`. Returns false when the receiver is gone. A source failure in the middle of the shard that is
    /// worth retrying re-reads the whole shard: its records are MERGEd again (harmless), but counted once.
    pub async fn read_shard(
        &self,
        shard: &Shard,
        mapper: &Mapper,
        outbox: &Outbox,
        out: &mpsc::UnboundedSender<Chunk>,
    ) -> anyhow::Result<bool> {
        let job = &shard.job;
        let text = match job.kind {
            Kind::Node => self.filters.node_shard(),
            Kind::Relationship => self.filters.relationship_shard(),
        };
        let text: Arc<str> = text.into();
        // Rows and records counted so far for this shard, across attempts.
        let (mut counted_rows, mut counted_records) = (0usize, 0usize);
        let mut attempt = 1;
        'attempt: loop {
            let q = bolt::Query::new(text.clone())
                .database(self.db.database())
                .encoded_params(shard.params.clone())
                .read();
            let mut stream = self
                .db
                .driver()
                .stream(q, outbox.page() as i64)
                .await
                .with_context(|| format!("source: reading a shard of '{}' failed", job.name))?;
            let (mut seen_rows, mut seen_records) = (0usize, 0usize);
            loop {
                let permit = outbox.reserve().await?;
                let mut records = Vec::with_capacity(outbox.page().min(shard.len));
                let mut rows = 0;
                let mut ended = false;
                while rows < outbox.page() {
                    match stream.next().await {
                        Some(Ok(row)) => {
                            rows += 1;
                            map_row(job, row, mapper, &mut records);
                        }
                        Some(Err(e)) if e.is_retryable() && attempt < SHARD_READ_ATTEMPTS => {
                            tracing::warn!(
                                "source: reading a shard of '{}' failed ({e}); reading it again",
                                job.name
                            );
                            attempt += 1;
                            tokio::time::sleep(std::time::Duration::from_millis(
                                500 * u64::from(attempt),
                            ))
                            .await;
                            continue 'attempt;
                        }
                        Some(Err(e)) => {
                            return Err(anyhow::Error::new(e).context(format!(
                                "source: reading a shard of '{}' failed",
                                job.name
                            )));
                        }
                        None => {
                            ended = true;
                            break;
                        }
                    }
                }
                seen_rows += rows;
                seen_records += records.len();
                let chunk = Chunk {
                    type_index: job.index,
                    rows: seen_rows.saturating_sub(counted_rows),
                    counted: seen_records.saturating_sub(counted_records),
                    records,
                    permit,
                };
                counted_rows = counted_rows.max(seen_rows);
                counted_records = counted_records.max(seen_records);
                if out.send(chunk).is_err() {
                    return Ok(false);
                }
                if ended {
                    return Ok(true);
                }
            }
        }
    }

    /// Runs `workers` shard readers until the shard channel closes; mapped pages go to `out`.
    pub fn spawn_readers(
        &self,
        set: &mut JoinSet<anyhow::Result<()>>,
        workers: usize,
        shards: mpsc::Receiver<Shard>,
        mapper: Arc<Mapper>,
        (outbox, out): (Outbox, mpsc::UnboundedSender<Chunk>),
        active: Arc<std::sync::atomic::AtomicI64>,
    ) {
        let shards = Arc::new(Mutex::new(shards));
        for _ in 0..workers.max(1) {
            let this = self.clone();
            let shards = shards.clone();
            let mapper = mapper.clone();
            let outbox = outbox.clone();
            let out = out.clone();
            let active = active.clone();
            set.spawn(async move {
                loop {
                    let next = shards.lock().await.recv().await;
                    let Some(shard) = next else {
                        return Ok(());
                    };
                    active.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let r = this.read_shard(&shard, &mapper, &outbox, &out).await;
                    active.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                    if !r? {
                        return Ok(());
                    }
                }
            });
        }
    }
}

/// Maps one source row of a shard of `job` into `out`.
fn map_row(job: &TypeJob, row: Vec<Value>, mapper: &Mapper, out: &mut Vec<DesiredIngestion>) {
    let mut it = row.into_iter();
    match job.kind {
        Kind::Node => {
            if let Some(Value::Node(n)) = it.next()
                && let Some(i) = mapper.node_ingestion(*n, &job.name)
            {
                out.push(i);
            }
        }
        Kind::Relationship => {
            if let (Some(Value::Node(a)), Some(Value::Relationship(r)), Some(Value::Node(b))) =
                (it.next(), it.next(), it.next())
            {
                mapper.relationship_ingestions(*a, *r, *b, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bolt::packstream::Encode;

    #[test]
    fn shard_params_are_the_ids_map() {
        let job = Arc::new(TypeJob {
            kind: Kind::Node,
            name: "Person".into(),
            index: 0,
        });
        let ids: Vec<Value> = (0..20).map(|i| Value::String(format!("4:x:{i}"))).collect();
        let mut body = BytesMut::new();
        for v in &ids {
            v.encode(&mut body);
        }
        let shard = Shard::new(job, &body, ids.len());
        let mut expected = BytesMut::new();
        let mut m = bolt::Map::new();
        m.insert("ids".into(), Value::List(ids));
        Value::Map(m).encode(&mut expected);
        assert_eq!(shard.params, expected.freeze());
        assert_eq!(shard.len, 20);
    }

    #[test]
    fn outbox_pages_share_the_bound() {
        assert_eq!(Outbox::new(10_000, 4, 10_000).page(), 1000);
        assert_eq!(Outbox::new(10_000, 4, 300).page(), 300);
        assert_eq!(Outbox::new(10, 4, 10_000).page(), 2);
        assert_eq!(Outbox::new(1, 4, 10_000).page(), 1);
        assert_eq!(Outbox::new(0, 0, 0).page(), 1);
    }

    #[tokio::test]
    async fn readers_wait_until_the_writer_took_a_page() {
        // 5 rows for 2 readers: pages of 2 rows, so the third page waits for a page to be released.
        let o = Outbox::new(5, 2, 100);
        let a = o.reserve().await.unwrap();
        let _b = o.reserve().await.unwrap();
        let third = tokio::time::timeout(std::time::Duration::from_millis(50), o.reserve()).await;
        assert!(third.is_err(), "a third page fit in an outbox of 5 rows");
        drop(a);
        let third = tokio::time::timeout(std::time::Duration::from_millis(500), o.reserve()).await;
        assert!(matches!(third, Ok(Ok(_))));
    }
}
