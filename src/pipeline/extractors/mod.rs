//! Extractors (spec §2.3): files (streamed, with gzip/bzip2), iterables, ranges and TTL configurations.

use crate::model::{GraphObjectType, TimeToLiveConfiguration};
use crate::project::yaml::{ScalarValue, YamlNode};
use crate::project::{LoadError, boolean, check_keys, string_list};
use crate::record;
use crate::record::{CsvHeaders, Doc, Var};
use jmespath::Variable;
use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

mod neo4j;

/// What an extractor emits.
pub enum Extracted {
    /// A data record.
    Data(Doc),
    /// A TTL configuration.
    Ttl(TimeToLiveConfiguration),
}

/// An extractor step.
#[derive(Debug)]
pub enum Extractor {
    /// Local files from globs, source by source.
    Files(Vec<Vec<String>>),
    /// A fixed list.
    Iterable(Vec<Var>),
    /// `{index: i}` for i in range(start, stop, step).
    Range {
        /// Start.
        start: i64,
        /// Stop (exclusive).
        stop: i64,
        /// Step.
        step: i64,
    },
    /// TTL configurations.
    Ttl(Vec<TimeToLiveConfiguration>),
    /// `Neo4jExtractor`: its resolved arguments (query, parameters, limit, connection keys).
    Neo4j(Neo4jArguments),
}

/// The `Neo4jExtractor` arguments; `Debug` hides them (they hold a password).
pub struct Neo4jArguments(pub serde_json::Map<String, serde_json::Value>);

impl std::fmt::Debug for Neo4jArguments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Neo4jArguments(..)")
    }
}

impl Extractor {
    /// FileExtractor: `factory: local` + `globs`, or `sources: [{type: local, globs}]`.
    pub fn files(factory: Option<&str>, args: &YamlNode, file: &str) -> Result<Self, LoadError> {
        match factory {
            Some("local") => {
                check_keys(
                    args,
                    file,
                    "the FileExtractor (local) arguments",
                    &["globs"],
                )?;
                let globs = args.get("globs").ok_or_else(|| {
                    LoadError::at(file, args, "the local FileExtractor needs `globs`")
                })?;
                Ok(Extractor::Files(vec![string_list(globs, file, "globs")?]))
            }
            None | Some("from_file_data") => {
                check_keys(args, file, "the FileExtractor arguments", &["sources"])?;
                let sources = args.get("sources").ok_or_else(|| {
                    LoadError::at(
                        file,
                        args,
                        "the FileExtractor needs `sources` (or `factory: local` with `globs`)",
                    )
                })?;
                let Some(items) = sources.as_seq() else {
                    return Err(LoadError::at(file, sources, "`sources` must be a list"));
                };
                let mut out = Vec::new();
                for s in items {
                    check_keys(
                        s,
                        file,
                        "a file source",
                        &[
                            "type",
                            "globs",
                            "urls",
                            "memory_spooling_max_size_in_mb",
                            "bucket",
                            "prefix",
                            "suffix",
                            "archive_dir",
                            "object_format",
                        ],
                    )?;
                    match s.get("type").map(YamlNode::key_text).as_deref() {
                        Some("local") => {
                            let globs = s.get("globs").ok_or_else(|| {
                                LoadError::at(file, s, "a local source needs `globs`")
                            })?;
                            out.push(string_list(globs, file, "globs")?);
                        }
                        Some(other) => {
                            return Err(LoadError::at(
                                file,
                                s,
                                format!(
                                    "file source type `{other}` is not supported (only `local`)"
                                ),
                            ));
                        }
                        None => return Err(LoadError::at(file, s, "a file source needs `type`")),
                    }
                }
                Ok(Extractor::Files(out))
            }
            Some(other) => Err(LoadError::at(
                file,
                args,
                format!("FileExtractor factory `{other}` is not supported (only `local`)"),
            )),
        }
    }

