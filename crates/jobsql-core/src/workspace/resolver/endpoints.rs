//! The three ways [`WorkspaceResolver`] builds a workspace — the environment's endpoint, a
//! config-file profile, the server template filled with a name — and the messages that say
//! what to set when none can be built, in the profile's words (its variables and keys).

use std::collections::BTreeMap;

use super::super::hosts::*;
use super::super::signin::{self, Mode, Values};
use super::super::*;
use super::WorkspaceResolver;

impl WorkspaceResolver {
    /// `host and token`: the keys a profile needs for the usual method.
    pub(super) fn profile_keys(&self) -> String {
        let mut keys: Vec<String> = self.sign_in().host.iter().cloned().collect();
        keys.extend(signin::first_keys(self.sign_in()));
        keys.join(" and ")
    }

    /// The environment variables of the usual method (`DATABRICKS_TOKEN`).
    pub(super) fn first_envs(&self) -> String {
        signin::first_missing_env(self.sign_in(), &Values::new()).join(" and ")
    }

    pub(super) fn not_configured(&self, profile: Option<&str>) -> WorkspaceError {
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
    pub(super) fn env_workspace(&self) -> Result<Option<Workspace>, WorkspaceError> {
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
    pub(super) fn fill_template(
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
    pub(super) fn template_workspace(&self, name: &str) -> Result<Workspace, WorkspaceError> {
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

    pub(super) fn profile_workspace(
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
