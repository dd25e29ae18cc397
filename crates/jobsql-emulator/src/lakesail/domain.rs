//! The LakeSail API's rules over the state: error answers (`errors`), the life cycle of a run
//! on the clock (`lifecycle`), `limit` / `marker` paging (`paging`), request bodies (`body`)
//! and the write rules of create, ready, retry and delete with their 404s and 409s (`rules`).
//! Uses only `state`.

pub(crate) mod body;
pub(crate) mod errors;
pub(crate) mod lifecycle;
pub(crate) mod paging;
pub(crate) mod rules;
