//! The account the server was given (`--user`, `--password`), and its answer to an MD5
//! challenge: what both password methods (MD5 here, SCRAM in [`super::scram`]) check against.

use std::fmt::Debug;

use async_trait::async_trait;
use pgwire::api::auth::md5pass::hash_md5_password;
use pgwire::api::auth::{AuthSource, LoginInfo, Password};
use pgwire::error::PgWireResult;

/// The configured credentials.
#[derive(Clone)]
pub struct Credentials {
    /// The required user name, if any.
    pub user: Option<String>,
    /// The password.
    pub password: String,
}

impl Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .field("password", &"<redacted>")
            .finish()
    }
}

#[async_trait]
impl AuthSource for Credentials {
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        let user = login.user().unwrap_or_default();
        let salt = random_salt();
        let hash = if self.user.as_deref().is_some_and(|u| u != user) {
            // Not the user: a challenge all the same, and an answer that matches nothing (an
            // MD5 answer is "md5" and 32 hex digits).
            "not an md5 answer".to_string()
        } else {
            hash_md5_password(user, &self.password, &salt)
        };
        Ok(Password::new(Some(salt.to_vec()), hash.into_bytes()))
    }
}

/// Four unpredictable bytes (from pgwire's random nonce).
fn random_salt() -> [u8; 4] {
    let nonce = pgwire::api::auth::sasl::scram::random_nonce().into_bytes();
    [nonce[0], nonce[1], nonce[2], nonce[3]]
}
