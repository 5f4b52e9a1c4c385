//! `nodestream.yaml`: scopes, pipelines, targets and the YAML tags they use (spec §1).
//!
//! Paths inside the project (pipeline paths, globs, `!include`) are relative to the current working
//! directory, as in Python. Lazy tags (`!env`, `!config`, `!include`, `!delayed`) are kept in the tree and
//! resolved when a target is used or a pipeline step is built ([`resolve_tags`]).

#[allow(dead_code)] // Shared API: parts are used by migrations (the emitter, builders).
pub mod yaml;

use indexmap::IndexMap;
use std::fmt;
use std::path::{Path, PathBuf};
use yaml::{Kind, ScalarValue, YamlNode};

/// A configuration error with its place: file, line and column (line 0 when the whole file is meant).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub struct LoadError {
    /// File as given.
    pub file: String,
    /// Line from 1, or 0.
    pub line: usize,
    /// Column from 1, or 0.
    pub col: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line == 0 {
            write!(f, "{}: {}", self.file, self.message)
        } else {
            write!(
                f,
                "{}:{}:{}: {}",
                self.file, self.line, self.col, self.message
            )
        }
    }
}

impl LoadError {
    /// An error at `node`.
    pub fn at(file: &str, node: &YamlNode, message: impl Into<String>) -> Self {
        LoadError {
            file: file.to_string(),
            line: node.mark.line,
            col: node.mark.col,
            message: message.into(),
        }
    }

    /// An error about a whole file.
    pub fn file(file: &str, message: impl Into<String>) -> Self {
        LoadError {
            file: file.to_string(),
            line: 0,
            col: 0,
            message: message.into(),
        }
    }
}

impl From<yaml::YamlError> for LoadError {
    fn from(e: yaml::YamlError) -> Self {
        LoadError {
            file: e.file,
            line: e.line,
            col: e.col,
            message: e.message,
        }
    }
}

/// A loaded project file.
#[derive(Debug, Clone)]
pub struct Project {
    /// The project file.
    pub file: PathBuf,
    /// Scopes in file order.
    pub scopes: Vec<Scope>,
    /// Targets by name, in file order.
    pub targets: IndexMap<String, Target>,
    /// Schema inference also expands additional types.
    pub include_additional_types: bool,
}

/// A scope: a group of pipelines.
#[derive(Debug, Clone)]
pub struct Scope {
    /// Name.
    pub name: String,
    /// Pipelines (a later entry with the same name replaces the earlier).
    pub pipelines: Vec<PipelineRef>,
    /// Targets inherited by every pipeline.
    pub targets: Vec<String>,
    /// Metadata shown by `show`.
    pub annotations: IndexMap<String, serde_json::Value>,
    /// Values for `!config` (a mapping node, tags unresolved).
    pub config: Option<YamlNode>,
}

/// A pipeline entry of a scope.
#[derive(Debug, Clone)]
pub struct PipelineRef {
    /// Name (file stem by default).
    pub name: String,
    /// Pipeline file, CWD-relative.
    pub path: String,
    /// Own annotations merged over the scope's.
    pub annotations: IndexMap<String, serde_json::Value>,
    /// Own targets.
    pub targets: Vec<String>,
    /// Do not inherit the scope's targets.
    pub exclude_inherited_targets: bool,
}

impl PipelineRef {
    /// Effective targets: own ∪ scope's (unless excluded), in order, without duplicates.
    pub fn effective_targets(&self, scope: &Scope) -> Vec<String> {
        let mut out = self.targets.clone();
        if !self.exclude_inherited_targets {
            for t in &scope.targets {
                if !out.contains(t) {
                    out.push(t.clone());
                }
            }
        }
        out
    }

    /// Annotations: the scope's overlaid with the pipeline's.
    pub fn effective_annotations(&self, scope: &Scope) -> IndexMap<String, serde_json::Value> {
        let mut out = scope.annotations.clone();
        for (k, v) in &self.annotations {
            out.insert(k.clone(), v.clone());
        }
        out
    }
}

/// A target as written (tags resolved only when it is used).
#[derive(Debug, Clone)]
pub struct Target {
    /// Name.
    pub name: String,
    /// The mapping node.
    pub node: YamlNode,
    /// File it came from.
    pub file: String,
}

