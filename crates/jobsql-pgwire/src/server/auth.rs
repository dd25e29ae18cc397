//! Who may connect to `jobsql serve`, and the bookkeeping of a connection's login.
//!
//! Without `--password` any user name is let in (the server listens on loopback only, which
//! [`crate::ServeOptions::check`] enforces; an empty password is no password). With it, clients
//! authenticate with SCRAM-SHA-256 ([`super::scram`]; Postgres' default since 14: the password
//! never crosses the wire, and the server proves it knows it too), or with the older MD5
//! challenge only when the operator asks for it (`--auth md5`, [`AuthMethod`]); a password in
//! clear is never asked for. With `--user` the user name must match too. Every failed login —
//! unknown user, wrong password, or an attempt refused by the [`LoginThrottle`] — is the same
//! Postgres `28P01` error, `password authentication failed for user "x"`, after the same
//! exchange (a user name that does not match is still sent a challenge), so a client cannot
//! tell user names apart. Checked failures are logged to stderr with the user name and address,
//! never the password. A malformed or out-of-order authentication message is a protocol error
//! (`08P01`, [`super::sasl`]), not a password checked.
//!
//! The throttle is asked where the password is checked (SCRAM's client-final, MD5's answer),
//! by every handshake: handshakes brought to that step together are checked one at a time, and
//! after a failure the others are refused unchecked ([`super::throttle`]). A handshake from an
//! address already backed off is refused at its startup.
//!
//! [`Login`] wraps the startup handler of one connection: it refuses a session started in clear
//! when TLS is on ([`super::tls`]), takes a session slot from the [`Gate`] when the login
//! completes (or refuses with `53300`), registers the connection for `CancelRequest`s, and
//! tells the connection task that the handshake is over (which stops the auth timeout).

use std::fmt::Debug;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::Sink;
use pgwire::api::auth::md5pass::Md5PasswordAuthStartupHandler;
use pgwire::api::auth::sasl::SASLAuthStartupHandler;
use pgwire::api::auth::{DefaultServerParameterProvider, StartupHandler};
use pgwire::api::{ClientInfo, NoopHandler, PgWireConnectionState, METADATA_USER};
use pgwire::error::{ErrorInfo, PgWireError, PgWireResult};
use pgwire::messages::{PgWireBackendMessage, PgWireFrontendMessage};
use tokio::sync::{watch, OwnedSemaphorePermit};

use super::cancel::{CancelFlag, CancelRegistry, Registration};
use super::credentials::Credentials;
use super::limits::Gate;
use super::scram::scram_auth;
use super::throttle::{Check, LoginThrottle};

/// How a password is checked (`--auth`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AuthMethod {
    /// SCRAM-SHA-256 (Postgres' default; with channel binding over TLS).
    #[default]
    ScramSha256,
    /// MD5 (for old clients only: an MD5 answer can be replayed against the same salt and its
    /// hash brute-forced offline).
    Md5,
}

impl AuthMethod {
    /// Every method, in the order `--help` lists them.
    pub const ALL: [AuthMethod; 2] = [Self::ScramSha256, Self::Md5];

    /// Its name (`--auth md5`).
    pub fn name(self) -> &'static str {
        match self {
            Self::ScramSha256 => "scram-sha-256",
            Self::Md5 => "md5",
        }
    }

    /// What it is, in a few words.
    pub fn about(self) -> &'static str {
        match self {
            Self::ScramSha256 => "SCRAM-SHA-256 (Postgres' default; with channel binding over TLS)",
            Self::Md5 => {
                "MD5 (for old clients only: an MD5 answer can be replayed against the same salt \
                 and its hash brute-forced offline)"
            }
        }
    }
}

/// The startup handler in force: open, SCRAM-SHA-256 or MD5 password.
pub enum Startup {
    /// No authentication.
    Open(NoopHandler),
    /// SCRAM-SHA-256 password authentication.
    Scram(SASLAuthStartupHandler<DefaultServerParameterProvider>),
    /// MD5 password authentication.
    Md5(Md5PasswordAuthStartupHandler<Credentials, DefaultServerParameterProvider>),
}

impl Startup {
    /// The handler for `credentials` (`None`: open) checked by `method`; SCRAM binds to the
    /// first certificate of `cert_pem` when TLS is on.
    pub fn new(
        credentials: Option<Credentials>,
        method: AuthMethod,
        cert_pem: Option<&[u8]>,
    ) -> PgWireResult<Self> {
        let parameters = Arc::new(DefaultServerParameterProvider::default());
        Ok(match (credentials, method) {
            (None, _) => Startup::Open(NoopHandler),
            (Some(c), AuthMethod::ScramSha256) => Startup::Scram(
                SASLAuthStartupHandler::new(parameters).with_scram(scram_auth(&c, cert_pem)?),
            ),
            (Some(c), AuthMethod::Md5) => {
                Startup::Md5(Md5PasswordAuthStartupHandler::new(Arc::new(c), parameters))
            }
        })
    }

