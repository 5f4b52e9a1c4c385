//! Against the real Neo4j named by NODESTREAM_TEST_URI (fails, never skips, when it is missing).

use bolt::packstream::encode as enc;
use bolt::value::*;
use bolt::{Config, Driver, Error, Map, Query, Value};
use bytes::BytesMut;
use std::time::Duration;

fn config() -> Config {
    let uri = std::env::var("NODESTREAM_TEST_URI")
        .expect("NODESTREAM_TEST_URI must point at a running Neo4j");
    let pw = std::env::var("NODESTREAM_TEST_PASSWORD").unwrap_or_else(|_| "password".into());
    let mut c = Config::new(&uri, "neo4j", &pw);
    c.retry_initial_delay = Duration::from_millis(50);
    c
}

async fn driver_with(f: impl FnOnce(&mut Config)) -> Driver {
    let _ = tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
        .with_test_writer()
        .try_init();
    let mut c = config();
    f(&mut c);
    Driver::connect(c)
        .await
        .expect("connect to the test server")
}

async fn driver() -> Driver {
    driver_with(|_| {}).await
}

async fn count(d: &Driver, label: &str) -> i64 {
    let r = d
        .run(Query::new(format!("MATCH (n:`{label}`) RETURN count(n) AS c")).read())
        .await
        .unwrap();
    r.single("c").and_then(Value::as_int).unwrap()
}

async fn cleanup(d: &Driver, label: &str) {
    d.run(Query::new(format!("MATCH (n:`{label}`) DETACH DELETE n")))
        .await
        .unwrap();
}

#[tokio::test]
async fn wrong_password_is_a_clear_auth_error_without_the_password() {
    let mut c = config();
    c.password = "definitely-not-the-pw-9137".into();
    let e = Driver::connect(c).await.unwrap_err();
    assert!(matches!(e, Error::Auth { .. }), "{e:?}");
    assert_eq!(e.code(), Some("Neo.ClientError.Security.Unauthorized"));
    let text = format!("{e} {e:?}");
    assert!(!text.contains("definitely-not-the-pw-9137"), "{text}");
    assert!(text.contains("authentication"), "{text}");
}

#[tokio::test]
async fn negotiates_5x_by_default_and_44_when_forced() {
    let d = driver().await;
    let (major, minor) = d.protocol_version();
    assert_eq!(major, 5);
    assert!(minor >= 6, "5.26 speaks up to 5.8, got 5.{minor}");
    assert!(d.server_agent().starts_with("Neo4j/5"));
    let d44 = driver_with(|c| c.max_bolt_version = Some((4, 4))).await;
    assert_eq!(d44.protocol_version(), (4, 4));
    assert!(d44.utc_datetimes(), "5.26 acknowledges the utc patch");
    let d52 = driver_with(|c| c.max_bolt_version = Some((5, 2))).await;
    assert_eq!(d52.protocol_version(), (5, 2));
}

fn sample_values() -> Vec<(&'static str, Value)> {
    let mut m = Map::new();
    m.insert(
        "k".into(),
        Value::List(vec![1.into(), "two".into(), Value::Null]),
    );
    m.insert(
        "nested".into(),
        Value::Map(Map::from_iter([("x".to_owned(), Value::Float(-0.5))])),
    );
    vec![
        ("null", Value::Null),
        ("true", true.into()),
        ("false", false.into()),
        ("tiny", 42.into()),
        ("neg", (-17i64).into()),
        ("i16", 30_000.into()),
        ("i32", (-2_000_000_000i64).into()),
        ("i64", i64::MIN.into()),
        ("float", 1.23.into()),
        (
            "string",
            "héllo wörld, a longer string than fifteen bytes".into(),
        ),
        ("empty", "".into()),
        (
            "bytes",
            Value::Bytes(bytes::Bytes::from_static(&[0, 1, 2, 255])),
        ),
        ("list", Value::List((0..40).map(Value::from).collect())),
        ("map", Value::Map(m)),
        ("date", Value::Date(Date { days: 19_723 })),
        (
            "time",
            Value::Time(Time {
                nanoseconds: 3_600_000_000_123,
                tz_offset_seconds: -7200,
            }),
        ),
        (
            "localtime",
            Value::LocalTime(LocalTime {
                nanoseconds: 45_296_000_000_001,
            }),
        ),
        (
            "datetime",
            DateTime::from_unix(1_704_161_045, 123_456_789, 3600).into(),
        ),
        (
            "datetime_neg",
            DateTime::from_unix(-86_400 * 400, 5, -18_000).into(),
        ),
        (
            "zoned",
            DateTimeZoneId::from_unix(1_719_792_000, 42, "Europe/Paris").into(),
        ),
        (
            "localdatetime",
            LocalDateTime::from_unix(1_704_161_045, 999).into(),
        ),
        (
            "duration",
            Value::Duration(bolt::value::Duration {
                months: 14,
                days: -3,
                seconds: 7_200,
                nanoseconds: 5,
            }),
        ),
        (
            "point2d",
            Value::Point2D(Point2D {
                srid: 4326,
                x: 12.5,
                y: -45.25,
            }),
        ),
        (
            "point3d",
            Value::Point3D(Point3D {
                srid: 9157,
                x: 1.0,
                y: 2.0,
                z: 3.0,
            }),
        ),
    ]
}

