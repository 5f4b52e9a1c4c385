//! From interpreted records to de-duplicated nodes and relationships, with bounded memory.
//!
//! Collection pushes every node write and relationship write into [`Sorter`]s. Nodes are then merged per
//! (label, sorted key name/value pairs), in record order, with the online writer's rules (`MERGE` + `SET +=`:
//! later values win, a null removes, additional labels add up; a `MATCH_ONLY` write counts only once
//! something creates the node) and numbered per label. Relationships are resolved against that sorted node
//! stream by two sort/merge joins (start node, then end node), then merged per (start, type, end, keys).

use super::files::{self, CsvFile};
use super::spill::{Merged, Sorter};
use crate::model::{
    DesiredIngestion, Ingestible, Node, NodeCreationRule, Properties, RelationshipCreationRule,
};
use bolt::Value;
use bolt::packstream::{Decoder, Encode};
use bytes::{Bytes, BytesMut};
use indexmap::IndexMap;
use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

/// Counters of a build, for the final table.
#[derive(Debug, Default, Clone)]
pub struct BuildStats {
    /// Ingestions received.
    pub records: u64,
    /// Records without a valid source identity (skipped, as `run` skips them).
    pub skipped_invalid_source: u64,
    /// TTL configurations (nothing to expire in a new store).
    pub ttl_skipped: u64,
    /// Node writes collected.
    pub node_writes: u64,
    /// Relationship writes collected.
    pub relationship_writes: u64,
    /// Nodes only ever matched (MATCH_ONLY) that nothing created: dropped.
    pub match_only_nodes_dropped: u64,
    /// Relationship writes whose start or end node does not exist: dropped.
    pub relationships_dropped: u64,
    /// Nodes per label.
    pub nodes_by_label: IndexMap<String, u64>,
    /// Relationships per type.
    pub relationships_by_type: IndexMap<String, u64>,
    /// Files written (header + data pairs).
    pub files: Vec<(PathBuf, PathBuf, bool)>,
}

/// An error of the build.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// Disk.
    #[error("import files: {0}")]
    Io(#[from] std::io::Error),
    /// A value the tool cannot store.
    #[error("{what} `{name}`: {err}")]
    Value {
        /// Which object.
        what: String,
        /// Property.
        name: String,
        /// Why.
        err: files::ValueError,
    },
    /// Something offline import cannot reproduce.
    #[error("{0}")]
    Unsupported(String),
    /// Our own spill data did not decode.
    #[error("corrupt spill data: {0}")]
    Corrupt(String),
}

fn put_str(buf: &mut Vec<u8>, s: &[u8]) {
    buf.extend_from_slice(&(s.len() as u32).to_be_bytes());
    buf.extend_from_slice(s);
}

/// A cursor over our own encodings.
struct Cur<'a> {
    b: &'a [u8],
    p: usize,
}

impl<'a> Cur<'a> {
    fn new(b: &'a [u8]) -> Self {
        Cur { b, p: 0 }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], BuildError> {
        let s = self
            .b
            .get(self.p..self.p + n)
            .ok_or_else(|| BuildError::Corrupt("truncated record".into()))?;
        self.p += n;
        Ok(s)
    }
    fn u32(&mut self) -> Result<u32, BuildError> {
        let s = self.take(4)?;
        Ok(u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
    }
    fn u64(&mut self) -> Result<u64, BuildError> {
        let s = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(s);
        Ok(u64::from_be_bytes(a))
    }
    fn u8(&mut self) -> Result<u8, BuildError> {
        Ok(self.take(1)?[0])
    }
    fn bytes(&mut self) -> Result<&'a [u8], BuildError> {
        let n = self.u32()? as usize;
        self.take(n)
    }
    fn string(&mut self) -> Result<String, BuildError> {
        String::from_utf8(self.bytes()?.to_vec()).map_err(|e| BuildError::Corrupt(e.to_string()))
    }
    /// A length-prefixed PackStream map.
    fn map(&mut self) -> Result<IndexMap<String, Value>, BuildError> {
        let b = self.bytes()?;
        let mut d = Decoder::new(Bytes::copy_from_slice(b));
        d.map().map_err(|e| BuildError::Corrupt(e.to_string()))
    }
}