    /// Whether a password is checked.
    fn checks_password(&self) -> bool {
        !matches!(self, Startup::Open(_))
    }

    /// Whether the handshake is SCRAM's.
    fn is_scram(&self) -> bool {
        matches!(self, Startup::Scram(_))
    }

    /// Whether the `step`-th password-family message of a handshake is the one whose password
    /// is checked: SCRAM's second (client-final), MD5's first.
    fn checks_at(&self, step: usize) -> bool {
        match self {
            Startup::Open(_) => false,
            Startup::Scram(_) => step == 2,
            Startup::Md5(_) => step == 1,
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
            Startup::Scram(h) => h.on_startup(client, message).await,
            Startup::Md5(h) => h.on_startup(client, message).await,
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
    account: Option<String>,
    gate: Gate,
    registry: Arc<CancelRegistry>,
    tls_required: bool,
    flag: Arc<CancelFlag>,
    peer: SocketAddr,
    /// Password-family messages received so far.
    answers: AtomicUsize,
    handshake: Mutex<Option<OwnedSemaphorePermit>>,
    held: Mutex<Option<Held>>,
    done: watch::Sender<bool>,
}

/// What a [`Login`] needs from the server.
pub struct LoginParts {
    /// The shared startup handler.
    pub startup: Arc<Startup>,
    /// The failed logins per address and for the account.
    pub throttle: Arc<LoginThrottle>,
    /// The user name that can log in (`--user`); any when `None`.
    pub account: Option<String>,
    /// The connection slots.
    pub gate: Gate,
    /// Where cancelable connections are registered.
    pub registry: Arc<CancelRegistry>,
    /// Sessions must be over TLS (`--tls-cert` given).
    pub tls_required: bool,
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
            account: parts.account.clone(),
            gate: parts.gate.clone(),
            registry: parts.registry.clone(),
            tls_required: parts.tls_required,
            flag,
            peer,
            answers: AtomicUsize::new(0),
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

    /// Whether `user` is the account that can log in (any name without `--user`).
    fn is_account(&self, user: &str) -> bool {
        self.account.as_deref().is_none_or(|a| a == user)
    }

    /// A wrong password: counted, logged, answered with the one message.
    fn failure(&self, check: Check<'_>, user: &str) -> PgWireError {
        let ip = self.peer.ip();
        let (failures, wait) = check.failed();
        eprintln!(
            "jobsql serve: failed login for user {user:?} from {ip} ({failures} in a row; the \
             next password from there is checked after {} s)",
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
        let password = self.startup.checks_password();
        let is_startup = matches!(message, PgWireFrontendMessage::Startup(_));
        if self.tls_required && !client.is_secure() {
            // Before any password is asked for: it would cross the network in clear.
            return Err(super::tls::clear_text_refused());
        }
        if password && is_startup && self.throttle.backed_off(self.peer.ip()) {
            // Refused at once: its password would not be checked anyway. (Only the address
            // here: the account's backoff applies at the check, where every name is alike.)
            let user = match &message {
                PgWireFrontendMessage::Startup(s) => {
                    s.parameters.get(METADATA_USER).cloned().unwrap_or_default()
                }
                _ => String::new(),
            };
            return Err(login_failed(&user));
        }
        let answer = matches!(message, PgWireFrontendMessage::PasswordMessageFamily(_));
        let step = if password && answer {
            self.answers.fetch_add(1, Ordering::Relaxed) + 1
        } else {
            0
        };
        let message = if self.startup.is_scram() && step == 1 {
            super::sasl::typed_initial_response(message)?
        } else {
            message
        };
        // The message that checks the password waits for its turn, or is refused unchecked.
        let user = Self::user(client);
        let check = if self.startup.checks_at(step) {
            match self
                .throttle
                .check(self.peer.ip(), self.is_account(&user))
                .await
            {
                Some(check) => Some(check),
                None => return Err(login_failed(&user)),
            }
        } else {
            None
        };
        // A message that may complete the login takes a session slot first (the startup when
        // open; with a password, each answer: MD5's one, SCRAM's two).
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
            return Err(match check {
                Some(check) if matches!(e, PgWireError::InvalidPassword(_)) => {
                    self.failure(check, &user)
                }
                // Malformed, out of order: not a password checked, a protocol error.
                _ if password && !is_startup => super::sasl::protocol_error(&e),
                _ => e,
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
            if let Some(check) = check {
                check.succeeded();
            }
            self.done.send_replace(true);
        }
        Ok(())
    }
}
