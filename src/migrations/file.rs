//! Migration files (spec §6.1): `<project dir>/migrations/*.yaml`, keys sorted, `!!set` for sets.

use super::graph::{Migration, MigrationGraph};
use super::operation::{Arg, Literal, Operation};
use crate::project::yaml::{self, EmitOptions, Kind, ScalarValue, YamlNode};
use std::path::{Path, PathBuf};

/// A migration file that cannot be read.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    /// YAML syntax, or the file cannot be read.
    #[error(transparent)]
    Yaml(#[from] yaml::YamlError),
    /// The content does not describe a migration.
    #[error("{file}:{line}:{col}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// Line, from 1.
        line: usize,
        /// Column, from 1.
        col: usize,
        /// What is wrong.
        message: String,
    },
    /// The directory cannot be listed, or a file written.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: String,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// The migrations do not form a valid graph.
    #[error("{dir}: {source}")]
    Graph {
        /// The migrations directory.
        dir: String,
        /// The problem.
        #[source]
        source: super::graph::GraphError,
    },
}

fn invalid(file: &str, node: &YamlNode, message: impl Into<String>) -> FileError {
    FileError::Invalid {
        file: file.to_owned(),
        line: node.mark.line,
        col: node.mark.col,
        message: message.into(),
    }
}

fn literal(file: &str, node: &YamlNode) -> Result<Literal, FileError> {
    match &node.kind {
        Kind::Scalar(s) => Ok(match s.value {
            ScalarValue::Null => Literal::Null,
            ScalarValue::Bool(b) => Literal::Bool(b),
            ScalarValue::Int(i) => Literal::Int(i),
            ScalarValue::Float(f) => Literal::Float(f),
            ScalarValue::Str => Literal::Str(s.raw.clone()),
        }),
        Kind::Seq(items) => Ok(Literal::List(
            items
                .iter()
                .map(|i| literal(file, i))
                .collect::<Result<_, _>>()?,
        )),
        Kind::Map(_) => Err(invalid(
            file,
            node,
            "expected a scalar or a list, found a mapping",
        )),
    }
}

fn arg(file: &str, node: &YamlNode) -> Result<Arg, FileError> {
    match (&node.kind, node.tag.as_deref()) {
        (Kind::Map(entries), Some("!!set" | "tag:yaml.org,2002:set")) => entries
            .iter()
            .map(|(k, _)| {
                k.as_scalar()
                    .map(|s| s.raw.clone())
                    .ok_or_else(|| invalid(file, k, "set members must be names"))
            })
            .collect::<Result<_, _>>()
            .map(Arg::Set),
        _ => literal(file, node).map(Arg::Value),
    }
}

/// A name-like scalar's text (names are strings; an unquoted number is taken by its text).
fn text(file: &str, node: &YamlNode, what: &str) -> Result<String, FileError> {
    match node.as_scalar() {
        Some(s) if s.value != ScalarValue::Null && !matches!(s.value, ScalarValue::Bool(_)) => {
            Ok(s.raw.clone())
        }
        _ => Err(invalid(
            file,
            node,
            format!("`{what}` must be a string, found {}", node.type_name()),
        )),
    }
}

fn names(file: &str, node: &YamlNode, what: &str) -> Result<Vec<String>, FileError> {
    let items = node.as_seq().ok_or_else(|| {
        invalid(
            file,
            node,
            format!(
                "`{what}` must be a list of names, found {}",
                node.type_name()
            ),
        )
    })?;
    items.iter().map(|i| text(file, i, what)).collect()
}

