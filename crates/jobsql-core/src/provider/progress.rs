//! Progress of long scans: pages and rows fetched so far, counted by every scan of a runtime,
//! and a one-line display for stderr (the CLI and the shell show it only when stderr is a
//! terminal). Counts are per statement: [`Progress::begin`] starts one, [`Progress::end`]
//! stops the display before its result prints; a ticker draws the line with
//! [`Progress::tick`] only in between, so nothing is drawn over a result or a prompt.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Counters shared by the scans of a runtime.
#[derive(Debug, Default)]
pub struct Progress {
    pages: AtomicU64,
    rows: AtomicU64,
    shown: Mutex<Shown>,
}

/// The display's state, changed under its lock (so `end` and a draw never interleave).
#[derive(Debug, Default)]
struct Shown {
    /// When the statement running began; `None` between statements.
    started: Option<Instant>,
    /// The counts last drawn, when a line is on the screen.
    drawn: Option<(u64, u64)>,
}

impl Progress {
    fn shown(&self) -> std::sync::MutexGuard<'_, Shown> {
        self.shown.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A statement starts: counts from zero.
    pub fn begin(&self) {
        let mut shown = self.shown();
        self.pages.store(0, Ordering::Relaxed);
        self.rows.store(0, Ordering::Relaxed);
        *shown = Shown {
            started: Some(Instant::now()),
            drawn: None,
        };
    }

    /// The statement's result is about to print (or it failed): nothing is drawn until the
    /// next [`begin`](Self::begin). Whether a line is on the screen (to be cleared).
    pub fn end(&self) -> bool {
        let mut shown = self.shown();
        shown.started = None;
        shown.drawn.take().is_some()
    }

    /// Draw the line with `draw` when a statement has run for at least `after` and the counts
    /// changed since the last draw.
    pub fn tick(&self, after: Duration, draw: impl FnOnce(&str)) {
        let mut shown = self.shown();
        let Some(started) = shown.started else {
            return;
        };
        let counts = self.counts();
        if started.elapsed() >= after && shown.drawn != Some(counts) {
            draw(&self.line_since(started));
            shown.drawn = Some(counts);
        }
    }

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

    /// `12,345 rows, 494 pages, 2,310 rows/s` for the statement running (rate over its time).
    pub fn line(&self) -> String {
        let started = self.shown().started;
        self.line_since(started.unwrap_or_else(Instant::now))
    }

    fn line_since(&self, started: Instant) -> String {
        let (pages, rows) = self.counts();
        let secs = started.elapsed().as_secs_f64().max(1e-3);
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

    #[test]
    fn a_line_is_drawn_only_while_a_statement_runs_and_counts_change() {
        let p = Progress::default();
        let mut drawn = Vec::new();
        p.page(5);
        p.tick(Duration::ZERO, |l| drawn.push(l.to_string()));
        assert!(drawn.is_empty(), "no statement running: {drawn:?}");
        p.begin();
        assert_eq!(p.counts(), (0, 0), "counts are per statement");
        p.tick(Duration::from_secs(3600), |l| drawn.push(l.to_string()));
        assert!(drawn.is_empty(), "not before `after`");
        p.page(25);
        p.tick(Duration::ZERO, |l| drawn.push(l.to_string()));
        p.tick(Duration::ZERO, |l| drawn.push(l.to_string()));
        assert_eq!(drawn.len(), 1, "unchanged counts are not drawn again");
        assert!(drawn[0].starts_with("25 rows, 1 pages"), "{drawn:?}");
        assert!(p.end(), "a line is on the screen");
        p.page(25);
        p.tick(Duration::ZERO, |l| drawn.push(l.to_string()));
        assert_eq!(drawn.len(), 1, "nothing after end");
        assert!(!p.end());
    }
}