/// A target with its tags resolved, split into writer arguments and connector options (spec §1.5).
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedTarget {
    /// Name.
    pub name: String,
    /// Connector alias: `neo4j`, or `null` (also when absent).
    pub database: String,
    /// Records per writer flush (default 1000).
    pub batch_size: usize,
    /// Flush lanes (default 1).
    pub flush_concurrency: usize,
    /// Count upserts (default true).
    pub collect_stats: bool,
    /// Ingest strategy (only `debounced`).
    pub ingest_strategy_name: String,
    /// Every other key (connector and connection options), without `database`.
    pub options: serde_json::Map<String, serde_json::Value>,
}

impl Target {
    /// Resolves tags and splits writer arguments from connector options.
    pub fn resolve(&self) -> Result<ResolvedTarget, LoadError> {
        let ctx = ResolveCtx {
            file: &self.file,
            config: None,
            value_providers: false,
        };
        let node = resolve_tags(&self.node, &ctx)?;
        let Some(entries) = node.as_map() else {
            return Err(LoadError::at(
                &self.file,
                &node,
                format!("target `{}` must be a mapping", self.name),
            ));
        };
        let mut t = ResolvedTarget {
            name: self.name.clone(),
            database: "null".into(),
            batch_size: 1000,
            flush_concurrency: 1,
            collect_stats: true,
            ingest_strategy_name: "debounced".into(),
            options: serde_json::Map::new(),
        };
        let int = |v: &YamlNode, key: &str| -> Result<usize, LoadError> {
            match v.as_scalar().map(|s| &s.value) {
                Some(ScalarValue::Int(i)) if *i > 0 => Ok(*i as usize),
                _ => Err(LoadError::at(
                    &self.file,
                    v,
                    format!(
                        "targets.{}.{key} must be a positive integer, found {}",
                        self.name,
                        v.type_name()
                    ),
                )),
            }
        };
        for (k, v) in entries {
            let key = k.key_text();
            if v.is_null() && crate::writer::options::is_writer_argument(&key) {
                continue;
            }
            match key.as_str() {
                "batch_size" => t.batch_size = int(v, "batch_size")?,
                "flush_concurrency" => t.flush_concurrency = int(v, "flush_concurrency")?,
                "collect_stats" => match v.as_scalar().map(|s| &s.value) {
                    Some(ScalarValue::Bool(b)) => t.collect_stats = *b,
                    _ => {
                        return Err(LoadError::at(
                            &self.file,
                            v,
                            format!("targets.{}.collect_stats must be a boolean", self.name),
                        ));
                    }
                },
                "ingest_strategy_name" => match v.as_str() {
                    Some("debounced") => t.ingest_strategy_name = "debounced".into(),
                    _ => {
                        return Err(LoadError::at(
                            &self.file,
                            v,
                            format!(
                                "targets.{}.ingest_strategy_name: only `debounced` exists",
                                self.name
                            ),
                        ));
                    }
                },
                "database" => match &v.kind {
                    Kind::Scalar(s) if s.value == ScalarValue::Null => t.database = "null".into(),
                    Kind::Scalar(s) => t.database = s.raw.clone(),
                    _ => {
                        return Err(LoadError::at(
                            &self.file,
                            v,
                            format!("targets.{}.database must be a string", self.name),
                        ));
                    }
                },
                _ => {
                    t.options.insert(key, v.to_json());
                }
            }
        }
        Ok(t)
    }
}

/// How tags are resolved.
pub struct ResolveCtx<'a> {
    /// File for error messages.
    pub file: &'a str,
    /// The running scope's `config` mapping.
    pub config: Option<&'a YamlNode>,
    /// Keep value-provider tags (`!jmespath`, …) for the interpreter (pipeline files).
    pub value_providers: bool,
}

/// Value-provider tags of spec §1.9 B.
pub const VALUE_PROVIDER_TAGS: &[&str] = &[
    "!jmespath",
    "!variable",
    "!format",
    "!regex",
    "!split",
    "!normalize",
    "!cast",
    "!mapping",
];