async fn echo_all(d: &Driver) -> Vec<Value> {
    let mut q = Query::new(
        "RETURN [$null,$true,$false,$tiny,$neg,$i16,$i32,$i64,$float,$string,$empty,$bytes,$list,$map,$date,$time,\
         $localtime,$datetime,$datetime_neg,$zoned,$localdatetime,$duration,$point2d,$point3d] AS v",
    )
    .read();
    for (k, v) in sample_values() {
        q = q.param(k, v);
    }
    let r = d.run(q).await.unwrap();
    r.single("v").and_then(Value::as_list).unwrap().to_vec()
}

#[tokio::test]
async fn every_parameter_type_round_trips_on_5x_and_44() {
    let expected: Vec<Value> = sample_values().into_iter().map(|(_, v)| v).collect();
    for max in [None, Some((4, 4))] {
        let d = driver_with(|c| c.max_bolt_version = max).await;
        let got = echo_all(&d).await;
        assert_eq!(got, expected, "bolt {:?}", d.protocol_version());
    }
}

#[tokio::test]
async fn legacy_datetime_form_without_utc_patch() {
    let d = driver_with(|c| {
        c.max_bolt_version = Some((4, 4));
        c.patch_utc = false;
    })
    .await;
    assert!(!d.utc_datetimes());
    let dt = DateTime::from_unix(1_704_161_045, 7, 3600);
    let r = d
        .run(Query::new("RETURN $d AS d, toString($d) AS s, datetime('2024-01-02T03:04:05.000000007+01:00') AS c").param("d", dt).read())
        .await
        .unwrap();
    assert_eq!(r.single("d"), Some(&Value::DateTime(dt)));
    assert_eq!(r.single("c"), Some(&Value::DateTime(dt)));
    assert_eq!(
        r.single("s").and_then(Value::as_str),
        Some("2024-01-02T03:04:05.000000007+01:00")
    );
}

#[tokio::test]
async fn temporal_and_spatial_values_built_by_cypher() {
    let d = driver().await;
    let r = d
        .run(
            Query::new(
                "RETURN date('2024-01-02') AS d, localtime('12:34:56.000000001') AS lt, time('01:00:00+02:00') AS t, \
                 datetime('2024-07-01T02:00:00.000000042[Europe/Paris]') AS z, localdatetime('1969-12-31T23:59:59') AS ldt, \
                 duration('P1Y2M3DT4H5M6.000000007S') AS dur, point({longitude: 1.5, latitude: 2.5}) AS p",
            )
            .read(),
        )
        .await
        .unwrap();
    assert_eq!(r.single("d"), Some(&Value::Date(Date { days: 19_724 })));
    assert_eq!(
        r.single("lt"),
        Some(&Value::LocalTime(LocalTime {
            nanoseconds: 45_296_000_000_001
        }))
    );
    assert_eq!(
        r.single("t"),
        Some(&Value::Time(Time {
            nanoseconds: 3_600_000_000_000,
            tz_offset_seconds: 7200
        }))
    );
    // 2024-07-01T02:00 in Paris (UTC+2) is 2024-07-01T00:00Z = 1719792000.
    assert_eq!(
        r.single("z"),
        Some(&DateTimeZoneId::from_unix(1_719_792_000, 42, "Europe/Paris").into())
    );
    assert_eq!(
        r.single("ldt"),
        Some(&LocalDateTime::from_unix(-1, 0).into())
    );
    assert_eq!(
        r.single("dur"),
        Some(&Value::Duration(bolt::value::Duration {
            months: 14,
            days: 3,
            seconds: 4 * 3600 + 5 * 60 + 6,
            nanoseconds: 7
        }))
    );
    assert_eq!(
        r.single("p"),
        Some(&Value::Point2D(Point2D {
            srid: 4326,
            x: 1.5,
            y: 2.5
        }))
    );
}

