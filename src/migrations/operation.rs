//! The 20 migration operations (spec §6.2): names, arguments, descriptions and the squash optimiser (§6.5).

use std::collections::BTreeSet;
use std::fmt;

/// A value an operation carries as data (`default` of the property-adding operations), as read from YAML.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    /// `null` / `~`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string.
    Str(String),
    /// A list of values.
    List(Vec<Literal>),
}

impl Literal {
    /// Whether the value is null.
    pub fn is_null(&self) -> bool {
        matches!(self, Literal::Null)
    }

    /// The value as sent to Neo4j.
    pub fn to_bolt(&self) -> bolt::Value {
        match self {
            Literal::Null => bolt::Value::Null,
            Literal::Bool(b) => bolt::Value::Boolean(*b),
            Literal::Int(i) => bolt::Value::Integer(*i),
            Literal::Float(f) => bolt::Value::Float(*f),
            Literal::Str(s) => bolt::Value::String(s.clone()),
            Literal::List(items) => bolt::Value::List(items.iter().map(Literal::to_bolt).collect()),
        }
    }
}

/// An operation argument in a format-neutral shape, between the YAML tree and [`Operation`].
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    /// A scalar or list value.
    Value(Literal),
    /// A set of names (written as a `!!set` mapping).
    Set(BTreeSet<String>),
}

/// Names for sets of property names (`keys`, `properties`).
pub type NameSet = BTreeSet<String>;

/// One schema change. Field names are the YAML argument names.
#[derive(Debug, Clone, PartialEq)]
#[allow(missing_docs)] // Fields are named after the YAML arguments, documented in the spec table.
pub enum Operation {
    CreateNodeType {
        name: String,
        keys: NameSet,
        properties: NameSet,
    },
    CreateRelationshipType {
        name: String,
        keys: NameSet,
        properties: NameSet,
    },
    DropNodeType {
        name: String,
    },
    DropRelationshipType {
        name: String,
    },
    RenameNodeProperty {
        node_type: String,
        old_property_name: String,
        new_property_name: String,
    },
    RenameRelationshipProperty {
        relationship_type: String,
        old_property_name: String,
        new_property_name: String,
    },
    RenameNodeType {
        old_type: String,
        new_type: String,
    },
    RenameRelationshipType {
        old_type: String,
        new_type: String,
    },
    AddAdditionalNodePropertyIndex {
        node_type: String,
        field_name: String,
    },
    DropAdditionalNodePropertyIndex {
        node_type: String,
        field_name: String,
    },
    AddAdditionalRelationshipPropertyIndex {
        relationship_type: String,
        field_name: String,
    },
    DropAdditionalRelationshipPropertyIndex {
        relationship_type: String,
        field_name: String,
    },
    AddNodeProperty {
        node_type: String,
        property_name: String,
        default: Literal,
    },
    AddRelationshipProperty {
        relationship_type: String,
        property_name: String,
        default: Literal,
    },
    DropNodeProperty {
        node_type: String,
        property_name: String,
    },
    DropRelationshipProperty {
        relationship_type: String,
        property_name: String,
    },
    NodeKeyExtended {
        node_type: String,
        added_key_property: String,
        default: Literal,
    },
    RelationshipKeyExtended {
        relationship_type: String,
        added_key_property: String,
        default: Literal,
    },
    NodeKeyPartRenamed {
        node_type: String,
        old_key_part_name: String,
        new_key_part_name: String,
    },
    RelationshipKeyPartRenamed {
        relationship_type: String,
        old_key_part_name: String,
        new_key_part_name: String,
    },
}

/// Every operation name, as written in `operation:`.
pub const OPERATION_NAMES: [&str; 20] = [
    "CreateNodeType",
    "CreateRelationshipType",
    "DropNodeType",
    "DropRelationshipType",
    "RenameNodeProperty",
    "RenameRelationshipProperty",
    "RenameNodeType",
    "RenameRelationshipType",
    "AddAdditionalNodePropertyIndex",
    "DropAdditionalNodePropertyIndex",
    "AddAdditionalRelationshipPropertyIndex",
    "DropAdditionalRelationshipPropertyIndex",
    "AddNodeProperty",
    "AddRelationshipProperty",
    "DropNodeProperty",
    "DropRelationshipProperty",
    "NodeKeyExtended",
    "RelationshipKeyExtended",
    "NodeKeyPartRenamed",
    "RelationshipKeyPartRenamed",
];

