//! Target options (spec §1.5, §1.6): the connector keys, the connection keys and the Python driver keywords,
//! each defined once in [`TARGET_OPTIONS`] (name, type, default, what it configures), and parsed from one
//! target's map into what the writer, copy, migrations and the Bolt driver need.

use serde_json::Value as Json;
use std::time::Duration;

/// What a target key configures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applies {
    /// The connector (the writer, copy and migrations): parsed here.
    Connector,
    /// The Bolt client: handed to [`bolt::Config::set_option`], so every option the client supports works.
    Driver,
    /// A writer argument of §1.5 (`batch_size`, …), read by the project loader, not by the connector.
    WriterArgument,
    /// A Python driver keyword with no equivalent here: accepted with one warning.
    NoEffect,
}

/// The type a target key takes (values from `!env` may also be strings that parse as it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A string.
    Str,
    /// `true` or `false`.
    Bool,
    /// An integer no smaller than the bound.
    Int(i64),
    /// A finite number, not negative.
    Number,
    /// A non-negative number of seconds.
    Seconds,
    /// Anything (the consumer checks it).
    Any,
}

/// One target option: its name, its type, its default and what it configures.
#[derive(Debug, Clone, Copy)]
pub struct TargetOption {
    /// The key in the target's map.
    pub name: &'static str,
    /// The type it takes.
    pub kind: Kind,
    /// The default, as a user would write it (`""`: required or none). Documentation for whoever reads the
    /// table; checked against the type by a test.
    #[allow(dead_code)]
    pub default: &'static str,
    /// What it configures.
    pub applies: Applies,
}

const fn opt(
    name: &'static str,
    kind: Kind,
    default: &'static str,
    applies: Applies,
) -> TargetOption {
    TargetOption {
        name,
        kind,
        default,
        applies,
    }
}

use Applies::{Connector as C, Driver as D, NoEffect as X, WriterArgument as W};

/// Every key a Neo4j target may hold: the one list that run, copy, migrations and the project loader read.
pub const TARGET_OPTIONS: &[TargetOption] = &[
    // Connector keys (spec §1.6).
    opt("uri", Kind::Str, "", C),
    opt("username", Kind::Str, "", C),
    opt("password", Kind::Str, "", C),
    opt("database_name", Kind::Str, "neo4j", C),
    opt("use_enterprise_features", Kind::Bool, "false", C),
    opt("use_apoc", Kind::Bool, "true", C),
    opt("chunk_size", Kind::Int(1), "1000", C),
    opt("execute_chunks_in_parallel", Kind::Bool, "true", C),
    opt("retries_per_chunk", Kind::Int(0), "3", C),
    opt("transaction_batch_size", Kind::Int(1), "10000", C),
    opt(
        "_experimental_set_first_ingested_at",
        Kind::Bool,
        "false",
        C,
    ),
    opt("max_retry_attempts", Kind::Int(1), "3", C),
    opt("retry_factor", Kind::Number, "1", C),
    opt(
        "connection_semaphore_limit",
        Kind::Int(0),
        "0 (two per server core)",
        C,
    ),
    // Ours.
    opt("lenient_apoc_errors", Kind::Bool, "false", C),
    opt("max_bolt_version", Kind::Str, "", C),
    // Writer arguments (spec §1.5), split off by the project loader; `flush_concurrency` also reaches here.
    opt("batch_size", Kind::Int(1), "1000", W),
    opt("flush_concurrency", Kind::Int(1), "1", C),
    opt("collect_stats", Kind::Bool, "true", W),
    opt("ingest_strategy_name", Kind::Str, "debounced", W),
    // Python driver keywords the Bolt client applies.
    opt("max_connection_pool_size", Kind::Int(1), "100", D),
    opt("max_connection_lifetime", Kind::Seconds, "3600", D),
    opt("connection_timeout", Kind::Seconds, "30", D),
    opt("connection_acquisition_timeout", Kind::Seconds, "60", D),
    opt("max_transaction_retry_time", Kind::Seconds, "30", D),
    opt("keep_alive", Kind::Bool, "true", D),
    opt("liveness_check_timeout", Kind::Seconds, "", D),
    opt("encrypted", Kind::Bool, "false", D),
    opt("trust", Kind::Str, "TRUST_SYSTEM_CA_SIGNED_CERTIFICATES", D),
    opt("trusted_certificates", Kind::Any, "", D),
    opt("user_agent", Kind::Str, "nodestream-rs/VERSION", D),
    opt("fetch_size", Kind::Int(-1), "1000", D),
    opt("notifications_min_severity", Kind::Str, "", D),
    // Python driver keywords without an equivalent here.
    opt("connection_write_timeout", Kind::Any, "", X),
    opt("initial_retry_delay", Kind::Any, "", X),
    opt("retry_delay_multiplier", Kind::Any, "", X),
    opt("retry_delay_jitter_factor", Kind::Any, "", X),
    opt("disable_auto_commit_retries", Kind::Any, "", X),
    opt("notifications_disabled_categories", Kind::Any, "", X),
    opt("notifications_disabled_classifications", Kind::Any, "", X),
    opt("warn_notification_severity", Kind::Any, "", X),
    opt("telemetry_disabled", Kind::Any, "", X),
    opt("ssl_context", Kind::Any, "", X),
    opt("client_certificate", Kind::Any, "", X),
    opt("resolver", Kind::Any, "", X),
    opt("auth", Kind::Any, "", X),
    opt("bookmark_manager", Kind::Any, "", X),
];

