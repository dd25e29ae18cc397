//! The SCRAM-SHA-256 secret of `jobsql serve --password` (the default sign-in).
//!
//! [`ScramSource`] derives the salted password once, when the server starts (a random 16-byte
//! salt, 4096 iterations, Postgres' default), so a login costs the server a few HMACs and the
//! password itself is kept only as that derivation. A user name that does not match `--user`
//! is given the same salt and iteration count and a secret no password matches, so the exchange
//! looks the same and ends in the same `28P01` (see [`super::auth`]).
//!
//! Channel binding (`SCRAM-SHA-256-PLUS`, `tls-server-end-point`) is offered when TLS is on:
//! [`scram_auth`] gives pgwire the certificate to bind to.

use std::fmt::Debug;
use std::sync::Arc;

use async_trait::async_trait;
use pgwire::api::auth::sasl::scram::{
    gen_salted_password, random_nonce, ScramAuth, SCRAM_ITERATIONS,
};
use pgwire::api::auth::{AuthSource, LoginInfo, Password};
use pgwire::error::PgWireResult;

use super::credentials::Credentials;

/// The salted password of the configured credentials.
pub struct ScramSource {
    user: Option<String>,
    salt: Vec<u8>,
    salted: Vec<u8>,
    /// What a user name other than `--user` is checked against: matches no password.
    decoy: Vec<u8>,
}

impl Debug for ScramSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramSource")
            .field("user", &self.user)
            .field("salted", &"<redacted>")
            .finish()
    }
}

impl ScramSource {
    /// Derive the secret of `credentials` (a fresh salt each start).
    pub fn new(credentials: &Credentials) -> Self {
        let salt = random_nonce().into_bytes();
        let salted = gen_salted_password(&credentials.password, &salt, SCRAM_ITERATIONS);
        // 32 random bytes: the salted password of no password anyone can know.
        let decoy = [random_nonce(), random_nonce()].concat().into_bytes();
        ScramSource {
            user: credentials.user.clone(),
            salt,
            salted,
            decoy: decoy[..32].to_vec(),
        }
    }
}

#[async_trait]
impl AuthSource for ScramSource {
    async fn get_password(&self, login: &LoginInfo) -> PgWireResult<Password> {
        let user = login.user().unwrap_or_default();
        let secret = if self.user.as_deref().is_some_and(|u| u != user) {
            &self.decoy
        } else {
            &self.salted
        };
        Ok(Password::new(Some(self.salt.clone()), secret.clone()))
    }
}

/// pgwire's SCRAM mechanism over `credentials`; with channel binding to the first certificate
/// of `cert_pem` when TLS is on.
pub fn scram_auth(credentials: &Credentials, cert_pem: Option<&[u8]>) -> PgWireResult<ScramAuth> {
    let mut auth = ScramAuth::new(Arc::new(ScramSource::new(credentials)));
    auth.set_iterations(SCRAM_ITERATIONS);
    if let Some(pem) = cert_pem {
        auth.configure_certificate(pem)?;
    }
    Ok(auth)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_right_user_gets_the_salted_password_others_a_decoy() {
        let source = ScramSource::new(&Credentials {
            user: Some("analyst".into()),
            password: "s3cret".into(),
        });
        let login = |user: &'static str| LoginInfo::new(Some(user), None, "127.0.0.1".into());
        let right = source
            .get_password(&login("analyst"))
            .await
            .expect("password");
        let other = source
            .get_password(&login("nobody"))
            .await
            .expect("password");
        let salt = right.salt().expect("salt").to_vec();
        assert_eq!(other.salt(), Some(&salt[..]));
        assert_eq!(
            right.password(),
            gen_salted_password("s3cret", &salt, SCRAM_ITERATIONS)
        );
        assert_ne!(other.password(), right.password());
        assert_eq!(other.password().len(), right.password().len());
        assert!(!format!("{source:?}").contains("s3cret"));
    }
}