/// Why an operation's file data could not be turned into an [`Operation`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum OperationError {
    /// Unknown `operation:` name.
    #[error("Operation '{0}' is not registered (known operations: {known})", known = OPERATION_NAMES.join(", "))]
    Unknown(String),
    /// A required argument is absent.
    #[error("operation {operation}: missing argument `{argument}`")]
    Missing {
        /// Operation name.
        operation: String,
        /// Argument name.
        argument: &'static str,
    },
    /// An argument has the wrong shape.
    #[error("operation {operation}: argument `{argument}` must be {expected}")]
    Invalid {
        /// Operation name.
        operation: String,
        /// Argument name.
        argument: String,
        /// What was expected.
        expected: &'static str,
    },
    /// An argument the operation does not take.
    #[error("operation {operation}: unexpected argument `{argument}`")]
    Unexpected {
        /// Operation name.
        operation: String,
        /// Argument name.
        argument: String,
    },
}

/// Reads named arguments, remembering which were used so unknown ones can be reported.
struct Args<'a> {
    op: &'a str,
    args: &'a [(String, Arg)],
    used: Vec<bool>,
}

impl<'a> Args<'a> {
    fn new(op: &'a str, args: &'a [(String, Arg)]) -> Self {
        Args {
            op,
            args,
            used: vec![false; args.len()],
        }
    }

