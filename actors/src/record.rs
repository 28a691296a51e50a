//! `JournalRecord`: what Switchyard makes durable. The journal is the source of truth; every
//! other piece of state (idempotency, listings, the sled projection) is rebuilt from these.
//!
//! Records are versioned by their journal record type (see [`JournalRecord::record_type`]);
//! adding a variant adds a type; changing a variant's fields means a new type, never an edit.

use serde::{Deserialize, Serialize};

use crate::domain::{Fingerprint, Outcome};

/// One durable fact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum JournalRecord {
    /// A payment was accepted; written before the participant hears ACTC (invariant 1).
    Accepted(AcceptedPayment),
    /// A submission was refused before acceptance (parse, validation, duplicate, over budget).
    Refused(RefusedSubmission),
    /// A payment reached an outcome; written before the participant hears it.
    Outcome(PaymentOutcome),
    /// An operator acted on a payment (DLQ replay or purge); written before the action runs,
    /// so it survives a restart and is part of the audit chain.
    Operator(OperatorAction),
    /// A clearing house's reply that no payment was waiting for at its link (a duplicate, or
    /// an answer arriving after the payment's outcome was learnt another way), or one the link
    /// could not read. Kept for audit and reconciliation; never forwarded to a participant.
    UnmatchedReply(UnmatchedReply),
    /// A payment a clearing house sent to one of the node's participants (inbound), written
    /// before it is delivered; and again with the participant's final status when that is
    /// relayed to the clearing house. (Appended: older journals decode unchanged.)
    Inbound(InboundPayment),
    /// A message for a participant (a pacs.004 return) that could not be delivered because no
    /// session was connected (`delivered: false`, with the message), or that has since been
    /// delivered (`delivered: true`). Undelivered ones are delivered again after a restart.
    Delivery(Delivery),
}

impl JournalRecord {
    /// Stable on-disk type tags (docs/STORAGE.md).
    pub const TYPE_ACCEPTED: u16 = 1;
    pub const TYPE_REFUSED: u16 = 2;
    pub const TYPE_OUTCOME: u16 = 3;
    pub const TYPE_OPERATOR: u16 = 10;
    pub const TYPE_UNMATCHED_REPLY: u16 = 4;
    pub const TYPE_INBOUND: u16 = 5;
    pub const TYPE_DELIVERY: u16 = 6;

    /// The name of on-disk type tag `tag` (`Accepted`, `Outcome`, ...), or `None` for a tag
    /// this version does not write.
    #[must_use]
    pub fn type_name(tag: u16) -> Option<&'static str> {
        Some(match tag {
            Self::TYPE_ACCEPTED => "Accepted",
            Self::TYPE_REFUSED => "Refused",
            Self::TYPE_OUTCOME => "Outcome",
            Self::TYPE_UNMATCHED_REPLY => "UnmatchedReply",
            Self::TYPE_INBOUND => "Inbound",
            Self::TYPE_DELIVERY => "Delivery",
            Self::TYPE_OPERATOR => "Operator",
            _ => return None,
        })
    }

    #[must_use]
    pub fn record_type(&self) -> u16 {
        match self {
            Self::Accepted(_) => Self::TYPE_ACCEPTED,
            Self::Refused(_) => Self::TYPE_REFUSED,
            Self::Outcome(_) => Self::TYPE_OUTCOME,
            Self::Operator(_) => Self::TYPE_OPERATOR,
            Self::UnmatchedReply(_) => Self::TYPE_UNMATCHED_REPLY,
            Self::Inbound(_) => Self::TYPE_INBOUND,
            Self::Delivery(_) => Self::TYPE_DELIVERY,
        }
    }

    /// The (tenant, UETR) the record is about, if any.
    #[must_use]
    pub fn payment_key(&self) -> Option<(&str, &str)> {
        match self {
            Self::Accepted(a) => Some((&a.tenant, &a.uetr)),
            Self::Outcome(o) => Some((&o.tenant, &o.uetr)),
            Self::Refused(r) => r.uetr.as_deref().map(|u| (r.tenant.as_str(), u)),
            Self::Operator(o) => Some((&o.tenant, &o.uetr)),
            Self::UnmatchedReply(_) => None,
            Self::Inbound(i) => Some((&i.tenant, &i.uetr)),
            Self::Delivery(d) => Some((&d.tenant, &d.uetr)),
        }
    }
}

/// Everything needed to carry an accepted payment to its end after a restart.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcceptedPayment {
    pub tenant: String,
    pub uetr: String,
    pub msg_id: String,
    pub end_to_end_id: String,
    pub amount_minor: i64,
    pub currency: String,
    pub debtor_agent: String,
    pub creditor_agent: String,
    pub fingerprint: Fingerprint,
    /// The message exactly as the participant sent it.
    #[serde(with = "serde_bytes")]
    pub message: Vec<u8>,
    pub accepted_at_ms: u64,
}

