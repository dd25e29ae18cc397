//! When to try a request again, and how long to wait first.
//!
//! The delay before attempt `n + 1` is the server's `Retry-After` (seconds, capped at
//! [`RetryPolicy::max_delay`]) when it sent one, else `base_delay * 2^(n-1)` (capped) with
//! "equal jitter": half the delay fixed, half random, so that many clients throttled at once do
//! not come back at once. A retry happens only while attempts remain and the wait would still end
//! within [`RetryPolicy::max_total`] of the first attempt.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Retry limits (see the module doc of [`client`](super)). The defaults: 8 attempts (at a 20%
/// fault rate a request still fails only once in 400,000), within 60 s, backoff from 200 ms
/// doubling up to 10 s.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included (0 counts as 1).
    pub max_attempts: u32,
    /// No retry starts later than this after the first attempt.
    pub max_total: Duration,
    /// The first backoff delay.
    pub base_delay: Duration,
    /// The longest single wait (also caps `Retry-After`).
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 8,
            max_total: Duration::from_secs(60),
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The wait before the attempt after `attempt` (1-based) failed; `retry_after` is the
    /// server's hint and `random` a uniform value in `[0, 1)`.
    pub fn delay(&self, attempt: u32, retry_after: Option<Duration>, random: f64) -> Duration {
        if let Some(hint) = retry_after {
            return hint.min(self.max_delay);
        }
        let exp = attempt.saturating_sub(1).min(30);
        let full = self
            .base_delay
            .saturating_mul(1u32 << exp)
            .min(self.max_delay);
        let half = full / 2;
        half + half.mul_f64(random.clamp(0.0, 1.0))
    }

    /// Whether another attempt may start after `attempts` attempts, `elapsed` since the first,
    /// and a wait of `delay`.
    pub fn allows(&self, attempts: u32, elapsed: Duration, delay: Duration) -> bool {
        attempts < self.max_attempts.max(1) && elapsed.saturating_add(delay) <= self.max_total
    }
}

/// `Retry-After` as delay-seconds (an integer, or a decimal some servers send). HTTP dates are
/// not used by the Databricks API and fall back to backoff.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let secs: f64 = value.trim().parse().ok()?;
    (secs.is_finite() && secs >= 0.0).then(|| Duration::from_secs_f64(secs.min(86_400.0)))
}

/// A tiny lock-free PRNG (SplitMix64) for jitter; not for anything secret.
#[derive(Debug)]
pub struct Jitter(AtomicU64);

impl Jitter {
    /// Seeded from the clock and the address of a local, so processes differ.
    pub fn new() -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        let local = 0u8;
        Jitter(AtomicU64::new(
            nanos ^ (&local as *const u8 as u64).rotate_left(32),
        ))
    }

    /// A uniform value in `[0, 1)`.
    pub fn next_f64(&self) -> f64 {
        let mut z = self
            .0
            .fetch_add(0x9E37_79B9_7F4A_7C15, Ordering::Relaxed)
            .wrapping_add(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

impl Default for Jitter {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_is_capped_and_honours_retry_after() {
        let p = RetryPolicy::default();
        assert_eq!(p.delay(1, None, 0.0), Duration::from_millis(100));
        assert!(p.delay(1, None, 0.999_999) < Duration::from_millis(200));
        assert!(p.delay(1, None, 0.999_999) > Duration::from_millis(199));
        assert_eq!(p.delay(3, None, 0.0), Duration::from_millis(400));
        assert_eq!(p.delay(40, None, 0.0), Duration::from_secs(5));
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(3)), 0.5),
            Duration::from_secs(3)
        );
        assert_eq!(
            p.delay(1, Some(Duration::from_secs(300)), 0.5),
            Duration::from_secs(10)
        );
    }

    #[test]
    fn limits() {
        let p = RetryPolicy::default();
        assert!(p.allows(7, Duration::from_secs(1), Duration::from_secs(1)));
        assert!(!p.allows(8, Duration::from_secs(1), Duration::from_secs(1)));
        assert!(!p.allows(1, Duration::from_secs(59), Duration::from_secs(2)));
    }

    #[test]
    fn retry_after_values() {
        assert_eq!(parse_retry_after("2"), Some(Duration::from_secs(2)));
        assert_eq!(parse_retry_after(" 0.5 "), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), None);
        assert_eq!(parse_retry_after("-1"), None);
    }

    #[test]
    fn jitter_is_in_range_and_varies() {
        let j = Jitter::new();
        let xs: Vec<f64> = (0..100).map(|_| j.next_f64()).collect();
        assert!(xs.iter().all(|x| (0.0..1.0).contains(x)));
        assert!(xs.windows(2).any(|w| w[0] != w[1]));
    }
}
