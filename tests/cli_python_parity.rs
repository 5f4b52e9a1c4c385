//! Parity with Python Nodestream 0.16 (the reference): for every example pipeline, the records its
//! interpreter produces (dumped by `tests/python/dump_ingestions.py`) must equal our `--dry-run` output, and
//! `show` / `print schema` must print the same text. Needs the venv from `scripts/python-env` (or
//! `NODESTREAM_PY_VENV`); the test fails, not skips, when it is missing.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn venv() -> PathBuf {
    if let Some(v) = std::env::var_os("NODESTREAM_PY_VENV") {
        return PathBuf::from(v);
    }
    let out = Command::new(root().join("scripts/python-env"))
        .output()
        .expect("scripts/python-env runs");
    assert!(
        out.status.success(),
        "scripts/python-env failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8(out.stdout).unwrap().trim())
}

fn output(mut cmd: Command, what: &str) -> String {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn json_lines(text: &str) -> Vec<serde_json::Value> {
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn compare_pipeline(project: &str, pipeline: &str) {
    let dir = root().join("examples").join(project);
    let mut py = Command::new(venv().join("bin/python"));
    py.arg(root().join("tests/python/dump_ingestions.py"))
        .arg("nodestream.yaml")
        .arg(pipeline)
        .current_dir(&dir);
    let expected = json_lines(&output(py, &format!("python dump of {project}/{pipeline}")));
    // Python's snapshot runs with the annotation `test`.
    let mut rs = Command::new(env!("CARGO_BIN_EXE_nodestream"));
    rs.args(["run", pipeline, "--dry-run", "-a", "test"])
        .current_dir(&dir)
        .env("NODESTREAM_FIXED_NOW", "2024-01-01T00:00:00Z");
    let actual = json_lines(&output(rs, &format!("nodestream run {pipeline}")));
    assert_eq!(
        actual.len(),
        expected.len(),
        "{project}/{pipeline}: record count"
    );
    for (i, (a, e)) in actual.iter().zip(&expected).enumerate() {
        assert_eq!(a, e, "{project}/{pipeline}: record {i} differs from Python");
    }
}

fn compare_cli(project: &str, args: &[&str]) {
    let dir: &Path = &root().join("examples").join(project);
    let mut py = Command::new(venv().join("bin/nodestream"));
    py.args(args).current_dir(dir);
    let expected = output(py, &format!("python nodestream {args:?}"));
    let mut rs = Command::new(env!("CARGO_BIN_EXE_nodestream"));
    rs.args(args).current_dir(dir);
    let actual = output(rs, &format!("nodestream {args:?}"));
    assert_eq!(
        actual,
        expected,
        "{project}: `nodestream {}` differs from Python",
        args.join(" ")
    );
}

#[test]
fn airports_project_matches_python() {
    for p in ["airports", "fifa", "node-ttls", "relationship-ttls"] {
        compare_pipeline("airports", p);
    }
}

#[test]
fn org_chart_matches_python() {
    compare_pipeline("org-chart", "org-chart");
}

#[test]
fn features_match_python() {
    for p in ["catalog", "events", "numbers", "logs", "people"] {
        compare_pipeline("features", p);
    }
}

#[test]
fn quirks_match_python() {
    for p in ["csv-edges", "providers", "shapes", "jmespath"] {
        compare_pipeline("quirks", p);
    }
}

#[test]
fn show_and_print_schema_match_python() {
    for project in ["airports", "org-chart", "features", "quirks"] {
        for args in [
            &["show"][..],
            &["show", "-j"],
            &["show", "-j", "-v"],
            &["print", "schema"],
            &["print", "schema", "-f", "cypheresque"],
        ] {
            compare_cli(project, args);
        }
    }
}

/// Copies an example project into a temporary directory (paths are CWD-relative, so the copy runs alone).
fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn schema_with_additional_types_matches_python() {
    for project in ["airports", "features"] {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&root().join("examples").join(project), dir.path());
        let file = dir.path().join("nodestream.yaml");
        let text = std::fs::read_to_string(&file)
            .unwrap()
            .replace("include_additional_types: false\n", "");
        std::fs::write(&file, format!("{text}include_additional_types: true\n")).unwrap();
        for args in [
            &["print", "schema"][..],
            &["print", "schema", "-f", "cypheresque"],
        ] {
            let mut py = Command::new(venv().join("bin/nodestream"));
            py.args(args).current_dir(dir.path());
            let expected = output(py, "python print schema");
            let mut rs = Command::new(env!("CARGO_BIN_EXE_nodestream"));
            rs.args(args).current_dir(dir.path());
            assert_eq!(
                output(rs, "print schema"),
                expected,
                "{project} with include_additional_types: {args:?}"
            );
        }
    }
}

/// `migrations make` on the example projects writes files that Python Nodestream reads as the whole schema:
/// after ours, Python's own `migrations make --dry-run` on the same project finds nothing left to migrate.
#[test]
fn our_migrations_of_the_examples_are_complete_for_python() {
    for project in ["airports", "org-chart", "features", "quirks"] {
        let dir = tempfile::tempdir().unwrap();
        copy_dir(&root().join("examples").join(project), dir.path());
        let mut ours = Command::new(env!("CARGO_BIN_EXE_nodestream"));
        ours.args(["migrations", "make"])
            .current_dir(dir.path())
            .env("NEO4J_CONNECT_URI", "bolt://127.0.0.1:1");
        let out = output(ours, "our migrations make");
        assert!(out.contains("Migration written to"), "{project}: {out}");
        let mut py = Command::new(venv().join("bin/nodestream"));
        py.args(["migrations", "make", "--dry-run"])
            .current_dir(dir.path())
            .env("NEO4J_CONNECT_URI", "bolt://127.0.0.1:1");
        let out = output(py, "Python migrations make --dry-run");
        assert!(
            out.contains("No changes to migrate"),
            "{project}: Python still sees changes after our migration: {out}"
        );
    }
}

/// Runs the same arguments through Python and us; stdout, stderr and the exit code must match.
fn compare_cli_full(project: &str, args: &[&str]) {
    let dir: &Path = &root().join("examples").join(project);
    let run = |mut cmd: Command| {
        let out = cmd.args(args).current_dir(dir).output().expect("runs");
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).trim().to_string(),
            out.status.code(),
        )
    };
    let expected = run(Command::new(venv().join("bin/nodestream")));
    let actual = run(Command::new(env!("CARGO_BIN_EXE_nodestream")));
    assert_eq!(
        actual,
        expected,
        "{project}: `nodestream {}` differs from Python",
        args.join(" ")
    );
}

#[test]
fn audit_ttls_matches_python() {
    for project in ["airports", "org-chart", "features", "quirks"] {
        compare_cli_full(project, &["audit", "ttls"]);
    }
}

#[test]
fn explain_schema_matches_python() {
    let cases: &[(&str, &[&str])] = &[
        ("airports", &["explain", "schema", "node", "Airport"]),
        (
            "airports",
            &["explain", "schema", "relationship", "PLAYS_FOR"],
        ),
        (
            "airports",
            &[
                "explain",
                "schema",
                "--node",
                "Airport",
                "--relationship",
                "WITHIN",
            ],
        ),
        (
            "airports",
            &[
                "explain",
                "schema",
                "--node",
                "Team",
                "--relationship",
                "WITHIN",
            ],
        ),
        (
            "airports",
            &["explain", "schema", "--node", "Nope", "-s", "default"],
        ),
        ("airports", &["explain", "schema"]),
        ("airports", &["explain", "schema", "edge", "X"]),
        ("org-chart", &["explain", "schema", "node", "Employee"]),
        (
            "org-chart",
            &["explain", "schema", "--relationship", "HAS_SKILL"],
        ),
    ];
    for (project, args) in cases {
        compare_cli_full(project, args);
    }
}
