//! [`Counted`]: a scalar function whose every result is counted in the session's memory pool.
//! Before it runs, what it can build from its arguments ([`Growth::bound`], and its scalar
//! arguments once a row: [`expansion`]) is reserved, so `repeat('x', 1000000000)` fails before
//! the gigabyte is allocated; after it runs, the reservation becomes what its result newly
//! holds ([`new_bytes`]), so a function no bound names is counted too (and refused, its result
//! dropped, when that is past the limit). A function of a statement's plan
//! ([`Counted::keeping`]) keeps its last results counted (one per partition) until it runs again
//! or the statement ends: a result stays counted while the function using it builds its own
//! (`f(g(x))`, a chain of `||`), the columns of a batch on its way out add up, and a constant
//! the planner folds (`repeat('x', 1000000)` evaluated once, kept in the plan) is counted while
//! the plan lives.
//!
//! The wrapper answers as the function it wraps in every other respect (name, signature, types,
//! simplification, ordering), so plans, names and pushdown are unchanged.

use std::collections::VecDeque;
use std::hash::{Hash, Hasher};
use std::sync::{Arc, Mutex, OnceLock};

use datafusion::arrow::datatypes::{DataType, FieldRef};
use datafusion::common::config::ConfigOptions;
use datafusion::common::tree_node::{Transformed, TreeNode};
use datafusion::common::{ExprSchema, Result, ScalarValue};
use datafusion::execution::memory_pool::{MemoryConsumer, MemoryPool, MemoryReservation};
use datafusion::logical_expr::expr::ScalarFunction;
use datafusion::logical_expr::interval_arithmetic::Interval;
use datafusion::logical_expr::preimage::PreimageResult;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::sort_properties::{ExprProperties, SortProperties};
use datafusion::logical_expr::{
    ColumnarValue, Documentation, Expr, ExpressionPlacement, ReturnFieldArgs, ScalarFunctionArgs,
    ScalarUDF, ScalarUDFImpl, Signature, StructFieldMapping,
};

use super::bounds::{expansion, Growth};
use super::operators::{PER_ROW, STRING_CONCAT};
use super::sizes::{allocations, new_bytes};

/// Results of one call site kept counted: one per partition (jobsql's sessions run a plan in
/// two, `target_partitions`), so a result stays counted until the next batch's replaces it.
const KEPT: usize = 2;

/// A function counted in a memory pool (see the module documentation).
pub struct Counted {
    inner: ScalarUDF,
    pool: Arc<dyn MemoryPool>,
    growth: Growth,
    /// The consumer this function's reservations belong to, registered at the first call.
    base: OnceLock<MemoryReservation>,
    /// In a statement's plan: its last results' reservations.
    kept: Option<Mutex<VecDeque<MemoryReservation>>>,
}

impl std::fmt::Debug for Counted {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Counted")
            .field("inner", &self.inner.name())
            .field("growth", &self.growth)
            .field("in_statement", &self.kept.is_some())
            .finish()
    }
}

impl PartialEq for Counted {
    fn eq(&self, other: &Self) -> bool {
        self.inner == other.inner
    }
}

impl Eq for Counted {}

impl Hash for Counted {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.inner.hash(state);
    }
}

impl Counted {
    fn new(inner: ScalarUDF, pool: Arc<dyn MemoryPool>, in_statement: bool) -> Self {
        let growth = Growth::of(inner.name());
        Counted {
            inner,
            pool,
            growth,
            base: OnceLock::new(),
            kept: in_statement.then(|| Mutex::new(VecDeque::new())),
        }
    }

    /// `udf` counted in `pool`: each result counted while it is built. (A function already
    /// counted is counted once, in `pool`.)
    pub fn wrap(udf: &ScalarUDF, pool: Arc<dyn MemoryPool>) -> ScalarUDF {
        ScalarUDF::new_from_impl(Counted::new(uncounted(udf), pool, false))
    }

    /// `udf` counted in `pool`, its last results kept counted: for one call site of one
    /// statement's plan ([`super::rule`]), dropped with it.
    pub fn keeping(udf: &ScalarUDF, pool: Arc<dyn MemoryPool>) -> ScalarUDF {
        ScalarUDF::new_from_impl(Counted::new(uncounted(udf), pool, true))
    }

    /// Whether `udf` is counted.
    pub fn is_counted(udf: &ScalarUDF) -> bool {
        udf.inner().downcast_ref::<Counted>().is_some()
    }

    /// Whether `udf` is counted and keeps its last results counted.
    pub fn is_keeping(udf: &ScalarUDF) -> bool {
        udf.inner()
            .downcast_ref::<Counted>()
            .is_some_and(|c| c.kept.is_some())
    }

    /// A fresh reservation of this function's consumer (named for the messages of a refusal).
    fn reservation(&self) -> MemoryReservation {
        self.base
            .get_or_init(|| {
                let name = match self.inner.name() {
                    PER_ROW => "a constant repeated on every row",
                    STRING_CONCAT => "the || operator",
                    name => name,
                };
                MemoryConsumer::new(name).register(&self.pool)
            })
            .new_empty()
    }

