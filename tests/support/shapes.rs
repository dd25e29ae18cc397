//! Made-up providers for the response-shape tests (`tests/shapes/`): a spec from YAML only,
//! loaded with `load_sources`, and a session whose one workspace is a stub; the stub's requests
//! as path-and-query strings, and their query parameters.

use std::collections::BTreeMap;
use std::sync::Arc;

use datafusion::prelude::SessionContext;
use jobsql::session::new_context;
use jobsql::spec::load_sources;

use super::client::fast;
use super::session::runtime;
use super::stub::Stub;

/// A session over the spec `yaml` (file `acme.yaml`) whose default workspace is `stub`;
/// `max_pages` sets `--max-pages`.
pub fn session(yaml: &str, stub: &Stub, max_pages: Option<usize>) -> SessionContext {
    let specs = load_sources([("acme.yaml".to_string(), yaml.to_string())])
        .unwrap_or_else(|e| panic!("the test spec loads: {e}"));
    let mut runtime = runtime(fast(1), &[stub.workspace("stub")]);
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