    /// IterableExtractor: `iterable: [...]` or `factory: range`.
    pub fn iterable(factory: Option<&str>, args: &YamlNode, file: &str) -> Result<Self, LoadError> {
        match factory {
            Some("range") => {
                check_keys(
                    args,
                    file,
                    "the range arguments",
                    &["start", "stop", "step"],
                )?;
                let int = |k: &str, d: i64| -> Result<i64, LoadError> {
                    match args.get(k) {
                        None => Ok(d),
                        Some(n) => match n.as_scalar().map(|s| &s.value) {
                            Some(ScalarValue::Int(i)) => Ok(*i),
                            _ => Err(LoadError::at(
                                file,
                                n,
                                format!("`{k}` must be an integer, found {}", n.type_name()),
                            )),
                        },
                    }
                };
                let step = int("step", 1)?;
                if step == 0 {
                    return Err(LoadError::at(file, args, "`step` must not be zero"));
                }
                Ok(Extractor::Range {
                    start: int("start", 0)?,
                    stop: int("stop", 100)?,
                    step,
                })
            }
            None | Some("from_file_data") => {
                check_keys(args, file, "the IterableExtractor arguments", &["iterable"])?;
                let it = args.get("iterable").ok_or_else(|| {
                    LoadError::at(file, args, "the IterableExtractor needs `iterable`")
                })?;
                let Some(items) = it.as_seq() else {
                    return Err(LoadError::at(
                        file,
                        it,
                        format!("`iterable` must be a list, found {}", it.type_name()),
                    ));
                };
                Ok(Extractor::Iterable(
                    items.iter().map(record::from_yaml).collect(),
                ))
            }
            Some(other) => Err(LoadError::at(
                file,
                args,
                format!("IterableExtractor factory `{other}` is not supported"),
            )),
        }
    }

    /// TimeToLiveConfigurationExtractor.
    pub fn ttl(args: &YamlNode, file: &str) -> Result<Self, LoadError> {
        check_keys(
            args,
            file,
            "the TimeToLiveConfigurationExtractor arguments",
            &[
                "graph_object_type",
                "configurations",
                "override_expiry_in_hours",
            ],
        )?;
        let got = args.get("graph_object_type").ok_or_else(|| {
            LoadError::at(
                file,
                args,
                "`graph_object_type` (NODE or RELATIONSHIP) is required",
            )
        })?;
        let graph_object_type = match got.key_text().as_str() {
            "NODE" => GraphObjectType::Node,
            "RELATIONSHIP" => GraphObjectType::Relationship,
            other => {
                return Err(LoadError::at(
                    file,
                    got,
                    format!("graph_object_type `{other}`: expected NODE or RELATIONSHIP"),
                ));
            }
        };
        let number = |n: &YamlNode, what: &str| -> Result<f64, LoadError> {
            match n.as_scalar().map(|s| &s.value) {
                Some(ScalarValue::Int(i)) => Ok(*i as f64),
                Some(ScalarValue::Float(f)) => Ok(*f),
                _ => Err(LoadError::at(
                    file,
                    n,
                    format!("`{what}` must be a number, found {}", n.type_name()),
                )),
            }
        };
        let over = match args.get("override_expiry_in_hours") {
            Some(n) if !n.is_null() => Some(number(n, "override_expiry_in_hours")?),
            _ => None,
        };
        let confs = args
            .get("configurations")
            .ok_or_else(|| LoadError::at(file, args, "`configurations` is required"))?;
        let Some(items) = confs.as_seq() else {
            return Err(LoadError::at(
                file,
                confs,
                "`configurations` must be a list",
            ));
        };
        let mut out = Vec::new();
        for c in items {
            check_keys(
                c,
                file,
                "a TTL configuration",
                &[
                    "object_type",
                    "expiry_in_hours",
                    "custom_query",
                    "batch_size",
                    "enabled",
                ],
            )?;
            let ot = c
                .get("object_type")
                .ok_or_else(|| LoadError::at(file, c, "a TTL configuration needs `object_type`"))?;
            let expiry = match c.get("expiry_in_hours") {
                Some(n) if !n.is_null() => number(n, "expiry_in_hours")?,
                _ => 24.0,
            };
            out.push(TimeToLiveConfiguration {
                graph_object_type,
                object_type: ot.key_text(),
                expiry_in_hours: over.unwrap_or(expiry),
                custom_query: c
                    .get("custom_query")
                    .filter(|n| !n.is_null())
                    .map(YamlNode::key_text),
                enabled: match c.get("enabled") {
                    Some(n) => boolean(n, file, "enabled")?,
                    None => true,
                },
                batch_size: match c.get("batch_size") {
                    Some(n) => number(n, "batch_size")? as i64,
                    None => 100,
                },
            });
        }
        Ok(Extractor::Ttl(out))
    }

