//! Normalizers (spec §2.11) and the conversion of interpreted values to Bolt values.

use crate::project::LoadError;
use crate::project::yaml::ScalarValue;
use crate::project::yaml::YamlNode;
use crate::record::*;
use ::jmespath::Variable;

/// One registered normalizer (spec §2.11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Normalizer {
    /// `lowercase_strings`
    Lowercase,
    /// `uppercase_strings`
    Uppercase,
    /// `trim_whitespace`
    Trim,
    /// `remove_trailing_dots`
    RemoveTrailingDots,
}

impl Normalizer {
    /// By alias (`lowercase_strings`) as used by `!normalize using:`.
    pub fn by_alias(name: &str) -> Option<Self> {
        Some(match name {
            "lowercase_strings" => Normalizer::Lowercase,
            "uppercase_strings" => Normalizer::Uppercase,
            "trim_whitespace" => Normalizer::Trim,
            "remove_trailing_dots" => Normalizer::RemoveTrailingDots,
            _ => return None,
        })
    }

    fn apply(self, s: &str) -> String {
        match self {
            Normalizer::Lowercase => s.to_lowercase(),
            Normalizer::Uppercase => s.to_uppercase(),
            Normalizer::Trim => s.trim().to_string(),
            Normalizer::RemoveTrailingDots => s.trim_end_matches('.').to_string(),
        }
    }
}

/// An ordered list of normalizers to apply (flags set to true, in flag-map order).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Normalizers(pub Vec<Normalizer>);

/// Flag maps in order (`do_lowercase_strings: true`, …), before defaults are overlaid.
pub type Flags = Vec<(String, bool)>;

impl Normalizers {
    /// Builds from flags overlaid on defaults; the default keys keep their first position.
    pub fn from_flags(defaults: &[(&str, bool)], flags: &Flags) -> Result<Self, String> {
        let mut merged: Vec<(String, bool)> =
            defaults.iter().map(|(k, v)| (k.to_string(), *v)).collect();
        for (k, v) in flags {
            match merged.iter_mut().find(|(mk, _)| mk == k) {
                Some(slot) => slot.1 = *v,
                None => merged.push((k.clone(), *v)),
            }
        }
        let mut out = Vec::new();
        for (k, on) in merged {
            if !on {
                continue;
            }
            let n = k.strip_prefix("do_").and_then(Normalizer::by_alias);
            match n {
                Some(n) => out.push(n),
                None => return Err(format!("Normalization flag with name '{k}' is not valid.")),
            }
        }
        Ok(Normalizers(out))
    }

    /// Whether nothing is applied.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Normalizes a string.
    pub fn apply_str(&self, s: &str) -> String {
        match self.0.as_slice() {
            [] => s.to_string(),
            [one] => one.apply(s),
            many => {
                let mut cur = s.to_string();
                for n in many {
                    cur = n.apply(&cur);
                }
                cur
            }
        }
    }

    /// Normalizes a value (only strings change).
    pub fn apply(&self, v: Var) -> Var {
        if self.is_empty() {
            return v;
        }
        match &*v {
            Variable::String(s) => string(self.apply_str(s)),
            _ => v,
        }
    }
}

/// Parses a normalization flag map (`{do_lowercase_strings: true}`).
pub fn parse_flags(node: &YamlNode, file: &str, what: &str) -> Result<Flags, LoadError> {
    let Some(entries) = node.as_map() else {
        return Err(LoadError::at(
            file,
            node,
            format!(
                "`{what}` must be a mapping of flags like `do_lowercase_strings: true`, found {}",
                node.type_name()
            ),
        ));
    };
    let mut out = Vec::new();
    for (k, v) in entries {
        let key = k
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| k.key_text());
        let on = match v.as_scalar().map(|s| &s.value) {
            Some(ScalarValue::Bool(b)) => *b,
            Some(ScalarValue::Null) => false,
            _ => {
                return Err(LoadError::at(
                    file,
                    v,
                    format!("`{what}.{key}` must be a boolean, found {}", v.type_name()),
                ));
            }
        };
        out.push((key, on));
    }
    Ok(out)
}

/// Converts a value to a Bolt value, applying normalizers to strings.
pub fn to_bolt(v: &Variable, norm: &Normalizers) -> bolt::Value {
    match v {
        Variable::Null | Variable::Expref(_) => bolt::Value::Null,
        Variable::Bool(b) => bolt::Value::Boolean(*b),
        Variable::Number(n) => match n.as_i64() {
            Some(i) => bolt::Value::Integer(i),
            None => bolt::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Variable::String(s) => bolt::Value::String(norm.apply_str(s)),
        Variable::Array(a) => bolt::Value::List(a.iter().map(|x| to_bolt(x, norm)).collect()),
        Variable::Object(o) => bolt::Value::Map(
            o.iter()
                .map(|(k, v)| (k.clone(), to_bolt(v, norm)))
                .collect(),
        ),
    }
}
