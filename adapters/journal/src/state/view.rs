//! What the state store answers: read-only views of payments, the idempotency index, the DLQ
//! and counters.
//!
//! Views never carry a participant's raw message bytes, except where a caller needs them to do
//! its job: `DlqEntry::payment` (a replay re-submits the message) and
//! `StateStore::open_payments` (recovery resumes the payment). Every view names its tenant or
//! is returned by a query that was scoped to one (invariant 5).

use serde::{Deserialize, Serialize};
use switchyard_actors::domain::{Fingerprint, Outcome};
use switchyard_actors::record::AcceptedPayment;

/// One step in a payment's life, as the journal recorded it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StateChange {
    /// Journal sequence number of the record that made the change.
    pub seq: u64,
    /// When it happened (the record's own timestamp, ms since the Unix epoch).
    pub at_ms: u64,
    /// `accepted`, `settled`, `rejected:<code>`, `dead-lettered:<reason>` or `in-doubt`.
    pub state: String,
}

impl StateChange {
    /// The state label of the acceptance.
    pub const ACCEPTED: &'static str = "accepted";

    /// The state label of an outcome (`settled`, `rejected:AM04`, ...).
    #[must_use]
    pub fn outcome_label(outcome: &Outcome) -> String {
        match outcome {
            Outcome::Settled => "settled".into(),
            Outcome::Rejected(code) => format!("rejected:{code}"),
            Outcome::DeadLettered(reason) => format!("dead-lettered:{reason}"),
            Outcome::InDoubt => "in-doubt".into(),
            Outcome::Cancelled(by) => format!("cancelled:{by}"),
            Outcome::Returned(code) => format!("returned:{code}"),
        }
    }
}

/// A payment as an operator or a participant's back office sees it (no message bytes).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentView {
    pub tenant: String,
    pub uetr: String,
    pub msg_id: String,
    pub end_to_end_id: String,
    /// Integer minor units of `currency` (invariant 6).
    pub amount_minor: i64,
    pub currency: String,
    pub debtor_agent: String,
    pub creditor_agent: String,
    pub accepted_at_ms: u64,
    /// Every change in journal order, starting with `accepted`.
    pub history: Vec<StateChange>,
    /// The latest outcome; `None` while the payment has none.
    pub outcome: Option<Outcome>,
    /// `pacs.008` or `pacs.009`; `None` for payments stored before the kind was kept.
    pub kind: Option<String>,
}

/// What idempotency needs to remember of a payment for its whole life (DESIGN §3 step 4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdempotencyEntry {
    pub uetr: String,
    pub msg_id: String,
    pub fingerprint: Fingerprint,
    /// The latest outcome; `None`: accepted, no outcome yet.
    pub outcome: Option<Outcome>,
    /// `pacs.008` or `pacs.009` (`None`: stored before the kind was kept).
    pub kind: Option<String>,
}

/// A dead-lettered payment waiting for an operator (replay or purge).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DlqEntry {
    pub tenant: String,
    pub uetr: String,
    /// Why it was dead-lettered.
    pub reason: String,
    /// When (the outcome record's timestamp).
    pub at_ms: u64,
    /// Journal seq of the dead-letter outcome.
    pub seq: u64,
    /// The accepted payment, message bytes included, for a replay.
    pub payment: AcceptedPayment,
}

/// Sizes of the store, for metrics and `switchyard audit verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StateCounts {
    /// Payments ever accepted (all tenants).
    pub payments: u64,
    /// Payments with no final outcome (none yet, or in doubt).
    pub open: u64,
    /// Dead-lettered payments not purged.
    pub dlq: u64,
    /// Entries in the audit chain.
    pub audit_entries: u64,
    /// Refused submissions applied.
    pub refused: u64,
    /// Highest journal seq applied.
    pub applied_seq: u64,
}
