//! The simulated runtime: one thread, a virtual clock, and a scheduler that
//! runs ready tasks in an order drawn from the seed. Time moves only when no
//! task is ready, straight to the next timer, so a run of minutes of timeouts
//! takes milliseconds and replays exactly.

use std::collections::BTreeMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use roundtrip_core::client::{Io, Runtime, Sleep};

use super::net::Network;
use super::rng::Rng;

type Task = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Who started a task, which decides what the simulation may do to it.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Kind {
    /// Spawned by the engine through [`Runtime::spawn`]: may be dropped at
    /// any point, as a runtime may.
    Engine,
    /// A request the simulation sends: dropped only to cancel it, or at shutdown.
    Request,
    /// A simulated server: outside the client, never dropped.
    Server,
}

struct Slot {
    future: Option<Task>,
    kind: Kind,
    queued: bool,
}

/// The odds of the runtime's own misbehaviour, each in 1/1000.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Chaos {
    /// An engine task dropped unpolled inside `spawn`.
    pub(crate) drop_on_spawn: u64,
    /// An engine task dropped half-run, per scheduler step.
    pub(crate) drop_running: u64,
    /// A task woken for no reason, per scheduler step.
    pub(crate) spurious_wake: u64,
}

pub(crate) struct State {
    pub(crate) rng: Rng,
    base: Instant,
    elapsed: Duration,
    tasks: BTreeMap<u64, Slot>,
    next_task: u64,
    ready: Vec<u64>,
    timers: BTreeMap<(Instant, u64), Waker>,
    next_timer: u64,
    shut_down: bool,
    chaos: Chaos,
    /// Scheduler steps taken, and how many of them polled a task.
    pub(crate) steps: u64,
    pub(crate) net: Network,
}

/// The simulation's shared state; every handle (runtime, timer, socket, waker) holds it.
pub(crate) struct Shared {
    state: Mutex<State>,
}

impl Shared {
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A number in `0..n` from the seed's stream.
    pub(crate) fn below(&self, n: u64) -> u64 {
        self.lock().rng.below(n)
    }

    /// True with odds `per_mille`/1000.
    pub(crate) fn chance(&self, per_mille: u64) -> bool {
        per_mille > 0 && self.below(1000) < per_mille
    }

    pub(crate) fn now(&self) -> Instant {
        let state = self.lock();
        state.base + state.elapsed
    }
}

/// The [`Runtime`] the engine runs on in the simulation.
#[derive(Clone)]
pub(crate) struct SimRuntime {
    pub(crate) shared: Arc<Shared>,
}

impl SimRuntime {
    pub(crate) fn new(rng: Rng, chaos: Chaos, net: Network) -> Self {
        let state = State {
            rng,
            base: Instant::now(),
            elapsed: Duration::ZERO,
            tasks: BTreeMap::new(),
            next_task: 0,
            ready: Vec::new(),
            timers: BTreeMap::new(),
            next_timer: 0,
            shut_down: false,
            chaos,
            steps: 0,
            net,
        };
        Self { shared: Arc::new(Shared { state: Mutex::new(state) }) }
    }

    /// Virtual time since the start.
    pub(crate) fn elapsed(&self) -> Duration {
        self.shared.lock().elapsed
    }

    /// Starts `future` as a task of `kind`. After shutdown, drops it.
    pub(crate) fn spawn_kind(&self, kind: Kind, future: Task) {
        let mut state = self.shared.lock();
        let dropped = state.shut_down
            || (kind == Kind::Engine && {
                let odds = state.chaos.drop_on_spawn;
                odds > 0 && state.rng.below(1000) < odds
            });
        if dropped {
            drop(state);
            drop(future);
            return;
        }
        let id = state.next_task;
        state.next_task += 1;
        state.tasks.insert(id, Slot { future: Some(future), kind, queued: true });
        state.ready.push(id);
    }

    /// Tasks alive, by kind.
    pub(crate) fn live(&self, kind: Kind) -> usize {
        self.shared.lock().tasks.values().filter(|slot| slot.kind == kind).count()
    }

    /// Shuts the runtime down: every engine and request task is dropped, and
    /// anything spawned later too. Servers run on to see their sockets close.
    pub(crate) fn shut_down(&self) {
        let doomed: Vec<Task> = {
            let mut state = self.shared.lock();
            state.shut_down = true;
            let ids: Vec<u64> =
                state.tasks.iter().filter(|(_, slot)| slot.kind != Kind::Server).map(|(&id, _)| id).collect();
            ids.into_iter().filter_map(|id| state.tasks.remove(&id).and_then(|slot| slot.future)).collect()
        };
        // Dropped one at a time with the lock released: a drop may spawn or wake.
        for task in doomed {
            drop(task);
        }
    }

    /// Runs until no task is ready and no timer is set, or `until` says stop
    /// (checked after every step). `check` runs after every step, told
    /// whether it ran or dropped client code (a server's step or a timer's
    /// firing changes no client state), and fails the run by panicking.
    /// Panics after `max_steps`: a livelock.
    pub(crate) fn run(
        &self,
        max_steps: u64,
        mut check: impl FnMut(&Self, bool),
        mut until: impl FnMut(&Self) -> bool,
    ) {
        loop {
            if until(self) {
                return;
            }
            let step = {
                let mut state = self.shared.lock();
                state.steps += 1;
                assert!(state.steps <= max_steps, "no quiescence after {max_steps} steps: a livelock");
                self.pick(&mut state)
            };
            let client_ran = match &step {
                Step::Poll(id, _) => {
                    self.shared.lock().tasks.get(id).is_some_and(|slot| slot.kind != Kind::Server)
                }
                Step::Drop(_) => true,
                Step::Wake(_) | Step::Quiet => false,
            };
            match step {
                Step::Poll(id, mut task) => {
                    let waker = Waker::from(Arc::new(TaskWaker { id, shared: Arc::downgrade(&self.shared) }));
                    let done = task.as_mut().poll(&mut Context::from_waker(&waker)).is_ready();
                    let mut state = self.shared.lock();
                    if done {
                        state.tasks.remove(&id);
                        drop(state);
                        drop(task);
                    } else if let Some(slot) = state.tasks.get_mut(&id) {
                        slot.future = Some(task);
                    }
                }
                Step::Drop(task) => drop(task),
                Step::Wake(wakers) => wakers.into_iter().for_each(Waker::wake),
                Step::Quiet => return,
            }
            check(self, client_ran);
        }
    }

