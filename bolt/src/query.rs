//! Queries, their results, and running one transaction as a single pipelined write.

use crate::Error;
use crate::net::connection::{Connection, Msg, Responses};
use crate::proto::message::{Params, Response, TxExtra};
use crate::value::{Map, Value};
use bytes::Bytes;
use std::sync::Arc;
use std::time::Duration;

#[derive(Debug, Clone)]
enum QParams {
    Owned(Map),
    Encoded(Bytes),
}

/// A Cypher statement with its parameters and transaction settings.
#[derive(Debug, Clone)]
pub struct Query {
    text: Arc<str>,
    params: QParams,
    database: Option<String>,
    read: bool,
    auto_commit: bool,
    idempotent: bool,
    timeout: Option<Duration>,
    metadata: Option<Map>,
}

impl Query {
    /// A write query in an explicit transaction, without parameters.
    pub fn new(text: impl Into<Arc<str>>) -> Self {
        Query {
            text: text.into(),
            params: QParams::Owned(Map::new()),
            database: None,
            read: false,
            auto_commit: false,
            idempotent: false,
            timeout: None,
            metadata: None,
        }
    }

    /// Adds a parameter. (After [`Query::encoded_params`], the encoded map is decoded once to add it.)
    pub fn param(mut self, key: &str, value: impl Into<Value>) -> Self {
        let map = match self.params {
            QParams::Owned(ref mut m) => m,
            QParams::Encoded(ref b) => {
                let m = crate::packstream::decode::Decoder::new(b.clone())
                    .map()
                    .unwrap_or_default();
                self.params = QParams::Owned(m);
                match self.params {
                    QParams::Owned(ref mut m) => m,
                    QParams::Encoded(_) => unreachable!("just set"),
                }
            }
        };
        map.insert(key.to_owned(), value.into());
        self
    }

    /// Sets all parameters from ONE PackStream map the caller already encoded (sent as is, never
    /// re-encoded). Zoned datetimes inside must use the form [`crate::Driver::utc_datetimes`] reports.
    pub fn encoded_params(mut self, map_bytes: Bytes) -> Self {
        self.params = QParams::Encoded(map_bytes);
        self
    }

    /// Runs against this database instead of the driver's default.
    pub fn database(mut self, name: impl Into<String>) -> Self {
        self.database = Some(name.into());
        self
    }

    /// Marks the query read-only (routed to readers, `mode: "r"`). Default: write.
    pub fn read(mut self) -> Self {
        self.read = true;
        self
    }

    /// Runs as an auto-commit query (RUN + PULL, no BEGIN/COMMIT): needed for `CALL {} IN TRANSACTIONS`
    /// and schema commands.
    pub fn auto_commit(mut self) -> Self {
        self.auto_commit = true;
        self
    }

    /// Declares that running the query twice is harmless (e.g. MERGE on unique keys): it is then retried
    /// even when the connection broke with the commit in flight.
    pub fn idempotent(mut self) -> Self {
        self.idempotent = true;
        self
    }

    /// Server-side transaction timeout.
    pub fn timeout(mut self, t: Duration) -> Self {
        self.timeout = Some(t);
        self
    }

    /// Transaction metadata (visible in `SHOW TRANSACTIONS`).
    pub fn metadata(mut self, m: Map) -> Self {
        self.metadata = Some(m);
        self
    }

    /// The query text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// True for read queries.
    pub fn is_read(&self) -> bool {
        self.read
    }

    pub(crate) fn db<'a>(&'a self, default: Option<&'a str>) -> Option<&'a str> {
        self.database.as_deref().or(default)
    }

    pub(crate) fn retry_unknown(&self) -> bool {
        self.read || self.idempotent
    }

    fn params(&self) -> Params<'_> {
        match &self.params {
            QParams::Owned(m) if m.is_empty() => Params::None,
            QParams::Owned(m) => Params::Map(m),
            QParams::Encoded(b) => Params::Encoded(b),
        }
    }

    fn extra<'a>(&'a self, db: Option<&'a str>) -> TxExtra<'a> {
        TxExtra {
            db,
            read: self.read,
            bookmarks: &[],
            // 0 means "no timeout" to the server: round sub-millisecond timeouts up.
            tx_timeout_ms: self.timeout.map(|t| (t.as_millis() as i64).max(1)),
            tx_metadata: self.metadata.as_ref(),
            imp_user: None,
        }
    }
}