fn put_map<K: AsRef<str>>(buf: &mut Vec<u8>, scratch: &mut BytesMut, m: &IndexMap<K, Value>) {
    scratch.clear();
    bolt::packstream::encode::map_header(scratch, m.len());
    for (k, v) in m {
        bolt::packstream::encode::string(scratch, k.as_ref());
        v.encode(scratch);
    }
    put_str(buf, scratch);
}

/// (label, key pairs sorted by name): equal bytes, equal node.
fn node_key(buf: &mut Vec<u8>, scratch: &mut BytesMut, label: &str, keys: &Properties) {
    put_str(buf, label.as_bytes());
    identity(buf, scratch, keys);
}

fn identity(buf: &mut Vec<u8>, scratch: &mut BytesMut, keys: &Properties) {
    let mut sorted: Vec<(&str, &Value)> = keys.iter().map(|(k, v)| (&**k, v)).collect();
    sorted.sort_by(|a, b| a.0.cmp(b.0));
    buf.extend_from_slice(&(sorted.len() as u32).to_be_bytes());
    for (k, v) in sorted {
        put_str(buf, k.as_bytes());
        scratch.clear();
        v.encode(scratch);
        put_str(buf, scratch);
    }
}

const EAGER: u8 = 0;
const MATCH: u8 = 1;
/// The batch slot of a MERGE relationship: it is one relationship across batches.
const ANY_BATCH: u64 = u64::MAX;

/// Collects the writes of every pipeline.
pub struct Collector {
    nodes: Sorter,
    rels: Sorter,
    spill: PathBuf,
    run_bytes: usize,
    seq: u64,
    batch: u64,
    in_batch: usize,
    batch_size: usize,
    scratch: BytesMut,
    key: Vec<u8>,
    val: Vec<u8>,
    /// Counters so far.
    pub stats: BuildStats,
}

impl Collector {
    /// A collector spilling into `spill` in runs of `run_bytes`.
    pub fn new(spill: &Path, run_bytes: usize) -> Collector {
        Collector {
            nodes: Sorter::new(spill, "nodes", run_bytes),
            rels: Sorter::new(spill, "rels0", run_bytes / 2),
            spill: spill.to_path_buf(),
            run_bytes,
            seq: 0,
            batch: 0,
            in_batch: 0,
            batch_size: 1000,
            scratch: BytesMut::with_capacity(256),
            key: Vec::with_capacity(256),
            val: Vec::with_capacity(1024),
            stats: BuildStats::default(),
        }
    }

    /// A new pipeline starts: its writer starts a new batch of `batch_size` records (the online writer's
    /// batches decide what `CREATE` relationships collapse and when a node was first created).
    pub fn start_pipeline(&mut self, batch_size: usize) {
        self.batch += 1;
        self.in_batch = 0;
        self.batch_size = batch_size.max(1);
    }

    /// Takes one item.
    pub fn add(&mut self, item: Ingestible) -> Result<(), BuildError> {
        match item {
            Ingestible::Ingestion(d) => {
                self.stats.records += 1;
                self.in_batch += 1;
                let r = self.ingestion(d);
                if self.in_batch >= self.batch_size {
                    self.batch += 1;
                    self.in_batch = 0;
                }
                r
            }
            Ingestible::TimeToLive(_) => {
                self.stats.ttl_skipped += 1;
                Ok(())
            }
            Ingestible::Flush => {
                if self.in_batch > 0 {
                    self.batch += 1;
                    self.in_batch = 0;
                }
                Ok(())
            }
        }
    }

