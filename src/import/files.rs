//! neo4j-admin import files: typed header files and gzip data files (RFC 4180 quoting, `"` doubled; string
//! fields always quoted, so an empty string stays an empty string and newlines need `--multiline-fields`).

use bolt::Value;
use chrono::{Datelike, Offset, TimeZone, Timelike};
use flate2::write::GzEncoder;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// The array delimiter passed to neo4j-admin (`--array-delimiter`): a control character no text should hold.
pub const ARRAY_DELIMITER: char = '\u{1f}';

/// Why a value cannot be written.
#[derive(Debug, thiserror::Error)]
pub enum ValueError {
    /// Neo4j stores no maps, nodes, paths as properties.
    #[error("a {0} cannot be stored as a property")]
    NotStorable(&'static str),
    /// Neo4j stores only homogeneous lists.
    #[error("a list mixing {0} and {1} cannot be stored as a property")]
    MixedList(String, String),
    /// The array delimiter inside a list element.
    #[error("a list element holds the array delimiter U+001F")]
    Delimiter,
}

fn scalar_type(v: &Value) -> Result<&'static str, ValueError> {
    Ok(match v {
        Value::Boolean(_) => "boolean",
        Value::Integer(_) => "long",
        Value::Float(_) => "double",
        Value::String(_) => "string",
        Value::Date(_) => "date",
        Value::Time(_) => "time",
        Value::LocalTime(_) => "localtime",
        Value::DateTime(_) | Value::DateTimeZoneId(_) => "datetime",
        Value::LocalDateTime(_) => "localdatetime",
        Value::Duration(_) => "duration",
        Value::Point2D(_) | Value::Point3D(_) => "point",
        Value::Null => return Err(ValueError::NotStorable("null inside a list")),
        Value::Map(_) => return Err(ValueError::NotStorable("map")),
        Value::Node(_) => return Err(ValueError::NotStorable("node")),
        Value::Relationship(_) | Value::UnboundRelationship(_) => {
            return Err(ValueError::NotStorable("relationship"));
        }
        Value::Path(_) => return Err(ValueError::NotStorable("path")),
        Value::Bytes(_) | Value::List(_) => return Err(ValueError::NotStorable("nested list")),
    })
}

/// The column type of a non-null value (`long`, `string[]`, …). An empty list is `string[]`.
pub fn column_type(v: &Value) -> Result<String, ValueError> {
    match v {
        Value::Bytes(_) => Ok("byte[]".into()),
        Value::List(items) => {
            let mut t: Option<&'static str> = None;
            for i in items {
                let it = scalar_type(i)?;
                match t {
                    None => t = Some(it),
                    Some(x) if x == it => {}
                    Some(x) => return Err(ValueError::MixedList(x.into(), it.into())),
                }
            }
            Ok(format!("{}[]", t.unwrap_or("string")))
        }
        other => Ok(scalar_type(other)?.to_string()),
    }
}

/// Appends a CSV field: quoted when it holds anything CSV treats specially (or always, with `force`).
pub fn push_field(out: &mut Vec<u8>, text: &str, force: bool) {
    let special = force
        || text.is_empty()
        || text
            .bytes()
            .any(|b| matches!(b, b'"' | b',' | b'\n' | b'\r'))
        || text.starts_with(' ')
        || text.ends_with(' ');
    if !special {
        out.extend_from_slice(text.as_bytes());
        return;
    }
    out.push(b'"');
    for b in text.bytes() {
        if b == b'"' {
            out.push(b'"');
        }
        out.push(b);
    }
    out.push(b'"');
}

