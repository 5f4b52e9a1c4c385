//! Chunk framing: messages travel as chunks of at most 65,535 bytes, each with a 2-byte length, closed by
//! an empty chunk. A `00 00` outside a message is a NOOP keep-alive and is skipped.

use bytes::{Buf, BufMut, Bytes, BytesMut};

/// Largest chunk payload.
pub const MAX_CHUNK: usize = 65_535;

/// Starts a message in `buf`: reserves the first chunk header, returns the start offset for [`end_message`].
#[inline]
pub fn begin_message(buf: &mut BytesMut) -> usize {
    let start = buf.len();
    buf.put_u16(0);
    start
}

/// Closes the message started at `start`: back-patches the chunk header, splitting the body into several
/// chunks when it is larger than [`MAX_CHUNK`], and appends the end marker.
pub fn end_message(buf: &mut BytesMut, start: usize) {
    let body_start = start + 2;
    let len = buf.len() - body_start;
    if len <= MAX_CHUNK {
        buf[start..body_start].copy_from_slice(&(len as u16).to_be_bytes());
        buf.put_u16(0);
        return;
    }
    // Large message: make room for the extra headers, then move the chunks into place from the back so
    // every byte moves once.
    let chunks = len.div_ceil(MAX_CHUNK);
    let extra = 2 * (chunks - 1);
    buf.resize(buf.len() + extra, 0);
    for i in (0..chunks).rev() {
        let src = body_start + i * MAX_CHUNK;
        let n = MAX_CHUNK.min(len - i * MAX_CHUNK);
        let dst = start + i * (MAX_CHUNK + 2);
        buf.copy_within(src..src + n, dst + 2);
        buf[dst..dst + 2].copy_from_slice(&(n as u16).to_be_bytes());
    }
    buf.put_u16(0);
}

/// Framing errors.
#[derive(thiserror::Error, Debug, Clone, PartialEq, Eq)]
pub enum ChunkError {
    /// A message grew beyond the configured limit.
    #[error("incoming Bolt message larger than {0} bytes")]
    TooLarge(usize),
}

/// Reassembles messages from chunks; feed it the receive buffer, it takes what it can.
#[derive(Debug)]
pub struct Dechunker {
    msg: BytesMut,
    in_message: bool,
    max_message: usize,
    noops: u64,
}

impl Default for Dechunker {
    fn default() -> Self {
        Self::new(512 * 1024 * 1024)
    }
}

impl Dechunker {
    /// A dechunker that refuses messages larger than `max_message` bytes.
    pub fn new(max_message: usize) -> Self {
        Dechunker {
            msg: BytesMut::new(),
            in_message: false,
            max_message,
            noops: 0,
        }
    }

    /// NOOP chunks seen so far.
    pub fn noops(&self) -> u64 {
        self.noops
    }

    /// Takes the next complete message out of `input`, or `None` if more bytes are needed.
    pub fn next_message(&mut self, input: &mut BytesMut) -> Result<Option<Bytes>, ChunkError> {
        loop {
            if input.len() < 2 {
                return Ok(None);
            }
            let n = u16::from_be_bytes([input[0], input[1]]) as usize;
            if n == 0 {
                input.advance(2);
                if self.in_message {
                    self.in_message = false;
                    return Ok(Some(self.msg.split().freeze()));
                }
                self.noops += 1;
                continue;
            }
            // Fast path: a whole single-chunk message is already here; hand out a slice without copying.
            if !self.in_message
                && input.len() >= 2 + n + 2
                && input[2 + n] == 0
                && input[3 + n] == 0
            {
                input.advance(2);
                let msg = input.split_to(n).freeze();
                input.advance(2);
                return Ok(Some(msg));
            }
            if input.len() < 2 + n {
                return Ok(None);
            }
            if self.msg.len() + n > self.max_message {
                return Err(ChunkError::TooLarge(self.max_message));
            }
            input.advance(2);
            self.msg.extend_from_slice(&input[..n]);
            input.advance(n);
            self.in_message = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(body: &[u8]) -> BytesMut {
        let mut b = BytesMut::new();
        let s = begin_message(&mut b);
        b.extend_from_slice(body);
        end_message(&mut b, s);
        b
    }

    #[test]
    fn small_message_and_example() {
        let body: Vec<u8> = (0..20).collect();
        let mut input = BytesMut::new();
        // The spec example: 16 + 4 bytes in two chunks.
        input.put_u16(16);
        input.extend_from_slice(&body[..16]);
        input.put_u16(4);
        input.extend_from_slice(&body[16..]);
        input.put_u16(0);
        let mut d = Dechunker::default();
        assert_eq!(d.next_message(&mut input).unwrap().unwrap(), &body[..]);
        assert!(input.is_empty());
        let f = frame(&body);
        assert_eq!(&f[..2], &[0, 20]);
        assert_eq!(&f[22..], &[0, 0]);
    }

    #[test]
    fn large_message_round_trip_and_noops() {
        let body: Vec<u8> = (0..200_000u32).map(|i| (i * 7 % 251) as u8).collect();
        let mut f = frame(&body);
        assert_eq!(f.len(), body.len() + 2 * 4 + 2);
        assert_eq!(u16::from_be_bytes([f[0], f[1]]) as usize, MAX_CHUNK);
        let mut input = BytesMut::new();
        input.extend_from_slice(&[0, 0, 0, 0]);
        input.extend_from_slice(&f.split());
        input.extend_from_slice(&[0, 0]);
        let mut d = Dechunker::default();
        // Feed byte by byte-ish to exercise partial input.
        let mut got = None;
        let mut fed = BytesMut::new();
        for piece in input.chunks(1000) {
            fed.extend_from_slice(piece);
            if let Some(m) = d.next_message(&mut fed).unwrap() {
                got = Some(m);
            }
        }
        assert_eq!(got.unwrap(), &body[..]);
        assert_eq!(d.next_message(&mut fed).unwrap(), None);
        assert_eq!(d.noops(), 3);
    }

    #[test]
    fn size_limit() {
        let mut d = Dechunker::new(10);
        let mut input = BytesMut::new();
        input.put_u16(11);
        input.extend_from_slice(&[1; 11]);
        input.put_u16(1);
        assert_eq!(d.next_message(&mut input), Err(ChunkError::TooLarge(10)));
    }
}