    fn ingestion(&mut self, d: DesiredIngestion) -> Result<(), BuildError> {
        if !d.source.is_valid() {
            self.stats.skipped_invalid_source += 1;
            return Ok(());
        }
        self.node(&d.source, d.source_node_creation_rule)?;
        for r in &d.relationships {
            self.node(&r.from_node, r.from_side_node_creation_rule)?;
            self.node(&r.to_node, r.to_side_node_creation_rule)?;
            for n in [&r.from_node, &r.to_node] {
                if !n.is_valid() {
                    return Err(BuildError::Unsupported(format!(
                        "a relationship `{}` endpoint `{}` has no valid key (the online writer's MATCH fails on it)",
                        r.relationship.type_, n.type_
                    )));
                }
            }
            self.seq += 1;
            let sc = &mut self.scratch;
            self.key.clear();
            node_key(
                &mut self.key,
                sc,
                &r.from_node.type_,
                &r.from_node.key_values,
            );
            self.val.clear();
            let mut to = Vec::with_capacity(64);
            node_key(&mut to, sc, &r.to_node.type_, &r.to_node.key_values);
            put_str(&mut self.val, &to);
            put_str(&mut self.val, r.relationship.type_.as_bytes());
            let mut id = Vec::with_capacity(32);
            identity(&mut id, sc, &r.relationship.key_values);
            put_str(&mut self.val, &id);
            let slot = match r.relationship_creation_rule {
                RelationshipCreationRule::Eager => ANY_BATCH,
                RelationshipCreationRule::Create => self.batch,
            };
            self.val.extend_from_slice(&slot.to_be_bytes());
            self.val.extend_from_slice(&self.batch.to_be_bytes());
            self.val.extend_from_slice(&self.seq.to_be_bytes());
            put_map(&mut self.val, sc, &r.relationship.key_values);
            put_map(&mut self.val, sc, &r.relationship.properties);
            self.rels.push(&self.key, &self.val)?;
            self.stats.relationship_writes += 1;
        }
        Ok(())
    }

    fn node(&mut self, n: &Node, rule: NodeCreationRule) -> Result<(), BuildError> {
        let rule = match rule {
            NodeCreationRule::Eager => EAGER,
            NodeCreationRule::MatchOnly => MATCH,
            NodeCreationRule::Fuzzy => {
                return Err(BuildError::Unsupported(format!(
                    "node `{}` uses FUZZY matching (`=~` on its keys), which import cannot resolve offline; load it with `run`",
                    n.type_
                )));
            }
        };
        if !n.is_valid() {
            return Ok(());
        }
        let sc = &mut self.scratch;
        self.key.clear();
        node_key(&mut self.key, sc, &n.type_, &n.key_values);
        self.val.clear();
        self.val.push(rule);
        self.val.extend_from_slice(&self.batch.to_be_bytes());
        self.val
            .extend_from_slice(&(n.additional_types.len() as u32).to_be_bytes());
        for l in &n.additional_types {
            put_str(&mut self.val, l.as_bytes());
        }
        put_map(&mut self.val, sc, &n.key_values);
        put_map(&mut self.val, sc, &n.properties);
        self.nodes.push(&self.key, &self.val)?;
        self.stats.node_writes += 1;
        Ok(())
    }

