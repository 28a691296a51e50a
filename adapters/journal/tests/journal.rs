//! Black-box tests of the journal API: completion order, recovery, torn tails, corruption,
//! rotation, retention, backpressure and shutdown.

use std::fs::OpenOptions;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use switchyard_journal::{
    read_all, read_from, segment_name, verify, Journal, JournalConfig, JournalError, Record, SyncMode,
    RECORD_HEADER_LEN, SEGMENT_HEADER_LEN,
};

fn cfg(dir: &Path) -> JournalConfig {
    let mut c = JournalConfig::new(dir);
    c.segment_bytes = 1 << 20;
    c
}

fn payload(i: u64) -> Vec<u8> {
    format!("record-{i}").into_bytes()
}

/// Appends `n` records and returns the seqs in the order their completions ran.
fn append_n(j: &Journal, n: u64, start: u64) -> Vec<u64> {
    let (tx, rx) = mpsc::channel();
    for i in start..start + n {
        loop {
            let tx = tx.clone();
            match j.append(7, payload(i), Box::new(move |r| tx.send(r.expect("durable")).unwrap())) {
                Ok(()) => break,
                Err(JournalError::Full) => std::thread::yield_now(),
                Err(e) => panic!("append: {e}"),
            }
        }
    }
    (0..n).map(|_| rx.recv().unwrap()).collect()
}

fn records(dir: &Path) -> Vec<Record> {
    read_all(dir).unwrap().collect::<Result<Vec<_>, _>>().unwrap()
}

fn segment_path(dir: &Path, first_seq: u64) -> PathBuf {
    dir.join(segment_name(first_seq))
}

fn write_at(path: &Path, offset: u64, bytes: &[u8]) {
    let f = OpenOptions::new().write(true).open(path).unwrap();
    f.write_all_at(bytes, offset).unwrap();
}

/// Offset of the record with `seq` in the first segment, for records written by `payload`.
fn offset_of(seq: u64) -> u64 {
    let mut at = SEGMENT_HEADER_LEN as u64;
    for i in 1..seq {
        at += (RECORD_HEADER_LEN + payload(i - 1).len()) as u64;
    }
    at
}

#[test]
fn completions_run_in_sequence_order_after_sync() {
    let dir = tempfile::tempdir().unwrap();
    let (j, rec) = Journal::open(cfg(dir.path())).unwrap();
    assert_eq!((rec.records, rec.last_seq, rec.segments), (0, 0, 0));
    let seqs = append_n(&j, 2000, 0);
    assert_eq!(seqs, (1..=2000).collect::<Vec<_>>());
    let s = j.stats();
    assert_eq!((s.records, s.last_seq), (2000, 2000));
    assert!(s.fsyncs >= 1 && s.batches <= 2000 && s.batches >= 1);
    j.shutdown().unwrap();
    let all = records(dir.path());
    assert_eq!(all.len(), 2000);
    for (i, r) in all.iter().enumerate() {
        assert_eq!((r.seq, r.record_type, r.version), (i as u64 + 1, 7, 1));
        assert_eq!(r.payload, payload(i as u64));
    }
}

#[test]
fn reopen_recovers_and_continues_the_sequence() {
    let dir = tempfile::tempdir().unwrap();
    let (j, _) = Journal::open(cfg(dir.path())).unwrap();
    append_n(&j, 100, 0);
    j.shutdown().unwrap();
    let (j, rec) = Journal::open(cfg(dir.path())).unwrap();
    assert_eq!((rec.records, rec.last_seq, rec.segments, rec.torn_tail.clone()), (100, 100, 1, None));
    assert_eq!(j.stats().last_seq, 100);
    assert_eq!(append_n(&j, 10, 100), (101..=110).collect::<Vec<_>>());
    j.shutdown().unwrap();
    assert_eq!(records(dir.path()).len(), 110);
}

