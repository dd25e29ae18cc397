//! The serde model of one service file (the provider's profile, with its server, is
//! `provider.yaml`: [`super::provider`]). Every struct denies unknown keys.
//!
//! ```yaml
//! provider: databricks_workspace
//! service: jobs
//! types: { RunState: { fields: [ { name: life_cycle_state, type: string } ] } }
//! resources:
//!   job_runs:
//!     methods:
//!       list:
//!         verb: GET
//!         path: /api/2.2/jobs/runs/list
//!         params: { job_id: { type: integer } }
//!         response: { objects: runs }
//!         pagination: { style: token, param: page_token, next: next_page_token,
//!                       page_size: { param: limit, max: 25 } }
//!     select: [get, list]
//!     columns: [ { name: run_id, type: integer } ]
//!     pushdown: [ { column: job_id, param: job_id, ops: [eq, in] } ]
//! ```

use std::collections::BTreeMap;

use datafusion::common::tree_node::{Transformed, TransformedResult, TreeNode};
use datafusion::common::{DFSchema, ScalarValue};
use datafusion::error::Result;
use datafusion::execution::SessionState;
use datafusion::logical_expr::{lit, Expr};

use serde::Deserialize;

pub use super::shapes::{split_path, PageSizeSpec, PaginationSpec, PaginationStyle, TimeEncoding};

/// One YAML file: one service of one provider.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServiceSpec {
    /// Provider name: the SQL catalog (`databricks_workspace`).
    pub provider: String,
    /// Service name: the SQL schema (`jobs`).
    pub service: String,
    /// Free text shown by `jobsql tables`.
    #[serde(default)]
    pub description: String,
    /// Named object types that columns can reference with `ref:`.
    #[serde(default)]
    pub types: BTreeMap<String, ObjectType>,
    /// Resources by name: the SQL tables.
    pub resources: BTreeMap<String, ResourceSpec>,
}

/// One resource: a SQL table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResourceSpec {
    /// Free text for `DESCRIBE` and docs.
    #[serde(default)]
    pub description: String,
    /// HTTP methods by name (`get`, `list`, `submit`, ...).
    pub methods: BTreeMap<String, MethodSpec>,
    /// Methods that answer SELECT, tried in order: the first whose required parameters
    /// are all given by the WHERE clause is used.
    pub select: Vec<String>,
    /// The columns the API returns.
    pub columns: Vec<ColumnSpec>,
    /// Parameter columns: not returned by the API, they hold the parameter value used.
    #[serde(default)]
    pub parameters: Vec<ColumnSpec>,
    /// How WHERE predicates map to method parameters.
    #[serde(default)]
    pub pushdown: Vec<PushdownRule>,
    /// Parameters set only when some columns are read (e.g. `expand_tasks`).
    #[serde(default)]
    pub expand: Vec<ExpandRule>,
    /// Names of the columns that identify a row (for messages, RETURNING and DELETE).
    #[serde(default)]
    pub key: Vec<String>,
    /// The method that `INSERT` calls, once per row.
    #[serde(default)]
    pub insert: Option<InsertSpec>,
    /// The method that `DELETE` calls, once per matching row.
    #[serde(default)]
    pub delete: Option<DeleteSpec>,
    /// The method that `UPDATE` calls, once per matching row (a partial update).
    #[serde(default)]
    pub update: Option<UpdateSpec>,
    /// The method that `REPLACE` (StackQL's; `UPDATE OR REPLACE` alike) calls, once per
    /// matching row (the whole object replaced).
    #[serde(default)]
    pub replace: Option<UpdateSpec>,
    /// Methods callable with `EXEC provider.service.resource.method @param=...`.
    #[serde(default)]
    pub exec: Vec<String>,
    /// What `jobsql sync` keeps of this resource ([`HistorySpec`](super::HistorySpec)); absent: not synced.
    #[serde(default)]
    pub history: Option<super::history::HistorySpec>,
}

/// `INSERT` → one call of `method` per row: `data__<field>` columns fill its body parameters,
/// other columns its path or query parameters (and the server variable).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InsertSpec {
    /// The method's name.
    pub method: String,
}

