//! Checks of the spec parts that carry meaning beyond names: parameter enumerations, completion
//! rules (`complete:`), a column's `path` and `field`, and the pushdown rules' `minimum`, `matches`,
//! `disjoint_with` and `case_insensitive`.
//!
//! Each check returns a [`Finding`] (place and message); [`super`] adds the file. A `matches` predicate is
//! planned with DataFusion against the resource's columns, so a typo in it fails at load time
//! rather than in the middle of a query.

use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::common::tree_node::TreeNode;
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::execution::SessionStateBuilder;
use datafusion::logical_expr::{Expr, ExprSchemable};

use crate::spec::error::Finding;
use crate::spec::model::{
    ColumnSpec, DerivedPredicate, MethodSpec, ParamSpec, ParamType, PushdownOp, PushdownRule,
    ResourceSpec,
};
use crate::spec::resource::Column;
use crate::spec::types::ColumnType;

type Check = Result<(), Finding>;

/// `parallel:`: its column has a `range` rule whose bounds the method takes, and a window.
pub(super) fn check_parallel(place: &str, method: &MethodSpec, spec: &ResourceSpec) -> Check {
    let Some(rule) = &method.parallel else {
        return Ok(());
    };
    let at = format!("{place}.parallel");
    if rule.window_days == 0 {
        return Err(Finding::new(at, "`window_days` must be at least 1"));
    }
    let range = spec
        .pushdown
        .iter()
        .find(|r| r.column == rule.column && r.ops.contains(&PushdownOp::Range));
    let bounds = range.and_then(|r| Some((r.lower.as_ref()?, r.upper.as_ref()?)));
    match bounds {
        Some((lower, upper))
            if method.params.contains_key(lower) && method.params.contains_key(upper) =>
        {
            Ok(())
        }
        _ => Err(Finding::new(
            at,
            format!(
                "`{}` needs a range pushdown rule with `lower` and `upper` parameters of this method",
                rule.column
            ),
        )),
    }
}

/// `enum:` lists: only on string and integer parameters, valid for the type, no repeats.
pub(super) fn check_enum(place: &str, param: &ParamSpec) -> Check {
    if param.allowed.is_empty() {
        return Ok(());
    }
    let err = |m: String| Err(Finding::new(format!("{place}.enum"), m));
    if !matches!(param.kind, ParamType::String | ParamType::Integer) {
        return err("only `string` and `integer` parameters can have an `enum`".into());
    }
    for (i, value) in param.allowed.iter().enumerate() {
        if value.is_empty() {
            return err("a value is empty".into());
        }
        if param.kind == ParamType::Integer && value.parse::<i64>().is_err() {
            return err(format!("`{value}` is not an integer"));
        }
        if param.allowed[..i].contains(value) {
            return err(format!("`{value}` is listed twice"));
        }
    }
    Ok(())
}

/// A method's `complete:` rules.
pub(super) fn check_complete(
    place: &str,
    method: &MethodSpec,
    spec: &ResourceSpec,
    has_column: &dyn Fn(&str) -> bool,
) -> Check {
    let method_names = || spec.methods.keys().cloned().collect::<Vec<_>>().join(", ");
    for (i, c) in method.complete.iter().enumerate() {
        let at = if method.complete.len() == 1 {
            format!("{place}.complete")
        } else {
            format!("{place}.complete[{i}]")
        };
        let Some(target) = spec.methods.get(&c.method) else {
            return Err(Finding::new(
                at,
                format!(
                    "unknown method `{}` (methods: {})",
                    c.method,
                    method_names()
                ),
            ));
        };
        if c.method != method.complete[0].method {
            return Err(Finding::new(
                at,
                format!(
                    "every rule must use the same method (`{}`)",
                    method.complete[0].method
                ),
            ));
        }
        if let Some(p) = c
            .params
            .keys()
            .chain(c.set.keys())
            .find(|p| !target.params.contains_key(*p))
        {
            return Err(Finding::new(
                at,
                format!("`{p}` is not a parameter of `{}`", c.method),
            ));
        }
        if let Some(p) = target
            .params
            .iter()
            .find(|(n, p)| p.required && !c.params.contains_key(*n) && !c.set.contains_key(*n))
        {
            return Err(Finding::new(
                at,
                format!("`{}` needs its parameter `{}`", c.method, p.0),
            ));
        }
        // A flattening method's rules read the listed object (its `when` flag and `params`
        // are that object's fields, not columns), and `when_reading` may name the array.
        let flattened = method.response.flatten.as_ref();
        let read_ok = |n: &String| has_column(n) || flattened.is_some_and(|f| &f.array == n);
        if let Some(col) = c.when_reading.iter().find(|n| !read_ok(n)) {
            return Err(Finding::new(at, format!("unknown column `{col}`")));
        }
        let fields = c.params.values().chain(c.when.iter());
        if let Some(col) = fields
            .clone()
            .find(|n| flattened.is_none() && !has_column(n))
        {
            return Err(Finding::new(at, format!("unknown column `{col}`")));
        }
        if let Some(f) = fields.clone().find(|n| n.is_empty() || n.contains('.')) {
            return Err(Finding::new(
                at,
                format!("`{f}` is not one JSON field name"),
            ));
        }
    }
    Ok(())
}

