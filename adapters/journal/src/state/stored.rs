//! The values the state store keeps in sled, and their encoding.
//!
//! Values go through the journal's codec (the project's only bincode use), so the store's
//! bytes follow the same frozen options as journal payloads. A value that does not decode is a
//! `StateError::Decode` naming its tree, never a panic: sled files can be damaged or come from
//! another version. These types are private; `view` holds what callers see.

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use switchyard_actors::domain::{Fingerprint, Outcome};
use switchyard_actors::record::AcceptedPayment;

use crate::codec;
use crate::state::error::StateError;
use crate::state::view::{IdempotencyEntry, PaymentView, StateChange};

/// A payment without its message bytes (those live in the `messages` tree while needed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredPayment {
    pub tenant: String,
    pub uetr: String,
    pub msg_id: String,
    pub end_to_end_id: String,
    pub amount_minor: i64,
    pub currency: String,
    pub debtor_agent: String,
    pub creditor_agent: String,
    pub fingerprint: Fingerprint,
    pub accepted_at_ms: u64,
    /// Journal seq of the (latest) acceptance: part of its `by_time` key.
    pub accepted_seq: u64,
    pub history: Vec<StateChange>,
    pub outcome: Option<Outcome>,
    /// The message's kind (`pacs.008`, `pacs.009`), so answers about the payment name it after
    /// memory and the message bytes let go of it; `None` in rows written before it was kept.
    pub kind: Option<String>,
}

/// `StoredPayment` as written before `kind` existed (read, never written).
#[derive(Deserialize)]
struct StoredPaymentV0 {
    tenant: String,
    uetr: String,
    msg_id: String,
    end_to_end_id: String,
    amount_minor: i64,
    currency: String,
    debtor_agent: String,
    creditor_agent: String,
    fingerprint: Fingerprint,
    accepted_at_ms: u64,
    accepted_seq: u64,
    history: Vec<StateChange>,
    outcome: Option<Outcome>,
}

/// Decodes a `payments` row, also in its older shape (without `kind`), so a store written
/// before needs no reindex.
pub(crate) fn decode_payment(bytes: &[u8]) -> Result<StoredPayment, StateError> {
    decode::<StoredPayment>(crate::state::keys::PAYMENTS, bytes).or_else(|e| {
        let old: StoredPaymentV0 = decode(crate::state::keys::PAYMENTS, bytes).map_err(|_| e)?;
        Ok(StoredPayment {
            tenant: old.tenant,
            uetr: old.uetr,
            msg_id: old.msg_id,
            end_to_end_id: old.end_to_end_id,
            amount_minor: old.amount_minor,
            currency: old.currency,
            debtor_agent: old.debtor_agent,
            creditor_agent: old.creditor_agent,
            fingerprint: old.fingerprint,
            accepted_at_ms: old.accepted_at_ms,
            accepted_seq: old.accepted_seq,
            history: old.history,
            outcome: old.outcome,
            kind: None,
        })
    })
}

impl StoredPayment {
    /// The stored form of an acceptance at `seq`.
    pub fn accepted(seq: u64, a: &AcceptedPayment) -> Self {
        StoredPayment {
            tenant: a.tenant.clone(),
            uetr: a.uetr.clone(),
            msg_id: a.msg_id.clone(),
            end_to_end_id: a.end_to_end_id.clone(),
            amount_minor: a.amount_minor,
            currency: a.currency.clone(),
            debtor_agent: a.debtor_agent.clone(),
            creditor_agent: a.creditor_agent.clone(),
            fingerprint: a.fingerprint,
            accepted_at_ms: a.accepted_at_ms,
            accepted_seq: seq,
            history: Vec::new(),
            outcome: None,
            kind: switchyard_actors::message::MessageKind::of_raw(&a.message).map(|k| k.as_str().to_owned()),
        }
    }

    /// Settled and rejected are terminal: nothing reopens them and their bytes are dropped.
    /// A dead-lettered payment can be replayed, so it is not terminal here.
    pub fn is_terminal(&self) -> bool {
        matches!(
            self.outcome,
            Some(Outcome::Settled | Outcome::Rejected(_) | Outcome::Cancelled(_) | Outcome::Returned(_))
        )
    }

    pub fn view(self) -> PaymentView {
        PaymentView {
            tenant: self.tenant,
            uetr: self.uetr,
            msg_id: self.msg_id,
            end_to_end_id: self.end_to_end_id,
            amount_minor: self.amount_minor,
            currency: self.currency,
            debtor_agent: self.debtor_agent,
            creditor_agent: self.creditor_agent,
            accepted_at_ms: self.accepted_at_ms,
            history: self.history,
            outcome: self.outcome,
            kind: self.kind,
        }
    }

    pub fn idempotency(self) -> IdempotencyEntry {
        IdempotencyEntry {
            uetr: self.uetr,
            msg_id: self.msg_id,
            fingerprint: self.fingerprint,
            outcome: self.outcome,
            kind: self.kind,
        }
    }

