//! Encoding straight into a `BytesMut`, from borrowed data: callers encode their own types through [`Encode`]
//! without building a [`Value`] tree first.

use crate::value::Value;
use bytes::{BufMut, BytesMut};

/// A value that can write itself as PackStream.
pub trait Encode {
    /// Appends the PackStream form of `self` to `buf`.
    fn encode(&self, buf: &mut BytesMut);
}

/// Writes `null`.
#[inline]
pub fn null(buf: &mut BytesMut) {
    buf.put_u8(0xC0);
}

/// Writes a boolean.
#[inline]
pub fn boolean(buf: &mut BytesMut, v: bool) {
    buf.put_u8(if v { 0xC3 } else { 0xC2 });
}

/// Writes an integer in its smallest form.
#[inline]
pub fn int(buf: &mut BytesMut, v: i64) {
    if (-16..=127).contains(&v) {
        buf.put_i8(v as i8);
    } else if (-128..=-17).contains(&v) {
        buf.put_u8(0xC8);
        buf.put_i8(v as i8);
    } else if (-32_768..=32_767).contains(&v) {
        buf.put_u8(0xC9);
        buf.put_i16(v as i16);
    } else if (-2_147_483_648..=2_147_483_647).contains(&v) {
        buf.put_u8(0xCA);
        buf.put_i32(v as i32);
    } else {
        buf.put_u8(0xCB);
        buf.put_i64(v);
    }
}

/// Writes a 64-bit float.
#[inline]
pub fn float(buf: &mut BytesMut, v: f64) {
    buf.put_u8(0xC1);
    buf.put_f64(v);
}

#[inline]
fn sized<B: BufMut>(buf: &mut B, len: usize, tiny: u8, m8: u8) {
    if len < 16 && tiny != 0 {
        buf.put_u8(tiny | len as u8);
    } else if len <= u8::MAX as usize {
        buf.put_u8(m8);
        buf.put_u8(len as u8);
    } else if len <= u16::MAX as usize {
        buf.put_u8(m8 + 1);
        buf.put_u16(len as u16);
    } else {
        // PackStream caps 32-bit sizes at i32::MAX; larger input is a caller bug the server would reject.
        buf.put_u8(m8 + 2);
        buf.put_u32(len.min(i32::MAX as usize) as u32);
    }
}

/// Writes a UTF-8 string.
#[inline]
pub fn string(buf: &mut BytesMut, v: &str) {
    sized(buf, v.len(), 0x80, 0xD0);
    buf.put_slice(v.as_bytes());
}

/// Writes only the header of a UTF-8 string of `len` bytes, into any buffer; the caller appends the bytes
/// (for strings assembled from parts without building them first).
#[inline]
pub fn string_header<B: BufMut>(buf: &mut B, len: usize) {
    sized(buf, len, 0x80, 0xD0);
}

/// Writes a byte array.
#[inline]
pub fn bytes(buf: &mut BytesMut, v: &[u8]) {
    sized(buf, v.len(), 0, 0xCC);
    buf.put_slice(v);
}

/// Writes a list header; `len` items must follow.
#[inline]
pub fn list_header(buf: &mut BytesMut, len: usize) {
    sized(buf, len, 0x90, 0xD4);
}

/// Writes a map header; `len` key/value pairs must follow, each key written with [`string`].
#[inline]
pub fn map_header(buf: &mut BytesMut, len: usize) {
    sized(buf, len, 0xA0, 0xD8);
}

/// Writes a structure header; `fields` (at most 15) values must follow.
#[inline]
pub fn struct_header(buf: &mut BytesMut, tag: u8, fields: u8) {
    debug_assert!(fields < 16);
    buf.put_u8(0xB0 | (fields & 0x0F));
    buf.put_u8(tag);
}

impl Encode for bool {
    fn encode(&self, buf: &mut BytesMut) {
        boolean(buf, *self);
    }
}
impl Encode for i64 {
    fn encode(&self, buf: &mut BytesMut) {
        int(buf, *self);
    }
}
impl Encode for f64 {
    fn encode(&self, buf: &mut BytesMut) {
        float(buf, *self);
    }
}
impl Encode for str {
    fn encode(&self, buf: &mut BytesMut) {
        string(buf, self);
    }
}
impl Encode for String {
    fn encode(&self, buf: &mut BytesMut) {
        string(buf, self);
    }
}
impl<T: Encode + ?Sized> Encode for &T {
    fn encode(&self, buf: &mut BytesMut) {
        (**self).encode(buf);
    }
}
impl<T: Encode> Encode for Option<T> {
    fn encode(&self, buf: &mut BytesMut) {
        match self {
            Some(v) => v.encode(buf),
            None => null(buf),
        }
    }
}
impl<T: Encode> Encode for [T] {
    fn encode(&self, buf: &mut BytesMut) {
        list_header(buf, self.len());
        for v in self {
            v.encode(buf);
        }
    }
}
impl<T: Encode> Encode for Vec<T> {
    fn encode(&self, buf: &mut BytesMut) {
        self.as_slice().encode(buf);
    }
}
impl<K: AsRef<str>, V: Encode, S> Encode for indexmap::IndexMap<K, V, S> {
    fn encode(&self, buf: &mut BytesMut) {
        map_header(buf, self.len());
        for (k, v) in self {
            string(buf, k.as_ref());
            v.encode(buf);
        }
    }
}