/// A pushdown rule's `minimum`, `matches` and `disjoint_with`.
pub(super) fn check_rule_extras(
    place: &str,
    rule: &PushdownRule,
    spec: &ResourceSpec,
    columns: &[Column],
) -> Check {
    let err = |m: String| Err(Finding::new(place.to_string(), m));
    let kind = |p: &str| param_kind(spec, p);
    let column = |n: &str| columns.iter().find(|c| c.name == n);
    if rule.minimum.is_some() {
        let params = rule.param.iter().chain(&rule.lower).chain(&rule.upper);
        if let Some(p) = params.clone().find(|p| kind(p) != Some(ParamType::Integer)) {
            return err(format!("`minimum` needs integer parameters; `{p}` is not"));
        }
    }
    let is_flag = |n: &str| {
        column(n).is_some_and(|c| c.is_parameter && c.ty == ColumnType::Boolean)
            && spec
                .pushdown
                .iter()
                .any(|r| r.column == n && r.ops.contains(&PushdownOp::Eq))
    };
    if !rule.disjoint_with.is_empty() && !is_flag(&rule.column) {
        return err("`disjoint_with` is for boolean parameter columns with `eq`".into());
    }
    for other in &rule.disjoint_with {
        if other == &rule.column || !is_flag(other) {
            return err(format!(
                "`disjoint_with`: `{other}` is not another boolean parameter column with `eq`"
            ));
        }
    }
    if rule.case_insensitive {
        let string_param = rule
            .param
            .as_deref()
            .is_some_and(|p| kind(p) == Some(ParamType::String));
        if !string_param || column(&rule.column).is_none_or(|c| c.is_parameter) {
            return err(
                "`case_insensitive` is for a data column sent as a string parameter".into(),
            );
        }
    }
    if let Some(sql) = &rule.matches {
        let (Some(param), true) = (&rule.param, rule.ops.contains(&PushdownOp::Eq)) else {
            return err("`matches` needs `eq` and a `param`".into());
        };
        if !column(&rule.column).is_some_and(|c| c.is_parameter) {
            return err("`matches` is for parameter columns (a data column filters itself)".into());
        }
        let kind = kind(param).unwrap_or(ParamType::String);
        let sample = match kind {
            ParamType::Integer => "0",
            ParamType::Boolean => "true",
            ParamType::String | ParamType::Json => "x",
        };
        let predicate = rule
            .predicate(sample, kind)
            .unwrap_or_else(|| DerivedPredicate {
                sql: sql.clone(),
                value: ScalarValue::Null,
            });
        check_predicate(&predicate, columns)
            .map_err(|m| Finding::new(format!("{place}.matches"), format!("`{sql}`: {m}")))?;
    }
    Ok(())
}

/// A column's `path:` as its fields: for data columns (of any type), two or more fields.
pub(in crate::spec) fn column_path(
    place: &str,
    column: &ColumnSpec,
    is_parameter: bool,
) -> Result<Option<Vec<String>>, Finding> {
    let Some(path) = &column.path else {
        return Ok(None);
    };
    let err = |m: &str| Err(Finding::new(format!("{place}.path"), m));
    if is_parameter {
        return err("a parameter column holds the request's value: it has no `path`");
    }
    let fields: Vec<String> = path.split('.').map(str::to_string).collect();
    if fields.len() < 2 || fields.iter().any(String::is_empty) {
        return err("`path` is two or more field names joined by `.` (settings.name)");
    }
    Ok(Some(fields))
}

