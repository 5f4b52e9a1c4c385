//! Statements, executor and migrator against a recorder.

use super::executor::*;
use super::migrator::*;
use super::statements::*;
use crate::migrations::graph::{Migration, MigrationGraph};
use crate::migrations::operation::{Literal, NameSet, Operation};
use std::cell::RefCell;
use std::time::Duration;

/// Records statements; answers SHOW CONSTRAINTS with `keys` and SHOW INDEXES with `indexed`.
#[derive(Default)]
struct Recorder {
    log: RefCell<Vec<Statement>>,
    keys: Vec<&'static str>,
    indexed: Vec<&'static str>,
    fail_on: Option<&'static str>,
    lock_taken: RefCell<bool>,
    /// Answer like Neo4j 4.4, which has no `owningConstraint` column.
    neo4j_4_4: bool,
}

fn list(items: &[&str]) -> bolt::Value {
    bolt::Value::List(
        items
            .iter()
            .map(|s| bolt::Value::String(s.to_string()))
            .collect(),
    )
}

impl Cypher for Recorder {
    async fn run(&self, s: Statement) -> Result<Vec<Vec<bolt::Value>>, CypherError> {
        self.log.borrow_mut().push(s.clone());
        if self.neo4j_4_4 && s.text == INDEXED_PROPERTIES {
            return Err(CypherError::new(
                Some("Neo.ClientError.Statement.SyntaxError".into()),
                "Variable `owningConstraint` not defined",
            ));
        }
        if self.fail_on.is_some_and(|f| s.text.contains(f)) {
            return Err(CypherError::new(
                Some("Neo.ClientError.Statement.SyntaxError".into()),
                "boom",
            ));
        }
        if s.text.starts_with("CREATE (l:__NodestreamMigrationLock__") {
            let mut taken = self.lock_taken.borrow_mut();
            if *taken {
                return Err(CypherError::new(
                    Some("Neo.ClientError.Schema.ConstraintValidationFailed".into()),
                    "exists",
                ));
            }
            *taken = true;
        }
        if s.text.starts_with("MATCH (l:__NodestreamMigrationLock__") {
            *self.lock_taken.borrow_mut() = false;
        }
        Ok(if s.text.starts_with("SHOW CONSTRAINTS") {
            if self.keys.is_empty() {
                vec![]
            } else {
                vec![vec![list(&self.keys)]]
            }
        } else if s.text.starts_with("SHOW INDEXES") {
            self.indexed.iter().map(|i| vec![list(&[i])]).collect()
        } else {
            vec![]
        })
    }
}

fn texts(r: &Recorder) -> Vec<String> {
    r.log.borrow().iter().map(|s| s.text.clone()).collect()
}

fn block_on<F: Future>(f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f)
}

fn set(items: &[&str]) -> NameSet {
    items.iter().map(|s| s.to_string()).collect()
}

const ENTERPRISE: Options = Options {
    use_enterprise_features: true,
    transaction_batch_size: 10_000,
};

#[test]
fn create_node_type_uses_sorted_keys_and_the_constraint_kind() {
    let r = Recorder::default();
    let op = Operation::CreateNodeType {
        name: "TestNode".into(),
        keys: set(&["b", "a"]),
        properties: set(&["name"]),
    };
    block_on(Executor::new(&r, ENTERPRISE).execute(&op)).unwrap();
    block_on(Executor::new(&r, Options::default()).execute(&op)).unwrap();
    assert_eq!(
        texts(&r),
        [
            "CREATE CONSTRAINT TestNode_node_key IF NOT EXISTS FOR (n:`TestNode`) REQUIRE (n.`a`,n.`b`) IS NODE KEY",
            "CREATE CONSTRAINT TestNode_node_key IF NOT EXISTS FOR (n:`TestNode`) REQUIRE (n.`a`,n.`b`) IS UNIQUE",
        ]
    );
}

