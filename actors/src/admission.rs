//! Tenant admission: the in-flight budget and the idempotency index, with no I/O.
//!
//! Keys are per tenant (one `Admission` per tenant actor), so nothing can dedup across tenants
//! (invariant 5). The hard key is the UETR; the message key is the MsgId. Same key with the same
//! fingerprint is a resend and gets the stored status; same key with another fingerprint is a
//! conflicting duplicate (DUPL).
//!
//! Bound: the index is in memory and rebuilt from the journal on start; its size is the number
//! of payments the tenant ever sent. Moving it to the sled projection is issue 5's work.

use std::collections::HashMap;

use crate::domain::{Fingerprint, Outcome};

/// Where a known payment is, as far as idempotency cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Known {
    /// Admitted, journal write not yet durable.
    Pending,
    /// Durable and acknowledged (ACTC), no outcome yet.
    Accepted,
    /// Outcome durable.
    Final(Outcome),
}

#[derive(Debug, Clone)]
struct Entry {
    fingerprint: Fingerprint,
    known: Known,
}

/// The answer to a submission.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// New payment: journal it.
    Admit,
    /// Same payment seen before: answer with where it is.
    Resend(Known),
    /// Same UETR or MsgId, different content: reject as a duplicate.
    Conflict { key: &'static str },
    /// The tenant's in-flight budget is used up: reject as busy (explicit backpressure).
    OverBudget { in_flight: usize, limit: usize },
}

/// The pure admission state of one tenant.
#[derive(Debug, Clone)]
pub struct Admission {
    max_in_flight: usize,
    in_flight: usize,
    by_uetr: HashMap<String, Entry>,
    uetr_by_msg_id: HashMap<String, String>,
}

impl Admission {
    #[must_use]
    pub fn new(max_in_flight: usize) -> Self {
        Self { max_in_flight, in_flight: 0, by_uetr: HashMap::new(), uetr_by_msg_id: HashMap::new() }
    }

    /// Payments admitted and not yet final.
    #[must_use]
    pub fn in_flight(&self) -> usize {
        self.in_flight
    }

    /// The in-flight budget.
    #[must_use]
    pub fn max_in_flight(&self) -> usize {
        self.max_in_flight
    }

    /// Changes the in-flight budget (a configuration reload). Payments already admitted stay;
    /// a lower budget only refuses new ones until the tenant is under it.
    pub fn set_max_in_flight(&mut self, max_in_flight: usize) {
        self.max_in_flight = max_in_flight;
    }

    /// Decides on a submission; on `Admit` the payment counts against the budget as `Pending`.
    pub fn admit(&mut self, uetr: &str, msg_id: &str, fingerprint: Fingerprint) -> Decision {
        if let Some(entry) = self.by_uetr.get(uetr) {
            return if entry.fingerprint == fingerprint {
                Decision::Resend(entry.known.clone())
            } else {
                Decision::Conflict { key: "UETR" }
            };
        }
        if self.uetr_by_msg_id.contains_key(msg_id) {
            return Decision::Conflict { key: "MsgId" };
        }
        if self.in_flight >= self.max_in_flight {
            return Decision::OverBudget { in_flight: self.in_flight, limit: self.max_in_flight };
        }
        self.in_flight += 1;
        self.by_uetr.insert(uetr.to_owned(), Entry { fingerprint, known: Known::Pending });
        self.uetr_by_msg_id.insert(msg_id.to_owned(), uetr.to_owned());
        Decision::Admit
    }

    /// The acceptance record is durable.
    pub fn accepted(&mut self, uetr: &str) {
        // Only Pending moves to Accepted: a late or repeated call never regresses an outcome
        // (found by the property test in tests/properties.rs).
        if let Some(entry) = self.by_uetr.get_mut(uetr).filter(|e| e.known == Known::Pending) {
            entry.known = Known::Accepted;
        }
    }

    /// The journal refused the acceptance: forget the payment so a resend can try again.
    pub fn abandon(&mut self, uetr: &str, msg_id: &str) {
        if self.by_uetr.remove(uetr).is_some() {
            self.in_flight = self.in_flight.saturating_sub(1);
        }
        self.uetr_by_msg_id.remove(msg_id);
    }

    /// The outcome is durable. In-doubt payments keep their budget slot until resolved.
    pub fn finished(&mut self, uetr: &str, outcome: Outcome) {
        if let Some(entry) = self.by_uetr.get_mut(uetr) {
            let was_counted = !matches!(entry.known, Known::Final(_));
            if was_counted && outcome.is_final() {
                self.in_flight = self.in_flight.saturating_sub(1);
            }
            entry.known = Known::Final(outcome);
        }
    }

    /// Rebuilds state during recovery: a payment accepted earlier.
    pub fn restore_accepted(&mut self, uetr: &str, msg_id: &str, fingerprint: Fingerprint) {
        self.in_flight += 1;
        self.by_uetr.insert(uetr.to_owned(), Entry { fingerprint, known: Known::Accepted });
        self.uetr_by_msg_id.insert(msg_id.to_owned(), uetr.to_owned());
    }

    /// Where a payment is, if known.
    #[must_use]
    pub fn lookup(&self, uetr: &str) -> Option<&Known> {
        self.by_uetr.get(uetr).map(|e| &e.known)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FP_A: Fingerprint = Fingerprint([1; 16]);
    const FP_B: Fingerprint = Fingerprint([2; 16]);

    #[test]
    fn resend_conflict_and_budget() {
        let mut a = Admission::new(2);
        assert_eq!(a.admit("u1", "m1", FP_A), Decision::Admit);
        assert_eq!(a.admit("u1", "m9", FP_A), Decision::Resend(Known::Pending));
        assert_eq!(a.admit("u1", "m1", FP_B), Decision::Conflict { key: "UETR" });
        assert_eq!(a.admit("u2", "m1", FP_A), Decision::Conflict { key: "MsgId" });
        assert_eq!(a.admit("u2", "m2", FP_A), Decision::Admit);
        assert_eq!(a.admit("u3", "m3", FP_A), Decision::OverBudget { in_flight: 2, limit: 2 });
        a.accepted("u1");
        assert_eq!(a.admit("u1", "m1", FP_A), Decision::Resend(Known::Accepted));
        a.finished("u1", Outcome::Settled);
        assert_eq!(a.in_flight(), 1);
        assert_eq!(a.admit("u3", "m3", FP_A), Decision::Admit);
        assert_eq!(a.admit("u1", "m1", FP_A), Decision::Resend(Known::Final(Outcome::Settled)));
    }

    #[test]
    fn abandon_frees_the_slot_and_the_keys() {
        let mut a = Admission::new(1);
        assert_eq!(a.admit("u1", "m1", FP_A), Decision::Admit);
        a.abandon("u1", "m1");
        assert_eq!(a.in_flight(), 0);
        assert_eq!(a.admit("u1", "m1", FP_B), Decision::Admit);
    }
}
