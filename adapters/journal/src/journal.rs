//! The `Journal` handle: opening (recovery + writer start), appending with completions or
//! futures, retention, stats and shutdown.
//!
//! The handle is a cheap `Arc` clone that only talks to the writer through the bounded queue:
//! `append` never blocks and never does I/O, so it is safe to call from async code. The queue
//! bound is the journal's backpressure: at the bound `append` returns `Full` and the caller
//! must slow down (invariant 2). A completion is called exactly once if and only if `append`
//! returned `Ok`.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use crossbeam_channel::{SendError, Sender};

use crate::ack::{self, Completion, PendingAck, Seq};
use crate::config::JournalConfig;
use crate::error::JournalError;
use crate::lock;
use crate::power_loss;
use crate::recovery::{self, Recovery};
use crate::segment;
use crate::spare;
use crate::stats::JournalStats;
use crate::writer::{Request, Shared, Writer};

/// A handle on an open journal; clone it freely.
#[derive(Debug, Clone)]
pub struct Journal {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    tx: Sender<Request>,
    shared: Arc<Shared>,
    writer: Mutex<Option<JoinHandle<()>>>,
    max_payload: usize,
    capacity: usize,
    dir: PathBuf,
}

impl Journal {
    /// Opens (or creates) the journal in `cfg.dir`: locks the directory (`Locked` if another
    /// journal has it open), adopts or deletes spare segments, applies the simulated power
    /// loss in the test modes, scans and verifies every segment, cuts a torn tail, refuses
    /// corruption with the segment and offset, and starts the writer thread.
    pub fn open(cfg: JournalConfig) -> Result<(Journal, Recovery), JournalError> {
        cfg.validate()?;
        fs::create_dir_all(&cfg.dir).map_err(|e| JournalError::io("create_dir", &cfg.dir, e))?;
        let dir_lock = lock::lock_dir(&cfg.dir)?;
        spare::adopt_spares(&cfg.dir)?;
        segment::remove_temp_files(&cfg.dir)?;
        if cfg.sync.simulates_power_loss() {
            let dropped = power_loss::apply(&cfg.dir)?;
            tracing::debug!(dropped, "power-loss simulation applied");
        }
        let (recovery, point) = recovery::recover(&cfg.dir)?;
        let shared = Arc::new(Shared::default());
        let (max_payload, capacity, dir) = (cfg.max_payload_bytes(), cfg.queue_capacity, cfg.dir.clone());
        let writer = Writer::new(cfg, point, Arc::clone(&shared))?;
        let (tx, rx) = crossbeam_channel::unbounded();
        let handle = thread::Builder::new()
            .name("journal-writer".into())
            .spawn(move || {
                writer.run(&rx);
                drop(dir_lock); // released only when no more writes can happen
            })
            .map_err(|e| JournalError::io("spawn writer", &dir, e))?;
        let inner = Inner { tx, shared, writer: Mutex::new(Some(handle)), max_payload, capacity, dir };
        tracing::info!(
            records = recovery.records,
            last_seq = recovery.last_seq,
            segments = recovery.segments,
            "journal open"
        );
        Ok((Journal { inner: Arc::new(inner) }, recovery))
    }

    /// Queues one record without blocking. On `Ok`, `done` is called exactly once from the
    /// writer thread: with the record's `Seq` after the batch holding it is fdatasync'ed, or
    /// with an error. On `Err` (`Full`: apply backpressure; `Closed`; `Failed`;
    /// `RecordTooLarge`) `done` is dropped without being called.
    pub fn append(&self, record_type: u16, payload: Vec<u8>, done: Completion) -> Result<(), JournalError> {
        self.check_usable()?;
        if payload.len() > self.inner.max_payload {
            return Err(JournalError::RecordTooLarge { len: payload.len(), max: self.inner.max_payload });
        }
        let queued = &self.inner.shared.queued;
        if queued.fetch_add(1, Ordering::AcqRel) >= self.inner.capacity {
            queued.fetch_sub(1, Ordering::AcqRel);
            drop(done);
            return Err(JournalError::Full);
        }
        let request = Request::Append { record_type, payload, ack: PendingAck::new(done) };
        if let Err(SendError(r)) = self.inner.tx.send(request) {
            queued.fetch_sub(1, Ordering::AcqRel);
            r.disarm();
            return Err(self.check_usable().err().unwrap_or(JournalError::Closed));
        }
        Ok(())
    }

