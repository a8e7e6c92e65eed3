//! `HappyEyeballs` (RFC 8305): one test per rule of `pool/dial.rs`, with a fake clock.

mod pool_support;

use std::net::SocketAddr;
use std::time::Duration;

use pool_support::{at, ms};
use roundtrip_core::pool::{AllAttemptsFailed, AttemptId, DialAction, HappyEyeballs};

const DELAY: Duration = HappyEyeballs::DEFAULT_ATTEMPT_DELAY;

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("a socket address")
}

fn drain(racing: &mut HappyEyeballs) -> Vec<DialAction> {
    std::iter::from_fn(|| racing.poll_action()).collect()
}

/// Connects in `actions`, as (attempt index, address).
fn connects(actions: &[DialAction]) -> Vec<(usize, SocketAddr)> {
    actions
        .iter()
        .filter_map(|a| match *a {
            DialAction::Connect { attempt, addr } => Some((attempt.index(), addr)),
            DialAction::Cancel { .. } => None,
        })
        .collect()
}

/// Runs every attempt to its start by timeouts and returns the addresses in order.
fn attempt_order(addrs: &[&str]) -> Vec<SocketAddr> {
    let mut racing = HappyEyeballs::new(at(0), addrs.iter().map(|a| addr(a)).collect(), DELAY);
    let mut order = connects(&drain(&mut racing));
    while let Some(t) = racing.poll_timeout() {
        racing.handle_timeout(t);
        order.extend(connects(&drain(&mut racing)));
    }
    order.into_iter().map(|(_, a)| a).collect()
}

/// Rule 1 (RFC 8305 §4): families alternate, starting with the first address's family,
/// resolver order kept within a family, the remainder of the longer family last.
#[test]
fn rule1_families_are_interleaved_starting_with_the_first_family() {
    let order = attempt_order(&["[::1]:80", "[::2]:80", "[::3]:80", "10.0.0.1:80", "10.0.0.2:80"]);
    let expected = ["[::1]:80", "10.0.0.1:80", "[::2]:80", "10.0.0.2:80", "[::3]:80"];
    assert_eq!(order, expected.map(addr));

    let order = attempt_order(&["10.0.0.1:80", "[::1]:80", "[::2]:80"]);
    assert_eq!(order, ["10.0.0.1:80", "[::1]:80", "[::2]:80"].map(addr));
}

/// Rule 2 (RFC 8305 §5): the next attempt starts `attempt_delay` after the previous one,
/// while the previous one keeps running.
#[test]
fn rule2_next_attempt_starts_after_the_attempt_delay() {
    let addrs = vec![addr("[::1]:443"), addr("192.0.2.1:443")];
    let mut racing = HappyEyeballs::new(at(0), addrs, DELAY);
    assert_eq!(drain(&mut racing), [DialAction::Connect { attempt: first(), addr: addr("[::1]:443") }]);
    assert_eq!(racing.poll_timeout(), Some(at(250)));

    racing.handle_timeout(at(250) - Duration::from_nanos(1));
    assert_eq!(drain(&mut racing), []);
    racing.handle_timeout(at(250));
    assert_eq!(drain(&mut racing), [DialAction::Connect { attempt: second(), addr: addr("192.0.2.1:443") }]);
    assert_eq!(racing.poll_timeout(), None, "no address left");
    racing.handle_timeout(at(250));
    assert_eq!(drain(&mut racing), [], "idempotent");
    assert_eq!(racing.outcome(), None);
}

/// Rule 2: a failed attempt starts the next one at once, and the delay restarts from it.
#[test]
fn rule2_failed_attempt_starts_the_next_at_once() {
    let addrs = vec![addr("[::1]:443"), addr("192.0.2.1:443"), addr("[::2]:443")];
    let mut racing = HappyEyeballs::new(at(0), addrs, DELAY);
    let _ = drain(&mut racing);
    racing.attempt_failed(at(40), first());
    assert_eq!(connects(&drain(&mut racing)), [(1, addr("192.0.2.1:443"))]);
    assert_eq!(racing.poll_timeout(), Some(at(40) + DELAY));
}

/// Rule 3: the first success wins and cancels every other running attempt; no new one
/// starts, and a late success of a cancelled attempt changes nothing.
#[test]
fn rule3_first_success_wins_and_cancels_the_rest() {
    let addrs = vec![addr("[::1]:443"), addr("192.0.2.1:443"), addr("[::2]:443")];
    let mut racing = HappyEyeballs::new(at(0), addrs, ms(100));
    racing.handle_timeout(at(100));
    let _ = drain(&mut racing);

    racing.attempt_succeeded(at(120), second());
    assert_eq!(drain(&mut racing), [DialAction::Cancel { attempt: first() }]);
    assert_eq!(racing.outcome(), Some(Ok((second(), addr("192.0.2.1:443")))));
    assert_eq!(racing.poll_timeout(), None);
    racing.handle_timeout(at(500));
    racing.attempt_succeeded(at(130), first());
    racing.attempt_failed(at(130), first());
    assert_eq!(drain(&mut racing), []);
    assert_eq!(racing.outcome(), Some(Ok((second(), addr("192.0.2.1:443")))));
}

/// Rule 4: once every address was tried and every attempt failed, the race is lost.
#[test]
fn rule4_all_attempts_failed() {
    let addrs = vec![addr("[::1]:443"), addr("192.0.2.1:443")];
    let mut racing = HappyEyeballs::new(at(0), addrs, DELAY);
    racing.handle_timeout(at(250));
    racing.attempt_failed(at(300), second());
    assert_eq!(racing.outcome(), None, "the first attempt still runs");
    racing.attempt_failed(at(400), first());
    assert_eq!(racing.outcome(), Some(Err(AllAttemptsFailed { attempts: 2 })));
    assert_eq!(racing.poll_timeout(), None);
}

/// Rule 4: with no address, the race is lost before it starts.
#[test]
fn rule4_no_address_fails_at_once() {
    let mut racing = HappyEyeballs::new(at(0), Vec::new(), DELAY);
    assert_eq!(drain(&mut racing), []);
    assert_eq!(racing.outcome(), Some(Err(AllAttemptsFailed { attempts: 0 })));
    assert_eq!(racing.poll_timeout(), None);
}

/// Unknown attempts are ignored.
#[test]
fn unknown_attempts_are_ignored() {
    let mut racing = HappyEyeballs::new(at(0), vec![addr("192.0.2.1:80"), addr("192.0.2.2:80")], DELAY);
    let _ = drain(&mut racing);
    racing.attempt_failed(at(1), second());
    racing.attempt_succeeded(at(1), second());
    assert_eq!(drain(&mut racing), []);
    assert_eq!(racing.outcome(), None);
}

fn first() -> AttemptId {
    attempt(0)
}

fn second() -> AttemptId {
    attempt(1)
}

/// The id of the `n`th attempt, read back from a fresh race (ids are opaque).
fn attempt(n: usize) -> AttemptId {
    let addrs = (0..=n).map(|i| SocketAddr::from(([192, 0, 2, i as u8], 80))).collect();
    let mut racing = HappyEyeballs::new(at(0), addrs, Duration::ZERO);
    for _ in 0..n {
        racing.handle_timeout(at(0));
    }
    let actions = drain(&mut racing);
    match actions[n] {
        DialAction::Connect { attempt, .. } => attempt,
        DialAction::Cancel { .. } => unreachable!("no cancel before a success"),
    }
}
