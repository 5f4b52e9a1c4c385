//! The driver: pools per address, routing for `neo4j://`, retries around whole transactions.

use crate::Error;
use crate::config::{Config, Trust};
use crate::net::connection::{ConnectOptions, Msg};
use crate::net::tls;
use crate::net::uri::{Address, Target, TlsMode};
use crate::pool::{Lease, Pool, PoolLimits};
use crate::proto::message::Response;
use crate::proto::version::Version;
use crate::query::{Query, QueryResult, RowStream, run_tx};
use crate::retry::RetryPolicy;
use crate::routing::{Router, RoutingTable, is_fatal_discovery_error};
use crate::value::Value;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

/// A Neo4j driver: cheap to clone, safe to use from many tasks at once.
#[derive(Clone)]
pub struct Driver {
    inner: Arc<Inner>,
}

impl std::fmt::Debug for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Driver")
            .field("uri", &self.inner.config.uri)
            .field("version", &self.inner.version)
            .finish_non_exhaustive()
    }
}

struct Inner {
    config: Config,
    target: Target,
    opts: Arc<ConnectOptions>,
    limits: PoolLimits,
    retry: RetryPolicy,
    pools: Mutex<HashMap<Address, Arc<Pool>>>,
    router: Option<Router>,
    version: Version,
    server_agent: String,
    utc: bool,
    closed: AtomicBool,
}

impl Driver {
    /// Builds the driver and opens one connection to the URI's address, which checks that it is reachable,
    /// speaks Bolt, and accepts the credentials.
    pub async fn connect(config: Config) -> Result<Driver, Error> {
        let target = Target::parse(&config.uri)?;
        let tls_mode = match (config.encrypted, target.scheme_sets_tls) {
            (Some(_), true) => {
                return Err(Error::Config(format!(
                    "options 'encrypted'/'trust' cannot be combined with the URI scheme of {:?} (it already sets TLS)",
                    config.uri
                )));
            }
            (Some(true), false) => match &config.trust {
                Trust::SystemCa => TlsMode::Verify,
                Trust::All => TlsMode::TrustAll,
                Trust::CustomCa(p) => TlsMode::CustomCa(p.clone()),
            },
            _ => target.tls.clone(),
        };
        let opts = Arc::new(ConnectOptions {
            user: config.user.clone(),
            password: config.password.clone(),
            user_agent: config.user_agent.clone(),
            connection_timeout: config.connection_timeout,
            keep_alive: config.keep_alive,
            tls: tls::client_config(&tls_mode)?,
            max_version: config.max_bolt_version.map(Version::from),
            routing: target.routing.then(|| target.routing_context.clone()),
            patch_utc: config.patch_utc,
            notifications_min_severity: config.notifications_min_severity.clone(),
            max_message_size: config.max_message_size,
        });
        let limits = PoolLimits {
            max_size: config.max_connection_pool_size.max(1),
            max_lifetime: config.max_connection_lifetime,
            max_pipelined: config.max_pipelined_transactions.max(1),
            liveness_check: config.liveness_check_timeout,
        };
        let retry = RetryPolicy {
            max_retry_time: config.max_transaction_retry_time,
            max_attempts: config.max_retry_attempts,
            initial_delay: config.retry_initial_delay,
            multiplier: config.retry_multiplier,
            jitter: 0.2,
        };
        let pool = Pool::new(target.address.clone(), opts.clone(), limits.clone());
        let deadline = tokio::time::Instant::now() + config.connection_acquisition_timeout;
        let lease = pool.acquire(false, deadline).await?;
        let (version, server_agent, utc) = (
            lease.conn.version(),
            lease.conn.server_agent().to_owned(),
            lease.conn.utc(),
        );
        drop(lease);
        let router = target
            .routing
            .then(|| Router::new(target.address.clone(), target.routing_context.clone()));
        let mut pools = HashMap::new();
        pools.insert(target.address.clone(), pool);
        Ok(Driver {
            inner: Arc::new(Inner {
                config,
                target,
                opts,
                limits,
                retry,
                pools: Mutex::new(pools),
                router,
                version,
                server_agent,
                utc,
                closed: AtomicBool::new(false),
            }),
        })
    }

    /// The Bolt version negotiated with the first server.
    pub fn protocol_version(&self) -> (u8, u8) {
        (self.inner.version.major, self.inner.version.minor)
    }