/// `DELETE` → one call of `method` per matching row, its parameters taken from the row.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeleteSpec {
    /// The method's name.
    pub method: String,
    /// Its parameters, from the row's columns (`param: column`).
    pub params: BTreeMap<String, String>,
    /// What the API deletes with each row, besides it (a job's runs): DELETE lists those rows
    /// before anything is sent, counts them against `--max-deletes`, and a dry run shows them.
    #[serde(default)]
    pub cascade: Vec<CascadeSpec>,
}

/// `UPDATE` / `REPLACE` → one call of `method` per row the same WHERE selects: its key
/// parameters from the row's columns (`params`), its body from the `SET` clause —
/// `data__<param> = value` fills a body parameter, `<column> = value` the part of the object
/// `columns` says the column is.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UpdateSpec {
    /// The method's name.
    pub method: String,
    /// Its parameters naming the row, from the row's columns (`param: column`).
    pub params: BTreeMap<String, String>,
    /// Which columns `SET <column> = value` may set, and where they go in the body.
    #[serde(default)]
    pub columns: Option<SetColumns>,
}

/// The settable columns of an UPDATE / REPLACE: the column `from` (a JSON object, e.g. a job's
/// `settings`) and the columns read from its top-level fields (`path: [from, field]`). `SET
/// from = '{...}'` sends the object as the body parameter `into`; `SET column = value` sends
/// `{into: {field: value}}`; `SET column = NULL` names the field in the body parameter
/// `remove` (a JSON array of field names), when the method has one.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SetColumns {
    /// The column holding the object (`settings`).
    pub from: String,
    /// The body parameter the object, or its fields, go into (`new_settings`).
    pub into: String,
    /// The body parameter listing fields to remove (`fields_to_remove`), if any.
    #[serde(default)]
    pub remove: Option<String>,
}

/// Rows of another resource of the same service that the API deletes with a deleted row:
/// those whose `column` equals the row's `from` column.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CascadeSpec {
    /// The other resource (a name in this service).
    pub resource: String,
    /// Its column naming the deleted row (pushed down with `in`: one listing per row).
    pub column: String,
    /// The deleted row's column it equals (one of the delete method's parameter columns).
    pub from: String,
}

/// One HTTP method of a resource.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MethodSpec {
    /// HTTP verb: GET, POST, ...
    pub verb: HttpVerb,
    /// Path, with `{name}` placeholders for path parameters.
    pub path: String,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Parameters by name.
    #[serde(default)]
    pub params: BTreeMap<String, ParamSpec>,
    /// Where the objects are in the response.
    #[serde(default)]
    pub response: ResponseSpec,
    /// How to fetch the following pages, when the method paginates.
    #[serde(default)]
    pub pagination: Option<PaginationSpec>,
    /// Objects this method returns incomplete, to be fetched whole with another method: one
    /// rule, or a list of rules (an object matching several is fetched once, with the parameters
    /// of all; every rule of a method names the same method).
    #[serde(default, deserialize_with = "one_or_many")]
    pub complete: Vec<CompleteSpec>,
    /// For methods with side effects: whether repeating a call is harmless (a cancel, a delete),
    /// so it may be retried after a transport error. GET methods always are.
    #[serde(default)]
    pub idempotent: bool,
    /// The body parameter that makes a call idempotent (runs/submit's `idempotency_token`):
    /// jobsql fills it when the caller did not, and then retries the call safely.
    #[serde(default)]
    pub idempotency_token: Option<String>,
    /// The result columns of an `EXEC` of this method (from its response `objects`, or the
    /// whole body); without them, EXEC returns the body as one JSON column `response`.
    #[serde(default)]
    pub columns: Vec<ColumnSpec>,
    /// A listing whose objects come newest first by a range-pushed column can be split into
    /// disjoint ranges of that column, listed concurrently.
    #[serde(default)]
    pub parallel: Option<ParallelSpec>,
    /// The order the method returns its objects in (runs/list: newest first by
    /// `start_time`): the scan declares it to DataFusion, which then needs no sort for an
    /// `ORDER BY` it satisfies, and a `LIMIT` over it reads only the first pages.
    #[serde(default)]
    pub order: Option<OrderSpec>,
}

/// The order of a listing's objects: by one column, ascending or descending.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderSpec {
    /// The column (of the resource) the objects are sorted by.
    pub column: String,
    /// `asc` or `desc`.
    pub direction: OrderDirection,
}

