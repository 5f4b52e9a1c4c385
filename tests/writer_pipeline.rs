//! `nodestream run` into the real Neo4j, end to end through the built binary: generated airports and players
//! data (spec §8.1–§8.2), first_ingested_at, re-runs, Bolt 4.4 vs 5, `use_apoc: false`, and bad input.
//! Every test uses labels prefixed with its own name and cleans only those.

mod writer_support;

use writer_support::data::{
    airports_pipeline, players_pipeline, write_airports_csv, write_players_csv,
};
use writer_support::{Project, clean, count, cypher, password, text, uri};

fn airports_project(
    prefix: &str,
    rows: usize,
    target_extra: &str,
) -> (Project, writer_support::data::AirportsExpect) {
    let mut p = Project::new();
    let csv = p.path("airports.csv");
    let expect = write_airports_csv(&csv, rows).unwrap();
    p.pipeline("airports", &airports_pipeline(prefix, &csv));
    p.target("db", &uri(), &password(), target_extra);
    (p, expect)
}

fn assert_airports(prefix: &str, e: &writer_support::data::AirportsExpect) {
    let (ident, country, name, elevation, local) = &e.sample;
    // One helper process for every query (each costs a Python start otherwise).
    let r = cypher(&[
        &format!("MATCH (a:{prefix}Airport) RETURN count(a) AS c"),
        &format!("MATCH (a:{prefix}Country) RETURN count(a) AS c"),
        &format!("MATCH (a:{prefix}Region) RETURN count(a) AS c"),
        &format!("MATCH ()-[r:{prefix}WITHIN]->() RETURN count(r) AS c"),
        &format!(
            "MATCH (a:{prefix}Airport {{identifier: '{ident}'}})-[:{prefix}WITHIN]->(c:{prefix}Country) \
             RETURN c.code AS code, a.name AS name, a.elevation_in_feet AS el, a.local_code AS local, \
             a.iata_code AS iata, apoc.meta.cypher.type(a.last_ingested_at) AS t"
        ),
        // Every node and relationship carries a DateTime last_ingested_at and the pipeline's own properties.
        &format!(
            "MATCH (n) WHERE any(l IN labels(n) WHERE l STARTS WITH '{prefix}') \
             AND (apoc.meta.cypher.type(n.last_ingested_at) <> 'DATE_TIME' OR n.was_ingested_by_airports IS NULL \
             OR n.last_ingested_by_airports_at IS NULL) RETURN count(n) AS c"
        ),
        &format!(
            "MATCH ()-[r:{prefix}WITHIN]->() WHERE apoc.meta.cypher.type(r.last_ingested_at) <> 'DATE_TIME' \
             RETURN count(r) AS c"
        ),
    ]);
    let c = |i: usize| r[i][0]["c"].as_i64().unwrap_or(-1);
    assert_eq!(c(0), e.airports as i64, "airports");
    assert_eq!(c(1), e.countries as i64, "countries");
    assert_eq!(c(2), e.regions as i64, "regions");
    assert_eq!(c(3), e.within as i64, "WITHIN");
    assert_eq!(r[4].len(), 1, "{:?}", r[4]);
    let s = &r[4][0];
    assert_eq!(s["code"], country.as_str());
    assert_eq!(s["name"], name.as_str(), "properties are not normalized");
    assert_eq!(s["el"], elevation.as_str(), "CSV values stay strings");
    assert_eq!(s["local"], local.as_str(), "local_code keeps its case");
    assert_eq!(s["t"], "DATE_TIME");
    assert_eq!(
        c(5),
        0,
        "nodes without DateTime last_ingested_at or pipeline properties"
    );
    assert_eq!(c(6), 0, "relationships without DateTime last_ingested_at");
}

