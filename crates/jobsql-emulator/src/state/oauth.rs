//! The emulator's OAuth state: the one service principal it knows (client id and secret), the
//! lifetime of the tokens it issues, and every token issued with its expiry on the emulator's
//! clock, so that an expired token is refused like an unknown one.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

/// The service principal and token lifetime the emulator's OAuth endpoints use.
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    /// The client id the token endpoint accepts.
    pub client_id: String,
    /// Its secret.
    pub client_secret: String,
    /// How long an issued token is valid (on the emulator's clock).
    pub token_lifetime: Duration,
}

impl Default for OAuthConfig {
    fn default() -> Self {
        OAuthConfig {
            client_id: "dev-emulator-client".into(),
            client_secret: "dev-emulator-client-secret".into(),
            token_lifetime: Duration::from_secs(3600),
        }
    }
}

/// Whether a bearer token is one this emulator issued, and still valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TokenState {
    /// Issued and not expired.
    Valid,
    /// Issued, expired.
    Expired,
    /// Never issued.
    Unknown,
}

/// Issued tokens and the configuration.
pub(crate) struct OAuthState {
    pub config: OAuthConfig,
    issued: Mutex<HashMap<String, i64>>,
    counter: AtomicU64,
    seed: u64,
}

impl OAuthState {
    /// No token issued yet.
    pub fn new(config: OAuthConfig, seed: u64) -> Self {
        OAuthState {
            config,
            issued: Mutex::new(HashMap::new()),
            counter: AtomicU64::new(0),
            seed,
        }
    }

    /// A new token valid from `now_ms` for the configured lifetime.
    pub fn issue(&self, now_ms: i64) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        let token = format!(
            "emu-oauth-{:016x}{n:04}",
            super::data::mix(self.seed ^ n.wrapping_mul(0x9e37))
        );
        let expires = now_ms + self.config.token_lifetime.as_millis() as i64;
        self.issued
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(token.clone(), expires);
        token
    }

    /// What `token` is at `now_ms`.
    pub fn check(&self, token: &str, now_ms: i64) -> TokenState {
        match self
            .issued
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(token)
        {
            Some(&expires) if now_ms < expires => TokenState::Valid,
            Some(_) => TokenState::Expired,
            None => TokenState::Unknown,
        }
    }
}
