//! Progress of long scans: pages and rows fetched so far, counted by every scan of a runtime,
//! and a one-line display for stderr (the CLI shows it only when stderr is a terminal).

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Counters shared by the scans of a runtime.
#[derive(Debug)]
pub struct Progress {
    pages: AtomicU64,
    rows: AtomicU64,
    started: Instant,
}

impl Default for Progress {
    fn default() -> Self {
        Self {
            pages: AtomicU64::new(0),
            rows: AtomicU64::new(0),
            started: Instant::now(),
        }
    }
}

impl Progress {
    /// One page of `rows` rows arrived.
    pub fn page(&self, rows: usize) {
        self.pages.fetch_add(1, Ordering::Relaxed);
        self.rows.fetch_add(rows as u64, Ordering::Relaxed);
    }

    /// Pages and rows so far.
    pub fn counts(&self) -> (u64, u64) {
        (
            self.pages.load(Ordering::Relaxed),
            self.rows.load(Ordering::Relaxed),
        )
    }

    /// `12,345 rows, 494 pages, 2,310 rows/s`.
    pub fn line(&self) -> String {
        let (pages, rows) = self.counts();
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        format!(
            "{} rows, {} pages, {} rows/s",
            thousands(rows),
            thousands(pages),
            thousands((rows as f64 / secs) as u64)
        )
    }
}

fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_pages_and_rows() {
        let p = Progress::default();
        p.page(25);
        p.page(1_234_000);
        assert_eq!(p.counts(), (2, 1_234_025));
        assert!(
            p.line().starts_with("1,234,025 rows, 2 pages, "),
            "{}",
            p.line()
        );
    }
}
