//! Side by side with the other Rust clients (issue 3): `bolt`, `neo4rs` 0.9 and `neo4j` 0.2 send the same
//! 10,000-row `UNWIND $rows AS r MERGE ...` batch to a real server. The server dominates wall time, so the
//! measured quantity is the **client process's CPU time** (user + system, all threads) per batch: each
//! client starts from the same Rust structs, builds whatever its API wants, sends the transaction and waits
//! for the commit. Wall time per batch goes to stderr for reference.
//!
//! Neither peer exposes its PackStream encoder (`neo4rs`: `packstream` and `BoltWireFormat` are
//! crate-private; `neo4j`: `driver::io::bolt::packstream` is crate-private), so encode-only throughput is
//! measured for `bolt` alone (`encode/bolt_direct`, `encode/bolt_values`).
//!
//! Needs `NODESTREAM_TEST_URI` (a `bolt://host:port` URI; `NODESTREAM_TEST_PASSWORD`, default `password`).
//! `cargo bench -p bolt --bench peers -- --warm-up-time 1 --measurement-time 5`

use bolt::packstream::{Encode, encode as e};
use bolt::{Map, Value};
use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};

const ROWS: usize = 10_000;
const QUERY: &str = "UNWIND $rows AS r MERGE (n:BoltPeerBench {key: r.key}) \
                     SET n += r.props, n.source = r.source, n.last_ingested_at = r.ts";
const PROP_KEYS: [&str; 8] = [
    "name", "city", "country", "email", "phone", "company", "title", "status",
];

/// A loader row: a key, a source tag, a property map of 8 short strings and one DateTime.
struct Row {
    key: String,
    source: &'static str,
    props: [String; 8],
    /// Unix seconds (UTC), nanoseconds, offset seconds.
    ts: (i64, u32, i32),
}

fn rows() -> Vec<Row> {
    (0..ROWS)
        .map(|i| Row {
            key: format!("node-{i:06}"),
            source: "bench",
            props: std::array::from_fn(|k| format!("{}-{}", PROP_KEYS[k], (i * 7 + k) % 1000)),
            ts: (
                1_700_000_000 + i as i64,
                (i as u32 * 1000) % 1_000_000_000,
                3600,
            ),
        })
        .collect()
}

/// CPU time of the whole process (all threads), user + system.
fn process_cpu() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_PROCESS_CPUTIME_ID is supported on Linux.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

// ---- bolt -------------------------------------------------------------------------------------------

fn bolt_encode(buf: &mut BytesMut, rows: &[Row]) {
    e::map_header(buf, 1);
    e::string(buf, "rows");
    e::list_header(buf, rows.len());
    for r in rows {
        e::map_header(buf, 4);
        e::string(buf, "key");
        e::string(buf, &r.key);
        e::string(buf, "source");
        e::string(buf, r.source);
        e::string(buf, "props");
        e::map_header(buf, PROP_KEYS.len());
        for (k, v) in PROP_KEYS.iter().zip(&r.props) {
            e::string(buf, k);
            e::string(buf, v);
        }
        e::string(buf, "ts");
        // Bolt 5 / 4.4-with-utc DateTime: UTC seconds, nanoseconds, offset.
        e::struct_header(buf, b'I', 3);
        e::int(buf, r.ts.0);
        e::int(buf, r.ts.1 as i64);
        e::int(buf, r.ts.2 as i64);
    }
}

fn bolt_values(rows: &[Row]) -> Map {
    let list = rows
        .iter()
        .map(|r| {
            let mut props = Map::with_capacity(PROP_KEYS.len());
            for (k, v) in PROP_KEYS.iter().zip(&r.props) {
                props.insert((*k).into(), v.clone().into());
            }
            let mut m = Map::with_capacity(4);
            m.insert("key".into(), r.key.clone().into());
            m.insert("source".into(), r.source.into());
            m.insert("props".into(), Value::Map(props));
            m.insert(
                "ts".into(),
                bolt::value::DateTime::from_unix(r.ts.0, r.ts.1, r.ts.2).into(),
            );
            Value::Map(m)
        })
        .collect();
    let mut p = Map::new();
    p.insert("rows".into(), Value::List(list));
    p
}

