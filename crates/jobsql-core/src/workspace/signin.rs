//! Sign-in as a provider profile's `sign_in` block says: each setting's value (environment
//! variables, a config-file profile's key, a default), template expansion, the choice of a
//! method (`auth_type`, else the first method whose `needs` are set) and the [`Auth`] it
//! builds. Messages name the environment variables and keys the profile gives, never a value
//! of a secret.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use crate::spec::{AuthMethodSpec, AuthScheme, SignInSpec};

use super::auth::{Auth, CommandAuth, OAuth2Auth, Secret};
use super::WorkspaceError;

/// Where settings are read from for one endpoint.
#[derive(Clone, Copy)]
pub(super) enum Mode<'a> {
    /// The environment (and defaults): the default endpoint of `host`'s variable.
    Env,
    /// A config-file profile: its keys, then the environment for the settings no method needs
    /// (a CLI's path, an authority) other than the host and `auth_type`, then defaults.
    Profile(&'a BTreeMap<String, String>),
    /// The server template filled with a name: the environment except the host, defaults.
    Template,
}

/// Settings by name, as resolved.
pub(super) type Values = BTreeMap<String, String>;

fn non_empty(v: &str) -> Option<String> {
    let t = v.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// The value of every setting that has one, read as `mode` says.
pub(super) fn values(sign_in: &SignInSpec, env: &HashMap<String, String>, mode: Mode) -> Values {
    let needed: BTreeSet<&str> = sign_in
        .methods
        .iter()
        .flat_map(|m| m.needs.iter().map(String::as_str))
        .collect();
    let mut out = Values::new();
    for (name, s) in &sign_in.settings {
        let from_env = || {
            s.env
                .iter()
                .find_map(|e| env.get(e).and_then(|v| non_empty(v)))
        };
        let is_host = sign_in.host.as_deref() == Some(name.as_str());
        let is_auth_type = sign_in.auth_type.as_deref() == Some(name.as_str());
        let value = match mode {
            Mode::Env => from_env(),
            Mode::Template if is_host => None,
            Mode::Template => from_env(),
            Mode::Profile(p) => {
                let key = s.key.as_deref().unwrap_or(name);
                p.get(key).and_then(|v| non_empty(v)).or_else(|| {
                    (!is_host && !is_auth_type && !needed.contains(name.as_str()))
                        .then(from_env)
                        .flatten()
                })
            }
        };
        if let Some(v) = value.or_else(|| s.default.clone()) {
            out.insert(name.clone(), v);
        }
    }
    out
}

/// Where a setting comes from, for messages: `DATABRICKS_TOKEN or `token` in a profile`.
pub(super) fn describe(sign_in: &SignInSpec, name: &str) -> String {
    let Some(s) = sign_in.settings.get(name) else {
        return name.to_string();
    };
    let key = s.key.as_deref().unwrap_or(name);
    match (s.env.is_empty(), sign_in.config_file.is_some()) {
        (false, true) => format!("{} or `{key}` in a profile", s.env.join(" / ")),
        (false, false) => s.env.join(" / "),
        (true, true) => format!("`{key}` in a profile"),
        (true, false) => format!("the setting {name}"),
    }
}

/// What every method chosen by order needs, for a message: each setting with its environment
/// variables and key, or (`keys_only`, inside a profile) its key.
pub(super) fn needs_list(sign_in: &SignInSpec, keys_only: bool) -> String {
    sign_in
        .methods
        .iter()
        .filter(|m| !m.explicit_only)
        .map(|m| {
            let needs: Vec<String> = m
                .needs
                .iter()
                .map(|n| match keys_only {
                    true => format!("`{}`", key_of(sign_in, n)),
                    false => format!("{n} ({})", describe(sign_in, n)),
                })
                .collect();
            format!("{} needs {}", m.name, needs.join(" and "))
        })
        .collect::<Vec<_>>()
        .join("; ")
}

/// The environment variables of the first method's settings that are not set: what the
/// usual case (a token) is missing.
pub(super) fn first_missing_env(sign_in: &SignInSpec, values: &Values) -> Vec<String> {
    let Some(first) = sign_in.methods.iter().find(|m| !m.explicit_only) else {
        return Vec::new();
    };
    first
        .needs
        .iter()
        .filter(|n| !values.contains_key(*n))
        .filter_map(|n| sign_in.settings.get(n)?.env.first().cloned())
        .collect()
}

/// A setting's key in a config-file profile.
pub(super) fn key_of(sign_in: &SignInSpec, name: &str) -> String {
    sign_in
        .settings
        .get(name)
        .and_then(|s| s.key.clone())
        .unwrap_or_else(|| name.to_string())
}

/// The config-file keys of the first method's settings (`token`), for messages.
pub(super) fn first_keys(sign_in: &SignInSpec) -> Vec<String> {
    let Some(first) = sign_in.methods.iter().find(|m| !m.explicit_only) else {
        return Vec::new();
    };
    first.needs.iter().map(|n| key_of(sign_in, n)).collect()
}

/// The method to use: the one `auth_type` names, else the first (not `explicit_only`) whose
/// `needs` are all set; `None` when no method's settings are all set (the caller words that).
pub(super) fn choose<'a>(
    sign_in: &'a SignInSpec,
    values: &Values,
    context: &str,
) -> Result<Option<&'a AuthMethodSpec>, WorkspaceError> {
    let forced = sign_in.auth_type.as_deref().and_then(|s| values.get(s));
    if let Some(name) = forced {
        let setting = sign_in.auth_type.as_deref().unwrap_or_default();
        let Some(method) = sign_in.methods.iter().find(|m| &m.name == name) else {
            let names: Vec<&str> = sign_in.methods.iter().map(|m| m.name.as_str()).collect();
            return Err(WorkspaceError::UnknownAuthType {
                message: format!(
                    "{context}: {setting} '{name}' ({}) is not a sign-in method; the methods are {}",
                    describe(sign_in, setting),
                    names.join(", ")
                ),
            });
        };
        let missing: Vec<String> = method
            .needs
            .iter()
            .filter(|n| !values.contains_key(*n))
            .map(|n| format!("{n} ({})", describe(sign_in, n)))
            .collect();
        if !missing.is_empty() {
            return Err(WorkspaceError::MethodIncomplete {
                message: format!(
                    "{context}: {setting} '{name}' needs {}, which {} not set",
                    missing.join(" and "),
                    if missing.len() == 1 { "is" } else { "are" }
                ),
            });
        }
        return Ok(Some(method));
    }
    Ok(sign_in
        .methods
        .iter()
        .filter(|m| !m.explicit_only)
        .find(|m| m.needs.iter().all(|n| values.contains_key(n))))
}

