//! Faults and protocol corners, scripted with our own stub server (tests/stub).

mod stub;

use bolt::proto::message::Request;
use bolt::{Config, Driver, Error, Query, Value};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use stub::{StubConn, StubServer, routing_table};

fn config(uri: &str) -> Config {
    let mut c = Config::new(uri, "neo4j", "pw-stub-123");
    c.retry_initial_delay = Duration::from_millis(10);
    c.max_transaction_retry_time = Duration::from_secs(5);
    c.connection_timeout = Duration::from_secs(5);
    c.connection_acquisition_timeout = Duration::from_secs(5);
    c
}

async fn connect(s: &StubServer) -> Driver {
    Driver::connect(config(&s.uri("bolt")))
        .await
        .expect("connect to stub")
}

#[tokio::test]
async fn http_port_is_recognised() {
    let s = StubServer::start(|_, mut c: StubConn| async move {
        c.handshake(b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n")
            .await?;
        Ok(())
    })
    .await;
    let e = Driver::connect(config(&s.uri("bolt"))).await.unwrap_err();
    assert!(matches!(e, Error::HttpPort(_)), "{e:?}");
    assert!(e.to_string().contains("HTTP"), "{e}");
    s.assert_ok();
}

#[tokio::test]
async fn manifest_handshake_chooses_the_best_version_and_pipelines_hello() {
    let s = StubServer::start(|_, mut c: StubConn| async move {
        let offer = c
            .handshake(&[0, 0, 1, 0xFF, 3, 0, 0, 0, 6, 0, 7, 7, 0xF2, 0, 8, 8, 5, 0])
            .await?;
        if offer[4..8] != [0, 0, 1, 0xFF] {
            return Err(format!("manifest not offered first: {offer:02X?}"));
        }
        let choice = c.read_raw(5).await?;
        if choice != [0, 0, 8, 5, 0] {
            return Err(format!("choice {choice:02X?}"));
        }
        let Request::Hello(h) = c.expect("HELLO").await? else {
            unreachable!()
        };
        if h.contains_key("credentials") || !h.contains_key("bolt_agent") {
            return Err(format!(
                "5.8 HELLO must carry bolt_agent and no credentials: {h:?}"
            ));
        }
        let Request::Logon(l) = c.expect("LOGON").await? else {
            unreachable!()
        };
        if l.get("credentials") != Some(&Value::from("pw-stub-123")) {
            return Err("LOGON without the password".into());
        }
        c.success(map! {"server" => "Neo4j/2025.10.0", "protocol_version" => "5.8"})
            .await?;
        c.success(bolt::Map::new()).await?;
        c.drain().await
    })
    .await;
    let d = connect(&s).await;
    assert_eq!(d.protocol_version(), (5, 8));
    assert_eq!(d.server_agent(), "Neo4j/2025.10.0");
    d.close().await;
    s.assert_ok();
}

#[tokio::test]
async fn bolt_44_hello_carries_auth_and_utc_patch() {
    let s = StubServer::start(|_, mut c: StubConn| async move {
        let h = c
            .accept_with(
                4,
                4,
                map! {"server" => "Neo4j/4.4.0", "patch_bolt" => vec![Value::from("utc")]},
            )
            .await?;
        if h.get("principal") != Some(&Value::from("neo4j"))
            || h.get("scheme") != Some(&Value::from("basic"))
        {
            return Err(format!(
                "auth missing in 4.4 HELLO: {:?}",
                h.keys().collect::<Vec<_>>()
            ));
        }
        if h.get("patch_bolt") != Some(&Value::List(vec!["utc".into()])) {
            return Err("no utc patch requested".into());
        }
        c.serve_tx(&["x"], vec![vec![1.into()]]).await?;
        c.drain().await
    })
    .await;
    let d = connect(&s).await;
    assert_eq!(d.protocol_version(), (4, 4));
    assert!(d.utc_datetimes());
    let r = d.run(Query::new("RETURN 1 AS x")).await.unwrap();
    assert_eq!(r.single("x"), Some(&Value::Integer(1)));
    assert_eq!(r.summary.get("bookmark"), Some(&Value::from("bm:1")));
    d.close().await;
    s.assert_ok();
}

#[tokio::test]
async fn server_choosing_55_or_nothing_is_refused() {
    for reply in [[0u8, 0, 5, 5], [0, 0, 0, 0]] {
        let s = StubServer::start(move |_, mut c: StubConn| async move {
            c.handshake(&reply).await?;
            Ok(())
        })
        .await;
        let e = Driver::connect(config(&s.uri("bolt"))).await.unwrap_err();
        assert!(
            matches!(e, Error::Protocol(_) | Error::NoCommonVersion(_)),
            "{e:?}"
        );
    }
}

#[tokio::test]
async fn hello_failure_is_an_auth_error_without_the_password() {
    let s = StubServer::start(|_, mut c: StubConn| async move {
        c.handshake(&[0, 0, 0, 5]).await?;
        c.expect("HELLO").await?;
        c.failure(
            "Neo.ClientError.Security.Unauthorized",
            "The client is unauthorized due to authentication failure.",
        )
        .await?;
        c.exit().await
    })
    .await;
    let e = Driver::connect(config(&s.uri("bolt"))).await.unwrap_err();
    assert!(matches!(e, Error::Auth { .. }));
    assert!(!format!("{e:?}{e}").contains("pw-stub-123"));
    s.assert_ok();
}

#[tokio::test]
async fn noop_floods_around_records_are_skipped() {
    let s = StubServer::start(|_, mut c: StubConn| async move {
        c.accept(5, 4).await?;
        c.expect("BEGIN").await?;
        c.expect("RUN").await?;
        c.expect("PULL").await?;
        c.expect("COMMIT").await?;
        c.noops(1000).await?;
        c.success(bolt::Map::new()).await?;
        c.noops(3).await?;
        c.success(map! {"fields" => vec![Value::from("i")]}).await?;
        for i in 0..100i64 {
            c.noops((i % 7) as usize).await?;
            c.record(vec![i.into()]).await?;
        }
        c.noops(5000).await?;
        c.success(bolt::Map::new()).await?;
        c.noops(1).await?;
        c.success(bolt::Map::new()).await?;
        c.drain().await
    })
    .await;
    let d = connect(&s).await;
    let r = d
        .run(Query::new("UNWIND range(0, 99) AS i RETURN i"))
        .await
        .unwrap();
    assert_eq!(
        r.rows,
        (0..100i64)
            .map(|i| vec![Value::Integer(i)])
            .collect::<Vec<_>>()
    );
    d.close().await;
    s.assert_ok();
}

#[tokio::test]
async fn transient_error_is_retried_after_exactly_one_reset() {
    let s = StubServer::start(|_, mut c: StubConn| async move {
        c.accept(5, 4).await?;
        for attempt in 0..3 {
            if attempt > 0 {
                c.expect("RESET").await?;
                c.success(bolt::Map::new()).await?;
            }
            c.expect("BEGIN").await?;
            c.expect("RUN").await?;
            c.expect("PULL").await?;
            c.expect("COMMIT").await?;
            c.success(bolt::Map::new()).await?;
            if attempt < 2 {
                c.failure(
                    "Neo.TransientError.Transaction.DeadlockDetected",
                    "deadlock",
                )
                .await?;
                c.ignored().await?;
                c.ignored().await?;
            } else {
                c.success(map! {"fields" => vec![Value::from("x")]}).await?;
                c.record(vec![42.into()]).await?;
                c.success(bolt::Map::new()).await?;
                c.success(bolt::Map::new()).await?;
            }
        }
        c.drain().await
    })
    .await;
    let d = connect(&s).await;
    let r = d.run(Query::new("RETURN 42 AS x")).await.unwrap();
    assert_eq!(r.single("x"), Some(&Value::Integer(42)));
    d.close().await;
    s.assert_ok();
    let names = s.names();
    assert_eq!(
        names.iter().filter(|n| *n == "RESET").count(),
        2,
        "{names:?}"
    );
    assert_eq!(
        names.iter().filter(|n| *n == "BEGIN").count(),
        3,
        "{names:?}"
    );
    assert_eq!(s.connections(), 1);
}

#[tokio::test]
async fn terminated_and_client_errors_are_not_retried() {
    for code in [
        "Neo.TransientError.Transaction.Terminated",
        "Neo.ClientError.Schema.ConstraintValidationFailed",
    ] {
        let s = StubServer::start(move |_, mut c: StubConn| async move {
            c.accept(5, 0).await?;
            c.expect("BEGIN").await?;
            c.expect("RUN").await?;
            c.expect("PULL").await?;
            c.expect("COMMIT").await?;
            c.success(bolt::Map::new()).await?;
            c.failure(code, "stop").await?;
            c.ignored().await?;
            c.ignored().await?;
            c.drain().await
        })
        .await;
        let d = connect(&s).await;
        let e = d.run(Query::new("CREATE ()")).await.unwrap_err();
        assert_eq!(e.code(), Some(code));
        assert!(!e.is_retryable());
        d.close().await;
        s.assert_ok();
        assert_eq!(s.names().iter().filter(|n| *n == "BEGIN").count(), 1);
    }
}

#[tokio::test]
async fn gql_failure_form_is_understood() {
    let s = StubServer::start(|_, mut c: StubConn| async move {
        c.accept(5, 7).await?;
        c.expect("RUN").await?;
        c.expect("PULL").await?;
        c.failure_map(map! {
            "neo4j_code" => "Neo.ClientError.Statement.SyntaxError",
            "message" => "Invalid input",
            "gql_status" => "42001",
            "description" => "error: syntax error or access rule violation",
            "diagnostic_record" => map! {"_classification" => "CLIENT_ERROR", "OPERATION" => ""},
        })
        .await?;
        c.ignored().await?;
        c.drain().await
    })
    .await;
    let d = connect(&s).await;
    let e = d
        .run(Query::new("RETRUN 1").auto_commit())
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("Neo.ClientError.Statement.SyntaxError"));
    let Error::Server { gql_status, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(gql_status.as_deref(), Some("42001"));
    d.close().await;
    s.assert_ok();
}

/// Serves the connect check and then one transaction that dies after its first record.
async fn dying_then_healthy(i: usize, mut c: StubConn) -> Result<(), String> {
    c.accept(5, 4).await?;
    if i == 0 {
        c.expect("BEGIN").await?;
        c.expect("RUN").await?;
        c.expect("PULL").await?;
        c.expect("COMMIT").await?;
        c.success(bolt::Map::new()).await?;
        c.success(map! {"fields" => vec![Value::from("x")]}).await?;
        c.record(vec![1.into()]).await?;
        return c.exit().await;
    }
    c.serve_tx(&["x"], vec![vec![1.into()], vec![2.into()]])
        .await?;
    c.drain().await
}

#[tokio::test]
async fn disconnect_mid_stream_write_reports_unknown_outcome() {
    let s = StubServer::start(dying_then_healthy).await;
    let d = connect(&s).await;
    let e = d
        .run(Query::new("CREATE (n) RETURN 1 AS x"))
        .await
        .unwrap_err();
    assert!(e.is_unknown_outcome(), "{e:?}");
    assert!(!e.is_retryable());
    assert_eq!(s.names().iter().filter(|n| *n == "BEGIN").count(), 1);
    s.assert_ok();
}

#[tokio::test]
async fn disconnect_mid_stream_read_or_idempotent_is_retried_on_a_new_connection() {
    for read in [true, false] {
        let s = StubServer::start(dying_then_healthy).await;
        let d = connect(&s).await;
        let q = Query::new("MATCH (n) RETURN 1 AS x");
        let q = if read { q.read() } else { q.idempotent() };
        let r = d.run(q).await.unwrap();
        assert_eq!(
            r.rows,
            vec![vec![Value::Integer(1)], vec![Value::Integer(2)]]
        );
        assert_eq!(s.connections(), 2);
        d.close().await;
        s.assert_ok();
    }
}

#[tokio::test]
async fn recv_timeout_hint_detects_a_silent_server() {
    let s = StubServer::start(|_, mut c: StubConn| async move {
        c.accept_with(5, 4, map! {"server" => "Neo4j/5.26.0", "hints" => map! {"connection.recv_timeout_seconds" => 1}})
            .await?;
        c.expect("RUN").await?;
        tokio::time::sleep(Duration::from_secs(3)).await;
        Ok(())
    })
    .await;
    let d = connect(&s).await;
    let started = std::time::Instant::now();
    let e = d
        .run(Query::new("CREATE ()").auto_commit())
        .await
        .unwrap_err();
    assert!(matches!(e, Error::ConnectionLost { .. }), "{e:?}");
    assert!(e.to_string().contains("recv_timeout"), "{e}");
    assert!(started.elapsed() < Duration::from_millis(2500));
}

/// A cluster of three stubs: a router and two data servers; the first writer answers NotALeader once.
#[tokio::test]
async fn not_a_leader_drops_the_writer_and_retries_on_a_fresh_table() {
    let routes = Arc::new(AtomicUsize::new(0));
    let a = {
        StubServer::start(move |_, mut c: StubConn| async move {
            c.accept(5, 4).await?;
            c.expect("BEGIN").await?;
            c.expect("RUN").await?;
            c.expect("PULL").await?;
            c.expect("COMMIT").await?;
            c.success(bolt::Map::new()).await?;
            c.failure(
                "Neo.ClientError.Cluster.NotALeader",
                "No write operations are allowed on this database.",
            )
            .await?;
            c.ignored().await?;
            c.ignored().await?;
            c.drain().await
        })
        .await
    };
    let b = StubServer::start(|_, mut c: StubConn| async move {
        c.accept(5, 4).await?;
        loop {
            match c.recv().await? {
                Some(Request::Begin(extra)) => {
                    let read = extra.get("mode") == Some(&Value::from("r"));
                    c.expect("RUN").await?;
                    c.expect("PULL").await?;
                    c.expect("COMMIT").await?;
                    c.success(bolt::Map::new()).await?;
                    c.success(map! {"fields" => vec![Value::from("server")]})
                        .await?;
                    c.record(vec![if read { "b-read" } else { "b-write" }.into()])
                        .await?;
                    c.success(bolt::Map::new()).await?;
                    c.success(bolt::Map::new()).await?;
                }
                Some(Request::Goodbye) | None => return Ok(()),
                Some(other) => return Err(format!("unexpected {other:?}")),
            }
        }
    })
    .await;
    let (a_addr, b_addr) = (a.addr.clone(), b.addr.clone());
    let r = {
        let routes = routes.clone();
        StubServer::start(move |_, mut c: StubConn| {
            let (routes, a_addr, b_addr) = (routes.clone(), a_addr.clone(), b_addr.clone());
            async move {
                let h = c.accept(5, 4).await?;
                if !h.contains_key("routing") {
                    return Err("HELLO without routing context".into());
                }
                loop {
                    match c.recv().await? {
                        Some(Request::Route { routing, .. }) => {
                            if routing.get("region") != Some(&Value::from("eu")) {
                                return Err(format!("routing context lost: {routing:?}"));
                            }
                            let n = routes.fetch_add(1, Ordering::SeqCst);
                            let writer = if n == 0 {
                                a_addr.as_str()
                            } else {
                                b_addr.as_str()
                            };
                            c.success(routing_table(
                                300,
                                &[routing_addr(&routing).as_str()],
                                &[b_addr.as_str()],
                                &[writer],
                            ))
                            .await?;
                        }
                        Some(Request::Goodbye) | None => return Ok(()),
                        Some(other) => return Err(format!("unexpected {other:?}")),
                    }
                }
            }
        })
        .await
    };
    let d = Driver::connect(config(&format!("neo4j://{}?region=eu", r.addr)))
        .await
        .unwrap();
    let w = d.run(Query::new("RETURN 'w' AS server")).await.unwrap();
    assert_eq!(w.single("server"), Some(&Value::from("b-write")));
    assert_eq!(
        routes.load(Ordering::SeqCst),
        2,
        "the table is fetched again after NotALeader"
    );
    let rd = d
        .run(Query::new("RETURN 'r' AS server").read())
        .await
        .unwrap();
    assert_eq!(rd.single("server"), Some(&Value::from("b-read")));
    assert_eq!(routes.load(Ordering::SeqCst), 2, "a fresh table is reused");
    let t = d.routing_table(None).unwrap();
    assert_eq!(t.writers.len(), 1);
    assert_eq!(t.writers[0].to_string(), b.addr);
    d.close().await;
    for s in [&a, &b, &r] {
        s.assert_ok();
    }
}

fn routing_addr(routing: &bolt::Map) -> String {
    routing
        .get("address")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

#[tokio::test]
async fn routing_spreads_reads_over_several_readers_and_survives_a_dead_one() {
    // Two readers answer with their own name; a third address in the table is dead.
    let reader = |name: &'static str| {
        StubServer::start(move |_, mut c: StubConn| async move {
            c.accept(5, 4).await?;
            loop {
                match c.recv().await? {
                    Some(Request::Begin(_)) => {
                        c.expect("RUN").await?;
                        c.expect("PULL").await?;
                        c.expect("COMMIT").await?;
                        c.success(bolt::Map::new()).await?;
                        c.success(map! {"fields" => vec![Value::from("server")]})
                            .await?;
                        tokio::time::sleep(Duration::from_millis(20)).await;
                        c.record(vec![name.into()]).await?;
                        c.success(bolt::Map::new()).await?;
                        c.success(bolt::Map::new()).await?;
                    }
                    Some(Request::Goodbye) | None => return Ok(()),
                    Some(other) => return Err(format!("unexpected {other:?}")),
                }
            }
        })
    };
    let (x, y) = (reader("x").await, reader("y").await);
    let dead = {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        l.local_addr().unwrap().to_string()
    };
    let (xa, ya) = (x.addr.clone(), y.addr.clone());
    let r = StubServer::start(move |_, mut c: StubConn| {
        let (xa, ya, dead) = (xa.clone(), ya.clone(), dead.clone());
        async move {
            c.accept(5, 4).await?;
            loop {
                match c.recv().await? {
                    Some(Request::Route { routing, .. }) => {
                        let me = routing_addr(&routing);
                        c.success(routing_table(
                            300,
                            &[me.as_str()],
                            &[dead.as_str(), xa.as_str(), ya.as_str()],
                            &[xa.as_str()],
                        ))
                        .await?;
                    }
                    Some(Request::Goodbye) | None => return Ok(()),
                    Some(other) => return Err(format!("unexpected {other:?}")),
                }
            }
        }
    })
    .await;
    let d = Driver::connect(config(&format!("neo4j://{}", r.addr)))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let d = d.clone();
        tasks.push(tokio::spawn(async move {
            d.run(Query::new("RETURN 1").read()).await
        }));
    }
    let mut seen = std::collections::BTreeSet::new();
    for t in tasks {
        let r = t.await.unwrap().unwrap();
        seen.insert(
            r.single("server")
                .and_then(Value::as_str)
                .unwrap()
                .to_owned(),
        );
    }
    assert_eq!(
        seen.into_iter().collect::<Vec<_>>(),
        vec!["x".to_owned(), "y".to_owned()]
    );
    let t = d.routing_table(None).unwrap();
    assert_eq!(t.readers.len(), 2, "the dead reader is forgotten: {t:?}");
    d.close().await;
    for s in [&x, &y, &r] {
        s.assert_ok();
    }
}

