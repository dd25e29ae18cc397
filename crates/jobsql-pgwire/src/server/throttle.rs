//! Failed logins of `jobsql serve`, counted and backed off where the password is checked.
//!
//! A password is checked by one message of the handshake: SCRAM's client-final, MD5's answer.
//! [`LoginThrottle::check`] is asked for that message, by every handshake, however many run at
//! once: handshakes brought to that step together are checked one after the other, and a
//! failure backs off all the others. It keys the failures by the client's address and by the
//! account (the `--user`, or any name when there is none: one password either way), so
//! guessing from many addresses is slowed too:
//!
//! - after a failure, no password from that address, nor for that account, is checked before a
//!   backoff (1 s by default, doubling with each further failure up to 30 s): those attempts
//!   fail at once, unchecked, with the message of any failed login;
//! - at most one check is in flight per address and per account: while there are failures on
//!   record a second one fails at once; without, it waits for the first (checks take
//!   microseconds, so a pool of connections logging in together all get in);
//! - a successful login clears its address and the account.
//!
//! A name other than `--user` can never log in: its attempts count against the address only, so
//! that guessing names cannot lock the real user out.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::Notify;
use tokio::time::Instant;

/// The longest login backoff.
pub const MAX_LOGIN_BACKOFF: Duration = Duration::from_secs(30);

/// Addresses (and the account) remembered before forgetting the stale ones.
const MAX_ENTRIES: usize = 4096;

/// What failures are counted by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Key {
    /// The client's address.
    Address(IpAddr),
    /// The account that can log in.
    Account,
}

#[derive(Debug, Clone, Copy)]
struct Entry {
    failures: u32,
    /// No password is checked before this.
    until: Instant,
    /// A check is in flight.
    checking: bool,
}

impl Entry {
    /// Whether failures are on record (not yet forgotten).
    fn remembers(&self, now: Instant) -> bool {
        self.failures > 0 && self.until + MAX_LOGIN_BACKOFF * 2 >= now
    }
}

/// Failed logins per client address and for the account.
#[derive(Debug)]
pub struct LoginThrottle {
    first: Duration,
    entries: Mutex<HashMap<Key, Entry>>,
    released: Notify,
}

/// What [`LoginThrottle`] says of a check asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Go,
    Wait,
    Refused,
}

/// The right to check one password; release it with [`Check::failed`] or
/// [`Check::succeeded`] (dropped otherwise: neither, e.g. a malformed message).
#[must_use]
pub struct Check<'a> {
    throttle: &'a LoginThrottle,
    keys: Vec<Key>,
}

impl LoginThrottle {
    /// Backoff starting at `first` after a failure.
    pub fn new(first: Duration) -> Self {
        LoginThrottle {
            first,
            entries: Mutex::new(HashMap::new()),
            released: Notify::new(),
        }
    }

    /// The entries (a panic elsewhere while holding the lock cannot have left them half
    /// written: every change below is a single assignment).
    fn entries(&self) -> MutexGuard<'_, HashMap<Key, Entry>> {
        self.entries.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn keys(ip: IpAddr, account: bool) -> Vec<Key> {
        let mut keys = vec![Key::Address(ip)];
        if account {
            keys.push(Key::Account);
        }
        keys
    }

    /// Whether `ip` is within its backoff: a handshake from there is refused at its startup
    /// (its password would not be checked anyway).
    pub fn backed_off(&self, ip: IpAddr) -> bool {
        self.backed_off_at(ip, Instant::now())
    }

    fn backed_off_at(&self, ip: IpAddr, now: Instant) -> bool {
        self.entries()
            .get(&Key::Address(ip))
            .is_some_and(|e| e.until > now)
    }