#[test]
fn odd_names_are_escaped() {
    let r = Recorder::default();
    let op = Operation::CreateNodeType {
        name: "My`Label x".into(),
        keys: set(&["k`"]),
        properties: set(&[]),
    };
    block_on(Executor::new(&r, Options::default()).execute(&op)).unwrap();
    assert_eq!(
        texts(&r),
        [
            "CREATE CONSTRAINT `My``Label x_node_key` IF NOT EXISTS FOR (n:`My``Label x`) REQUIRE (n.`k```) IS UNIQUE"
        ]
    );
}

#[test]
fn rename_node_type_in_enterprise_mode_moves_constraint_and_indexes() {
    let r = Recorder {
        keys: vec!["id"],
        indexed: vec!["name"],
        ..Default::default()
    };
    let op = Operation::RenameNodeType {
        old_type: "TestNode".into(),
        new_type: "RenamedTestNode".into(),
    };
    block_on(Executor::new(&r, ENTERPRISE).execute(&op)).unwrap();
    assert_eq!(
        texts(&r),
        [
            CONSTRAINT_PROPERTIES,
            "DROP CONSTRAINT TestNode_node_key IF EXISTS",
            INDEXED_PROPERTIES,
            "DROP INDEX TestNode_name_additional_index IF EXISTS",
            "MATCH (n:`TestNode`) CALL { WITH n SET n:`RenamedTestNode` REMOVE n:`TestNode` } IN TRANSACTIONS OF 10000 ROWS",
            "CREATE CONSTRAINT RenamedTestNode_node_key IF NOT EXISTS FOR (n:`RenamedTestNode`) REQUIRE (n.`id`) IS NODE KEY",
            "CREATE INDEX RenamedTestNode_name_additional_index IF NOT EXISTS FOR (n:`RenamedTestNode`) ON (n.`name`)",
        ]
    );
    let log = r.log.borrow();
    assert!(log[4].auto_commit && !log[5].auto_commit);
    assert_eq!(
        log[0].params,
        vec![(
            "constraint_name",
            bolt::Value::String("TestNode_node_key".into())
        )]
    );
}

#[test]
fn key_operations_in_enterprise_mode() {
    let r = Recorder {
        keys: vec!["id"],
        ..Default::default()
    };
    let ext = Operation::NodeKeyExtended {
        node_type: "TestNode".into(),
        added_key_property: "name".into(),
        default: Literal::Null,
    };
    block_on(Executor::new(&r, ENTERPRISE).execute(&ext)).unwrap();
    let log = r.log.borrow().clone();
    assert_eq!(log[1].text, "DROP CONSTRAINT TestNode_node_key IF EXISTS");
    assert_eq!(
        log[2].text,
        "MATCH (n:`TestNode`) WHERE n.`name` IS NULL WITH n, $value AS value CALL { WITH n, value SET n.`name` = coalesce(n.`name`, value) } IN TRANSACTIONS OF 10000 ROWS"
    );
    assert_eq!(
        log[2].params,
        vec![("value", bolt::Value::String("null".into()))]
    );
    assert_eq!(
        log[3].text,
        "CREATE CONSTRAINT TestNode_node_key IF NOT EXISTS FOR (n:`TestNode`) REQUIRE (n.`id`,n.`name`) IS NODE KEY"
    );

    let r = Recorder {
        keys: vec!["id"],
        ..Default::default()
    };
    let ren = Operation::NodeKeyPartRenamed {
        node_type: "TestNode".into(),
        old_key_part_name: "id".into(),
        new_key_part_name: "new_id".into(),
    };
    block_on(Executor::new(&r, ENTERPRISE).execute(&ren)).unwrap();
    assert_eq!(
        texts(&r)[1..],
        [
            "DROP CONSTRAINT TestNode_node_key IF EXISTS",
            "MATCH (n:`TestNode`) CALL { WITH n SET n.`new_id` = n.`id` REMOVE n.`id` } IN TRANSACTIONS OF 10000 ROWS",
            "CREATE CONSTRAINT TestNode_node_key IF NOT EXISTS FOR (n:`TestNode`) REQUIRE (n.`new_id`) IS NODE KEY",
        ]
    );
    // An old key part that is not in the constraint: nothing after the lookup.
    let r = Recorder {
        keys: vec!["other"],
        ..Default::default()
    };
    block_on(Executor::new(&r, ENTERPRISE).execute(&ren)).unwrap();
    assert_eq!(texts(&r), [CONSTRAINT_PROPERTIES]);
}

