//! `k=v` command-line overrides and the type retriever's options (spec §5.2, §7.2).

use serde_json::Value as Json;

/// A bad `--connector-option`/`--retriever-option`, or a retriever option with a bad value.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum OptionError {
    /// The item has no `=`.
    #[error("{flag} '{item}': expected key=value")]
    NoEquals {
        /// `--connector-option` or `--retriever-option`.
        flag: &'static str,
        /// The item as given.
        item: String,
    },
    /// An option the retriever does not know (Python crashes with a `TypeError` here).
    #[error(
        "unknown retriever option(s) {names}; known: shard_size, sample_ratio, latest_hours, preload_nodes, \
         relationships_only, distribution"
    )]
    Unknown {
        /// The unknown names, quoted and comma-separated.
        names: String,
    },
    /// A known option with a value of the wrong type or range.
    #[error("retriever option '{key}' {expected}, got {got}")]
    Invalid {
        /// Option name.
        key: &'static str,
        /// What was expected.
        expected: &'static str,
        /// The value given.
        got: String,
    },
}

/// Parses Python's `k=v` value rules: `true`/`false` (any case) → bool; else an int if it parses; else a float;
/// else the string. Floats that JSON cannot hold (`nan`, `inf`) stay strings.
pub fn parse_value(raw: &str) -> Json {
    if raw.eq_ignore_ascii_case("true") {
        return Json::Bool(true);
    }
    if raw.eq_ignore_ascii_case("false") {
        return Json::Bool(false);
    }
    // Python's int()/float() accept surrounding whitespace and digit-group underscores.
    let t = raw.trim();
    let compact: String;
    let t = if t.contains('_') && !t.starts_with('_') && !t.ends_with('_') && !t.contains("__") {
        compact = t.replace('_', "");
        compact.as_str()
    } else {
        t
    };
    if let Ok(i) = t.parse::<i64>() {
        return Json::from(i);
    }
    if let Ok(f) = t.parse::<f64>()
        && let Some(n) = serde_json::Number::from_f64(f)
        // Rust also accepts "infinity"/"nan" spellings; those are not finite and never get here.
        && !t.is_empty()
    {
        return Json::Number(n);
    }
    Json::String(raw.to_string())
}

/// Parses repeated `k=v` items into an ordered map (a later item wins, as in Python's dict).
pub fn parse_key_values(
    flag: &'static str,
    items: &[String],
) -> Result<serde_json::Map<String, Json>, OptionError> {
    let mut out = serde_json::Map::new();
    for item in items {
        let Some((k, v)) = item.split_once('=') else {
            return Err(OptionError::NoEquals {
                flag,
                item: item.clone(),
            });
        };
        out.insert(k.to_string(), parse_value(v));
    }
    Ok(out)
}

/// How shards of several types are interleaved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Distribution {
    /// Every shard of one type, then the next type.
    Sequential,
    /// One shard per type per round.
    RoundRobin,
}

/// The source-side options of `copy` (Python's `make_type_retriever` keywords).
#[derive(Debug, Clone, PartialEq)]
pub struct RetrieverOptions {
    /// Records per shard.
    pub shard_size: usize,
    /// Keep only relationships whose element-id number is divisible by this (None = all).
    pub sample_ratio: Option<i64>,
    /// Only records with `last_ingested_at >= now - latest_hours`.
    pub latest_hours: Option<f64>,
    /// Node shards before relationship shards.
    pub preload_nodes: bool,
    /// No node shards at all.
    pub relationships_only: bool,
    /// Shard interleaving.
    pub distribution: Distribution,
}

impl Default for RetrieverOptions {
    fn default() -> Self {
        RetrieverOptions {
            shard_size: 10_000,
            sample_ratio: None,
            latest_hours: None,
            preload_nodes: false,
            relationships_only: false,
            distribution: Distribution::Sequential,
        }
    }
}

fn show(v: &Json) -> String {
    match v {
        Json::String(s) => format!("'{s}'"),
        other => other.to_string(),
    }
}

