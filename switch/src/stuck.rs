//! Stuck payments, counted incrementally: a payment is stuck once it has been open (accepted,
//! no terminal outcome; in doubt counts as open) longer than its whole deadline budget.
//!
//! Owns: the open payments' due times (a min-heap) and the open set with a stuck flag each. The
//! journal port feeds it every durable record as it completes (accepted → open; a terminal
//! outcome or a dead letter → closed; a DLQ replay → open again, with a fresh budget); the node
//! seeds it at start with the open payments the state store recovered. A scrape pops only the
//! payments that came due since the last one — nothing scans every open payment.
//!
//! Bounds: one entry per open payment (open payments are bounded by the tenants' in-flight
//! budgets). Heap entries of payments that closed are dropped when they come due, and the heap
//! is rebuilt from the open set whenever stale entries outnumber live ones (plus
//! [`COMPACT_SLACK`]), so it stays within twice the open payments whether or not anything
//! scrapes — without that, a node nobody scraped kept one entry per payment it ever accepted.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::{Mutex, PoisonError};

use switchyard_actors::record::OperatorKind;
use switchyard_actors::{JournalRecord, Outcome};

/// How long a payment may stay open before it counts as stuck: its whole deadline budget (one
/// clearing timeout per submission and per allowed inquiry), at least a minute.
#[must_use]
pub fn budget_ms(p: &switchyard_actors::payment::PaymentLimits) -> u64 {
    p.clearing_timeout_ms.saturating_mul(u64::from(p.max_inquiries) + 1).max(60_000)
}

/// Stale heap entries tolerated beyond the live ones before the heap is rebuilt.
pub const COMPACT_SLACK: usize = 1024;

/// A payment's key: tenant and UETR.
type Key = (String, String);

#[derive(Debug, Default)]
struct Inner {
    /// Open payments: due time and whether they were already counted as stuck.
    open: HashMap<Key, (u64, bool)>,
    /// (due time, key) of open payments, earliest first; stale once the payment closed.
    due: BinaryHeap<Reverse<(u64, Key)>>,
    stuck: u64,
}

/// The stuck-payment counter shared by the journal port (writer) and the admin API (reader).
#[derive(Debug)]
pub struct StuckTracker {
    /// How long a payment may stay open before it is stuck, in ms.
    after_ms: u64,
    inner: Mutex<Inner>,
}

/// What one durable record means for the tracker, taken before the record is handed away.
#[derive(Debug, Clone)]
pub enum StuckEvent {
    /// Accepted (or replayed from the DLQ) at this time.
    Opened { tenant: String, uetr: String, at_ms: u64 },
    /// A terminal outcome or a dead letter.
    Closed { tenant: String, uetr: String },
}

impl StuckEvent {
    /// The event a record makes, if any.
    #[must_use]
    pub fn of(record: &JournalRecord) -> Option<Self> {
        match record {
            JournalRecord::Accepted(a) => {
                Some(Self::Opened { tenant: a.tenant.clone(), uetr: a.uetr.clone(), at_ms: a.accepted_at_ms })
            }
            JournalRecord::Outcome(o) if matches!(o.outcome, Outcome::InDoubt) => None,
            JournalRecord::Outcome(o) => {
                Some(Self::Closed { tenant: o.tenant.clone(), uetr: o.uetr.clone() })
            }
            JournalRecord::Operator(o) if o.kind == OperatorKind::DlqReplay => {
                Some(Self::Opened { tenant: o.tenant.clone(), uetr: o.uetr.clone(), at_ms: o.at_ms })
            }
            _ => None,
        }
    }
}