/// Parses one migration document; `file` names it in errors.
pub fn parse(src: &str, file: &str) -> Result<Migration, FileError> {
    let root = yaml::load_str(src, file)?;
    let entries = root.as_map().ok_or_else(|| {
        invalid(
            file,
            &root,
            format!("a migration must be a mapping, found {}", root.type_name()),
        )
    })?;
    for (k, _) in entries {
        if !matches!(
            k.as_str(),
            Some("name" | "operations" | "dependencies" | "replaces")
        ) {
            return Err(invalid(
                file,
                k,
                format!(
                    "unknown key `{}` (expected name, operations, dependencies, replaces)",
                    k.key_text()
                ),
            ));
        }
    }
    let required = |key: &str| {
        root.get(key)
            .ok_or_else(|| invalid(file, &root, format!("missing key `{key}`")))
    };
    let name = text(file, required("name")?, "name")?;
    let dependencies = names(file, required("dependencies")?, "dependencies")?;
    let replaces = match root.get("replaces") {
        Some(r) => names(file, r, "replaces")?,
        None => Vec::new(),
    };
    let ops_node = required("operations")?;
    let ops = ops_node
        .as_seq()
        .ok_or_else(|| invalid(file, ops_node, "`operations` must be a list"))?;
    let mut operations = Vec::with_capacity(ops.len());
    for op in ops {
        let entries = op.as_map().ok_or_else(|| {
            invalid(
                file,
                op,
                "an operation must be a mapping with `operation` and `arguments`",
            )
        })?;
        if let Some((k, _)) = entries
            .iter()
            .find(|(k, _)| !matches!(k.as_str(), Some("operation" | "arguments")))
        {
            return Err(invalid(
                file,
                k,
                format!("unknown key `{}` in an operation", k.key_text()),
            ));
        }
        let type_node = op
            .get("operation")
            .ok_or_else(|| invalid(file, op, "missing key `operation`"))?;
        let type_name = text(file, type_node, "operation")?;
        let args_node = op
            .get("arguments")
            .ok_or_else(|| invalid(file, op, "missing key `arguments`"))?;
        let arg_entries = args_node
            .as_map()
            .ok_or_else(|| invalid(file, args_node, "`arguments` must be a mapping"))?;
        let mut args = Vec::with_capacity(arg_entries.len());
        for (k, v) in arg_entries {
            args.push((text(file, k, "argument name")?, arg(file, v)?));
        }
        operations.push(
            Operation::from_args(&type_name, &args)
                .map_err(|e| invalid(file, type_node, e.to_string()))?,
        );
    }
    Ok(Migration {
        name,
        operations,
        dependencies,
        replaces,
    })
}

fn literal_node(l: &Literal) -> YamlNode {
    match l {
        Literal::Null => YamlNode::null(),
        Literal::Bool(b) => YamlNode::bool(*b),
        Literal::Int(i) => YamlNode::int(*i),
        Literal::Float(f) => YamlNode::float(*f),
        Literal::Str(s) => YamlNode::string(s.clone()),
        Literal::List(items) => YamlNode::seq(items.iter().map(literal_node).collect()),
    }
}

/// The file text, as Python writes it (keys sorted, sets as `!!set`).
pub fn render(m: &Migration) -> String {
    let operations = m
        .operations
        .iter()
        .map(|op| {
            let args = op.to_args().into_iter().map(|(k, v)| {
                let node = match v {
                    Arg::Set(s) => YamlNode::set(s),
                    Arg::Value(l) => literal_node(&l),
                };
                (k, node)
            });
            YamlNode::map([
                ("operation", YamlNode::string(op.type_name())),
                ("arguments", YamlNode::map(args)),
            ])
        })
        .collect();
    let strings =
        |v: &[String]| YamlNode::seq(v.iter().map(|s| YamlNode::string(s.clone())).collect());
    let root = YamlNode::map([
        ("name", YamlNode::string(m.name.clone())),
        ("operations", YamlNode::seq(operations)),
        ("dependencies", strings(&m.dependencies)),
        ("replaces", strings(&m.replaces)),
    ]);
    yaml::emit(&root, &EmitOptions { sort_keys: true })
}

/// `<directory of the project file>/migrations`.
pub fn directory_for(project_file: &Path) -> PathBuf {
    project_file
        .parent()
        .map_or_else(|| PathBuf::from("migrations"), |p| p.join("migrations"))
}

