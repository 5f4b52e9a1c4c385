//! Interoperability with Python Nodestream 0.16 (the venv of `scripts/python-env`): a database migrated by
//! one looks fully migrated to the other, files made by one are read and applied by the other, and both
//! infer the same changes for the same project.

mod migrations_support;

use migrations_support::{Db, Project, ok, text};
use std::process::Output;

/// Python 0.16 crashes on any recorded name its project lacks (spec §11 #30), and bookkeeping nodes are
/// global to the database: the tests of this file run one at a time, and each removes its own records.
static SERIAL: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn serial() -> std::sync::MutexGuard<'static, ()> {
    let guard = SERIAL.lock().unwrap_or_else(|p| p.into_inner());
    let foreign = Db::connect().recorded("");
    assert!(
        foreign.is_empty(),
        "the test server already records migrations {foreign:?}; Python 0.16 crashes on names its project lacks, \
         so these tests need a database without them"
    );
    guard
}

/// A project with one pipeline over labels unique to the test (`<tag>Person`, `<tag>City`, …).
fn project(tag: &str) -> Project {
    let p = Project::new("");
    let up = tag.to_uppercase();
    std::fs::create_dir_all(p.dir.path().join("pipelines")).unwrap();
    let pipeline = format!(
        "- implementation: nodestream.pipeline:IterableExtractor
  arguments:
    iterable: []
- implementation: nodestream.interpreting:Interpreter
  arguments:
    interpretations:
      - type: source_node
        node_type: {tag}Person
        key:
          id: !jmespath id
        properties:
          name: !jmespath name
        additional_indexes: [name]
      - type: properties
        properties:
          nickname: !jmespath nick
      - type: relationship
        node_type: {tag}City
        relationship_type: {up}_LIVES_IN
        node_key:
          code: !jmespath city
        node_properties:
          city_name: !jmespath city_name
        relationship_properties:
          since: !jmespath since
      - type: relationship
        node_type: {tag}Tag
        node_creation_rule: MATCH_ONLY
        relationship_type: {up}_TAGGED
        node_key:
          label: !jmespath tag
        relationship_key:
          kind: !jmespath kind
      - type: switch
        switch_on: !jmespath kind
        cases:
          a:
            type: properties
            properties:
              a_only: !jmespath a
"
    );
    std::fs::write(p.dir.path().join("pipelines/people.yaml"), pipeline).unwrap();
    let project = std::fs::read_to_string(p.file()).unwrap();
    std::fs::write(
        p.file(),
        format!("scopes:\n  default:\n    pipelines:\n      - pipelines/people.yaml\n{project}"),
    )
    .unwrap();
    p
}

fn labels(tag: &str) -> Vec<String> {
    ["Person", "City", "Tag"]
        .iter()
        .map(|l| format!("{tag}{l}"))
        .collect()
}

fn types(tag: &str) -> Vec<String> {
    let up = tag.to_uppercase();
    vec![format!("{up}_LIVES_IN"), format!("{up}_TAGGED")]
}

fn cleanup(db: &Db, tag: &str, names: &[String]) {
    let l = labels(tag);
    let t = types(tag);
    let l: Vec<&str> = l.iter().map(String::as_str).collect();
    let t: Vec<&str> = t.iter().map(String::as_str).collect();
    db.cleanup("\u{0}none", &l, &t);
    for n in names {
        db.q(&format!(
            "MATCH (m:__NodestreamMigration__ {{name: '{n}'}}) DELETE m"
        ));
    }
}

/// Python fails at once when another run holds the lock (tests share the server): retry a few times.
fn python_run(p: &Project) -> Output {
    for _ in 0..20 {
        let out = p.python(&["migrations", "run", "-t", "t"]);
        if out.status.success() || !text(&out).1.contains("CannotAcquireLock") {
            return out;
        }
        std::thread::sleep(std::time::Duration::from_millis(300));
    }
    p.python(&["migrations", "run", "-t", "t"])
}

