//! The schema as migrations see it: types with key, plain and indexed properties; the state a migration
//! plan leads to (spec §6.4 step 2) and the diff between two states (steps 3–4).

use super::graph::MigrationGraph;
use super::operation::{Literal, NameSet, Operation};
use std::collections::{BTreeMap, BTreeSet, HashSet};

/// What is known about one property.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PropertyMeta {
    /// Part of the type's key.
    pub is_key: bool,
    /// Has an additional index.
    pub is_indexed: bool,
}

/// A node or relationship type.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TypeSchema {
    /// Properties by name.
    pub properties: BTreeMap<String, PropertyMeta>,
}

impl TypeSchema {
    /// Key property names.
    pub fn keys(&self) -> NameSet {
        self.properties
            .iter()
            .filter(|(_, m)| m.is_key)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Non-key property names.
    pub fn non_key_properties(&self) -> NameSet {
        self.properties
            .iter()
            .filter(|(_, m)| !m.is_key)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Indexed property names.
    pub fn indexed(&self) -> NameSet {
        self.properties
            .iter()
            .filter(|(_, m)| m.is_indexed)
            .map(|(k, _)| k.clone())
            .collect()
    }

    /// Adds (or merges into) a property.
    pub fn add_property(&mut self, name: &str, meta: PropertyMeta) {
        let entry = self.properties.entry(name.to_owned()).or_default();
        entry.is_key |= meta.is_key;
        entry.is_indexed |= meta.is_indexed;
    }
}

/// Node and relationship types by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Schema {
    /// Node types.
    pub nodes: BTreeMap<String, TypeSchema>,
    /// Relationship types.
    pub relationships: BTreeMap<String, TypeSchema>,
}

/// A replayed operation that does not fit the state built so far.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("migration '{migration}', operation '{operation}': {reason}")]
pub struct ReplayError {
    /// Migration name.
    pub migration: String,
    /// The operation's description.
    pub operation: String,
    /// What is wrong.
    pub reason: String,
}

fn rename_property(
    t: &mut TypeSchema,
    type_name: &str,
    old: &str,
    new: &str,
    key_only: bool,
) -> Result<(), String> {
    match t.properties.get(old) {
        Some(meta) if !key_only || meta.is_key => {
            let meta = *meta;
            t.properties.remove(old);
            t.properties.insert(new.to_owned(), meta);
            Ok(())
        }
        Some(_) | None if key_only => Err(format!("Key {old} does not exist on type {type_name}.")),
        _ => Err(format!(
            "Property {old} does not exist on type {type_name}."
        )),
    }
}

impl Schema {
    /// Applies one operation in memory, as Python's in-memory migrator does.
    pub fn apply(&mut self, op: &Operation) -> Result<(), String> {
        use Operation::*;
        let key = PropertyMeta {
            is_key: true,
            is_indexed: false,
        };
        match op {
            CreateNodeType {
                name,
                keys,
                properties,
            }
            | CreateRelationshipType {
                name,
                keys,
                properties,
            } => {
                let mut t = TypeSchema::default();
                for k in keys {
                    t.add_property(k, key);
                }
                for p in properties {
                    t.add_property(p, PropertyMeta::default());
                }
                let map = if matches!(op, CreateNodeType { .. }) {
                    &mut self.nodes
                } else {
                    &mut self.relationships
                };
                map.insert(name.clone(), t);
            }
            DropNodeType { name } => {
                self.nodes.remove(name);
            }
            DropRelationshipType { name } => {
                self.relationships.remove(name);
            }
            RenameNodeType { old_type, new_type } => {
                let t = self.nodes.remove(old_type).unwrap_or_default();
                self.nodes.insert(new_type.clone(), t);
            }
            RenameRelationshipType { old_type, new_type } => {
                let t = self.relationships.remove(old_type).unwrap_or_default();
                self.relationships.insert(new_type.clone(), t);
            }
            RenameNodeProperty {
                node_type: t,
                old_property_name: o,
                new_property_name: n,
            } => rename_property(self.nodes.entry(t.clone()).or_default(), t, o, n, false)?,
            RenameRelationshipProperty {
                relationship_type: t,
                old_property_name: o,
                new_property_name: n,
            } => rename_property(
                self.relationships.entry(t.clone()).or_default(),
                t,
                o,
                n,
                false,
            )?,
            NodeKeyPartRenamed {
                node_type: t,
                old_key_part_name: o,
                new_key_part_name: n,
            } => rename_property(self.nodes.entry(t.clone()).or_default(), t, o, n, true)?,
            RelationshipKeyPartRenamed {
                relationship_type: t,
                old_key_part_name: o,
                new_key_part_name: n,
            } => rename_property(
                self.relationships.entry(t.clone()).or_default(),
                t,
                o,
                n,
                true,
            )?,
            AddAdditionalNodePropertyIndex {
                node_type: t,
                field_name: f,
            } => self.nodes.entry(t.clone()).or_default().add_property(
                f,
                PropertyMeta {
                    is_key: false,
                    is_indexed: true,
                },
            ),
            AddAdditionalRelationshipPropertyIndex {
                relationship_type: t,
                field_name: f,
            } => self
                .relationships
                .entry(t.clone())
                .or_default()
                .add_property(
                    f,
                    PropertyMeta {
                        is_key: false,
                        is_indexed: true,
                    },
                ),
            DropAdditionalNodePropertyIndex {
                node_type: t,
                field_name: f,
            } => {
                if let Some(p) = self
                    .nodes
                    .entry(t.clone())
                    .or_default()
                    .properties
                    .get_mut(f)
                {
                    p.is_indexed = false;
                }
            }
            DropAdditionalRelationshipPropertyIndex {
                relationship_type: t,
                field_name: f,
            } => {
                if let Some(p) = self
                    .relationships
                    .entry(t.clone())
                    .or_default()
                    .properties
                    .get_mut(f)
                {
                    p.is_indexed = false;
                }
            }
            AddNodeProperty {
                node_type: t,
                property_name: p,
                ..
            } => self
                .nodes
                .entry(t.clone())
                .or_default()
                .add_property(p, PropertyMeta::default()),
            AddRelationshipProperty {
                relationship_type: t,
                property_name: p,
                ..
            } => self
                .relationships
                .entry(t.clone())
                .or_default()
                .add_property(p, PropertyMeta::default()),
            DropNodeProperty {
                node_type: t,
                property_name: p,
            } => {
                self.nodes
                    .entry(t.clone())
                    .or_default()
                    .properties
                    .remove(p);
            }
            DropRelationshipProperty {
                relationship_type: t,
                property_name: p,
            } => {
                self.relationships
                    .entry(t.clone())
                    .or_default()
                    .properties
                    .remove(p);
            }
            NodeKeyExtended {
                node_type: t,
                added_key_property: k,
                ..
            } => self
                .nodes
                .entry(t.clone())
                .or_default()
                .add_property(k, key),
            RelationshipKeyExtended {
                relationship_type: t,
                added_key_property: k,
                ..
            } => self
                .relationships
                .entry(t.clone())
                .or_default()
                .add_property(k, key),
        }
        Ok(())
    }