async fn graph_values(d: &Driver, label: &str) -> (Node, Relationship, Path) {
    let r = d
        .run(Query::new(format!(
            "CREATE p = (a:`{label}` {{name: 'a', n: 1}})-[r:`{label}_T` {{w: 0.5}}]->(b:`{label}` {{name: 'b'}}) RETURN a, r, p"
        )))
        .await
        .unwrap();
    let Some(Value::Node(a)) = r.single("a").cloned() else {
        panic!("{r:?}")
    };
    let Some(Value::Relationship(rel)) = r.single("r").cloned() else {
        panic!("{r:?}")
    };
    let Some(Value::Path(p)) = r.single("p").cloned() else {
        panic!("{r:?}")
    };
    (*a, *rel, *p)
}

#[tokio::test]
async fn graph_structures_with_and_without_element_ids() {
    let label = "BoltTestGraph";
    let d = driver().await;
    cleanup(&d, label).await;
    let (a, r, p) = graph_values(&d, label).await;
    assert_eq!(a.labels, vec![label.to_owned()]);
    assert_eq!(a.properties.get("name"), Some(&Value::from("a")));
    assert!(a.element_id.as_deref().is_some_and(|e| !e.is_empty()));
    assert_eq!(r.rel_type, format!("{label}_T"));
    assert_eq!(r.start_node_id, a.id);
    assert_eq!(r.start_node_element_id, a.element_id);
    assert!(r.element_id.is_some() && r.end_node_element_id.is_some());
    assert_eq!(p.nodes.len(), 2);
    assert_eq!(p.rels.len(), 1);
    assert_eq!(p.indices, vec![1, 1]);
    assert_eq!(p.rels[0].element_id, r.element_id);

    let d44 = driver_with(|c| c.max_bolt_version = Some((4, 4))).await;
    let (a4, r4, p4) = graph_values(&d44, label).await;
    assert_eq!(a4.element_id, None);
    assert_eq!(r4.element_id, None);
    assert_eq!(p4.rels[0].element_id, None);
    assert_eq!((a4.labels, a4.properties), (a.labels, a.properties));
    assert_eq!((r4.rel_type, r4.properties), (r.rel_type, r.properties));
    cleanup(&d, label).await;
    assert_eq!(count(&d, label).await, 0);
}

#[tokio::test]
async fn same_results_on_44_and_5x() {
    let q = "UNWIND range(1, 50) AS i RETURN i, toString(i) AS s, i * 1.5 AS f, [i, i+1] AS l, {k: i} AS m, \
             date('2020-01-01') + duration({days: i}) AS d ORDER BY i";
    let d5 = driver().await;
    let d4 = driver_with(|c| c.max_bolt_version = Some((4, 4))).await;
    let r5 = d5.run(Query::new(q).read()).await.unwrap();
    let r4 = d4.run(Query::new(q).read()).await.unwrap();
    assert_eq!(r5.keys, r4.keys);
    assert_eq!(r5.rows, r4.rows);
    assert_eq!(r5.rows.len(), 50);
}

#[tokio::test]
async fn explicit_and_auto_commit_writes_land_with_stats() {
    let label = "BoltTestWrites";
    let d = driver().await;
    cleanup(&d, label).await;
    let r = d
        .run(Query::new(format!("CREATE (:`{label}` {{v: $v}})")).param("v", 1))
        .await
        .unwrap();
    assert_eq!(r.counter("nodes-created"), 1);
    assert!(
        r.summary.get("bookmark").and_then(Value::as_str).is_some(),
        "{:?}",
        r.summary
    );
    let r = d
        .run(Query::new(format!("CREATE (:`{label}` {{v: 2}})")).auto_commit())
        .await
        .unwrap();
    assert_eq!(r.counter("nodes-created"), 1);
    assert_eq!(count(&d, label).await, 2);
    // CALL {} IN TRANSACTIONS works only outside an explicit transaction.
    let text = format!(
        "UNWIND range(1, 10) AS i CALL {{ WITH i CREATE (:`{label}` {{v: i}}) }} IN TRANSACTIONS OF 3 ROWS"
    );
    d.run(Query::new(text.clone()).auto_commit()).await.unwrap();
    assert_eq!(count(&d, label).await, 12);
    let e = d.run(Query::new(text)).await.unwrap_err();
    assert!(e.to_string().contains("implicit transaction"), "{e:?}");
    assert!(!e.is_retryable());
    assert_eq!(count(&d, label).await, 12);
    cleanup(&d, label).await;
}

