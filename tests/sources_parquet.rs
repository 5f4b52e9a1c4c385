//! Parquet sources: a file written by our own deterministic generator (the `parquet` crate), read as Python
//! Nodestream reads it (pandas' `iterrows().to_dict()`, run here through the project's Python venv as the
//! reference), and loaded with `run` into the real server: the graph equals the one from the same records
//! as a JSONL file.

mod writer_support;

use parquet::basic::Compression;
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use std::path::Path;
use std::sync::Arc;
use writer_support::{Project, clean, cypher, password, text, uri};

const MIXED: &str = "message m {
  REQUIRED INT64 id;
  OPTIONAL BYTE_ARRAY name (UTF8);
  REQUIRED DOUBLE score;
  OPTIONAL INT32 rank;
  REQUIRED BOOLEAN active;
  OPTIONAL GROUP tags (LIST) { REPEATED GROUP list { OPTIONAL BYTE_ARRAY element (UTF8); } }
  REQUIRED INT32 day (DATE);
  OPTIONAL INT64 seen (TIMESTAMP(MICROS,false));
  OPTIONAL INT64 seen_utc (TIMESTAMP(MILLIS,true));
}";

/// A small linear congruential generator: the same rows on every run.
struct Lcg(u64);
impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        self.0 >> 33
    }
}

/// Writes `rows` mixed-type rows in row groups of `group` rows (snappy), deterministically.
fn write_mixed(path: &Path, rows: usize, group: usize) {
    let schema = Arc::new(parse_message_type(MIXED).unwrap());
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build(),
    );
    let file = std::fs::File::create(path).unwrap();
    let mut w = SerializedFileWriter::new(file, schema, props).unwrap();
    let mut rng = Lcg(17);
    let mut start = 0;
    while start < rows {
        let n = group.min(rows - start);
        let ids: Vec<i64> = (start..start + n).map(|i| i as i64).collect();
        let mut names = Vec::new();
        let mut name_def = Vec::new();
        let mut scores = Vec::new();
        let mut ranks = Vec::new();
        let mut rank_def = Vec::new();
        let mut active = Vec::new();
        let (mut tags, mut tag_def, mut tag_rep) = (Vec::new(), Vec::new(), Vec::new());
        let mut days = Vec::new();
        let (mut seen, mut seen_def) = (Vec::new(), Vec::new());
        let (mut utc, mut utc_def) = (Vec::new(), Vec::new());
        for &id in &ids {
            let r = rng.next();
            if r % 7 == 0 {
                name_def.push(0);
            } else {
                name_def.push(1);
                names.push(ByteArray::from(format!("item \"{id}\" ü").as_str()));
            }
            scores.push((r % 10_000) as f64 / 8.0);
            if r % 5 == 0 {
                rank_def.push(0);
            } else {
                rank_def.push(1);
                ranks.push((r % 100) as i32);
            }
            active.push(r % 2 == 0);
            let k = 1 + (r % 3) as usize;
            for t in 0..k {
                tags.push(ByteArray::from(
                    format!("t{}", (r as usize + t) % 9).as_str(),
                ));
                tag_def.push(3);
                tag_rep.push(if t == 0 { 0 } else { 1 });
            }
            days.push(19_000 + (r % 400) as i32);
            if r % 11 == 0 {
                seen_def.push(0);
            } else {
                seen_def.push(1);
                // Whole seconds on some rows: Python prints no fraction then.
                let frac = if r % 3 == 0 {
                    0
                } else {
                    (r % 1_000_000) as i64
                };
                seen.push(1_700_000_000_000_000 + (r as i64 % 1_000_000) * 1_000_000 + frac);
            }
            if r % 13 == 0 {
                utc_def.push(0);
            } else {
                utc_def.push(1);
                utc.push(1_700_000_000_000 + (r as i64 % 10_000_000));
            }
        }
        let mut rg = w.next_row_group().unwrap();
        let mut i = 0;
        while let Some(mut col) = rg.next_column().unwrap() {
            match i {
                0 => col.typed::<Int64Type>().write_batch(&ids, None, None),
                1 => col
                    .typed::<ByteArrayType>()
                    .write_batch(&names, Some(&name_def), None),
                2 => col.typed::<DoubleType>().write_batch(&scores, None, None),
                3 => col
                    .typed::<Int32Type>()
                    .write_batch(&ranks, Some(&rank_def), None),
                4 => col.typed::<BoolType>().write_batch(&active, None, None),
                5 => {
                    col.typed::<ByteArrayType>()
                        .write_batch(&tags, Some(&tag_def), Some(&tag_rep))
                }
                6 => col.typed::<Int32Type>().write_batch(&days, None, None),
                7 => col
                    .typed::<Int64Type>()
                    .write_batch(&seen, Some(&seen_def), None),
                _ => col
                    .typed::<Int64Type>()
                    .write_batch(&utc, Some(&utc_def), None),
            }
            .unwrap();
            col.close().unwrap();
            i += 1;
        }
        rg.close().unwrap();
        start += n;
    }
    w.close().unwrap();
}

