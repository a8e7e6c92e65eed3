//! `HappyEyeballs`: RFC 8305 address racing as a small Sans-IO machine, run by the
//! engine's dial task for one [`PoolAction::StartDial`](super::PoolAction::StartDial).
//!
//! Rules:
//! 1. Addresses are interleaved by family, starting with the family of the first address
//!    given, then alternating; the resolver's order within a family is kept (RFC 8305 §4,
//!    "First Address Family Count" of 1).
//! 2. The first attempt starts in `new`. Each next one starts `attempt_delay` after the
//!    previous one started (RFC 8305 §5, "Connection Attempt Delay"; 250 ms recommended),
//!    or at once when an attempt fails. Earlier attempts keep running.
//! 3. The first attempt to succeed wins; every other running attempt is cancelled and no
//!    new one starts.
//! 4. When every address was tried and every attempt failed, the outcome is
//!    [`AllAttemptsFailed`].
//!
//! Drive it like the pool: after `new` and every input, drain `poll_action` and arm a
//! timer for `poll_timeout`; report each `Connect` exactly once with `attempt_failed`
//! or `attempt_succeeded`. Unknown or finished attempts are ignored. A success reported
//! after that attempt was cancelled changes nothing: `outcome()` names the winner, and
//! the engine closes the late socket.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

/// One connection attempt: the `n`th address tried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AttemptId(u32);

impl AttemptId {
    /// The attempt's position in start order, from 0; the engine can index a `Vec` by it.
    #[must_use]
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Work for the engine's dial task.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DialAction {
    /// Open a connection to `addr`; report the result for `attempt`.
    Connect {
        /// The attempt to report on.
        attempt: AttemptId,
        /// Where to connect.
        addr: SocketAddr,
    },
    /// Abort `attempt`: another one won.
    Cancel {
        /// The attempt to abort.
        attempt: AttemptId,
    },
}

/// Every address was tried and every attempt failed (or there was no address).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AllAttemptsFailed {
    /// How many attempts were made; the engine holds their errors.
    pub attempts: usize,
}

/// Where one attempt stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum AttemptState {
    Running,
    Failed,
    Won,
    Cancelled,
}

/// RFC 8305 connection racing over resolved addresses; see the module doc.
#[derive(Debug)]
pub struct HappyEyeballs {
    /// Addresses in attempt order (interleaved by family).
    addrs: Vec<SocketAddr>,
    /// One entry per started attempt; `attempts.len()` is the next address to try.
    attempts: Vec<AttemptState>,
    attempt_delay: Duration,
    next_attempt_at: Option<Instant>,
    actions: VecDeque<DialAction>,
    outcome: Option<Result<(AttemptId, SocketAddr), AllAttemptsFailed>>,
}

impl HappyEyeballs {
    /// RFC 8305's recommended Connection Attempt Delay.
    pub const DEFAULT_ATTEMPT_DELAY: Duration = Duration::from_millis(250);

    /// Starts racing `addrs` (resolver order): the first `Connect` is queued at once.
    /// With no address the outcome is already `Err(AllAttemptsFailed { attempts: 0 })`.
    #[must_use]
    pub fn new(now: Instant, addrs: Vec<SocketAddr>, attempt_delay: Duration) -> Self {
        let mut racing = Self {
            addrs: interleave_families(addrs),
            attempts: Vec::new(),
            attempt_delay,
            next_attempt_at: None,
            actions: VecDeque::new(),
            outcome: None,
        };
        racing.start_next(now);
        racing.settle_if_exhausted();
        racing
    }

    /// Starts the next attempt if its delay has passed. Idempotent.
    pub fn handle_timeout(&mut self, now: Instant) {
        if self.outcome.is_none() && self.next_attempt_at.is_some_and(|at| at <= now) {
            self.start_next(now);
        }
    }

