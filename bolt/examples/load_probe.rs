//! Rough loader throughput probe: pre-encoded UNWIND batches through `Driver::run` from several tasks.
//!
//! Usage: `cargo run --release -p bolt --example load_probe -- URI PASSWORD [BATCHES] [ROWS] [TASKS]`
//! Writes `:BoltLoadProbe` nodes and deletes them afterwards.

use bolt::packstream::encode as e;
use bolt::{Config, Driver, Query};
use bytes::BytesMut;
use std::time::Instant;

fn batch(first: i64, rows: i64) -> bytes::Bytes {
    let mut b = BytesMut::with_capacity(rows as usize * 64);
    e::map_header(&mut b, 1);
    e::string(&mut b, "rows");
    e::list_header(&mut b, rows as usize);
    for id in first..first + rows {
        e::map_header(&mut b, 3);
        e::string(&mut b, "id");
        e::int(&mut b, id);
        e::string(&mut b, "name");
        e::string(&mut b, &format!("node-{id}"));
        e::string(&mut b, "score");
        e::float(&mut b, id as f64 / 7.0);
    }
    b.freeze()
}

#[tokio::main]
async fn main() -> Result<(), bolt::Error> {
    let a: Vec<String> = std::env::args().skip(1).collect();
    if a.len() < 2 {
        eprintln!("usage: load_probe URI PASSWORD [BATCHES] [ROWS] [TASKS]");
        std::process::exit(2);
    }
    let num = |i: usize, d: i64| a.get(i).and_then(|s| s.parse().ok()).unwrap_or(d);
    let (batches, rows, tasks) = (num(2, 200), num(3, 1000), num(4, 4));
    let driver = Driver::connect(Config::new(&a[0], "neo4j", &a[1])).await?;
    let text: std::sync::Arc<str> =
        "UNWIND $rows AS row CREATE (n:BoltLoadProbe) SET n = row".into();
    let started = Instant::now();
    let mut handles = Vec::new();
    for t in 0..tasks {
        let (driver, text) = (driver.clone(), text.clone());
        handles.push(tokio::spawn(async move {
            let mut b = t;
            while b < batches {
                driver
                    .run(Query::new(text.clone()).encoded_params(batch(b * rows, rows)))
                    .await?;
                b += tasks;
            }
            Ok::<_, bolt::Error>(())
        }));
    }
    for h in handles {
        h.await.expect("task")?;
    }
    let secs = started.elapsed().as_secs_f64();
    let total = batches * rows;
    println!(
        "{total} rows in {batches} batches of {rows}, {tasks} tasks, bolt {:?}: {secs:.2} s, {:.0} rows/s",
        driver.protocol_version(),
        total as f64 / secs
    );
    driver
        .run(Query::new("MATCH (n:BoltLoadProbe) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").auto_commit())
        .await?;
    driver.close().await;
    Ok(())
}
