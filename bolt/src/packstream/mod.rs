//! PackStream v1: encoding into a reusable `BytesMut` and decoding from `Bytes` (no I/O).

pub mod decode;
pub mod encode;

pub use decode::{DecodeError, Decoder};
pub use encode::{Encode, WireFormat};
