//! Running queries: the database seam, the retry policy of spec §4.10, and APOC result reading (§4.9).

use bolt::Value;
use bytes::Bytes;
use std::future::Future;
use std::pin::Pin;
use std::time::{Duration, Instant};

/// A boxed future, so the database seam is object-safe.
pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Rows returned by a query.
#[derive(Debug, Clone, Default)]
pub struct Output {
    /// Column names.
    pub keys: Vec<String>,
    /// Rows, each in column order.
    pub rows: Vec<Vec<Value>>,
    /// The server's update counters from the final SUCCESS metadata (zero when the driver does not tell).
    pub counters: Counters,
}

/// Update counters of one query, from its SUCCESS metadata (`stats`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counters {
    /// `nodes-created`.
    pub nodes_created: i64,
    /// `relationships-created`.
    pub relationships_created: i64,
    /// `properties-set`.
    pub properties_set: i64,
}

impl Output {
    /// The value of column `name` in the first row.
    pub fn first(&self, name: &str) -> Option<&Value> {
        let i = self.keys.iter().position(|k| k == name)?;
        self.rows.first()?.get(i)
    }
}

/// A failed query, classified for the retry policy.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct DbError {
    /// Neo4j status code, when the server sent one.
    pub code: Option<String>,
    /// Human-readable message (never contains credentials).
    pub message: String,
    /// Connection-level or transient: worth another attempt.
    pub retryable: bool,
    /// The commit's outcome is unknown (connection lost while committing).
    pub unknown_outcome: bool,
}

impl DbError {
    /// An error with a status code and message, neither retryable nor of unknown outcome (tests, fakes).
    #[cfg(test)]
    pub fn new(code: Option<String>, message: impl Into<String>) -> DbError {
        DbError {
            code,
            message: message.into(),
            retryable: false,
            unknown_outcome: false,
        }
    }

    /// `Neo.TransientError.*`: deadlocks, lock timeouts, ... (retried inside one attempt, like the Python
    /// driver's managed transactions).
    pub fn is_transient(&self) -> bool {
        self.code
            .as_deref()
            .is_some_and(|c| c.starts_with("Neo.TransientError."))
    }
}

/// What the writer needs from a Bolt driver: run one auto-retried-by-us write query with pre-encoded parameters.
pub trait Database: Send + Sync + 'static {
    /// Runs `text` with `params` (ONE PackStream map) in its own transaction and returns every row.
    fn run<'a>(&'a self, text: &'a str, params: Bytes) -> BoxFuture<'a, Result<Output, DbError>>;

    /// How zoned datetimes go on the wire, as the server negotiated (Bolt 5, or 4.4 with or without the utc patch).
    fn wire_format(&self) -> bolt::packstream::WireFormat {
        bolt::packstream::WireFormat::Utc
    }

    /// Whether the driver already retries transient errors itself (then the writer does not, within an attempt).
    fn retries_transients(&self) -> bool {
        false
    }

    /// Runs a read query (READ routing on clusters).
    fn run_read<'a>(
        &'a self,
        text: &'a str,
        params: Bytes,
    ) -> BoxFuture<'a, Result<Output, DbError>> {
        self.run(text, params)
    }
}

/// Retry settings (spec §1.6, §4.10).
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Total attempts for retryable errors.
    pub max_attempts: u32,
    /// Sleep `factor × attempt` seconds between attempts.
    pub factor: f64,
    /// How long transient errors are retried within one attempt.
    pub max_transaction_retry_time: Duration,
    /// First delay of the transient back-off (doubles each time).
    pub initial_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 3,
            factor: 1.0,
            max_transaction_retry_time: Duration::from_secs(30),
            initial_delay: Duration::from_millis(500),
        }
    }
}

/// ±20 % jitter without a random-number crate: the sub-microsecond clock is noise enough.
fn jitter(d: Duration) -> Duration {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|t| t.subsec_nanos())
        .unwrap_or(0);
    let f = 0.8 + 0.4 * f64::from(nanos % 1000) / 1000.0;
    d.mul_f64(f)
}

