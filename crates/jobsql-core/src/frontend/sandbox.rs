//! What a `jobsql serve` client may open on the server's machine: nothing, unless the operator
//! names a directory with `--allow-files DIR`.
//!
//! DataFusion opens every file — `CREATE EXTERNAL TABLE ... LOCATION`, `COPY ... TO`,
//! `SELECT ... FROM 'file.parquet'`, schema inference, listings — through the session's
//! [`ObjectStoreRegistry`]. Each connection's session gets a [`SandboxRegistry`]: without
//! `--allow-files` it refuses every URL; with it, it hands out one [`SandboxStore`], the local
//! filesystem behind a check of every path: the path (its nearest existing ancestor for a file
//! still to be written) is canonicalised — `..` and symlinks resolved — and must lie under the
//! canonical DIR. Listings leave out entries that resolve outside. Other schemes (`s3://`, ...)
//! are always refused. (A path swapped for a symlink between the check and the open is not
//! caught: DIR should not be writable by untrusted local users.)

use std::fmt;
use std::path::{Component, Path as FsPath, PathBuf};
use std::sync::Arc;

use async_trait::async_trait;
use datafusion::common::DataFusionError;
use datafusion::execution::object_store::ObjectStoreRegistry;
use datafusion::object_store::local::LocalFileSystem;
use datafusion::object_store::path::Path;
use datafusion::object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, Result as StoreResult,
};
use futures::stream::BoxStream;
use futures::StreamExt;
use url::Url;

/// Why a file was not opened.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// No `--allow-files`: no file at all.
    #[error(
        "jobsql serve and jobsql mcp open no file on their machine (start them with \
         --allow-files DIR to allow reading and writing under DIR)"
    )]
    NoFiles,
    /// A scheme other than `file://`.
    #[error(
        "jobsql serve and jobsql mcp open only local files under --allow-files, not {0}:// URLs"
    )]
    Scheme(String),
    /// A path that resolves outside the allowed directory.
    #[error("it is outside {0} (--allow-files); `..` and symlinks are resolved before checking")]
    Outside(String),
    /// `--allow-files` names no usable directory.
    #[error("--allow-files {path}: {source}")]
    BadRoot {
        /// The directory given.
        path: String,
        /// The cause.
        source: std::io::Error,
    },
}

/// The object stores of one serve session.
#[derive(Debug)]
pub struct SandboxRegistry {
    store: Option<Arc<SandboxStore>>,
}

impl SandboxRegistry {
    /// No files (`root` `None`), or the files under `root` (already canonical).
    pub fn new(root: Option<PathBuf>) -> Self {
        SandboxRegistry {
            store: root.map(|root| {
                Arc::new(SandboxStore {
                    inner: LocalFileSystem::new(),
                    root,
                })
            }),
        }
    }
}

/// `dir` canonicalised, checked to be a directory (for `--allow-files`).
pub fn canonical_root(dir: &FsPath) -> Result<PathBuf, SandboxError> {
    let bad = |source| SandboxError::BadRoot {
        path: dir.display().to_string(),
        source,
    };
    let root = std::fs::canonicalize(dir).map_err(bad)?;
    if !root.is_dir() {
        return Err(bad(std::io::Error::other("not a directory")));
    }
    Ok(root)
}

impl ObjectStoreRegistry for SandboxRegistry {
    /// Stores cannot be added to a sandboxed session.
    fn register_store(
        &self,
        _url: &Url,
        _store: Arc<dyn ObjectStore>,
    ) -> Option<Arc<dyn ObjectStore>> {
        None
    }

    fn get_store(&self, url: &Url) -> datafusion::error::Result<Arc<dyn ObjectStore>> {
        let refuse = |e: SandboxError| DataFusionError::External(Box::new(e));
        match (&self.store, url.scheme()) {
            (None, _) => Err(refuse(SandboxError::NoFiles)),
            (Some(store), "file") => Ok(store.clone()),
            (Some(_), scheme) => Err(refuse(SandboxError::Scheme(scheme.to_string()))),
        }
    }
}

