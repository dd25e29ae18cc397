//! [`CountRule`]: the analyzer rule that makes every statement's plan counted. It runs last
//! (after DataFusion's type coercion), over every node and subquery of the plan:
//!
//! 1. `a || b` on strings becomes [`StringConcat`];
//! 2. every scalar function is [`Counted::keeping`] in the session's pool (also those the
//!    planner made itself: `OVERLAY(... PLACING ...)`, `[a, b]`, and ones registered after the
//!    session was set up), a fresh one for each call site of this plan;
//! 3. in the places where a constant becomes a value of every row (the columns of a projection,
//!    grouping keys, an aggregate's or a window function's first argument, CASE branches there),
//!    a constant of a variable width is wrapped in [`PerRow`].
//!
//! The names of the rewritten expressions are kept, so the plan's columns do not change.

use std::sync::Arc;

use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{DFSchema, Result, ScalarValue};
use datafusion::execution::memory_pool::MemoryPool;
use datafusion::logical_expr::expr::{AggregateFunction, ScalarFunction};
use datafusion::logical_expr::expr_rewriter::NamePreserver;
use datafusion::logical_expr::{
    BinaryExpr, Case, Expr, ExprSchemable, LogicalPlan, Operator, ScalarUDF,
};
use datafusion::optimizer::AnalyzerRule;

use super::counted::Counted;
use super::operators::{PerRow, StringConcat};

/// The rule (see the module documentation), counting in `pool`.
#[derive(Debug)]
pub struct CountRule {
    pool: Arc<dyn MemoryPool>,
}

/// The name of [`CountRule`].
pub const COUNT_RULE: &str = "jobsql_count_memory";

impl CountRule {
    /// The rule for a session whose pool is `pool`.
    pub fn new(pool: Arc<dyn MemoryPool>) -> Self {
        CountRule { pool }
    }

    fn counted(&self, udf: &ScalarUDF, args: Vec<Expr>) -> Expr {
        Expr::ScalarFunction(ScalarFunction {
            func: Arc::new(Counted::keeping(udf, self.pool.clone())),
            args,
        })
    }

    /// Steps 1 and 2 in `expr`.
    fn functions(&self, expr: Expr) -> Result<Transformed<Expr>> {
        expr.transform_up(|e| match e {
            Expr::BinaryExpr(BinaryExpr {
                left,
                op: Operator::StringConcat,
                right,
            }) => {
                let concat = ScalarUDF::new_from_impl(StringConcat::default());
                Ok(Transformed::yes(self.counted(&concat, vec![*left, *right])))
            }
            Expr::ScalarFunction(f) if !Counted::is_keeping(&f.func) => {
                Ok(Transformed::yes(self.counted(&f.func, f.args)))
            }
            e => Ok(Transformed::no(e)),
        })
    }

    /// Step 3 in `expr`, an expression whose value (`value`: itself, else its arguments)
    /// becomes a value of every row.
    fn per_row(&self, expr: Expr, value: bool) -> Result<Transformed<Expr>> {
        match expr {
            Expr::Alias(mut alias) => {
                let inner = self.per_row(take(&mut alias.expr), value)?;
                Ok(inner.update_data(|e| {
                    *alias.expr = e;
                    Expr::Alias(alias)
                }))
            }
            Expr::AggregateFunction(AggregateFunction { func, mut params }) => {
                let args = self.value_argument(std::mem::take(&mut params.args))?;
                Ok(args.update_data(|args| {
                    params.args = args;
                    Expr::AggregateFunction(AggregateFunction { func, params })
                }))
            }
            Expr::WindowFunction(mut window) => {
                let args = self.value_argument(std::mem::take(&mut window.params.args))?;
                Ok(args.update_data(|args| {
                    window.params.args = args;
                    Expr::WindowFunction(window)
                }))
            }
            e if value && wide_constant(&e) => {
                let per_row = ScalarUDF::new_from_impl(PerRow::default());
                Ok(Transformed::yes(self.counted(&per_row, vec![e])))
            }
            Expr::Case(Case {
                expr,
                when_then_expr,
                else_expr,
            }) if value => {
                let mut changed = false;
                let mut branches = Vec::with_capacity(when_then_expr.len());
                for (when, then) in when_then_expr {
                    let then = self.per_row(*then, true)?;
                    changed |= then.transformed;
                    branches.push((when, Box::new(then.data)));
                }
                let else_expr = match else_expr {
                    Some(e) => {
                        let e = self.per_row(*e, true)?;
                        changed |= e.transformed;
                        Some(Box::new(e.data))
                    }
                    None => None,
                };
                let case = Expr::Case(Case {
                    expr,
                    when_then_expr: branches,
                    else_expr,
                });
                Ok(Transformed::new_transformed(case, changed))
            }
            e => Ok(Transformed::no(e)),
        }
    }

