//! `SELECT ... FROM 'runs.parquet'` on `jobsql serve`: files as tables, within the sandbox.
//!
//! DataFusion's own url tables turn every failure to open a file into "table not found", which
//! would hide why a file is refused. [`with_url_tables`] installs [`SandboxUrlTables`] instead:
//! a table name that looks like a file (a `/`, a `~`, a URL scheme or a data file extension) is
//! checked against the sandbox first — refused with [`SandboxError`] when no file may be opened
//! or it lies outside `--allow-files` — and otherwise opened as DataFusion does (format and
//! schema inferred). Other names are left to the catalog ("table not found" as usual). The
//! object stores check every path again when the file is read ([`super::sandbox`]).

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use async_trait::async_trait;
use datafusion::catalog::{DynamicFileCatalog, UrlTableFactory};
use datafusion::datasource::listing::{
    ListingTable, ListingTableConfig, ListingTableConfigExt, ListingTableUrl,
};
use datafusion::datasource::TableProvider;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::context::SessionState;
use datafusion::prelude::SessionContext;

use super::sandbox::{SandboxError, SandboxStore};

/// The session's current state, while the session lives (set once it is built).
type StateRef = Box<dyn Fn() -> Option<SessionState> + Send + Sync>;

/// Files as tables, checked against the sandbox.
pub struct SandboxUrlTables {
    root: Option<PathBuf>,
    state: OnceLock<StateRef>,
}

impl std::fmt::Debug for SandboxUrlTables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxUrlTables")
            .field("root", &self.root)
            .finish()
    }
}

/// Extensions of the files DataFusion reads.
const EXTENSIONS: &[&str] = &[
    ".csv", ".tsv", ".parquet", ".json", ".ndjson", ".avro", ".arrow",
];

/// Whether a table name is meant as a file.
fn looks_like_a_file(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    name.contains('/')
        || name.contains('\\')
        || name.starts_with('~')
        || name.contains("://")
        || EXTENSIONS.iter().any(|e| lower.ends_with(e))
}

fn refuse(e: SandboxError) -> DataFusionError {
    DataFusionError::External(Box::new(e))
}

/// Check `url` against the sandbox of `root`.
fn check(root: Option<&Path>, url: &ListingTableUrl) -> Result<()> {
    let Some(root) = root else {
        return Err(refuse(SandboxError::NoFiles));
    };
    if url.scheme() != "file" {
        return Err(refuse(SandboxError::Scheme(url.scheme().to_string())));
    }
    SandboxStore::new(root.to_path_buf())
        .check(url.prefix())
        .map_err(|e| DataFusionError::ObjectStore(Box::new(e)))
}

/// Refuse a location (`COPY ... TO`, `CREATE EXTERNAL TABLE ... LOCATION`) outside the sandbox
/// of `root` (no file at all when `None`), before anything is opened or written.
pub fn check_location(root: Option<&Path>, location: &str) -> Result<()> {
    match ListingTableUrl::parse(location) {
        Ok(url) => check(root, &url),
        Err(_) if root.is_none() => Err(refuse(SandboxError::NoFiles)),
        // Not a location DataFusion can open; it says so itself.
        Err(_) => Ok(()),
    }
}

impl SandboxUrlTables {
    fn state(&self) -> Option<SessionState> {
        (self.state.get()?)()
    }
}

#[async_trait]
impl UrlTableFactory for SandboxUrlTables {
    async fn try_new(&self, url: &str) -> Result<Option<Arc<dyn TableProvider>>> {
        if !looks_like_a_file(url) {
            return Ok(None);
        }
        let table_url = match ListingTableUrl::parse(url) {
            Ok(u) => u,
            Err(_) if self.root.is_none() => return Err(refuse(SandboxError::NoFiles)),
            Err(_) => return Ok(None),
        };
        check(self.root.as_deref(), &table_url)?;
        let state = self
            .state()
            .ok_or_else(|| DataFusionError::Plan("the session is gone".to_string()))?;
        // As DataFusion's url tables: a file whose format cannot be told is not a table.
        match ListingTableConfig::new(table_url)
            .infer_options(&state)
            .await
        {
            Ok(config) => {
                let config = config
                    .infer_partitions_from_path(&state)
                    .await?
                    .infer_schema(&state)
                    .await?;
                Ok(Some(Arc::new(ListingTable::try_new(config)?)))
            }
            Err(_) => Ok(None),
        }
    }
}

/// `ctx` with files as tables, opened only under `root` (none when `None`).
pub fn with_url_tables(ctx: SessionContext, root: Option<PathBuf>) -> SessionContext {
    let factory = Arc::new(SandboxUrlTables {
        root,
        state: OnceLock::new(),
    });
    let catalogs = Arc::new(DynamicFileCatalog::new(
        ctx.state().catalog_list().clone(),
        factory.clone() as Arc<dyn UrlTableFactory>,
    ));
    let id = ctx.session_id();
    let ctx: SessionContext = ctx
        .into_state_builder()
        .with_session_id(id)
        .with_catalog_list(catalogs)
        .build()
        .into();
    let weak = ctx.state_weak_ref();
    let state: StateRef = Box::new(move || weak.upgrade().map(|s| s.read().clone()));
    let _ = factory.state.set(state);
    ctx
}
