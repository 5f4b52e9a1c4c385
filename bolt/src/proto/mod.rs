//! The Bolt protocol without I/O: versions, handshake bytes, chunk framing, request encoding and response
//! decoding. Everything here works on byte buffers; `net` drives it over a socket.

pub mod chunk;
pub mod handshake;
pub mod message;
pub mod version;

pub use version::Version;