impl RetryPolicy {
    /// Runs a read query with the policy.
    pub async fn run_read(
        &self,
        db: &dyn Database,
        text: &str,
        params: &Bytes,
    ) -> Result<Output, DbError> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            match db.run_read(text, params.clone()).await {
                Ok(out) => return Ok(out),
                Err(e) if e.retryable && attempt < self.max_attempts => {
                    tracing::warn!(
                        attempt,
                        "Error executing query, backing off. Attempt {attempt}: {}",
                        e.message
                    );
                    tokio::time::sleep(Duration::from_secs_f64(self.factor * f64::from(attempt)))
                        .await;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Runs a query with the policy. `idempotent` = MERGE-only, safe to replay after an unknown outcome.
    /// `on_retry` is told about every retry (for counters).
    pub async fn run(
        &self,
        db: &dyn Database,
        text: &str,
        params: &Bytes,
        idempotent: bool,
        on_retry: &(dyn Fn(&DbError) + Sync),
    ) -> Result<Output, DbError> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let started = Instant::now();
            let mut delay = self.initial_delay;
            let err = loop {
                match db.run(text, params.clone()).await {
                    Ok(out) => return Ok(out),
                    Err(e)
                        if e.is_transient()
                            && started.elapsed() < self.max_transaction_retry_time =>
                    {
                        on_retry(&e);
                        tracing::debug!(
                            code = e.code.as_deref(),
                            "transient error, retrying: {}",
                            e.message
                        );
                        tokio::time::sleep(jitter(delay)).await;
                        delay = delay.saturating_mul(2);
                    }
                    Err(e) => break e,
                }
            };
            if !err.retryable
                || attempt >= self.max_attempts
                || (err.unknown_outcome && !idempotent)
            {
                return Err(err);
            }
            on_retry(&err);
            tracing::warn!(
                attempt,
                code = err.code.as_deref(),
                "Error executing query, backing off. Attempt {attempt}: {}",
                err.message
            );
            tokio::time::sleep(Duration::from_secs_f64(self.factor * f64::from(attempt))).await;
        }
    }
}

/// Whether an error message (as APOC reports it: the text, without the status code) is lock contention.
fn is_lock_message(m: &str) -> bool {
    const MARKS: &[&str] = &[
        "DeadlockDetected",
        "eadlock",
        "can't acquire",
        "ForsetiClient",
        "LockClient",
        "Lock acquisition",
        "LockAcquisitionTimeout",
    ];
    MARKS.iter().any(|k| m.contains(k))
}

/// The summary row of `apoc.periodic.iterate` (spec §4.9).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ApocSummary {
    /// Inner batches run.
    pub batches: i64,
    /// Rows seen.
    pub total: i64,
    /// Rows committed.
    pub committed_operations: i64,
    /// Rows in failed batches.
    pub failed_operations: i64,
    /// Inner batches that failed after their retries.
    pub failed_batches: i64,
    /// Inner retries APOC performed.
    pub retries: i64,
    /// Error message → count.
    pub error_messages: Vec<(String, i64)>,
    /// Whether the job was terminated.
    pub was_terminated: bool,
    /// `updateStatistics.nodesCreated`.
    pub nodes_created: i64,
    /// `updateStatistics.relationshipsCreated`.
    pub relationships_created: i64,
    /// `updateStatistics.nodesDeleted`.
    pub nodes_deleted: i64,
    /// `updateStatistics.relationshipsDeleted`.
    pub relationships_deleted: i64,
    /// `updateStatistics.propertiesSet`.
    pub properties_set: i64,
    /// `updateStatistics.labelsAdded`.
    pub labels_added: i64,
}

fn int(v: Option<&Value>) -> i64 {
    match v {
        Some(Value::Integer(i)) => *i,
        _ => 0,
    }
}

impl ApocSummary {
    /// Reads the first row of an `apoc.periodic.iterate` call.
    pub fn from_output(out: &Output) -> ApocSummary {
        let mut s = ApocSummary {
            batches: int(out.first("batches")),
            total: int(out.first("total")),
            committed_operations: int(out.first("committedOperations")),
            failed_operations: int(out.first("failedOperations")),
            failed_batches: int(out.first("failedBatches")),
            retries: int(out.first("retries")),
            was_terminated: matches!(out.first("wasTerminated"), Some(Value::Boolean(true))),
            ..ApocSummary::default()
        };
        if let Some(Value::Map(m)) = out.first("errorMessages") {
            s.error_messages = m.iter().map(|(k, v)| (k.clone(), int(Some(v)))).collect();
        }
        if let Some(Value::Map(m)) = out.first("updateStatistics") {
            s.nodes_created = int(m.get("nodesCreated"));
            s.relationships_created = int(m.get("relationshipsCreated"));
            s.nodes_deleted = int(m.get("nodesDeleted"));
            s.relationships_deleted = int(m.get("relationshipsDeleted"));
            s.properties_set = int(m.get("propertiesSet"));
            s.labels_added = int(m.get("labelsAdded"));
        }
        s
    }

