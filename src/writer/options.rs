//! Target options (spec §1.5, §1.6): the connector keys, the connection keys and the Python driver keywords,
//! parsed from one target's map into what the writer and the Bolt driver need.

use serde_json::Value as Json;
use std::time::Duration;

/// Everything a Neo4j target's map configures. The password is kept out of `Debug`.
#[derive(Clone)]
pub struct TargetOptions {
    /// Bolt URI (`bolt://`, `neo4j://`, `bolt+s://`, ...), after applying `encrypted`/`trust`.
    pub uri: String,
    /// Basic-auth user.
    pub username: String,
    /// Basic-auth password (never logged).
    pub password: String,
    /// Database every query runs against.
    pub database_name: String,
    /// `true`: batches through `apoc.periodic.iterate`; `false`: plain `UNWIND` chunks sent by us.
    pub use_apoc: bool,
    /// Rows per inner transaction.
    pub chunk_size: usize,
    /// Whether the chunks of one bucket may run in parallel.
    pub execute_chunks_in_parallel: bool,
    /// `retries` given to `apoc.periodic.iterate`.
    pub retries_per_chunk: i64,
    /// `_experimental_set_first_ingested_at`.
    pub set_first_ingested_at: bool,
    /// Total attempts per query for retryable errors.
    pub max_retry_attempts: u32,
    /// Back-off: `retry_factor × attempt` seconds before the next attempt.
    pub retry_factor: f64,
    /// At most this many queries in flight (0 = our default).
    pub connection_semaphore_limit: usize,
    /// Log APOC's failed batches instead of failing the run (Python's behaviour).
    pub lenient_apoc_errors: bool,
    /// The writer argument `flush_concurrency` (spec §1.5): batches written at once beyond the usual overlap.
    pub flush_concurrency: usize,
    /// Driver options that map onto the Bolt client.
    pub driver: DriverOptions,
    /// Keys that were accepted but do nothing here, and unknown keys: one warning each.
    pub warnings: Vec<String>,
    /// Processors of the server, asked at connect when it tells (sizes the default number of queries in flight).
    pub server_cores: Option<usize>,
}

impl std::fmt::Debug for TargetOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TargetOptions")
            .field("uri", &self.uri)
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("database_name", &self.database_name)
            .field("use_apoc", &self.use_apoc)
            .field("chunk_size", &self.chunk_size)
            .field(
                "execute_chunks_in_parallel",
                &self.execute_chunks_in_parallel,
            )
            .field("retries_per_chunk", &self.retries_per_chunk)
            .field("set_first_ingested_at", &self.set_first_ingested_at)
            .field("max_retry_attempts", &self.max_retry_attempts)
            .field("retry_factor", &self.retry_factor)
            .field(
                "connection_semaphore_limit",
                &self.connection_semaphore_limit,
            )
            .field("driver", &self.driver)
            .finish()
    }
}

/// Python driver keywords that have a Bolt-client equivalent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DriverOptions {
    /// `max_connection_pool_size`.
    pub max_connection_pool_size: Option<usize>,
    /// `max_connection_lifetime` (seconds in the file).
    pub max_connection_lifetime: Option<Duration>,
    /// `connection_timeout`.
    pub connection_timeout: Option<Duration>,
    /// `connection_acquisition_timeout`.
    pub connection_acquisition_timeout: Option<Duration>,
    /// `max_transaction_retry_time`.
    pub max_transaction_retry_time: Option<Duration>,
    /// `keep_alive`.
    pub keep_alive: Option<bool>,
    /// `user_agent`.
    pub user_agent: Option<String>,
    /// `fetch_size` (records per PULL for reads).
    pub fetch_size: Option<i64>,
    /// Our own addition: cap the Bolt version, e.g. `"4.4"` (for tests and old servers).
    pub max_bolt_version: Option<(u8, u8)>,
}

/// A target key that cannot be used, named with the target.
#[derive(Debug, thiserror::Error)]
pub enum OptionsError {
    /// A required key is absent.
    #[error("target '{target}': missing required key '{key}'")]
    Missing {
        /// Target name.
        target: String,
        /// Key name.
        key: &'static str,
    },
    /// A key has a value of the wrong type or range.
    #[error("target '{target}': key '{key}' {expected}, got {got}")]
    Invalid {
        /// Target name.
        target: String,
        /// Key name.
        key: String,
        /// What was expected.
        expected: &'static str,
        /// A description of the value (never the value of `password`).
        got: String,
    },
}