    /// The right to check a password from `ip` (for the account when `account`), once no other
    /// check is in flight for either; `None` when either is backed off, or busy with failures
    /// on record.
    pub async fn check(&self, ip: IpAddr, account: bool) -> Option<Check<'_>> {
        let keys = Self::keys(ip, account);
        loop {
            let released = self.released.notified();
            tokio::pin!(released);
            // Registered before the state is read, so that no release is missed.
            released.as_mut().enable();
            match self.verdict(&keys, Instant::now()) {
                Verdict::Go => {
                    return Some(Check {
                        throttle: self,
                        keys,
                    })
                }
                Verdict::Refused => return None,
                Verdict::Wait => released.await,
            }
        }
    }

    fn verdict(&self, keys: &[Key], now: Instant) -> Verdict {
        let mut entries = self.entries();
        let known: Vec<&Entry> = keys.iter().filter_map(|k| entries.get(k)).collect();
        if known.iter().any(|e| e.until > now) {
            return Verdict::Refused;
        }
        if let Some(busy) = known.iter().find(|e| e.checking) {
            return if busy.remembers(now) {
                Verdict::Refused
            } else {
                Verdict::Wait
            };
        }
        if entries.len() >= MAX_ENTRIES {
            entries.retain(|_, e| e.checking || e.remembers(now));
        }
        for key in keys {
            entries
                .entry(*key)
                .or_insert(Entry {
                    failures: 0,
                    until: now,
                    checking: false,
                })
                .checking = true;
        }
        Verdict::Go
    }

    /// The first entry's failures and wait, for the log.
    fn fail(&self, keys: &[Key], now: Instant) -> (u32, Duration) {
        let mut entries = self.entries();
        let mut first = None;
        for key in keys {
            let Some(entry) = entries.get_mut(key) else {
                continue;
            };
            if !entry.remembers(now) {
                entry.failures = 0;
            }
            entry.failures = entry.failures.saturating_add(1);
            let wait = self
                .first
                .saturating_mul(1 << (entry.failures - 1).min(16))
                .min(MAX_LOGIN_BACKOFF);
            entry.until = now + wait;
            first.get_or_insert((entry.failures, wait));
        }
        first.unwrap_or((1, self.first))
    }

    fn release(&self, keys: &[Key], succeeded: bool) {
        {
            let mut entries = self.entries();
            for key in keys {
                let forget = match entries.get_mut(key) {
                    Some(entry) => {
                        entry.checking = false;
                        succeeded || entry.failures == 0
                    }
                    None => false,
                };
                if forget {
                    entries.remove(key);
                }
            }
        }
        self.released.notify_waiters();
    }
}

impl Check<'_> {
    /// The password was wrong: counted for the address and the account. The failures so far
    /// (of the address) and the wait before the next check.
    pub fn failed(self) -> (u32, Duration) {
        self.throttle.fail(&self.keys, Instant::now())
        // Dropped here: released.
    }

    /// The password was right: the failures of the address and the account are cleared.
    pub fn succeeded(mut self) {
        let keys = std::mem::take(&mut self.keys);
        self.throttle.release(&keys, true);
    }
}

