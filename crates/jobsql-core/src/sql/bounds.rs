//! How large and how deep a statement may be, checked before anything recursive walks it.
//!
//! The parser builds an operator chain (`a OR b OR …`, `1+1+…`, `'a'||'a'||…`, `x::int::int…`)
//! in a loop, left-deep and without counting it against its recursion limit, so a 100,000-term
//! chain is a tree 100,000 levels deep. Everything after the parser walks that tree recursively:
//! dropping it, DataFusion's planner, the optimizer, the pushdown, `Display`, the physical
//! expressions. On a thread's stack that ends the process (a stack overflow aborts, it cannot be
//! caught). So a statement is bounded twice:
//!
//! 1. **Before parsing**, by its tokens ([`check_tokens`]): at most [`MAX_OPERATORS`] operator
//!    and keyword tokens per statement, and no `EXPLAIN` of an `EXPLAIN` (DataFusion's parser
//!    recurses once per `EXPLAIN`, uncounted, and its planner refuses the nesting anyway). This
//!    bounds the depth of anything the parser can build, and so the stack its own error path
//!    needs to drop a half-built chain.
//! 2. **After parsing**, by its shape and depth ([`check_depth`]): `AND`/`OR` chains, the
//!    long ones people and BI tools write (a 1,000-value multi-select is a 1,000-term `OR`), are
//!    rebalanced into trees of the same terms in the same order, ⌈log₂ n⌉ deep; then at most
//!    [`MAX_EXPRESSION_DEPTH`] nested expressions are allowed, measured by a walk that stops at
//!    the limit. A tree past it is taken apart in slices of bounded depth ([`dismantle`])
//!    rather than dropped whole, and the statement is refused with [`BoundsError::TooDeep`].
//!
//! Within those bounds every walk fits the stacks jobsql runs statements on (the command's
//! threads, [`STACK_BYTES`]), with DataFusion's `recursive_protection` growing the planner's and
//! optimizer's stacks on the heap besides. The depth limit also bounds the planner's time:
//! DataFusion plans a chain of other operators (`+`, `||`) in steps quadratic in its depth.

use std::ops::ControlFlow;

use datafusion::sql::parser::{CopyToSource, Statement as DfStatement};
use datafusion::sql::sqlparser::ast::{BinaryOperator, Expr, Value, VisitMut, VisitorMut};
use datafusion::sql::sqlparser::dialect::Dialect;
use datafusion::sql::sqlparser::keywords::Keyword;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

/// The most operator and keyword tokens one statement may hold (see the module header).
pub const MAX_OPERATORS: usize = 100_000;

/// The deepest expression nesting a statement may have.
pub const MAX_EXPRESSION_DEPTH: usize = 1_000;

/// The stack of the threads jobsql's command runs statements on (the runtime's workers and the
/// thread that drives it): enough for a statement at the bounds above, in a debug build too.
/// Only the pages a statement touches are ever committed.
pub const STACK_BYTES: usize = 256 << 20;

/// How deep a slice of a too-deep tree is when it is taken apart.
const SLICE_DEPTH: usize = 256;

/// A statement past one of the bounds.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum BoundsError {
    /// Too many operators and keywords in one statement.
    #[error(
        "statement too large: more than {max} operators and keywords in one statement \
         (long OR/AND/+/|| chains: use IN (...) lists, or split the statement)"
    )]
    TooManyOperators {
        /// The limit ([`MAX_OPERATORS`]).
        max: usize,
    },
    /// Expressions nested deeper than the limit.
    #[error(
        "expression nested too deep: more than {max} levels (long OR/AND/+/|| chains nest one \
         level a term: use IN (...) lists, or split the statement)"
    )]
    TooDeep {
        /// The limit ([`MAX_EXPRESSION_DEPTH`]).
        max: usize,
    },
    /// `EXPLAIN EXPLAIN ...`.
    #[error("Nested EXPLAINs are not supported")]
    NestedExplain,
}