#[test]
fn relationship_operations_statements() {
    let r = Recorder {
        indexed: vec!["weight"],
        ..Default::default()
    };
    let exec = Executor::new(
        &r,
        Options {
            use_enterprise_features: true,
            transaction_batch_size: 500,
        },
    );
    block_on(async {
        exec.execute(&Operation::RenameRelationshipType {
            old_type: "R".into(),
            new_type: "S".into(),
        })
        .await
        .unwrap();
        exec.execute(&Operation::DropRelationshipType { name: "S".into() })
            .await
            .unwrap();
        exec.execute(&Operation::AddRelationshipProperty {
            relationship_type: "S".into(),
            property_name: "w".into(),
            default: Literal::Int(12),
        })
        .await
        .unwrap();
    });
    assert_eq!(
        texts(&r),
        [
            INDEXED_PROPERTIES,
            "DROP INDEX R_weight_additional_index IF EXISTS",
            "MATCH (n)-[r:`R`]->(m) CALL { WITH n, r, m CREATE (n)-[r2:`S`]->(m) SET r2 += properties(r) DELETE r } IN TRANSACTIONS OF 500 ROWS",
            "CREATE INDEX S_weight_additional_index IF NOT EXISTS FOR ()-[r:`S`]-() ON (r.`weight`)",
            INDEXED_PROPERTIES,
            "DROP INDEX S_weight_additional_index IF EXISTS",
            "MATCH ()-[r:`S`]->() CALL { WITH r DELETE r } IN TRANSACTIONS OF 500 ROWS",
            "MATCH ()-[r:`S`]->() WHERE r.`w` IS NULL WITH r, $value AS value CALL { WITH r, value SET r.`w` = coalesce(r.`w`, value) } IN TRANSACTIONS OF 500 ROWS",
        ]
    );
}

