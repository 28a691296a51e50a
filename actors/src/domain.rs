//! Value types shared by every actor: who a tenant is, how a payment's content is fingerprinted,
//! and how a payment ends.

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use switchyard_iso20022::{CreditTransferTx, ReasonCode, TxStatus};

/// The authenticated tenant (participant bank). It comes from the peer certificate via config,
/// never from a message body, and it is part of every key, query and log line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TenantId(Arc<str>);

impl TenantId {
    #[must_use]
    pub fn new(name: &str) -> Self {
        Self(Arc::from(name))
    }

    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for TenantId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A payload fingerprint: the first 16 bytes of SHA-256 over the business content of one
/// transaction. Same key + same fingerprint is a resend; same key + other fingerprint is a
/// conflicting duplicate (DESIGN §3 step 4). Persisted, so the function must never change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Fingerprint(pub [u8; 16]);

impl Fingerprint {
    /// Fingerprints the fields that make a transaction the payment it is. Message-level fields
    /// (MsgId, CreDtTm, the AppHdr) are excluded: a resend in a new message is the same payment.
    #[must_use]
    pub fn of_transaction(tx: &CreditTransferTx) -> Self {
        let mut hash = Sha256::new();
        let mut field = |value: &str| {
            hash.update((value.len() as u64).to_be_bytes());
            hash.update(value.as_bytes());
        };
        field(tx.uetr.as_ref().map_or("", |u| u.as_str()));
        field(&tx.end_to_end_id);
        field(&tx.amount.minor_units.to_string());
        field(tx.amount.currency.as_str());
        field(tx.dbtr_agt.as_ref().map_or("", |b| b.as_str()));
        field(tx.cdtr_agt.as_ref().map_or("", |b| b.as_str()));
        field(tx.dbtr_iban.as_deref().unwrap_or(""));
        field(tx.cdtr_iban.as_deref().unwrap_or(""));
        let digest = hash.finalize();
        let mut out = [0u8; 16];
        out.copy_from_slice(&digest[..16]);
        Self(out)
    }
}

/// How a payment ended. Every accepted payment reaches exactly one of these (invariant 3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Outcome {
    /// The clearing house settled it (pacs.002 ACSC).
    Settled,
    /// The clearing house or a scheme rule rejected it, with the ISO reason code.
    Rejected(String),
    /// No route or clearing link could take it within its deadline; parked with the reason.
    DeadLettered(String),
    /// The outcome at the clearing house is unknown (timeout); to be resolved by pacs.028.
    InDoubt,
    /// Cancelled at the participant's request (camt.056), with who cancelled it. Final.
    /// (Appended after the version-1 variants: older journals decode unchanged.)
    Cancelled(String),
    /// Settled, then returned (pacs.004) with the return reason code. Final.
    Returned(String),
}

impl Outcome {
    /// The pacs.002 status a participant hears for this outcome.
    #[must_use]
    pub fn tx_status(&self) -> TxStatus {
        match self {
            Self::Settled | Self::Returned(_) => TxStatus::ACSC,
            Self::Rejected(_) | Self::DeadLettered(_) => TxStatus::RJCT,
            Self::InDoubt => TxStatus::PDNG,
            Self::Cancelled(_) => TxStatus::CANC,
        }
    }

    /// Every value [`Outcome::label`] returns (the metrics register each at zero).
    pub const LABELS: [&'static str; 6] =
        ["settled", "rejected", "dead_lettered", "in_doubt", "cancelled", "returned"];

    /// A short label (metrics, logs, answers): `settled`, `rejected`, `dead_lettered`, ...
    #[must_use]
    pub fn label(&self) -> &'static str {
        match self {
            Self::Settled => "settled",
            Self::Rejected(_) => "rejected",
            Self::DeadLettered(_) => "dead_lettered",
            Self::InDoubt => "in_doubt",
            Self::Cancelled(_) => "cancelled",
            Self::Returned(_) => "returned",
        }
    }

    /// The reason code that goes with a rejection.
    #[must_use]
    pub fn reason(&self) -> Option<ReasonCode> {
        match self {
            Self::Rejected(code) => ReasonCode::parse(code).or(Some(ReasonCode::NARR)),
            Self::DeadLettered(_) => Some(ReasonCode::NARR),
            Self::Settled | Self::InDoubt | Self::Cancelled(_) | Self::Returned(_) => None,
        }
    }

    /// Whether the payment is over: in-doubt is not final.
    #[must_use]
    pub fn is_final(&self) -> bool {
        !matches!(self, Self::InDoubt)
    }
}
