//! [`Workspaces`]: one [`WorkspaceResolver`] per provider, so that a table is only ever sent
//! its own provider's credentials. A provider without a resolver of its own gets one read
//! from the environment (its profile's variables and config file) the first time one of its
//! tables resolves an endpoint.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use crate::spec::ProviderSpec;

use super::{Workspace, WorkspaceError, WorkspaceResolver};

/// The resolvers of every provider, by provider name. Cheap to clone (the resolvers read from
/// the environment later are shared).
#[derive(Debug, Clone, Default)]
pub struct Workspaces {
    given: BTreeMap<String, WorkspaceResolver>,
    from_env: Arc<Mutex<BTreeMap<String, WorkspaceResolver>>>,
}

impl Workspaces {
    /// The resolvers given, one per provider (a later one replaces an earlier one of the same
    /// provider).
    pub fn new(resolvers: impl IntoIterator<Item = WorkspaceResolver>) -> Self {
        let mut out = Self::default();
        for r in resolvers {
            out = out.with(r);
        }
        out
    }

    /// The same, with `resolver` for its provider.
    pub fn with(mut self, resolver: WorkspaceResolver) -> Self {
        self.given.insert(resolver.provider().to_string(), resolver);
        self
    }

    /// The endpoint `name` (or the default one) of `profile`'s provider, with that provider's
    /// credentials only.
    pub fn resolve(
        &self,
        profile: &Arc<ProviderSpec>,
        name: Option<&str>,
    ) -> Result<Workspace, WorkspaceError> {
        if let Some(r) = self.given.get(&profile.provider) {
            return r.resolve(name);
        }
        let resolver = {
            let mut cache = self.from_env.lock().unwrap_or_else(|e| e.into_inner());
            cache
                .entry(profile.provider.clone())
                .or_insert_with(|| WorkspaceResolver::from_env_for(profile.clone()))
                .clone()
        };
        resolver.resolve(name)
    }
}
