//! The loader's errors for badly shaped specs: each names the file and the place, and says
//! what is wrong — pagination keys that are not the style's, slicing or newest-first reads
//! over a style that cannot resume from a cursor, bad paths, encodings and field renames.

use super::common::load_acme;
/// A listing whose method gets `extra` (YAML lines at its indentation) and whose resource's
/// columns and pushdown get `columns` and `pushdown`.
fn spec(extra: &str, columns: &str, pushdown: &str) -> String {
    format!(
        r#"
provider: acme
service: work
resources:
  runs:
    methods:
      list:
        verb: GET
        path: /api/v1/runs
        params:
          from: {{ type: integer }}
          to: {{ type: integer }}
{extra}
    select: [list]
    columns:
      - {{ name: run_id, type: integer, field: runId }}
      - {{ name: created, type: timestamp_ms }}
{columns}
    pushdown:
      - {{ column: created, ops: [range], lower: from, upper: to }}
{pushdown}
"#
    )
}

fn paged(pagination: &str) -> String {
    spec(
        &format!("        response: {{ objects: items }}\n        pagination: {pagination}"),
        "",
        "",
    )
}

fn load_error(text: &str) -> String {
    match load_acme(text) {
        Ok(_) => panic!("expected an error from:\n{text}"),
        Err(e) => e.to_string(),
    }
}

#[test]
fn every_style_loads_with_its_own_keys() {
    for pagination in [
        "{ style: token, param: page_token, next: meta.next }",
        "{ style: marker, param: marker, next: marker, page_size: { param: limit, max: 100 } }",
        "{ style: offset, param: offset, total: total, short_page_ends: true, page_size: { param: limit, max: 5 } }",
        "{ style: page, param: page, first_page: 0 }",
        "{ style: next_url, next: links.next }",
        "{ style: link }",
    ] {
        if let Err(e) = load_acme(&paged(pagination)) {
            panic!("{pagination}: {e}");
        }
    }
}

#[test]
fn pagination_keys_that_are_not_the_styles_are_named_with_their_place() {
    let place = "resources.runs.methods.list.pagination";
    let cases = [
        (
            "{ style: token, next: n }",
            "pagination.param",
            "style `token` needs a `param`",
        ),
        (
            "{ style: link, param: p }",
            "pagination.param",
            "style `link` follows a URL: it has no `param`",
        ),
        (
            "{ style: marker, param: m }",
            "pagination.next",
            "style `marker` needs `next`",
        ),
        (
            "{ style: offset, param: o, next: n }",
            "pagination.next",
            "style `offset` has no `next`",
        ),
        (
            "{ style: next_url, next: \"a..b\" }",
            "pagination.next",
            "`a..b` is not a dotted path",
        ),
        (
            "{ style: token, param: t, next: n, total: total }",
            "pagination.total",
            "style `token` has no `total`",
        ),
        (
            "{ style: offset, param: o, first_page: 1 }",
            "pagination.first_page",
            "style `offset` has no `first_page`",
        ),
        (
            "{ style: marker, param: m, next: m, short_page_ends: true }",
            "pagination.short_page_ends",
            "`short_page_ends` is for offset and page",
        ),
        (
            "{ style: page, param: p, short_page_ends: true }",
            "pagination.short_page_ends",
            "needs `page_size`",
        ),
        (
            "{ style: page, param: limit, page_size: { param: limit, max: 5 } }",
            "pagination.page_size.param",
            "`limit` is also the paging `param`",
        ),
        (
            "{ style: offset, param: from }",
            "pagination.param",
            "`from` is also a parameter of the method",
        ),
        (
            "{ style: page, param: p, page_size: { param: n, max: 0 } }",
            "pagination.page_size.max",
            "must be at least 1",
        ),
    ];
    for (pagination, at, says) in cases {
        let e = load_error(&paged(pagination));
        assert!(
            e.contains("acme/work.yaml") && e.contains(place) && e.contains(at) && e.contains(says),
            "{pagination}: {e}"
        );
    }
    // serde's own: an unknown style or key, with the file and line.
    for (pagination, says) in [
        ("{ style: cursor, param: c }", "unknown variant `cursor`"),
        ("{ style: marker, param: m, nxt: m }", "unknown field `nxt`"),
    ] {
        let e = load_error(&paged(pagination));
        assert!(
            e.contains("acme/work.yaml") && e.contains(says) && e.contains("line"),
            "{e}"
        );
    }
}

