//! The pushdown translator: the one place that decides which WHERE predicates become API
//! parameters, and builds the requests.
//!
//! [`translate`] is called with the filters of each optimizer pass by `supports_filters_pushdown`
//! (through [`decisions`], for the Exact / Inexact / Unsupported answer of each filter) and with
//! all of them by `scan` (for the requests). One function, so the two answers cannot drift apart.
//! Rules come from the resource's `pushdown:` section:
//! - `eq` / `in` on a column → its parameter; `IN` fans out into one request per value (and per
//!   workspace for the server variable, `deployment_name`). Fan-out is capped at [`MAX_KEYS`]
//!   requests: a longer literal list (or `OR` of equalities) is not sent value by value but
//!   evaluated on the rows of the listing (`Unsupported`), and IN lists whose combinations
//!   pass the cap lose their longest non-required lists the same way. A list the scan cannot
//!   do without (the workspace, a required parameter) past the cap is an error naming it.
//! - `range` on a timestamp or integer column → the inclusive `lower` / `upper` parameters,
//!   converted so that the API's inclusive bounds give exactly SQL's `<`, `<=`, `>`, `>=`, and
//!   sent in the rule's `encoding` (epoch ms; RFC 3339, exact to the millisecond; epoch
//!   seconds, rounded outwards and so also evaluated on the rows, as [`Answer::Sent`]).
//! - The method is the first of `select:` whose required parameters are all given.
//!
//! Everything pushed is `Exact` (the API filters on exactly that value, and parameter columns hold
//! the value sent); everything else is `Unsupported` and filtered by DataFusion. Three refinements:
//! - A rule with `case_insensitive:` (jobs/list's `name`) is sent, and the scan also evaluates the
//!   predicate on the rows it fetched ([`Answer::Sent`]): `name = 'Nightly'` asks the API for
//!   the jobs named `nightly` in any case and keeps exactly those named `Nightly`.
//! - A parameter column set in WHERE that the chosen method does not take (`run_id = 5 AND
//!   active_only = true`: runs/get has no `active_only`) still holds the value set, and the rule's
//!   `matches:` predicate (what the parameter keeps) is evaluated on the fetched rows instead.
//! - A WHERE clause no row can satisfy as far as the API is concerned (a value outside a
//!   parameter's `enum`, an empty or inverted range, `active_only AND completed_only`) is
//!   [`Translation::empty`]: zero rows, and no request the API would refuse.

mod recognise;
mod times;

use std::collections::BTreeMap;

use datafusion::catalog::Session;
use datafusion::common::DFSchema;
use datafusion::error::{DataFusionError, Result as DfResult};
use datafusion::execution::SessionState;
use datafusion::logical_expr::{Expr, TableProviderFilterPushDown};

use crate::spec::{DerivedPredicate, ParamType, PushdownOp, Resource};

use recognise::{param_spec, recognise, rule_for, Recognised};

use super::ProviderError;

/// The most requests one scan fans out to, one per value of its `IN` lists (and the most keys
/// a subquery or join may answer to be listed key by key): past it, the values are checked on
/// the rows of the listing instead.
pub const MAX_KEYS: usize = 200;

/// How the scan answers one filter.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// The requests answer it exactly (or it matches no row: see [`Translation::empty`]).
    Pushed,
    /// Evaluated on the fetched rows, as written.
    Kept,
    /// Sent to the API, which keeps more rows than SQL would (it ignores case), and evaluated on
    /// the fetched rows as written too.
    Sent,
    /// Evaluated on the fetched rows as this predicate: a parameter the chosen method does
    /// not take, from the rule's `matches:`.
    Derived(DerivedPredicate),
}

