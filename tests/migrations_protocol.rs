//! The lock and bookkeeping protocol (spec §6.6) and the CLI around it, against the real server:
//! concurrent runs, re-runs, failures, stale locks, unknown recorded names, `show`, `squash`, `make`.

mod migrations_support;

use bolt::Value;
use migrations_support::{Db, Project, ok, text};

fn rename(name: &str, deps: &[&str], label: &str, old: &str, new: &str) -> String {
    format!(
        "dependencies: [{}]\nname: {name}\noperations:\n- arguments:\n    new_property_name: {new}\n    node_type: {label}\n    old_property_name: {old}\n  operation: RenameNodeProperty\nreplaces: []\n",
        deps.join(", ")
    )
}

fn create(name: &str, deps: &[&str], label: &str, key: &str) -> String {
    format!(
        "dependencies: [{}]\nname: {name}\noperations:\n- arguments:\n    keys: !!set\n      {key}: null\n    name: {label}\n    properties: !!set {{}}\n  operation: CreateNodeType\nreplaces: []\n",
        deps.join(", ")
    )
}

fn executed_lines(out: &str) -> Vec<String> {
    let mut v: Vec<String> = out
        .lines()
        .filter(|l| l.ends_with("executed successfully."))
        .map(str::to_owned)
        .collect();
    v.sort();
    v
}

#[test]
fn concurrent_runs_apply_each_migration_exactly_once() {
    let db = Db::connect();
    let (prefix, label) = ("mp_conc_", "MpConcNode");
    db.cleanup(prefix, &[label], &[]);
    db.q(&format!("CREATE (:{label} {{id: 1, a: 'v'}})"));
    let p = Project::new("");
    // Renames are not idempotent: a second application would wipe the value.
    p.migration("m1", &rename("mp_conc_1", &[], label, "a", "b"));
    p.migration("m2", &rename("mp_conc_2", &["mp_conc_1"], label, "b", "c"));
    p.migration("m3", &create("mp_conc_3", &["mp_conc_2"], label, "id"));
    let file = p.file();
    let spawn = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_nodestream"))
            .args(["migrations", "run", "-t", "t", "-p", file.to_str().unwrap()])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap()
    };
    let (a, b) = (spawn(), spawn());
    let (a, b) = (a.wait_with_output().unwrap(), b.wait_with_output().unwrap());
    let (out_a, out_b) = (ok(&a), ok(&b));
    let mut all = executed_lines(&out_a);
    all.extend(executed_lines(&out_b));
    all.sort();
    assert_eq!(
        all,
        [
            "Migration mp_conc_1 executed successfully.",
            "Migration mp_conc_2 executed successfully.",
            "Migration mp_conc_3 executed successfully."
        ],
        "each migration ran in exactly one process:\nA:\n{out_a}\nB:\n{out_b}"
    );
    assert_eq!(
        db.value(&format!("MATCH (n:{label}) RETURN n.c")),
        Value::String("v".into())
    );
    assert_eq!(
        db.value(&format!(
            "MATCH (m:__NodestreamMigration__) WHERE m.name STARTS WITH '{prefix}' RETURN count(m)"
        )),
        Value::Integer(3)
    );
    assert!(db.lock_becomes_free(10));
    db.cleanup(prefix, &[label], &[]);
}

#[test]
fn rerun_is_a_no_op() {
    let db = Db::connect();
    let (prefix, label) = ("mp_rerun_", "MpRerunNode");
    db.cleanup(prefix, &[label], &[]);
    db.q(&format!("CREATE (:{label} {{id: 1, a: 'v'}})"));
    let p = Project::new("");
    p.migration("m1", &rename("mp_rerun_1", &[], label, "a", "b"));
    let first = ok(&p.rust(&["migrations", "run", "-t", "t"]));
    assert_eq!(
        executed_lines(&first),
        ["Migration mp_rerun_1 executed successfully."]
    );
    let second = ok(&p.rust(&["migrations", "run", "-t", "t"]));
    assert!(executed_lines(&second).is_empty(), "{second}");
    assert!(
        second.contains("Migrations executed on target t."),
        "{second}"
    );
    assert_eq!(
        db.value(&format!("MATCH (n:{label}) RETURN n.b")),
        Value::String("v".into())
    );
    assert_eq!(db.recorded(prefix), ["mp_rerun_1"]);
    db.cleanup(prefix, &[label], &[]);
}

