//! Which endpoint (a Databricks workspace, a LakeSail account) a query talks to, and with
//! which credentials — resolved as the provider's profile (`provider-spec/<p>/provider.yaml`,
//! its `sign_in` block) says; for Databricks, the way the Databricks CLI and SDKs resolve them.
//!
//! A [`WorkspaceResolver`] holds the environment variables the profile names and the parsed
//! config file (`config_file.path`, or the file its `path_env` names) and turns a name (the
//! server variable, `deployment_name`, from WHERE) or its absence into a [`Workspace`]:
//!
//! * a name `x` → a workspace added with [`WorkspaceResolver::with_named`] (or the
//!   [`with_default`](WorkspaceResolver::with_default) one, when its name is `x`), else the
//!   environment's endpoint when its name is `x`, else the config file's profile `[x]`, else
//!   the server template (`https://x.cloud.databricks.com`) with the environment's
//!   credentials.
//! * no name → the [`with_default`](WorkspaceResolver::with_default) workspace (`--demo`), else
//!   the environment's endpoint (the `host` setting's variable, `DATABRICKS_HOST`, with the
//!   environment's credentials; a provider without a host setting whose template names no
//!   endpoint: the template filled from the environment and defaults), else the profile named
//!   by `profile_env` (`DATABRICKS_CONFIG_PROFILE`), else `default_profile` (`[DEFAULT]`).
//!
//! A setting's value comes from its environment variables (the first set one), a profile's key
//! (`key`, default the setting's name) or its `default`; inside a profile, the environment
//! fills only settings no method needs (a CLI's path, an authority), never the host,
//! `auth_type` or credentials. The method is the one `auth_type` names, else the first whose
//! `needs` are all set (not `explicit_only` ones); its templates are expanded into an [`Auth`]
//! the client applies. Hosts without a scheme get `https://`; `http://` is accepted only for
//! loopback hosts (the emulator). No secret appears in `Debug`, `Display` or error text; every
//! `secret: true` value of the environment and the config file is registered with
//! [`crate::redact`].
//!
//! A config file that other users can read earns a warning ([`WorkspaceResolver::warnings`]):
//! it holds tokens.
//!
//! A workspace's `name` (shown in the `deployment_name` column) resolves back to the same
//! workspace: it is the name when one was given, else the profile name, else the first DNS
//! label of the environment's host (`host:port` for loopback hosts).

mod auth;
mod error;
mod hosts;
mod ini;
mod perms;
mod providers;
mod resolver;
mod signin;

use std::fmt;
use std::sync::Arc;

use url::Url;

use crate::spec::{ErrorSpec, ProviderSpec};
use hosts::{is_loopback, parse_host};
use ini::{parse_ini, Profiles};

pub use auth::{Auth, ClientAuth, CommandAuth, OAuth2Auth, Secret};
pub use error::WorkspaceError;
pub use providers::Workspaces;
pub use resolver::WorkspaceResolver;

/// A workspace to call: its name (the `deployment_name` column), its URL and its credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct Workspace {
    /// The name shown in `deployment_name`; resolving it gives this workspace back.
    pub name: String,
    /// The base URL (`https://x.cloud.databricks.com`; a base path is kept).
    pub host: Url,
    auth: Arc<Auth>,
    /// The sign-in method's name (`pat`, `oauth-m2m`).
    method: Arc<str>,
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
        let mut ws = Self::with_auth(name, host, "pat", Auth::Bearer(Secret::new(token)));
        ws.scheme_assumed = !host_setting.contains("://");
        Ok(ws)
    }

    /// A workspace at `host` (scheme optional, `https://` assumed) signed in with `auth` by the
    /// method named `method`.
    pub fn with_credentials(
        name: &str,
        host: &str,
        method: &str,
        auth: Auth,
    ) -> Result<Self, WorkspaceError> {
        let url = parse_host(name, host)?;
        let mut ws = Self::with_auth(name, url, method, auth);
        ws.scheme_assumed = !host.contains("://");
        Ok(ws)
    }

    fn with_auth(name: &str, host: Url, method: &str, auth: Auth) -> Self {
        Workspace {
            name: name.to_string(),
            host,
            auth: Arc::new(auth),
            method: method.into(),
            scheme_assumed: false,
            errors: Arc::new(databricks_profile().errors.clone()),
        }
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

    /// The static bearer token (a personal access token) of a bearer workspace; empty for
    /// other methods (send it only as `Authorization: Bearer`).
    pub fn token(&self) -> &str {
        self.auth.bearer_token().unwrap_or_default()
    }

    /// The credentials, as the client applies them.
    pub fn auth(&self) -> &Auth {
        &self.auth
    }

    /// The sign-in method's name (`pat`, `oauth-m2m`, ...).
    pub fn method(&self) -> &str {
        &self.method
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
            .field("method", &self.method)
            .field("auth", &self.auth)
            .finish()
    }
}

impl fmt::Display for Workspace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self.auth {
            Auth::Bearer(_) => write!(f, "{} ({}, token ***)", self.name, self.host),
            _ => write!(f, "{} ({}, {} ***)", self.name, self.host, self.method),
        }
    }
}
