//! The journal's error type: one documented variant per cause.
//!
//! Callers branch on `Full` (apply backpressure), `Closed` (the journal was shut down),
//! `Failed` (the writer hit an I/O error and refuses further writes) and `Corrupt` (an operator
//! must look at the named segment and offset). Everything else is an I/O or usage error.

use std::path::PathBuf;

/// Why a journal operation failed.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The bounded append queue is full; the caller must slow down (backpressure).
    #[error("journal queue is full")]
    Full,
    /// The journal was shut down (or is shutting down); the record was not written.
    #[error("journal is closed")]
    Closed,
    /// An earlier write or fdatasync failed. After a failed fdatasync the page cache can no
    /// longer be trusted, so the writer stops and every later append fails with this error.
    #[error("journal writer failed earlier: {reason}")]
    Failed {
        /// The first error the writer hit.
        reason: String,
    },
    /// An operating-system I/O error on `path` while doing `op`.
    #[error("journal I/O error: {op} {path}: {source}")]
    Io {
        /// What the journal was doing (open, write, fdatasync, ...).
        op: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// The data on disk is damaged at a place that cannot be a torn tail.
    #[error("journal corrupt: segment {segment} offset {offset}: {reason}")]
    Corrupt {
        /// The segment file holding the damage.
        segment: PathBuf,
        /// Byte offset of the damaged record (or header) inside the segment.
        offset: u64,
        /// What is wrong, in words.
        reason: String,
    },
    /// A record payload exceeds what one segment or one batch can hold.
    #[error("record payload of {len} bytes exceeds the limit of {max} bytes")]
    RecordTooLarge {
        /// Payload length asked for.
        len: usize,
        /// Largest payload the configuration allows.
        max: usize,
    },
    /// A configuration value is out of range.
    #[error("invalid journal config: {key}: {reason}")]
    Config {
        /// The offending field of `JournalConfig`.
        key: &'static str,
        /// Why it is rejected.
        reason: String,
    },
    /// `read_from` asked for records that retention already deleted.
    #[error("records before seq {first_available} were truncated; asked for {requested}")]
    Truncated {
        /// The sequence number asked for.
        requested: u64,
        /// The first sequence number still on disk.
        first_available: u64,
    },
    /// Another open journal (in this or another process) holds the directory.
    #[error("journal directory {dir} is locked by another open journal")]
    Locked {
        /// The journal directory.
        dir: PathBuf,
    },
    /// A payload could not be encoded or decoded by the codec.
    #[error("codec error: {0}")]
    Codec(String),
}

impl JournalError {
    /// Builds an `Io` error; a small helper so call sites stay one line.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        JournalError::Io { op, path: path.into(), source }
    }
}
