//! Scanning segments: walks the records of one segment buffer, checks CRC and sequence
//! continuity, and classifies where the valid data stops as a clean end, a torn tail or
//! corruption. Recovery, the readers and `verify` all use this one classifier, so they agree.
//!
//! The rule (docs/STORAGE.md, "Recovery rules"): data stops at the first slot that is not a
//! valid record. If nothing but zeros follows, the end is clean. Otherwise the damaged bytes
//! are a *torn tail* only when they lie in the last segment and within one unsynced write
//! (the segment header's `torn_window`) of that point: the writer syncs every batch before it
//! writes the next, so only the last batch can be partly on disk. Anything else — damage in an
//! older segment, damage followed by data further away than one batch, a CRC-valid record with
//! the wrong sequence number or an unknown version — is corruption and is refused. A last
//! segment whose header is all zeros is an interrupted rotation (see `spare.rs`) and is a torn
//! tail as a whole.

use std::path::PathBuf;

use crate::error::JournalError;
use crate::format::{self, RecordView, SegmentHeader, Slot, SEGMENT_HEADER_LEN};
use crate::segment::{self, SegmentFile};

/// Where a torn tail was cut (or would be cut, for read-only scans).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// The segment holding the torn tail (always the last one).
    pub segment: PathBuf,
    /// Offset where valid data ends; everything from here was discarded.
    pub offset: u64,
    /// Number of bytes from `offset` up to the last non-zero byte.
    pub bytes_discarded: u64,
    /// Why the first discarded slot is not a valid record.
    pub reason: String,
}

/// How the valid data of one segment ends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Tail {
    /// A zero length field followed only by zeros (or the end of the file).
    Clean,
    /// A torn write in the last segment; bytes `[end, discard_to)` are to be discarded.
    Torn {
        /// Why the slot at `end` is invalid.
        reason: String,
        /// One past the last non-zero byte.
        discard_to: u64,
    },
    /// Corruption at `offset`: the journal must not be used until an operator looks.
    Corrupt {
        /// Byte offset of the problem.
        offset: u64,
        /// What is wrong.
        reason: String,
    },
}

/// The result of scanning one segment.
#[derive(Debug, Clone)]
pub struct SegmentScan {
    /// The decoded header, if it was valid.
    pub header: Option<SegmentHeader>,
    /// Valid records before the end of valid data.
    pub records: u64,
    /// Offset one past the last valid record (where the next record would be written).
    pub end: u64,
    /// How the valid data ends.
    pub tail: Tail,
}

impl SegmentScan {
    /// Sequence number the next record after this segment's valid data must carry.
    pub fn next_seq(&self) -> Option<u64> {
        self.header.map(|h| h.first_seq + self.records)
    }
}

/// Scans one segment. `name_seq` is the first seq from the file name, `expected_first` the seq
/// the previous segment says must come next, and `is_last` whether a torn tail is allowed here.
/// `visit` sees every valid record in order.
pub fn scan_segment<'a>(
    buf: &'a [u8],
    name_seq: u64,
    expected_first: Option<u64>,
    is_last: bool,
    mut visit: impl FnMut(RecordView<'a>),
) -> SegmentScan {
    if is_last && buf.iter().take(SEGMENT_HEADER_LEN).all(|&b| b == 0) {
        return unwritten_header(buf);
    }
    let header = match check_header(buf, name_seq, expected_first) {
        Ok(h) => h,
        Err(reason) => return corrupt_header(reason),
    };
    let mut at = SEGMENT_HEADER_LEN;
    let mut next_seq = header.first_seq;
    let mut records = 0u64;
    let fault = loop {
        match format::decode_slot(buf, at) {
            Slot::End => break None,
            Slot::Damaged(reason) => break Some(reason),
            Slot::Record(view, next) => {
                if let Err(reason) = check_view(buf, at, view.seq, next_seq) {
                    let tail = Tail::Corrupt { offset: at as u64, reason };
                    return SegmentScan { header: Some(header), records, end: at as u64, tail };
                }
                visit(view);
                records += 1;
                next_seq += 1;
                at = next;
            }
        }
    };
    let mut tail = classify_tail(buf, at, fault, is_last, header.torn_window);
    if let Tail::Torn { reason, .. } = &tail {
        if let Some(proof) = synced_batch_after(buf, at, next_seq) {
            tail = Tail::Corrupt { offset: at as u64, reason: format!("{reason}; {proof}") };
        }
    }
    SegmentScan { header: Some(header), records, end: at as u64, tail }
}