/// The direction of an [`OrderSpec`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OrderDirection {
    /// Smallest first.
    Asc,
    /// Largest (newest) first.
    Desc,
}

/// How a listing is split into concurrent slices: after its first page (objects sorted by
/// `column`, descending), the rest of the range is cut into equal slices of that column, over
/// at most `window_days` before the first page's oldest object (older objects fall into the
/// oldest slice, whose lower bound stays open).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParallelSpec {
    /// The column the listing is sorted by, newest first; it needs a `range` pushdown rule
    /// whose `lower` / `upper` parameters this method takes. Values are milliseconds.
    pub column: String,
    /// How far back the slices reach (the API's retention, e.g. 60 days).
    pub window_days: u32,
}

/// Objects a listing truncates (runs/list shows at most 100 `tasks` and sets `has_more`) or
/// leaves out fields of (runs/list has no `repair_history`) are fetched again, whole, with
/// another method, when such a column is read.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CompleteSpec {
    /// The boolean field that marks a truncated object; absent: every object is fetched again.
    #[serde(default)]
    pub when: Option<String>,
    /// The method that returns the whole object (with its own pagination merged).
    pub method: String,
    /// Its parameters, from the truncated object's fields (`param: field`).
    pub params: BTreeMap<String, String>,
    /// Its parameters with fixed values (`include_history: "true"`).
    #[serde(default)]
    pub set: BTreeMap<String, String>,
    /// Only when one of these columns is read.
    pub when_reading: Vec<String>,
}

/// `complete:` as one rule (the original form) or a list of rules. A visitor rather than an
/// untagged enum, so that a typo inside a rule keeps serde's message and location.
fn one_or_many<'de, D>(deserializer: D) -> Result<Vec<CompleteSpec>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};

    struct Rules;

    impl<'de> serde::de::Visitor<'de> for Rules {
        type Value = Vec<CompleteSpec>;

        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a completion rule or a list of them")
        }

        fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            CompleteSpec::deserialize(MapAccessDeserializer::new(map)).map(|rule| vec![rule])
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, seq: A) -> Result<Self::Value, A::Error> {
            Vec::deserialize(SeqAccessDeserializer::new(seq))
        }

        fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
            Ok(Vec::new())
        }
    }

    deserializer.deserialize_any(Rules)
}

/// HTTP verbs the engine knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[allow(missing_docs)]
pub enum HttpVerb {
    GET,
    POST,
    PUT,
    PATCH,
    DELETE,
}

impl HttpVerb {
    /// The verb as it appears on the wire.
    pub fn as_str(&self) -> &'static str {
        match self {
            HttpVerb::GET => "GET",
            HttpVerb::POST => "POST",
            HttpVerb::PUT => "PUT",
            HttpVerb::PATCH => "PATCH",
            HttpVerb::DELETE => "DELETE",
        }
    }
}

/// One parameter of a method.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ParamSpec {
    /// Where it goes.
    #[serde(default, rename = "in")]
    pub location: ParamLocation,
    /// Its type, for rendering SQL values.
    #[serde(rename = "type")]
    pub kind: ParamType,
    /// Whether the method cannot be called without it.
    #[serde(default)]
    pub required: bool,
    /// The values the API accepts, when it is an enumeration (`string` and `integer` only). A
    /// WHERE value outside the list matches no row: zero rows, and no request.
    #[serde(default, rename = "enum")]
    pub allowed: Vec<String>,
    /// Free text.
    #[serde(default)]
    pub description: String,
}

/// Where a parameter is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamLocation {
    /// In the query string.
    #[default]
    Query,
    /// In the path (`{name}` in the method's path), percent-encoded.
    Path,
    /// In the JSON body.
    Body,
}

/// Scalar parameter types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ParamType {
    /// Text.
    String,
    /// 64-bit integer.
    Integer,
    /// `true` / `false`.
    Boolean,
    /// Any JSON value (objects and arrays; given as JSON text from SQL).
    Json,
}

