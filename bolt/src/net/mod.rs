//! Sockets: URI parsing, TCP/TLS dialing, and the connection (a reader task plus a shared writer).

pub mod connection;
pub mod tls;
pub mod uri;

pub use connection::Connection;
pub use uri::{Address, Target, TlsMode};