/// Check a script's text, tokenized as `dialect` does, before a parser is given it. A script the
/// tokenizer refuses passes: the parser refuses it too, with the error that says where.
pub fn check_text(sql: &str, dialect: &dyn Dialect) -> Result<(), BoundsError> {
    match Tokenizer::new(dialect, sql).tokenize() {
        Ok(tokens) => check_tokens(&tokens),
        Err(_) => Ok(()),
    }
}

/// Check a script's tokens statement by statement (`;`-separated), before it is parsed.
pub fn check_tokens(tokens: &[Token]) -> Result<(), BoundsError> {
    let mut operators = 0usize;
    let mut explains = 0usize;
    for token in tokens {
        match token {
            Token::SemiColon => {
                operators = 0;
                explains = 0;
            }
            Token::Word(w) if w.keyword == Keyword::EXPLAIN && w.quote_style.is_none() => {
                explains += 1;
                if explains > 1 {
                    return Err(BoundsError::NestedExplain);
                }
                operators += 1;
            }
            t if counts(t) => operators += 1,
            _ => {}
        }
        if operators > MAX_OPERATORS {
            return Err(BoundsError::TooManyOperators { max: MAX_OPERATORS });
        }
    }
    Ok(())
}

/// Whether a token can join two terms (or starts a clause): everything but literals, names,
/// separators and white space. `NULL`, `TRUE` and `FALSE` are values.
fn counts(token: &Token) -> bool {
    match token {
        Token::Word(w) => {
            w.quote_style.is_none()
                && !matches!(
                    w.keyword,
                    Keyword::NoKeyword | Keyword::NULL | Keyword::TRUE | Keyword::FALSE
                )
        }
        Token::EOF
        | Token::Whitespace(_)
        | Token::Comma
        | Token::LParen
        | Token::RParen
        | Token::SemiColon
        | Token::Period
        | Token::Placeholder(_)
        | Token::Number(..)
        | Token::Char(_)
        | Token::SingleQuotedString(_)
        | Token::DoubleQuotedString(_)
        | Token::TripleSingleQuotedString(_)
        | Token::TripleDoubleQuotedString(_)
        | Token::DollarQuotedString(_)
        | Token::SingleQuotedByteStringLiteral(_)
        | Token::DoubleQuotedByteStringLiteral(_)
        | Token::TripleSingleQuotedByteStringLiteral(_)
        | Token::TripleDoubleQuotedByteStringLiteral(_)
        | Token::SingleQuotedRawStringLiteral(_)
        | Token::DoubleQuotedRawStringLiteral(_)
        | Token::TripleSingleQuotedRawStringLiteral(_)
        | Token::TripleDoubleQuotedRawStringLiteral(_)
        | Token::NationalStringLiteral(_)
        | Token::QuoteDelimitedStringLiteral(_)
        | Token::NationalQuoteDelimitedStringLiteral(_)
        | Token::EscapedStringLiteral(_)
        | Token::UnicodeStringLiteral(_)
        | Token::HexStringLiteral(_) => false,
        _ => true,
    }
}

/// Shape a parsed statement and check its depth: `AND` and `OR` chains are rebalanced (see
/// `rebalance`), then a statement nested deeper than [`MAX_EXPRESSION_DEPTH`] is taken apart
/// here (so that dropping it recurses no deeper than a slice) and refused. The walk stops at the
/// limit, so it never recurses deeper than that itself.
pub fn check_depth(mut statement: DfStatement) -> Result<DfStatement, BoundsError> {
    let mut shaper = Shaper {
        depth: 0,
        max: MAX_EXPRESSION_DEPTH,
    };
    if each_part_mut(&mut statement, &mut |part| part.shape(&mut shaper)).is_continue() {
        return Ok(statement);
    }
    dismantle(statement);
    Err(BoundsError::TooDeep {
        max: MAX_EXPRESSION_DEPTH,
    })
}