/// Resolves `!env`, `!config`, `!include`, `!delayed` recursively (spec §1.9).
pub fn resolve_tags(node: &YamlNode, ctx: &ResolveCtx<'_>) -> Result<YamlNode, LoadError> {
    if let Some(tag) = node.tag.as_deref() {
        match tag {
            "!env" => {
                let name = scalar_arg(node, ctx.file, "!env")?;
                return Ok(match std::env::var(&name) {
                    Ok(v) => with_mark(YamlNode::string(v), node),
                    Err(_) => with_mark(YamlNode::null(), node),
                });
            }
            "!config" => {
                let key = scalar_arg(node, ctx.file, "!config")?;
                let value = ctx.config.and_then(|c| c.get(&key)).cloned();
                return match value {
                    Some(v) => resolve_tags(&v, ctx),
                    None => Ok(with_mark(YamlNode::null(), node)),
                };
            }
            "!include" => {
                let path = scalar_arg(node, ctx.file, "!include")?;
                let included = yaml::load_file(Path::new(&path)).map_err(|e| {
                    if e.line == 0 {
                        LoadError::at(ctx.file, node, format!("!include {path}: {}", e.message))
                    } else {
                        e.into()
                    }
                })?;
                let inner = ResolveCtx {
                    file: &path,
                    config: ctx.config,
                    value_providers: ctx.value_providers,
                };
                return resolve_tags(&included, &inner);
            }
            "!delayed" => {
                // The Rust connector reads credentials once per connection; the inner value is resolved now.
                let inner = node.get("value").ok_or_else(|| {
                    LoadError::at(
                        ctx.file,
                        node,
                        "`!delayed` takes a mapping with the key `value`",
                    )
                })?;
                return resolve_tags(inner, ctx);
            }
            "!!set" | "!!omap" | "!!pairs" => {}
            t if ctx.value_providers && VALUE_PROVIDER_TAGS.contains(&t) => {}
            other => {
                return Err(LoadError::at(
                    ctx.file,
                    node,
                    format!(
                        "ArgumentResolver '{other}' is not registered. Did you forget to install a plugin?"
                    ),
                ));
            }
        }
    }
    let kind = match &node.kind {
        Kind::Scalar(_) => return Ok(node.clone()),
        Kind::Seq(items) => Kind::Seq(
            items
                .iter()
                .map(|i| resolve_tags(i, ctx))
                .collect::<Result<_, _>>()?,
        ),
        Kind::Map(entries) => Kind::Map(
            entries
                .iter()
                .map(|(k, v)| Ok((k.clone(), resolve_tags(v, ctx)?)))
                .collect::<Result<_, LoadError>>()?,
        ),
    };
    Ok(YamlNode {
        kind,
        tag: node.tag.clone(),
        mark: node.mark,
    })
}

fn with_mark(mut n: YamlNode, at: &YamlNode) -> YamlNode {
    n.mark = at.mark;
    n
}

fn scalar_arg(node: &YamlNode, file: &str, tag: &str) -> Result<String, LoadError> {
    match &node.kind {
        Kind::Scalar(s) => Ok(s.raw.clone()),
        _ => Err(LoadError::at(
            file,
            node,
            format!("`{tag}` takes a string, found {}", node.type_name()),
        )),
    }
}

/// Checks that a mapping only has allowed keys; returns its entries.
pub fn check_keys<'a>(
    node: &'a YamlNode,
    file: &str,
    what: &str,
    allowed: &[&str],
) -> Result<&'a [(YamlNode, YamlNode)], LoadError> {
    let Some(entries) = node.as_map() else {
        return Err(LoadError::at(
            file,
            node,
            format!("{what} must be a mapping, found {}", node.type_name()),
        ));
    };
    for (k, _) in entries {
        let key = k.key_text();
        if !allowed.contains(&key.as_str()) {
            return Err(LoadError::at(
                file,
                k,
                format!(
                    "unknown key `{key}` in {what} (expected one of: {})",
                    allowed.join(", ")
                ),
            ));
        }
    }
    Ok(entries)
}

/// A list of strings.
pub fn string_list(node: &YamlNode, file: &str, what: &str) -> Result<Vec<String>, LoadError> {
    if node.is_null() {
        return Ok(Vec::new());
    }
    let Some(items) = node.as_seq() else {
        return Err(LoadError::at(
            file,
            node,
            format!(
                "{what} must be a list of strings, found {}",
                node.type_name()
            ),
        ));
    };
    items
        .iter()
        .map(|i| match &i.kind {
            Kind::Scalar(s) if s.value != ScalarValue::Null => Ok(s.raw.clone()),
            _ => Err(LoadError::at(
                file,
                i,
                format!("{what} must be a list of strings, found {}", i.type_name()),
            )),
        })
        .collect()
}

