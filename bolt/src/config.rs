//! Driver configuration, including the Python-driver option names users put in their targets.

use crate::Error;
use crate::value::Value;
use std::path::PathBuf;
use std::time::Duration;

/// Which certificates to trust when the URI scheme is `bolt://`/`neo4j://` and `encrypted` is set.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Trust {
    /// System CAs (webpki roots as fallback), with host name checks.
    #[default]
    SystemCa,
    /// Any certificate (like `+ssc`).
    All,
    /// CA certificates from a PEM file.
    CustomCa(PathBuf),
}

/// Driver configuration. `Debug` redacts the password.
#[derive(Clone)]
pub struct Config {
    /// `bolt://`, `bolt+s://`, `bolt+ssc://`, `neo4j://`, `neo4j+s://` or `neo4j+ssc://` URI.
    pub uri: String,
    /// User name for basic auth (empty user and password: no auth).
    pub user: String,
    /// Password.
    pub password: String,
    /// Default database for queries that name none (`None` = the user's home database).
    pub database: Option<String>,
    /// `user_agent` sent in HELLO.
    pub user_agent: String,
    /// Connections per server address.
    pub max_connection_pool_size: usize,
    /// Timeout for opening one connection (TCP, TLS, handshake, authentication).
    pub connection_timeout: Duration,
    /// Timeout for getting a connection from the pool (including opening it).
    pub connection_acquisition_timeout: Duration,
    /// Connections older than this are closed instead of reused.
    pub max_connection_lifetime: Option<Duration>,
    /// TCP keep-alive.
    pub keep_alive: bool,
    /// How long retryable failures are retried, counted from the first failure.
    pub max_transaction_retry_time: Duration,
    /// Highest Bolt version to offer, e.g. `Some((4, 4))` to force Bolt 4.4.
    pub max_bolt_version: Option<(u8, u8)>,
    /// Encrypt `bolt://`/`neo4j://` connections (`+s`/`+ssc` schemes always encrypt and forbid this option).
    pub encrypted: Option<bool>,
    /// Certificates to trust with `encrypted`.
    pub trust: Trust,
    /// Most attempts per transaction (`None`: limited by `max_transaction_retry_time` only).
    pub max_retry_attempts: Option<usize>,
    /// First retry delay (doubled each time, ±20% jitter).
    pub retry_initial_delay: Duration,
    /// Back-off multiplier.
    pub retry_multiplier: f64,
    /// How many transactions may be pipelined on one connection when every pooled connection is busy.
    pub max_pipelined_transactions: usize,
    /// Default PULL size for [`crate::Driver::stream`] when given a non-positive size.
    pub fetch_size: i64,
    /// `notifications_minimum_severity` (Bolt 5.2+): `OFF` saves server work; `None` = server default.
    pub notifications_min_severity: Option<String>,
    /// Idle connections older than this are checked with a RESET before reuse.
    pub liveness_check_timeout: Option<Duration>,
    /// Ask Bolt 4.4 servers for UTC datetimes (the `utc` patch); off only to test the legacy form.
    pub patch_utc: bool,
    /// Largest message accepted from the server.
    pub max_message_size: usize,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("uri", &self.uri)
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .field("database", &self.database)
            .field("user_agent", &self.user_agent)
            .field("max_connection_pool_size", &self.max_connection_pool_size)
            .field("connection_timeout", &self.connection_timeout)
            .field(
                "connection_acquisition_timeout",
                &self.connection_acquisition_timeout,
            )
            .field("max_connection_lifetime", &self.max_connection_lifetime)
            .field("keep_alive", &self.keep_alive)
            .field(
                "max_transaction_retry_time",
                &self.max_transaction_retry_time,
            )
            .field("max_bolt_version", &self.max_bolt_version)
            .field("encrypted", &self.encrypted)
            .field("trust", &self.trust)
            .field("max_retry_attempts", &self.max_retry_attempts)
            .field(
                "max_pipelined_transactions",
                &self.max_pipelined_transactions,
            )
            .finish_non_exhaustive()
    }
}

impl Config {
    /// Defaults as in the official drivers: pool 100, connect 30 s, acquire 60 s, lifetime 1 h, retry 30 s.
    pub fn new(uri: &str, user: &str, password: &str) -> Self {
        Config {
            uri: uri.to_owned(),
            user: user.to_owned(),
            password: password.to_owned(),
            database: None,
            user_agent: concat!("nodestream-rs/", env!("CARGO_PKG_VERSION")).to_owned(),
            max_connection_pool_size: 100,
            connection_timeout: Duration::from_secs(30),
            connection_acquisition_timeout: Duration::from_secs(60),
            max_connection_lifetime: Some(Duration::from_secs(3600)),
            keep_alive: true,
            max_transaction_retry_time: Duration::from_secs(30),
            max_bolt_version: None,
            encrypted: None,
            trust: Trust::SystemCa,
            max_retry_attempts: None,
            retry_initial_delay: Duration::from_secs(1),
            retry_multiplier: 2.0,
            max_pipelined_transactions: 4,
            fetch_size: 1000,
            notifications_min_severity: None,
            liveness_check_timeout: None,
            patch_utc: true,
            max_message_size: 512 * 1024 * 1024,
        }
    }