    /// Merges everything and writes the import files into `out`.
    pub fn build(self, out: &Path, first_ingested_at: bool) -> Result<BuildStats, BuildError> {
        let Collector {
            nodes,
            rels,
            spill,
            run_bytes,
            mut stats,
            ..
        } = self;
        let mut scratch = BytesMut::new();
        // 1. Nodes: merge, number per label; the sorted (key → id) index and the merged rows go to files.
        let mut merged = nodes.finish()?;
        let index_path = spill.join("nodes.index");
        let rows_path = spill.join("nodes.rows");
        let mut index = BufWriter::with_capacity(1 << 18, File::create(&index_path)?);
        let mut rows = BufWriter::with_capacity(1 << 18, File::create(&rows_path)?);
        let mut labels: Vec<String> = Vec::new();
        let mut label_ids: hashbrown::HashMap<Vec<u8>, u32> = Default::default();
        let mut next_id: Vec<u64> = Vec::new();
        let mut node_schema: Vec<Schema> = Vec::new();
        let mut group: Vec<Vec<u8>> = Vec::new();
        let mut buf = Vec::new();
        while let Some((key, first)) = merged.next_record()? {
            group.clear();
            group.push(first);
            while merged.peek_key() == Some(key.as_slice()) {
                if let Some((_, v)) = merged.next_record()? {
                    group.push(v);
                }
            }
            let Some(node) = merge_node(&group, first_ingested_at)? else {
                stats.match_only_nodes_dropped += 1;
                continue;
            };
            let mut c = Cur::new(&key);
            let label_bytes = c.bytes()?;
            let space = match label_ids.get(label_bytes) {
                Some(&s) => s,
                None => {
                    let s = labels.len() as u32;
                    let label = String::from_utf8_lossy(label_bytes).into_owned();
                    labels.push(label);
                    label_ids.insert(label_bytes.to_vec(), s);
                    next_id.push(0);
                    node_schema.push(Schema::default());
                    s
                }
            };
            let id = next_id[space as usize];
            next_id[space as usize] += 1;
            *stats
                .nodes_by_label
                .entry(labels[space as usize].clone())
                .or_default() += 1;
            index.write_all(&(key.len() as u32).to_be_bytes())?;
            index.write_all(&key)?;
            index.write_all(&space.to_be_bytes())?;
            index.write_all(&id.to_be_bytes())?;
            node_schema[space as usize].see(&node.1, &labels[space as usize], "node")?;
            buf.clear();
            buf.extend_from_slice(&space.to_be_bytes());
            buf.extend_from_slice(&id.to_be_bytes());
            buf.extend_from_slice(&(node.0.len() as u32).to_be_bytes());
            for l in &node.0 {
                put_str(&mut buf, l.as_bytes());
            }
            put_map(&mut buf, &mut scratch, &node.1);
            rows.write_all(&(buf.len() as u32).to_be_bytes())?;
            rows.write_all(&buf)?;
        }
        drop(merged);
        index.flush()?;
        rows.flush()?;
        drop(index);
        drop(rows);

        // 2. Relationships: resolve the start node, then the end node, then merge duplicates.
        let r0 = rels.finish()?;
        let mut r1 = Sorter::new(&spill, "rels1", run_bytes / 2);
        join(r0, &index_path, &mut stats, |from, rest, _| {
            let mut c = Cur::new(rest);
            let to = c.bytes()?;
            let mut v = Vec::with_capacity(rest.len() + 12);
            v.extend_from_slice(&from.0.to_be_bytes());
            v.extend_from_slice(&from.1.to_be_bytes());
            v.extend_from_slice(&rest[c.p..]);
            r1.push(to, &v)?;
            Ok(())
        })?;
        let mut r2 = Sorter::new(&spill, "rels2", run_bytes / 2);
        let mut types: Vec<String> = Vec::new();
        let mut type_ids: hashbrown::HashMap<Vec<u8>, u32> = Default::default();
        join(r1.finish()?, &index_path, &mut stats, |to, rest, _| {
            let mut c = Cur::new(rest);
            let fs = c.u32()?;
            let fi = c.u64()?;
            let ty = c.bytes()?;
            let t = match type_ids.get(ty) {
                Some(&t) => t,
                None => {
                    let t = types.len() as u32;
                    types.push(String::from_utf8_lossy(ty).into_owned());
                    type_ids.insert(ty.to_vec(), t);
                    t
                }
            };
            let id = c.bytes()?;
            let slot = c.u64()?;
            let batch = c.u64()?;
            let seq = c.u64()?;
            let mut k = Vec::with_capacity(48 + id.len());
            k.extend_from_slice(&t.to_be_bytes());
            k.extend_from_slice(&fs.to_be_bytes());
            k.extend_from_slice(&fi.to_be_bytes());
            k.extend_from_slice(&to.0.to_be_bytes());
            k.extend_from_slice(&to.1.to_be_bytes());
            put_str(&mut k, id);
            k.extend_from_slice(&slot.to_be_bytes());
            k.extend_from_slice(&seq.to_be_bytes());
            let mut v = Vec::with_capacity(rest.len());
            v.extend_from_slice(&batch.to_be_bytes());
            v.extend_from_slice(&u64::from(slot == ANY_BATCH).to_be_bytes());
            v.extend_from_slice(&rest[c.p..]);
            r2.push(&k, &v)?;
            Ok(())
        })?;
        let mut merged = r2.finish()?;
        let rel_rows_path = spill.join("rels.rows");
        let mut rel_rows = BufWriter::with_capacity(1 << 18, File::create(&rel_rows_path)?);
        let mut rel_schema: Vec<Schema> = vec![Schema::default(); types.len()];
        while let Some((key, first)) = merged.next_record()? {
            let gk = key[..key.len() - 8].to_vec();
            group.clear();
            group.push(first);
            while merged
                .peek_key()
                .is_some_and(|k| k.len() == key.len() && k[..k.len() - 8] == gk[..])
            {
                if let Some((_, v)) = merged.next_record()? {
                    group.push(v);
                }
            }
            let props = merge_rel(&group, first_ingested_at)?;
            let t = u32::from_be_bytes([gk[0], gk[1], gk[2], gk[3]]);
            *stats
                .relationships_by_type
                .entry(types[t as usize].clone())
                .or_default() += 1;
            rel_schema[t as usize].see(&props, &types[t as usize], "relationship")?;
            buf.clear();
            buf.extend_from_slice(&gk[..28]);
            put_map(&mut buf, &mut scratch, &props);
            rel_rows.write_all(&(buf.len() as u32).to_be_bytes())?;
            rel_rows.write_all(&buf)?;
        }
        drop(merged);
        rel_rows.flush()?;
        drop(rel_rows);
        let _ = std::fs::remove_file(&index_path);

        // 3. The files, one pair per (label | type and endpoint labels, column types).
        std::fs::create_dir_all(out)?;
        let mut writers: IndexMap<FileKey, CsvFile> = IndexMap::new();
        for_each_row(&rows_path, |rec| {
            let mut c = Cur::new(rec);
            let space = c.u32()?;
            let id = c.u64()?;
            let n = c.u32()?;
            let mut all = vec![labels[space as usize].clone()];
            for _ in 0..n {
                all.push(c.string()?);
            }
            let props = c.map()?;
            let schema = &node_schema[space as usize];
            let sig = schema.signature(&props);
            let key = (0, space, 0, sig.clone());
            if !writers.contains_key(&key) {
                let mut header = vec![format!(":ID(s{space})"), ":LABEL".to_string()];
                header.extend(schema.header(&sig));
                let stem = format!("nodes-{}", writers.len());
                writers.insert(key.clone(), CsvFile::create(out, &stem, &header)?);
            }
            let w = writers
                .get_mut(&key)
                .ok_or_else(|| BuildError::Corrupt("writer".into()))?;
            let label_field = all.join(&files::ARRAY_DELIMITER.to_string());
            let id = id.to_string();
            let vals = schema.values(&props);
            w.row(&[&id, &label_field], &vals)
                .map_err(|e| row_error(e, &labels[space as usize]))?;
            Ok(())
        })?;
        let node_files = writers.len();
        for_each_row(&rel_rows_path, |rec| {
            let mut c = Cur::new(rec);
            let t = c.u32()?;
            let fs = c.u32()?;
            let fi = c.u64()?;
            let ts = c.u32()?;
            let ti = c.u64()?;
            let props = c.map()?;
            let schema = &rel_schema[t as usize];
            let sig = schema.signature(&props);
            let key = (1 + t, fs, ts, sig.clone());
            if !writers.contains_key(&key) {
                let mut header = vec![
                    format!(":START_ID(s{fs})"),
                    format!(":END_ID(s{ts})"),
                    ":TYPE".to_string(),
                ];
                header.extend(schema.header(&sig));
                let stem = format!("relationships-{}", writers.len() - node_files);
                writers.insert(key.clone(), CsvFile::create(out, &stem, &header)?);
            }
            let w = writers
                .get_mut(&key)
                .ok_or_else(|| BuildError::Corrupt("writer".into()))?;
            let vals = schema.values(&props);
            w.row(
                &[&fi.to_string(), &ti.to_string(), &types[t as usize]],
                &vals,
            )
            .map_err(|e| row_error(e, &types[t as usize]))?;
            Ok(())
        })?;
        for ((kind, ..), w) in writers {
            stats
                .files
                .push((w.header.clone(), w.data.clone(), kind == 0));
            w.finish()?;
        }
        let _ = std::fs::remove_file(&rows_path);
        let _ = std::fs::remove_file(&rel_rows_path);
        Ok(stats)
    }
}

