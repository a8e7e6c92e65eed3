//! The connection's timers: one fixed table, the next deadline is the minimum.

use std::time::{Duration, Instant};

/// A timer of the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Timer {
    /// Waiting for `100 Continue` before sending the body anyway.
    ExpectContinue = 0,
    /// Waiting for the final response head after the request was written.
    ResponseHead = 1,
    /// Waiting for response body bytes.
    BodyReadIdle = 2,
}

impl Timer {
    /// Every timer, in the order they fire when due together.
    pub(crate) const ALL: [Timer; 3] = [Timer::ExpectContinue, Timer::ResponseHead, Timer::BodyReadIdle];
}

/// Deadlines by timer.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct TimerTable {
    deadlines: [Option<Instant>; 3],
}

impl TimerTable {
    /// Runs `timer` for `after` from `now`. A duration past what `Instant` can
    /// hold (`Duration::MAX` for "no limit") never fires rather than panicking.
    pub(crate) fn start(&mut self, timer: Timer, now: Instant, after: Duration) {
        self.deadlines[timer as usize] = now.checked_add(after);
    }

    pub(crate) fn stop(&mut self, timer: Timer) {
        self.deadlines[timer as usize] = None;
    }

    pub(crate) fn get(&self, timer: Timer) -> Option<Instant> {
        self.deadlines[timer as usize]
    }

    pub(crate) fn clear(&mut self) {
        self.deadlines = [None; 3];
    }

    /// The earliest deadline.
    pub(crate) fn next(&self) -> Option<Instant> {
        self.deadlines.iter().flatten().min().copied()
    }

    /// Stops and returns the first timer due at `now`, if any.
    pub(crate) fn expire(&mut self, now: Instant) -> Option<Timer> {
        let timer = Timer::ALL.into_iter().find(|&t| self.get(t).is_some_and(|d| d <= now))?;
        self.stop(timer);
        Some(timer)
    }
}
