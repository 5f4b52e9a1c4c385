//! `nodestream.yaml`: scopes, pipelines, targets and the YAML tags they use (spec §1).

#[allow(dead_code)] // Shared API: parts are used by migrations (the emitter, builders).
pub mod yaml;
