//! The ingestion model (spec §3.1): what the interpreter produces and the writer consumes.
#![allow(dead_code)] // Scaffolding: removed once the interpreter and writer use every item.

use bolt::Value;
use indexmap::IndexMap;

/// A property or key name: shared, so cloning a map (the interpreter does once per node) does not copy it.
pub type Name = std::sync::Arc<str>;

/// Property maps keep insertion order, as Python dicts do.
pub type Properties = IndexMap<Name, Value>;

/// A Bolt map as a property map.
pub fn properties(map: IndexMap<String, Value>) -> Properties {
    map.into_iter().map(|(k, v)| (k.into(), v)).collect()
}

/// How a node is upserted, or matched as a relationship endpoint (spec §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NodeCreationRule {
    /// `MERGE` on (label, keys).
    Eager,
    /// `MATCH` on (label, keys); nothing is created.
    MatchOnly,
    /// `MATCH` with `=~` on every key.
    Fuzzy,
}

impl NodeCreationRule {
    /// Relationship queries never create nodes: EAGER becomes MATCH_ONLY.
    pub fn prevent_creation(self) -> Self {
        match self {
            NodeCreationRule::Eager => NodeCreationRule::MatchOnly,
            other => other,
        }
    }
}

/// How a relationship is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum RelationshipCreationRule {
    /// `MERGE` on (from, type, to, keys); also what `MERGE_KEY` means.
    Eager,
    /// `CREATE` a new relationship every time.
    Create,
}

/// A node: primary label, identity keys, properties and extra labels.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Node {
    /// Primary label.
    pub type_: String,
    /// Identity keys, in order.
    pub key_values: Properties,
    /// Properties set with `SET n += …`.
    pub properties: Properties,
    /// Additional labels.
    pub additional_types: Vec<String>,
}

impl Node {
    /// Valid iff a type is set, there is at least one key and no key is null (an empty string is valid).
    pub fn is_valid(&self) -> bool {
        !self.type_.is_empty()
            && !self.key_values.is_empty()
            && self.key_values.values().all(|v| !matches!(v, Value::Null))
    }
}

/// A relationship's own data (endpoints live in [`RelationshipWithNodes`]).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Relationship {
    /// Relationship type.
    pub type_: String,
    /// Identity keys (usually empty).
    pub key_values: Properties,
    /// Properties.
    pub properties: Properties,
}

/// A relationship with both endpoints, as the writer receives it.
#[derive(Debug, Clone, PartialEq)]
pub struct RelationshipWithNodes {
    /// Start node.
    pub from_node: Node,
    /// End node.
    pub to_node: Node,
    /// The relationship.
    pub relationship: Relationship,
    /// Rule for the start node.
    pub from_side_node_creation_rule: NodeCreationRule,
    /// Rule for the end node.
    pub to_side_node_creation_rule: NodeCreationRule,
    /// Rule for the relationship.
    pub relationship_creation_rule: RelationshipCreationRule,
}

/// One interpreted record.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredIngestion {
    /// The source node.
    pub source: Node,
    /// Rule for the source node (`allow_create`).
    pub source_node_creation_rule: NodeCreationRule,
    /// Relationships from or to the source node.
    pub relationships: Vec<RelationshipWithNodes>,
}

/// Whether a TTL applies to nodes or relationships.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GraphObjectType {
    /// Nodes of a label.
    Node,
    /// Relationships of a type.
    Relationship,
}

/// A TTL configuration record (spec §2.3.3, §3.4).
#[derive(Debug, Clone, PartialEq)]
pub struct TimeToLiveConfiguration {
    /// Nodes or relationships.
    pub graph_object_type: GraphObjectType,
    /// The label or type.
    pub object_type: String,
    /// Objects older than this many hours are deleted.
    pub expiry_in_hours: f64,
    /// A query replacing the matching part; returns a column `id`.
    pub custom_query: Option<String>,
    /// Only enabled configurations run.
    pub enabled: bool,
    /// Batch size for the delete.
    pub batch_size: i64,
}

/// What reaches a writer: one item per pipeline record.
#[derive(Debug, Clone, PartialEq)]
pub enum Ingestible {
    /// An interpreted record.
    Ingestion(DesiredIngestion),
    /// A TTL configuration, executed immediately.
    TimeToLive(TimeToLiveConfiguration),
    /// Flush what is buffered.
    Flush,
}

