//! Writer counters for metrics: updated by the writer thread with relaxed atomics after every
//! batch, read by `Journal::stats` at any time without locking.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Upper bounds of the batch-size histogram buckets (records per group commit); one more
/// bucket counts larger batches.
pub const BATCH_BUCKETS: [u64; 13] = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096];
/// Upper bounds of the fdatasync latency histogram buckets, microseconds; one more bucket
/// counts slower syncs.
pub const FSYNC_BUCKETS_MICROS: [u64; 12] =
    [50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000];

fn bucket(bounds: &[u64], value: u64) -> usize {
    bounds.iter().position(|b| value <= *b).unwrap_or(bounds.len())
}

/// A snapshot of the journal's counters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct JournalStats {
    /// Records made durable since open.
    pub records: u64,
    /// Batches written since open.
    pub batches: u64,
    /// Encoded bytes written since open.
    pub bytes: u64,
    /// Last durable sequence number (includes records recovered at open).
    pub last_seq: u64,
    /// Records in the most recent batch.
    pub last_batch_records: u64,
    /// fdatasync calls since open.
    pub fsyncs: u64,
    /// Total time spent in fdatasync, microseconds.
    pub fsync_micros_total: u64,
    /// Longest single fdatasync since open, microseconds.
    pub fsync_micros_max: u64,
    /// Longest segment rotation (seal, create or take the next segment) since open, microseconds.
    pub rotate_micros_max: u64,
    /// Records waiting in the append queue right now.
    pub queue_len: u64,
    /// Capacity of the append queue (the configured bound).
    pub queue_capacity: u64,
    /// Segment files created since open.
    pub segments_created: u64,
    /// Batches whose fdatasync waited for `min_sync_interval` (sync pacing) since open.
    pub paced_batches: u64,
    /// Batches per size bucket ([`BATCH_BUCKETS`], then larger); not cumulative.
    pub batch_hist: [u64; 14],
    /// fdatasync calls per latency bucket ([`FSYNC_BUCKETS_MICROS`], then slower); not cumulative.
    pub fsync_hist: [u64; 13],
}

/// The live counters shared between the writer and the handles.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    records: AtomicU64,
    batches: AtomicU64,
    bytes: AtomicU64,
    last_seq: AtomicU64,
    last_batch_records: AtomicU64,
    fsyncs: AtomicU64,
    fsync_micros_total: AtomicU64,
    fsync_micros_max: AtomicU64,
    rotate_micros_max: AtomicU64,
    segments_created: AtomicU64,
    paced_batches: AtomicU64,
    batch_hist: [AtomicU64; 14],
    fsync_hist: [AtomicU64; 13],
}

impl Counters {
    pub fn set_last_seq(&self, seq: u64) {
        self.last_seq.store(seq, Relaxed);
    }

    pub fn batch_done(&self, records: u64, bytes: u64, last_seq: u64) {
        self.records.fetch_add(records, Relaxed);
        self.batches.fetch_add(1, Relaxed);
        self.bytes.fetch_add(bytes, Relaxed);
        self.last_batch_records.store(records, Relaxed);
        self.last_seq.store(last_seq, Relaxed);
        self.batch_hist[bucket(&BATCH_BUCKETS, records)].fetch_add(1, Relaxed);
    }

    pub fn fsync_done(&self, micros: u64) {
        self.fsync_hist[bucket(&FSYNC_BUCKETS_MICROS, micros)].fetch_add(1, Relaxed);
        self.fsyncs.fetch_add(1, Relaxed);
        self.fsync_micros_total.fetch_add(micros, Relaxed);
        self.fsync_micros_max.fetch_max(micros, Relaxed);
    }

    pub fn paced(&self) {
        self.paced_batches.fetch_add(1, Relaxed);
    }

    pub fn segment_created(&self, rotate_micros: u64) {
        self.segments_created.fetch_add(1, Relaxed);
        self.rotate_micros_max.fetch_max(rotate_micros, Relaxed);
    }

    pub fn snapshot(&self, queue_len: usize, queue_capacity: usize) -> JournalStats {
        JournalStats {
            records: self.records.load(Relaxed),
            batches: self.batches.load(Relaxed),
            bytes: self.bytes.load(Relaxed),
            last_seq: self.last_seq.load(Relaxed),
            last_batch_records: self.last_batch_records.load(Relaxed),
            fsyncs: self.fsyncs.load(Relaxed),
            fsync_micros_total: self.fsync_micros_total.load(Relaxed),
            fsync_micros_max: self.fsync_micros_max.load(Relaxed),
            rotate_micros_max: self.rotate_micros_max.load(Relaxed),
            queue_len: queue_len as u64,
            queue_capacity: queue_capacity as u64,
            segments_created: self.segments_created.load(Relaxed),
            paced_batches: self.paced_batches.load(Relaxed),
            batch_hist: std::array::from_fn(|i| self.batch_hist[i].load(Relaxed)),
            fsync_hist: std::array::from_fn(|i| self.fsync_hist[i].load(Relaxed)),
        }
    }
}