/// A boolean.
pub fn boolean(node: &YamlNode, file: &str, what: &str) -> Result<bool, LoadError> {
    match node.as_scalar().map(|s| &s.value) {
        Some(ScalarValue::Bool(b)) => Ok(*b),
        _ => Err(LoadError::at(
            file,
            node,
            format!(
                "{what} must be a boolean (true/false), found {}",
                node.type_name()
            ),
        )),
    }
}

fn annotations(
    node: &YamlNode,
    file: &str,
    what: &str,
) -> Result<IndexMap<String, serde_json::Value>, LoadError> {
    let Some(entries) = node.as_map() else {
        return Err(LoadError::at(
            file,
            node,
            format!("{what} must be a mapping, found {}", node.type_name()),
        ));
    };
    let mut out = IndexMap::new();
    for (k, v) in entries {
        if !matches!(v.kind, Kind::Scalar(_)) || v.is_null() {
            return Err(LoadError::at(
                file,
                v,
                format!(
                    "{what}.{} must be a string, number or boolean, found {}",
                    k.key_text(),
                    v.type_name()
                ),
            ));
        }
        out.insert(k.key_text(), v.to_json());
    }
    Ok(out)
}

impl Project {
    /// Loads and validates a project file.
    pub fn load(path: &Path) -> Result<Project, LoadError> {
        let file = path.display().to_string();
        if !path.exists() {
            return Err(LoadError::file(
                &file,
                "the project file does not exist (use -p to point at nodestream.yaml)",
            ));
        }
        let root = yaml::load_file(path)?;
        let mut project = Project {
            file: path.to_path_buf(),
            scopes: Vec::new(),
            targets: IndexMap::new(),
            include_additional_types: false,
        };
        if root.is_null() {
            return Ok(project);
        }
        let entries = check_keys(
            &root,
            &file,
            "the project file",
            &[
                "scopes",
                "targets",
                "plugins",
                "storage",
                "include_additional_types",
            ],
        )?;
        for (k, v) in entries {
            match k.key_text().as_str() {
                "scopes" if !v.is_null() => {
                    let Some(scopes) = v.as_map() else {
                        return Err(LoadError::at(
                            &file,
                            v,
                            format!("scopes must be a mapping, found {}", v.type_name()),
                        ));
                    };
                    for (name, body) in scopes {
                        project
                            .scopes
                            .push(Self::scope(&file, name.key_text(), body)?);
                    }
                }
                "targets" if !v.is_null() => {
                    let Some(targets) = v.as_map() else {
                        return Err(LoadError::at(
                            &file,
                            v,
                            format!("targets must be a mapping, found {}", v.type_name()),
                        ));
                    };
                    for (name, body) in targets {
                        let name = name.key_text();
                        if body.as_map().is_none() && body.tag.is_none() {
                            return Err(LoadError::at(
                                &file,
                                body,
                                format!(
                                    "targets.{name} must be a mapping, found {}",
                                    body.type_name()
                                ),
                            ));
                        }
                        project.targets.insert(
                            name.clone(),
                            Target {
                                name,
                                node: body.clone(),
                                file: file.clone(),
                            },
                        );
                    }
                }
                "include_additional_types" => {
                    project.include_additional_types =
                        boolean(v, &file, "include_additional_types")?
                }
                "plugins" => {
                    if !v.is_null() && v.as_seq().is_none() {
                        return Err(LoadError::at(
                            &file,
                            v,
                            format!("plugins must be a list, found {}", v.type_name()),
                        ));
                    }
                    if v.as_seq().is_some_and(|s| !s.is_empty()) {
                        tracing::warn!(
                            "{file}: `plugins` configure Python plugin pipelines, which this implementation cannot run; ignored"
                        );
                    }
                }
                "storage" if !v.is_null() => {
                    check_keys(v, &file, "storage", &["stores"])?;
                }
                _ => {}
            }
        }
        Ok(project)
    }