#[test]
fn slicing_newest_first_and_merged_pages_need_a_cursor_style() {
    for (extra, at) in [
        (
            "        parallel: { column: created, window_days: 7 }",
            "methods.list.parallel",
        ),
        (
            "        order: { column: created, direction: desc }",
            "methods.list.order",
        ),
    ] {
        for style in ["{ style: offset, param: o }", "{ style: link }"] {
            let text = spec(
                &format!(
                    "        response: {{ objects: items }}\n        pagination: {style}\n{extra}"
                ),
                "",
                "",
            );
            let e = load_error(&text);
            assert!(
                e.contains(at) && e.contains("resumable from a cursor"),
                "{style} {extra}: {e}"
            );
        }
        let cursor = spec(
            &format!("        response: {{ objects: items }}\n        pagination: {{ style: marker, param: m, next: m }}\n{extra}"),
            "",
            "",
        );
        load_acme(&cursor).expect("a marker listing slices");
    }
    let merged = spec(
        "        pagination: { style: page, param: p, merge_arrays: [tags] }",
        "      - { name: tags, type: array, items: { type: string } }",
        "",
    );
    let e = load_error(&merged);
    assert!(
        e.contains("pagination.merge_arrays") && e.contains("not `page`"),
        "{e}"
    );
}

#[test]
fn objects_paths_encodings_and_fields_are_checked() {
    let cases = [
        (
            spec("        response: { objects: \"data..items\" }", "", ""),
            "methods.list.response.objects",
            "is not a dotted path",
        ),
        (
            spec(
                "",
                "      - { name: n, type: integer }",
                "      - { column: n, ops: [range], lower: from, encoding: rfc3339 }",
            ),
            "pushdown[1] (n).encoding",
            "for a `range` rule on a timestamp column",
        ),
        (
            spec(
                "        parallel: { column: created, window_days: 7 }",
                "",
                "",
            )
            .replace(
                "lower: from, upper: to }",
                "lower: from, upper: to, encoding: epoch_s }",
            ),
            "pushdown[0] (created).encoding",
            "slices `created` in epoch milliseconds",
        ),
        (
            spec(
                "",
                "      - { name: name, type: string, field: x, path: a.b }",
                "",
            ),
            "columns[2] (name).field",
            "either `field` or `path`",
        ),
        (
            spec(
                "",
                "      - { name: other, type: string, field: runId }",
                "",
            ),
            "columns[2] (other).field",
            "the field `runId` is already read by column `run_id`",
        ),
        (
            spec("", "      - { name: a, type: string, field: \"x.y\" }", ""),
            "columns[2] (a).field",
            "one JSON field name",
        ),
        (
            spec(
                "        response: { objects: \".\" }\n        pagination: { style: next_url, next: next }",
                "",
                "",
            ),
            "pagination.next",
            "the body is the array of objects",
        ),
        (
            spec(
                "",
                "      - { name: st, type: object, fields: [ { name: code, type: string, field: stCode } ] }",
                "",
            ),
            "columns[2] (st).fields[0] (code)",
            "`field`, `path` and `which` are for top-level columns",
        ),
        (
            spec("", "      - { name: when, type: timestamp_sec }", ""),
            "columns[2] (when)",
            "unknown type `timestamp_sec`",
        ),
    ];
    for (text, at, says) in cases {
        let e = load_error(&text);
        assert!(
            e.contains("acme/work.yaml") && e.contains(at) && e.contains(says),
            "{says}: {e}"
        );
    }
}
