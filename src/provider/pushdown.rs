//! The pushdown translator: the one place that decides which WHERE predicates become API
//! parameters, and builds the requests.
//!
//! [`translate`] is called twice with the same filters: by `supports_filters_pushdown` (for the
//! Exact / Unsupported answer of each filter) and by `scan` (for the requests). One function,
//! so the two answers cannot drift apart. Rules come from the resource's `pushdown:` section:
//! - `eq` / `in` on a column → its parameter; `IN` fans out into one request per value (and per
//!   workspace for the server variable, `deployment_name`).
//! - `range` on a timestamp or integer column → the inclusive `lower` / `upper` parameters,
//!   converted so that the API's inclusive bounds give exactly SQL's `<`, `<=`, `>`, `>=`.
//! - The method is the first of `select:` whose required parameters are all given.
//!
//! Everything pushed is `Exact` (the API filters on exactly that value, and parameter columns hold
//! the value sent); everything else is `Unsupported` and filtered by DataFusion.

use std::collections::BTreeMap;

use datafusion::logical_expr::{Between, BinaryExpr, Expr, Operator, TableProviderFilterPushDown};
use datafusion::scalar::ScalarValue;

use crate::spec::{ColumnType, ParamLocation, PushdownOp, Resource};

use super::ProviderError;

/// What the WHERE clause pushes into the API, for one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Translation {
    /// The chosen method (a key of the resource's `methods`).
    pub method: String,
    /// Per filter, in the order given.
    pub decisions: Vec<TableProviderFilterPushDown>,
    /// Parameters with one value each, by name (the server variable included).
    pub params: BTreeMap<String, String>,
    /// Parameters with several values (`IN`): one request per combination.
    pub fanout: BTreeMap<String, Vec<String>>,
}

/// One request the scan will make (before pagination): the workspace and the parameters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestTemplate {
    /// Every parameter value, including the server variable when given.
    pub params: BTreeMap<String, String>,
}

impl Translation {
    /// Expand the fan-out into one template per combination of values.
    pub fn templates(&self) -> Vec<RequestTemplate> {
        let mut out = vec![self.params.clone()];
        for (name, values) in &self.fanout {
            out = out
                .into_iter()
                .flat_map(|base| {
                    values.iter().map(move |v| {
                        let mut p = base.clone();
                        p.insert(name.clone(), v.clone());
                        p
                    })
                })
                .collect();
        }
        out.into_iter()
            .map(|params| RequestTemplate { params })
            .collect()
    }
}

/// A predicate the rules recognise.
#[derive(Debug, Clone)]
enum Recognised {
    /// `param = value`.
    One { param: String, value: String },
    /// `param IN (values)`.
    Many { param: String, values: Vec<String> },
    /// Inclusive bounds in the parameter's unit.
    Range {
        lower: Option<(String, i64)>,
        upper: Option<(String, i64)>,
    },
}

