//! The bottom layer: what the emulator knows. The generated history and jobs (`data`,
//! `history`, `jobgen`, `rooms`, the generated job permissions `acl`), the store with the write
//! overlays (`store`), the clock
//! (`clock`), the OAuth client and issued tokens (`oauth`), the armed after-commit faults (`faults`) and the shared [`app::App`] holding all
//! of it. Nothing here imports a layer above (domain, render, routes).

pub(crate) mod acl;
pub(crate) mod app;
pub(crate) mod clock;
pub(crate) mod data;
pub(crate) mod faults;
pub(crate) mod history;
pub(crate) mod jobgen;
pub(crate) mod oauth;
pub(crate) mod rooms;
pub(crate) mod store;
