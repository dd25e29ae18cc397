//! Validation of a resource's write side: the `insert`, `delete` and `exec` methods, their
//! idempotency tokens and enumerations, and the result columns of EXEC methods.

use std::collections::BTreeMap;

use super::error::Finding;
use super::load::checks;
use super::model::{
    DeleteSpec, HttpVerb, ParamLocation, ParamType, PushdownOp, ResourceSpec, UpdateSpec,
};
use super::resource::Column;
use super::types::TypeRegistry;

/// Check the write side of `spec`; returns each method's resolved result columns.
pub(super) fn check_writes(
    at: &str,
    spec: &ResourceSpec,
    columns: &[Column],
    registry: &TypeRegistry,
) -> Result<BTreeMap<String, Vec<Column>>, Finding> {
    let method_names = || spec.methods.keys().cloned().collect::<Vec<_>>().join(", ");
    let unknown = |place: String, m: &str| {
        Finding::new(
            place,
            format!("unknown method `{m}` (methods: {})", method_names()),
        )
    };
    if let Some(insert) = &spec.insert {
        let place = format!("{at}.insert");
        let method = spec
            .methods
            .get(&insert.method)
            .ok_or_else(|| unknown(place.clone(), &insert.method))?;
        if method.verb == HttpVerb::GET {
            return Err(Finding::new(
                place,
                format!("`{}` is a GET method", insert.method),
            ));
        }
    }
    if let Some(delete) = &spec.delete {
        let place = format!("{at}.delete");
        let method = spec
            .methods
            .get(&delete.method)
            .ok_or_else(|| unknown(place.clone(), &delete.method))?;
        for (param, column) in &delete.params {
            if !method.params.contains_key(param) {
                return Err(Finding::new(
                    place,
                    format!("`{param}` is not a parameter of `{}`", delete.method),
                ));
            }
            if !columns.iter().any(|c| &c.name == column) {
                return Err(Finding::new(place, format!("`{column}` is not a column")));
            }
        }
        if let Some((name, _)) = method
            .params
            .iter()
            .find(|(n, p)| p.required && !delete.params.contains_key(*n))
        {
            return Err(Finding::new(
                place,
                format!("the required parameter `{name}` is not taken from a column"),
            ));
        }
    }
    for (statement, update) in [("update", &spec.update), ("replace", &spec.replace)] {
        if let Some(update) = update {
            check_update(&format!("{at}.{statement}"), spec, update, columns)?;
        }
    }
    for (i, name) in spec.exec.iter().enumerate() {
        if !spec.methods.contains_key(name) {
            return Err(unknown(format!("{at}.exec[{i}]"), name));
        }
    }
    let mut result_columns = BTreeMap::new();
    for (name, method) in &spec.methods {
        let place = format!("{at}.methods.{name}");
        if let Some(token) = &method.idempotency_token {
            let is_body = method
                .params
                .get(token)
                .is_some_and(|p| p.location == ParamLocation::Body && p.kind == ParamType::String);
            if !is_body {
                return Err(Finding::new(
                    format!("{place}.idempotency_token"),
                    format!("`{token}` is not a string body parameter"),
                ));
            }
        }
        for (pname, p) in &method.params {
            if !p.allowed.is_empty() && p.kind != ParamType::String {
                return Err(Finding::new(
                    format!("{place}.params.{pname}"),
                    "`enum` needs `type: string`",
                ));
            }
        }
        let mut resolved: Vec<Column> = Vec::new();
        for (i, column) in method.columns.iter().enumerate() {
            let cplace = format!("{place}.columns[{i}] ({})", column.name);
            if resolved.iter().any(|c| c.name == column.name) || column.name.is_empty() {
                return Err(Finding::new(cplace, "needs a unique `name`"));
            }
            let ty = registry.resolve(column, &cplace)?;
            let path = checks::column_path(&cplace, column, false)?;
            checks::column_from_param(&cplace, column, &ty, false, method.params.keys())?;
            resolved.push(Column {
                name: column.name.clone(),
                ty,
                description: column.description.clone(),
                is_parameter: false,
                path,
                field: column.field.clone(),
                which: Vec::new(),
                from_param: column.from_param.clone(),
            });
        }
        result_columns.insert(name.clone(), resolved);
    }
    Ok(result_columns)
}

