//! Loading spec files (embedded, or from `--spec-dir`) and checking every cross-reference.
//!
//! The result is a [`SpecSet`] of [`Resource`]s, each with its columns resolved to
//! [`ColumnType`]s, ready for the table providers.

#[path = "load/checks.rs"]
mod checks;

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use super::model::{ParamLocation, PushdownOp, ResourceSpec, ServerSpec, ServiceSpec};
use super::types::{ColumnType, TypeRegistry};

/// Why specs could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum SpecError {
    /// The file could not be read.
    #[error("cannot read spec {file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The YAML did not match the spec format (unknown key, wrong type, ...).
    #[error("spec {file}: {message}")]
    Parse {
        /// The file.
        file: String,
        /// What and where (serde's message includes line and column).
        message: String,
    },
    /// The YAML parsed, but something refers to what does not exist.
    #[error("spec {file}: {place}: {message}")]
    Invalid {
        /// The file.
        file: String,
        /// Where in the file (e.g. `resources.job_runs.pushdown[2]`).
        place: String,
        /// What is wrong.
        message: String,
    },
    /// Two files define the same table.
    #[error("spec {file}: table {table} is already defined by {other}")]
    Duplicate {
        /// The second file.
        file: String,
        /// The table.
        table: String,
        /// The first file.
        other: String,
    },
    /// No spec file found.
    #[error("no spec files (*.yaml) found in {0}")]
    Empty(String),
}

/// A resolved column.
#[derive(Debug, Clone)]
pub struct Column {
    /// Name (also the JSON field name).
    pub name: String,
    /// Resolved type.
    pub ty: ColumnType,
    /// Description from the spec.
    pub description: String,
    /// True for parameter columns (they hold the request's value, not the response's).
    pub is_parameter: bool,
}

/// One validated resource: everything the provider needs.
#[derive(Debug, Clone)]
pub struct Resource {
    /// Catalog (provider) name.
    pub provider: String,
    /// Schema (service) name.
    pub service: String,
    /// Table (resource) name.
    pub name: String,
    /// The file it came from.
    pub file: String,
    /// The server template.
    pub server: ServerSpec,
    /// The resource as written.
    pub spec: ResourceSpec,
    /// Data columns, then parameter columns.
    pub columns: Vec<Column>,
    /// The result columns of each method called by EXEC (empty: the body as one JSON column).
    pub method_columns: BTreeMap<String, Vec<Column>>,
    /// The file's named object types (for the descriptions of struct fields in messages).
    pub types: BTreeMap<String, super::model::ObjectType>,
}

impl Resource {
    /// `provider.service.resource`.
    pub fn qualified_name(&self) -> String {
        format!("{}.{}.{}", self.provider, self.service, self.name)
    }

    /// Index of a column by name.
    pub fn column_index(&self, name: &str) -> Option<usize> {
        self.columns.iter().position(|c| c.name == name)
    }
}

/// All loaded resources.
#[derive(Debug, Clone, Default)]
pub struct SpecSet {
    /// Resources in file order.
    pub resources: Vec<Arc<Resource>>,
}

const EMBEDDED: &[(&str, &str)] = include!(concat!(env!("OUT_DIR"), "/embedded_specs.rs"));

/// The specs compiled into the binary (from `provider-spec/`).
pub fn load_embedded() -> Result<SpecSet, SpecError> {
    load_sources(EMBEDDED.iter().map(|(f, t)| (f.to_string(), t.to_string())))
}

/// Every `*.yaml` / `*.yml` file under `dir`.
pub fn load_dir(dir: &Path) -> Result<SpecSet, SpecError> {
    let files = super::files::spec_files(dir).map_err(|source| SpecError::Io {
        file: dir.display().to_string(),
        source,
    })?;
    if files.is_empty() {
        return Err(SpecError::Empty(dir.display().to_string()));
    }
    let mut sources = Vec::with_capacity(files.len());
    for file in files {
        let name = file.display().to_string();
        let text = std::fs::read_to_string(&file).map_err(|source| SpecError::Io {
            file: name.clone(),
            source,
        })?;
        sources.push((name, text));
    }
    load_sources(sources)
}

