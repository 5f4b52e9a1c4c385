//! Parquet files as records, row by row (row group by row group: never the whole file in memory), with the
//! values Python Nodestream 0.16 gets from `pd.read_parquet(...).iterrows()` then `row.to_dict()`.
//!
//! What pandas does that shows in the records:
//! - an integer column holding any null (over the whole file) becomes float64: `1` reads as `1.0`;
//! - `iterrows` makes one Series per row, so when every column is numeric (ints and floats, not bools) and
//!   one is float, every int in the row becomes a float too; any other mix keeps each value's own type;
//! - dates, times and timestamps are Python temporals; here they are their ISO text (`2024-01-02`,
//!   `2024-01-02T03:04:05.123456`, `...+00:00` for UTC-adjusted), as the value model holds no temporals;
//! - lists are lists, structs are maps, maps are lists of `[key, value]` pairs, decimals their text.
//!
//! NaN (pandas' null of a float column) has no place in the value model either: it reads as null.

use crate::record::{self as values, Doc, Var};
use jmespath::Variable;
use parquet::basic::{ConvertedType, LogicalType, TimeUnit, Type as Physical};
use parquet::file::reader::{ChunkReader, FileReader, SerializedFileReader};
use parquet::record::{Field, Row};
use std::collections::BTreeMap;
use std::sync::Arc;

/// How a top-level column's values convert.
#[derive(Clone, Copy, PartialEq)]
enum Column {
    /// Integers that pandas keeps as ints.
    Int,
    /// Integers that pandas turns into floats (the column holds nulls, or the row is all-numeric with a float).
    IntAsFloat,
    /// Unsigned 64-bit ints: with signed ints in an all-numeric row numpy makes float64.
    UInt64,
    /// Floats.
    Float,
    /// A timestamp column: its unit (for INT64 nanos, which the record API gives as plain longs) and zone.
    Timestamp { nanos: bool, utc: bool },
    /// Anything else (strings, bools, dates, nested): converted value by value.
    Other,
}

/// Reads every row of a parquet file, handing each to `emit` as a record. `Err(msg)` is a parse error.
pub fn read<R: ChunkReader + 'static, E>(
    input: R,
    emit: &mut dyn FnMut(Doc) -> Result<(), E>,
) -> Result<(), Result<E, String>> {
    // The record API panics (`unimplemented!`) on a few exotic column types; a bad file must not end the run.
    let reader = SerializedFileReader::new(input).map_err(|e| Err(e.to_string()))?;
    let columns = column_kinds(&reader);
    let rows = reader.get_row_iter(None).map_err(|e| Err(e.to_string()))?;
    let mut rows = rows.into_iter();
    loop {
        let next = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| rows.next()));
        let row = match next {
            Ok(None) => return Ok(()),
            Ok(Some(Ok(row))) => row,
            Ok(Some(Err(e))) => return Err(Err(e.to_string())),
            Err(p) => {
                let msg = p
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| p.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_else(|| "unsupported column type".to_string());
                return Err(Err(msg));
            }
        };
        emit(Doc::Var(row_to_var(row, &columns))).map_err(Ok)?;
    }
}