/// The JSON form of a Bolt value: the one conversion of the program, for the records of the `Neo4jExtractor`
/// (spec §7.1, where Python yields the driver's `record.data()`) and the dry run's property values.
///
/// Temporal values are strings as `str()` of the Python driver's values prints them: `2024-03-05T07:08:09.
/// 123456789+00:00` (nine fraction digits, `+HH:MM` offset; a named zone shows its offset at that instant),
/// `2024-03-05`, `07:08:09.000000000`, durations in the driver's ISO form (`P1Y2M3DT4H5M6.5S`, `PT0S`). Points are
/// objects `{srid, x, y[, z]}`; nodes their property maps; relationships `[{}, TYPE, {}]` (the row does not carry
/// the endpoints' properties); paths alternate node and relationship property maps; bytes are lists of integers.
/// Non-finite floats, which JSON cannot hold, become null.
pub fn value_json(v: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match v {
        Value::Null => J::Null,
        Value::Boolean(b) => J::Bool(*b),
        Value::Integer(i) => J::from(*i),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
        Value::String(s) => J::String(s.clone()),
        Value::Bytes(b) => J::Array(b.iter().map(|x| J::from(*x)).collect()),
        Value::List(l) => J::Array(l.iter().map(value_json).collect()),
        Value::Map(m) => map_json(m),
        Value::Node(n) => map_json(&n.properties),
        Value::Relationship(r) => J::Array(vec![
            J::Object(Default::default()),
            J::String(r.rel_type.clone()),
            J::Object(Default::default()),
        ]),
        Value::UnboundRelationship(r) => map_json(&r.properties),
        Value::Path(p) => {
            let mut out = Vec::with_capacity(p.nodes.len() * 2);
            for (i, n) in p.nodes.iter().enumerate() {
                if i > 0
                    && let Some(r) = p.rels.get(i - 1)
                {
                    out.push(map_json(&r.properties));
                }
                out.push(map_json(&n.properties));
            }
            J::Array(out)
        }
        Value::Date(d) => J::String(py_date(d.days)),
        Value::LocalTime(t) => J::String(py_time(t.nanoseconds)),
        Value::Time(t) => J::String(format!(
            "{}{}",
            py_time(t.nanoseconds),
            py_offset(t.tz_offset_seconds)
        )),
        Value::LocalDateTime(t) => J::String(py_datetime(t.seconds, t.nanoseconds)),
        Value::DateTime(t) => J::String(format!(
            "{}{}",
            py_datetime(t.seconds.saturating_add(t.tz_offset_seconds), t.nanoseconds),
            py_offset(t.tz_offset_seconds)
        )),
        Value::DateTimeZoneId(t) => J::String(zoned_datetime(t)),
        Value::Duration(d) => J::String(py_duration(d)),
        Value::Point2D(p) => serde_json::json!({"srid": p.srid, "x": p.x, "y": p.y}),
        Value::Point3D(p) => serde_json::json!({"srid": p.srid, "x": p.x, "y": p.y, "z": p.z}),
    }
}

fn map_json(m: &bolt::Map) -> serde_json::Value {
    serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), value_json(v))).collect())
}

/// `YYYY-MM-DD` (proleptic Gregorian) for days since 1970-01-01; years before 1 get a sign, which Python cannot
/// represent at all.
fn py_date(days: i64) -> String {
    let (year, month, day) = bolt::value::Date { days }.civil();
    let sign = if year < 0 { "-" } else { "" };
    format!("{sign}{:04}-{month:02}-{day:02}", year.abs())
}