    fn scope(file: &str, name: String, body: &YamlNode) -> Result<Scope, LoadError> {
        let mut scope = Scope {
            name: name.clone(),
            pipelines: Vec::new(),
            targets: Vec::new(),
            annotations: IndexMap::new(),
            config: None,
        };
        if body.is_null() {
            return Ok(scope);
        }
        let what = format!("scopes.{name}");
        let entries = check_keys(
            body,
            file,
            &what,
            &["pipelines", "targets", "annotations", "config"],
        )?;
        for (k, v) in entries {
            match k.key_text().as_str() {
                "pipelines" if !v.is_null() => {
                    let Some(items) = v.as_seq() else {
                        return Err(LoadError::at(
                            file,
                            v,
                            format!("{what}.pipelines must be a list, found {}", v.type_name()),
                        ));
                    };
                    for item in items {
                        let p = Self::pipeline_ref(file, &what, item)?;
                        if let Some(pos) = scope.pipelines.iter().position(|e| e.name == p.name) {
                            scope.pipelines.remove(pos);
                            scope.pipelines.insert(pos, p);
                        } else {
                            scope.pipelines.push(p);
                        }
                    }
                }
                "targets" => scope.targets = string_list(v, file, &format!("{what}.targets"))?,
                "annotations" if !v.is_null() => {
                    scope.annotations = annotations(v, file, &format!("{what}.annotations"))?
                }
                "config" if !v.is_null() => {
                    if v.as_map().is_none() {
                        return Err(LoadError::at(
                            file,
                            v,
                            format!("{what}.config must be a mapping, found {}", v.type_name()),
                        ));
                    }
                    scope.config = Some(v.clone());
                }
                _ => {}
            }
        }
        Ok(scope)
    }

    fn pipeline_ref(file: &str, what: &str, item: &YamlNode) -> Result<PipelineRef, LoadError> {
        let stem = |p: &str| {
            Path::new(p)
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default()
        };
        if let Some(path) = item.as_str() {
            return Ok(PipelineRef {
                name: stem(path),
                path: path.to_string(),
                annotations: IndexMap::new(),
                targets: Vec::new(),
                exclude_inherited_targets: false,
            });
        }
        let what = format!("{what}.pipelines[]");
        let entries = check_keys(
            item,
            file,
            &what,
            &[
                "path",
                "name",
                "annotations",
                "targets",
                "exclude_inherited_targets",
            ],
        )?;
        let path_node = item
            .get("path")
            .ok_or_else(|| LoadError::at(file, item, format!("{what} needs a `path`")))?;
        let path = path_node
            .as_str()
            .ok_or_else(|| LoadError::at(file, path_node, format!("{what}.path must be a string")))?
            .to_string();
        if !Path::new(&path).exists() {
            return Err(LoadError::at(
                file,
                path_node,
                format!(
                    "pipeline file `{path}` does not exist (paths are relative to the working directory)"
                ),
            ));
        }
        let mut p = PipelineRef {
            name: stem(&path),
            path,
            annotations: IndexMap::new(),
            targets: Vec::new(),
            exclude_inherited_targets: false,
        };
        for (k, v) in entries {
            match k.key_text().as_str() {
                "name" => {
                    p.name = v
                        .as_scalar()
                        .filter(|_| !v.is_null())
                        .map(|s| s.raw.clone())
                        .ok_or_else(|| {
                            LoadError::at(file, v, format!("{what}.name must be a string"))
                        })?
                }
                "annotations" if !v.is_null() => {
                    p.annotations = annotations(v, file, &format!("{what}.annotations"))?
                }
                "targets" => p.targets = string_list(v, file, &format!("{what}.targets"))?,
                "exclude_inherited_targets" => {
                    p.exclude_inherited_targets =
                        boolean(v, file, &format!("{what}.exclude_inherited_targets"))?
                }
                _ => {}
            }
        }
        Ok(p)
    }

    /// Every (scope, pipeline) in project order.
    pub fn all_pipelines(&self) -> impl Iterator<Item = (&Scope, &PipelineRef)> {
        self.scopes
            .iter()
            .flat_map(|s| s.pipelines.iter().map(move |p| (s, p)))
    }

