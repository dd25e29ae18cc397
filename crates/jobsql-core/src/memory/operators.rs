//! What the planner builds without a function, made functions so that they are counted like
//! every function ([`super::counted`]):
//!
//! - [`StringConcat`]: `a || b` on strings. Each `||` makes a string as long as both sides, so a
//!   chain `s || s || ... || s` grows with its length; as a function it is counted (its sides
//!   summed before it runs) and evaluated by DataFusion's own operator, so its result, NULLs and
//!   types are those of `||`.
//! - [`PerRow`]: a constant of a variable width (a string, a list, ...) in a place where it
//!   becomes a value of every row (a column of a SELECT, a CASE branch, an aggregate's argument):
//!   DataFusion writes it out once a row, so `SELECT repeat('x', 1000000) FROM big` makes a
//!   megabyte a row. `per_row(constant)` is counted for that before it is written out (and is
//!   volatile, so that the optimizer folds what is inside but keeps it).
//!
//! Both keep the names of the expressions they replace.

use std::sync::Arc;

use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema};
use datafusion::arrow::record_batch::{RecordBatch, RecordBatchOptions};
use datafusion::common::utils::take_function_args;
use datafusion::common::Result;
use datafusion::logical_expr::binary::BinaryTypeCoercer;
use datafusion::logical_expr::{
    ColumnarValue, Expr, Operator, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    Volatility,
};
use datafusion::physical_expr::expressions::{BinaryExpr, Column, Literal};
use datafusion::physical_expr::PhysicalExpr;

use super::sizes::payload;

/// `a || b` on strings, as a function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct StringConcat {
    signature: Signature,
}

impl Default for StringConcat {
    fn default() -> Self {
        StringConcat {
            signature: Signature::any(2, Volatility::Immutable),
        }
    }
}

/// The name of [`StringConcat`] (what its reservations are called).
pub const STRING_CONCAT: &str = "||";

impl ScalarUDFImpl for StringConcat {
    fn name(&self) -> &str {
        STRING_CONCAT
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        let [left, right] = take_function_args(STRING_CONCAT, arg_types)?;
        BinaryTypeCoercer::new(left, &Operator::StringConcat, right).get_result_type()
    }

    /// NULL when either side is, as `||`.
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let types: Vec<DataType> = args
            .arg_fields
            .iter()
            .map(|f| f.data_type().clone())
            .collect();
        let nullable = args.arg_fields.iter().any(|f| f.is_nullable());
        Ok(Arc::new(Field::new(
            STRING_CONCAT,
            self.return_type(&types)?,
            nullable,
        )))
    }

    fn schema_name(&self, args: &[Expr]) -> Result<String> {
        let [left, right] = take_function_args(STRING_CONCAT, args)?;
        Ok(format!("{} || {}", left.schema_name(), right.schema_name()))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let mut fields = Vec::new();
        let mut columns = Vec::new();
        let mut side = |value: ColumnarValue, name: &str| -> Arc<dyn PhysicalExpr> {
            match value {
                ColumnarValue::Scalar(s) => Arc::new(Literal::new(s)),
                ColumnarValue::Array(a) => {
                    let index = columns.len();
                    fields.push(Field::new(name, a.data_type().clone(), true));
                    columns.push(a);
                    Arc::new(Column::new(name, index))
                }
            }
        };
        let [left, right] = take_function_args(STRING_CONCAT, args.args)?;
        let (left, right) = (side(left, "left"), side(right, "right"));
        let batch = RecordBatch::try_new_with_options(
            Arc::new(Schema::new(fields)),
            columns,
            &RecordBatchOptions::new().with_row_count(Some(rows)),
        )?;
        BinaryExpr::new(left, Operator::StringConcat, right).evaluate(&batch)
    }
}

/// A constant written out once a row, as a function.
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct PerRow {
    signature: Signature,
}

impl Default for PerRow {
    fn default() -> Self {
        PerRow {
            signature: Signature::any(1, Volatility::Volatile),
        }
    }
}

/// The name of [`PerRow`].
pub const PER_ROW: &str = "per_row";

/// Below this, a constant is left for DataFusion to write out (what it makes is not worth a
/// reservation).
const SMALL: usize = 64 << 10;

impl ScalarUDFImpl for PerRow {
    fn name(&self) -> &str {
        PER_ROW
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn return_type(&self, arg_types: &[DataType]) -> Result<DataType> {
        let [t] = take_function_args(PER_ROW, arg_types)?;
        Ok(t.clone())
    }

    /// Its argument's field (a literal is not nullable; a UNION compares the two).
    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        let [field] = take_function_args(PER_ROW, args.arg_fields)?;
        Ok(Arc::new(field.as_ref().clone().with_name(PER_ROW)))
    }

    fn schema_name(&self, args: &[Expr]) -> Result<String> {
        let [arg] = take_function_args(PER_ROW, args)?;
        Ok(arg.schema_name().to_string())
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let rows = args.number_rows;
        let [value] = take_function_args(PER_ROW, args.args)?;
        match value {
            ColumnarValue::Scalar(s) if payload(&s).saturating_mul(rows) > SMALL => {
                Ok(ColumnarValue::Array(s.to_array_of_size(rows)?))
            }
            other => Ok(other),
        }
    }
}
