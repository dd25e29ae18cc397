//! Pieces of sqlparser's tree the rewrite rules share: the object identifier type a cast names,
//! whether a type is `text`, a function call built from a `&'static str` shape.

use datafusion::sql::sqlparser::ast::{
    DataType, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, ObjectNamePart, Value,
};
use jobsql_core::sql::build;

/// The object identifier type `data_type` names, if it is one.
pub fn oid_type(data_type: &DataType) -> Option<String> {
    let name = match data_type {
        DataType::Regclass => "regclass".to_string(),
        DataType::Custom(name, _) => match name.0.last() {
            Some(ObjectNamePart::Identifier(i)) => i.value.to_ascii_lowercase(),
            _ => return None,
        },
        _ => return None,
    };
    matches!(
        name.as_str(),
        "oid" | "regclass" | "regtype" | "regnamespace" | "regproc" | "regprocedure" | "regrole"
    )
    .then_some(name)
}

/// Whether `data_type` is `text` (or `pg_catalog.text`).
pub fn is_text(data_type: &DataType) -> bool {
    match data_type {
        DataType::Text => true,
        DataType::Custom(name, _) => matches!(name.0.last(),
            Some(ObjectNamePart::Identifier(i)) if i.value.eq_ignore_ascii_case("text")),
        _ => false,
    }
}

/// `template` (a call whose first argument is `NULL`) with `arg` as its first argument.
pub fn call_template(template: &'static str, arg: Expr) -> Option<Expr> {
    let mut call = build::expr_shape(template)?;
    if let Expr::Function(f) = &mut call {
        if let FunctionArguments::List(list) = &mut f.args {
            if let Some(FunctionArg::Unnamed(FunctionArgExpr::Expr(slot))) = list.args.first_mut() {
                *slot = arg;
                return Some(call);
            }
        }
    }
    None
}

/// `expr`, left `NULL` in its place.
pub fn take(expr: &mut Expr) -> Expr {
    std::mem::replace(expr, Expr::value(Value::Null))
}