#[test]
fn torn_tail_is_cut_and_appends_continue_cleanly() {
    let dir = tempfile::tempdir().unwrap();
    let (j, _) = Journal::open(cfg(dir.path())).unwrap();
    append_n(&j, 10, 0);
    j.shutdown().unwrap();
    // A half-written 11th record: a plausible header, half its payload missing.
    let seg = segment_path(dir.path(), 1);
    let end = offset_of(11);
    write_at(&seg, end, &[40, 0, 0, 0, 0xde, 0xad, 0xbe, 0xef, 11, 0, 0, 0, 0, 0, 0, 0, 7, 0, 1, 0, 0x55]);
    let report = verify(dir.path());
    assert!(report.is_ok(), "{report:?}");
    assert_eq!(report.torn_tail.as_ref().map(|t| t.offset), Some(end));
    let (j, rec) = Journal::open(cfg(dir.path())).unwrap();
    let torn = rec.torn_tail.expect("torn tail reported");
    assert_eq!((torn.segment, torn.offset, torn.bytes_discarded), (seg, end, 21));
    assert!(torn.reason.contains("runs past") || torn.reason.contains("CRC"), "{}", torn.reason);
    assert_eq!(rec.last_seq, 10);
    append_n(&j, 1, 10);
    j.shutdown().unwrap();
    let all = records(dir.path());
    assert_eq!(all.len(), 11);
    assert_eq!(all[10].payload, payload(10));
    assert!(verify(dir.path()).torn_tail.is_none());
}

#[test]
fn corruption_in_the_middle_is_refused_with_segment_and_offset() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cfg(dir.path());
    c.max_batch_bytes = 256; // a small torn window: damage far from the end cannot be torn
    let (j, _) = Journal::open(c.clone()).unwrap();
    append_n(&j, 200, 0);
    j.shutdown().unwrap();
    let seg = segment_path(dir.path(), 1);
    let at = offset_of(50);
    write_at(&seg, at + RECORD_HEADER_LEN as u64 + 2, b"X");
    match Journal::open(c) {
        Err(JournalError::Corrupt { segment, offset, reason }) => {
            assert_eq!((segment, offset), (seg.clone(), at));
            assert!(reason.contains("CRC mismatch"), "{reason}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
    let report = verify(dir.path());
    let p = report.problem.expect("verify reports the flip");
    assert_eq!((p.segment, p.offset), (seg, at));
    assert_eq!(report.records, 49);
    let read: Vec<_> = read_all(dir.path()).unwrap().collect();
    assert_eq!(read.len(), 50);
    assert!(matches!(read[49], Err(JournalError::Corrupt { offset, .. }) if offset == at));
}

#[test]
fn rotation_retention_and_read_from() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cfg(dir.path());
    c.segment_bytes = 4096;
    c.max_batch_bytes = 1024;
    let (j, _) = Journal::open(c.clone()).unwrap();
    append_n(&j, 1000, 0);
    assert!(j.stats().segments_created > 5);
    let all = records(dir.path());
    assert_eq!(all.len(), 1000);
    let from: Vec<u64> = read_from(dir.path(), 777).unwrap().map(|r| r.unwrap().seq).collect();
    assert_eq!(from, (777..=1000).collect::<Vec<_>>());
    let removed = j.truncate_before(500).unwrap();
    assert!(removed > 0);
    assert!(matches!(read_from(dir.path(), 1), Err(JournalError::Truncated { .. })));
    let kept: Vec<u64> = read_from(dir.path(), 500).unwrap().map(|r| r.unwrap().seq).collect();
    assert_eq!(kept, (500..=1000).collect::<Vec<_>>());
    assert!(read_from(dir.path(), 5000).unwrap().next().is_none());
    j.shutdown().unwrap();
    let (_j, rec) = Journal::open(c).unwrap();
    assert_eq!(rec.last_seq, 1000);
    let report = verify(dir.path());
    assert!(report.is_ok() && report.last_seq == 1000, "{report:?}");
    assert_eq!(report.segments.iter().map(|s| s.records).sum::<u64>(), report.records);
    assert_eq!(report.segments[0].records_by_type.get(&7), Some(&report.segments[0].records));
}

#[test]
fn archived_segments_leave_recovery_but_stay_readable() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cfg(dir.path());
    c.segment_bytes = 4096;
    c.max_batch_bytes = 1024;
    let (j, _) = Journal::open(c.clone()).unwrap();
    append_n(&j, 1000, 0);
    let live_before = std::fs::read_dir(dir.path()).unwrap().count();
    let moved = j.archive_before(500).unwrap();
    assert!(moved > 0);
    let archive = dir.path().join("archive");
    assert_eq!(std::fs::read_dir(&archive).unwrap().count(), moved);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), live_before - moved + 1, "+ archive/");
    // Everything is still read, in order, archive first; verify covers both.
    assert_eq!(records(dir.path()).len(), 1000);
    let from: Vec<u64> = read_from(dir.path(), 2).unwrap().map(|r| r.unwrap().seq).collect();
    assert_eq!(from, (2..=1000).collect::<Vec<_>>());
    let report = verify(dir.path());
    assert!(report.is_ok() && report.records == 1000, "{report:?}");
    j.shutdown().unwrap();
    // Recovery scans only the live segments, and appending continues from the true end.
    let (j, rec) = Journal::open(c).unwrap();
    assert_eq!(rec.last_seq, 1000);
    assert!(rec.records < 1000, "archived records are not rescanned: {rec:?}");
    append_n(&j, 10, 1000);
    j.shutdown().unwrap();
    assert_eq!(records(dir.path()).len(), 1010);
    // Damage in an archived segment is still found, with its path.
    let first = std::fs::read_dir(&archive).unwrap().map(|e| e.unwrap().path()).min().unwrap();
    let mut bytes = std::fs::read(&first).unwrap();
    let at = SEGMENT_HEADER_LEN + 30;
    bytes[at] ^= 0xff;
    std::fs::write(&first, bytes).unwrap();
    let p = verify(dir.path()).problem.expect("verify finds the flip in the archive");
    assert_eq!(p.segment, first);
}

