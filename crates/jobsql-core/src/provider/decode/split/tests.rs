//! Unit tests of the page splitter: odd shapes, each answered as the step-by-step functions of
//! `shape.rs` answer it.

use serde_json::value::RawValue;

use super::super::shape::{self, Objects};
use super::Layout;
use crate::request::PageMarks;

fn path(p: &str) -> Vec<String> {
    crate::spec::split_path(p)
}

type Split = Result<(Vec<String>, Option<String>, Option<u64>), String>;

fn texts(objects: Vec<&RawValue>, marks: PageMarks) -> (Vec<String>, Option<String>, Option<u64>) {
    let objects = objects.iter().map(|o| o.get().to_string()).collect();
    (objects, marks.next, marks.total)
}

/// The one pass.
fn split(body: &str, objects: &str, next: Option<&str>, total: Option<&str>) -> Split {
    let (next, total) = (next.map(path), total.map(path));
    let layout = Layout::new(&path(objects), next.as_deref(), total.as_deref())
        .expect("the paths form a tree");
    let (objects, marks) = layout.split(body.as_bytes())?;
    Ok(texts(objects, marks))
}

/// The step-by-step functions the pass replaces, on the same body.
fn steps(body: &str, objects: &str, next: Option<&str>, total: Option<&str>) -> Split {
    let (next, total) = (next.map(path), total.map(path));
    let raw: &RawValue = serde_json::from_str(body).map_err(|e| format!("not JSON: {e}"))?;
    let marks = shape::marks(raw, next.as_deref(), total.as_deref())?;
    let objects = shape::objects(raw, &Objects::At(path(objects)))?;
    Ok(texts(objects, marks))
}

/// The pass's answer, checked to be the steps' when both succeed (messages may differ in
/// serde_json's position, which the pass counts from the body's start).
fn both(body: &str, objects: &str, next: Option<&str>, total: Option<&str>) -> Split {
    let one = split(body, objects, next, total);
    let old = steps(body, objects, next, total);
    match (&one, &old) {
        (Ok(a), Ok(b)) => assert_eq!(a, b, "{body}"),
        (Err(a), Err(b)) => {
            let head = |m: &str| m.split(" at line ").next().unwrap_or(m).to_string();
            let prefix = |m: &str| m.split(':').next().unwrap_or(m).to_string();
            assert_eq!(prefix(a), prefix(b), "{body}: {a} | {b}");
            if !a.starts_with("not JSON") {
                assert_eq!(head(a), head(b), "{body}");
            }
        }
        _ => panic!("{body}: the pass gives {one:?}, the steps {old:?}"),
    }
    one
}

