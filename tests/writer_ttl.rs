//! TTL configurations (spec §8.3) and the Neo4jExtractor (spec §8.4) through the built binary.

mod writer_support;

use writer_support::{Project, clean, count, cypher, password, text, uri};

/// 30 A + 30 B nodes aged 60/36/12 h by tens, with CONNECTED_TO and ADJACENT_TO aged the other way round.
fn setup(p: &str) {
    clean(p);
    cypher(&[&format!(
        "UNWIND range(0, 29) AS i \
         WITH i, datetime() - duration({{hours: CASE WHEN i < 10 THEN 60 WHEN i < 20 THEN 36 ELSE 12 END}}) AS nt, \
              datetime() - duration({{hours: CASE WHEN i < 10 THEN 12 WHEN i < 20 THEN 36 ELSE 60 END}}) AS rt \
         CREATE (a:{p}ObjectA {{identifier: toString(i), last_ingested_at: nt}}), \
                (b:{p}ObjectB {{identifier: toString(i), last_ingested_at: nt}}), \
                (a)-[:{p}CONNECTED_TO {{last_ingested_at: rt}}]->(b), (a)-[:{p}ADJACENT_TO {{last_ingested_at: rt}}]->(b)"
    )]);
}

fn ttl_pipeline(kind: &str, a: &str, a_hours: u32, b: &str, b_hours: u32) -> String {
    format!(
        r#"- implementation: nodestream.pipeline.extractors:TimeToLiveConfigurationExtractor
  arguments:
    graph_object_type: {kind}
    configurations:
      - object_type: {a}
        expiry_in_hours: {a_hours}
      - object_type: {b}
        expiry_in_hours: {b_hours}
"#
    )
}

#[test]
fn ttls_delete_relationships_then_nodes_by_age() {
    let p = "WtTtl";
    setup(p);
    let mut proj = Project::new();
    proj.pipeline(
        "relationship-ttls",
        &ttl_pipeline(
            "RELATIONSHIP",
            &format!("{p}CONNECTED_TO"),
            48,
            &format!("{p}ADJACENT_TO"),
            24,
        ),
    );
    proj.pipeline(
        "node-ttls",
        &ttl_pipeline(
            "NODE",
            &format!("{p}ObjectA"),
            48,
            &format!("{p}ObjectB"),
            24,
        ),
    );
    proj.target("db", &uri(), &password(), "");
    let out = proj.run("relationship-ttls", "db", &[]);
    assert!(out.status.success(), "{}", text(&out));
    let c = |q: String| count(&q);
    assert_eq!(c(format!("MATCH (n:{p}ObjectA) RETURN count(n) AS c")), 30);
    assert_eq!(c(format!("MATCH (n:{p}ObjectB) RETURN count(n) AS c")), 30);
    assert_eq!(
        c(format!(
            "MATCH ()-[r:{p}CONNECTED_TO]->() RETURN count(r) AS c"
        )),
        20
    );
    assert_eq!(
        c(format!(
            "MATCH ()-[r:{p}ADJACENT_TO]->() RETURN count(r) AS c"
        )),
        10
    );
    let out = proj.run("node-ttls", "db", &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(c(format!("MATCH (n:{p}ObjectA) RETURN count(n) AS c")), 20);
    assert_eq!(c(format!("MATCH (n:{p}ObjectB) RETURN count(n) AS c")), 10);
    clean(p);
}

#[test]
fn neo4j_extractor_pages_through_a_query() {
    let p = "WtExt";
    setup(p);
    let mut proj = Project::new();
    proj.pipeline(
        "extractor_integration",
        &format!(
            r#"- implementation: nodestream_plugin_neo4j.extractor:Neo4jExtractor
  arguments:
    query: MATCH (a:{p}ObjectA) RETURN a.identifier as identifier ORDER BY identifier SKIP $offset LIMIT $limit
    limit: 7
    uri: {uri}
    username: neo4j
    password: {pw}
- implementation: nodestream.interpreting:Interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: {p}NewObject
        key:
          identifier: !jmespath identifier
"#,
            uri = uri(),
            pw = password()
        ),
    );
    proj.target("db", &uri(), &password(), "");
    let out = proj.run("extractor_integration", "db", &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(
        count(&format!("MATCH (n:{p}NewObject) RETURN count(n) AS c")),
        30
    );
    clean(p);
}
