//! Runtime-neutral async helpers for tests: a signal a server thread can set,
//! racing a future against it, and joining futures without spawning.

use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use roundtrip_core::client::Runtime;

/// A one-shot event: set from any thread, awaited from a task.
#[derive(Clone, Debug, Default)]
pub struct Signal {
    inner: Arc<Mutex<(bool, Vec<Waker>)>>,
}

impl Signal {
    /// A signal not yet set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the signal and wakes every waiter.
    pub fn set(&self) {
        let wakers = {
            let mut inner = self.inner.lock().unwrap();
            inner.0 = true;
            std::mem::take(&mut inner.1)
        };
        wakers.into_iter().for_each(Waker::wake);
    }

    /// True once set.
    pub fn is_set(&self) -> bool {
        self.inner.lock().unwrap().0
    }

    /// Completes once the signal is set.
    pub async fn wait(&self) {
        poll_fn(|cx| {
            let mut inner = self.inner.lock().unwrap();
            if inner.0 {
                return Poll::Ready(());
            }
            inner.1.push(cx.waker().clone());
            Poll::Pending
        })
        .await
    }
}

/// Drives `future` until it completes (`Ok`) or `signal` is set (`Err`,
/// with the future handed back unfinished so the caller decides when to drop it).
pub async fn until<F: Future + Unpin>(mut future: F, signal: &Signal) -> Result<F::Output, F> {
    let done = {
        let mut wait = std::pin::pin!(signal.wait());
        poll_fn(|cx| {
            if let Poll::Ready(output) = Pin::new(&mut future).poll(cx) {
                return Poll::Ready(Some(output));
            }
            wait.as_mut().poll(cx).map(|()| None)
        })
        .await
    };
    done.ok_or(future)
}

/// Runs all `futures` concurrently in the current task.
pub async fn join_all<F: Future>(futures: Vec<F>) -> Vec<F::Output> {
    let mut futures: Vec<Pin<Box<F>>> = futures.into_iter().map(Box::pin).collect();
    let mut outputs: Vec<Option<F::Output>> = futures.iter().map(|_| None).collect();
    poll_fn(|cx| {
        let mut pending = false;
        for (future, output) in futures.iter_mut().zip(outputs.iter_mut()) {
            if output.is_none() {
                match future.as_mut().poll(cx) {
                    Poll::Ready(value) => *output = Some(value),
                    Poll::Pending => pending = true,
                }
            }
        }
        if pending { Poll::Pending } else { Poll::Ready(()) }
    })
    .await;
    outputs.into_iter().flatten().collect()
}

/// A tiny deterministic generator (xorshift64*) for seeded randomised tests.
#[derive(Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from `seed` (not zero).
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }

    /// The next value in `0..n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n.max(1)
    }
}

/// Lets every other future in the task (and the runtime) run once.
pub async fn yield_now() {
    let mut yielded = false;
    poll_fn(|cx| {
        if std::mem::replace(&mut yielded, true) {
            return Poll::Ready(());
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    })
    .await
}

/// Waits until `done()` holds, for state that another task or thread changes
/// with no event to await (a background task reporting to the pool). Yields
/// first, then checks every millisecond; panics with `what` after 10 s.
pub async fn eventually<R: Runtime>(runtime: &R, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(10);
    for _ in 0..100 {
        if done() {
            return;
        }
        yield_now().await;
    }
    while !done() {
        assert!(Instant::now() < deadline, "still waiting after 10 s: {what}");
        runtime.sleep_until(runtime.now() + Duration::from_millis(1)).await;
    }
}
