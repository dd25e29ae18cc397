//! Completing listed objects: a listing page whose objects are truncated (runs/list cuts `tasks`
//! at 100 and sets `has_more`) or lack a field (runs/list has no `repair_history`) gets those
//! objects fetched whole with another method (runs/get), per the method's `complete:` rules.
//!
//! An object matching several rules is fetched once, with the parameters of all of them. The
//! fetches of one page run concurrently, at most [`CONCURRENT_COMPLETIONS`] at once, and the
//! page keeps its order. An object gone by the time it is fetched keeps its listed form.

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};

use futures::{StreamExt, TryStreamExt};
use serde_json::value::RawValue;

use crate::spec::{CompleteSpec, MethodSpec};
use crate::workspace::Workspace;

use super::super::decode::Page;
use super::super::ProviderError;
use super::{fetch_whole, Fetch};

/// Objects of one page fetched at once, at most.
pub const CONCURRENT_COMPLETIONS: usize = 8;

/// The completion rules that apply to a scan (those whose columns it reads), and the method
/// that fetches an object whole.
#[derive(Debug, Clone)]
pub struct Completion {
    /// The rules, in spec order.
    pub rules: Vec<CompleteSpec>,
    /// The method they name.
    pub method: MethodSpec,
}

impl Completion {
    /// The parameters to fetch `object` whole with, or `None` when no rule asks for it.
    fn params_for(&self, object: &RawValue) -> Option<BTreeMap<String, String>> {
        let fields: HashMap<Cow<str>, &RawValue> =
            serde_json::from_str(object.get()).unwrap_or_default();
        let mut params: Option<BTreeMap<String, String>> = None;
        for rule in &self.rules {
            let applies = match &rule.when {
                None => true,
                Some(flag) => fields.get(flag.as_str()).map(|v| v.get()) == Some("true"),
            };
            if !applies {
                continue;
            }
            let params = params.get_or_insert_with(BTreeMap::new);
            for (param, field) in &rule.params {
                if let Some(v) = fields.get(field.as_str()) {
                    let text = serde_json::from_str::<String>(v.get())
                        .unwrap_or_else(|_| v.get().to_string());
                    params.insert(param.clone(), text);
                }
            }
            params.extend(rule.set.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        params
    }
}

/// Decode a listing page, first fetching whole every object a completion rule names.
pub(super) async fn decode_completing(
    fetch: &Fetch,
    workspace: &Workspace,
    body: &[u8],
    params: &BTreeMap<String, String>,
) -> Result<Page, ProviderError> {
    let Some(completion) = &fetch.complete else {
        return fetch.decoder.decode(body, params);
    };
    let (objects, next_token) = fetch.decoder.split(body)?;
    // The futures are built up front (not in a `map` closure over references), which keeps
    // the page's stream `Send` for DataFusion.
    let fetches: Vec<_> = objects
        .iter()
        .map(|object| {
            let params = completion.params_for(object);
            complete_one(fetch, &completion.method, workspace, params)
        })
        .collect();
    let whole: Vec<Option<Box<RawValue>>> = futures::stream::iter(fetches)
        .buffered(CONCURRENT_COMPLETIONS)
        .try_collect()
        .await?;
    let objects: Vec<&RawValue> = objects
        .iter()
        .zip(&whole)
        .map(|(listed, whole)| whole.as_deref().unwrap_or(listed))
        .collect();
    let batch = fetch.decoder.decode_objects(&objects, params)?;
    Ok(Page { batch, next_token })
}

/// One object fetched whole, when `params` says it should be.
async fn complete_one(
    fetch: &Fetch,
    method: &MethodSpec,
    workspace: &Workspace,
    params: Option<BTreeMap<String, String>>,
) -> Result<Option<Box<RawValue>>, ProviderError> {
    match params {
        Some(p) => fetch_whole(fetch, method, workspace, &p).await,
        None => Ok(None),
    }
}
