//! `jobsql serve`: the same tables over the Postgres wire protocol, for psql, BI tools and
//! drivers (psycopg, JDBC, tokio-postgres).
//!
//! [`start`] binds the address and accepts connections until [`ServerHandle::shutdown`]; each
//! connection gets its own `SessionContext` from the caller's [`ContextFactory`] (one shared
//! [`ApiRuntime`](jobsql_core::provider::ApiRuntime), so one HTTP connection pool) and runs on its own
//! task: a slow query, an API error or a client that vanishes affects that connection only.
//!
//! A client gets the server's workspace credentials, not its machine, nor all of its memory:
//! [`jobsql_core::frontend`] opens no file unless `--allow-files DIR`, then only under DIR,
//! allows `SET` only of harmless settings and no in-memory tables; [`jobsql_core::memory`]
//! gives each session (one statement at a time, so each statement) a memory pool within one for
//! the server, with no spilling to disk.
//!
//! The crate is cut in four parts, lowest first; a part uses only the parts before it, and no
//! file imports a file that imports it back (the `layering` test checks the file graph):
//!
//! - [`encode`]: Arrow ⇄ Postgres — the one type mapping ([`encode::types`]), values in text
//!   and binary, lists as Postgres arrays, bind parameters. It knows no statement and no
//!   connection: the catalog and the protocol both describe columns with it, so what a catalog
//!   says a column is and what a client receives cannot differ.
//! - [`catalog`]: the Postgres catalog bits BI tools and psql ask for (`version()`,
//!   `pg_catalog.pg_type`, `pg_class`, `pg_attribute`, `current_user`, `format_type`, ...), the
//!   Postgres settings `SHOW` reports, and the rewrite rules for the Postgres SQL DataFusion
//!   does not plan (`COLLATE`, `OPERATOR(...)`, `::regclass`, `ANY('{...}')`, catalog queries
//!   over empty tables), each rule in its file, run from one list. Per session, read-only.
//! - [`server`]: a connection's life before and around its statements — the accept loop's
//!   socket, TLS, the message frames and their caps, the login (open on loopback, SCRAM-SHA-256
//!   or MD5 otherwise, failed logins backed off), `CancelRequest` and the statement timeout,
//!   the limits. It reads no SQL.
//! - [`protocol`]: the statements of a logged-in client — one classifier on sqlparser's tree
//!   ([`protocol::classify`]) deciding what each query string is (a session command, a cursor
//!   statement, `COPY ... TO STDOUT`, statements for DataFusion), the simple and extended query
//!   protocols answering it with rows streamed as produced, cursors, `COPY`, command tags. The
//!   one connection type ([`protocol::connection::Connection`]) holds every inherent method;
//!   the two protocols are trait implementations on it, in files of their own.
//!
//! Why this cut: the three kinds of knowledge change for different reasons (a new Arrow type,
//! a new BI tool's catalog query, a new driver's statement) and were tangled in 30 flat files
//! with import cycles (encode ⇄ arrays ⇄ catalog ⇄ pg_types, rewrite ⇄ rewrite_catalog,
//! handler ⇄ respond ⇄ cursors, auth ⇄ scram). Each cycle was broken by moving the shared piece
//! down: the type mapping below both values and catalog, the text forms below arrays and
//! `COPY`, the rules' shared tree helpers below the rules, the connection's methods into one
//! file below the protocols, the credentials below both password methods.
//!
//! Binding an address other than loopback without a password (an empty one counts as none) is
//! refused ([`ServeOptions::check`]): the server answers with the workspace credentials it was
//! given.

pub mod server;
pub mod encode;
pub mod catalog;
pub mod protocol;
#[cfg(test)]
mod layering;

/// The limits of `serve` (also at their old path, `jobsql_pgwire::limits`).
pub use server::limits;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use datafusion::prelude::SessionContext;
use pgwire::api::auth::StartupHandler;
use pgwire::api::cancel::CancelHandler;
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::PgWireServerHandlers;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{oneshot, OwnedSemaphorePermit};

