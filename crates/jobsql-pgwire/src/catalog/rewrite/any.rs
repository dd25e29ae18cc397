//! `x op ANY(array)` / `x op ALL(array)` where the array is written as Postgres clients write
//! it, rewritten into an array DataFusion plans (its `ANY` wants a list-typed right side):
//!
//! - A text literal, as psql writes it: `relkind = ANY('{r,v}')`, or cast,
//!   `ANY('{r,v}'::char[])`: `ANY(CAST(ARRAY['r','v'] AS TEXT[]))`, items parsed as Postgres
//!   writes array text (quotes, backslash escapes, `NULL`; [`array_items`]). Text-like item
//!   types (`char`, `"char"`, `name`, `varchar`) are `TEXT`; others are kept (`'{1,2}'::int[]`).
//! - A parameter, as pgcli and psycopg 3 send a Python list: `relkind = ANY($1)`:
//!   `ANY(CAST($1 AS T[]))`, `T` from the type the client declared for `$1` (`int2[]`,
//!   `int8[]` → `BIGINT`, `float8[]` → `DOUBLE`, `bool[]` → `BOOLEAN`, `text[]` → `TEXT`).
//!   The placeholder is then typed by that cast (the handler's `placeholder_types`), so its
//!   value is decoded as an array. A parameter the client left untyped (psycopg 3 sends a list
//!   of strings so; tokio-postgres asks the server) is left to DataFusion, which types it from
//!   the left side when that is a number; only when that statement does not plan is it planned
//!   again with the untyped ones as `TEXT[]` ([`Untyped`]).
//!
//! A right side that is already an array (`ARRAY[...]`, a list column, a subquery) is left as
//! it is.

use datafusion::sql::sqlparser::ast::{
    ArrayElemTypeDef, DataType, ExactNumberInfo, Expr, ObjectNamePart, Value,
};
use pgwire::api::Type;

use crate::encode::text_forms::array_items;
use crate::encode::types::array_element;
use jobsql_core::sql::build;

/// What an `ANY($n)` whose `$n` the client did not type becomes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Untyped {
    /// Left as it is, for DataFusion to type.
    Leave,
    /// A `TEXT[]`.
    Text,
}

/// Rewrite the right side of `expr` when it is an `ANY`/`ALL` over a text array literal or a
/// parameter; `declared` are the parameter types the client declared (`$1` first).
pub(super) fn rewrite(expr: &mut Expr, declared: &[Option<Type>], untyped: Untyped) {
    let right = match expr {
        Expr::AnyOp { right, .. } | Expr::AllOp { right, .. } => right,
        _ => return,
    };
    let inner = match right.as_mut() {
        Expr::Nested(inner) => inner,
        other => other,
    };
    if let Some(array) = as_array(inner, declared, untyped) {
        *inner = array;
    }
}

