//! The loader's tests: minimal specs, their profile, and each check's finding.

use super::*;

const MINIMAL: &str = r#"
provider: acme
service: jobs
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

const PROFILE: &str = r#"
provider: acme
server: { url: "https://{deployment_name}.example.com", variable: deployment_name }
sign_in:
  settings: { token: { env: ACME_TOKEN, secret: true } }
  methods: [ { name: pat, needs: [token], scheme: { bearer: { token: "{token}" } } } ]
"#;

fn load(text: &str) -> Result<SpecSet, SpecError> {
    load_sources([
        ("acme/provider.yaml".to_string(), PROFILE.to_string()),
        ("acme.yaml".to_string(), text.to_string()),
    ])
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
                "job_id: { type: integer }",
                "job_id: { type: integer, in: body }",
            ),
            "resources.runs.methods.list.params.job_id",
            "is `in: body`, but a GET sends no body",
        ),
        (
            MINIMAL.replace(
                "type: integer }\n      - { name: job_id",
                "type: integr }\n      - { name: job_id",
            ),
            "resources.runs.columns[0]",
            "unknown type `integr`",
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
    let params =
        "kind: { type: string, enum: [A, B] }, active: { type: boolean }, done: { type: boolean }";
    let parameters = "    parameters:\n      - { name: active, type: boolean }\n      - { name: done, type: boolean }\n";
    let ok = with(params, "", "").replace("    pushdown:", &format!("{parameters}    pushdown:"));
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
                    &format!("response: {{ objects: runs }}\n        pagination: {{ style: token, param: t, next: n, merge_arrays: [{path}] }}"),
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
        ("acme/provider.yaml".to_string(), PROFILE.to_string()),
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

#[test]
fn a_column_path_and_case_insensitive_are_checked() {
    let column = |c: &str| {
        MINIMAL.replace(
            "      - { name: state, ref: State }",
            &format!("      - {{ name: state, ref: State }}\n{c}"),
        )
    };
    let ok = column("      - { name: code, type: string, path: state.code }");
    let set = load(&ok).expect("valid");
    let runs = &set.resources[0];
    let code = &runs.columns[runs.column_index("code").expect("code")];
    assert_eq!(
        code.path,
        Some(vec!["state".to_string(), "code".to_string()])
    );
    // Any type may sit at a path: a json value, a struct, a map.
    for any in [
        "      - { name: code, type: json, path: state.code }",
        "      - { name: code, type: map, values: { type: string }, path: state.code }",
        "      - { name: code, type: object, fields: [ { name: a, type: integer } ], path: state.code }",
    ] {
        load(&column(any)).expect(any);
    }
    for (bad, says) in [
        (
            "      - { name: code, type: map, path: state.code }",
            "a `map` needs `values`",
        ),
        (
            "      - { name: code, type: map, items: { type: string }, values: { type: string }, path: state.code }",
            "`values` to maps",
        ),
        (
            "      - { name: code, type: string, path: code }",
            "two or more field names",
        ),
        (
            "      - { name: code, type: string, path: state..x }",
            "two or more field names",
        ),
    ] {
        let e = load(&column(bad)).unwrap_err().to_string();
        assert!(
            e.contains("columns[3] (code)") && e.contains(says),
            "{e}"
        );
    }
    let rule = MINIMAL.replace(
        "{ column: job_id, param: job_id, ops: [eq, in] }",
        "{ column: job_id, param: job_id, ops: [eq, in], case_insensitive: true }",
    );
    let e = load(&rule).unwrap_err().to_string();
    assert!(e.contains("`case_insensitive` is for a data column"), "{e}");
}

#[test]
fn a_profile_is_checked_and_a_service_needs_one() {
    for (bad, place, message) in [
        (
            PROFILE.replace("{deployment_name}.example", "{region}.example"),
            "server.url",
            "`{region}` is not a setting",
        ),
        (
            PROFILE.replace("needs: [token]", "needs: [tokn]"),
            "sign_in.methods[0] (pat)",
            "needs `tokn`",
        ),
        (
            PROFILE.replace("token: \"{token}\"", "token: \"{secret}\""),
            "sign_in.methods[0] (pat).token",
            "`{secret}` is not a setting",
        ),
        (
            PROFILE.replace("secret: true", "secret: true, default: x"),
            "sign_in.settings.token",
            "a secret cannot have a default",
        ),
        (
            PROFILE.replace(
                "{ bearer: { token: \"{token}\" } }",
                "{ header: { name: \"X Key\", value: \"{token}\" } }",
            ),
            "sign_in.methods[0] (pat)",
            "is not a header name",
        ),
    ] {
        let e = load_sources([
            ("acme/provider.yaml".to_string(), bad),
            ("acme.yaml".to_string(), MINIMAL.to_string()),
        ])
        .expect_err(message)
        .to_string();
        assert!(
            e.contains("acme/provider.yaml") && e.contains(place) && e.contains(message),
            "{e}"
        );
    }
    let e = load_sources([("acme.yaml".to_string(), MINIMAL.to_string())])
        .expect_err("no profile")
        .to_string();
    assert!(e.contains("provider `acme` has no profile"), "{e}");
    let text = include_str!("../../../../../provider-spec/databricks_workspace/jobs.yaml");
    let set = load_sources([("jobs.yaml".to_string(), text.to_string())]).expect("built-in");
    assert_eq!(
        set.providers["databricks_workspace"].sign_in.methods[0].name,
        "pat"
    );
}