/// Parse and validate `(file name, YAML text)` pairs.
pub fn load_sources(
    sources: impl IntoIterator<Item = (String, String)>,
) -> Result<SpecSet, SpecError> {
    let mut set = SpecSet::default();
    for (file, text) in sources {
        let service: ServiceSpec =
            serde_yaml_ng::from_str(&text).map_err(|e| SpecError::Parse {
                file: file.clone(),
                message: e.to_string(),
            })?;
        for resource in validate(&file, service)? {
            let table = resource.qualified_name();
            if let Some(other) = set.resources.iter().find(|r| r.qualified_name() == table) {
                return Err(SpecError::Duplicate {
                    file,
                    table,
                    other: other.file.clone(),
                });
            }
            set.resources.push(Arc::new(resource));
        }
    }
    Ok(set)
}

fn validate(file: &str, service: ServiceSpec) -> Result<Vec<Resource>, SpecError> {
    let invalid = |place: String, message: String| SpecError::Invalid {
        file: file.to_string(),
        place,
        message,
    };
    for (what, name) in [
        ("provider", &service.provider),
        ("service", &service.service),
    ] {
        if !is_identifier(name) {
            return Err(invalid(
                what.into(),
                format!("`{name}` is not a SQL identifier"),
            ));
        }
    }
    if !service
        .server
        .url
        .contains(&format!("{{{}}}", service.server.variable))
    {
        return Err(invalid(
            "server.url".into(),
            format!("does not contain `{{{}}}`", service.server.variable),
        ));
    }
    let registry = TypeRegistry::new(&service.types);
    let mut out = Vec::new();
    for (name, spec) in &service.resources {
        let at = format!("resources.{name}");
        if !is_identifier(name) {
            return Err(invalid(at, format!("`{name}` is not a SQL identifier")));
        }
        let mut columns = Vec::new();
        for (list, is_parameter) in [(&spec.columns, false), (&spec.parameters, true)] {
            let key = if is_parameter {
                "parameters"
            } else {
                "columns"
            };
            for (i, column) in list.iter().enumerate() {
                let place = format!("{at}.{key}[{i}] ({})", column.name);
                if !is_identifier(&column.name) {
                    return Err(invalid(
                        place,
                        "a column needs a `name` that is a SQL identifier".into(),
                    ));
                }
                let ty = registry.resolve(column, &place).map_err(|m| {
                    let (place, message) = m.split_once(": ").unwrap_or(("", &m));
                    invalid(place.to_string(), message.to_string())
                })?;
                if columns.iter().any(|c: &Column| c.name == column.name) {
                    return Err(invalid(
                        place,
                        format!("duplicate column `{}`", column.name),
                    ));
                }
                columns.push(Column {
                    name: column.name.clone(),
                    ty,
                    description: column.description.clone(),
                    is_parameter,
                });
            }
        }
        let variable = &service.server.variable;
        if !columns.iter().any(|c| &c.name == variable) {
            columns.push(Column {
                name: variable.clone(),
                ty: ColumnType::String,
                description: service.server.description.clone(),
                is_parameter: true,
            });
        }
        check_resource(&at, spec, &columns, variable).map_err(|(p, m)| invalid(p, m))?;
        let method_columns = super::writes::check_writes(&at, spec, &columns, &registry)
            .map_err(|(p, m)| invalid(p, m))?;
        out.push(Resource {
            provider: service.provider.clone(),
            service: service.service.clone(),
            name: name.clone(),
            file: file.to_string(),
            server: service.server.clone(),
            spec: spec.clone(),
            columns,
            method_columns,
            types: service.types.clone(),
        });
    }
    Ok(out)
}

