//! The pool's records: one per key, connection, waiter and dial, and the lists that thread
//! through them.

use std::time::Instant;

use super::list::{IndexList, Link, Linked};
use super::stats::Counts;

/// Everything the pool tracks for one key. Lives in a slot of `Pool::key_states` and is
/// recycled through a free list once the key has nothing counted and nobody waiting (Go
/// deletes its map entries at zero; a long-lived client that talks to many hosts must not
/// grow, Go `TestIdleConnChannelLeak`).
#[derive(Debug)]
pub(crate) struct KeyState<K> {
    /// The key itself; `None` while the slot is free.
    pub(crate) key: Option<K>,
    /// Dialing + active + idle: what `max_conns_per_host` limits (Go `connsPerHost`).
    pub(crate) conns: usize,
    pub(crate) dialing: usize,
    pub(crate) active: usize,
    /// Idle connections, least recently used first (Go `idleConn[key]`, MRU at the end).
    pub(crate) idle: IndexList<ConnList>,
    /// Every live waiter of the key, oldest first (Go `idleConnWait[key]`).
    pub(crate) waiting: IndexList<WaiterList>,
    /// The waiters queued for a dial slot, oldest first (Go `connsPerHostWait[key]`).
    pub(crate) dial_wait: IndexList<WaiterList>,
    /// Cumulative counts since the key was last unused.
    pub(crate) counts: Counts,
}

impl<K> KeyState<K> {
    pub(crate) fn vacant() -> Self {
        Self {
            key: None,
            conns: 0,
            dialing: 0,
            active: 0,
            idle: IndexList::new(ConnList::KeyIdle),
            waiting: IndexList::new(WaiterList::Waiting),
            dial_wait: IndexList::new(WaiterList::DialWait),
            counts: Counts::default(),
        }
    }

    /// Nothing counted and nobody waiting: the slot can be recycled.
    pub(crate) fn is_unused(&self) -> bool {
        self.conns == 0 && self.waiting.is_empty()
    }
}

/// The lists a connection can be in.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ConnList {
    /// Its key's idle list.
    KeyIdle,
    /// The global idle LRU (`max_idle` eviction, idle-timeout order).
    Lru,
    /// All connections in dial-success order (`max_conn_lifetime` order); a leased
    /// connection leaves it once its lifetime passed, as `release` will close it anyway.
    Age,
}

/// Whether a counted connection is leased out or idle.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ConnState {
    Active,
    Idle { since: Instant },
}

#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) key: u32,
    pub(crate) state: ConnState,
    pub(crate) dialed_at: Instant,
    pub(crate) requests_served: u64,
    pub(crate) links: [Link; 3],
}

impl Linked<ConnList> for Conn {
    fn link(&self, list: ConnList) -> &Link {
        &self.links[list as usize]
    }
    fn link_mut(&mut self, list: ConnList) -> &mut Link {
        &mut self.links[list as usize]
    }
}

/// The lists a waiter can be in.
#[derive(Clone, Copy, Debug)]
pub(crate) enum WaiterList {
    /// Its key's `waiting` queue (every live waiter is in it).
    Waiting,
    /// Its key's `dial_wait` queue.
    DialWait,
    /// All waiters in checkout order (`wait_timeout` order).
    Deadline,
}

/// A checkout waiting for a connection. It is backed by exactly one way to a new
/// connection: the dial it owns, or its place in its key's `dial_wait` queue.
#[derive(Debug)]
pub(crate) struct Waiter {
    pub(crate) key: u32,
    pub(crate) since: Instant,
    /// The dial this waiter owns, if it is not queued for a slot.
    pub(crate) dial: Option<u32>,
    pub(crate) links: [Link; 3],
}

impl Linked<WaiterList> for Waiter {
    fn link(&self, list: WaiterList) -> &Link {
        &self.links[list as usize]
    }
    fn link_mut(&mut self, list: WaiterList) -> &mut Link {
        &mut self.links[list as usize]
    }
}

/// The one list a dial is in: all dials in start order (for `close_idle`).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Started;

/// A dial the engine is running; it holds a slot of its key.
#[derive(Debug)]
pub(crate) struct Dial {
    pub(crate) key: u32,
    /// The waiter that depends on this dial; `None` once that waiter was served by
    /// another connection or left (the dial still completes and feeds the pool).
    pub(crate) owner: Option<u32>,
    /// `CancelDial` was emitted for it.
    pub(crate) cancelled: bool,
    pub(crate) link: Link,
}

impl Linked<Started> for Dial {
    fn link(&self, _: Started) -> &Link {
        &self.link
    }
    fn link_mut(&mut self, _: Started) -> &mut Link {
        &mut self.link
    }
}
