//! Who may connect to `jobsql serve`, and the bookkeeping of a connection's login.
//!
//! Without `--password` any user name is let in (the server listens on loopback only, which
//! [`super::ServeOptions::check`] enforces; an empty password is no password). With it, clients
//! authenticate with Postgres' MD5 challenge (a fresh salt per connection, so the password never
//! crosses the wire in clear; psql, libpq, psycopg, JDBC and tokio-postgres all speak it), and
//! with `--user` the user name must match too. Every failed login — unknown user, wrong
//! password, or an attempt refused by the [`LoginThrottle`] — is the same Postgres `28P01`
//! error, `password authentication failed for user "x"`, after the same exchange (a user name
//! that does not match is still sent a challenge), so a client cannot tell user names apart.
//! Checked failures are logged to stderr with the user name and address, never the password.
//!
//! [`Login`] wraps the startup handler of one connection: it takes a session slot from the
//! [`Gate`] when the login completes (or refuses with `53300`), registers the connection for
//! `CancelRequest`s, and tells the connection task that the handshake is over (which stops the
//! auth timeout).

use std::fmt::Debug;
use std::hash::{BuildHasher, Hasher};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::Sink;
use pgwire::api::auth::md5pass::{hash_md5_password, Md5PasswordAuthStartupHandler};
use pgwire::api::auth::{
    AuthSource, DefaultServerParameterProvider, LoginInfo, Password, StartupHandler,
};
use pgwire::api::{ClientInfo, NoopHandler, PgWireConnectionState, METADATA_USER};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use tokio::sync::{watch, OwnedSemaphorePermit};

use super::cancel::{CancelFlag, CancelRegistry, Registration};
use super::limits::{Gate, LoginThrottle};

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

/// The one message of every failed login.
pub fn login_failed(user: &str) -> PgWireError {
    PgWireError::UserError(Box::new(ErrorInfo::new(
        "FATAL".to_string(),
        "28P01".to_string(),
        format!("password authentication failed for user \"{user}\""),
    )))
}

/// What a connection holds once logged in: its session slot and its cancel registration.
struct Held {
    _session: OwnedSemaphorePermit,
    _cancel: Registration,
}

/// The startup handler of one connection (see the module documentation).
pub struct Login {
    startup: Arc<Startup>,
    throttle: Arc<LoginThrottle>,
    gate: Gate,
    registry: Arc<CancelRegistry>,
    flag: Arc<CancelFlag>,
    peer: SocketAddr,
    handshake: Mutex<Option<OwnedSemaphorePermit>>,
    held: Mutex<Option<Held>>,
    done: watch::Sender<bool>,
}

/// What a [`Login`] needs from the server.
pub struct LoginParts {
    /// The shared startup handler.
    pub startup: Arc<Startup>,
    /// The failed logins per address.
    pub throttle: Arc<LoginThrottle>,
    /// The connection slots.
    pub gate: Gate,
    /// Where cancelable connections are registered.
    pub registry: Arc<CancelRegistry>,
}

impl Login {
    /// The login of a connection from `peer`, holding a handshake slot until it is done.
    pub fn new(
        parts: &LoginParts,
        flag: Arc<CancelFlag>,
        peer: SocketAddr,
        handshake: OwnedSemaphorePermit,
    ) -> Self {
        Login {
            startup: parts.startup.clone(),
            throttle: parts.throttle.clone(),
            gate: parts.gate.clone(),
            registry: parts.registry.clone(),
            flag,
            peer,
            handshake: Mutex::new(Some(handshake)),
            held: Mutex::new(None),
            done: watch::channel(false).0,
        }
    }

    /// Becomes `true` once the client is logged in.
    pub fn done(&self) -> watch::Receiver<bool> {
        self.done.subscribe()
    }

    fn user<C: ClientInfo>(client: &C) -> String {
        client
            .metadata()
            .get(METADATA_USER)
            .cloned()
            .unwrap_or_default()
    }

    /// A failed (checked) login: counted, logged, answered with the one message.
    fn failure(&self, user: &str) -> PgWireError {
        let ip = self.peer.ip();
        let (failures, wait) = self.throttle.failed(ip);
        eprintln!(
            "jobsql serve: failed login for user {user:?} from {ip} ({failures} in a row; the \
             next attempt from there is checked after {} s)",
            wait.as_secs_f64()
        );
        login_failed(user)
    }
}

#[async_trait]
impl StartupHandler for Login {
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
        let password = matches!(*self.startup, Startup::Password(_));
        let is_startup = matches!(message, PgWireFrontendMessage::Startup(_));
        if password && is_startup && !self.throttle.may_try(self.peer.ip()) {
            let user = match &message {
                PgWireFrontendMessage::Startup(s) => {
                    s.parameters.get(METADATA_USER).cloned().unwrap_or_default()
                }
                _ => String::new(),
            };
            return Err(login_failed(&user));
        }
        // The message that completes the login takes a session slot first.
        let completes = password != is_startup;
        let session = if completes {
            match self.gate.session() {
                Some(permit) => Some(permit),
                None => {
                    return Err(PgWireError::UserError(Box::new(
                        super::limits::too_many_connections_error(),
                    )))
                }
            }
        } else {
            None
        };
        let result = self.startup.on_startup(client, message).await;
        if let Err(e) = result {
            return Err(if password && !is_startup {
                self.failure(&Self::user(client))
            } else {
                e
            });
        }
        let logged_in = matches!(client.state(), PgWireConnectionState::ReadyForQuery);
        if let (true, Some(session)) = (logged_in, session) {
            let (pid, secret) = client.pid_and_secret_key();
            let registration = self.registry.register(pid, &secret, self.flag.clone());
            if let Ok(mut held) = self.held.lock() {
                *held = Some(Held {
                    _session: session,
                    _cancel: registration,
                });
            }
            if let Ok(mut handshake) = self.handshake.lock() {
                handshake.take();
            }
            if password {
                self.throttle.succeeded(self.peer.ip());
            }
            self.done.send_replace(true);
        }
        Ok(())
    }
}