/// Decide what `filters` push down, and build the parameters. Fails only when no select
/// method can be called (a required parameter is missing), naming what to add.
pub fn translate(resource: &Resource, filters: &[&Expr]) -> Result<Translation, ProviderError> {
    let variable = resource.server.variable.as_str();
    let recognised: Vec<Option<Recognised>> =
        filters.iter().map(|f| recognise(resource, f)).collect();
    let given = |p: &str| {
        recognised.iter().flatten().any(|r| match r {
            Recognised::One { param, .. } | Recognised::Many { param, .. } => param == p,
            Recognised::Range { .. } => false,
        })
    };
    let spec = &resource.spec;
    let method = spec
        .select
        .iter()
        .find(|m| {
            spec.methods[m.as_str()]
                .params
                .iter()
                .filter(|(_, p)| p.required)
                .all(|(name, _)| given(name))
        })
        .ok_or_else(|| missing_required(resource))?
        .clone();
    let method_params = &spec.methods[&method].params;
    let accepts = |p: &str| p == variable || method_params.contains_key(p);

    let mut t = Translation {
        method,
        decisions: Vec::with_capacity(filters.len()),
        params: BTreeMap::new(),
        fanout: BTreeMap::new(),
    };
    // Equalities first, so that an explicit `start_time_from = N` wins over a derived bound.
    let mut exact = vec![false; filters.len()];
    for (i, r) in recognised.iter().enumerate() {
        match r {
            Some(Recognised::One { param, value }) if accepts(param) && !t.taken(param) => {
                t.params.insert(param.clone(), value.clone());
                exact[i] = true;
            }
            Some(Recognised::Many { param, values }) if accepts(param) && !t.taken(param) => {
                t.fanout.insert(param.clone(), values.clone());
                exact[i] = true;
            }
            _ => {}
        }
    }
    let explicit: Vec<String> = t.params.keys().cloned().collect();
    for (i, r) in recognised.iter().enumerate() {
        if let Some(Recognised::Range { lower, upper }) = r {
            let usable = |b: &Option<(String, i64)>| {
                b.as_ref()
                    .is_none_or(|(p, _)| accepts(p) && !explicit.contains(p))
            };
            if !usable(lower) || !usable(upper) {
                continue;
            }
            if let Some((p, v)) = lower {
                t.tighten(p, *v, i64::max);
            }
            if let Some((p, v)) = upper {
                t.tighten(p, *v, i64::min);
            }
            exact[i] = true;
        }
    }
    t.decisions = exact
        .into_iter()
        .map(|e| {
            if e {
                TableProviderFilterPushDown::Exact
            } else {
                TableProviderFilterPushDown::Unsupported
            }
        })
        .collect();
    Ok(t)
}

impl Translation {
    fn taken(&self, param: &str) -> bool {
        self.params.contains_key(param) || self.fanout.contains_key(param)
    }

    fn tighten(&mut self, param: &str, value: i64, pick: fn(i64, i64) -> i64) {
        let merged = match self.params.get(param).and_then(|v| v.parse::<i64>().ok()) {
            Some(old) => pick(old, value),
            None => value,
        };
        self.params.insert(param.to_string(), merged.to_string());
    }
}

fn missing_required(resource: &Resource) -> ProviderError {
    let spec = &resource.spec;
    let options: Vec<String> = spec
        .select
        .iter()
        .map(|m| {
            let required: Vec<String> = spec.methods[m.as_str()]
                .params
                .iter()
                .filter(|(_, p)| p.required)
                .map(|(n, p)| match p.kind {
                    crate::spec::ParamType::String => format!("{n} = '...'"),
                    _ => format!("{n} = ..."),
                })
                .collect();
            required.join(" AND ")
        })
        .collect();
    ProviderError::MissingParameter {
        table: resource.qualified_name(),
        needed: options.join(", or WHERE "),
    }
}

/// Recognise one filter as a pushable predicate, per the resource's rules.
fn recognise(resource: &Resource, expr: &Expr) -> Option<Recognised> {
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
            let (mut column, mut values) = (None, Vec::new());
            or_of_equalities(expr, &mut column, &mut values)?;
            many(resource, column?, &values)
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
                return bounds(
                    rule.lower.as_ref(),
                    Some(v.ceil),
                    rule.upper.as_ref(),
                    Some(v.floor),
                );
            }
            if op == Operator::Eq {
                let rule = rule_for(resource, column, PushdownOp::Eq)?;
                let value = render(resource, rule.param.as_deref()?, literal)?;
                return Some(Recognised::One {
                    param: rule.param.clone()?,
                    value,
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
            bounds(rule.lower.as_ref(), lower, rule.upper.as_ref(), upper)
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
            bounds(
                rule.lower.as_ref(),
                Some(lo.ceil),
                rule.upper.as_ref(),
                Some(hi.floor),
            )
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
        param,
        value: value.to_string(),
    })
}

/// `col IN (values)`, one request per distinct value.
fn many(resource: &Resource, column: &str, literals: &[&ScalarValue]) -> Option<Recognised> {
    let rule = rule_for(resource, column, PushdownOp::In)?;
    let param = rule.param.clone()?;
    let mut values = Vec::with_capacity(literals.len());
    for literal in literals {
        let v = render(resource, &param, literal)?;
        if !values.contains(&v) {
            values.push(v);
        }
    }
    Some(Recognised::Many { param, values })
}