/// Where the objects of a response are.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResponseSpec {
    /// The dotted path of the array of objects (`runs`, `data.items`), or `.` when the body
    /// itself is the array; absent means the body is the one object. A missing path (or
    /// `null`) in a response means no objects (the Jobs API omits `runs` when there are none).
    #[serde(default)]
    pub objects: Option<String>,
    /// Errors that mean "no such object": answered as zero rows.
    #[serde(default)]
    pub not_found: Vec<NotFoundSpec>,
    /// The rows are not the objects but the elements of an array in each of them (a run's
    /// `tasks`), each with columns of the object it sits in ([`FlattenSpec`]).
    #[serde(default)]
    pub flatten: Option<FlattenSpec>,
}

/// `response.flatten:` one row per element of an array field of each object the method
/// returns (`runs[*].tasks[*]`), rather than one per object:
///
/// ```yaml
/// response:
///   objects: runs
///   flatten: { array: tasks, parent: [job_id, job_run_id, run_name] }
/// ```
///
/// The columns named in `parent` are read from the object the element sits in (their
/// `field:` or `path:` relative to that object: `job_run_id` with `field: run_id`); every other
/// data column from the element. An object without the array (or with `null` or `[]`) gives
/// no row. Everything else works on the objects as listed: pagination counts objects, the
/// `complete:` rules fetch an object whole before it is flattened (their `when` and `params`
/// name fields of that object), and `merge_arrays`, `expand` and `complete` rules that name
/// the array (`when_reading: [tasks]`) apply to every query, since every row is one of its
/// elements. Predicates on parent columns push down as they would on the objects' own
/// listing: all the elements of one object share those values.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlattenSpec {
    /// The JSON field of each object holding the array whose elements are the rows.
    pub array: String,
    /// The columns read from the object rather than from the element.
    #[serde(default)]
    pub parent: Vec<String>,
}

/// An API error that means the object does not exist.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotFoundSpec {
    /// HTTP status.
    pub status: u16,
    /// The API's `error_code`, when it must match.
    #[serde(default)]
    pub error_code: Option<String>,
    /// A substring of the message, when it must match.
    #[serde(default)]
    pub message_contains: Option<String>,
}

/// A column: its name, type and description.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ColumnSpec {
    /// Column (and JSON field) name; empty only for an array's `items`.
    #[serde(default)]
    pub name: String,
    /// Type: `string`, `integer`, `double`, `boolean`, `timestamp_ms` (epoch milliseconds),
    /// `timestamp_s` (epoch seconds), `timestamp_rfc3339` (RFC 3339 text), `json`, `object`,
    /// `array`, `map` (string keys, `values:` their type), or absent with `ref:` naming an
    /// object type.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Fields of an `object`.
    #[serde(default)]
    pub fields: Vec<ColumnSpec>,
    /// Element type of an `array`.
    #[serde(default)]
    pub items: Option<Box<ColumnSpec>>,
    /// Value type of a `map` (an object of free keys, all its values of one type: `tags`).
    #[serde(default)]
    pub values: Option<Box<ColumnSpec>>,
    /// A named object type from the file's `types`.
    #[serde(default, rename = "ref")]
    pub reference: Option<String>,
    /// For a data column: where its value is in each object, as a dotted path of fields
    /// (`settings.name`, `settings.schedule`) instead of the field `name`; any type.
    #[serde(default)]
    pub path: Option<String>,
    /// For a top-level data column: the JSON field its value is read from when it is not
    /// named as the column (`job_id` ← `jobId`); any type, decoded in the same pass.
    #[serde(default)]
    pub field: Option<String>,
    /// For a top-level `string` column: the name of the first of these fields the object has
    /// (present and not `null`), NULL when it has none — which kind of object it is, when the
    /// API says so by which field is set (a task's `notebook_task`, `sql_task`, ...).
    #[serde(default)]
    pub which: Vec<String>,
    /// For a data column (string, integer or boolean): when an object has no value for it,
    /// the value the request sent for this parameter. A method that answers about the one
    /// object asked for often leaves its key out (get-compliance has no `job_id`; runs/cancel
    /// answers `{}`): the row then still says which object it is about.
    #[serde(default)]
    pub from_param: Option<String>,
}

/// A named object type.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ObjectType {
    /// Free text.
    #[serde(default)]
    pub description: String,
    /// Its fields.
    pub fields: Vec<ColumnSpec>,
}

