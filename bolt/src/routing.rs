//! Client-side routing for `neo4j://`: one routing table per database, fetched with ROUTE, refreshed when
//! stale or when a writer or server is dropped after an error.

use crate::Error;
use crate::net::uri::Address;
use crate::value::{Map, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// A routing table as returned by ROUTE.
#[derive(Debug, Clone, PartialEq)]
pub struct RoutingTable {
    /// Servers that answer ROUTE.
    pub routers: Vec<Address>,
    /// Servers for reads.
    pub readers: Vec<Address>,
    /// Servers for writes (empty during a leader election).
    pub writers: Vec<Address>,
    /// Time to live.
    pub ttl: Duration,
    /// The database the table is for, as resolved by the server.
    pub db: Option<String>,
    /// When the table was fetched.
    pub updated: Instant,
}

impl RoutingTable {
    /// Parses the `rt` map of a ROUTE SUCCESS.
    pub fn parse(rt: &Map) -> Result<RoutingTable, Error> {
        let bad = |what: &str| Error::protocol(format!("invalid routing table: {what}"));
        let ttl = rt
            .get("ttl")
            .and_then(Value::as_int)
            .ok_or_else(|| bad("no ttl"))?;
        let servers = rt
            .get("servers")
            .and_then(Value::as_list)
            .ok_or_else(|| bad("no servers"))?;
        let mut t = RoutingTable {
            routers: Vec::new(),
            readers: Vec::new(),
            writers: Vec::new(),
            ttl: Duration::from_secs(ttl.clamp(0, 7 * 24 * 3600) as u64),
            db: rt.get("db").and_then(Value::as_str).map(str::to_owned),
            updated: Instant::now(),
        };
        for s in servers {
            let s = s.as_map().ok_or_else(|| bad("server entry is not a map"))?;
            let role = s
                .get("role")
                .and_then(Value::as_str)
                .ok_or_else(|| bad("server without role"))?;
            let list = match role {
                "ROUTE" => &mut t.routers,
                "READ" => &mut t.readers,
                "WRITE" => &mut t.writers,
                _ => continue,
            };
            for a in s
                .get("addresses")
                .and_then(Value::as_list)
                .ok_or_else(|| bad("server without addresses"))?
            {
                let a = Address::parse(a.as_str().ok_or_else(|| bad("address is not a string"))?)?;
                if !list.contains(&a) {
                    list.push(a);
                }
            }
        }
        if t.routers.is_empty() || t.readers.is_empty() {
            return Err(bad("no routers or no readers"));
        }
        Ok(t)
    }

    /// Usable for work of this kind without a refresh.
    pub fn is_fresh(&self, read: bool) -> bool {
        self.updated.elapsed() < self.ttl
            && !self.routers.is_empty()
            && !(if read { &self.readers } else { &self.writers }).is_empty()
    }

    /// Forgets a server in every role.
    pub fn forget(&mut self, a: &Address) {
        self.routers.retain(|x| x != a);
        self.readers.retain(|x| x != a);
        self.writers.retain(|x| x != a);
    }
}

/// The routing tables of a driver.
#[derive(Debug)]
pub(crate) struct Router {
    pub initial: Address,
    pub context: Map,
    tables: std::sync::Mutex<HashMap<Option<String>, RoutingTable>>,
    /// One refresh at a time: concurrent callers wait for it and then reuse the new table.
    pub refresh: tokio::sync::Mutex<()>,
}

impl Router {
    pub fn new(initial: Address, context: Map) -> Self {
        Router {
            initial,
            context,
            tables: Default::default(),
            refresh: Default::default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Option<String>, RoutingTable>> {
        self.tables.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The table for `db` if it is fresh for the mode.
    pub fn fresh(&self, db: Option<&str>, read: bool) -> Option<RoutingTable> {
        self.lock()
            .get(&db.map(str::to_owned))
            .filter(|t| t.is_fresh(read))
            .cloned()
    }

    /// Routers to ask, in order (spec §6.2).
    pub fn routers_for(&self, db: Option<&str>) -> Vec<Address> {
        let tables = self.lock();
        let mut out = Vec::new();
        let current = tables.get(&db.map(str::to_owned));
        let initial_first = current.is_none_or(|t| t.writers.is_empty());
        if initial_first {
            out.push(self.initial.clone());
        }
        if let Some(t) = current {
            out.extend(t.routers.iter().filter(|a| **a != self.initial).cloned());
        }
        for t in tables.values() {
            out.extend(
                t.routers
                    .iter()
                    .filter(|a| !out.contains(a))
                    .cloned()
                    .collect::<Vec<_>>(),
            );
        }
        if !initial_first {
            out.push(self.initial.clone());
        }
        out.dedup();
        out
    }

    pub fn store(&self, db: Option<&str>, t: RoutingTable) {
        tracing::debug!(db, routers = ?t.routers, readers = ?t.readers, writers = ?t.writers, "routing table updated");
        self.lock().insert(db.map(str::to_owned), t);
    }

    /// After NotALeader / ForbiddenOnReadOnlyDatabase: this server no longer writes for `db`.
    pub fn forget_writer(&self, db: Option<&str>, a: &Address) {
        if let Some(t) = self.lock().get_mut(&db.map(str::to_owned)) {
            t.writers.retain(|x| x != a);
        }
    }

    /// After a connection failure: forget the server everywhere.
    pub fn forget(&self, a: &Address) {
        for t in self.lock().values_mut() {
            t.forget(a);
        }
    }
}

/// Errors from ROUTE that no other router can fix.
pub(crate) fn is_fatal_discovery_error(e: &Error) -> bool {
    match e.code() {
        Some(c) => {
            (c.starts_with("Neo.ClientError.Security.")
                && c != "Neo.ClientError.Security.AuthorizationExpired")
                || matches!(
                    c,
                    "Neo.ClientError.Database.DatabaseNotFound"
                        | "Neo.ClientError.Transaction.InvalidBookmark"
                        | "Neo.ClientError.Transaction.InvalidBookmarkMixture"
                        | "Neo.ClientError.Statement.TypeError"
                        | "Neo.ClientError.Statement.ArgumentError"
                        | "Neo.ClientError.Request.Invalid"
                )
        }
        None => matches!(e, Error::Auth { .. } | Error::Config(_)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(role: &str, addrs: &[&str]) -> Value {
        let mut m = Map::new();
        m.insert("role".into(), role.into());
        m.insert(
            "addresses".into(),
            Value::List(addrs.iter().map(|a| Value::from(*a)).collect()),
        );
        Value::Map(m)
    }

    #[test]
    fn parse_and_freshness() {
        let mut rt = Map::new();
        rt.insert("ttl".into(), 300.into());
        rt.insert("db".into(), "neo4j".into());
        rt.insert(
            "servers".into(),
            Value::List(vec![
                server("ROUTE", &["a:1", "b:2"]),
                server("READ", &["b:2", "c:3"]),
                server("WRITE", &["a:1"]),
            ]),
        );
        let mut t = RoutingTable::parse(&rt).unwrap();
        assert_eq!(t.routers.len(), 2);
        assert_eq!(t.writers, vec![Address::parse("a:1").unwrap()]);
        assert!(t.is_fresh(false) && t.is_fresh(true));
        t.forget(&Address::parse("a:1").unwrap());
        assert!(!t.is_fresh(false) && t.is_fresh(true));
        rt.insert(
            "servers".into(),
            Value::List(vec![server("WRITE", &["a:1"])]),
        );
        assert!(RoutingTable::parse(&rt).is_err());
    }
}
