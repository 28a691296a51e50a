//! Spare segments: a background thread prepares the next segment file (preallocated and
//! zero-filled, synced, its name synced in the directory) while the active one fills, so that
//! rotation on the writer thread is one 64-byte header write and one rename.
//!
//! A spare is named `spare-<unique>.tmp` and has an all-zero header until the writer takes it:
//! the writer writes the real header (first seq) at offset 0 and renames it to its segment name
//! without waiting for the directory fsync. The rename's durability does not matter: the header
//! is data of the file and is made durable by the same fdatasync as the segment's first batch,
//! before any record in it is acknowledged, and `adopt_spares` (run first at open) renames a
//! spare that carries a valid header to its segment name — it is a segment whose rename did not
//! reach the disk. A spare with a zero or invalid header never held an acknowledged record
//! and is deleted.
//!
//! Limits: exactly one spare is prepared ahead (a zero-capacity hand-off); on shutdown the thread
//! is told to stop, abandons a half-filled spare within one 1 MiB chunk and deletes it.

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crossbeam_channel::{Receiver, Sender};

use crate::error::JournalError;
use crate::format::{SegmentHeader, SEGMENT_HEADER_LEN};
use crate::segment::{self, segment_name};

const PREFIX: &str = "spare-";
const SUFFIX: &str = ".tmp";
/// Pause after each 1 MiB of zeros: a 64 MiB spare takes about 0.1 s of wall time, far less than
/// a segment takes to fill at 100 MB/s, while the writer and its callers keep the CPU.
const ZERO_FILL_PACE: Duration = Duration::from_millis(1);

/// A prepared segment file, header still zero.
#[derive(Debug)]
pub(crate) struct Spare {
    pub file: File,
    pub path: PathBuf,
}

/// The writer's handle on the preparing thread.
#[derive(Debug)]
pub(crate) struct SparePreparer {
    ready: Option<Receiver<Spare>>,
    abort: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl SparePreparer {
    /// Starts preparing spares of `segment_bytes` in `dir`.
    pub fn start(dir: PathBuf, segment_bytes: u64) -> Result<SparePreparer, JournalError> {
        // Zero capacity: a ready spare stays with the preparer (blocked in `send`) until the
        // writer takes it, so dropping the receiver always hands it back for deletion.
        let (tx, rx) = crossbeam_channel::bounded(0);
        let abort = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&abort);
        let handle = thread::Builder::new()
            .name("journal-spare".into())
            .spawn(move || prepare_loop(&dir, segment_bytes, &tx, &flag))
            .map_err(|e| JournalError::io("spawn spare preparer", PathBuf::new(), e))?;
        Ok(SparePreparer { ready: Some(rx), abort, handle: Some(handle) })
    }

    /// The ready spare, without waiting: `None` if it is still being zero-filled (or the
    /// preparer failed), and the caller creates a segment itself. Rotation never waits for a
    /// zero-fill; the spare in progress serves the next rotation.
    pub fn take(&self) -> Option<Spare> {
        self.ready.as_ref()?.try_recv().ok()
    }
}

impl Drop for SparePreparer {
    fn drop(&mut self) {
        self.abort.store(true, Ordering::Relaxed);
        drop(self.ready.take()); // a preparer blocked in `send` gets its spare back and deletes it
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

fn prepare_loop(dir: &Path, segment_bytes: u64, tx: &Sender<Spare>, abort: &AtomicBool) {
    let stamp = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    for n in 0u64.. {
        let path = dir.join(format!("{PREFIX}{stamp}-{n}{SUFFIX}"));
        match prepare(dir, &path, segment_bytes, abort) {
            Ok(Some(file)) => {
                if let Err(e) = tx.send(Spare { file, path }) {
                    remove_quietly(&e.into_inner().path);
                    return;
                }
            }
            Ok(None) => return remove_quietly(&path),
            Err(e) => {
                tracing::warn!(error = %e, "journal spare preparation failed; rotation will create segments itself");
                return remove_quietly(&path);
            }
        }
    }
}

/// Creates one spare; `None` when aborted.
fn prepare(
    dir: &Path,
    path: &Path,
    segment_bytes: u64,
    abort: &AtomicBool,
) -> Result<Option<File>, JournalError> {
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| JournalError::io("create spare", path, e))?;
    segment::reserve(&file, path, segment_bytes)?;
    if !segment::zero_fill(&file, path, segment_bytes, abort, ZERO_FILL_PACE)? {
        return Ok(None);
    }
    file.sync_all().map_err(|e| JournalError::io("fsync", path, e))?;
    segment::sync_dir(dir)?; // also makes earlier renames durable, off the writer's path
    Ok(Some(file))
}

fn remove_quietly(path: &Path) {
    if let Err(e) = fs::remove_file(path) {
        tracing::debug!(path = %path.display(), error = %e, "could not remove spare");
    }
}

/// Turns a spare into the segment starting at `header.first_seq`: writes the header and
/// renames it. Neither is synced here (see the module comment).
pub(crate) fn activate(
    dir: &Path,
    spare: Spare,
    header: &SegmentHeader,
) -> Result<(File, PathBuf), JournalError> {
    spare
        .file
        .write_all_at(&header.encode(), 0)
        .map_err(|e| JournalError::io("write header", &spare.path, e))?;
    let path = dir.join(segment_name(header.first_seq));
    fs::rename(&spare.path, &path).map_err(|e| JournalError::io("rename", &path, e))?;
    Ok((spare.file, path))
}

/// At open: renames spares that carry a valid header to their segment names and deletes the
/// others. Returns how many were adopted.
pub(crate) fn adopt_spares(dir: &Path) -> Result<usize, JournalError> {
    let mut adopted = 0;
    let mut changed = false;
    for path in list_spares(dir)? {
        changed = true;
        let mut head = [0u8; SEGMENT_HEADER_LEN];
        let header = File::open(&path)
            .and_then(|f| f.read_exact_at(&mut head, 0))
            .ok()
            .and_then(|()| SegmentHeader::decode(&head).ok());
        let Some(header) = header else {
            fs::remove_file(&path).map_err(|e| JournalError::io("remove spare", &path, e))?;
            continue;
        };
        let target = dir.join(segment_name(header.first_seq));
        if target.exists() {
            let reason =
                format!("spare {} claims seq {}, whose segment exists", path.display(), header.first_seq);
            return Err(JournalError::Corrupt { segment: path, offset: 0, reason });
        }
        fs::rename(&path, &target).map_err(|e| JournalError::io("rename", &target, e))?;
        tracing::warn!(segment = %target.display(), "adopted a segment whose rename was not durable");
        adopted += 1;
    }
    if changed {
        segment::sync_dir(dir)?;
    }
    Ok(adopted)
}

fn list_spares(dir: &Path) -> Result<Vec<PathBuf>, JournalError> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| JournalError::io("read_dir", dir, e))? {
        let entry = entry.map_err(|e| JournalError::io("read_dir", dir, e))?;
        let is_spare =
            entry.file_name().to_str().is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(SUFFIX));
        if is_spare {
            out.push(entry.path());
        }
    }
    Ok(out)
}