/// Reads every `*.yaml` in `dir` (a missing directory has no migrations) into a graph.
pub fn load_dir(dir: &Path) -> Result<MigrationGraph, FileError> {
    let io = |source| FileError::Io {
        path: dir.display().to_string(),
        source,
    };
    let mut files = Vec::new();
    match std::fs::read_dir(dir) {
        Ok(entries) => {
            for e in entries {
                let path = e.map_err(io)?.path();
                if path.extension().is_some_and(|x| x == "yaml") && path.is_file() {
                    files.push(path);
                }
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(io(e)),
    }
    files.sort();
    let mut migrations = Vec::with_capacity(files.len());
    for path in files {
        let src = std::fs::read_to_string(&path).map_err(|source| FileError::Io {
            path: path.display().to_string(),
            source,
        })?;
        migrations.push(parse(&src, &path.display().to_string())?);
    }
    MigrationGraph::new(migrations).map_err(|source| FileError::Graph {
        dir: dir.display().to_string(),
        source,
    })
}

/// Writes `<dir>/<name>.yaml` (creating `dir`), returning the path.
pub fn write(dir: &Path, m: &Migration) -> Result<PathBuf, FileError> {
    std::fs::create_dir_all(dir).map_err(|source| FileError::Io {
        path: dir.display().to_string(),
        source,
    })?;
    let path = dir.join(format!("{}.yaml", m.name));
    std::fs::write(&path, render(m)).map_err(|source| FileError::Io {
        path: path.display().to_string(),
        source,
    })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The first lines of the migration Python generated for the e2e project (spec §6.1).
    const PYTHON: &str = "dependencies: []
name: '20261124214640'
operations:
- arguments:
    keys: !!set
      code: null
    name: Region
    properties: !!set
      last_ingested_at: null
  operation: CreateNodeType
- arguments:
    field_name: last_ingested_at
    node_type: Region
  operation: AddAdditionalNodePropertyIndex
- arguments:
    keys: !!set {}
    name: WITHIN
    properties: !!set
      last_ingested_at: null
  operation: CreateRelationshipType
replaces: []
";

    #[test]
    fn python_file_reads_and_writes_back_byte_for_byte() {
        let m = parse(PYTHON, "m.yaml").unwrap();
        assert_eq!(m.name, "20261124214640");
        assert_eq!(m.operations.len(), 3);
        assert_eq!(m.operations[0].to_string(), "Create node type Region");
        assert_eq!(render(&m), PYTHON);
    }

    #[test]
    fn plain_lists_are_accepted_for_sets_and_defaults_keep_their_type() {
        let src = "name: a\ndependencies: [x]\noperations:\n- operation: CreateNodeType\n  arguments: {name: N, keys: [id, b], properties: []}\n- operation: AddNodeProperty\n  arguments: {node_type: N, property_name: p, default: 4}\n";
        let m = parse(src, "a.yaml").unwrap();
        assert_eq!(m.dependencies, ["x"]);
        assert!(m.replaces.is_empty());
        let Operation::CreateNodeType { keys, .. } = &m.operations[0] else {
            panic!()
        };
        assert_eq!(keys.iter().collect::<Vec<_>>(), ["b", "id"]);
        let Operation::AddNodeProperty { default, .. } = &m.operations[1] else {
            panic!()
        };
        assert_eq!(default, &Literal::Int(4));
        let out = render(&m);
        assert!(
            out.contains("    keys: !!set\n      b: null\n      id: null\n"),
            "{out}"
        );
        assert!(out.contains("    default: 4\n"), "{out}");
        assert_eq!(parse(&out, "again.yaml").unwrap(), m);
    }

    #[test]
    fn errors_name_the_file_and_line() {
        let err = parse(
            "name: a\ndependencies: []\noperations:\n- operation: Nope\n  arguments: {}\n",
            "m.yaml",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("m.yaml:4:14: Operation 'Nope' is not registered"),
            "{err}"
        );
        let err = parse("name: a\noperations: []\n", "m.yaml").unwrap_err();
        assert_eq!(err.to_string(), "m.yaml:1:1: missing key `dependencies`");
        let err = parse(
            "name: a\ndependencies: []\noperations: []\nextra: 1\n",
            "m.yaml",
        )
        .unwrap_err();
        assert!(
            err.to_string()
                .starts_with("m.yaml:4:1: unknown key `extra`"),
            "{err}"
        );
    }

    #[test]
    fn directory_round_trip_ignores_other_files() {
        let dir = tempfile::tempdir().unwrap();
        let m = parse(PYTHON, "m.yaml").unwrap();
        let path = write(dir.path(), &m).unwrap();
        assert_eq!(path.file_name().unwrap(), "20261124214640.yaml");
        std::fs::write(dir.path().join("notes.txt"), "not yaml").unwrap();
        std::fs::write(dir.path().join("other.yml"), ":").unwrap();
        let g = load_dir(dir.path()).unwrap();
        assert_eq!(g.all().count(), 1);
        assert!(load_dir(&dir.path().join("missing")).unwrap().is_empty());
    }
}
