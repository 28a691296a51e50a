//! `verify`: a read-only audit of a journal directory for `switchyard journal verify`.
//!
//! It runs the same scan as recovery (so it agrees with what `open` would do) but never
//! changes a byte, never fails, and reports counts per segment and per record type plus the
//! first problem with its segment, byte offset and reason.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::scan::{self, Tail, TornTail};
use crate::segment;

/// Per-segment counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentReport {
    /// The segment file.
    pub path: PathBuf,
    /// First sequence number (from the file name).
    pub first_seq: u64,
    /// Valid records.
    pub records: u64,
    /// Bytes in use (header + valid records).
    pub bytes_used: u64,
    /// Valid records by record type.
    pub records_by_type: BTreeMap<u16, u64>,
}

/// The first thing wrong with a journal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file involved (the directory itself for listing errors).
    pub segment: PathBuf,
    /// Byte offset inside the segment (0 for file-level problems).
    pub offset: u64,
    /// What is wrong.
    pub reason: String,
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct VerifyReport {
    /// One entry per segment scanned (scanning stops at the first problem).
    pub segments: Vec<SegmentReport>,
    /// Valid records in all scanned segments.
    pub records: u64,
    /// Last valid sequence number (0 if none).
    pub last_seq: u64,
    /// A torn tail that `open` would cut (not a problem: unacknowledged data).
    pub torn_tail: Option<TornTail>,
    /// The first corruption or I/O problem, if any.
    pub problem: Option<Problem>,
}

impl VerifyReport {
    /// True when no corruption or I/O problem was found (a torn tail is allowed).
    pub fn is_ok(&self) -> bool {
        self.problem.is_none()
    }
}

/// Audits the journal in `dir` without modifying it.
pub fn verify(dir: &Path) -> VerifyReport {
    let mut report = VerifyReport::default();
    let files = match segment::list_all_segments(dir) {
        Ok(f) => f,
        Err(e) => {
            report.problem = Some(Problem { segment: dir.to_path_buf(), offset: 0, reason: e.to_string() });
            return report;
        }
    };
    let mut expected = None;
    for (i, file) in files.iter().enumerate() {
        let mut by_type = BTreeMap::new();
        let is_last = i + 1 == files.len();
        let scan = match scan::scan_file(file, expected, is_last, |v| {
            *by_type.entry(v.record_type).or_insert(0) += 1;
        }) {
            Ok(s) => s,
            Err(e) => {
                report.problem =
                    Some(Problem { segment: file.path.clone(), offset: 0, reason: e.to_string() });
                return report;
            }
        };
        report.records += scan.records;
        expected = scan.next_seq();
        report.last_seq = expected.map_or(report.last_seq, |n| n.saturating_sub(1));
        report.segments.push(SegmentReport {
            path: file.path.clone(),
            first_seq: file.first_seq,
            records: scan.records,
            bytes_used: scan.end,
            records_by_type: by_type,
        });
        match scan.tail {
            Tail::Clean => {}
            Tail::Torn { reason, discard_to } => {
                let bytes_discarded = discard_to - scan.end;
                report.torn_tail =
                    Some(TornTail { segment: file.path.clone(), offset: scan.end, bytes_discarded, reason });
            }
            Tail::Corrupt { offset, reason } => {
                report.problem = Some(Problem { segment: file.path.clone(), offset, reason });
                return report;
            }
        }
    }
    report
}