    fn get(&mut self, name: &'static str) -> Option<&'a Arg> {
        let i = self.args.iter().position(|(k, _)| k == name)?;
        self.used[i] = true;
        Some(&self.args[i].1)
    }

    fn invalid(&self, argument: &str, expected: &'static str) -> OperationError {
        OperationError::Invalid {
            operation: self.op.to_owned(),
            argument: argument.to_owned(),
            expected,
        }
    }

    fn string(&mut self, name: &'static str) -> Result<String, OperationError> {
        match self.get(name) {
            Some(Arg::Value(Literal::Str(s))) => Ok(s.clone()),
            // PyYAML would hand over e.g. an int for an unquoted `123`; names are strings, so accept its text.
            Some(Arg::Value(Literal::Int(i))) => Ok(i.to_string()),
            Some(_) => Err(self.invalid(name, "a string")),
            None => Err(OperationError::Missing {
                operation: self.op.to_owned(),
                argument: name,
            }),
        }
    }

    fn set(&mut self, name: &'static str) -> Result<NameSet, OperationError> {
        match self.get(name) {
            Some(Arg::Set(s)) => Ok(s.clone()),
            Some(Arg::Value(Literal::List(items))) => items
                .iter()
                .map(|item| match item {
                    Literal::Str(s) => Ok(s.clone()),
                    _ => Err(self.invalid(name, "a set or list of strings")),
                })
                .collect(),
            Some(Arg::Value(Literal::Null)) => Ok(NameSet::new()),
            Some(_) => Err(self.invalid(name, "a set or list of strings")),
            None => Err(OperationError::Missing {
                operation: self.op.to_owned(),
                argument: name,
            }),
        }
    }

    fn literal(&mut self, name: &'static str, required: bool) -> Result<Literal, OperationError> {
        match self.get(name) {
            Some(Arg::Value(v)) => Ok(v.clone()),
            Some(Arg::Set(s)) => Ok(Literal::List(s.iter().cloned().map(Literal::Str).collect())),
            None if required => Err(OperationError::Missing {
                operation: self.op.to_owned(),
                argument: name,
            }),
            None => Ok(Literal::Null),
        }
    }

    fn finish(self) -> Result<(), OperationError> {
        match self.used.iter().position(|u| !u) {
            Some(i) => Err(OperationError::Unexpected {
                operation: self.op.to_owned(),
                argument: self.args[i].0.clone(),
            }),
            None => Ok(()),
        }
    }
}

fn s(v: &str) -> Arg {
    Arg::Value(Literal::Str(v.to_owned()))
}

impl Operation {
    /// Builds an operation from its `operation:` name and `arguments:` map.
    pub fn from_args(op: &str, args: &[(String, Arg)]) -> Result<Operation, OperationError> {
        use Operation::*;
        let mut a = Args::new(op, args);
        let operation = match op {
            "CreateNodeType" => CreateNodeType {
                name: a.string("name")?,
                keys: a.set("keys")?,
                properties: a.set("properties")?,
            },
            "CreateRelationshipType" => CreateRelationshipType {
                name: a.string("name")?,
                keys: a.set("keys")?,
                properties: a.set("properties")?,
            },
            "DropNodeType" => DropNodeType {
                name: a.string("name")?,
            },
            "DropRelationshipType" => DropRelationshipType {
                name: a.string("name")?,
            },
            "RenameNodeProperty" => RenameNodeProperty {
                node_type: a.string("node_type")?,
                old_property_name: a.string("old_property_name")?,
                new_property_name: a.string("new_property_name")?,
            },
            "RenameRelationshipProperty" => RenameRelationshipProperty {
                relationship_type: a.string("relationship_type")?,
                old_property_name: a.string("old_property_name")?,
                new_property_name: a.string("new_property_name")?,
            },
            "RenameNodeType" => RenameNodeType {
                old_type: a.string("old_type")?,
                new_type: a.string("new_type")?,
            },
            "RenameRelationshipType" => RenameRelationshipType {
                old_type: a.string("old_type")?,
                new_type: a.string("new_type")?,
            },
            "AddAdditionalNodePropertyIndex" => AddAdditionalNodePropertyIndex {
                node_type: a.string("node_type")?,
                field_name: a.string("field_name")?,
            },
            "DropAdditionalNodePropertyIndex" => DropAdditionalNodePropertyIndex {
                node_type: a.string("node_type")?,
                field_name: a.string("field_name")?,
            },
            "AddAdditionalRelationshipPropertyIndex" => AddAdditionalRelationshipPropertyIndex {
                relationship_type: a.string("relationship_type")?,
                field_name: a.string("field_name")?,
            },
            "DropAdditionalRelationshipPropertyIndex" => DropAdditionalRelationshipPropertyIndex {
                relationship_type: a.string("relationship_type")?,
                field_name: a.string("field_name")?,
            },
            "AddNodeProperty" => AddNodeProperty {
                node_type: a.string("node_type")?,
                property_name: a.string("property_name")?,
                default: a.literal("default", false)?,
            },
            "AddRelationshipProperty" => AddRelationshipProperty {
                relationship_type: a.string("relationship_type")?,
                property_name: a.string("property_name")?,
                default: a.literal("default", false)?,
            },
            "DropNodeProperty" => DropNodeProperty {
                node_type: a.string("node_type")?,
                property_name: a.string("property_name")?,
            },
            "DropRelationshipProperty" => DropRelationshipProperty {
                relationship_type: a.string("relationship_type")?,
                property_name: a.string("property_name")?,
            },
            "NodeKeyExtended" => NodeKeyExtended {
                node_type: a.string("node_type")?,
                added_key_property: a.string("added_key_property")?,
                default: a.literal("default", true)?,
            },
            "RelationshipKeyExtended" => RelationshipKeyExtended {
                relationship_type: a.string("relationship_type")?,
                added_key_property: a.string("added_key_property")?,
                default: a.literal("default", true)?,
            },
            "NodeKeyPartRenamed" => NodeKeyPartRenamed {
                node_type: a.string("node_type")?,
                old_key_part_name: a.string("old_key_part_name")?,
                new_key_part_name: a.string("new_key_part_name")?,
            },
            "RelationshipKeyPartRenamed" => RelationshipKeyPartRenamed {
                relationship_type: a.string("relationship_type")?,
                old_key_part_name: a.string("old_key_part_name")?,
                new_key_part_name: a.string("new_key_part_name")?,
            },
            other => return Err(OperationError::Unknown(other.to_owned())),
        };
        a.finish()?;
        Ok(operation)
    }

