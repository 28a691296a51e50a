//! Key layout of the state store: which sled tree holds what, and how keys are built.
//!
//! Every key of tenant data starts with the tenant (invariant 5): a 2-byte big-endian length
//! followed by the tenant's UTF-8 bytes. The length prefix makes the prefix unambiguous (tenant
//! `a` can never match keys of tenant `ab` or `a\0b`), so a prefix scan over one tenant's keys
//! can only ever return that tenant's rows. Numbers inside keys are big-endian so that sled's
//! byte order is numeric order. Node-scoped trees (`audit`, `meta`) carry no tenant prefix:
//! they hold no tenant data that a tenant-facing query reads.
//!
//! The layout is documented in docs/STORAGE.md §10; change both together and bump
//! `LAYOUT_VERSION`.

use crate::state::error::StateError;

/// Layout version of the store; `StateStore::open` refuses any other (run `reindex`).
pub const LAYOUT_VERSION: u32 = 1;

/// Tree: tenant ‖ UETR → `StoredPayment` (everything but the raw message).
pub const PAYMENTS: &str = "payments";
/// Tree: tenant ‖ accepted_at_ms (u64 BE) ‖ accepted seq (u64 BE) → UETR.
pub const BY_TIME: &str = "by_time";
/// Tree: tenant ‖ MsgId → UETR of the first payment that used it (lifetime index).
pub const MSG_IDS: &str = "msg_ids";
/// Tree: tenant ‖ UETR → accepted seq (u64 BE), for payments with no final outcome.
pub const OPEN: &str = "open";
/// Tree: tenant ‖ UETR → `DlqRecord`, for dead-lettered payments not yet purged.
pub const DLQ: &str = "dlq";
/// Tree: tenant ‖ UETR → the raw message bytes, kept only while the payment is open or in the DLQ.
pub const MESSAGES: &str = "messages";
/// Tree: tenant ‖ UETR → a message not yet delivered to the tenant's participant (a pacs.004,
/// or the clearing house's pacs.002 for the participant's own return once it was answered PDNG),
/// until a `Delivery { delivered: true }` record removes it.
pub const UNDELIVERED: &str = "undelivered";
/// Tree: tenant ‖ UETR → `StoredInbound`, for payments a clearing house sent to the tenant's
/// participant (inbound): the link, the participant's relayed status and whether it returned
/// the payment. Answers a clearing house's repeated pacs.008 after a restart.
/// The same tree also holds, under tenant ‖ 0x00 ‖ UETR ([`inbound_open_key`]), the pacs.008
/// of each inbound payment received and not answered by the participant (nor refused), so a
/// restart can deliver it again; a UETR never starts with 0x00, so the two kinds of key never
/// meet, and one prefix scan lists a tenant's unanswered payments without reading the rows.
/// Likewise, under tenant ‖ 0x01 ‖ UETR ([`return_open_key`]), the pacs.004 of each return
/// journaled (`RETURNED`) whose clearing house's answer is not journaled yet, so a restart can
/// ask about it.
pub const INBOUND: &str = "inbound";
/// Tree: entry index (u64 BE, from 0) → `AuditEntry`.
pub const AUDIT: &str = "audit";
/// Tree: fixed names below → node-scoped values.
pub const META: &str = "meta";

/// Meta key: highest journal seq applied (u64 BE).
pub const META_APPLIED: &[u8] = b"applied_seq";
/// Meta key: the audit chain's head (`AuditHead`).
pub const META_AUDIT_HEAD: &[u8] = b"audit_head";
/// Meta key: `LAYOUT_VERSION` (u32 BE) of the store.
pub const META_LAYOUT: &[u8] = b"layout_version";
/// Meta key: number of refused submissions applied (u64 BE).
pub const META_REFUSED: &[u8] = b"refused";

/// The key prefix shared by every row of `tenant`.
pub fn tenant_prefix(tenant: &str) -> Result<Vec<u8>, StateError> {
    let len = u16::try_from(tenant.len())
        .map_err(|_| StateError::KeyTooLong { what: "tenant", len: tenant.len() })?;
    let mut key = Vec::with_capacity(2 + tenant.len() + 40);
    key.extend_from_slice(&len.to_be_bytes());
    key.extend_from_slice(tenant.as_bytes());
    Ok(key)
}

