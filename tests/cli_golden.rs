//! Golden tests: the built binary's `--dry-run` JSON lines, `show` and `print schema` output for every example
//! project, compared with the files under `examples/<project>/expected/`.
//! Regenerate after an intended change with `NODESTREAM_BLESS=1 cargo test --test cli_golden`.

use std::path::{Path, PathBuf};
use std::process::Command;

const FIXED_NOW: &str = "2024-01-01T00:00:00Z";

fn example(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples")
        .join(name)
}

fn run(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_nodestream"))
        .args(args)
        .current_dir(dir)
        .env("NODESTREAM_FIXED_NOW", FIXED_NOW)
        .env_remove("NEO4J_CONNECT_URI")
        .output()
        .expect("the nodestream binary runs");
    assert!(
        out.status.success(),
        "nodestream {args:?} in {} failed: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

fn check(project: &str, golden: &str, args: &[&str]) {
    let dir = example(project);
    let actual = run(&dir, args);
    let path = dir.join("expected").join(golden);
    if std::env::var_os("NODESTREAM_BLESS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, &actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with NODESTREAM_BLESS=1 to create it)",
            path.display()
        )
    });
    if actual != expected {
        // Show the first differing line, which is far easier to read than two whole files.
        let (i, (a, e)) = actual
            .lines()
            .zip(expected.lines())
            .enumerate()
            .find(|(_, (a, e))| a != e)
            .unwrap_or((
                actual.lines().count().min(expected.lines().count()),
                ("<end>", "<end>"),
            ));
        panic!(
            "{project}: `nodestream {}` differs from {} at line {}:\n  got:      {a}\n  expected: {e}",
            args.join(" "),
            path.display(),
            i + 1
        );
    }
}

fn dry_run(project: &str, pipeline: &str) {
    check(
        project,
        &format!("{pipeline}.jsonl"),
        &["run", pipeline, "--dry-run"],
    );
}

#[test]
fn airports_dry_run() {
    dry_run("airports", "airports");
}

#[test]
fn fifa_dry_run() {
    dry_run("airports", "fifa");
}

#[test]
fn ttl_dry_runs() {
    dry_run("airports", "node-ttls");
    dry_run("airports", "relationship-ttls");
}

#[test]
fn org_chart_dry_run() {
    dry_run("org-chart", "org-chart");
}

#[test]
fn features_dry_runs() {
    for p in ["catalog", "events", "numbers", "logs", "people"] {
        dry_run("features", p);
    }
}

#[test]
fn quirks_dry_runs() {
    for p in ["csv-edges", "providers", "shapes", "jmespath"] {
        dry_run("quirks", p);
    }
}

#[test]
fn annotations_select_steps() {
    // Without -a the annotated filter loads (only 0 passes); with another annotation it does not.
    check(
        "features",
        "numbers-annotated.jsonl",
        &["run", "numbers", "--dry-run", "-a", "other"],
    );
    let all = run(
        &example("features"),
        &["run", "numbers", "--dry-run", "-a", "other"],
    );
    assert_eq!(all.lines().count(), 3);
    let filtered = run(
        &example("features"),
        &["run", "numbers", "--dry-run", "-a", "only-zero"],
    );
    assert_eq!(filtered.lines().count(), 1);
}

#[test]
fn show_and_schema() {
    for project in ["airports", "org-chart", "features", "quirks"] {
        check(project, "show.txt", &["show"]);
        check(project, "show.json", &["show", "--json"]);
        check(project, "schema-plain.txt", &["print", "schema"]);
        check(
            project,
            "schema-cypheresque.txt",
            &["print", "schema", "--format", "cypheresque"],
        );
    }
}

#[test]
fn null_target_runs_every_pipeline() {
    // No --dry-run: the `nowhere` target is `database: null`, so nothing is written and stdout has the summary.
    let out = run(
        &example("airports"),
        &["run", "airports", "fifa", "-t", "nowhere"],
    );
    assert!(
        out.contains("Finished running pipeline: 'airports'"),
        "{out}"
    );
    assert!(out.contains("Finished running pipeline: 'fifa'"), "{out}");
    assert!(out.contains("| records            | 20 "), "{out}");
}

#[test]
fn json_mode_logs_progress_on_stderr() {
    let out = Command::new(env!("CARGO_BIN_EXE_nodestream"))
        .args(["run", "airports", "-t", "nowhere", "--json", "-r", "10"])
        .current_dir(example("airports"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<serde_json::Value> = String::from_utf8_lossy(&out.stderr)
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    let messages: Vec<&str> = lines.iter().filter_map(|l| l["message"].as_str()).collect();
    assert_eq!(
        messages,
        [
            "Loading Pipeline",
            "Starting Pipeline",
            "Processing Record",
            "Metrics Report",
            "Processing Record",
            "Metrics Report",
            "Pipeline Completed",
            "Metrics Report"
        ]
    );
    let indexes: Vec<u64> = lines.iter().filter_map(|l| l["index"].as_u64()).collect();
    assert_eq!(indexes, [0, 10]);
    // Each report drains the record count (as Python's metrics do); the last line also has the total.
    let counts: Vec<u64> = lines.iter().filter_map(|l| l["records"].as_u64()).collect();
    assert_eq!(counts, [0, 10, 10]);
    assert_eq!(lines.last().unwrap()["records_total"], 20);
    assert!(
        lines
            .iter()
            .all(|l| l["pipeline_name"] == "airports" && l["pipeline_scope"] == "default")
    );
}
