//! Our YAML loader and emitter, built on `saphyr-parser` events, with PyYAML's YAML 1.1 rules.
//!
//! # Why not a serde YAML crate
//! Nodestream files use custom tags (`!env`, `!jmespath`, `!!set` on mappings, …) that must survive
//! parsing, the raw scalar text matters (`0755` is the integer 493 in YAML 1.1, `yes` is `true`, `y` is a
//! string), and every error must name a line and column. So we keep a small node tree of our own.
//!
//! # API (stable: other modules depend on these names)
//! * [`load_str`]`(src, file) -> Result<`[`YamlNode`]`, `[`YamlError`]`>`: parse one document (an empty
//!   stream gives a null node). [`load_file`]`(path)` reads and parses a file. [`load_all_str`] parses
//!   every document of a stream.
//! * [`YamlNode`] `{ kind, tag, mark }`:
//!   * `kind`: [`Kind::Scalar`]`(`[`Scalar`]`)`, [`Kind::Seq`]`(Vec<YamlNode>)`,
//!     [`Kind::Map`]`(Vec<(YamlNode, YamlNode)>)` (entries in file order; duplicates kept, the *last* wins in
//!     lookups as in PyYAML).
//!   * `tag`: `None` or the tag as written after handle expansion: `"!env"`, `"!jmespath"`, `"!!set"`,
//!     `"!!str"`, or a full URI for anything else (`"tag:example.com,2000:x"`).
//!   * `mark`: [`Mark`] `{ line, col }`, both 1-based, where the node starts.
//! * [`Scalar`] `{ raw, style, value }`: `raw` is the scalar text after YAML unescaping/folding, `style`
//!   its [`Style`], `value` the PyYAML resolution ([`ScalarValue`]): plain untagged scalars resolve to
//!   null (`~`, `null`, `Null`, `NULL`, empty), booleans (`yes/no/on/off/true/false` in lower, Title or UPPER
//!   case; *not* `y`/`n`), integers (decimal, `0b`, `0x`, leading-zero octal, `_` separators, sexagesimal
//!   `1:30`), floats (`1.5`, `.5`, `1.0e+3`, `.inf`, `.nan`; note `1e3` is a *string*, as in PyYAML);
//!   quoted and block scalars are strings; a scalar with a custom tag keeps `ScalarValue::Str` (its text is
//!   in `raw`); `!!str/!!int/!!float/!!bool/!!null` force the type. **Timestamps** (`2024-01-01`) are left
//!   as strings (PyYAML would build `date` objects).
//! * Aliases are expanded (the anchored node is copied); `<<` merge keys are applied on untagged mappings.
//! * Accessors: [`YamlNode::get`], [`YamlNode::as_str`], [`YamlNode::as_map`], [`YamlNode::as_seq`],
//!   [`YamlNode::is_null`], [`YamlNode::type_name`], [`YamlNode::to_json`] (tags ignored; non-string keys
//!   are stringified as Python's `str()` would).
//! * Builders for writing: [`YamlNode::null`], [`YamlNode::string`], [`YamlNode::int`],
//!   [`YamlNode::float`], [`YamlNode::bool`], [`YamlNode::seq`], [`YamlNode::map`], [`YamlNode::set`]
//!   (a `!!set`-tagged mapping whose values are null), [`YamlNode::with_tag`].
//! * [`emit`]`(node, &`[`EmitOptions`]`) -> String`: block-style YAML like PyYAML's `safe_dump` with
//!   `default_flow_style=False`: 2-space indentation, block sequences inside mappings not indented, empty
//!   collections as `{}`/`[]`, `!!set` written as `key: !!set` then its keys with `null` values, strings
//!   single-quoted when they would otherwise read back as another type or contain indicators, double-quoted
//!   when they hold control characters or line breaks. `sort_keys` sorts mapping keys (by their text).
//!   Difference from PyYAML: long plain strings are not folded at 80 columns.
//! * [`YamlError`] `{ file, line, col, message }` displays as `file:line:col: message`.

