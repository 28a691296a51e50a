//! The key filter: answers "might the store hold this tenant's UETR / MsgId?" from memory, so
//! a tenant admitting a new payment reads sled only for keys it has probably seen (resends).
//!
//! Every new payment used to cost two sled point reads on the admission path (the lifetime
//! idempotency index), which halved the node's capacity (bench/RESULTS.md). A Bloom filter
//! (the `growable-bloom-filter` crate: scalable, so the history can grow without a size set up
//! front) says "no" for almost every new key; its "maybe" (a real key, or ~1 % false
//! positives) falls through to the sled read, so answers stay exact.
//!
//! No false negatives, by construction: once [`KeyFilter::enable`] has run, every key the store
//! applies is added to `recent` *before* its transaction commits (and so before `applied_seq`
//! moves past it, which is what lets a tenant forget a key); keys already on disk when the
//! filter was enabled are added by a background scan to `history`. Until that scan has finished
//! the filter answers "maybe" for everything, which is exactly the old behaviour. Keys that
//! appear while the scan runs are in `recent` whether or not the scan sees them.

use std::hash::Hash;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{OnceLock, RwLock};

use growable_bloom_filter::GrowableBloom;

/// False-positive rate of each filter: one in a hundred new keys pays the sled read.
const ERROR_RATE: f64 = 0.01;
/// Initial size of `recent` (it grows by itself).
const RECENT_INITIAL: usize = 64 * 1024;
/// Initial size of `history` (it grows by itself while the scan inserts).
const HISTORY_INITIAL: usize = 256 * 1024;

/// Which index a key belongs to: the same bytes as a UETR and as a MsgId are different keys.
#[derive(Debug, Clone, Copy, Hash)]
pub(crate) enum Index {
    /// `payments` tree: tenant ‖ UETR.
    Payment,
    /// `msg_ids` tree: tenant ‖ MsgId.
    MsgId,
}

/// The two filters and whether they cover the whole store yet.
#[derive(Debug, Default)]
pub(crate) struct KeyFilter {
    /// Set by `enable`: from then on applied keys are recorded.
    recording: AtomicBool,
    /// Keys applied since `enable`.
    recent: RwLock<Option<GrowableBloom>>,
    /// Keys on disk when `enable` ran; set once the background scan has read them all.
    history: OnceLock<GrowableBloom>,
}

impl KeyFilter {
    /// Starts recording applied keys. The caller then scans the store and hands the result to
    /// [`KeyFilter::set_history`]. Returns false if already enabled.
    pub(crate) fn enable(&self) -> bool {
        let mut recent = self.recent.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if recent.is_some() {
            return false;
        }
        *recent = Some(GrowableBloom::new(ERROR_RATE, RECENT_INITIAL));
        self.recording.store(true, Ordering::Release);
        true
    }

    /// A filter sized for the scan of the existing keys.
    pub(crate) fn new_history() -> GrowableBloom {
        GrowableBloom::new(ERROR_RATE, HISTORY_INITIAL)
    }

    /// The scan is complete: from now on "no" answers are given.
    pub(crate) fn set_history(&self, history: GrowableBloom) {
        let _ = self.history.set(history);
    }

    /// Whether the filter can answer "no" (enabled and the scan finished).
    pub(crate) fn ready(&self) -> bool {
        self.history.get().is_some()
    }

    /// Records keys about to be applied (before their transaction commits).
    pub(crate) fn record<'a>(&self, keys: impl IntoIterator<Item = (Index, &'a [u8])>) {
        if !self.recording.load(Ordering::Acquire) {
            return;
        }
        let mut recent = self.recent.write().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(filter) = recent.as_mut() {
            for key in keys {
                filter.insert(key);
            }
        }
    }

    /// False only if the store certainly holds no such key.
    pub(crate) fn may_hold(&self, index: Index, key: &[u8]) -> bool {
        let Some(history) = self.history.get() else { return true };
        let item = (index, key);
        history.contains(item)
            || self
                .recent
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .as_ref()
                .is_none_or(|recent| recent.contains(item))
    }
}

/// Adds one key to a filter under construction (the scan).
pub(crate) fn insert(filter: &mut GrowableBloom, index: Index, key: &[u8]) {
    filter.insert((index, key));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_maybe_until_the_history_is_set_and_then_never_forgets_a_recorded_key() {
        let filter = KeyFilter::default();
        assert!(filter.may_hold(Index::Payment, b"a"), "disabled: maybe");
        assert!(filter.enable());
        assert!(!filter.enable(), "enabled once");
        filter.record([(Index::Payment, &b"during-scan"[..])]);
        assert!(filter.may_hold(Index::Payment, b"unknown"), "scan not finished: maybe");
        let mut history = KeyFilter::new_history();
        insert(&mut history, Index::Payment, b"old");
        filter.set_history(history);
        assert!(filter.ready());
        assert!(filter.may_hold(Index::Payment, b"old"));
        assert!(filter.may_hold(Index::Payment, b"during-scan"));
        filter.record([(Index::MsgId, &b"later"[..])]);
        assert!(filter.may_hold(Index::MsgId, b"later"));
        let misses = (0..10_000).filter(|i| filter.may_hold(Index::Payment, format!("new-{i}").as_bytes()));
        assert!(misses.count() < 500, "the filter must say no to almost every new key");
    }

    #[test]
    fn a_uetr_and_a_msg_id_with_the_same_bytes_are_different_keys() {
        let filter = KeyFilter::default();
        filter.enable();
        filter.set_history(KeyFilter::new_history());
        for i in 0..1000 {
            filter.record([(Index::Payment, format!("k{i}").as_bytes())]);
        }
        let confused = (0..1000).filter(|i| filter.may_hold(Index::MsgId, format!("k{i}").as_bytes()));
        assert!(confused.count() < 100);
    }
}