/// `HH:MM:SS.nnnnnnnnn` for nanoseconds since midnight (Python always prints nine digits).
fn py_time(nanos: i64) -> String {
    let secs = nanos.div_euclid(1_000_000_000);
    let frac = nanos.rem_euclid(1_000_000_000);
    format!(
        "{:02}:{:02}:{:02}.{frac:09}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

/// `+HH:MM`/`-HH:MM` as the Python driver prints it (seconds of an offset are dropped, floor-wise).
fn py_offset(secs: i64) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let minutes = secs.div_euclid(60).unsigned_abs();
    format!("{sign}{:02}:{:02}", minutes / 60, minutes % 60)
}

/// `YYYY-MM-DDTHH:MM:SS.nnnnnnnnn` for local seconds since the epoch.
fn py_datetime(secs: i64, nanos: i64) -> String {
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    format!("{}T{}", py_date(days), py_time(tod * 1_000_000_000 + nanos))
}

/// A datetime in a named zone: its local time and the zone's offset at that instant, as Python prints it. A zone
/// the time-zone database does not know keeps the UTC instant and names the zone (`…+00:00[Mars/Olympus]`).
fn zoned_datetime(t: &bolt::value::DateTimeZoneId) -> String {
    use chrono::Offset;
    use chrono::TimeZone;
    let offset = t.tz_id.parse::<chrono_tz::Tz>().ok().and_then(|tz| {
        let utc = chrono::DateTime::from_timestamp(t.seconds, 0)?;
        Some(i64::from(
            tz.offset_from_utc_datetime(&utc.naive_utc())
                .fix()
                .local_minus_utc(),
        ))
    });
    match offset {
        Some(off) => format!(
            "{}{}",
            py_datetime(t.seconds.saturating_add(off), t.nanoseconds),
            py_offset(off)
        ),
        None => format!(
            "{}+00:00[{}]",
            py_datetime(t.seconds, t.nanoseconds),
            t.tz_id
        ),
    }
}

/// The Python driver's `Duration.iso_format()`: months split into years and months, seconds into hours, minutes
/// and seconds, every division truncating toward zero.
fn py_duration(d: &bolt::value::Duration) -> String {
    let total = i128::from(d.seconds) * 1_000_000_000 + i128::from(d.nanoseconds);
    let (s, ns) = (total / 1_000_000_000, total % 1_000_000_000);
    let (minutes, seconds) = (s / 60, s % 60);
    let (hours, minutes) = (minutes / 60, minutes % 60);
    let (years, months) = (d.months / 12, d.months % 12);
    let mut time = String::new();
    if hours != 0 {
        time.push_str(&format!("{hours}H"));
    }
    if minutes != 0 {
        time.push_str(&format!("{minutes}M"));
    }
    if ns != 0 {
        let frac = format!("{:09}", ns.abs());
        let frac = frac.trim_end_matches('0');
        if seconds >= 0 && ns >= 0 {
            time.push_str(&format!("{seconds}.{frac}S"));
        } else {
            time.push_str(&format!("-{}.{frac}S", seconds.abs()));
        }
    } else if seconds != 0 {
        time.push_str(&format!("{seconds}S"));
    }
    let mut out = String::from("P");
    if years != 0 {
        out.push_str(&format!("{years}Y"));
    }
    if months != 0 {
        out.push_str(&format!("{months}M"));
    }
    if d.days != 0 {
        out.push_str(&format!("{}D", d.days));
    }
    if !time.is_empty() {
        out.push('T');
        out.push_str(&time);
    }
    if out.len() == 1 {
        return "PT0S".into();
    }
    out
}

#[cfg(test)]
mod value_json_tests {
    use super::*;
    use bolt::value::{
        Date, DateTime, DateTimeZoneId, Duration, LocalDateTime, LocalTime, Point2D, Time,
    };
    use serde_json::json;

    fn s(v: Value) -> String {
        match value_json(&v) {
            serde_json::Value::String(s) => s,
            other => panic!("not a string: {other}"),
        }
    }

    fn dur(months: i64, days: i64, seconds: i64, nanoseconds: i64) -> String {
        s(Value::Duration(Duration {
            months,
            days,
            seconds,
            nanoseconds,
        }))
    }

    // Expected strings: `str()` of the values the Python driver (neo4j 5) returns for the same Cypher values.
    #[test]
    fn temporal_values_print_as_the_python_driver_does() {
        // datetime('2024-03-05T07:08:09.123456789Z')
        let utc = DateTime {
            seconds: 1_709_622_489,
            nanoseconds: 123_456_789,
            tz_offset_seconds: 0,
        };
        assert_eq!(
            s(Value::DateTime(utc)),
            "2024-03-05T07:08:09.123456789+00:00"
        );
        // datetime('2024-03-05T07:08:09.5+02:00')
        let plus2 = DateTime {
            seconds: 1_709_622_489 - 7200,
            nanoseconds: 500_000_000,
            tz_offset_seconds: 7200,
        };
        assert_eq!(
            s(Value::DateTime(plus2)),
            "2024-03-05T07:08:09.500000000+02:00"
        );
        // datetime('2024-03-05T07:08:09-05:30')
        let minus = DateTime {
            seconds: 1_709_622_489 + 19_800,
            nanoseconds: 0,
            tz_offset_seconds: -19_800,
        };
        assert_eq!(
            s(Value::DateTime(minus)),
            "2024-03-05T07:08:09.000000000-05:30"
        );
        // datetime('1969-12-31T23:59:59.999Z')
        let pre = DateTime {
            seconds: -1,
            nanoseconds: 999_000_000,
            tz_offset_seconds: 0,
        };
        assert_eq!(
            s(Value::DateTime(pre)),
            "1969-12-31T23:59:59.999000000+00:00"
        );
        // datetime({year: 2024, month: 3, day: 5, hour: 7, timezone: 'Europe/Paris'}): 06:00 UTC.
        let paris = DateTimeZoneId {
            seconds: 1_709_618_400,
            nanoseconds: 0,
            tz_id: "Europe/Paris".into(),
        };
        assert_eq!(
            s(Value::DateTimeZoneId(paris.clone())),
            "2024-03-05T07:00:00.000000000+01:00"
        );
        let summer = DateTimeZoneId {
            seconds: 1_719_810_000, // 2024-07-01T05:00:00Z
            ..paris.clone()
        };
        assert_eq!(
            s(Value::DateTimeZoneId(summer)),
            "2024-07-01T07:00:00.000000000+02:00"
        );
        let unknown = DateTimeZoneId {
            tz_id: "Mars/Olympus".into(),
            ..paris
        };
        assert_eq!(
            s(Value::DateTimeZoneId(unknown)),
            "2024-03-05T06:00:00.000000000+00:00[Mars/Olympus]"
        );
        // localdatetime('2024-03-05T07:08:09.000001')
        let local = LocalDateTime {
            seconds: 1_709_622_489,
            nanoseconds: 1000,
        };
        assert_eq!(
            s(Value::LocalDateTime(local)),
            "2024-03-05T07:08:09.000001000"
        );
        assert_eq!(s(Value::Date(Date { days: 19_787 })), "2024-03-05");
        assert_eq!(s(Value::Date(Date { days: -703_383 })), "0044-03-15");
        // time('07:08:09.25+01:00'), localtime('07:08:09'), time('07:08:09Z')
        let t = Time {
            nanoseconds: 25_689_250_000_000,
            tz_offset_seconds: 3600,
        };
        assert_eq!(s(Value::Time(t)), "07:08:09.250000000+01:00");
        let lt = LocalTime {
            nanoseconds: 25_689_000_000_000,
        };
        assert_eq!(s(Value::LocalTime(lt)), "07:08:09.000000000");
        let z = Time {
            tz_offset_seconds: 0,
            ..t
        };
        assert_eq!(s(Value::Time(z)), "07:08:09.250000000+00:00");
    }

    #[test]
    fn durations_print_as_the_python_driver_does() {
        // duration('P1Y2M3DT4H5M6.5S'), 'PT0S', '-PT1.5S' (Bolt: -2 s + 0.5e9 ns), 'P14D', 'PT0.000000001S'
        assert_eq!(dur(14, 3, 14_706, 500_000_000), "P1Y2M3DT4H5M6.5S");
        assert_eq!(dur(0, 0, 0, 0), "PT0S");
        assert_eq!(dur(0, 0, -2, 500_000_000), "PT-1.5S");
        assert_eq!(dur(0, 0, -1, 500_000_000), "PT-0.5S");
        assert_eq!(dur(0, 14, 0, 0), "P14D");
        assert_eq!(dur(0, 0, 0, 1), "PT0.000000001S");
        assert_eq!(dur(-13, 0, -3661, 0), "P-1Y-1MT-1H-1M-1S");
        assert_eq!(dur(12, 0, 0, 0), "P1Y");
    }

    #[test]
    fn other_values() {
        let p = Value::Point2D(Point2D {
            srid: 7203,
            x: 1.5,
            y: 2.0,
        });
        assert_eq!(value_json(&p), json!({"srid": 7203, "x": 1.5, "y": 2.0}));
        let l = Value::List(vec![
            Value::Integer(1),
            Value::Float(2.5),
            Value::Float(f64::NAN),
            Value::String("a".into()),
            Value::Null,
            Value::Boolean(true),
        ]);
        assert_eq!(value_json(&l), json!([1, 2.5, null, "a", null, true]));
        let mut m = bolt::Map::new();
        m.insert("d".into(), Value::Date(Date { days: 0 }));
        assert_eq!(value_json(&Value::Map(m)), json!({"d": "1970-01-01"}));
    }
}
