//! Recognising one WHERE predicate as something a pushdown rule can send: `param = value`,
//! `param IN (values)`, inclusive bounds, or a predicate no row satisfies (a value outside the
//! parameter's `enum`, an upper bound below the rule's `minimum`).
//!
//! Values are rendered as the API expects them (integers in decimal, booleans as `true` /
//! `false`, timestamps in epoch milliseconds rounded so the API's inclusive bounds give exactly
//! SQL's `<`, `<=`, `>`, `>=`; the translator then renders a bound in its rule's `encoding`).

use datafusion::logical_expr::{Between, BinaryExpr, Expr, Operator};
use datafusion::scalar::ScalarValue;

use crate::spec::{
    ColumnType, ParamLocation, ParamSpec, PushdownOp, PushdownRule, Resource, TimeEncoding,
};

/// A predicate the rules recognise.
#[derive(Debug, Clone)]
pub(super) enum Recognised {
    /// `column = value`, sent as `param = value`.
    One {
        column: String,
        param: String,
        value: String,
    },
    /// `column IN (values)`: one request per value.
    Many { param: String, values: Vec<String> },
    /// `column IN (values)` with more distinct values than [`super::MAX_KEYS`]: not one
    /// request per value (the listing is filtered on the rows instead, when it can be made).
    TooMany {
        column: String,
        param: String,
        count: usize,
    },
    /// Inclusive bounds in the parameter's unit (epoch ms for timestamps), sent in the rule's
    /// `encoding`.
    Range {
        lower: Option<(String, i64)>,
        upper: Option<(String, i64)>,
        encoding: TimeEncoding,
    },
    /// No row can satisfy it: a value the API refuses for the parameter (outside its `enum`,
    /// below the rule's `minimum`).
    Nothing,
}

/// A value rendered for a parameter.
enum Rendered {
    /// The parameter's text.
    Value(String),
    /// A value of the right type that the API refuses: no row has it.
    Refused,
}

/// Recognise one filter as a pushable predicate, per the resource's rules.
pub(super) fn recognise(resource: &Resource, expr: &Expr) -> Option<Recognised> {
    match expr {
        // A bare boolean column: `WHERE active_only`, `WHERE NOT active_only`.
        Expr::Column(c) => flag(resource, &c.name, true),
        Expr::Not(inner) => match inner.as_ref() {
            Expr::Column(c) => flag(resource, &c.name, false),
            _ => None,
        },
        Expr::BinaryExpr(BinaryExpr {
            op: Operator::Or, ..
        }) => {
            let (column, values) = or_of_equalities(expr)?;
            many(resource, column, &values)
        }
        Expr::BinaryExpr(BinaryExpr { left, op, right }) => {
            let (column, literal, op) = match (column_of(left), literal_of(right)) {
                (Some(c), Some(l)) => (c, l, *op),
                _ => (column_of(right)?, literal_of(left)?, op.swap()?),
            };
            if op == Operator::Eq && rule_for(resource, column, PushdownOp::Eq).is_none() {
                // `start_time = t`: both bounds at t (none match when t has sub-ms digits).
                let rule = rule_for(resource, column, PushdownOp::Range)?;
                let v = to_units(resource, column, literal)?;
                return bounds(rule, Some(v.ceil), Some(v.floor));
            }
            if op == Operator::Eq {
                let rule = rule_for(resource, column, PushdownOp::Eq)?;
                let param = rule.param.clone()?;
                return Some(match render(resource, rule, &param, literal)? {
                    Rendered::Value(value) => Recognised::One {
                        column: column.to_string(),
                        param,
                        value,
                    },
                    Rendered::Refused => Recognised::Nothing,
                });
            }
            let rule = rule_for(resource, column, PushdownOp::Range)?;
            let v = to_units(resource, column, literal)?;
            let (lower, upper) = match op {
                Operator::GtEq => (Some(v.ceil), None),
                Operator::Gt => (Some(v.floor.checked_add(1)?), None),
                Operator::LtEq => (None, Some(v.floor)),
                Operator::Lt => (None, Some(v.ceil.checked_sub(1)?)),
                _ => return None,
            };
            bounds(rule, lower, upper)
        }
        Expr::Between(Between {
            expr,
            negated: false,
            low,
            high,
        }) => {
            let column = column_of(expr)?;
            let rule = rule_for(resource, column, PushdownOp::Range)?;
            let lo = to_units(resource, column, literal_of(low)?)?;
            let hi = to_units(resource, column, literal_of(high)?)?;
            bounds(rule, Some(lo.ceil), Some(hi.floor))
        }
        Expr::InList(list) if !list.negated => {
            let column = column_of(&list.expr)?;
            let literals: Option<Vec<&ScalarValue>> = list.list.iter().map(literal_of).collect();
            many(resource, column, &literals?)
        }
        _ => None,
    }
}

