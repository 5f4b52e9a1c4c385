//! Value providers (spec §2.10): static values and the `!jmespath`, `!variable`, `!format`, `!regex`, `!split`,
//! `!cast`, … tags, evaluated against a record.

use super::jmespath::JmesPath;
use super::normalize::Normalizers;
use super::normalize::{Normalizer, to_bolt};
use crate::project::LoadError;
use crate::project::yaml::{Kind, ScalarValue, YamlNode};
use crate::record::*;
use crate::record::{Doc, Var};
use ::jmespath::Variable;
use std::collections::BTreeMap;
use std::sync::Arc;

/// What a `!cast` converts to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CastTo {
    /// `int`
    Int,
    /// `float` (also `decimal`, which Bolt cannot carry)
    Float,
    /// `str`
    Str,
    /// `bool` (Python truthiness: `"false"` is true)
    Bool,
}

/// The `group` of a `!regex`.
#[derive(Debug, Clone)]
pub enum RegexGroup {
    /// By number (0 = whole match).
    Index(usize),
    /// By name.
    Name(String),
}

/// A value provider: a static value or a tag of spec §2.10.
#[derive(Debug)]
pub enum Provider {
    /// A plain YAML value.
    Static(Var),
    /// `!jmespath`
    JmesPath(JmesPath),
    /// `!variable`
    Variable(String),
    /// `!format`
    Format {
        /// The format string.
        fmt: Box<Provider>,
        /// Named substitutions, in order.
        subs: Vec<(String, Provider)>,
    },
    /// `!regex`
    Regex {
        /// The compiled pattern.
        regex: fancy_regex::Regex,
        /// The pattern as written.
        source: String,
        /// Input.
        data: Box<Provider>,
        /// Which group to return.
        group: RegexGroup,
    },
    /// `!split`
    Split {
        /// Separator.
        delimiter: String,
        /// Input.
        data: Box<Provider>,
    },
    /// `!normalize`
    Normalize {
        /// Normalizer.
        using: Normalizer,
        /// Input.
        data: Box<Provider>,
    },
    /// `!cast`
    Cast {
        /// Input.
        data: Box<Provider>,
        /// Target type.
        to: CastTo,
    },
    /// `!mapping` (always null: nothing fills mappings)
    Mapping,
}

/// What providers read: the document and the record's variables.
pub struct EvalCtx<'a> {
    /// The current document (record or iterated item).
    pub document: &'a Doc,
    /// Variables set by `variables` interpretations.
    pub variables: &'a BTreeMap<String, Var>,
}