/// Key of a row about one payment (`payments`, `open`, `dlq`, `messages`) or one MsgId.
pub fn tenant_key(tenant: &str, id: &str) -> Result<Vec<u8>, StateError> {
    let mut key = tenant_prefix(tenant)?;
    key.extend_from_slice(id.as_bytes());
    Ok(key)
}

/// Key of an unanswered inbound payment's message in the `inbound` tree (see [`INBOUND`]).
pub fn inbound_open_key(tenant: &str, uetr: &str) -> Result<Vec<u8>, StateError> {
    marked_key(tenant, INBOUND_OPEN, uetr)
}

/// The prefix of `tenant`'s unanswered inbound payments in the `inbound` tree.
pub fn inbound_open_prefix(tenant: &str) -> Result<Vec<u8>, StateError> {
    marked_prefix(tenant, INBOUND_OPEN)
}

/// Key of a participant's return whose clearing house's answer is unknown, in the `inbound`
/// tree (see [`INBOUND`]).
pub fn return_open_key(tenant: &str, uetr: &str) -> Result<Vec<u8>, StateError> {
    marked_key(tenant, RETURN_OPEN, uetr)
}

/// The prefix of `tenant`'s returns with no answer in the `inbound` tree.
pub fn return_open_prefix(tenant: &str) -> Result<Vec<u8>, StateError> {
    marked_prefix(tenant, RETURN_OPEN)
}

/// Markers after the tenant prefix in the `inbound` tree (a UETR never starts with either).
const INBOUND_OPEN: u8 = 0;
const RETURN_OPEN: u8 = 1;

fn marked_prefix(tenant: &str, marker: u8) -> Result<Vec<u8>, StateError> {
    let mut key = tenant_prefix(tenant)?;
    key.push(marker);
    Ok(key)
}

fn marked_key(tenant: &str, marker: u8, uetr: &str) -> Result<Vec<u8>, StateError> {
    let mut key = marked_prefix(tenant, marker)?;
    key.extend_from_slice(uetr.as_bytes());
    Ok(key)
}

/// Key of a `by_time` row; `seq` makes keys unique when two payments share a millisecond.
pub fn time_key(tenant: &str, at_ms: u64, seq: u64) -> Result<Vec<u8>, StateError> {
    let mut key = tenant_prefix(tenant)?;
    key.extend_from_slice(&at_ms.to_be_bytes());
    key.extend_from_slice(&seq.to_be_bytes());
    Ok(key)
}

/// Splits a tenant-prefixed key into (tenant, rest); `None` if the key is malformed.
pub fn split_tenant(key: &[u8]) -> Option<(&str, &[u8])> {
    let len = usize::from(u16::from_be_bytes([*key.first()?, *key.get(1)?]));
    let tenant = std::str::from_utf8(key.get(2..2 + len)?).ok()?;
    Some((tenant, &key[2 + len..]))
}

/// Key of the audit entry with this index.
pub fn audit_key(index: u64) -> [u8; 8] {
    index.to_be_bytes()
}

/// A u64 stored as 8 big-endian bytes; `None` if the value has another length.
pub fn be_u64(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_never_overlap_between_tenants() {
        let a = tenant_key("a", "bX").unwrap();
        let ab = tenant_prefix("ab").unwrap();
        assert!(!a.starts_with(&ab));
        assert!(!tenant_key("ab", "X").unwrap().starts_with(&tenant_prefix("a").unwrap()));
    }

    #[test]
    fn split_inverts_the_prefix() {
        let key = tenant_key("bank-a", "uetr-1").unwrap();
        assert_eq!(split_tenant(&key), Some(("bank-a", &b"uetr-1"[..])));
        assert_eq!(split_tenant(&[0, 9, b'x']), None);
    }

    #[test]
    fn time_keys_sort_by_time_then_seq() {
        let k1 = time_key("t", 5, 9).unwrap();
        let k2 = time_key("t", 6, 1).unwrap();
        let k3 = time_key("t", 256, 0).unwrap();
        assert!(k1 < k2 && k2 < k3);
    }
}
