//! `verify` finds injected corruption and says exactly where: a single flipped byte anywhere
//! in a sealed segment is reported with that segment and the offset of the record (or header)
//! that holds it.

use std::os::unix::fs::FileExt;
use std::path::Path;
use std::sync::mpsc;

use switchyard_journal::{verify, Journal, JournalConfig, SEGMENT_HEADER_LEN};

fn write_journal(dir: &Path) {
    let mut c = JournalConfig::new(dir);
    c.segment_bytes = 8192;
    c.max_batch_bytes = 2048;
    let (j, _) = Journal::open(c).unwrap();
    let (tx, rx) = mpsc::channel();
    for i in 0..300u32 {
        let tx = tx.clone();
        let payload = vec![(i % 251) as u8; 10 + (i as usize * 7) % 90];
        j.append(1 + (i % 3) as u16, payload, Box::new(move |r| tx.send(r.unwrap()).unwrap())).unwrap();
    }
    (0..300).for_each(|_| {
        rx.recv().unwrap();
    });
    j.shutdown().unwrap();
}

/// Record start offsets of a clean segment, from its bytes.
fn record_offsets(bytes: &[u8]) -> Vec<u64> {
    let mut at = SEGMENT_HEADER_LEN;
    let mut out = Vec::new();
    loop {
        let len = u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
        if len == 0 {
            return out;
        }
        out.push(at as u64);
        at += 8 + len;
    }
}

#[test]
fn a_flipped_byte_is_found_at_its_record() {
    let dir = tempfile::tempdir().unwrap();
    write_journal(dir.path());
    let clean = verify(dir.path());
    assert!(clean.is_ok() && clean.records == 300 && clean.segments.len() >= 3, "{clean:?}");
    let by_type: u64 = clean.segments.iter().flat_map(|s| s.records_by_type.values()).sum();
    assert_eq!(by_type, 300);
    let target = &clean.segments[1];
    let bytes = std::fs::read(&target.path).unwrap();
    let offsets = record_offsets(&bytes);
    let end = target.bytes_used;
    // A byte in the header, in record headers, in payloads, in the last record.
    for pos in [3, 61, offsets[0] + 1, offsets[2] + 9, offsets[5] + 25, end - 1] {
        let f = std::fs::OpenOptions::new().write(true).open(&target.path).unwrap();
        f.write_all_at(&[bytes[pos as usize] ^ 0x10], pos).unwrap();
        let report = verify(dir.path());
        let p = report.problem.clone().unwrap_or_else(|| panic!("flip at {pos} not found: {report:?}"));
        let expected = offsets.iter().copied().filter(|&o| o <= pos).max().unwrap_or(0);
        assert_eq!((&p.segment, p.offset), (&target.path, expected), "flip at {pos}: {}", p.reason);
        assert!(!p.reason.is_empty());
        f.write_all_at(&[bytes[pos as usize]], pos).unwrap();
    }
    assert!(verify(dir.path()).is_ok());
}