/// A fully read result.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct QueryResult {
    /// Column names.
    pub keys: Vec<String>,
    /// Rows, each with one value per key.
    pub rows: Vec<Vec<Value>>,
    /// The final SUCCESS metadata (`stats`, `type`, `db`, …), plus `bookmark` from COMMIT.
    pub summary: Map,
}

impl QueryResult {
    /// The first row's value in column `key`.
    pub fn single(&self, key: &str) -> Option<&Value> {
        let i = self.keys.iter().position(|k| k == key)?;
        self.rows.first()?.get(i)
    }

    /// An update counter from `stats` (`nodes-created`, `properties-set`, …); absent counters are 0.
    pub fn counter(&self, name: &str) -> i64 {
        self.summary
            .get("stats")
            .and_then(Value::as_map)
            .and_then(|s| s.get(name))
            .and_then(Value::as_int)
            .unwrap_or(0)
    }
}

fn server_error(f: crate::proto::message::Failure) -> Error {
    Error::Server {
        code: f.code,
        message: f.message,
        gql_status: f.gql_status,
    }
}

fn keys_of(meta: &Map) -> Vec<String> {
    meta.get("fields")
        .and_then(Value::as_list)
        .map(|l| {
            l.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default()
}

/// Runs `q` as one transaction on `conn`: BEGIN, RUN, PULL, COMMIT (or RUN, PULL) in one write.
pub(crate) async fn run_tx(
    conn: &Connection,
    q: &Query,
    db: Option<&str>,
) -> Result<QueryResult, Error> {
    let extra = q.extra(db);
    let (msgs, run_idx, pull_idx, commit_idx);
    let explicit = [
        Msg::Begin(extra),
        Msg::Run {
            query: &q.text,
            params: q.params(),
            extra: None,
        },
        Msg::Pull(-1),
        Msg::Commit,
    ];
    let auto = [
        Msg::Run {
            query: &q.text,
            params: q.params(),
            extra: Some(extra),
        },
        Msg::Pull(-1),
    ];
    if q.auto_commit {
        msgs = &auto[..];
        (run_idx, pull_idx, commit_idx) = (0, 1, None);
    } else {
        msgs = &explicit[..];
        (run_idx, pull_idx, commit_idx) = (1, 2, Some(3));
    }
    let mut responses = conn.send(msgs).await?;
    let mut out = QueryResult::default();
    let mut failure = None;
    let mut ignored = false;
    let mut answered = 0;
    let last = commit_idx.unwrap_or(pull_idx);
    while answered < msgs.len() {
        let Some(ev) = responses.next().await else {
            // The commit happened or not: we cannot know unless a failure already settled it.
            let unknown = failure.is_none() && answered <= last;
            return Err(conn.lost(unknown));
        };
        match ev.resp {
            Response::Record(r) => out.rows.push(r),
            Response::Success(meta) => {
                answered += 1;
                if ev.idx == run_idx {
                    out.keys = keys_of(&meta);
                } else if ev.idx == pull_idx {
                    out.summary = meta;
                } else if Some(ev.idx) == commit_idx
                    && let Some(b) = meta.get("bookmark")
                {
                    out.summary.insert("bookmark".into(), b.clone());
                }
            }
            Response::Failure(f) => {
                answered += 1;
                failure.get_or_insert(f);
            }
            Response::Ignored => {
                answered += 1;
                ignored = true;
            }
        }
    }
    match failure {
        Some(f) => Err(server_error(f)),
        None if ignored => Err(Error::Ignored),
        None => Ok(out),
    }
}

/// Rows of a large result, fetched in pages of `fetch_size` (PULL n) on a connection held exclusively.
pub struct RowStream {
    keys: Vec<String>,
    lease: Option<crate::pool::Lease>,
    responses: Option<Responses>,
    fetch: i64,
    explicit: bool,
    summary: Option<Map>,
    committing: bool,
}

impl std::fmt::Debug for RowStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RowStream")
            .field("keys", &self.keys)
            .field("done", &self.summary.is_some())
            .finish()
    }
}

