//! Strict decoding from `Bytes`: every size is checked against the remaining input before anything is
//! allocated, nesting is limited, and reserved markers are errors. Bytes values are zero-copy slices.

use crate::value::{
    Date, DateTime, DateTimeZoneId, Duration, LocalDateTime, LocalTime, Map, Node, Path, Point2D,
    Point3D, Relationship, Time, UnboundRelationship, Value,
};
use bytes::Bytes;

/// Deepest nesting of lists, maps and structures accepted; deeper input is rejected instead of risking the stack.
pub const MAX_DEPTH: usize = 64;

/// Why some bytes are not valid PackStream.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum DecodeError {
    /// The input ended inside a value.
    #[error("truncated PackStream: needed {needed} more byte(s) at offset {at}")]
    Truncated {
        /// Bytes missing.
        needed: usize,
        /// Offset where they were needed.
        at: usize,
    },
    /// A reserved or unknown marker byte.
    #[error("invalid PackStream marker 0x{marker:02X} at offset {at}")]
    Marker {
        /// The marker.
        marker: u8,
        /// Its offset.
        at: usize,
    },
    /// A declared size is larger than the remaining input (or than i32::MAX).
    #[error("PackStream size {size} at offset {at} exceeds the remaining input")]
    Size {
        /// Declared size.
        size: u64,
        /// Offset of the header.
        at: usize,
    },
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("PackStream nesting deeper than {MAX_DEPTH}")]
    TooDeep,
    /// A string is not UTF-8.
    #[error("invalid UTF-8 in a PackStream string at offset {0}")]
    Utf8(usize),
    /// A map key is not a string.
    #[error("non-string map key at offset {0}")]
    Key(usize),
    /// A structure with an unknown tag or the wrong fields.
    #[error("invalid structure: {0}")]
    Struct(String),
    /// Bytes left over after the value.
    #[error("{0} trailing byte(s) after the message")]
    Trailing(usize),
}

type R<T> = Result<T, DecodeError>;

/// A cursor over one PackStream buffer.
pub struct Decoder {
    buf: Bytes,
    pos: usize,
    depth: usize,
}

impl Decoder {
    /// Starts decoding `buf` from its beginning.
    pub fn new(buf: Bytes) -> Self {
        Decoder {
            buf,
            pos: 0,
            depth: 0,
        }
    }

    /// Bytes not yet consumed.
    pub fn remaining(&self) -> usize {
        self.buf.len() - self.pos
    }

    /// Errors unless every byte was consumed.
    pub fn finish(&self) -> R<()> {
        match self.remaining() {
            0 => Ok(()),
            n => Err(DecodeError::Trailing(n)),
        }
    }

    fn need(&self, n: usize) -> R<()> {
        if self.remaining() < n {
            Err(DecodeError::Truncated {
                needed: n - self.remaining(),
                at: self.pos,
            })
        } else {
            Ok(())
        }
    }

    fn u8(&mut self) -> R<u8> {
        self.need(1)?;
        let b = self.buf[self.pos];
        self.pos += 1;
        Ok(b)
    }

    fn array<const N: usize>(&mut self) -> R<[u8; N]> {
        self.need(N)?;
        let mut a = [0u8; N];
        a.copy_from_slice(&self.buf[self.pos..self.pos + N]);
        self.pos += N;
        Ok(a)
    }

    /// Reads a size field of `width` bytes and checks that `size * min_item` bytes can still follow.
    fn size(&mut self, width: u8, min_item: usize) -> R<usize> {
        let at = self.pos;
        let size = match width {
            1 => self.u8()? as u64,
            2 => u16::from_be_bytes(self.array()?) as u64,
            _ => u32::from_be_bytes(self.array()?) as u64,
        };
        self.check_size(size, min_item, at)
    }

    fn check_size(&self, size: u64, min_item: usize, at: usize) -> R<usize> {
        if size > i32::MAX as u64 || size.saturating_mul(min_item as u64) > self.remaining() as u64
        {
            return Err(DecodeError::Size { size, at });
        }
        Ok(size as usize)
    }

    fn take(&mut self, n: usize) -> R<Bytes> {
        self.need(n)?;
        let b = self.buf.slice(self.pos..self.pos + n);
        self.pos += n;
        Ok(b)
    }

    fn str_body(&mut self, n: usize) -> R<String> {
        let at = self.pos;
        self.need(n)?;
        let s = std::str::from_utf8(&self.buf[self.pos..self.pos + n])
            .map_err(|_| DecodeError::Utf8(at))?;
        let s = s.to_owned();
        self.pos += n;
        Ok(s)
    }

    /// Reads a structure header: `(field count, tag)`.
    pub fn struct_header(&mut self) -> R<(usize, u8)> {
        let at = self.pos;
        let m = self.u8()?;
        if m & 0xF0 != 0xB0 {
            return Err(DecodeError::Marker { marker: m, at });
        }
        let n = (m & 0x0F) as usize;
        let tag = self.u8()?;
        // Every field takes at least one byte.
        self.check_size(n as u64, 1, at)?;
        Ok((n, tag))
    }

