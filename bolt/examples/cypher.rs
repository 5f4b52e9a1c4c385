//! Runs one Cypher query and prints each row as one JSON-ish line.
//!
//! Usage: `cargo run -p bolt --example cypher -- URI PASSWORD "QUERY" [USER]`

use bolt::{Config, Driver, Query, Value};
use std::fmt::Write;

fn quote(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn map(out: &mut String, m: &bolt::Map) {
    out.push('{');
    for (i, (k, v)) in m.iter().enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        quote(out, k);
        out.push_str(": ");
        json(out, v);
    }
    out.push('}');
}

fn json(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Integer(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => {
            let _ = write!(out, "{f:?}");
        }
        Value::String(s) => quote(out, s),
        Value::List(l) => {
            out.push('[');
            for (i, x) in l.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                json(out, x);
            }
            out.push(']');
        }
        Value::Map(m) => map(out, m),
        Value::Node(n) => {
            let _ = write!(out, "(:{} ", n.labels.join(":"));
            map(out, &n.properties);
            out.push(')');
        }
        Value::Relationship(r) => {
            let _ = write!(out, "[:{} ", r.rel_type);
            map(out, &r.properties);
            out.push(']');
        }
        other => {
            let _ = write!(out, "{other:?}");
        }
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 3 {
        eprintln!("usage: cypher URI PASSWORD QUERY [USER]");
        std::process::exit(2);
    }
    let user = args.get(3).map_or("neo4j", String::as_str);
    let config = Config::new(&args[0], user, &args[1]);
    let result = async {
        let driver = Driver::connect(config).await?;
        let r = driver
            .run(Query::new(args[2].as_str()).auto_commit())
            .await?;
        driver.close().await;
        Ok::<_, bolt::Error>(r)
    }
    .await;
    match result {
        Ok(r) => {
            for row in &r.rows {
                let mut line = String::new();
                let m: bolt::Map = r.keys.iter().cloned().zip(row.iter().cloned()).collect();
                map(&mut line, &m);
                println!("{line}");
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