fn check_resource(
    at: &str,
    spec: &ResourceSpec,
    columns: &[Column],
    variable: &str,
) -> Result<(), (String, String)> {
    let has_column = |n: &str| columns.iter().any(|c| c.name == n);
    let select_has_param = |p: &str| {
        spec.select
            .iter()
            .filter_map(|m| spec.methods.get(m))
            .any(|m| m.params.contains_key(p))
    };
    let method_names = || spec.methods.keys().cloned().collect::<Vec<_>>().join(", ");
    if spec.select.is_empty() {
        return Err((format!("{at}.select"), "lists no method".into()));
    }
    for (i, m) in spec.select.iter().enumerate() {
        if !spec.methods.contains_key(m) {
            return Err((
                format!("{at}.select[{i}]"),
                format!("unknown method `{m}` (methods: {})", method_names()),
            ));
        }
    }
    for (name, method) in &spec.methods {
        let place = format!("{at}.methods.{name}");
        if !method.path.starts_with('/') {
            return Err((format!("{place}.path"), "must start with `/`".into()));
        }
        for (pname, p) in &method.params {
            let placeholder = format!("{{{pname}}}");
            let in_path = method.path.contains(&placeholder);
            if (p.location == ParamLocation::Path) != in_path {
                return Err((
                    format!("{place}.params.{pname}"),
                    if in_path {
                        "appears in the path, so it needs `in: path`".to_string()
                    } else {
                        format!("is `in: path` but the path has no `{placeholder}`")
                    },
                ));
            }
        }
        let mut rest = method.path.as_str();
        while let Some(start) = rest.find('{') {
            let end = rest[start..]
                .find('}')
                .map(|e| start + e)
                .unwrap_or(rest.len());
            let pname = &rest[start + 1..end];
            if !method.params.contains_key(pname) {
                return Err((
                    format!("{place}.path"),
                    format!("`{{{pname}}}` is not a parameter"),
                ));
            }
            rest = &rest[end.min(rest.len())..];
            rest = rest.get(1..).unwrap_or("");
        }
        for (pname, p) in &method.params {
            checks::check_enum(&format!("{place}.params.{pname}"), p)?;
        }
        checks::check_complete(&place, method, spec, &has_column)?;
        checks::check_parallel(&place, method, spec)?;
        if let Some(order) = &method.order {
            if !has_column(&order.column) {
                return Err((
                    format!("{place}.order.column"),
                    format!("`{}` is not a column of this resource", order.column),
                ));
            }
        }
        if let Some(pg) = &method.pagination {
            for (i, field) in pg.merge_arrays.iter().enumerate() {
                // `tasks` (an array column), or `settings.tasks` (inside a JSON column).
                let (column, nested) = match field.split_once('.') {
                    Some((c, _)) => (c, true),
                    None => (field.as_str(), false),
                };
                let ok = !field.split('.').any(str::is_empty)
                    && columns.iter().any(|c| {
                        c.name == column
                            && match c.ty {
                                ColumnType::Json => true,
                                ColumnType::Array(_) => !nested,
                                _ => false,
                            }
                    });
                if !ok {
                    return Err((
                        format!("{place}.pagination.merge_arrays[{i}]"),
                        format!("`{field}` is not an array column (or a path into a json one)"),
                    ));
                }
            }
        }
    }
    for column in columns
        .iter()
        .filter(|c| c.is_parameter && c.name != variable)
    {
        if !select_has_param(&column.name) {
            return Err((
                format!("{at}.parameters ({})", column.name),
                "is not a parameter of any select method".into(),
            ));
        }
    }
    for (i, rule) in spec.pushdown.iter().enumerate() {
        let place = format!("{at}.pushdown[{i}] ({})", rule.column);
        if !has_column(&rule.column) {
            return Err((place, format!("unknown column `{}`", rule.column)));
        }
        if rule.ops.is_empty() {
            return Err((place, "lists no `ops`".into()));
        }
        let wants_param = rule
            .ops
            .iter()
            .any(|o| matches!(o, PushdownOp::Eq | PushdownOp::In));
        match &rule.param {
            Some(p) if p != variable && !select_has_param(p) => {
                return Err((
                    place,
                    format!("`{p}` is not a parameter of any select method"),
                ))
            }
            None if wants_param => return Err((place, "`eq`/`in` need a `param`".into())),
            _ => {}
        }
        checks::check_rule_extras(&place, rule, spec, columns)?;
        if rule.ops.contains(&PushdownOp::Range) {
            if rule.lower.is_none() && rule.upper.is_none() {
                return Err((place, "`range` needs `lower` and/or `upper`".into()));
            }
            for p in rule.lower.iter().chain(rule.upper.iter()) {
                if !select_has_param(p) {
                    return Err((
                        place,
                        format!("`{p}` is not a parameter of any select method"),
                    ));
                }
            }
        }
    }
    for (i, rule) in spec.expand.iter().enumerate() {
        let place = format!("{at}.expand[{i}]");
        if !select_has_param(&rule.param) {
            return Err((
                place,
                format!("`{}` is not a parameter of any select method", rule.param),
            ));
        }
        if let Some(c) = rule.when_reading.iter().find(|c| !has_column(c)) {
            return Err((place, format!("unknown column `{c}` in `when_reading`")));
        }
    }
    for (i, k) in spec.key.iter().enumerate() {
        if !has_column(k) {
            return Err((format!("{at}.key[{i}]"), format!("unknown column `{k}`")));
        }
    }
    Ok(())
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_lowercase() || c == '_')
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINIMAL: &str = r#"
provider: acme
service: jobs
server: { url: "https://{deployment_name}.example.com", variable: deployment_name }
types:
  State: { fields: [ { name: code, type: string } ] }