/// Which file a row goes to: (0 for nodes | 1 + type, label or start label, end label, column-type signature).
type FileKey = (u32, u32, u32, Vec<Option<usize>>);

fn row_error(e: files::RowError, what: &str) -> BuildError {
    match e {
        files::RowError::Io(e) => BuildError::Io(e),
        files::RowError::Value(err) => BuildError::Value {
            what: what.to_string(),
            name: String::new(),
            err,
        },
    }
}

fn for_each_row(
    path: &Path,
    mut f: impl FnMut(&[u8]) -> Result<(), BuildError>,
) -> Result<(), BuildError> {
    let mut r = BufReader::with_capacity(1 << 18, File::open(path)?);
    let mut len = [0u8; 4];
    let mut buf = Vec::new();
    loop {
        match r.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e.into()),
        }
        buf.resize(u32::from_be_bytes(len) as usize, 0);
        r.read_exact(&mut buf)?;
        f(&buf)?;
    }
}

/// The sorted node index, read alongside a stream sorted by node key.
struct IndexReader {
    r: BufReader<File>,
    cur: Option<(Vec<u8>, u32, u64)>,
}

impl IndexReader {
    fn open(p: &Path) -> Result<IndexReader, BuildError> {
        let mut ir = IndexReader {
            r: BufReader::with_capacity(1 << 18, File::open(p)?),
            cur: None,
        };
        ir.advance()?;
        Ok(ir)
    }
    fn advance(&mut self) -> Result<(), BuildError> {
        let mut len = [0u8; 4];
        match self.r.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                self.cur = None;
                return Ok(());
            }
            Err(e) => return Err(e.into()),
        }
        let mut key = vec![0; u32::from_be_bytes(len) as usize];
        self.r.read_exact(&mut key)?;
        let mut s = [0u8; 4];
        self.r.read_exact(&mut s)?;
        let mut i = [0u8; 8];
        self.r.read_exact(&mut i)?;
        self.cur = Some((key, u32::from_be_bytes(s), u64::from_be_bytes(i)));
        Ok(())
    }
    /// The (space, id) of `key`; keys must come in ascending order.
    fn find(&mut self, key: &[u8]) -> Result<Option<(u32, u64)>, BuildError> {
        while let Some((k, s, i)) = &self.cur {
            match k.as_slice().cmp(key) {
                std::cmp::Ordering::Less => self.advance()?,
                std::cmp::Ordering::Equal => return Ok(Some((*s, *i))),
                std::cmp::Ordering::Greater => return Ok(None),
            }
        }
        Ok(None)
    }
}

