//! A connection pool per server address. Connections are shared: an idle one is preferred, a new one is
//! opened while below the size limit, and when all are busy a transaction is pipelined behind others on
//! the least-loaded connection (up to `max_pipelined`). Paged results take a connection exclusively.

use crate::Error;
use crate::net::connection::{ConnectOptions, Connection, Msg, ServerState};
use crate::net::uri::Address;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::sync::Notify;

/// Pool limits.
#[derive(Debug, Clone)]
pub(crate) struct PoolLimits {
    pub max_size: usize,
    pub max_lifetime: Option<Duration>,
    pub max_pipelined: usize,
    pub liveness_check: Option<Duration>,
}

pub(crate) struct Pool {
    address: Address,
    opts: Arc<ConnectOptions>,
    limits: PoolLimits,
    state: Mutex<State>,
    notify: Notify,
}

struct State {
    conns: Vec<Arc<Connection>>,
    idle_since: Vec<Instant>,
    opening: usize,
    closed: bool,
}

/// A connection taken from a pool; returns it on drop.
pub(crate) struct Lease {
    pub conn: Arc<Connection>,
    exclusive: bool,
    pool: Arc<Pool>,
}

impl Drop for Lease {
    fn drop(&mut self) {
        if self.exclusive {
            self.conn.exclusive.store(false, Ordering::Release);
        }
        self.conn.in_flight.fetch_sub(1, Ordering::AcqRel);
        {
            let mut st = self.pool.lock();
            if let Some(i) = st.conns.iter().position(|c| Arc::ptr_eq(c, &self.conn)) {
                st.idle_since[i] = Instant::now();
            }
        }
        self.pool.notify.notify_waiters();
    }
}

enum Step {
    Got(Arc<Connection>),
    Open,
    Wait,
}