#[tokio::test]
async fn database_not_found_during_discovery_fails_fast() {
    let s = StubServer::start(|_, mut c: StubConn| async move {
        c.accept(5, 4).await?;
        while let Some(req) = c.recv().await? {
            match req {
                Request::Route { .. } => {
                    c.failure("Neo.ClientError.Database.DatabaseNotFound", "no such db")
                        .await?
                }
                Request::Reset => c.success(bolt::Map::new()).await?,
                Request::Goodbye => {}
                other => return Err(format!("unexpected {other:?}")),
            }
        }
        Ok(())
    })
    .await;
    let d = Driver::connect(config(&s.uri("neo4j"))).await.unwrap();
    let e = d
        .run(Query::new("RETURN 1").database("nope"))
        .await
        .unwrap_err();
    assert_eq!(e.code(), Some("Neo.ClientError.Database.DatabaseNotFound"));
    assert_eq!(s.names().iter().filter(|n| *n == "ROUTE").count(), 1);
    d.close().await;
    s.assert_ok();
}

#[tokio::test]
async fn pool_limits_and_acquisition_timeout() {
    // The server never answers the RUN: one connection, pool of one, no pipelining → the second query times out.
    let s = StubServer::start(|_, mut c: StubConn| async move {
        c.accept(5, 4).await?;
        c.expect("RUN").await?;
        c.expect("PULL").await?;
        tokio::time::sleep(Duration::from_secs(3)).await;
        Ok(())
    })
    .await;
    let mut cfg = config(&s.uri("bolt"));
    cfg.max_connection_pool_size = 1;
    cfg.max_pipelined_transactions = 1;
    cfg.connection_acquisition_timeout = Duration::from_millis(300);
    let d = Driver::connect(cfg).await.unwrap();
    let d2 = d.clone();
    let slow = tokio::spawn(async move { d2.run(Query::new("slow").auto_commit()).await });
    tokio::time::sleep(Duration::from_millis(100)).await;
    let e = d.run(Query::new("RETURN 1")).await.unwrap_err();
    assert!(matches!(e, Error::Timeout(_)), "{e:?}");
    assert!(e.to_string().contains("acquiring"), "{e}");
    assert_eq!(s.connections(), 1);
    slow.abort();
}

