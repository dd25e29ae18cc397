//! Credentials on requests: a workspace's [`Auth`] turned into the header of each attempt.
//! Bearer, header and basic credentials are sent as they are. OAuth 2 client credentials
//! ([`oauth`]) and token commands ([`command`]) give a bearer token through a *token source*:
//! one per (endpoint, method, client), kept in the [`ApiClient`](super::ApiClient), which
//! caches the token until shortly before it expires. The source is single-flight: while one
//! caller fetches a token, every other caller waits for that token instead of fetching its
//! own. A 401 on a request that used a cached token drops that token (only if it is still the
//! cached one, so many 401s in flight cause one refresh) and the request is sent once more.

pub mod command;
pub mod oauth;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::header::{HeaderName, HeaderValue};
use reqwest::RequestBuilder;

use super::{ApiError, ClientConfig};
use crate::workspace::{Auth, Secret, Workspace};

/// A token and when to stop using it (`None`: until the API refuses it).
#[derive(Clone)]
pub struct Token {
    /// The bearer token.
    pub secret: Secret,
    /// Refresh after this instant.
    pub fresh_until: Option<Instant>,
}

/// When to refresh a token valid for `lifetime` from now: a tenth of it (at most 30 s) early.
pub fn fresh_until(lifetime: Duration) -> Instant {
    let margin = (lifetime / 10).min(Duration::from_secs(30));
    Instant::now() + lifetime.saturating_sub(margin)
}

/// What goes on one attempt.
pub enum Credential {
    /// `Authorization: Bearer`.
    Bearer(Secret),
    /// A header of its own.
    Header(HeaderName, Secret),
    /// `Authorization: Basic`.
    Basic(String, Secret),
}

impl Credential {
    /// `builder` with the credential's header (marked sensitive).
    pub fn apply(&self, builder: RequestBuilder) -> RequestBuilder {
        match self {
            Credential::Bearer(t) => builder.bearer_auth(t.expose()),
            Credential::Basic(u, p) => builder.basic_auth(u, Some(p.expose())),
            Credential::Header(name, value) => match HeaderValue::from_str(value.expose()) {
                Ok(mut v) => {
                    v.set_sensitive(true);
                    builder.header(name.clone(), v)
                }
                // Checked when the workspace was resolved (visible ASCII and spaces).
                Err(_) => builder,
            },
        }
    }
}

/// A credential for one attempt, and the token source it came from (for a 401 refresh).
pub struct Lease {
    /// What to put on the request.
    pub credential: Credential,
    /// The source and the token used, when the token can be refreshed.
    pub source: Option<(Arc<Source>, Secret)>,
}

/// One token source: the cached token behind an async lock held while fetching.
#[derive(Default)]
pub struct Source {
    slot: tokio::sync::Mutex<Option<Token>>,
}

impl Source {
    /// Drop `used` if it is still the cached token.
    pub async fn invalidate(&self, used: &Secret) {
        let mut slot = self.slot.lock().await;
        if slot.as_ref().is_some_and(|t| &t.secret == used) {
            *slot = None;
        }
    }
}

/// The token sources of a client, by (endpoint, method, client).
#[derive(Default)]
pub struct Tokens {
    sources: Mutex<HashMap<String, Arc<Source>>>,
}

impl Tokens {
    /// The credential for an attempt to `ws`, fetching a token when the cached one is missing
    /// or stale. `log` gets one line per token fetched.
    pub async fn lease(
        &self,
        http: &reqwest::Client,
        config: &ClientConfig,
        ws: &Workspace,
        log: &(dyn Fn(&str) + Sync),
    ) -> Result<Lease, ApiError> {
        let fixed = |credential| {
            Ok(Lease {
                credential,
                source: None,
            })
        };
        let key = match ws.auth() {
            Auth::Bearer(t) => return fixed(Credential::Bearer(t.clone())),
            Auth::Basic { username, password } => {
                return fixed(Credential::Basic(username.clone(), password.clone()))
            }
            Auth::Header { name, value } => {
                let name = HeaderName::from_bytes(name.as_bytes())
                    .map_err(|_| sign_in_error(ws, format!("`{name}` is not a header name")))?;
                return fixed(Credential::Header(name, value.clone()));
            }
            Auth::OAuth2(o) => format!("{}|{}|{}", ws.base_url(), ws.method(), o.client_id),
            Auth::Command(c) => format!("{}|{}|{}", ws.base_url(), ws.method(), c.program),
        };
        let source = {
            let mut sources = self.sources.lock().unwrap_or_else(|e| e.into_inner());
            sources.entry(key).or_default().clone()
        };
        let mut slot = source.slot.lock().await;
        let fresh = slot
            .as_ref()
            .filter(|t| t.fresh_until.is_none_or(|u| Instant::now() < u));
        let token = match fresh {
            Some(t) => t.secret.clone(),
            None => {
                let began = Instant::now();
                let token = match ws.auth() {
                    Auth::OAuth2(o) => oauth::fetch(http, config, ws, o).await,
                    Auth::Command(c) => command::run(c).await,
                    _ => Err("these credentials have no token source".to_string()),
                }
                .map_err(|m| sign_in_error(ws, m))?;
                log(&format!(
                    "sign-in {} @ {}: new token ({} ms)",
                    ws.method(),
                    ws.name,
                    began.elapsed().as_millis()
                ));
                let secret = token.secret.clone();
                *slot = Some(token);
                secret
            }
        };
        drop(slot);
        Ok(Lease {
            credential: Credential::Bearer(token.clone()),
            source: Some((source, token)),
        })
    }
}

fn sign_in_error(ws: &Workspace, message: String) -> ApiError {
    ApiError::SignIn {
        workspace: ws.name.clone(),
        method: ws.method().to_string(),
        message: crate::redact::outgoing(&message),
    }
}
