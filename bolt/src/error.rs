//! The one error type of the crate, with the predicates the retry loop and callers need.

use crate::packstream::decode::DecodeError;

/// Everything that can go wrong talking to Neo4j.
#[derive(thiserror::Error, Debug)]
pub enum Error {
    /// A socket error (connect, read or write) for the named address.
    #[error("I/O error with {address}: {source}")]
    Io {
        /// `host:port` of the server.
        address: String,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// TLS setup or handshake failed.
    #[error("TLS error with {address}: {message}")]
    Tls {
        /// `host:port` of the server.
        address: String,
        /// What went wrong.
        message: String,
    },
    /// The server broke the Bolt protocol (or sent something this client does not understand).
    #[error("Bolt protocol error: {0}")]
    Protocol(String),
    /// Authentication was refused. Never contains the credentials.
    #[error("authentication failed ({code}): {message}")]
    Auth {
        /// The Neo4j status code, such as `Neo.ClientError.Security.Unauthorized`.
        code: String,
        /// The server's message.
        message: String,
    },
    /// A FAILURE reported by the server.
    #[error("Neo4j error {code}: {message}")]
    Server {
        /// The Neo4j status code (`neo4j_code` on Bolt 5.7+).
        code: String,
        /// The server's message.
        message: String,
        /// The GQL status (Bolt 5.7+).
        gql_status: Option<String>,
    },
    /// A timeout expired (connecting, acquiring a pooled connection, or waiting for the server).
    #[error("timed out {0}")]
    Timeout(String),
    /// The address answered the Bolt handshake with HTTP: the user gave the HTTP port (7474) instead of Bolt (7687).
    #[error(
        "{0} speaks HTTP, not Bolt: is this the HTTP port (7474) instead of the Bolt port (7687)?"
    )]
    HttpPort(String),
    /// The server supports none of the Bolt versions offered.
    #[error("{0} supports none of the offered Bolt versions (4.4, 5.0-5.4, 5.6-5.8)")]
    NoCommonVersion(String),
    /// The URI or another configuration value is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The connection broke while work was outstanding.
    #[error("connection to {address} lost{}: {reason}", if *.commit_unknown { " while a commit was outstanding (outcome unknown)" } else { "" })]
    ConnectionLost {
        /// `host:port` of the server.
        address: String,
        /// What happened.
        reason: String,
        /// True if a COMMIT (or auto-commit query) was in flight: it may or may not have been applied.
        commit_unknown: bool,
    },
    /// The server ignored the request because an earlier request pipelined on the same connection failed.
    #[error("request ignored by the server after an earlier failure on the connection")]
    Ignored,
    /// No server could be found for the work (routing table without a suitable member, all routers failed).
    #[error("service unavailable: {0}")]
    ServiceUnavailable(String),
    /// The driver was closed.
    #[error("driver closed")]
    Closed,
}

impl Error {
    /// The Neo4j status code, if the error came from the server.
    pub fn code(&self) -> Option<&str> {
        match self {
            Error::Server { code, .. } | Error::Auth { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Whether running the same transaction again may succeed (spec bolt.md §5.2).
    pub fn is_retryable(&self) -> bool {
        match self {
            Error::Server { code, .. } => is_retryable_code(code),
            Error::Io { .. } | Error::Ignored | Error::ServiceUnavailable(_) => true,
            Error::ConnectionLost { commit_unknown, .. } => !commit_unknown,
            _ => false,
        }
    }

    /// True when a connection broke with a commit in flight: the transaction may or may not have been applied.
    pub fn is_unknown_outcome(&self) -> bool {
        matches!(
            self,
            Error::ConnectionLost {
                commit_unknown: true,
                ..
            }
        )
    }

    /// True for the cluster errors that mean "this server is not the writer": drop it and re-route.
    pub fn is_not_leader(&self) -> bool {
        matches!(
            self.code(),
            Some(
                "Neo.ClientError.Cluster.NotALeader"
                    | "Neo.ClientError.General.ForbiddenOnReadOnlyDatabase"
            )
        )
    }

    /// True when the server's address should be forgotten by routing (unreachable or database unavailable).
    pub(crate) fn is_address_failure(&self) -> bool {
        matches!(
            self,
            Error::Io { .. } | Error::ConnectionLost { .. } | Error::Tls { .. }
        ) || self.code() == Some("Neo.TransientError.General.DatabaseUnavailable")
    }

    pub(crate) fn protocol(e: impl std::fmt::Display) -> Self {
        Error::Protocol(e.to_string())
    }
}

impl From<DecodeError> for Error {
    fn from(e: DecodeError) -> Self {
        Error::Protocol(e.to_string())
    }
}

/// Classifies a Neo4j status code (spec bolt.md §5.2).
pub fn is_retryable_code(code: &str) -> bool {
    if code.starts_with("Neo.TransientError.") {
        return !matches!(
            code,
            "Neo.TransientError.Transaction.Terminated"
                | "Neo.TransientError.Transaction.LockClientStopped"
        );
    }
    matches!(
        code,
        "Neo.ClientError.Cluster.NotALeader"
            | "Neo.ClientError.General.ForbiddenOnReadOnlyDatabase"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn server(code: &str) -> Error {
        Error::Server {
            code: code.into(),
            message: String::new(),
            gql_status: None,
        }
    }

    #[test]
    fn classification() {
        assert!(server("Neo.TransientError.Transaction.DeadlockDetected").is_retryable());
        assert!(!server("Neo.TransientError.Transaction.Terminated").is_retryable());
        assert!(!server("Neo.TransientError.Transaction.LockClientStopped").is_retryable());
        assert!(server("Neo.ClientError.Cluster.NotALeader").is_retryable());
        assert!(server("Neo.ClientError.Cluster.NotALeader").is_not_leader());
        assert!(!server("Neo.ClientError.Statement.SyntaxError").is_retryable());
        assert!(!server("Neo.ClientError.Security.Unauthorized").is_retryable());
        let lost = |c| Error::ConnectionLost {
            address: "a:1".into(),
            reason: "eof".into(),
            commit_unknown: c,
        };
        assert!(lost(false).is_retryable());
        assert!(!lost(true).is_retryable());
        assert!(lost(true).is_unknown_outcome());
        assert_eq!(server("X.Y").code(), Some("X.Y"));
    }
}
