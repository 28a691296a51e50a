//! The writer thread: the only code that appends to segments.
//!
//! One dedicated OS thread (never a tokio worker) owns the active segment. It blocks for the
//! first request, drains the bounded queue up to the batch limits, encodes the batch into one
//! contiguous buffer, writes it with one `pwrite`, calls fdatasync once, and only then calls
//! every completion of the batch in sequence order (group commit). It assigns sequence numbers,
//! so write order is sequence order, and asserts that they only ever grow by one.
//!
//! Failure policy: after a failed write or fdatasync the page cache can no longer be trusted
//! (a retried fdatasync may report success for lost data), so the writer completes every
//! pending and queued record with `Failed`, marks the journal failed and exits. A restart
//! recovers from disk.

use std::fs::File;
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crossbeam_channel::Receiver;

use crate::ack::{PendingAck, Seq};
use crate::config::{JournalConfig, SyncMode};
use crate::error::JournalError;
use crate::format::{self, SegmentHeader, SEGMENT_HEADER_LEN};
use crate::power_loss::Marker;
use crate::recovery::AppendPoint;
use crate::segment;
use crate::spare::{self, SparePreparer};
use crate::stats::Counters;

/// How long the `AckBeforeSync` canary waits between acknowledging a batch and syncing it.
const CANARY_WINDOW: std::time::Duration = std::time::Duration::from_millis(20);

/// A message to the writer thread.
#[derive(Debug)]
pub(crate) enum Request {
    /// Append one record and complete `ack` once it is durable.
    Append { record_type: u16, payload: Vec<u8>, ack: PendingAck },
    /// Finish everything queued before this message, then exit.
    Shutdown,
}

impl Request {
    /// Drops the request without calling its completion (used when `append` itself fails).
    pub fn disarm(self) {
        if let Request::Append { ack, .. } = self {
            ack.disarm();
        }
    }
}

/// State shared between the writer and the `Journal` handles.
#[derive(Debug, Default)]
pub(crate) struct Shared {
    /// Set by `shutdown`; later appends fail with `Closed`.
    pub closed: AtomicBool,
    /// The writer's first I/O error; later appends fail with `Failed`.
    pub failed: Mutex<Option<String>>,
    /// Mirrors `failed.is_some()` so the append path checks it without locking.
    pub has_failed: AtomicBool,
    /// Appends queued or in the batch being written, not yet completed: bounded by the
    /// queue capacity. The queue itself is an unbounded (linked-block) channel, so an idle
    /// journal holds no preallocated slots (a bounded array channel of the default 65,536
    /// requests would keep ~3.7 MB resident); `Journal::append` reserves here first.
    pub queued: AtomicUsize,
    /// Metrics.
    pub counters: Counters,
}

impl Shared {
    pub fn failure(&self) -> Option<String> {
        if !self.has_failed.load(Ordering::Acquire) {
            return None;
        }
        self.failed.lock().expect("journal failure flag poisoned").clone()
    }

    pub fn is_closed(&self) -> bool {
        self.closed.load(Ordering::Acquire)
    }
}

/// The segment currently appended to.
#[derive(Debug)]
struct Active {
    file: File,
    path: PathBuf,
    first_seq: Seq,
    /// Preallocated size: the room check uses it.
    capacity: u64,
    /// Offset where the next write goes.
    offset: u64,
}

/// The writer thread's state.
#[derive(Debug)]
pub(crate) struct Writer {
    cfg: JournalConfig,
    active: Active,
    next_seq: Seq,
    /// Encoded records not yet written; they go to `active.offset`.
    buf: Vec<u8>,
    /// Where the last record in `buf` starts (it gets the batch-end flag before the write).
    last_in_buf: usize,
    /// Completions of the current batch, in sequence order.
    acks: Vec<(PendingAck, Seq)>,
    batch_bytes: u64,
    /// A request pulled from the queue that did not fit in the current batch.
    carry: Option<Request>,
    /// When the last fdatasync started (sync pacing, `min_sync_interval`).
    last_sync: Option<Instant>,
    marker: Option<Marker>,
    /// Prepares the next segment in the background.
    spares: SparePreparer,
    shared: Arc<Shared>,
}

