//! Conditions (spec §2.9): their tree, how they are parsed and evaluated with Python's comparison semantics.

use super::parse::required;
use super::*;
use crate::interpreter::providers::{EvalCtx, Provider};
use crate::project::yaml::{Kind, YamlNode};
use crate::project::{LoadError, check_keys};
use crate::record;
use ::jmespath::Variable;

/// A condition (spec §2.9).
#[derive(Debug)]
#[allow(clippy::large_enum_variant)] // Built once per pipeline; boxing buys nothing.
pub enum Condition {
    /// Always true.
    True,
    /// All.
    And(Vec<Condition>),
    /// Any.
    Or(Vec<Condition>),
    /// Negation.
    Not(Box<Condition>),
    /// A comparison.
    Compare {
        /// Left side.
        left: Provider,
        /// Right side.
        right: Provider,
        /// `equals`, `greater_than`, `less_than`, `contains`.
        operator: CompareOp,
    },
}

/// Comparison operators.
#[derive(Debug, Clone, Copy)]
pub enum CompareOp {
    /// ==
    Equals,
    /// >
    GreaterThan,
    /// <
    LessThan,
    /// right in left
    Contains,
}

pub(super) fn eval_condition(c: &Condition, e: &EvalCtx<'_>) -> Result<bool, InterpretError> {
    Ok(match c {
        Condition::True => true,
        Condition::And(cs) => {
            for c in cs {
                if !eval_condition(c, e)? {
                    return Ok(false);
                }
            }
            true
        }
        Condition::Or(cs) => {
            for c in cs {
                if eval_condition(c, e)? {
                    return Ok(true);
                }
            }
            false
        }
        Condition::Not(c) => !eval_condition(c, e)?,
        Condition::Compare {
            left,
            right,
            operator,
        } => {
            let l = left.single(e).map_err(InterpretError)?;
            let r = right.single(e).map_err(InterpretError)?;
            compare(&l, &r, *operator).map_err(InterpretError)?
        }
    })
}

/// Python comparison semantics for conditions.
pub fn compare(l: &Variable, r: &Variable, op: CompareOp) -> Result<bool, String> {
    use std::cmp::Ordering;
    let order = || -> Result<Ordering, String> {
        match (l, r) {
            (Variable::Number(a), Variable::Number(b)) => Ok(a
                .as_f64()
                .partial_cmp(&b.as_f64())
                .unwrap_or(Ordering::Equal)),
            (Variable::String(a), Variable::String(b)) => Ok(a.cmp(b)),
            (Variable::Bool(a), Variable::Bool(b)) => Ok(a.cmp(b)),
            _ => Err(format!(
                "comparison not supported between {} and {}",
                record::py_repr(l),
                record::py_repr(r)
            )),
        }
    };
    Ok(match op {
        CompareOp::Equals => l == r,
        CompareOp::GreaterThan => order()? == Ordering::Greater,
        CompareOp::LessThan => order()? == Ordering::Less,
        CompareOp::Contains => match (l, r) {
            (Variable::String(a), Variable::String(b)) => a.contains(b.as_str()),
            (Variable::Array(a), _) => a.iter().any(|x| **x == *r),
            (Variable::Object(m), Variable::String(k)) => m.contains_key(k),
            _ => {
                return Err(format!(
                    "argument of type {} is not iterable",
                    record::py_repr(l)
                ));
            }
        },
    })
}

pub(super) fn parse_condition(node: &YamlNode, file: &str) -> Result<Condition, LoadError> {
    if node.as_map().is_none() {
        return Err(LoadError::at(
            file,
            node,
            format!("a condition must be a mapping, found {}", node.type_name()),
        ));
    }
    let ty = node
        .get("type")
        .map(YamlNode::key_text)
        .unwrap_or_else(|| "true".into());
    let list = |key: &str| -> Result<Vec<Condition>, LoadError> {
        let n = required(node, key, file, "the condition")?;
        match &n.kind {
            Kind::Seq(items) => items.iter().map(|i| parse_condition(i, file)).collect(),
            _ => Err(LoadError::at(
                file,
                n,
                "`conditions` must be a list of conditions",
            )),
        }
    };
    Ok(match ty.as_str() {
        "true" | "True" => Condition::True,
        "and" => Condition::And(list("conditions")?),
        "or" => Condition::Or(list("conditions")?),
        "not" => Condition::Not(Box::new(parse_condition(
            required(node, "condition", file, "the `not` condition")?,
            file,
        )?)),
        "compare" => {
            check_keys(
                node,
                file,
                "the `compare` condition",
                &["type", "left", "right", "operator"],
            )?;
            let op_node = required(node, "operator", file, "the `compare` condition")?;
            let operator = match op_node.key_text().as_str() {
                "equals" => CompareOp::Equals,
                "greater_than" => CompareOp::GreaterThan,
                "less_than" => CompareOp::LessThan,
                "contains" => CompareOp::Contains,
                other => {
                    return Err(LoadError::at(
                        file,
                        op_node,
                        format!(
                            "unknown operator `{other}` (expected equals, greater_than, less_than or contains)"
                        ),
                    ));
                }
            };
            Condition::Compare {
                left: Provider::from_yaml(
                    required(node, "left", file, "the `compare` condition")?,
                    file,
                )?,
                right: Provider::from_yaml(
                    required(node, "right", file, "the `compare` condition")?,
                    file,
                )?,
                operator,
            }
        }
        other => {
            return Err(LoadError::at(
                file,
                node,
                format!("unknown condition type `{other}` (expected and, or, not, compare)"),
            ));
        }
    })
}
