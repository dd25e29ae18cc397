//! `jobsql sync`: the run history written into Delta Lake, incremental and exactly once. One
//! Delta table per resource whose spec has a `history:` section ([`jobsql_core::spec::HistorySpec`]),
//! at [`crate::HistoryRoot::table_url`]; read back by [`crate`].
//!
//! A sync of one resource in one workspace ([`sync_workspace`]):
//! 1. opens the table (or creates it: the live columns as Delta types, [`types`], plus
//!    `synced_at`, partitioned by `start_date`) and reads, from its committed files only
//!    ([`read`]), the workspace's high-water mark (its latest start) and its rows still active;
//! 2. fetches through the session ([`plan`]), so pushdown, parallel slices, retries and
//!    throttling apply: the runs that started at or after the mark minus the overlap (every
//!    run the API has on a first sync, or since `--since`), then the active runs older than
//!    that window by key (`run_id IN (...)`: one `runs/get` each). How "since the mark" is
//!    asked is the spec's `incremental`: pushed into the API (job_runs), read newest first
//!    down to the mark and stopped there (LakeSail's runs), or the whole listing each time
//!    (clean-room task runs, per clean room: the spec's `each`), which has the active rows too;
//! 3. merges on (workspace, key), copy-on-write by partition ([`merge`]): rows stream into
//!    new Parquet files; each partition that received rows and had files is rewritten;
//! 4. commits the new files' Adds and the rewritten files' Removes as **one** Delta version
//!    ([`delta`]). Killed before that, nothing changed for any reader (the files written are in
//!    no commit), and the next sync starts from the same committed state: exactly once.
//!
//! Runs the API has deleted stay (it is an archive); `synced_at` is when a sync last saw a run.

pub mod delta;
pub mod merge;
pub mod names;
pub mod plan;
pub mod read;
mod stream;
pub mod types;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use datafusion::common::ScalarValue;
use datafusion::error::DataFusionError;
use datafusion::prelude::SessionContext;
use deltalake_core::kernel::Action;
use deltalake_core::writer::RecordBatchWriter;
use deltalake_core::DeltaTableError;
use futures::StreamExt;
use parquet_props::writer_properties;

use crate::{HistoryError, HistoryRoot};
use jobsql_core::provider::progress::Progress;
use jobsql_core::spec::{Incremental, Resource};
use merge::{MergeCounts, Merger};
use plan::{SyncPlan, KEYS_PER_STATEMENT};

/// The default overlap below the high-water mark: runs that started up to this long before
/// the latest run already kept are listed again (a run becoming visible in the listing a
/// little after it started is not missed; the merge makes the repeat harmless).
pub const DEFAULT_OVERLAP: Duration = Duration::from_secs(600);

/// Why a sync failed.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// `--table` names no resource.
    #[error("unknown table '{given}' for jobsql sync (tables that keep history: {known})")]
    UnknownTable {
        /// The name as given.
        given: String,
        /// The tables whose spec has `history:`.
        known: String,
    },
    /// `--table` names a resource whose spec has no `history:`.
    #[error(
        "{table} keeps no history (its spec has no history: section; tables that do: {known})"
    )]
    NoHistory {
        /// The resource.
        table: String,
        /// The tables that do.
        known: String,
    },
    /// `--table` is a short name that several resources have.
    #[error("table '{given}' is ambiguous: {candidates}")]
    Ambiguous {
        /// The name as given.
        given: String,
        /// The full names it could be.
        candidates: String,
    },
    /// The history location is unusable.
    #[error(transparent)]
    Location(#[from] HistoryError),
    /// The history directory cannot be created or written.
    #[error("cannot write the history at {location}: {why}")]
    Unwritable {
        /// Where.
        location: String,
        /// The cause.
        why: String,
    },
    /// Reading the API (or the history's files) failed.
    #[error("{table} on workspace '{workspace}': {message}")]
    Fetch {
        /// The resource.
        table: String,
        /// The workspace.
        workspace: String,
        /// The error, as users read it.
        message: String,
    },
    /// Another writer committed to the table first, on every attempt.
    #[error(
        "{table} on workspace '{workspace}': another sync committed to {location} first \
         ({attempts} attempts); nothing of this one was committed: run it again"
    )]
    Conflict {
        /// The resource.
        table: String,
        /// The workspace.
        workspace: String,
        /// The table's location.
        location: String,
        /// How many times the sync ran.
        attempts: u32,
    },
    /// The table at the location is not the one the spec describes (a column's name or
    /// type, its partitioning): refused before any request.
    #[error(
        "{table} on workspace '{workspace}': the Delta table at {location}: {mismatch}; \
         nothing was sent: sync into a new location (--to)"
    )]
    Mismatch {
        /// The resource.
        table: String,
        /// The workspace.
        workspace: String,
        /// The table's location.
        location: String,
        /// What differs.
        mismatch: Box<delta::Mismatch>,
    },
    /// Writing or committing the Delta table failed.
    #[error("{table} on workspace '{workspace}': the Delta table at {location}: {message}")]
    Delta {
        /// The resource.
        table: String,
        /// The workspace.
        workspace: String,
        /// The table's location.
        location: String,
        /// What delta-rs said.
        message: String,
    },
}

