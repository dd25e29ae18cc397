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

#[path = "workspace/ini.rs"]
mod ini;
#[path = "workspace/perms.rs"]
mod perms;

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use url::{Host, Url};

use ini::{parse_ini, Profiles};

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

/// Why no workspace could be resolved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkspaceError {
    /// Nothing configured for the default workspace.
    #[error("no workspace configured: set {ENV_HOST} and {ENV_TOKEN}, or add a [{profile}] profile with host and token to {config}")]
    NotConfigured {
        /// The profile that was looked for.
        profile: String,
        /// The config file, as shown to the user.
        config: String,
    },
    /// The profile named by `DATABRICKS_CONFIG_PROFILE` does not exist.
    #[error("profile [{profile}] (named by {ENV_PROFILE}) is not in {config}: add it with host and token, or unset {ENV_PROFILE}")]
    ProfileNotFound {
        /// The profile.
        profile: String,
        /// The config file.
        config: String,
    },
    /// `deployment_name = 'x'` but neither a profile `[x]` nor `DATABRICKS_TOKEN`.
    #[error("no credentials for deployment_name '{name}': add a [{name}] profile with host and token to {config}, or set {ENV_TOKEN} (used with https://{name}.cloud.databricks.com)")]
    DeploymentNotConfigured {
        /// The deployment name.
        name: String,
        /// The config file.
        config: String,
    },
    /// One half of a pair of settings is missing.
    #[error("{what}")]
    MissingSetting {
        /// What is missing and what to set.
        what: String,
    },
    /// A profile uses an authentication method other than personal access tokens.
    #[error("profile [{profile}] in {config} uses {method} authentication; jobsql supports only personal access tokens: add `token = <personal access token>` to the profile")]
    UnsupportedAuth {
        /// The profile.
        profile: String,
        /// The config file.
        config: String,
        /// The keys or `auth_type` that name the other method.
        method: String,
    },
    /// A deployment name that cannot be part of a host name.
    #[error("invalid deployment_name '{name}': use only letters, digits, '-', '_' and '.'")]
    InvalidDeploymentName {
        /// The name, as given.
        name: String,
    },
    /// A host that is not a usable workspace URL.
    #[error("invalid workspace host '{host}' for '{workspace}': {reason}")]
    InvalidHost {
        /// The workspace name.
        workspace: String,
        /// The host, as given.
        host: String,
        /// What is wrong.
        reason: String,
    },
    /// `http://` to a host that is not loopback.
    #[error("refusing http:// for workspace '{workspace}' ({host}): plain HTTP is allowed only for loopback hosts (127.0.0.1, localhost, [::1]); use https://")]
    InsecureHost {
        /// The workspace name.
        workspace: String,
        /// The host.
        host: String,
    },
    /// A token that cannot be sent in a header (it is never shown).
    #[error("invalid token for workspace '{workspace}': {reason}")]
    InvalidToken {
        /// The workspace name.
        workspace: String,
        /// What is wrong (never the token itself).
        reason: String,
    },
    /// The config file exists but could not be read or parsed.
    #[error("cannot use {config}: {message}")]
    Config {
        /// The config file.
        config: String,
        /// What is wrong.
        message: String,
    },
}

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
}

impl Workspace {
    /// A workspace from its name, host (scheme optional, `https://` assumed) and token.
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
        })
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

/// `host` as it may appear in a message: without the userinfo of its authority
/// (`https://user:secret@h/x` → `https://h/x`), whether or not it parses as a URL.
fn without_userinfo(host: &str) -> String {
    let start = host.find("://").map_or(0, |i| i + 3);
    let rest = &host[start..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => format!("{}{}", &host[..start], &rest[at + 1..]),
        None => host.to_string(),
    }
}

