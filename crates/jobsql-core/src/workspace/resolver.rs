//! [`WorkspaceResolver`]: a provider's environment and config file, turned into the
//! [`Workspace`] a name (or its absence) names, as the provider's `sign_in` block says (the
//! rules are in the `workspace` module's header).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::PathBuf;

use super::hosts::*;
use super::*;
use crate::spec::SignInSpec;

mod endpoints;

/// The config file as read: absent, parsed, or unusable (the error is reported when needed).
#[derive(Clone)]
enum ConfigFile {
    Absent,
    Parsed(Profiles),
    Broken(String),
}

/// Resolves endpoint names (or their absence) to workspaces. Cheap to clone.
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

/// The environment variables `sign_in` reads.
fn variables(sign_in: &SignInSpec) -> Vec<&str> {
    let mut out: Vec<&str> = sign_in
        .settings
        .values()
        .flat_map(|s| s.env.iter().map(String::as_str))
        .collect();
    if let Some(c) = &sign_in.config_file {
        out.extend(c.path_env.as_deref());
        out.extend(c.profile_env.as_deref());
    }
    out
}

/// `~/rest` under the home directory.
fn home_path(p: &str) -> PathBuf {
    let home = std::env::var_os("HOME").or_else(|| std::env::var_os("USERPROFILE"));
    match (p.strip_prefix("~/"), home) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(p),
    }
}

impl WorkspaceResolver {
    /// For `profile`'s provider, from the process environment (the variables its profile
    /// names) and the config file it names (read now).
    pub fn from_env_for(profile: Arc<ProviderSpec>) -> Self {
        let sign_in = &profile.sign_in;
        let env: HashMap<String, String> = variables(sign_in)
            .into_iter()
            .filter_map(|k| Some((k.to_string(), std::env::var(k).ok()?)))
            .collect();
        let path = sign_in.config_file.as_ref().map(|c| {
            let named = c.path_env.as_ref().and_then(|e| env.get(e));
            home_path(named.filter(|p| !p.trim().is_empty()).unwrap_or(&c.path))
        });
        let (text, error) = match &path {
            None => (None, None),
            Some(path) => match std::fs::read_to_string(path) {
                Ok(text) => (Some(text), None),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => (None, None),
                Err(e) => (None, Some(e.to_string())),
            },
        };
        let warning = text.as_ref().and(path.as_deref()).and_then(perms::check);
        let mut resolver = Self::from_parts_for(profile, env, text, path);
        if let Some(e) = error {
            resolver.config = Arc::new(ConfigFile::Broken(e));
        }
        resolver.warnings.extend(warning);
        resolver
    }

    /// The Databricks resolver, from the process environment and `~/.databrickscfg` (or the
    /// file `DATABRICKS_CONFIG_FILE` names), read now.
    pub fn from_env() -> Self {
        Self::from_env_for(databricks_profile())
    }

    /// The Databricks resolver from explicit parts (for tests): the environment, the config
    /// file's text (`None`: no file) and its path (for messages).
    pub fn from_parts(
        env: HashMap<String, String>,
        config_file_text: Option<String>,
        config_path: Option<PathBuf>,
    ) -> Self {
        Self::from_parts_for(databricks_profile(), env, config_file_text, config_path)
    }

