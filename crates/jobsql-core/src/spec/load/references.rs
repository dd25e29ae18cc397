//! The cross-references of one resource: `select:` methods exist and take what their paths
//! name, parameters sit where their verb allows, pushdown rules name columns and parameters
//! that exist, and the key and `when_reading` columns are columns.

use super::super::error::Finding;
use super::super::model::{HttpVerb, ParamLocation, PushdownOp, ResourceSpec};
use super::super::resource::Column;
use super::super::types::ColumnType;

/// Check `spec` (at `at`) against its resolved `columns` and the server `variable`.
pub(super) fn check_resource(
    at: &str,
    spec: &ResourceSpec,
    columns: &[Column],
    variable: &str,
) -> Result<(), Finding> {
    let has_column = |n: &str| columns.iter().any(|c| c.name == n);
    let select_has_param = |p: &str| {
        spec.select
            .iter()
            .filter_map(|m| spec.methods.get(m))
            .any(|m| m.params.contains_key(p))
    };
    let method_names = || spec.methods.keys().cloned().collect::<Vec<_>>().join(", ");
    if spec.select.is_empty() {
        return Err(Finding::new(format!("{at}.select"), "lists no method"));
    }
    for (i, m) in spec.select.iter().enumerate() {
        if !spec.methods.contains_key(m) {
            return Err(Finding::new(
                format!("{at}.select[{i}]"),
                format!("unknown method `{m}` (methods: {})", method_names()),
            ));
        }
    }
    for (name, method) in &spec.methods {
        let place = format!("{at}.methods.{name}");
        if !method.path.starts_with('/') {
            return Err(Finding::new(format!("{place}.path"), "must start with `/`"));
        }
        for (pname, p) in &method.params {
            let placeholder = format!("{{{pname}}}");
            let in_path = method.path.contains(&placeholder);
            if p.location == ParamLocation::Body && method.verb == HttpVerb::GET {
                return Err(Finding::new(
                    format!("{place}.params.{pname}"),
                    "is `in: body`, but a GET sends no body: use `in: query`",
                ));
            }
            if (p.location == ParamLocation::Path) != in_path {
                return Err(Finding::new(
                    format!("{place}.params.{pname}"),
                    if in_path {
                        "appears in the path, so it needs `in: path`".to_string()
                    } else {
                        format!("is `in: path` but the path has no `{placeholder}`")
                    },
                ));
            }
        }
        let mut rest = method.path.as_str();
        while let Some(start) = rest.find('{') {
            let end = rest[start..]
                .find('}')
                .map(|e| start + e)
                .unwrap_or(rest.len());
            let pname = &rest[start + 1..end];
            if !method.params.contains_key(pname) {
                return Err(Finding::new(
                    format!("{place}.path"),
                    format!("`{{{pname}}}` is not a parameter"),
                ));
            }
            rest = &rest[end.min(rest.len())..];
            rest = rest.get(1..).unwrap_or("");
        }
        for (pname, p) in &method.params {
            super::checks::check_enum(&format!("{place}.params.{pname}"), p)?;
        }
        super::checks::check_complete(&place, method, spec, &has_column)?;
        super::checks::check_parallel(&place, method, spec)?;
        super::flatten::check_method(&place, method, spec, columns)?;
        super::shapes::check_method(&place, method)?;
        if let Some(order) = &method.order {
            if !has_column(&order.column) {
                return Err(Finding::new(
                    format!("{place}.order.column"),
                    format!("`{}` is not a column of this resource", order.column),
                ));
            }
        }
        if let Some(pg) = &method.pagination {
            for (i, field) in pg.merge_arrays.iter().enumerate() {
                // `tasks` (an array column), or `settings.tasks` (inside a JSON column).
                let (column, nested) = match field.split_once('.') {
                    Some((c, _)) => (c, true),
                    None => (field.as_str(), false),
                };
                let flattened = method
                    .response
                    .flatten
                    .as_ref()
                    .is_some_and(|f| &f.array == field);
                let ok = flattened
                    || !field.split('.').any(str::is_empty)
                        && columns.iter().any(|c| {
                            c.name == column
                                && match c.ty {
                                    ColumnType::Json => true,
                                    ColumnType::Array(_) => !nested,
                                    _ => false,
                                }
                        });
                if !ok {
                    return Err(Finding::new(
                        format!("{place}.pagination.merge_arrays[{i}]"),
                        format!("`{field}` is not an array column (or a path into a json one, or the flattened array)"),
                    ));
                }
            }
        }
    }
    for column in columns
        .iter()
        .filter(|c| c.is_parameter && c.name != variable)
    {
        if !select_has_param(&column.name) {
            return Err(Finding::new(
                format!("{at}.parameters ({})", column.name),
                "is not a parameter of any select method",
            ));
        }
    }
    for (i, rule) in spec.pushdown.iter().enumerate() {
        let place = format!("{at}.pushdown[{i}] ({})", rule.column);
        if !has_column(&rule.column) {
            return Err(Finding::new(
                place,
                format!("unknown column `{}`", rule.column),
            ));
        }
        if rule.ops.is_empty() {
            return Err(Finding::new(place, "lists no `ops`"));
        }
        let wants_param = rule
            .ops
            .iter()
            .any(|o| matches!(o, PushdownOp::Eq | PushdownOp::In));
        match &rule.param {
            Some(p) if p != variable && !select_has_param(p) => {
                return Err(Finding::new(
                    place,
                    format!("`{p}` is not a parameter of any select method"),
                ))
            }
            None if wants_param => return Err(Finding::new(place, "`eq`/`in` need a `param`")),
            _ => {}
        }
        super::checks::check_rule_extras(&place, rule, spec, columns)?;
        super::shapes::check_encoding(&place, rule, spec, columns)?;
        if rule.ops.contains(&PushdownOp::Range) {
            if rule.lower.is_none() && rule.upper.is_none() {
                return Err(Finding::new(place, "`range` needs `lower` and/or `upper`"));
            }
            for p in rule.lower.iter().chain(rule.upper.iter()) {
                if !select_has_param(p) {
                    return Err(Finding::new(
                        place,
                        format!("`{p}` is not a parameter of any select method"),
                    ));
                }
            }
        }
    }
    for (i, rule) in spec.expand.iter().enumerate() {
        let place = format!("{at}.expand[{i}]");
        if !select_has_param(&rule.param) {
            return Err(Finding::new(
                place,
                format!("`{}` is not a parameter of any select method", rule.param),
            ));
        }
        let array = super::flatten::flattened_array(spec);
        if let Some(c) = rule
            .when_reading
            .iter()
            .find(|c| !has_column(c) && array != Some(c.as_str()))
        {
            return Err(Finding::new(
                place,
                format!("unknown column `{c}` in `when_reading`"),
            ));
        }
    }
    for (i, k) in spec.key.iter().enumerate() {
        if !has_column(k) {
            return Err(Finding::new(
                format!("{at}.key[{i}]"),
                format!("unknown column `{k}`"),
            ));
        }
    }
    Ok(())
}