/// The text of a value in a typed column (before CSV quoting).
pub fn value_text(v: &Value, out: &mut String) -> Result<(), ValueError> {
    use std::fmt::Write as _;
    match v {
        Value::Boolean(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Integer(i) => {
            let _ = write!(out, "{i}");
        }
        Value::Float(f) => float(*f, out),
        Value::String(s) => out.push_str(s),
        Value::Bytes(b) => {
            for (i, x) in b.iter().enumerate() {
                if i > 0 {
                    out.push(ARRAY_DELIMITER);
                }
                let _ = write!(out, "{}", *x as i8);
            }
        }
        Value::List(items) => {
            for (i, x) in items.iter().enumerate() {
                if i > 0 {
                    out.push(ARRAY_DELIMITER);
                }
                let start = out.len();
                value_text(x, out)?;
                if out[start..].contains(ARRAY_DELIMITER) {
                    return Err(ValueError::Delimiter);
                }
            }
        }
        Value::Date(d) => date(d.days, out),
        Value::LocalTime(t) => time(t.nanoseconds, out),
        Value::Time(t) => {
            time(t.nanoseconds, out);
            offset(t.tz_offset_seconds, out);
        }
        Value::LocalDateTime(t) => datetime(t.seconds, t.nanoseconds, out),
        Value::DateTime(t) => {
            datetime(
                t.seconds.saturating_add(t.tz_offset_seconds),
                t.nanoseconds,
                out,
            );
            offset(t.tz_offset_seconds, out);
        }
        Value::DateTimeZoneId(t) => {
            let off = t
                .tz_id
                .parse::<chrono_tz::Tz>()
                .ok()
                .and_then(|tz| {
                    chrono::DateTime::from_timestamp(t.seconds, 0)
                        .map(|utc| tz.offset_from_utc_datetime(&utc.naive_utc()).fix())
                })
                .map_or(0, |o| o.local_minus_utc() as i64);
            datetime(t.seconds.saturating_add(off), t.nanoseconds, out);
            offset(off, out);
            let _ = write!(out, "[{}]", t.tz_id);
        }
        Value::Duration(d) => {
            let nanos = d.seconds as i128 * 1_000_000_000 + d.nanoseconds as i128;
            let sign = if nanos < 0 { "-" } else { "" };
            let n = nanos.unsigned_abs();
            let _ = write!(
                out,
                "P{}M{}DT{sign}{}.{:09}S",
                d.months,
                d.days,
                n / 1_000_000_000,
                n % 1_000_000_000
            );
        }
        Value::Point2D(p) => {
            let _ = write!(out, "{{crs:{}, x:", crs(p.srid));
            float(p.x, out);
            out.push_str(", y:");
            float(p.y, out);
            out.push('}');
        }
        Value::Point3D(p) => {
            let _ = write!(out, "{{crs:{}, x:", crs(p.srid));
            float(p.x, out);
            out.push_str(", y:");
            float(p.y, out);
            out.push_str(", z:");
            float(p.z, out);
            out.push('}');
        }
        other => {
            scalar_type(other)?;
        }
    }
    Ok(())
}

fn crs(srid: i64) -> &'static str {
    match srid {
        4326 => "WGS-84",
        4979 => "WGS-84-3D",
        9157 => "cartesian-3D",
        _ => "cartesian",
    }
}

fn float(f: f64, out: &mut String) {
    use std::fmt::Write as _;
    if f.is_nan() {
        out.push_str("NaN");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "Infinity" } else { "-Infinity" });
    } else {
        // Debug prints the shortest text that reads back as the same double.
        let _ = write!(out, "{f:?}");
    }
}

fn date(days: i64, out: &mut String) {
    use std::fmt::Write as _;
    let d = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)
        .and_then(|e| e.checked_add_signed(chrono::Duration::days(days)));
    if let Some(d) = d {
        let _ = write!(out, "{:04}-{:02}-{:02}", d.year(), d.month(), d.day());
    }
}

fn time(nanos: i64, out: &mut String) {
    use std::fmt::Write as _;
    let s = nanos.div_euclid(1_000_000_000);
    let n = nanos.rem_euclid(1_000_000_000);
    let _ = write!(
        out,
        "{:02}:{:02}:{:02}.{n:09}",
        s / 3600,
        (s / 60) % 60,
        s % 60
    );
}

fn datetime(local_seconds: i64, nanos: i64, out: &mut String) {
    use std::fmt::Write as _;
    if let Some(t) = chrono::DateTime::from_timestamp(local_seconds, 0) {
        let t = t.naive_utc();
        let _ = write!(
            out,
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:09}",
            t.year(),
            t.month(),
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            nanos
        );
    }
}

