//! The directory lock: one journal writer per directory, across processes and within one.
//!
//! `open` takes an exclusive, non-blocking `flock` on `journal.lock` in the journal directory
//! and the writer thread holds it until it exits. Two writers appending to the same segment
//! would interleave records and break every invariant, so a second `open` fails with
//! `Locked` instead. The kernel drops the lock when the holding process dies, so a crash never
//! leaves a stale lock behind. Readers (`read_all`, `verify`) do not take it.

use std::fs::{File, OpenOptions};
use std::path::Path;

use rustix::fs::{flock, FlockOperation};

use crate::error::JournalError;

/// Name of the lock file inside the journal directory.
pub const LOCK_NAME: &str = "journal.lock";

/// Holds the directory lock while alive.
#[derive(Debug)]
pub(crate) struct DirLock {
    _file: File,
}

/// Takes the exclusive lock on `dir`, or fails with `Locked` if another journal holds it.
pub(crate) fn lock_dir(dir: &Path) -> Result<DirLock, JournalError> {
    let path = dir.join(LOCK_NAME);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| JournalError::io("open lock", &path, e))?;
    match flock(&file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(DirLock { _file: file }),
        Err(rustix::io::Errno::WOULDBLOCK) => Err(JournalError::Locked { dir: dir.to_path_buf() }),
        Err(e) => Err(JournalError::io("flock", &path, e.into())),
    }
}
