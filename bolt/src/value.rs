//! Owned values: what results decode into, and what callers may send when they do not encode directly.

use bytes::Bytes;
use indexmap::IndexMap;

/// A map of string keys to values, in insertion order.
pub type Map = IndexMap<String, Value>;

/// Any PackStream value Neo4j can send or receive.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `null`
    Null,
    /// A boolean.
    Boolean(bool),
    /// A 64-bit signed integer.
    Integer(i64),
    /// A 64-bit float.
    Float(f64),
    /// A byte array.
    Bytes(Bytes),
    /// A UTF-8 string.
    String(String),
    /// A list.
    List(Vec<Value>),
    /// A map with string keys.
    Map(Map),
    // The graph structures are boxed: inline they made every `Value` 192 bytes, which every list element and
    // map entry of a decoded result paid for. Patterns such as `Value::Node(n)` still work (`n.labels`
    // derefs through the box); construct with `Box::new` or `Value::from(node)`.
    /// A graph node.
    Node(Box<Node>),
    /// A graph relationship.
    Relationship(Box<Relationship>),
    /// A relationship inside a path, without its endpoints.
    UnboundRelationship(Box<UnboundRelationship>),
    /// A path.
    Path(Box<Path>),
    /// A calendar date: days since 1970-01-01.
    Date(Date),
    /// A time with an offset.
    Time(Time),
    /// A time without a zone.
    LocalTime(LocalTime),
    /// An instant with a fixed UTC offset.
    DateTime(DateTime),
    /// An instant with a named time zone.
    DateTimeZoneId(DateTimeZoneId),
    /// A date and time without a zone.
    LocalDateTime(LocalDateTime),
    /// A duration.
    Duration(Duration),
    /// A 2D point.
    Point2D(Point2D),
    /// A 3D point.
    Point3D(Point3D),
}

/// A node as read from the server.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The legacy internal id.
    pub id: i64,
    /// Labels.
    pub labels: Vec<String>,
    /// Properties.
    pub properties: Map,
    /// The element id (Bolt 5.0+); `None` on 4.4.
    pub element_id: Option<String>,
}

/// A relationship as read from the server.
#[derive(Debug, Clone, PartialEq)]
pub struct Relationship {
    /// The legacy internal id.
    pub id: i64,
    /// Internal id of the start node.
    pub start_node_id: i64,
    /// Internal id of the end node.
    pub end_node_id: i64,
    /// Relationship type.
    pub rel_type: String,
    /// Properties.
    pub properties: Map,
    /// Element id (Bolt 5.0+).
    pub element_id: Option<String>,
    /// Element id of the start node (Bolt 5.0+).
    pub start_node_element_id: Option<String>,
    /// Element id of the end node (Bolt 5.0+).
    pub end_node_element_id: Option<String>,
}

/// A relationship inside a path.
#[derive(Debug, Clone, PartialEq)]
pub struct UnboundRelationship {
    /// The legacy internal id.
    pub id: i64,
    /// Relationship type.
    pub rel_type: String,
    /// Properties.
    pub properties: Map,
    /// Element id (Bolt 5.0+).
    pub element_id: Option<String>,
}

/// A path: nodes, relationships and the index sequence that joins them.
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    /// Distinct nodes of the path.
    pub nodes: Vec<Node>,
    /// Distinct relationships of the path.
    pub rels: Vec<UnboundRelationship>,
    /// Alternating relationship (1-based, negative = reversed) and node indices.
    pub indices: Vec<i64>,
}

/// Days since the Unix epoch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Date {
    /// Days since 1970-01-01.
    pub days: i64,
}

/// A time of day with an offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Time {
    /// Nanoseconds since midnight.
    pub nanoseconds: i64,
    /// Offset from UTC in seconds.
    pub tz_offset_seconds: i64,
}

/// A time of day without a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalTime {
    /// Nanoseconds since midnight.
    pub nanoseconds: i64,
}

/// An instant with a fixed offset, in the Bolt 5 (UTC-based) sense: `seconds` count from the Unix epoch in UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DateTime {
    /// Seconds since the Unix epoch, UTC.
    pub seconds: i64,
    /// Nanoseconds within the second.
    pub nanoseconds: i64,
    /// Offset from UTC in seconds.
    pub tz_offset_seconds: i64,
}

/// An instant with a named zone: `seconds` count from the Unix epoch in UTC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateTimeZoneId {
    /// Seconds since the Unix epoch, UTC.
    pub seconds: i64,
    /// Nanoseconds within the second.
    pub nanoseconds: i64,
    /// IANA zone id, such as `Europe/Paris`.
    pub tz_id: String,
}

/// A date and time without a zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LocalDateTime {
    /// Seconds since 1970-01-01T00:00:00 (local).
    pub seconds: i64,
    /// Nanoseconds within the second.
    pub nanoseconds: i64,
}

/// A duration in months, days, seconds and nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Duration {
    /// Months.
    pub months: i64,
    /// Days.
    pub days: i64,
    /// Seconds.
    pub seconds: i64,
    /// Nanoseconds.
    pub nanoseconds: i64,
}