/// Translates Python `re` syntax to fancy-regex where they differ.
pub fn python_regex(src: &str) -> Result<fancy_regex::Regex, String> {
    let mut out = String::with_capacity(src.len());
    let mut chars = src.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('Z') => out.push_str("\\z"),
                Some(other) => {
                    out.push('\\');
                    out.push(other);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    fancy_regex::Regex::new(&out).map_err(|e| e.to_string())
}

impl Provider {
    /// The static string, if this is one (schema inference uses static types).
    pub fn static_str(&self) -> Option<&str> {
        match self {
            Provider::Static(v) => v.as_string().map(String::as_str),
            _ => None,
        }
    }

    /// Builds a provider from a YAML node (tags resolved already, value-provider tags kept).
    pub fn from_yaml(node: &YamlNode, file: &str) -> Result<Provider, LoadError> {
        let tag = match &node.tag {
            None => return Ok(Provider::Static(from_yaml(node))),
            Some(t) => t.as_str(),
        };
        let scalar_arg = |what: &str| -> Result<String, LoadError> {
            match &node.kind {
                Kind::Scalar(s) => Ok(s.raw.clone()),
                _ => Err(LoadError::at(
                    file,
                    node,
                    format!("`{what}` takes a string, found {}", node.type_name()),
                )),
            }
        };
        let field = |name: &str| -> Result<&YamlNode, LoadError> {
            if node.as_map().is_none() {
                return Err(LoadError::at(
                    file,
                    node,
                    format!("`{tag}` takes a mapping, found {}", node.type_name()),
                ));
            }
            node.get(name).ok_or_else(|| {
                LoadError::at(file, node, format!("`{tag}` needs the argument `{name}`"))
            })
        };
        let check_keys = |allowed: &[&str]| -> Result<(), LoadError> {
            for (k, _) in node.as_map().unwrap_or(&[]) {
                let key = k.key_text();
                if !allowed.contains(&key.as_str()) {
                    return Err(LoadError::at(
                        file,
                        k,
                        format!(
                            "unknown argument `{key}` for `{tag}` (expected one of: {})",
                            allowed.join(", ")
                        ),
                    ));
                }
            }
            Ok(())
        };
        Ok(match tag {
            "!jmespath" => {
                let src = scalar_arg("!jmespath")?;
                let jp = JmesPath::compile(&src).map_err(|e| {
                    LoadError::at(
                        file,
                        node,
                        format!("invalid JMESPath expression {src:?}: {e}"),
                    )
                })?;
                Provider::JmesPath(jp)
            }
            "!variable" => Provider::Variable(scalar_arg("!variable")?),
            "!format" => {
                let fmt = Box::new(Provider::from_yaml(field("fmt")?, file)?);
                let mut subs = Vec::new();
                for (k, v) in node.as_map().unwrap_or(&[]) {
                    let key = k.key_text();
                    if key != "fmt" {
                        subs.push((key, Provider::from_yaml(v, file)?));
                    }
                }
                Provider::Format { fmt, subs }
            }
            "!regex" => {
                check_keys(&["regex", "data", "group"])?;
                let rnode = field("regex")?;
                let source = rnode
                    .as_scalar()
                    .map(|s| s.raw.clone())
                    .ok_or_else(|| LoadError::at(file, rnode, "`regex` must be a string"))?;
                let regex = python_regex(&source).map_err(|e| {
                    LoadError::at(
                        file,
                        rnode,
                        format!("the regex {source:?} does not compile: {e}"),
                    )
                })?;
                let data = Box::new(Provider::from_yaml(field("data")?, file)?);
                let group = match node.get("group") {
                    None => RegexGroup::Index(0),
                    Some(g) => match g.as_scalar().map(|s| &s.value) {
                        Some(ScalarValue::Int(i)) if *i >= 0 => RegexGroup::Index(*i as usize),
                        Some(ScalarValue::Str) => RegexGroup::Name(g.key_text()),
                        _ => {
                            return Err(LoadError::at(
                                file,
                                g,
                                "`group` must be a group number or name",
                            ));
                        }
                    },
                };
                Provider::Regex {
                    regex,
                    source,
                    data,
                    group,
                }
            }
            "!split" => {
                check_keys(&["delimiter", "data"])?;
                let d = field("delimiter")?;
                let delimiter = d
                    .as_scalar()
                    .map(|s| s.raw.clone())
                    .ok_or_else(|| LoadError::at(file, d, "`delimiter` must be a string"))?;
                Provider::Split {
                    delimiter,
                    data: Box::new(Provider::from_yaml(field("data")?, file)?),
                }
            }
            "!normalize" => {
                check_keys(&["using", "data"])?;
                let u = field("using")?;
                let name = u.key_text();
                let using = Normalizer::by_alias(&name).ok_or_else(|| {
                    LoadError::at(
                        file,
                        u,
                        format!(
                            "unknown normalizer `{name}` (expected lowercase_strings, uppercase_strings, trim_whitespace or remove_trailing_dots)"
                        ),
                    )
                })?;
                Provider::Normalize {
                    using,
                    data: Box::new(Provider::from_yaml(field("data")?, file)?),
                }
            }
            "!cast" => {
                check_keys(&["data", "to"])?;
                let t = field("to")?;
                let to = match t.key_text().as_str() {
                    "int" => CastTo::Int,
                    "float" | "decimal" => CastTo::Float,
                    "str" => CastTo::Str,
                    "bool" => CastTo::Bool,
                    other => {
                        return Err(LoadError::at(
                            file,
                            t,
                            format!(
                                "cannot cast to `{other}` (expected int, float, decimal, str or bool)"
                            ),
                        ));
                    }
                };
                Provider::Cast {
                    data: Box::new(Provider::from_yaml(field("data")?, file)?),
                    to,
                }
            }
            "!mapping" => Provider::Mapping,
            other => {
                return Err(LoadError::at(
                    file,
                    node,
                    format!(
                        "ArgumentResolver '{other}' is not registered. Did you forget to install a plugin?"
                    ),
                ));
            }
        })
    }

    fn describe(&self) -> String {
        match self {
            Provider::Static(v) => format!("static value {}", py_repr(v)),
            Provider::JmesPath(j) => format!("!jmespath {:?}", j.as_str()),
            Provider::Variable(n) => format!("!variable {n:?}"),
            Provider::Format { .. } => "!format".into(),
            Provider::Regex { source, .. } => format!("!regex {source:?}"),
            Provider::Split { delimiter, .. } => format!("!split on {delimiter:?}"),
            Provider::Normalize { using, .. } => format!("!normalize {using:?}"),
            Provider::Cast { to, .. } => format!("!cast to {to:?}"),
            Provider::Mapping => "!mapping".into(),
        }
    }

    fn wrap(&self, ctx: &EvalCtx<'_>, e: String) -> String {
        format!(
            "Given {}. Failed on input: {}: {e}",
            self.describe(),
            py_repr(&ctx.document.var())
        )
    }

    /// The single value (spec §2.10).
    pub fn single(&self, ctx: &EvalCtx<'_>) -> Result<Var, String> {
        match self {
            Provider::Static(v) => Ok(v.clone()),
            Provider::JmesPath(j) => {
                let v = j.search(ctx.document).map_err(|e| self.wrap(ctx, e))?;
                Ok(match &*v {
                    Variable::Array(items) => items.first().cloned().unwrap_or_else(null),
                    _ => v,
                })
            }
            Provider::Variable(name) => Ok(ctx.variables.get(name).cloned().unwrap_or_else(null)),
            Provider::Format { fmt, subs } => {
                let f = fmt.single(ctx)?;
                let Some(f) = f.as_string() else {
                    return Ok(null());
                };
                let mut values = Vec::with_capacity(subs.len());
                for (name, p) in subs {
                    let v = p.single(ctx)?;
                    if v.is_null() {
                        return Ok(null());
                    }
                    values.push((name.as_str(), v));
                }
                py_format(f, &values)
                    .map(string)
                    .map_err(|e| self.wrap(ctx, e))
            }
            Provider::Regex {
                regex, data, group, ..
            } => {
                let v = data.single(ctx)?;
                self.regex_one(regex, group, &v)
                    .map_err(|e| self.wrap(ctx, e))
            }
            Provider::Split { delimiter, data } => {
                let many = self.split_many(delimiter, data, ctx)?;
                many.into_iter()
                    .next()
                    .ok_or_else(|| self.wrap(ctx, "splitting produced no value".into()))
            }
            Provider::Normalize { using, data } => {
                let many = data.many(ctx)?;
                Ok(many
                    .into_iter()
                    .next()
                    .map_or_else(null, |v| Normalizers(vec![*using]).apply(v)))
            }
            Provider::Cast { data, to } => {
                let v = data.single(ctx)?;
                cast(&v, *to).map_err(|e| self.wrap(ctx, e))
            }
            Provider::Mapping => Ok(null()),
        }
    }

    /// The many values (spec §2.10).
    pub fn many(&self, ctx: &EvalCtx<'_>) -> Result<Vec<Var>, String> {
        match self {
            Provider::Static(v) => Ok(match &**v {
                Variable::Array(a) => a.clone(),
                // A static string iterates as its characters (Python quirk).
                Variable::String(s) => s.chars().map(|c| string(c.to_string())).collect(),
                Variable::Object(o) => o.keys().map(|k| string(k.clone())).collect(),
                _ => vec![v.clone()],
            }),
            Provider::JmesPath(j) => {
                let v = j.search(ctx.document).map_err(|e| self.wrap(ctx, e))?;
                Ok(match &*v {
                    Variable::Array(items) => items.clone(),
                    Variable::Null => Vec::new(),
                    _ => vec![v],
                })
            }
            Provider::Variable(name) => Ok(match ctx.variables.get(name) {
                None => Vec::new(),
                Some(v) => match &**v {
                    Variable::Array(items) => items.clone(),
                    Variable::Null => Vec::new(),
                    _ => vec![v.clone()],
                },
            }),
            Provider::Format { .. } => {
                let v = self.single(ctx)?;
                Ok(if truthy(&v) { vec![v] } else { Vec::new() })
            }
            Provider::Regex {
                regex, data, group, ..
            } => data
                .many(ctx)?
                .iter()
                .map(|v| {
                    self.regex_one(regex, group, v)
                        .map_err(|e| self.wrap(ctx, e))
                })
                .collect(),
            Provider::Split { delimiter, data } => self.split_many(delimiter, data, ctx),
            Provider::Normalize { using, data } => {
                let n = Normalizers(vec![*using]);
                Ok(data.many(ctx)?.into_iter().map(|v| n.apply(v)).collect())
            }
            Provider::Cast { data, to } => data
                .many(ctx)?
                .iter()
                .map(|v| cast(v, *to).map_err(|e| self.wrap(ctx, e)))
                .collect(),
            Provider::Mapping => Ok(Vec::new()),
        }
    }

    /// The single value as a Bolt value with `norm` applied; a plain field of a CSV row goes straight from
    /// the row to the Bolt string (one allocation).
    pub fn single_bolt(
        &self,
        ctx: &EvalCtx<'_>,
        norm: &Normalizers,
    ) -> Result<bolt::Value, String> {
        if let Provider::JmesPath(j) = self
            && let Some(field) = &j.field
            && let Some(cell) = ctx.document.csv_field(field)
        {
            return Ok(cell.map_or(bolt::Value::Null, |s| {
                bolt::Value::String(norm.apply_str(s))
            }));
        }
        let v = self.single(ctx)?;
        Ok(to_bolt(&v, norm))
    }

    fn regex_one(
        &self,
        regex: &fancy_regex::Regex,
        group: &RegexGroup,
        v: &Var,
    ) -> Result<Var, String> {
        let Some(text) = v.as_string() else {
            return Err(format!(
                "expected string or bytes-like object, got {}",
                py_type(v)
            ));
        };
        let caps = regex.captures(text).map_err(|e| e.to_string())?;
        let Some(caps) = caps else {
            return Ok(null());
        };
        let m = match group {
            RegexGroup::Index(i) => caps.get(*i),
            RegexGroup::Name(n) => caps.name(n),
        };
        Ok(m.map_or_else(null, |m| string(m.as_str())))
    }

    fn split_many(
        &self,
        delimiter: &str,
        data: &Provider,
        ctx: &EvalCtx<'_>,
    ) -> Result<Vec<Var>, String> {
        let mut out = Vec::new();
        for v in data.many(ctx)? {
            let Some(s) = v.as_string() else {
                return Err(self.wrap(ctx, format!("cannot split {}", py_type(&v))));
            };
            if delimiter.is_empty() {
                return Err(self.wrap(ctx, "empty separator".into()));
            }
            out.extend(s.split(delimiter).map(string));
        }
        Ok(out)
    }
}

fn py_type(v: &Variable) -> &'static str {
    match v {
        Variable::Null | Variable::Expref(_) => "NoneType",
        Variable::Bool(_) => "bool",
        Variable::Number(n) if n.is_f64() => "float",
        Variable::Number(_) => "int",
        Variable::String(_) => "str",
        Variable::Array(_) => "list",
        Variable::Object(_) => "dict",
    }
}