#[test]
fn failing_operation_stops_the_run_unrecorded_with_the_lock_released() {
    let db = Db::connect();
    let (prefix, label, other) = ("mp_fail_", "MpFailNode", "MpFailOther");
    db.cleanup(prefix, &[label, other], &[]);
    // Two nodes with the same id: the uniqueness constraint of mp_fail_2 cannot be created.
    db.q(&format!(
        "CREATE (:{label} {{id: 1}}), (:{label} {{id: 1}})"
    ));
    let p = Project::new("");
    p.migration("m1", &create("mp_fail_1", &[], other, "id"));
    p.migration("m2", &create("mp_fail_2", &["mp_fail_1"], label, "id"));
    p.migration("m3", &create("mp_fail_3", &["mp_fail_2"], other, "code"));
    let out = p.rust(&["migrations", "run", "-t", "t"]);
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "{stdout}");
    assert!(
        stderr.contains("migration 'mp_fail_2' failed at operation 'Create node type MpFailNode'"),
        "{stderr}"
    );
    assert!(
        stderr.contains("ConstraintCreationFailed"),
        "the server's reason is shown: {stderr}"
    );
    assert_eq!(
        db.recorded(prefix),
        ["mp_fail_1"],
        "the failed migration is not recorded, the next did not run"
    );
    assert!(db.lock_becomes_free(10), "the lock was released");
    let constraints = db.q(&format!("SHOW CONSTRAINTS YIELD labelsOrTypes WHERE labelsOrTypes IN [['{label}'], ['{other}']] RETURN labelsOrTypes"));
    assert_eq!(
        constraints,
        vec![vec![Value::List(vec![Value::String(other.into())])]]
    );
    db.cleanup(prefix, &[label, other], &[]);
}

/// Removes the test's lock node even when the test fails.
struct LockGuard<'a>(&'a Db);

impl Drop for LockGuard<'_> {
    fn drop(&mut self) {
        let _ = self.0.try_q(
            "MATCH (l:__NodestreamMigrationLock__ {lock: 'lock', stale_test: true}) DELETE l",
        );
    }
}

#[test]
fn stale_lock_gets_a_message_that_says_how_to_clear_it() {
    let db = Db::connect();
    let (prefix, label) = ("mp_stale_", "MpStaleNode");
    db.cleanup(prefix, &[label], &[]);
    // Take the lock as a crashed run would have left it (waiting while another test holds it).
    let until = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while db
        .try_q("CREATE (:__NodestreamMigrationLock__ {lock: 'lock', stale_test: true})")
        .is_err()
    {
        assert!(std::time::Instant::now() < until, "could not take the lock");
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let _guard = LockGuard(&db);
    let p = Project::new("");
    p.migration("m1", &create("mp_stale_1", &[], label, "id"));
    let out = p.rust(&["migrations", "run", "-t", "t", "--lock-timeout", "1"]);
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains("cannot acquire the migration lock: another `migrations run` has held it"),
        "{stderr}"
    );
    assert!(
        stderr.contains("MATCH (l:__NodestreamMigrationLock__ {lock: 'lock'}) DELETE l"),
        "{stderr}"
    );
    assert!(db.recorded(prefix).is_empty());
    drop(_guard);
    db.cleanup(prefix, &[label], &[]);
}

