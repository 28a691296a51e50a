//! The state store's error type: one documented variant per cause.
//!
//! Callers branch on `Gap` (records were skipped: run `catch_up`), `Journal` (reading the
//! journal failed, e.g. `Truncated` or `Corrupt`), `Layout` and `Decode` (the store is from
//! another version or damaged: run `reindex`) and `Locked` (the store is open elsewhere).
//! Everything else is a storage or file-system error naming what was being done.

use std::path::PathBuf;

use crate::error::JournalError;

/// Why a state-store operation failed.
#[non_exhaustive]
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// sled failed while doing `op` (open, get, scan, transaction, flush).
    #[error("state store: sled {op} failed: {source}")]
    Sled {
        /// What the store was doing.
        op: &'static str,
        /// The underlying sled error.
        #[source]
        source: sled::Error,
    },
    /// A value in tree `tree` does not decode: the store is damaged or from another version.
    #[error("state store: a value in tree {tree} does not decode: {reason}")]
    Decode {
        /// The sled tree holding the value.
        tree: &'static str,
        /// What the codec said.
        reason: String,
    },
    /// Journal record `seq` cannot be applied: it does not decode or its type disagrees.
    #[error("state store: journal record {seq} cannot be applied: {reason}")]
    Record {
        /// The record's journal sequence number.
        seq: u64,
        /// What is wrong with it.
        reason: String,
    },
    /// `apply` was given a record that is not the next one: the projection would skip facts.
    #[error("state store: applied up to seq {applied}, got seq {got}; records in between are missing (run catch_up)")]
    Gap {
        /// Highest seq already applied.
        applied: u64,
        /// The seq offered.
        got: u64,
    },
    /// Reading the journal failed (I/O, corruption, records removed by retention).
    #[error("state store: reading the journal failed: {0}")]
    Journal(#[from] JournalError),
    /// The store was written with another key/value layout; rebuild it with `reindex`.
    #[error("state store layout version {found} is not {expected}; run reindex")]
    Layout {
        /// Version found in the store.
        found: u32,
        /// Version this build writes.
        expected: u32,
    },
    /// Two indexes disagree (a bug, or a store damaged outside Switchyard); run `reindex`.
    #[error("state store inconsistent: {what}; run reindex")]
    Inconsistent {
        /// Which rows disagree.
        what: String,
    },
    /// A key component is too long to encode (tenant names are limited to 65535 bytes).
    #[error("state store: {what} of {len} bytes is too long for a key")]
    KeyTooLong {
        /// Which component.
        what: &'static str,
        /// Its length in bytes.
        len: usize,
    },
    /// The store directory is in use by an open `StateStore` (here or in another process).
    #[error("state store {dir} is open elsewhere (stop the node first)")]
    Locked {
        /// The store directory.
        dir: PathBuf,
    },
    /// A file-system operation on `path` failed while doing `op` (reindex's directory swap).
    #[error("state store I/O error: {op} {path}: {source}")]
    Io {
        /// What the store was doing.
        op: &'static str,
        /// The file or directory involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
}

impl StateError {
    /// Builds a `Sled` error; keeps call sites to one `map_err`.
    pub(crate) fn sled(op: &'static str) -> impl FnOnce(sled::Error) -> StateError {
        move |source| StateError::Sled { op, source }
    }

    /// Builds an `Io` error.
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StateError::Io { op, path: path.into(), source }
    }
}