use saphyr_parser::{Event, Parser, ScalarStyle, Span};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

mod emit;
mod resolve;
pub use emit::{EmitOptions, emit};
pub use resolve::resolve_plain;
use resolve::*;

/// A position in a YAML file, 1-based.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Mark {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub col: usize,
}

/// How a scalar was written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// Unquoted.
    Plain,
    /// `'…'`
    SingleQuoted,
    /// `"…"`
    DoubleQuoted,
    /// `|`
    Literal,
    /// `>`
    Folded,
}

/// A scalar resolved with PyYAML's YAML 1.1 rules.
#[derive(Debug, Clone, PartialEq)]
pub enum ScalarValue {
    /// `~`, `null`, empty.
    Null,
    /// `yes`, `On`, `TRUE`, …
    Bool(bool),
    /// An integer that fits in i64.
    Int(i64),
    /// A float.
    Float(f64),
    /// A string (the text is [`Scalar::raw`]); also integers too large for i64 and timestamps.
    Str,
}

/// A scalar node's content.
#[derive(Debug, Clone, PartialEq)]
pub struct Scalar {
    /// The text after unescaping.
    pub raw: String,
    /// Quoting style.
    pub style: Style,
    /// The resolved value.
    pub value: ScalarValue,
}

/// The shape of a node.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A scalar.
    Scalar(Scalar),
    /// A sequence.
    Seq(Vec<YamlNode>),
    /// A mapping, entries in file order.
    Map(Vec<(YamlNode, YamlNode)>),
}

/// A YAML node with its tag and position.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlNode {
    /// Content.
    pub kind: Kind,
    /// Tag as written (`!env`, `!!set`), `None` when untagged.
    pub tag: Option<String>,
    /// Where the node starts.
    pub mark: Mark,
}

/// A YAML syntax error, or a file that cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{file}:{line}:{col}: {message}")]
pub struct YamlError {
    /// The file (as given by the caller).
    pub file: String,
    /// Line, from 1 (0 when the file could not be read).
    pub line: usize,
    /// Column, from 1.
    pub col: usize,
    /// What went wrong.
    pub message: String,
}

/// Parses the first document of `src`; `file` is only used in error messages.
pub fn load_str(src: &str, file: &str) -> Result<YamlNode, YamlError> {
    let mut docs = Loader::new(src, file).load(true)?;
    Ok(docs.pop().unwrap_or_else(YamlNode::null))
}

/// Parses every document of `src`.
pub fn load_all_str(src: &str, file: &str) -> Result<Vec<YamlNode>, YamlError> {
    Loader::new(src, file).load(false)
}

/// Reads and parses a file.
pub fn load_file(path: &Path) -> Result<YamlNode, YamlError> {
    let file = path.display().to_string();
    let src = std::fs::read_to_string(path).map_err(|e| YamlError {
        file: file.clone(),
        line: 0,
        col: 0,
        message: format!("cannot read the file: {e}"),
    })?;
    load_str(&src, &file)
}

struct Loader<'a> {
    parser: Parser<'a, saphyr_parser::StrInput<'a>>,
    file: &'a str,
    anchors: HashMap<usize, YamlNode>,
}

fn mark_of(span: &Span) -> Mark {
    Mark {
        line: span.start.line(),
        col: span.start.col() + 1,
    }
}

impl<'a> Loader<'a> {
    fn new(src: &'a str, file: &'a str) -> Self {
        Loader {
            parser: Parser::new_from_str(src),
            file,
            anchors: HashMap::new(),
        }
    }

    fn err(&self, mark: Mark, message: impl Into<String>) -> YamlError {
        YamlError {
            file: self.file.to_string(),
            line: mark.line,
            col: mark.col,
            message: message.into(),
        }
    }

