//! Every byte a statement makes, counted: DataFusion's operators (sorts, aggregations, joins)
//! reserve what they hold in the session's memory pool, but the functions of a statement do not
//! — `repeat('x', 1000000000)`, `lpad(s, 300000000)`, `range(30000000)` build their gigabytes
//! and only then hand them on. Here every function is counted in the same pool, and the ones
//! that build more than their input are refused *before* they build it, with a message naming
//! the function, the limit and its flag.
//!
//! - [`pool`]: a session's pool (`--memory-limit-mb`) within the process' total
//!   (`--total-memory-limit-mb`), for `serve`, `mcp`, `query` and the shell.
//! - [`counted`]: [`Counted`], a function wrapped so that its results are reserved: what it can
//!   build bounded from its arguments before it runs ([`bounds`]), what it newly allocated
//!   measured after ([`sizes`]).
//! - [`operators`]: what the planner builds without a function (`a || b`, a constant written
//!   out once a row) as counted functions.
//! - [`rule`]: the analyzer rule that counts every function of every statement's plan.
//!
//! [`install`] puts it all into a session (the plugin's registration calls it, so `serve`,
//! `mcp`, `query`, the shell and embedders get it): its registered functions are replaced by
//! counted ones (also what is evaluated while planning, such as a table function's arguments),
//! and the rule is added. With an unbounded pool (DataFusion's default) nothing is refused.
//!
//! Not counted here: what DataFusion's operators copy without a function — a join or `unnest`
//! repeating a wide value of one row across many, a `VALUES` list — nor what the API scans
//! read (bounded by their pages and `--max-pages`).

pub mod bounds;
pub mod counted;
pub mod operators;
pub mod pool;
pub mod rule;
pub mod sizes;

use std::sync::Arc;

use datafusion::execution::FunctionRegistry;
use datafusion::prelude::SessionContext;

pub use counted::Counted;
pub use pool::{StatementPool, TotalPool};
pub use rule::CountRule;

/// Whether a registered function is left as it is: the JSON functions return parts of their
/// input, and their nested calls are fused into one by a rewrite that must recognise them
/// (the rule counts them in statements); async functions run apart.
fn left_alone(udf: &datafusion::logical_expr::ScalarUDF) -> bool {
    udf.name().starts_with("json_") || udf.as_async().is_some()
}

/// Count every function of `ctx` in its memory pool (see the module documentation). Calling it
/// again changes nothing.
pub fn install(ctx: &SessionContext) {
    let pool = ctx.runtime_env().memory_pool.clone();
    let state = ctx.state_ref();
    let mut state = state.write();
    let udfs: Vec<_> = state
        .scalar_functions()
        .iter()
        .filter(|(name, udf)| *name == udf.name() && !left_alone(udf))
        .filter(|(_, udf)| udf.inner().downcast_ref::<Counted>().is_none())
        .map(|(_, udf)| udf.clone())
        .collect();
    for udf in udfs {
        // Registering under the same names replaces the function.
        let _ = state.register_udf(Arc::new(Counted::wrap(&udf, pool.clone())));
    }
    if !state
        .analyzer()
        .rules
        .iter()
        .any(|r| r.name() == rule::COUNT_RULE)
    {
        state.add_analyzer_rule(Arc::new(CountRule::new(pool)));
    }
}
