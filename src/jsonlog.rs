//! The `--json` log line, in the shape of Python Nodestream's JSON logger (spec §5.1 message names): one
//! object per line on stderr, shared by `run`, `copy` and the other commands.

use serde_json::{Map, Value};
use std::io::Write as _;

/// Who is logging: the logger name and the pipeline fields every line carries.
#[derive(Debug, Clone, Copy)]
pub struct Source<'a> {
    /// Python's logger name (`nodestream`, `nodestream.copy`).
    pub logger: &'a str,
    /// `pipeline_name`.
    pub pipeline: &'a str,
    /// `pipeline_scope`; `null` when the command has no scope.
    pub scope: Option<&'a str>,
}

/// Emits one JSON log line on stderr; the members of `extra` (an object) are added to the line.
pub fn emit(source: Source<'_>, level: &str, message: &str, extra: Value) {
    let mut m = Map::new();
    m.insert("name".into(), source.logger.into());
    m.insert("levelname".into(), level.into());
    m.insert("pipeline_name".into(), source.pipeline.into());
    m.insert(
        "pipeline_scope".into(),
        source.scope.map_or(Value::Null, Value::from),
    );
    m.insert("message".into(), message.into());
    m.insert(
        "timestamp".into(),
        chrono::Utc::now()
            .format("%Y-%m-%dT%H:%M:%S%.6fZ")
            .to_string()
            .into(),
    );
    if let Value::Object(e) = extra {
        m.extend(e);
    }
    let mut err = std::io::stderr().lock();
    let _ = writeln!(err, "{}", Value::Object(m));
}