/// Check an `update` / `replace`: its method changes things, its key parameters come from
/// columns and are all it requires besides the body the SET clause fills, and its settable
/// columns name an object column and body parameters of the method.
fn check_update(
    place: &str,
    spec: &ResourceSpec,
    update: &UpdateSpec,
    columns: &[Column],
) -> Result<(), Finding> {
    let Some(method) = spec.methods.get(&update.method) else {
        return Err(Finding::new(
            place,
            format!("unknown method `{}`", update.method),
        ));
    };
    if method.verb == HttpVerb::GET {
        return Err(Finding::new(
            place,
            format!("`{}` is a GET method", update.method),
        ));
    }
    if update.params.is_empty() {
        return Err(Finding::new(
            place,
            "needs `params`: the method's parameters naming the row",
        ));
    }
    for (param, column) in &update.params {
        if !method.params.contains_key(param) {
            return Err(Finding::new(
                place,
                format!("`{param}` is not a parameter of `{}`", update.method),
            ));
        }
        if !columns.iter().any(|c| &c.name == column) {
            return Err(Finding::new(place, format!("`{column}` is not a column")));
        }
    }
    if let Some(set) = &update.columns {
        if !columns.iter().any(|c| c.name == set.from) {
            return Err(Finding::new(
                format!("{place}.columns.from"),
                format!("`{}` is not a column", set.from),
            ));
        }
        for body in std::iter::once(&set.into).chain(&set.remove) {
            let is_json_body = method
                .params
                .get(body)
                .is_some_and(|p| p.location == ParamLocation::Body && p.kind == ParamType::Json);
            if !is_json_body {
                return Err(Finding::new(
                    format!("{place}.columns"),
                    format!(
                        "`{body}` is not a JSON body parameter of `{}`",
                        update.method
                    ),
                ));
            }
        }
    }
    Ok(())
}

/// Check the `cascade` of `delete` (at `at`): each names another resource of the `service`,
/// with a key (to name the rows), whose `column` it lists by with an `in` pushdown; and `from`
/// is a column the delete method takes from the row.
pub(super) fn check_cascade(
    at: &str,
    name: &str,
    delete: &DeleteSpec,
    service: &BTreeMap<String, ResourceSpec>,
) -> Result<(), Finding> {
    for (i, cascade) in delete.cascade.iter().enumerate() {
        let place = format!("{at}.delete.cascade[{i}]");
        if cascade.resource == name {
            return Err(Finding::new(
                format!("{place}.resource"),
                "a resource cannot cascade to itself",
            ));
        }
        let Some(other) = service.get(&cascade.resource) else {
            return Err(Finding::new(
                format!("{place}.resource"),
                format!("no resource `{}` in this service", cascade.resource),
            ));
        };
        if other.key.is_empty() {
            return Err(Finding::new(
                format!("{place}.resource"),
                format!("`{}` has no `key` to name its rows", cascade.resource),
            ));
        }
        let listed = other
            .pushdown
            .iter()
            .any(|p| p.column == cascade.column && p.ops.contains(&PushdownOp::In));
        if !listed {
            return Err(Finding::new(
                format!("{place}.column"),
                format!(
                    "`{}` of `{}` needs an `in` pushdown (its rows are listed per deleted row)",
                    cascade.column, cascade.resource
                ),
            ));
        }
        if !delete.params.values().any(|c| c == &cascade.from) {
            return Err(Finding::new(
                format!("{place}.from"),
                format!(
                    "`{}` is not a column the delete method takes (params: {})",
                    cascade.from,
                    delete
                        .params
                        .values()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    Ok(())
}