#[test]
fn full_queue_pushes_back_and_nothing_is_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cfg(dir.path());
    c.queue_capacity = 4;
    let (j, _) = Journal::open(c).unwrap();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let (acked_tx, acked_rx) = mpsc::channel();
    // The first completion blocks the writer thread until released.
    let tx0 = acked_tx.clone();
    let (blocked_tx, blocked_rx) = mpsc::channel::<()>();
    j.append(
        1,
        vec![0],
        Box::new(move |r| {
            blocked_tx.send(()).unwrap();
            release_rx.recv().unwrap();
            tx0.send(r.unwrap()).unwrap();
        }),
    )
    .unwrap();
    blocked_rx.recv().unwrap();
    let mut accepted = 1;
    let mut full = false;
    for i in 0..100u8 {
        let tx = acked_tx.clone();
        match j.append(1, vec![i], Box::new(move |r| tx.send(r.unwrap()).unwrap())) {
            Ok(()) => accepted += 1,
            Err(JournalError::Full) => {
                full = true;
                break;
            }
            Err(e) => panic!("{e}"),
        }
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    assert!(full, "queue of 4 must fill while the writer is blocked");
    // The blocked batch (the first record alone) left the bound when it was written: 4 more fit.
    assert_eq!(accepted, 5, "the bound holds: {accepted} accepted with a capacity of 4");
    release_tx.send(()).unwrap();
    let acked: Vec<u64> = (0..accepted).map(|_| acked_rx.recv().unwrap()).collect();
    assert_eq!(acked, (1..=accepted as u64).collect::<Vec<_>>());
    j.shutdown().unwrap();
}

#[test]
fn shutdown_flushes_then_closes() {
    let dir = tempfile::tempdir().unwrap();
    let (j, _) = Journal::open(cfg(dir.path())).unwrap();
    let (tx, rx) = mpsc::channel();
    for i in 0..50 {
        let tx = tx.clone();
        j.append(2, payload(i), Box::new(move |r| tx.send(r.unwrap()).unwrap())).unwrap();
    }
    j.shutdown().unwrap();
    assert_eq!(rx.try_iter().count(), 50);
    assert!(matches!(j.append(2, vec![], Box::new(|_| panic!("must not run"))), Err(JournalError::Closed)));
    j.shutdown().unwrap();
}

#[test]
fn oversized_record_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cfg(dir.path());
    c.max_batch_bytes = 1024;
    let (j, _) = Journal::open(c).unwrap();
    let max = j.max_payload_bytes();
    assert_eq!(max, 1024 - RECORD_HEADER_LEN);
    let r = j.append(1, vec![0; max + 1], Box::new(|_| panic!("must not run")));
    assert!(matches!(r, Err(JournalError::RecordTooLarge { .. })));
    let (tx, rx) = mpsc::channel();
    j.append(1, vec![0; max], Box::new(move |r| tx.send(r.unwrap()).unwrap())).unwrap();
    assert_eq!(rx.recv().unwrap(), 1);
}