use jobsql_core::frontend::sandbox;
use jobsql_core::frontend::sandboxed_session;
pub use jobsql_core::frontend::ContextFactory;
use jobsql_core::memory::TotalPool;
use protocol::connection::Connection;
pub use server::auth::AuthMethod;
use server::auth::{Login, LoginParts, Startup};
use server::cancel::{peer_closed, watch_handle, CancelFlag, CancelRegistry};
use server::credentials::Credentials;
use server::limits::Gate;
pub use server::limits::Limits;
use server::throttle::LoginThrottle;
use server::tls;
pub use server::tls::{TlsError, TlsFiles};
use server::wire;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A non-loopback address without a password.
    #[error(
        "refusing to listen on {0} without a password: anyone who reaches it could query your \
         workspaces with your token. Listen on 127.0.0.1 (the default), or set --password \
         (not empty)"
    )]
    Unprotected(SocketAddr),
    /// `--user` without `--password`.
    #[error("--user needs --password (not empty)")]
    UserWithoutPassword,
    /// A limit that cannot work (zero connections, zero memory).
    #[error("{0}")]
    BadLimit(&'static str),
    /// `--allow-files` names no usable directory.
    #[error(transparent)]
    Files(#[from] sandbox::SandboxError),
    /// `--tls-cert` / `--tls-key` cannot be used.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
}

/// Where and for whom the server listens, and its bounds.
#[derive(Clone)]
pub struct ServeOptions {
    /// The address (port 0: any free port).
    pub addr: SocketAddr,
    /// The user name clients must give (with `password`); any when `None`.
    pub user: Option<String>,
    /// The password clients must give; none needed when `None` or empty (loopback only).
    pub password: Option<String>,
    /// How the password is checked.
    pub auth: AuthMethod,
    /// The certificate and key of TLS; sessions in clear when `None`, TLS only otherwise.
    pub tls: Option<TlsFiles>,
    /// What clients may use of the server.
    pub limits: Limits,
}

impl std::fmt::Debug for ServeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeOptions")
            .field("addr", &self.addr)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field("auth", &self.auth)
            .field("tls", &self.tls)
            .field("limits", &self.limits)
            .finish()
    }
}

impl ServeOptions {
    /// Options for `addr`, open (no password), with the default limits.
    pub fn new(addr: SocketAddr) -> Self {
        ServeOptions {
            addr,
            user: None,
            password: None,
            auth: AuthMethod::default(),
            tls: None,
            limits: Limits::default(),
        }
    }

    /// The password, if there is one (an empty one is none).
    fn password(&self) -> Option<&str> {
        self.password.as_deref().filter(|p| !p.is_empty())
    }

    /// Refuse what would expose the workspaces — no password off loopback, a user without
    /// one — TLS files that cannot be used, and limits that cannot work.
    pub fn check(&self) -> Result<(), ServeError> {
        if let Some(tls) = &self.tls {
            tls.acceptor()?;
        }
        if self.password().is_none() {
            if self.user.is_some() {
                return Err(ServeError::UserWithoutPassword);
            }
            if !self.addr.ip().is_loopback() {
                return Err(ServeError::Unprotected(self.addr));
            }
        }
        if self.limits.max_connections == 0 {
            return Err(ServeError::BadLimit("--max-connections must be at least 1"));
        }
        if !(1 << 20..=limits::MAX_MAX_MESSAGE_MB << 20).contains(&self.limits.max_message_bytes) {
            return Err(ServeError::BadLimit(
                "--max-message-mb must be between 1 and 1023",
            ));
        }
        if self.limits.memory_limit_bytes == 0 || self.limits.total_memory_limit_bytes == 0 {
            return Err(ServeError::BadLimit(
                "--memory-limit-mb and --total-memory-limit-mb must be at least 1",
            ));
        }
        Ok(())
    }

    fn credentials(&self) -> Option<Credentials> {
        self.password().map(|p| Credentials {
            user: self.user.clone(),
            password: p.to_string(),
        })
    }
}

/// A session for one connection: `factory`'s, in a sandboxed, memory-bounded environment.
fn session(
    factory: &ContextFactory,
    limits: &Limits,
    total: &TotalPool,
) -> datafusion::error::Result<SessionContext> {
    sandboxed_session(
        factory,
        limits.allow_files.clone(),
        total.session(limits.memory_limit_bytes),
    )
}

/// A running server.
pub struct ServerHandle {
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl ServerHandle {
    /// The address it listens on (the real port when 0 was asked).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stop accepting connections (open ones finish on their own).
    pub async fn shutdown(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        let _ = (&mut self.task).await;
    }

    /// Serve until the process ends (or the accept loop stops).
    pub async fn wait(mut self) {
        let _ = (&mut self.task).await;
    }
}

/// The handlers of one connection.
struct Handlers {
    connection: Arc<Connection>,
    login: Arc<Login>,
    cancel: Arc<CancelRegistry>,
}

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.connection.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.connection.clone()
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        self.login.clone()
    }

    fn cancel_handler(&self) -> Arc<impl CancelHandler> {
        self.cancel.clone()
    }
}