/// What the WHERE clause pushes into the API, for one resource.
#[derive(Debug, Clone, PartialEq)]
pub struct Translation {
    /// The chosen method (a key of the resource's `methods`).
    pub method: String,
    /// Per filter, in the order given.
    pub answers: Vec<Answer>,
    /// Parameters with one value each, by name (the server variable included). Parameters the
    /// method does not take are not sent; they fill their parameter columns.
    pub params: BTreeMap<String, String>,
    /// Parameters with several values (`IN`): one request per combination.
    pub fanout: BTreeMap<String, Vec<String>>,
    /// No row can match: the scan makes no request at all.
    pub empty: bool,
}

/// One request the scan will make (before pagination): the workspace and the parameters.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RequestTemplate {
    /// Every parameter value, including the server variable when given; parameter columns
    /// show these.
    pub params: BTreeMap<String, String>,
    /// Values sent instead of (or besides) `params` without showing in parameter columns: the
    /// bounds of a parallel slice.
    pub sent: BTreeMap<String, String>,
}

impl RequestTemplate {
    /// The parameters as sent: `params` overridden by `sent`.
    pub fn sent_params(&self) -> std::borrow::Cow<'_, BTreeMap<String, String>> {
        if self.sent.is_empty() {
            return std::borrow::Cow::Borrowed(&self.params);
        }
        let mut all = self.params.clone();
        all.extend(self.sent.iter().map(|(k, v)| (k.clone(), v.clone())));
        std::borrow::Cow::Owned(all)
    }
}

impl Translation {
    /// Expand the fan-out into one template per combination of values (none when empty).
    pub fn templates(&self) -> Vec<RequestTemplate> {
        if self.empty {
            return Vec::new();
        }
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
            .map(|params| RequestTemplate {
                params,
                sent: BTreeMap::new(),
            })
            .collect()
    }