#[tokio::test]
async fn pre_encoded_parameters() {
    let label = "BoltTestEncoded";
    let d = driver().await;
    cleanup(&d, label).await;
    let mut buf = BytesMut::new();
    enc::map_header(&mut buf, 1);
    enc::string(&mut buf, "rows");
    enc::list_header(&mut buf, 500);
    for i in 0..500i64 {
        enc::map_header(&mut buf, 2);
        enc::string(&mut buf, "id");
        enc::int(&mut buf, i);
        enc::string(&mut buf, "name");
        enc::string(&mut buf, &format!("n{i}"));
    }
    let q = Query::new(format!(
        "UNWIND $rows AS row CREATE (n:`{label}`) SET n = row"
    ))
    .encoded_params(buf.freeze());
    let r = d.run(q).await.unwrap();
    assert_eq!(r.counter("nodes-created"), 500);
    let r = d
        .run(
            Query::new(format!(
                "MATCH (n:`{label}`) RETURN sum(n.id) AS s, max(n.name) AS m"
            ))
            .read(),
        )
        .await
        .unwrap();
    assert_eq!(r.single("s"), Some(&Value::Integer(499 * 500 / 2)));
    assert_eq!(r.single("m"), Some(&Value::from("n99")));
    cleanup(&d, label).await;
}

#[tokio::test]
async fn large_message_spans_many_chunks() {
    let d = driver().await;
    let big = "x".repeat(300_000);
    let r = d
        .run(
            Query::new("RETURN size($s) AS n, $s AS s")
                .param("s", big.as_str())
                .read(),
        )
        .await
        .unwrap();
    assert_eq!(r.single("n"), Some(&Value::Integer(300_000)));
    assert_eq!(r.single("s").and_then(Value::as_str), Some(big.as_str()));
}

#[tokio::test]
async fn paged_stream_in_explicit_and_auto_commit_mode() {
    let d = driver().await;
    for auto in [false, true] {
        let mut q = Query::new("UNWIND range(1, 2500) AS i RETURN i").read();
        if auto {
            q = q.auto_commit();
        }
        let mut s = d.stream(q, 1000).await.unwrap();
        assert_eq!(s.keys(), &["i".to_owned()]);
        let mut n = 0i64;
        while let Some(row) = s.next().await {
            n += 1;
            assert_eq!(row.unwrap(), vec![Value::Integer(n)]);
        }
        assert_eq!(n, 2500);
        assert!(s.summary().is_some());
    }
    // An abandoned stream leaves a connection that is reset before reuse.
    let d1 = driver_with(|c| c.max_connection_pool_size = 1).await;
    let mut s = d1
        .stream(Query::new("UNWIND range(1, 5000) AS i RETURN i").read(), 10)
        .await
        .unwrap();
    assert!(s.next().await.unwrap().is_ok());
    drop(s);
    let r = d1.run(Query::new("RETURN 7 AS x").read()).await.unwrap();
    assert_eq!(r.single("x"), Some(&Value::Integer(7)));
}