// ---- neo4rs -----------------------------------------------------------------------------------------

fn chrono_ts(ts: (i64, u32, i32)) -> chrono::DateTime<chrono::FixedOffset> {
    let utc = chrono::DateTime::from_timestamp(ts.0, ts.1).expect("timestamp in range");
    utc.with_timezone(&chrono::FixedOffset::east_opt(ts.2).expect("offset in range"))
}

fn neo4rs_rows(rows: &[Row]) -> neo4rs::BoltType {
    use neo4rs::{BoltList, BoltMap, BoltType};
    let mut list = BoltList::with_capacity(rows.len());
    for r in rows {
        let mut props = BoltMap::with_capacity(PROP_KEYS.len());
        for (k, v) in PROP_KEYS.iter().zip(&r.props) {
            props.put((*k).into(), v.as_str().into());
        }
        let mut m = BoltMap::with_capacity(4);
        m.put("key".into(), r.key.as_str().into());
        m.put("source".into(), r.source.into());
        m.put("props".into(), BoltType::Map(props));
        m.put("ts".into(), chrono_ts(r.ts).into());
        list.push(BoltType::Map(m));
    }
    BoltType::List(list)
}

// ---- neo4j ------------------------------------------------------------------------------------------

fn neo4j_rows(rows: &[Row]) -> std::collections::HashMap<String, neo4j::ValueSend> {
    use neo4j::ValueSend;
    use std::collections::HashMap;
    let list = rows
        .iter()
        .map(|r| {
            let props = PROP_KEYS
                .iter()
                .zip(&r.props)
                .map(|(k, v)| ((*k).to_owned(), ValueSend::String(v.clone())))
                .collect::<HashMap<_, _>>();
            let mut m = HashMap::with_capacity(4);
            m.insert("key".to_owned(), ValueSend::String(r.key.clone()));
            m.insert("source".to_owned(), ValueSend::String(r.source.to_owned()));
            m.insert("props".to_owned(), ValueSend::Map(props));
            m.insert("ts".to_owned(), ValueSend::DateTimeFixed(chrono_ts(r.ts)));
            ValueSend::Map(m)
        })
        .collect();
    HashMap::from([("rows".to_owned(), ValueSend::List(list))])
}

// ---- the benches ------------------------------------------------------------------------------------

fn encode(c: &mut Criterion) {
    let rows = rows();
    let mut buf = BytesMut::with_capacity(1 << 21);
    bolt_encode(&mut buf, &rows);
    let mut g = c.benchmark_group("encode_10k_loader_rows");
    g.throughput(Throughput::Bytes(buf.len() as u64));
    eprintln!("encoded batch: {} bytes", buf.len());
    g.bench_function("bolt_direct", |b| {
        b.iter(|| {
            buf.clear();
            bolt_encode(&mut buf, black_box(&rows));
            black_box(buf.len())
        })
    });
    let values = bolt_values(&rows);
    g.bench_function("bolt_values", |b| {
        b.iter(|| {
            buf.clear();
            black_box(&values).encode(&mut buf);
            black_box(buf.len())
        })
    });
    g.finish();
}

/// Runs `batch` `iters` times and returns the process CPU time it took; prints mean wall time per batch.
fn cpu_of(name: &str, iters: u64, mut batch: impl FnMut()) -> Duration {
    let (cpu0, wall0) = (process_cpu(), Instant::now());
    for _ in 0..iters {
        batch();
    }
    let (cpu, wall) = (process_cpu() - cpu0, wall0.elapsed());
    eprintln!(
        "{name}: {iters} batch(es), wall {:.1} ms/batch, cpu {:.1} ms/batch",
        wall.as_secs_f64() * 1e3 / iters as f64,
        cpu.as_secs_f64() * 1e3 / iters as f64
    );
    cpu
}