/// How a sync runs.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// The lower bound (epoch ms) of the first sync of a workspace; `None`: every run the API
    /// still has.
    pub since_ms: Option<i64>,
    /// How far below the high-water mark the next sync lists again.
    pub overlap: Duration,
    /// The page counter of the session's runtime (pages and rows fetched), if it has one.
    pub progress: Option<Arc<Progress>>,
}

impl Default for SyncOptions {
    fn default() -> Self {
        SyncOptions {
            since_ms: None,
            overlap: DEFAULT_OVERLAP,
            progress: None,
        }
    }
}

/// What one sync of one resource in one workspace did.
#[derive(Debug, Clone)]
pub struct SyncReport {
    /// `provider.service.resource`.
    pub table: String,
    /// The workspace.
    pub workspace: String,
    /// The table's location.
    pub location: String,
    /// New, updated, unchanged and kept rows.
    pub counts: MergeCounts,
    /// Pages answered by the API (listing pages and gets), when the runtime counts them.
    pub pages: Option<u64>,
    /// The lower bound listed (epoch ms), `None` for everything.
    pub listed_since_ms: Option<i64>,
    /// The previously active runs fetched by key.
    pub active_fetched: usize,
    /// The Delta version committed (`None`: nothing to commit).
    pub version: Option<i64>,
    /// How long it took (its last attempt).
    pub elapsed: Duration,
    /// Which attempt committed: 1, or more when another writer committed first (see
    /// [`sync_workspace`]).
    pub attempt: u32,
}

mod parquet_props {
    //! The Parquet files' settings: Snappy, and row groups small enough that a partition's
    //! open file holds little in memory.
    use deltalake_core::parquet::basic::Compression;
    use deltalake_core::parquet::file::properties::WriterProperties;

    /// Rows per row group.
    pub const ROW_GROUP: usize = 1024;

    /// The writer properties of history files.
    pub fn writer_properties() -> WriterProperties {
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .set_max_row_group_row_count(Some(ROW_GROUP))
            .build()
    }
}

/// How many times a sync runs when another writer commits to its table first.
pub const ATTEMPTS: u32 = 3;

/// Sync `resource` (which has `history:`) for `workspace` into its table under `root`, reading
/// the API through `ctx` (a session from [`jobsql_core::session::new_context`]).
///
/// Two syncs racing for the table (two overlapping cron jobs): delta-rs' commit sees the
/// other's version, its conflict check fails (the merge read the whole table), and nothing of
/// this sync is committed. It then runs again over the winner's commit (its high-water mark,
/// its rows), up to [`ATTEMPTS`] times in all: each run is still kept once.
pub async fn sync_workspace(
    ctx: &SessionContext,
    resource: &Resource,
    workspace: &str,
    root: &HistoryRoot,
    options: &SyncOptions,
) -> Result<SyncReport, SyncError> {
    let mut attempt = 1;
    loop {
        match sync_once(ctx, resource, workspace, root, options, attempt).await {
            Err(SyncError::Conflict { .. }) if attempt < ATTEMPTS => attempt += 1,
            done => return done,
        }
    }
}

