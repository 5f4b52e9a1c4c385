//! `!jmespath`: the runtime with Python's results for `avg`, `sum`, `abs`, `ceil`, `floor`, and compiled
//! expressions with the plain-field fast path.

use crate::record::Var;
use crate::record::*;
use ::jmespath::{Rcvar, Variable};
use std::sync::Arc;

/// `avg` as Python's jmespath: null for an empty array (the crate's builtin fails on it).
struct Avg(::jmespath::functions::AvgFn);

impl ::jmespath::functions::Function for Avg {
    fn evaluate(
        &self,
        args: &[Rcvar],
        ctx: &mut ::jmespath::Context<'_>,
    ) -> ::jmespath::SearchResult {
        if args.len() == 1 && args[0].as_array().is_some_and(|a| a.is_empty()) {
            return Ok(null());
        }
        self.0.evaluate(args, ctx)
    }
}

/// `abs`, `ceil` and `floor` with Python's result types: `ceil`/`floor` give integers (`math.ceil`), `abs`
/// keeps an integer an integer (the crate's builtins return floats).
struct IntegralResult {
    inner: Box<dyn ::jmespath::functions::Function>,
    always: bool,
}

impl ::jmespath::functions::Function for IntegralResult {
    fn evaluate(
        &self,
        args: &[Rcvar],
        ctx: &mut ::jmespath::Context<'_>,
    ) -> ::jmespath::SearchResult {
        let int_arg = args
            .first()
            .is_some_and(|a| matches!(&**a, Variable::Number(n) if n.is_i64() || n.is_u64()));
        let out = self.inner.evaluate(args, ctx)?;
        if (self.always || int_arg)
            && let Variable::Number(n) = &*out
            && let Some(f) = n.as_f64()
            && f.is_finite()
            && f.fract() == 0.0
            && f.abs() < 9.0e15
        {
            return Ok(Arc::new(Variable::Number((f as i64).into())));
        }
        Ok(out)
    }
}

/// `sum` as Python's: integers add up to an integer (the crate's builtin always gives a float).
struct Sum(::jmespath::functions::SumFn);

impl ::jmespath::functions::Function for Sum {
    fn evaluate(
        &self,
        args: &[Rcvar],
        ctx: &mut ::jmespath::Context<'_>,
    ) -> ::jmespath::SearchResult {
        if let Some(items) = args.first().and_then(|a| a.as_array()) {
            let mut total: i64 = 0;
            let all_int = items.iter().all(|v| match &**v {
                Variable::Number(n) => n
                    .as_i64()
                    .and_then(|i| total.checked_add(i))
                    .map(|t| total = t)
                    .is_some(),
                _ => false,
            });
            if all_int && args.len() == 1 {
                return Ok(Arc::new(Variable::Number(total.into())));
            }
        }
        self.0.evaluate(args, ctx)
    }
}

/// The JMESPath runtime: the builtin functions, with `avg`, `sum`, `abs`, `ceil`, `floor` giving Python's
/// results.
static RUNTIME: std::sync::LazyLock<::jmespath::Runtime> = std::sync::LazyLock::new(|| {
    let mut r = ::jmespath::Runtime::new();
    r.register_builtin_functions();
    r.register_function("avg", Box::new(Avg(::jmespath::functions::AvgFn::new())));
    r.register_function("sum", Box::new(Sum(::jmespath::functions::SumFn::new())));
    let integral = |inner: Box<dyn ::jmespath::functions::Function>, always| {
        Box::new(IntegralResult { inner, always })
    };
    r.register_function(
        "abs",
        integral(Box::new(::jmespath::functions::AbsFn::new()), false),
    );
    r.register_function(
        "ceil",
        integral(Box::new(::jmespath::functions::CeilFn::new()), true),
    );
    r.register_function(
        "floor",
        integral(Box::new(::jmespath::functions::FloorFn::new()), true),
    );
    r
});

/// A compiled JMESPath expression, with the plain-field fast path.
pub struct JmesPath {
    expr: ::jmespath::Expression<'static>,
    /// Set when the expression is a bare field name: evaluated as a map lookup.
    pub(super) field: Option<String>,
}

impl std::fmt::Debug for JmesPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JmesPath({:?})", self.expr.as_str())
    }
}

impl JmesPath {
    /// Compiles `src`.
    pub fn compile(src: &str) -> Result<Self, String> {
        let expr = RUNTIME.compile(src).map_err(|e| e.to_string())?;
        // A bare identifier (`name`, `iso_country`) is a plain field lookup in JMESPath: on a map it gives
        // the same result as the interpreter, without building the record as a value. (Python takes this
        // shortcut for all-letter names only; the results are the same for maps.)
        let is_identifier = src
            .trim()
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
            && src
                .trim()
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_');
        let all_letters = !src.is_empty() && src.chars().all(char::is_alphabetic);
        let field = (is_identifier || all_letters).then(|| src.trim().to_string());
        Ok(JmesPath { expr, field })
    }

    /// The expression text.
    pub fn as_str(&self) -> &str {
        self.expr.as_str()
    }

    /// Evaluates against a document.
    pub fn search(&self, doc: &Doc) -> Result<Var, String> {
        if let Some(field) = &self.field {
            match doc {
                Doc::Var(v) => {
                    if let Variable::Object(map) = &**v {
                        return Ok(map.get(field).cloned().unwrap_or_else(null));
                    }
                }
                Doc::Csv(_) => {
                    return Ok(match doc.csv_field(field) {
                        Some(Some(cell)) => string(cell),
                        _ => null(),
                    });
                }
            }
        }
        let var = doc.var();
        let mut ctx = ::jmespath::Context::new(self.expr.as_str(), &RUNTIME);
        ::jmespath::interpret(&var, self.expr.as_ast(), &mut ctx).map_err(|e| e.to_string())
    }
}
