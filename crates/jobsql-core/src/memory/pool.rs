//! A statement's memory within everything's: [`StatementPool`] gives one session (one statement
//! at a time: `serve`'s connection, an MCP session, `query`'s or the shell's session)
//! `--memory-limit-mb`, drawing on a [`TotalPool`] the whole process shares
//! (`--total-memory-limit-mb`) when there is one, so that many sessions at their limit cannot add
//! up to more than the machine has. What reserves in it: DataFusion's operators (sorts,
//! aggregations, joins) and every function's output ([`super::counted`]). A reservation past
//! either limit fails with a message naming who asked, the limit and its flag.

use std::sync::Arc;

use datafusion::common::human_readable_size;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::memory_pool::{
    GreedyMemoryPool, MemoryConsumer, MemoryLimit, MemoryPool, MemoryReservation,
};

/// The default `--memory-limit-mb` of `serve` and `mcp`: what one session's statement may use.
pub const DEFAULT_MEMORY_LIMIT_MB: usize = 512;
/// The default `--total-memory-limit-mb` of `serve` and `mcp`: what all sessions may use.
pub const DEFAULT_TOTAL_MEMORY_LIMIT_MB: usize = 2048;
/// The default `--memory-limit-mb` of `query` and the shell (one session; sorts and
/// aggregations spill to disk past it).
pub const DEFAULT_LOCAL_MEMORY_LIMIT_MB: usize = 2048;

/// The memory all statements of a process draw on (`--total-memory-limit-mb`).
#[derive(Debug, Clone)]
pub struct TotalPool {
    pool: Arc<GreedyMemoryPool>,
    bytes: usize,
}

impl TotalPool {
    /// A total of `bytes`.
    pub fn new(bytes: usize) -> Self {
        TotalPool {
            pool: Arc::new(GreedyMemoryPool::new(bytes)),
            bytes,
        }
    }

    /// What all statements hold now.
    pub fn reserved(&self) -> usize {
        self.pool.reserved()
    }

    /// A pool of `limit` bytes for one session, drawing on this total.
    pub fn session(&self, limit: usize) -> Arc<dyn MemoryPool> {
        Arc::new(StatementPool::new(limit, Some(self.clone())))
    }
}

/// One session's pool: `limit` bytes (`--memory-limit-mb`), within a [`TotalPool`] if given.
#[derive(Debug)]
pub struct StatementPool {
    local: GreedyMemoryPool,
    limit: usize,
    total: Option<TotalPool>,
}

impl StatementPool {
    /// A pool of `limit` bytes, drawing on `total` if given.
    pub fn new(limit: usize, total: Option<TotalPool>) -> Self {
        StatementPool {
            local: GreedyMemoryPool::new(limit),
            limit,
            total,
        }
    }

    /// A pool of `limit` bytes on its own (`query`, the shell: one statement at a time).
    pub fn alone(limit: usize) -> Arc<dyn MemoryPool> {
        Arc::new(StatementPool::new(limit, None))
    }
}

/// `bytes` in MB, as the flags take them.
fn mb(bytes: usize) -> usize {
    bytes >> 20
}

impl MemoryPool for StatementPool {
    fn name(&self) -> &str {
        "jobsql statement pool"
    }

    fn register(&self, consumer: &MemoryConsumer) {
        self.local.register(consumer);
    }

    fn unregister(&self, consumer: &MemoryConsumer) {
        self.local.unregister(consumer);
    }

    fn grow(&self, reservation: &MemoryReservation, additional: usize) {
        self.local.grow(reservation, additional);
        if let Some(total) = &self.total {
            total.pool.grow(reservation, additional);
        }
    }

    fn shrink(&self, reservation: &MemoryReservation, shrink: usize) {
        self.local.shrink(reservation, shrink);
        if let Some(total) = &self.total {
            total.pool.shrink(reservation, shrink);
        }
    }

    fn try_grow(&self, reservation: &MemoryReservation, additional: usize) -> Result<()> {
        let who = reservation.consumer().name();
        if self.local.try_grow(reservation, additional).is_err() {
            return Err(DataFusionError::ResourcesExhausted(format!(
                "{who} needs {} more, past the {} MB a statement may use \
                 (--memory-limit-mb; {} in use)",
                human_readable_size(additional),
                mb(self.limit),
                human_readable_size(self.local.reserved()),
            )));
        }
        if let Some(total) = &self.total {
            if total.pool.try_grow(reservation, additional).is_err() {
                self.local.shrink(reservation, additional);
                return Err(DataFusionError::ResourcesExhausted(format!(
                    "{who} needs {} more, and the memory of all statements ({} MB, \
                     --total-memory-limit-mb) is in use",
                    human_readable_size(additional),
                    mb(total.bytes),
                )));
            }
        }
        Ok(())
    }

    fn reserved(&self) -> usize {
        self.local.reserved()
    }

    fn memory_limit(&self) -> MemoryLimit {
        MemoryLimit::Finite(self.limit)
    }
}

impl std::fmt::Display for StatementPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "jobsql statement pool ({} of {} MB reserved",
            human_readable_size(self.local.reserved()),
            mb(self.limit)
        )?;
        match &self.total {
            Some(total) => write!(f, ", within {} MB for all)", mb(total.bytes)),
            None => write!(f, ")"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_bounded_by_its_limit_and_by_the_total() {
        let total = TotalPool::new(3 << 20);
        let a = total.session(2 << 20);
        let b = total.session(2 << 20);
        let ra = MemoryConsumer::new("sort").register(&a);
        let rb = MemoryConsumer::new("repeat").register(&b);
        let err = ra.try_grow(3 << 20).expect_err("past its own limit");
        assert!(
            err.to_string()
                .contains("sort needs 3.0 MB more, past the 2 MB a statement may use"),
            "{err}"
        );
        ra.try_grow(2 << 20).expect("within both");
        let err = rb.try_grow(2 << 20).expect_err("past the total");
        assert!(
            err.to_string().contains("repeat needs 2.0 MB more")
                && err.to_string().contains("(3 MB, --total-memory-limit-mb)"),
            "{err}"
        );
        assert_eq!((b.reserved(), total.reserved()), (0, 2 << 20));
        drop(ra);
        assert_eq!(total.reserved(), 0);
        rb.try_grow(2 << 20).expect("freed");
    }
}
