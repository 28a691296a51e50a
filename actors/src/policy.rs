//! A tenant's live admission policy, shared by all of its sessions: the BICs it may instruct as
//! and whether it is still admitted. A configuration reload changes both in place, so sessions
//! that signed on before the reload follow it from their next message, without reconnecting.
//!
//! Cost per message: one uncontended read lock and an `Arc` clone (the BIC list) and one atomic
//! load (the retired flag).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};

use switchyard_iso20022::Bic;

/// One tenant's admission policy.
#[derive(Debug)]
pub struct TenantPolicy {
    bics: RwLock<Arc<[Bic]>>,
    retired: AtomicBool,
}

impl TenantPolicy {
    /// A tenant admitted with `bics` (empty: unrestricted, development setups only).
    #[must_use]
    pub fn new(bics: impl Into<Arc<[Bic]>>) -> Self {
        Self { bics: RwLock::new(bics.into()), retired: AtomicBool::new(false) }
    }

    /// The BICs the tenant may instruct as, as they are now.
    #[must_use]
    pub fn bics(&self) -> Arc<[Bic]> {
        Arc::clone(&self.bics.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Replaces the BIC list (a reload); the next message of every session is checked against it.
    pub fn set_bics(&self, bics: impl Into<Arc<[Bic]>>) {
        *self.bics.write().unwrap_or_else(PoisonError::into_inner) = bics.into();
    }

    /// The tenant was removed from the configuration: its sessions refuse every new submission
    /// while its payments in flight drain.
    pub fn retire(&self) {
        self.retired.store(true, Ordering::SeqCst);
    }

    /// The tenant was configured again before its removal finished.
    pub fn reinstate(&self) {
        self.retired.store(false, Ordering::SeqCst);
    }

    /// Whether the tenant is being removed.
    #[must_use]
    pub fn is_retired(&self) -> bool {
        self.retired.load(Ordering::SeqCst)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bics_and_retirement_change_in_place() {
        let policy = TenantPolicy::new(vec![Bic::parse("ZYAAZAJJ").unwrap()]);
        let before = policy.bics();
        policy.set_bics(vec![Bic::parse("ZYBBZAJJ").unwrap()]);
        assert_eq!(before[0].as_str(), "ZYAAZAJJ", "a reader's snapshot is stable");
        assert_eq!(policy.bics()[0].as_str(), "ZYBBZAJJ");
        assert!(!policy.is_retired());
        policy.retire();
        assert!(policy.is_retired());
        policy.reinstate();
        assert!(!policy.is_retired());
    }
}