fn check_header(buf: &[u8], name_seq: u64, expected_first: Option<u64>) -> Result<SegmentHeader, String> {
    let header = SegmentHeader::decode(buf)?;
    if header.first_seq != name_seq {
        return Err(format!("header first seq {} differs from the file name's {name_seq}", header.first_seq));
    }
    match expected_first {
        Some(e) if e != header.first_seq => Err(format!(
            "segment starts at seq {}, but the previous segment ends before seq {e}",
            header.first_seq
        )),
        _ => Ok(header),
    }
}

/// The last segment's header was never written: a rotation renamed a spare and the process
/// or machine stopped before the first fdatasync of the new segment, so nothing in it was
/// acknowledged. The whole file is a torn tail.
fn unwritten_header(buf: &[u8]) -> SegmentScan {
    let reason = "segment header never written (rotation interrupted before its first sync)".to_string();
    let tail = Tail::Torn { reason, discard_to: last_nonzero_end(buf, 0) as u64 };
    SegmentScan { header: None, records: 0, end: 0, tail }
}

fn corrupt_header(reason: String) -> SegmentScan {
    SegmentScan { header: None, records: 0, end: 0, tail: Tail::Corrupt { offset: 0, reason } }
}

/// Checks what the CRC cannot: the record layout version, flags and sequence continuity.
fn check_view(buf: &[u8], at: usize, seq: u64, expected: u64) -> Result<(), String> {
    format::check_record_fields(buf, at)?;
    if seq != expected {
        return Err(format!("record seq {seq}, expected {expected} (sequence break)"));
    }
    Ok(())
}

/// Decides whether the bytes from `end` on are a clean end, a torn tail or corruption.
fn classify_tail(buf: &[u8], end: usize, fault: Option<String>, is_last: bool, window: u32) -> Tail {
    let nonzero_end = last_nonzero_end(buf, end);
    if fault.is_none() && nonzero_end == end {
        return Tail::Clean;
    }
    let reason =
        fault.unwrap_or_else(|| format!("non-zero bytes after the end of data, up to offset {nonzero_end}"));
    let span = (nonzero_end - end) as u64;
    if is_last && span <= u64::from(window) {
        return Tail::Torn { reason, discard_to: nonzero_end as u64 };
    }
    let why = if is_last {
        format!("{reason}; damaged span of {span} bytes is larger than one unsynced batch ({window} bytes)")
    } else {
        format!("{reason}; not the last segment, so this cannot be a torn write")
    };
    Tail::Corrupt { offset: end as u64, reason: why }
}

/// Damage at `from` (where seq `expected` should start) is a torn write only if it lies in the
/// last, unsynced batch. If valid records after it include a batch-end record that is itself
/// followed by another valid record, the damaged record's batch was synced before a later batch
/// was written: that is corruption of acknowledged data. Returns the proof, if any.
fn synced_batch_after(buf: &[u8], from: usize, expected: u64) -> Option<String> {
    let (mut at, mut seen_batch_end) = (next_valid_record(buf, from + 1, expected)?, None);
    while let Slot::Record(view, next) = format::decode_slot(buf, at) {
        if let Some(end_seq) = seen_batch_end {
            return Some(format!(
                "valid records follow: seq {end_seq} ends a synced batch and seq {} comes after it, \
                 so the damaged record was acknowledged",
                view.seq
            ));
        }
        if format::is_batch_end(buf, at) {
            seen_batch_end = Some(view.seq);
        }
        at = next;
    }
    None
}