/// Parse a host setting into a base URL, applying the scheme rules. Errors show the host
/// without any userinfo it carries.
fn parse_host(workspace: &str, host: &str) -> Result<Url, WorkspaceError> {
    let trimmed = host.trim();
    let shown = without_userinfo(trimmed);
    let invalid = |reason: String| WorkspaceError::InvalidHost {
        workspace: workspace.to_string(),
        host: shown.clone(),
        reason,
    };
    if trimmed.is_empty() {
        return Err(invalid("the host is empty".into()));
    }
    let with_scheme = if trimmed.contains("://") {
        trimmed.to_string()
    } else {
        format!("https://{trimmed}")
    };
    let mut url = Url::parse(&with_scheme).map_err(|e| invalid(e.to_string()))?;
    if url.host().is_none() {
        return Err(invalid("no host name".into()));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "credentials in the URL are not allowed; use a token".into(),
        ));
    }
    // A URL copied from the browser (`https://adb-1.2.azuredatabricks.net/?o=1#job/2`).
    url.set_query(None);
    url.set_fragment(None);
    match url.scheme() {
        "https" => Ok(url),
        "http" if is_loopback(&url) => Ok(url),
        "http" => Err(WorkspaceError::InsecureHost {
            workspace: workspace.to_string(),
            host: shown,
        }),
        other => Err(invalid(format!(
            "unsupported scheme '{other}' (use https://)"
        ))),
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// The name of a workspace given only by its URL: the first DNS label, or `host:port` for
/// loopback hosts.
fn name_from_url(url: &Url) -> String {
    let host = url.host_str().unwrap_or_default();
    if is_loopback(url) {
        match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host.to_string(),
        }
    } else {
        host.split('.').next().unwrap_or(host).to_string()
    }
}

/// Check that a deployment name can only ever become one label-like part of a host name.
fn validate_deployment_name(name: &str) -> Result<(), WorkspaceError> {
    let ok = !name.is_empty()
        && name.len() <= 100
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
        && !name.starts_with(['.', '-'])
        && !name.ends_with(['.', '-'])
        && !name.contains("..");
    if ok {
        Ok(())
    } else {
        Err(WorkspaceError::InvalidDeploymentName {
            name: name.chars().take(100).collect(),
        })
    }
}

/// Register with [`crate::redact`] every secret of the environment and the config file (the
/// tokens of all profiles, used or not, and the secrets of other authentication methods).
fn register_secrets(env: &HashMap<String, String>, config: &ConfigFile) {
    let secret_key = |k: &str| k == "token" || k.contains("secret") || k == "password";
    for (key, value) in env {
        if secret_key(&key.to_ascii_lowercase().replace("databricks_", "")) {
            crate::redact::register(value);
        }
    }
    if let ConfigFile::Parsed(profiles) = config {
        for (key, value) in profiles.values().flatten() {
            if secret_key(key) {
                crate::redact::register(value);
            }
        }
    }
}

/// The config file as read: absent, parsed, or unusable (the error is reported when needed).
#[derive(Clone)]
enum ConfigFile {
    Absent,
    Parsed(Profiles),
    Broken(String),
}

/// Resolves deployment names (or their absence) to workspaces. Cheap to clone.
#[derive(Clone)]
pub struct WorkspaceResolver {
    env: HashMap<String, String>,
    config: Arc<ConfigFile>,
    config_shown: String,
    default: Option<Workspace>,
    named: BTreeMap<String, Workspace>,
    warnings: Vec<String>,
}

impl fmt::Debug for WorkspaceResolver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut env: Vec<&String> = self.env.keys().collect();
        env.sort();
        let profiles: Vec<&String> = match self.config.as_ref() {
            ConfigFile::Parsed(p) => p.keys().collect(),
            _ => Vec::new(),
        };
        f.debug_struct("WorkspaceResolver")
            .field("env_set", &env)
            .field("config", &self.config_shown)
            .field("profiles", &profiles)
            .field("default", &self.default)
            .field("named", &self.named.values().collect::<Vec<_>>())
            .finish()
    }
}

