//! [`App`], the shared state of a running LakeSail emulator (the store behind its lock, the
//! clock, the knobs the middleware and the life cycle read, armed after-commit faults, the
//! request record and log), and [`RecordedRequest`], one entry of that record.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use super::store::Store;
use crate::shared::record::{self, Recorder};
use crate::state::clock::Clock;
use crate::state::faults::AfterCommitFault;

/// One request the LakeSail emulator received.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// URL path (with the `/api/v1` prefix).
    pub path: String,
    /// Decoded query parameters, in order.
    pub query: Vec<(String, String)>,
    /// The body, when it was JSON.
    pub body: Option<serde_json::Value>,
    /// Whether an `Authorization` header was sent (its value is never recorded).
    pub authorization: bool,
    /// The status answered; 0 when the connection was closed without a response.
    pub status: u16,
}

impl RecordedRequest {
    /// The first value of query parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        record::param(&self.query, name)
    }
}

/// Shared state of a running LakeSail emulator.
pub(crate) struct App {
    pub store: RwLock<Store>,
    pub token: String,
    pub seed: u64,
    pub user: String,
    pub latency: Duration,
    pub fault_rate: f64,
    /// Time per life-cycle step, ms (at least 1).
    pub phase_ms: i64,
    /// A created run is dispatched (`ready`) this long after it was created; `None`: it stays
    /// `pending` until released.
    pub dispatch_ms: Option<i64>,
    /// `http://HOST:PORT/api/v1`.
    pub base_url: String,
    pub clock: Arc<dyn Clock>,
    /// The requests received (the latest `record_limit`) and the request log.
    pub record: Recorder<RecordedRequest>,
    pub faults: Mutex<Vec<AfterCommitFault>>,
    pub counter: std::sync::atomic::AtomicU64,
}

impl App {
    /// The emulator clock, epoch ms.
    pub fn now(&self) -> i64 {
        self.clock.now_ms()
    }

    /// Read the store (a poisoned lock is still usable: the data is plain values).
    pub fn read(&self) -> std::sync::RwLockReadGuard<'_, Store> {
        self.store.read().unwrap_or_else(|e| e.into_inner())
    }

    /// Write the store.
    pub fn write(&self) -> std::sync::RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(|e| e.into_inner())
    }
}
