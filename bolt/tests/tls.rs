//! TLS schemes against our stub server behind rustls with a test CA (tests/data: ca.pem, server.pem/key
//! for localhost and 127.0.0.1, generated once with openssl).

mod stub;

use bolt::{Config, Driver, Error, Query, Trust, Value};
use std::time::Duration;
use stub::{StubConn, StubServer, test_data};

async fn serve_one_query(_: usize, mut c: StubConn) -> Result<(), String> {
    c.accept(5, 4).await?;
    while let Some(r) = c.recv().await? {
        match r.name() {
            "RUN" => {
                c.expect("PULL").await?;
                c.success(map! {"fields" => vec![Value::from("x")]}).await?;
                c.record(vec![1.into()]).await?;
                c.success(bolt::Map::new()).await?;
            }
            "GOODBYE" => {}
            other => return Err(format!("unexpected {other}")),
        }
    }
    Ok(())
}

fn config(uri: &str) -> Config {
    let mut c = Config::new(uri, "neo4j", "pw");
    c.connection_timeout = Duration::from_secs(5);
    c
}

async fn query(d: &Driver) -> Value {
    d.run(Query::new("RETURN 1 AS x").auto_commit())
        .await
        .unwrap()
        .single("x")
        .cloned()
        .unwrap()
}

#[tokio::test]
async fn ssc_accepts_a_certificate_nobody_vouches_for() {
    let s = StubServer::start_tls(serve_one_query).await;
    let d = Driver::connect(config(&s.uri("bolt+ssc"))).await.unwrap();
    assert_eq!(query(&d).await, Value::Integer(1));
    d.close().await;
    s.assert_ok();
}

#[tokio::test]
async fn s_verifies_against_system_roots_and_refuses_an_unknown_ca() {
    let s = StubServer::start_tls(serve_one_query).await;
    let port = s.addr.rsplit_once(':').unwrap().1;
    let e = Driver::connect(config(&format!("bolt+s://localhost:{port}")))
        .await
        .unwrap_err();
    assert!(matches!(e, Error::Tls { .. }), "{e:?}");
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
}

#[tokio::test]
async fn encrypted_with_a_custom_ca_verifies_and_sends_sni() {
    let s = StubServer::start_tls(serve_one_query).await;
    let port = s.addr.rsplit_once(':').unwrap().1;
    let mut c = config(&format!("bolt://localhost:{port}"));
    c.encrypted = Some(true);
    c.trust = Trust::CustomCa(test_data("ca.pem"));
    let d = Driver::connect(c).await.unwrap();
    assert_eq!(query(&d).await, Value::Integer(1));
    d.close().await;
    s.assert_ok();
    assert!(
        s.log().iter().any(|l| l.ends_with("SNI localhost")),
        "{:?}",
        s.log()
    );
    // The same CA does not vouch for another host name.
    let mut c = config(&format!("bolt://127.0.0.2:{port}"));
    c.encrypted = Some(true);
    c.trust = Trust::CustomCa(test_data("ca.pem"));
    assert!(Driver::connect(c).await.is_err());
}

#[tokio::test]
async fn routing_over_tls() {
    let s = StubServer::start_tls(|i, mut c: StubConn| async move {
        c.accept(5, 4).await?;
        while let Some(r) = c.recv().await? {
            match r {
                bolt::proto::message::Request::Route { routing, .. } => {
                    let me = routing
                        .get("address")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_owned();
                    c.success(stub::routing_table(300, &[&me], &[&me], &[&me]))
                        .await?;
                }
                bolt::proto::message::Request::Run { .. } => {
                    c.expect("PULL").await?;
                    c.success(map! {"fields" => vec![Value::from("x")]}).await?;
                    c.record(vec![(i as i64).into()]).await?;
                    c.success(bolt::Map::new()).await?;
                }
                bolt::proto::message::Request::Goodbye => {}
                other => return Err(format!("unexpected {other:?}")),
            }
        }
        Ok(())
    })
    .await;
    let d = Driver::connect(config(&s.uri("neo4j+ssc"))).await.unwrap();
    assert!(matches!(query(&d).await, Value::Integer(_)));
    d.close().await;
    s.assert_ok();
}

#[tokio::test]
async fn encrypted_option_conflicts_with_secure_schemes() {
    let mut c = config("bolt+s://localhost:1");
    c.encrypted = Some(true);
    let e = Driver::connect(c).await.unwrap_err();
    assert!(matches!(e, Error::Config(_)), "{e:?}");
}
