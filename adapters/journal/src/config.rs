//! Journal configuration and its validation: every bound the journal enforces comes from here.
//!
//! The composition root builds a `JournalConfig` from the operator's TOML; `validate` turns
//! nonsense (a segment too small for one batch, a zero queue) into a `JournalError::Config`
//! before any file is touched.

use std::path::PathBuf;

use crate::error::JournalError;
use crate::format::{RECORD_HEADER_LEN, SEGMENT_HEADER_LEN};

/// Smallest segment accepted: small segments are useful in tests to force rotation.
pub const MIN_SEGMENT_BYTES: u64 = 4096;
/// Largest segment accepted (record offsets are u32-friendly and recovery reads a segment whole).
pub const MAX_SEGMENT_BYTES: u64 = 1 << 30;

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
        Ok(())
    }
}
