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

/// What a listed object needs to be fetched whole: the method's parameters, and the listing's
/// "more not shown" flags that then no longer hold.
struct Refetch {
    params: BTreeMap<String, String>,
    flags: Vec<String>,
}

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
    /// The JSON field of each column the rules name (`when`, `params`), when not the column's
    /// name (a column's `field:`).
    pub fields: BTreeMap<String, String>,
}

impl Completion {
    /// How to fetch `object` whole, or `None` when no rule asks for it.
    fn refetch(&self, object: &RawValue) -> Option<Refetch> {
        let fields: HashMap<Cow<str>, &RawValue> =
            serde_json::from_str(object.get()).unwrap_or_default();
        let mut refetch: Option<Refetch> = None;
        let json = |column: &str| -> String {
            self.fields
                .get(column)
                .cloned()
                .unwrap_or_else(|| column.to_string())
        };
        for rule in &self.rules {
            let applies = match &rule.when {
                None => true,
                Some(flag) => fields.get(json(flag).as_str()).map(|v| v.get()) == Some("true"),
            };
            if !applies {
                continue;
            }
            let refetch = refetch.get_or_insert_with(|| Refetch {
                params: BTreeMap::new(),
                flags: Vec::new(),
            });
            refetch.flags.extend(rule.when.iter().cloned());
            let params = &mut refetch.params;
            for (param, column) in &rule.params {
                if let Some(v) = fields.get(json(column).as_str()) {
                    let text = serde_json::from_str::<String>(v.get())
                        .unwrap_or_else(|_| v.get().to_string());
                    params.insert(param.clone(), text);
                }
            }
            params.extend(rule.set.iter().map(|(k, v)| (k.clone(), v.clone())));
        }
        refetch
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
    let (objects, marks) = fetch.decoder.split(body)?;
    // The futures are built up front (not in a `map` closure over references), which keeps
    // the page's stream `Send` for DataFusion.
    let fetches: Vec<_> = objects
        .iter()
        .map(|object| {
            let refetch = completion.refetch(object);
            complete_one(fetch, &completion.method, workspace, refetch)
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
    let (batch, per_object) = fetch.decoder.decode_counted(&objects, params)?;
    Ok(Page {
        batch,
        marks,
        objects: objects.len(),
        per_object,
    })
}

/// One object fetched whole, when `refetch` says it should be.
async fn complete_one(
    fetch: &Fetch,
    method: &MethodSpec,
    workspace: &Workspace,
    refetch: Option<Refetch>,
) -> Result<Option<Box<RawValue>>, ProviderError> {
    let Some(r) = refetch else {
        return Ok(None);
    };
    let flags: Vec<&str> = r.flags.iter().map(String::as_str).collect();
    fetch_whole(fetch, method, workspace, &r.params, &flags, true).await
}