/// A column's `field:`: for data columns without a `path`, a non-empty JSON name no other
/// data column reads (of the same object: a flattened resource's `parents` read another).
pub(super) fn column_field(
    place: &str,
    column: &ColumnSpec,
    is_parameter: bool,
    before: &[Column],
    parents: &std::collections::BTreeSet<String>,
) -> Check {
    let err = |m: String| Err(Finding::new(format!("{place}.field"), m));
    let json = column.field.as_deref().unwrap_or(&column.name);
    if let Some(field) = &column.field {
        if is_parameter {
            return err("a parameter column holds the request's value: it has no `field`".into());
        }
        if column.path.is_some() {
            return err("give either `field` or `path`, not both".into());
        }
        if field.is_empty() || field.contains('.') {
            return err("`field` is one JSON field name (a nested value takes a `path`)".into());
        }
    }
    if is_parameter || column.path.is_some() {
        return Ok(());
    }
    match before.iter().find(|c| {
        // A flattened resource's parent columns read the object, the others its element.
        let same_side = parents.contains(&c.name) == parents.contains(&column.name);
        !c.is_parameter && c.path.is_none() && c.json_name() == json && same_side
    }) {
        Some(other) => err(format!(
            "the field `{json}` is already read by column `{}`",
            other.name
        )),
        None => Ok(()),
    }
}

/// A column's `which:`: a top-level string data column, read from no one field.
pub(super) fn column_which(
    place: &str,
    column: &ColumnSpec,
    ty: &ColumnType,
    is_parameter: bool,
) -> Check {
    if column.which.is_empty() {
        return Ok(());
    }
    let err = |m: &str| Err(Finding::new(format!("{place}.which"), m));
    if is_parameter {
        return err("a parameter column holds the request's value: it has no `which`");
    }
    if *ty != ColumnType::String {
        return err("a column with `which` is a string (the name of the field present)");
    }
    if column.field.is_some() || column.path.is_some() {
        return err("`which` names the fields read: give no `field` or `path` with it");
    }
    for (i, name) in column.which.iter().enumerate() {
        if name.is_empty() || name.contains('.') {
            return err("each entry is one JSON field name");
        }
        if column.which[..i].contains(name) {
            return err("a field is listed twice");
        }
    }
    Ok(())
}

/// The type of parameter `p` in the first method that has it.
fn param_kind(spec: &ResourceSpec, p: &str) -> Option<ParamType> {
    spec.methods
        .values()
        .find_map(|m| m.params.get(p))
        .map(|p| p.kind)
}

/// `sql` plans as a boolean expression over `columns`.
fn check_predicate(predicate: &DerivedPredicate, columns: &[Column]) -> Result<(), String> {
    let fields: Vec<Field> = columns
        .iter()
        .map(|c| Field::new(&c.name, c.ty.to_arrow(), true))
        .collect();
    let schema = DFSchema::try_from(Schema::new(fields)).map_err(|e| e.to_string())?;
    let state = SessionStateBuilder::new().with_default_features().build();
    let expr = predicate.expr(&state, &schema).map_err(|e| e.to_string())?;
    let placeholders = expr
        .exists(|e| Ok(matches!(e, Expr::Placeholder(_))))
        .map_err(|e| e.to_string())?;
    if placeholders {
        return Err("has a `$` parameter: write `{value}` for the value".into());
    }
    let ty = expr.get_type(&schema).map_err(|e| e.to_string())?;
    if ty != DataType::Boolean {
        return Err(format!("is {ty}, not a boolean predicate"));
    }
    Ok(())
}

/// A column's `from_param:`: for a data column of a scalar type, a parameter among `params`
/// (the select methods' for a resource's column, the method's for an EXEC result column).
pub(in crate::spec) fn column_from_param<'a>(
    place: &str,
    column: &ColumnSpec,
    ty: &ColumnType,
    is_parameter: bool,
    mut params: impl Iterator<Item = &'a String>,
) -> Check {
    let Some(param) = &column.from_param else {
        return Ok(());
    };
    let err = |m: String| Err(Finding::new(format!("{place}.from_param"), m));
    if is_parameter {
        return err("a parameter column already holds the request's value".into());
    }
    if !matches!(
        ty,
        ColumnType::String | ColumnType::Integer | ColumnType::Boolean
    ) {
        return err("a column filled from a parameter is a string, integer or boolean".into());
    }
    if !params.any(|p| p == param) {
        return err(format!(
            "`{param}` is not a parameter of the methods that fill it"
        ));
    }
    Ok(())
}