#[test]
fn append_durable_resolves_with_the_seq() {
    let dir = tempfile::tempdir().unwrap();
    let (j, _) = Journal::open(cfg(dir.path())).unwrap();
    let seqs: Vec<u64> = (0..5).map(|i| block_on(j.append_durable(3, payload(i))).unwrap()).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5]);
    j.shutdown().unwrap();
    assert!(matches!(block_on(j.append_durable(3, vec![])), Err(JournalError::Closed)));
}

#[test]
fn power_loss_simulation_keeps_synced_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cfg(dir.path());
    c.sync = SyncMode::PowerLossSimulation;
    let (j, _) = Journal::open(c.clone()).unwrap();
    append_n(&j, 300, 0);
    j.shutdown().unwrap();
    // Bytes written after the last sync (as if the process died before fdatasync) may be lost.
    let seg = segment_path(dir.path(), 1);
    let mut extra = Vec::new();
    for seq in 301..=302u64 {
        let body: Vec<u8> = [seq.to_le_bytes().as_slice(), &[7, 0, 1, 0], b"x"].concat();
        extra.extend_from_slice(&(body.len() as u32).to_le_bytes());
        extra.extend_from_slice(&crc32c::crc32c(&body).to_le_bytes());
        extra.extend_from_slice(&body);
    }
    write_at(&seg, offset_of(301), &extra);
    assert_eq!(records(dir.path()).len(), 302, "a plain read sees the unsynced records");
    // Each unsynced 512-byte sector survives or not; everything synced must survive.
    let (j, rec) = Journal::open(c).unwrap();
    assert!((300..=302).contains(&rec.last_seq), "{rec:?}");
    j.shutdown().unwrap();
    let all = records(dir.path());
    assert_eq!(all.len() as u64, rec.last_seq);
    assert!(all[..300].iter().enumerate().all(|(i, r)| r.payload == payload(i as u64)));
}

/// A minimal single-future executor: parks the thread until woken.
fn block_on<F: std::future::Future>(f: F) -> F::Output {
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

#[test]
fn damage_in_an_older_segment_is_corruption_even_near_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cfg(dir.path());
    c.segment_bytes = 4096;
    let (j, _) = Journal::open(c.clone()).unwrap();
    append_n(&j, 600, 0);
    j.shutdown().unwrap();
    let first = segment_path(dir.path(), 1);
    // The last record of the first (sealed) segment: within one batch of its end, but sealed.
    let report = verify(dir.path());
    let seg0 = &report.segments[0];
    let at = seg0.bytes_used - 5;
    write_at(&first, at, &[0xff]);
    match Journal::open(c) {
        Err(JournalError::Corrupt { segment, reason, .. }) => {
            assert_eq!(segment, first);
            assert!(reason.contains("not the last segment"), "{reason}");
        }
        other => panic!("expected Corrupt, got {other:?}"),
    }
}

#[test]
fn one_open_journal_per_directory() {
    let dir = tempfile::tempdir().unwrap();
    let (j, _) = Journal::open(cfg(dir.path())).unwrap();
    assert!(matches!(Journal::open(cfg(dir.path())), Err(JournalError::Locked { .. })));
    assert_eq!(records(dir.path()).len(), 0, "readers do not need the lock");
    j.shutdown().unwrap();
    let (j2, _) = Journal::open(cfg(dir.path())).unwrap();
    j2.shutdown().unwrap();
}

#[test]
fn interrupted_rotation_leaves_a_torn_tail_not_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cfg(dir.path());
    c.segment_bytes = 4096;
    let (j, _) = Journal::open(c.clone()).unwrap();
    append_n(&j, 300, 0);
    j.shutdown().unwrap();
    // A renamed spare whose header (and first batch) never reached the disk: zeros plus a
    // partly persisted record.
    let next = dir.path().join(segment_name(301));
    let mut bytes = vec![0u8; 4096];
    bytes[64..80].copy_from_slice(&[9u8; 16]);
    std::fs::write(&next, &bytes).unwrap();
    let (j, rec) = Journal::open(c.clone()).unwrap();
    let torn = rec.torn_tail.expect("reported as a torn tail");
    assert_eq!((torn.segment, torn.offset, torn.bytes_discarded), (next.clone(), 0, 80));
    assert_eq!(rec.last_seq, 300);
    assert_eq!(append_n(&j, 1, 300), vec![301]);
    j.shutdown().unwrap();
    assert_eq!(records(dir.path()).len(), 301);
}