/// A 2D point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point2D {
    /// Coordinate reference system id.
    pub srid: i64,
    /// x
    pub x: f64,
    /// y
    pub y: f64,
}

/// A 3D point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point3D {
    /// Coordinate reference system id.
    pub srid: i64,
    /// x
    pub x: f64,
    /// y
    pub y: f64,
    /// z
    pub z: f64,
}

impl Date {
    /// The proleptic Gregorian `(year, month, day)` of this date (civil-from-days arithmetic).
    pub fn civil(&self) -> (i64, i64, i64) {
        let z = self.days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z.rem_euclid(146_097);
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        (yoe + era * 400 + i64::from(month <= 2), month, day)
    }
}

impl DateTime {
    /// An instant from Unix seconds (UTC), nanoseconds and the offset to display it in.
    pub fn from_unix(seconds: i64, nanoseconds: u32, tz_offset_seconds: i32) -> Self {
        DateTime {
            seconds,
            nanoseconds: nanoseconds as i64,
            tz_offset_seconds: tz_offset_seconds as i64,
        }
    }
}

impl DateTimeZoneId {
    /// An instant from Unix seconds (UTC), nanoseconds and an IANA zone name.
    pub fn from_unix(seconds: i64, nanoseconds: u32, tz_id: impl Into<String>) -> Self {
        DateTimeZoneId {
            seconds,
            nanoseconds: nanoseconds as i64,
            tz_id: tz_id.into(),
        }
    }
}

impl LocalDateTime {
    /// A zone-less date and time from seconds since 1970-01-01T00:00:00 and nanoseconds.
    pub fn from_unix(seconds: i64, nanoseconds: u32) -> Self {
        LocalDateTime {
            seconds,
            nanoseconds: nanoseconds as i64,
        }
    }
}

impl Value {
    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Value::String(s) => Some(s),
            _ => None,
        }
    }
    /// The integer, if this is one.
    pub fn as_int(&self) -> Option<i64> {
        match self {
            Value::Integer(i) => Some(*i),
            _ => None,
        }
    }
    /// The float (or integer, widened), if this is a number.
    pub fn as_float(&self) -> Option<f64> {
        match self {
            Value::Float(f) => Some(*f),
            Value::Integer(i) => Some(*i as f64),
            _ => None,
        }
    }
    /// The boolean, if this is one.
    pub fn as_bool(&self) -> Option<bool> {
        match self {
            Value::Boolean(b) => Some(*b),
            _ => None,
        }
    }
    /// The list, if this is one.
    pub fn as_list(&self) -> Option<&[Value]> {
        match self {
            Value::List(l) => Some(l),
            _ => None,
        }
    }
    /// The map, if this is one.
    pub fn as_map(&self) -> Option<&Map> {
        match self {
            Value::Map(m) => Some(m),
            _ => None,
        }
    }
    /// True for `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Value::Null)
    }
}

macro_rules! from_impl {
    ($($t:ty => $v:ident $(as $cast:ty)?),* $(,)?) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::$v(v $(as $cast)?)
            }
        }
    )*};
}

from_impl! {
    bool => Boolean,
    i64 => Integer,
    i32 => Integer as i64,
    u32 => Integer as i64,
    i16 => Integer as i64,
    u16 => Integer as i64,
    i8 => Integer as i64,
    u8 => Integer as i64,
    f64 => Float,
    f32 => Float as f64,
    String => String,
    Vec<Value> => List,
    Map => Map,
    Bytes => Bytes,
    Date => Date,
    Time => Time,
    LocalTime => LocalTime,
    DateTime => DateTime,
    DateTimeZoneId => DateTimeZoneId,
    LocalDateTime => LocalDateTime,
    Duration => Duration,
    Point2D => Point2D,
    Point3D => Point3D,
}

macro_rules! from_boxed {
    ($($t:ident),*) => {$(
        impl From<$t> for Value {
            fn from(v: $t) -> Self {
                Value::$t(Box::new(v))
            }
        }
        impl From<Box<$t>> for Value {
            fn from(v: Box<$t>) -> Self {
                Value::$t(v)
            }
        }
    )*};
}

from_boxed!(Node, Relationship, UnboundRelationship, Path);

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_owned())
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::String(v.clone())
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

impl From<Vec<String>> for Value {
    fn from(v: Vec<String>) -> Self {
        Value::List(v.into_iter().map(Value::String).collect())
    }
}

impl From<Vec<i64>> for Value {
    fn from(v: Vec<i64>) -> Self {
        Value::List(v.into_iter().map(Value::Integer).collect())
    }
}

impl From<Vec<f64>> for Value {
    fn from(v: Vec<f64>) -> Self {
        Value::List(v.into_iter().map(Value::Float).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn value_stays_small() {
        // A decoded result is mostly `Value`s in lists and map entries; the largest inline variant is `Map`.
        assert!(
            std::mem::size_of::<Value>() <= 80,
            "{}",
            std::mem::size_of::<Value>()
        );
        let n = Node {
            id: 1,
            labels: vec!["A".into()],
            properties: Map::new(),
            element_id: None,
        };
        assert_eq!(Value::from(n.clone()), Value::Node(Box::new(n)));
    }
}