    /// Reads one value of any type.
    pub fn value(&mut self) -> R<Value> {
        let at = self.pos;
        let m = self.u8()?;
        Ok(match m {
            0x00..=0x7F => Value::Integer(m as i64),
            0xF0..=0xFF => Value::Integer(m as i8 as i64),
            0x80..=0x8F => Value::String(self.str_body((m & 0x0F) as usize)?),
            0x90..=0x9F => self.list_body((m & 0x0F) as usize)?,
            0xA0..=0xAF => self.map_body((m & 0x0F) as usize).map(Value::Map)?,
            0xB0..=0xBF => {
                self.pos = at;
                self.structure()?
            }
            0xC0 => Value::Null,
            0xC1 => Value::Float(f64::from_be_bytes(self.array()?)),
            0xC2 => Value::Boolean(false),
            0xC3 => Value::Boolean(true),
            0xC8 => Value::Integer(self.u8()? as i8 as i64),
            0xC9 => Value::Integer(i16::from_be_bytes(self.array()?) as i64),
            0xCA => Value::Integer(i32::from_be_bytes(self.array()?) as i64),
            0xCB => Value::Integer(i64::from_be_bytes(self.array()?)),
            0xCC..=0xCE => {
                let n = self.size(1 << (m - 0xCC), 1)?;
                Value::Bytes(self.take(n)?)
            }
            0xD0..=0xD2 => {
                let n = self.size(1 << (m - 0xD0), 1)?;
                Value::String(self.str_body(n)?)
            }
            0xD4..=0xD6 => {
                let n = self.size(1 << (m - 0xD4), 1)?;
                self.list_body(n)?
            }
            0xD8..=0xDA => {
                let n = self.size(1 << (m - 0xD8), 2)?;
                Value::Map(self.map_body(n)?)
            }
            _ => return Err(DecodeError::Marker { marker: m, at }),
        })
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            Err(DecodeError::TooDeep)
        } else {
            Ok(())
        }
    }

    fn list_body(&mut self, n: usize) -> R<Value> {
        self.check_size(n as u64, 1, self.pos)?;
        self.enter()?;
        let mut v = Vec::with_capacity(n);
        for _ in 0..n {
            v.push(self.value()?);
        }
        self.depth -= 1;
        Ok(Value::List(v))
    }

    fn map_body(&mut self, n: usize) -> R<Map> {
        self.check_size(n as u64, 2, self.pos)?;
        self.enter()?;
        let mut map = Map::with_capacity(n);
        for _ in 0..n {
            let k = self.string()?;
            let v = self.value()?;
            // Duplicate keys are legal on the wire: the last one wins.
            map.insert(k, v);
        }
        self.depth -= 1;
        Ok(map)
    }

    /// Reads a string.
    pub fn string(&mut self) -> R<String> {
        let at = self.pos;
        let m = self.u8()?;
        let n = match m {
            0x80..=0x8F => (m & 0x0F) as usize,
            0xD0..=0xD2 => self.size(1 << (m - 0xD0), 1)?,
            _ => return Err(DecodeError::Key(at)),
        };
        self.str_body(n)
    }

    /// Reads a map.
    pub fn map(&mut self) -> R<Map> {
        let at = self.pos;
        match self.value()? {
            Value::Map(m) => Ok(m),
            _ => Err(DecodeError::Struct(format!(
                "expected a map at offset {at}"
            ))),
        }
    }

    /// Reads a list.
    pub fn list(&mut self) -> R<Vec<Value>> {
        let at = self.pos;
        match self.value()? {
            Value::List(l) => Ok(l),
            _ => Err(DecodeError::Struct(format!(
                "expected a list at offset {at}"
            ))),
        }
    }

    fn int(&mut self) -> R<i64> {
        let at = self.pos;
        match self.value()? {
            Value::Integer(i) => Ok(i),
            _ => Err(DecodeError::Struct(format!(
                "expected an integer at offset {at}"
            ))),
        }
    }

    fn float(&mut self) -> R<f64> {
        let at = self.pos;
        match self.value()? {
            Value::Float(f) => Ok(f),
            _ => Err(DecodeError::Struct(format!(
                "expected a float at offset {at}"
            ))),
        }
    }

    fn opt_string(&mut self) -> R<Option<String>> {
        let at = self.pos;
        match self.value()? {
            Value::String(s) => Ok(Some(s)),
            Value::Null => Ok(None),
            _ => Err(DecodeError::Struct(format!(
                "expected a string at offset {at}"
            ))),
        }
    }

    fn strings(&mut self) -> R<Vec<String>> {
        let at = self.pos;
        self.list()?
            .into_iter()
            .map(|v| match v {
                Value::String(s) => Ok(s),
                _ => Err(DecodeError::Struct(format!(
                    "expected a list of strings at offset {at}"
                ))),
            })
            .collect()
    }

    fn node(&mut self, n: usize) -> R<Node> {
        Ok(Node {
            id: self.int()?,
            labels: self.strings()?,
            properties: self.map()?,
            element_id: if n == 4 { self.opt_string()? } else { None },
        })
    }

    fn unbound(&mut self, n: usize) -> R<UnboundRelationship> {
        Ok(UnboundRelationship {
            id: self.int()?,
            rel_type: self.string()?,
            properties: self.map()?,
            element_id: if n == 4 { self.opt_string()? } else { None },
        })
    }

    fn structure(&mut self) -> R<Value> {
        let (n, tag) = self.struct_header()?;
        self.enter()?;
        let bad =
            |what: &str| DecodeError::Struct(format!("{what} (tag 0x{tag:02X}) with {n} field(s)"));
        let v = match (tag, n) {
            (b'N', 3 | 4) => Value::Node(self.node(n)?),
            (b'R', 5 | 8) => {
                let (id, start_node_id, end_node_id) = (self.int()?, self.int()?, self.int()?);
                let (rel_type, properties) = (self.string()?, self.map()?);
                let (element_id, start_node_element_id, end_node_element_id) = if n == 8 {
                    (self.opt_string()?, self.opt_string()?, self.opt_string()?)
                } else {
                    (None, None, None)
                };
                Value::Relationship(Relationship {
                    id,
                    start_node_id,
                    end_node_id,
                    rel_type,
                    properties,
                    element_id,
                    start_node_element_id,
                    end_node_element_id,
                })
            }
            (b'r', 3 | 4) => Value::UnboundRelationship(self.unbound(n)?),
            (b'P', 3) => {
                let nodes = self.list()?.into_iter().map(|v| match v {
                    Value::Node(n) => Ok(n),
                    _ => Err(bad("path with a non-node")),
                });
                let nodes = nodes.collect::<R<Vec<_>>>()?;
                let rels = self.list()?.into_iter().map(|v| match v {
                    Value::UnboundRelationship(r) => Ok(r),
                    _ => Err(bad("path with a non-relationship")),
                });
                let rels = rels.collect::<R<Vec<_>>>()?;
                let indices = self.list()?.into_iter().map(|v| match v {
                    Value::Integer(i) => Ok(i),
                    _ => Err(bad("path with a non-integer index")),
                });
                Value::Path(Path {
                    nodes,
                    rels,
                    indices: indices.collect::<R<Vec<_>>>()?,
                })
            }
            (b'D', 1) => Value::Date(Date { days: self.int()? }),
            (b'T', 2) => Value::Time(Time {
                nanoseconds: self.int()?,
                tz_offset_seconds: self.int()?,
            }),
            (b't', 1) => Value::LocalTime(LocalTime {
                nanoseconds: self.int()?,
            }),
            (b'I', 3) => Value::DateTime(DateTime {
                seconds: self.int()?,
                nanoseconds: self.int()?,
                tz_offset_seconds: self.int()?,
            }),
            (b'F', 3) => {
                // Legacy (Bolt <= 4.4 without the utc patch): seconds are local wall-clock time.
                let (local, nanoseconds, off) = (self.int()?, self.int()?, self.int()?);
                Value::DateTime(DateTime {
                    seconds: local.wrapping_sub(off),
                    nanoseconds,
                    tz_offset_seconds: off,
                })
            }
            (b'i', 3) => Value::DateTimeZoneId(DateTimeZoneId {
                seconds: self.int()?,
                nanoseconds: self.int()?,
                tz_id: self.string()?,
            }),
            (b'f', 3) => {
                // Converting local wall-clock seconds to UTC needs a time-zone database; the connection always
                // negotiates the utc patch on 4.4, so a server sending this form is not supported.
                return Err(bad("legacy zoned datetime (needs the utc patch)"));
            }
            (b'd', 2) => Value::LocalDateTime(LocalDateTime {
                seconds: self.int()?,
                nanoseconds: self.int()?,
            }),
            (b'E', 4) => Value::Duration(Duration {
                months: self.int()?,
                days: self.int()?,
                seconds: self.int()?,
                nanoseconds: self.int()?,
            }),
            (b'X', 3) => Value::Point2D(Point2D {
                srid: self.int()?,
                x: self.float()?,
                y: self.float()?,
            }),
            (b'Y', 4) => Value::Point3D(Point3D {
                srid: self.int()?,
                x: self.float()?,
                y: self.float()?,
                z: self.float()?,
            }),
            _ => return Err(bad("unknown structure")),
        };
        self.depth -= 1;
        Ok(v)
    }
}

/// Decodes exactly one value from `buf`.
pub fn from_bytes(buf: Bytes) -> Result<Value, DecodeError> {
    let mut d = Decoder::new(buf);
    let v = d.value()?;
    d.finish()?;
    Ok(v)
}
