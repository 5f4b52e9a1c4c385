//! `Neo4jExtractor` (spec §7.1): pages through a user's query (`SKIP $offset LIMIT $limit` inside it) and
//! emits each row as a map, until a page comes back empty.

use super::exec::{Database, Output, RetryPolicy};
use super::options::TargetOptions;
use bolt::Value;
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

fn props_json(m: &bolt::Map) -> Json {
    Json::Object(m.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
}

/// A result value as a record value: nodes become their property maps, relationships
/// `[start, TYPE, end]` (endpoint properties are not in the row, so they are empty maps), temporal values
/// ISO-like strings.
pub fn to_json(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Boolean(b) => Json::Bool(*b),
        Value::Integer(i) => Json::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Value::String(s) => Json::String(s.clone()),
        Value::Bytes(b) => Json::Array(b.iter().map(|x| Json::from(*x)).collect()),
        Value::List(l) => Json::Array(l.iter().map(to_json).collect()),
        Value::Map(m) => props_json(m),
        Value::Node(n) => props_json(&n.properties),
        Value::Relationship(r) => Json::Array(vec![
            Json::Object(Default::default()),
            Json::String(r.rel_type.clone()),
            Json::Object(Default::default()),
        ]),
        Value::UnboundRelationship(r) => props_json(&r.properties),
        Value::Path(p) => {
            let mut out = Vec::new();
            for (i, n) in p.nodes.iter().enumerate() {
                if i > 0
                    && let Some(r) = p.rels.get(i - 1)
                {
                    out.push(props_json(&r.properties));
                }
                out.push(props_json(&n.properties));
            }
            Json::Array(out)
        }
        Value::DateTime(d) => Json::String(format!(
            "{}s+{}ns{:+}s",
            d.seconds, d.nanoseconds, d.tz_offset_seconds
        )),
        other => Json::String(format!("{other:?}")),
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
                    .map(|(k, v)| (k.clone(), to_json(v)))
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
        let db = super::bolt_db::BoltDatabase::connect(&opts).await?;
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
}