/// A submission that was answered with a rejection before it became a payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RefusedSubmission {
    pub tenant: String,
    pub msg_id: Option<String>,
    pub uetr: Option<String>,
    pub reason: String,
    pub detail: String,
    pub at_ms: u64,
}

/// The outcome of a payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentOutcome {
    pub tenant: String,
    pub uetr: String,
    pub outcome: Outcome,
    /// Status inquiries it took to learn the outcome (0: the clearing house answered in time).
    pub inquiries: u32,
    pub at_ms: u64,
}

/// What an operator did to a dead-lettered payment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum OperatorKind {
    /// Re-inject the payment into the payment flow (it resumes as a recovered payment: status
    /// inquiry first, a new submission only after every candidate link said "not found").
    DlqReplay,
    /// Remove the payment from the DLQ for good (its message bytes are dropped).
    DlqPurge,
}

impl OperatorKind {
    /// The label in the audit chain and the payment's history.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            Self::DlqReplay => "dlq-replayed",
            Self::DlqPurge => "dlq-purged",
        }
    }
}

/// An operator's action on one payment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OperatorAction {
    pub tenant: String,
    pub uetr: String,
    pub kind: OperatorKind,
    /// Who did it: the token's subject or the admin client certificate's name, or `cli`.
    pub operator: String,
    pub at_ms: u64,
}

/// A clearing reply that matched no waiting payment (see [`JournalRecord::UnmatchedReply`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UnmatchedReply {
    /// The clearing link it arrived on.
    pub link: String,
    /// The UETR it names, if it could be read.
    pub uetr: Option<String>,
    /// Its transaction status (`ACSC`, `RJCT`, ...) or `UNREADABLE`.
    pub status: String,
    /// The frame's correlation id.
    pub correlation: u64,
    /// The reply exactly as received.
    #[serde(with = "serde_bytes")]
    pub message: Vec<u8>,
    pub at_ms: u64,
}

/// An inbound payment (clearing house → participant), see [`JournalRecord::Inbound`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InboundPayment {
    /// The creditor tenant it is for.
    pub tenant: String,
    pub uetr: String,
    /// The clearing link it arrived on.
    pub link: String,
    /// `None` when received (before delivery); the participant's final status code (`ACSC`,
    /// `RJCT`, ...) when that status was relayed to the clearing house;
    /// [`InboundPayment::RETURNED`] when the participant returned the payment (pacs.004),
    /// written before the return is forwarded to the clearing house.
    pub status: Option<String>,
    /// The status reason code, if any (for a return: the return reason code).
    pub reason: Option<String>,
    /// The pacs.008 as received, the participant's pacs.002 as relayed, or its pacs.004.
    #[serde(with = "serde_bytes")]
    pub message: Vec<u8>,
    pub at_ms: u64,
}

impl InboundPayment {
    /// The `status` of the record that journals a participant's return (pacs.004) of it.
    pub const RETURNED: &'static str = "RETURNED";
    /// The `status` of the record that journals a received payment the node refused back to
    /// the clearing house before the participant saw it (no session): it is not waiting for the
    /// participant, and the clearing house may send it again.
    pub const REFUSED: &'static str = "REFUSED";
    /// The `status` of the record that journals a participant's return that never left the
    /// node (link down or full): the payment is returnable again.
    pub const RETURN_NOT_SENT: &'static str = "RETURN-NOT-SENT";
    /// The `status` of the record that journals the clearing house's answer to a participant's
    /// return: this prefix and its transaction status (`RETURN-ACSC`, `RETURN-RJCT`); `reason`
    /// is its reason code, `message` its pacs.002. A rejected return is returnable again.
    pub const RETURN_ANSWER_PREFIX: &'static str = "RETURN-";

    /// The clearing house's status of the participant's return this record journals, if it
    /// journals one (`RETURN-ACSC` → `ACSC`).
    #[must_use]
    pub fn return_answer(&self) -> Option<&str> {
        let status = self.status.as_deref()?;
        if status == Self::RETURN_NOT_SENT {
            return None;
        }
        status.strip_prefix(Self::RETURN_ANSWER_PREFIX)
    }
}

/// A message waiting for a participant's session, see [`JournalRecord::Delivery`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub tenant: String,
    /// The payment the message is about.
    pub uetr: String,
    /// `false`: not delivered, `message` waits; `true`: delivered since (`message` empty).
    pub delivered: bool,
    #[serde(with = "serde_bytes")]
    pub message: Vec<u8>,
    pub at_ms: u64,
}