/// The definition of a target key, if it is one.
pub fn target_option(name: &str) -> Option<&'static TargetOption> {
    TARGET_OPTIONS.iter().find(|o| o.name == name)
}

/// Whether `name` is a writer argument of §1.5 (the project loader takes those out of a target's map).
pub fn is_writer_argument(name: &str) -> bool {
    name == "flush_concurrency" || target_option(name).is_some_and(|o| o.applies == W)
}

/// Everything a Neo4j target's map configures. The password is kept out of `Debug`.
#[derive(Clone)]
pub struct TargetOptions {
    /// Bolt URI (`bolt://`, `neo4j://`, `bolt+s://`, ...).
    pub uri: String,
    /// Basic-auth user.
    pub username: String,
    /// Basic-auth password (never logged).
    pub password: String,
    /// Database every query runs against.
    pub database_name: String,
    /// `use_enterprise_features` (migrations: NODE KEY and existence constraints).
    pub use_enterprise_features: bool,
    /// `transaction_batch_size` (migrations: rows per transaction when setting defaults).
    pub transaction_batch_size: u64,
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
    /// The Bolt client's configuration, with every driver keyword applied (its `Debug` redacts the password).
    pub bolt: bolt::Config,
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
            .field("bolt", &self.bolt)
            .finish()
    }
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

    /// Checks `v` against the key's type and gives it as a Bolt value (for the Bolt client's options).
    fn typed(&self, def: &TargetOption, v: &Json) -> Result<bolt::Value, OptionsError> {
        let key = def.name;
        Ok(match def.kind {
            Kind::Str => bolt::Value::String(self.string(key, v)?),
            Kind::Bool => bolt::Value::Boolean(self.boolean(key, v)?),
            Kind::Int(min) => bolt::Value::Integer(self.int(key, v, min)?),
            Kind::Number => bolt::Value::Float(self.number(key, v)?),
            Kind::Seconds => bolt::Value::Float(self.seconds(key, v)?.as_secs_f64()),
            Kind::Any => json_to_bolt(v),
        })
    }
}

