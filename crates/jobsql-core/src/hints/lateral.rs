//! `CROSS JOIN unnest(r.tasks)` (also `, unnest(...)` and `LATERAL unnest(...)`): an unnest in
//! `FROM` over another table's column needs a lateral join, which DataFusion 55 cannot run (its
//! physical planner refuses the outer column). Such a statement's error reads as one line naming
//! the form that works, `SELECT run_id, unnest(tasks) AS task FROM …`.

use std::ops::ControlFlow;

use datafusion::sql::parser::Statement as DfStatement;
use datafusion::sql::sqlparser::ast::{
    visit_expressions, Expr, ObjectName, TableFactor, Visit, Visitor,
};

/// The column unnested in `FROM` over another table (as written), if `statement` has one.
pub(super) fn lateral_unnest(statement: &DfStatement) -> Option<String> {
    let DfStatement::Statement(inner) = statement else {
        return None;
    };
    let mut finder = Finder(None);
    let _ = inner.visit(&mut finder);
    finder.0
}

/// Finds the first unnest table factor whose arguments name a column.
struct Finder(Option<String>);

impl Visitor for Finder {
    type Break = ();

    fn pre_visit_table_factor(&mut self, factor: &TableFactor) -> ControlFlow<()> {
        let column = match factor {
            TableFactor::UNNEST { array_exprs, .. } => array_exprs.iter().find_map(column_in),
            TableFactor::Table {
                name,
                args: Some(args),
                ..
            } if is_unnest(name) => column_in(&args.args),
            TableFactor::Function { name, args, .. } if is_unnest(name) => column_in(args),
            _ => None,
        };
        match column {
            Some(c) => {
                self.0 = Some(c);
                ControlFlow::Break(())
            }
            None => ControlFlow::Continue(()),
        }
    }
}

fn is_unnest(name: &ObjectName) -> bool {
    name.to_string().eq_ignore_ascii_case("unnest")
}

/// The first column named in `node`, as written.
fn column_in<V: Visit>(node: &V) -> Option<String> {
    let mut found = None;
    let _ = visit_expressions(node, |e: &Expr| match e {
        Expr::Identifier(_) | Expr::CompoundIdentifier(_) => {
            found = Some(e.to_string());
            ControlFlow::Break(())
        }
        _ => ControlFlow::Continue(()),
    });
    found
}
