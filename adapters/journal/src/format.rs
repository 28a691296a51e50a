//! The on-disk byte layout of segment headers and records, and nothing else.
//!
//! This module is the single source of truth for docs/STORAGE.md: every offset and constant
//! used to write or read the journal is defined here, encoded with explicit little-endian
//! conversions (no struct casting, no serde), so the format cannot drift with a compiler or a
//! dependency upgrade.

/// First 8 bytes of every segment file.
pub const SEGMENT_MAGIC: [u8; 8] = *b"SWYDJRNL";
/// Version of the segment + record layout described here.
pub const FORMAT_VERSION: u16 = 1;
/// Size of the fixed segment header; records start at this offset.
pub const SEGMENT_HEADER_LEN: usize = 64;
/// Bytes of a record before its payload: len (4) + crc (4) + seq (8) + type (2) + version (1)
/// + flags (1).
pub const RECORD_HEADER_LEN: usize = 20;
/// Bytes covered by `len` besides the payload (seq + type + version + flags).
pub const RECORD_BODY_FIXED: usize = RECORD_HEADER_LEN - 8;
/// The record layout version written into every record.
pub const RECORD_VERSION: u8 = 1;
/// No record flags are defined yet; readers reject records with any flag set.
pub const RECORD_FLAGS_KNOWN: u8 = RECORD_FLAG_BATCH_END;
/// Record flag: the last record of a batch, i.e. the last record written before an fdatasync.
/// Recovery uses it to tell a torn last batch (cut) from damage inside a batch that a later
/// batch proves was synced (refused as corruption).
pub const RECORD_FLAG_BATCH_END: u8 = 0x01;

/// The decoded fixed header of a segment file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentHeader {
    /// Sequence number of the first record this segment holds (or will hold).
    pub first_seq: u64,
    /// Preallocated size of the segment file at creation.
    pub segment_bytes: u64,
    /// Largest single unsynced write the writer may issue into this segment (its batch byte
    /// limit). Recovery uses it to tell a torn tail from corruption.
    pub torn_window: u32,
}

impl SegmentHeader {
    /// Encodes the header into its fixed 64 bytes, CRC included.
    pub fn encode(&self) -> [u8; SEGMENT_HEADER_LEN] {
        let mut b = [0u8; SEGMENT_HEADER_LEN];
        b[0..8].copy_from_slice(&SEGMENT_MAGIC);
        b[8..10].copy_from_slice(&FORMAT_VERSION.to_le_bytes());
        b[10..12].copy_from_slice(&(SEGMENT_HEADER_LEN as u16).to_le_bytes());
        // 12..16: reserved flags, zero.
        b[16..24].copy_from_slice(&self.first_seq.to_le_bytes());
        b[24..32].copy_from_slice(&self.segment_bytes.to_le_bytes());
        b[32..36].copy_from_slice(&self.torn_window.to_le_bytes());
        // 36..60: reserved, zero.
        let crc = crc32c::crc32c(&b[0..60]);
        b[60..64].copy_from_slice(&crc.to_le_bytes());
        b
    }

    /// Decodes and checks a header; the error says what is wrong in words.
    pub fn decode(b: &[u8]) -> Result<SegmentHeader, String> {
        if b.len() < SEGMENT_HEADER_LEN {
            return Err(format!("segment shorter than its {SEGMENT_HEADER_LEN}-byte header"));
        }
        if b[0..8] != SEGMENT_MAGIC {
            return Err("bad segment magic".into());
        }
        let stored_crc = le_u32(&b[60..64]);
        let crc = crc32c::crc32c(&b[0..60]);
        if stored_crc != crc {
            return Err(format!(
                "segment header CRC mismatch: stored {stored_crc:#010x}, computed {crc:#010x}"
            ));
        }
        let version = le_u16(&b[8..10]);
        if version != FORMAT_VERSION {
            return Err(format!("unsupported segment format version {version}"));
        }
        let header_len = usize::from(le_u16(&b[10..12]));
        if header_len != SEGMENT_HEADER_LEN || le_u32(&b[12..16]) != 0 {
            return Err("unsupported segment header length or flags".into());
        }
        Ok(SegmentHeader {
            first_seq: le_u64(&b[16..24]),
            segment_bytes: le_u64(&b[24..32]),
            torn_window: le_u32(&b[32..36]),
        })
    }
}

/// Number of bytes a record with a payload of `payload_len` bytes occupies on disk.
pub fn record_len(payload_len: usize) -> usize {
    RECORD_HEADER_LEN + payload_len
}

/// Appends one encoded record to `out`. The caller guarantees the payload fits in a u32.
pub fn encode_record(out: &mut Vec<u8>, seq: u64, record_type: u16, payload: &[u8]) {
    let body_len = u32::try_from(RECORD_BODY_FIXED + payload.len()).expect("payload bounded by config");
    let start = out.len();
    out.extend_from_slice(&body_len.to_le_bytes());
    out.extend_from_slice(&[0u8; 4]); // crc, filled below
    out.extend_from_slice(&seq.to_le_bytes());
    out.extend_from_slice(&record_type.to_le_bytes());
    out.push(RECORD_VERSION);
    out.push(0); // flags
    out.extend_from_slice(payload);
    let crc = crc32c::crc32c(&out[start + 8..]);
    out[start + 4..start + 8].copy_from_slice(&crc.to_le_bytes());
}

