//! Journal configuration and its validation: every bound the journal enforces comes from here.
//!
//! The composition root builds a `JournalConfig` from the operator's TOML; `validate` turns
//! nonsense (a segment too small for one batch, a zero queue) into a `JournalError::Config`
//! before any file is touched.

use std::path::PathBuf;
use std::time::Duration;

use crate::error::JournalError;
use crate::format::{RECORD_HEADER_LEN, SEGMENT_HEADER_LEN};

/// Smallest segment accepted: small segments are useful in tests to force rotation.
pub const MIN_SEGMENT_BYTES: u64 = 4096;
/// Largest segment accepted (record offsets are u32-friendly and recovery reads a segment whole).
pub const MAX_SEGMENT_BYTES: u64 = 1 << 30;
/// Default [`JournalConfig::min_sync_interval`]: at most 2,500 fdatasyncs per second.
pub const DEFAULT_MIN_SYNC_INTERVAL: Duration = Duration::from_micros(400);
/// Largest [`JournalConfig::min_sync_interval`] accepted: it is added to the ACK latency.
pub const MAX_MIN_SYNC_INTERVAL: Duration = Duration::from_millis(10);

/// How the writer makes a batch durable before acknowledging it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SyncMode {
    /// Production: write the batch, `fdatasync` once, then complete every record in the batch.
    #[default]
    Fdatasync,
    /// Tests: like `Fdatasync`, and additionally the writer records the synced length in a
    /// marker file after each fdatasync. Reopening in this mode drops every byte past the
    /// marker, which models a power loss that loses all writes not covered by an fdatasync.
    /// See docs/STORAGE.md, "Power-loss simulation".
    PowerLossSimulation,
    /// The CANARY: like `PowerLossSimulation` but completes records *before* the fdatasync and
    /// the marker update. Never use it outside tests: it exists to prove the crash tests detect
    /// an acknowledgement that is not durable.
    AckBeforeSync,
}

impl SyncMode {
    /// True when the writer maintains the power-loss marker and `open` applies it.
    pub fn simulates_power_loss(self) -> bool {
        matches!(self, SyncMode::PowerLossSimulation | SyncMode::AckBeforeSync)
    }
}

/// Everything `Journal::open` needs. Build with `JournalConfig::new(dir)` and override fields.
#[derive(Debug, Clone)]
pub struct JournalConfig {
    /// Directory holding the segment files; created if missing. One journal per directory.
    pub dir: PathBuf,
    /// Size of each segment file, preallocated at creation. Default 64 MiB.
    pub segment_bytes: u64,
    /// Most records written and synced together in one batch. Default 4096.
    pub max_batch_records: usize,
    /// Most bytes (encoded records) in one batch; also bounds one record. Default 4 MiB.
    pub max_batch_bytes: usize,
    /// Bound on the appends queued or in the batch being written (not yet completed);
    /// `append` returns `Full` beyond it. Default 65536.
    pub queue_capacity: usize,
    /// How batches are made durable. Default `Fdatasync`.
    pub sync: SyncMode,
    /// Group-commit pacing: an fdatasync starts no sooner than this after the previous one
    /// started; records arriving meanwhile join the batch. It bounds the sync rate (400 µs:
    /// at most 2,500/s) and adds at most this much to an ACK, only under load (a record that
    /// finds the writer idle long enough is synced at once). Zero turns pacing off. Default
    /// 400 µs; see docs/STORAGE.md, "Sync pacing".
    pub min_sync_interval: Duration,
}

impl JournalConfig {
    /// A configuration with the documented defaults for `dir`.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        JournalConfig {
            dir: dir.into(),
            segment_bytes: 64 << 20,
            max_batch_records: 4096,
            max_batch_bytes: 4 << 20,
            queue_capacity: 65536,
            sync: SyncMode::Fdatasync,
            min_sync_interval: DEFAULT_MIN_SYNC_INTERVAL,
        }
    }

    /// Largest payload one record may carry under this configuration: the record must fit in
    /// one batch and in an empty segment.
    pub fn max_payload_bytes(&self) -> usize {
        let segment_room = self.segment_bytes.saturating_sub(SEGMENT_HEADER_LEN as u64);
        let room = usize::try_from(segment_room).unwrap_or(usize::MAX).min(self.max_batch_bytes);
        room.saturating_sub(RECORD_HEADER_LEN)
    }

    /// Rejects values the journal cannot honour.
    pub fn validate(&self) -> Result<(), JournalError> {
        let bad = |key, reason: String| Err(JournalError::Config { key, reason });
        if !(MIN_SEGMENT_BYTES..=MAX_SEGMENT_BYTES).contains(&self.segment_bytes) {
            return bad(
                "segment_bytes",
                format!("{} not in {MIN_SEGMENT_BYTES}..={MAX_SEGMENT_BYTES}", self.segment_bytes),
            );
        }
        if self.max_batch_records == 0 {
            return bad("max_batch_records", "must be at least 1".into());
        }
        if self.max_batch_bytes < RECORD_HEADER_LEN + 1 || self.max_batch_bytes > (1 << 30) {
            return bad("max_batch_bytes", format!("{} out of range", self.max_batch_bytes));
        }
        if self.queue_capacity == 0 {
            return bad("queue_capacity", "must be at least 1".into());
        }
        if self.min_sync_interval > MAX_MIN_SYNC_INTERVAL {
            return bad(
                "min_sync_interval",
                format!(
                    "{:?} > {:?} (it is added to acknowledgement latency)",
                    self.min_sync_interval, MAX_MIN_SYNC_INTERVAL
                ),
            );
        }
        Ok(())
    }
}