/// Merge-joins a stream sorted by node key with the node index; unmatched records are dropped and counted.
fn join(
    mut stream: Merged,
    index: &Path,
    stats: &mut BuildStats,
    mut f: impl FnMut((u32, u64), &[u8], &[u8]) -> Result<(), BuildError>,
) -> Result<(), BuildError> {
    let mut ix = IndexReader::open(index)?;
    while let Some((key, val)) = stream.next_record()? {
        match ix.find(&key)? {
            Some(found) => f(found, &val, &key)?,
            None => stats.relationships_dropped += 1,
        }
    }
    Ok(())
}

struct NodeOp {
    rule: u8,
    batch: u64,
    labels: Vec<String>,
    keys: IndexMap<String, Value>,
    props: IndexMap<String, Value>,
}

fn node_op(v: &[u8]) -> Result<NodeOp, BuildError> {
    let mut c = Cur::new(v);
    let rule = c.u8()?;
    let batch = c.u64()?;
    let n = c.u32()?;
    let mut labels = Vec::with_capacity(n as usize);
    for _ in 0..n {
        labels.push(c.string()?);
    }
    Ok(NodeOp {
        rule,
        batch,
        labels,
        keys: c.map()?,
        props: c.map()?,
    })
}

/// One node's writes, in record order → (additional labels, properties), or None if nothing creates it.
#[allow(clippy::type_complexity)]
fn merge_node(
    group: &[Vec<u8>],
    first_ingested_at: bool,
) -> Result<Option<(Vec<String>, IndexMap<String, Value>)>, BuildError> {
    let ops: Vec<NodeOp> = group.iter().map(|v| node_op(v)).collect::<Result<_, _>>()?;
    let Some(created) = ops.iter().find(|o| o.rule == EAGER).map(|o| o.batch) else {
        return Ok(None);
    };
    let mut props = ops
        .iter()
        .find(|o| o.rule == EAGER)
        .map(|o| o.keys.clone())
        .unwrap_or_default();
    if first_ingested_at {
        // `ON CREATE SET first_ingested_at = <the creating row's last_ingested_at>`: that row is the batch's
        // merged row, so the last value in the creating batch.
        let v = ops
            .iter()
            .filter(|o| o.rule == EAGER && o.batch == created)
            .filter_map(|o| o.props.get("last_ingested_at"))
            .next_back()
            .cloned();
        if let Some(v) = v {
            props.insert("first_ingested_at".into(), v);
        }
    }
    let mut labels: Vec<String> = Vec::new();
    // A MATCH_ONLY write of an earlier batch found nothing online: skip it.
    for o in ops
        .into_iter()
        .filter(|o| o.rule == EAGER || o.batch >= created)
    {
        for l in o.labels {
            if !labels.contains(&l) {
                labels.push(l);
            }
        }
        props.extend(o.props);
    }
    props.retain(|_, v| !matches!(v, Value::Null));
    Ok(Some((labels, props)))
}

