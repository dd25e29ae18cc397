//! Adaptive concurrency per workspace (AIMD), so that a throttled workspace is not hammered.
//!
//! Every attempt [`ApiClient::send`](super::ApiClient::send) makes first takes a [`Permit`] from
//! its workspace's [`Limiter`]: at most `limit` attempts are in flight at once, the others wait
//! (without holding anything: a request waiting for a permit or sleeping before a retry does not
//! count). The limit starts at the configured maximum and moves like TCP's congestion window:
//!
//! * **multiplicative decrease**: a 429 halves it (never below 1). Only a 429 to an attempt
//!   started under the current limit counts: the answers to a burst sent under the old limit
//!   arrive together and must not halve it once each.
//! * **additive increase**: after `limit` successes in a row (one full window) it grows by one,
//!   up to the maximum.
//!
//! Every caller shares this: SELECT fan-out, paged listings, INSERT / DELETE fan-out and EXEC.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

/// The limiters of every workspace one client talks to, keyed by base URL.
#[derive(Debug)]
pub struct Throttle {
    max: usize,
    limiters: Mutex<HashMap<String, Arc<Limiter>>>,
}

impl Throttle {
    /// Limiters allowing at most `max` (at least 1) attempts at once per workspace.
    pub fn new(max: usize) -> Self {
        Throttle {
            max: max.max(1),
            limiters: Mutex::new(HashMap::new()),
        }
    }

    /// The limiter of the workspace at `key` (its base URL), created on first use.
    pub fn limiter(&self, key: &str) -> Arc<Limiter> {
        let mut limiters = self.limiters.lock().unwrap_or_else(|e| e.into_inner());
        limiters
            .entry(key.to_string())
            .or_insert_with(|| Arc::new(Limiter::new(self.max)))
            .clone()
    }
}

#[derive(Debug)]
struct State {
    limit: usize,
    in_flight: usize,
    successes: usize,
    /// Bumped by each decrease; a permit remembers the epoch it was taken in.
    epoch: u64,
}

/// One workspace's adaptive limit on attempts in flight.
#[derive(Debug)]
pub struct Limiter {
    max: usize,
    state: Mutex<State>,
    changed: Notify,
}

impl Limiter {
    /// A limiter starting at (and bounded by) `max`.
    pub fn new(max: usize) -> Self {
        let max = max.max(1);
        Limiter {
            max,
            state: Mutex::new(State {
                limit: max,
                in_flight: 0,
                successes: 0,
                epoch: 0,
            }),
            changed: Notify::new(),
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The current limit.
    pub fn limit(&self) -> usize {
        self.state().limit
    }

    /// Attempts in flight now.
    pub fn in_flight(&self) -> usize {
        self.state().in_flight
    }

    /// Wait for a free slot. Cancel-safe: dropping the future takes nothing.
    pub async fn acquire(self: &Arc<Self>) -> Permit {
        loop {
            let notified = self.changed.notified();
            tokio::pin!(notified);
            // Registered before the check, so a release between the check and the wait wakes us.
            notified.as_mut().enable();
            {
                let mut s = self.state();
                if s.in_flight < s.limit {
                    s.in_flight += 1;
                    return Permit {
                        limiter: self.clone(),
                        epoch: s.epoch,
                    };
                }
            }
            notified.await;
        }
    }
}

/// Leave to send one attempt; released when dropped.
#[derive(Debug)]
pub struct Permit {
    limiter: Arc<Limiter>,
    epoch: u64,
}

impl Permit {
    /// The attempt succeeded: one step towards a larger limit.
    pub fn succeeded(self) {
        let mut s = self.limiter.state();
        s.successes += 1;
        if s.successes >= s.limit && s.limit < self.limiter.max {
            s.limit += 1;
            s.successes = 0;
            drop(s);
            self.limiter.changed.notify_waiters();
        }
    }

    /// The workspace answered 429: halve the limit, unless another 429 already did since this
    /// attempt started. The new limit when it changed.
    pub fn throttled(self) -> Option<usize> {
        let mut s = self.limiter.state();
        s.successes = 0;
        if s.epoch != self.epoch {
            return None;
        }
        s.epoch += 1;
        let before = s.limit;
        s.limit = (s.limit / 2).max(1);
        (s.limit != before).then_some(s.limit)
    }
}

impl Drop for Permit {
    fn drop(&mut self) {
        let mut s = self.limiter.state();
        s.in_flight = s.in_flight.saturating_sub(1);
        drop(s);
        self.limiter.changed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn halves_once_per_burst_and_grows_back_by_one_per_window() {
        let l = Arc::new(Limiter::new(8));
        let burst: Vec<Permit> = futures::future::join_all((0..8).map(|_| l.acquire())).await;
        assert_eq!(l.in_flight(), 8);
        let mut changes = Vec::new();
        for p in burst {
            changes.push(p.throttled());
        }
        assert_eq!(changes[0], Some(4));
        assert!(changes[1..].iter().all(Option::is_none), "{changes:?}");
        assert_eq!((l.limit(), l.in_flight()), (4, 0));
        // A 429 to an attempt sent under the new limit halves again.
        l.acquire().await.throttled();
        assert_eq!(l.limit(), 2);
        for _ in 0..2 {
            l.acquire().await.succeeded();
        }
        assert_eq!(l.limit(), 3);
        for _ in 0..100 {
            l.acquire().await.succeeded();
        }
        assert_eq!(l.limit(), 8, "bounded by the maximum");
        for _ in 0..10 {
            l.acquire().await.throttled();
        }
        assert_eq!(l.limit(), 1, "never below one");
    }

    #[tokio::test]
    async fn waiters_go_when_a_permit_is_released() {
        let l = Arc::new(Limiter::new(1));
        let first = l.acquire().await;
        let l2 = l.clone();
        let waiter = tokio::spawn(async move { l2.acquire().await.succeeded() });
        tokio::task::yield_now().await;
        assert!(!waiter.is_finished());
        assert_eq!(l.in_flight(), 1);
        drop(first);
        waiter.await.expect("the waiter got the permit");
        assert_eq!(l.in_flight(), 0);
    }

    #[test]
    fn one_limiter_per_workspace() {
        let t = Throttle::new(0);
        assert!(Arc::ptr_eq(&t.limiter("a"), &t.limiter("a")));
        assert!(!Arc::ptr_eq(&t.limiter("a"), &t.limiter("b")));
        assert_eq!(t.limiter("a").limit(), 1);
    }
}
