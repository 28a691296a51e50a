//! `reindex`: throws the state store away and rebuilds it from the journal.
//!
//! The new store is built next to the old one (`<dir>.reindex`) and swapped in with two
//! renames only when it is complete, so a crash during a rebuild leaves the old store in
//! place (or, in the instant between the renames, no store: the next open starts empty and
//! `catch_up` rebuilds it — the store is a projection, nothing is lost). The old store must not
//! be open: its sled lock is checked first and held during the swap.

use std::ffi::OsString;
use std::fs::{self, File};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Instant;

use rustix::fs::{flock, FlockOperation};
use serde::{Deserialize, Serialize};

use crate::state::error::StateError;
use crate::state::store::{StateStore, LOCK_RELEASE_WAIT, LOCK_RETRY, SLED_DATA_FILE};

/// What a rebuild produced.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReindexReport {
    /// Journal records applied.
    pub records: u64,
    /// The journal seq the new store is at.
    pub applied_seq: u64,
    /// Payments in the new store.
    pub payments: u64,
    /// Open payments (the recovery set).
    pub open: u64,
    /// Dead-lettered payments listed.
    pub dlq: u64,
    /// Audit chain length.
    pub audit_entries: u64,
    /// Audit chain head (hex).
    pub audit_head: String,
}

/// Deletes the store in `state_dir` and rebuilds it from the journal in `journal_dir`. Fails
/// with `Locked` if the store is open, and with `Journal(Truncated)` if retention removed
/// records the rebuild would need.
pub fn reindex(state_dir: &Path, journal_dir: &Path) -> Result<ReindexReport, StateError> {
    let _old_lock = lock_existing(state_dir)?;
    let building = sibling(state_dir, ".reindex")?;
    remove_dir_if_present(&building)?;
    let report = match build(&building, journal_dir) {
        Ok(report) => report,
        Err(e) => {
            // A half-built store is of no use to anyone; the old store is untouched.
            let _ = remove_dir_if_present(&building);
            return Err(e);
        }
    };
    swap_in(&building, state_dir)?;
    tracing::info!(records = report.records, applied_seq = report.applied_seq, "state store rebuilt");
    Ok(report)
}

/// A store that could not be opened and was rebuilt by [`open_or_rebuild`].
#[derive(Debug)]
pub struct Rebuilt {
    /// Where the unreadable store was moved (kept for inspection; the operator deletes it).
    pub moved_to: PathBuf,
    /// What sled reported.
    pub reason: String,
    /// The rebuild.
    pub report: ReindexReport,
}

/// Opens the store in `state_dir` (sled's page cache bounded to `cache_bytes`); if sled reports its files corrupt, moves them aside to
/// `<state_dir>.corrupt-<unix ms>` and rebuilds the store from the journal (as [`reindex`]
/// does), then opens that. The journal is the source of truth and the store a projection of
/// it, so a store damaged by a crash (sled 0.34 can leave an unreadable snapshot behind after
/// a kill during snapshot generation) costs a rebuild, never the node's availability or a
/// payment. Any other error (layout version, lock, I/O) is returned unchanged, as is a rebuild
/// that retention made impossible (`Journal(Truncated)`: run `switchyard reindex` with the
/// archived segments restored).
pub fn open_or_rebuild(
    state_dir: &Path,
    journal_dir: &Path,
    cache_bytes: u64,
) -> Result<(StateStore, Option<Rebuilt>), StateError> {
    let reason = match StateStore::open_with_cache(state_dir, cache_bytes) {
        Ok(store) => return Ok((store, None)),
        Err(StateError::Sled { source: source @ sled::Error::Corruption { .. }, .. }) => source.to_string(),
        Err(e) => return Err(e),
    };
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let moved_to = sibling(state_dir, &format!(".corrupt-{}", since.as_millis()))?;
    tracing::error!(
        dir = %state_dir.display(),
        moved_to = %moved_to.display(),
        %reason,
        "state store unreadable; moved aside and rebuilt from the journal"
    );
    fs::rename(state_dir, &moved_to).map_err(|e| StateError::io("rename", state_dir, e))?;
    let report = reindex(state_dir, journal_dir)?;
    let store = StateStore::open_with_cache(state_dir, cache_bytes)?;
    Ok((store, Some(Rebuilt { moved_to, reason, report })))
}

/// Builds a complete store in `dir` and closes it.
fn build(dir: &Path, journal_dir: &Path) -> Result<ReindexReport, StateError> {
    let store = StateStore::open(dir)?;
    let records = store.catch_up(journal_dir)?;
    store.flush()?;
    let counts = store.counts()?;
    let audit = store.verify_audit()?;
    Ok(ReindexReport {
        records,
        applied_seq: counts.applied_seq,
        payments: counts.payments,
        open: counts.open,
        dlq: counts.dlq,
        audit_entries: counts.audit_entries,
        audit_head: audit.head,
    })
}

/// Replaces `target` with `built`: target → `<target>.old`, built → target, drop the old one.
fn swap_in(built: &Path, target: &Path) -> Result<(), StateError> {
    let old = sibling(target, ".old")?;
    remove_dir_if_present(&old)?;
    if target.exists() {
        fs::rename(target, &old).map_err(|e| StateError::io("rename", target, e))?;
    }
    fs::rename(built, target).map_err(|e| StateError::io("rename", built, e))?;
    if let Some(parent) = target.parent().filter(|p| !p.as_os_str().is_empty()) {
        File::open(parent).and_then(|d| d.sync_all()).map_err(|e| StateError::io("fsync dir", parent, e))?;
    }
    remove_dir_if_present(&old)
}

/// Takes sled's lock on an existing store so nobody opens it during the rebuild (waiting
/// briefly for a store that was just closed to let go of it).
fn lock_existing(dir: &Path) -> Result<Option<File>, StateError> {
    let path = dir.join(SLED_DATA_FILE);
    let file = match File::open(&path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(StateError::io("open", &path, e)),
    };
    let deadline = Instant::now() + LOCK_RELEASE_WAIT;
    loop {
        match flock(&file, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => return Ok(Some(file)),
            Err(rustix::io::Errno::WOULDBLOCK) if Instant::now() < deadline => thread::sleep(LOCK_RETRY),
            Err(rustix::io::Errno::WOULDBLOCK) => return Err(StateError::Locked { dir: dir.to_path_buf() }),
            Err(e) => return Err(StateError::io("flock", &path, e.into())),
        }
    }
}

/// `<dir><suffix>` in the same parent directory (so renames stay on one file system).
fn sibling(dir: &Path, suffix: &str) -> Result<PathBuf, StateError> {
    let mut name: OsString = dir.file_name().map(OsString::from).ok_or_else(|| {
        StateError::io(
            "reindex",
            dir,
            std::io::Error::new(std::io::ErrorKind::InvalidInput, "state dir has no name"),
        )
    })?;
    name.push(suffix);
    Ok(dir.with_file_name(name))
}

fn remove_dir_if_present(dir: &Path) -> Result<(), StateError> {
    match fs::remove_dir_all(dir) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(StateError::io("remove_dir_all", dir, e)),
    }
}