resources:
  runs:
    methods:
      list:
        verb: GET
        path: /runs
        params: { job_id: { type: integer } }
        response: { objects: runs }
    select: [list]
    columns:
      - { name: run_id, type: integer }
      - { name: job_id, type: integer }
      - { name: state, ref: State }
    pushdown:
      - { column: job_id, param: job_id, ops: [eq, in] }
"#;

    fn load(text: &str) -> Result<SpecSet, SpecError> {
        load_sources([("acme.yaml".to_string(), text.to_string())])
    }

    #[test]
    fn the_embedded_specs_load_with_every_seed_column() {
        let set = load_embedded().expect("embedded specs are valid");
        let names: Vec<String> = set.resources.iter().map(|r| r.qualified_name()).collect();
        assert!(names.contains(&"databricks_workspace.jobs.job_runs".to_string()));
        assert!(names.contains(&"databricks_workspace.cleanrooms.task_runs".to_string()));
    }

    #[test]
    fn a_minimal_spec_resolves_refs_and_adds_the_server_variable_column() {
        let set = load(MINIMAL).expect("valid");
        let r = &set.resources[0];
        assert_eq!(r.qualified_name(), "acme.jobs.runs");
        assert!(matches!(r.columns[2].ty, ColumnType::Object(_)));
        let last = r.columns.last().expect("columns");
        assert_eq!(last.name, "deployment_name");
        assert!(last.is_parameter);
    }

    #[test]
    fn an_unknown_key_is_rejected_with_file_and_line() {
        let text = MINIMAL.replace("verb: GET", "verb: GET\n        verbb: GET");
        let e = load(&text).expect_err("typo").to_string();
        assert!(
            e.contains("acme.yaml") && e.contains("verbb") && e.contains("line"),
            "{e}"
        );
    }

    #[test]
    fn bad_references_name_the_place() {
        let cases = [
            (
                MINIMAL.replace("ref: State", "ref: Stat"),
                "resources.runs.columns[2]",
                "unknown type `Stat`",
            ),
            (
                MINIMAL.replace("select: [list]", "select: [lst]"),
                "resources.runs.select[0]",
                "unknown method `lst`",
            ),
            (
                MINIMAL.replace("{ column: job_id, param", "{ column: jobid, param"),
                "resources.runs.pushdown[0]",
                "unknown column `jobid`",
            ),
            (
                MINIMAL.replace("param: job_id, ops", "param: jobid, ops"),
                "resources.runs.pushdown[0]",
                "`jobid` is not a parameter",
            ),
            (
                MINIMAL.replace("path: /runs", "path: /runs/{room}"),
                "resources.runs.methods.list.path",
                "`{room}` is not a parameter",
            ),
            (
                MINIMAL.replace(
                    "type: integer }\n      - { name: job_id",
                    "type: integr }\n      - { name: job_id",
                ),
                "resources.runs.columns[0]",
                "unknown type `integr`",
            ),
            (
                MINIMAL.replace("{deployment_name}.example", "x.example"),
                "server.url",
                "does not contain",
            ),
        ];
        for (text, place, message) in cases {
            let e = load(&text).expect_err(message).to_string();
            assert!(
                e.contains("acme.yaml") && e.contains(place) && e.contains(message),
                "{e}"
            );
        }
    }

    #[test]
    fn enums_completion_rules_and_rule_extras_are_checked() {
        let with = |params: &str, extra: &str, rule: &str| {
            MINIMAL
                .replace(
                    "params: { job_id: { type: integer } }",
                    &format!("params: {{ job_id: {{ type: integer }}, {params} }}"),
                )
                .replace(
                    "response: { objects: runs }",
                    &format!("response: {{ objects: runs }}\n{extra}"),
                )
                .replace(
                    "      - { column: job_id, param: job_id, ops: [eq, in] }",
                    &format!("      - {{ column: job_id, param: job_id, ops: [eq, in] }}\n{rule}"),
                )
        };
        let params = "kind: { type: string, enum: [A, B] }, active: { type: boolean }, done: { type: boolean }";
        let parameters = "    parameters:\n      - { name: active, type: boolean }\n      - { name: done, type: boolean }\n";
        let ok =
            with(params, "", "").replace("    pushdown:", &format!("{parameters}    pushdown:"));
        load(&ok).expect("valid");
        let cases = [
            (
                with("kind: { type: boolean, enum: [A] }", "", ""),
                "methods.list.params.kind.enum",
                "only `string` and `integer`",
            ),
            (
                with("kind: { type: string, enum: [A, A] }", "", ""),
                "params.kind.enum",
                "`A` is listed twice",
            ),
            (
                with("n: { type: integer, enum: [\"1\", x] }", "", ""),
                "params.n.enum",
                "`x` is not an integer",
            ),
            (
                with(
                    "",
                    "        complete: [ { method: list, params: { job_id: nope }, when_reading: [state] } ]",
                    "",
                ),
                "methods.list.complete",
                "unknown column `nope`",
            ),
            (
                with(
                    "",
                    "        complete: { method: list, params: {}, set: { page: \"1\" }, when_reading: [state] }",
                    "",
                ),
                "methods.list.complete",
                "`page` is not a parameter of `list`",
            ),
            (
                with(
                    "",
                    "        complete: { method: list, params: {}, when_reading: [state], wen: x }",
                    "",
                ),
                "acme.yaml",
                "wen",
            ),
            (
                with(params, "", "      - { column: kind, param: kind, ops: [eq], minimum: 0 }")
                    .replace("{ name: job_id, type: integer }", "{ name: job_id, type: integer }\n      - { name: kind, type: string }"),
                "pushdown[1] (kind)",
                "`minimum` needs integer parameters",
            ),
            (
                with(params, "", "      - { column: active, param: active, ops: [eq], disjoint_with: [job_id] }")
                    .replace("    pushdown:", &format!("{parameters}    pushdown:")),
                "pushdown[1] (active)",
                "`job_id` is not another boolean parameter column",
            ),
            (
                with(params, "", "      - { column: active, param: active, ops: [eq], matches: \"stat['code'] = 'x'\" }")
                    .replace("    pushdown:", &format!("{parameters}    pushdown:")),
                "pushdown[1] (active).matches",
                "stat",
            ),
            (
                with(params, "", "      - { column: active, param: active, ops: [eq], matches: \"state['code']\" }")
                    .replace("    pushdown:", &format!("{parameters}    pushdown:")),
                "pushdown[1] (active).matches",
                "not a boolean predicate",
            ),
            (
                with("", "", "      - { column: job_id, param: job_id, ops: [eq], matches: \"true\" }"),
                "pushdown[1] (job_id)",
                "`matches` is for parameter columns",
            ),
        ];
        for (text, place, message) in cases {
            let e = load(&text).expect_err(message).to_string();
            assert!(
                e.contains("acme.yaml") && e.contains(place) && e.contains(message),
                "{message}: {e}"
            );
        }
        let good = with(params, "        complete: [ { when: flag, method: list, params: {}, when_reading: [state] }, { method: list, params: {}, set: { job_id: \"1\" }, when_reading: [state] } ]", "      - { column: active, param: active, ops: [eq], disjoint_with: [done], matches: \"state['code'] = 'RUNNING'\" }\n      - { column: done, param: done, ops: [eq] }")
            .replace("{ name: job_id, type: integer }", "{ name: job_id, type: integer }\n      - { name: flag, type: boolean }")
            .replace("    pushdown:", &format!("{parameters}    pushdown:"));
        let set = load(&good).expect("valid extras");
        let list = &set.resources[0].spec.methods["list"];
        assert_eq!(list.complete.len(), 2);
        assert_eq!(list.complete[0].when.as_deref(), Some("flag"));
    }

    #[test]
    fn merge_arrays_are_array_columns_or_paths_into_json_ones() {
        let spec = |path: &str| {
            MINIMAL
                .replace(
                    "response: { objects: runs }",
                    &format!("response: {{ objects: runs }}\n        pagination: {{ token_param: t, next_token: n, merge_arrays: [{path}] }}"),
                )
                .replace(
                    "      - { name: state, ref: State }",
                    "      - { name: state, ref: State }\n      - { name: settings, type: json }",
                )
        };
        load(&spec("settings.tasks")).expect("a path into a json column");
        load(&spec("settings")).expect("a json column");
        for bad in ["state.code", "run_id", "nope.x", "settings."] {
            let e = load(&spec(bad)).expect_err(bad).to_string();
            assert!(
                e.contains("pagination.merge_arrays[0]") && e.contains("is not an array column"),
                "{bad}: {e}"
            );
        }
    }

    #[test]
    fn a_table_defined_twice_is_an_error() {
        let e = load_sources([
            ("a.yaml".to_string(), MINIMAL.to_string()),
            ("b.yaml".to_string(), MINIMAL.to_string()),
        ])
        .expect_err("duplicate")
        .to_string();
        assert!(
            e.contains("b.yaml") && e.contains("a.yaml") && e.contains("acme.jobs.runs"),
            "{e}"
        );
    }
}