    /// The first server's agent string (`Neo4j/5.26.0`).
    pub fn server_agent(&self) -> String {
        self.inner.server_agent.clone()
    }

    /// Whether zoned datetimes must be encoded in the UTC form (`I`/`i`; Bolt 5 or the 4.4 utc patch)
    /// rather than the legacy form (`F`) — matters only for [`Query::encoded_params`].
    pub fn utc_datetimes(&self) -> bool {
        self.inner.utc
    }

    /// The negotiated wire format to hand to [`crate::packstream::encode::value`] when encoding parameters
    /// ahead of time (for [`Query::encoded_params`]).
    pub fn wire_format(&self) -> crate::packstream::encode::WireFormat {
        crate::packstream::encode::WireFormat::from_utc(self.inner.utc)
    }

    /// Whether the URI uses client-side routing.
    pub fn is_routing(&self) -> bool {
        self.inner.router.is_some()
    }

    /// Runs `query` as one transaction (a single pipelined write), retrying retryable failures.
    pub async fn run(&self, query: Query) -> Result<QueryResult, Error> {
        let q = &query;
        let db = q
            .db(self.inner.config.database.as_deref())
            .map(str::to_owned);
        let db = db.as_deref();
        let failed_at: Mutex<Option<Address>> = Mutex::new(None);
        self.inner
            .retry
            .run(
                q.retry_unknown(),
                |_| async {
                    let lease = self.acquire(q.is_read(), db, false).await?;
                    let r = run_tx(&lease.conn, q, db).await;
                    if r.is_err() {
                        *failed_at.lock().unwrap_or_else(|p| p.into_inner()) =
                            Some(lease.conn.address().clone());
                    }
                    r
                },
                |e| {
                    let addr = failed_at.lock().unwrap_or_else(|p| p.into_inner()).take();
                    self.on_error(e, db, addr.as_ref());
                },
            )
            .await
    }

    /// Runs `query` and returns its rows page by page (`PULL fetch_size`; non-positive = the configured
    /// fetch size). Opening the stream is retried; errors after the first rows are reported.
    pub async fn stream(&self, query: Query, fetch_size: i64) -> Result<RowStream, Error> {
        let fetch = if fetch_size > 0 {
            fetch_size
        } else {
            self.inner.config.fetch_size
        };
        let q = &query;
        let db = q
            .db(self.inner.config.database.as_deref())
            .map(str::to_owned);
        let db = db.as_deref();
        let failed_at: Mutex<Option<Address>> = Mutex::new(None);
        self.inner
            .retry
            .run(
                q.retry_unknown(),
                |_| async {
                    let lease = self.acquire(q.is_read(), db, true).await?;
                    let addr = lease.conn.address().clone();
                    let r = RowStream::open(lease, q, db, fetch).await;
                    if r.is_err() {
                        *failed_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(addr);
                    }
                    r
                },
                |e| {
                    let addr = failed_at.lock().unwrap_or_else(|p| p.into_inner()).take();
                    self.on_error(e, db, addr.as_ref());
                },
            )
            .await
    }

    /// Closes every pooled connection (GOODBYE); later calls fail with [`Error::Closed`].
    pub async fn close(&self) {
        self.inner.closed.store(true, Ordering::Release);
        let pools: Vec<Arc<Pool>> = self.lock_pools().drain().map(|(_, p)| p).collect();
        for p in pools {
            p.close().await;
        }
    }

    /// The routing table currently cached for `database` (routing drivers only; for tests and diagnostics).
    pub fn routing_table(&self, database: Option<&str>) -> Option<RoutingTable> {
        self.inner.router.as_ref()?.fresh(database, true)
    }

    fn lock_pools(&self) -> std::sync::MutexGuard<'_, HashMap<Address, Arc<Pool>>> {
        self.inner.pools.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn pool(&self, a: &Address) -> Result<Arc<Pool>, Error> {
        if self.inner.closed.load(Ordering::Acquire) {
            return Err(Error::Closed);
        }
        let mut pools = self.lock_pools();
        Ok(pools
            .entry(a.clone())
            .or_insert_with(|| {
                Pool::new(
                    a.clone(),
                    self.inner.opts.clone(),
                    self.inner.limits.clone(),
                )
            })
            .clone())
    }

