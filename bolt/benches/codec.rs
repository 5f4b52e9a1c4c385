//! Encoding and decoding a loader batch: 10,000 rows of 5 properties, as one UNWIND parameter.

use bolt::packstream::decode::Decoder;
use bolt::packstream::{Encode, encode as e};
use bolt::proto::message::{self as m, Params};
use bolt::{Map, Value};
use bytes::BytesMut;
use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use std::hint::black_box;

const ROWS: usize = 10_000;

struct Row {
    id: i64,
    name: String,
    score: f64,
    active: bool,
    tags: Vec<String>,
}

fn rows() -> Vec<Row> {
    (0..ROWS as i64)
        .map(|i| Row {
            id: i,
            name: format!("person-{i}"),
            score: i as f64 * 0.25,
            active: i % 3 == 0,
            tags: vec!["a".into(), format!("t{}", i % 10)],
        })
        .collect()
}

/// Straight from the caller's structs into the buffer: the loader's hot path.
fn encode_direct(buf: &mut BytesMut, rows: &[Row]) {
    e::map_header(buf, 1);
    e::string(buf, "rows");
    e::list_header(buf, rows.len());
    for r in rows {
        e::map_header(buf, 5);
        e::string(buf, "id");
        e::int(buf, r.id);
        e::string(buf, "name");
        e::string(buf, &r.name);
        e::string(buf, "score");
        e::float(buf, r.score);
        e::string(buf, "active");
        e::boolean(buf, r.active);
        e::string(buf, "tags");
        r.tags.encode(buf);
    }
}

fn as_values(rows: &[Row]) -> Map {
    let list = rows
        .iter()
        .map(|r| {
            let mut m = Map::with_capacity(5);
            m.insert("id".into(), r.id.into());
            m.insert("name".into(), r.name.clone().into());
            m.insert("score".into(), r.score.into());
            m.insert("active".into(), r.active.into());
            m.insert("tags".into(), r.tags.clone().into());
            Value::Map(m)
        })
        .collect();
    let mut p = Map::new();
    p.insert("rows".into(), Value::List(list));
    p
}

fn bench(c: &mut Criterion) {
    let rows = rows();
    let mut g = c.benchmark_group("batch_10k_rows_5_props");
    g.throughput(Throughput::Elements(ROWS as u64));
    let mut buf = BytesMut::with_capacity(1 << 20);
    g.bench_function("encode_direct", |b| {
        b.iter(|| {
            buf.clear();
            encode_direct(&mut buf, black_box(&rows));
            black_box(buf.len())
        })
    });
    let values = as_values(&rows);
    g.bench_function("encode_values", |b| {
        b.iter(|| {
            buf.clear();
            black_box(&values).encode(&mut buf);
            black_box(buf.len())
        })
    });
    buf.clear();
    encode_direct(&mut buf, &rows);
    let params = buf.clone().freeze();
    let mut out = BytesMut::with_capacity(1 << 20);
    g.bench_function("run_message_preencoded_chunked", |b| {
        b.iter(|| {
            out.clear();
            m::run(
                &mut out,
                "UNWIND $rows AS row MERGE (n:P {id: row.id}) SET n += row",
                Params::Encoded(&params),
                None,
                true,
            );
            black_box(out.len())
        })
    });
    let mut body = params.slice(..);
    g.bench_function("decode", |b| {
        b.iter(|| {
            body = params.clone();
            let v = Decoder::new(black_box(body.clone())).value().unwrap();
            black_box(v)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