    /// DataFusion's view of the answers: Exact unless the filter is evaluated as written.
    pub fn decisions(&self) -> Vec<TableProviderFilterPushDown> {
        self.answers
            .iter()
            .map(|a| match a {
                Answer::Kept => TableProviderFilterPushDown::Unsupported,
                Answer::Pushed | Answer::Sent | Answer::Derived(_) => {
                    TableProviderFilterPushDown::Exact
                }
            })
            .collect()
    }

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

/// The answer to `supports_filters_pushdown`: never an error. DataFusion asks pass by pass,
/// with only the filters new to that pass, so a required parameter given in an earlier pass
/// (`clean_room_name`) may be absent here: then a filter a rule recognises is `Inexact` (the
/// scan will see it, with all the others) and the rest `Unsupported`. A parameter that is
/// really missing is reported by `scan`.
pub fn decisions(resource: &Resource, filters: &[&Expr]) -> Vec<TableProviderFilterPushDown> {
    match translate(resource, filters) {
        Ok(t) => t.decisions(),
        Err(_) => filters
            .iter()
            .map(|f| match recognise(resource, f) {
                Some(_) => TableProviderFilterPushDown::Inexact,
                None => TableProviderFilterPushDown::Unsupported,
            })
            .collect(),
    }
}

/// Decide what `filters` push down, and build the parameters. Fails only when no select
/// method can be called (a required parameter is missing), naming what to add.
pub fn translate(resource: &Resource, filters: &[&Expr]) -> Result<Translation, ProviderError> {
    let variable = resource.server.variable.as_str();
    let recognised: Vec<Option<Recognised>> =
        filters.iter().map(|f| recognise(resource, f)).collect();
    let nothing = recognised
        .iter()
        .any(|r| matches!(r, Some(Recognised::Nothing)));
    let given = |p: &str| {
        recognised.iter().flatten().any(|r| match r {
            Recognised::One { param, .. } | Recognised::Many { param, .. } => param == p,
            Recognised::Range { .. } | Recognised::Nothing | Recognised::TooMany { .. } => false,
        })
    };
    let spec = &resource.spec;
    let required = |m: &String| {
        spec.methods[m.as_str()]
            .params
            .iter()
            .filter(|(_, p)| p.required)
            .map(|(name, _)| name.clone())
            .collect::<Vec<_>>()
    };
    let callable = spec
        .select
        .iter()
        .find(|m| required(m).iter().all(|name| given(name)));
    // A WHERE clause that matches nothing needs no callable method: no request is made.
    let method = match callable {
        Some(m) => Some(m.clone()),
        None if nothing => spec.select.first().cloned(),
        None => None,
    };
    // A list too long to send value by value on what the scan cannot do without: the
    // workspace (each value is one), or a parameter no method can list without.
    for r in recognised.iter().flatten() {
        if let Recognised::TooMany {
            column,
            param,
            count,
        } = r
        {
            let why = if param == variable {
                Some(" (each names a workspace)")
            } else if method.is_none() && spec.select.iter().any(|m| required(m).contains(param)) {
                Some(" (and the table cannot be listed without it)")
            } else {
                None
            };
            if let (Some(why), false) = (why, nothing) {
                return Err(ProviderError::TooManyValues {
                    table: resource.qualified_name(),
                    column: column.clone(),
                    count: *count,
                    max: MAX_KEYS,
                    why,
                });
            }
        }
    }
    let Some(method) = method else {
        return Err(missing_required(resource));
    };
    let method_params = &spec.methods[&method].params;
    let accepts = |p: &str| p == variable || method_params.contains_key(p);

    let mut t = Translation {
        method,
        answers: vec![Answer::Kept; filters.len()],
        params: BTreeMap::new(),
        fanout: BTreeMap::new(),
        empty: nothing,
    };
    // Equalities first, so that an explicit `start_time_from = N` wins over a derived bound.
    for (i, r) in recognised.iter().enumerate() {
        match r {
            Some(Recognised::One {
                column,
                param,
                value,
            }) if !t.taken(param) => {
                if accepts(param) {
                    t.params.insert(param.clone(), value.clone());
                    t.answers[i] = sent_answer(resource, param);
                } else if is_parameter_column(resource, column) {
                    // Not sent, but the column holds it; what it keeps is checked on the rows.
                    t.params.insert(param.clone(), value.clone());
                    t.answers[i] = match derived(resource, column, param, value) {
                        Some(predicate) => Answer::Derived(predicate),
                        None => Answer::Pushed,
                    };
                }
            }
            Some(Recognised::Many { param, values }) if accepts(param) && !t.taken(param) => {
                t.fanout.insert(param.clone(), values.clone());
                t.answers[i] = sent_answer(resource, param);
            }
            Some(Recognised::Nothing) => t.answers[i] = Answer::Pushed,
            _ => {}
        }
    }
    cap_fanout(resource, &mut t, &recognised)?;
    let explicit: Vec<String> = t.params.keys().cloned().collect();
    let mut encoded = times::Encoded::default();
    for (i, r) in recognised.iter().enumerate() {
        if let Some(Recognised::Range {
            lower,
            upper,
            encoding,
        }) = r
        {
            let usable = |b: &Option<(String, i64)>| {
                b.as_ref()
                    .is_none_or(|(p, _)| accepts(p) && !explicit.contains(p))
            };
            if !usable(lower) || !usable(upper) {
                continue;
            }
            if let Some((p, v)) = lower {
                t.tighten(p, *v, i64::max);
                encoded.add(p, *encoding, true, i);
            }
            if let Some((p, v)) = upper {
                t.tighten(p, *v, i64::min);
                encoded.add(p, *encoding, false, i);
            }
            t.answers[i] = Answer::Pushed;
        }
    }
    t.empty |= contradicts(resource, &t.params);
    encoded.render(&mut t.params, &mut t.answers);
    Ok(t)
}

/// Keep the scan's requests within [`MAX_KEYS`]: while the IN lists' combinations are more,
/// the longest list the chosen method can do without (not the workspace, not required) is
/// evaluated on the rows instead of sent. When only lists it cannot do without are left and
/// they are still too many: an error naming them.
fn cap_fanout(
    resource: &Resource,
    t: &mut Translation,
    recognised: &[Option<Recognised>],
) -> Result<(), ProviderError> {
    let variable = &resource.server.variable;
    let method = &resource.spec.methods[t.method.as_str()];
    let required = |p: &str| method.params.get(p).is_some_and(|s| s.required);
    loop {
        let requests = t
            .fanout
            .values()
            .try_fold(1usize, |n, v| n.checked_mul(v.len()))
            .unwrap_or(usize::MAX);
        if requests <= MAX_KEYS {
            return Ok(());
        }
        let droppable = t
            .fanout
            .iter()
            .filter(|(p, _)| *p != variable && !required(p))
            .max_by_key(|(_, v)| v.len())
            .map(|(p, _)| p.clone());
        let Some(param) = droppable else {
            let columns: Vec<String> = t.fanout.keys().cloned().collect();
            return Err(ProviderError::TooManyRequests {
                table: resource.qualified_name(),
                columns: columns.join(", "),
                requests,
                max: MAX_KEYS,
            });
        };
        t.fanout.remove(&param);
        for (i, r) in recognised.iter().enumerate() {
            if matches!(r, Some(Recognised::Many { param: p, .. }) if *p == param) {
                t.answers[i] = Answer::Kept;
            }
        }
    }
}

/// The parameter an equality on `column` is sent as (its `eq` rule's `param`), if any.
pub fn eq_param<'a>(resource: &'a Resource, column: &str) -> Option<&'a str> {
    rule_for(resource, column, PushdownOp::Eq)?.param.as_deref()
}