    /// The acceptance again, with the message bytes from the `messages` tree.
    pub fn into_accepted(self, message: Vec<u8>) -> AcceptedPayment {
        AcceptedPayment {
            tenant: self.tenant,
            uetr: self.uetr,
            msg_id: self.msg_id,
            end_to_end_id: self.end_to_end_id,
            amount_minor: self.amount_minor,
            currency: self.currency,
            debtor_agent: self.debtor_agent,
            creditor_agent: self.creditor_agent,
            fingerprint: self.fingerprint,
            message,
            accepted_at_ms: self.accepted_at_ms,
        }
    }
}

/// An inbound payment's row (`inbound` tree): what a repeated pacs.008 or a participant's
/// return needs to know.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct StoredInbound {
    /// The clearing link it arrived on.
    pub link: String,
    /// The participant's final status as relayed (`None`: received, not answered yet).
    pub status: Option<String>,
    pub reason: Option<String>,
    /// The participant returned it (pacs.004 journaled), and the return was not refused since.
    pub returned: bool,
    /// The clearing house's status of the last return (`ACSC`, `RJCT`), once it answered.
    pub return_status: Option<String>,
}

/// `StoredInbound` as written before `return_status` existed (read, never written).
#[derive(Deserialize)]
struct StoredInboundV0 {
    link: String,
    status: Option<String>,
    reason: Option<String>,
    returned: bool,
}

/// Decodes an `inbound` row, also in its older shape (without `return_status`), so a store
/// written before needs no reindex.
pub(crate) fn decode_inbound(bytes: &[u8]) -> Result<StoredInbound, StateError> {
    decode::<StoredInbound>(crate::state::keys::INBOUND, bytes).or_else(|e| {
        let old: StoredInboundV0 = decode(crate::state::keys::INBOUND, bytes).map_err(|_| e)?;
        Ok(StoredInbound {
            link: old.link,
            status: old.status,
            reason: old.reason,
            returned: old.returned,
            return_status: None,
        })
    })
}

/// A DLQ row: why and when the payment was dead-lettered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DlqRecord {
    pub reason: String,
    pub at_ms: u64,
    pub seq: u64,
}

/// Encodes a stored value. The types above always serialize, so a failure is a bug.
pub(crate) fn encode<T: Serialize>(value: &T) -> Vec<u8> {
    codec::encode(value)
}

/// Decodes a value read from `tree`.
pub(crate) fn decode<T: DeserializeOwned>(tree: &'static str, bytes: &[u8]) -> Result<T, StateError> {
    codec::decode(bytes).map_err(|e| StateError::Decode { tree, reason: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct OldRow {
        link: String,
        status: Option<String>,
        reason: Option<String>,
        returned: bool,
    }

    #[test]
    fn inbound_rows_of_the_older_shape_still_decode_and_garbage_does_not() {
        let old = OldRow { link: "sim".into(), status: Some("ACSC".into()), reason: None, returned: true };
        let row = decode_inbound(&encode(&old)).unwrap();
        assert_eq!((row.link.as_str(), row.status.as_deref(), row.returned), ("sim", Some("ACSC"), true));
        assert_eq!(row.return_status, None);
        let new = StoredInbound { return_status: Some("RJCT".into()), ..row };
        assert_eq!(decode_inbound(&encode(&new)).unwrap(), new);
        assert!(decode_inbound(b"\x01\x02").is_err());
    }

    /// A payment row written before `kind` existed (the shape of `StoredPaymentV0`).
    #[derive(Serialize)]
    struct Old {
        tenant: String,
        uetr: String,
        msg_id: String,
        end_to_end_id: String,
        amount_minor: i64,
        currency: String,
        debtor_agent: String,
        creditor_agent: String,
        fingerprint: Fingerprint,
        accepted_at_ms: u64,
        accepted_seq: u64,
        history: Vec<StateChange>,
        outcome: Option<Outcome>,
    }

    #[test]
    fn payment_rows_of_both_shapes_decode_and_the_old_one_has_no_kind() {
        let old = Old {
            tenant: "bank-a".into(),
            uetr: "u1".into(),
            msg_id: "M1".into(),
            end_to_end_id: "E1".into(),
            amount_minor: 12_345,
            currency: "ZAR".into(),
            debtor_agent: "ZYAAZAJJ".into(),
            creditor_agent: "ZYABZAJJ".into(),
            fingerprint: Fingerprint([7; 16]),
            accepted_at_ms: 7,
            accepted_seq: 3,
            history: vec![StateChange { seq: 3, at_ms: 7, state: StateChange::ACCEPTED.into() }],
            outcome: Some(Outcome::Settled),
        };
        let decoded = decode_payment(&encode(&old)).unwrap();
        assert_eq!(decoded.kind, None);
        assert_eq!((decoded.uetr.as_str(), decoded.amount_minor), ("u1", 12_345));
        assert_eq!(decoded.outcome, Some(Outcome::Settled));
        let new = StoredPayment { kind: Some("pacs.009".into()), ..decoded };
        assert_eq!(decode_payment(&encode(&new)).unwrap(), new);
        assert!(decode_payment(b"not a row").is_err(), "garbage is an error, not a payment");
    }
}
