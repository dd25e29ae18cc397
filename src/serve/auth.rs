//! Who may connect to `jobsql serve`.
//!
//! Without `--password` any user name is let in (the server listens on loopback only, which
//! [`super::ServeOptions::check`] enforces). With it, clients authenticate with Postgres' MD5
//! challenge (a fresh salt per connection, so the password never crosses the wire in clear;
//! psql, libpq, psycopg, JDBC and tokio-postgres all speak it), and with `--user` the user name
//! must match too. A failed login is Postgres' `28P01` error, naming neither secret.

use std::fmt::Debug;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;

use async_trait::async_trait;
use futures::Sink;
use pgwire::api::auth::md5pass::{hash_md5_password, Md5PasswordAuthStartupHandler};
use pgwire::api::auth::{
    AuthSource, DefaultServerParameterProvider, LoginInfo, Password, StartupHandler,
};
use pgwire::api::{ClientInfo, NoopHandler};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};

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
        if self.user.as_deref().is_some_and(|u| u != user) {
            return Err(PgWireError::UserError(Box::new(ErrorInfo::new(
                "FATAL".to_string(),
                "28P01".to_string(),
                format!("password authentication failed for user \"{user}\""),
            ))));
        }
        let salt = random_salt();
        let hash = hash_md5_password(user, &self.password, &salt);
        Ok(Password::new(Some(salt.to_vec()), hash.into_bytes()))
    }
}

/// Four unpredictable bytes (std's per-process random hasher keys, and the clock).
fn random_salt() -> [u8; 4] {
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or_default();
    hasher.write_u128(nanos);
    let v = hasher.finish();
    [
        (v >> 8) as u8,
        (v >> 16) as u8,
        (v >> 24) as u8,
        (v >> 32) as u8,
    ]
}

/// The startup handler in force: open, or MD5 password.
pub enum Startup {
    /// No authentication.
    Open(NoopHandler),
    /// MD5 password authentication.
    Password(Md5PasswordAuthStartupHandler<Credentials, DefaultServerParameterProvider>),
}

impl Startup {
    /// The handler for `credentials` (`None`: open).
    pub fn new(credentials: Option<Credentials>) -> Self {
        match credentials {
            None => Startup::Open(NoopHandler),
            Some(c) => Startup::Password(Md5PasswordAuthStartupHandler::new(
                Arc::new(c),
                Arc::new(DefaultServerParameterProvider::default()),
            )),
        }
    }
}

#[async_trait]
impl StartupHandler for Startup {
    async fn on_startup<C>(
        &self,
        client: &mut C,
        message: PgWireFrontendMessage,
    ) -> PgWireResult<()>
    where
        C: ClientInfo + Sink<PgWireBackendMessage> + Unpin + Send + Sync,
        C::Error: Debug,
        PgWireError: From<<C as Sink<PgWireBackendMessage>>::Error>,
    {
        match self {
            Startup::Open(h) => h.on_startup(client, message).await,
            Startup::Password(h) => h.on_startup(client, message).await,
        }
    }
}