impl WorkspaceResolver {
    /// From the process environment and the config file it names (read now).
    pub fn from_env() -> Self {
        let env: HashMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with("DATABRICKS_"))
            .collect();
        let home = std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE"));
        let path = match env.get(ENV_CONFIG_FILE).filter(|p| !p.trim().is_empty()) {
            Some(p) => match (p.strip_prefix("~/"), &home) {
                (Some(rest), Some(home)) => Some(PathBuf::from(home).join(rest)),
                _ => Some(PathBuf::from(p)),
            },
            None => home.map(|h| PathBuf::from(h).join(".databrickscfg")),
        };
        let (text, error) = match &path {
            None => (None, None),
            Some(path) => match std::fs::read_to_string(path) {
                Ok(text) => (Some(text), None),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => (None, None),
                Err(e) => (None, Some(e.to_string())),
            },
        };
        let warning = text.as_ref().and(path.as_deref()).and_then(perms::check);
        let mut resolver = Self::from_parts(env, text, path);
        if let Some(e) = error {
            resolver.config = Arc::new(ConfigFile::Broken(e));
        }
        resolver.warnings.extend(warning);
        resolver
    }

    /// From explicit parts (for tests): the environment, the config file's text (`None`: no
    /// file) and its path (for messages).
    pub fn from_parts(
        env: HashMap<String, String>,
        config_file_text: Option<String>,
        config_path: Option<PathBuf>,
    ) -> Self {
        let env: HashMap<String, String> = env
            .into_iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .collect();
        let config_shown = match (&config_path, env.get(ENV_CONFIG_FILE)) {
            (Some(p), _) => p.display().to_string(),
            (None, Some(p)) => p.clone(),
            (None, None) => "~/.databrickscfg".to_string(),
        };
        let config = match config_file_text {
            None => ConfigFile::Absent,
            Some(text) => match parse_ini(&text) {
                Ok(p) => ConfigFile::Parsed(p),
                Err(e) => ConfigFile::Broken(e),
            },
        };
        register_secrets(&env, &config);
        WorkspaceResolver {
            env,
            config: Arc::new(config),
            config_shown,
            default: None,
            named: BTreeMap::new(),
            warnings: Vec::new(),
        }
    }

    /// What the user should know about the configuration (e.g. a config file that other users
    /// can read), one sentence each.
    pub fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// Make `ws` the default workspace (used when no `deployment_name` is given), ahead of the
    /// environment and config file.
    pub fn with_default(mut self, ws: Workspace) -> Self {
        self.default = Some(ws);
        self
    }

    /// Make `deployment_name = ws.name` resolve to `ws`, ahead of the config file.
    pub fn with_named(mut self, ws: Workspace) -> Self {
        self.named.insert(ws.name.clone(), ws);
        self
    }

    /// The workspace for `deployment_name`, or the default one.
    pub fn resolve(&self, deployment_name: Option<&str>) -> Result<Workspace, WorkspaceError> {
        match deployment_name {
            Some(name) => self.resolve_named(name),
            None => self.resolve_default(),
        }
    }

    fn resolve_named(&self, name: &str) -> Result<Workspace, WorkspaceError> {
        // The names of known workspaces resolve as they are, even `host:port` ones: a
        // deployment_name read from a row must lead back to its workspace (DELETE, RETURNING).
        if let Some(ws) = self.named.get(name) {
            return Ok(ws.clone());
        }
        if let Some(ws) = self.default.as_ref().filter(|ws| ws.name == name) {
            return Ok(ws.clone());
        }
        if let Some(ws) = self
            .host_env_workspace()
            .ok()
            .flatten()
            .filter(|ws| ws.name == name)
        {
            return Ok(ws);
        }
        validate_deployment_name(name)?;
        if let Some(profile) = self.profiles()?.and_then(|p| p.get(name)) {
            return self.profile_workspace(name, profile);
        }
        match self.env.get(ENV_TOKEN) {
            Some(token) => {
                Workspace::new(name, &format!("https://{name}.cloud.databricks.com"), token)
            }
            None => Err(WorkspaceError::DeploymentNotConfigured {
                name: name.to_string(),
                config: self.config_shown.clone(),
            }),
        }
    }

    fn resolve_default(&self) -> Result<Workspace, WorkspaceError> {
        if let Some(ws) = &self.default {
            return Ok(ws.clone());
        }
        if let Some(ws) = self.host_env_workspace()? {
            return Ok(ws);
        }
        let named = self.env.get(ENV_PROFILE);
        let profile_name = named.map_or(DEFAULT_PROFILE, String::as_str);
        match self.profiles()?.and_then(|p| p.get(profile_name)) {
            Some(profile) => self.profile_workspace(profile_name, profile),
            None if named.is_some() => Err(WorkspaceError::ProfileNotFound {
                profile: profile_name.to_string(),
                config: self.config_shown.clone(),
            }),
            None => Err(WorkspaceError::NotConfigured {
                profile: profile_name.to_string(),
                config: self.config_shown.clone(),
            }),
        }
    }

    /// `DATABRICKS_HOST` + `DATABRICKS_TOKEN`, when the host is set.
    fn host_env_workspace(&self) -> Result<Option<Workspace>, WorkspaceError> {
        let Some(host) = self.env.get(ENV_HOST) else {
            return Ok(None);
        };
        let Some(token) = self.env.get(ENV_TOKEN) else {
            return Err(WorkspaceError::MissingSetting {
                what: format!("{ENV_HOST} is set but {ENV_TOKEN} is not: set {ENV_TOKEN} to a personal access token"),
            });
        };
        let url = parse_host(ENV_HOST, host)?;
        let mut ws = Workspace::new(&name_from_url(&url), url.as_str(), token)?;
        ws.scheme_assumed = !host.contains("://");
        Ok(Some(ws))
    }

    fn profiles(&self) -> Result<Option<&Profiles>, WorkspaceError> {
        match self.config.as_ref() {
            ConfigFile::Absent => Ok(None),
            ConfigFile::Parsed(p) => Ok(Some(p)),
            ConfigFile::Broken(message) => Err(WorkspaceError::Config {
                config: self.config_shown.clone(),
                message: message.clone(),
            }),
        }
    }

    fn profile_workspace(
        &self,
        name: &str,
        profile: &BTreeMap<String, String>,
    ) -> Result<Workspace, WorkspaceError> {
        let get = |k: &str| profile.get(k).map(|v| v.trim()).filter(|v| !v.is_empty());
        let auth_type = get("auth_type").filter(|t| *t != "pat");
        let others: Vec<&str> = OTHER_AUTH_KEYS
            .iter()
            .copied()
            .filter(|k| get(k).is_some())
            .collect();
        let unsupported = |method: String| WorkspaceError::UnsupportedAuth {
            profile: name.to_string(),
            config: self.config_shown.clone(),
            method,
        };
        if let Some(t) = auth_type {
            return Err(unsupported(format!("auth_type '{t}'")));
        }
        let Some(host) = get("host") else {
            return Err(WorkspaceError::MissingSetting {
                what: format!(
                    "profile [{name}] in {} has no host: add `host = https://<workspace>.cloud.databricks.com`",
                    self.config_shown
                ),
            });
        };
        match get("token") {
            Some(token) => Workspace::new(name, host, token),
            None if !others.is_empty() => Err(unsupported(others.join("/"))),
            None => Err(WorkspaceError::MissingSetting {
                what: format!(
                    "profile [{name}] in {} has no token: add `token = <personal access token>`",
                    self.config_shown
                ),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_stripped_for_messages() {
        for (given, shown) in [
            ("https://x:SECRET@host/a@b", "https://host/a@b"),
            ("x:SECRET@host", "host"),
            ("https://SECRET@h?q=@", "https://h?q=@"),
            ("http://a@b:SECRET@h:99", "http://h:99"),
            ("https://plain.example.com/p", "https://plain.example.com/p"),
        ] {
            assert_eq!(without_userinfo(given), shown);
        }
    }

    #[test]
    fn deployment_names() {
        for ok in ["acme", "acme-prod", "a_b", "adb-1.2", "x1"] {
            assert!(validate_deployment_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "a/b",
            "a b",
            "a@evil.com",
            "a..b",
            ".a",
            "a.",
            "x?y",
            "-a",
            "a#",
        ] {
            assert!(validate_deployment_name(bad).is_err(), "{bad}");
        }
    }
}