/// Writer arguments of §1.5 that may still be present; the caller handles them.
const WRITER_ARGUMENTS: &[&str] = &["batch_size", "collect_stats", "ingest_strategy_name"];

/// Python driver keywords we accept but that change nothing here (said once, at INFO).
const DRIVER_NO_EFFECT: &[&str] = &[
    "liveness_check_timeout",
    "connection_write_timeout",
    "initial_retry_delay",
    "retry_delay_multiplier",
    "retry_delay_jitter_factor",
    "disable_auto_commit_retries",
    "notifications_min_severity",
    "notifications_disabled_categories",
    "notifications_disabled_classifications",
    "warn_notification_severity",
    "telemetry_disabled",
    "trusted_certificates",
    "ssl_context",
    "client_certificate",
    "resolver",
    "auth",
    "bookmark_manager",
];

fn describe(v: &Json) -> String {
    match v {
        Json::Null => "null".into(),
        Json::Bool(b) => format!("boolean {b}"),
        Json::Number(n) => format!("number {n}"),
        Json::String(_) => "a string".into(),
        Json::Array(_) => "a list".into(),
        Json::Object(_) => "a map".into(),
    }
}

struct Reader<'a> {
    target: &'a str,
}

impl Reader<'_> {
    fn invalid(&self, key: &str, expected: &'static str, v: &Json) -> OptionsError {
        OptionsError::Invalid {
            target: self.target.to_string(),
            key: key.to_string(),
            expected,
            got: describe(v),
        }
    }

    fn string(&self, key: &str, v: &Json) -> Result<String, OptionsError> {
        match v {
            Json::String(s) => Ok(s.clone()),
            // YAML may give `port: 7687`-like scalars for user names; Python would pass them on as ints.
            Json::Number(n) => Ok(n.to_string()),
            _ => Err(self.invalid(key, "must be a string", v)),
        }
    }

    fn boolean(&self, key: &str, v: &Json) -> Result<bool, OptionsError> {
        match v {
            Json::Bool(b) => Ok(*b),
            // `!env` always yields strings.
            Json::String(s) if s.eq_ignore_ascii_case("true") => Ok(true),
            Json::String(s) if s.eq_ignore_ascii_case("false") => Ok(false),
            _ => Err(self.invalid(key, "must be true or false", v)),
        }
    }

    fn number(&self, key: &str, v: &Json) -> Result<f64, OptionsError> {
        let n = match v {
            Json::Number(n) => n.as_f64(),
            Json::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        };
        match n {
            Some(n) if n.is_finite() => Ok(n),
            _ => Err(self.invalid(key, "must be a number", v)),
        }
    }

    fn int(&self, key: &str, v: &Json, min: i64) -> Result<i64, OptionsError> {
        let n = match v {
            Json::Number(n) => n.as_i64(),
            Json::String(s) => s.trim().parse::<i64>().ok(),
            _ => None,
        };
        match n {
            Some(n) if n >= min => Ok(n),
            _ if min > 0 => Err(self.invalid(key, "must be a positive integer", v)),
            _ => Err(self.invalid(key, "must be a non-negative integer", v)),
        }
    }

    fn seconds(&self, key: &str, v: &Json) -> Result<Duration, OptionsError> {
        let s = self.number(key, v)?;
        if s < 0.0 {
            return Err(self.invalid(key, "must be a non-negative number of seconds", v));
        }
        Ok(Duration::from_secs_f64(s))
    }
}

fn parse_bolt_version(s: &str) -> Option<(u8, u8)> {
    let (major, minor) = s.trim().split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
}

/// Applies the Python driver's `encrypted`/`trust` keywords to a plain URI scheme.
fn apply_encryption(uri: &str, encrypted: bool, trust_all: bool) -> Option<String> {
    let (scheme, rest) = uri.split_once("://")?;
    if !encrypted || scheme.contains('+') {
        return None;
    }
    let suffix = if trust_all { "+ssc" } else { "+s" };
    Some(format!("{scheme}{suffix}://{rest}"))
}

