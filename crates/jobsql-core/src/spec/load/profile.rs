//! Checks of a provider profile (`provider.yaml`): names are identifiers, every `{name}` of a
//! template is a setting (or `host`, or the server variable in the server URL), the settings a
//! method needs exist, method names are unique, and each scheme is complete.

use std::collections::BTreeSet;

use crate::spec::error::Finding;
use crate::spec::provider::{AuthScheme, ProviderSpec};

/// The `{name}`s of a template, or a finding for an unclosed brace.
pub fn placeholders(template: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find('{') {
        let after = &rest[open + 1..];
        let close = after
            .find('}')
            .ok_or_else(|| format!("`{template}` has a `{{` without its `}}`"))?;
        out.push(&after[..close]);
        rest = &after[close + 1..];
    }
    Ok(out)
}

/// Check one profile.
pub(super) fn check_profile(spec: &ProviderSpec) -> Result<(), Finding> {
    let sign_in = &spec.sign_in;
    let settings: BTreeSet<&str> = sign_in.settings.keys().map(String::as_str).collect();
    let variable = spec.server.variable.as_str();
    if !super::is_identifier(variable) {
        return Err(Finding::new(
            "server.variable",
            format!("`{variable}` is not a SQL identifier"),
        ));
    }
    if settings.contains(variable) {
        return Err(Finding::new(
            "server.variable",
            format!("`{variable}` is also a setting; an endpoint's name is not a setting"),
        ));
    }
    let template = |place: &str, text: &str, extra: &[&str]| -> Result<(), Finding> {
        for name in placeholders(text).map_err(|m| Finding::new(place, m))? {
            if !settings.contains(name) && !extra.contains(&name) {
                return Err(Finding::new(
                    place,
                    format!("`{{{name}}}` is not a setting of sign_in.settings"),
                ));
            }
        }
        Ok(())
    };
    template("server.url", &spec.server.url, &[variable])?;
    for (key, value) in [
        ("sign_in.host", &sign_in.host),
        ("sign_in.auth_type", &sign_in.auth_type),
    ] {
        if let Some(name) = value.as_deref().filter(|n| !settings.contains(n)) {
            return Err(Finding::new(key, format!("`{name}` is not a setting")));
        }
    }
    for (name, setting) in &sign_in.settings {
        let place = format!("sign_in.settings.{name}");
        if !super::is_identifier(name) {
            return Err(Finding::new(
                place,
                "a setting's name is a lowercase identifier",
            ));
        }
        if setting.secret && setting.default.is_some() {
            return Err(Finding::new(place, "a secret cannot have a default"));
        }
    }
    if sign_in.methods.is_empty() {
        return Err(Finding::new(
            "sign_in.methods",
            "a provider needs a sign-in method",
        ));
    }
    let mut names = BTreeSet::new();
    for (i, method) in sign_in.methods.iter().enumerate() {
        let place = format!("sign_in.methods[{i}] ({})", method.name);
        if !names.insert(method.name.as_str()) {
            return Err(Finding::new(place, "a method of that name comes earlier"));
        }
        if let Some(need) = method.needs.iter().find(|n| !settings.contains(n.as_str())) {
            return Err(Finding::new(
                place,
                format!("needs `{need}`, which is not a setting"),
            ));
        }
        let values: Vec<(&str, &str)> = match &method.scheme {
            AuthScheme::Bearer { token } => vec![("token", token)],
            AuthScheme::Header { name, value } => {
                if reqwest_header_name_ok(name) {
                    vec![("value", value)]
                } else {
                    return Err(Finding::new(
                        place,
                        format!("`{name}` is not a header name"),
                    ));
                }
            }
            AuthScheme::Basic { username, password } => {
                vec![("username", username), ("password", password)]
            }
            AuthScheme::OAuth2(o) => {
                if o.token_url.is_some() == o.discovery.is_some() {
                    return Err(Finding::new(
                        place,
                        "an OAuth 2 scheme needs one of `token_url` and `discovery`",
                    ));
                }
                let mut v = vec![("client_id", o.client_id.as_str())];
                v.push(("client_secret", &o.client_secret));
                v.extend(o.token_url.as_deref().map(|t| ("token_url", t)));
                v.extend(o.discovery.as_deref().map(|t| ("discovery", t)));
                v.extend(o.form.values().map(|f| ("form", f.as_str())));
                v
            }
            AuthScheme::Command(c) => {
                if c.run.first().is_none_or(|p| p.trim().is_empty()) {
                    return Err(Finding::new(place, "a command needs a program to run"));
                }
                c.run.iter().map(|a| ("run", a.as_str())).collect()
            }
        };
        for (key, value) in values {
            template(&format!("{place}.{key}"), value, &["host"])?;
        }
    }
    Ok(())
}

/// Whether `name` is a valid HTTP header name (RFC 9110 token characters).
fn reqwest_header_name_ok(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}