impl Pool {
    pub fn new(address: Address, opts: Arc<ConnectOptions>, limits: PoolLimits) -> Arc<Pool> {
        Arc::new(Pool {
            address,
            opts,
            limits,
            state: Mutex::new(State {
                conns: Vec::new(),
                idle_since: Vec::new(),
                opening: 0,
                closed: false,
            }),
            notify: Notify::new(),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Connections in use or being opened (for least-loaded server choice in routing).
    pub fn in_use(&self) -> usize {
        let st = self.lock();
        st.opening
            + st.conns
                .iter()
                .map(|c| c.in_flight.load(Ordering::Acquire))
                .sum::<usize>()
    }

    fn expired(&self, c: &Connection) -> bool {
        self.limits
            .max_lifetime
            .is_some_and(|l| c.created().elapsed() >= l)
    }

    fn step(&self, exclusive: bool) -> Result<Step, Error> {
        let mut st = self.lock();
        if st.closed {
            return Err(Error::Closed);
        }
        // Drop dead connections, and expired ones nobody uses.
        let mut i = 0;
        while i < st.conns.len() {
            let c = &st.conns[i];
            let idle = c.in_flight.load(Ordering::Acquire) == 0;
            if c.is_defunct() || (idle && self.expired(c)) {
                st.conns.swap_remove(i);
                st.idle_since.swap_remove(i);
            } else {
                i += 1;
            }
        }
        let usable = |c: &Connection| !c.exclusive.load(Ordering::Acquire) && !self.expired(c);
        let take = |c: &Arc<Connection>| {
            c.in_flight.fetch_add(1, Ordering::AcqRel);
            if exclusive {
                c.exclusive.store(true, Ordering::Release);
            }
            Step::Got(c.clone())
        };
        if let Some(c) = st
            .conns
            .iter()
            .find(|c| usable(c) && c.in_flight.load(Ordering::Acquire) == 0)
        {
            return Ok(take(c));
        }
        if st.conns.len() + st.opening < self.limits.max_size {
            st.opening += 1;
            return Ok(Step::Open);
        }
        if !exclusive
            && let Some(c) = st
                .conns
                .iter()
                .filter(|c| {
                    usable(c) && c.in_flight.load(Ordering::Acquire) < self.limits.max_pipelined
                })
                .min_by_key(|c| c.in_flight.load(Ordering::Acquire))
        {
            return Ok(take(c));
        }
        Ok(Step::Wait)
    }

    /// Takes a connection, opening one if allowed, waiting at most until `deadline`.
    pub async fn acquire(
        self: &Arc<Self>,
        exclusive: bool,
        deadline: tokio::time::Instant,
    ) -> Result<Lease, Error> {
        loop {
            let notified = self.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            match self.step(exclusive)? {
                Step::Got(conn) => {
                    let lease = Lease {
                        conn,
                        exclusive,
                        pool: self.clone(),
                    };
                    if self.needs_liveness_check(&lease.conn)
                        && !self.check_alive(&lease.conn).await
                    {
                        // Dead: the next step() prunes it.
                        continue;
                    }
                    return Ok(lease);
                }
                Step::Open => {
                    let left = deadline.saturating_duration_since(tokio::time::Instant::now());
                    let opened =
                        tokio::time::timeout(left, Connection::open(&self.address, &self.opts))
                            .await;
                    let mut st = self.lock();
                    st.opening -= 1;
                    let conn = match opened {
                        Ok(Ok(c)) => Arc::new(c),
                        Ok(Err(e)) => {
                            drop(st);
                            self.notify.notify_waiters();
                            return Err(e);
                        }
                        Err(_) => {
                            drop(st);
                            self.notify.notify_waiters();
                            return Err(Error::Timeout(format!(
                                "acquiring a connection to {}",
                                self.address
                            )));
                        }
                    };
                    conn.in_flight.fetch_add(1, Ordering::AcqRel);
                    if exclusive {
                        conn.exclusive.store(true, Ordering::Release);
                    }
                    st.conns.push(conn.clone());
                    st.idle_since.push(Instant::now());
                    return Ok(Lease {
                        conn,
                        exclusive,
                        pool: self.clone(),
                    });
                }
                Step::Wait => {
                    if tokio::time::timeout_at(deadline, notified).await.is_err() {
                        return Err(Error::Timeout(format!(
                            "acquiring a connection to {} (pool of {} busy)",
                            self.address, self.limits.max_size
                        )));
                    }
                }
            }
        }
    }

    fn needs_liveness_check(&self, c: &Arc<Connection>) -> bool {
        let Some(limit) = self.limits.liveness_check else {
            return false;
        };
        if c.in_flight.load(Ordering::Acquire) != 1 {
            return false;
        }
        let st = self.lock();
        st.conns
            .iter()
            .position(|x| Arc::ptr_eq(x, c))
            .is_some_and(|i| st.idle_since[i].elapsed() >= limit)
    }

    async fn check_alive(&self, c: &Connection) -> bool {
        let Ok(mut r) = c.send(&[Msg::Reset]).await else {
            return false;
        };
        matches!(r.next().await, Some(ev) if matches!(ev.resp, crate::proto::message::Response::Success(_)))
            && c.server_state() != ServerState::Defunct
    }

    /// Closes idle connections and refuses new work.
    pub async fn close(&self) {
        let conns = {
            let mut st = self.lock();
            st.closed = true;
            st.idle_since.clear();
            std::mem::take(&mut st.conns)
        };
        for c in conns {
            c.close().await;
        }
        self.notify.notify_waiters();
    }

    /// Forgets every idle connection (the server went away).
    pub fn purge_idle(&self) {
        let mut st = self.lock();
        let mut i = 0;
        while i < st.conns.len() {
            if st.conns[i].in_flight.load(Ordering::Acquire) == 0 {
                st.conns.swap_remove(i);
                st.idle_since.swap_remove(i);
            } else {
                i += 1;
            }
        }
    }
}
