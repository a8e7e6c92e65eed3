//! Dense storage for waiters, dials and connections, addressed by generation-checked ids.
//!
//! - A freed slot is reused before the storage grows, so indexes stay small and dense
//!   (the engine keeps its sockets in a `Vec` indexed by [`ConnId::index`]).
//! - Every reuse bumps the slot's generation, so an id kept past its entry's removal no
//!   longer matches and the pool ignores it instead of acting on a stranger.
//! - After warm-up (as many entries as were ever live at once) nothing allocates.
//!
//! [`ConnId::index`]: super::ConnId::index

use std::ops::{Index, IndexMut};

/// One slot: the generation of its latest occupant and the occupant, if any.
#[derive(Debug)]
struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

/// A vector of slots with a free list; see the module doc.
#[derive(Debug)]
pub(crate) struct Slab<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    len: usize,
}

impl<T> Slab<T> {
    pub(crate) fn new() -> Self {
        Self { slots: Vec::new(), free: Vec::new(), len: 0 }
    }

    /// Number of live entries.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Stores `value` and returns its `(index, generation)`.
    pub(crate) fn insert(&mut self, value: T) -> (u32, u32) {
        self.len += 1;
        if let Some(index) = self.free.pop() {
            let slot = &mut self.slots[index as usize];
            slot.value = Some(value);
            return (index, slot.generation);
        }
        let index = u32::try_from(self.slots.len()).expect("fewer than 2^32 pool entries");
        self.slots.push(Slot { generation: 0, value: Some(value) });
        (index, 0)
    }

    /// Removes and returns the entry at `index`; the slot's generation moves on so ids of
    /// the removed entry go stale.
    pub(crate) fn remove(&mut self, index: u32) -> Option<T> {
        let slot = self.slots.get_mut(index as usize)?;
        let value = slot.value.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(index);
        self.len -= 1;
        Some(value)
    }

    /// The index of the live entry named by `(index, generation)`, if it is still live.
    pub(crate) fn resolve(&self, index: u32, generation: u32) -> Option<u32> {
        let slot = self.slots.get(index as usize)?;
        (slot.generation == generation && slot.value.is_some()).then_some(index)
    }

    /// The generation of the live entry at `index` (to build its public id).
    pub(crate) fn generation(&self, index: u32) -> u32 {
        self.slots[index as usize].generation
    }

    /// Live entries with their indexes, in index order (invariant checks and bulk work).
    pub(crate) fn iter(&self) -> impl Iterator<Item = (u32, &T)> {
        self.slots
            .iter()
            .zip(0u32..)
            .filter_map(|(slot, index)| slot.value.as_ref().map(|value| (index, value)))
    }
}

/// Indexing is for indexes the pool holds in its own lists, which always name live
/// entries; a vacant slot here is a bug in the pool, not bad input.
impl<T> Index<u32> for Slab<T> {
    type Output = T;

    fn index(&self, index: u32) -> &T {
        self.slots[index as usize].value.as_ref().expect("pool lists name live entries only")
    }
}

impl<T> IndexMut<u32> for Slab<T> {
    fn index_mut(&mut self, index: u32) -> &mut T {
        self.slots[index as usize].value.as_mut().expect("pool lists name live entries only")
    }
}