    /// The state the migrations lead to on an empty database (the plan with nothing applied).
    pub fn from_migrations(graph: &MigrationGraph) -> Result<Schema, super::Error> {
        let mut schema = Schema::default();
        for migration in graph.plan(&HashSet::new())? {
            for op in &migration.operations {
                schema.apply(op).map_err(|reason| ReplayError {
                    migration: migration.name.clone(),
                    operation: op.to_string(),
                    reason,
                })?;
            }
        }
        Ok(schema)
    }
}

/// Answers the rename questions of `make` (spec §6.4).
pub trait Questions {
    /// Asks a yes/no question; `false` is "no".
    fn ask(&mut self, question: &str) -> bool;
}

/// Answers "no" to everything (no terminal, or `-n`).
pub struct AlwaysNo;

impl Questions for AlwaysNo {
    fn ask(&mut self, _question: &str) -> bool {
        false
    }
}

/// `make` found a change it cannot express.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DiffError {
    /// A key part disappeared (Python raises NotImplementedError too).
    #[error(
        "Deleting {kind} keys is not supported yet (key `{key}` of {type_name} is gone from the pipelines)."
    )]
    DeletedKey {
        /// `node` or `relationship`.
        kind: &'static str,
        /// The type.
        type_name: String,
        /// The key that went away.
        key: String,
    },
}

