//! Signing in as the provider profile says (issue 14): the resolver's method choice
//! (`auth_type`, the order of methods, what is missing), OAuth M2M end to end against the
//! emulator (refresh of an expired token mid-scan, single-flight), the other schemes against
//! stubs (API key header, basic, Microsoft Entra client secret, the `databricks auth token`
//! command), the token-host rule, and secrets in no output.

/// The shared support, as this area's tests name it.
mod common {
    pub use crate::support::batches::present_ints as ints;
    pub use crate::support::client::client;
    pub use crate::support::emulator::start as emulator;
    pub use crate::support::session::{context as session, error, query as rows};
    pub use crate::support::stub::{Reply, Stub};
    pub use crate::support::RUNS;
}
mod echoes;
mod methods;
mod oauth;
mod schemes;
