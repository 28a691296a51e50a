//! The audit chain: a hash chain over every change the store applies, and its verification.
//!
//! Entry `i` (key `i`, u64 BE, in the `audit` tree) holds the journal seq it came from, the
//! change in canonical form (`AuditChange`, encoded with the journal codec) and
//! `hash_i = SHA-256(hash_{i-1} ‖ seq (u64 BE) ‖ canonical bytes)`, with `hash_{-1}` = 32 zero
//! bytes. The change carries the SHA-256 of the journal record's payload, so the chain also
//! vouches for the journal. The head (entry count and last hash) lives in `meta` and is
//! written in the same transaction as the entry, so deleting the newest entries is detected
//! too. What the chain cannot detect on its own is a consistent rewrite of the whole tail plus
//! the head: anchoring the head elsewhere (an operator's log, signed receipts) covers that.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use switchyard_actors::record::JournalRecord;

use crate::codec;
use crate::state::error::StateError;
use crate::state::keys;
use crate::state::stored;
use crate::state::trees::{Trees, TxResult, TxTrees};

/// A SHA-256 digest.
pub(crate) type Hash = [u8; 32];

/// One state change in the canonical form that is hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AuditChange {
    pub tenant: String,
    pub uetr: Option<String>,
    pub at_ms: u64,
    /// `accepted`, an outcome label, `refused:<reason>` or `dlq-purged`.
    pub change: String,
    /// SHA-256 of the journal record's payload (`codec::encode` of the record); zeros for a
    /// change that has no journal record (a DLQ purge).
    pub record_digest: Hash,
}

/// One stored link of the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AuditEntry {
    /// The journal seq of the change (for a purge: the seq applied when it happened).
    pub seq: u64,
    pub change: AuditChange,
    pub hash: Hash,
}

/// The chain's head, kept in `meta`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct AuditHead {
    pub entries: u64,
    pub hash: Hash,
}

/// The result of walking the whole chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuditReport {
    /// Entries walked (up to and including the first broken one).
    pub entries: u64,
    /// True when every link and the head check out.
    pub ok: bool,
    /// The first link that does not check out.
    pub first_broken: Option<BrokenLink>,
    /// The head hash recorded in the store (hex); worth writing down somewhere else.
    pub head: String,
}

/// Where and how the chain breaks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BrokenLink {
    /// Index of the entry (0-based); for a head mismatch, the number of entries found.
    pub index: u64,
    /// The journal seq the entry claims, when it could be read.
    pub seq: Option<u64>,
    /// The hash the chain says it must have (hex), or what was expected in words.
    pub expected: String,
    /// The hash stored (hex), or what was found in words.
    pub found: String,
    /// What is wrong.
    pub reason: String,
}

/// `SHA-256(prev ‖ seq BE ‖ canonical bytes of change)`.
pub(crate) fn link_hash(prev: &Hash, seq: u64, change: &AuditChange) -> Hash {
    let mut h = Sha256::new();
    h.update(prev);
    h.update(seq.to_be_bytes());
    h.update(codec::encode(change));
    h.finalize().into()
}

/// SHA-256 of the record's journal payload.
pub(crate) fn record_digest(record: &JournalRecord) -> Hash {
    Sha256::digest(codec::encode(record)).into()
}

/// Lower-case hex.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    bytes.iter().fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

impl AuditHead {
    /// The head as of this transaction (the empty chain when absent).
    pub fn load(t: &TxTrees<'_>) -> TxResult<AuditHead> {
        Ok(t.get(t.meta, keys::META, keys::META_AUDIT_HEAD)?.unwrap_or_default())
    }

    /// Writes the head back (same transaction as the entries it covers).
    pub fn save(&self, t: &TxTrees<'_>) -> TxResult<()> {
        t.meta.insert(keys::META_AUDIT_HEAD, stored::encode(self))?;
        Ok(())
    }

