//! Tenant admission: the in-flight budget and the idempotency index, with no I/O.
//!
//! Keys are per tenant (one `Admission` per tenant actor), so nothing can dedup across tenants
//! (invariant 5). The hard key is the UETR; the message key is the MsgId. Same key with the same
//! fingerprint is a resend and gets the stored status; same key with another fingerprint is a
//! conflicting duplicate (DUPL).
//!
//! Bound: memory holds only the payments that are not final yet, plus final ones until the
//! state store has projected their outcome; older keys are answered from the store (the
//! lifetime index), which the tenant actor looks up and passes in as [`Stored`] — so this
//! machine stays pure, and memory and start-up time do not grow with the tenant's history.

use std::collections::{HashMap, VecDeque};

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
    msg_id: String,
    /// The sequence number given with its latest final outcome (0 while not final).
    final_seq: u64,
}

/// What the durable index (the state store) knows of a submission's keys, for keys memory no
/// longer holds. The caller looks it up only when [`Admission::needs_stored`] says so.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stored {
    /// The stored payment with this UETR: its fingerprint and where it is.
    pub payment: Option<(Fingerprint, Known)>,
    /// The UETR of the stored payment that used this MsgId, if any.
    pub msg_id_owner: Option<String>,
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
    /// Final payments still in memory, oldest first, each with a journal sequence number at or
    /// after its outcome record's: forgotten once the store has projected past it.
    finals: VecDeque<(u64, String)>,
    /// Final outcomes of payments memory had already let go of (a clearing house's return of
    /// a settled payment), with their sequence numbers: they override the stored view, which
    /// may not have applied them yet, until the store has projected past them.
    late: HashMap<String, (u64, Outcome)>,
}

impl Admission {
    #[must_use]
    pub fn new(max_in_flight: usize) -> Self {
        Self {
            max_in_flight,
            in_flight: 0,
            by_uetr: HashMap::new(),
            uetr_by_msg_id: HashMap::new(),
            finals: VecDeque::new(),
            late: HashMap::new(),
        }
    }

    /// Whether deciding on this UETR needs the stored view (memory does not hold it).
    #[must_use]
    pub fn needs_stored(&self, uetr: &str) -> bool {
        !self.by_uetr.contains_key(uetr)
    }

