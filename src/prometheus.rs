//! `run --prometheus`: Python Nodestream's metrics (gauges named `records`, `nodes_upserted`, …, as its
//! `PrometheusMetricHandler` registers them) served in the Prometheus text exposition format over HTTP.
//!
//! A tiny HTTP/1.1 responder on tokio: every GET (any path, as `prometheus_client` does) gets the current
//! values. The run loop updates the gauges every `--metrics-interval-in-seconds` and at each pipeline's end.

use indexmap::IndexMap;
use std::net::SocketAddr;
use std::sync::{Mutex, OnceLock};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A gauge: the sum of finished pipelines plus the running one.
#[derive(Debug, Clone, Default)]
struct Gauge {
    help: String,
    committed: f64,
    live: f64,
}

/// The process's gauges, in first-registered order.
#[derive(Debug, Default)]
pub struct Registry {
    gauges: Mutex<IndexMap<String, Gauge>>,
}

/// Errors starting the metrics server.
#[derive(Debug, thiserror::Error)]
pub enum PrometheusError {
    /// The address does not parse.
    #[error("--prometheus-listen-address/--prometheus-listen-port: '{0}' is not a socket address")]
    Address(String),
    /// Binding failed.
    #[error("cannot start the Prometheus metrics server on {addr}: {source}")]
    Bind {
        /// Where.
        addr: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Prometheus names are `[a-zA-Z_:][a-zA-Z0-9_:]*`; other characters (from labels) become `_`.
fn metric_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == ':' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// The `HELP` text Python gives each metric.
fn help_for(name: &str) -> String {
    match name {
        "records" => "Number of records processed".into(),
        "nodes_upserted" => "Number of nodes upserted to the graph".into(),
        "relationships_upserted" => "Number of relationships upserted to the graph".into(),
        "time_to_live_operations" => "Number of time-to-live operations executed".into(),
        other => {
            if let Some(t) = other.strip_prefix("nodes_upserted_by_type_") {
                format!("Number of nodes upserted by type {t}")
            } else if let Some(t) =
                other.strip_prefix("relationships_upserted_by_relationship_type_")
            {
                format!("Number of relationships upserted by relationship type {t}")
            } else {
                String::new()
            }
        }
    }
}

impl Registry {
    /// Sets the running pipeline's value of a gauge (registering it on first use).
    pub fn set_live(&self, name: &str, value: f64) {
        if let Ok(mut g) = self.gauges.lock() {
            g.entry(metric_name(name))
                .or_insert_with(|| Gauge {
                    help: help_for(name),
                    ..Gauge::default()
                })
                .live = value;
        }
    }

    /// A pipeline ended: its values stay, the next pipeline adds to them (one handler per `run`, as in Python).
    pub fn commit(&self) {
        if let Ok(mut g) = self.gauges.lock() {
            for v in g.values_mut() {
                v.committed += v.live;
                v.live = 0.0;
            }
        }
    }

    /// The text exposition format (version 0.0.4).
    pub fn render(&self) -> String {
        let mut out = String::new();
        if let Ok(g) = self.gauges.lock() {
            for (name, v) in g.iter() {
                let help = v.help.replace('\\', "\\\\").replace('\n', "\\n");
                out.push_str(&format!("# HELP {name} {help}\n# TYPE {name} gauge\n"));
                out.push_str(&format!(
                    "{name} {}\n",
                    crate::pyfloat::repr(v.committed + v.live)
                ));
            }
        }
        out
    }
}

static GLOBAL: OnceLock<Registry> = OnceLock::new();
static INTERVAL: OnceLock<std::time::Duration> = OnceLock::new();

/// How often the run loop refreshes the gauges (`--metrics-interval-in-seconds`, default 1s).
pub fn interval() -> std::time::Duration {
    INTERVAL
        .get()
        .copied()
        .unwrap_or(std::time::Duration::from_secs(1))
}

/// Publishes the running pipeline's counters: records so far and the writers' live totals.
pub fn publish(
    registry: &Registry,
    records: u64,
    writers: &[std::sync::Arc<crate::writer::Progress>],
) {
    registry.set_live("records", records as f64);
    let mut sums: IndexMap<String, u64> = IndexMap::new();
    for w in writers {
        let s = w.snapshot();
        *sums.entry("nodes_upserted".into()).or_default() += s.nodes_upserted;
        *sums.entry("relationships_upserted".into()).or_default() += s.relationships_upserted;
        *sums.entry("time_to_live_operations".into()).or_default() += s.time_to_live_operations;
        for (k, v) in &s.nodes_upserted_by_type {
            *sums
                .entry(format!("nodes_upserted_by_type_{k}"))
                .or_default() += v;
        }
        for (k, v) in &s.relationships_upserted_by_type {
            *sums
                .entry(format!("relationships_upserted_by_relationship_type_{k}"))
                .or_default() += v;
        }
    }
    for (k, v) in sums {
        registry.set_live(&k, v as f64);
    }
}

/// The registry when `--prometheus` is on.
pub fn global() -> Option<&'static Registry> {
    GLOBAL.get()
}

/// Binds the metrics server and serves it on the current tokio runtime until the process ends.
pub async fn start(
    address: &str,
    port: u16,
    interval_seconds: Option<f64>,
) -> Result<SocketAddr, PrometheusError> {
    if let Some(i) = interval_seconds.filter(|i| i.is_finite() && *i > 0.0) {
        let _ = INTERVAL.set(std::time::Duration::from_secs_f64(i));
    }
    let text = if address.contains(':') && !address.starts_with('[') {
        format!("[{address}]:{port}")
    } else {
        format!("{address}:{port}")
    };
    let addr: SocketAddr = text
        .parse()
        .map_err(|_| PrometheusError::Address(text.clone()))?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| PrometheusError::Bind {
            addr: text.clone(),
            source,
        })?;
    let local = listener.local_addr().unwrap_or(addr);
    let registry = GLOBAL.get_or_init(Registry::default);
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                continue;
            };
            tokio::spawn(async move {
                // Read the request head (bounded); the body of a GET is empty.
                let mut buf = vec![0u8; 8192];
                let mut n = 0;
                while n < buf.len() {
                    match sock.read(&mut buf[n..]).await {
                        Ok(0) | Err(_) => break,
                        Ok(k) => n += k,
                    }
                    if buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                        break;
                    }
                }
                let head = String::from_utf8_lossy(&buf[..n]);
                let response = if head.starts_with("GET ") || head.starts_with("HEAD ") {
                    let body = registry.render();
                    let mut r = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    if head.starts_with("GET ") {
                        r.push_str(&body);
                    }
                    r
                } else {
                    "HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                        .to_string()
                };
                let _ = sock.write_all(response.as_bytes()).await;
                let _ = sock.shutdown().await;
            });
        }
    });
    tracing::info!("Prometheus metrics server started on {local}");
    Ok(local)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn render_sums_pipelines() {
        let r = Registry::default();
        r.set_live("records", 3.0);
        r.commit();
        r.set_live("records", 2.0);
        r.set_live("nodes_upserted_by_type_My-Label", 1.0);
        assert_eq!(
            r.render(),
            "# HELP records Number of records processed\n# TYPE records gauge\nrecords 5.0\n\
             # HELP nodes_upserted_by_type_My_Label Number of nodes upserted by type My-Label\n\
             # TYPE nodes_upserted_by_type_My_Label gauge\nnodes_upserted_by_type_My_Label 1.0\n"
        );
    }
}