    /// `attempt` failed: the next address is tried at once; when none is left and no
    /// attempt still runs, the race is lost.
    pub fn attempt_failed(&mut self, now: Instant, attempt: AttemptId) {
        if !self.finish(attempt, AttemptState::Failed) {
            return;
        }
        if self.outcome.is_none() {
            self.start_next(now);
            self.settle_if_exhausted();
        }
    }

    /// `attempt` connected: if the race is still open it wins, and every other running
    /// attempt is cancelled.
    pub fn attempt_succeeded(&mut self, _now: Instant, attempt: AttemptId) {
        if self.outcome.is_some() || !self.finish(attempt, AttemptState::Won) {
            tracing::debug!(?attempt, "happy eyeballs: late or unknown success, ignored");
            return;
        }
        self.outcome = Some(Ok((attempt, self.addrs[attempt.index()])));
        self.next_attempt_at = None;
        for (index, state) in (0u32..).zip(self.attempts.iter_mut()) {
            if *state == AttemptState::Running {
                *state = AttemptState::Cancelled;
                self.actions.push_back(DialAction::Cancel { attempt: AttemptId(index) });
            }
        }
    }

    /// When to call `handle_timeout` next: the start of the next attempt, while the race
    /// is open and addresses remain.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.next_attempt_at
    }

    /// The next action, oldest first.
    #[must_use]
    pub fn poll_action(&mut self) -> Option<DialAction> {
        self.actions.pop_front()
    }

    /// The winner and its address, or the failure once every attempt failed; `None`
    /// while the race is open.
    #[must_use]
    pub fn outcome(&self) -> Option<Result<(AttemptId, SocketAddr), AllAttemptsFailed>> {
        self.outcome
    }

    /// Marks a running attempt finished; `false` if it is unknown or not running.
    fn finish(&mut self, attempt: AttemptId, to: AttemptState) -> bool {
        match self.attempts.get_mut(attempt.index()) {
            Some(state) if *state == AttemptState::Running => {
                *state = to;
                true
            }
            _ => {
                tracing::debug!(?attempt, "happy eyeballs: report for an attempt not running");
                false
            }
        }
    }

    /// Starts the next address, if any, and times the one after it.
    fn start_next(&mut self, now: Instant) {
        let Some(&addr) = self.addrs.get(self.attempts.len()) else {
            self.next_attempt_at = None;
            return;
        };
        let attempt = AttemptId(u32::try_from(self.attempts.len()).unwrap_or(u32::MAX));
        self.attempts.push(AttemptState::Running);
        self.actions.push_back(DialAction::Connect { attempt, addr });
        tracing::debug!(?attempt, %addr, "happy eyeballs: connect");
        self.next_attempt_at =
            if self.attempts.len() < self.addrs.len() { now.checked_add(self.attempt_delay) } else { None };
    }

    /// Loses the race once no address is left and nothing runs.
    fn settle_if_exhausted(&mut self) {
        let exhausted =
            self.attempts.len() == self.addrs.len() && !self.attempts.contains(&AttemptState::Running);
        if self.outcome.is_none() && exhausted {
            self.outcome = Some(Err(AllAttemptsFailed { attempts: self.attempts.len() }));
        }
    }
}

/// RFC 8305 §4: the first address's family first, then alternate; order within a family
/// is kept, and the longer family's remainder goes last.
fn interleave_families(addrs: Vec<SocketAddr>) -> Vec<SocketAddr> {
    let Some(first) = addrs.first() else {
        return addrs;
    };
    let first_is_v6 = first.is_ipv6();
    let mut order = Vec::with_capacity(addrs.len());
    let (preferred, other): (Vec<SocketAddr>, Vec<SocketAddr>) =
        addrs.into_iter().partition(|addr| addr.is_ipv6() == first_is_v6);
    let mut preferred = preferred.into_iter();
    let mut other = other.into_iter();
    loop {
        match (preferred.next(), other.next()) {
            (None, None) => return order,
            (a, b) => order.extend(a.into_iter().chain(b)),
        }
    }
}
