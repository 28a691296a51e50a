//! `switchyard-journal`: the write-ahead journal, Switchyard's source of truth.
//!
//! Records are appended to preallocated segment files by one dedicated writer thread that
//! batches them (group commit), writes each batch with one `pwrite`, calls fdatasync once per
//! batch and only then completes the callers' acknowledgements. Nothing is acknowledged before
//! it is durable (invariant 1); the append queue is bounded and answers `Full` at its bound
//! (invariant 2). On open the journal scans every segment, verifies every CRC and the sequence
//! continuity, cuts a torn tail and refuses corruption naming the segment and byte offset.
//!
//! The byte format, recovery rules and sync modes are documented in docs/STORAGE.md; the
//! format lives in `format`, the payload codec (the project's only use of bincode) in `codec`.
//!
//! Module map: `config` (limits), `format` (bytes on disk), `segment` (files), `spare` (the
//! next segment, prepared in the background), `scan` (classifying the end of data),
//! `recovery` (open-time scan and cut), `writer` (the thread), `journal` (the handle), `lock`
//! (one writer per directory), `ack` (completions), `reader` and `verify` (read-only access),
//! `power_loss` (the crash-test model), `stats` (metrics), `codec` (payload encoding),
//! `state` (the sled state store: a projection of the journal with the audit chain).
//!
//! Entry points: `Journal::open` → `Journal::append` / `append_durable` → `Journal::shutdown`;
//! `read_from` for replay from an applied seq; `verify` for `switchyard journal verify`;
//! `Journal::truncate_before` for retention; `state::StateStore` (`apply`, `catch_up`, queries)
//! and `state::reindex` for the sled projection.

mod ack;
pub mod codec;
mod config;
mod error;
mod format;
mod journal;
mod lock;
mod power_loss;
mod reader;
mod recovery;
mod scan;
mod segment;
mod spare;
pub mod state;
mod stats;
mod verify;
mod writer;

pub use ack::{Completion, Seq};
pub use config::{
    JournalConfig, SyncMode, DEFAULT_MIN_SYNC_INTERVAL, MAX_MIN_SYNC_INTERVAL, MAX_SEGMENT_BYTES,
    MIN_SEGMENT_BYTES,
};
pub use error::JournalError;
pub use format::{FORMAT_VERSION, RECORD_HEADER_LEN, RECORD_VERSION, SEGMENT_HEADER_LEN};
pub use journal::Journal;
pub use lock::LOCK_NAME;
pub use power_loss::MARKER_NAME as POWER_LOSS_MARKER;
pub use reader::{read_all, read_from, Record, RecordIter};
pub use recovery::Recovery;
pub use scan::TornTail;
pub use segment::segment_name;
pub use stats::{JournalStats, BATCH_BUCKETS, FSYNC_BUCKETS_MICROS};
pub use verify::{verify, Problem, SegmentReport, VerifyReport};
