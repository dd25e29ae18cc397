//! `jobsql mcp`: a Model Context Protocol server, so AI assistants (Claude Desktop, IDE agents,
//! any MCP client) can query the tables. Built on the official Rust SDK (`rmcp`), over stdio
//! ([`serve_stdio`]: the client starts `jobsql mcp` and talks on its stdin/stdout) or
//! streamable HTTP ([`serve_http`], `/mcp` on a loopback address by default).
//!
//! Four tools ([`tools`]): `query` (one statement through the session's one path, read-only
//! unless [`McpOptions::allow_writes`]: [`readonly`]; rows capped at [`McpOptions::max_rows`],
//! the cap stated in the answer and the reading stopped there: [`query`]), `list_tables` and
//! `describe_table` ([`catalog`]), and `explain` (the planned API requests; nothing sent).
//! Answers are text (a summary line, then JSON rows: [`render`]) plus the same as structured
//! content. Every failure is a tool error (`isError: true`) with the user's short message,
//! secrets masked ([`jobsql_core::hints::user_message`], [`jobsql_core::redact`]).
//!
//! The server holds one [`SessionContext`] per MCP session, over the runtime the command built
//! (same workspaces, sign-in, `--max-concurrency` and limits as `jobsql query`), its memory
//! bounded as `serve`'s: `--memory-limit-mb` a session (its statements), within
//! `--total-memory-limit-mb` for all, every function's result counted ([`jobsql_core::memory`]). A client that
//! cancels a call (`notifications/cancelled`) drops its statement: its API requests stop.

pub mod catalog;
pub mod query;
pub mod readonly;
pub mod render;
pub mod tools;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use datafusion::error::DataFusionError;
use datafusion::execution::memory_pool::MemoryPool;
use datafusion::prelude::SessionContext;
use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation,
    ListToolsResult, PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler, ServiceExt};

use jobsql_core::frontend::{sandboxed_session, sessions};
use jobsql_core::memory::pool::{DEFAULT_MEMORY_LIMIT_MB, DEFAULT_TOTAL_MEMORY_LIMIT_MB};
use jobsql_core::memory::TotalPool;
use jobsql_core::output::OutputError;
use jobsql_core::provider::ApiRuntime;
use jobsql_core::session::user_message;
use jobsql_core::spec::SpecSet;
use readonly::WriteRefused;

/// The default of [`McpOptions::max_rows`].
pub const DEFAULT_MAX_ROWS: usize = 1000;

/// How the server answers.
#[derive(Debug, Clone)]
pub struct McpOptions {
    /// Let `query` run INSERT, DELETE, EXEC, COPY, SET and DDL (else refused).
    pub allow_writes: bool,
    /// Most rows one `query` answer holds; reading stops there.
    pub max_rows: usize,
    /// The one directory whose files SQL may read and write (`--allow-files`, canonical); none:
    /// no file on this machine is opened (see [`sandboxed_context`]).
    pub allow_files: Option<PathBuf>,
    /// The memory one session's statement may hold, in bytes (`--memory-limit-mb`).
    pub memory_limit_bytes: usize,
    /// The memory all sessions draw on (`--total-memory-limit-mb`).
    pub total_memory: TotalPool,
}

impl Default for McpOptions {
    fn default() -> Self {
        McpOptions {
            allow_writes: false,
            max_rows: DEFAULT_MAX_ROWS,
            allow_files: None,
            memory_limit_bytes: DEFAULT_MEMORY_LIMIT_MB << 20,
            total_memory: TotalPool::new(DEFAULT_TOTAL_MEMORY_LIMIT_MB << 20),
        }
    }
}

