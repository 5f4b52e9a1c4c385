//! Runs one Cypher query and prints each row as one JSON line.
//!
//! Usage:
//! `cargo run -p bolt --example cypher -- --uri URI --user U --password P [--bolt-version 4.4]
//!  [--database DB] "QUERY" [--param k=v]...`
//! Parameter values parse as an integer, a float, `true`/`false`, else a string.
//! The older positional form `URI PASSWORD "QUERY" [USER]` still works.

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
        Value::Float(f) if f.is_finite() => {
            let _ = write!(out, "{f:?}");
        }
        // JSON has no NaN or infinity: print them as strings.
        Value::Float(f) => quote(out, &format!("{f}")),
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
            out.push_str("{\"labels\": [");
            for (i, l) in n.labels.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                quote(out, l);
            }
            out.push_str("], \"properties\": ");
            map(out, &n.properties);
            out.push('}');
        }
        Value::Relationship(r) => {
            out.push_str("{\"type\": ");
            quote(out, &r.rel_type);
            out.push_str(", \"properties\": ");
            map(out, &r.properties);
            out.push('}');
        }
        // Temporal values as ISO-8601 strings, as Cypher's toString prints them (zoned ones as
        // the UTC instant plus the zone id, since the example carries no zone database).
        Value::Date(d) => quote(out, &iso_date(d.days)),
        Value::LocalTime(t) => quote(out, &iso_time(t.nanoseconds)),
        Value::Time(t) => quote(
            out,
            &format!(
                "{}{}",
                iso_time(t.nanoseconds),
                iso_offset(t.tz_offset_seconds)
            ),
        ),
        Value::LocalDateTime(t) => quote(out, &iso_datetime(t.seconds, t.nanoseconds)),
        Value::DateTime(t) => quote(
            out,
            &format!(
                "{}{}",
                iso_datetime(t.seconds + t.tz_offset_seconds, t.nanoseconds),
                iso_offset(t.tz_offset_seconds)
            ),
        ),
        Value::DateTimeZoneId(t) => quote(
            out,
            &format!("{}Z[{}]", iso_datetime(t.seconds, t.nanoseconds), t.tz_id),
        ),
        Value::Duration(d) => {
            let secs = d.seconds as f64 + d.nanoseconds as f64 / 1e9;
            quote(out, &format!("P{}M{}DT{}S", d.months, d.days, secs));
        }
        Value::Point2D(p) => {
            let _ = write!(
                out,
                "{{\"srid\": {}, \"x\": {:?}, \"y\": {:?}}}",
                p.srid, p.x, p.y
            );
        }
        Value::Point3D(p) => {
            let _ = write!(
                out,
                "{{\"srid\": {}, \"x\": {:?}, \"y\": {:?}, \"z\": {:?}}}",
                p.srid, p.x, p.y, p.z
            );
        }
        // Bytes, paths and unbound relationships: their debug form, as a JSON string.
        other => quote(out, &format!("{other:?}")),
    }
}

/// Proleptic Gregorian `YYYY-MM-DD` for days since 1970-01-01 (civil-from-days arithmetic).
fn iso_date(days: i64) -> String {
    let (year, month, day) = bolt::value::Date { days }.civil();
    let sign = if year < 0 { "-" } else { "" };
    format!("{sign}{:04}-{month:02}-{day:02}", year.abs())
}

/// `HH:MM:SS[.fraction]` for nanoseconds since midnight.
fn iso_time(nanos: i64) -> String {
    let secs = nanos.div_euclid(1_000_000_000);
    let frac = nanos.rem_euclid(1_000_000_000);
    let mut s = format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60);
    if frac != 0 {
        let f = format!("{frac:09}");
        s.push('.');
        s.push_str(f.trim_end_matches('0'));
    }
    s
}

/// `Z` or `+HH:MM[:SS]`.
fn iso_offset(secs: i64) -> String {
    if secs == 0 {
        return "Z".into();
    }
    let sign = if secs < 0 { '-' } else { '+' };
    let a = secs.abs();
    let mut s = format!("{sign}{:02}:{:02}", a / 3600, a / 60 % 60);
    if a % 60 != 0 {
        let _ = write!(s, ":{:02}", a % 60);
    }
    s
}

/// `YYYY-MM-DDTHH:MM:SS[.fraction]` for local seconds since the epoch.
fn iso_datetime(secs: i64, nanos: i64) -> String {
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    format!(
        "{}T{}",
        iso_date(days),
        iso_time(tod * 1_000_000_000 + nanos)
    )
}

const USAGE: &str = "usage: cypher --uri URI --user USER --password PASSWORD [--bolt-version 4.4] \
[--database DB] QUERY [--param k=v]...\n   or: cypher URI PASSWORD QUERY [USER]";