/// Each top-level column's kind, after pandas' whole-file and per-row promotions.
fn column_kinds<R: ChunkReader + 'static>(reader: &SerializedFileReader<R>) -> Vec<Column> {
    let meta = reader.metadata();
    let schema = meta.file_metadata().schema_descr();
    let mut kinds = Vec::new();
    for (i, field) in schema.root_schema().get_fields().iter().enumerate() {
        if !field.is_primitive() {
            kinds.push(Column::Other);
            continue;
        }
        // The leaf of a primitive top-level column is the one whose root is this column.
        let leaf = (0..schema.num_columns()).find(|&l| schema.get_column_root_idx(l) == i);
        let info = field.get_basic_info();
        let logical = info.logical_type_ref();
        let kind = match (field.get_physical_type(), info.converted_type(), logical) {
            (
                _,
                _,
                Some(LogicalType::Timestamp {
                    is_adjusted_to_u_t_c,
                    unit,
                }),
            ) => Column::Timestamp {
                nanos: matches!(unit, TimeUnit::NANOS),
                utc: *is_adjusted_to_u_t_c,
            },
            (Physical::INT96, _, _) => Column::Timestamp {
                nanos: false,
                utc: false,
            },
            (Physical::INT64, ConvertedType::UINT_64, _) => Column::UInt64,
            (
                Physical::INT32 | Physical::INT64,
                ConvertedType::NONE
                | ConvertedType::INT_8
                | ConvertedType::INT_16
                | ConvertedType::INT_32
                | ConvertedType::INT_64
                | ConvertedType::UINT_8
                | ConvertedType::UINT_16
                | ConvertedType::UINT_32,
                _,
            ) => {
                // pandas decides on the whole column: any null at all makes it float64. The statistics say how
                // many nulls each row group holds; without them, an optional column is taken to hold some.
                let nulls = leaf.map(|l| {
                    meta.row_groups().iter().try_fold(0u64, |acc, rg| {
                        rg.column(l)
                            .statistics()
                            .and_then(|s| s.null_count_opt())
                            .map(|n| acc + n)
                    })
                });
                let has_nulls = match nulls.flatten() {
                    Some(n) => n > 0,
                    None => field.is_optional(),
                };
                if has_nulls {
                    Column::IntAsFloat
                } else {
                    Column::Int
                }
            }
            (Physical::FLOAT | Physical::DOUBLE, _, _) => Column::Float,
            (Physical::FIXED_LEN_BYTE_ARRAY, _, Some(LogicalType::Float16)) => Column::Float,
            _ => Column::Other,
        };
        kinds.push(kind);
    }
    // One Series per row: an all-numeric row with a float (or signed ints with uint64) is all float64.
    let numeric = !kinds.is_empty()
        && kinds.iter().all(|k| {
            matches!(
                k,
                Column::Int | Column::IntAsFloat | Column::UInt64 | Column::Float
            )
        });
    let has_float = kinds
        .iter()
        .any(|k| matches!(k, Column::IntAsFloat | Column::Float));
    let mixed_sign =
        kinds.contains(&Column::UInt64) && kinds.iter().any(|k| matches!(k, Column::Int));
    if numeric && (has_float || mixed_sign) {
        for k in &mut kinds {
            if matches!(k, Column::Int | Column::UInt64) {
                *k = Column::IntAsFloat;
            }
        }
    }
    kinds
}

fn row_to_var(row: Row, columns: &[Column]) -> Var {
    let mut map = BTreeMap::new();
    for (i, (name, field)) in row.into_columns().into_iter().enumerate() {
        let kind = columns.get(i).copied().unwrap_or(Column::Other);
        map.insert(name, top_level(field, kind));
    }
    Arc::new(Variable::Object(map))
}

fn top_level(field: Field, kind: Column) -> Var {
    match (kind, field) {
        (Column::IntAsFloat, f) => match int_of(&f) {
            Some(i) => float(i as f64),
            None => match f {
                Field::ULong(u) => float(u as f64),
                other => convert(other),
            },
        },
        (Column::Timestamp { nanos: true, utc }, Field::Long(ns)) => timestamp(
            ns.div_euclid(1_000_000_000),
            ns.rem_euclid(1_000_000_000),
            utc,
        ),
        (Column::Timestamp { utc, .. }, Field::TimestampMillis(ms)) => {
            timestamp(ms.div_euclid(1000), ms.rem_euclid(1000) * 1_000_000, utc)
        }
        (Column::Timestamp { utc, .. }, Field::TimestampMicros(us)) => timestamp(
            us.div_euclid(1_000_000),
            us.rem_euclid(1_000_000) * 1000,
            utc,
        ),
        (_, f) => convert(f),
    }
}

fn int_of(f: &Field) -> Option<i64> {
    Some(match f {
        Field::Byte(v) => i64::from(*v),
        Field::Short(v) => i64::from(*v),
        Field::Int(v) => i64::from(*v),
        Field::Long(v) => *v,
        Field::UByte(v) => i64::from(*v),
        Field::UShort(v) => i64::from(*v),
        Field::UInt(v) => i64::from(*v),
        _ => return None,
    })
}

fn float(f: f64) -> Var {
    // NaN and infinities have no JSON number; they read as null.
    Arc::new(serde_json::Number::from_f64(f).map_or(Variable::Null, Variable::Number))
}

fn timestamp(secs: i64, nanos: i64, utc: bool) -> Var {
    let Some(t) = chrono::DateTime::from_timestamp(secs, nanos as u32) else {
        return values::null();
    };
    let base = t.naive_utc().format("%Y-%m-%dT%H:%M:%S").to_string();
    // Python prints microseconds (6 digits) when there are any; pandas 9 digits when nanoseconds remain.
    let frac = if nanos == 0 {
        String::new()
    } else if nanos % 1000 == 0 {
        format!(".{:06}", nanos / 1000)
    } else {
        format!(".{nanos:09}")
    };
    values::string(format!("{base}{frac}{}", if utc { "+00:00" } else { "" }))
}

