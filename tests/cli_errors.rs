//! Bad input gives one clear message naming the file, the line (or key) and what was expected, a non-zero
//! exit, and nothing written (nothing on stdout in a dry run).

use std::process::Command;

struct Outcome {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Writes `files` into a fresh directory and runs `nodestream args` there.
fn run_in(files: &[(&str, &str)], args: &[&str]) -> Outcome {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in files {
        let p = dir.path().join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    let out = Command::new(env!("CARGO_BIN_EXE_nodestream"))
        .args(args)
        .current_dir(dir.path())
        .output()
        .unwrap();
    Outcome {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn fails_with(o: &Outcome, needles: &[&str]) {
    assert_ne!(o.code, 0, "expected failure; stderr: {}", o.stderr);
    for n in needles {
        assert!(
            o.stderr.contains(n),
            "stderr should contain {n:?}:\n{}",
            o.stderr
        );
    }
}

const PROJECT: &str = "scopes:\n  default:\n    pipelines:\n      - pipelines/p.yaml\ntargets:\n  nothing: {database: \"null\"}\n";

fn pipeline(body: &str) -> Vec<(&'static str, String)> {
    vec![
        ("nodestream.yaml", PROJECT.to_string()),
        ("pipelines/p.yaml", body.to_string()),
    ]
}

fn run_pipeline(body: &str, extra: &[&str]) -> Outcome {
    let files = pipeline(body);
    let refs: Vec<(&str, &str)> = files.iter().map(|(n, t)| (*n, t.as_str())).collect();
    let mut args = vec!["run", "--dry-run"];
    args.extend_from_slice(extra);
    run_in(&refs, &args)
}

const EXTRACT: &str = "- implementation: nodestream.pipeline:IterableExtractor\n  arguments:\n    iterable: [{id: a, k: x}]\n";

#[test]
fn malformed_project_yaml_names_line_and_column() {
    let o = run_in(
        &[("nodestream.yaml", "scopes:\n  default: [a, b\n  other: 1\n")],
        &["run"],
    );
    fails_with(&o, &["nodestream.yaml:"]);
    let line: usize = o
        .stderr
        .split("nodestream.yaml:")
        .nth(1)
        .unwrap()
        .split(':')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((2..=4).contains(&line), "{}", o.stderr);
}

#[test]
fn missing_project_file() {
    let o = run_in(&[], &["run", "-p", "nope.yaml"]);
    fails_with(&o, &["nope.yaml", "does not exist"]);
}

#[test]
fn unknown_project_key_names_it() {
    let o = run_in(
        &[("nodestream.yaml", "scopes: {}\ntarget: {}\n")],
        &["show"],
    );
    fails_with(
        &o,
        &["nodestream.yaml:2:1", "unknown key `target`", "targets"],
    );
}

#[test]
fn missing_pipeline_file_names_the_path_and_line() {
    let o = run_in(
        &[(
            "nodestream.yaml",
            "scopes:\n  s:\n    pipelines:\n      - path: missing/p.yaml\n",
        )],
        &["run"],
    );
    fails_with(
        &o,
        &["nodestream.yaml:4:", "missing/p.yaml", "does not exist"],
    );
}

#[test]
fn unknown_target_is_an_error_naming_it() {
    let o = run_pipeline(EXTRACT, &["-t", "nope"]);
    fails_with(&o, &["Target nope not specified in the project."]);
    assert!(o.stdout.is_empty());
}

#[test]
fn unsupported_implementation_names_file_step_and_line() {
    let body = format!("{EXTRACT}- implementation: my_company.steps:Enricher\n  arguments: {{}}\n");
    let o = run_pipeline(&body, &[]);
    fails_with(
        &o,
        &[
            "pipelines/p.yaml:4:",
            "step 2",
            "my_company.steps:Enricher",
            "not supported",
        ],
    );
    assert!(o.stdout.is_empty());
}

#[test]
fn unknown_step_key() {
    let body =
        "- implementation: nodestream.pipeline:IterableExtractor\n  argument: {iterable: []}\n";
    let o = run_pipeline(body, &[]);
    fails_with(&o, &["pipelines/p.yaml:2:3", "unknown key `argument`"]);
}

#[test]
fn wrong_type_names_key_and_expectation() {
    let body = format!(
        "{EXTRACT}- implementation: nodestream.interpreting:Interpreter\n  arguments:\n    interpretations:\n      - type: source_node\n        node_type: A\n        key: {{id: !jmespath id}}\n        allow_create: maybe\n"
    );
    let o = run_pipeline(&body, &[]);
    fails_with(
        &o,
        &["pipelines/p.yaml:10:", "allow_create", "must be a boolean"],
    );
}

#[test]
fn jmespath_syntax_error() {
    let body = format!(
        "{EXTRACT}- implementation: nodestream.interpreting:Interpreter\n  arguments:\n    interpretations:\n      - type: source_node\n        node_type: A\n        key: {{id: !jmespath 'id[?'}}\n"
    );
    let o = run_pipeline(&body, &[]);
    fails_with(&o, &["pipelines/p.yaml:9:", "invalid JMESPath expression"]);
}

#[test]
fn regex_that_does_not_compile() {
    let body = format!(
        "{EXTRACT}- implementation: nodestream.interpreting:Interpreter\n  arguments:\n    interpretations:\n      - type: source_node\n        node_type: A\n        key:\n          id: !regex\n            regex: '(unclosed'\n            data: !jmespath id\n"
    );
    let o = run_pipeline(&body, &[]);
    fails_with(
        &o,
        &["pipelines/p.yaml:11:", "does not compile", "(unclosed"],
    );
}

#[test]
fn unknown_interpretation_type_and_flag() {
    let body = format!(
        "{EXTRACT}- implementation: nodestream.interpreting:Interpreter\n  arguments:\n    interpretations:\n      - type: source_nodes\n        node_type: A\n"
    );
    fails_with(
        &run_pipeline(&body, &[]),
        &[
            "pipelines/p.yaml:7:",
            "unknown interpretation type `source_nodes`",
        ],
    );
    let body = format!(
        "{EXTRACT}- implementation: nodestream.interpreting:Interpreter\n  arguments:\n    interpretations:\n      - type: source_node\n        node_type: A\n        key: {{id: x}}\n        key_normalization: {{do_shout: true}}\n"
    );
    fails_with(
        &run_pipeline(&body, &[]),
        &[
            "pipelines/p.yaml:",
            "Normalization flag with name 'do_shout' is not valid.",
        ],
    );
}

#[test]
fn unknown_tag_and_missing_include() {
    let body = format!(
        "{EXTRACT}- implementation: nodestream.interpreting:Interpreter\n  arguments:\n    interpretations: !include shared/missing.yaml\n"
    );
    fails_with(
        &run_pipeline(&body, &[]),
        &["pipelines/p.yaml:6:", "shared/missing.yaml"],
    );
    let body = format!(
        "{EXTRACT}- implementation: nodestream.interpreting:Interpreter\n  arguments:\n    interpretations:\n      - type: source_node\n        node_type: !static A\n        key: {{id: x}}\n"
    );
    fails_with(
        &run_pipeline(&body, &[]),
        &[
            "pipelines/p.yaml:8:",
            "ArgumentResolver '!static' is not registered",
        ],
    );
}

#[test]
fn runtime_error_is_fatal_and_names_pipeline() {
    let body = format!(
        "{EXTRACT}- implementation: nodestream.interpreting:Interpreter\n  arguments:\n    interpretations:\n      - type: switch\n        switch_on: !jmespath k\n        cases:\n          y: {{type: properties, properties: {{a: 1}}}}\n"
    );
    let o = run_pipeline(&body, &[]);
    fails_with(
        &o,
        &[
            "'x' was not matched in switch case",
            "pipeline 'p'",
            "pipelines/p.yaml",
        ],
    );
}

#[test]
fn a_bad_second_pipeline_stops_before_anything_runs() {
    let project = "scopes:\n  default:\n    pipelines:\n      - good.yaml\n      - bad.yaml\n";
    let good = format!(
        "{EXTRACT}- implementation: nodestream.interpreting:Interpreter\n  arguments:\n    interpretations:\n      - {{type: source_node, node_type: A, key: {{id: !jmespath id}}}}\n"
    );
    let o = run_in(
        &[
            ("nodestream.yaml", project),
            ("good.yaml", &good),
            ("bad.yaml", "- implementation: x:Y\n"),
        ],
        &["run", "--dry-run"],
    );
    fails_with(&o, &["bad.yaml:1:", "x:Y"]);
    assert!(
        !o.stdout.contains("\"source\""),
        "the good pipeline must not have run: {}",
        o.stdout
    );
}

#[test]
fn unknown_pipeline_name_gives_a_hint() {
    let body = format!(
        "{EXTRACT}- implementation: nodestream.interpreting:Interpreter\n  arguments:\n    interpretations:\n      - {{type: source_node, node_type: A, key: {{id: !jmespath id}}}}\n"
    );
    let o = run_pipeline(&body, &["q"]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    let all = format!("{}{}", o.stdout, o.stderr);
    assert!(
        all.contains("No pipeline with the name 'q' found in your project"),
        "{all}"
    );
    assert!(all.contains("HINT: Did you mean 'p'?"), "{all}");
}
