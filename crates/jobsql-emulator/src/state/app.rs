//! [`App`], the shared state of a running emulator (the store behind its lock, the clock, the
//! configuration the middleware needs, armed faults and the request log), and
//! [`RecordedRequest`], one entry of that log. Every layer above reads the state through it.

use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use super::clock::Clock;
use super::faults::AfterCommitFault;
use super::oauth::OAuthState;
use super::rooms::Room;
use super::store::Store;
use crate::shared::record::{self, Recorder};

/// One request the emulator received.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RecordedRequest {
    /// HTTP method.
    pub method: String,
    /// URL path.
    pub path: String,
    /// Decoded query parameters, in order.
    pub query: Vec<(String, String)>,
    /// The body, when it was JSON.
    pub body: Option<serde_json::Value>,
    /// The status answered; 0 when the connection was closed without a response (an injected
    /// [`LostResponse::Dropped`](super::faults::LostResponse::Dropped)).
    pub status: u16,
    /// When the request arrived, microseconds since the emulator started (monotonic).
    pub received_us: u64,
    /// When its answer was ready, microseconds since the emulator started.
    pub answered_us: u64,
}

impl RecordedRequest {
    /// The first value of query parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        record::param(&self.query, name)
    }
}

/// Shared state of a running emulator.
pub(crate) struct App {
    pub store: RwLock<Store>,
    pub token: String,
    pub seed: u64,
    pub latency: Duration,
    pub fault_rate: f64,
    pub base_url: String,
    pub clock: Arc<dyn Clock>,
    /// The requests received (the latest `record_limit`) and the request log.
    pub record: Recorder<RecordedRequest>,
    pub faults: Mutex<Vec<AfterCommitFault>>,
    pub counter: std::sync::atomic::AtomicU64,
    pub rooms: Vec<Room>,
    /// The rooms `DELETE /api/2.0/clean-rooms/{name}` removed (gone from both listings).
    pub deleted_rooms: Mutex<std::collections::HashSet<String>>,
    pub oauth: OAuthState,
    /// The instant `received_us` / `answered_us` count from.
    pub started: std::time::Instant,
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

    /// The clean rooms not deleted.
    pub fn rooms(&self) -> Vec<&Room> {
        let deleted = self.deleted_rooms.lock().unwrap_or_else(|e| e.into_inner());
        self.rooms
            .iter()
            .filter(|r| !deleted.contains(&r.name))
            .collect()
    }

    /// The clean room `name`, unless it does not exist or was deleted.
    pub fn room(&self, name: &str) -> Option<&Room> {
        self.rooms().into_iter().find(|r| r.name == name)
    }

    /// Write the store.
    pub fn write(&self) -> std::sync::RwLockWriteGuard<'_, Store> {
        self.store.write().unwrap_or_else(|e| e.into_inner())
    }
}