/// Every operation of spec §6.2 with `use_enterprise_features: true`, as sent (the plugin's strings).
#[test]
fn all_twenty_operations_in_enterprise_mode() {
    use crate::migrations::operation::Operation::*;
    let st = |v: &str| v.to_string();
    let cases: Vec<(Operation, Vec<&str>)> = vec![
        (
            CreateNodeType {
                name: st("T"),
                keys: set(&["id"]),
                properties: set(&["name"]),
            },
            vec![
                "CREATE CONSTRAINT T_node_key IF NOT EXISTS FOR (n:`T`) REQUIRE (n.`id`) IS NODE KEY",
            ],
        ),
        (
            CreateRelationshipType {
                name: st("R"),
                keys: set(&["id"]),
                properties: set(&[]),
            },
            vec![],
        ),
        (
            DropNodeType { name: st("T") },
            vec![
                "DROP CONSTRAINT T_node_key IF EXISTS",
                INDEXED_PROPERTIES,
                "DROP INDEX T_name_additional_index IF EXISTS",
                "MATCH (n:`T`) CALL { WITH n DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS",
            ],
        ),
        (
            DropRelationshipType { name: st("R") },
            vec![
                INDEXED_PROPERTIES,
                "DROP INDEX R_name_additional_index IF EXISTS",
                "MATCH ()-[r:`R`]->() CALL { WITH r DELETE r } IN TRANSACTIONS OF 10000 ROWS",
            ],
        ),
        (
            RenameNodeProperty {
                node_type: st("T"),
                old_property_name: st("a"),
                new_property_name: st("b"),
            },
            vec![
                "MATCH (n:`T`) CALL { WITH n SET n.`b` = n.`a` REMOVE n.`a` } IN TRANSACTIONS OF 10000 ROWS",
            ],
        ),
        (
            RenameRelationshipProperty {
                relationship_type: st("R"),
                old_property_name: st("a"),
                new_property_name: st("b"),
            },
            vec![
                "MATCH ()-[r:`R`]->() CALL { WITH r SET r.`b` = r.`a` REMOVE r.`a` } IN TRANSACTIONS OF 10000 ROWS",
            ],
        ),
        (
            RenameNodeType {
                old_type: st("T"),
                new_type: st("U"),
            },
            vec![
                CONSTRAINT_PROPERTIES,
                "DROP CONSTRAINT T_node_key IF EXISTS",
                INDEXED_PROPERTIES,
                "DROP INDEX T_name_additional_index IF EXISTS",
                "MATCH (n:`T`) CALL { WITH n SET n:`U` REMOVE n:`T` } IN TRANSACTIONS OF 10000 ROWS",
                "CREATE CONSTRAINT U_node_key IF NOT EXISTS FOR (n:`U`) REQUIRE (n.`id`) IS NODE KEY",
                "CREATE INDEX U_name_additional_index IF NOT EXISTS FOR (n:`U`) ON (n.`name`)",
            ],
        ),
        (
            RenameRelationshipType {
                old_type: st("R"),
                new_type: st("S"),
            },
            vec![
                INDEXED_PROPERTIES,
                "DROP INDEX R_name_additional_index IF EXISTS",
                "MATCH (n)-[r:`R`]->(m) CALL { WITH n, r, m CREATE (n)-[r2:`S`]->(m) SET r2 += properties(r) DELETE r } IN TRANSACTIONS OF 10000 ROWS",
                "CREATE INDEX S_name_additional_index IF NOT EXISTS FOR ()-[r:`S`]-() ON (r.`name`)",
            ],
        ),
        (
            AddAdditionalNodePropertyIndex {
                node_type: st("T"),
                field_name: st("f"),
            },
            vec!["CREATE INDEX T_f_additional_index IF NOT EXISTS FOR (n:`T`) ON (n.`f`)"],
        ),
        (
            DropAdditionalNodePropertyIndex {
                node_type: st("T"),
                field_name: st("f"),
            },
            vec!["DROP INDEX T_f_additional_index IF EXISTS"],
        ),
        (
            AddAdditionalRelationshipPropertyIndex {
                relationship_type: st("R"),
                field_name: st("f"),
            },
            vec!["CREATE INDEX R_f_additional_index IF NOT EXISTS FOR ()-[r:`R`]-() ON (r.`f`)"],
        ),
        (
            DropAdditionalRelationshipPropertyIndex {
                relationship_type: st("R"),
                field_name: st("f"),
            },
            vec!["DROP INDEX R_f_additional_index IF EXISTS"],
        ),
        (
            AddNodeProperty {
                node_type: st("T"),
                property_name: st("p"),
                default: Literal::Int(4),
            },
            vec![
                "MATCH (n:`T`) WHERE n.`p` IS NULL WITH n, $value AS value CALL { WITH n, value SET n.`p` = coalesce(n.`p`, value) } IN TRANSACTIONS OF 10000 ROWS",
            ],
        ),
        (
            AddRelationshipProperty {
                relationship_type: st("R"),
                property_name: st("p"),
                default: Literal::Int(4),
            },
            vec![
                "MATCH ()-[r:`R`]->() WHERE r.`p` IS NULL WITH r, $value AS value CALL { WITH r, value SET r.`p` = coalesce(r.`p`, value) } IN TRANSACTIONS OF 10000 ROWS",
            ],
        ),
        (
            DropNodeProperty {
                node_type: st("T"),
                property_name: st("p"),
            },
            vec!["MATCH (n:`T`) CALL { WITH n REMOVE n.`p` } IN TRANSACTIONS OF 10000 ROWS"],
        ),
        (
            DropRelationshipProperty {
                relationship_type: st("R"),
                property_name: st("p"),
            },
            vec!["MATCH ()-[r:`R`]->() CALL { WITH r REMOVE r.`p` } IN TRANSACTIONS OF 10000 ROWS"],
        ),
        (
            NodeKeyExtended {
                node_type: st("T"),
                added_key_property: st("k"),
                default: Literal::Str(st("bob")),
            },
            vec![
                CONSTRAINT_PROPERTIES,
                "DROP CONSTRAINT T_node_key IF EXISTS",
                "MATCH (n:`T`) WHERE n.`k` IS NULL WITH n, $value AS value CALL { WITH n, value SET n.`k` = coalesce(n.`k`, value) } IN TRANSACTIONS OF 10000 ROWS",
                "CREATE CONSTRAINT T_node_key IF NOT EXISTS FOR (n:`T`) REQUIRE (n.`id`,n.`k`) IS NODE KEY",
            ],
        ),
        (
            RelationshipKeyExtended {
                relationship_type: st("R"),
                added_key_property: st("k"),
                default: Literal::Str(st("bob")),
            },
            vec![
                "MATCH ()-[r:`R`]->() WHERE r.`k` IS NULL WITH r, $value AS value CALL { WITH r, value SET r.`k` = coalesce(r.`k`, value) } IN TRANSACTIONS OF 10000 ROWS",
            ],
        ),
        (
            NodeKeyPartRenamed {
                node_type: st("T"),
                old_key_part_name: st("id"),
                new_key_part_name: st("nid"),
            },
            vec![
                CONSTRAINT_PROPERTIES,
                "DROP CONSTRAINT T_node_key IF EXISTS",
                "MATCH (n:`T`) CALL { WITH n SET n.`nid` = n.`id` REMOVE n.`id` } IN TRANSACTIONS OF 10000 ROWS",
                "CREATE CONSTRAINT T_node_key IF NOT EXISTS FOR (n:`T`) REQUIRE (n.`nid`) IS NODE KEY",
            ],
        ),
        (
            RelationshipKeyPartRenamed {
                relationship_type: st("R"),
                old_key_part_name: st("a"),
                new_key_part_name: st("b"),
            },
            vec![
                "MATCH ()-[r:`R`]->() CALL { WITH r SET r.`b` = r.`a` REMOVE r.`a` } IN TRANSACTIONS OF 10000 ROWS",
            ],
        ),
    ];
    assert_eq!(cases.len(), 20);
    for (op, expected) in cases {
        let r = Recorder {
            keys: vec!["id"],
            indexed: vec!["name"],
            ..Default::default()
        };
        block_on(Executor::new(&r, ENTERPRISE).execute(&op)).unwrap();
        assert_eq!(texts(&r), expected, "{}", op.type_name());
        // Exactly the `CALL { } IN TRANSACTIONS` statements are auto-commit.
        for s in r.log.borrow().iter() {
            assert_eq!(
                s.auto_commit,
                s.text.contains("IN TRANSACTIONS"),
                "{}",
                s.text
            );
        }
    }
}