/// Writes an all-numeric file (int64, int32, double): pandas makes every value of a row a float.
fn write_numeric(path: &Path) {
    let schema = Arc::new(
        parse_message_type("message m { REQUIRED INT64 a; REQUIRED INT32 b; REQUIRED DOUBLE c; }")
            .unwrap(),
    );
    let file = std::fs::File::create(path).unwrap();
    let mut w = SerializedFileWriter::new(file, schema, Default::default()).unwrap();
    let mut rg = w.next_row_group().unwrap();
    let mut i = 0;
    while let Some(mut col) = rg.next_column().unwrap() {
        match i {
            0 => col.typed::<Int64Type>().write_batch(&[1, 2], None, None),
            1 => col.typed::<Int32Type>().write_batch(&[3, 4], None, None),
            _ => col
                .typed::<DoubleType>()
                .write_batch(&[0.5, 1.5], None, None),
        }
        .unwrap();
        col.close().unwrap();
        i += 1;
    }
    rg.close().unwrap();
    w.close().unwrap();
}

/// Our records from a file.
fn ours(path: &Path) -> Vec<serde_json::Value> {
    nodestream::read_file_json(path).unwrap()
}

/// The project's Python venv (scripts/python-env), as the writer tests find it.
fn python() -> std::path::PathBuf {
    let venv = match std::env::var("NODESTREAM_PY_VENV") {
        Ok(v) => v,
        Err(_) => {
            let out = std::process::Command::new(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/scripts/python-env"
            ))
            .output()
            .expect("scripts/python-env runs");
            String::from_utf8_lossy(&out.stdout).trim().to_string()
        }
    };
    Path::new(&venv).join("bin/python")
}

const PANDAS_PY: &str = r#"
import json, sys, math, datetime
import pandas as pd
def conv(v):
    if isinstance(v, dict):
        return {k: conv(x) for k, x in v.items()}
    if hasattr(v, "tolist") and not isinstance(v, (int, float)):
        v = v.tolist()
    if isinstance(v, list):
        return [conv(x) for x in v]
    if v is None or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, (datetime.date, datetime.time)):
        return v.isoformat()
    return v
df = pd.read_parquet(sys.argv[1], engine="pyarrow")
print(json.dumps([conv(row[1].to_dict()) for row in df.iterrows()]))
"#;