    /// Emits every record, stopping at the first error `emit` returns.
    pub fn run(&self, emit: &mut dyn FnMut(Extracted) -> anyhow::Result<()>) -> anyhow::Result<()> {
        match self {
            Extractor::Iterable(items) => {
                for i in items {
                    emit(Extracted::Data(Doc::Var(i.clone())))?;
                }
            }
            Extractor::Range { start, stop, step } => {
                let mut i = *start;
                while (*step > 0 && i < *stop) || (*step < 0 && i > *stop) {
                    let mut m = BTreeMap::new();
                    m.insert("index".to_string(), Arc::new(Variable::Number(i.into())));
                    emit(Extracted::Data(Doc::Var(Arc::new(Variable::Object(m)))))?;
                    i += step;
                }
            }
            Extractor::Ttl(confs) => {
                for c in confs {
                    emit(Extracted::Ttl(c.clone()))?;
                }
            }
            Extractor::Neo4j(args) => {
                neo4j::run_blocking(&args.0, &mut |record| {
                    emit(Extracted::Data(Doc::Var(record::from_json(record))))
                })?;
            }
            Extractor::Files(sources) => {
                for globs in sources {
                    let files = expand_globs(globs);
                    if files.is_empty() {
                        tracing::warn!("No files found for source: {}", globs.join(", "));
                    }
                    for f in files {
                        read_file(&f, emit)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Expands globs (recursive `**`), keeps regular files, sorts by path.
pub fn expand_globs(globs: &[String]) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for g in globs {
        match glob::glob(g) {
            Ok(paths) => out.extend(paths.filter_map(Result::ok).filter(|p| p.is_file())),
            Err(e) => tracing::warn!("invalid glob {g:?}: {e}"),
        }
    }
    out.sort();
    out
}

/// Error from `emit` (downstream) as opposed to a parse error in the file.
struct Downstream(anyhow::Error);

/// Reads one file, choosing the decoder by its suffixes; a parse error logs a warning and stops this file.
pub fn read_file(
    path: &Path,
    emit: &mut dyn FnMut(Extracted) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let reader: Box<dyn Read> = match std::fs::File::open(path) {
        Ok(f) => Box::new(f),
        Err(e) => {
            tracing::warn!("cannot open {}: {e}", path.display());
            return Ok(());
        }
    };
    read_stream(
        &name,
        &path.display().to_string(),
        reader,
        Some(path),
        super::sources::DEFAULT_SPOOL_BYTES,
        emit,
    )
}

/// Reads one stream named `name` (its suffixes choose the decoders), shown as `shown` in messages. `local`
/// is the file itself when `reader` reads it (parquet then reads it in place); formats that need to seek
/// (parquet) spool anything else, in memory up to `spool_bytes`, then on disk.
pub fn read_stream(
    name: &str,
    shown: &str,
    mut reader: Box<dyn Read>,
    mut local: Option<&Path>,
    spool_bytes: usize,
    emit: &mut dyn FnMut(Extracted) -> anyhow::Result<()>,
) -> anyhow::Result<()> {
    let mut stem = name;
    let format = loop {
        let Some(dot) = stem.rfind('.') else {
            return Ok(());
        };
        let suffix = &stem[dot + 1..];
        match suffix {
            "gz" => {
                local = None;
                reader = Box::new(flate2::read::MultiGzDecoder::new(BufReader::with_capacity(
                    1 << 16,
                    reader,
                )))
            }
            "bz2" => {
                local = None;
                reader = Box::new(bzip2::read::MultiBzDecoder::new(BufReader::with_capacity(
                    1 << 16,
                    reader,
                )))
            }
            "csv" | "json" | "jsonl" | "txt" | "yaml" | "parquet" => break suffix.to_string(),
            // Unknown suffix: skipped silently, as in Python.
            _ => return Ok(()),
        }
        stem = &stem[..dot];
    };
    let mut wrapped = |x: Extracted| emit(x).map_err(Downstream);
    let result: Result<(), Result<Downstream, String>> = match format.as_str() {
        "csv" => read_csv(reader, &mut wrapped),
        "parquet" => super::sources::read_parquet(reader, local, spool_bytes, &mut |d| {
            wrapped(Extracted::Data(d))
        }),
        "json" => {
            let mut text = String::new();
            match reader.read_to_string(&mut text) {
                Err(e) => Err(Err(e.to_string())),
                Ok(_) => match serde_json::from_str::<serde_json::Value>(&text) {
                    Ok(v) => wrapped(Extracted::Data(Doc::Var(record::from_json(v)))).map_err(Ok),
                    Err(e) => Err(Err(e.to_string())),
                },
            }
        }
        "yaml" => {
            let mut text = String::new();
            match reader.read_to_string(&mut text) {
                Err(e) => Err(Err(e.to_string())),
                Ok(_) => match crate::project::yaml::load_str(&text, shown) {
                    Ok(v) => wrapped(Extracted::Data(Doc::Var(record::from_yaml(&v)))).map_err(Ok),
                    Err(e) => Err(Err(e.to_string())),
                },
            }
        }
        "jsonl" => read_lines(reader, &mut |line| {
            let t = line.trim();
            if t.is_empty() {
                return Ok(());
            }
            match serde_json::from_str::<serde_json::Value>(t) {
                Ok(v) => wrapped(Extracted::Data(Doc::Var(record::from_json(v)))).map_err(Ok),
                Err(e) => Err(Err(e.to_string())),
            }
        }),
        _ => read_lines(reader, &mut |line| {
            let mut m = BTreeMap::new();
            m.insert("line".to_string(), record::string(line.trim()));
            wrapped(Extracted::Data(Doc::Var(Arc::new(Variable::Object(m))))).map_err(Ok)
        }),
    };
    match result {
        Ok(()) => Ok(()),
        Err(Ok(Downstream(e))) => Err(e),
        Err(Err(msg)) => {
            tracing::warn!(
                "Failed to parse {format} file (at path {}). Please ensure the file is in the correct format. ({msg})",
                shown
            );
            Ok(())
        }
    }
}

type ReadResult = Result<(), Result<Downstream, String>>;

fn read_lines(reader: Box<dyn Read>, f: &mut dyn FnMut(&str) -> ReadResult) -> ReadResult {
    let mut r = BufReader::with_capacity(1 << 16, reader);
    let mut line = String::new();
    loop {
        line.clear();
        match r.read_line(&mut line) {
            Ok(0) => return Ok(()),
            Ok(_) => f(&line)?,
            Err(e) => return Err(Err(e.to_string())),
        }
    }
}

fn read_csv(
    reader: Box<dyn Read>,
    emit: &mut dyn FnMut(Extracted) -> Result<(), Downstream>,
) -> ReadResult {
    // Python does not strip a UTF-8 byte order mark: it stays in the first header name. csv-core strips it,
    // so note it here and put it back.
    let mut reader = BufReader::with_capacity(1 << 16, reader);
    let bom = match reader.fill_buf() {
        Ok(buf) => buf.starts_with(b"\xef\xbb\xbf"),
        Err(e) => return Err(Err(e.to_string())),
    };
    let mut r = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(reader);
    let headers = match r.headers() {
        Ok(h) => {
            let mut names: Vec<String> = h.iter().map(str::to_string).collect();
            if bom && let Some(first) = names.first_mut() {
                first.insert(0, '\u{feff}');
            }
            Arc::new(CsvHeaders::new(names))
        }
        Err(e) => return Err(Err(e.to_string())),
    };
    let (mut bytes, mut fields) = (256, headers_len(&headers));
    loop {
        // Each row keeps its own record (moved into the document); size it like the previous row.
        let mut rec = csv::StringRecord::with_capacity(bytes, fields);
        match r.read_record(&mut rec) {
            Ok(false) => return Ok(()),
            Ok(true) => {
                bytes = rec.as_slice().len().max(16);
                fields = rec.len().max(1);
                // Excel dialect: every cell is a string; missing trailing cells are null; extra cells go under "None".
                emit(Extracted::Data(Doc::csv(Arc::clone(&headers), rec))).map_err(Ok)?;
            }
            Err(e) => return Err(Err(e.to_string())),
        }
    }
}

fn headers_len(h: &CsvHeaders) -> usize {
    h.columns().max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn collect(path: &Path) -> Vec<serde_json::Value> {
        let mut out = Vec::new();
        read_file(path, &mut |x| {
            if let Extracted::Data(v) = x {
                out.push(record::to_json(&v.var()));
            }
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn csv_json_jsonl_txt_yaml_with_compression() {
        let dir = tempfile::tempdir().unwrap();
        let csv = "a,b\n1,\"x, \"\"y\"\"\"\n2\n";
        std::fs::write(dir.path().join("d.csv"), csv).unwrap();
        let expected = vec![
            serde_json::json!({"a": "1", "b": "x, \"y\""}),
            serde_json::json!({"a": "2", "b": null}),
        ];
        assert_eq!(collect(&dir.path().join("d.csv")), expected);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(csv.as_bytes()).unwrap();
        std::fs::write(dir.path().join("d.csv.gz"), gz.finish().unwrap()).unwrap();
        assert_eq!(collect(&dir.path().join("d.csv.gz")), expected);
        let mut bz = bzip2::write::BzEncoder::new(Vec::new(), bzip2::Compression::fast());
        bz.write_all(b"{\"k\": 1}\n\n{\"k\": 2}\n").unwrap();
        std::fs::write(dir.path().join("d.jsonl.bz2"), bz.finish().unwrap()).unwrap();
        assert_eq!(
            collect(&dir.path().join("d.jsonl.bz2")),
            vec![serde_json::json!({"k": 1}), serde_json::json!({"k": 2})]
        );
        std::fs::write(dir.path().join("d.json"), "[1, 2]").unwrap();
        assert_eq!(
            collect(&dir.path().join("d.json")),
            vec![serde_json::json!([1, 2])]
        );
        std::fs::write(dir.path().join("d.txt"), "  hi  \nthere\n").unwrap();
        assert_eq!(
            collect(&dir.path().join("d.txt")),
            vec![
                serde_json::json!({"line": "hi"}),
                serde_json::json!({"line": "there"})
            ]
        );
        std::fs::write(dir.path().join("d.yaml"), "a: yes\nb: 0755\n").unwrap();
        assert_eq!(
            collect(&dir.path().join("d.yaml")),
            vec![serde_json::json!({"a": true, "b": 493})]
        );
        std::fs::write(dir.path().join("d.yml"), "a: 1\n").unwrap();
        assert!(collect(&dir.path().join("d.yml")).is_empty());
        // A parse error stops the file but keeps what was read.
        std::fs::write(
            dir.path().join("bad.jsonl"),
            "{\"k\": 1}\n{oops\n{\"k\": 3}\n",
        )
        .unwrap();
        assert_eq!(
            collect(&dir.path().join("bad.jsonl")),
            vec![serde_json::json!({"k": 1})]
        );
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
        /// Whatever Python's csv writer (Excel dialect, here the csv crate with the same rules) writes, every
        /// cell reads back as the same string under its header, through gzip too.
        #[test]
        fn csv_round_trips(rows in proptest::collection::vec(proptest::collection::vec("[^\r]{0,12}", 3), 1..20)) {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("r.csv.gz");
            let file = std::fs::File::create(&path).unwrap();
            let gz = flate2::write::GzEncoder::new(file, flate2::Compression::fast());
            let mut w = csv::Writer::from_writer(gz);
            w.write_record(["a", "b", "c"]).unwrap();
            for r in &rows {
                w.write_record(r).unwrap();
            }
            w.into_inner().unwrap().finish().unwrap();
            let mut got = Vec::new();
            read_file(&path, &mut |x| {
                if let Extracted::Data(d) = x {
                    got.push(record::to_json(&d.var()));
                }
                Ok(())
            }).unwrap();
            // A row of three empty cells is written as `""` but an entirely empty line would be skipped;
            // the writer never produces one for three columns.
            prop_assert_eq!(got.len(), rows.len());
            for (g, r) in got.iter().zip(&rows) {
                prop_assert_eq!(g, &serde_json::json!({"a": r[0], "b": r[1], "c": r[2]}));
            }
        }
    }
}