    fn next(&mut self) -> Result<(Event<'a>, Span), YamlError> {
        match self.parser.next_event() {
            Some(Ok(ev)) => Ok(ev),
            Some(Err(e)) => Err(YamlError {
                file: self.file.to_string(),
                line: e.marker().line(),
                col: e.marker().col() + 1,
                message: e.info().to_string(),
            }),
            None => Err(self.err(Mark::default(), "unexpected end of the YAML stream")),
        }
    }

    fn load(mut self, first_only: bool) -> Result<Vec<YamlNode>, YamlError> {
        let mut docs = Vec::new();
        loop {
            let (ev, span) = self.next()?;
            match ev {
                Event::StreamStart | Event::DocumentEnd | Event::Nothing => {}
                Event::StreamEnd => return Ok(docs),
                Event::DocumentStart(_) => {
                    self.anchors.clear();
                    let (ev, span) = self.next()?;
                    let node = self.node(ev, span)?;
                    docs.push(node);
                    if first_only {
                        return Ok(docs);
                    }
                }
                _ => return Err(self.err(mark_of(&span), "unexpected YAML event")),
            }
        }
    }

    fn node(&mut self, ev: Event<'a>, span: Span) -> Result<YamlNode, YamlError> {
        let mark = mark_of(&span);
        match ev {
            Event::Alias(id) => self
                .anchors
                .get(&id)
                .cloned()
                .ok_or_else(|| self.err(mark, "unknown alias")),
            Event::Scalar(text, style, anchor, tag) => {
                let tag = tag.map(|t| tag_text(&t));
                let style = match style {
                    ScalarStyle::Plain => Style::Plain,
                    ScalarStyle::SingleQuoted => Style::SingleQuoted,
                    ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    ScalarStyle::Literal => Style::Literal,
                    ScalarStyle::Folded => Style::Folded,
                };
                let value = match tag.as_deref() {
                    None if style == Style::Plain => resolve_plain(&text),
                    None => ScalarValue::Str,
                    Some("!!str") => ScalarValue::Str,
                    Some("!!null") => ScalarValue::Null,
                    Some("!!bool") => match resolve_plain(&text) {
                        v @ ScalarValue::Bool(_) => v,
                        _ => return Err(self.err(mark, format!("'{text}' is not a boolean"))),
                    },
                    Some("!!int") => match resolve_int(&text) {
                        Some(v) => v,
                        None => return Err(self.err(mark, format!("'{text}' is not an integer"))),
                    },
                    Some("!!float") => match resolve_float(&text).or_else(|| {
                        resolve_int(&text).and_then(|v| match v {
                            ScalarValue::Int(i) => Some(ScalarValue::Float(i as f64)),
                            _ => None,
                        })
                    }) {
                        Some(v) => v,
                        None => return Err(self.err(mark, format!("'{text}' is not a float"))),
                    },
                    Some(_) => ScalarValue::Str,
                };
                // `!!str` etc. are consumed; custom tags stay visible.
                let tag = tag.filter(|t| {
                    !matches!(
                        t.as_str(),
                        "!!str" | "!!null" | "!!bool" | "!!int" | "!!float"
                    )
                });
                let node = YamlNode {
                    kind: Kind::Scalar(Scalar {
                        raw: text.into_owned(),
                        style,
                        value,
                    }),
                    tag,
                    mark,
                };
                if anchor != 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                Ok(node)
            }
            Event::SequenceStart(anchor, tag) => {
                let tag = tag.map(|t| tag_text(&t)).filter(|t| t != "!!seq");
                let mut items = Vec::new();
                loop {
                    let (ev, span) = self.next()?;
                    if matches!(ev, Event::SequenceEnd) {
                        break;
                    }
                    items.push(self.node(ev, span)?);
                }
                let node = YamlNode {
                    kind: Kind::Seq(items),
                    tag,
                    mark,
                };
                if anchor != 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                Ok(node)
            }
            Event::MappingStart(anchor, tag) => {
                let tag = tag.map(|t| tag_text(&t)).filter(|t| t != "!!map");
                let mut entries: Vec<(YamlNode, YamlNode)> = Vec::new();
                let mut merges: Vec<YamlNode> = Vec::new();
                loop {
                    let (ev, span) = self.next()?;
                    if matches!(ev, Event::MappingEnd) {
                        break;
                    }
                    let key = self.node(ev, span)?;
                    let (ev, span) = self.next()?;
                    let value = self.node(ev, span)?;
                    let is_merge = key.tag.is_none()
                        && matches!(&key.kind, Kind::Scalar(s) if s.style == Style::Plain && s.raw == "<<");
                    if is_merge {
                        merges.push(value);
                    } else {
                        entries.push((key, value));
                    }
                }
                for merge in merges {
                    let sources = match merge.kind {
                        Kind::Map(m) => vec![m],
                        Kind::Seq(items) => {
                            let mut out = Vec::new();
                            for item in items {
                                match item.kind {
                                    Kind::Map(m) => out.push(m),
                                    _ => {
                                        return Err(
                                            self.err(item.mark, "a merge key (<<) needs mappings")
                                        );
                                    }
                                }
                            }
                            out
                        }
                        _ => return Err(self.err(merge.mark, "a merge key (<<) needs a mapping")),
                    };
                    for source in sources {
                        for (k, v) in source {
                            if !entries.iter().any(|(e, _)| e.same_key(&k)) {
                                entries.push((k, v));
                            }
                        }
                    }
                }
                let node = YamlNode {
                    kind: Kind::Map(entries),
                    tag,
                    mark,
                };
                if anchor != 0 {
                    self.anchors.insert(anchor, node.clone());
                }
                Ok(node)
            }
            _ => Err(self.err(mark, "unexpected YAML event")),
        }
    }
}