    /// The `operation:` name.
    pub fn type_name(&self) -> &'static str {
        use Operation::*;
        match self {
            CreateNodeType { .. } => "CreateNodeType",
            CreateRelationshipType { .. } => "CreateRelationshipType",
            DropNodeType { .. } => "DropNodeType",
            DropRelationshipType { .. } => "DropRelationshipType",
            RenameNodeProperty { .. } => "RenameNodeProperty",
            RenameRelationshipProperty { .. } => "RenameRelationshipProperty",
            RenameNodeType { .. } => "RenameNodeType",
            RenameRelationshipType { .. } => "RenameRelationshipType",
            AddAdditionalNodePropertyIndex { .. } => "AddAdditionalNodePropertyIndex",
            DropAdditionalNodePropertyIndex { .. } => "DropAdditionalNodePropertyIndex",
            AddAdditionalRelationshipPropertyIndex { .. } => {
                "AddAdditionalRelationshipPropertyIndex"
            }
            DropAdditionalRelationshipPropertyIndex { .. } => {
                "DropAdditionalRelationshipPropertyIndex"
            }
            AddNodeProperty { .. } => "AddNodeProperty",
            AddRelationshipProperty { .. } => "AddRelationshipProperty",
            DropNodeProperty { .. } => "DropNodeProperty",
            DropRelationshipProperty { .. } => "DropRelationshipProperty",
            NodeKeyExtended { .. } => "NodeKeyExtended",
            RelationshipKeyExtended { .. } => "RelationshipKeyExtended",
            NodeKeyPartRenamed { .. } => "NodeKeyPartRenamed",
            RelationshipKeyPartRenamed { .. } => "RelationshipKeyPartRenamed",
        }
    }