    /// `expr` with every function in it counted as this one is.
    fn counting(&self, expr: Expr) -> Result<Expr> {
        let keeping = self.kept.is_some();
        expr.transform_up(|e| match e {
            Expr::ScalarFunction(f)
                if !(Counted::is_keeping(&f.func) || !keeping && Counted::is_counted(&f.func)) =>
            {
                let func = Arc::new(if keeping {
                    Counted::keeping(&f.func, self.pool.clone())
                } else {
                    Counted::wrap(&f.func, self.pool.clone())
                });
                Ok(Transformed::yes(Expr::ScalarFunction(ScalarFunction {
                    func,
                    args: f.args,
                })))
            }
            e => Ok(Transformed::no(e)),
        })
        .map(|t| t.data)
    }
}

/// The function `udf` counts, or `udf` itself.
pub fn uncounted(udf: &ScalarUDF) -> ScalarUDF {
    match udf.inner().downcast_ref::<Counted>() {
        Some(c) => c.inner.clone(),
        None => udf.clone(),
    }
}

#[warn(clippy::missing_trait_methods)]
impl ScalarUDFImpl for Counted {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn aliases(&self) -> &[String] {
        self.inner.inner().aliases()
    }

    fn display_name(&self, args: &[Expr]) -> Result<String> {
        #[expect(deprecated)]
        self.inner.inner().display_name(args)
    }

    fn schema_name(&self, args: &[Expr]) -> Result<String> {
        self.inner.inner().schema_name(args)
    }

    fn signature(&self) -> &Signature {
        self.inner.inner().signature()
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        self.inner.inner().return_type(arg_types)
    }

    fn with_updated_config(&self, config: &ConfigOptions) -> Option<ScalarUDF> {
        let updated = self.inner.inner().with_updated_config(config)?;
        Some(ScalarUDF::new_from_impl(Counted::new(
            updated,
            self.pool.clone(),
            self.kept.is_some(),
        )))
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        self.inner.inner().return_field_from_args(args)
    }

    fn is_nullable(&self, args: &[Expr], schema: &dyn ExprSchema) -> bool {
        #[expect(deprecated)]
        self.inner.inner().is_nullable(args, schema)
    }

    fn is_strict(&self) -> bool {
        self.inner.inner().is_strict()
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let any_array = args
            .args
            .iter()
            .any(|a| matches!(a, ColumnarValue::Array(_)));
        // All scalars: one result, but `per_row` writes its argument out once a row.
        let rows = if any_array || self.growth == Growth::PerRow {
            args.number_rows
        } else {
            1
        };
        let bound = self
            .growth
            .bound(&args.args, rows)
            .saturating_add(expansion(&args.args, rows));
        let reservation = self.reservation();
        reservation.try_grow(bound)?;
        let inputs = allocations(&args.args);
        let result = self.inner.inner().invoke_with_args(args)?;
        let made = new_bytes(&result, &inputs);
        if made > bound {
            reservation.try_grow(made - bound)?;
        } else {
            reservation.shrink(bound - made);
        }
        if let Some(kept) = &self.kept {
            if let Ok(mut kept) = kept.lock() {
                kept.push_back(reservation);
                while kept.len() > KEPT {
                    kept.pop_front();
                }
            }
        }
        Ok(result)
    }

    fn simplify(&self, args: Vec<Expr>, info: &SimplifyContext) -> Result<ExprSimplifyResult> {
        match self.inner.inner().simplify(args, info)? {
            ExprSimplifyResult::Simplified(expr) => {
                Ok(ExprSimplifyResult::Simplified(self.counting(expr)?))
            }
            original => Ok(original),
        }
    }

    fn preimage(
        &self,
        args: &[Expr],
        lit_expr: &Expr,
        info: &SimplifyContext,
    ) -> Result<PreimageResult> {
        self.inner.inner().preimage(args, lit_expr, info)
    }

    fn conditional_arguments<'a>(
        &self,
        args: &'a [Expr],
    ) -> Option<(Vec<&'a Expr>, Vec<&'a Expr>)> {
        self.inner.inner().conditional_arguments(args)
    }

    fn short_circuits(&self) -> bool {
        self.inner.inner().short_circuits()
    }

    fn evaluate_bounds(&self, input: &[&Interval]) -> Result<Interval> {
        self.inner.inner().evaluate_bounds(input)
    }

    fn propagate_constraints(
        &self,
        interval: &Interval,
        inputs: &[&Interval],
    ) -> Result<Option<Vec<Interval>>> {
        self.inner.inner().propagate_constraints(interval, inputs)
    }

    fn struct_field_mapping(
        &self,
        literal_args: &[Option<ScalarValue>],
    ) -> Option<StructFieldMapping> {
        self.inner.inner().struct_field_mapping(literal_args)
    }

    fn output_ordering(&self, inputs: &[ExprProperties]) -> Result<SortProperties> {
        self.inner.inner().output_ordering(inputs)
    }

    fn preserves_lex_ordering(&self, inputs: &[ExprProperties]) -> Result<bool> {
        self.inner.inner().preserves_lex_ordering(inputs)
    }

    fn strictly_order_preserving(&self, inputs: &[ExprProperties]) -> Result<bool> {
        self.inner.inner().strictly_order_preserving(inputs)
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        self.inner.inner().coerce_types(arg_types)
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.inner.inner().documentation()
    }

    fn placement(&self, args: &[ExpressionPlacement]) -> ExpressionPlacement {
        self.inner.inner().placement(args)
    }
}
