//! Entry points for the fuzz targets (and the seed-corpus replay test): each must never panic.

use bytes::{Bytes, BytesMut};

/// Decodes arbitrary bytes as one PackStream value.
pub fn packstream_decode(data: &[u8]) {
    let _ = crate::packstream::decode::from_bytes(Bytes::copy_from_slice(data));
}

/// Feeds arbitrary bytes to the chunk reader, in two pieces split at the first byte's value.
pub fn chunk_reader(data: &[u8]) {
    let split = data.first().map_or(0, |&b| (b as usize).min(data.len()));
    let mut d = crate::proto::chunk::Dechunker::new(1 << 20);
    let mut input = BytesMut::from(&data[..split]);
    while let Ok(Some(_)) = d.next_message(&mut input) {}
    input.extend_from_slice(&data[split..]);
    while let Ok(Some(m)) = d.next_message(&mut input) {
        let _ = crate::proto::message::decode_response(m);
    }
}

/// Parses arbitrary bytes as a handshake reply, with and without a version cap.
pub fn handshake_reply(data: &[u8]) {
    let _ = crate::proto::handshake::parse_reply(data, None);
    let _ = crate::proto::handshake::parse_reply(data, Some(crate::Version::V4_4));
}

/// Decodes arbitrary bytes as a server message and as a client message.
pub fn message_decode(data: &[u8]) {
    let b = Bytes::copy_from_slice(data);
    let _ = crate::proto::message::decode_response(b.clone());
    let _ = crate::proto::message::decode_request(b);
}