/// Errors of the MCP server: those of a tool call become tool errors (their text is what the
/// client reads); the others stop the server.
#[derive(Debug, thiserror::Error)]
pub enum McpError {
    /// The SQL does not parse.
    #[error("{}", user_message(.0))]
    Sql(#[source] DataFusionError),
    /// The SQL holds no statement.
    #[error("no SQL statement given")]
    NoStatement,
    /// The SQL holds several statements.
    #[error("one statement per call, please: this SQL holds {0}")]
    SeveralStatements(usize),
    /// The statement failed (planning, the API, ...).
    #[error("{}", user_message(.0))]
    Statement(#[source] DataFusionError),
    /// A write on a read-only server.
    #[error(transparent)]
    WriteRefused(#[from] WriteRefused),
    /// `explain` of an EXEC (which has no plan).
    #[error("EXEC has no plan to explain: it calls the one API method it names")]
    ExplainExec,
    /// `explain` of an EXPLAIN.
    #[error("give explain the statement itself, without EXPLAIN")]
    ExplainExplain,
    /// `describe_table` of something that is not a table name.
    #[error("not a table name: {0:?}")]
    BadTableName(String),
    /// A tool's arguments do not match its schema.
    #[error("bad arguments for {tool}: {message}")]
    Arguments {
        /// The tool.
        tool: String,
        /// What is wrong (serde's words: the missing or unknown field).
        message: String,
    },
    /// No such tool.
    #[error("no tool named {0:?} (tools: query, list_tables, describe_table, explain)")]
    UnknownTool(String),
    /// The rows could not be rendered.
    #[error(transparent)]
    Output(OutputError),
    /// `--max-rows 0`.
    #[error("--max-rows must be at least 1")]
    NoRows,
    /// `--memory-limit-mb 0` or `--total-memory-limit-mb 0`.
    #[error("--memory-limit-mb and --total-memory-limit-mb must be at least 1")]
    NoMemory,
    /// A non-loopback `--addr` without `--allow-remote`.
    #[error(
        "refusing to listen on {0}: the MCP server has no sign-in of its own, so anyone who \
         can reach it could query (and with --allow-writes change) your workspaces with your \
         credentials; use a loopback address such as 127.0.0.1:8765, or pass --allow-remote"
    )]
    NotLoopback(SocketAddr),
    /// `--allow-files` names no usable directory.
    #[error(transparent)]
    Files(jobsql_core::frontend::sandbox::SandboxError),
    /// The session could not be set up.
    #[error("{}", user_message(.0))]
    Session(#[source] DataFusionError),
    /// The transport failed (stdio closed mid-handshake, the port taken, ...).
    #[error("MCP transport: {0}")]
    Transport(String),
}

/// A session as `jobsql query`'s, except for files: like `jobsql serve`'s, it opens none on
/// this machine unless under `allow_files` (`--allow-files DIR`). An assistant's SQL is written
/// by a model that reads untrusted text (run names, logs, web pages), so a prompt injected there
/// must not turn `SELECT * FROM '~/.config/gcloud/credentials.json'` or `COPY ... TO` into a
/// way to read or write the user's files; no spilling to disk either. Nor may it take the
/// machine's memory: the session's statements draw on `pool` (as `serve`'s,
/// [`jobsql_core::memory::pool`]), every function's result counted in it.
pub fn sandboxed_context(
    specs: &SpecSet,
    runtime: Arc<ApiRuntime>,
    allow_files: Option<PathBuf>,
    pool: Arc<dyn MemoryPool>,
) -> datafusion::error::Result<SessionContext> {
    sandboxed_session(&sessions(specs.clone(), runtime), allow_files, pool)
}

/// The MCP server of one session: a SQL session over the shared runtime, the specs (for
/// `list_tables`), and the options.
#[derive(Clone)]
pub struct McpServer {
    ctx: SessionContext,
    specs: Arc<SpecSet>,
    options: Arc<McpOptions>,
}

impl McpServer {
    /// A server over `specs` and `runtime` (a new session of its own).
    pub fn new(
        specs: Arc<SpecSet>,
        runtime: Arc<ApiRuntime>,
        options: Arc<McpOptions>,
    ) -> Result<McpServer, McpError> {
        if options.max_rows == 0 {
            return Err(McpError::NoRows);
        }
        if options.memory_limit_bytes == 0 {
            return Err(McpError::NoMemory);
        }
        let pool = options.total_memory.session(options.memory_limit_bytes);
        let ctx = sandboxed_context(&specs, runtime, options.allow_files.clone(), pool)
            .map_err(McpError::Session)?;
        Ok(McpServer {
            ctx,
            specs,
            options,
        })
    }

    /// The tools this server offers.
    pub fn tools(&self) -> Vec<Tool> {
        tools::tools(self)
    }
}

const INSTRUCTIONS: &str = "SQL over cloud job APIs (Databricks job runs, jobs, ...). Start with \
    list_tables, then describe_table to see the columns and which WHERE predicates are sent to \
    the API; explain shows the requests a query would make; query runs one statement.";

impl ServerHandler for McpServer {
    fn get_info(&self) -> ServerConfig {
        let mut server = Implementation::new("jobsql", env!("CARGO_PKG_VERSION"));
        server.title = Some("jobsql: SQL over cloud job APIs".to_string());
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(server)
            .with_instructions(INSTRUCTIONS)
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(self.tools()))
    }

    fn get_tool(&self, name: &str) -> Option<Tool> {
        self.tools().into_iter().find(|t| t.name == name)
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        // A cancelled call drops the statement's future: its requests stop.
        let result = tokio::select! {
            result = tools::call(self, &request.name, request.arguments) => result,
            _ = context.ct.cancelled() => CallToolResult::error(vec![ContentBlock::text(
                "cancelled by the client",
            )]),
        };
        Ok(result.into())
    }
}

/// Serve one MCP session on stdin/stdout until the client closes it.
pub async fn serve_stdio(server: McpServer) -> Result<(), McpError> {
    let running = server
        .serve(rmcp::transport::stdio())
        .await
        .map_err(|e| McpError::Transport(e.to_string()))?;
    running
        .waiting()
        .await
        .map_err(|e| McpError::Transport(e.to_string()))?;
    Ok(())
}

/// A bound streamable-HTTP MCP server, until [`HttpServer::shutdown`].
pub struct HttpServer {
    addr: SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    cancel: Box<dyn FnOnce() + Send>,
    task: tokio::task::JoinHandle<()>,
}

impl HttpServer {
    /// The address it listens on (the port chosen when `:0` was given).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The MCP endpoint's URL.
    pub fn url(&self) -> String {
        format!("http://{}/mcp", self.addr)
    }