    /// [`Self::per_row`] of the first of an aggregate's `args`, its value (the others are its
    /// settings, which it may require to be literals: `string_agg(s, ',')`).
    fn value_argument(&self, mut args: Vec<Expr>) -> Result<Transformed<Vec<Expr>>> {
        let Some(first) = args.first_mut() else {
            return Ok(Transformed::no(args));
        };
        let value = self.per_row(take(first), true)?;
        let changed = value.transformed;
        *first = value.data;
        Ok(Transformed::new_transformed(args, changed))
    }

    /// The rule on one node.
    fn node(&self, plan: LogicalPlan) -> Result<Transformed<LogicalPlan>> {
        let names = NamePreserver::new(&plan);
        let values = matches!(
            plan,
            LogicalPlan::Projection(_) | LogicalPlan::Aggregate(_) | LogicalPlan::Window(_)
        );
        plan.map_expressions(|expr| {
            let name = names.save(&expr);
            let mut expr = self.functions(expr)?;
            if values {
                expr = expr.transform_data(|e| self.per_row(e, true))?;
            }
            Ok(expr.update_data(|e| name.restore(e)))
        })
    }
}

/// The expression in `slot`, a placeholder left there.
fn take(slot: &mut Expr) -> Expr {
    std::mem::replace(slot, Expr::Literal(ScalarValue::Null, None))
}

/// Whether `expr` is a constant (no column, no subquery, nothing volatile) of a type whose
/// width varies (strings, binaries, lists, structs, maps).
fn wide_constant(expr: &Expr) -> bool {
    let varies = expr.get_type(&DFSchema::empty()).is_ok_and(|t| {
        !t.is_primitive() && !t.is_null() && t != datafusion::arrow::datatypes::DataType::Boolean
    });
    varies && !expr.is_volatile() && !refers_to_rows(expr)
}

/// Whether `expr` reads anything of the rows (a column, a subquery, an aggregate, ...).
fn refers_to_rows(expr: &Expr) -> bool {
    let mut found = false;
    let _ = expr.apply(|e| {
        found = !matches!(
            e,
            Expr::Literal(..)
                | Expr::Alias(_)
                | Expr::BinaryExpr(_)
                | Expr::Like(_)
                | Expr::SimilarTo(_)
                | Expr::Not(_)
                | Expr::IsNotNull(_)
                | Expr::IsNull(_)
                | Expr::IsTrue(_)
                | Expr::IsFalse(_)
                | Expr::IsUnknown(_)
                | Expr::IsNotTrue(_)
                | Expr::IsNotFalse(_)
                | Expr::IsNotUnknown(_)
                | Expr::Negative(_)
                | Expr::Between(_)
                | Expr::Case(_)
                | Expr::Cast(_)
                | Expr::TryCast(_)
                | Expr::ScalarFunction(_)
                | Expr::InList(_)
        );
        Ok(if found {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    });
    found
}

impl AnalyzerRule for CountRule {
    fn analyze(&self, plan: LogicalPlan, _config: &ConfigOptions) -> Result<LogicalPlan> {
        plan.transform_up_with_subqueries(|plan| self.node(plan))
            .map(|t| t.data)
    }

    fn name(&self) -> &str {
        COUNT_RULE
    }
}
