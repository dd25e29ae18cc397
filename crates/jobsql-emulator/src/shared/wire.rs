//! The pieces of the emulators' middleware that do not depend on an API's error shape: the
//! deterministic roll of a random fault before a request is processed ([`roll`]), the bearer
//! token of an `Authorization` header ([`bearer`]), and the loss of a processed request's
//! response when an after-commit fault is armed for its path ([`after_commit`], with the
//! armed faults of `state::faults`). Each emulator's middleware turns these into its own
//! error answers.

use axum::body::Body;
use axum::response::Response;

use crate::state::faults::{self, AfterCommitFault, LostResponse};

/// A random fault injected before a request is processed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RandomFault {
    /// 429 with `Retry-After: 1`.
    RateLimited,
    /// 503.
    Unavailable,
}

/// The fault for request number `n` of an emulator seeded `seed`, with probability
/// `rate`, from `mix` (the emulator's 64-bit mixer): the same seed, the same faults.
pub(crate) fn roll(seed: u64, n: u64, rate: f64, mix: fn(u64) -> u64) -> Option<RandomFault> {
    if rate <= 0.0 {
        return None;
    }
    let r = mix(seed ^ mix(n ^ 0xfa17));
    let p = (r >> 11) as f64 / (1u64 << 53) as f64;
    (p < rate).then_some(if r & 1 == 0 {
        RandomFault::RateLimited
    } else {
        RandomFault::Unavailable
    })
}

/// The token of an `Authorization: Bearer <token>` header value (the scheme in any case).
pub(crate) fn bearer(header: Option<&str>) -> Option<&str> {
    header
        .and_then(|v| v.split_once(' '))
        .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
        .map(|(_, t)| t.trim())
}

/// A response and the status it answers.
pub(crate) fn answered(response: Response) -> (Response, u16) {
    let status = response.status().as_u16();
    (response, status)
}

/// A body that fails before yielding anything: hyper then closes the connection without
/// flushing the response head, so the client sees the connection end with no response.
fn dropped() -> Response {
    let failing = futures::stream::once(async {
        Err::<axum::body::Bytes, std::io::Error>(std::io::Error::new(
            std::io::ErrorKind::ConnectionAborted,
            "response dropped by an injected fault",
        ))
    });
    Response::new(Body::from_stream(failing))
}

/// The response to send for a processed request to `path`: the real one, or its loss (a
/// fault armed in `armed`: `unavailable()`, or a dropped connection). Returns the response
/// and the status to record (0 when the connection is dropped). A failed (non-2xx) response
/// changed nothing and is sent as it is, without using up a fault.
pub(crate) fn after_commit(
    armed: &std::sync::Mutex<Vec<AfterCommitFault>>,
    path: &str,
    response: Response,
    unavailable: impl FnOnce() -> Response,
) -> (Response, u16) {
    if !response.status().is_success() {
        return answered(response);
    }
    match faults::take(armed, path) {
        None => answered(response),
        Some(LostResponse::Unavailable) => answered(unavailable()),
        Some(LostResponse::Dropped) => (dropped(), 0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mix(z: u64) -> u64 {
        z.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17)
    }

    #[test]
    fn rolls_follow_the_rate_and_the_seed() {
        assert!((0..1000).all(|n| roll(7, n, 0.0, mix).is_none()));
        assert!((0..1000).all(|n| roll(7, n, 1.0, mix).is_some()));
        let faults = (0..10_000)
            .filter(|&n| roll(7, n, 0.3, mix).is_some())
            .count();
        assert!((2500..3500).contains(&faults), "{faults}");
        let kinds: Vec<_> = (0..50).map(|n| roll(7, n, 1.0, mix)).collect();
        assert!(kinds.contains(&Some(RandomFault::RateLimited)));
        assert!(kinds.contains(&Some(RandomFault::Unavailable)));
        assert_eq!(
            kinds,
            (0..50).map(|n| roll(7, n, 1.0, mix)).collect::<Vec<_>>()
        );
    }

    #[test]
    fn bearer_tokens_are_read_in_any_case() {
        assert_eq!(bearer(Some("Bearer abc ")), Some("abc"));
        assert_eq!(bearer(Some("bearer abc")), Some("abc"));
        assert_eq!(bearer(Some("Basic abc")), None);
        assert_eq!(bearer(Some("abc")), None);
        assert_eq!(bearer(None), None);
    }
}