#[tokio::test]
async fn a_whole_transaction_goes_out_in_one_write() {
    let s = StubServer::start(|_, mut c: StubConn| async move {
        c.accept(5, 4).await?;
        c.expect("BEGIN").await?;
        if c.buffered() != 3 {
            return Err(format!(
                "RUN, PULL, COMMIT did not arrive with BEGIN ({} buffered)",
                c.buffered()
            ));
        }
        c.expect("RUN").await?;
        c.expect("PULL").await?;
        c.expect("COMMIT").await?;
        c.success(bolt::Map::new()).await?;
        c.success(map! {"fields" => vec![Value::from("x")]}).await?;
        c.success(bolt::Map::new()).await?;
        c.success(bolt::Map::new()).await?;
        c.drain().await
    })
    .await;
    let d = connect(&s).await;
    let r = d.run(Query::new("CREATE ()")).await.unwrap();
    assert!(r.rows.is_empty());
    d.close().await;
    s.assert_ok();
}

#[tokio::test]
async fn connections_older_than_the_lifetime_are_replaced() {
    let s = StubServer::start(|_, mut c: StubConn| async move {
        c.accept(5, 4).await?;
        c.serve_auto_commit().await
    })
    .await;
    let mut cfg = config(&s.uri("bolt"));
    cfg.max_connection_lifetime = Some(Duration::from_millis(300));
    let d = Driver::connect(cfg).await.unwrap();
    let q = || Query::new("RETURN 1").auto_commit();
    assert_eq!(
        d.run(q()).await.unwrap().single("n"),
        Some(&Value::Integer(0))
    );
    assert_eq!(
        d.run(q()).await.unwrap().single("n"),
        Some(&Value::Integer(1))
    );
    assert_eq!(s.connections(), 1);
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        d.run(q()).await.unwrap().single("n"),
        Some(&Value::Integer(0)),
        "a new connection"
    );
    assert_eq!(s.connections(), 2);
    d.close().await;
    s.assert_ok();
}