    /// Appends one entry after the head and advances the head.
    pub fn append(&mut self, t: &TxTrees<'_>, seq: u64, change: AuditChange) -> TxResult<()> {
        let hash = link_hash(&self.hash, seq, &change);
        let entry = AuditEntry { seq, change, hash };
        t.audit.insert(&keys::audit_key(self.entries)[..], stored::encode(&entry))?;
        *self = AuditHead { entries: self.entries + 1, hash };
        Ok(())
    }
}

/// Reads the committed head.
pub(crate) fn head(trees: &Trees) -> Result<AuditHead, StateError> {
    let value = trees.meta.get(keys::META_AUDIT_HEAD).map_err(StateError::sled("get audit head"))?;
    value.map_or(Ok(AuditHead::default()), |v| stored::decode(keys::META, &v))
}

/// Walks the chain from entry 0 and checks every link, then the head.
pub(crate) fn verify(trees: &Trees) -> Result<AuditReport, StateError> {
    let head = head(trees)?;
    let mut walk = Walk { prev: [0; 32], next: 0 };
    for item in &trees.audit {
        let (key, value) = item.map_err(StateError::sled("scan audit"))?;
        if let Some(broken) = walk.step(&key, &value) {
            return Ok(report(walk.next + 1, Some(broken), &head));
        }
    }
    let broken = (head.entries != walk.next || head.hash != walk.prev).then(|| BrokenLink {
        index: walk.next,
        seq: None,
        expected: format!("{} entries ending in {}", head.entries, hex(&head.hash)),
        found: format!("{} entries ending in {}", walk.next, hex(&walk.prev)),
        reason: "the chain does not end at the recorded head (entries removed or added)".into(),
    });
    Ok(report(walk.next, broken, &head))
}

fn report(entries: u64, first_broken: Option<BrokenLink>, head: &AuditHead) -> AuditReport {
    AuditReport { entries, ok: first_broken.is_none(), first_broken, head: hex(&head.hash) }
}

/// The verifier's position in the chain.
struct Walk {
    prev: Hash,
    next: u64,
}

impl Walk {
    /// Checks one stored entry; returns the break, or advances.
    fn step(&mut self, key: &[u8], value: &[u8]) -> Option<BrokenLink> {
        let index = self.next;
        if keys::be_u64(key) != Some(index) {
            let found =
                keys::be_u64(key).map_or_else(|| format!("key {}", hex(key)), |i| format!("entry {i}"));
            return Some(broken(
                index,
                None,
                format!("entry {index}"),
                found,
                "entry missing from the chain",
            ));
        }
        let entry: AuditEntry = match stored::decode(keys::AUDIT, value) {
            Ok(e) => e,
            Err(e) => {
                return Some(broken(
                    index,
                    None,
                    "a decodable entry".into(),
                    "undecodable bytes".into(),
                    &e.to_string(),
                ))
            }
        };
        let expected = link_hash(&self.prev, entry.seq, &entry.change);
        if expected != entry.hash {
            let reason = "hash mismatch: this entry (or its stored hash) was altered";
            return Some(broken(index, Some(entry.seq), hex(&expected), hex(&entry.hash), reason));
        }
        self.prev = entry.hash;
        self.next += 1;
        None
    }
}

fn broken(index: u64, seq: Option<u64>, expected: String, found: String, reason: &str) -> BrokenLink {
    BrokenLink { index, seq, expected, found, reason: reason.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn change(label: &str) -> AuditChange {
        AuditChange { tenant: "t".into(), uetr: None, at_ms: 1, change: label.into(), record_digest: [0; 32] }
    }

    #[test]
    fn the_hash_covers_prev_seq_and_change() {
        let base = link_hash(&[0; 32], 1, &change("settled"));
        assert_ne!(base, link_hash(&[1; 32], 1, &change("settled")));
        assert_ne!(base, link_hash(&[0; 32], 2, &change("settled")));
        assert_ne!(base, link_hash(&[0; 32], 1, &change("rejected:AM04")));
        assert_eq!(base, link_hash(&[0; 32], 1, &change("settled")));
    }

    #[test]
    fn hex_is_lower_case() {
        assert_eq!(hex(&[0x00, 0xab, 0x7f]), "00ab7f");
    }
}
