//! The MERGE of a sync, copy-on-write by partition. Incoming rows stream into the Delta
//! writer as they arrive (each key once: a key seen again in the same sync is skipped), while
//! the merger keeps, per key, its partition and a hash of its content. Then each partition
//! that received rows and already has files is rewritten: its old rows whose key did not come
//! in are written again (kept), the others are dropped (the incoming row replaces them —
//! updated when the content differs, unchanged otherwise), and its old files are removed in
//! the same commit. A run's start never changes, so its key lives in one partition.

use std::collections::{BTreeSet, HashMap};
use std::hash::{Hash, Hasher};

use datafusion::arrow::array::{Array, BooleanArray, RecordBatch};
use datafusion::arrow::compute::filter_record_batch;
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::error::ArrowError;
use datafusion::arrow::row::{RowConverter, Rows, SortField};
use deltalake_core::writer::{DeltaWriter, RecordBatchWriter};
use deltalake_core::DeltaTableError;

use super::types::to_delta;
use crate::{PARTITION_COLUMN, SYNCED_AT_COLUMN};

/// What a merge did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct MergeCounts {
    /// Keys the history did not have.
    pub new: usize,
    /// Keys it had, with other content now.
    pub updated: usize,
    /// Keys it had, with the same content (their `synced_at` moves on).
    pub unchanged: usize,
    /// Rows of the rewritten partitions that did not come in (kept as they were).
    pub kept: usize,
}

/// The merge in progress.
pub struct Merger {
    target: SchemaRef,
    start: String,
    synced_at_us: i64,
    key_columns: Vec<usize>,
    content_columns: Vec<usize>,
    partition_column: usize,
    keys: RowConverter,
    content: RowConverter,
    /// Each incoming key: its partition and content hash.
    seen: HashMap<Box<[u8]>, (Option<i32>, u64)>,
    touched: BTreeSet<Option<i32>>,
    writer: RecordBatchWriter,
    /// The files closed so far (every [`FLUSH_ROWS`] rows), to commit with the last ones.
    adds: Vec<deltalake_core::kernel::Add>,
    /// Rows written since those files were closed.
    since_flush: usize,
    counts: MergeCounts,
}

/// Rows written before the open files are closed: the writer holds an open Parquet file per
/// start date (a first sync touches every date of the API's 60 days), each buffering its rows
/// until closed, so closing them every 10,000 rows bounds the memory a sync of any size takes.
/// The files closed are committed only with the rest, in the sync's one commit.
pub const FLUSH_ROWS: usize = 10_000;

fn converter(target: &SchemaRef, columns: &[usize]) -> Result<RowConverter, ArrowError> {
    RowConverter::new(
        columns
            .iter()
            .map(|&i| SortField::new(target.field(i).data_type().clone()))
            .collect(),
    )
}

impl Merger {
    /// A merge into rows of `target` (the history schema), keyed on `key`, partitioned by the
    /// date of `start`, written by `writer`, with `synced_at` = `synced_at_us`.
    pub fn new(
        target: SchemaRef,
        key: &[String],
        start: &str,
        synced_at_us: i64,
        writer: RecordBatchWriter,
    ) -> Result<Self, ArrowError> {
        let key_columns = key
            .iter()
            .map(|k| target.index_of(k))
            .collect::<Result<Vec<_>, _>>()?;
        let content_columns: Vec<usize> = (0..target.fields().len())
            .filter(|&i| {
                let name = target.field(i).name();
                name != SYNCED_AT_COLUMN && name != PARTITION_COLUMN
            })
            .collect();
        Ok(Merger {
            keys: converter(&target, &key_columns)?,
            content: converter(&target, &content_columns)?,
            partition_column: target.index_of(PARTITION_COLUMN)?,
            target,
            start: start.to_string(),
            synced_at_us,
            key_columns,
            content_columns,
            seen: HashMap::new(),
            touched: BTreeSet::new(),
            writer,
            adds: Vec::new(),
            since_flush: 0,
            counts: MergeCounts::default(),
        })
    }

