//! The source side of `copy`: histogram, shard planning and concurrent shard reads (spec §7.2).

use super::mapping::Mapper;
use super::options::{Distribution, RetrieverOptions};
use super::query::{Filters, IdFunction};
use crate::model::DesiredIngestion;
use crate::writer::options::TargetOptions;
use anyhow::{Context, anyhow};
use bolt::Value;
use indexmap::IndexMap;
use std::collections::VecDeque;
use std::sync::Arc;
use tokio::sync::{Mutex, Semaphore, mpsc};
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

/// One shard: the identities of at most `shard_size` records of one type.
#[derive(Debug)]
pub struct Shard {
    /// The type.
    pub job: Arc<TypeJob>,
    /// Element ids (or ids on 4.x).
    pub ids: Vec<Value>,
}

/// Mapped records of one shard.
pub struct ShardRecords {
    /// Index of the type in the run's type list.
    pub type_index: usize,
    /// Source rows read.
    pub rows: usize,
    /// The ingestions (nodes, or relationships with both endpoints).
    pub records: Vec<DesiredIngestion>,
}

/// A connected source target.
#[derive(Clone)]
pub struct Source {
    driver: bolt::Driver,
    database: String,
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
        let driver = bolt::Driver::connect(opts.bolt_config())
            .await
            .with_context(|| format!("source target '{target}': cannot connect to {}", opts.uri))?;
        let id_fn = if driver.protocol_version().0 >= 5 {
            IdFunction::ElementId
        } else {
            IdFunction::Id
        };
        let cutoff = match retriever.latest_hours {
            Some(h) => now - chrono::Duration::milliseconds((h * 3_600_000.0) as i64),
            None => now,
        };
        Ok(Source {
            driver,
            database: opts.database_name.clone(),
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
            .database(self.database.clone())
            .param("cutoff", self.cutoff.clone())
            .read()
    }

    async fn count(&self, text: String) -> anyhow::Result<i64> {
        let r = self
            .driver
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
        self.driver
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
                    let mut ids = Vec::with_capacity(size.min(100_000));
                    while ids.len() < size {
                        match stream.next().await {
                            Some(Ok(mut row)) => {
                                if let Some(v) = row.pop() {
                                    ids.push(v);
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
                    if !ids.is_empty()
                        && tx
                            .send(Shard {
                                job: job.clone(),
                                ids,
                            })
                            .await
                            .is_err()
                    {
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

    /// Reads one shard and maps its rows.
    pub async fn read_shard(&self, shard: Shard, mapper: &Mapper) -> anyhow::Result<ShardRecords> {
        let job = shard.job;
        let text = match job.kind {
            Kind::Node => self.filters.node_shard(),
            Kind::Relationship => self.filters.relationship_shard(),
        };
        let q = bolt::Query::new(text)
            .database(self.database.clone())
            .param("ids", Value::List(shard.ids))
            .read();
        let result = self
            .driver
            .run(q)
            .await
            .with_context(|| format!("source: reading a shard of '{}' failed", job.name))?;
        let rows = result.rows.len();
        let mut records = Vec::with_capacity(rows);
        for row in result.rows {
            let mut it = row.into_iter();
            match job.kind {
                Kind::Node => {
                    if let Some(Value::Node(n)) = it.next()
                        && let Some(i) = mapper.node_ingestion(*n, &job.name)
                    {
                        records.push(i);
                    }
                }
                Kind::Relationship => {
                    if let (
                        Some(Value::Node(a)),
                        Some(Value::Relationship(r)),
                        Some(Value::Node(b)),
                    ) = (it.next(), it.next(), it.next())
                    {
                        mapper.relationship_ingestions(*a, *r, *b, &mut records);
                    }
                }
            }
        }
        Ok(ShardRecords {
            type_index: job.index,
            rows,
            records,
        })
    }

    /// Runs `workers` shard readers until the shard channel closes; mapped shards go to `out`.
    pub fn spawn_readers(
        &self,
        set: &mut JoinSet<anyhow::Result<()>>,
        workers: usize,
        shards: mpsc::Receiver<Shard>,
        mapper: Arc<Mapper>,
        out: mpsc::Sender<ShardRecords>,
        active: Arc<std::sync::atomic::AtomicI64>,
    ) {
        let shards = Arc::new(Mutex::new(shards));
        for _ in 0..workers.max(1) {
            let this = self.clone();
            let shards = shards.clone();
            let mapper = mapper.clone();
            let out = out.clone();
            let active = active.clone();
            set.spawn(async move {
                loop {
                    let next = shards.lock().await.recv().await;
                    let Some(shard) = next else {
                        return Ok(());
                    };
                    active.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    let r = this.read_shard(shard, &mapper).await;
                    active.fetch_sub(1, std::sync::atomic::Ordering::Relaxed);
                    if out.send(r?).await.is_err() {
                        return Ok(());
                    }
                }
            });
        }
    }
}