impl RowStream {
    /// Opens the stream: sends [BEGIN,] RUN, PULL n and waits for the column names.
    pub(crate) async fn open(
        lease: crate::pool::Lease,
        q: &Query,
        db: Option<&str>,
        fetch: i64,
    ) -> Result<Self, Error> {
        let extra = q.extra(db);
        let explicit = !q.auto_commit;
        let msgs_tx = [
            Msg::Begin(extra),
            Msg::Run {
                query: &q.text,
                params: q.params(),
                extra: None,
            },
            Msg::Pull(fetch),
        ];
        let msgs_auto = [
            Msg::Run {
                query: &q.text,
                params: q.params(),
                extra: Some(extra),
            },
            Msg::Pull(fetch),
        ];
        let msgs: &[Msg<'_>] = if explicit { &msgs_tx } else { &msgs_auto };
        let mut responses = lease.conn.send(msgs).await?;
        let run_idx = msgs.len() - 2;
        let mut keys = None;
        let mut failure = None;
        let mut ignored = false;
        // Read up to the RUN summary: column names, or the failure that makes the PULL come back IGNORED.
        loop {
            let Some(ev) = responses.next().await else {
                return Err(lease.conn.lost(false));
            };
            match ev.resp {
                Response::Success(meta) if ev.idx == run_idx => keys = Some(keys_of(&meta)),
                Response::Failure(f) => {
                    failure.get_or_insert(f);
                }
                Response::Ignored => ignored = true,
                _ => {}
            }
            if ev.idx == run_idx {
                break;
            }
        }
        if let Some(f) = failure {
            return Err(server_error(f));
        }
        if ignored {
            return Err(Error::Ignored);
        }
        let keys = keys.ok_or_else(|| Error::protocol("RUN succeeded without field names"))?;
        Ok(RowStream {
            keys,
            lease: Some(lease),
            responses: Some(responses),
            fetch,
            explicit,
            summary: None,
            committing: false,
        })
    }

    /// Column names.
    pub fn keys(&self) -> &[String] {
        &self.keys
    }

    /// The final summary, once every row was read.
    pub fn summary(&self) -> Option<&Map> {
        self.summary.as_ref()
    }

    fn finish(&mut self, summary: Map) {
        self.summary = Some(summary);
        self.responses = None;
        self.lease = None;
    }

    /// The next row; `None` at the end.
    pub async fn next(&mut self) -> Option<Result<Vec<Value>, Error>> {
        loop {
            let responses = self.responses.as_mut()?;
            let resp = match responses.next().await {
                Some(ev) => ev.resp,
                None => {
                    let err = self
                        .lease
                        .as_ref()
                        .map(|l| l.conn.lost(self.committing))
                        .unwrap_or(Error::Closed);
                    self.responses = None;
                    self.lease = None;
                    return Some(Err(err));
                }
            };
            match resp {
                Response::Record(r) => return Some(Ok(r)),
                Response::Failure(f) => {
                    self.responses = None;
                    self.lease = None;
                    return Some(Err(server_error(f)));
                }
                Response::Ignored => {
                    self.responses = None;
                    self.lease = None;
                    return Some(Err(Error::Ignored));
                }
                Response::Success(meta) => {
                    let lease = self.lease.as_ref()?;
                    let has_more = meta.get("has_more").and_then(Value::as_bool) == Some(true);
                    let next: &[Msg<'_>] = if self.committing {
                        let mut summary = self.summary.take().unwrap_or_default();
                        if let Some(b) = meta.get("bookmark") {
                            summary.insert("bookmark".into(), b.clone());
                        }
                        self.finish(summary);
                        return None;
                    } else if has_more {
                        &[Msg::Pull(self.fetch)]
                    } else if self.explicit {
                        self.summary = Some(meta);
                        self.committing = true;
                        &[Msg::Commit]
                    } else {
                        self.finish(meta);
                        return None;
                    };
                    match lease.conn.send(next).await {
                        Ok(r) => self.responses = Some(r),
                        Err(e) => {
                            self.responses = None;
                            self.lease = None;
                            return Some(Err(e));
                        }
                    }
                }
            }
        }
    }
}

impl Drop for RowStream {
    fn drop(&mut self) {
        if let Some(lease) = &self.lease {
            // Abandoned mid-stream: the next user of the connection must RESET it first.
            lease.conn.mark_needs_reset();
        }
    }
}
