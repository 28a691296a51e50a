//! The payload codec: the ONLY place in Switchyard that uses bincode.
//!
//! bincode is pinned at 1.3.3 (3.x is a tombstone, the project is unmaintained,
//! RUSTSEC-2025-0141) and is used with explicit, frozen options — fixed-width little-endian
//! integers, no trailing bytes, a size limit on decode — so the byte format documented in
//! docs/STORAGE.md cannot change under us, and a damaged payload cannot make decode allocate
//! without bound. Replacing bincode means changing this file only (plus a record version bump).

use bincode::Options;
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::error::JournalError;

/// Largest value `decode` accepts (and `encode` produces), in bytes.
pub const MAX_VALUE_BYTES: u64 = 16 << 20;

fn options() -> impl Options {
    bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .with_little_endian()
        .reject_trailing_bytes()
        .with_limit(MAX_VALUE_BYTES)
}

/// Encodes `v`. Panics only on a programmer error: a type whose `Serialize` fails (e.g. a
/// sequence of unknown length) or a value over `MAX_VALUE_BYTES`. Use `try_encode` to handle it.
pub fn encode<T: Serialize>(v: &T) -> Vec<u8> {
    try_encode(v).expect("journal codec: value must serialize within MAX_VALUE_BYTES")
}

/// Encodes `v`, reporting a failure instead of panicking.
pub fn try_encode<T: Serialize>(v: &T) -> Result<Vec<u8>, JournalError> {
    options().serialize(v).map_err(|e| JournalError::Codec(e.to_string()))
}

/// Decodes a value encoded by `encode`.
pub fn decode<T: DeserializeOwned>(b: &[u8]) -> Result<T, JournalError> {
    options().deserialize(b).map_err(|e| JournalError::Codec(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize)]
    struct Sample {
        id: u64,
        name: String,
        amount_minor: i64,
        tags: Vec<u16>,
    }

    #[test]
    fn round_trip_and_fixed_layout() {
        let v = Sample { id: 1, name: "ab".into(), amount_minor: -5, tags: vec![7] };
        let b = encode(&v);
        // u64 id, u64 len + 2 bytes, i64, u64 len + u16: fixed-width little endian.
        assert_eq!(b.len(), 8 + 8 + 2 + 8 + 8 + 2);
        assert_eq!(&b[0..8], &1u64.to_le_bytes());
        assert_eq!(decode::<Sample>(&b).unwrap(), v);
    }

    #[test]
    fn trailing_bytes_and_huge_lengths_are_rejected() {
        let mut b = encode(&7u32);
        b.push(0);
        assert!(decode::<u32>(&b).is_err());
        let huge = u64::MAX.to_le_bytes();
        assert!(decode::<Vec<u8>>(&huge).is_err());
    }

    /// The message bytes of a record go through `serde_bytes` (one copy instead of one
    /// `serialize_u8` per byte: the journal append's largest CPU cost); in bincode that is the
    /// same u64 length + bytes as a plain `Vec<u8>`, so journals written before decode
    /// unchanged, and the size limit still holds before anything is allocated.
    #[test]
    fn message_bytes_keep_the_plain_vec_layout() {
        use switchyard_actors::domain::Fingerprint;
        use switchyard_actors::record::{AcceptedPayment, JournalRecord};

        #[derive(serde::Serialize, serde::Deserialize)]
        struct Bytes(#[serde(with = "serde_bytes")] Vec<u8>);
        let message: Vec<u8> = (0..=255u8).cycle().take(1_800).collect();
        let as_bytes = encode(&Bytes(message.clone()));
        assert_eq!(as_bytes, encode(&message), "serde_bytes changed bincode's layout");
        assert_eq!(decode::<Vec<u8>>(&as_bytes).unwrap(), message);
        assert_eq!(decode::<Bytes>(&encode(&message)).unwrap().0, message);

        let record = JournalRecord::Accepted(AcceptedPayment {
            tenant: "bank-a".into(),
            uetr: "0b8e2bd1-7c35-4a56-9b55-9f2d4a8b1c01".into(),
            msg_id: "MSG-1".into(),
            end_to_end_id: "E2E-1".into(),
            amount_minor: 12_345,
            currency: "ZAR".into(),
            debtor_agent: "ZYAAZAJJ".into(),
            creditor_agent: "ZYABZAJJ".into(),
            fingerprint: Fingerprint([9; 16]),
            message,
            accepted_at_ms: 1_700_000_000_000,
        });
        let bytes = encode(&record);
        assert_eq!(decode::<JournalRecord>(&bytes).unwrap(), record);
        // The message is the record's last field but one (then `accepted_at_ms`, a u64): its
        // length sits just before its bytes. A damaged length is refused, not allocated.
        let at = bytes.len() - 8 - 1_800 - 8;
        assert_eq!(&bytes[at..at + 8], &1_800u64.to_le_bytes());
        let mut damaged = bytes.clone();
        damaged[at..at + 8].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
        assert!(decode::<JournalRecord>(&damaged).is_err());
    }
}