/// How one column's predicates become a parameter.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushdownRule {
    /// The column in WHERE.
    pub column: String,
    /// The method parameter it sets (for `eq` / `in`); the server variable for the workspace.
    #[serde(default)]
    pub param: Option<String>,
    /// Which predicate forms are pushed.
    #[serde(default)]
    pub ops: Vec<PushdownOp>,
    /// For `range`: the inclusive lower-bound parameter.
    #[serde(default)]
    pub lower: Option<String>,
    /// For `range`: the inclusive upper-bound parameter.
    #[serde(default)]
    pub upper: Option<String>,
    /// The smallest value the API accepts for the parameter(s) (an integer): a lower bound below
    /// it is raised to it; an upper bound or an `eq` value below it matches no row (zero rows,
    /// no request) rather than being refused by the API.
    #[serde(default)]
    pub minimum: Option<i64>,
    /// For a parameter column: the rows the parameter keeps, as a SQL predicate over the
    /// resource's columns (`{value}` stands for the value; a boolean parameter keeps rows only
    /// when true). When WHERE sets the parameter but the method chosen does not take it
    /// (`run_id = 5 AND active_only = true` calls runs/get), the predicate is evaluated on the
    /// fetched rows instead, and the column shows the value set.
    #[serde(default)]
    pub matches: Option<String>,
    /// For a boolean parameter column: other boolean parameter columns that no row satisfies
    /// together with it (the API refuses both true): WHERE setting both true is zero rows, with
    /// no request.
    #[serde(default)]
    pub disjoint_with: Vec<String>,
    /// The API compares the parameter without case (jobs/list's `name`), so it keeps more rows
    /// than SQL's `=`: the predicate is sent, and also evaluated on the fetched rows.
    #[serde(default)]
    pub case_insensitive: bool,
    /// For `range` on a timestamp column: how the bounds are sent (`epoch_ms`, the default;
    /// `epoch_s`, rounded outwards and re-checked on the rows; `rfc3339`, UTC with
    /// milliseconds when there are any).
    #[serde(default)]
    pub encoding: TimeEncoding,
}

impl PushdownRule {
    /// The SQL predicate equivalent to sending `value` for this rule's parameter (of type
    /// `kind`), from `matches`; `None` when the parameter keeps every row (no `matches`, or a
    /// boolean parameter set to false).
    pub fn predicate(&self, value: &str, kind: ParamType) -> Option<DerivedPredicate> {
        let template = self.matches.as_deref()?;
        let value = match kind {
            ParamType::Boolean if value != "true" => return None,
            ParamType::Boolean => ScalarValue::Boolean(Some(true)),
            ParamType::Integer => match value.parse::<i64>() {
                Ok(i) => ScalarValue::Int64(Some(i)),
                Err(_) => ScalarValue::Utf8(Some(value.to_string())),
            },
            ParamType::String | ParamType::Json => ScalarValue::Utf8(Some(value.to_string())),
        };
        Some(DerivedPredicate {
            sql: template.replace("{value}", "$1"),
            value,
        })
    }
}

/// A rule's `matches:` for one value: the spec's SQL with `$1` where it wrote `{value}`, and
/// the value `$1` stands for. The value joins the expression as a literal node once the SQL
/// is parsed ([`DerivedPredicate::expr`]): it is never spliced into the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DerivedPredicate {
    /// The spec's predicate, `$1` for its value.
    pub sql: String,
    /// The value.
    pub value: ScalarValue,
}

impl DerivedPredicate {
    /// The predicate as an expression over `schema`, its `$1` bound to the value.
    pub fn expr(&self, state: &SessionState, schema: &DFSchema) -> Result<Expr> {
        state
            .create_logical_expr(&self.sql, schema)?
            .transform(|e| {
                Ok(match e {
                    Expr::Placeholder(p) if p.id == "$1" => {
                        Transformed::yes(lit(self.value.clone()))
                    }
                    e => Transformed::no(e),
                })
            })
            .data()
    }
}

/// Predicate forms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PushdownOp {
    /// `col = literal`.
    Eq,
    /// `col IN (literals)`: one request per value.
    In,
    /// `<`, `<=`, `>`, `>=`, `BETWEEN` on a timestamp or integer column.
    Range,
}

/// A parameter set only when some columns are read.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExpandRule {
    /// Parameter name.
    pub param: String,
    /// Value to send.
    pub value: String,
    /// Columns that need it.
    pub when_reading: Vec<String>,
}
