//! [`Recorder`]: the requests an emulator received, the latest `limit` of them in memory (a
//! ring, oldest dropped first) and, when configured, every one as a JSON line in a log file.
//! Generic over the recorded request type `R`: each emulator records its own fields.

use std::collections::VecDeque;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;

/// The request log file, appended to.
pub(crate) type LogFile = Mutex<std::io::BufWriter<std::fs::File>>;

/// Open (create or append to) the request log at `path`.
pub(crate) fn open_log(path: &Path) -> std::io::Result<LogFile> {
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    Ok(Mutex::new(std::io::BufWriter::new(file)))
}

/// The first value of query parameter `name` in `query` (a recorded request's `param`).
pub(crate) fn param<'a>(query: &'a [(String, String)], name: &str) -> Option<&'a str> {
    query
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

/// The record of requests: a ring of the latest `limit` and an optional log.
pub(crate) struct Recorder<R> {
    requests: Mutex<VecDeque<R>>,
    limit: usize,
    log: Option<LogFile>,
}

impl<R: Clone> Recorder<R> {
    /// A record keeping the latest `limit` requests (0: none) and writing to `log`, if any.
    pub(crate) fn new(limit: usize, log: Option<LogFile>) -> Self {
        Recorder {
            requests: Mutex::new(VecDeque::new()),
            limit,
            log,
        }
    }

    /// Record `request`; write `line` (built only when there is a log) to the log.
    pub(crate) fn push(&self, request: R, line: impl FnOnce(&R) -> serde_json::Value) {
        if let Some(log) = &self.log {
            let line = line(&request);
            let mut w = log.lock().unwrap_or_else(|e| e.into_inner());
            let _ = writeln!(w, "{line}");
            let _ = w.flush();
        }
        if self.limit > 0 {
            let mut requests = self.requests.lock().unwrap_or_else(|e| e.into_inner());
            while requests.len() >= self.limit {
                requests.pop_front();
            }
            requests.push_back(request);
        }
    }

    /// The recorded requests, oldest first.
    pub(crate) fn snapshot(&self) -> Vec<R> {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .cloned()
            .collect()
    }

    /// Forget the recorded requests.
    pub(crate) fn clear(&self) {
        self.requests
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ring_keeps_the_latest_and_the_log_gets_every_line() {
        let dir = std::env::temp_dir().join(format!("jobsql-record-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let path = dir.join("log.jsonl");
        let _ = std::fs::remove_file(&path);
        let record = Recorder::new(2, Some(open_log(&path).expect("log opens")));
        for n in 1..=3u32 {
            record.push(n, |n| serde_json::json!({ "n": n }));
        }
        assert_eq!(record.snapshot(), vec![2, 3]);
        record.clear();
        assert!(record.snapshot().is_empty());
        let text = std::fs::read_to_string(&path).expect("log is read");
        assert_eq!(text, "{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n");
        let none: Recorder<u32> = Recorder::new(0, None);
        none.push(1, |_| unreachable!("no log, no line"));
        assert!(none.snapshot().is_empty());
    }
}
