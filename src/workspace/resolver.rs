//! [`WorkspaceResolver`]: a provider's environment and config file, turned into the
//! [`Workspace`] a name (or its absence) names, as the provider's `sign_in` block says (the
//! rules are in the `workspace` module's header).

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::path::PathBuf;

use super::hosts::*;
use super::signin::{self, Mode, Values};
use super::*;
use crate::spec::SignInSpec;

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

    fn sign_in(&self) -> &SignInSpec {
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

    /// `host and token`: the keys a profile needs for the usual method.
    fn profile_keys(&self) -> String {
        let mut keys: Vec<String> = self.sign_in().host.iter().cloned().collect();
        keys.extend(signin::first_keys(self.sign_in()));
        keys.join(" and ")
    }

    /// The environment variables of the usual method (`DATABRICKS_TOKEN`).
    fn first_envs(&self) -> String {
        signin::first_missing_env(self.sign_in(), &Values::new()).join(" and ")
    }

    fn not_configured(&self, profile: Option<&str>) -> WorkspaceError {
        let sign_in = self.sign_in();
        let host_env = sign_in
            .host
            .as_ref()
            .and_then(|h| sign_in.settings.get(h)?.env.first().cloned());
        let mut set = match host_env {
            Some(h) => format!("set {h} and {}", self.first_envs()),
            None => format!(
                "name one with {} = '...' and set {}",
                self.profile.server.variable,
                self.first_envs()
            ),
        };
        if let Some(p) = profile {
            set.push_str(&format!(
                ", or add a [{p}] profile with {} to {}",
                self.profile_keys(),
                self.config_shown
            ));
        }
        WorkspaceError::NotConfigured {
            message: format!("no workspace configured: {set}"),
        }
    }

    /// The environment's endpoint: the host setting's variable when set (a provider without a
    /// host setting: the server template, when it names no endpoint), with the environment's
    /// credentials.
    fn env_workspace(&self) -> Result<Option<Workspace>, WorkspaceError> {
        let sign_in = self.sign_in();
        let mut values = signin::values(sign_in, &self.env, Mode::Env);
        let (given, context) = match &sign_in.host {
            Some(h) => match values.get(h) {
                Some(host) => {
                    let var = sign_in.settings.get(h).and_then(|s| s.env.first().cloned());
                    (host.clone(), var.unwrap_or_else(|| h.clone()))
                }
                None => return Ok(None),
            },
            None => {
                let template = &self.profile.server.url;
                if template.contains(&format!("{{{}}}", self.profile.server.variable)) {
                    return Ok(None);
                }
                let url = self.fill_template(template, &values, &[])?;
                (url.clone(), url)
            }
        };
        let url = parse_host(&context, &given)?;
        let name = name_from_url(&url);
        if let Some(h) = &sign_in.host {
            values.insert(h.clone(), trimmed(&url));
        }
        let method = signin::choose(sign_in, &values, &context)?;
        let Some(method) = method else {
            let missing = signin::first_missing_env(sign_in, &values);
            let list = signin::needs_list(sign_in, false);
            let message = match (missing.is_empty(), sign_in.host.is_some()) {
                (false, true) => format!(
                    "{context} is set but {} {} not, nor the settings of another sign-in method: {list}",
                    missing.join(" and "),
                    if missing.len() == 1 { "is" } else { "are" }
                ),
                _ => format!("no credentials for {context}: {list}"),
            };
            return Err(WorkspaceError::NoMethod { message });
        };
        let auth = signin::build(sign_in, method, &values, &name, &trimmed(&url))?;
        let mut ws = Workspace::with_auth(&name, url, &method.name, auth);
        ws.scheme_assumed = !given.contains("://");
        Ok(Some(ws))
    }

    /// The server template filled with `extra` and the settings; a missing setting names
    /// itself.
    fn fill_template(
        &self,
        template: &str,
        values: &Values,
        extra: &[(&str, &str)],
    ) -> Result<String, WorkspaceError> {
        signin::expand(template, values, extra).map_err(|name| WorkspaceError::MissingSetting {
            what: format!(
                "the server URL {template} needs {name}: set {}",
                signin::describe(self.sign_in(), &name)
            ),
        })
    }

    /// The server template with `name` for its variable, and the environment's credentials.
    fn template_workspace(&self, name: &str) -> Result<Workspace, WorkspaceError> {
        let sign_in = self.sign_in();
        let mut values = signin::values(sign_in, &self.env, Mode::Template);
        let variable = self.profile.server.variable.as_str();
        let given = self.fill_template(&self.profile.server.url, &values, &[(variable, name)])?;
        let url = parse_host(name, &given)?;
        if let Some(h) = &sign_in.host {
            values.insert(h.clone(), trimmed(&url));
        }
        let context = format!("{variable} '{name}'");
        let Some(method) = signin::choose(sign_in, &values, &context)? else {
            let profile = match &sign_in.config_file {
                Some(_) => format!(
                    "add a [{name}] profile with {} to {}, or ",
                    self.profile_keys(),
                    self.config_shown
                ),
                None => String::new(),
            };
            return Err(WorkspaceError::DeploymentNotConfigured {
                message: format!(
                    "no credentials for {context}: {profile}set {} (used with {})",
                    self.first_envs(),
                    trimmed(&url)
                ),
            });
        };
        let auth = signin::build(sign_in, method, &values, name, &trimmed(&url))?;
        Ok(Workspace::with_auth(name, url, &method.name, auth))
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
        let sign_in = self.sign_in();
        let mut values = signin::values(sign_in, &self.env, Mode::Profile(profile));
        let context = format!("profile [{name}] in {}", self.config_shown);
        let variable = self.profile.server.variable.as_str();
        let given = match &sign_in.host {
            Some(h) => match values.get(h) {
                Some(host) => host.clone(),
                None => {
                    let example = self
                        .profile
                        .server
                        .url
                        .replace(&format!("{{{variable}}}"), "<workspace>");
                    return Err(WorkspaceError::MissingSetting {
                        what: format!(
                            "{context} has no {key}: add `{key} = {example}`",
                            key = signin::key_of(sign_in, h)
                        ),
                    });
                }
            },
            None => self.fill_template(&self.profile.server.url, &values, &[(variable, name)])?,
        };
        let url = parse_host(name, &given)?;
        if let Some(h) = &sign_in.host {
            values.insert(h.clone(), trimmed(&url));
        }
        let Some(method) = signin::choose(sign_in, &values, &context)? else {
            return Err(WorkspaceError::NoMethod {
                message: format!(
                    "{context} has no credentials: {}",
                    signin::needs_list(sign_in, true)
                ),
            });
        };
        let auth = signin::build(sign_in, method, &values, name, &trimmed(&url))?;
        let mut ws = Workspace::with_auth(name, url, &method.name, auth);
        ws.scheme_assumed = !given.contains("://");
        Ok(ws)
    }
}

/// A base URL without its trailing `/`: what `{host}` expands to.
fn trimmed(url: &Url) -> String {
    url.as_str().trim_end_matches('/').to_string()
}