/// The parameters cannot all hold for one row: an inverted range, or two `disjoint_with` flags
/// both true.
fn contradicts(resource: &Resource, params: &BTreeMap<String, String>) -> bool {
    let int = |p: &Option<String>| {
        p.as_ref()
            .and_then(|p| params.get(p))
            .and_then(|v| v.parse::<i64>().ok())
    };
    let is_true = |p: &str| params.get(p).is_some_and(|v| v == "true");
    resource.spec.pushdown.iter().any(|rule| {
        let inverted =
            matches!((int(&rule.lower), int(&rule.upper)), (Some(lo), Some(hi)) if lo > hi);
        let disjoint = rule.param.as_deref().is_some_and(is_true)
            && rule.disjoint_with.iter().any(|other| {
                rule_for(resource, other, PushdownOp::Eq)
                    .and_then(|r| r.param.as_deref())
                    .is_some_and(is_true)
            });
        inverted || disjoint
    })
}

/// How a predicate sent as `param` is answered: [`Answer::Sent`] when the API compares it
/// without case, else [`Answer::Pushed`].
fn sent_answer(resource: &Resource, param: &str) -> Answer {
    let loose = resource
        .spec
        .pushdown
        .iter()
        .any(|r| r.case_insensitive && r.param.as_deref() == Some(param));
    if loose {
        Answer::Sent
    } else {
        Answer::Pushed
    }
}

fn is_parameter_column(resource: &Resource, column: &str) -> bool {
    resource
        .column_index(column)
        .is_some_and(|i| resource.columns[i].is_parameter)
}

/// The rule's `matches:` predicate for `param = value`, if the parameter filters rows.
fn derived(
    resource: &Resource,
    column: &str,
    param: &str,
    value: &str,
) -> Option<DerivedPredicate> {
    let rule = rule_for(resource, column, PushdownOp::Eq)?;
    let kind = param_spec(resource, param).map_or(ParamType::String, |p| p.kind);
    rule.predicate(value, kind)
}

/// A [`Answer::Derived`] predicate as an expression over the table's columns (`schema`).
pub fn derived_expr(
    state: &dyn Session,
    schema: &DFSchema,
    predicate: &DerivedPredicate,
) -> DfResult<Expr> {
    let Some(state) = state.as_any().downcast_ref::<SessionState>() else {
        return Err(DataFusionError::Plan(format!(
            "cannot evaluate `{}`: this session cannot plan SQL expressions",
            predicate.sql
        )));
    };
    predicate.expr(state, schema)
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
                    ParamType::String => format!("{n} = '...'"),
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
