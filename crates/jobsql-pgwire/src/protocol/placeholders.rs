//! The types of a prepared statement's placeholders (`$1`, `$2`, ...), as `Parse` announces
//! them: DataFusion's inference, then what the plan says of the ones it left untyped.
//!
//! - `x = ANY($n)` left untyped (`array_has($n, x)`): `$n` is a list of `x`'s type;
//! - `CAST($n AS T[])` (`= ANY($n)` rewritten, [`crate::catalog::rewrite::any`]): `$n` is the
//!   list, so that its text (`{a,b}`) is decoded as an array, not cast as one item;
//! - `LIMIT $n` / `OFFSET $n`: a row count, `int8`.
//!
//! The plan is walked once (subqueries included); each placeholder's position is read by
//! `position` only.

use datafusion::arrow::datatypes::DataType;
use datafusion::common::tree_node::{TreeNode, TreeNodeRecursion};
use datafusion::error::DataFusionError;
use datafusion::logical_expr::{Expr, ExprSchemable, LogicalPlan};

/// `$1`, `$2`, ... of `plan` with their types, in order (gaps and the untyped are `None`).
pub fn placeholder_types(plan: &LogicalPlan) -> Result<Vec<Option<DataType>>, DataFusionError> {
    let mut types: Vec<Option<DataType>> = Vec::new();
    for (name, ty) in plan.get_parameter_types()? {
        let i = position(&name).ok_or_else(|| {
            DataFusionError::Plan(format!(
                "parameter {name}: only positional parameters ($1, $2, ...) are supported"
            ))
        })?;
        if types.len() <= i {
            types.resize(i + 1, None);
        }
        types[i] = ty;
    }
    let mut hints = Hints::default();
    plan.apply_with_subqueries(|node| {
        hints.of_node(node);
        node.apply_expressions(|expr| {
            expr.apply(|e| {
                hints.of_expr(node, e);
                Ok(TreeNodeRecursion::Continue)
            })
        })
    })?;
    // Expressions first, then row counts, each in the order found: the first hint wins.
    for (i, ty) in hints.expressions.into_iter().chain(hints.row_counts) {
        if let Some(slot) = types.get_mut(i) {
            slot.get_or_insert(ty);
        }
    }
    Ok(types)
}

/// The position (from 0) of placeholder `$n`; `None` for any other name.
fn position(id: &str) -> Option<usize> {
    id.strip_prefix('$')?.parse::<usize>().ok()?.checked_sub(1)
}

/// The type the plan gives a placeholder DataFusion left untyped, by position.
#[derive(Default)]
struct Hints {
    /// From expressions: `array_has($n, x)`, `CAST($n AS list)`.
    expressions: Vec<(usize, DataType)>,
    /// From `LIMIT` / `OFFSET`.
    row_counts: Vec<(usize, DataType)>,
}

impl Hints {
    /// `LIMIT $n` / `OFFSET $n`: a row count.
    fn of_node(&mut self, node: &LogicalPlan) {
        let LogicalPlan::Limit(limit) = node else {
            return;
        };
        for expr in [&limit.skip, &limit.fetch].into_iter().flatten() {
            if let Expr::Placeholder(p) = expr.as_ref() {
                if let Some(i) = position(&p.id) {
                    self.row_counts.push((i, DataType::Int64));
                }
            }
        }
    }

    /// `x = ANY($n)` left untyped (a list of `x`'s type), `CAST($n AS T[])` (`T[]`).
    fn of_expr(&mut self, node: &LogicalPlan, e: &Expr) {
        match e {
            Expr::ScalarFunction(f) if f.func.name() == "array_has" => {
                let [Expr::Placeholder(p), needle] = f.args.as_slice() else {
                    return;
                };
                let schema = node.inputs().first().map_or(node.schema(), |i| i.schema());
                if let (None, Some(i), Ok(item)) =
                    (&p.field, position(&p.id), needle.get_type(schema))
                {
                    self.expressions.push((i, DataType::new_list(item, true)));
                }
            }
            Expr::Cast(cast) if cast.field.data_type().is_nested() => {
                if let Expr::Placeholder(p) = cast.expr.as_ref() {
                    if let Some(i) = position(&p.id) {
                        self.expressions.push((i, cast.field.data_type().clone()));
                    }
                }
            }
            _ => {}
        }
    }
}
