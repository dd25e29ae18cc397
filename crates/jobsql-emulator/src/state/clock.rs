//! The emulator's notion of "now": every run start time, life-cycle phase of a run created
//! through the API and request-log timestamp reads it from a [`Clock`]. The default,
//! [`SystemClock`], follows the wall clock (monotonically, from the instant it was made); a
//! [`ManualClock`] stands still until a test moves it, so a test advances time instead of
//! polling the wall clock.

use std::fmt::Debug;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A source of the current time, epoch milliseconds.
pub trait Clock: Debug + Send + Sync {
    /// The current time, epoch ms.
    fn now_ms(&self) -> i64;
}

/// The wall clock: starts at the system time (or a given instant) and moves with a monotonic
/// timer from there.
#[derive(Debug, Clone)]
pub struct SystemClock {
    origin_ms: i64,
    started: Instant,
}

impl SystemClock {
    /// A clock that reads the system time now and moves with real time.
    pub fn new() -> SystemClock {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_millis() as i64);
        SystemClock::starting_at(now)
    }

    /// A clock that reads `origin_ms` now and moves with real time.
    pub fn starting_at(origin_ms: i64) -> SystemClock {
        SystemClock {
            origin_ms,
            started: Instant::now(),
        }
    }
}

impl Default for SystemClock {
    fn default() -> Self {
        SystemClock::new()
    }
}

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        self.origin_ms + self.started.elapsed().as_millis() as i64
    }
}

/// A clock that moves only when told to. Clones share the same time, so a test keeps one
/// clone and hands another to the emulator.
#[derive(Debug, Clone)]
pub struct ManualClock {
    now: Arc<AtomicI64>,
}

impl ManualClock {
    /// A clock standing at `now_ms` (epoch ms).
    pub fn new(now_ms: i64) -> ManualClock {
        ManualClock {
            now: Arc::new(AtomicI64::new(now_ms)),
        }
    }

    /// Move the clock forward by `by` (whole milliseconds; it stops at the end of time rather
    /// than wrapping).
    pub fn advance(&self, by: Duration) {
        let by = i64::try_from(by.as_millis()).unwrap_or(i64::MAX);
        let _ = self
            .now
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |t| {
                Some(t.saturating_add(by))
            });
    }

    /// Set the clock to `now_ms` (it may go backwards; the emulator does not expect it to).
    pub fn set(&self, now_ms: i64) {
        self.now.store(now_ms, Ordering::SeqCst);
    }
}

impl Clock for ManualClock {
    fn now_ms(&self) -> i64 {
        self.now.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_manual_clock_moves_only_when_told_and_clones_share_it() {
        let a = ManualClock::new(1_000);
        let b = a.clone();
        assert_eq!(a.now_ms(), 1_000);
        b.advance(Duration::from_millis(250));
        assert_eq!(a.now_ms(), 1_250);
        a.set(5);
        assert_eq!(b.now_ms(), 5);
        a.advance(Duration::MAX);
        assert_eq!(b.now_ms(), i64::MAX, "saturates, never wraps to the past");
    }

    #[test]
    fn a_system_clock_starts_at_its_origin_and_never_goes_back() {
        let c = SystemClock::starting_at(10_000);
        let first = c.now_ms();
        assert!((10_000..10_000 + 60_000).contains(&first));
        assert!(c.now_ms() >= first);
    }
}
