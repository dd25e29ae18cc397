//! `jobsql serve`: the same tables over the Postgres wire protocol, for psql, BI tools and
//! drivers (psycopg, JDBC, tokio-postgres).
//!
//! [`start`] binds the address and accepts connections until [`ServerHandle::shutdown`]; each
//! connection gets its own `SessionContext` from the caller's factory (one shared
//! [`ApiRuntime`](crate::provider::ApiRuntime), so one HTTP connection pool) and runs on its own
//! task: a slow query, an API error or a client that vanishes affects that connection only.
//!
//! - [`handler`]: the simple and extended query protocols over DataFusion.
//! - [`encode`]: Arrow ⇄ Postgres types and values.
//! - [`compat`]: session commands drivers send (`SET`, `BEGIN`, `SHOW search_path`, ...).
//! - [`catalog`]: the Postgres catalog bits BI tools and psql ask for (`version()`,
//!   `pg_catalog.pg_type`, `pg_class`, ...).
//! - [`auth`]: open on loopback, MD5 password otherwise.
//!
//! Binding an address other than loopback without a password is refused
//! ([`ServeOptions::check`]): the server answers with the workspace credentials it was given.
//! There is no TLS; put the server behind a TLS-terminating proxy to reach it over a network.

pub mod auth;
pub mod catalog;
pub mod compat;
pub mod encode;
pub mod handler;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use datafusion::prelude::SessionContext;
use pgwire::api::auth::StartupHandler;
use pgwire::api::query::{ExtendedQueryHandler, SimpleQueryHandler};
use pgwire::api::PgWireServerHandlers;
use tokio::net::TcpListener;
use tokio::sync::oneshot;

use auth::{Credentials, Startup};
use handler::Connection;

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// A non-loopback address without a password.
    #[error(
        "refusing to listen on {0} without a password: anyone who reaches it could query your \
         workspaces with your token. Listen on 127.0.0.1 (the default), or set --password"
    )]
    Unprotected(SocketAddr),
    /// `--user` without `--password`.
    #[error("--user needs --password")]
    UserWithoutPassword,
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
}

/// Where and for whom the server listens.
#[derive(Clone)]
pub struct ServeOptions {
    /// The address (port 0: any free port).
    pub addr: SocketAddr,
    /// The user name clients must give (with `password`); any when `None`.
    pub user: Option<String>,
    /// The password clients must give; none needed when `None` (loopback only).
    pub password: Option<String>,
}

impl std::fmt::Debug for ServeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeOptions")
            .field("addr", &self.addr)
            .field("user", &self.user)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl ServeOptions {
    /// Refuse what would expose the workspaces: no password off loopback; a user without one.
    pub fn check(&self) -> Result<(), ServeError> {
        if self.password.is_none() {
            if self.user.is_some() {
                return Err(ServeError::UserWithoutPassword);
            }
            if !self.addr.ip().is_loopback() {
                return Err(ServeError::Unprotected(self.addr));
            }
        }
        Ok(())
    }

    fn credentials(&self) -> Option<Credentials> {
        self.password.as_ref().map(|p| Credentials {
            user: self.user.clone(),
            password: p.clone(),
        })
    }
}

/// Builds each connection's session (e.g. [`crate::session::new_context`] over a shared runtime).
pub type ContextFactory =
    Arc<dyn Fn() -> datafusion::error::Result<SessionContext> + Send + Sync + 'static>;

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
    startup: Arc<Startup>,
}

impl PgWireServerHandlers for Handlers {
    fn simple_query_handler(&self) -> Arc<impl SimpleQueryHandler> {
        self.connection.clone()
    }

    fn extended_query_handler(&self) -> Arc<impl ExtendedQueryHandler> {
        self.connection.clone()
    }

    fn startup_handler(&self) -> Arc<impl StartupHandler> {
        self.startup.clone()
    }
}

/// Check `options`, bind, and serve connections on a background task.
pub async fn start(
    options: ServeOptions,
    factory: ContextFactory,
) -> Result<ServerHandle, ServeError> {
    options.check()?;
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
    let startup = Arc::new(Startup::new(options.credentials()));
    let (stop, mut stopped) = oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        loop {
            let socket = tokio::select! {
                _ = &mut stopped => break,
                accepted = listener.accept() => match accepted {
                    Ok((socket, _)) => socket,
                    Err(e) => {
                        // Out of file descriptors and the like: say so, wait, go on.
                        eprintln!("jobsql serve: cannot accept a connection: {e}");
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
            };
            let factory = factory.clone();
            let startup = startup.clone();
            tokio::spawn(async move {
                let ctx = match factory() {
                    Ok(ctx) => ctx,
                    Err(e) => {
                        eprintln!(
                            "jobsql serve: cannot set up a session: {}",
                            crate::session::user_message(&e)
                        );
                        return;
                    }
                };
                if let Err(e) = catalog::register(&ctx).await {
                    eprintln!(
                        "jobsql serve: cannot set up the catalog: {}",
                        crate::session::user_message(&e)
                    );
                    return;
                }
                let handlers = Handlers {
                    connection: Arc::new(Connection::new(ctx)),
                    startup,
                };
                // A client that disconnects mid-way ends its own task; nothing else to do.
                let _ = pgwire::tokio::process_socket(socket, None, handlers).await;
            });
        }
    });
    Ok(ServerHandle {
        addr,
        stop: Some(stop),
        task,
    })
}