impl Writer {
    /// Prepares the writer at the recovered append point, creating a segment when there is none
    /// (or when the last one was created with a smaller torn window than this configuration's
    /// batches need), and syncs what recovery found so nothing builds on unsynced data.
    pub fn new(
        cfg: JournalConfig,
        point: Option<AppendPoint>,
        shared: Arc<Shared>,
    ) -> Result<Writer, JournalError> {
        let (active, next_seq) = resume(&cfg, point)?;
        let marker = if cfg.sync.simulates_power_loss() { Some(Marker::open(&cfg.dir)?) } else { None };
        if let Some(m) = &marker {
            m.record(active.first_seq, active.offset)?;
        }
        shared.counters.set_last_seq(next_seq - 1);
        let buf = Vec::with_capacity(cfg.max_batch_bytes);
        let spares = SparePreparer::start(cfg.dir.clone(), cfg.segment_bytes)?;
        Ok(Writer {
            spares,
            cfg,
            active,
            next_seq,
            buf,
            last_in_buf: 0,
            acks: Vec::new(),
            batch_bytes: 0,
            carry: None,
            last_sync: None,
            marker,
            shared,
        })
    }

    /// The thread body: batches until shutdown, disconnection or failure.
    pub fn run(mut self, rx: &Receiver<Request>) {
        loop {
            let first = match self.carry.take() {
                Some(r) => r,
                None => match rx.recv() {
                    Ok(r) => r,
                    Err(_) => return,
                },
            };
            let outcome = self
                .gather(first, rx)
                .and_then(|stop| if stop { Ok(stop) } else { self.pace(rx) })
                .and_then(|stop| self.commit().map(|()| stop));
            match outcome {
                Ok(false) => {}
                Ok(true) => return self.drain_closed(rx),
                Err(e) => return self.fail(&e, rx),
            }
        }
    }

    /// Sync pacing: when the previous fdatasync started less than `min_sync_interval` ago,
    /// waits out the rest and gathers what arrived meanwhile into the batch (unless it is
    /// already full). Returns true when a shutdown request was reached.
    fn pace(&mut self, rx: &Receiver<Request>) -> Result<bool, JournalError> {
        let interval = self.cfg.min_sync_interval;
        let Some(last) = self.last_sync else { return Ok(false) };
        if interval.is_zero() || self.carry.is_some() {
            return Ok(false);
        }
        let due = last + interval;
        let now = Instant::now();
        if due <= now {
            return Ok(false);
        }
        std::thread::sleep(due - now);
        self.shared.counters.paced();
        match rx.try_recv() {
            Ok(next) => self.gather(next, rx),
            Err(_) => Ok(false),
        }
    }

    /// Adds `first` and whatever else is queued, up to the batch limits. Returns true when a
    /// shutdown request was reached.
    fn gather(&mut self, first: Request, rx: &Receiver<Request>) -> Result<bool, JournalError> {
        let mut next = first;
        loop {
            let Request::Append { record_type, payload, ack } = next else { return Ok(true) };
            if self.batch_full(payload.len()) {
                self.carry = Some(Request::Append { record_type, payload, ack });
                return Ok(false);
            }
            if let Err(e) = self.make_room(payload.len()) {
                // Keep the request so `fail` completes it with the error.
                self.carry = Some(Request::Append { record_type, payload, ack });
                return Err(e);
            }
            self.push(record_type, &payload, ack);
            next = match rx.try_recv() {
                Ok(r) => r,
                Err(_) => return Ok(false),
            };
        }
    }

    fn batch_full(&self, payload_len: usize) -> bool {
        let bytes = self.batch_bytes as usize + self.buf.len() + format::record_len(payload_len);
        !self.acks.is_empty()
            && (self.acks.len() >= self.cfg.max_batch_records || bytes > self.cfg.max_batch_bytes)
    }

    /// Rotates to a new segment if a record with this payload does not fit in the active one.
    fn make_room(&mut self, payload_len: usize) -> Result<(), JournalError> {
        let len = format::record_len(payload_len) as u64;
        if self.active.offset + self.buf.len() as u64 + len > self.active.capacity {
            self.rotate()?;
        }
        Ok(())
    }