#[test]
fn on_neo4j_4_4_additional_indexes_are_found_by_uniqueness() {
    let r = Recorder {
        indexed: vec!["name"],
        neo4j_4_4: true,
        ..Default::default()
    };
    let op = Operation::DropNodeType { name: "T".into() };
    block_on(Executor::new(&r, Options::default()).execute(&op)).unwrap();
    assert_eq!(
        texts(&r)[1..4],
        [
            INDEXED_PROPERTIES,
            INDEXED_PROPERTIES_4_4,
            "DROP INDEX T_name_additional_index IF EXISTS"
        ]
    );
}

fn migration(name: &str, ops: Vec<Operation>, deps: &[&str], replaces: &[&str]) -> Migration {
    Migration {
        name: name.into(),
        operations: ops,
        dependencies: deps.iter().map(|s| s.to_string()).collect(),
        replaces: replaces.iter().map(|s| s.to_string()).collect(),
    }
}

#[test]
fn protocol_in_enterprise_mode_locks_runs_records_and_unlocks() {
    let r = Recorder::default();
    let g = MigrationGraph::new([migration(
        "m1",
        vec![Operation::DropNodeProperty {
            node_type: "A".into(),
            property_name: "p".into(),
        }],
        &[],
        &[],
    )])
    .unwrap();
    let executed = block_on(Migrator::new(&r, ENTERPRISE).run_pending(&g, |_| {})).unwrap();
    assert_eq!(executed, ["m1"]);
    assert_eq!(
        texts(&r),
        [
            "MATCH (m:__NodestreamMigration__) RETURN m.name as name",
            "CREATE CONSTRAINT __NodestreamMigrationLock___node_key IF NOT EXISTS FOR (n:`__NodestreamMigrationLock__`) REQUIRE (n.`lock`) IS NODE KEY",
            "CREATE CONSTRAINT __NodestreamMigration___node_key IF NOT EXISTS FOR (n:`__NodestreamMigration__`) REQUIRE (n.`name`) IS NODE KEY",
            "CREATE (l:__NodestreamMigrationLock__{lock: 'lock'})",
            "MATCH (m:__NodestreamMigration__ {name: $name}) RETURN count(m) AS n",
            "MATCH (n:`A`) CALL { WITH n REMOVE n.`p` } IN TRANSACTIONS OF 10000 ROWS",
            "MERGE (:__NodestreamMigration__ {name: $name})",
            "MATCH (l:__NodestreamMigrationLock__{lock: 'lock'}) DELETE l",
        ]
    );
}

