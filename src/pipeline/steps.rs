//! Filters and transformers (spec §2.4, §2.5).

use crate::interpreter::normalize::{Normalizers, parse_flags};
use crate::interpreter::providers;
use crate::interpreter::providers::{EvalCtx, Provider};
use crate::project::yaml::YamlNode;
use crate::project::{LoadError, boolean, check_keys};
use crate::record;
use crate::record::{Doc, Var};
use jmespath::Variable;
use std::collections::BTreeMap;
use std::sync::Arc;

/// One `fields` entry of the possibilities filters.
#[derive(Debug)]
pub struct FieldMatcher {
    value: Provider,
    possibilities: Vec<Provider>,
    norm: Normalizers,
}

impl FieldMatcher {
    fn matches(&self, ctx: &EvalCtx<'_>) -> Result<bool, String> {
        let v = self.norm.apply(self.value.single(ctx)?);
        for p in &self.possibilities {
            if *self.norm.apply(p.single(ctx)?) == *v {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

/// A record filter.
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // Built once per pipeline.
pub enum Filter {
    /// Keep when every field matches (or, with `exclude`, drop when every field matches).
    Possibilities {
        /// Field matchers.
        fields: Vec<FieldMatcher>,
        /// `ExcludeWhenValuesMatchPossibilities`.
        exclude: bool,
    },
    /// `ValueMatchesRegexFilter`: `re.match` at the start of the value.
    Regex {
        /// Value.
        value: Provider,
        /// Anchored pattern.
        regex: fancy_regex::Regex,
        /// Keep on match (true) or on no match (false).
        include: bool,
        /// Normalization of the value.
        norm: Normalizers,
    },
}

fn empty_map() -> YamlNode {
    YamlNode::map(Vec::<(String, YamlNode)>::new())
}

impl Filter {
    /// `ValuesMatchPossibilitiesFilter` / `ExcludeWhenValuesMatchPossibilities`.
    pub fn possibilities(args: &YamlNode, file: &str, exclude: bool) -> Result<Self, LoadError> {
        check_keys(args, file, "the filter arguments", &["fields"])?;
        let fields = args
            .get("fields")
            .ok_or_else(|| LoadError::at(file, args, "the filter needs `fields`"))?;
        let Some(items) = fields.as_seq() else {
            return Err(LoadError::at(file, fields, "`fields` must be a list"));
        };
        let mut out = Vec::new();
        for f in items {
            check_keys(
                f,
                file,
                "a filter field",
                &["value", "possibilities", "normalization"],
            )?;
            let value = Provider::from_yaml(
                f.get("value")
                    .ok_or_else(|| LoadError::at(file, f, "a field needs `value`"))?,
                file,
            )?;
            let pn = f
                .get("possibilities")
                .ok_or_else(|| LoadError::at(file, f, "a field needs `possibilities`"))?;
            let Some(ps) = pn.as_seq() else {
                return Err(LoadError::at(file, pn, "`possibilities` must be a list"));
            };
            let possibilities = ps
                .iter()
                .map(|p| Provider::from_yaml(p, file))
                .collect::<Result<_, _>>()?;
            let flags = match f.get("normalization") {
                Some(n) if !n.is_null() => parse_flags(n, file, "normalization")?,
                _ => Vec::new(),
            };
            let norm =
                Normalizers::from_flags(&[], &flags).map_err(|e| LoadError::at(file, f, e))?;
            out.push(FieldMatcher {
                value,
                possibilities,
                norm,
            });
        }
        Ok(Filter::Possibilities {
            fields: out,
            exclude,
        })
    }

    /// `ValueMatchesRegexFilter`.
    pub fn regex(args: &YamlNode, file: &str) -> Result<Self, LoadError> {
        check_keys(
            args,
            file,
            "the ValueMatchesRegexFilter arguments",
            &["value", "regex", "include", "normalize"],
        )?;
        let value = Provider::from_yaml(
            args.get("value")
                .ok_or_else(|| LoadError::at(file, args, "`value` is required"))?,
            file,
        )?;
        let rn = args
            .get("regex")
            .ok_or_else(|| LoadError::at(file, args, "`regex` is required"))?;
        let src = rn
            .as_str()
            .ok_or_else(|| LoadError::at(file, rn, "`regex` must be a string"))?;
        let regex = providers::python_regex(&format!("\\A(?:{src})")).map_err(|e| {
            LoadError::at(file, rn, format!("the regex {src:?} does not compile: {e}"))
        })?;
        let inc = args
            .get("include")
            .ok_or_else(|| LoadError::at(file, args, "`include` (true/false) is required"))?;
        let include = boolean(inc, file, "include")?;
        let flags = match args.get("normalize") {
            Some(n) if !n.is_null() => parse_flags(n, file, "normalize")?,
            _ => Vec::new(),
        };
        let norm =
            Normalizers::from_flags(&[], &flags).map_err(|e| LoadError::at(file, args, e))?;
        Ok(Filter::Regex {
            value,
            regex,
            include,
            norm,
        })
    }

    /// Whether the record is kept.
    pub fn keep(&self, record: &Doc) -> Result<bool, String> {
        let vars = BTreeMap::new();
        let ctx = EvalCtx {
            document: record,
            variables: &vars,
        };
        match self {
            Filter::Possibilities { fields, exclude } => {
                let mut all = true;
                for f in fields {
                    if !f.matches(&ctx)? {
                        all = false;
                        break;
                    }
                }
                Ok(all != *exclude)
            }
            Filter::Regex {
                value,
                regex,
                include,
                norm,
            } => {
                let v = norm.apply(value.single(&ctx)?);
                let Some(s) = v.as_string() else {
                    return Err(format!(
                        "ValueMatchesRegexFilter: expected a string, got {}",
                        record::py_repr(&v)
                    ));
                };
                let m = regex.is_match(s).map_err(|e| e.to_string())?;
                Ok(m == *include)
            }
        }
    }
}

/// A record transformer.
#[derive(Debug)]
pub enum Transformer {
    /// `ValueProjection`.
    Projection {
        /// Values to project.
        projection: Provider,
        /// Extra keys, evaluated on the original record.
        additional_values: Vec<(String, Provider)>,
    },
    /// `ExpandJsonField`.
    ExpandJson {
        /// Path of keys.
        path: Vec<String>,
    },
    /// `SwitchTransformer`.
    Switch {
        /// Switch value.
        switch_on: Provider,
        /// Cases.
        cases: Vec<(Var, Transformer)>,
        /// Fallback (pass through when absent).
        default: Option<Box<Transformer>>,
        /// Normalization.
        norm: Normalizers,
    },
}

impl Transformer {
    /// `ValueProjection`.
    pub fn projection(args: &YamlNode, file: &str) -> Result<Self, LoadError> {
        check_keys(
            args,
            file,
            "the ValueProjection arguments",
            &["projection", "additional_values"],
        )?;
        let p = args
            .get("projection")
            .ok_or_else(|| LoadError::at(file, args, "`projection` is required"))?;
        let mut additional_values = Vec::new();
        if let Some(av) = args.get("additional_values").filter(|n| !n.is_null()) {
            let Some(entries) = av.as_map() else {
                return Err(LoadError::at(
                    file,
                    av,
                    "`additional_values` must be a mapping",
                ));
            };
            for (k, v) in entries {
                additional_values.push((k.key_text(), Provider::from_yaml(v, file)?));
            }
        }
        Ok(Transformer::Projection {
            projection: Provider::from_yaml(p, file)?,
            additional_values,
        })
    }

    /// `ExpandJsonField`.
    pub fn expand_json(args: &YamlNode, file: &str) -> Result<Self, LoadError> {
        check_keys(args, file, "the ExpandJsonField arguments", &["path"])?;
        let p = args
            .get("path")
            .ok_or_else(|| LoadError::at(file, args, "`path` is required"))?;
        let path = match p.as_seq() {
            Some(_) => crate::project::string_list(p, file, "path")?,
            None => vec![
                p.as_str()
                    .ok_or_else(|| {
                        LoadError::at(file, p, "`path` must be a string or a list of strings")
                    })?
                    .to_string(),
            ],
        };
        Ok(Transformer::ExpandJson { path })
    }

    /// `SwitchTransformer`; `build` makes the nested transformer of a case.
    pub fn switch(
        args: &YamlNode,
        file: &str,
        build: &dyn Fn(&YamlNode) -> Result<Transformer, LoadError>,
    ) -> Result<Self, LoadError> {
        check_keys(
            args,
            file,
            "the SwitchTransformer arguments",
            &["switch_on", "cases", "default", "normalization"],
        )?;
        let so = args
            .get("switch_on")
            .ok_or_else(|| LoadError::at(file, args, "`switch_on` is required"))?;
        let cn = args.get("cases").cloned().unwrap_or_else(empty_map);
        let mut cases = Vec::new();
        for (k, v) in cn.as_map().unwrap_or(&[]) {
            cases.push((record::from_yaml(k), build(v)?));
        }
        let default = match args.get("default") {
            Some(d) if !d.is_null() => Some(Box::new(build(d)?)),
            _ => None,
        };
        let flags = match args.get("normalization") {
            Some(n) if !n.is_null() => parse_flags(n, file, "normalization")?,
            _ => Vec::new(),
        };
        let norm =
            Normalizers::from_flags(&[], &flags).map_err(|e| LoadError::at(file, args, e))?;
        Ok(Transformer::Switch {
            switch_on: Provider::from_yaml(so, file)?,
            cases,
            default,
            norm,
        })
    }

    /// Transforms one record into zero or more.
    pub fn apply(
        &self,
        record: Doc,
        out: &mut dyn FnMut(Doc) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        let vars = BTreeMap::new();
        match self {
            Transformer::Projection {
                projection,
                additional_values,
            } => {
                let ctx = EvalCtx {
                    document: &record,
                    variables: &vars,
                };
                let mut extra = BTreeMap::new();
                for (k, p) in additional_values {
                    extra.insert(k.clone(), p.single(&ctx).map_err(anyhow::Error::msg)?);
                }
                for item in projection.many(&ctx).map_err(anyhow::Error::msg)? {
                    let Variable::Object(m) = &*item else {
                        anyhow::bail!(
                            "ValueProjection: each projected value must be a map, got {}",
                            record::py_repr(&item)
                        );
                    };
                    let mut merged = extra.clone();
                    for (k, v) in m {
                        if merged.insert(k.clone(), v.clone()).is_some() {
                            anyhow::bail!(
                                "ValueProjection: key '{k}' is both an additional value and a projected key"
                            );
                        }
                    }
                    out(Doc::Var(Arc::new(Variable::Object(merged))))?;
                }
                Ok(())
            }
            Transformer::ExpandJson { path } => out(Doc::Var(expand(&record.var(), path))),
            Transformer::Switch {
                switch_on,
                cases,
                default,
                norm,
            } => {
                let ctx = EvalCtx {
                    document: &record,
                    variables: &vars,
                };
                let v = norm.apply(switch_on.single(&ctx).map_err(anyhow::Error::msg)?);
                match cases
                    .iter()
                    .find(|(k, _)| **k == *v)
                    .map(|(_, t)| t)
                    .or(default.as_deref())
                {
                    Some(t) => t.apply(record, out),
                    None => out(record),
                }
            }
        }
    }
}

fn expand(record: &Var, path: &[String]) -> Var {
    let Some((first, rest)) = path.split_first() else {
        return match &**record {
            Variable::String(s) => serde_json::from_str(s)
                .map(record::from_json)
                .unwrap_or_else(|_| record.clone()),
            _ => record.clone(),
        };
    };
    let Variable::Object(m) = &**record else {
        return record.clone();
    };
    let Some(child) = m.get(first) else {
        return record.clone();
    };
    let mut m = m.clone();
    m.insert(first.clone(), expand(child, rest));
    Arc::new(Variable::Object(m))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::project::yaml::load_str;

    fn rec(j: serde_json::Value) -> Doc {
        Doc::Var(record::from_json(j))
    }

    #[test]
    fn filters_keep_and_drop() {
        let args = load_str("fields:\n  - value: !jmespath kind\n    possibilities: [A, b]\n    normalization: {do_lowercase_strings: true}\n", "f.yaml").unwrap();
        let keep = Filter::possibilities(&args, "f.yaml", false).unwrap();
        let drop = Filter::possibilities(&args, "f.yaml", true).unwrap();
        assert!(keep.keep(&rec(serde_json::json!({"kind": "a"}))).unwrap());
        assert!(!keep.keep(&rec(serde_json::json!({"kind": "c"}))).unwrap());
        assert!(!drop.keep(&rec(serde_json::json!({"kind": "B"}))).unwrap());
        let args = load_str(
            "value: !jmespath name\nregex: 'ab+'\ninclude: true\n",
            "f.yaml",
        )
        .unwrap();
        let f = Filter::regex(&args, "f.yaml").unwrap();
        assert!(f.keep(&rec(serde_json::json!({"name": "abbbx"}))).unwrap());
        assert!(!f.keep(&rec(serde_json::json!({"name": "xab"}))).unwrap());
    }

    #[test]
    fn projection_and_expand_json() {
        let args = load_str(
            "projection: !jmespath 'items[*]'\nadditional_values: {owner: !jmespath owner}\n",
            "t.yaml",
        )
        .unwrap();
        let t = Transformer::projection(&args, "t.yaml").unwrap();
        let mut out = Vec::new();
        t.apply(
            rec(serde_json::json!({"owner": "o", "items": [{"a": 1}, {"a": 2}]})),
            &mut |v| {
                out.push(record::to_json(&v.var()));
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(
            out,
            vec![
                serde_json::json!({"owner": "o", "a": 1}),
                serde_json::json!({"owner": "o", "a": 2})
            ]
        );
        let t = Transformer::expand_json(&load_str("path: [x, y]", "t.yaml").unwrap(), "t.yaml")
            .unwrap();
        let mut out = Vec::new();
        t.apply(
            rec(serde_json::json!({"x": {"y": "{\"z\": 1}"}})),
            &mut |v| {
                out.push(record::to_json(&v.var()));
                Ok(())
            },
        )
        .unwrap();
        assert_eq!(out, vec![serde_json::json!({"x": {"y": {"z": 1}}})]);
    }
}
