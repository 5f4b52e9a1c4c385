//! `audit ttls` (Python's `AuditTimeToLiveConfigurations`): every type of the project's schema needs a TTL
//! configuration from some `TimeToLiveConfigurationExtractor`; TTLs for types the schema lacks are warned
//! about. The exit code is the number of failures, as in Python.

use crate::model::{GraphObjectType, TimeToLiveConfiguration};
use crate::pipeline::extractors::Extractor;
use crate::pipeline::{LoadOptions, Step, load_pipeline};
use crate::project::Project;
use crate::schema::{ObjectKind, infer_project};

/// What the audit found, as the lines Python prints, and the failure count.
#[derive(Debug, Default)]
pub struct AuditReport {
    /// Output lines in order.
    pub lines: Vec<String>,
    /// Failures (Python's exit code).
    pub failures: usize,
}

/// Every TTL configuration of the project's TTL extractors, in project order.
fn all_ttls(project: &Project) -> anyhow::Result<Vec<TimeToLiveConfiguration>> {
    // Python digs through `initialize_for_introspection()`: every step, annotation set {introspection}.
    let opts = LoadOptions {
        annotations: vec!["introspection".to_string()],
        introspection: false,
    };
    let mut out = Vec::new();
    for (scope, p) in project.all_pipelines() {
        let loaded = load_pipeline(&p.path, &p.name, scope.config.as_ref(), &opts)?;
        for step in loaded.steps {
            if let Step::Extractor(Extractor::Ttl(ttls)) = step {
                out.extend(ttls);
            }
        }
    }
    Ok(out)
}

/// Python's `GraphObjectType` repr in messages (`GraphObjectType.NODE`).
fn kind_name(kind: ObjectKind) -> &'static str {
    match kind {
        ObjectKind::Node => "GraphObjectType.NODE",
        ObjectKind::Relationship => "GraphObjectType.RELATIONSHIP",
    }
}

/// Runs `audit ttls` on the project.
pub fn audit_ttls(project: &Project) -> anyhow::Result<AuditReport> {
    let schema = infer_project(project, &[])?;
    let mut unused = all_ttls(project)?;
    let mut report = AuditReport::default();
    for ((kind, _), ty) in &schema.types {
        let wanted = match kind {
            ObjectKind::Node => GraphObjectType::Node,
            ObjectKind::Relationship => GraphObjectType::Relationship,
        };
        match unused
            .iter()
            .position(|t| t.graph_object_type == wanted && t.object_type == ty.name)
        {
            Some(i) => {
                unused.remove(i);
            }
            None => {
                report.failures += 1;
                report.lines.push(format!(
                    "Time to live not configured for {} '{}'",
                    kind_name(*kind),
                    ty.name
                ));
            }
        }
    }
    for ttl in &unused {
        report.lines.push(format!(
            "Time to live configured for unknown object type '{}'",
            ttl.object_type
        ));
    }
    if report.failures == 0 {
        report
            .lines
            .push("All Object Types Have TTLs Configured".to_string());
    }
    Ok(report)
}