    /// The arguments, in Python's field order (the file writer sorts them).
    pub fn to_args(&self) -> Vec<(&'static str, Arg)> {
        use Operation::*;
        let lit = |l: &Literal| Arg::Value(l.clone());
        match self {
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
                vec![
                    ("name", s(name)),
                    ("keys", Arg::Set(keys.clone())),
                    ("properties", Arg::Set(properties.clone())),
                ]
            }
            DropNodeType { name } | DropRelationshipType { name } => vec![("name", s(name))],
            RenameNodeProperty {
                node_type,
                old_property_name,
                new_property_name,
            } => vec![
                ("node_type", s(node_type)),
                ("old_property_name", s(old_property_name)),
                ("new_property_name", s(new_property_name)),
            ],
            RenameRelationshipProperty {
                relationship_type,
                old_property_name,
                new_property_name,
            } => vec![
                ("relationship_type", s(relationship_type)),
                ("old_property_name", s(old_property_name)),
                ("new_property_name", s(new_property_name)),
            ],
            RenameNodeType { old_type, new_type }
            | RenameRelationshipType { old_type, new_type } => {
                vec![("old_type", s(old_type)), ("new_type", s(new_type))]
            }
            AddAdditionalNodePropertyIndex {
                node_type,
                field_name,
            }
            | DropAdditionalNodePropertyIndex {
                node_type,
                field_name,
            } => {
                vec![("node_type", s(node_type)), ("field_name", s(field_name))]
            }
            AddAdditionalRelationshipPropertyIndex {
                relationship_type,
                field_name,
            }
            | DropAdditionalRelationshipPropertyIndex {
                relationship_type,
                field_name,
            } => {
                vec![
                    ("relationship_type", s(relationship_type)),
                    ("field_name", s(field_name)),
                ]
            }
            AddNodeProperty {
                node_type,
                property_name,
                default,
            } => {
                vec![
                    ("node_type", s(node_type)),
                    ("property_name", s(property_name)),
                    ("default", lit(default)),
                ]
            }
            AddRelationshipProperty {
                relationship_type,
                property_name,
                default,
            } => vec![
                ("relationship_type", s(relationship_type)),
                ("property_name", s(property_name)),
                ("default", lit(default)),
            ],
            DropNodeProperty {
                node_type,
                property_name,
            } => vec![
                ("node_type", s(node_type)),
                ("property_name", s(property_name)),
            ],
            DropRelationshipProperty {
                relationship_type,
                property_name,
            } => {
                vec![
                    ("relationship_type", s(relationship_type)),
                    ("property_name", s(property_name)),
                ]
            }
            NodeKeyExtended {
                node_type,
                added_key_property,
                default,
            } => vec![
                ("node_type", s(node_type)),
                ("added_key_property", s(added_key_property)),
                ("default", lit(default)),
            ],
            RelationshipKeyExtended {
                relationship_type,
                added_key_property,
                default,
            } => vec![
                ("relationship_type", s(relationship_type)),
                ("added_key_property", s(added_key_property)),
                ("default", lit(default)),
            ],
            NodeKeyPartRenamed {
                node_type,
                old_key_part_name,
                new_key_part_name,
            } => vec![
                ("node_type", s(node_type)),
                ("old_key_part_name", s(old_key_part_name)),
                ("new_key_part_name", s(new_key_part_name)),
            ],
            RelationshipKeyPartRenamed {
                relationship_type,
                old_key_part_name,
                new_key_part_name,
            } => vec![
                ("relationship_type", s(relationship_type)),
                ("old_key_part_name", s(old_key_part_name)),
                ("new_key_part_name", s(new_key_part_name)),
            ],
        }
    }

    /// The slug used in a generated migration's name: the description, lower-cased, spaces → `_`.
    pub fn name_slug(&self) -> String {
        self.to_string()
            .to_lowercase()
            .split(' ')
            .collect::<Vec<_>>()
            .join("_")
    }

    /// Reduces `self` (the later operation) with an `earlier` one, as Python's `Operation.reduce`:
    /// `None` when they cannot be combined, else the (0 or 1) operations equivalent to both.
    pub fn reduce(&self, earlier: &Operation) -> Option<Vec<Operation>> {
        use Operation::*;
        let reduced = match (self, earlier) {
            (CreateNodeType { name, .. }, DropNodeType { name: other }) if name == other => vec![],
            (CreateRelationshipType { name, .. }, DropRelationshipType { name: other })
                if name == other =>
            {
                vec![]
            }
            (DropNodeType { name }, CreateNodeType { name: other, .. }) if name == other => vec![],
            (
                DropNodeType { name },
                AddNodeProperty { node_type, .. }
                | DropNodeProperty { node_type, .. }
                | RenameNodeProperty { node_type, .. },
            ) if name == node_type => {
                vec![self.clone()]
            }
            (DropRelationshipType { name }, CreateRelationshipType { name: other, .. })
                if name == other =>
            {
                vec![]
            }
            (
                DropRelationshipType { name },
                AddRelationshipProperty {
                    relationship_type, ..
                }
                | DropRelationshipProperty {
                    relationship_type, ..
                }
                | RenameRelationshipProperty {
                    relationship_type, ..
                },
            ) if name == relationship_type => vec![self.clone()],
            (
                RenameNodeProperty {
                    node_type,
                    old_property_name,
                    new_property_name,
                },
                AddNodeProperty {
                    node_type: t,
                    property_name,
                    default,
                },
            ) if node_type == t && property_name == old_property_name => vec![AddNodeProperty {
                node_type: node_type.clone(),
                property_name: new_property_name.clone(),
                default: default.clone(),
            }],
            (
                RenameNodeProperty {
                    node_type,
                    old_property_name,
                    ..
                },
                DropNodeProperty {
                    node_type: t,
                    property_name,
                },
            ) if node_type == t && property_name == old_property_name => {
                vec![DropNodeProperty {
                    node_type: node_type.clone(),
                    property_name: old_property_name.clone(),
                }]
            }
            (
                RenameRelationshipProperty {
                    relationship_type,
                    old_property_name,
                    new_property_name,
                },
                AddRelationshipProperty {
                    relationship_type: t,
                    property_name,
                    default,
                },
            ) if relationship_type == t && property_name == old_property_name => {
                vec![AddRelationshipProperty {
                    relationship_type: relationship_type.clone(),
                    property_name: new_property_name.clone(),
                    default: default.clone(),
                }]
            }
            (
                RenameRelationshipProperty {
                    relationship_type,
                    old_property_name,
                    ..
                },
                DropRelationshipProperty {
                    relationship_type: t,
                    property_name,
                },
            ) if relationship_type == t && property_name == old_property_name => {
                vec![DropRelationshipProperty {
                    relationship_type: relationship_type.clone(),
                    property_name: old_property_name.clone(),
                }]
            }
            (
                RenameNodeType { old_type, new_type },
                CreateNodeType {
                    name,
                    keys,
                    properties,
                },
            ) if name == old_type => {
                vec![CreateNodeType {
                    name: new_type.clone(),
                    keys: keys.clone(),
                    properties: properties.clone(),
                }]
            }
            (RenameNodeType { old_type, new_type }, DropNodeType { name }) if name == new_type => {
                vec![DropNodeType {
                    name: old_type.clone(),
                }]
            }
            (
                RenameRelationshipType { old_type, new_type },
                CreateRelationshipType {
                    name,
                    keys,
                    properties,
                },
            ) if name == old_type => {
                vec![CreateRelationshipType {
                    name: new_type.clone(),
                    keys: keys.clone(),
                    properties: properties.clone(),
                }]
            }
            (RenameRelationshipType { old_type, new_type }, DropRelationshipType { name })
                if name == new_type =>
            {
                vec![DropRelationshipType {
                    name: old_type.clone(),
                }]
            }
            (
                AddNodeProperty {
                    node_type,
                    property_name,
                    default,
                },
                RenameNodeProperty {
                    node_type: t,
                    old_property_name,
                    new_property_name,
                },
            ) if node_type == t && old_property_name == property_name => vec![AddNodeProperty {
                node_type: node_type.clone(),
                property_name: new_property_name.clone(),
                default: default.clone(),
            }],
            (
                AddNodeProperty {
                    node_type,
                    property_name,
                    ..
                },
                DropNodeProperty {
                    node_type: t,
                    property_name: p,
                },
            ) if node_type == t && property_name == p => {
                vec![]
            }
            (
                AddRelationshipProperty {
                    relationship_type,
                    property_name,
                    default,
                },
                RenameRelationshipProperty {
                    relationship_type: t,
                    old_property_name,
                    new_property_name,
                },
            ) if relationship_type == t && old_property_name == property_name => {
                vec![AddRelationshipProperty {
                    relationship_type: relationship_type.clone(),
                    property_name: new_property_name.clone(),
                    default: default.clone(),
                }]
            }
            (
                AddRelationshipProperty {
                    relationship_type,
                    property_name,
                    ..
                },
                DropRelationshipProperty {
                    relationship_type: t,
                    property_name: p,
                },
            ) if relationship_type == t && property_name == p => vec![],
            (
                DropNodeProperty {
                    node_type,
                    property_name,
                },
                AddNodeProperty {
                    node_type: t,
                    property_name: p,
                    ..
                },
            ) if node_type == t && property_name == p => {
                vec![]
            }
            (
                DropNodeProperty {
                    node_type,
                    property_name,
                },
                RenameNodeProperty {
                    node_type: t,
                    old_property_name,
                    ..
                },
            ) if node_type == t && old_property_name == property_name => {
                vec![self.clone()]
            }
            (
                DropRelationshipProperty {
                    relationship_type,
                    property_name,
                },
                AddRelationshipProperty {
                    relationship_type: t,
                    property_name: p,
                    ..
                },
            ) if relationship_type == t && property_name == p => vec![],
            (
                DropRelationshipProperty {
                    relationship_type,
                    property_name,
                },
                RenameRelationshipProperty {
                    relationship_type: t,
                    old_property_name,
                    ..
                },
            ) if relationship_type == t && old_property_name == property_name => vec![self.clone()],
            _ if self == earlier => vec![self.clone()],
            _ => return None,
        };
        Some(reduced)
    }

    /// Pairwise reduction until nothing changes (spec §6.5), with Python's scan order: from the end, each
    /// operation against the earlier ones nearest first; the first reducible pair is removed (with every
    /// operation equal to either) and the result appended at the end.
    pub fn optimize(operations: Vec<Operation>) -> Vec<Operation> {
        let mut current = operations;
        while let Some(next) = reduce_once(&current) {
            current = next;
        }
        current
    }
}