#[test]
fn spares_are_adopted_when_their_rename_was_lost_and_deleted_when_unused() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cfg(dir.path());
    c.segment_bytes = 4096;
    let (j, _) = Journal::open(c.clone()).unwrap();
    append_n(&j, 300, 0);
    j.shutdown().unwrap();
    let report = verify(dir.path());
    let last = report.segments.last().unwrap().path.clone();
    // The last segment as it would look had its rename not reached the disk.
    std::fs::rename(&last, dir.path().join("spare-1-0.tmp")).unwrap();
    std::fs::write(dir.path().join("spare-1-1.tmp"), vec![0u8; 4096]).unwrap();
    let (j, rec) = Journal::open(c).unwrap();
    assert_eq!((rec.last_seq, rec.torn_tail), (300, None));
    assert!(last.exists());
    j.shutdown().unwrap();
    let leftovers = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| e.as_ref().unwrap().file_name().to_string_lossy().starts_with("spare-"));
    assert_eq!(leftovers.count(), 0, "shutdown removes its unused spare, open the stale one");
}

#[test]
fn readers_see_a_clean_prefix_while_the_writer_runs() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = cfg(dir.path());
    c.segment_bytes = 16 << 10;
    let (j, _) = Journal::open(c).unwrap();
    let writer = {
        let j = j.clone();
        std::thread::spawn(move || append_n(&j, 3000, 0))
    };
    let mut longest = 0;
    while !writer.is_finished() {
        let seqs: Vec<u64> =
            read_all(dir.path()).unwrap().map(|r| r.expect("no error mid-write").seq).collect();
        assert!(seqs.iter().enumerate().all(|(i, &s)| s == i as u64 + 1), "contiguous from 1");
        longest = longest.max(seqs.len());
    }
    writer.join().unwrap();
    j.shutdown().unwrap();
    assert_eq!(records(dir.path()).len(), 3000);
    assert!(longest <= 3000);
}

/// Sync pacing: a batch's fdatasync starts no sooner than `min_sync_interval` after the
/// previous one, and the records that arrive meanwhile join it; the first record after a
/// quiet spell is not held back; zero turns pacing off; a value above the bound is refused.
#[test]
fn sync_pacing_spaces_fdatasyncs_and_batches_what_arrives_meanwhile() {
    use std::time::{Duration, Instant};
    let interval = switchyard_journal::MAX_MIN_SYNC_INTERVAL;
    let dir = tempfile::tempdir().unwrap();
    let mut c = cfg(dir.path());
    c.min_sync_interval = interval;
    let (j, _) = Journal::open(c).unwrap();
    let t0 = Instant::now();
    append_n(&j, 1, 0);
    // Ten more, right after: the next fdatasync waits out the interval (the sync pacing
    // counter says so), and no record is acknowledged before it.
    append_n(&j, 10, 1);
    let waited = t0.elapsed();
    assert!(waited >= interval, "all eleven durable after {waited:?}, before the interval");
    let s = j.stats();
    assert_eq!(s.records, 11);
    assert!(s.paced_batches >= 1 && s.batches < 11, "{s:?}");
    // After a quiet spell longer than the interval, a record is synced without waiting.
    let paced = s.paced_batches;
    std::thread::sleep(interval * 5);
    append_n(&j, 1, 11);
    assert_eq!(j.stats().paced_batches, paced, "a record after a quiet spell is not paced");
    j.shutdown().unwrap();

    let dir = tempfile::tempdir().unwrap();
    let mut c = cfg(dir.path());
    c.min_sync_interval = Duration::ZERO;
    let (j, _) = Journal::open(c).unwrap();
    append_n(&j, 1, 0);
    append_n(&j, 1, 1);
    assert_eq!(j.stats().paced_batches, 0, "pacing off");
    j.shutdown().unwrap();

    let mut c = cfg(dir.path());
    c.min_sync_interval = interval + Duration::from_micros(1);
    match Journal::open(c) {
        Err(JournalError::Config { key, .. }) => assert_eq!(key, "min_sync_interval"),
        other => panic!("expected a config error, got {:?}", other.map(|_| ())),
    }
}
