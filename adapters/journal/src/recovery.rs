//! Open-time recovery: scans every segment, verifies every CRC and the sequence continuity,
//! cuts a torn tail (zeroing it on disk so later writes start clean) and refuses corruption.
//!
//! The result tells the writer where to append next. Recovery is the only code that modifies
//! existing segment bytes, and only ever the torn tail of the last segment.

use std::path::Path;

use crate::error::JournalError;
use crate::format::SegmentHeader;
use crate::scan::{self, Tail, TornTail};
use crate::segment::{self, SegmentFile};

/// What `Journal::open` found on disk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recovery {
    /// Valid records found in all segments.
    pub records: u64,
    /// Sequence number of the last valid record (0 for an empty journal).
    pub last_seq: u64,
    /// Number of segment files found.
    pub segments: usize,
    /// The torn tail that was cut, if any.
    pub torn_tail: Option<TornTail>,
}

/// Where the writer continues: the last segment and the offset after its last valid record.
#[derive(Debug, Clone)]
pub(crate) struct AppendPoint {
    pub file: SegmentFile,
    pub header: SegmentHeader,
    pub offset: u64,
    pub records: u64,
}

/// Scans `dir`, cuts a torn tail, and returns the recovery summary plus the append point
/// (`None` for a directory without segments).
pub(crate) fn recover(dir: &Path) -> Result<(Recovery, Option<AppendPoint>), JournalError> {
    let files = segment::list_segments(dir)?;
    let mut recovery = Recovery { records: 0, last_seq: 0, segments: files.len(), torn_tail: None };
    let mut expected = None;
    let mut point = None;
    for (i, file) in files.iter().enumerate() {
        let is_last = i + 1 == files.len();
        let scan = scan::scan_file(file, expected, is_last, |_| {})?;
        if let Tail::Corrupt { offset, reason } = &scan.tail {
            return Err(corrupt(file, *offset, reason));
        }
        let Some(header) = scan.header else {
            recovery.torn_tail = Some(drop_unwritten_segment(file, &scan)?);
            recovery.segments -= 1;
            break;
        };
        if let Tail::Torn { reason, discard_to } = &scan.tail {
            segment::zero_range(&file.path, scan.end, *discard_to)?;
            recovery.torn_tail = Some(torn(file, scan.end, *discard_to, reason));
        }
        recovery.records += scan.records;
        expected = scan.next_seq();
        recovery.last_seq = expected.map_or(0, |n| n - 1);
        point = Some(AppendPoint { file: file.clone(), header, offset: scan.end, records: scan.records });
    }
    if let Some(t) = &recovery.torn_tail {
        tracing::warn!(segment = %t.segment.display(), offset = t.offset, bytes = t.bytes_discarded, reason = %t.reason, "journal torn tail cut");
    }
    Ok((recovery, point))
}

/// Deletes a last segment whose header was never written (an interrupted rotation).
fn drop_unwritten_segment(file: &SegmentFile, scan: &scan::SegmentScan) -> Result<TornTail, JournalError> {
    let (reason, discard_to) = match &scan.tail {
        Tail::Torn { reason, discard_to } => (reason.as_str(), *discard_to),
        _ => ("segment header missing", 0),
    };
    std::fs::remove_file(&file.path).map_err(|e| JournalError::io("remove", &file.path, e))?;
    segment::sync_dir(file.path.parent().unwrap_or(Path::new(".")))?;
    Ok(torn(file, 0, discard_to, reason))
}

fn corrupt(file: &SegmentFile, offset: u64, reason: &str) -> JournalError {
    JournalError::Corrupt { segment: file.path.clone(), offset, reason: reason.to_string() }
}

fn torn(file: &SegmentFile, offset: u64, discard_to: u64, reason: &str) -> TornTail {
    TornTail {
        segment: file.path.clone(),
        offset,
        bytes_discarded: discard_to - offset,
        reason: reason.to_string(),
    }
}