impl TargetOptions {
    /// Parses one target's keys (without `database`). Wrong types are errors naming the target and key; unknown
    /// keys become warnings in [`TargetOptions::warnings`].
    pub fn parse(
        target: &str,
        map: &serde_json::Map<String, Json>,
    ) -> Result<TargetOptions, OptionsError> {
        let r = Reader { target };
        let missing = |key| OptionsError::Missing {
            target: target.to_string(),
            key,
        };
        let mut opts = TargetOptions {
            uri: String::new(),
            username: String::new(),
            password: String::new(),
            database_name: "neo4j".into(),
            use_apoc: true,
            chunk_size: 1000,
            execute_chunks_in_parallel: true,
            retries_per_chunk: 3,
            set_first_ingested_at: false,
            max_retry_attempts: 3,
            retry_factor: 1.0,
            connection_semaphore_limit: 0,
            lenient_apoc_errors: false,
            flush_concurrency: 1,
            driver: DriverOptions::default(),
            warnings: Vec::new(),
            server_cores: None,
        };
        let (mut uri, mut username, mut password) = (None, None, None);
        let (mut encrypted, mut trust_all) = (false, false);
        let mut unknown = Vec::new();
        for (key, v) in map {
            // Python drops null driver keywords and uses defaults for null connector keys.
            if v.is_null() && !matches!(key.as_str(), "uri" | "username" | "password") {
                continue;
            }
            match key.as_str() {
                "uri" => uri = Some(r.string(key, v)?),
                "username" => username = Some(r.string(key, v)?),
                "password" => match v {
                    Json::String(s) => password = Some(s.clone()),
                    Json::Number(n) => password = Some(n.to_string()),
                    _ => return Err(r.invalid(key, "must be a string", v)),
                },
                "database_name" => opts.database_name = r.string(key, v)?,
                "use_enterprise_features" => {
                    r.boolean(key, v)?;
                }
                "use_apoc" => opts.use_apoc = r.boolean(key, v)?,
                "chunk_size" => opts.chunk_size = r.int(key, v, 1)? as usize,
                "flush_concurrency" => opts.flush_concurrency = r.int(key, v, 1)?.min(1024) as usize,
                "execute_chunks_in_parallel" => opts.execute_chunks_in_parallel = r.boolean(key, v)?,
                "retries_per_chunk" => opts.retries_per_chunk = r.int(key, v, 0)?,
                "transaction_batch_size" => {
                    r.int(key, v, 1)?;
                }
                "_experimental_set_first_ingested_at" => {
                    opts.set_first_ingested_at = r.boolean(key, v)?
                }
                "max_retry_attempts" => opts.max_retry_attempts = r.int(key, v, 1)?.min(1000) as u32,
                "retry_factor" => {
                    opts.retry_factor = r.number(key, v)?;
                    if opts.retry_factor < 0.0 {
                        return Err(r.invalid(key, "must be a non-negative number", v));
                    }
                }
                "connection_semaphore_limit" => {
                    opts.connection_semaphore_limit = r.int(key, v, 0)? as usize
                }
                "lenient_apoc_errors" => opts.lenient_apoc_errors = r.boolean(key, v)?,
                "max_connection_pool_size" => {
                    opts.driver.max_connection_pool_size = Some(r.int(key, v, 1)? as usize)
                }
                "max_connection_lifetime" => {
                    opts.driver.max_connection_lifetime = Some(r.seconds(key, v)?)
                }
                "connection_timeout" => opts.driver.connection_timeout = Some(r.seconds(key, v)?),
                "connection_acquisition_timeout" => {
                    opts.driver.connection_acquisition_timeout = Some(r.seconds(key, v)?)
                }
                "max_transaction_retry_time" => {
                    opts.driver.max_transaction_retry_time = Some(r.seconds(key, v)?)
                }
                "keep_alive" => opts.driver.keep_alive = Some(r.boolean(key, v)?),
                "user_agent" => opts.driver.user_agent = Some(r.string(key, v)?),
                "fetch_size" => opts.driver.fetch_size = Some(r.int(key, v, -1)?),
                "encrypted" => encrypted = r.boolean(key, v)?,
                "trust" => {
                    let s = r.string(key, v)?;
                    trust_all = match s.as_str() {
                        "TRUST_ALL_CERTIFICATES" => true,
                        "TRUST_SYSTEM_CA_SIGNED_CERTIFICATES" => false,
                        _ => {
                            return Err(r.invalid(
                                key,
                                "must be TRUST_ALL_CERTIFICATES or TRUST_SYSTEM_CA_SIGNED_CERTIFICATES",
                                v,
                            ));
                        }
                    };
                }
                "max_bolt_version" => {
                    let s = r.string(key, v)?;
                    opts.driver.max_bolt_version = Some(
                        parse_bolt_version(&s)
                            .ok_or_else(|| r.invalid(key, "must look like \"4.4\" or \"5.4\"", v))?,
                    );
                }
                k if WRITER_ARGUMENTS.contains(&k) => {}
                k if DRIVER_NO_EFFECT.contains(&k) => opts.warnings.push(format!(
                    "target '{target}': driver option '{k}' is accepted but has no effect in this implementation"
                )),
                k => unknown.push(k.to_string()),
            }
        }
        if !unknown.is_empty() {
            opts.warnings.push(format!(
                "target '{target}': unknown option(s) ignored: {} (Python's driver would reject them)",
                unknown.join(", ")
            ));
        }
        opts.uri = uri.ok_or_else(|| missing("uri"))?;
        opts.username = username.ok_or_else(|| missing("username"))?;
        opts.password = password.ok_or_else(|| missing("password"))?;
        if let Some(u) = apply_encryption(&opts.uri, encrypted, trust_all) {
            opts.uri = u;
        }
        Ok(opts)
    }