#[test]
fn recorded_name_missing_from_the_project_warns_instead_of_crashing() {
    let db = Db::connect();
    let (prefix, label) = ("mp_ghost_", "MpGhostNode");
    db.cleanup(prefix, &[label], &[]);
    db.q("MERGE (:__NodestreamMigration__ {name: 'mp_ghost_gone'})");
    let p = Project::new("");
    p.migration("m1", &create("mp_ghost_1", &[], label, "id"));
    let out = p.rust(&["migrations", "run", "-t", "t"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    assert!(stderr.contains("warning: migration 'mp_ghost_gone' is recorded on target t but is not among the project's migrations"), "{stderr}");
    let show = p.rust(&["migrations", "show"]);
    assert!(show.status.success());
    assert!(text(&show).1.contains("'mp_ghost_gone'"));
    assert_eq!(db.recorded(prefix), ["mp_ghost_1", "mp_ghost_gone"]);
    db.cleanup(prefix, &[label], &[]);
}

#[test]
fn show_lists_every_migration_by_target() {
    let db = Db::connect();
    let (prefix, label) = ("mp_show_", "MpShowNode");
    db.cleanup(prefix, &[label], &[]);
    let p = Project::new(&format!(
        "  b_second:\n    database: neo4j\n    uri: {}\n    username: neo4j\n    password: {}\n",
        migrations_support::uri(),
        migrations_support::password()
    ));
    p.migration("m1", &create("mp_show_1", &[], label, "id"));
    p.migration("m2", &create("mp_show_2", &["mp_show_1"], label, "id"));
    db.q("MERGE (:__NodestreamMigration__ {name: 'mp_show_1'})");
    let out = ok(&p.rust(&["migrations", "show"]));
    assert_eq!(
        out,
        "+-----------+----------+---+\n| Migration | b_second | t |\n+-----------+----------+---+\n| mp_show_1 | ✅        | ✅ |\n| mp_show_2 | ❌        | ❌ |\n+-----------+----------+---+\n"
    );
    let out = ok(&p.rust(&["migrations", "show", "-t", "t"]));
    assert!(
        out.starts_with("+-----------+---+\n| Migration | t |\n"),
        "{out}"
    );
    assert_eq!(
        ok(&p.rust(&["migrations", "run"])),
        "No targets specified, nothing to do.\n"
    );
    db.cleanup(prefix, &[label], &[]);
}

#[test]
fn squash_writes_the_optimised_file_and_runs_instead_of_what_it_replaces() {
    let db = Db::connect();
    let (prefix, label) = ("mp_squash_", "MpSquashNode");
    db.cleanup(prefix, &[label], &[]);
    let p = Project::new("");
    p.migration("a", &create("mp_squash_a", &[], label, "id"));
    p.migration(
        "b",
        &rename("mp_squash_b", &["mp_squash_a"], label, "x", "y"),
    );
    let out = ok(&p.rust(&["migrations", "squash", "--from", "mp_squash_a"]));
    let path = p.migrations().join("squash_from_mp_squash_a.yaml");
    assert_eq!(
        out,
        format!(
            "Generated squashed migration squash_from_mp_squash_a.\nThe migration contains 2 schema changes.\n  - Create node type {label}\n  - Rename node property x to y on node type {label}\nMigration written to {}\nRun `nodestream migrations run` to apply the migration.\n",
            path.display()
        )
    );
    let file = std::fs::read_to_string(&path).unwrap();
    assert!(
        file.starts_with("dependencies: []\nname: squash_from_mp_squash_a\n"),
        "{file}"
    );
    assert!(
        file.ends_with("replaces:\n- mp_squash_a\n- mp_squash_b\n"),
        "{file}"
    );
    let run = ok(&p.rust(&["migrations", "run", "-t", "t"]));
    assert_eq!(
        executed_lines(&run),
        ["Migration squash_from_mp_squash_a executed successfully."]
    );
    // Recorded with what it replaces, so Python (which walks every unrecorded name) sees it all applied.
    let mut recorded = db.recorded(prefix);
    recorded.extend(db.recorded("squash_from_mp_squash_a"));
    assert_eq!(
        recorded,
        ["mp_squash_a", "mp_squash_b", "squash_from_mp_squash_a"]
    );
    db.cleanup(prefix, &[label], &[]);
    db.cleanup("squash_from_mp_squash_a", &[], &[]);
}

#[test]
fn enterprise_mode_sends_node_key_constraints_which_community_refuses() {
    let db = Db::connect();
    let (prefix, label) = ("mp_ent_", "MpEntNode");
    db.cleanup(prefix, &[label], &[]);
    // The lock constraints exist already on a database migrated before (IF NOT EXISTS keeps them).
    db.q("CREATE CONSTRAINT __NodestreamMigrationLock___node_key IF NOT EXISTS FOR (n:`__NodestreamMigrationLock__`) REQUIRE (n.`lock`) IS UNIQUE");
    db.q("CREATE CONSTRAINT __NodestreamMigration___node_key IF NOT EXISTS FOR (n:`__NodestreamMigration__`) REQUIRE (n.`name`) IS UNIQUE");
    let p = Project::new("    use_enterprise_features: true\n");
    p.migration("m1", &create("mp_ent_1", &[], label, "id"));
    let out = p.rust(&["migrations", "run", "-t", "t"]);
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains("migration 'mp_ent_1' failed at operation 'Create node type MpEntNode'"),
        "{stderr}"
    );
    assert!(
        stderr.to_uppercase().contains("NODE KEY") && stderr.contains("Enterprise Edition"),
        "{stderr}"
    );
    assert!(db.recorded(prefix).is_empty());
    assert!(db.lock_becomes_free(10));
    db.cleanup(prefix, &[label], &[]);
}

#[test]
fn all_targets_in_order_and_json_logging() {
    let db = Db::connect();
    let (prefix, label) = ("mp_all_", "MpAllNode");
    db.cleanup(prefix, &[label], &[]);
    let p = Project::new(&format!(
        "  u:\n    database: neo4j\n    uri: {}\n    username: neo4j\n    password: {}\n",
        migrations_support::uri(),
        migrations_support::password()
    ));
    p.migration("m1", &create("mp_all_1", &[], label, "id"));
    let out = p.rust(&["migrations", "run", "-a", "-j"]);
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}{stderr}");
    // Both targets are the same database: the first applies, the second finds it applied.
    let logged: Vec<serde_json::Value> = stderr
        .lines()
        .filter(|l| l.starts_with('{'))
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(logged.len(), 1, "{stderr}");
    assert_eq!(
        logged[0]["message"],
        "Migration mp_all_1 executed successfully."
    );
    assert_eq!(logged[0]["target"], "t");
    assert_eq!(db.recorded(prefix), ["mp_all_1"]);
    let bad = p.rust(&["migrations", "run", "-t", "nope"]);
    assert!(!bad.status.success());
    assert!(
        text(&bad)
            .1
            .contains("Target nope not specified in the project.")
    );
    db.cleanup(prefix, &[label], &[]);
}