    /// Payments held in memory (in flight, or final and not yet projected).
    #[must_use]
    pub fn held(&self) -> usize {
        self.by_uetr.len()
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
    /// `stored` is what the durable index knows (empty when memory holds the UETR).
    pub fn admit(&mut self, uetr: &str, msg_id: &str, fingerprint: Fingerprint, stored: &Stored) -> Decision {
        let known = self.by_uetr.get(uetr).map(|e| (e.fingerprint, &e.known));
        let late = self.late.get(uetr).map(|(_, outcome)| Known::Final(outcome.clone()));
        let stored_payment = stored.payment.as_ref().map(|(fp, k)| (*fp, late.as_ref().unwrap_or(k)));
        if let Some((fp, known)) = known.or(stored_payment) {
            return if fp == fingerprint {
                Decision::Resend(known.clone())
            } else {
                Decision::Conflict { key: "UETR" }
            };
        }
        let stored_owner = stored.msg_id_owner.as_deref().is_some_and(|owner| owner != uetr);
        if self.uetr_by_msg_id.contains_key(msg_id) || stored_owner {
            return Decision::Conflict { key: "MsgId" };
        }
        if self.in_flight >= self.max_in_flight {
            return Decision::OverBudget { in_flight: self.in_flight, limit: self.max_in_flight };
        }
        self.in_flight += 1;
        self.by_uetr.insert(
            uetr.to_owned(),
            Entry { fingerprint, known: Known::Pending, msg_id: msg_id.to_owned(), final_seq: 0 },
        );
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

    /// The outcome is durable, and the journal has made everything up to `durable_seq` (at
    /// or after the outcome record) durable. In-doubt payments keep their budget slot until
    /// resolved; final ones stay in memory until [`Admission::forget_projected`] passes
    /// `durable_seq`. A final outcome may replace another (settled, then returned): memory
    /// then answers with the later one until the store has applied it, even for a payment it
    /// had let go of.
    pub fn finished(&mut self, uetr: &str, outcome: Outcome, durable_seq: u64) {
        let is_final = outcome.is_final();
        match self.by_uetr.get_mut(uetr) {
            Some(entry) => {
                // In doubt keeps its slot: a later final outcome (re-inquiry) frees it.
                let was_counted = !matches!(&entry.known, Known::Final(o) if o.is_final());
                if was_counted && is_final {
                    self.in_flight = self.in_flight.saturating_sub(1);
                }
                entry.known = Known::Final(outcome);
                if is_final {
                    entry.final_seq = durable_seq;
                    self.finals.push_back((durable_seq, uetr.to_owned()));
                }
            }
            None if is_final => {
                self.late.insert(uetr.to_owned(), (durable_seq, outcome));
                self.finals.push_back((durable_seq, uetr.to_owned()));
            }
            None => {}
        }
    }

    /// Drops final payments whose outcome the store has applied (`projected_seq`): the stored
    /// view answers for them from now on. Returns how many were dropped.
    pub fn forget_projected(&mut self, projected_seq: u64) -> usize {
        let mut dropped = 0;
        while let Some((_, uetr)) = self.finals.front().filter(|(seq, _)| *seq <= projected_seq) {
            // A payment reopened since (an operator's DLQ replay) is in flight again, or in
            // doubt (re-inquiry looks it up here), and one whose outcome was replaced since
            // waits for its later entry: all kept.
            let applied = self.by_uetr.get(uetr).is_some_and(|e| {
                matches!(&e.known, Known::Final(o) if o.is_final()) && e.final_seq <= projected_seq
            });
            if let Some(entry) = applied.then(|| self.by_uetr.remove(uetr)).flatten() {
                if self.uetr_by_msg_id.get(&entry.msg_id) == Some(uetr) {
                    self.uetr_by_msg_id.remove(&entry.msg_id);
                }
            }
            if self.late.get(uetr).is_some_and(|(seq, _)| *seq <= projected_seq) {
                self.late.remove(uetr);
            }
            self.finals.pop_front();
            dropped += 1;
        }
        dropped
    }

    /// Rebuilds state during recovery: a payment accepted earlier, without an outcome yet.
    pub fn restore_accepted(&mut self, uetr: &str, msg_id: &str, fingerprint: Fingerprint) {
        self.in_flight += 1;
        self.by_uetr.insert(
            uetr.to_owned(),
            Entry { fingerprint, known: Known::Accepted, msg_id: msg_id.to_owned(), final_seq: 0 },
        );
        self.uetr_by_msg_id.insert(msg_id.to_owned(), uetr.to_owned());
    }

    /// Where a payment is, if known.
    #[must_use]
    pub fn lookup(&self, uetr: &str) -> Option<Known> {
        match self.by_uetr.get(uetr) {
            Some(entry) => Some(entry.known.clone()),
            None => self.late.get(uetr).map(|(_, outcome)| Known::Final(outcome.clone())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    impl Admission {
        fn admit_mem(&mut self, uetr: &str, msg_id: &str, fp: Fingerprint) -> Decision {
            self.admit(uetr, msg_id, fp, &Stored::default())
        }
    }

    #[test]
    fn projected_finals_leave_memory_and_the_store_answers() {
        let mut a = Admission::new(10);
        assert_eq!(a.admit_mem("u1", "m1", FP_A), Decision::Admit);
        a.accepted("u1");
        a.finished("u1", Outcome::Settled, 5);
        assert_eq!(a.forget_projected(4), 0, "not projected yet: still answered from memory");
        assert!(!a.needs_stored("u1"));
        assert_eq!(a.forget_projected(5), 1);
        assert!(a.needs_stored("u1"));
        assert_eq!(a.held(), 0);
        // The store's answers decide now.
        let stored =
            Stored { payment: Some((FP_A, Known::Final(Outcome::Settled))), msg_id_owner: Some("u1".into()) };
        assert_eq!(a.admit("u1", "m1", FP_A, &stored), Decision::Resend(Known::Final(Outcome::Settled)));
        assert_eq!(a.admit("u1", "m1", FP_B, &stored), Decision::Conflict { key: "UETR" });
        let msg_only = Stored { payment: None, msg_id_owner: Some("u1".into()) };
        assert_eq!(a.admit("u2", "m1", FP_A, &msg_only), Decision::Conflict { key: "MsgId" });
        // In-doubt payments are not final: they stay in memory.
        assert_eq!(a.admit_mem("u3", "m3", FP_A), Decision::Admit);
        a.finished("u3", Outcome::InDoubt, 9);
        assert_eq!(a.forget_projected(100), 0);
        assert_eq!(a.in_flight(), 1);
        // Resolved later by a re-inquiry round: the slot is freed then, once, and the payment
        // becomes forgettable like any final one.
        a.finished("u3", Outcome::Settled, 11);
        assert_eq!(a.in_flight(), 0);
        a.finished("u3", Outcome::Settled, 12);
        assert_eq!(a.in_flight(), 0, "freed once");
        assert_eq!(a.forget_projected(11), 1);
    }

    /// A dead-lettered payment replayed by an operator that ends in doubt stays known as in
    /// doubt when the dead letter's outcome is projected: the tenant's re-inquiry looks it up
    /// here, and a dropped entry read as "resolved meanwhile" stopped its inquiries.
    #[test]
    fn a_replayed_payment_in_doubt_outlives_its_dead_letter() {
        let mut a = Admission::new(10);
        assert_eq!(a.admit_mem("u1", "m1", FP_A), Decision::Admit);
        a.accepted("u1");
        a.finished("u1", Outcome::DeadLettered("no answer".into()), 5);
        a.restore_accepted("u1", "m1", FP_A);
        a.finished("u1", Outcome::InDoubt, 6);
        assert_eq!(a.forget_projected(10), 1, "the dead letter's entry is consumed");
        assert_eq!(a.lookup("u1"), Some(Known::Final(Outcome::InDoubt)));
        assert_eq!(a.in_flight(), 1);
        // Settled by a later round: forgettable once that outcome is projected.
        a.finished("u1", Outcome::Settled, 12);
        assert_eq!(a.in_flight(), 0);
        assert_eq!(a.forget_projected(12), 1);
        assert_eq!(a.lookup("u1"), None);
    }

    const FP_A: Fingerprint = Fingerprint([1; 16]);
    const FP_B: Fingerprint = Fingerprint([2; 16]);

    #[test]
    fn resend_conflict_and_budget() {
        let mut a = Admission::new(2);
        assert_eq!(a.admit_mem("u1", "m1", FP_A), Decision::Admit);
        assert_eq!(a.admit_mem("u1", "m9", FP_A), Decision::Resend(Known::Pending));
        assert_eq!(a.admit_mem("u1", "m1", FP_B), Decision::Conflict { key: "UETR" });
        assert_eq!(a.admit_mem("u2", "m1", FP_A), Decision::Conflict { key: "MsgId" });
        assert_eq!(a.admit_mem("u2", "m2", FP_A), Decision::Admit);
        assert_eq!(a.admit_mem("u3", "m3", FP_A), Decision::OverBudget { in_flight: 2, limit: 2 });
        a.accepted("u1");
        assert_eq!(a.admit_mem("u1", "m1", FP_A), Decision::Resend(Known::Accepted));
        a.finished("u1", Outcome::Settled, 7);
        assert_eq!(a.in_flight(), 1);
        assert_eq!(a.admit_mem("u3", "m3", FP_A), Decision::Admit);
        assert_eq!(a.admit_mem("u1", "m1", FP_A), Decision::Resend(Known::Final(Outcome::Settled)));
    }

    #[test]
    fn a_return_after_settlement_is_final_and_frees_nothing_twice() {
        let mut a = Admission::new(2);
        assert_eq!(a.admit_mem("u1", "m1", FP_A), Decision::Admit);
        a.accepted("u1");
        a.finished("u1", Outcome::Settled, 3);
        assert_eq!(a.in_flight(), 0);
        a.finished("u1", Outcome::Returned("AC04".into()), 4);
        assert_eq!(a.in_flight(), 0, "the slot was freed once, at settlement");
        assert_eq!(a.lookup("u1"), Some(Known::Final(Outcome::Returned("AC04".into()))));
        assert_eq!(
            a.admit_mem("u1", "m1", FP_A),
            Decision::Resend(Known::Final(Outcome::Returned("AC04".into())))
        );
    }

    #[test]
    fn a_replaced_outcome_is_remembered_until_the_store_has_applied_it() {
        let mut a = Admission::new(2);
        assert_eq!(a.admit_mem("u1", "m1", FP_A), Decision::Admit);
        a.accepted("u1");
        a.finished("u1", Outcome::Settled, 3);
        a.finished("u1", Outcome::Returned("AC04".into()), 9);
        // The store has applied the settlement, not yet the return: memory still answers.
        a.forget_projected(5);
        assert_eq!(a.lookup("u1"), Some(Known::Final(Outcome::Returned("AC04".into()))));
        a.forget_projected(9);
        assert_eq!(a.lookup("u1"), None, "the store answers from now on");
        assert_eq!(a.held(), 0);
    }

    #[test]
    fn a_return_of_a_payment_memory_let_go_of_overrides_the_store_until_applied() {
        let mut a = Admission::new(2);
        assert_eq!(a.admit_mem("u1", "m1", FP_A), Decision::Admit);
        a.accepted("u1");
        a.finished("u1", Outcome::Settled, 3);
        a.forget_projected(3);
        assert_eq!(a.lookup("u1"), None);
        a.finished("u1", Outcome::Returned("AC04".into()), 8);
        let returned = Known::Final(Outcome::Returned("AC04".into()));
        assert_eq!(a.lookup("u1"), Some(returned.clone()));
        // A resend: the store (not yet applied) still says settled; memory's return wins.
        let stored =
            Stored { payment: Some((FP_A, Known::Final(Outcome::Settled))), msg_id_owner: Some("u1".into()) };
        assert_eq!(a.admit("u1", "m1", FP_A, &stored), Decision::Resend(returned));
        assert_eq!(a.in_flight(), 0, "a return takes no budget");
        a.forget_projected(7);
        assert!(a.lookup("u1").is_some());
        a.forget_projected(8);
        assert_eq!(a.lookup("u1"), None);
    }

    #[test]
    fn abandon_frees_the_slot_and_the_keys() {
        let mut a = Admission::new(1);
        assert_eq!(a.admit_mem("u1", "m1", FP_A), Decision::Admit);
        a.abandon("u1", "m1");
        assert_eq!(a.in_flight(), 0);
        assert_eq!(a.admit_mem("u1", "m1", FP_B), Decision::Admit);
    }
}