fn offset(seconds: i64, out: &mut String) {
    use std::fmt::Write as _;
    if seconds == 0 {
        out.push('Z');
        return;
    }
    let sign = if seconds < 0 { '-' } else { '+' };
    let s = seconds.abs();
    let _ = write!(out, "{sign}{:02}:{:02}", s / 3600, (s / 60) % 60);
    if s % 60 != 0 {
        let _ = write!(out, ":{:02}", s % 60);
    }
}

/// One header file and its gzip data file.
pub struct CsvFile {
    /// The header file.
    pub header: PathBuf,
    /// The data file.
    pub data: PathBuf,
    w: GzEncoder<BufWriter<File>>,
    /// Rows written.
    pub rows: u64,
    line: Vec<u8>,
    text: String,
}

impl CsvFile {
    /// Creates `dir/{stem}.header.csv` (written now) and `dir/{stem}.csv.gz`.
    pub fn create(dir: &Path, stem: &str, header: &[String]) -> std::io::Result<CsvFile> {
        let hpath = dir.join(format!("{stem}.header.csv"));
        let mut h = Vec::new();
        for (i, c) in header.iter().enumerate() {
            if i > 0 {
                h.push(b',');
            }
            push_field(&mut h, c, false);
        }
        h.push(b'\n');
        std::fs::write(&hpath, &h)?;
        let dpath = dir.join(format!("{stem}.csv.gz"));
        let f = File::create(&dpath)?;
        Ok(CsvFile {
            header: hpath,
            data: dpath,
            // Level 1: the files are read once, by the tool; CPU matters more than their size.
            w: GzEncoder::new(
                BufWriter::with_capacity(1 << 18, f),
                flate2::Compression::new(1),
            ),
            rows: 0,
            line: Vec::with_capacity(256),
            text: String::new(),
        })
    }

    /// Writes one row: leading raw fields (IDs, labels), then one optional value per typed column.
    pub fn row(&mut self, lead: &[&str], values: &[Option<&Value>]) -> Result<(), RowError> {
        self.line.clear();
        let mut first = true;
        for f in lead {
            if !first {
                self.line.push(b',');
            }
            first = false;
            push_field(&mut self.line, f, false);
        }
        for v in values {
            if !first {
                self.line.push(b',');
            }
            first = false;
            if let Some(v) = v {
                self.text.clear();
                value_text(v, &mut self.text)?;
                let quote = matches!(v, Value::String(_) | Value::List(_));
                push_field(&mut self.line, &self.text, quote);
            }
        }
        self.line.push(b'\n');
        self.w.write_all(&self.line)?;
        self.rows += 1;
        Ok(())
    }

    /// Finishes the gzip stream.
    pub fn finish(self) -> std::io::Result<()> {
        let mut inner = self.w.finish()?;
        inner.flush()
    }
}

/// A row that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum RowError {
    /// A value neo4j-admin cannot take.
    #[error(transparent)]
    Value(#[from] ValueError),
    /// Disk.
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(v: &Value) -> String {
        let mut s = String::new();
        value_text(v, &mut s).unwrap();
        s
    }

    #[test]
    fn temporal_and_float_text() {
        assert_eq!(text(&Value::Float(1e-7)), "1e-7");
        assert_eq!(text(&Value::Float(2.5)), "2.5");
        assert_eq!(
            text(&Value::Date(bolt::value::Date { days: 19000 })),
            "2022-01-08"
        );
        assert_eq!(
            text(&Value::DateTime(bolt::value::DateTime {
                seconds: 0,
                nanoseconds: 5,
                tz_offset_seconds: 3600
            })),
            "1970-01-01T01:00:00.000000005+01:00"
        );
        assert_eq!(
            column_type(&Value::List(vec![Value::Integer(1)])).unwrap(),
            "long[]"
        );
        let mut f = Vec::new();
        push_field(&mut f, "a\"b", true);
        assert_eq!(f, b"\"a\"\"b\"");
    }
}