/// The offset of the first CRC-valid record at or after `from` whose seq could follow
/// `expected` (a cheap seq filter runs before the CRC, so the search stays linear in practice).
fn next_valid_record(buf: &[u8], from: usize, expected: u64) -> Option<usize> {
    let limit = buf.len().saturating_sub(format::RECORD_HEADER_LEN);
    (from..limit).find(|&at| {
        let seq = u64::from_le_bytes(buf[at + 8..at + 16].try_into().unwrap_or([0; 8]));
        seq > expected
            && seq < expected.saturating_add(1 << 24)
            && matches!(format::decode_slot(buf, at), Slot::Record(..))
    })
}

/// One past the last non-zero byte at or after `from` (or `from` if all are zero).
fn last_nonzero_end(buf: &[u8], from: usize) -> usize {
    buf[from.min(buf.len())..].iter().rposition(|&b| b != 0).map_or(from, |i| from + i + 1)
}

/// Reads one segment file and scans it (see `scan_segment`).
pub fn scan_file(
    file: &SegmentFile,
    expected_first: Option<u64>,
    is_last: bool,
    visit: impl FnMut(RecordView<'_>),
) -> Result<SegmentScan, JournalError> {
    let buf = segment::read_segment(&file.path)?;
    Ok(scan_segment(&buf, file.first_seq, expected_first, is_last, visit))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::encode_record;

    fn segment(first_seq: u64, records: u64, window: u32) -> Vec<u8> {
        let header = SegmentHeader { first_seq, segment_bytes: 8192, torn_window: window };
        let mut buf = header.encode().to_vec();
        for seq in first_seq..first_seq + records {
            encode_record(&mut buf, seq, 1, &[seq as u8; 10]);
        }
        buf.resize(8192, 0);
        buf
    }

    #[test]
    fn clean_segment_counts_records() {
        let buf = segment(5, 3, 4096);
        let mut seen = Vec::new();
        let scan = scan_segment(&buf, 5, Some(5), true, |v| seen.push(v.seq));
        assert_eq!(seen, vec![5, 6, 7]);
        assert_eq!(scan.tail, Tail::Clean);
        assert_eq!(scan.next_seq(), Some(8));
    }

    #[test]
    fn damage_in_last_record_of_last_segment_is_torn() {
        let mut buf = segment(1, 3, 4096);
        let last = SEGMENT_HEADER_LEN + 2 * 30;
        buf[last + 25] ^= 1;
        let scan = scan_segment(&buf, 1, None, true, |_| {});
        assert_eq!(scan.records, 2);
        assert!(
            matches!(scan.tail, Tail::Torn { ref reason, discard_to } if reason.contains("CRC") && discard_to == (last + 30) as u64)
        );
    }

    #[test]
    fn same_damage_in_an_older_segment_is_corruption() {
        let mut buf = segment(1, 3, 4096);
        buf[SEGMENT_HEADER_LEN + 2 * 30 + 25] ^= 1;
        let scan = scan_segment(&buf, 1, None, false, |_| {});
        assert!(
            matches!(scan.tail, Tail::Corrupt { offset, .. } if offset == (SEGMENT_HEADER_LEN + 60) as u64)
        );
    }

    #[test]
    fn damage_followed_by_data_beyond_the_window_is_corruption() {
        let mut buf = segment(1, 100, 64);
        buf[SEGMENT_HEADER_LEN + 5] ^= 1;
        let scan = scan_segment(&buf, 1, None, true, |_| {});
        assert!(
            matches!(scan.tail, Tail::Corrupt { offset, ref reason } if offset == SEGMENT_HEADER_LEN as u64 && reason.contains("larger than one unsynced batch"))
        );
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;
    use crate::format::{encode_record, RECORD_HEADER_LEN};

    const SEGMENT: usize = 16 << 10;
    const WINDOW: u32 = 2048;

    /// A clean segment holding `payloads`, starting at seq 1.
    fn clean(payloads: &[Vec<u8>]) -> (Vec<u8>, Vec<usize>) {
        let header = SegmentHeader { first_seq: 1, segment_bytes: SEGMENT as u64, torn_window: WINDOW };
        let mut buf = header.encode().to_vec();
        let mut offsets = Vec::new();
        for (i, p) in payloads.iter().enumerate() {
            offsets.push(buf.len());
            encode_record(&mut buf, i as u64 + 1, 9, p);
        }
        buf.resize(SEGMENT, 0);
        (buf, offsets)
    }

    fn payloads() -> impl Strategy<Value = Vec<Vec<u8>>> {
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..200), 1..40)
    }

    proptest! {
        /// Any bytes at all: the scanner never panics and only ever yields a contiguous run of
        /// records starting at the header's first seq.
        #[test]
        fn arbitrary_damage_never_panics_and_yields_a_contiguous_prefix(
            ps in payloads(),
            flips in prop::collection::vec((0usize..SEGMENT, any::<u8>()), 0..8),
            is_last in any::<bool>(),
        ) {
            let (mut buf, _) = clean(&ps);
            for (at, v) in flips {
                buf[at] = v;
            }
            let mut seqs = Vec::new();
            let scan = scan_segment(&buf, 1, None, is_last, |v| seqs.push(v.seq));
            prop_assert!(seqs.iter().enumerate().all(|(i, &s)| s == i as u64 + 1));
            prop_assert_eq!(scan.records, seqs.len() as u64);
        }

        /// Damage anywhere in the last batch (records ending within `WINDOW` bytes of the
        /// start of the batch) of the last segment is a torn tail that keeps every record
        /// before the batch; the same damage in an older segment is corruption.
        #[test]
        fn damage_in_the_last_batch_is_torn_only_in_the_last_segment(
            ps in payloads(),
            pick in any::<usize>(),
            v in 1u8..,
        ) {
            let (mut buf, offsets) = clean(&ps);
            let end = offsets.last().copied().unwrap() + 20 + ps.last().unwrap().len();
            let first_in_batch = offsets.iter().position(|&o| end - o <= WINDOW as usize).unwrap();
            let batch_start = offsets[first_in_batch];
            let at = batch_start + pick % (end - batch_start);
            buf[at] ^= v;
            let last = scan_segment(&buf, 1, None, true, |_| {});
            prop_assert!(matches!(last.tail, Tail::Torn { .. }), "{:?}", last.tail);
            prop_assert!(last.records as usize >= first_in_batch);
            let older = scan_segment(&buf, 1, None, false, |_| {});
            prop_assert!(matches!(older.tail, Tail::Corrupt { .. }), "{:?}", older.tail);
        }
    }

    /// Records `first..first+n`, each batch of `batch` records closed by a batch-end flag.
    fn batched_segment(first: u64, n: u64, batch: u64) -> (Vec<u8>, Vec<usize>) {
        let header = SegmentHeader { first_seq: first, segment_bytes: 16384, torn_window: 8192 };
        let mut buf = header.encode().to_vec();
        let mut starts = Vec::new();
        for seq in first..first + n {
            starts.push(buf.len());
            encode_record(&mut buf, seq, 1, &[seq as u8; 40]);
            if (seq - first + 1) % batch == 0 {
                format::mark_batch_end(&mut buf, *starts.last().unwrap());
            }
        }
        buf.resize(16384, 0);
        (buf, starts)
    }

    #[test]
    fn damage_before_a_later_synced_batch_is_corruption_not_a_torn_tail() {
        let (mut buf, starts) = batched_segment(1, 12, 3);
        buf[starts[4] + RECORD_HEADER_LEN + 5] ^= 0x10; // seq 5, inside the 2nd of 4 batches
        let scan = scan_segment(&buf, 1, Some(1), true, |_| {});
        assert_eq!(scan.records, 4);
        match scan.tail {
            Tail::Corrupt { offset, reason } => {
                assert_eq!(offset, starts[4] as u64);
                assert!(reason.contains("acknowledged"), "{reason}");
            }
            other => panic!("expected corruption, got {other:?}"),
        }
    }

    #[test]
    fn damage_in_the_last_batch_is_a_torn_tail() {
        let (mut buf, starts) = batched_segment(1, 12, 3);
        buf[starts[9] + RECORD_HEADER_LEN + 5] ^= 0x10; // seq 10, first record of the last batch
        let scan = scan_segment(&buf, 1, Some(1), true, |_| {});
        assert_eq!(scan.records, 9);
        assert!(matches!(scan.tail, Tail::Torn { .. }), "{:?}", scan.tail);
    }
}