    /// Stop accepting, let requests in flight finish, and stop.
    pub async fn shutdown(self) {
        // Open event streams end with the sessions; then the listener stops.
        (self.cancel)();
        let _ = self.stop.send(());
        let _ = self.task.await;
    }
}

/// Listen on `addr` (loopback only unless `allow_remote`) and serve MCP over streamable HTTP at
/// `/mcp`, one [`McpServer`] (one SQL session) per MCP session, made by `make`.
pub async fn serve_http(
    addr: SocketAddr,
    allow_remote: bool,
    make: impl Fn() -> Result<McpServer, McpError> + Send + Sync + 'static,
) -> Result<HttpServer, McpError> {
    if !allow_remote && !addr.ip().is_loopback() {
        return Err(McpError::NotLoopback(addr));
    }
    // Check the session can be built before listening.
    make()?;
    let mut config = StreamableHttpServerConfig::default();
    if allow_remote {
        // The Host check guards a loopback server against DNS rebinding; a server meant to be
        // reached by other names must accept them.
        config = config.with_allowed_hosts(Vec::<String>::new());
    }
    let token = config.cancellation_token.clone();
    let cancel: Box<dyn FnOnce() + Send> = Box::new(move || token.cancel());
    let service = StreamableHttpService::new(
        move || make().map_err(|e| std::io::Error::other(e.to_string())),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    let router = axum::Router::new().nest_service("/mcp", service);
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| McpError::Transport(format!("cannot listen on {addr}: {e}")))?;
    let addr = listener
        .local_addr()
        .map_err(|e| McpError::Transport(e.to_string()))?;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async {
                let _ = stopped.await;
            })
            .await;
    });
    Ok(HttpServer {
        addr,
        stop,
        cancel,
        task,
    })
}