impl Drop for Check<'_> {
    fn drop(&mut self) {
        let keys = std::mem::take(&mut self.keys);
        if !keys.is_empty() {
            self.throttle.release(&keys, false);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    /// One check of `keys` at `now` that fails: the wait it earns.
    fn fail_once(throttle: &LoginThrottle, keys: &[Key], now: Instant) -> Duration {
        assert_eq!(throttle.verdict(keys, now), Verdict::Go);
        let (_, wait) = throttle.fail(keys, now);
        throttle.release(keys, false);
        wait
    }

    #[test]
    fn backoff_doubles_and_is_capped() {
        let throttle = LoginThrottle::new(Duration::from_secs(1));
        let a = ip("10.0.0.1");
        let keys = [Key::Address(a)];
        let mut now = Instant::now();
        let mut waits = Vec::new();
        for _ in 0..8 {
            waits.push(fail_once(&throttle, &keys, now).as_secs());
            assert!(throttle.backed_off_at(a, now));
            assert_eq!(throttle.verdict(&keys, now), Verdict::Refused);
            now += MAX_LOGIN_BACKOFF;
        }
        assert_eq!(waits, [1, 2, 4, 8, 16, 30, 30, 30]);
        assert!(!throttle.backed_off_at(ip("10.0.0.2"), now));
        assert_eq!(throttle.verdict(&keys, now), Verdict::Go);
        throttle.release(&keys, true);
        assert_eq!(
            fail_once(&throttle, &keys, now).as_secs(),
            1,
            "a success clears them"
        );
        // Failures long past are forgotten too.
        now += MAX_LOGIN_BACKOFF * 3;
        assert_eq!(fail_once(&throttle, &keys, now).as_secs(), 1);
    }

    #[test]
    fn the_account_is_backed_off_from_every_address() {
        let throttle = LoginThrottle::new(Duration::from_secs(1));
        let now = Instant::now();
        let first = [Key::Address(ip("10.0.0.1")), Key::Account];
        fail_once(&throttle, &first, now);
        // Another address, for the account: refused; for a name that is not the account: checked.
        let second = [Key::Address(ip("10.0.0.2")), Key::Account];
        assert_eq!(throttle.verdict(&second, now), Verdict::Refused);
        assert_eq!(throttle.verdict(&second[..1], now), Verdict::Go);
        throttle.release(&second[..1], false);
        // Once the backoff has passed, a success from there clears the account, not the
        // first address.
        let later = now + Duration::from_secs(1);
        assert_eq!(throttle.verdict(&second, later), Verdict::Go);
        throttle.release(&second, true);
        let third = [Key::Address(ip("10.0.0.3")), Key::Account];
        assert_eq!(throttle.verdict(&third, later), Verdict::Go);
        throttle.release(&third, false);
        assert_eq!(throttle.fail(&first[..1], later).0, 2);
    }

    #[test]
    fn one_check_at_a_time_while_failures_are_on_record() {
        let throttle = LoginThrottle::new(Duration::from_secs(1));
        let keys = [Key::Address(ip("10.0.0.1")), Key::Account];
        let now = Instant::now();
        // No failures: a second check waits for the first.
        assert_eq!(throttle.verdict(&keys, now), Verdict::Go);
        assert_eq!(throttle.verdict(&keys, now), Verdict::Wait);
        throttle.fail(&keys, now);
        throttle.release(&keys, false);
        // Past the backoff, with a failure on record: one check; a second is refused.
        let later = now + Duration::from_secs(1);
        assert_eq!(throttle.verdict(&keys, later), Verdict::Go);
        assert_eq!(throttle.verdict(&keys, later), Verdict::Refused);
    }

    #[tokio::test]
    async fn concurrent_checks_wait_and_one_failure_refuses_the_rest() {
        let throttle = std::sync::Arc::new(LoginThrottle::new(Duration::from_secs(60)));
        let a = ip("10.0.0.1");
        let first = throttle.check(a, true).await.expect("checked");
        let waiting: Vec<_> = (0..39)
            .map(|_| {
                let throttle = throttle.clone();
                tokio::spawn(async move { throttle.check(a, true).await.is_some() })
            })
            .collect();
        tokio::task::yield_now().await;
        assert!(waiting.iter().all(|w| !w.is_finished()), "they wait");
        first.failed();
        for w in waiting {
            assert!(!w.await.expect("joins"), "refused after the failure");
        }
        // Without failures, the ones that waited all get their turn.
        let fresh = ip("10.0.0.9");
        let first = throttle.check(fresh, false).await.expect("checked");
        let second = {
            let throttle = throttle.clone();
            tokio::spawn(async move {
                throttle
                    .check(fresh, false)
                    .await
                    .map(|c| c.succeeded())
                    .is_some()
            })
        };
        tokio::task::yield_now().await;
        first.succeeded();
        assert!(second.await.expect("joins"));
    }
}
