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
    /// A graph node.
    Node(Node),
    /// A graph relationship.
    Relationship(Relationship),
    /// A relationship inside a path, without its endpoints.
    UnboundRelationship(UnboundRelationship),
    /// A path.
    Path(Path),
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