    /// Applies one Python-driver keyword (`max_connection_lifetime: 3600`, …) from a user's target.
    /// Returns what happened; values of the wrong type are an error naming the key.
    pub fn set_option(&mut self, key: &str, value: &Value) -> Result<OptionOutcome, Error> {
        let bad =
            |what: &str| Error::Config(format!("option {key}: expected {what}, got {value:?}"));
        let secs = || -> Result<Duration, Error> {
            let s = value.as_float().ok_or_else(|| bad("a number of seconds"))?;
            if !s.is_finite() || s < 0.0 {
                return Err(bad("a non-negative number of seconds"));
            }
            Ok(Duration::from_secs_f64(s))
        };
        let count = || -> Result<usize, Error> {
            value
                .as_int()
                .filter(|&i| i > 0)
                .map(|i| i as usize)
                .ok_or_else(|| bad("a positive integer"))
        };
        let flag = || value.as_bool().ok_or_else(|| bad("true or false"));
        match key {
            "max_connection_lifetime" => {
                let d = secs()?;
                self.max_connection_lifetime = (d > Duration::ZERO).then_some(d);
            }
            "max_connection_pool_size" => self.max_connection_pool_size = count()?,
            "connection_timeout" => self.connection_timeout = secs()?,
            "connection_acquisition_timeout" => self.connection_acquisition_timeout = secs()?,
            "max_transaction_retry_time" => self.max_transaction_retry_time = secs()?,
            "keep_alive" => self.keep_alive = flag()?,
            "liveness_check_timeout" => {
                self.liveness_check_timeout = if value.is_null() { None } else { Some(secs()?) }
            }
            "encrypted" => self.encrypted = Some(flag()?),
            "trust" => {
                self.trust = match value.as_str() {
                    Some("TRUST_ALL_CERTIFICATES") => Trust::All,
                    Some("TRUST_SYSTEM_CA_SIGNED_CERTIFICATES") => Trust::SystemCa,
                    _ => {
                        return Err(bad(
                            "TRUST_ALL_CERTIFICATES or TRUST_SYSTEM_CA_SIGNED_CERTIFICATES",
                        ));
                    }
                }
            }
            "trusted_certificates" => {
                self.trust = match value {
                    Value::String(p) => Trust::CustomCa(p.into()),
                    Value::List(l) if l.len() == 1 => {
                        Trust::CustomCa(l[0].as_str().ok_or_else(|| bad("a PEM file path"))?.into())
                    }
                    _ => return Err(bad("a PEM file path")),
                }
            }
            "user_agent" => {
                self.user_agent = value.as_str().ok_or_else(|| bad("a string"))?.to_owned()
            }
            "fetch_size" => self.fetch_size = value.as_int().ok_or_else(|| bad("an integer"))?,
            "notifications_min_severity" => {
                self.notifications_min_severity = match value {
                    Value::Null => None,
                    Value::String(s) => Some(s.to_ascii_uppercase()),
                    _ => return Err(bad("OFF, WARNING or INFORMATION")),
                }
            }
            "telemetry_disabled" => {
                flag()?; // This client never sends telemetry.
            }
            "notifications_disabled_categories"
            | "notifications_disabled_classifications"
            | "warn_notification_severity"
            | "resolver"
            | "ssl_context"
            | "session_connection_timeout"
            | "update_routing_table_timeout"
            | "auth" => return Ok(OptionOutcome::Ignored),
            _ => return Ok(OptionOutcome::Unknown),
        }
        Ok(OptionOutcome::Applied)
    }
}

/// What [`Config::set_option`] did with a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionOutcome {
    /// The option took effect.
    Applied,
    /// A Python-driver option that means nothing for this client; ignored.
    Ignored,
    /// Not a driver option at all (probably a typo).
    Unknown,
}

/// Logs one warning naming every key the driver does not know; returns them.
pub fn warn_unknown_options<'a>(keys: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let keys: Vec<&str> = keys.into_iter().collect();
    if !keys.is_empty() {
        tracing::warn!(keys = %keys.join(", "), "unknown Neo4j driver option(s) ignored");
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts_and_options_apply() {
        let mut c = Config::new("bolt://h", "neo4j", "s3cret-pw");
        assert!(!format!("{c:?}").contains("s3cret-pw"));
        assert_eq!(
            c.set_option("max_connection_lifetime", &Value::Integer(3600))
                .unwrap(),
            OptionOutcome::Applied
        );
        assert_eq!(c.max_connection_lifetime, Some(Duration::from_secs(3600)));
        assert_eq!(
            c.set_option("max_connection_pool_size", &Value::Integer(50))
                .unwrap(),
            OptionOutcome::Applied
        );
        assert_eq!(c.max_connection_pool_size, 50);
        assert_eq!(
            c.set_option("connection_timeout", &Value::Float(2.5))
                .unwrap(),
            OptionOutcome::Applied
        );
        assert_eq!(c.connection_timeout, Duration::from_millis(2500));
        assert_eq!(
            c.set_option("resolver", &Value::Null).unwrap(),
            OptionOutcome::Ignored
        );
        assert_eq!(
            c.set_option("max_conection_pool_size", &Value::Integer(1))
                .unwrap(),
            OptionOutcome::Unknown
        );
        let e = c
            .set_option("keep_alive", &Value::String("x".into()))
            .unwrap_err();
        assert!(e.to_string().contains("keep_alive"));
        assert_eq!(warn_unknown_options(["a", "b"]), vec!["a", "b"]);
    }
}