fn json_to_bolt(v: &Json) -> bolt::Value {
    match v {
        Json::Null => bolt::Value::Null,
        Json::Bool(b) => bolt::Value::Boolean(*b),
        Json::Number(n) => match n.as_i64() {
            Some(i) => bolt::Value::Integer(i),
            None => bolt::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => bolt::Value::String(s.clone()),
        Json::Array(a) => bolt::Value::List(a.iter().map(json_to_bolt).collect()),
        Json::Object(m) => bolt::Value::Map(
            m.iter()
                .map(|(k, v)| (k.clone(), json_to_bolt(v)))
                .collect(),
        ),
    }
}

fn parse_bolt_version(s: &str) -> Option<(u8, u8)> {
    let (major, minor) = s.trim().split_once('.')?;
    Some((major.parse().ok()?, minor.parse().ok()?))
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
            use_enterprise_features: false,
            transaction_batch_size: 10_000,
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
            bolt: bolt::Config::new("", "", ""),
            warnings: Vec::new(),
            server_cores: None,
        };
        let (mut uri, mut username, mut password) = (None, None, None);
        let mut unknown = Vec::new();
        for (key, v) in map {
            // Python drops null driver keywords and uses defaults for null connector keys.
            if v.is_null() && !matches!(key.as_str(), "uri" | "username" | "password") {
                continue;
            }
            let Some(def) = target_option(key) else {
                unknown.push(key.clone());
                continue;
            };
            match def.applies {
                Applies::WriterArgument => continue,
                Applies::NoEffect => {
                    opts.warnings.push(format!(
                        "target '{target}': driver option '{key}' is accepted but has no effect in this implementation"
                    ));
                    continue;
                }
                Applies::Driver => {
                    let value = r.typed(def, v)?;
                    match opts.bolt.set_option(key, &value) {
                        Ok(bolt::OptionOutcome::Applied) => {}
                        Ok(_) => opts.warnings.push(format!(
                            "target '{target}': driver option '{key}' is accepted but has no effect in this implementation"
                        )),
                        Err(_) => {
                            return Err(r.invalid(key, "has a value the Bolt client cannot use", v));
                        }
                    }
                    continue;
                }
                Applies::Connector => {}
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
                "use_enterprise_features" => opts.use_enterprise_features = r.boolean(key, v)?,
                "use_apoc" => opts.use_apoc = r.boolean(key, v)?,
                "chunk_size" => opts.chunk_size = r.int(key, v, 1)? as usize,
                "flush_concurrency" => {
                    opts.flush_concurrency = r.int(key, v, 1)?.min(1024) as usize
                }
                "execute_chunks_in_parallel" => {
                    opts.execute_chunks_in_parallel = r.boolean(key, v)?
                }
                "retries_per_chunk" => opts.retries_per_chunk = r.int(key, v, 0)?,
                "transaction_batch_size" => opts.transaction_batch_size = r.int(key, v, 1)? as u64,
                "_experimental_set_first_ingested_at" => {
                    opts.set_first_ingested_at = r.boolean(key, v)?
                }
                "max_retry_attempts" => {
                    opts.max_retry_attempts = r.int(key, v, 1)?.min(1000) as u32
                }
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
                "max_bolt_version" => {
                    let s = r.string(key, v)?;
                    opts.bolt.max_bolt_version =
                        Some(parse_bolt_version(&s).ok_or_else(|| {
                            r.invalid(key, "must look like \"4.4\" or \"5.4\"", v)
                        })?);
                }
                // A connector key in the table that this parser does not read would be a bug of ours: warn.
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
        opts.bolt.uri = opts.uri.clone();
        opts.bolt.user = opts.username.clone();
        opts.bolt.password = opts.password.clone();
        opts.bolt.database = Some(opts.database_name.clone());
        Ok(opts)
    }

    /// How many bucket queries we keep in flight at once.
    pub fn concurrency(&self) -> usize {
        // Two per server processor: one running while the next one's rows are decoded, enough to keep the
        // server's workers busy without piling up lock waits; 4 when the server does not tell. Capped by the pool
        // and by the user's semaphore.
        let mut n = self.server_cores.map_or(4, |c| (2 * c).clamp(2, 64));
        n = n.min(self.bolt.max_connection_pool_size);
        if self.connection_semaphore_limit > 0 {
            n = n.min(self.connection_semaphore_limit);
        }
        n.max(1)
    }

    /// The Bolt driver's configuration (writer, reader, copy and migrations).
    pub fn bolt_config(&self) -> bolt::Config {
        self.bolt.clone()
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
            o.bolt.max_connection_lifetime,
            Some(Duration::from_secs(3600))
        );
        assert_eq!(o.bolt.max_connection_pool_size, 50);
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
    fn driver_keywords_reach_the_bolt_client() {
        let o = parse(
            json!({"uri": "bolt://h:1", "username": "u", "password": "p", "encrypted": true,
            "trust": "TRUST_ALL_CERTIFICATES", "trusted_certificates": ["/ca.pem"],
            "liveness_check_timeout": "2", "notifications_min_severity": "warning"}),
        )
        .unwrap();
        assert_eq!(o.bolt.encrypted, Some(true));
        assert_eq!(o.bolt.trust, bolt::Trust::CustomCa("/ca.pem".into()));
        assert_eq!(o.bolt.liveness_check_timeout, Some(Duration::from_secs(2)));
        assert_eq!(
            o.bolt.notifications_min_severity.as_deref(),
            Some("WARNING")
        );
        assert!(o.warnings.is_empty(), "{:?}", o.warnings);
        assert_eq!(
            (o.bolt.uri.as_str(), o.bolt.database.as_deref()),
            ("bolt://h:1", Some("neo4j"))
        );
    }

    #[test]
    fn table_defaults_have_their_type() {
        let r = Reader { target: "t" };
        for def in TARGET_OPTIONS {
            let Some(first) = def.default.split(' ').next().filter(|s| !s.is_empty()) else {
                continue;
            };
            let v = Json::String(first.into());
            assert!(r.typed(def, &v).is_ok(), "{}: {:?}", def.name, def.default);
        }
    }

    #[test]
    fn every_table_key_is_read_by_someone() {
        for def in TARGET_OPTIONS {
            let mut m = serde_json::Map::new();
            for (k, v) in [("uri", "bolt://h"), ("username", "u"), ("password", "p")] {
                m.insert(k.into(), json!(v));
            }
            let v = match def.kind {
                Kind::Str if def.name == "max_bolt_version" => json!("4.4"),
                Kind::Str if def.name == "trust" => json!("TRUST_ALL_CERTIFICATES"),
                Kind::Str if def.name == "notifications_min_severity" => json!("OFF"),
                Kind::Str => json!("x"),
                Kind::Bool => json!(true),
                Kind::Int(_) | Kind::Number | Kind::Seconds => json!(2),
                Kind::Any if def.name == "trusted_certificates" => json!("/ca.pem"),
                Kind::Any => json!(1),
            };
            m.insert(def.name.into(), v);
            let o = TargetOptions::parse("t", &m).unwrap();
            assert!(
                o.warnings.iter().all(|w| !w.contains("unknown")),
                "{}: {:?}",
                def.name,
                o.warnings
            );
            assert_eq!(
                o.warnings.is_empty(),
                def.applies != Applies::NoEffect,
                "{}: {:?}",
                def.name,
                o.warnings
            );
        }
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
