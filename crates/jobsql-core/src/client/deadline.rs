//! The time by which a piece of work must be done (`--timeout`): a scan sets one when it starts,
//! and every request it sends through [`ApiClient::send_by`](super::ApiClient::send_by) stops
//! there — the attempt in flight is abandoned, no retry wait runs past it, no new attempt
//! starts after it — with an error naming the limit.

use std::time::Duration;

use tokio::time::Instant;

/// A deadline and the limit it was set from (for the message).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    at: Instant,
    limit: Duration,
}

impl Deadline {
    /// `limit` from now.
    pub fn after(limit: Duration) -> Self {
        Deadline {
            at: Instant::now() + limit,
            limit,
        }
    }

    /// The instant.
    pub fn at(&self) -> Instant {
        self.at
    }

    /// The limit it was set from.
    pub fn limit(&self) -> Duration {
        self.limit
    }

    /// Whether a wait of `d` from now would end past the deadline.
    pub fn exceeded_by(&self, d: Duration) -> bool {
        Instant::now() + d > self.at
    }

    /// The limit as the user wrote it, in seconds (`2`, `0.5`).
    pub fn limit_text(&self) -> String {
        let s = self.limit.as_secs_f64();
        if s.fract() == 0.0 {
            format!("{}", self.limit.as_secs())
        } else {
            format!("{s}")
        }
    }
}