/// `col = a OR col = b OR col IN (c, d)` (DataFusion rewrites short IN lists into ORs):
/// the column and every value, when all the disjuncts are on the same column.
fn or_of_equalities<'a>(
    expr: &'a Expr,
    column: &mut Option<&'a str>,
    values: &mut Vec<&'a ScalarValue>,
) -> Option<()> {
    let mut same = |c: &'a str| match column {
        Some(existing) if *existing != c => None,
        _ => {
            *column = Some(c);
            Some(())
        }
    };
    match expr {
        Expr::BinaryExpr(BinaryExpr {
            left,
            op: Operator::Or,
            right,
        }) => {
            or_of_equalities(left, column, values)?;
            or_of_equalities(right, column, values)
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
            same(c)?;
            values.push(v);
            Some(())
        }
        Expr::InList(list) if !list.negated => {
            same(column_of(&list.expr)?)?;
            for item in &list.list {
                values.push(literal_of(item)?);
            }
            Some(())
        }
        _ => None,
    }
}

fn bounds(
    lower_param: Option<&String>,
    lower: Option<i64>,
    upper_param: Option<&String>,
    upper: Option<i64>,
) -> Option<Recognised> {
    // A bound the API has no parameter for cannot be pushed (the filter stays with DataFusion).
    if (lower.is_some() && lower_param.is_none()) || (upper.is_some() && upper_param.is_none()) {
        return None;
    }
    Some(Recognised::Range {
        lower: lower.zip(lower_param).map(|(v, p)| (p.clone(), v)),
        upper: upper.zip(upper_param).map(|(v, p)| (p.clone(), v)),
    })
}

fn rule_for<'a>(
    resource: &'a Resource,
    column: &str,
    op: PushdownOp,
) -> Option<&'a crate::spec::PushdownRule> {
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

/// A value as a parameter string, checked against the parameter's type.
fn render(resource: &Resource, param: &str, value: &ScalarValue) -> Option<String> {
    let kind = resource
        .spec
        .methods
        .values()
        .find_map(|m| m.params.get(param))
        .map(|p| p.kind);
    let text = match value {
        ScalarValue::Utf8(Some(s))
        | ScalarValue::LargeUtf8(Some(s))
        | ScalarValue::Utf8View(Some(s)) => s.clone(),
        ScalarValue::Boolean(Some(b)) => b.to_string(),
        v => integer(v)?.to_string(),
    };
    match kind {
        Some(crate::spec::ParamType::Integer) => text.parse::<i64>().ok().map(|i| i.to_string()),
        Some(crate::spec::ParamType::Boolean) => {
            matches!(text.as_str(), "true" | "false").then_some(text)
        }
        // Path parameters must be non-empty; the server variable is validated by the resolver.
        _ if text.is_empty() && is_path_param(resource, param) => None,
        _ => Some(text),
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
        (ColumnType::TimestampMs, ScalarValue::TimestampSecond(Some(v), _)) => {
            let ms = v.checked_mul(1000)?;
            return Some(Units {
                floor: ms,
                ceil: ms,
            });
        }
        (ColumnType::TimestampMs, ScalarValue::Date32(Some(d))) => {
            let ms = (d as i64).checked_mul(86_400_000)?;
            return Some(Units {
                floor: ms,
                ceil: ms,
            });
        }
        (ColumnType::TimestampMs, ScalarValue::TimestampMillisecond(Some(v), _)) => (v, 1),
        (ColumnType::TimestampMs, ScalarValue::TimestampMicrosecond(Some(v), _)) => (v, 1_000),
        (ColumnType::TimestampMs, ScalarValue::TimestampNanosecond(Some(v), _)) => (v, 1_000_000),
        (ColumnType::Integer, v) => (integer(&v)?, 1),
        _ => return None,
    };
    Some(Units {
        floor: v.div_euclid(per_ms),
        ceil: v.div_euclid(per_ms) + i64::from(v.rem_euclid(per_ms) != 0),
    })
}