    /// The target named `name`, or the error Python gives.
    pub fn target(&self, name: &str) -> Result<&Target, LoadError> {
        self.targets.get(name).ok_or_else(|| {
            LoadError::file(
                &self.file.display().to_string(),
                format!("Target {name} not specified in the project."),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        p
    }

    #[test]
    fn loads_scopes_targets_and_splits_writer_args() {
        let dir = tempfile::tempdir().unwrap();
        let pipe = write(dir.path(), "people.yaml", "[]\n");
        let proj = write(
            dir.path(),
            "nodestream.yaml",
            &format!(
                "scopes:\n  default:\n    pipelines:\n      - {p}\n      - {{path: {p}, name: other, targets: [b], exclude_inherited_targets: yes}}\n    targets: [a]\n    annotations: {{team: x}}\n    config: {{k: v}}\ntargets:\n  a: {{database: neo4j, uri: !env NS_TEST_URI_UNSET_X, batch_size: 10, chunk_size: 5}}\n  b: {{}}\nplugins: []\n",
                p = pipe.display()
            ),
        );
        let project = Project::load(&proj).unwrap();
        let scope = &project.scopes[0];
        assert_eq!(scope.pipelines[0].name, "people");
        assert_eq!(scope.pipelines[0].effective_targets(scope), vec!["a"]);
        assert_eq!(scope.pipelines[1].effective_targets(scope), vec!["b"]);
        let a = project.target("a").unwrap().resolve().unwrap();
        assert_eq!(a.database, "neo4j");
        assert_eq!(a.batch_size, 10);
        assert_eq!(a.options.get("uri"), Some(&serde_json::Value::Null));
        assert_eq!(a.options.get("chunk_size"), Some(&serde_json::json!(5)));
        assert!(!a.options.contains_key("database"));
        assert_eq!(
            project.target("b").unwrap().resolve().unwrap().database,
            "null"
        );
        assert_eq!(
            project.target("zz").unwrap_err().message,
            "Target zz not specified in the project."
        );
    }

    #[test]
    fn unknown_keys_and_missing_paths_name_the_place() {
        let dir = tempfile::tempdir().unwrap();
        let proj = write(
            dir.path(),
            "nodestream.yaml",
            "scopes:\n  default:\n    pipelinez: []\n",
        );
        let e = Project::load(&proj).unwrap_err();
        assert_eq!((e.line, e.col), (3, 5), "{e}");
        assert!(e.message.contains("unknown key `pipelinez`"), "{e}");
        let proj = write(
            dir.path(),
            "n2.yaml",
            "scopes:\n  s:\n    pipelines:\n      - path: nope/missing.yaml\n",
        );
        let e = Project::load(&proj).unwrap_err();
        assert_eq!(e.line, 4, "{e}");
        assert!(e.message.contains("nope/missing.yaml"), "{e}");
    }

    #[test]
    fn lazy_tags_resolve() {
        let dir = tempfile::tempdir().unwrap();
        let inc = write(dir.path(), "inc.yaml", "a: !jmespath x\n");
        let src = format!(
            "e: !env PATH\nc: !config k\nm: !config missing\ni: !include {}\nd: !delayed {{value: lit}}\n",
            inc.display()
        );
        let node = yaml::load_str(&src, "p.yaml").unwrap();
        let config = yaml::load_str("k: !env PATH", "n.yaml").unwrap();
        let ctx = ResolveCtx {
            file: "p.yaml",
            config: Some(&config),
            value_providers: true,
        };
        let r = resolve_tags(&node, &ctx).unwrap();
        assert_eq!(
            r.get("e").and_then(YamlNode::as_str),
            std::env::var("PATH").ok().as_deref()
        );
        assert_eq!(
            r.get("c").and_then(YamlNode::as_str),
            std::env::var("PATH").ok().as_deref()
        );
        assert!(r.get("m").unwrap().is_null());
        assert_eq!(
            r.get("i").unwrap().get("a").unwrap().tag.as_deref(),
            Some("!jmespath")
        );
        assert_eq!(r.get("d").and_then(YamlNode::as_str), Some("lit"));
        let bad = yaml::load_str("x: !nope 1", "p.yaml").unwrap();
        let e = resolve_tags(&bad, &ctx).unwrap_err();
        assert!(
            e.to_string()
                .contains("ArgumentResolver '!nope' is not registered"),
            "{e}"
        );
    }
}
