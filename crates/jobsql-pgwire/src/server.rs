//! A connection's life before and around its statements: the socket, the handshake, the
//! login, and the bounds every client is held to. Nothing here reads SQL; the statements a
//! logged-in client sends are [`crate::protocol`]'s.
//!
//! - [`limits`]: a statement timeout, connection and handshake caps, an auth timeout;
//!   [`throttle`]: failed logins backed off per address and for the account, where the
//!   password is checked.
//! - [`wire`], [`frames`], [`bodies`]: each connection's message loop; a message may declare at
//!   most 64 KiB before login and `--max-message-mb` after, refused from its header; a panic
//!   while handling a client's message is an error for that client only.
//! - [`cancel`]: `CancelRequest`, the timeout and a client that disconnects drop the running
//!   statement (its API requests stop); [`cancel::Guard`] is what every statement runs under.
//! - [`credentials`], [`auth`], [`scram`], [`sasl`]: open on loopback, a password otherwise
//!   (SCRAM-SHA-256; MD5 only with `--auth md5`); one message for every failed login.
//! - [`tls`]: `--tls-cert` / `--tls-key` (rustls); then every session is encrypted.

pub mod bodies;
pub mod frames;
pub mod throttle;
pub mod limits;
pub mod cancel;
pub mod tls;
pub mod credentials;
pub mod scram;
pub mod sasl;
pub mod auth;
pub mod wire;