    /// Encodes one record into the batch buffer (room was made by `make_room`).
    fn push(&mut self, record_type: u16, payload: &[u8], ack: PendingAck) {
        let seq = self.next_seq;
        // Write-side half of the paired assertions (the reader checks the same on every read).
        assert!(self.acks.last().is_none_or(|&(_, prev)| prev + 1 == seq), "journal seq must grow by one");
        if self.active.offset == SEGMENT_HEADER_LEN as u64 && self.buf.is_empty() {
            assert_eq!(seq, self.active.first_seq, "a segment's first record must carry its first seq");
        }
        self.next_seq += 1;
        self.last_in_buf = self.buf.len();
        format::encode_record(&mut self.buf, seq, record_type, payload);
        self.acks.push((ack, seq));
    }

    /// Writes the batch buffer at the append offset with one positional write.
    fn flush_buf(&mut self) -> Result<(), JournalError> {
        if self.buf.is_empty() {
            return Ok(());
        }
        // Every flush is followed by an fdatasync (commit, rotate): its last record ends a batch.
        format::mark_batch_end(&mut self.buf, self.last_in_buf);
        let a = &mut self.active;
        assert!(a.offset + self.buf.len() as u64 <= a.capacity, "journal write past segment end");
        a.file.write_all_at(&self.buf, a.offset).map_err(|e| JournalError::io("write", &a.path, e))?;
        a.offset += self.buf.len() as u64;
        self.batch_bytes += self.buf.len() as u64;
        self.buf.clear();
        Ok(())
    }

    /// fdatasync of the active segment, then the power-loss marker when simulating.
    fn sync(&mut self) -> Result<(), JournalError> {
        let started = Instant::now();
        self.last_sync = Some(started);
        let a = &self.active;
        a.file.sync_data().map_err(|e| JournalError::io("fdatasync", &a.path, e))?;
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.shared.counters.fsync_done(micros);
        match &self.marker {
            Some(m) => m.record(a.first_seq, a.offset),
            None => Ok(()),
        }
    }

    /// Seals the active segment (write + sync what is buffered) and starts the next one from a
    /// prepared spare (or, if none is ready, creates one synchronously). The new
    /// segment's header is made durable by the next fdatasync, before any record in it is
    /// acknowledged; the power-loss marker moves to it only then.
    fn rotate(&mut self) -> Result<(), JournalError> {
        let started = Instant::now();
        self.flush_buf()?;
        self.sync()?;
        self.active = match self.spares.take() {
            Some(spare) => {
                let header = header_for(&self.cfg, self.next_seq);
                let (file, path) = spare::activate(&self.cfg.dir, spare, &header)?;
                Active {
                    file,
                    path,
                    first_seq: self.next_seq,
                    capacity: self.cfg.segment_bytes,
                    offset: SEGMENT_HEADER_LEN as u64,
                }
            }
            None => create(&self.cfg, self.next_seq)?,
        };
        let micros = u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX);
        self.shared.counters.segment_created(micros);
        Ok(())
    }

    /// Makes the batch durable and completes it (in the canary mode, completes it first).
    fn commit(&mut self) -> Result<(), JournalError> {
        if self.acks.is_empty() {
            return Ok(());
        }
        self.flush_buf()?;
        if self.cfg.sync == SyncMode::AckBeforeSync {
            self.complete_batch();
            // The canary's exposure window (acknowledged, not yet durable) is widened on
            // purpose, so a kill under load lands in it nearly always instead of depending on
            // how fast this disk syncs: the crash campaigns must fail with it, every time.
            std::thread::sleep(CANARY_WINDOW);
            return self.sync();
        }
        self.sync()?;
        self.complete_batch();
        Ok(())
    }

    fn complete_batch(&mut self) {
        let last_seq = self.next_seq - 1;
        let records = self.acks.len() as u64;
        self.shared.counters.batch_done(records, self.batch_bytes, last_seq);
        self.batch_bytes = 0;
        self.shared.queued.fetch_sub(self.acks.len(), Ordering::AcqRel);
        for (ack, seq) in self.acks.drain(..) {
            ack.complete(Ok(seq));
        }
    }

    /// Completes everything pending or queued with `Failed` and marks the journal failed.
    fn fail(mut self, e: &JournalError, rx: &Receiver<Request>) {
        let reason = e.to_string();
        tracing::error!(error = %reason, "journal writer failed; refusing further appends");
        *self.shared.failed.lock().expect("journal failure flag poisoned") = Some(reason.clone());
        self.shared.has_failed.store(true, Ordering::Release);
        let failed = || Err(JournalError::Failed { reason: reason.clone() });
        for (ack, _) in self.acks.drain(..) {
            ack.complete(failed());
        }
        for req in self.carry.take().into_iter().chain(rx.try_iter()) {
            if let Request::Append { ack, .. } = req {
                ack.complete(failed());
            }
        }
    }

    /// After shutdown: whatever was queued behind the shutdown request completes with `Closed`.
    fn drain_closed(self, rx: &Receiver<Request>) {
        self.carry.into_iter().chain(rx.try_iter()).for_each(drop);
    }
}