/// A boolean column used as a predicate: `param = value`.
fn flag(resource: &Resource, column: &str, value: bool) -> Option<Recognised> {
    let rule = rule_for(resource, column, PushdownOp::Eq)?;
    let ty = &resource.columns[resource.column_index(column)?].ty;
    let param = rule.param.clone()?;
    (*ty == ColumnType::Boolean).then(|| Recognised::One {
        column: column.to_string(),
        param,
        value: value.to_string(),
    })
}

/// `col IN (values)`, one request per distinct value; past [`super::MAX_KEYS`] distinct
/// values, [`Recognised::TooMany`].
fn many(resource: &Resource, column: &str, literals: &[&ScalarValue]) -> Option<Recognised> {
    let rule = rule_for(resource, column, PushdownOp::In)?;
    let param = rule.param.clone()?;
    let mut values = Vec::with_capacity(literals.len().min(super::MAX_KEYS + 1));
    let mut seen = std::collections::HashSet::new();
    for literal in literals {
        // A value the API refuses matches no row: leave it out of the requests.
        if let Rendered::Value(v) = render(resource, rule, &param, literal)? {
            if seen.insert(v.clone()) {
                values.push(v);
            }
        }
    }
    if values.is_empty() {
        return Some(Recognised::Nothing);
    }
    if values.len() > super::MAX_KEYS {
        return Some(Recognised::TooMany {
            column: column.to_string(),
            param,
            count: values.len(),
        });
    }
    Some(Recognised::Many { param, values })
}

/// `col = a OR col = b OR col IN (c, d)` (DataFusion rewrites short IN lists into ORs):
/// the column and every value, when all the disjuncts are on the same column. Walked with a
/// stack of its own, so a chain of thousands of `OR`s costs no native stack.
fn or_of_equalities(expr: &Expr) -> Option<(&str, Vec<&ScalarValue>)> {
    let mut column: Option<&str> = None;
    let mut values = Vec::new();
    let mut stack = vec![expr];
    while let Some(e) = stack.pop() {
        match e {
            Expr::BinaryExpr(BinaryExpr {
                left,
                op: Operator::Or,
                right,
            }) => {
                // Right first on the stack: the values come out in the written order.
                stack.push(right);
                stack.push(left);
            }
            Expr::BinaryExpr(BinaryExpr {
                left,
                op: Operator::Eq,
                right,
            }) => {
                let (c, v) = match (column_of(left), literal_of(right)) {
                    (Some(c), Some(v)) => (c, v),
                    _ => (column_of(right)?, literal_of(left)?),
                };
                if column.is_some_and(|existing| existing != c) {
                    return None;
                }
                column = Some(c);
                values.push(v);
            }
            Expr::InList(list) if !list.negated => {
                let c = column_of(&list.expr)?;
                if column.is_some_and(|existing| existing != c) {
                    return None;
                }
                column = Some(c);
                for item in &list.list {
                    values.push(literal_of(item)?);
                }
            }
            _ => return None,
        }
    }
    Some((column?, values))
}

/// Inclusive bounds for a range rule, in the API's unit; a bound below the rule's `minimum`
/// is raised to it (lower) or matches nothing (upper).
fn bounds(rule: &PushdownRule, lower: Option<i64>, upper: Option<i64>) -> Option<Recognised> {
    // A bound the API has no parameter for cannot be pushed (the filter stays with DataFusion).
    if (lower.is_some() && rule.lower.is_none()) || (upper.is_some() && rule.upper.is_none()) {
        return None;
    }
    let min = rule.minimum.unwrap_or(i64::MIN);
    if upper.is_some_and(|u| u < min) {
        return Some(Recognised::Nothing);
    }
    Some(Recognised::Range {
        lower: lower
            .zip(rule.lower.as_ref())
            .map(|(v, p)| (p.clone(), v.max(min))),
        upper: upper.zip(rule.upper.as_ref()).map(|(v, p)| (p.clone(), v)),
        encoding: rule.encoding,
    })
}

