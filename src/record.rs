//! A record as it flows from an extractor through the pipeline: a document (a value, or a CSV row read
//! lazily), held as JMESPath variables (`Rcvar`, an `Arc<Variable>`), so evaluating `!jmespath` never
//! converts the record and a plain field name is a direct map lookup; and Python's views of a value.

use crate::project::yaml::{Kind, ScalarValue, YamlNode};
use jmespath::{Rcvar, Variable};
use std::collections::BTreeMap;
use std::sync::Arc;

/// A record or any value inside one.
pub type Var = Rcvar;

/// The header of a CSV file: names in order and the column of each name.
#[derive(Debug)]
pub struct CsvHeaders {
    names: Vec<String>,
    index: std::collections::HashMap<String, usize>,
}

impl CsvHeaders {
    /// From the header row; a repeated name refers to its last column (as Python's `DictReader`).
    pub fn new(names: Vec<String>) -> Self {
        let index = names
            .iter()
            .enumerate()
            .map(|(i, n)| (n.clone(), i))
            .collect();
        CsvHeaders { names, index }
    }

    /// Number of columns.
    pub fn columns(&self) -> usize {
        self.names.len()
    }
}

/// A CSV row kept as read: fields become values only when an expression needs the whole record.
#[derive(Debug)]
pub struct CsvDoc {
    headers: Arc<CsvHeaders>,
    row: csv::StringRecord,
    var: std::sync::OnceLock<Var>,
}

/// A document: a value, or a CSV row whose fields are read lazily (plain field names need no conversion).
#[derive(Debug, Clone)]
pub enum Doc {
    /// Any value.
    Var(Var),
    /// A CSV row.
    Csv(Arc<CsvDoc>),
}

impl Doc {
    /// A CSV row under its header.
    pub fn csv(headers: Arc<CsvHeaders>, row: csv::StringRecord) -> Doc {
        Doc::Csv(Arc::new(CsvDoc {
            headers,
            row,
            var: std::sync::OnceLock::new(),
        }))
    }

    /// The whole document as a value (built once for a CSV row).
    pub fn var(&self) -> Var {
        match self {
            Doc::Var(v) => v.clone(),
            Doc::Csv(c) => c
                .var
                .get_or_init(|| {
                    let mut m = BTreeMap::new();
                    for (i, name) in c.headers.names.iter().enumerate() {
                        // Missing trailing cells are null, as Python's DictReader gives None.
                        let v = c.row.get(i).map_or_else(null, string);
                        m.insert(name.clone(), v);
                    }
                    // Extra cells go to a list under Python's `None` key (spelled "None" here).
                    if c.row.len() > c.headers.names.len() {
                        let extra = c
                            .row
                            .iter()
                            .skip(c.headers.names.len())
                            .map(string)
                            .collect();
                        m.insert("None".to_string(), Arc::new(Variable::Array(extra)));
                    }
                    Arc::new(Variable::Object(m))
                })
                .clone(),
        }
    }

    /// A CSV cell by column name: `Some(None)` for a missing trailing cell; `None` when this is not a CSV
    /// row or the column does not exist.
    pub fn csv_field(&self, name: &str) -> Option<Option<&str>> {
        match self {
            Doc::Csv(c) => c.headers.index.get(name).map(|&i| c.row.get(i)),
            Doc::Var(_) => None,
        }
    }
}

/// The null value.
pub fn null() -> Var {
    thread_local! {
        static NULL: Var = Arc::new(Variable::Null);
    }
    NULL.with(Arc::clone)
}

/// A string value.
pub fn string(s: impl Into<String>) -> Var {
    Arc::new(Variable::String(s.into()))
}

/// Converts plain YAML (tags ignored) to a value.
pub fn from_yaml(node: &YamlNode) -> Var {
    Arc::new(match &node.kind {
        Kind::Scalar(s) => match s.value {
            ScalarValue::Null => Variable::Null,
            ScalarValue::Bool(b) => Variable::Bool(b),
            ScalarValue::Int(i) => Variable::Number(i.into()),
            ScalarValue::Float(f) => {
                serde_json::Number::from_f64(f).map_or(Variable::Null, Variable::Number)
            }
            ScalarValue::Str => Variable::String(s.raw.clone()),
        },
        Kind::Seq(items) => Variable::Array(items.iter().map(from_yaml).collect()),
        Kind::Map(entries) => Variable::Object(
            entries
                .iter()
                .map(|(k, v)| (k.key_text(), from_yaml(v)))
                .collect::<BTreeMap<_, _>>(),
        ),
    })
}

/// Converts JSON to a value.
pub fn from_json(v: serde_json::Value) -> Var {
    Arc::new(match v {
        serde_json::Value::Null => Variable::Null,
        serde_json::Value::Bool(b) => Variable::Bool(b),
        serde_json::Value::Number(n) => Variable::Number(n),
        serde_json::Value::String(s) => Variable::String(s),
        serde_json::Value::Array(a) => Variable::Array(a.into_iter().map(from_json).collect()),
        serde_json::Value::Object(o) => {
            Variable::Object(o.into_iter().map(|(k, v)| (k, from_json(v))).collect())
        }
    })
}

/// Converts a value to JSON.
#[cfg_attr(not(test), allow(dead_code))]
pub fn to_json(v: &Variable) -> serde_json::Value {
    match v {
        Variable::Null | Variable::Expref(_) => serde_json::Value::Null,
        Variable::Bool(b) => (*b).into(),
        Variable::Number(n) => serde_json::Value::Number(n.clone()),
        Variable::String(s) => s.clone().into(),
        Variable::Array(a) => a.iter().map(|x| to_json(x)).collect(),
        Variable::Object(o) => {
            serde_json::Value::Object(o.iter().map(|(k, v)| (k.clone(), to_json(v))).collect())
        }
    }
}

/// Python's `str()` of a value (used by `!format` and `!cast to: str`).
pub fn py_str(v: &Variable) -> String {
    match v {
        Variable::String(s) => s.clone(),
        other => py_repr(other),
    }
}

/// Python's `repr()` of a value.
pub fn py_repr(v: &Variable) -> String {
    match v {
        Variable::Null | Variable::Expref(_) => "None".into(),
        Variable::Bool(b) => if *b { "True" } else { "False" }.into(),
        Variable::Number(n) => match n.as_i64() {
            Some(i) => i.to_string(),
            None => crate::pyfloat::repr(n.as_f64().unwrap_or(f64::NAN)),
        },
        Variable::String(s) => {
            if s.contains('\'') && !s.contains('"') {
                format!("\"{s}\"")
            } else {
                format!("'{}'", s.replace('\\', "\\\\").replace('\'', "\\'"))
            }
        }
        Variable::Array(a) => format!(
            "[{}]",
            a.iter().map(|x| py_repr(x)).collect::<Vec<_>>().join(", ")
        ),
        Variable::Object(o) => format!(
            "{{{}}}",
            o.iter()
                .map(|(k, v)| format!("'{k}': {}", py_repr(v)))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// Python truthiness.
pub fn truthy(v: &Variable) -> bool {
    match v {
        Variable::Null | Variable::Expref(_) => false,
        Variable::Bool(b) => *b,
        Variable::Number(n) => n.as_f64().is_some_and(|f| f != 0.0),
        Variable::String(s) => !s.is_empty(),
        Variable::Array(a) => !a.is_empty(),
        Variable::Object(o) => !o.is_empty(),
    }
}
