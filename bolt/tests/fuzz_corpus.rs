//! Replays the committed seed corpus in fuzz/corpus/<target>/ through the fuzz entry points (CI runs no
//! nightly fuzzing). `cargo test -p bolt --test fuzz_corpus -- --ignored` regenerates the seeds.

use bolt::packstream::Encode;
use bolt::proto::message::{self as m, Auth, Hello, Params, TxExtra};
use bolt::value::*;
use bolt::{Map, Value, Version};
use bytes::BytesMut;
use std::path::{Path, PathBuf};

type Entry = fn(&[u8]);

const TARGETS: [(&str, Entry); 4] = [
    ("packstream_decode", bolt::fuzzing::packstream_decode),
    ("chunk_reader", bolt::fuzzing::chunk_reader),
    ("handshake_reply", bolt::fuzzing::handshake_reply),
    ("message_decode", bolt::fuzzing::message_decode),
];

fn corpus_dir(target: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../fuzz/corpus")
        .join(target)
}

#[test]
fn replay_seed_corpus() {
    for (target, f) in TARGETS {
        let dir = corpus_dir(target);
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        let mut n = 0;
        for e in entries {
            let data = std::fs::read(e.unwrap().path()).unwrap();
            f(&data);
            n += 1;
        }
        assert!(n >= 4, "{target}: only {n} seeds");
    }
}

fn values() -> Vec<Value> {
    let mut map = Map::new();
    map.insert(
        "a".into(),
        Value::List(vec![1.into(), "x".into(), Value::Null, 2.5.into()]),
    );
    map.insert(
        "b".into(),
        Value::Bytes(bytes::Bytes::from_static(b"\x00\x01")),
    );
    vec![
        Value::Integer(-17),
        Value::Integer(1 << 40),
        Value::from("a string longer than fifteen bytes"),
        Value::Map(map),
        Value::List((0..20).map(Value::from).collect()),
        Value::Date(Date { days: 19_000 }),
        Value::Time(Time {
            nanoseconds: 1,
            tz_offset_seconds: 3600,
        }),
        DateTime::from_unix(4500, 42, 3600).into(),
        DateTimeZoneId::from_unix(0, 0, "Europe/Paris").into(),
        Value::Duration(bolt::value::Duration {
            months: 1,
            days: 2,
            seconds: 3,
            nanoseconds: 4,
        }),
        Value::Point3D(Point3D {
            srid: 9157,
            x: 1.0,
            y: 2.0,
            z: 3.0,
        }),
    ]
}

/// Node, relationship and path structures as a 5.x server sends them.
fn graph() -> Vec<u8> {
    use bolt::packstream::encode as e;
    let mut b = BytesMut::new();
    e::struct_header(&mut b, b'P', 3);
    e::list_header(&mut b, 2);
    for i in 0..2 {
        e::struct_header(&mut b, b'N', 4);
        e::int(&mut b, i);
        vec!["L".to_owned()].encode(&mut b);
        Map::new().encode(&mut b);
        e::string(&mut b, &format!("4:x:{i}"));
    }
    e::list_header(&mut b, 1);
    e::struct_header(&mut b, b'r', 4);
    e::int(&mut b, 7);
    e::string(&mut b, "T");
    Map::new().encode(&mut b);
    e::string(&mut b, "5:x:7");
    [1i64, 1]
        .iter()
        .map(|i| Value::Integer(*i))
        .collect::<Vec<_>>()
        .encode(&mut b);
    b.to_vec()
}

fn messages() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut push = |f: &dyn Fn(&mut BytesMut)| {
        let mut b = BytesMut::new();
        f(&mut b);
        out.push(b.to_vec());
    };
    let meta: Map = [("fields".to_owned(), Value::List(vec!["n".into()]))]
        .into_iter()
        .collect();
    push(&|b| m::success(b, &meta));
    push(&|b| m::record(b, &[Value::Integer(1), Value::from("x")]));
    push(&|b| m::failure(b, "Neo.ClientError.Statement.SyntaxError", "bad"));
    push(&|b| m::bare(b, m::tag::IGNORED));
    push(&|b| m::pull(b, 1000, Some(3)));
    push(&|b| {
        m::begin(
            b,
            &TxExtra {
                db: Some("neo4j"),
                read: true,
                ..Default::default()
            },
        )
    });
    let params: Map = [("p".to_owned(), DateTime::from_unix(1, 2, 3).into())]
        .into_iter()
        .collect();
    push(&|b| m::run(b, "RETURN $p", Params::Map(&params), None, true));
    push(&|b| {
        let h = Hello {
            user_agent: "ua",
            auth: Auth {
                user: "u",
                password: "p",
            },
            routing: None,
            patch_utc: true,
            notifications_min_severity: Some("OFF"),
        };
        m::hello(b, Version::V4_4, &h)
    });
    let ctx: Map = [("address".to_owned(), Value::from("h:1"))]
        .into_iter()
        .collect();
    push(&|b| m::route(b, &ctx, &["bm".to_owned()], Some("neo4j")));
    out
}

#[test]
#[ignore = "regenerates fuzz/corpus; run by hand"]
fn write_seed_corpus() {
    let write = |target: &str, seeds: Vec<Vec<u8>>| {
        let dir = corpus_dir(target);
        std::fs::create_dir_all(&dir).unwrap();
        for (i, s) in seeds.into_iter().enumerate() {
            std::fs::write(dir.join(format!("seed-{i:02}")), s).unwrap();
        }
    };
    let mut ps: Vec<Vec<u8>> = values()
        .iter()
        .map(|v| {
            let mut b = BytesMut::new();
            v.encode(&mut b);
            b.to_vec()
        })
        .collect();
    ps.push(graph());
    write("packstream_decode", ps);
    let msgs = messages();
    // Message bodies without chunk headers for message_decode.
    write(
        "message_decode",
        msgs.iter().map(|c| c[2..c.len() - 2].to_vec()).collect(),
    );
    // Framed, with NOOPs, for the chunk reader (first byte = split point).
    write(
        "chunk_reader",
        msgs.iter()
            .enumerate()
            .map(|(i, c)| {
                let mut v = vec![(i * 3) as u8, 0, 0];
                v.extend_from_slice(c);
                v
            })
            .collect(),
    );
    write(
        "handshake_reply",
        vec![
            vec![0, 0, 4, 4],
            vec![0, 0, 8, 5],
            b"HTTP/1.1 400 Bad Request\r\n".to_vec(),
            vec![0, 0, 0, 0],
            vec![0, 0, 1, 0xFF, 3, 0, 0, 0, 6, 0, 7, 7, 0xF2, 0, 8, 8, 5, 0],
            vec![0, 0, 1, 0xFF, 0x81, 0x01],
        ],
    );
}
