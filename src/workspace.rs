//! Which Databricks workspace a query talks to, and with which token — resolved the way the
//! Databricks CLI and SDKs resolve them.
//!
//! A [`WorkspaceResolver`] holds the `DATABRICKS_*` environment and the parsed config file
//! (`~/.databrickscfg`, or the file named by `DATABRICKS_CONFIG_FILE`) and turns a
//! `deployment_name` (from WHERE) or its absence into a [`Workspace`]:
//!
//! * `deployment_name = 'x'` → a workspace added with [`WorkspaceResolver::with_named`] (or the
//!   [`with_default`](WorkspaceResolver::with_default) one, when its name is `x`), else the
//!   profile `[x]` of the config file, else the workspace of `DATABRICKS_HOST` when its name is
//!   `x`, else `https://x.cloud.databricks.com` with `DATABRICKS_TOKEN`.
//! * no `deployment_name` → the [`with_default`](WorkspaceResolver::with_default) workspace
//!   (`--demo`), else `DATABRICKS_HOST` + `DATABRICKS_TOKEN`, else the profile named by
//!   `DATABRICKS_CONFIG_PROFILE`, else `[DEFAULT]`.
//!
//! Only personal access tokens are supported (sent as `Authorization: Bearer`); a profile that
//! configures another kind of authentication is refused with a message saying so. Hosts without
//! a scheme get `https://`; `http://` is accepted only for loopback hosts (the emulator). The
//! token never appears in `Debug`, `Display` or error text.
//!
//! A config file that other users can read earns a warning ([`WorkspaceResolver::warnings`]):
//! it holds tokens.
//!
//! A workspace's `name` (shown in the `deployment_name` column) resolves back to the same
//! workspace: it is the deployment name when one was given, else the profile name, else the
//! first DNS label of `DATABRICKS_HOST` (`host:port` for loopback hosts).

#[path = "workspace/error.rs"]
mod error;
#[path = "workspace/hosts.rs"]
mod hosts;
#[path = "workspace/ini.rs"]
mod ini;
#[path = "workspace/perms.rs"]
mod perms;
#[path = "workspace/providers.rs"]
mod providers;
#[path = "workspace/resolver.rs"]
mod resolver;

use std::fmt;
use std::sync::Arc;

use url::Url;

use crate::spec::{ErrorSpec, ProviderSpec};
use hosts::{is_loopback, parse_host};
use ini::{parse_ini, Profiles};

pub use error::WorkspaceError;
pub use providers::Workspaces;
pub use resolver::WorkspaceResolver;

/// The environment variable naming the workspace URL.
pub const ENV_HOST: &str = "DATABRICKS_HOST";
/// The environment variable holding a personal access token.
pub const ENV_TOKEN: &str = "DATABRICKS_TOKEN";
/// The environment variable naming the config file.
pub const ENV_CONFIG_FILE: &str = "DATABRICKS_CONFIG_FILE";
/// The environment variable naming the profile to use by default.
pub const ENV_PROFILE: &str = "DATABRICKS_CONFIG_PROFILE";
/// The profile used when none is named.
pub const DEFAULT_PROFILE: &str = "DEFAULT";

/// Config-file keys of authentication methods other than personal access tokens.
const OTHER_AUTH_KEYS: &[&str] = &[
    "client_id",
    "client_secret",
    "azure_client_id",
    "azure_client_secret",
    "azure_tenant_id",
    "azure_use_msi",
    "google_service_account",
    "google_credentials",
    "username",
    "password",
    "metadata_service_url",
];

/// A secret that never prints.
#[derive(Clone, PartialEq, Eq)]
struct Secret(Arc<str>);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

/// A workspace to call: its name (the `deployment_name` column), its URL and its token.
#[derive(Clone, PartialEq, Eq)]
pub struct Workspace {
    /// The name shown in `deployment_name`; resolving it gives this workspace back.
    pub name: String,
    /// The base URL (`https://x.cloud.databricks.com`; a base path is kept).
    pub host: Url,
    token: Secret,
    /// Whether the host was given without a scheme (and `https://` assumed).
    scheme_assumed: bool,
    /// Where the provider's error bodies keep their code and message.
    errors: Arc<ErrorSpec>,
}

/// The built-in Databricks profile (`provider-spec/databricks_workspace/provider.yaml`).
pub fn databricks_profile() -> Arc<ProviderSpec> {
    static PROFILE: std::sync::OnceLock<Arc<ProviderSpec>> = std::sync::OnceLock::new();
    PROFILE
        .get_or_init(|| {
            let spec = crate::spec::builtin_profile(DATABRICKS)
                .ok()
                .flatten()
                .expect("the built-in Databricks profile loads (tested)");
            Arc::new(spec)
        })
        .clone()
}

/// The built-in Databricks provider's name.
pub const DATABRICKS: &str = "databricks_workspace";

impl Workspace {
    /// A Databricks workspace from its name, host (scheme optional, `https://` assumed) and
    /// personal access token.
    pub fn new(name: &str, host: &str, token: &str) -> Result<Self, WorkspaceError> {
        let host_setting = host;
        let host = parse_host(name, host)?;
        let token = token.trim();
        let invalid = |reason: &str| WorkspaceError::InvalidToken {
            workspace: name.to_string(),
            reason: reason.to_string(),
        };
        if token.is_empty() {
            return Err(invalid("the token is empty"));
        }
        if !token.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(invalid(
                "the token contains spaces or non-printable characters",
            ));
        }
        crate::redact::register(token);
        Ok(Workspace {
            name: name.to_string(),
            host,
            token: Secret(token.into()),
            scheme_assumed: !host_setting.contains("://"),
            errors: Arc::new(databricks_profile().errors.clone()),
        })
    }

    /// The same workspace, its errors read as `errors` says (its provider's profile).
    pub fn with_errors(mut self, errors: Arc<ErrorSpec>) -> Self {
        self.errors = errors;
        self
    }

    /// Where this workspace's error bodies keep their code and message.
    pub fn errors(&self) -> &ErrorSpec {
        &self.errors
    }

    /// The personal access token (send it only as `Authorization: Bearer`).
    pub fn token(&self) -> &str {
        &self.token.0
    }

    /// The base URL that API paths are appended to.
    pub fn base_url(&self) -> &Url {
        &self.host
    }

    /// For a failure to connect: when the host was given without a scheme, a note saying that
    /// `https://` was assumed (a plain-HTTP server, such as the emulator, then answers the TLS
    /// handshake with garbage), and what to write for plain HTTP on a loopback host.
    pub fn scheme_note(&self) -> Option<String> {
        if !self.scheme_assumed {
            return None;
        }
        let authority = &self.host[url::Position::BeforeHost..url::Position::AfterPort];
        let plain = if is_loopback(&self.host) {
            format!("; for a plain-HTTP server write http://{authority}")
        } else {
            String::new()
        };
        Some(format!(
            "the host '{authority}' has no scheme, so https:// was assumed{plain}"
        ))
    }
}

impl fmt::Debug for Workspace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Workspace")
            .field("name", &self.name)
            .field("host", &self.host.as_str())
            .field("token", &self.token)
            .finish()
    }
}

impl fmt::Display for Workspace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} ({}, token ***)", self.name, self.host)
    }
}
