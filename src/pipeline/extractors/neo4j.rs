//! `Neo4jExtractor` (spec §7.1): pages through a user's query (`SKIP $offset LIMIT $limit` inside it) and
//! emits each row as a map, until a page comes back empty.

use crate::model::value_json;
use crate::writer::exec::{Database, Output, RetryPolicy};
use crate::writer::options::TargetOptions;
use bolt::packstream::encode::{self, Encode};
use bytes::BytesMut;
use serde_json::Value as Json;
use std::sync::Arc;

/// The extractor's state between pages.
pub struct Neo4jExtractor {
    db: Arc<dyn Database>,
    query: String,
    parameters: serde_json::Map<String, Json>,
    limit: i64,
    offset: i64,
    finished: bool,
    retry: RetryPolicy,
}

/// Encodes a JSON value as PackStream (parameters come from YAML).
fn encode_json(v: &Json, buf: &mut BytesMut) {
    match v {
        Json::Null => encode::null(buf),
        Json::Bool(b) => encode::boolean(buf, *b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => encode::int(buf, i),
            None => encode::float(buf, n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => encode::string(buf, s),
        Json::Array(items) => {
            encode::list_header(buf, items.len());
            for i in items {
                encode_json(i, buf);
            }
        }
        Json::Object(m) => {
            encode::map_header(buf, m.len());
            for (k, v) in m {
                encode::string(buf, k);
                encode_json(v, buf);
            }
        }
    }
}

fn rows_to_records(out: Output) -> Vec<Json> {
    out.rows
        .into_iter()
        .map(|row| {
            Json::Object(
                out.keys
                    .iter()
                    .zip(row.iter())
                    .map(|(k, v)| (k.clone(), value_json(v)))
                    .collect(),
            )
        })
        .collect()
}

impl Neo4jExtractor {
    /// Builds the extractor from its step arguments: `query` (required), `parameters`, `limit` (100), and the
    /// connection keys of a target (`uri`, `username`, `password`, `database_name`, driver options).
    pub async fn connect(
        step: &str,
        arguments: &serde_json::Map<String, Json>,
    ) -> anyhow::Result<Self> {
        let mut conn = arguments.clone();
        let query = match conn.remove("query") {
            Some(Json::String(q)) => q,
            Some(_) => anyhow::bail!("{step}: `query` must be a string"),
            None => anyhow::bail!("{step}: the Neo4jExtractor needs `query`"),
        };
        let parameters = match conn.remove("parameters") {
            None | Some(Json::Null) => Default::default(),
            Some(Json::Object(m)) => m,
            Some(_) => anyhow::bail!("{step}: `parameters` must be a map"),
        };
        let limit = match conn.remove("limit") {
            None | Some(Json::Null) => 100,
            Some(Json::Number(n)) if n.as_i64().is_some_and(|l| l > 0) => n.as_i64().unwrap_or(100),
            Some(_) => anyhow::bail!("{step}: `limit` must be a positive integer"),
        };
        let opts = TargetOptions::parse(step, &conn)?;
        for w in &opts.warnings {
            tracing::warn!("{w}");
        }
        let db = crate::writer::bolt_db::BoltDatabase::connect(&opts).await?;
        Ok(Self::with_database(
            Arc::new(db),
            query,
            parameters,
            limit,
            &opts,
        ))
    }

    /// An extractor over any [`Database`].
    pub fn with_database(
        db: Arc<dyn Database>,
        query: String,
        parameters: serde_json::Map<String, Json>,
        limit: i64,
        opts: &TargetOptions,
    ) -> Self {
        Neo4jExtractor {
            db,
            query,
            parameters,
            limit,
            offset: 0,
            finished: false,
            retry: RetryPolicy {
                max_attempts: opts.max_retry_attempts,
                factor: opts.retry_factor,
                ..RetryPolicy::default()
            },
        }
    }

    /// The next page of records, or `None` once a page came back empty.
    pub async fn next_page(&mut self) -> anyhow::Result<Option<Vec<Json>>> {
        if self.finished {
            return Ok(None);
        }
        let mut buf = BytesMut::with_capacity(128);
        let extra = ["limit", "offset"]
            .iter()
            .filter(|k| !self.parameters.contains_key(**k))
            .count();
        encode::map_header(&mut buf, self.parameters.len() + extra);
        for (k, v) in &self.parameters {
            encode::string(&mut buf, k);
            match k.as_str() {
                "limit" => self.limit.encode(&mut buf),
                "offset" => self.offset.encode(&mut buf),
                _ => encode_json(v, &mut buf),
            }
        }
        if !self.parameters.contains_key("limit") {
            encode::string(&mut buf, "limit");
            encode::int(&mut buf, self.limit);
        }
        if !self.parameters.contains_key("offset") {
            encode::string(&mut buf, "offset");
            encode::int(&mut buf, self.offset);
        }
        let params = buf.freeze();
        let out = self
            .retry
            .run_read(self.db.as_ref(), &self.query, &params)
            .await
            .map_err(|e| anyhow::anyhow!("Neo4jExtractor query failed: {e}"))?;
        self.offset += self.limit;
        if out.rows.is_empty() {
            self.finished = true;
            return Ok(None);
        }
        Ok(Some(rows_to_records(out)))
    }
}

/// Runs a `Neo4jExtractor` step to completion on a small runtime of its own (the pipeline's extractor thread is
/// not a runtime thread), emitting every record in order. `arguments` are the step's resolved arguments.
pub fn run_blocking(
    arguments: &serde_json::Map<String, Json>,
    emit: &mut dyn FnMut(Json) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let mut ex = Neo4jExtractor::connect("Neo4jExtractor", arguments).await?;
        while let Some(page) = ex.next_page().await? {
            for record in page {
                emit(record)?;
            }
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::writer::exec::{BoxFuture, DbError};
    use bolt::Value;
    use bytes::Bytes;
    use std::sync::Mutex;

    /// Serves 30 identifiers, `limit` at a time, and records the parameters it saw.
    struct Pages(Mutex<Vec<Bytes>>);

    impl Database for Pages {
        fn run<'a>(&'a self, _t: &'a str, params: Bytes) -> BoxFuture<'a, Result<Output, DbError>> {
            Box::pin(async move {
                let mut seen = self.0.lock().unwrap();
                let page = seen.len() as i64;
                seen.push(params);
                let rows = (page * 7..(page * 7 + 7).min(30))
                    .map(|i| vec![Value::String(i.to_string())])
                    .collect();
                Ok(Output {
                    keys: vec!["identifier".into()],
                    rows,
                    ..Output::default()
                })
            })
        }
    }

    #[tokio::test]
    async fn pages_until_empty_with_offset_and_limit() {
        let db = Arc::new(Pages(Mutex::new(vec![])));
        let m = serde_json::json!({"uri": "bolt://x", "username": "u", "password": "p"});
        let opts = TargetOptions::parse("x", m.as_object().unwrap()).unwrap();
        let params = serde_json::json!({"label": "A"})
            .as_object()
            .unwrap()
            .clone();
        let mut ex = Neo4jExtractor::with_database(db.clone(), "Q".into(), params, 7, &opts);
        let mut records = Vec::new();
        while let Some(page) = ex.next_page().await.unwrap() {
            records.extend(page);
        }
        assert_eq!(records.len(), 30);
        assert_eq!(records[29], serde_json::json!({"identifier": "29"}));
        let seen = db.0.lock().unwrap();
        // 5 pages (7,7,7,7,2) + the final empty one, as Python does.
        assert_eq!(seen.len(), 6);
        let mut want = BytesMut::new();
        encode::map_header(&mut want, 3);
        encode::string(&mut want, "label");
        encode::string(&mut want, "A");
        encode::string(&mut want, "limit");
        encode::int(&mut want, 7);
        encode::string(&mut want, "offset");
        encode::int(&mut want, 14);
        assert_eq!(seen[2], want);
    }

    /// Against the real server: a node with temporal, list and point properties comes out of the extractor as
    /// the JSON record Python's `record.data()` prints with `str()` (checked against the Python driver itself).
    #[tokio::test]
    async fn records_render_values_as_the_python_driver_prints_them() {
        let uri = std::env::var("NODESTREAM_TEST_URI")
            .expect("NODESTREAM_TEST_URI must point at the test Neo4j (scripts/test sets it)");
        let password =
            std::env::var("NODESTREAM_TEST_PASSWORD").unwrap_or_else(|_| "password".into());
        let driver = bolt::Driver::connect(bolt::Config::new(&uri, "neo4j", &password))
            .await
            .unwrap();
        let run = |q: &str| driver.run(bolt::Query::new(q.to_string()));
        run("MATCH (n:ExtractorJson) DETACH DELETE n")
            .await
            .unwrap();
        run(
            "CREATE (:ExtractorJson {id: 1, dt: datetime('2024-03-05T07:08:09.123456789+02:00'), \
             utc: datetime('2024-03-05T07:08:09Z'), \
             zoned: datetime({year: 2024, month: 7, day: 1, hour: 9, timezone: 'Europe/Paris'}), \
             d: date('2024-03-05'), dur: duration('P1Y2M3DT4H5M6.5S'), neg: duration('-PT1.5S'), \
             t: time('07:08:09.25+01:00'), ldt: localdatetime('2024-03-05T07:08:09'), \
             tags: ['a', 'b'], nums: [1.0, 2.5], p: point({x: 1.5, y: 2.0})})",
        )
        .await
        .unwrap();
        let query = "MATCH (n:ExtractorJson) RETURN n.dt AS dt, n.utc AS utc, n.zoned AS zoned, n.d AS d, \
                     n.dur AS dur, n.neg AS neg, n.t AS t, n.ldt AS ldt, n.tags AS tags, n.nums AS nums, \
                     n.p AS p, n {.d, .tags} AS m SKIP $offset LIMIT $limit";
        let args = serde_json::json!({"query": query, "uri": uri, "username": "neo4j", "password": password});
        let mut ex = Neo4jExtractor::connect("test", args.as_object().unwrap())
            .await
            .unwrap();
        let records = ex.next_page().await.unwrap().expect("one record");
        assert!(ex.next_page().await.unwrap().is_none());
        run("MATCH (n:ExtractorJson) DETACH DELETE n")
            .await
            .unwrap();
        let expected = serde_json::json!({
            "dt": "2024-03-05T07:08:09.123456789+02:00",
            "utc": "2024-03-05T07:08:09.000000000+00:00",
            "zoned": "2024-07-01T09:00:00.000000000+02:00",
            "d": "2024-03-05",
            "dur": "P1Y2M3DT4H5M6.5S",
            "neg": "PT-1.5S",
            "t": "07:08:09.250000000+01:00",
            "ldt": "2024-03-05T07:08:09.000000000",
            "tags": ["a", "b"],
            "nums": [1.0, 2.5],
            "p": {"srid": 7203, "x": 1.5, "y": 2.0},
            "m": {"d": "2024-03-05", "tags": ["a", "b"]},
        });
        assert_eq!(records, vec![expected.clone()]);

        // The same values through the Python driver, with `str()` of its temporal values (points aside: Python's
        // are tuples, ours objects).
        let venv = std::process::Command::new(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/python-env"),
        )
        .output()
        .expect("scripts/python-env runs");
        let python =
            std::path::Path::new(String::from_utf8_lossy(&venv.stdout).trim()).join("bin/python");
        let script = r#"
import json, sys
import neo4j.time as nt
from neo4j import GraphDatabase
def conv(v):
    # str() for temporal values (a Duration is a tuple, json.dumps alone would print a list).
    if isinstance(v, (nt.Date, nt.Time, nt.DateTime, nt.Duration)):
        return str(v)
    if isinstance(v, list):
        return [conv(x) for x in v]
    if isinstance(v, dict):
        return {k: conv(x) for k, x in v.items()}
    return v
uri, password, query = sys.argv[1:4]
values = "{dt: datetime('2024-03-05T07:08:09.123456789+02:00'), utc: datetime('2024-03-05T07:08:09Z'), zoned: datetime({year: 2024, month: 7, day: 1, hour: 9, timezone: 'Europe/Paris'}), d: date('2024-03-05'), dur: duration('P1Y2M3DT4H5M6.5S'), neg: duration('-PT1.5S'), t: time('07:08:09.25+01:00'), ldt: localdatetime('2024-03-05T07:08:09'), tags: ['a', 'b'], nums: [1.0, 2.5]}"
with GraphDatabase.driver(uri, auth=("neo4j", password)) as d, d.session(database="neo4j") as s:
    r = s.run("WITH " + values + " AS n RETURN n.dt AS dt, n.utc AS utc, n.zoned AS zoned, n.d AS d, n.dur AS dur, n.neg AS neg, n.t AS t, n.ldt AS ldt, n.tags AS tags, n.nums AS nums, n {.d, .tags} AS m").single()
    print(json.dumps(conv(r.data())))
"#;
        let out = std::process::Command::new(&python)
            .args(["-c", script, &uri, &password, query])
            .output()
            .unwrap_or_else(|e| panic!("{} runs: {e}", python.display()));
        assert!(
            out.status.success(),
            "python: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let py: Json = serde_json::from_slice(&out.stdout).unwrap();
        let mut ours = expected;
        ours.as_object_mut().unwrap().remove("p");
        assert_eq!(py, ours, "Python's driver prints these values differently");
    }
}