fn tag_text(tag: &saphyr_parser::Tag) -> String {
    if tag.handle == "tag:yaml.org,2002:" {
        format!("!!{}", tag.suffix)
    } else if tag.handle == "!" || tag.handle.is_empty() {
        format!("!{}", tag.suffix)
    } else {
        format!("{}{}", tag.handle, tag.suffix)
    }
}

impl YamlNode {
    /// A null scalar.
    pub fn null() -> Self {
        Self::scalar("null", ScalarValue::Null)
    }

    fn scalar(raw: &str, value: ScalarValue) -> Self {
        YamlNode {
            kind: Kind::Scalar(Scalar {
                raw: raw.to_string(),
                style: Style::Plain,
                value,
            }),
            tag: None,
            mark: Mark::default(),
        }
    }

    /// A string scalar.
    pub fn string(s: impl Into<String>) -> Self {
        YamlNode {
            kind: Kind::Scalar(Scalar {
                raw: s.into(),
                style: Style::DoubleQuoted,
                value: ScalarValue::Str,
            }),
            tag: None,
            mark: Mark::default(),
        }
    }

    /// An integer scalar.
    pub fn int(v: i64) -> Self {
        Self::scalar(&v.to_string(), ScalarValue::Int(v))
    }

    /// A float scalar.
    pub fn float(v: f64) -> Self {
        Self::scalar(&crate::pyfloat::yaml(v), ScalarValue::Float(v))
    }

    /// A boolean scalar.
    pub fn bool(v: bool) -> Self {
        Self::scalar(if v { "true" } else { "false" }, ScalarValue::Bool(v))
    }

    /// A sequence.
    pub fn seq(items: Vec<YamlNode>) -> Self {
        YamlNode {
            kind: Kind::Seq(items),
            tag: None,
            mark: Mark::default(),
        }
    }

    /// A mapping with string keys.
    pub fn map<K: Into<String>>(entries: impl IntoIterator<Item = (K, YamlNode)>) -> Self {
        YamlNode {
            kind: Kind::Map(
                entries
                    .into_iter()
                    .map(|(k, v)| (YamlNode::string(k), v))
                    .collect(),
            ),
            tag: None,
            mark: Mark::default(),
        }
    }

