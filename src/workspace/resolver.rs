//! [`WorkspaceResolver`]: the `DATABRICKS_*` environment and the config file, turned into the
//! [`Workspace`] a `deployment_name` (or its absence) names.

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::PathBuf;

use super::hosts::*;
use super::*;

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
    profile: Arc<ProviderSpec>,
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
            .field("provider", &self.profile.provider)
            .field("env_set", &env)
            .field("config", &self.config_shown)
            .field("profiles", &profiles)
            .field("default", &self.default)
            .field("named", &self.named.values().collect::<Vec<_>>())
            .finish()
    }
}

impl WorkspaceResolver {
    /// For `profile`'s provider, from the process environment and the config file it names
    /// (read now).
    pub fn from_env_for(profile: Arc<ProviderSpec>) -> Self {
        Self {
            profile,
            ..Self::from_env()
        }
    }

    /// For `profile`'s provider, from explicit parts (for tests): the environment, the config
    /// file's text (`None`: no file) and its path (for messages).
    pub fn from_parts_for(
        profile: Arc<ProviderSpec>,
        env: HashMap<String, String>,
        config_file_text: Option<String>,
        config_path: Option<PathBuf>,
    ) -> Self {
        Self {
            profile,
            ..Self::from_parts(env, config_file_text, config_path)
        }
    }

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
            profile: databricks_profile(),
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

    /// The provider whose endpoints this resolves (its profile's name).
    pub fn provider(&self) -> &str {
        &self.profile.provider
    }

    /// The workspace for `deployment_name`, or the default one; its errors are read as the
    /// provider's profile says.
    pub fn resolve(&self, deployment_name: Option<&str>) -> Result<Workspace, WorkspaceError> {
        let ws = match deployment_name {
            Some(name) => self.resolve_named(name),
            None => self.resolve_default(),
        }?;
        Ok(ws.with_errors(Arc::new(self.profile.errors.clone())))
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