/// Python `str.format` with named fields (`{name}`, `{name!r}`, `{{`, `}}`); format specs are applied for
/// the common cases (`:>5`, `:02d`, `:.2f`), else ignored.
pub fn py_format(fmt: &str, values: &[(&str, Var)]) -> Result<String, String> {
    let mut out = String::with_capacity(fmt.len() + 16);
    let mut chars = fmt.char_indices().peekable();
    let mut auto = 0usize;
    while let Some((_, c)) = chars.next() {
        match c {
            '{' if chars.peek().map(|x| x.1) == Some('{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek().map(|x| x.1) == Some('}') => {
                chars.next();
                out.push('}');
            }
            '}' => return Err("Single '}' encountered in format string".into()),
            '{' => {
                let mut field = String::new();
                let mut closed = false;
                for (_, c) in chars.by_ref() {
                    if c == '}' {
                        closed = true;
                        break;
                    }
                    field.push(c);
                }
                if !closed {
                    return Err("Single '{' encountered in format string".into());
                }
                let (name_conv, spec) = match field.find(':') {
                    Some(i) => (&field[..i], Some(&field[i + 1..])),
                    None => (field.as_str(), None),
                };
                let (name, conv) = match name_conv.find('!') {
                    Some(i) => (&name_conv[..i], Some(&name_conv[i + 1..])),
                    None => (name_conv, None),
                };
                let value = if name.is_empty() {
                    auto += 1;
                    return Err(format!(
                        "Replacement index {} out of range for positional args tuple",
                        auto - 1
                    ));
                } else {
                    values
                        .iter()
                        .find(|(n, _)| *n == name)
                        .map(|(_, v)| v)
                        .ok_or_else(|| format!("KeyError: '{name}'"))?
                };
                let text = match conv {
                    Some("r") => py_repr(value),
                    _ => py_str(value),
                };
                out.push_str(&apply_spec(&text, value, spec));
            }
            c => out.push(c),
        }
    }
    Ok(out)
}