/// A chain of one `AND` or `OR` operator at least this long is rebalanced.
const REBALANCE_FROM: usize = 16;

/// Rebalance a left-deep chain of one associative boolean operator (`a OR b OR c …`, as the
/// parser builds it and BI tools write it for a multi-select) into a balanced tree of the same
/// terms in the same order: `AND` and `OR` are associative in SQL's three-valued logic, so the
/// meaning is the same, and a 1,000-term filter is 10 levels deep instead of 1,000 (planning
/// walks it in n log n instead of n² steps, on a bounded stack). Taken apart iteratively.
fn rebalance(expr: &mut Expr) {
    let op = match expr {
        Expr::BinaryOp {
            op: op @ (BinaryOperator::And | BinaryOperator::Or),
            ..
        } => op.clone(),
        _ => return,
    };
    let mut spine = 0;
    let mut node = &*expr;
    while let Expr::BinaryOp { left, op: o, .. } = node {
        if *o != op {
            break;
        }
        spine += 1;
        node = left;
    }
    if spine < REBALANCE_FROM {
        return;
    }
    let mut terms = Vec::with_capacity(spine + 1);
    let mut node = std::mem::replace(expr, Expr::Value(Value::Null.into()));
    loop {
        match node {
            Expr::BinaryOp { left, op: o, right } if o == op => {
                terms.push(*right);
                node = *left;
            }
            other => {
                terms.push(other);
                break;
            }
        }
    }
    terms.reverse();
    while terms.len() > 1 {
        let mut paired = Vec::with_capacity(terms.len().div_ceil(2));
        let mut it = terms.into_iter();
        while let Some(left) = it.next() {
            paired.push(match it.next() {
                Some(right) => Expr::BinaryOp {
                    left: Box::new(left),
                    op: op.clone(),
                    right: Box::new(right),
                },
                None => left,
            });
        }
        terms = paired;
    }
    if let Some(balanced) = terms.pop() {
        *expr = balanced;
    }
}

/// Drop a statement of any depth, recursing at most `SLICE_DEPTH` levels: every expression
/// at that depth is cut out (a `NULL` left in its place) and taken apart the same way after.
pub fn dismantle(mut statement: DfStatement) {
    let mut cutter = Cutter {
        depth: 0,
        cut: Vec::new(),
    };
    let _ = each_part_mut(&mut statement, &mut |part| part.cut(&mut cutter));
    drop(statement);
    while let Some(mut expr) = cutter.cut.pop() {
        cutter.depth = 0;
        let _ = VisitMut::visit(&mut expr, &mut cutter);
    }
}

/// The sqlparser parts of a DataFusion statement (its own statements wrap them).
fn each_part_mut(
    statement: &mut DfStatement,
    f: &mut dyn FnMut(&mut dyn VisitableMut) -> ControlFlow<()>,
) -> ControlFlow<()> {
    match statement {
        DfStatement::Statement(s) => f(s.as_mut()),
        DfStatement::CopyTo(copy) => match &mut copy.source {
            CopyToSource::Query(query) => f(query.as_mut()),
            CopyToSource::Relation(_) => ControlFlow::Continue(()),
        },
        DfStatement::Explain(explain) => each_part_mut(&mut explain.statement, f),
        DfStatement::CreateExternalTable(create) => {
            f(&mut create.columns)?;
            f(&mut create.order_exprs)
        }
        DfStatement::Reset(_) => ControlFlow::Continue(()),
    }
}

/// A part that a [`Shaper`] or a [`Cutter`] walks (sqlparser's `VisitMut` is generic over
/// the visitor, so not object-safe: this names the two visitors used).
trait VisitableMut {
    fn shape(&mut self, visitor: &mut Shaper) -> ControlFlow<()>;
    fn cut(&mut self, visitor: &mut Cutter) -> ControlFlow<()>;
}