#[test]
fn airports_load_matches_the_generator() {
    let prefix = "WpAir";
    clean(prefix);
    // 2,500 rows = three flushes of the default batch_size: exercises the overlapped flushes.
    let (p, e) = airports_project(prefix, 2500, "");
    let out = p.run("airports", "db", &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_airports(prefix, &e);
    // The summary table reports what was sent, under Nodestream's metric names.
    let stdout = String::from_utf8_lossy(&out.stdout);
    let metric = |name: &str| {
        stdout
            .lines()
            .find(|l| l.split('|').nth(1).is_some_and(|c| c.trim() == name))
            .and_then(|l| l.split('|').nth(2))
            .and_then(|v| v.trim().parse::<u64>().ok())
    };
    assert_eq!(
        metric(&format!("nodes_upserted_by_type_{prefix}Airport")),
        Some(2500),
        "{stdout}"
    );
    assert_eq!(metric("neo4j_failed_batches"), Some(0), "{stdout}");
    clean(prefix);
}

#[test]
fn players_get_additional_labels_and_trimmed_case_kept_keys() {
    let prefix = "WpFifa";
    clean(prefix);
    let mut p = Project::new();
    let csv = p.path("players.csv");
    let e = write_players_csv(&csv, 300).unwrap();
    p.pipeline("fifa", &players_pipeline(prefix, &csv));
    p.target("db", &uri(), &password(), "");
    let out = p.run("fifa", "db", &[]);
    assert!(out.status.success(), "{}", text(&out));
    let c = |q: String| count(&q);
    assert_eq!(
        c(format!(
            "MATCH (p:{prefix}Player:{prefix}Person) RETURN count(p) AS c"
        )),
        e.players as i64
    );
    assert_eq!(
        c(format!("MATCH (p:{prefix}Team) RETURN count(p) AS c")),
        e.teams as i64
    );
    assert_eq!(
        c(format!("MATCH (p:{prefix}Position) RETURN count(p) AS c")),
        e.positions as i64
    );
    assert_eq!(
        c(format!(
            "MATCH (p:{prefix}PlaceOfOrigin) RETURN count(p) AS c"
        )),
        e.places as i64
    );
    for t in ["PLAYS_FOR", "ORIGINATES_FROM", "LINES_UP_AT"] {
        assert_eq!(
            c(format!("MATCH ()-[r:{prefix}{t}]->() RETURN count(r) AS c")),
            e.players as i64,
            "{t}"
        );
    }
    let (id, name, team) = &e.sample;
    let rows = cypher(&[&format!(
        "MATCH (p:{prefix}Player {{name: '{name}'}})-[:{prefix}PLAYS_FOR]->(t:{prefix}Team) RETURN t.name AS t, p.player_id AS id"
    )]);
    assert_eq!(rows[0].len(), 1);
    assert_eq!(rows[0][0]["t"], team.as_str());
    assert_eq!(rows[0][0]["id"], id.as_str());
    clean(prefix);
}

#[test]
fn first_ingested_at_is_set_on_every_node() {
    let prefix = "WpFirst";
    clean(prefix);
    let (p, e) = airports_project(
        prefix,
        300,
        "    _experimental_set_first_ingested_at: true\n",
    );
    let out = p.run("airports", "db", &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_airports(prefix, &e);
    let all = format!("MATCH (n) WHERE any(l IN labels(n) WHERE l STARTS WITH '{prefix}')");
    assert_eq!(
        count(&format!(
            "{all} AND n.first_ingested_at IS NOT NULL RETURN count(n) AS c"
        )),
        count(&format!("{all} RETURN count(n) AS c"))
    );
    assert_eq!(
        count(&format!(
            "MATCH ()-[r:{prefix}WITHIN]->() WHERE r.first_ingested_at IS NOT NULL RETURN count(r) AS c"
        )),
        e.within as i64
    );
    // A second run keeps first_ingested_at and moves last_ingested_at forward.
    let before = cypher(&[&format!(
        "{all} RETURN min(n.first_ingested_at) AS f, max(n.last_ingested_at) AS l"
    )]);
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let out = p.run("airports", "db", &[]);
    assert!(out.status.success(), "{}", text(&out));
    let after = cypher(&[&format!(
        "{all} RETURN min(n.first_ingested_at) AS f, min(n.last_ingested_at) AS l"
    )]);
    assert_eq!(before[0][0]["f"], after[0][0]["f"]);
    assert!(
        after[0][0]["l"].as_str().unwrap() > before[0][0]["l"].as_str().unwrap(),
        "{before:?} {after:?}"
    );
    assert_airports(prefix, &e);
    clean(prefix);
}

/// Node and relationship contents without the ingestion timestamps, sorted: what must be identical.
fn graph_dump(prefix: &str) -> Vec<String> {
    let rows = cypher(&[
        &format!(
            "MATCH (n) WHERE any(l IN labels(n) WHERE l STARTS WITH '{prefix}') \
             RETURN apoc.convert.toJson([apoc.coll.sort(labels(n)), apoc.map.removeKeys(properties(n), \
             ['last_ingested_at', 'last_ingested_by_airports_at'])]) AS j"
        ),
        &format!(
            "MATCH (a)-[r]->(b) WHERE type(r) STARTS WITH '{prefix}' \
             RETURN apoc.convert.toJson([a.identifier, type(r), b.code, apoc.map.removeKeys(properties(r), \
             ['last_ingested_at', 'last_ingested_by_airports_at'])]) AS j"
        ),
    ]);
    let mut out: Vec<String> = rows
        .iter()
        .flatten()
        .map(|r| r["j"].as_str().unwrap().to_string())
        .collect();
    out.sort();
    out
}

#[test]
fn bolt_44_plain_unwind_and_bolt_5_give_the_same_graph() {
    let mut dumps = Vec::new();
    let mut expected_len = 0;
    for (i, extra) in [
        "",
        "    max_bolt_version: \"4.4\"\n",
        "    use_apoc: false\n    chunk_size: 100\n",
    ]
    .iter()
    .enumerate()
    {
        let prefix = format!("WpSame{i}x");
        clean(&prefix);
        let (p, e) = airports_project(&prefix, 700, extra);
        let out = p.run("airports", "db", &[]);
        assert!(out.status.success(), "{extra}: {}", text(&out));
        assert_airports(&prefix, &e);
        expected_len = e.airports + e.countries + e.regions + e.within;
        // Same graph modulo the label prefix.
        dumps.push(
            graph_dump(&prefix)
                .into_iter()
                .map(|s| s.replace(&prefix, "P"))
                .collect::<Vec<_>>(),
        );
        clean(&prefix);
    }
    assert_eq!(dumps[0].len(), expected_len);
    assert_eq!(dumps[0], dumps[1], "Bolt 4.4 differs from Bolt 5");
    assert_eq!(dumps[0], dumps[2], "use_apoc: false differs from APOC");
}

#[test]
fn a_map_property_fails_the_run_and_names_the_shape_unless_lenient() {
    let prefix = "WpMap";
    clean(prefix);
    let mut p = Project::new();
    let csv = p.path("airports.csv");
    write_airports_csv(&csv, 50).unwrap();
    let pipeline = airports_pipeline(prefix, &csv).replace(
        "          local_code: !jmespath local_code\n",
        "          local_code: !jmespath local_code\n          nested: !jmespath \"{a: ident}\"\n",
    );
    p.pipeline("airports", &pipeline);
    p.target("db", &uri(), &password(), "");
    p.target(
        "lenient",
        &uri(),
        &password(),
        "    lenient_apoc_errors: true\n",
    );
    let out = p.run("airports", "db", &[]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(
        t.contains(&format!("{prefix}Airport")),
        "the failing shape is named: {t}"
    );
    assert!(
        !t.contains("password: password") && !t.contains(&format!("{}\"", password())),
        "{t}"
    );
    // The other shapes were still written; the refused nodes were not.
    assert_eq!(
        count(&format!("MATCH (a:{prefix}Airport) RETURN count(a) AS c")),
        0
    );
    assert!(count(&format!("MATCH (a:{prefix}Country) RETURN count(a) AS c")) > 0);
    let out = p.run("airports", "lenient", &[]);
    assert!(out.status.success(), "lenient: {}", text(&out));
    let out = p.run("airports", "db", &["--lenient-apoc-errors"]);
    assert!(
        out.status.success(),
        "--lenient-apoc-errors: {}",
        text(&out)
    );
    clean(prefix);
}

#[test]
fn labels_and_keys_from_data_with_backticks_and_spaces_are_escaped() {
    let prefix = "WpOdd";
    clean(prefix);
    let mut p = Project::new();
    let csv = p.path("odd.csv");
    std::fs::write(
        &csv,
        "label,id,rel\n\"x `y` z\",1,\"has `it`\"\nplain,2,has `it`\n",
    )
    .unwrap();
    p.pipeline(
        "odd",
        &format!(
            r#"- implementation: nodestream.pipeline.extractors:FileExtractor
  factory: local
  arguments:
    globs: ["{csv}"]
- implementation: nodestream.interpreting:Interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: !jmespath "join('', ['{prefix} ', label])"
        key:
          "my key-1": !jmespath id
        properties:
          "weird `prop`": !jmespath label
      - type: relationship
        node_type: {prefix}Target
        relationship_type: !jmespath "join('', ['{prefix} ', rel])"
        node_key:
          id: !jmespath id
"#,
            csv = csv.display()
        ),
    );
    p.target("db", &uri(), &password(), "");
    let out = p.run("odd", "db", &[]);
    assert!(out.status.success(), "{}", text(&out));
    let rows = cypher(&[&format!(
        "MATCH (n:`{prefix} x ``y`` z`)-[r:`{prefix} has ``it```]->(t:{prefix}Target) \
         RETURN n.`my key-1` AS k, n.`weird ``prop``` AS w, t.id AS t"
    )]);
    assert_eq!(rows[0].len(), 1, "{rows:?}");
    assert_eq!(rows[0][0]["k"], "1");
    assert_eq!(rows[0][0]["w"], "x `y` z");
    cypher(&[&format!(
        "MATCH (n) WHERE any(l IN labels(n) WHERE l STARTS WITH '{prefix} ') DETACH DELETE n"
    )]);
    clean(prefix);
}

#[test]
fn wrong_password_and_unreachable_server_fail_clearly() {
    let prefix = "WpBad";
    let mut p = Project::new();
    let csv = p.path("airports.csv");
    write_airports_csv(&csv, 5).unwrap();
    p.pipeline("airports", &airports_pipeline(prefix, &csv));
    p.target("badpw", &uri(), "not-the-Secret-42", "");
    p.target(
        "nowhere",
        "bolt://127.0.0.1:1",
        &password(),
        "    max_retry_attempts: 1\n    connection_timeout: 2\n",
    );
    let out = p.run("airports", "badpw", &[]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.to_lowercase().contains("auth"), "{t}");
    assert!(!t.contains("not-the-Secret-42"), "the password leaked: {t}");
    let started = std::time::Instant::now();
    let out = p.run("airports", "nowhere", &[]);
    let t = text(&out);
    assert!(!out.status.success(), "{t}");
    assert!(t.contains("127.0.0.1:1"), "{t}");
    assert!(started.elapsed() < std::time::Duration::from_secs(60));
    assert_eq!(
        count(&format!("MATCH (a:{prefix}Airport) RETURN count(a) AS c")),
        0
    );
}