/// Names of the migration files in the project.
fn migration_names(p: &Project) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(p.migrations())
        .unwrap()
        .map(|e| {
            e.unwrap()
                .path()
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    v.sort();
    v
}

/// Cells of `migrations show` for the table's data rows (both tools draw the same table).
fn show_rows(out: &str) -> Vec<String> {
    out.lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| Migration"))
        .map(|l| l.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect()
}

fn constraints(db: &Db, label: &str) -> Vec<Vec<String>> {
    db.string_lists(&format!("SHOW CONSTRAINTS YIELD labelsOrTypes, properties WHERE labelsOrTypes = ['{label}'] RETURN properties"))
}

fn indexes(db: &Db, label: &str) -> Vec<String> {
    let mut v: Vec<String> = db
        .q(&format!("SHOW INDEXES YIELD name, labelsOrTypes, owningConstraint WHERE labelsOrTypes = ['{label}'] AND owningConstraint IS NULL RETURN name"))
        .into_iter()
        .map(|r| r[0].as_str().unwrap_or_default().to_owned())
        .collect();
    v.sort();
    v
}

/// The described operations of `make --dry-run`, sorted (Python's order follows set iteration).
fn described(out: &str) -> Vec<String> {
    let mut v: Vec<String> = out
        .lines()
        .filter(|l| l.starts_with("  - "))
        .map(str::to_owned)
        .collect();
    v.sort();
    v
}

#[test]
fn both_infer_the_same_first_migration() {
    let _serial = serial();
    let p = project("MiSame");
    let ours = ok(&p.rust(&["migrations", "make", "--dry-run"]));
    let theirs = ok(&p.python(&["migrations", "make", "--dry-run"]));
    assert_eq!(
        described(&ours),
        described(&theirs),
        "ours:\n{ours}\npython:\n{theirs}"
    );
    assert!(
        ours.contains("The migration contains 11 schema changes."),
        "{ours}"
    );
    assert!(migration_names(&p).is_empty(), "--dry-run writes nothing");
}

#[test]
fn python_migrated_database_is_fully_applied_for_us() {
    let _serial = serial();
    let db = Db::connect();
    let tag = "MiPy";
    cleanup(&db, tag, &[]);
    let p = project(tag);
    ok(&p.python(&["migrations", "make"]));
    let names = migration_names(&p);
    assert_eq!(names.len(), 1);
    ok(&python_run(&p));
    let show = ok(&p.rust(&["migrations", "show"]));
    assert_eq!(
        show_rows(&show),
        [format!("| {} | ✅ |", names[0])],
        "{show}"
    );
    let run = ok(&p.rust(&["migrations", "run", "-t", "t"]));
    assert!(!run.contains("executed successfully"), "{run}");
    assert_eq!(
        ok(&p.rust(&["migrations", "make", "--dry-run"])),
        "No changes to migrate\n"
    );
    cleanup(&db, tag, &names);
}

#[test]
fn our_migrations_are_read_applied_and_seen_as_applied_by_python() {
    let _serial = serial();
    let db = Db::connect();
    let tag = "MiRs";
    cleanup(&db, tag, &[]);
    let p = project(tag);
    let made = ok(&p.rust(&["migrations", "make"]));
    assert!(made.contains("Migration written to "), "{made}");
    let names = migration_names(&p);
    // Python reads our file and applies it.
    let pending = ok(&p.python(&["migrations", "show"]));
    assert_eq!(
        show_rows(&pending),
        [format!("| {} | ❌ |", names[0])],
        "{pending}"
    );
    ok(&python_run(&p));
    assert_eq!(
        constraints(&db, &format!("{tag}Person")),
        [vec!["id".to_string()]]
    );
    assert_eq!(
        constraints(&db, &format!("{tag}City")),
        [vec!["code".to_string()]]
    );
    assert!(
        constraints(&db, &format!("{tag}Tag")).is_empty(),
        "MATCH_ONLY keys are plain properties"
    );
    assert_eq!(
        indexes(&db, &format!("{tag}Person")),
        [
            format!("{tag}Person_last_ingested_at_additional_index"),
            format!("{tag}Person_name_additional_index")
        ]
    );
    assert_eq!(
        ok(&p.python(&["migrations", "make", "--dry-run"])),
        "No changes to migrate\n"
    );
    cleanup(&db, tag, &names);

    // Now we apply it, and Python sees it applied.
    let run = ok(&p.rust(&["migrations", "run", "-t", "t"]));
    assert!(
        run.contains(&format!("Migration {} executed successfully.", names[0])),
        "{run}"
    );
    let show = ok(&p.python(&["migrations", "show"]));
    assert_eq!(
        show_rows(&show),
        [format!("| {} | ✅ |", names[0])],
        "{show}"
    );
    let before = db.recorded(&names[0]);
    ok(&python_run(&p));
    assert_eq!(db.recorded(&names[0]), before, "Python found nothing to do");
    cleanup(&db, tag, &names);
}

#[test]
fn a_second_migration_and_a_squash_stay_in_step_with_python() {
    let _serial = serial();
    let db = Db::connect();
    let tag = "MiSq";
    cleanup(&db, tag, &[]);
    let p = project(tag);
    ok(&p.rust(&["migrations", "make"]));
    // Change the pipeline: a new property on the person, a new index; wait a second for a new name.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let path = p.dir.path().join("pipelines/people.yaml");
    let src = std::fs::read_to_string(&path).unwrap().replace(
        "additional_indexes: [name]",
        "additional_indexes: [name, email]",
    );
    std::fs::write(&path, src).unwrap();
    let ours = ok(&p.rust(&["migrations", "make", "--dry-run"]));
    let theirs = ok(&p.python(&["migrations", "make", "--dry-run"]));
    assert_eq!(described(&ours), described(&theirs));
    ok(&p.rust(&["migrations", "make"]));
    let names = migration_names(&p);
    assert_eq!(names.len(), 2);
    let second =
        std::fs::read_to_string(p.migrations().join(format!("{}.yaml", names[1]))).unwrap();
    assert!(
        second.starts_with(&format!("dependencies:\n- '{}'\n", names[0])),
        "{second}"
    );
    ok(&p.rust(&["migrations", "squash", "--from", &names[0]]));
    let squash = format!("squash_from_{}", names[0]);
    // Python agrees the squash is pending, then we run it and Python sees everything applied.
    let show = ok(&p.python(&["migrations", "show"]));
    assert_eq!(show_rows(&show).len(), 3, "{show}");
    let run = ok(&p.rust(&["migrations", "run", "-t", "t"]));
    assert!(
        run.contains(&format!("Migration {squash} executed successfully.")),
        "{run}"
    );
    assert!(
        !run.contains(&format!("Migration {} executed", names[0])),
        "{run}"
    );
    let show = ok(&p.python(&["migrations", "show"]));
    assert!(
        show_rows(&show).iter().all(|r| r.ends_with("| ✅ |")),
        "{show}"
    );
    assert!(
        indexes(&db, &format!("{tag}Person"))
            .contains(&format!("{tag}Person_email_additional_index"))
    );
    let mut all = names.clone();
    all.push(squash);
    cleanup(&db, tag, &all);
}

#[test]
fn without_a_terminal_renames_are_answered_no_like_python() {
    let _serial = serial();
    let p = project("MiRen");
    // The migrated state has a type and a property the pipelines no longer produce.
    p.migration(
        "0001_old",
        "dependencies: []\nname: '0001_old'\noperations:\n- arguments:\n    keys: !!set\n      id: null\n    name: MiRenOld\n    properties: !!set\n      gone: null\n  operation: CreateNodeType\n- arguments:\n    keys: !!set\n      id: null\n    name: MiRenPerson\n    properties: !!set\n      old_name: null\n  operation: CreateNodeType\nreplaces: []\n",
    );
    let ours = ok(&p.rust(&["migrations", "make", "--dry-run"]));
    let theirs = ok(&p.python(&["migrations", "make", "--dry-run", "-n"]));
    assert_eq!(
        described(&ours),
        described(&theirs),
        "ours:\n{ours}\npython:\n{theirs}"
    );
    assert!(ours.contains("  - Drop node type MiRenOld\n"), "{ours}");
    assert!(
        ours.contains("  - Drop property old_name from node type MiRenPerson\n"),
        "{ours}"
    );
}