fn time_of_day(nanos: i64) -> Var {
    let secs = nanos.div_euclid(1_000_000_000);
    let frac = nanos.rem_euclid(1_000_000_000);
    let mut s = format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60
    );
    if frac != 0 {
        s.push_str(&format!(".{:06}", frac / 1000));
    }
    values::string(s)
}

/// Python's `str(decimal.Decimal)` of an unscaled big-endian two's-complement integer and a scale.
fn decimal_text(bytes: &[u8], scale: i32) -> Option<String> {
    if bytes.is_empty() || bytes.len() > 16 {
        return None;
    }
    let mut v: i128 = if bytes[0] & 0x80 != 0 { -1 } else { 0 };
    for b in bytes {
        v = (v << 8) | i128::from(*b);
    }
    let neg = v < 0;
    let digits = v.unsigned_abs().to_string();
    let scale = usize::try_from(scale).ok()?;
    let body = if scale == 0 {
        digits
    } else if digits.len() > scale {
        format!(
            "{}.{}",
            &digits[..digits.len() - scale],
            &digits[digits.len() - scale..]
        )
    } else {
        format!("0.{}{digits}", "0".repeat(scale - digits.len()))
    };
    Some(if neg { format!("-{body}") } else { body })
}

fn convert(field: Field) -> Var {
    match field {
        Field::Null => values::null(),
        Field::Bool(b) => Arc::new(Variable::Bool(b)),
        Field::ULong(u) => Arc::new(Variable::Number(u.into())),
        Field::Float16(f) => float(f64::from(f)),
        Field::Float(f) => float(f64::from(f)),
        Field::Double(f) => float(f),
        Field::Decimal(d) => decimal_text(d.data(), d.scale())
            .map(values::string)
            .unwrap_or_else(values::null),
        Field::Str(s) => values::string(s),
        // Python gives `bytes`, which the value model lacks: their text, as far as it is UTF-8.
        Field::Bytes(b) => values::string(String::from_utf8_lossy(b.data()).into_owned()),
        Field::Date(days) => {
            let date = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)
                .and_then(|e| e.checked_add_signed(chrono::TimeDelta::days(i64::from(days))));
            match date {
                Some(d) => values::string(d.format("%Y-%m-%d").to_string()),
                None => values::null(),
            }
        }
        Field::TimeMillis(ms) => time_of_day(i64::from(ms) * 1_000_000),
        Field::TimeMicros(us) => time_of_day(us * 1000),
        Field::TimestampMillis(ms) => {
            timestamp(ms.div_euclid(1000), ms.rem_euclid(1000) * 1_000_000, false)
        }
        Field::TimestampMicros(us) => timestamp(
            us.div_euclid(1_000_000),
            us.rem_euclid(1_000_000) * 1000,
            false,
        ),
        Field::Group(row) => {
            let map = row
                .into_columns()
                .into_iter()
                .map(|(k, v)| (k, convert(v)))
                .collect();
            Arc::new(Variable::Object(map))
        }
        Field::ListInternal(list) => Arc::new(Variable::Array(
            list.elements().iter().cloned().map(convert).collect(),
        )),
        Field::MapInternal(map) => Arc::new(Variable::Array(
            map.entries()
                .iter()
                .map(|(k, v)| {
                    Arc::new(Variable::Array(vec![
                        convert(k.clone()),
                        convert(v.clone()),
                    ]))
                })
                .collect(),
        )),
        other => match int_of(&other) {
            Some(i) => Arc::new(Variable::Number(i.into())),
            None => values::null(),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_print_as_python() {
        assert_eq!(decimal_text(&[0x04, 0xd2], 2).as_deref(), Some("12.34"));
        assert_eq!(decimal_text(&[0xff, 0x85], 3).as_deref(), Some("-0.123"));
        assert_eq!(decimal_text(&[0x07], 0).as_deref(), Some("7"));
    }

    #[test]
    fn timestamps_print_as_python_isoformat() {
        assert_eq!(
            values::to_json(&timestamp(1_704_164_645, 123_456_000, false)),
            "2024-01-02T03:04:05.123456"
        );
        assert_eq!(
            values::to_json(&timestamp(1_704_164_645, 0, true)),
            "2024-01-02T03:04:05+00:00"
        );
        assert_eq!(values::to_json(&time_of_day(3_723_000_000_000)), "01:02:03");
    }
}