    /// The number of distinct keys received so far.
    pub fn received(&self) -> usize {
        self.seen.len()
    }

    /// The key and the content of each row, in the row format (compared as bytes).
    fn rows(&self, batch: &RecordBatch) -> Result<(Rows, Rows), ArrowError> {
        let pick = |cols: &[usize]| {
            cols.iter()
                .map(|&i| batch.column(i).clone())
                .collect::<Vec<_>>()
        };
        Ok((
            self.keys.convert_columns(&pick(&self.key_columns))?,
            self.content.convert_columns(&pick(&self.content_columns))?,
        ))
    }

    fn partitions(&self, batch: &RecordBatch) -> Vec<Option<i32>> {
        let days = batch
            .column(self.partition_column)
            .as_any()
            .downcast_ref::<datafusion::arrow::array::Date32Array>();
        (0..batch.num_rows())
            .map(|i| days.and_then(|d| d.is_valid(i).then(|| d.value(i))))
            .collect()
    }

    /// Rows fetched from the API (the live columns): written now, each key once.
    pub async fn add_incoming(&mut self, batch: &RecordBatch) -> Result<(), DeltaTableError> {
        let batch = to_delta(batch, &self.target, &self.start, self.synced_at_us)?;
        let (keys, content) = self.rows(&batch)?;
        let parts = self.partitions(&batch);
        let mut keep = Vec::with_capacity(batch.num_rows());
        for (i, part) in parts.into_iter().enumerate() {
            let key: Box<[u8]> = keys.row(i).as_ref().into();
            let fresh = !self.seen.contains_key(&key);
            if fresh {
                self.seen.insert(key, (part, hash(content.row(i).as_ref())));
                self.touched.insert(part);
            }
            keep.push(fresh);
        }
        let batch = filter_record_batch(&batch, &BooleanArray::from(keep))?;
        self.write(batch).await
    }

    /// The partitions that received rows.
    pub fn touched(&self) -> impl Iterator<Item = &Option<i32>> {
        self.touched.iter()
    }

    /// Rows of a partition's old files: those whose key did not come in are written again.
    pub async fn add_old(&mut self, batch: &RecordBatch) -> Result<(), DeltaTableError> {
        let batch = to_delta(batch, &self.target, &self.start, self.synced_at_us)?;
        let (keys, content) = self.rows(&batch)?;
        let mut keep = Vec::with_capacity(batch.num_rows());
        for i in 0..batch.num_rows() {
            match self.seen.get(keys.row(i).as_ref()) {
                Some((_, h)) if *h == hash(content.row(i).as_ref()) => {
                    self.counts.unchanged += 1;
                    keep.push(false);
                }
                Some(_) => {
                    self.counts.updated += 1;
                    keep.push(false);
                }
                None => {
                    self.counts.kept += 1;
                    keep.push(true);
                }
            }
        }
        let batch = filter_record_batch(&batch, &BooleanArray::from(keep))?;
        self.write(batch).await
    }

    /// Write `batch`; every [`FLUSH_ROWS`] rows, close the open files.
    async fn write(&mut self, batch: RecordBatch) -> Result<(), DeltaTableError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.since_flush += batch.num_rows();
        self.writer.write(batch).await?;
        if self.since_flush >= FLUSH_ROWS {
            let closed = self.writer.flush().await?;
            self.adds.extend(closed);
            self.since_flush = 0;
        }
        Ok(())
    }

    /// Close the files written: their Add actions, and the counts.
    pub async fn finish(
        mut self,
    ) -> Result<(Vec<deltalake_core::kernel::Add>, MergeCounts), DeltaTableError> {
        let mut adds = std::mem::take(&mut self.adds);
        adds.extend(self.writer.flush().await?);
        let mut counts = self.counts;
        counts.new = self.seen.len() - counts.updated - counts.unchanged;
        Ok((adds, counts))
    }
}

fn hash(bytes: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.hash(&mut h);
    h.finish()
}
