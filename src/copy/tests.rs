//! Unit tests of copy's wiring: the destination's keys, the shard plan's order, and the command line's retriever
//! options (the end-to-end behaviour is in tests/copy_e2e.rs).

use super::cli::{CopyArgs, retriever_options};
use super::options::RetrieverOptions;
use super::reader::{Histogram, Kind};
use super::schema::CopySchema;
use super::{TargetSpec, WriterSettings, plan_types, writer_options};
use clap::Parser;
use serde_json::json;

#[test]
fn connector_options_and_flush_concurrency_reach_the_writer_options() {
    let to = TargetSpec {
        name: "dst".into(),
        options:
            json!({"uri": "bolt://h:7687", "username": "u", "password": "p", "chunk_size": 10})
                .as_object()
                .unwrap()
                .clone(),
    };
    let overrides = json!({"chunk_size": 50, "use_apoc": false, "database_name": "other"})
        .as_object()
        .unwrap()
        .clone();
    let opts = writer_options(
        &to,
        &overrides,
        WriterSettings {
            batch_size: 7,
            flush_concurrency: 3,
        },
    )
    .unwrap();
    // Overrides applied, flush_concurrency typed, the target's other keys kept.
    assert_eq!(opts.flush_concurrency, 3);
    assert_eq!(opts.uri, "bolt://h:7687");
    assert!(!opts.use_apoc);
    assert_eq!(opts.database_name, "other");
    assert_eq!(opts.chunk_size, 50);
    assert!(
        opts.warnings
            .iter()
            .all(|w| !w.contains("flush_concurrency")),
        "{:?}",
        opts.warnings
    );
}

fn schema() -> (CopySchema, Histogram) {
    let mut s = CopySchema::default();
    s.add_node("Person", &["id"])
        .add_node("Company", &["id"])
        .add_node("Keyless", &[])
        .add_relationship("WORKS_AT", &[])
        .add_relationship("EMPTY", &[])
        .add_adjacency("Person", "WORKS_AT", "Company")
        .add_adjacency("Person", "EMPTY", "Company");
    let h = Histogram {
        nodes: [("Person", 3), ("Company", 0), ("Keyless", 5)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
        relationships: [("WORKS_AT", 4), ("EMPTY", 0)]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect(),
    };
    (s, h)
}

fn names(groups: &[Vec<std::sync::Arc<super::reader::TypeJob>>]) -> Vec<Vec<String>> {
    groups
        .iter()
        .map(|g| g.iter().map(|j| j.name.clone()).collect())
        .collect()
}

#[test]
fn shards_are_planned_relationships_first_unless_preloading_nodes() {
    let (s, h) = schema();
    let o = RetrieverOptions::default();
    let (all, groups) = plan_types(&s, &h, &o);
    // Empty types are not read; keyless node types cannot be copied.
    assert_eq!(names(&groups), [vec!["WORKS_AT"], vec!["Person"]]);
    assert_eq!(all.len(), 2);
    assert!(all.iter().enumerate().all(|(i, j)| j.index == i));
    assert_eq!(all[0].kind, Kind::Relationship);

    let o = RetrieverOptions {
        preload_nodes: true,
        ..RetrieverOptions::default()
    };
    assert_eq!(
        names(&plan_types(&s, &h, &o).1),
        [vec!["Person"], vec!["WORKS_AT"]]
    );
    let o = RetrieverOptions {
        relationships_only: true,
        preload_nodes: true,
        ..RetrieverOptions::default()
    };
    assert_eq!(names(&plan_types(&s, &h, &o).1), [vec!["WORKS_AT"]]);
}

#[derive(Parser)]
struct Cmd {
    #[command(flatten)]
    args: CopyArgs,
}

fn parse(argv: &[&str]) -> CopyArgs {
    Cmd::try_parse_from(std::iter::once("copy").chain(argv.iter().copied()))
        .unwrap()
        .args
}

#[test]
fn command_line_defaults_and_retriever_precedence() {
    let a = parse(&[]);
    assert_eq!(
        (
            a.concurrency_limit,
            a.batch_size,
            a.step_outbox_size,
            a.flush_concurrency
        ),
        (1, 1000, 10_000, 1)
    );
    let (r, _) = retriever_options(&a).unwrap();
    assert_eq!(r, RetrieverOptions::default());

    let a = parse(&["--shard-size", "50", "--preload-nodes", "-c", "4"]);
    assert_eq!(a.concurrency_limit, 4);
    let (r, overrides) = retriever_options(&a).unwrap();
    assert_eq!((r.shard_size, r.preload_nodes), (50, true));
    assert_eq!(
        serde_json::Value::Object(overrides),
        json!({"preload_nodes": true, "shard_size": 50})
    );

    // --retriever-option wins over the flags.
    let a = parse(&[
        "--shard-size",
        "50",
        "--preload-nodes",
        "--retriever-option",
        "shard_size=7",
        "--retriever-option",
        "preload_nodes=false",
    ]);
    let (r, _) = retriever_options(&a).unwrap();
    assert_eq!((r.shard_size, r.preload_nodes), (7, false));

    let a = parse(&["--retriever-option", "limit=3"]);
    let e = retriever_options(&a).unwrap_err().to_string();
    assert!(e.contains("unknown retriever option(s) 'limit'"), "{e}");
}
