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
}
