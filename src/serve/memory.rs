//! Memory for `jobsql serve` statements: a pool per connection (one statement at a time, so per
//! statement: `--memory-limit-mb`) drawing on one pool for the whole server
//! (`--total-memory-limit-mb`), so that many connections at their limit cannot add up to more
//! than the machine has. Only what DataFusion's operators reserve (sorts, aggregations, joins)
//! is counted; nothing spills to disk, a statement over either limit fails.

use std::sync::Arc;

use datafusion::error::{DataFusionError, Result};
use datafusion::execution::memory_pool::{
    GreedyMemoryPool, MemoryConsumer, MemoryLimit, MemoryPool, MemoryReservation,
    TrackConsumersPool,
};

/// One connection's pool, within the server's.
#[derive(Debug)]
pub struct SessionPool {
    local: TrackConsumersPool<GreedyMemoryPool>,
    total: Arc<GreedyMemoryPool>,
    total_mb: usize,
}

impl SessionPool {
    /// A pool of `limit` bytes drawing on `total` (of `total_mb` MB).
    pub fn new(limit: usize, total: Arc<GreedyMemoryPool>, total_mb: usize) -> Self {
        SessionPool {
            local: TrackConsumersPool::new(
                GreedyMemoryPool::new(limit),
                std::num::NonZeroUsize::MIN.saturating_add(2),
            ),
            total,
            total_mb,
        }
    }
}

impl MemoryPool for SessionPool {
    fn name(&self) -> &str {
        "jobsql serve session pool"
    }

    fn register(&self, consumer: &MemoryConsumer) {
        self.local.register(consumer);
    }

    fn unregister(&self, consumer: &MemoryConsumer) {
        self.local.unregister(consumer);
    }

    fn grow(&self, reservation: &MemoryReservation, additional: usize) {
        self.local.grow(reservation, additional);
        self.total.grow(reservation, additional);
    }

    fn shrink(&self, reservation: &MemoryReservation, shrink: usize) {
        self.local.shrink(reservation, shrink);
        self.total.shrink(reservation, shrink);
    }

    fn try_grow(&self, reservation: &MemoryReservation, additional: usize) -> Result<()> {
        self.local.try_grow(reservation, additional)?;
        if self.total.try_grow(reservation, additional).is_err() {
            self.local.shrink(reservation, additional);
            return Err(DataFusionError::ResourcesExhausted(format!(
                "the memory of all statements on this server ({} MB, \
                 --total-memory-limit-mb) is in use",
                self.total_mb
            )));
        }
        Ok(())
    }

    fn reserved(&self) -> usize {
        self.local.reserved()
    }

    fn memory_limit(&self) -> MemoryLimit {
        self.local.memory_limit()
    }
}

impl std::fmt::Display for SessionPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "jobsql serve session pool ({} bytes reserved, of {} MB for the server)",
            self.local.reserved(),
            self.total_mb
        )
    }
}