    /// Whether something failed inside the job.
    pub fn has_failures(&self) -> bool {
        self.failed_batches > 0 || !self.error_messages.is_empty() || self.was_terminated
    }

    /// Whether the failures come from lock contention (deadlocks, lock timeouts; other messages of the same job,
    /// such as "Unable to load NODE", are collateral of aborted transactions): replaying the whole bucket is
    /// then safe for MERGE statements and likely to succeed.
    pub fn lock_contention(&self) -> bool {
        !self.was_terminated && self.error_messages.iter().any(|(m, _)| is_lock_message(m))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU32, Ordering};

    /// Fails with the scripted errors, then succeeds.
    struct Scripted {
        errors: Mutex<Vec<DbError>>,
        calls: AtomicU32,
    }

    impl Database for Scripted {
        fn run<'a>(
            &'a self,
            _text: &'a str,
            _params: Bytes,
        ) -> BoxFuture<'a, Result<Output, DbError>> {
            Box::pin(async move {
                self.calls.fetch_add(1, Ordering::SeqCst);
                match self.errors.lock().unwrap().pop() {
                    Some(e) => Err(e),
                    None => Ok(Output::default()),
                }
            })
        }
    }

    fn err(code: &str, retryable: bool, unknown: bool) -> DbError {
        DbError {
            code: Some(code.into()),
            message: code.into(),
            retryable,
            unknown_outcome: unknown,
        }
    }

    fn fast() -> RetryPolicy {
        RetryPolicy {
            max_attempts: 3,
            factor: 0.0,
            max_transaction_retry_time: Duration::from_millis(200),
            initial_delay: Duration::from_millis(1),
        }
    }

    async fn run(errors: Vec<DbError>, idempotent: bool) -> (Result<Output, DbError>, u32) {
        let db = Scripted {
            errors: Mutex::new(errors),
            calls: AtomicU32::new(0),
        };
        let r = fast()
            .run(&db, "RETURN 1", &Bytes::new(), idempotent, &|_| {})
            .await;
        (r, db.calls.load(Ordering::SeqCst))
    }

    #[tokio::test]
    async fn transient_errors_are_retried_within_an_attempt() {
        let dl = err(
            "Neo.TransientError.Transaction.DeadlockDetected",
            true,
            false,
        );
        let (r, calls) = run(vec![dl.clone(), dl.clone(), dl.clone(), dl], true).await;
        assert!(r.is_ok());
        assert_eq!(calls, 5);
    }

    #[tokio::test]
    async fn connection_errors_use_max_attempts() {
        let gone = err("ServiceUnavailable", true, false);
        let (r, calls) = run(vec![gone.clone(), gone.clone(), gone], true).await;
        assert_eq!(r.unwrap_err().code.as_deref(), Some("ServiceUnavailable"));
        assert_eq!(calls, 3);
        let (r, calls) = run(vec![err("ServiceUnavailable", true, false)], true).await;
        assert!(r.is_ok() && calls == 2);
    }

    #[tokio::test]
    async fn client_errors_and_unknown_commits_of_create_are_not_retried() {
        let (r, calls) = run(
            vec![err("Neo.ClientError.Statement.SyntaxError", false, false)],
            true,
        )
        .await;
        assert!(r.is_err() && calls == 1);
        let (r, calls) = run(vec![err("IncompleteCommit", true, true)], false).await;
        assert!(r.is_err() && calls == 1);
        let (r, calls) = run(vec![err("IncompleteCommit", true, true)], true).await;
        assert!(r.is_ok() && calls == 2);
    }

    #[test]
    fn apoc_summary_is_read_by_column_name() {
        let mut stats = bolt::Map::new();
        stats.insert("nodesCreated".into(), Value::Integer(5));
        let mut errors = bolt::Map::new();
        errors.insert(
            "ForsetiClient[1] can't acquire ... DeadlockDetected".into(),
            Value::Integer(2),
        );
        let out = Output {
            keys: vec![
                "failedBatches".into(),
                "errorMessages".into(),
                "updateStatistics".into(),
                "total".into(),
            ],
            rows: vec![vec![
                Value::Integer(2),
                Value::Map(errors),
                Value::Map(stats),
                Value::Integer(10),
            ]],
            ..Output::default()
        };
        let s = ApocSummary::from_output(&out);
        assert_eq!((s.failed_batches, s.total, s.nodes_created), (2, 10, 5));
        assert!(s.has_failures() && s.lock_contention());
    }
}