impl RetrieverOptions {
    /// Builds the options from the merged overrides; every unknown name is reported at once.
    pub fn from_map(map: &serde_json::Map<String, Json>) -> Result<RetrieverOptions, OptionError> {
        const KNOWN: &[&str] = &[
            "shard_size",
            "sample_ratio",
            "latest_hours",
            "preload_nodes",
            "relationships_only",
            "distribution",
        ];
        let unknown: Vec<String> = map
            .keys()
            .filter(|k| !KNOWN.contains(&k.as_str()))
            .map(|k| format!("'{k}'"))
            .collect();
        if !unknown.is_empty() {
            return Err(OptionError::Unknown {
                names: unknown.join(", "),
            });
        }
        let invalid = |key: &'static str, expected: &'static str, v: &Json| OptionError::Invalid {
            key,
            expected,
            got: show(v),
        };
        let mut o = RetrieverOptions::default();
        for (k, v) in map {
            match k.as_str() {
                "shard_size" => {
                    o.shard_size = v
                        .as_i64()
                        .filter(|n| *n > 0)
                        .and_then(|n| usize::try_from(n).ok())
                        .ok_or_else(|| invalid("shard_size", "must be a positive integer", v))?;
                }
                "sample_ratio" => {
                    o.sample_ratio = match v {
                        Json::Null => None,
                        _ => {
                            let n = v
                                .as_i64()
                                .ok_or_else(|| invalid("sample_ratio", "must be an integer", v))?;
                            // Python: None or <= 1 disables sampling.
                            (n > 1).then_some(n)
                        }
                    };
                }
                "latest_hours" => {
                    o.latest_hours = match v {
                        Json::Null => None,
                        _ => Some(
                            v.as_f64()
                                .filter(|h| h.is_finite() && *h >= 0.0)
                                .ok_or_else(|| {
                                    invalid("latest_hours", "must be a non-negative number", v)
                                })?,
                        ),
                    };
                }
                "preload_nodes" | "relationships_only" => {
                    let b = v
                        .as_bool()
                        .ok_or_else(|| invalid(known(k), "must be true or false", v))?;
                    if k == "preload_nodes" {
                        o.preload_nodes = b;
                    } else {
                        o.relationships_only = b;
                    }
                }
                "distribution" => {
                    o.distribution = match v.as_str() {
                        Some("sequential") => Distribution::Sequential,
                        Some("round_robin") => Distribution::RoundRobin,
                        _ => {
                            return Err(invalid(
                                "distribution",
                                "must be 'sequential' or 'round_robin'",
                                v,
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(o)
    }
}

fn known(k: &str) -> &'static str {
    match k {
        "preload_nodes" => "preload_nodes",
        _ => "relationships_only",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn values_follow_python_rules() {
        assert_eq!(parse_value("TRUE"), json!(true));
        assert_eq!(parse_value("false"), json!(false));
        assert_eq!(parse_value("10000"), json!(10000));
        assert_eq!(parse_value(" 7 "), json!(7));
        assert_eq!(parse_value("1_000"), json!(1000));
        assert_eq!(parse_value("-3"), json!(-3));
        assert_eq!(parse_value("2.5"), json!(2.5));
        assert_eq!(parse_value("1e3"), json!(1000.0));
        assert_eq!(parse_value("round_robin"), json!("round_robin"));
        assert_eq!(parse_value(""), json!(""));
        assert_eq!(parse_value("nan"), json!("nan"));
    }

    #[test]
    fn key_values_need_equals_and_later_wins() {
        let m = parse_key_values(
            "--connector-option",
            &[
                "chunk_size=10".into(),
                "a=b=c".into(),
                "chunk_size=20".into(),
            ],
        )
        .unwrap();
        assert_eq!(json!(m), json!({"chunk_size": 20, "a": "b=c"}));
        let e = parse_key_values("--retriever-option", &["limit".into()]).unwrap_err();
        assert_eq!(
            e.to_string(),
            "--retriever-option 'limit': expected key=value"
        );
    }

    #[test]
    fn retriever_options_parse_and_reject() {
        let m = |v: Json| v.as_object().unwrap().clone();
        let o = RetrieverOptions::from_map(&m(json!({}))).unwrap();
        assert_eq!(o, RetrieverOptions::default());
        let o = RetrieverOptions::from_map(&m(json!({
            "shard_size": 50, "sample_ratio": 1, "latest_hours": 24, "preload_nodes": true,
            "relationships_only": true, "distribution": "round_robin"
        })))
        .unwrap();
        assert_eq!(o.shard_size, 50);
        assert_eq!(o.sample_ratio, None);
        assert_eq!(o.latest_hours, Some(24.0));
        assert!(o.preload_nodes && o.relationships_only);
        assert_eq!(o.distribution, Distribution::RoundRobin);
        assert_eq!(
            RetrieverOptions::from_map(&m(json!({"sample_ratio": 100})))
                .unwrap()
                .sample_ratio,
            Some(100)
        );

        let e = RetrieverOptions::from_map(&m(json!({"limit": 5, "shard_size": 1, "all": true})))
            .unwrap_err();
        assert!(e.to_string().contains("'limit', 'all'"), "{e}");
        let e = RetrieverOptions::from_map(&m(json!({"distribution": "random"}))).unwrap_err();
        assert_eq!(
            e.to_string(),
            "retriever option 'distribution' must be 'sequential' or 'round_robin', got 'random'"
        );
        assert!(RetrieverOptions::from_map(&m(json!({"shard_size": 0}))).is_err());
        assert!(RetrieverOptions::from_map(&m(json!({"preload_nodes": "yes"}))).is_err());
        assert!(RetrieverOptions::from_map(&m(json!({"latest_hours": -1}))).is_err());
    }
}