fn strings(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

#[test]
fn objects_and_next_token_before_or_after_the_array() {
    let after =
        r#"{"runs": [{"a": 1}, {"a": [2, {"b": 3}]}], "next_page_token": "t2", "has_more": true}"#;
    let before = r#"{"next_page_token": "t2", "x": {"y": [1, 2]}, "runs": [{"a": 1}, {"a": [2, {"b": 3}]}]}"#;
    for body in [after, before] {
        let (objects, next, total) = both(body, "runs", Some("next_page_token"), None).unwrap();
        assert_eq!(
            objects,
            strings(&[r#"{"a": 1}"#, r#"{"a": [2, {"b": 3}]}"#])
        );
        assert_eq!(next.as_deref(), Some("t2"));
        assert_eq!(total, None);
    }
    let last = both(
        r#"{"runs": [{"a": 1}], "next_page_token": ""}"#,
        "runs",
        Some("next_page_token"),
        None,
    );
    assert_eq!(last.unwrap().1, None, "an empty token is no next page");
}

#[test]
fn objects_and_marks_at_nested_paths() {
    let body = r#"{"meta": {"paging": {"next": "m2"}, "total": 7}, "data": {"x": null, "items": [{"id": 1}, {"id": 2}, {"id": 3}]}}"#;
    let (objects, next, total) = both(
        body,
        "data.items",
        Some("meta.paging.next"),
        Some("meta.total"),
    )
    .unwrap();
    assert_eq!(objects.len(), 3);
    assert_eq!(next.as_deref(), Some("m2"));
    assert_eq!(total, Some(7));
}

#[test]
fn the_body_as_a_bare_array() {
    let (objects, _, _) = both(r#" [ {"a": 1} , {"a": 2} ] "#, ".", None, None).unwrap();
    assert_eq!(objects, strings(&[r#"{"a": 1}"#, r#"{"a": 2}"#]));
    assert_eq!(both("[]", ".", None, None).unwrap().0.len(), 0);
    assert_eq!(both("null", ".", None, None).unwrap().0.len(), 0);
    let e = both(r#"{"a": 1}"#, ".", None, None).unwrap_err();
    assert!(
        e.starts_with("the body is not an array of objects: invalid type: map"),
        "{e}"
    );
}

#[test]
fn missing_or_null_arrays_and_fields_on_the_way_are_no_objects() {
    for body in [
        r#"{"has_more": false}"#,
        r#"{"runs": null}"#,
        r#"{}"#,
        r#"{"data": null}"#,
        r#"{"data": {"other": [1]}}"#,
    ] {
        let at = if body.contains("data") {
            "data.items"
        } else {
            "runs"
        };
        let (objects, next, _) = both(body, at, Some("next_page_token"), None).unwrap();
        assert!(objects.is_empty(), "{body}");
        assert_eq!(next, None);
    }
}

#[test]
fn escaped_strings_with_brackets_and_quotes_stay_whole() {
    let body = r#"{"runs": [{"name": "a \"[{\" b", "x": "]}"}, {"name": "\\", "y": "\u005b"}], "next_page_token": "t\"]}", "r\u0075ns_": 1}"#;
    let (objects, next, _) = both(body, "runs", Some("next_page_token"), None).unwrap();
    assert_eq!(
        objects,
        strings(&[
            r#"{"name": "a \"[{\" b", "x": "]}"}"#,
            r#"{"name": "\\", "y": "\u005b"}"#
        ])
    );
    assert_eq!(next.as_deref(), Some("t\"]}"));
    // A key written with an escape is the same key.
    let escaped = r#"{"r\u0075ns": [{"a": 1}], "n\u0065xt": "t2"}"#;
    let (objects, next, _) = both(escaped, "runs", Some("next"), None).unwrap();
    assert_eq!((objects.len(), next.as_deref()), (1, Some("t2")));
}

#[test]
fn a_key_given_twice_keeps_its_last_value() {
    let body = r#"{"meta": {"next": "a"}, "runs": [{"a": 1}], "meta": {"total": 3}, "runs": [{"a": 2}, {"a": 3}]}"#;
    let (objects, next, total) = both(body, "runs", Some("meta.next"), Some("meta.total")).unwrap();
    assert_eq!(objects.len(), 2);
    assert_eq!((next, total), (None, Some(3)));
}

#[test]
fn wrong_kinds_are_named_by_their_path() {
    let cases = [
        (
            r#"{"runs": {"a": 1}}"#,
            "`runs` is not an array of objects: invalid type: map",
        ),
        (
            r#"{"data": 5}"#,
            "`data` is not a JSON object: invalid type: integer `5`",
        ),
        (
            r#"[1]"#,
            "the body is not a JSON object: invalid type: sequence",
        ),
        (
            r#"{"runs": [], "next_page_token": 7}"#,
            "`next_page_token` is not a string",
        ),
        (
            r#"{"runs": [], "total": "7"}"#,
            "`total` is not a count of objects",
        ),
        (
            r#"{"runs": [], "total": -1}"#,
            "`total` is not a count of objects",
        ),
    ];
    for (body, want) in cases {
        let at = if body.contains("data") {
            "data.items"
        } else {
            "runs"
        };
        let e = both(body, at, Some("next_page_token"), Some("total")).unwrap_err();
        assert!(e.starts_with(want), "{body}: {e}");
    }
}

#[test]
fn bodies_that_are_not_json_say_so() {
    for body in [
        r#"{"runs": [{"a": 1}"#,
        r#"{"runs": [{"a": 1},]}"#,
        r#"{"runs": [], "x": tru}"#,
        r#"{"runs": []} trailing"#,
        r#"{"runs": [{"a": "unterminated}]}"#,
        "",
    ] {
        let e = both(body, "runs", Some("next_page_token"), None).unwrap_err();
        assert!(e.starts_with("not JSON: "), "{body}: {e}");
    }
}

#[test]
fn deep_nesting_is_refused_before_the_split_and_never_overflows_it() {
    // The client refuses a body deeper than MAX_DEPTH before anything decodes it; the splitter
    // itself never recurses into the data (only along the layout's paths), so even a body that
    // got past would not overflow its stack.
    let depth = crate::client::body::MAX_DEPTH + 1;
    let deep = format!(
        r#"{{"runs": [{{"a": {}{}}}], "next_page_token": "t"}}"#,
        "[".repeat(depth),
        "]".repeat(depth)
    );
    assert!(crate::client::body::check_success_body(deep.as_bytes()).is_some());
    let hostile = format!(
        r#"{{"runs": [{{"a": {}{}}}]}}"#,
        "[".repeat(100_000),
        "]".repeat(100_000)
    );
    let (objects, _, _) = split(&hostile, "runs", None, None).unwrap();
    assert_eq!(objects.len(), 1);
    let ok = format!(
        r#"{{"runs": [{{"a": {}{}}}]}}"#,
        "[".repeat(100),
        "]".repeat(100)
    );
    assert!(crate::client::body::check_success_body(ok.as_bytes()).is_none());
}

#[test]
fn paths_that_are_not_a_tree_are_left_to_the_steps() {
    let p = |s: &str| path(s);
    assert!(Layout::new(&p("runs"), Some(&p("runs")), None).is_none());
    assert!(Layout::new(&p("meta"), Some(&p("meta.next")), None).is_none());
    assert!(Layout::new(&p("data.items"), Some(&p("data")), None).is_none());
    assert!(Layout::new(&p("."), Some(&p("next")), None).is_none());
    assert!(Layout::new(&p("data.items"), Some(&p("data.next")), Some(&p("total"))).is_some());
}

#[test]
fn picking_keeps_the_named_fields_of_each_object_in_order() {
    let body = r#"{"runs": [{"a": 1, "b": {"c": "]"}, "z": [1]}, {}, {"b": null, "a": 2, "a": 3}], "next_page_token": "t"}"#;
    let layout = Layout::new(&path("runs"), Some(&path("next_page_token")), None).unwrap();
    let names = strings(&["a", "b"]);
    let (picked, marks) = layout.pick(body.as_bytes(), &names).unwrap();
    assert_eq!(picked.objects, 3);
    let values: Vec<(usize, usize, &str)> = picked
        .values
        .iter()
        .map(|(o, n, v)| (*o, *n, v.get()))
        .collect();
    assert_eq!(
        values,
        vec![
            (0, 0, "1"),
            (0, 1, r#"{"c": "]"}"#),
            (2, 1, "null"),
            (2, 0, "2"),
            (2, 0, "3")
        ]
    );
    assert_eq!(marks.next.as_deref(), Some("t"));
    for (body, objects) in [
        (r#"{"runs": null}"#, 0),
        (r#"{"x": 1}"#, 0),
        (r#"{"runs": []}"#, 0),
    ] {
        assert_eq!(
            layout.pick(body.as_bytes(), &names).unwrap().0.objects,
            objects
        );
    }
    // An element that is not an object: the fast way gives up (the whole way names it).
    assert!(layout.pick(br#"{"runs": [1]}"#, &names).is_err());
    assert!(layout.pick(br#"{"runs": [{"a": 1}"#, &names).is_err());
}
