//! `IndexList`: a doubly linked list threaded through slab entries by index.
//!
//! Every queue and ordering in the pool (a key's idle stack, the global LRU, a key's
//! wait queues, deadline orders) is one of these, so that:
//! - push, pop and removal from the middle are O(1) and never allocate: the links live in
//!   the entries themselves (one `Link` per list an entry can be in);
//! - a cancelled waiter or a dead idle connection is unlinked at once. Go trims such
//!   entries lazily from the queue fronts (`cleanFrontNotWaiting`); unlinking at once gives
//!   the same order, and a queue never holds more than its live entries, however many
//!   waiters are cancelled.
//!
//! An entry records whether it is linked, so removing an unlinked entry is a no-op.

use super::slab::Slab;

/// "No entry" in a link or list end.
const NIL: u32 = u32::MAX;

/// An entry's place in one list.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Link {
    prev: u32,
    next: u32,
    linked: bool,
}

impl Default for Link {
    fn default() -> Self {
        Self { prev: NIL, next: NIL, linked: false }
    }
}

impl Link {
    /// Whether the entry is in the list this link belongs to.
    pub(crate) fn is_linked(&self) -> bool {
        self.linked
    }
}

/// An entry type that can be in lists of kind `L` (an enum naming its links).
pub(crate) trait Linked<L> {
    fn link(&self, list: L) -> &Link;
    fn link_mut(&mut self, list: L) -> &mut Link;
}

/// A list of entries of one slab, through their `which` link; see the module doc.
#[derive(Clone, Copy, Debug)]
pub(crate) struct IndexList<L> {
    head: u32,
    tail: u32,
    len: usize,
    which: L,
}

impl<L: Copy> IndexList<L> {
    pub(crate) fn new(which: L) -> Self {
        Self { head: NIL, tail: NIL, len: 0, which }
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The oldest entry.
    pub(crate) fn front(&self) -> Option<u32> {
        (self.head != NIL).then_some(self.head)
    }

    /// The newest entry.
    pub(crate) fn back(&self) -> Option<u32> {
        (self.tail != NIL).then_some(self.tail)
    }

    /// The entry after `index` (towards the newest).
    pub(crate) fn next<T: Linked<L>>(&self, slab: &Slab<T>, index: u32) -> Option<u32> {
        let next = slab[index].link(self.which).next;
        (next != NIL).then_some(next)
    }

    /// Appends `index`, which must not be in a list through this link already.
    pub(crate) fn push_back<T: Linked<L>>(&mut self, slab: &mut Slab<T>, index: u32) {
        let old_tail = self.tail;
        let link = slab[index].link_mut(self.which);
        debug_assert!(!link.linked, "entry {index} is already linked");
        *link = Link { prev: old_tail, next: NIL, linked: true };
        if old_tail == NIL {
            self.head = index;
        } else {
            slab[old_tail].link_mut(self.which).next = index;
        }
        self.tail = index;
        self.len += 1;
    }

    /// Unlinks `index` if it is linked through this list's link; a no-op otherwise.
    pub(crate) fn remove<T: Linked<L>>(&mut self, slab: &mut Slab<T>, index: u32) {
        let link = *slab[index].link(self.which);
        if !link.linked {
            return;
        }
        *slab[index].link_mut(self.which) = Link::default();
        self.relink(slab, link.prev, link.next);
        self.len -= 1;
    }

    /// Puts `new` (not linked here) where `old` is, and unlinks `old`: `new` inherits
    /// `old`'s place in the queue.
    pub(crate) fn replace<T: Linked<L>>(&mut self, slab: &mut Slab<T>, old: u32, new: u32) {
        let link = *slab[old].link(self.which);
        if !link.linked {
            return;
        }
        debug_assert!(!slab[new].link(self.which).linked);
        *slab[old].link_mut(self.which) = Link::default();
        *slab[new].link_mut(self.which) = link;
        if link.prev == NIL {
            self.head = new;
        } else {
            slab[link.prev].link_mut(self.which).next = new;
        }
        if link.next == NIL {
            self.tail = new;
        } else {
            slab[link.next].link_mut(self.which).prev = new;
        }
    }

    /// Indexes from oldest to newest.
    pub(crate) fn iter<'a, T: Linked<L>>(&self, slab: &'a Slab<T>) -> impl Iterator<Item = u32> + 'a
    where
        L: 'a,
    {
        let which = self.which;
        let mut next = self.head;
        std::iter::from_fn(move || {
            let index = next;
            if index == NIL {
                return None;
            }
            next = slab[index].link(which).next;
            Some(index)
        })
    }

    /// Joins `prev` and `next` around a removed entry.
    fn relink<T: Linked<L>>(&mut self, slab: &mut Slab<T>, prev: u32, next: u32) {
        if prev == NIL {
            self.head = next;
        } else {
            slab[prev].link_mut(self.which).next = next;
        }
        if next == NIL {
            self.tail = prev;
        } else {
            slab[next].link_mut(self.which).prev = prev;
        }
    }
}