#[tokio::test]
async fn pipelined_transactions_on_one_connection() {
    let label = "BoltTestPipelined";
    let d = driver_with(|c| {
        c.max_connection_pool_size = 1;
        c.max_pipelined_transactions = 16;
    })
    .await;
    cleanup(&d, label).await;
    let mut tasks = Vec::new();
    for i in 0..40i64 {
        let d = d.clone();
        tasks.push(tokio::spawn(async move {
            d.run(Query::new(format!("CREATE (:`{label}` {{i: $i}})")).param("i", i))
                .await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().unwrap().counter("nodes-created"), 1);
    }
    assert_eq!(count(&d, label).await, 40);
    cleanup(&d, label).await;
}

#[tokio::test]
async fn failing_transaction_in_the_middle_of_a_pipeline() {
    let label = "BoltTestPipeFail";
    let d = driver_with(|c| {
        c.max_connection_pool_size = 1;
        c.max_pipelined_transactions = 16;
    })
    .await;
    cleanup(&d, label).await;
    let mut tasks = Vec::new();
    for i in 0..12i64 {
        let d = d.clone();
        tasks.push(tokio::spawn(async move {
            // Every fourth transaction divides by zero: a client error, not retried.
            let q = Query::new(format!(
                "CREATE (n:`{label}` {{i: $i}}) SET n.x = 1 / ($i % 4) RETURN n.i AS i"
            ))
            .param("i", i);
            (i, d.run(q).await)
        }));
    }
    for t in tasks {
        let (i, r) = t.await.unwrap();
        if i % 4 == 0 {
            let e = r.unwrap_err();
            assert_eq!(
                e.code(),
                Some("Neo.ClientError.Statement.ArithmeticError"),
                "{e:?}"
            );
        } else {
            assert_eq!(r.unwrap().single("i"), Some(&Value::Integer(i)));
        }
    }
    assert_eq!(count(&d, label).await, 9);
    // The failed transactions were rolled back.
    let r = d
        .run(
            Query::new(format!(
                "MATCH (n:`{label}`) WHERE n.i % 4 = 0 RETURN count(n) AS c"
            ))
            .read(),
        )
        .await;
    assert_eq!(r.unwrap().single("c"), Some(&Value::Integer(0)));
    cleanup(&d, label).await;
}

#[tokio::test]
async fn syntax_error_is_reported_with_code_and_connection_recovers() {
    let d = driver_with(|c| c.max_connection_pool_size = 1).await;
    let e = d.run(Query::new("RETURN RETURN")).await.unwrap_err();
    assert_eq!(e.code(), Some("Neo.ClientError.Statement.SyntaxError"));
    assert!(!e.is_retryable());
    let r = d.run(Query::new("RETURN 1 AS one")).await.unwrap();
    assert_eq!(r.single("one"), Some(&Value::Integer(1)));
}

#[tokio::test]
async fn database_selection() {
    let d = driver().await;
    let r = d
        .run(
            Query::new("SHOW DATABASES YIELD name RETURN name")
                .database("system")
                .read(),
        )
        .await
        .unwrap();
    assert!(
        r.rows.iter().any(|row| row[0] == Value::from("neo4j")),
        "{r:?}"
    );
    assert_eq!(r.summary.get("db").and_then(Value::as_str), Some("system"));
    let e = d
        .run(Query::new("RETURN 1").database("nosuchdb"))
        .await
        .unwrap_err();
    assert!(
        e.code().is_some_and(|c| c.contains("DatabaseNotFound")),
        "{e:?}"
    );
}

#[tokio::test]
async fn routing_scheme_against_a_single_server() {
    let uri = config().uri.replacen("bolt://", "neo4j://", 1);
    let d = driver_with(|c| c.uri = uri).await;
    assert!(d.is_routing());
    let r = d.run(Query::new("RETURN 5 AS x")).await.unwrap();
    assert_eq!(r.single("x"), Some(&Value::Integer(5)));
    let t = d
        .routing_table(None)
        .expect("a table after the first query");
    assert!(!t.writers.is_empty() && !t.readers.is_empty() && !t.routers.is_empty());
}

#[tokio::test]
async fn many_concurrent_tasks_share_the_pool() {
    let d = driver_with(|c| c.max_connection_pool_size = 4).await;
    let mut tasks = Vec::new();
    for i in 0..100i64 {
        let d = d.clone();
        tasks.push(tokio::spawn(async move {
            d.run(Query::new("RETURN $i AS i").param("i", i).read())
                .await
        }));
    }
    for (i, t) in tasks.into_iter().enumerate() {
        assert_eq!(
            t.await.unwrap().unwrap().single("i"),
            Some(&Value::Integer(i as i64))
        );
    }
    d.close().await;
    assert!(matches!(
        d.run(Query::new("RETURN 1")).await,
        Err(Error::Closed)
    ));
}

/// Every Bolt version 5.26 speaks (5.5 was never released), forced one at a time: the
/// negotiated version is exactly the forced one and every PackStream type round-trips.
#[tokio::test]
async fn every_type_round_trips_on_every_forced_bolt_version() {
    let expected: Vec<Value> = sample_values().into_iter().map(|(_, v)| v).collect();
    let versions = [
        (4, 4),
        (5, 0),
        (5, 1),
        (5, 2),
        (5, 3),
        (5, 4),
        (5, 6),
        (5, 7),
        (5, 8),
    ];
    for v in versions {
        let d = driver_with(|c| c.max_bolt_version = Some(v)).await;
        assert_eq!(d.protocol_version(), v, "forced {v:?}");
        let got = echo_all(&d).await;
        assert_eq!(got, expected, "bolt {v:?}");
        d.close().await;
    }
}

/// A pre-encoded parameter map over 16 MiB (~20 MiB of strings) reaches the server intact.
#[tokio::test]
async fn encoded_parameter_batch_over_16_mib() {
    let d = driver().await;
    let n: i64 = 20_000;
    let width = 1024usize;
    let mut buf = BytesMut::with_capacity(n as usize * (width + 8) + 16);
    enc::map_header(&mut buf, 1);
    enc::string(&mut buf, "rows");
    enc::list_header(&mut buf, n as usize);
    let mut s = String::with_capacity(width);
    let mut expected_sum = 0i64;
    for i in 0..n {
        s.clear();
        // Each string starts with its index, padded to `width` bytes.
        s.push_str(&format!("{i:08}"));
        while s.len() < width {
            s.push((b'a' + (i % 26) as u8) as char);
        }
        expected_sum += i;
        enc::string(&mut buf, &s);
    }
    assert!(buf.len() > 16 * 1024 * 1024, "{} bytes", buf.len());
    let q = Query::new(
        "RETURN size($rows) AS n, \
         reduce(t = 0, r IN $rows | t + toInteger(substring(r, 0, 8))) AS s, \
         reduce(t = 0, r IN $rows | t + size(r)) AS bytes, \
         $rows[size($rows) - 1] AS last",
    )
    .read()
    .encoded_params(buf.freeze());
    let r = d.run(q).await.unwrap();
    assert_eq!(r.single("n"), Some(&Value::Integer(n)));
    assert_eq!(r.single("s"), Some(&Value::Integer(expected_sum)));
    assert_eq!(r.single("bytes"), Some(&Value::Integer(n * width as i64)));
    assert_eq!(r.single("last"), Some(&Value::from(s.as_str())));
}

/// A 100,000-row result pulled in batches of 1000.
#[tokio::test]
async fn stream_of_100k_rows_in_pull_batches() {
    let d = driver().await;
    let mut s = d
        .stream(
            Query::new("UNWIND range(1, 100000) AS i RETURN i, 'r' + toString(i) AS name").read(),
            1000,
        )
        .await
        .unwrap();
    assert_eq!(s.keys(), &["i".to_owned(), "name".to_owned()]);
    let mut n = 0i64;
    let mut first = None;
    let mut last = None;
    while let Some(row) = s.next().await {
        let row = row.unwrap();
        n += 1;
        assert_eq!(row[0], Value::Integer(n));
        if first.is_none() {
            first = Some(row.clone());
        }
        last = Some(row);
    }
    assert_eq!(n, 100_000);
    assert_eq!(first, Some(vec![Value::Integer(1), Value::from("r1")]));
    assert_eq!(
        last,
        Some(vec![Value::Integer(100_000), Value::from("r100000")])
    );
    assert!(s.summary().is_some());
}

/// A closed local port fails fast with an I/O error naming the address.
#[tokio::test]
async fn closed_port_is_a_quick_clear_connection_error() {
    // Bind then drop a listener to get a port nobody listens on.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let mut c = config();
    c.uri = format!("bolt://127.0.0.1:{port}");
    let started = std::time::Instant::now();
    let e = Driver::connect(c).await.unwrap_err();
    let took = started.elapsed();
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let text = e.to_string();
    assert!(
        matches!(e, Error::Io { .. } | Error::ServiceUnavailable(_)),
        "{e:?}"
    );
    assert!(text.contains(&format!("127.0.0.1:{port}")), "{text}");
    assert!(text.to_lowercase().contains("refused"), "{text}");
}