fn apply_spec(text: &str, value: &Variable, spec: Option<&str>) -> String {
    let Some(spec) = spec.filter(|s| !s.is_empty()) else {
        return text.to_string();
    };
    // [[fill]align][0][width][.precision][type]
    let mut rest = spec;
    let mut fill = ' ';
    let mut align = None;
    let cs: Vec<char> = rest.chars().collect();
    if cs.len() >= 2 && matches!(cs[1], '<' | '>' | '^') {
        fill = cs[0];
        align = Some(cs[1]);
        rest = &rest[cs[0].len_utf8() + 1..];
    } else if !cs.is_empty() && matches!(cs[0], '<' | '>' | '^') {
        align = Some(cs[0]);
        rest = &rest[1..];
    }
    if let Some(r) = rest.strip_prefix('0') {
        fill = '0';
        align = align.or(Some('='));
        rest = r;
    }
    let width_end = rest
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(rest.len());
    let width: usize = rest[..width_end].parse().unwrap_or(0);
    rest = &rest[width_end..];
    let mut precision = None;
    if let Some(r) = rest.strip_prefix('.') {
        let end = r.find(|c: char| !c.is_ascii_digit()).unwrap_or(r.len());
        precision = r[..end].parse::<usize>().ok();
        rest = &r[end..];
    }
    let body = match (rest, value) {
        ("f", Variable::Number(n)) => {
            format!("{:.*}", precision.unwrap_or(6), n.as_f64().unwrap_or(0.0))
        }
        ("d", Variable::Number(n)) => n
            .as_i64()
            .map_or_else(|| text.to_string(), |i| i.to_string()),
        (_, Variable::String(_)) if precision.is_some() => {
            text.chars().take(precision.unwrap_or(0)).collect()
        }
        _ => text.to_string(),
    };
    let len = body.chars().count();
    if len >= width {
        return body;
    }
    let padn = width - len;
    let is_num = matches!(value, Variable::Number(_));
    let pad: String = std::iter::repeat_n(fill, padn).collect();
    match align.unwrap_or(if is_num { '>' } else { '<' }) {
        '<' => format!("{body}{pad}"),
        '^' => {
            let left: String = std::iter::repeat_n(fill, padn / 2).collect();
            let right: String = std::iter::repeat_n(fill, padn - padn / 2).collect();
            format!("{left}{body}{right}")
        }
        '=' => match body.strip_prefix('-') {
            Some(b) => format!("-{pad}{b}"),
            None => format!("{pad}{body}"),
        },
        _ => format!("{pad}{body}"),
    }
}