impl StuckTracker {
    /// A tracker that calls a payment stuck `after_ms` after it opened.
    #[must_use]
    pub fn new(after_ms: u64) -> Self {
        Self { after_ms, inner: Mutex::new(Inner::default()) }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Applies one durable record's event.
    pub fn observe(&self, event: StuckEvent) {
        let mut inner = self.lock();
        match event {
            StuckEvent::Opened { tenant, uetr, at_ms } => {
                let key = (tenant, uetr);
                let due = at_ms.saturating_add(self.after_ms);
                if let Some((_, true)) = inner.open.insert(key.clone(), (due, false)) {
                    inner.stuck -= 1; // reopened with a fresh budget
                }
                inner.due.push(Reverse((due, key)));
            }
            StuckEvent::Closed { tenant, uetr } => {
                if let Some((_, true)) = inner.open.remove(&(tenant, uetr)) {
                    inner.stuck -= 1;
                }
            }
        }
        if inner.due.len() > 2 * inner.open.len() + COMPACT_SLACK {
            // Only payments not yet counted need their due time; counted ones left the heap.
            let live: Vec<_> = inner
                .open
                .iter()
                .filter(|(_, (_, counted))| !counted)
                .map(|(key, (due, _))| Reverse((*due, key.clone())))
                .collect();
            inner.due = BinaryHeap::from(live);
        }
    }

    /// Open payments that are past their budget at `now_ms`. Cost: the payments that came due
    /// since the last call (and stale heap entries), not every open payment.
    pub fn stuck(&self, now_ms: u64) -> u64 {
        let mut inner = self.lock();
        let Inner { open, due, stuck } = &mut *inner;
        while let Some(Reverse((at, _))) = due.peek() {
            if *at > now_ms {
                break;
            }
            let Some(Reverse((at, key))) = due.pop() else { break };
            if let Some((open_due, counted)) = open.get_mut(&key) {
                if *open_due == at && !*counted {
                    *counted = true;
                    *stuck += 1;
                }
            }
        }
        *stuck
    }

    /// Payments open now (stuck or not).
    #[must_use]
    pub fn open(&self) -> usize {
        self.lock().open.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opened(uetr: &str, at_ms: u64) -> StuckEvent {
        StuckEvent::Opened { tenant: "t".into(), uetr: uetr.into(), at_ms }
    }

    fn closed(uetr: &str) -> StuckEvent {
        StuckEvent::Closed { tenant: "t".into(), uetr: uetr.into() }
    }

    #[test]
    fn payments_become_stuck_at_their_due_time_and_stop_being_stuck_when_they_finish() {
        let t = StuckTracker::new(100);
        t.observe(opened("a", 0));
        t.observe(opened("b", 50));
        t.observe(opened("c", 60));
        assert_eq!(t.stuck(99), 0);
        assert_eq!(t.stuck(100), 1, "a is due");
        t.observe(closed("b"));
        assert_eq!(t.stuck(200), 2, "a and c; b finished before its due time");
        t.observe(closed("a"));
        assert_eq!(t.stuck(200), 1);
        // A replay reopens c with a fresh budget: not stuck until that runs out.
        t.observe(opened("c", 300));
        assert_eq!(t.stuck(350), 0);
        assert_eq!(t.stuck(400), 1);
        t.observe(closed("c"));
        t.observe(closed("never-opened"));
        assert_eq!((t.stuck(10_000), t.open()), (0, 0));
    }

    #[test]
    fn the_heap_stays_within_twice_the_open_payments_when_nothing_scrapes() {
        let t = StuckTracker::new(60_000);
        for i in 0..100_000u64 {
            t.observe(opened(&i.to_string(), i));
            if i >= 10 {
                t.observe(closed(&(i - 10).to_string()));
            }
        }
        let heap = t.lock().due.len();
        assert_eq!(t.open(), 10);
        assert!(heap <= 2 * 10 + COMPACT_SLACK + 1, "{heap} heap entries for 10 open payments");
        // Still exact after compactions: the ten open ones come due, nothing else does.
        assert_eq!(t.stuck(100_000 + 60_000), 10);
    }

    #[test]
    fn in_doubt_stays_open_and_a_dead_letter_closes() {
        use switchyard_actors::record::PaymentOutcome;
        let outcome = |o: Outcome| {
            JournalRecord::Outcome(PaymentOutcome {
                tenant: "t".into(),
                uetr: "a".into(),
                outcome: o,
                inquiries: 0,
                at_ms: 5,
            })
        };
        assert!(StuckEvent::of(&outcome(Outcome::InDoubt)).is_none());
        assert!(matches!(
            StuckEvent::of(&outcome(Outcome::DeadLettered("x".into()))),
            Some(StuckEvent::Closed { .. })
        ));
        assert!(matches!(StuckEvent::of(&outcome(Outcome::Settled)), Some(StuckEvent::Closed { .. })));
    }
}
