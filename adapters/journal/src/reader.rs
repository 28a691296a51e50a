//! Reading the journal without the writer: `read_all` and `read_from` for replay, reindexing
//! and tests.
//!
//! Readers stream one segment at a time (memory is bounded by one segment), check CRC and
//! sequence continuity on every record (the read-side half of the paired assertions), stop
//! silently at a torn tail (exactly where recovery would cut it) and yield one
//! `JournalError::Corrupt` at corruption. They never modify the files, so they are safe to run
//! next to a live writer: a batch being written shows up as a torn tail and ends the read.

use std::collections::VecDeque;
use std::ops::Range;
use std::path::Path;

use crate::error::JournalError;
use crate::scan::{self, Tail};
use crate::segment::{self, SegmentFile};

/// One journal record, owned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Sequence number, strictly increasing from 1 without gaps.
    pub seq: u64,
    /// Caller-defined record type.
    pub record_type: u16,
    /// Record layout version (currently always 1).
    pub version: u8,
    /// The caller's bytes (usually `codec::encode` output).
    pub payload: Vec<u8>,
}

/// Iterator over the records of a journal directory, in sequence order.
#[derive(Debug)]
pub struct RecordIter {
    files: Vec<SegmentFile>,
    next_file: usize,
    from_seq: u64,
    expected: Option<u64>,
    /// The segment being read; its records are copied out one at a time, so a read holds one
    /// segment's bytes and not a second copy of them (a full 64 MiB live segment at start-up).
    segment: Vec<u8>,
    /// Where the wanted records of `segment` are.
    pending: VecDeque<Located>,
    error: Option<JournalError>,
    done: bool,
}

/// A record of the current segment: its header fields and where its payload is.
#[derive(Debug)]
struct Located {
    seq: u64,
    record_type: u16,
    version: u8,
    payload: Range<usize>,
}

/// Reads every record still in `dir`, archived ones first (after retention deleted some, from
/// the first retained one).
pub fn read_all(dir: &Path) -> Result<RecordIter, JournalError> {
    read_from(dir, 0)
}

/// Reads the records with `seq >= from_seq`. Fails with `Truncated` when retention already
/// deleted some of them; returns an empty iterator when `from_seq` is past the end. `0` means
/// "whatever is retained" and never fails with `Truncated` (that is `read_all`).
pub fn read_from(dir: &Path, from_seq: u64) -> Result<RecordIter, JournalError> {
    let mut files = segment::list_all_segments(dir)?;
    if let Some(first) = files.first() {
        if from_seq > 0 && from_seq < first.first_seq {
            return Err(JournalError::Truncated { requested: from_seq, first_available: first.first_seq });
        }
    }
    let skip = files.windows(2).take_while(|w| w[1].first_seq <= from_seq).count();
    files.drain(..skip);
    Ok(RecordIter {
        files,
        next_file: 0,
        from_seq,
        expected: None,
        segment: Vec::new(),
        pending: VecDeque::new(),
        error: None,
        done: false,
    })
}

impl RecordIter {
    /// Loads the next segment's records into `pending`.
    fn load_next_segment(&mut self) -> Result<(), JournalError> {
        let file = &self.files[self.next_file];
        self.next_file += 1;
        let is_last = self.next_file == self.files.len();
        let from = self.from_seq;
        self.segment = Vec::new(); // the previous segment's bytes go before the next one's come
        let buf = segment::read_segment(&file.path)?;
        let base = buf.as_ptr().addr();
        let pending = &mut self.pending;
        let scan = scan::scan_segment(&buf, file.first_seq, self.expected, is_last, |v| {
            if v.seq >= from {
                let start = v.payload.as_ptr().addr() - base;
                pending.push_back(Located {
                    seq: v.seq,
                    record_type: v.record_type,
                    version: v.version,
                    payload: start..start + v.payload.len(),
                });
            }
        });
        self.segment = buf;
        self.expected = scan.next_seq();
        match scan.tail {
            Tail::Corrupt { offset, reason } => {
                Err(JournalError::Corrupt { segment: file.path.clone(), offset, reason })
            }
            Tail::Clean | Tail::Torn { .. } => Ok(()),
        }
    }
}

impl Iterator for RecordIter {
    type Item = Result<Record, JournalError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if let Some(r) = self.pending.pop_front() {
                let payload = self.segment[r.payload].to_vec();
                return Some(Ok(Record {
                    seq: r.seq,
                    record_type: r.record_type,
                    version: r.version,
                    payload,
                }));
            }
            if let Some(e) = self.error.take() {
                self.done = true;
                return Some(Err(e));
            }
            if self.done || self.next_file >= self.files.len() {
                return None;
            }
            if let Err(e) = self.load_next_segment() {
                self.error = Some(e);
            }
        }
    }
}
