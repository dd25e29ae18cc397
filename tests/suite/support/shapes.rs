//! Made-up providers for the response-shape tests (`tests/suite/shapes/`): a spec from YAML only,
//! loaded with `load_sources`, and a session whose one workspace is a stub; the stub's requests
//! as path-and-query strings, and their query parameters.

use std::collections::BTreeMap;
use std::sync::Arc;

use std::collections::HashMap;

use datafusion::prelude::SessionContext;
use jobsql_core::provider::ApiRuntime;
use jobsql_core::session::new_context;
use jobsql_core::spec::{load_sources, SpecError, SpecSet};
use jobsql_core::workspace::WorkspaceResolver;

use super::client::fast;
use super::stub::Stub;

/// The made-up provider's profile (`acme/provider.yaml`): endpoints named by `workspace`,
/// a bearer token.
pub const ACME_PROFILE: &str = r#"
provider: acme
server: { url: "https://{workspace}.acme.test", variable: workspace }
sign_in:
  settings: { token: { env: ACME_TOKEN, secret: true } }
  methods: [ { name: token, needs: [token], scheme: { bearer: { token: "{token}" } } } ]
"#;

/// The service file `yaml` (as `acme/work.yaml`) with [`ACME_PROFILE`].
pub fn load_acme(yaml: &str) -> Result<SpecSet, SpecError> {
    load_sources([
        ("acme/provider.yaml".to_string(), ACME_PROFILE.to_string()),
        ("acme/work.yaml".to_string(), yaml.to_string()),
    ])
}

/// A session over the spec `yaml` whose default `acme` workspace is `stub`; `max_pages` sets
/// `--max-pages`.
pub fn session(yaml: &str, stub: &Stub, max_pages: Option<usize>) -> SessionContext {
    let specs = load_acme(yaml).unwrap_or_else(|e| panic!("the test spec loads: {e}"));
    let ws = stub.workspace("stub");
    let resolver = WorkspaceResolver::from_parts_for(
        specs.providers["acme"].clone(),
        HashMap::new(),
        None,
        None,
    )
    .with_default(ws.clone())
    .with_named(ws);
    let mut runtime = ApiRuntime::new(fast(1), resolver);
    if let Some(max) = max_pages {
        runtime = runtime.with_max_pages(max);
    }
    new_context(&specs, Arc::new(runtime)).expect("session")
}

/// The path and query of every request the stub saw, in order.
pub fn uris(stub: &Stub) -> Vec<String> {
    stub.seen().into_iter().map(|s| s.uri).collect()
}

/// The decoded query parameters of `uri`.
pub fn params(uri: &str) -> BTreeMap<String, String> {
    let query = uri.split_once('?').map_or("", |(_, q)| q);
    url::form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// `{"runId": i}` for each of `ids`, joined as JSON array items.
pub fn run_items(ids: impl IntoIterator<Item = i64>) -> String {
    ids.into_iter()
        .map(|i| format!(r#"{{"runId": {i}}}"#))
        .collect::<Vec<_>>()
        .join(",")
}

/// The service of the pagination tests: runs (`runId` → `run_id`) listed at `/api/v1/runs`,
/// the objects at `objects`, paged as `pagination` says.
pub fn runs_spec(objects: &str, pagination: &str) -> String {
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
        response: {{ objects: "{objects}" }}
        pagination: {pagination}
    select: [list]
    columns:
      - {{ name: run_id, type: integer, field: runId }}
"#
    )
}

/// The `run_id`s of a result's first column.
pub fn ids(batches: &[datafusion::arrow::record_batch::RecordBatch]) -> Vec<i64> {
    super::batches::ints(batches, 0)
        .into_iter()
        .flatten()
        .collect()
}