#[tokio::test]
async fn idle_connections_get_a_liveness_reset() {
    let s = StubServer::start(|_, mut c: StubConn| async move {
        c.accept(5, 4).await?;
        c.serve_auto_commit().await
    })
    .await;
    let mut cfg = config(&s.uri("bolt"));
    cfg.liveness_check_timeout = Some(Duration::from_millis(100));
    let d = Driver::connect(cfg).await.unwrap();
    d.run(Query::new("RETURN 1").auto_commit()).await.unwrap();
    d.run(Query::new("RETURN 1").auto_commit()).await.unwrap();
    assert!(
        !s.names().contains(&"RESET".to_owned()),
        "no check for a connection just used: {:?}",
        s.names()
    );
    tokio::time::sleep(Duration::from_millis(200)).await;
    let r = d.run(Query::new("RETURN 1").auto_commit()).await.unwrap();
    assert_eq!(r.single("n"), Some(&Value::Integer(2)));
    let names = s.names();
    assert_eq!(
        &names[names.len() - 3..],
        &["RESET", "RUN", "PULL"],
        "{names:?}"
    );
    d.close().await;
    s.assert_ok();
}

#[tokio::test]
async fn a_failed_reset_makes_the_connection_defunct() {
    let s = StubServer::start(|i, mut c: StubConn| async move {
        c.accept(5, 4).await?;
        if i > 0 {
            return c.serve_auto_commit().await;
        }
        c.expect("RUN").await?;
        c.expect("PULL").await?;
        c.failure("Neo.ClientError.Statement.SyntaxError", "bad")
            .await?;
        c.ignored().await?;
        // The next query brings the one RESET; refuse it.
        c.expect("RESET").await?;
        c.expect("RUN").await?;
        c.expect("PULL").await?;
        c.failure("Neo.DatabaseError.General.UnknownError", "cannot reset")
            .await?;
        c.drain().await
    })
    .await;
    let d = connect(&s).await;
    let e = d.run(Query::new("bad").auto_commit()).await.unwrap_err();
    assert_eq!(e.code(), Some("Neo.ClientError.Statement.SyntaxError"));
    // RUN/PULL behind the failed RESET are lost with the connection: retried on a new one.
    let r = d
        .run(Query::new("RETURN 1").auto_commit().idempotent())
        .await
        .unwrap();
    assert_eq!(r.single("n"), Some(&Value::Integer(0)));
    assert_eq!(s.connections(), 2);
    d.close().await;
    s.assert_ok();
}

#[tokio::test]
async fn server_closing_during_hello_is_reported() {
    let s = StubServer::start(|_, mut c: StubConn| async move {
        c.handshake(&[0, 0, 4, 5]).await?;
        c.expect("HELLO").await?;
        c.exit().await
    })
    .await;
    let e = Driver::connect(config(&s.uri("bolt"))).await.unwrap_err();
    assert!(
        matches!(
            e,
            Error::ConnectionLost {
                commit_unknown: false,
                ..
            }
        ),
        "{e:?}"
    );
    s.assert_ok();
}