impl<T: VisitMut> VisitableMut for T {
    fn shape(&mut self, visitor: &mut Shaper) -> ControlFlow<()> {
        VisitMut::visit(self, visitor)
    }
    fn cut(&mut self, visitor: &mut Cutter) -> ControlFlow<()> {
        VisitMut::visit(self, visitor)
    }
}

/// Rebalances boolean chains and measures expression depth, stopping (`Break`) as soon as it
/// passes `max`.
struct Shaper {
    depth: usize,
    max: usize,
}

impl VisitorMut for Shaper {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        rebalance(expr);
        self.depth += 1;
        if self.depth > self.max {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    fn post_visit_expr(&mut self, _expr: &mut Expr) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }
}

/// Cuts out every expression at [`SLICE_DEPTH`], to be taken apart later.
struct Cutter {
    depth: usize,
    cut: Vec<Expr>,
}

impl VisitorMut for Cutter {
    type Break = ();

    fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
        self.depth += 1;
        if self.depth >= SLICE_DEPTH {
            let taken = std::mem::replace(expr, Expr::Value(Value::Null.into()));
            self.cut.push(taken);
        }
        ControlFlow::Continue(())
    }

    fn post_visit_expr(&mut self, _expr: &mut Expr) -> ControlFlow<()> {
        self.depth -= 1;
        ControlFlow::Continue(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::sql::sqlparser::dialect::GenericDialect;

    fn tokens(sql: &str) -> Vec<Token> {
        Tokenizer::new(&GenericDialect {}, sql)
            .tokenize()
            .expect("tokenizes")
    }

    fn chain(term: &str, op: &str, n: usize) -> String {
        vec![term; n].join(op)
    }

    #[test]
    fn values_names_and_lists_do_not_count() {
        let list = (0..200_000).map(|i| i.to_string()).collect::<Vec<_>>();
        let sql = format!(
            "SELECT a, \"select\", NULL, TRUE FROM t WHERE a IN ({})",
            list.join(",")
        );
        assert_eq!(check_tokens(&tokens(&sql)), Ok(()));
    }

    #[test]
    fn a_chain_past_the_operator_limit_is_refused_and_statements_count_apart() {
        let long = format!("SELECT {}", chain("1", "+", MAX_OPERATORS + 1));
        assert_eq!(
            check_tokens(&tokens(&long)),
            Err(BoundsError::TooManyOperators { max: MAX_OPERATORS })
        );
        let half = format!("SELECT {}", chain("1", "+", MAX_OPERATORS / 2));
        assert_eq!(check_tokens(&tokens(&format!("{half};{half}"))), Ok(()));
    }

    #[test]
    fn explain_of_explain_is_refused_before_the_parser_recurses() {
        let sql = format!("{} SELECT 1", vec!["EXPLAIN"; 50_000].join(" "));
        assert_eq!(check_tokens(&tokens(&sql)), Err(BoundsError::NestedExplain));
        assert_eq!(
            check_tokens(&tokens("EXPLAIN SELECT 1; EXPLAIN SELECT 2")),
            Ok(())
        );
    }

    fn depth_after(sql: &str) -> Result<usize, BoundsError> {
        let mut parser = datafusion::sql::parser::DFParserBuilder::new(sql)
            .build()
            .expect("parser");
        let statement = check_depth(parser.parse_statement().expect("parses"))?;
        let mut deepest = Shaper {
            depth: 0,
            max: usize::MAX,
        };
        struct Deepest<'a>(&'a mut Shaper, usize);
        impl VisitorMut for Deepest<'_> {
            type Break = ();
            fn pre_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
                let _ = self.0.pre_visit_expr(expr);
                self.1 = self.1.max(self.0.depth);
                ControlFlow::Continue(())
            }
            fn post_visit_expr(&mut self, expr: &mut Expr) -> ControlFlow<()> {
                self.0.post_visit_expr(expr)
            }
        }
        let mut walk = Deepest(&mut deepest, 0);
        let mut statement = statement;
        if let DfStatement::Statement(s) = &mut statement {
            let _ = VisitMut::visit(s.as_mut(), &mut walk);
        }
        Ok(walk.1)
    }

    #[test]
    fn a_long_or_is_rebalanced_and_a_long_sum_past_the_limit_is_refused() {
        let or = format!("SELECT 1 WHERE {}", chain("a = 1", " OR ", 1_000));
        let depth = depth_after(&or).expect("within the limit");
        assert!(depth <= 12, "{depth}");
        let sum = format!("SELECT {}", chain("1", "+", MAX_EXPRESSION_DEPTH));
        assert_eq!(depth_after(&sum), Ok(MAX_EXPRESSION_DEPTH));
        let past = format!("SELECT {}", chain("1", "+", MAX_EXPRESSION_DEPTH + 1));
        assert_eq!(
            depth_after(&past),
            Err(BoundsError::TooDeep {
                max: MAX_EXPRESSION_DEPTH
            })
        );
    }

    /// A boolean expression of SQL's three-valued logic: `None` is NULL.
    #[derive(Debug, Clone)]
    enum Bool {
        Value(Option<bool>),
        Chain(bool, Vec<Bool>),
    }

    impl Bool {
        fn sql(&self) -> String {
            match self {
                Bool::Value(Some(true)) => "TRUE".into(),
                Bool::Value(Some(false)) => "FALSE".into(),
                Bool::Value(None) => "CAST(NULL AS BOOLEAN)".into(),
                Bool::Chain(and, terms) => {
                    let op = if *and { " AND " } else { " OR " };
                    let terms: Vec<String> = terms.iter().map(Bool::sql).collect();
                    format!("({})", terms.join(op))
                }
            }
        }

        fn eval(&self) -> Option<bool> {
            match self {
                Bool::Value(v) => *v,
                Bool::Chain(and, terms) => {
                    terms.iter().map(Bool::eval).reduce(|a, b| match and {
                        true => match (a, b) {
                            (Some(false), _) | (_, Some(false)) => Some(false),
                            (Some(true), Some(true)) => Some(true),
                            _ => None,
                        },
                        false => match (a, b) {
                            (Some(true), _) | (_, Some(true)) => Some(true),
                            (Some(false), Some(false)) => Some(false),
                            _ => None,
                        },
                    })?
                }
            }
        }
    }

    fn bools() -> impl proptest::strategy::Strategy<Value = Bool> {
        use proptest::prelude::*;
        let leaf =
            prop_oneof![Just(None), Just(Some(true)), Just(Some(false))].prop_map(Bool::Value);
        leaf.prop_recursive(3, 400, 60, |inner| {
            (any::<bool>(), proptest::collection::vec(inner, 2..60))
                .prop_map(|(and, terms)| Bool::Chain(and, terms))
        })
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(48))]

        /// Rebalancing keeps the meaning: long and short `AND`/`OR` chains, nested, over TRUE,
        /// FALSE and NULL, evaluate as three-valued logic says.
        #[test]
        fn rebalanced_chains_mean_what_they_meant(expr in bools()) {
            let sql = format!("SELECT {}", expr.sql());
            let got = tokio::runtime::Builder::new_current_thread()
                .build()
                .expect("runtime")
                .block_on(async {
                    let ctx = datafusion::prelude::SessionContext::new();
                    let mut statements = crate::sql::parse_script(&sql).expect("parses");
                    let Some(crate::sql::Statement::Sql(statement)) = statements.pop() else {
                        panic!("one statement");
                    };
                    let plan = ctx.state().statement_to_plan(*statement).await.expect("plans");
                    let batches = ctx.execute_logical_plan(plan).await.expect("runs")
                        .collect().await.expect("collects");
                    let column = batches[0].column(0);
                    let values = column
                        .as_any()
                        .downcast_ref::<datafusion::arrow::array::BooleanArray>()
                        .expect("boolean");
                    values.iter().next().expect("a row")
                });
            proptest::prop_assert_eq!(got, expr.eval(), "{}", sql);
        }
    }
}