/// One attempt of [`sync_workspace`] (the `attempt`-th).
async fn sync_once(
    ctx: &SessionContext,
    resource: &Resource,
    workspace: &str,
    root: &HistoryRoot,
    options: &SyncOptions,
    attempt: u32,
) -> Result<SyncReport, SyncError> {
    let started = Instant::now();
    let Some(history) = resource.spec.history.as_ref() else {
        return Err(SyncError::NoHistory {
            table: resource.qualified_name(),
            known: String::new(),
        });
    };
    let plan = SyncPlan::new(resource, history);
    let url = root.table_url(&resource.provider, &resource.service, &resource.name);
    let location = match url.to_file_path() {
        Ok(path) => path.display().to_string(),
        Err(()) => url.to_string(),
    };
    let fetch_err = |e: DataFusionError| SyncError::Fetch {
        table: plan.table.clone(),
        workspace: workspace.to_string(),
        message: jobsql_core::hints::user_message(&e),
    };
    let delta_err = |e: DeltaTableError| SyncError::Delta {
        table: plan.table.clone(),
        workspace: workspace.to_string(),
        location: location.clone(),
        message: jobsql_core::redact::outgoing(&crate::stores::condensed(&e.to_string())),
    };
    if let Ok(dir) = url.to_file_path() {
        ensure_writable(&dir, &location)?;
    }
    if let Some(p) = &options.progress {
        p.begin();
    }

    // The schema of the rows fetched (planning only: no request).
    let live = plan
        .new_rows(ctx, workspace, None)
        .await
        .map_err(fetch_err)?
        .schema()
        .as_arrow()
        .clone();
    let target = types::history_schema(&live);
    // An existing table of other columns or types is refused here, before any request.
    let table = delta::open_or_create(&url, &target)
        .await
        .map_err(|e| match e {
            delta::OpenError::Delta(e) => delta_err(e),
            delta::OpenError::Mismatch(mismatch) => SyncError::Mismatch {
                table: plan.table.clone(),
                workspace: workspace.to_string(),
                location: location.clone(),
                mismatch: Box::new(mismatch),
            },
        })?;
    let listing = crate::log::list(&plan.table, &table).await?;
    let shown = crate::HistoryTable::new(&plan.table, listing);
    let files = delta::files_by_partition(&shown);
    let marks = read::marks(ctx, &shown, &plan, workspace)
        .await
        .map_err(fetch_err)?;

    let overlap_ms = i64::try_from(options.overlap.as_millis()).unwrap_or(i64::MAX);
    let since = match marks.high_water_ms {
        Some(mark) => Some(mark.saturating_sub(overlap_ms).max(0)),
        None => options.since_ms,
    };
    let synced_at_us = chrono::Utc::now().timestamp_micros();
    let writer = RecordBatchWriter::for_table(&table)
        .map_err(delta_err)?
        .with_writer_properties(writer_properties());
    // The rows as the table's own schema reads back to Arrow (list items named `element`, ...).
    let target = writer.arrow_schema();
    let mut merger = Merger::new(target, &plan.full_key(), &plan.start, synced_at_us, writer)
        .map_err(|e| delta_err(e.into()))?;

    // The new runs, then the active ones the listing did not cover.
    let parents = match plan.parents(ctx, workspace).await.map_err(fetch_err)? {
        Some(df) => Some(stream::values(df).await.map_err(fetch_err)?),
        None => None,
    };
    let listed_since = match plan.incremental {
        Incremental::Full => None,
        _ => since,
    };
    let listing = plan
        .listing(ctx, workspace, since, parents.as_deref())
        .await
        .map_err(fetch_err)?;
    if let Some(df) = listing {
        // `order`: newest first, read down to the mark only.
        stream::stream_into(df, &mut merger, plan.stop(since))
            .await
            .map_err(|e| e.into_sync(&fetch_err, &delta_err))?;
    }
    let active = if plan.fetches_active() {
        marks.active
    } else {
        Vec::new()
    };
    let older: Vec<Vec<ScalarValue>> = active
        .into_iter()
        .filter(|(_, start)| match (since, start) {
            (Some(since), Some(start)) => *start < since,
            (None, _) => false,
            (Some(_), None) => true,
        })
        .map(|(key, _)| key)
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    for chunk in older.chunks(KEYS_PER_STATEMENT) {
        let plans = plan
            .rows_by_key(ctx, workspace, chunk)
            .await
            .map_err(fetch_err)?;
        for df in plans {
            stream::stream_into(df, &mut merger, None)
                .await
                .map_err(|e| e.into_sync(&fetch_err, &delta_err))?;
        }
    }

    // Rewrite the partitions that received rows and had files.
    let mut removes = Vec::new();
    let touched: Vec<Option<i32>> = merger.touched().copied().collect();
    for day in touched {
        let Some(old) = files.get(&day) else { continue };
        let mut stream = read::read_files(ctx, old).await.map_err(fetch_err)?;
        while let Some(batch) = stream.next().await {
            merger
                .add_old(&batch.map_err(fetch_err)?)
                .await
                .map_err(delta_err)?;
        }
        removes.extend(old.files().iter().map(|f| Action::Remove(f.remove.clone())));
    }
    let (adds, counts) = merger.finish().await.map_err(delta_err)?;
    let version = if adds.is_empty() && removes.is_empty() {
        None
    } else {
        let mut actions: Vec<Action> = adds.into_iter().map(Action::Add).collect();
        actions.extend(removes);
        let metadata = [
            ("jobsql.workspace", serde_json::json!(workspace)),
            ("jobsql.new", serde_json::json!(counts.new)),
            ("jobsql.updated", serde_json::json!(counts.updated)),
            ("jobsql.unchanged", serde_json::json!(counts.unchanged)),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        let committed = delta::commit(&table, actions, &plan.full_key(), metadata).await;
        Some(committed.map_err(|e| match delta::is_conflict(&e) {
            true => SyncError::Conflict {
                table: plan.table.clone(),
                workspace: workspace.to_string(),
                location: location.clone(),
                attempts: attempt,
            },
            false => delta_err(e),
        })?)
    };
    let pages = options.progress.as_ref().map(|p| {
        p.end();
        p.counts().0
    });
    Ok(SyncReport {
        table: plan.table.clone(),
        workspace: workspace.to_string(),
        location,
        counts,
        pages,
        listed_since_ms: listed_since,
        active_fetched: older.len(),
        version,
        elapsed: started.elapsed(),
        attempt,
    })
}

/// Create the table's directory and check that a file can be written in it.
fn ensure_writable(dir: &std::path::Path, location: &str) -> Result<(), SyncError> {
    let bad = |e: std::io::Error| SyncError::Unwritable {
        location: location.to_string(),
        why: e.to_string(),
    };
    std::fs::create_dir_all(dir).map_err(bad)?;
    let probe = dir.join(format!(".jobsql-write-check-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(bad)?;
    let _ = std::fs::remove_file(&probe);
    Ok(())
}