    /// How many bucket queries we keep in flight at once.
    pub fn concurrency(&self) -> usize {
        // Two per server processor: one running while the next one's rows are decoded, enough to keep the
        // server's workers busy without piling up lock waits; 4 when the server does not tell. Capped by the pool
        // and by the user's semaphore.
        let mut n = self.server_cores.map_or(4, |c| (2 * c).clamp(2, 64));
        if let Some(pool) = self.driver.max_connection_pool_size {
            n = n.min(pool);
        }
        if self.connection_semaphore_limit > 0 {
            n = n.min(self.connection_semaphore_limit);
        }
        n.max(1)
    }
}

impl TargetOptions {
    /// Maps the target's options onto the Bolt driver's configuration (writer, reader, copy and migrations).
    pub fn bolt_config(&self) -> bolt::Config {
        let opts = self;
        let mut c = bolt::Config::new(&opts.uri, &opts.username, &opts.password);
        c.database = Some(opts.database_name.clone());
        let d = &opts.driver;
        if let Some(v) = &d.user_agent {
            c.user_agent = v.clone();
        }
        if let Some(v) = d.max_connection_pool_size {
            c.max_connection_pool_size = v;
        }
        if let Some(v) = d.connection_timeout {
            c.connection_timeout = v;
        }
        if let Some(v) = d.connection_acquisition_timeout {
            c.connection_acquisition_timeout = v;
        }
        if let Some(v) = d.max_connection_lifetime {
            c.max_connection_lifetime = Some(v);
        }
        if let Some(v) = d.keep_alive {
            c.keep_alive = v;
        }
        if let Some(v) = d.max_transaction_retry_time {
            c.max_transaction_retry_time = v;
        }
        if let Some(v) = d.fetch_size {
            c.fetch_size = v;
        }
        c.max_bolt_version = d.max_bolt_version;
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn parse(v: Json) -> Result<TargetOptions, OptionsError> {
        TargetOptions::parse("t1", v.as_object().unwrap())
    }

    #[test]
    fn defaults_and_required_keys() {
        let o =
            parse(json!({"uri": "bolt://h:7687", "username": "neo4j", "password": "pw"})).unwrap();
        assert_eq!(o.database_name, "neo4j");
        assert!(o.use_apoc && o.execute_chunks_in_parallel && !o.set_first_ingested_at);
        assert_eq!(
            (o.chunk_size, o.retries_per_chunk, o.max_retry_attempts),
            (1000, 3, 3)
        );
        assert_eq!(o.retry_factor, 1.0);
        assert!(o.warnings.is_empty());
        let e = parse(json!({"uri": "bolt://h", "username": "neo4j"})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "target 't1': missing required key 'password'"
        );
    }

    #[test]
    fn documented_examples_parse() {
        let o = parse(json!({"uri": "neo4j+s://my-neo4j-instance:7687", "username": "u", "password": "p",
            "database_name": "my_database", "max_connection_lifetime": 3600, "max_connection_pool_size": 50,
            "use_enterprise_features": true}))
        .unwrap();
        assert_eq!(o.database_name, "my_database");
        assert_eq!(
            o.driver.max_connection_lifetime,
            Some(Duration::from_secs(3600))
        );
        assert_eq!(o.driver.max_connection_pool_size, Some(50));
        assert!(o.warnings.is_empty(), "{:?}", o.warnings);
    }

    #[test]
    fn wrong_types_name_target_and_key_but_never_the_password() {
        let e = parse(
            json!({"uri": "bolt://h", "username": "u", "password": "secret", "chunk_size": "many"}),
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "target 't1': key 'chunk_size' must be a positive integer, got a string"
        );
        let e = parse(json!({"uri": "bolt://h", "username": "u", "password": {"x": "secret"}}))
            .unwrap_err();
        assert!(e.to_string().contains("'password'") && !e.to_string().contains("secret"));
        let e = parse(json!({"uri": "bolt://h", "username": "u", "password": "p", "use_apoc": 3}))
            .unwrap_err();
        assert!(e.to_string().contains("'use_apoc' must be true or false"));
    }

    #[test]
    fn unknown_keys_warn_and_env_strings_are_accepted() {
        let o = parse(json!({"uri": "bolt://h", "username": "u", "password": "p", "max_conection_pool": 3,
            "telemetry_disabled": true, "chunk_size": "500", "use_apoc": "false", "batch_size": 10}))
        .unwrap();
        assert_eq!(o.chunk_size, 500);
        assert!(!o.use_apoc);
        assert_eq!(o.warnings.len(), 2, "{:?}", o.warnings);
        assert!(o.warnings.iter().any(|w| w.contains("max_conection_pool")));
        assert!(o.warnings.iter().any(|w| w.contains("telemetry_disabled")));
    }

    #[test]
    fn encrypted_and_trust_change_the_scheme() {
        let o = parse(
            json!({"uri": "bolt://h:1", "username": "u", "password": "p", "encrypted": true,
            "trust": "TRUST_ALL_CERTIFICATES"}),
        )
        .unwrap();
        assert_eq!(o.uri, "bolt+ssc://h:1");
        let o = parse(
            json!({"uri": "neo4j://h:1", "username": "u", "password": "p", "encrypted": true}),
        )
        .unwrap();
        assert_eq!(o.uri, "neo4j+s://h:1");
    }

    #[test]
    fn debug_redacts_password() {
        let o = parse(json!({"uri": "bolt://h", "username": "u", "password": "hunter2"})).unwrap();
        assert!(!format!("{o:?}").contains("hunter2"));
    }

    #[test]
    fn concurrency_respects_pool_and_semaphore() {
        let o = parse(json!({"uri": "bolt://h", "username": "u", "password": "p", "max_connection_pool_size": 2}))
            .unwrap();
        assert_eq!(o.concurrency(), 2);
        let o = parse(json!({"uri": "bolt://h", "username": "u", "password": "p", "connection_semaphore_limit": 1}))
            .unwrap();
        assert_eq!(o.concurrency(), 1);
    }

    #[test]
    fn concurrency_follows_the_server_cores_within_the_limits() {
        let mut o = parse(json!({"uri": "bolt://h", "username": "u", "password": "p"})).unwrap();
        assert_eq!(o.concurrency(), 4, "unknown server: the fixed default");
        o.server_cores = Some(8);
        assert_eq!(o.concurrency(), 16);
        o.server_cores = Some(1);
        assert_eq!(o.concurrency(), 2);
        let mut o = parse(json!({"uri": "bolt://h", "username": "u", "password": "p", "max_connection_pool_size": 5}))
            .unwrap();
        o.server_cores = Some(8);
        assert_eq!(o.concurrency(), 5);
    }
}
