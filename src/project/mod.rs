//! `nodestream.yaml`: scopes, pipelines, targets and the YAML tags they use (spec §1).