    /// For `profile`'s provider, from explicit parts: the environment, the config file's text
    /// (`None`: no file) and its path (for messages).
    pub fn from_parts_for(
        profile: Arc<ProviderSpec>,
        env: HashMap<String, String>,
        config_file_text: Option<String>,
        config_path: Option<PathBuf>,
    ) -> Self {
        let env: HashMap<String, String> = env
            .into_iter()
            .filter(|(_, v)| !v.trim().is_empty())
            .collect();
        let file = profile.sign_in.config_file.as_ref();
        let path_env = file.and_then(|c| c.path_env.as_ref().and_then(|e| env.get(e)));
        let config_shown = match (&config_path, path_env, file) {
            (Some(p), _, _) => p.display().to_string(),
            (None, Some(p), _) => p.clone(),
            (None, None, Some(c)) => c.path.clone(),
            (None, None, None) => String::new(),
        };
        let default_section = file.map_or("DEFAULT", |c| c.default_profile.as_str());
        let config = match config_file_text.filter(|_| file.is_some()) {
            None => ConfigFile::Absent,
            Some(text) => match parse_ini(&text, default_section) {
                Ok(p) => ConfigFile::Parsed(p),
                Err(e) => ConfigFile::Broken(e),
            },
        };
        let profiles = match &config {
            ConfigFile::Parsed(p) => Some(p),
            _ => None,
        };
        signin::register_secrets(&profile.sign_in, &env, profiles);
        WorkspaceResolver {
            profile,
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

    /// Make `ws` the default workspace (used when no name is given), ahead of the environment
    /// and config file.
    pub fn with_default(mut self, ws: Workspace) -> Self {
        self.default = Some(ws);
        self
    }

    /// Make the name `ws.name` resolve to `ws`, ahead of the config file.
    pub fn with_named(mut self, ws: Workspace) -> Self {
        self.named.insert(ws.name.clone(), ws);
        self
    }

    /// The provider whose endpoints this resolves (its profile's name).
    pub fn provider(&self) -> &str {
        &self.profile.provider
    }

    /// The workspace `name` names, or the default one; its errors are read as the provider's
    /// profile says.
    pub fn resolve(&self, name: Option<&str>) -> Result<Workspace, WorkspaceError> {
        let ws = match name {
            Some(name) => self.resolve_named(name),
            None => self.resolve_default(),
        }?;
        Ok(ws.with_errors(Arc::new(self.profile.errors.clone())))
    }

    pub(super) fn sign_in(&self) -> &SignInSpec {
        &self.profile.sign_in
    }

    fn resolve_named(&self, name: &str) -> Result<Workspace, WorkspaceError> {
        // The names of known workspaces resolve as they are, even `host:port` ones: a name
        // read from a row must lead back to its workspace (DELETE, RETURNING).
        if let Some(ws) = self.named.get(name) {
            return Ok(ws.clone());
        }
        if let Some(ws) = self.default.as_ref().filter(|ws| ws.name == name) {
            return Ok(ws.clone());
        }
        if let Some(ws) = self
            .env_workspace()
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
        self.template_workspace(name)
    }

    fn resolve_default(&self) -> Result<Workspace, WorkspaceError> {
        if let Some(ws) = &self.default {
            return Ok(ws.clone());
        }
        if let Some(ws) = self.env_workspace()? {
            return Ok(ws);
        }
        let Some(file) = &self.sign_in().config_file else {
            return Err(self.not_configured(None));
        };
        let named = file.profile_env.as_ref().and_then(|e| self.env.get(e));
        let profile_name = named.map_or(file.default_profile.as_str(), String::as_str);
        match self.profiles()?.and_then(|p| p.get(profile_name)) {
            Some(profile) => self.profile_workspace(profile_name, profile),
            None if named.is_some() => {
                let var = file.profile_env.as_deref().unwrap_or_default();
                Err(WorkspaceError::ProfileNotFound {
                    message: format!(
                        "profile [{profile_name}] (named by {var}) is not in {}: add it with {}, or unset {var}",
                        self.config_shown,
                        self.profile_keys()
                    ),
                })
            }
            None => Err(self.not_configured(Some(profile_name))),
        }
    }

    pub(super) fn profiles(&self) -> Result<Option<&Profiles>, WorkspaceError> {
        match self.config.as_ref() {
            ConfigFile::Absent => Ok(None),
            ConfigFile::Parsed(p) => Ok(Some(p)),
            ConfigFile::Broken(message) => Err(WorkspaceError::Config {
                config: self.config_shown.clone(),
                message: message.clone(),
            }),
        }
    }
}