impl Encode for Value {
    fn encode(&self, buf: &mut BytesMut) {
        // Graph and temporal structures use the Bolt 5 tags; the connection layer patches 4.4 forms.
        match self {
            Value::Null => null(buf),
            Value::Boolean(v) => boolean(buf, *v),
            Value::Integer(v) => int(buf, *v),
            Value::Float(v) => float(buf, *v),
            Value::Bytes(v) => bytes(buf, v),
            Value::String(v) => string(buf, v),
            Value::List(v) => v.encode(buf),
            Value::Map(v) => v.encode(buf),
            Value::Date(d) => {
                struct_header(buf, b'D', 1);
                int(buf, d.days);
            }
            Value::Time(t) => {
                struct_header(buf, b'T', 2);
                int(buf, t.nanoseconds);
                int(buf, t.tz_offset_seconds);
            }
            Value::LocalTime(t) => {
                struct_header(buf, b't', 1);
                int(buf, t.nanoseconds);
            }
            Value::DateTime(d) => {
                struct_header(buf, b'I', 3);
                int(buf, d.seconds);
                int(buf, d.nanoseconds);
                int(buf, d.tz_offset_seconds);
            }
            Value::DateTimeZoneId(d) => {
                struct_header(buf, b'i', 3);
                int(buf, d.seconds);
                int(buf, d.nanoseconds);
                string(buf, &d.tz_id);
            }
            Value::LocalDateTime(d) => {
                struct_header(buf, b'd', 2);
                int(buf, d.seconds);
                int(buf, d.nanoseconds);
            }
            Value::Duration(d) => {
                struct_header(buf, b'E', 4);
                int(buf, d.months);
                int(buf, d.days);
                int(buf, d.seconds);
                int(buf, d.nanoseconds);
            }
            Value::Point2D(p) => {
                struct_header(buf, b'X', 3);
                int(buf, p.srid);
                float(buf, p.x);
                float(buf, p.y);
            }
            Value::Point3D(p) => {
                struct_header(buf, b'Y', 4);
                int(buf, p.srid);
                float(buf, p.x);
                float(buf, p.y);
                float(buf, p.z);
            }
            // Graph entities cannot be sent as parameters; the server would reject them.
            Value::Node(_)
            | Value::Relationship(_)
            | Value::UnboundRelationship(_)
            | Value::Path(_) => null(buf),
        }
    }
}

/// How zoned datetimes go on the wire, as negotiated with the server: the one thing a caller that encodes
/// parameters itself must know (from [`crate::Driver::wire_format`]), handed to [`value`], [`map`] and [`props`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum WireFormat {
    /// Bolt 5, or 4.4 with the `utc` patch: `I`/`i` structures with UTC seconds.
    #[default]
    Utc,
    /// Bolt 4.4 without the patch: `F` with local seconds (`f` is not supported and falls back to `i`, which
    /// such a server rejects).
    Legacy,
}

impl WireFormat {
    /// The format for a connection that did (`true`) or did not negotiate UTC datetimes.
    pub fn from_utc(utc: bool) -> Self {
        if utc {
            WireFormat::Utc
        } else {
            WireFormat::Legacy
        }
    }
}

/// Writes a value in the negotiated format (see [`WireFormat`]).
pub fn value(buf: &mut BytesMut, v: &Value, format: WireFormat) {
    if format == WireFormat::Utc {
        return v.encode(buf);
    }
    match v {
        Value::DateTime(d) => {
            struct_header(buf, b'F', 3);
            int(buf, d.seconds.wrapping_add(d.tz_offset_seconds));
            int(buf, d.nanoseconds);
            int(buf, d.tz_offset_seconds);
        }
        Value::List(l) => {
            list_header(buf, l.len());
            for item in l {
                value(buf, item, format);
            }
        }
        Value::Map(m) => map(buf, m, format),
        other => other.encode(buf),
    }
}

/// Writes a map of values with [`value`].
pub fn map(buf: &mut BytesMut, m: &crate::value::Map, format: WireFormat) {
    props(buf, m, format);
}

/// Writes any string-keyed map of values (a row's properties) with [`value`].
pub fn props<K: AsRef<str>, S>(
    buf: &mut BytesMut,
    m: &indexmap::IndexMap<K, Value, S>,
    format: WireFormat,
) {
    if format == WireFormat::Utc {
        return m.encode(buf);
    }
    map_header(buf, m.len());
    for (k, v) in m {
        string(buf, k.as_ref());
        value(buf, v, format);
    }
}
