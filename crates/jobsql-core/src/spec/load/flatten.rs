//! Checks of `response.flatten:` (rows that are the elements of an array in each object, with
//! columns of that object): the array is one field name, the parent columns are data columns
//! named once, and every select method of a resource flattens alike — the parent columns'
//! `field:` / `path:` are relative to the object, so a method that returned the elements
//! themselves would read them from the wrong place.

use std::collections::BTreeSet;

use super::super::error::Finding;
use super::super::model::{FlattenSpec, MethodSpec, ResourceSpec};
use super::super::resource::Column;

/// The names of the columns some method of `spec` reads from the object rather than from
/// the array's element (for the `field:` check: a parent column may read the same JSON name
/// as an element's column, `job_run_id` ← the run's `run_id` beside the task's `run_id`).
pub(super) fn parent_columns(spec: &ResourceSpec) -> BTreeSet<String> {
    spec.methods
        .values()
        .filter_map(|m| m.response.flatten.as_ref())
        .flat_map(|f| f.parent.iter().cloned())
        .collect()
}

/// The array every row of the resource is an element of, when its select methods flatten.
pub(super) fn flattened_array(spec: &ResourceSpec) -> Option<&str> {
    spec.select
        .iter()
        .filter_map(|m| spec.methods.get(m))
        .find_map(|m| m.response.flatten.as_ref())
        .map(|f| f.array.as_str())
}

/// One method's `flatten:`, at `place` (`resources.x.methods.list`).
pub(super) fn check_method(
    place: &str,
    method: &MethodSpec,
    spec: &ResourceSpec,
    columns: &[Column],
) -> Result<(), Finding> {
    let Some(flatten) = &method.response.flatten else {
        return Ok(());
    };
    let at = format!("{place}.response.flatten");
    if flatten.array.is_empty() || flatten.array.contains('.') {
        return Err(Finding::new(
            format!("{at}.array"),
            format!("`{}` is not one JSON field name", flatten.array),
        ));
    }
    if method.response.objects.as_deref() == Some(flatten.array.as_str()) {
        return Err(Finding::new(
            format!("{at}.array"),
            "names the objects themselves: `objects:` already makes each element a row",
        ));
    }
    for (i, name) in flatten.parent.iter().enumerate() {
        let place = format!("{at}.parent[{i}]");
        match columns.iter().find(|c| &c.name == name) {
            None => {
                return Err(Finding::new(place, format!("unknown column `{name}`")));
            }
            Some(c) if c.is_parameter => {
                return Err(Finding::new(
                    place,
                    format!("`{name}` is a parameter column: it holds the request's value"),
                ));
            }
            Some(_) if flatten.parent[..i].contains(name) => {
                return Err(Finding::new(place, format!("`{name}` is listed twice")));
            }
            Some(_) => {}
        }
    }
    check_alike(&at, flatten, spec)
}

/// Every select method flattens as `flatten` does.
fn check_alike(at: &str, flatten: &FlattenSpec, spec: &ResourceSpec) -> Result<(), Finding> {
    for name in &spec.select {
        let Some(other) = spec.methods.get(name) else {
            continue;
        };
        if other.response.flatten.as_ref() != Some(flatten) {
            return Err(Finding::new(
                at.to_string(),
                format!(
                    "select method `{name}` does not flatten the same way: every select method \
                     of a flattened resource needs the same `flatten:` (a YAML anchor can share it)"
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::spec::{load_sources, SpecError, SpecSet};

    const PROFILE: &str = r#"
provider: acme
server: { url: "https://{deployment_name}.example.com", variable: deployment_name }
sign_in:
  settings: { token: { env: ACME_TOKEN, secret: true } }
  methods: [ { name: pat, needs: [token], scheme: { bearer: { token: "{token}" } } } ]
"#;

    /// Runs whose rows are their steps: `run_ref` is the run's `id`, beside the step's `id`.
    const STEPS: &str = r#"
provider: acme
service: jobs
resources:
  steps:
    methods:
      list:
        verb: GET
        path: /runs
        params: { job_id: { type: integer }, full: { type: boolean } }
        complete: { when: partial, method: get, params: { id: id }, when_reading: [steps] }
        response: { objects: runs, flatten: &steps { array: steps, parent: [job_id, run_ref] } }
      get:
        verb: GET
        path: /run
        params: { id: { type: integer, required: true } }
        response: { flatten: *steps }
    select: [list]
    columns:
      - { name: job_id, type: integer }
      - { name: run_ref, type: integer, field: id }
      - { name: id, type: integer }
      - { name: kind, type: string, which: [shell, sql] }
    expand:
      - { param: full, value: "true", when_reading: [steps] }
"#;

    fn load(text: &str) -> Result<SpecSet, SpecError> {
        load_sources([
            ("acme/provider.yaml".to_string(), PROFILE.to_string()),
            ("acme.yaml".to_string(), text.to_string()),
        ])
    }

    #[test]
    fn a_flattened_resource_loads_with_parent_fields_beside_the_element_s() {
        let set = load(STEPS).expect("valid");
        let r = &set.resources[0];
        let flatten = r.spec.methods["list"].response.flatten.as_ref();
        assert_eq!(flatten.map(|f| f.array.as_str()), Some("steps"));
        assert_eq!(r.columns[3].which, ["shell", "sql"]);
    }

    #[test]
    fn each_flatten_mistake_is_a_finding_naming_its_place() {
        let cases = [
            (STEPS.replace("array: steps,", "array: a.b,"), "flatten.array", "one JSON field name"),
            (STEPS.replace("array: steps,", "array: runs,").replace("[steps]", "[runs]"), "flatten.array", "the objects themselves"),
            (STEPS.replace("parent: [job_id, run_ref]", "parent: [job_id, run_ref, nope]"), "flatten.parent[2]", "unknown column `nope`"),
            (STEPS.replace("parent: [job_id, run_ref]", "parent: [job_id, run_ref, job_id]"), "flatten.parent[2]", "listed twice"),
            (STEPS.replace("parent: [job_id, run_ref]", "parent: [run_ref, deployment_name]"), "flatten.parent[1]", "parameter column"),
            (STEPS.replace("    select: [list]", "    select: [list, get]").replace("response: { flatten: *steps }", "response: {}"), "methods.list.response.flatten", "does not flatten the same way"),
            (STEPS.replace("when_reading: [steps] }\n        response", "when_reading: [nope] }\n        response"), "complete", "unknown column `nope`"),
            (STEPS.replace("{ name: run_ref, type: integer, field: id }", "{ name: run_ref, type: integer }\n      - { name: other, type: integer, field: id }"), "(id).field", "already read by column `other`"),
            (STEPS.replace("which: [shell, sql]", "which: [shell, shell]"), "(kind).which", "listed twice"),
            (STEPS.replace("{ name: kind, type: string, which", "{ name: kind, type: integer, which"), "(kind).which", "is a string"),
        ];
        for (text, place, message) in cases {
            let e = load(&text).expect_err(message).to_string();
            assert!(e.contains(place) && e.contains(message), "{message}: {e}");
        }
    }
}
