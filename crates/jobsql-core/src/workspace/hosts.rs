//! Workspace URLs: a host as given (with or without a scheme; `http://` only for loopback),
//! the name a URL resolves back to, and which deployment names are valid.

use url::{Host, Url};

use super::WorkspaceError;

/// `host` as it may appear in a message: without the userinfo of its authority
/// (`https://user:secret@h/x` → `https://h/x`), whether or not it parses as a URL.
pub(super) fn without_userinfo(host: &str) -> String {
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
pub(super) fn parse_host(workspace: &str, host: &str) -> Result<Url, WorkspaceError> {
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

pub(super) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(Host::Ipv4(ip)) => ip.is_loopback(),
        Some(Host::Ipv6(ip)) => ip.is_loopback(),
        Some(Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        None => false,
    }
}

/// The name of a workspace given only by its URL: the first DNS label, or `host:port` for
/// loopback hosts.
pub(super) fn name_from_url(url: &Url) -> String {
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
pub(super) fn validate_deployment_name(name: &str) -> Result<(), WorkspaceError> {
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