fn send(c: &mut Criterion) {
    let uri = std::env::var("NODESTREAM_TEST_URI")
        .expect("NODESTREAM_TEST_URI must point at a Neo4j server (bolt://host:port)");
    let password = std::env::var("NODESTREAM_TEST_PASSWORD").unwrap_or_else(|_| "password".into());
    let hostport = uri
        .split("://")
        .nth(1)
        .expect("URI with a scheme")
        .to_owned();
    let rows = rows();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");

    let driver = rt
        .block_on(bolt::Driver::connect(bolt::Config::new(
            &uri, "neo4j", &password,
        )))
        .expect("bolt connects");
    rt.block_on(driver.run(bolt::Query::new(
        "CREATE INDEX bolt_peer_bench_key IF NOT EXISTS FOR (n:BoltPeerBench) ON (n.key)",
    )))
    .expect("index");
    rt.block_on(driver.run(bolt::Query::new("CALL db.awaitIndexes(60)")))
        .expect("await index");
    let text: Arc<str> = QUERY.into();

    let graph = neo4rs::Graph::new(hostport.clone(), "neo4j", password.clone());
    let graph = match graph {
        Ok(g) => Some(g),
        Err(err) => {
            eprintln!("neo4rs: cannot connect: {err}");
            None
        }
    };

    let (host, port) = hostport.rsplit_once(':').expect("host:port");
    let port: u16 = port.parse().expect("port");
    let neo4j_driver = neo4j::driver::Driver::new(
        neo4j::driver::ConnectionConfig::new((host, port).into()).with_routing(false),
        neo4j::driver::DriverConfig::new().with_auth(Arc::new(
            neo4j::driver::auth::AuthToken::new_basic_auth("neo4j", password.clone()),
        )),
    );

    let mut g = c.benchmark_group("send_10k_loader_rows_client_cpu");
    g.throughput(Throughput::Elements(ROWS as u64));
    g.sample_size(10);

    let mut buf = BytesMut::with_capacity(1 << 21);
    g.bench_function("bolt", |b| {
        b.iter_custom(|iters| {
            cpu_of("bolt", iters, || {
                bolt_encode(&mut buf, black_box(&rows));
                let q = bolt::Query::new(text.clone())
                    .encoded_params(buf.split().freeze())
                    .idempotent();
                rt.block_on(driver.run(q)).expect("bolt batch");
            })
        })
    });

    // The same path through owned values (what a caller without its own encoder would do).
    g.bench_function("bolt_values", |b| {
        b.iter_custom(|iters| {
            cpu_of("bolt_values", iters, || {
                let mut params = bolt_values(black_box(&rows));
                let rows = params.swap_remove("rows").expect("rows");
                let q = bolt::Query::new(text.clone())
                    .param("rows", rows)
                    .idempotent();
                rt.block_on(driver.run(q)).expect("bolt batch");
            })
        })
    });

    if let Some(graph) = &graph {
        g.bench_function("neo4rs", |b| {
            b.iter_custom(|iters| {
                cpu_of("neo4rs", iters, || {
                    let q = neo4rs::query(QUERY).param("rows", neo4rs_rows(black_box(&rows)));
                    rt.block_on(graph.run(q)).expect("neo4rs batch");
                })
            })
        });
    }

    g.bench_function("neo4j", |b| {
        b.iter_custom(|iters| {
            cpu_of("neo4j", iters, || {
                let params = neo4j_rows(black_box(&rows));
                neo4j_driver
                    .execute_query(QUERY)
                    .with_parameters(params)
                    .run()
                    .expect("neo4j batch");
            })
        })
    });
    g.finish();

    rt.block_on(driver.run(bolt::Query::new(
        "MATCH (n:BoltPeerBench) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS",
    ).auto_commit()))
    .expect("cleanup");
}

criterion_group!(benches, encode, send);
criterion_main!(benches);