/// The first rule of `column` with `op`.
pub(super) fn rule_for<'a>(
    resource: &'a Resource,
    column: &str,
    op: PushdownOp,
) -> Option<&'a PushdownRule> {
    resource
        .spec
        .pushdown
        .iter()
        .find(|r| r.column == column && r.ops.contains(&op))
}

fn column_of(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::Column(c) => Some(&c.name),
        _ => None,
    }
}

fn literal_of(expr: &Expr) -> Option<&ScalarValue> {
    match expr {
        Expr::Literal(v, _) if !v.is_null() => Some(v),
        _ => None,
    }
}

/// The spec of parameter `param` (in the first method that has it).
pub(super) fn param_spec<'a>(resource: &'a Resource, param: &str) -> Option<&'a ParamSpec> {
    resource
        .spec
        .methods
        .values()
        .find_map(|m| m.params.get(param))
}

/// A value as a parameter string, checked against the parameter's type, `enum` and the rule's
/// `minimum`. `None` when it cannot be the parameter (the filter stays with DataFusion).
fn render(
    resource: &Resource,
    rule: &PushdownRule,
    param: &str,
    value: &ScalarValue,
) -> Option<Rendered> {
    let spec = param_spec(resource, param);
    let text = match value {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => s.clone(),
        ScalarValue::Boolean(Some(b)) => b.to_string(),
        v => integer(v)?.to_string(),
    };
    let text = match spec.map(|p| p.kind) {
        Some(crate::spec::ParamType::Integer) => {
            let i = text.parse::<i64>().ok()?;
            if rule.minimum.is_some_and(|min| i < min) {
                return Some(Rendered::Refused);
            }
            i.to_string()
        }
        Some(crate::spec::ParamType::Boolean) => {
            matches!(text.as_str(), "true" | "false").then_some(text)?
        }
        // Path parameters must be non-empty; the server variable is validated by the resolver.
        _ if text.is_empty() && is_path_param(resource, param) => return None,
        _ => text,
    };
    match spec {
        Some(p) if !p.allowed.is_empty() && !p.allowed.contains(&text) => Some(Rendered::Refused),
        _ => Some(Rendered::Value(text)),
    }
}

fn is_path_param(resource: &Resource, param: &str) -> bool {
    resource.spec.methods.values().any(|m| {
        m.params
            .get(param)
            .is_some_and(|p| p.location == ParamLocation::Path)
    })
}

fn integer(value: &ScalarValue) -> Option<i64> {
    match value {
        ScalarValue::Int8(Some(v)) => Some(*v as i64),
        ScalarValue::Int16(Some(v)) => Some(*v as i64),
        ScalarValue::Int32(Some(v)) => Some(*v as i64),
        ScalarValue::Int64(Some(v)) => Some(*v),
        ScalarValue::UInt8(Some(v)) => Some(*v as i64),
        ScalarValue::UInt16(Some(v)) => Some(*v as i64),
        ScalarValue::UInt32(Some(v)) => Some(*v as i64),
        ScalarValue::UInt64(Some(v)) => i64::try_from(*v).ok(),
        _ => None,
    }
}

/// A literal in the column's API unit, rounded both ways (sub-millisecond timestamps).
struct Units {
    floor: i64,
    ceil: i64,
}

fn to_units(resource: &Resource, column: &str, value: &ScalarValue) -> Option<Units> {
    let ty = &resource.columns[resource.column_index(column)?].ty;
    let (v, per_ms): (i64, i64) = match (ty, value.clone()) {
        (ColumnType::Timestamp(_), ScalarValue::TimestampSecond(Some(v), _)) => {
            let ms = v.checked_mul(1000)?;
            return Some(Units {
                floor: ms,
                ceil: ms,
            });
        }
        (ColumnType::Timestamp(_), ScalarValue::Date32(Some(d))) => {
            let ms = (d as i64).checked_mul(86_400_000)?;
            return Some(Units {
                floor: ms,
                ceil: ms,
            });
        }
        (ColumnType::Timestamp(_), ScalarValue::TimestampMillisecond(Some(v), _)) => (v, 1),
        (ColumnType::Timestamp(_), ScalarValue::TimestampMicrosecond(Some(v), _)) => (v, 1_000),
        (ColumnType::Timestamp(_), ScalarValue::TimestampNanosecond(Some(v), _)) => (v, 1_000_000),
        (ColumnType::Integer, v) => (integer(&v)?, 1),
        _ => return None,
    };
    Some(Units {
        floor: v.div_euclid(per_ms),
        ceil: v.div_euclid(per_ms) + i64::from(v.rem_euclid(per_ms) != 0),
    })
}