/// Picks the segment to append to after recovery and the next sequence number.
fn resume(cfg: &JournalConfig, point: Option<AppendPoint>) -> Result<(Active, Seq), JournalError> {
    let window = u32::try_from(cfg.max_batch_bytes).expect("validated: max_batch_bytes <= 1 GiB");
    Ok(match point {
        Some(p) if p.header.torn_window >= window => {
            let next = p.header.first_seq + p.records;
            (reopen(p)?, next)
        }
        // The last segment's batches were smaller than ours: start a fresh segment, replacing
        // the last one when it holds nothing (two segments may not share a first seq).
        Some(p) if p.records == 0 => {
            std::fs::remove_file(&p.file.path).map_err(|e| JournalError::io("remove", &p.file.path, e))?;
            (create(cfg, p.header.first_seq)?, p.header.first_seq)
        }
        Some(p) => {
            let next = p.header.first_seq + p.records;
            (create(cfg, next)?, next)
        }
        None => (create(cfg, 1)?, 1),
    })
}

fn header_for(cfg: &JournalConfig, first_seq: Seq) -> SegmentHeader {
    let torn_window = u32::try_from(cfg.max_batch_bytes).expect("validated: max_batch_bytes <= 1 GiB");
    SegmentHeader { first_seq, segment_bytes: cfg.segment_bytes, torn_window }
}

fn create(cfg: &JournalConfig, first_seq: Seq) -> Result<Active, JournalError> {
    let (file, path) = segment::create_segment(&cfg.dir, &header_for(cfg, first_seq))?;
    Ok(Active { file, path, first_seq, capacity: cfg.segment_bytes, offset: SEGMENT_HEADER_LEN as u64 })
}

fn reopen(p: AppendPoint) -> Result<Active, JournalError> {
    let file = segment::open_for_append(&p.file.path)?;
    file.sync_data().map_err(|e| JournalError::io("fdatasync", &p.file.path, e))?;
    let capacity = p.header.segment_bytes;
    Ok(Active { file, path: p.file.path, first_seq: p.header.first_seq, capacity, offset: p.offset })
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;

    /// A failed write completes the batch and everything queued with `Failed`, and marks the
    /// journal failed (the fsyncgate policy: never retry on a page cache we cannot trust).
    #[test]
    fn a_failed_write_fails_the_batch_and_the_journal() {
        let dir = tempfile::tempdir().unwrap();
        let mut cfg = JournalConfig::new(dir.path());
        cfg.segment_bytes = 1 << 20;
        let shared = Arc::new(Shared::default());
        let mut writer = Writer::new(cfg, None, Arc::clone(&shared)).unwrap();
        // Swap in a read-only handle: every write now fails with EBADF.
        writer.active.file = File::open(&writer.active.path).unwrap();
        let (tx, rx) = crossbeam_channel::bounded(8);
        let (done_tx, done_rx) = mpsc::channel();
        for _ in 0..3 {
            let d = done_tx.clone();
            let ack = PendingAck::new(Box::new(move |r| d.send(r).unwrap()));
            tx.send(Request::Append { record_type: 1, payload: vec![1; 10], ack }).unwrap();
        }
        drop(tx);
        writer.run(&rx);
        let results: Vec<_> = done_rx.try_iter().collect();
        assert_eq!(results.len(), 3);
        assert!(results.iter().all(|r| matches!(r, Err(JournalError::Failed { .. }))), "{results:?}");
        assert!(shared.failure().is_some_and(|r| r.contains("write")));
    }
}