fn reduce_once(operations: &[Operation]) -> Option<Vec<Operation>> {
    for later_index in (0..operations.len()).rev() {
        let later = &operations[later_index];
        for earlier in operations[..later_index].iter().rev() {
            if let Some(reduced) = later.reduce(earlier) {
                let mut out: Vec<Operation> = operations
                    .iter()
                    .filter(|o| *o != later && *o != earlier)
                    .cloned()
                    .collect();
                out.extend(reduced);
                if out.as_slice() == operations {
                    // A fixed point (Python compares lists and stops).
                    return None;
                }
                return Some(out);
            }
        }
    }
    None
}

impl fmt::Display for Operation {
    /// The description printed by `make`/`squash` (spec §6.2 "Describe text").
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use Operation::*;
        match self {
            CreateNodeType { name, .. } => write!(f, "Create node type {name}"),
            CreateRelationshipType { name, .. } => write!(f, "Create relationship type {name}"),
            DropNodeType { name } => write!(f, "Drop node type {name}"),
            DropRelationshipType { name } => write!(f, "Drop relationship {name}"),
            RenameNodeProperty {
                node_type,
                old_property_name,
                new_property_name,
            } => {
                write!(
                    f,
                    "Rename node property {old_property_name} to {new_property_name} on node type {node_type}"
                )
            }
            RenameRelationshipProperty {
                relationship_type,
                old_property_name,
                new_property_name,
            } => write!(
                f,
                "Rename relationship property {old_property_name} to {new_property_name} on relationship type {relationship_type}"
            ),
            RenameNodeType { old_type, new_type } => {
                write!(f, "Rename node type {old_type} to {new_type}")
            }
            RenameRelationshipType { old_type, new_type } => {
                write!(f, "Rename relationship type {old_type} to {new_type}")
            }
            AddAdditionalNodePropertyIndex {
                node_type,
                field_name,
            } => {
                write!(
                    f,
                    "Add additional index for node type {node_type} on field {field_name}"
                )
            }
            DropAdditionalNodePropertyIndex {
                node_type,
                field_name,
            } => {
                write!(
                    f,
                    "Drop additional index for node type {node_type} on field {field_name}"
                )
            }
            AddAdditionalRelationshipPropertyIndex {
                relationship_type,
                field_name,
            } => {
                write!(
                    f,
                    "Add additional index for relationship type {relationship_type} on field {field_name}"
                )
            }
            DropAdditionalRelationshipPropertyIndex {
                relationship_type,
                field_name,
            } => {
                write!(
                    f,
                    "Drop additional index for relationship type {relationship_type} on field {field_name}"
                )
            }
            AddNodeProperty {
                node_type,
                property_name,
                ..
            } => write!(f, "Add property {property_name} to node type {node_type}"),
            AddRelationshipProperty {
                relationship_type,
                property_name,
                ..
            } => {
                write!(
                    f,
                    "Add property {property_name} to relationship type {relationship_type}"
                )
            }
            DropNodeProperty {
                node_type,
                property_name,
            } => write!(
                f,
                "Drop property {property_name} from node type {node_type}"
            ),
            DropRelationshipProperty {
                relationship_type,
                property_name,
            } => {
                write!(
                    f,
                    "Drop property {property_name} from relationship type {relationship_type}"
                )
            }
            NodeKeyExtended {
                node_type,
                added_key_property,
                ..
            } => {
                write!(
                    f,
                    "Extend key {added_key_property} on node type {node_type}"
                )
            }
            RelationshipKeyExtended {
                relationship_type,
                added_key_property,
                ..
            } => {
                write!(
                    f,
                    "Extend key {added_key_property} on relationship type {relationship_type}"
                )
            }
            NodeKeyPartRenamed {
                node_type,
                old_key_part_name,
                new_key_part_name,
            } => {
                write!(
                    f,
                    "Rename key part {old_key_part_name} to {new_key_part_name} on node type {node_type}"
                )
            }
            RelationshipKeyPartRenamed {
                relationship_type,
                old_key_part_name,
                new_key_part_name,
            } => write!(
                f,
                "Rename key part {old_key_part_name} to {new_key_part_name} on relationship type {relationship_type}"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(items: &[&str]) -> NameSet {
        items.iter().map(|s| s.to_string()).collect()
    }

    fn create(name: &str) -> Operation {
        Operation::CreateNodeType {
            name: name.into(),
            keys: set(&["id"]),
            properties: set(&["p"]),
        }
    }

    #[test]
    fn every_operation_round_trips_through_its_arguments() {
        for name in OPERATION_NAMES {
            let args: Vec<(String, Arg)> = sample_args(name);
            let op = Operation::from_args(name, &args).unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(op.type_name(), name);
            let back: Vec<(String, Arg)> = op
                .to_args()
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v))
                .collect();
            assert_eq!(Operation::from_args(name, &back).as_ref(), Ok(&op));
        }
    }