    /// Appends and waits, without blocking a thread, until the record is durable. Returns
    /// `Full` immediately when the queue is full (the caller decides whether to retry).
    pub async fn append_durable(&self, record_type: u16, payload: Vec<u8>) -> Result<Seq, JournalError> {
        let (done, durable) = ack::oneshot();
        self.append(record_type, payload, done)?;
        durable.await
    }

    /// Deletes whole segments whose records all have `seq < before`; the active segment is
    /// never deleted. Returns how many segments were removed. This is the journal's retention
    /// policy: the owner of the state store calls it with its applied (and snapshotted) seq.
    pub fn truncate_before(&self, before: Seq) -> Result<usize, JournalError> {
        let files = segment::list_segments(&self.inner.dir)?;
        let mut removed = 0;
        for pair in files.windows(2) {
            if pair[1].first_seq > before {
                break;
            }
            fs::remove_file(&pair[0].path).map_err(|e| JournalError::io("remove", &pair[0].path, e))?;
            removed += 1;
        }
        if removed > 0 {
            segment::sync_dir(&self.inner.dir)?;
        }
        Ok(removed)
    }

    /// Moves whole segments whose records all have `seq < before` into the `archive/`
    /// subdirectory; the active segment is never moved. Start-up recovery scans only the live
    /// directory, so archiving what the state store has checkpointed keeps start-up time
    /// independent of history, while `read_from`, `verify` and `reindex` still read archived
    /// segments. Returns how many segments were moved.
    pub fn archive_before(&self, before: Seq) -> Result<usize, JournalError> {
        let files = segment::list_segments(&self.inner.dir)?;
        let archive = self.inner.dir.join(segment::ARCHIVE_DIR);
        let mut moved = 0;
        for pair in files.windows(2) {
            if pair[1].first_seq > before {
                break;
            }
            if moved == 0 {
                fs::create_dir_all(&archive).map_err(|e| JournalError::io("create", &archive, e))?;
            }
            let name = pair[0].path.file_name().unwrap_or_default();
            let to = archive.join(name);
            fs::rename(&pair[0].path, &to).map_err(|e| JournalError::io("archive", &pair[0].path, e))?;
            moved += 1;
        }
        if moved > 0 {
            segment::sync_dir(&archive)?;
            segment::sync_dir(&self.inner.dir)?;
        }
        Ok(moved)
    }

    /// Flushes everything queued before this call, syncs it, completes it and joins the writer.
    /// Later appends fail with `Closed`. Idempotent. Returns `Failed` if the writer had failed.
    pub fn shutdown(&self) -> Result<(), JournalError> {
        self.inner.stop()?;
        match self.inner.shared.failure() {
            Some(reason) => Err(JournalError::Failed { reason }),
            None => Ok(()),
        }
    }

    /// Counters for metrics.
    pub fn stats(&self) -> JournalStats {
        self.inner.shared.counters.snapshot(self.inner.tx.len(), self.inner.capacity)
    }

    /// Largest payload `append` accepts under this journal's configuration.
    pub fn max_payload_bytes(&self) -> usize {
        self.inner.max_payload
    }

    /// The journal directory.
    pub fn dir(&self) -> &Path {
        &self.inner.dir
    }

    fn check_usable(&self) -> Result<(), JournalError> {
        if let Some(reason) = self.inner.shared.failure() {
            return Err(JournalError::Failed { reason });
        }
        if self.inner.shared.is_closed() {
            return Err(JournalError::Closed);
        }
        Ok(())
    }
}

impl Inner {
    fn stop(&self) -> Result<(), JournalError> {
        self.shared.closed.store(true, Ordering::Release);
        let handle = self.writer.lock().expect("journal writer handle poisoned").take();
        let Some(handle) = handle else { return Ok(()) };
        // Blocks while the queue is full; the writer is draining it. Fails if it already exited.
        let _ = self.tx.send(Request::Shutdown);
        handle.join().map_err(|_| JournalError::Failed { reason: "journal writer thread panicked".into() })
    }
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Err(e) = self.stop() {
            tracing::error!(error = %e, "journal writer did not stop cleanly");
        }
    }
}