#[test]
fn failing_operation_releases_the_lock_and_records_nothing() {
    let r = Recorder {
        fail_on: Some("REMOVE n.`p`"),
        ..Default::default()
    };
    let g = MigrationGraph::new([migration(
        "m1",
        vec![Operation::DropNodeProperty {
            node_type: "A".into(),
            property_name: "p".into(),
        }],
        &[],
        &[],
    )])
    .unwrap();
    let err = block_on(Migrator::new(&r, Options::default()).run_pending(&g, |_| {})).unwrap_err();
    assert_eq!(
        err.to_string(),
        "migration 'm1' failed at operation 'Drop property p from node type A'"
    );
    let cause = std::error::Error::source(&err).map(|s| s.to_string());
    assert_eq!(cause.as_deref(), Some("boom"));
    let t = texts(&r);
    assert_eq!(
        t.last().unwrap(),
        "MATCH (l:__NodestreamMigrationLock__{lock: 'lock'}) DELETE l"
    );
    assert!(!t.iter().any(|s| s.starts_with("MERGE")));
}

#[test]
fn held_lock_times_out_with_the_clearing_hint() {
    let r = Recorder::default();
    *r.lock_taken.borrow_mut() = true;
    let mut m = Migrator::new(&r, Options::default());
    m.lock_timeout = Duration::from_millis(120);
    let err = block_on(m.acquire_lock()).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("MATCH (l:__NodestreamMigrationLock__ {lock: 'lock'}) DELETE l"),
        "{msg}"
    );
    assert!(
        texts(&r)
            .iter()
            .filter(|s| s.starts_with("CREATE (l:"))
            .count()
            >= 2,
        "retried"
    );
}

#[test]
fn squash_whose_replaced_files_are_gone_records_only_itself() {
    let r = Recorder::default();
    let g = MigrationGraph::new([
        migration("s", vec![], &[], &["a", "b"]),
        migration("c", vec![], &[], &[]),
    ])
    .unwrap();
    let executed = block_on(Migrator::new(&r, Options::default()).run_pending(&g, |_| {})).unwrap();
    assert_eq!(executed, ["c", "s"]);
    let recorded: Vec<_> = r
        .log
        .borrow()
        .iter()
        .filter(|s| s.text.starts_with("MERGE"))
        .map(|s| s.params[0].1.clone())
        .collect();
    assert_eq!(recorded, ["c", "s"].map(|n| bolt::Value::String(n.into())));
}

#[test]
fn squash_runs_instead_of_what_it_replaces_and_records_all_names() {
    let r = Recorder::default();
    let g = MigrationGraph::new([
        migration("a", vec![], &[], &[]),
        migration("b", vec![], &["a"], &[]),
        migration("s", vec![], &[], &["a", "b"]),
    ])
    .unwrap();
    let executed = block_on(Migrator::new(&r, Options::default()).run_pending(&g, |_| {})).unwrap();
    assert_eq!(executed, ["s"]);
    let recorded: Vec<_> = r
        .log
        .borrow()
        .iter()
        .filter(|s| s.text.starts_with("MERGE"))
        .map(|s| s.params[0].1.clone())
        .collect();
    assert_eq!(
        recorded,
        ["s", "a", "b"].map(|n| bolt::Value::String(n.into()))
    );
}
