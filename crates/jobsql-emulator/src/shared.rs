//! What the two emulators (the Databricks one and [`lakesail`](super::lakesail)) share, written
//! once and generic where they differ: the request record and log ([`record`], generic over
//! the recorded request type), the pieces of the middleware that do not depend on an API's
//! error shape ([`wire`]: random 429/503 rolls, lost responses after commit, bearer tokens) and
//! binding, serving and shutting down ([`serving`]), and the
//! command-line knobs both emulator commands take ([`knobs`]).
//!
//! It sits at the bottom, beside `state`: it uses nothing of either emulator but the generic
//! clock and after-commit faults (`state::clock`, `state::faults`), and both emulators may use
//! it (checked by `tests/suite/emulator/layering.rs`).

pub(crate) mod knobs;
pub(crate) mod record;
pub(crate) mod serving;
pub(crate) mod wire;