    fn sample_args(name: &str) -> Vec<(String, Arg)> {
        let string_args = [
            "name",
            "node_type",
            "relationship_type",
            "old_property_name",
            "new_property_name",
            "old_type",
            "new_type",
            "field_name",
            "property_name",
            "added_key_property",
            "old_key_part_name",
            "new_key_part_name",
        ];
        // Build from a known-good instance per name: try all string args, drop those rejected as unexpected.
        let mut args: Vec<(String, Arg)> =
            string_args.iter().map(|a| (a.to_string(), s(a))).collect();
        args.push(("keys".into(), Arg::Set(set(&["k"]))));
        args.push((
            "properties".into(),
            Arg::Value(Literal::List(vec![Literal::Str("p".into())])),
        ));
        args.push(("default".into(), Arg::Value(Literal::Int(4))));
        loop {
            match Operation::from_args(name, &args) {
                Err(OperationError::Unexpected { argument, .. }) => {
                    args.retain(|(k, _)| *k != argument)
                }
                _ => return args,
            }
        }
    }

    #[test]
    fn unknown_operation_and_bad_arguments_are_named() {
        let err = Operation::from_args("MakeCoffee", &[]).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("Operation 'MakeCoffee' is not registered"),
            "{err}"
        );
        let err = Operation::from_args("DropNodeType", &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "operation DropNodeType: missing argument `name`"
        );
        let err = Operation::from_args(
            "DropNodeType",
            &[("name".into(), s("A")), ("x".into(), s("y"))],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "operation DropNodeType: unexpected argument `x`"
        );
        let err = Operation::from_args(
            "CreateNodeType",
            &[("name".into(), s("A")), ("keys".into(), s("id"))],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "operation CreateNodeType: argument `keys` must be a set or list of strings"
        );
    }

    #[test]
    fn add_node_property_default_is_optional_but_key_extension_default_is_required() {
        let op = Operation::from_args(
            "AddNodeProperty",
            &[
                ("node_type".into(), s("A")),
                ("property_name".into(), s("p")),
            ],
        )
        .unwrap();
        assert_eq!(
            op,
            Operation::AddNodeProperty {
                node_type: "A".into(),
                property_name: "p".into(),
                default: Literal::Null
            }
        );
        let err = Operation::from_args(
            "NodeKeyExtended",
            &[
                ("node_type".into(), s("A")),
                ("added_key_property".into(), s("p")),
            ],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "operation NodeKeyExtended: missing argument `default`"
        );
    }

    #[test]
    fn descriptions_and_slugs_match_python() {
        let op = Operation::AddAdditionalNodePropertyIndex {
            node_type: "Employee".into(),
            field_name: "last_ingested_at".into(),
        };
        assert_eq!(
            op.to_string(),
            "Add additional index for node type Employee on field last_ingested_at"
        );
        assert_eq!(
            op.name_slug(),
            "add_additional_index_for_node_type_employee_on_field_last_ingested_at"
        );
        assert_eq!(
            Operation::DropRelationshipType { name: "R".into() }.to_string(),
            "Drop relationship R"
        );
    }

    #[test]
    fn create_then_drop_cancels_and_rename_folds_into_create() {
        let ops = vec![create("A"), Operation::DropNodeType { name: "A".into() }];
        assert_eq!(Operation::optimize(ops), vec![]);
        let ops = vec![
            create("A"),
            Operation::RenameNodeType {
                old_type: "A".into(),
                new_type: "B".into(),
            },
        ];
        assert_eq!(Operation::optimize(ops), vec![create("B")]);
    }

    #[test]
    fn add_rename_drop_of_a_property_collapses() {
        let add = Operation::AddNodeProperty {
            node_type: "A".into(),
            property_name: "x".into(),
            default: Literal::Int(1),
        };
        let rename = Operation::RenameNodeProperty {
            node_type: "A".into(),
            old_property_name: "x".into(),
            new_property_name: "y".into(),
        };
        let out = Operation::optimize(vec![add.clone(), rename]);
        assert_eq!(
            out,
            vec![Operation::AddNodeProperty {
                node_type: "A".into(),
                property_name: "y".into(),
                default: Literal::Int(1)
            }]
        );
        let drop = Operation::DropNodeProperty {
            node_type: "A".into(),
            property_name: "x".into(),
        };
        assert_eq!(Operation::optimize(vec![add, drop]), vec![]);
    }

    #[test]
    fn drop_type_absorbs_property_operations_and_duplicates_collapse() {
        let idx = Operation::AddAdditionalNodePropertyIndex {
            node_type: "B".into(),
            field_name: "f".into(),
        };
        let ops = vec![
            idx.clone(),
            Operation::AddNodeProperty {
                node_type: "A".into(),
                property_name: "x".into(),
                default: Literal::Null,
            },
            idx.clone(),
            Operation::DropNodeType { name: "A".into() },
        ];
        // Python's result (verified): the reduced operation goes to the end of the remaining ones.
        assert_eq!(
            Operation::optimize(ops),
            vec![Operation::DropNodeType { name: "A".into() }, idx]
        );
    }

    #[test]
    fn unrelated_operations_keep_their_order() {
        let ops = vec![
            create("A"),
            create("B"),
            Operation::DropNodeType { name: "C".into() },
        ];
        assert_eq!(Operation::optimize(ops.clone()), ops);
    }
}
