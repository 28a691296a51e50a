//! Per-thread spare buffers: a vector each message needs (the tree's nodes, the tree builder's
//! element stack, the schema walk's stack) is kept, emptied, for the next message on the same
//! thread instead of being allocated and freed each time.

use std::cell::Cell;
use std::thread::LocalKey;

/// Buffers with room for more elements than this are not kept: one huge message must not pin
/// memory.
const KEEP_MAX: usize = 4096;

/// Where a thread keeps its spare buffer of one kind.
pub(crate) type Slot<T> = Cell<Vec<T>>;

/// An empty vector with room for at least `capacity` elements, with the spare's allocation
/// when there is one.
#[inline(always)]
pub(crate) fn take<T: 'static>(slot: &'static LocalKey<Slot<T>>, capacity: usize) -> Vec<T> {
    let mut v = slot.try_with(Cell::take).unwrap_or_default();
    v.reserve(capacity);
    v
}

/// Keeps `v`'s allocation, emptied, as the spare, unless it is too large (ignored while the
/// thread is being torn down). The spare is taken while a message is read, so the slot is
/// empty here unless the thread reads messages one inside another.
#[inline]
pub(crate) fn keep<T: 'static>(slot: &'static LocalKey<Slot<T>>, mut v: Vec<T>) {
    if v.capacity() == 0 || v.capacity() > KEEP_MAX {
        return;
    }
    v.clear();
    let _ = slot.try_with(|s| s.set(v));
}

#[cfg(test)]
mod tests {
    use super::{keep, take, Slot, KEEP_MAX};

    thread_local! {
        static TEST: Slot<u64> = const { Slot::new(Vec::new()) };
    }

    /// A kept buffer comes back empty with its allocation; one over the limit is not kept.
    #[test]
    fn spare_is_reused_empty_and_bounded() {
        let mut v = take(&TEST, 10);
        v.extend(0..100);
        let (ptr, cap) = (v.as_ptr(), v.capacity());
        keep(&TEST, v);
        let again = take(&TEST, 1);
        assert!(again.is_empty());
        assert_eq!((again.as_ptr(), again.capacity()), (ptr, cap), "the same allocation");
        keep(&TEST, Vec::with_capacity(KEEP_MAX + 1));
        assert_eq!(take(&TEST, 0).capacity(), 0, "a buffer over the limit is dropped");
    }
}