/// What every connection shares.
struct Shared {
    factory: ContextFactory,
    memory: TotalPool,
    limits: Limits,
    login: LoginParts,
    tls: Option<pgwire::tokio::TlsAcceptor>,
}

/// Check `options`, bind, and serve connections on a background task.
pub async fn start(
    options: ServeOptions,
    factory: ContextFactory,
) -> Result<ServerHandle, ServeError> {
    options.check()?;
    let mut limits = options.limits.clone();
    if let Some(dir) = &limits.allow_files {
        limits.allow_files = Some(sandbox::canonical_root(dir)?);
    }
    let listener = TcpListener::bind(options.addr)
        .await
        .map_err(|source| ServeError::Bind {
            addr: options.addr,
            source,
        })?;
    let addr = listener.local_addr().map_err(|source| ServeError::Bind {
        addr: options.addr,
        source,
    })?;
    let (tls, cert_pem) = match &options.tls {
        Some(files) => (Some(files.acceptor()?), Some(files.cert_pem()?)),
        None => (None, None),
    };
    let startup = Startup::new(options.credentials(), options.auth, cert_pem.as_deref())
        .map_err(|e| tls::channel_binding_error(options.tls.as_ref(), e))?;
    let gate = Gate::new(limits.max_connections);
    let shared = Arc::new(Shared {
        factory,
        memory: TotalPool::new(limits.total_memory_limit_bytes),
        login: LoginParts {
            startup: Arc::new(startup),
            throttle: Arc::new(LoginThrottle::new(limits.login_backoff)),
            account: options.user.clone(),
            gate: gate.clone(),
            registry: Arc::new(CancelRegistry::default()),
            tls_required: tls.is_some(),
        },
        tls,
        limits,
    });
    let (stop, mut stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        loop {
            let (socket, peer) = tokio::select! {
                _ = &mut stopped => break,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(e) => {
                        // Out of file descriptors and the like: say so, wait, go on.
                        eprintln!("jobsql serve: cannot accept a connection: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            match gate.handshake() {
                Some(permit) => {
                    tokio::spawn(serve_connection(shared.clone(), socket, peer, permit));
                }
                None => gate.refuse(socket),
            }
        }
    });
    Ok(ServerHandle {
        addr,
        stop: Some(stop),
        task,
    })
}

/// One connection, until it ends, its client goes away, or its handshake takes too long.
async fn serve_connection(
    shared: Arc<Shared>,
    socket: TcpStream,
    peer: SocketAddr,
    handshake: OwnedSemaphorePermit,
) {
    let Ok((socket, watch)) = watch_handle(socket) else {
        return;
    };
    let ctx = match session(&shared.factory, &shared.limits, &shared.memory) {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!(
                "jobsql serve: cannot set up a session: {}",
                jobsql_core::session::user_message(&e)
            );
            return;
        }
    };
    if let Err(e) = catalog::session::register(&ctx).await {
        eprintln!(
            "jobsql serve: cannot set up the catalog: {}",
            jobsql_core::session::user_message(&e)
        );
        return;
    }
    let flag = Arc::new(CancelFlag::default());
    let login = Arc::new(Login::new(&shared.login, flag.clone(), peer, handshake));
    let mut logged_in = login.done();
    let mut watching = login.done();
    let caps_switch = login.done();
    let handlers = Handlers {
        connection: Arc::new(Connection::new(ctx, flag, shared.limits.clone())),
        login,
        cancel: shared.login.registry.clone(),
    };
    let auth_timeout = shared.limits.auth_timeout;
    let handshake_deadline = async move {
        let done = tokio::time::timeout(auth_timeout, async {
            logged_in.wait_for(|done| *done).await.is_ok()
        })
        .await;
        if done == Ok(true) {
            // Logged in: no deadline any more.
            futures::future::pending::<()>().await;
        }
    };
    // A client gone away, once logged in (before, the handshake has its deadline; and a
    // CancelRequest's client closes its socket right after sending it).
    let gone = async move {
        if watching.wait_for(|done| *done).await.is_ok() {
            peer_closed(watch).await;
        } else {
            futures::future::pending::<()>().await;
        }
    };
    // Whichever ends first ends the connection: dropping the protocol future drops the
    // statement running in it.
    tokio::select! {
        _ = wire::serve_socket(
            socket,
            peer,
            shared.tls.clone(),
            handlers,
            shared.limits.message_caps(),
            caps_switch,
        ) => {}
        _ = gone => {}
        _ = handshake_deadline => {}
    }
}