    fn on_error(&self, e: &Error, db: Option<&str>, addr: Option<&Address>) {
        let (Some(router), Some(addr)) = (&self.inner.router, addr) else {
            return;
        };
        if e.is_not_leader() {
            tracing::info!(%addr, db, "server is no longer the writer; refreshing the routing table");
            router.forget_writer(db, addr);
        } else if e.is_address_failure() {
            tracing::info!(%addr, error = %e, "forgetting unreachable server");
            router.forget(addr);
            if let Some(p) = self.lock_pools().get(addr) {
                p.purge_idle();
            }
        }
    }

    async fn acquire(&self, read: bool, db: Option<&str>, exclusive: bool) -> Result<Lease, Error> {
        let deadline =
            tokio::time::Instant::now() + self.inner.config.connection_acquisition_timeout;
        let Some(router) = &self.inner.router else {
            return self
                .pool(&self.inner.target.address)?
                .acquire(exclusive, deadline)
                .await;
        };
        let table = self.table(router, db, read, deadline).await?;
        let mut candidates = if read { table.readers } else { table.writers };
        // Least-loaded first.
        // Least-loaded first, ties broken at random so concurrent callers spread out.
        let mut load: Vec<(usize, u64, Address)> = Vec::with_capacity(candidates.len());
        for a in candidates.drain(..) {
            let tie = (crate::retry::random_unit() * 1e9) as u64;
            load.push((self.pool(&a)?.in_use(), tie, a));
        }
        load.sort_by_key(|(n, t, _)| (*n, *t));
        let mut last = None;
        for (_, _, a) in load {
            match self.pool(&a)?.acquire(exclusive, deadline).await {
                Ok(l) => return Ok(l),
                Err(e) if e.is_address_failure() => {
                    router.forget(&a);
                    last = Some(e);
                }
                Err(e) => return Err(e),
            }
        }
        Err(Error::ServiceUnavailable(format!(
            "no {} server reachable for database {}{}",
            if read { "read" } else { "write" },
            db.unwrap_or("<home>"),
            last.map(|e| format!(" (last error: {e})"))
                .unwrap_or_default()
        )))
    }

    async fn table(
        &self,
        router: &Router,
        db: Option<&str>,
        read: bool,
        deadline: tokio::time::Instant,
    ) -> Result<RoutingTable, Error> {
        if let Some(t) = router.fresh(db, read) {
            return Ok(t);
        }
        let _guard = router.refresh.lock().await;
        if let Some(t) = router.fresh(db, read) {
            return Ok(t);
        }
        let mut last: Option<Error> = None;
        for r in router.routers_for(db) {
            match self.fetch_table(router, &r, db, deadline).await {
                Ok(t) => {
                    router.store(db, t.clone());
                    if t.is_fresh(read) {
                        return Ok(t);
                    }
                    last = Some(Error::ServiceUnavailable(format!(
                        "routing table from {r} has no {} server for database {}",
                        if read { "read" } else { "write" },
                        db.unwrap_or("<home>")
                    )));
                }
                Err(e) if is_fatal_discovery_error(&e) => return Err(e),
                Err(e) => {
                    tracing::debug!(router = %r, error = %e, "routing table fetch failed");
                    last = Some(e);
                }
            }
        }
        Err(match last {
            Some(e @ Error::ServiceUnavailable(_)) => e,
            Some(e) => Error::ServiceUnavailable(format!("could not fetch a routing table: {e}")),
            None => Error::ServiceUnavailable("no routers known".into()),
        })
    }

    async fn fetch_table(
        &self,
        router: &Router,
        addr: &Address,
        db: Option<&str>,
        deadline: tokio::time::Instant,
    ) -> Result<RoutingTable, Error> {
        let lease = self.pool(addr)?.acquire(true, deadline).await?;
        let mut r = lease
            .conn
            .send(&[Msg::Route {
                routing: &router.context,
                db,
            }])
            .await?;
        let ev = r.next().await.ok_or_else(|| lease.conn.lost(false))?;
        match ev.resp {
            Response::Success(meta) => match meta.get("rt") {
                Some(Value::Map(rt)) => RoutingTable::parse(rt),
                _ => Err(Error::protocol("ROUTE succeeded without a routing table")),
            },
            Response::Failure(f) => Err(Error::Server {
                code: f.code,
                message: f.message,
                gql_status: f.gql_status,
            }),
            other => Err(Error::protocol(format!(
                "unexpected reply to ROUTE: {other:?}"
            ))),
        }
    }
}
