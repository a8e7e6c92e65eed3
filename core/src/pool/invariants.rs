//! `check_invariants`: recounts everything from scratch and compares it with the pool's
//! running counts and lists. O(size of the pool); for tests and the fuzz target.

use std::collections::HashSet;
use std::hash::Hash;

use super::Pool;
use super::entries::{ConnState, WaiterList};
use super::list::Linked;

impl<K: Clone + Eq + Hash> Pool<K> {
    /// Verifies the invariants listed in the module doc against a full recount; `Err`
    /// describes the first one broken. For tests and fuzzing: it walks the whole pool.
    #[doc(hidden)]
    pub fn check_invariants(&self) -> Result<(), String> {
        self.check_keys()?;
        self.check_key_states()?;
        self.check_waiters()?;
        self.check_global_orders()
    }

    fn check_keys(&self) -> Result<(), String> {
        let free: HashSet<u32> = self.free_keys.iter().copied().collect();
        if free.len() != self.free_keys.len() {
            return Err("a key slot is free twice".into());
        }
        for (key, &slot) in &self.keys {
            if free.contains(&slot) {
                return Err(format!("key slot {slot} is both used and free"));
            }
            if self.key_states[slot as usize].key.as_ref() != Some(key) {
                return Err(format!("key slot {slot} holds another key"));
            }
        }
        let used = self.key_states.iter().filter(|s| s.key.is_some()).count();
        if used != self.keys.len() || used + free.len() != self.key_states.len() {
            return Err("key slots and key map disagree".into());
        }
        Ok(())
    }

    fn check_key_states(&self) -> Result<(), String> {
        let slots = self.key_states.len();
        let (mut active, mut idle, mut dialing) = (vec![0; slots], vec![0; slots], vec![0; slots]);
        for (_, conn) in self.conns.iter() {
            match conn.state {
                ConnState::Active => active[conn.key as usize] += 1,
                ConnState::Idle { .. } => idle[conn.key as usize] += 1,
            }
        }
        for (_, dial) in self.dials.iter() {
            dialing[dial.key as usize] += 1;
        }
        for (slot, state) in self.key_states.iter().enumerate() {
            if state.key.is_none() {
                if active[slot] + idle[slot] + dialing[slot] + state.waiting.len() > 0 {
                    return Err(format!("free key slot {slot} still holds entries"));
                }
                continue;
            }
            if state.is_unused() {
                return Err(format!("key slot {slot} is unused but not forgotten"));
            }
            let counted = (state.active, state.idle.len(), state.dialing);
            if counted != (active[slot], idle[slot], dialing[slot]) {
                return Err(format!(
                    "key slot {slot}: (active, idle, dialing) {counted:?} but recount {:?}",
                    (active[slot], idle[slot], dialing[slot])
                ));
            }
            if state.conns != active[slot] + idle[slot] + dialing[slot] {
                return Err(format!("key slot {slot}: conns {} != dialing + active + idle", state.conns));
            }
            if let Some(max) = self.config.max_conns_per_host
                && state.conns > max.get()
            {
                return Err(format!("key slot {slot}: {} conns over the limit", state.conns));
            }
            if state.idle.len() > self.config.max_idle_per_host {
                return Err(format!("key slot {slot}: too many idle connections"));
            }
            if !state.idle.is_empty() && !state.waiting.is_empty() {
                return Err(format!("key slot {slot}: idle connections while waiters wait"));
            }
            for conn in state.idle.iter(&self.conns) {
                let record = &self.conns[conn];
                if record.key as usize != slot || record.state == ConnState::Active {
                    return Err(format!("key slot {slot}: idle list holds connection {conn}"));
                }
            }
        }
        Ok(())
    }

    fn check_waiters(&self) -> Result<(), String> {
        let mut seen = 0;
        for (slot, state) in self.key_states.iter().enumerate() {
            let mut queued_for_slot = 0;
            let mut previous = None;
            for waiter in state.waiting.iter(&self.waiters) {
                seen += 1;
                let record = &self.waiters[waiter];
                if record.key as usize != slot {
                    return Err(format!("waiter {waiter} is queued under another key"));
                }
                if previous.is_some_and(|since| since > record.since) {
                    return Err(format!("key slot {slot}: waiters out of checkout order"));
                }
                previous = Some(record.since);
                let in_dial_wait = record.link(WaiterList::DialWait).is_linked();
                match (record.dial, in_dial_wait) {
                    (Some(dial), false) => {
                        if queued_for_slot > 0 {
                            return Err(format!("waiter {waiter} owns a dial behind slot-waiters"));
                        }
                        if self.dials[dial].owner != Some(waiter) {
                            return Err(format!("waiter {waiter} and dial {dial} disagree"));
                        }
                    }
                    (None, true) => queued_for_slot += 1,
                    _ => return Err(format!("waiter {waiter} has not exactly one claim")),
                }
            }
            if queued_for_slot != state.dial_wait.len() {
                return Err(format!("key slot {slot}: slot queue holds strangers"));
            }
        }
        if seen != self.waiters.len() {
            return Err("a live waiter is in no key's queue".into());
        }
        for (index, dial) in self.dials.iter() {
            if let Some(owner) = dial.owner
                && self.waiters[owner].dial != Some(index)
            {
                return Err(format!("dial {index} names owner {owner}, which disowns it"));
            }
        }
        Ok(())
    }

    fn check_global_orders(&self) -> Result<(), String> {
        if self.lru.len() != self.key_states.iter().map(|s| s.idle.len()).sum::<usize>() {
            return Err("LRU and idle lists disagree".into());
        }
        if self.lru.len() > self.config.max_idle {
            return Err("more idle connections than max_idle".into());
        }
        let mut previous = None;
        for conn in self.lru.iter(&self.conns) {
            let ConnState::Idle { since } = self.conns[conn].state else {
                return Err(format!("LRU holds active connection {conn}"));
            };
            if previous.is_some_and(|p| p > since) {
                return Err("LRU out of idle order".into());
            }
            previous = Some(since);
        }
        let mut previous = None;
        for conn in self.by_age.iter(&self.conns) {
            let dialed_at = self.conns[conn].dialed_at;
            if previous.is_some_and(|p| p > dialed_at) {
                return Err("age order broken".into());
            }
            previous = Some(dialed_at);
        }
        let expected_deadlines = if self.config.wait_timeout.is_some() { self.waiters.len() } else { 0 };
        if self.by_deadline.len() != expected_deadlines {
            return Err("deadline order misses waiters".into());
        }
        if self.started.len() != self.dials.len() {
            return Err("start order misses dials".into());
        }
        Ok(())
    }
}
