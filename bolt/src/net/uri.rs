//! Parsing `bolt://`, `bolt+s://`, `bolt+ssc://`, `neo4j://`, `neo4j+s://`, `neo4j+ssc://` URIs.

use crate::Error;
use crate::value::{Map, Value};
use std::fmt;

/// Default Bolt port.
pub const DEFAULT_PORT: u16 = 7687;

/// A server address: host name (or IP) and port.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Address {
    /// Host name or IP (IPv6 without brackets).
    pub host: String,
    /// Port.
    pub port: u16,
}

impl Address {
    /// Parses `host[:port]` or `[v6]:port`.
    pub fn parse(s: &str) -> Result<Address, Error> {
        let bad = || Error::Config(format!("invalid address {s:?}"));
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (h, tail) = rest.split_once(']').ok_or_else(bad)?;
            match tail.strip_prefix(':') {
                Some(p) => (h, Some(p)),
                None if tail.is_empty() => (h, None),
                None => return Err(bad()),
            }
        } else {
            match s.rsplit_once(':') {
                Some((h, p)) if !h.contains(':') => (h, Some(p)),
                _ => (s, None),
            }
        };
        if host.is_empty() {
            return Err(bad());
        }
        let port = match port {
            Some(p) => p.parse::<u16>().map_err(|_| bad())?,
            None => DEFAULT_PORT,
        };
        Ok(Address {
            host: host.to_owned(),
            port,
        })
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// How to secure the socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain TCP.
    None,
    /// TLS with full verification against system roots (webpki roots as fallback) and the host name.
    Verify,
    /// TLS verified against the CA certificates in a PEM file.
    CustomCa(std::path::PathBuf),
    /// TLS accepting any certificate (`+ssc`).
    TrustAll,
}

/// A parsed URI.
#[derive(Debug, Clone)]
pub struct Target {
    /// The initial address.
    pub address: Address,
    /// `neo4j` schemes route; `bolt` schemes talk to this address only.
    pub routing: bool,
    /// TLS mode of the scheme.
    pub tls: TlsMode,
    /// True if the scheme itself fixed the TLS mode (`+s`/`+ssc`), so `encrypted`/`trust` must not be set.
    pub scheme_sets_tls: bool,
    /// Routing context: `address` plus the URI's query parameters (neo4j schemes only).
    pub routing_context: Map,
}

impl Target {
    /// Parses a URI.
    pub fn parse(uri: &str) -> Result<Target, Error> {
        let (scheme, rest) = uri.split_once("://").ok_or_else(|| {
            Error::Config(format!(
                "URI {uri:?} has no scheme (expected bolt:// or neo4j://)"
            ))
        })?;
        let (routing, tls) = match scheme.to_ascii_lowercase().as_str() {
            "bolt" => (false, TlsMode::None),
            "bolt+s" => (false, TlsMode::Verify),
            "bolt+ssc" => (false, TlsMode::TrustAll),
            "neo4j" => (true, TlsMode::None),
            "neo4j+s" => (true, TlsMode::Verify),
            "neo4j+ssc" => (true, TlsMode::TrustAll),
            other => {
                return Err(Error::Config(format!(
                    "unsupported URI scheme {other:?} (use bolt, bolt+s, bolt+ssc, neo4j, neo4j+s or neo4j+ssc)"
                )));
            }
        };
        let (authority, query) = match rest.split_once('?') {
            Some((a, q)) => (a, Some(q)),
            None => (rest, None),
        };
        let authority = authority.trim_end_matches('/');
        if authority.contains('/') || authority.contains('@') {
            return Err(Error::Config(format!(
                "URI {uri:?}: expected scheme://host[:port][?params]"
            )));
        }
        let address = Address::parse(authority)?;
        let mut routing_context = Map::new();
        if routing {
            routing_context.insert("address".into(), Value::String(address.to_string()));
            for pair in query.unwrap_or("").split('&').filter(|p| !p.is_empty()) {
                let (k, v) = pair.split_once('=').ok_or_else(|| {
                    Error::Config(format!(
                        "URI {uri:?}: routing parameter {pair:?} is not key=value"
                    ))
                })?;
                if k == "address" {
                    return Err(Error::Config(format!(
                        "URI {uri:?}: 'address' is a reserved routing parameter"
                    )));
                }
                routing_context.insert(k.to_owned(), Value::String(v.to_owned()));
            }
        } else if query.is_some() {
            tracing::warn!(uri, "the query string of a bolt:// URI is ignored");
        }
        let scheme_sets_tls = tls != TlsMode::None;
        Ok(Target {
            address,
            routing,
            tls,
            scheme_sets_tls,
            routing_context,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes() {
        let t = Target::parse("bolt://localhost").unwrap();
        assert_eq!(
            t.address,
            Address {
                host: "localhost".into(),
                port: 7687
            }
        );
        assert!(!t.routing && t.tls == TlsMode::None && t.routing_context.is_empty());
        let t = Target::parse("neo4j+s://db.example.com:7688?region=eu&x=1").unwrap();
        assert!(t.routing && t.tls == TlsMode::Verify);
        assert_eq!(
            t.routing_context.get("address"),
            Some(&Value::String("db.example.com:7688".into()))
        );
        assert_eq!(
            t.routing_context.get("region"),
            Some(&Value::String("eu".into()))
        );
        assert_eq!(
            Target::parse("bolt+ssc://[::1]:9000/")
                .unwrap()
                .address
                .to_string(),
            "[::1]:9000"
        );
        assert!(Target::parse("http://x").is_err());
        assert!(Target::parse("localhost:7687").is_err());
        assert!(Target::parse("bolt://host:notaport").is_err());
        assert!(Target::parse("neo4j://h?address=x").is_err());
    }
}