    /// Chooses the next step with the lock held; the step runs without it.
    fn pick(&self, state: &mut State) -> Step {
        let chaos = state.chaos;
        if chaos.drop_running > 0 && state.rng.below(1000) < chaos.drop_running {
            let engine: Vec<u64> = state
                .tasks
                .iter()
                .filter(|(_, slot)| slot.kind == Kind::Engine && slot.future.is_some())
                .map(|(&id, _)| id)
                .collect();
            if !engine.is_empty() {
                let id = engine[state.rng.below(engine.len() as u64) as usize];
                state.ready.retain(|&ready| ready != id);
                if let Some(task) = state.tasks.remove(&id).and_then(|slot| slot.future) {
                    return Step::Drop(task);
                }
            }
        }
        if chaos.spurious_wake > 0 && state.rng.below(1000) < chaos.spurious_wake && !state.tasks.is_empty() {
            let nth = state.rng.below(state.tasks.len() as u64) as usize;
            if let Some((&id, slot)) = state.tasks.iter_mut().nth(nth)
                && !slot.queued
            {
                slot.queued = true;
                state.ready.push(id);
            }
        }
        while !state.ready.is_empty() {
            let index = state.rng.below(state.ready.len() as u64) as usize;
            let id = state.ready.swap_remove(index);
            if let Some(slot) = state.tasks.get_mut(&id) {
                slot.queued = false;
                if let Some(task) = slot.future.take() {
                    return Step::Poll(id, task);
                }
            }
        }
        // Nothing ready: move the clock to the next timer and fire all that are due.
        let Some((&(deadline, _), _)) = state.timers.iter().next() else { return Step::Quiet };
        let now = state.base + state.elapsed;
        if deadline > now {
            state.elapsed = deadline - state.base;
        }
        let later = state.timers.split_off(&(deadline, u64::MAX));
        let due = std::mem::replace(&mut state.timers, later);
        Step::Wake(due.into_values().collect())
    }
}

enum Step {
    Poll(u64, Task),
    Drop(Task),
    Wake(Vec<Waker>),
    Quiet,
}

struct TaskWaker {
    id: u64,
    shared: Weak<Shared>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        let Some(shared) = self.shared.upgrade() else { return };
        let mut state = shared.lock();
        if let Some(slot) = state.tasks.get_mut(&self.id)
            && !slot.queued
        {
            slot.queued = true;
            state.ready.push(self.id);
        }
    }
}

/// A virtual-clock timer.
pub(crate) struct SimSleep {
    shared: Arc<Shared>,
    deadline: Instant,
    id: u64,
    registered: bool,
}

impl SimSleep {
    fn unregister(&mut self) {
        if std::mem::take(&mut self.registered) {
            self.shared.lock().timers.remove(&(self.deadline, self.id));
        }
    }
}

impl Future for SimSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = &mut *self;
        let mut state = this.shared.lock();
        if state.base + state.elapsed >= this.deadline {
            if std::mem::take(&mut this.registered) {
                state.timers.remove(&(this.deadline, this.id));
            }
            return Poll::Ready(());
        }
        state.timers.insert((this.deadline, this.id), cx.waker().clone());
        this.registered = true;
        Poll::Pending
    }
}

impl Sleep for SimSleep {
    fn reset(&mut self, deadline: Instant) {
        self.unregister();
        self.deadline = deadline;
    }
}

impl Drop for SimSleep {
    fn drop(&mut self) {
        self.unregister();
    }
}

/// Sleeps `duration` of virtual time.
pub(crate) fn sleep(runtime: &SimRuntime, duration: Duration) -> SimSleep {
    runtime.sleep_until(runtime.now() + duration)
}

impl Runtime for SimRuntime {
    type Sleep = SimSleep;

    fn spawn<F>(&self, future: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        self.spawn_kind(Kind::Engine, Box::pin(future));
    }

    fn now(&self) -> Instant {
        self.shared.now()
    }

    fn sleep_until(&self, deadline: Instant) -> SimSleep {
        let id = {
            let mut state = self.shared.lock();
            state.next_timer += 1;
            state.next_timer
        };
        SimSleep { shared: self.shared.clone(), deadline, id, registered: false }
    }

    fn resolve(&self, host: String, port: u16) -> impl Future<Output = io::Result<Vec<SocketAddr>>> + Send {
        let found = super::net::host_index(&host)
            .map(|index| vec![SocketAddr::new(IpAddr::V4(Ipv4Addr::new(127, 0, 1, index)), port)])
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, format!("no simulated host {host}")));
        std::future::ready(found)
    }

    fn connect_tcp(&self, addr: SocketAddr) -> impl Future<Output = io::Result<Box<dyn Io>>> + Send {
        super::net::connect(self.clone(), addr)
    }

    fn connect_unix(&self, _path: PathBuf) -> impl Future<Output = io::Result<Box<dyn Io>>> + Send {
        std::future::ready(Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "no Unix sockets in the simulation",
        )))
    }
}