/// The array `expr` stands for, when it is written as text or is a bare parameter.
fn as_array(expr: &Expr, declared: &[Option<Type>], untyped: Untyped) -> Option<Expr> {
    match expr {
        Expr::Value(v) => match &v.value {
            Value::SingleQuotedString(text) => literal(text, DataType::Text),
            Value::Placeholder(name) => {
                let item = declared_item(name, declared, untyped)?;
                Some(build::cast(
                    Expr::value(Value::Placeholder(name.clone())),
                    build::array_of(item),
                ))
            }
            _ => None,
        },
        Expr::Cast {
            expr: inner,
            data_type: DataType::Array(element),
            ..
        } => match inner.as_ref() {
            Expr::Value(v) => match &v.value {
                Value::SingleQuotedString(text) => literal(text, item_type(element)?),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

/// `CAST(ARRAY[...] AS item[])` of the array text `text`.
fn literal(text: &str, item: DataType) -> Option<Expr> {
    let items: Vec<Expr> = array_items(text)?
        .into_iter()
        .map(|v| match v {
            Some(v) => build::text(&v),
            None => Expr::value(Value::Null),
        })
        .collect();
    Some(build::array_cast(items, item))
}

/// The SQL item type of a cast's array type.
fn item_type(element: &ArrayElemTypeDef) -> Option<DataType> {
    let item = match element {
        ArrayElemTypeDef::SquareBracket(t, _)
        | ArrayElemTypeDef::AngleBracket(t)
        | ArrayElemTypeDef::Parenthesis(t) => t.as_ref(),
        ArrayElemTypeDef::None => return Some(DataType::Text),
    };
    let text_like = match item {
        DataType::Text
        | DataType::Char(_)
        | DataType::Character(_)
        | DataType::Varchar(_)
        | DataType::CharacterVarying(_)
        | DataType::String(_) => true,
        DataType::Custom(name, _) => matches!(name.0.last(),
            Some(ObjectNamePart::Identifier(i))
                if ["char", "name", "text", "bpchar", "varchar"]
                    .iter()
                    .any(|t| i.value.eq_ignore_ascii_case(t))),
        _ => false,
    };
    Some(if text_like {
        DataType::Text
    } else {
        item.clone()
    })
}

/// The SQL item type of the array the client declared parameter `name` (`$n`) to be; for none
/// (or `unknown`) as `untyped` says; `None` for any other type (left as DataFusion plans it).
fn declared_item(name: &str, declared: &[Option<Type>], untyped: Untyped) -> Option<DataType> {
    let index = name
        .strip_prefix('$')?
        .parse::<usize>()
        .ok()?
        .checked_sub(1)?;
    let ty = match declared.get(index).cloned().flatten() {
        Some(t) if t != Type::UNKNOWN => t,
        _ => return (untyped == Untyped::Text).then_some(DataType::Text),
    };
    let item = array_element(&ty)?;
    Some(match item {
        Type::INT2 | Type::INT4 | Type::INT8 | Type::OID => DataType::BigInt(None),
        Type::FLOAT4 | Type::FLOAT8 | Type::NUMERIC => DataType::Double(ExactNumberInfo::None),
        Type::BOOL => DataType::Boolean,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::CHAR => DataType::Text,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn some(items: &[&str]) -> Option<Vec<Option<String>>> {
        Some(items.iter().map(|s| Some(s.to_string())).collect())
    }

    #[test]
    fn array_text_is_read_as_postgres_writes_it() {
        assert_eq!(array_items("{r,v}"), some(&["r", "v"]));
        assert_eq!(array_items(" { a , b } "), some(&["a", "b"]));
        assert_eq!(
            array_items(r#"{"a b","c,d","e\"f",""}"#),
            some(&["a b", "c,d", "e\"f", ""])
        );
        assert_eq!(
            array_items("{x,NULL,\"NULL\"}"),
            Some(vec![Some("x".into()), None, Some("NULL".into())])
        );
        assert_eq!(array_items("{}"), Some(vec![]));
        for bad in ["r,v", "{a,{b}}", "{a,}", "{\"a}", "{\"a\"b}", "{,}"] {
            assert_eq!(array_items(bad), None, "{bad}");
        }
    }

    fn parse(sql: &str) -> Option<Expr> {
        use datafusion::sql::sqlparser::{dialect::GenericDialect, parser::Parser};
        Parser::new(&GenericDialect {})
            .try_with_sql(sql)
            .ok()?
            .parse_expr()
            .ok()
    }

    fn rewritten(sql: &str, declared: &[Option<Type>]) -> String {
        let mut expr = parse(sql).expect("parses");
        rewrite(&mut expr, declared, Untyped::Text);
        expr.to_string()
    }

    #[test]
    fn text_arrays_and_parameters_become_typed_arrays() {
        assert_eq!(
            rewritten("c.relkind = ANY('{r,v}')", &[]),
            "c.relkind = ANY(CAST(ARRAY['r', 'v'] AS TEXT[]))"
        );
        assert_eq!(
            rewritten("c.relkind = ANY ('{r,\"it''s\"}'::\"char\"[])", &[]),
            "c.relkind = ANY(CAST(ARRAY['r', 'it''s'] AS TEXT[]))"
        );
        assert_eq!(
            rewritten("x <> ALL('{1,2}'::int[])", &[]),
            "x <> ALL(CAST(ARRAY['1', '2'] AS INT[]))"
        );
        assert_eq!(
            rewritten("c.relkind = ANY($1)", &[Some(Type::UNKNOWN)]),
            "c.relkind = ANY(CAST($1 AS TEXT[]))"
        );
        assert_eq!(
            rewritten("id = ANY($2)", &[None, Some(Type::INT2_ARRAY)]),
            "id = ANY(CAST($2 AS BIGINT[]))"
        );
        let mut untyped = parse("x = ANY($1)").expect("parses");
        rewrite(&mut untyped, &[None], Untyped::Leave);
        assert_eq!(untyped.to_string(), "x = ANY($1)");
        // Already arrays, or a type jobsql leaves to DataFusion: unchanged.
        for kept in [
            "x = ANY(ARRAY[1, 2])",
            "x = ANY(tags)",
            "x = ANY('not an array')",
        ] {
            assert_eq!(rewritten(kept, &[]), kept);
        }
        assert_eq!(
            rewritten("t = ANY($1)", &[Some(Type::TIMESTAMPTZ_ARRAY)]),
            "t = ANY($1)"
        );
    }
}
