//! OAuth 2 client credentials (RFC 6749 §4.4): the token endpoint (given, or the
//! `token_endpoint` of the discovery document, RFC 8414), checked to be on the workspace's own
//! origin or a `token_hosts` host (another port of a loopback workspace's host) before
//! the secret is sent; then `grant_type=client_credentials`, the scope and extra form fields,
//! the client authenticated by HTTP Basic or form fields. Errors name the `client_id` and the
//! token endpoint, never the secret. Every `*token` field of the answer (`access_token`,
//! `refresh_token`, `id_token`) is registered with [`crate::redact`] as soon as it is read.

use std::time::Duration;

use reqwest::header::ACCEPT;
use url::{Host, Url};

use super::{fresh_until, Token};
use crate::client::ClientConfig;
use crate::workspace::{ClientAuth, OAuth2Auth, Secret, Workspace};

/// The longest token response read.
const MAX_BYTES: usize = 64 * 1024;

/// A token for `ws` from its OAuth 2 token endpoint.
pub async fn fetch(
    http: &reqwest::Client,
    _config: &ClientConfig,
    ws: &Workspace,
    o: &OAuth2Auth,
) -> Result<Token, String> {
    let endpoint = match (&o.token_url, &o.discovery) {
        (Some(url), _) => url.clone(),
        (None, Some(doc)) => discover(http, ws, o, doc).await?,
        (None, None) => return Err("no token endpoint configured".into()),
    };
    let url = allowed(ws, o, &endpoint)?;
    let mut form: Vec<(&str, &str)> = vec![("grant_type", "client_credentials")];
    if let Some(scope) = &o.scope {
        form.push(("scope", scope));
    }
    form.extend(o.form.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    if o.client_auth == ClientAuth::Form {
        form.push(("client_id", &o.client_id));
        form.push(("client_secret", o.client_secret.expose()));
    }
    let mut req = http
        .post(url.clone())
        .header(ACCEPT, "application/json")
        .form(&form);
    if o.client_auth == ClientAuth::Basic {
        req = req.basic_auth(&o.client_id, Some(o.client_secret.expose()));
    }
    let who = format!("client_id '{}' at the token endpoint {url}", o.client_id);
    let response = req
        .send()
        .await
        .map_err(|e| format!("{who}: no answer: {}", crate::client::error::chain(&e)))?;
    let status = response.status();
    let body = read(response).await.map_err(|e| format!("{who}: {e}"))?;
    let json: Option<serde_json::Value> = serde_json::from_slice(&body).ok();
    // Every token of the answer is a secret from now on, whatever its status or shape: a
    // refusal quoting it, or the API echoing it later, shows `***`.
    if let Some(serde_json::Value::Object(fields)) = &json {
        for (name, value) in fields {
            if let (true, Some(token)) = (name.ends_with("token"), value.as_str()) {
                crate::redact::register(token);
            }
        }
    }
    let text = |k: &str| {
        json.as_ref()
            .and_then(|j| j.get(k))
            .and_then(|v| v.as_str())
            .map(str::to_string)
    };
    if !status.is_success() {
        let reason = match (text("error"), text("error_description")) {
            (Some(e), Some(d)) => format!("{e}: {d}"),
            (Some(e), None) => e,
            (None, Some(d)) => d,
            (None, None) => crate::client::error::quote(&body),
        };
        return Err(format!(
            "{who} was refused: HTTP {}: {reason} (check the client id and secret)",
            status.as_u16()
        ));
    }
    let token = text("access_token")
        .filter(|t| !t.is_empty() && t.bytes().all(|b| b.is_ascii_graphic()))
        .ok_or_else(|| format!("{who}: the answer has no usable access_token"))?;
    let lifetime = json
        .as_ref()
        .and_then(|j| j.get("expires_in"))
        .and_then(|v| v.as_f64().or_else(|| v.as_str()?.parse().ok()))
        .filter(|s| s.is_finite() && *s >= 0.0)
        .map(|s| Duration::from_secs_f64(s.min(1e9)));
    Ok(Token {
        secret: Secret::new(&token),
        fresh_until: lifetime.map(fresh_until),
    })
}

/// The `token_endpoint` of the discovery document at `doc` (on an allowed host too).
async fn discover(
    http: &reqwest::Client,
    ws: &Workspace,
    o: &OAuth2Auth,
    doc: &str,
) -> Result<String, String> {
    let url = allowed(ws, o, doc)?;
    let failed = |what: String| format!("the discovery document {url}: {what}");
    let response = http
        .get(url.clone())
        .header(ACCEPT, "application/json")
        .send()
        .await
        .map_err(|e| failed(crate::client::error::chain(&e)))?;
    let status = response.status();
    let body = read(response).await.map_err(failed)?;
    if !status.is_success() {
        return Err(failed(format!("HTTP {}", status.as_u16())));
    }
    serde_json::from_slice::<serde_json::Value>(&body)
        .ok()
        .and_then(|j| j.get("token_endpoint")?.as_str().map(str::to_string))
        .ok_or_else(|| failed("no token_endpoint in it".into()))
}

async fn read(mut response: reqwest::Response) -> Result<Vec<u8>, String> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| e.to_string())? {
        if body.len() + chunk.len() > MAX_BYTES {
            return Err(format!("the answer is larger than {MAX_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// `endpoint` parsed, if the client secret may be sent there: the workspace's own origin,
/// `https://` to a host of `token_hosts`, or a loopback workspace's own host on another port.
pub fn allowed(ws: &Workspace, o: &OAuth2Auth, endpoint: &str) -> Result<Url, String> {
    let url = Url::parse(endpoint)
        .map_err(|e| format!("the token endpoint '{endpoint}' is not a URL: {e}"))?;
    let base = ws.base_url();
    let same_origin = url.origin() == base.origin();
    let listed = url.scheme() == "https"
        && url
            .host_str()
            .is_some_and(|h| o.token_hosts.iter().any(|t| t.eq_ignore_ascii_case(h)));
    // A local setup (the emulator, a test's stubs) may serve tokens on another port.
    let local = is_loopback(&url) && is_loopback(base) && url.host() == base.host();
    if same_origin || listed || local {
        Ok(url)
    } else {
        Err(format!(
            "the token endpoint {endpoint} is not on the workspace's host ({}) nor one of the \
             token hosts [{}]: refusing to send the client secret there",
            base.host_str().unwrap_or_default(),
            o.token_hosts.join(", ")
        ))
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