fn ask_renames(
    q: &mut dyn Questions,
    added: &NameSet,
    deleted: &NameSet,
    format: impl Fn(&str, &str) -> String,
) -> Vec<(String, String)> {
    let mut renamed = Vec::new();
    let mut taken: BTreeSet<&str> = BTreeSet::new();
    for new in added {
        for old in deleted {
            if taken.contains(old.as_str()) {
                continue;
            }
            if q.ask(&format(old, new)) {
                renamed.push((old.clone(), new.clone()));
                taken.insert(old);
                break;
            }
        }
    }
    renamed
}

/// Drift of one kind (node or relationship) between the migrated state and the project.
#[derive(Default)]
struct KindDiff {
    deleted_types: NameSet,
    new_types: NameSet,
    renamed_types: Vec<(String, String)>,
    deleted_props: BTreeSet<(String, String)>,
    added_props: BTreeSet<(String, String)>,
    renamed_props: Vec<(String, String, String)>,
    deleted_keys: BTreeSet<(String, String)>,
    added_keys: BTreeSet<(String, String)>,
    renamed_keys: Vec<(String, String, String)>,
    deleted_indexes: BTreeSet<(String, String)>,
    added_indexes: BTreeSet<(String, String)>,
}

/// A type on one side of the diff, by name.
type Side<'a> = Option<(&'a str, &'a TypeSchema)>;
/// The same type before and after.
type TypePair<'a> = (Side<'a>, Side<'a>);

/// (from, to) pairs of types present on both sides, following renames; with `all`, also created and deleted
/// types paired with an empty type.
fn pairs<'a>(
    from: &'a BTreeMap<String, TypeSchema>,
    to: &'a BTreeMap<String, TypeSchema>,
    d: &KindDiff,
    all: bool,
) -> Vec<TypePair<'a>> {
    let names: BTreeSet<&String> = from.keys().chain(to.keys()).collect();
    let mut out = Vec::new();
    for name in names {
        if !all && (d.new_types.contains(name) || d.deleted_types.contains(name)) {
            continue;
        }
        if d.renamed_types.iter().any(|(old, _)| old == name) {
            continue;
        }
        let source = d
            .renamed_types
            .iter()
            .find(|(_, new)| new == name)
            .map_or(name.as_str(), |(old, _)| old.as_str());
        let f = from.get_key_value(source).map(|(k, v)| (k.as_str(), v));
        let t = to
            .get_key_value(name.as_str())
            .map(|(k, v)| (k.as_str(), v));
        out.push((f, t));
    }
    out
}

fn detect_types(
    q: &mut dyn Questions,
    from: &BTreeMap<String, TypeSchema>,
    to: &BTreeMap<String, TypeSchema>,
) -> KindDiff {
    let a: NameSet = from.keys().cloned().collect();
    let b: NameSet = to.keys().cloned().collect();
    let mut d = KindDiff {
        deleted_types: a.difference(&b).cloned().collect(),
        new_types: b.difference(&a).cloned().collect(),
        ..Default::default()
    };
    d.renamed_types = ask_renames(q, &d.new_types, &d.deleted_types, |old, new| {
        format!("Did you rename {old} to {new}?")
    });
    for (old, new) in &d.renamed_types {
        d.deleted_types.remove(old);
        d.new_types.remove(new);
    }
    d
}

fn detect_props(
    q: &mut dyn Questions,
    d: &mut KindDiff,
    from: &BTreeMap<String, TypeSchema>,
    to: &BTreeMap<String, TypeSchema>,
    keys: bool,
) {
    let empty = TypeSchema::default();
    for (f, t) in pairs(from, to, d, false) {
        let name = t.map_or("", |t| t.0).to_owned();
        let (f, t) = (f.map_or(&empty, |f| f.1), t.map_or(&empty, |t| t.1));
        let (old, new) = if keys {
            (f.keys(), t.keys())
        } else {
            (f.non_key_properties(), t.non_key_properties())
        };
        let deleted: NameSet = old.difference(&new).cloned().collect();
        let added: NameSet = new.difference(&old).cloned().collect();
        let renamed = ask_renames(q, &added, &deleted, |o, n| {
            format!("Did you rename {o} to {n} on {name}?")
        });
        let (del_set, add_set) = if keys {
            (&mut d.deleted_keys, &mut d.added_keys)
        } else {
            (&mut d.deleted_props, &mut d.added_props)
        };
        for p in &deleted {
            if !renamed.iter().any(|(o, _)| o == p) {
                del_set.insert((name.clone(), p.clone()));
            }
        }
        for p in &added {
            if !renamed.iter().any(|(_, n)| n == p) {
                add_set.insert((name.clone(), p.clone()));
            }
        }
        let ren = if keys {
            &mut d.renamed_keys
        } else {
            &mut d.renamed_props
        };
        ren.extend(renamed.into_iter().map(|(o, n)| (name.clone(), o, n)));
    }
}

