//! Segment files on disk: naming, listing, creation (preallocated, header synced, renamed into
//! place atomically) and whole-file reads.
//!
//! A segment is named after the first sequence number it holds, `seg-<20 digits>.journal`, so a
//! directory listing sorted by name is the journal in order and `read_from(seq)` can skip whole
//! segments without opening them. A segment is created under a `.tmp` name and renamed only
//! after its header is fdatasync'ed, so a crash during rotation never leaves a segment without
//! a valid header under a final name.

use std::fs::{self, File, OpenOptions};
use std::io::Read;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::error::JournalError;
use crate::format::SegmentHeader;

const PREFIX: &str = "seg-";
const SUFFIX: &str = ".journal";
const TMP_SUFFIX: &str = ".tmp";
/// Chunk size for zero-filling; each chunk is fdatasynced on its own. The journal's own
/// fdatasync queues behind a spare's flush on the same disk: flushing every 8 MiB made the open
/// loop at 50,000 records/s see ~6 slow (> 2.5 ms) syncs a second and ACK p99 8.5 ms; flushing
/// every 1 MiB, ~0.5 a second and ACK p99 1.5–2.1 ms (bench/RESULTS.md §3).
const ZERO_CHUNK: usize = 1 << 20;

/// A segment file found in the journal directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentFile {
    /// First sequence number, parsed from the file name.
    pub first_seq: u64,
    /// Full path of the file.
    pub path: PathBuf,
}

/// The file name of the segment starting at `first_seq`.
pub fn segment_name(first_seq: u64) -> String {
    format!("{PREFIX}{first_seq:020}{SUFFIX}")
}

fn parse_name(name: &str) -> Option<u64> {
    let digits = name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX)?;
    if digits.len() != 20 || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// The subdirectory sealed segments move to when retention archives them: out of the way of
/// start-up recovery (which scans only the live directory), still read by `read_from`,
/// `verify` and `reindex`.
pub const ARCHIVE_DIR: &str = "archive";

/// Lists the archived and the live segments of `dir` together, in sequence order: the whole
/// journal as far as it is retained.
pub fn list_all_segments(dir: &Path) -> Result<Vec<SegmentFile>, JournalError> {
    let archive = dir.join(ARCHIVE_DIR);
    let mut segments = if archive.is_dir() { list_segments(&archive)? } else { Vec::new() };
    segments.extend(list_segments(dir)?);
    segments.sort_by_key(|s| s.first_seq);
    Ok(segments)
}

/// Lists the segments of `dir`, sorted by first sequence number. Other files are ignored.
pub fn list_segments(dir: &Path) -> Result<Vec<SegmentFile>, JournalError> {
    let entries = fs::read_dir(dir).map_err(|e| JournalError::io("read_dir", dir, e))?;
    let mut segments = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| JournalError::io("read_dir", dir, e))?;
        let name = entry.file_name();
        if let Some(first_seq) = name.to_str().and_then(parse_name) {
            segments.push(SegmentFile { first_seq, path: entry.path() });
        }
    }
    segments.sort_by_key(|s| s.first_seq);
    Ok(segments)
}

/// Removes leftovers of a segment creation interrupted by a crash.
pub fn remove_temp_files(dir: &Path) -> Result<(), JournalError> {
    let entries = fs::read_dir(dir).map_err(|e| JournalError::io("read_dir", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| JournalError::io("read_dir", dir, e))?;
        let name = entry.file_name();
        let is_tmp = name.to_str().is_some_and(|n| n.starts_with(PREFIX) && n.ends_with(TMP_SUFFIX));
        if is_tmp {
            let path = entry.path();
            fs::remove_file(&path).map_err(|e| JournalError::io("remove", &path, e))?;
        }
    }
    Ok(())
}

/// Bytes read per call by [`read_segment`].
const READ_CHUNK: usize = 256 * 1024;

/// Reads a whole segment file into memory (segments are bounded by `MAX_SEGMENT_BYTES`).
///
/// Segments are preallocated and mostly zeros until written, so the buffer starts zeroed
/// (`calloc`: untouched pages take no memory) and only chunks holding a non-zero byte are
/// copied in. A fresh 64 MiB live segment then costs a few pages instead of 64 MiB of RSS at
/// recovery, and the allocation is returned to the system when dropped. The bytes are the
/// file's bytes either way.
pub fn read_segment(path: &Path) -> Result<Vec<u8>, JournalError> {
    let mut file = File::open(path).map_err(|e| JournalError::io("open", path, e))?;
    let len = file.metadata().map_err(|e| JournalError::io("stat", path, e))?.len();
    let len = usize::try_from(len).map_err(|_| {
        JournalError::io("read", path, std::io::Error::other("segment larger than the address space"))
    })?;
    let mut buf = vec![0_u8; len];
    let mut chunk = vec![0_u8; READ_CHUNK];
    let mut at = 0;
    loop {
        let n = match file.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(JournalError::io("read", path, e)),
        };
        if at + n > buf.len() {
            buf.resize(at + n, 0); // the file grew while being read: keep reading to its end
        }
        if chunk[..n].iter().any(|&b| b != 0) {
            buf[at..at + n].copy_from_slice(&chunk[..n]);
        }
        at += n;
    }
    buf.truncate(at);
    Ok(buf)
}