/// Sets the batch-end flag on the record that starts at `at` in `buf` and reseals its CRC.
pub fn mark_batch_end(buf: &mut [u8], at: usize) {
    let body_len = le_u32(&buf[at..at + 4]) as usize;
    let end = at + 8 + body_len;
    buf[at + 19] |= RECORD_FLAG_BATCH_END;
    let crc = crc32c::crc32c(&buf[at + 8..end]);
    buf[at + 4..at + 8].copy_from_slice(&crc.to_le_bytes());
}

/// Whether a CRC-valid record slot at `at` carries the batch-end flag.
pub fn is_batch_end(buf: &[u8], at: usize) -> bool {
    buf[at + 19] & RECORD_FLAG_BATCH_END != 0
}

/// A record decoded in place from a segment buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RecordView<'a> {
    /// Byte offset of the record inside its segment.
    pub offset: u64,
    /// Sequence number.
    pub seq: u64,
    /// Caller-defined record type.
    pub record_type: u16,
    /// Record layout version.
    pub version: u8,
    /// The caller's bytes.
    pub payload: &'a [u8],
}

/// What stopped the decoding of one record slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Slot<'a> {
    /// A valid record, and the offset of the next slot.
    Record(RecordView<'a>, usize),
    /// A zero length field (or too little room for a length): end of written data.
    End,
    /// Bytes that are not a valid record; the string says why. Can be a torn write.
    Damaged(String),
}

/// Decodes the record slot starting at `at` in a segment buffer.
pub fn decode_slot(buf: &[u8], at: usize) -> Slot<'_> {
    if buf.len().saturating_sub(at) < 4 {
        return Slot::End;
    }
    let body_len = le_u32(&buf[at..at + 4]) as usize;
    if body_len == 0 {
        return Slot::End;
    }
    if body_len < RECORD_BODY_FIXED {
        return Slot::Damaged(format!("record length {body_len} below the minimum {RECORD_BODY_FIXED}"));
    }
    let end = at.saturating_add(8).saturating_add(body_len);
    if end > buf.len() {
        return Slot::Damaged(format!("record length {body_len} runs past the end of the segment"));
    }
    let stored_crc = le_u32(&buf[at + 4..at + 8]);
    let crc = crc32c::crc32c(&buf[at + 8..end]);
    if stored_crc != crc {
        return Slot::Damaged(format!(
            "record CRC mismatch: stored {stored_crc:#010x}, computed {crc:#010x}"
        ));
    }
    let view = RecordView {
        offset: at as u64,
        seq: le_u64(&buf[at + 8..at + 16]),
        record_type: le_u16(&buf[at + 16..at + 18]),
        version: buf[at + 18],
        payload: &buf[at + RECORD_HEADER_LEN..end],
    };
    Slot::Record(view, end)
}

/// Checks the parts of a CRC-valid record that the CRC cannot vouch for: a valid CRC with an
/// unknown version or flag is never a torn write, it is a record this code must not interpret.
pub fn check_record_fields(buf: &[u8], at: usize) -> Result<(), String> {
    let version = buf[at + 18];
    let flags = buf[at + 19];
    if version != RECORD_VERSION {
        return Err(format!("unsupported record version {version}"));
    }
    if flags & !RECORD_FLAGS_KNOWN != 0 {
        return Err(format!("unknown record flags {flags:#04x}"));
    }
    Ok(())
}

fn le_u16(b: &[u8]) -> u16 {
    u16::from_le_bytes([b[0], b[1]])
}

fn le_u32(b: &[u8]) -> u32 {
    u32::from_le_bytes([b[0], b[1], b[2], b[3]])
}

fn le_u64(b: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(&b[..8]);
    u64::from_le_bytes(a)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn segment_header_round_trips_and_detects_damage() {
        let h = SegmentHeader { first_seq: 42, segment_bytes: 1 << 20, torn_window: 4096 };
        let mut b = h.encode();
        assert_eq!(SegmentHeader::decode(&b), Ok(h));
        b[17] ^= 1;
        assert!(SegmentHeader::decode(&b).unwrap_err().contains("CRC"));
    }

    #[test]
    fn record_round_trips_and_crc_catches_a_flip() {
        let mut buf = Vec::new();
        encode_record(&mut buf, 7, 3, b"hello");
        assert_eq!(buf.len(), record_len(5));
        match decode_slot(&buf, 0) {
            Slot::Record(v, next) => {
                assert_eq!((v.seq, v.record_type, v.version, v.payload), (7, 3, 1, &b"hello"[..]));
                assert_eq!(next, buf.len());
            }
            other => panic!("unexpected {other:?}"),
        }
        buf[RECORD_HEADER_LEN] ^= 0x40;
        assert!(matches!(decode_slot(&buf, 0), Slot::Damaged(r) if r.contains("CRC")));
    }

    #[test]
    fn zero_length_is_the_end_marker() {
        assert_eq!(decode_slot(&[0u8; 64], 0), Slot::End);
        assert_eq!(decode_slot(&[1u8; 3], 0), Slot::End);
    }
}