/// Python Nodestream's records from the same file (its ParquetFileFormat, with temporals as ISO text).
fn pandas(path: &Path) -> Vec<serde_json::Value> {
    let out = std::process::Command::new(python())
        .args(["-c", PANDAS_PY, path.to_str().unwrap()])
        .output()
        .expect("python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn parquet_rows_have_the_values_pandas_gives() {
    let dir = tempfile::tempdir().unwrap();
    let mixed = dir.path().join("mixed.parquet");
    write_mixed(&mixed, 500, 128);
    let got = ours(&mixed);
    assert_eq!(got.len(), 500);
    // Ints of a column with nulls are floats; timestamps print as Python's isoformat.
    assert_eq!(got, pandas(&mixed));
    let numeric = dir.path().join("numeric.parquet");
    write_numeric(&numeric);
    let got = ours(&numeric);
    assert_eq!(got, pandas(&numeric));
    assert_eq!(got[0], serde_json::json!({"a": 1.0, "b": 3.0, "c": 0.5}));
    assert!(got[0]["a"].is_f64(), "an all-numeric row is all floats");
    // A parquet file behind gzip is spooled, then read the same way.
    let gz = dir.path().join("mixed.parquet.gz");
    let mut enc = flate2::write::GzEncoder::new(
        std::fs::File::create(&gz).unwrap(),
        flate2::Compression::fast(),
    );
    std::io::copy(&mut std::fs::File::open(&mixed).unwrap(), &mut enc).unwrap();
    enc.finish().unwrap();
    assert_eq!(ours(&gz), ours(&mixed));
    // A damaged file warns and yields nothing, without ending the run.
    let bad = dir.path().join("bad.parquet");
    std::fs::write(&bad, b"PAR1 not really").unwrap();
    assert!(ours(&bad).is_empty());
}

fn pipeline(p: &str, glob: &Path) -> String {
    format!(
        r#"- implementation: nodestream.pipeline.extractors:FileExtractor
  arguments:
    sources:
      - type: local
        globs:
          - {glob}
- implementation: nodestream.interpreting:Interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: {p}Item
        key:
          id: !jmespath id
        properties:
          name: !jmespath name
          score: !jmespath score
          rank: !jmespath rank
          active: !jmespath active
          tags: !jmespath tags
          seen: !jmespath seen
          seen_utc: !jmespath seen_utc
      - type: relationship
        node_type: {p}Day
        relationship_type: {p}ON
        node_key:
          day: !jmespath day
"#,
        glob = glob.display()
    )
}

/// Every node and relationship of a prefix, without the prefix and ingestion timestamps, sorted.
pub fn dump(prefix: &str) -> Vec<String> {
    let rows = cypher(&[
        &format!(
            "MATCH (n) WHERE any(l IN labels(n) WHERE l STARTS WITH '{prefix}') \
             WITH n, apoc.coll.sort([k IN keys(n) WHERE NOT (k STARTS WITH 'last_ingested' \
             OR k STARTS WITH 'was_ingested')]) AS ks \
             RETURN apoc.convert.toJson([[l IN labels(n) | substring(l, size('{prefix}'))], \
             apoc.map.submap(properties(n), ks), [k IN ks | k + ':' + apoc.meta.cypher.type(n[k])]]) AS j"
        ),
        &format!(
            "MATCH (a)-[r]->(b) WHERE type(r) STARTS WITH '{prefix}' \
             RETURN apoc.convert.toJson([a.id, substring(type(r), size('{prefix}')), b.day]) AS j"
        ),
    ]);
    let mut out: Vec<String> = rows
        .iter()
        .flatten()
        .map(|r| r["j"].as_str().unwrap_or_default().to_string())
        .collect();
    out.sort();
    out
}

#[test]
fn parquet_loads_the_same_graph_as_jsonl() {
    let (pa, pb) = ("SrcPqA", "SrcPqB");
    clean(pa);
    clean(pb);
    let mut p = Project::new();
    let mixed = p.path("data/mixed.parquet");
    std::fs::create_dir_all(p.path("data")).unwrap();
    write_mixed(&mixed, 3000, 1000);
    // The JSONL holds the records Python Nodestream reads from the parquet file.
    let jsonl: String = pandas(&mixed).iter().map(|r| format!("{r}\n")).collect();
    std::fs::write(p.path("mixed.jsonl"), jsonl).unwrap();
    p.pipeline("load", &pipeline(pa, &p.path("data/*.parquet")));
    p.pipeline("load_b", &pipeline(pb, &p.path("mixed.jsonl")));
    p.target("db", &uri(), &password(), "");
    let out = p.run("load", "db", &[]);
    assert!(out.status.success(), "{}", text(&out));
    let out = p.run("load_b", "db", &[]);
    assert!(out.status.success(), "{}", text(&out));
    let a = dump(pa);
    let b = dump(pb);
    let items = a.iter().filter(|s| s.contains("\"Item\"")).count();
    assert_eq!(items, 3000, "every row is a node");
    assert_eq!(a, b);
    // The rank column (ints with nulls) landed as floats, as from Python.
    let r = cypher(&[&format!(
        "MATCH (n:{pa}Item) WHERE n.rank IS NOT NULL RETURN DISTINCT apoc.meta.cypher.type(n.rank) AS t"
    )]);
    assert_eq!(r[0].len(), 1);
    assert_eq!(r[0][0]["t"], "FLOAT");
    clean(pa);
    clean(pb);
}