/// What the command line asked for.
struct Args {
    uri: String,
    user: String,
    password: String,
    bolt_version: Option<(u8, u8)>,
    database: Option<String>,
    query: String,
    params: Vec<(String, Value)>,
}

/// `k=v` with `v` read as an integer, a float, a boolean, else a string.
fn parse_param(kv: &str) -> Result<(String, Value), String> {
    let (k, v) = kv
        .split_once('=')
        .ok_or_else(|| format!("--param {kv:?}: expected k=v"))?;
    if k.is_empty() {
        return Err(format!("--param {kv:?}: empty name"));
    }
    let value = if let Ok(i) = v.parse::<i64>() {
        Value::Integer(i)
    } else if let Ok(f) = v.parse::<f64>() {
        Value::Float(f)
    } else if v == "true" || v == "false" {
        Value::Boolean(v == "true")
    } else {
        Value::from(v)
    };
    Ok((k.to_owned(), value))
}

/// `4.4` or `5` (minor 0).
fn parse_version(s: &str) -> Result<(u8, u8), String> {
    let (maj, min) = s.split_once('.').unwrap_or((s, "0"));
    match (maj.parse::<u8>(), min.parse::<u8>()) {
        (Ok(a), Ok(b)) => Ok((a, b)),
        _ => Err(format!(
            "--bolt-version {s:?}: expected MAJOR.MINOR, e.g. 4.4"
        )),
    }
}

fn parse_args(raw: Vec<String>) -> Result<Args, String> {
    if !raw.iter().any(|a| a.starts_with("--")) {
        // Older positional form.
        if raw.len() < 3 || raw.len() > 4 {
            return Err(USAGE.to_owned());
        }
        return Ok(Args {
            uri: raw[0].clone(),
            password: raw[1].clone(),
            query: raw[2].clone(),
            user: raw.get(3).cloned().unwrap_or_else(|| "neo4j".into()),
            bolt_version: None,
            database: None,
            params: Vec::new(),
        });
    }
    let (mut uri, mut user, mut password, mut query) = (None, None, None, None);
    let mut bolt_version = None;
    let mut database = None;
    let mut params = Vec::new();
    let mut it = raw.into_iter();
    while let Some(arg) = it.next() {
        // Accept both `--flag value` and `--flag=value`.
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if arg.starts_with("--") => (f.to_owned(), Some(v.to_owned())),
            _ => (arg.clone(), None),
        };
        if !flag.starts_with("--") {
            if query.replace(arg).is_some() {
                return Err(format!("more than one query given\n{USAGE}"));
            }
            continue;
        }
        if flag == "--help" || flag == "-h" {
            return Err(USAGE.to_owned());
        }
        let value = match inline.or_else(|| it.next()) {
            Some(v) => v,
            None => return Err(format!("{flag} needs a value\n{USAGE}")),
        };
        match flag.as_str() {
            "--uri" => uri = Some(value),
            "--user" => user = Some(value),
            "--password" => password = Some(value),
            "--database" => database = Some(value),
            "--bolt-version" => bolt_version = Some(parse_version(&value)?),
            "--param" => params.push(parse_param(&value)?),
            other => return Err(format!("unknown option {other}\n{USAGE}")),
        }
    }
    Ok(Args {
        uri: uri.ok_or_else(|| format!("--uri is required\n{USAGE}"))?,
        user: user.unwrap_or_else(|| "neo4j".into()),
        password: password
            .or_else(|| std::env::var("NEO4J_PASSWORD").ok())
            .ok_or_else(|| format!("--password is required\n{USAGE}"))?,
        bolt_version,
        database,
        query: query.ok_or_else(|| format!("a query is required\n{USAGE}"))?,
        params,
    })
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = match parse_args(std::env::args().skip(1).collect()) {
        Ok(a) => a,
        Err(msg) => {
            eprintln!("{msg}");
            std::process::exit(2);
        }
    };
    let mut config = Config::new(&args.uri, &args.user, &args.password);
    config.max_bolt_version = args.bolt_version;
    config.database = args.database;
    let mut query = Query::new(args.query.as_str()).auto_commit();
    for (k, v) in args.params {
        query = query.param(&k, v);
    }
    let result = async {
        let driver = Driver::connect(config).await?;
        let r = driver.run(query).await;
        driver.close().await;
        r
    }
    .await;
    match result {
        Ok(r) => {
            let mut line = String::new();
            for row in &r.rows {
                line.clear();
                line.push('{');
                for (i, (k, v)) in r.keys.iter().zip(row.iter()).enumerate() {
                    if i > 0 {
                        line.push_str(", ");
                    }
                    quote(&mut line, k);
                    line.push_str(": ");
                    json(&mut line, v);
                }
                line.push('}');
                println!("{line}");
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