    /// A Python set: a `!!set` mapping whose values are null.
    pub fn set<K: Into<String>>(keys: impl IntoIterator<Item = K>) -> Self {
        Self::map(keys.into_iter().map(|k| (k, YamlNode::null()))).with_tag("!!set")
    }

    /// The same node with a tag.
    pub fn with_tag(mut self, tag: &str) -> Self {
        self.tag = Some(tag.to_string());
        self
    }

    /// The scalar, if this is one.
    pub fn as_scalar(&self) -> Option<&Scalar> {
        match &self.kind {
            Kind::Scalar(s) => Some(s),
            _ => None,
        }
    }

    /// The text of a string scalar (not of null/bool/number scalars).
    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Scalar(s) if s.value == ScalarValue::Str => Some(&s.raw),
            _ => None,
        }
    }

    /// The mapping entries, if this is a mapping.
    pub fn as_map(&self) -> Option<&[(YamlNode, YamlNode)]> {
        match &self.kind {
            Kind::Map(m) => Some(m),
            _ => None,
        }
    }

    /// The items, if this is a sequence.
    pub fn as_seq(&self) -> Option<&[YamlNode]> {
        match &self.kind {
            Kind::Seq(s) => Some(s),
            _ => None,
        }
    }

    /// Whether this is an untagged null scalar.
    pub fn is_null(&self) -> bool {
        matches!(&self.kind, Kind::Scalar(s) if s.value == ScalarValue::Null) && self.tag.is_none()
    }

    /// The value of key `key` in a mapping (the last one if repeated).
    pub fn get(&self, key: &str) -> Option<&YamlNode> {
        self.as_map()?
            .iter()
            .rev()
            .find(|(k, _)| k.as_str() == Some(key))
            .map(|(_, v)| v)
    }

    /// A short name of the node's type for error messages ("a string", "a mapping", …).
    pub fn type_name(&self) -> &'static str {
        match &self.kind {
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
            Kind::Scalar(s) => match s.value {
                ScalarValue::Null => "null",
                ScalarValue::Bool(_) => "a boolean",
                ScalarValue::Int(_) => "an integer",
                ScalarValue::Float(_) => "a float",
                ScalarValue::Str => "a string",
            },
        }
    }

    fn same_key(&self, other: &YamlNode) -> bool {
        match (&self.kind, &other.kind) {
            (Kind::Scalar(a), Kind::Scalar(b)) => {
                a.value == b.value && (a.value != ScalarValue::Str || a.raw == b.raw)
            }
            _ => self == other,
        }
    }

    /// The Python `str()` of a scalar key (for JSON conversion and messages).
    pub fn key_text(&self) -> String {
        match &self.kind {
            Kind::Scalar(s) => match s.value {
                ScalarValue::Null => "None".into(),
                ScalarValue::Bool(b) => if b { "True" } else { "False" }.into(),
                ScalarValue::Int(i) => i.to_string(),
                ScalarValue::Float(f) => crate::pyfloat::yaml(f),
                ScalarValue::Str => s.raw.clone(),
            },
            _ => format!("{:?}", self.to_json()),
        }
    }

    /// Plain data (tags ignored; a tagged scalar gives its text).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.kind {
            Kind::Scalar(s) => match s.value {
                ScalarValue::Null => J::Null,
                ScalarValue::Bool(b) => J::Bool(b),
                ScalarValue::Int(i) => J::from(i),
                ScalarValue::Float(f) => serde_json::Number::from_f64(f).map_or(J::Null, J::Number),
                ScalarValue::Str => J::String(s.raw.clone()),
            },
            Kind::Seq(items) => J::Array(items.iter().map(YamlNode::to_json).collect()),
            Kind::Map(entries) => {
                let mut m = serde_json::Map::new();
                for (k, v) in entries {
                    m.insert(k.key_text(), v.to_json());
                }
                J::Object(m)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn val(src: &str) -> ScalarValue {
        load_str(src, "t.yaml")
            .unwrap()
            .as_scalar()
            .unwrap()
            .value
            .clone()
    }

    #[test]
    fn yaml11_scalars_resolve_like_pyyaml() {
        assert_eq!(val("yes"), ScalarValue::Bool(true));
        assert_eq!(val("Off"), ScalarValue::Bool(false));
        assert_eq!(val("y"), ScalarValue::Str);
        assert_eq!(val("n"), ScalarValue::Str);
        assert_eq!(val("yEs"), ScalarValue::Str);
        assert_eq!(val("~"), ScalarValue::Null);
        assert_eq!(val(""), ScalarValue::Null);
        assert_eq!(val("0755"), ScalarValue::Int(493));
        assert_eq!(val("0x1F"), ScalarValue::Int(31));
        assert_eq!(val("0b101"), ScalarValue::Int(5));
        assert_eq!(val("1_000"), ScalarValue::Int(1000));
        assert_eq!(val("-42"), ScalarValue::Int(-42));
        assert_eq!(val("1:30"), ScalarValue::Int(90));
        assert_eq!(val("08"), ScalarValue::Str);
        assert_eq!(val("1.5"), ScalarValue::Float(1.5));
        assert_eq!(val(".5"), ScalarValue::Float(0.5));
        assert_eq!(val("1.0e+3"), ScalarValue::Float(1000.0));
        assert_eq!(val("1e3"), ScalarValue::Str);
        assert_eq!(val("1."), ScalarValue::Float(1.0));
        assert_eq!(val("-.inf"), ScalarValue::Float(f64::NEG_INFINITY));
        assert_eq!(val("'yes'"), ScalarValue::Str);
        assert_eq!(val("\"1\""), ScalarValue::Str);
        assert_eq!(val("2024-01-01"), ScalarValue::Str);
        assert_eq!(val("99999999999999999999"), ScalarValue::Str);
        assert_eq!(val("!!str 12"), ScalarValue::Str);
        assert_eq!(val("!!int '12'"), ScalarValue::Int(12));
    }

    #[test]
    fn tags_marks_and_structure_are_kept() {
        let doc = "a: !env HOME\nb:\n  - !jmespath 'x.y'\n  - !!set {p: null}\nc: !format\n  fmt: '{x}'\n";
        let n = load_str(doc, "p.yaml").unwrap();
        let a = n.get("a").unwrap();
        assert_eq!(a.tag.as_deref(), Some("!env"));
        assert_eq!(a.as_str(), Some("HOME"));
        assert_eq!(a.mark, Mark { line: 1, col: 9 });
        let b = n.get("b").unwrap().as_seq().unwrap();
        assert_eq!(b[0].tag.as_deref(), Some("!jmespath"));
        assert_eq!(b[0].as_scalar().unwrap().style, Style::SingleQuoted);
        assert_eq!(b[1].tag.as_deref(), Some("!!set"));
        assert!(b[1].get("p").unwrap().is_null());
        let c = n.get("c").unwrap();
        assert_eq!(c.tag.as_deref(), Some("!format"));
        assert_eq!(c.get("fmt").unwrap().mark.line, 6);
    }

    #[test]
    fn aliases_and_merge_keys() {
        let n = load_str(
            "base: &b {x: 1, y: 2}\nother:\n  <<: *b\n  y: 3\n",
            "m.yaml",
        )
        .unwrap();
        let o = n.get("other").unwrap();
        assert_eq!(o.to_json(), serde_json::json!({"y": 3, "x": 1}));
    }

    #[test]
    fn errors_name_file_line_and_column() {
        let e = load_str("a: 1\nb: [1, 2\nc: 3\n", "bad.yaml").unwrap_err();
        assert_eq!(e.file, "bad.yaml");
        assert!(e.line >= 2, "{e}");
        assert!(e.to_string().starts_with("bad.yaml:"), "{e}");
    }

    #[test]
    fn emitter_writes_pyyaml_style_migration() {
        let doc = YamlNode::map([
            ("name", YamlNode::string("20261124214640")),
            ("dependencies", YamlNode::seq(vec![])),
            (
                "operations",
                YamlNode::seq(vec![YamlNode::map([
                    ("operation", YamlNode::string("CreateNodeType")),
                    (
                        "arguments",
                        YamlNode::map([
                            ("name", YamlNode::string("Region")),
                            ("keys", YamlNode::set(["code"])),
                            ("properties", YamlNode::set(Vec::<String>::new())),
                            (
                                "list",
                                YamlNode::seq(vec![
                                    YamlNode::string("yes"),
                                    YamlNode::string("a b"),
                                ]),
                            ),
                        ]),
                    ),
                ])]),
            ),
        ]);
        let text = emit(&doc, &EmitOptions { sort_keys: true });
        let expected = "dependencies: []\nname: '20261124214640'\noperations:\n- arguments:\n    keys: !!set\n      code: null\n    list:\n    - 'yes'\n    - a b\n    name: Region\n    properties: !!set {}\n  operation: CreateNodeType\n";
        assert_eq!(text, expected);
        let back = load_str(&text, "x.yaml").unwrap();
        let ops = back.get("operations").unwrap().as_seq().unwrap();
        let keys = ops[0].get("arguments").unwrap().get("keys").unwrap();
        assert_eq!(keys.tag.as_deref(), Some("!!set"));
        assert_eq!(back.get("name").unwrap().as_str(), Some("20261124214640"));
    }

    #[test]
    fn quoting_round_trips() {
        for s in [
            "",
            "yes",
            "no",
            "null",
            "~",
            "12",
            "1.5",
            "0755",
            "a: b",
            "- x",
            "#c",
            "x #y",
            "it's",
            "tab\there",
            "line\nbreak",
            " lead",
            "trail ",
            "2024-01-01",
            "plain text",
            "-x",
            ":",
            "@at",
            "{",
            "\u{1}",
            "=",
            "<<",
        ] {
            let doc = YamlNode::map([("k", YamlNode::string(s))]);
            let text = emit(&doc, &EmitOptions::default());
            let back = load_str(&text, "q.yaml").unwrap();
            assert_eq!(back.get("k").and_then(YamlNode::as_str), Some(s), "{text}");
        }
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Any string written by the emitter reads back as the same string (quoting is always sufficient).
        #[test]
        fn emitted_strings_read_back(s in "\\PC{0,40}", key in "k_[a-z_]{1,12}") {
            let doc = YamlNode::map([(key.clone(), YamlNode::set([s.clone()])), ("v".to_string(), YamlNode::string(s.clone()))]);
            let text = emit(&doc, &EmitOptions { sort_keys: true });
            let back = load_str(&text, "p.yaml").unwrap();
            prop_assert_eq!(back.get("v").and_then(YamlNode::as_str), Some(s.as_str()), "{}", text);
            let set = back.get(&key).unwrap();
            prop_assert_eq!(set.tag.as_deref(), Some("!!set"));
            prop_assert_eq!(set.as_map().unwrap()[0].0.as_str(), Some(s.as_str()));
        }

        /// Integers and floats written by the emitter read back with their type and value.
        #[test]
        fn emitted_numbers_read_back(i in any::<i64>(), f in -1e300f64..1e300) {
            let doc = YamlNode::map([("i", YamlNode::int(i)), ("f", YamlNode::float(f))]);
            let back = load_str(&emit(&doc, &EmitOptions::default()), "n.yaml").unwrap();
            prop_assert_eq!(back.get("i").unwrap().as_scalar().unwrap().value.clone(), ScalarValue::Int(i));
            prop_assert_eq!(back.get("f").unwrap().as_scalar().unwrap().value.clone(), ScalarValue::Float(f));
        }
    }
}