/// Creates, preallocates and syncs a new segment, then renames it into place and syncs the
/// directory. Returns the open file, ready for writes after the header. This is the
/// synchronous path (first segment, fallback): it only reserves the space, so opening a new
/// journal stays fast; rotation normally takes a zero-filled spare (`spare.rs`).
pub fn create_segment(dir: &Path, header: &SegmentHeader) -> Result<(File, PathBuf), JournalError> {
    let path = dir.join(segment_name(header.first_seq));
    let tmp = dir.join(format!("{}{TMP_SUFFIX}", segment_name(header.first_seq)));
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(true)
        .open(&tmp)
        .map_err(|e| JournalError::io("create", &tmp, e))?;
    reserve(&file, &tmp, header.segment_bytes)?;
    file.write_all_at(&header.encode(), 0).map_err(|e| JournalError::io("write header", &tmp, e))?;
    file.sync_all().map_err(|e| JournalError::io("fsync", &tmp, e))?;
    fs::rename(&tmp, &path).map_err(|e| JournalError::io("rename", &path, e))?;
    sync_dir(dir)?;
    Ok((file, path))
}

/// Opens an existing segment for appending.
pub fn open_for_append(path: &Path) -> Result<File, JournalError> {
    OpenOptions::new().read(true).write(true).open(path).map_err(|e| JournalError::io("open", path, e))
}

/// Reserves `len` bytes of disk for `file` with fallocate (one contiguous reservation where
/// the file system can); where fallocate is unsupported, writes zeros instead.
pub fn reserve(file: &File, path: &Path, len: u64) -> Result<(), JournalError> {
    match rustix::fs::fallocate(file, rustix::fs::FallocateFlags::empty(), 0, len) {
        Ok(()) => Ok(()),
        Err(e) => {
            tracing::debug!(path = %path.display(), error = %e, "fallocate unsupported; writing zeros");
            zero_fill(file, path, len, &AtomicBool::new(false), Duration::ZERO).map(|_| ())
        }
    }
}

/// Writes zeros over `[0, len)` so every block is already *written*: an fdatasync after
/// appending into written blocks flushes only data, while into fallocated-but-unwritten blocks
/// it must also commit the extent conversion to the file system journal (measurably slower,
/// and queued behind other processes' metadata). Syncs every `ZERO_CHUNK` (1 MiB) so each
/// flush is small (the writer's fdatasync waits behind it), and pauses `pace` after each chunk
/// so a background fill never holds a core (or the disk queue) for long on a small machine.
/// Stops early, returning `false`, when `abort` is set.
pub fn zero_fill(
    file: &File,
    path: &Path,
    len: u64,
    abort: &AtomicBool,
    pace: Duration,
) -> Result<bool, JournalError> {
    let zeros = vec![0u8; ZERO_CHUNK];
    let mut at = 0u64;
    while at < len {
        if abort.load(Ordering::Relaxed) {
            return Ok(false);
        }
        let n = usize::try_from(len - at).unwrap_or(ZERO_CHUNK).min(ZERO_CHUNK);
        file.write_all_at(&zeros[..n], at).map_err(|e| JournalError::io("zero fill", path, e))?;
        at += n as u64;
        file.sync_data().map_err(|e| JournalError::io("fdatasync", path, e))?;
        if !pace.is_zero() {
            std::thread::sleep(pace);
        }
    }
    Ok(true)
}

/// fsyncs a directory so a create, rename or unlink inside it is durable.
pub fn sync_dir(dir: &Path) -> Result<(), JournalError> {
    let d = File::open(dir).map_err(|e| JournalError::io("open dir", dir, e))?;
    d.sync_all().map_err(|e| JournalError::io("fsync dir", dir, e))
}

/// Writes zeros over `[from, to)` of a segment and syncs it: used to erase a torn tail so a
/// later, shorter write cannot leave stale bytes behind it.
pub fn zero_range(path: &Path, from: u64, to: u64) -> Result<(), JournalError> {
    let file = open_for_append(path)?;
    let zeros = vec![0u8; ZERO_CHUNK];
    let mut at = from;
    while at < to {
        let n = usize::try_from(to - at).unwrap_or(ZERO_CHUNK).min(ZERO_CHUNK);
        file.write_all_at(&zeros[..n], at).map_err(|e| JournalError::io("zero tail", path, e))?;
        at += n as u64;
    }
    file.sync_data().map_err(|e| JournalError::io("fdatasync", path, e))
}

/// Overwrites `bytes` at `offset` of a segment and syncs it (the power-loss simulation's cut).
pub fn write_range(path: &Path, offset: u64, bytes: &[u8]) -> Result<(), JournalError> {
    let file = open_for_append(path)?;
    file.write_all_at(bytes, offset).map_err(|e| JournalError::io("write", path, e))?;
    file.sync_data().map_err(|e| JournalError::io("fdatasync", path, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_sort_in_sequence_order_and_parse_back() {
        assert_eq!(parse_name(&segment_name(1)), Some(1));
        assert_eq!(parse_name(&segment_name(u64::MAX)), Some(u64::MAX));
        assert!(segment_name(9) < segment_name(10));
        assert_eq!(parse_name("seg-1.journal"), None);
        assert_eq!(parse_name("seg-00000000000000000001.journal.tmp"), None);
    }
}
