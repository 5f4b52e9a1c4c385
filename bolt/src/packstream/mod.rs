//! PackStream v1: encoding into a reusable `BytesMut` and decoding from `Bytes` (no I/O).

pub mod encode;

pub use encode::Encode;