/// Python conversions for `!cast`.
pub fn cast(v: &Variable, to: CastTo) -> Result<Var, String> {
    Ok(Arc::new(match to {
        CastTo::Str => Variable::String(py_str(v)),
        CastTo::Bool => Variable::Bool(truthy(v)),
        CastTo::Int => match v {
            Variable::Bool(b) => Variable::Number((*b as i64).into()),
            Variable::Number(n) => match n.as_i64() {
                Some(i) => Variable::Number(i.into()),
                None => Variable::Number((n.as_f64().unwrap_or(0.0).trunc() as i64).into()),
            },
            Variable::String(s) => {
                let t = s.trim().replace('_', "");
                let i: i64 = t.parse().map_err(|_| {
                    format!("invalid literal for int() with base 10: {}", py_repr(v))
                })?;
                Variable::Number(i.into())
            }
            other => {
                return Err(format!(
                    "int() argument must be a string or a number, not '{}'",
                    py_type(other)
                ));
            }
        },
        CastTo::Float => {
            let f = match v {
                Variable::Bool(b) => *b as i64 as f64,
                Variable::Number(n) => n.as_f64().unwrap_or(f64::NAN),
                Variable::String(s) => {
                    let t = s.trim().to_ascii_lowercase();
                    match t.as_str() {
                        "inf" | "+inf" | "infinity" => f64::INFINITY,
                        "-inf" | "-infinity" => f64::NEG_INFINITY,
                        _ => t.parse().map_err(|_| {
                            format!("could not convert string to float: {}", py_repr(v))
                        })?,
                    }
                }
                other => {
                    return Err(format!(
                        "float() argument must be a string or a number, not '{}'",
                        py_type(other)
                    ));
                }
            };
            serde_json::Number::from_f64(f).map_or(Variable::Null, Variable::Number)
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::yaml::load_str;

    fn provider(src: &str) -> Provider {
        let node = load_str(src, "t.yaml").unwrap();
        Provider::from_yaml(&node, "t.yaml").unwrap()
    }

    fn doc(j: serde_json::Value) -> Doc {
        Doc::Var(from_json(j))
    }

    #[test]
    fn jmespath_single_takes_first_element_and_many_flattens() {
        let d = doc(serde_json::json!({"tags": ["a", "b"], "n": null, "x": {"y": 3}}));
        let vars = BTreeMap::new();
        let ctx = EvalCtx {
            document: &d,
            variables: &vars,
        };
        let p = provider("!jmespath tags");
        assert_eq!(*p.single(&ctx).unwrap(), Variable::String("a".into()));
        assert_eq!(p.many(&ctx).unwrap().len(), 2);
        assert!(provider("!jmespath n").many(&ctx).unwrap().is_empty());
        assert_eq!(
            *provider("!jmespath x.y").single(&ctx).unwrap(),
            Variable::Number(3.into())
        );
        assert_eq!(
            *provider("!jmespath \"tags[?@ == 'b'] | [0]\"")
                .single(&ctx)
                .unwrap(),
            Variable::String("b".into())
        );
        assert!(
            provider("!jmespath missing")
                .single(&ctx)
                .unwrap()
                .is_null()
        );
    }

    #[test]
    fn format_regex_split_cast_normalize() {
        let d = doc(serde_json::json!({"a": "Hello World", "n": 3, "s": "x|y|z", "f": 1.5}));
        let vars = BTreeMap::from([("v".to_string(), string("var"))]);
        let ctx = EvalCtx {
            document: &d,
            variables: &vars,
        };
        let s = |src: &str| provider(src).single(&ctx).unwrap();
        assert_eq!(
            s("!format {fmt: '{a}-{n}-{v}', a: !jmespath a, n: !jmespath n, v: !variable v}")
                .as_string()
                .unwrap(),
            "Hello World-3-var"
        );
        assert!(s("!format {fmt: '{a}', a: !jmespath missing}").is_null());
        assert_eq!(
            s("!format {fmt: '{x:03d}|{f}', x: !jmespath n, f: !jmespath f}")
                .as_string()
                .unwrap(),
            "003|1.5"
        );
        assert_eq!(
            s("!regex {regex: '(?P<first>\\w+) (\\w+)', data: !jmespath a, group: first}")
                .as_string()
                .unwrap(),
            "Hello"
        );
        assert_eq!(
            s("!regex {regex: '(\\w+)$', data: !jmespath a, group: 1}")
                .as_string()
                .unwrap(),
            "World"
        );
        assert!(s("!regex {regex: 'zzz', data: !jmespath a}").is_null());
        assert!(
            provider("!regex {regex: 'x', data: !jmespath missing}")
                .single(&ctx)
                .is_err()
        );
        assert_eq!(
            s("!split {delimiter: '|', data: !jmespath s}")
                .as_string()
                .unwrap(),
            "x"
        );
        assert_eq!(
            provider("!split {delimiter: '|', data: !jmespath s}")
                .many(&ctx)
                .unwrap()
                .len(),
            3
        );
        assert_eq!(
            *s("!cast {data: !jmespath n, to: str}"),
            Variable::String("3".into())
        );
        assert_eq!(*s("!cast {data: 'false', to: bool}"), Variable::Bool(true));
        assert_eq!(
            *s("!cast {data: '42', to: int}"),
            Variable::Number(42.into())
        );
        assert!(
            provider("!cast {data: '3.5', to: int}")
                .single(&ctx)
                .is_err()
        );
        assert_eq!(
            s("!normalize {using: lowercase_strings, data: !jmespath a}")
                .as_string()
                .unwrap(),
            "hello world"
        );
        assert_eq!(provider("abc").many(&ctx).unwrap().len(), 3);
    }

    #[test]
    fn bad_regex_and_jmespath_are_load_errors_with_position() {
        let node = load_str("x:\n  - !jmespath 'a[?'\n", "p.yaml").unwrap();
        let item = &node.get("x").unwrap().as_seq().unwrap()[0];
        let e = Provider::from_yaml(item, "p.yaml").unwrap_err().to_string();
        assert!(e.starts_with("p.yaml:2:"), "{e}");
        assert!(e.contains("JMESPath"), "{e}");
        let node = load_str("!regex {regex: '(unclosed', data: x}", "r.yaml").unwrap();
        let e = Provider::from_yaml(&node, "r.yaml")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("does not compile") && e.starts_with("r.yaml:1:"),
            "{e}"
        );
    }

    #[test]
    fn normalizer_flags_keep_default_position() {
        let flags = vec![
            ("do_trim_whitespace".to_string(), true),
            ("do_lowercase_strings".to_string(), false),
        ];
        let n = Normalizers::from_flags(&[("do_lowercase_strings", true)], &flags).unwrap();
        assert_eq!(n.0, vec![Normalizer::Trim]);
        assert_eq!(n.apply_str(" Liverpool "), "Liverpool");
        let bad = vec![("do_explode".to_string(), true)];
        assert_eq!(
            Normalizers::from_flags(&[], &bad).unwrap_err(),
            "Normalization flag with name 'do_explode' is not valid."
        );
        let n = Normalizers::from_flags(
            &[("do_lowercase_strings", true)],
            &vec![("do_remove_trailing_dots".into(), true)],
        )
        .unwrap();
        assert_eq!(n.apply_str("ABC..."), "abc");
    }
}

#[cfg(test)]
mod proptests {
    use super::*;
    use crate::project::yaml::load_str;
    use proptest::prelude::*;

    fn flag_strategy() -> impl Strategy<Value = Vec<(String, bool)>> {
        proptest::collection::vec(
            (
                prop_oneof![
                    Just("do_lowercase_strings"),
                    Just("do_uppercase_strings"),
                    Just("do_trim_whitespace"),
                    Just("do_remove_trailing_dots")
                ]
                .prop_map(str::to_string),
                any::<bool>(),
            ),
            0..4,
        )
    }

    proptest! {
        /// Normalizers only touch strings and are idempotent; trimming and dot removal leave no such edge.
        #[test]
        fn normalizers_are_idempotent(s in "\\PC{0,30}", flags in flag_strategy()) {
            let n = Normalizers::from_flags(&[], &flags).unwrap();
            let once = n.apply_str(&s);
            // Applying the same list again changes nothing for lower/upper/trim/dots in any order... except
            // that trimming can expose dots and dot removal can expose spaces: apply to a fixed point first.
            let mut fixed = once.clone();
            for _ in 0..4 { fixed = n.apply_str(&fixed); }
            prop_assert_eq!(n.apply_str(&fixed), fixed.clone());
            if n.0.contains(&Normalizer::Trim) && n.0.last() == Some(&Normalizer::Trim) {
                prop_assert_eq!(once.trim(), once.as_str());
            }
            if n.0.last() == Some(&Normalizer::RemoveTrailingDots) {
                prop_assert!(!once.ends_with('.'));
            }
            let number = Arc::new(Variable::Number(3.into()));
            prop_assert_eq!(n.apply(number.clone()), number);
        }

        /// `!jmespath` single value is the first of its many values for lists, and the value itself otherwise.
        #[test]
        fn jmespath_single_is_first_of_many(items in proptest::collection::vec("[a-z]{0,5}", 0..5), scalar in "[a-z]{0,5}") {
            let d = Doc::Var(from_json(serde_json::json!({"l": items, "s": scalar})));
            let vars = BTreeMap::new();
            let ctx = EvalCtx { document: &d, variables: &vars };
            let p = Provider::from_yaml(&load_str("!jmespath l", "t.yaml").unwrap(), "t.yaml").unwrap();
            let many = p.many(&ctx).unwrap();
            prop_assert_eq!(many.len(), items.len());
            let single = p.single(&ctx).unwrap();
            match many.first() {
                Some(first) => prop_assert_eq!(&single, first),
                None => prop_assert!(single.is_null()),
            }
            let p = Provider::from_yaml(&load_str("!jmespath s", "t.yaml").unwrap(), "t.yaml").unwrap();
            prop_assert_eq!(p.many(&ctx).unwrap(), vec![p.single(&ctx).unwrap()]);
        }
    }
}