/// The local filesystem, limited to the paths under `root`.
#[derive(Debug)]
pub struct SandboxStore {
    inner: LocalFileSystem,
    root: PathBuf,
}

impl fmt::Display for SandboxStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SandboxStore({})", self.root.display())
    }
}

/// `path` with symlinks and `..` resolved: its nearest existing ancestor canonicalised, the
/// rest (which does not exist yet) appended. `None` when that rest holds `..`.
fn resolve(path: &FsPath) -> std::io::Result<Option<PathBuf>> {
    if path.components().any(|c| c == Component::ParentDir) {
        return Ok(None);
    }
    let mut existing = path;
    let mut rest: Vec<&std::ffi::OsStr> = Vec::new();
    loop {
        match std::fs::canonicalize(existing) {
            Ok(base) => return Ok(Some(rest.iter().rev().fold(base, |p, s| p.join(s)))),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                match (existing.file_name(), existing.parent()) {
                    (Some(name), Some(parent)) => {
                        rest.push(name);
                        existing = parent;
                    }
                    _ => return Ok(None),
                }
            }
            Err(e) => return Err(e),
        }
    }
}

impl SandboxStore {
    /// The local filesystem under `root` (canonical).
    pub fn new(root: PathBuf) -> Self {
        SandboxStore {
            inner: LocalFileSystem::new(),
            root,
        }
    }

    /// Refuse `location` unless it resolves under the root.
    pub fn check(&self, location: &Path) -> StoreResult<()> {
        let path = self.inner.path_to_filesystem(location)?;
        let inside = resolve(&path)
            .ok()
            .flatten()
            .is_some_and(|p| p.starts_with(&self.root));
        if inside {
            Ok(())
        } else {
            Err(datafusion::object_store::Error::PermissionDenied {
                path: path.display().to_string(),
                source: Box::new(SandboxError::Outside(self.root.display().to_string())),
            })
        }
    }

    /// A listing without the entries that resolve outside the root.
    fn filter(
        self: &Arc<Self>,
        stream: BoxStream<'static, StoreResult<ObjectMeta>>,
    ) -> BoxStream<'static, StoreResult<ObjectMeta>> {
        let this = self.clone();
        stream
            .filter(move |item| {
                let keep = match item {
                    Ok(meta) => this.check(&meta.location).is_ok(),
                    Err(_) => true,
                };
                futures::future::ready(keep)
            })
            .boxed()
    }
}

#[async_trait]
impl ObjectStore for SandboxStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> StoreResult<PutResult> {
        self.check(location)?;
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> StoreResult<Box<dyn MultipartUpload>> {
        self.check(location)?;
        self.inner.put_multipart_opts(location, opts).await
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> StoreResult<GetResult> {
        self.check(location)?;
        self.inner.get_opts(location, options).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, StoreResult<Path>>,
    ) -> BoxStream<'static, StoreResult<Path>> {
        let root = self.root.clone();
        let checker = SandboxStore {
            inner: LocalFileSystem::new(),
            root,
        };
        let checked = locations
            .map(move |l| l.and_then(|l| checker.check(&l).map(|()| l)))
            .boxed();
        self.inner.delete_stream(checked)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, StoreResult<ObjectMeta>> {
        let this = Arc::new(SandboxStore {
            inner: LocalFileSystem::new(),
            root: self.root.clone(),
        });
        if let Some(p) = prefix {
            if let Err(e) = self.check(p) {
                return futures::stream::once(futures::future::ready(Err(e))).boxed();
            }
        }
        this.filter(self.inner.list(prefix))
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> StoreResult<ListResult> {
        if let Some(p) = prefix {
            self.check(p)?;
        }
        let mut result = self.inner.list_with_delimiter(prefix).await?;
        result.objects.retain(|m| self.check(&m.location).is_ok());
        result.common_prefixes.retain(|p| self.check(p).is_ok());
        Ok(result)
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> StoreResult<()> {
        self.check(from)?;
        self.check(to)?;
        self.inner.copy_opts(from, to, options).await
    }
}