/// `template` with each `{name}` replaced: `extra` first (the endpoint's `host`, the server
/// variable), then settings. A placeholder without a value is `Err(name)`.
pub(super) fn expand(
    template: &str,
    values: &Values,
    extra: &[(&str, &str)],
) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        out.push_str(&rest[..open]);
        let after = &rest[open + 1..];
        let Some(close) = after.find('}') else {
            out.push_str(&rest[open..]);
            return Ok(out);
        };
        let name = &after[..close];
        let value = extra
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| *v)
            .or_else(|| values.get(name).map(String::as_str))
            .ok_or_else(|| name.to_string())?;
        out.push_str(value);
        rest = &after[close + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// The credentials of `method` for the workspace `workspace` at `host` (its base URL, no
/// trailing `/`).
pub(super) fn build(
    sign_in: &SignInSpec,
    method: &AuthMethodSpec,
    values: &Values,
    workspace: &str,
    host: &str,
) -> Result<Auth, WorkspaceError> {
    let extra = [("host", host)];
    let fill = |t: &str| {
        expand(t, values, &extra).map_err(|name| WorkspaceError::MissingSetting {
            what: format!(
                "workspace '{workspace}': sign-in method {} needs {name} ({}), which is not set",
                method.name,
                describe(sign_in, &name)
            ),
        })
    };
    let invalid = |reason: &str| WorkspaceError::InvalidToken {
        workspace: workspace.to_string(),
        reason: reason.to_string(),
    };
    let header_value = |t: &str, space_ok: bool| -> Result<Secret, WorkspaceError> {
        let v = fill(t)?;
        let v = v.trim();
        if v.is_empty() {
            return Err(invalid("the token is empty"));
        }
        if !v
            .bytes()
            .all(|b| b.is_ascii_graphic() || (space_ok && b == b' '))
        {
            return Err(invalid(
                "the token contains spaces or non-printable characters",
            ));
        }
        Ok(Secret::new(v))
    };
    Ok(match &method.scheme {
        AuthScheme::Bearer { token } => Auth::Bearer(header_value(token, false)?),
        AuthScheme::Header { name, value } => Auth::Header {
            name: name.clone(),
            value: header_value(value, true)?,
        },
        AuthScheme::Basic { username, password } => {
            let (username, password) = (fill(username)?, fill(password)?);
            crate::redact::register_basic(&username, &password);
            Auth::Basic {
                password: Secret::new(&password),
                username,
            }
        }
        AuthScheme::OAuth2(o) => Auth::OAuth2(OAuth2Auth {
            token_url: o.token_url.as_deref().map(fill).transpose()?,
            discovery: o.discovery.as_deref().map(fill).transpose()?,
            client_id: fill(&o.client_id)?,
            client_secret: {
                // Sent as HTTP Basic (the default) or a form field: masked in both forms.
                let (id, secret) = (fill(&o.client_id)?, fill(&o.client_secret)?);
                crate::redact::register_basic(&id, &secret);
                Secret::new(&secret)
            },
            client_auth: o.client_auth,
            scope: o.scope.as_deref().map(fill).transpose()?,
            form: o
                .form
                .iter()
                .map(|(k, v)| Ok((k.clone(), fill(v)?)))
                .collect::<Result<_, WorkspaceError>>()?,
            token_hosts: o.token_hosts.clone(),
        }),
        AuthScheme::Command(c) => {
            let mut run = c
                .run
                .iter()
                .map(|a| fill(a))
                .collect::<Result<Vec<_>, _>>()?
                .into_iter();
            Auth::Command(CommandAuth {
                program: run.next().unwrap_or_default(),
                args: run.collect(),
                token: c.token.clone(),
                expiry: c.expiry.clone(),
            })
        }
    })
}

/// Register every secret setting's value in the environment and in every profile of the
/// config file with [`crate::redact`] (used or not).
pub(super) fn register_secrets(
    sign_in: &SignInSpec,
    env: &HashMap<String, String>,
    profiles: Option<&BTreeMap<String, BTreeMap<String, String>>>,
) {
    for (name, s) in sign_in.settings.iter().filter(|(_, s)| s.secret) {
        for var in &s.env {
            if let Some(v) = env.get(var).and_then(|v| non_empty(v)) {
                crate::redact::register(&v);
            }
        }
        let key = s.key.as_deref().unwrap_or(name);
        for profile in profiles.into_iter().flat_map(|p| p.values()) {
            if let Some(v) = profile.get(key).and_then(|v| non_empty(v)) {
                crate::redact::register(&v);
            }
        }
    }
}