/// One relationship's writes, in record order → its properties.
fn merge_rel(
    group: &[Vec<u8>],
    first_ingested_at: bool,
) -> Result<IndexMap<String, Value>, BuildError> {
    let mut props: IndexMap<String, Value> = IndexMap::new();
    let mut first: Option<Value> = None;
    let mut created = None;
    let mut merge_rule = true;
    for (i, v) in group.iter().enumerate() {
        let mut c = Cur::new(v);
        let batch = c.u64()?;
        merge_rule = c.u64()? == 1;
        let keys = c.map()?;
        let p = c.map()?;
        if i == 0 {
            props = keys;
            created = Some(batch);
        }
        if created == Some(batch)
            && let Some(l) = p.get("last_ingested_at")
        {
            first = Some(l.clone());
        }
        props.extend(p);
    }
    if first_ingested_at {
        if merge_rule {
            if let Some(f) = first {
                // ON CREATE SET comes before `SET +=`: the row's own value wins.
                let mut m = IndexMap::new();
                m.insert("first_ingested_at".to_string(), f);
                m.extend(props);
                props = m;
            }
        } else if let Some(l) = props.get("last_ingested_at").cloned() {
            props.insert("first_ingested_at".into(), l);
        }
    }
    props.retain(|_, v| !matches!(v, Value::Null));
    Ok(props)
}

/// The columns of one label or type: every property name with the types its values had.
#[derive(Debug, Default, Clone)]
struct Schema {
    cols: IndexMap<String, Vec<String>>,
}

impl Schema {
    fn see(
        &mut self,
        props: &IndexMap<String, Value>,
        owner: &str,
        what: &str,
    ) -> Result<(), BuildError> {
        for (k, v) in props {
            let t = files::column_type(v).map_err(|err| BuildError::Value {
                what: format!("{what} `{owner}` property"),
                name: k.clone(),
                err,
            })?;
            if k.contains(':') || k.starts_with(':') {
                return Err(BuildError::Unsupported(format!(
                    "{what} `{owner}`: property `{k}` has a `:` in its name, which neo4j-admin headers cannot hold"
                )));
            }
            let e = self.cols.entry(k.clone()).or_default();
            if !e.contains(&t) {
                e.push(t);
            }
        }
        Ok(())
    }

    /// For each column with several types, which one this row uses (index into its types).
    fn signature(&self, props: &IndexMap<String, Value>) -> Vec<Option<usize>> {
        self.cols
            .iter()
            .filter(|(_, ts)| ts.len() > 1)
            .map(|(k, ts)| {
                props
                    .get(k)
                    .and_then(|v| files::column_type(v).ok())
                    .and_then(|t| ts.iter().position(|x| *x == t))
            })
            .collect()
    }

    fn header(&self, sig: &[Option<usize>]) -> Vec<String> {
        let mut s = sig.iter();
        self.cols
            .iter()
            .map(|(k, ts)| {
                let t = if ts.len() > 1 {
                    &ts[s.next().copied().flatten().unwrap_or(0)]
                } else {
                    &ts[0]
                };
                format!("{k}:{t}")
            })
            .collect()
    }

    fn values<'a>(&self, props: &'a IndexMap<String, Value>) -> Vec<Option<&'a Value>> {
        self.cols.keys().map(|k| props.get(k)).collect()
    }
}