fn detect_indexes(
    d: &mut KindDiff,
    from: &BTreeMap<String, TypeSchema>,
    to: &BTreeMap<String, TypeSchema>,
) {
    let empty = TypeSchema::default();
    for (f, t) in pairs(from, to, d, true) {
        let (fi, ti) = (
            f.map_or(&empty, |f| f.1).indexed(),
            t.map_or(&empty, |t| t.1).indexed(),
        );
        if let Some((name, _)) = f {
            d.deleted_indexes
                .extend(fi.difference(&ti).map(|p| (name.to_owned(), p.clone())));
        }
        if let Some((name, _)) = t {
            d.added_indexes
                .extend(ti.difference(&fi).map(|p| (name.to_owned(), p.clone())));
        }
    }
}

/// Operations that take the `migrated` state to the `project` state (spec §6.4), asking about renames.
pub fn diff(
    migrated: &Schema,
    project: &Schema,
    q: &mut dyn Questions,
) -> Result<Vec<Operation>, DiffError> {
    // Questions in Python's order: node types, relationship types, node properties, node keys,
    // relationship properties, relationship keys.
    let mut n = detect_types(q, &migrated.nodes, &project.nodes);
    let mut r = detect_types(q, &migrated.relationships, &project.relationships);
    detect_props(q, &mut n, &migrated.nodes, &project.nodes, false);
    detect_props(q, &mut n, &migrated.nodes, &project.nodes, true);
    detect_props(
        q,
        &mut r,
        &migrated.relationships,
        &project.relationships,
        false,
    );
    detect_indexes(&mut n, &migrated.nodes, &project.nodes);
    detect_indexes(&mut r, &migrated.relationships, &project.relationships);
    detect_props(
        q,
        &mut r,
        &migrated.relationships,
        &project.relationships,
        true,
    );

    use Operation::*;
    let mut ops = Vec::new();
    // Nodes: types, properties, indexes, keys.
    ops.extend(
        n.deleted_types
            .iter()
            .map(|t| DropNodeType { name: t.clone() }),
    );
    ops.extend(n.renamed_types.iter().map(|(o, t)| RenameNodeType {
        old_type: o.clone(),
        new_type: t.clone(),
    }));
    for t in &n.new_types {
        let def = &project.nodes[t];
        ops.push(CreateNodeType {
            name: t.clone(),
            keys: def.keys(),
            properties: def.non_key_properties(),
        });
    }
    for (t, p) in &n.deleted_props {
        if !n.added_keys.contains(&(t.clone(), p.clone())) {
            ops.push(DropNodeProperty {
                node_type: t.clone(),
                property_name: p.clone(),
            });
        }
    }
    ops.extend(n.renamed_props.iter().map(|(t, o, p)| RenameNodeProperty {
        node_type: t.clone(),
        old_property_name: o.clone(),
        new_property_name: p.clone(),
    }));
    ops.extend(n.added_props.iter().map(|(t, p)| AddNodeProperty {
        node_type: t.clone(),
        property_name: p.clone(),
        default: Literal::Null,
    }));
    ops.extend(
        n.deleted_indexes
            .iter()
            .map(|(t, f)| DropAdditionalNodePropertyIndex {
                node_type: t.clone(),
                field_name: f.clone(),
            }),
    );
    ops.extend(
        n.added_indexes
            .iter()
            .map(|(t, f)| AddAdditionalNodePropertyIndex {
                node_type: t.clone(),
                field_name: f.clone(),
            }),
    );
    if let Some((t, k)) = n.deleted_keys.iter().next() {
        return Err(DiffError::DeletedKey {
            kind: "node",
            type_name: t.clone(),
            key: k.clone(),
        });
    }
    ops.extend(n.renamed_keys.iter().map(|(t, o, k)| NodeKeyPartRenamed {
        node_type: t.clone(),
        old_key_part_name: o.clone(),
        new_key_part_name: k.clone(),
    }));
    ops.extend(n.added_keys.iter().map(|(t, k)| NodeKeyExtended {
        node_type: t.clone(),
        added_key_property: k.clone(),
        default: Literal::Null,
    }));

    // Relationships: the same four groups.
    ops.extend(
        r.deleted_types
            .iter()
            .map(|t| DropRelationshipType { name: t.clone() }),
    );
    ops.extend(r.renamed_types.iter().map(|(o, t)| RenameRelationshipType {
        old_type: o.clone(),
        new_type: t.clone(),
    }));
    for t in &r.new_types {
        let def = &project.relationships[t];
        ops.push(CreateRelationshipType {
            name: t.clone(),
            keys: def.keys(),
            properties: def.non_key_properties(),
        });
    }
    for (t, p) in &r.deleted_props {
        if !r.added_keys.contains(&(t.clone(), p.clone())) {
            ops.push(DropRelationshipProperty {
                relationship_type: t.clone(),
                property_name: p.clone(),
            });
        }
    }
    ops.extend(
        r.renamed_props
            .iter()
            .map(|(t, o, p)| RenameRelationshipProperty {
                relationship_type: t.clone(),
                old_property_name: o.clone(),
                new_property_name: p.clone(),
            }),
    );
    ops.extend(r.added_props.iter().map(|(t, p)| AddRelationshipProperty {
        relationship_type: t.clone(),
        property_name: p.clone(),
        default: Literal::Null,
    }));
    ops.extend(
        r.deleted_indexes
            .iter()
            .map(|(t, f)| DropAdditionalRelationshipPropertyIndex {
                relationship_type: t.clone(),
                field_name: f.clone(),
            }),
    );
    ops.extend(
        r.added_indexes
            .iter()
            .map(|(t, f)| AddAdditionalRelationshipPropertyIndex {
                relationship_type: t.clone(),
                field_name: f.clone(),
            }),
    );
    if let Some((t, k)) = r.deleted_keys.iter().next() {
        return Err(DiffError::DeletedKey {
            kind: "relationship",
            type_name: t.clone(),
            key: k.clone(),
        });
    }
    ops.extend(
        r.renamed_keys
            .iter()
            .map(|(t, o, k)| RelationshipKeyPartRenamed {
                relationship_type: t.clone(),
                old_key_part_name: o.clone(),
                new_key_part_name: k.clone(),
            }),
    );
    ops.extend(r.added_keys.iter().map(|(t, k)| RelationshipKeyExtended {
        relationship_type: t.clone(),
        added_key_property: k.clone(),
        default: Literal::Null,
    }));
    Ok(ops)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ty(keys: &[&str], props: &[&str], indexed: &[&str]) -> TypeSchema {
        let mut t = TypeSchema::default();
        for k in keys {
            t.add_property(
                k,
                PropertyMeta {
                    is_key: true,
                    is_indexed: false,
                },
            );
        }
        for p in props {
            t.add_property(p, PropertyMeta::default());
        }
        for i in indexed {
            t.add_property(
                i,
                PropertyMeta {
                    is_key: false,
                    is_indexed: true,
                },
            );
        }
        t
    }

    struct Answers(Vec<(String, bool)>, Vec<String>);
    impl Questions for Answers {
        fn ask(&mut self, question: &str) -> bool {
            self.1.push(question.to_owned());
            self.0
                .iter()
                .find(|(q, _)| q == question)
                .is_some_and(|(_, a)| *a)
        }
    }

    fn describe(ops: &[Operation]) -> Vec<String> {
        ops.iter().map(|o| o.to_string()).collect()
    }

    #[test]
    fn first_migration_creates_types_and_timestamp_indexes() {
        let mut project = Schema::default();
        project.nodes.insert(
            "Employee".into(),
            ty(&["employee_id"], &["name"], &["last_ingested_at"]),
        );
        project
            .relationships
            .insert("REPORTS_TO".into(), ty(&[], &[], &["last_ingested_at"]));
        let ops = diff(&Schema::default(), &project, &mut AlwaysNo).unwrap();
        assert_eq!(
            describe(&ops),
            [
                "Create node type Employee",
                "Add additional index for node type Employee on field last_ingested_at",
                "Create relationship type REPORTS_TO",
                "Add additional index for relationship type REPORTS_TO on field last_ingested_at",
            ]
        );
        let Operation::CreateNodeType {
            keys, properties, ..
        } = &ops[0]
        else {
            panic!()
        };
        assert_eq!(keys.iter().collect::<Vec<_>>(), ["employee_id"]);
        assert_eq!(
            properties.iter().collect::<Vec<_>>(),
            ["last_ingested_at", "name"]
        );
        // Replaying the generated operations reaches the project state: the next diff is empty.
        let mut replayed = Schema::default();
        for op in &ops {
            replayed.apply(op).unwrap();
        }
        assert_eq!(diff(&replayed, &project, &mut AlwaysNo).unwrap(), vec![]);
    }

    #[test]
    fn renames_are_asked_and_default_to_drop_and_create() {
        let mut before = Schema::default();
        before
            .nodes
            .insert("Person".into(), ty(&["id"], &["nick"], &[]));
        let mut after = Schema::default();
        after
            .nodes
            .insert("Human".into(), ty(&["id"], &["alias"], &[]));
        let ops = diff(&before, &after, &mut AlwaysNo).unwrap();
        assert_eq!(
            describe(&ops),
            ["Drop node type Person", "Create node type Human"]
        );

        let mut q = Answers(
            vec![
                ("Did you rename Person to Human?".into(), true),
                ("Did you rename nick to alias on Human?".into(), true),
            ],
            vec![],
        );
        let ops = diff(&before, &after, &mut q).unwrap();
        assert_eq!(
            describe(&ops),
            [
                "Rename node type Person to Human",
                "Rename node property nick to alias on node type Human"
            ]
        );
        assert_eq!(
            q.1,
            [
                "Did you rename Person to Human?",
                "Did you rename nick to alias on Human?"
            ]
        );
    }

    #[test]
    fn property_that_becomes_a_key_extends_the_key_without_dropping() {
        let mut before = Schema::default();
        before
            .nodes
            .insert("A".into(), ty(&["id"], &["name", "old"], &[]));
        let mut after = Schema::default();
        after
            .nodes
            .insert("A".into(), ty(&["id", "name"], &["new"], &["new"]));
        let ops = diff(&before, &after, &mut AlwaysNo).unwrap();
        assert_eq!(
            describe(&ops),
            [
                "Drop property old from node type A",
                "Add property new to node type A",
                "Add additional index for node type A on field new",
                "Extend key name on node type A",
            ]
        );
    }

    #[test]
    fn deleted_key_fails_and_deleted_type_drops_its_indexes() {
        let mut before = Schema::default();
        before
            .relationships
            .insert("R".into(), ty(&["k"], &[], &[]));
        let mut after = Schema::default();
        after.relationships.insert("R".into(), ty(&[], &["k"], &[]));
        let err = diff(&before, &after, &mut AlwaysNo).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Deleting relationship keys is not supported yet"),
            "{err}"
        );

        let mut before = Schema::default();
        before
            .nodes
            .insert("Gone".into(), ty(&[], &[], &["last_ingested_at"]));
        let ops = diff(&before, &Schema::default(), &mut AlwaysNo).unwrap();
        assert_eq!(
            describe(&ops),
            [
                "Drop node type Gone",
                "Drop additional index for node type Gone on field last_ingested_at"
            ]
        );
    }

    #[test]
    fn replay_errors_on_renaming_a_missing_property() {
        let mut s = Schema::default();
        let err = s
            .apply(&Operation::RenameNodeProperty {
                node_type: "A".into(),
                old_property_name: "x".into(),
                new_property_name: "y".into(),
            })
            .unwrap_err();
        assert_eq!(err, "Property x does not exist on type A.");
    }
}
