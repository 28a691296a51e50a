//! The power-loss simulation: a marker of what was covered by an fdatasync, and the cut that
//! drops everything else when a journal reopens in `SyncMode::PowerLossSimulation` (or the
//! `AckBeforeSync` canary).
//!
//! Model: after every fdatasync the writer records `(segment first seq, synced length)` in
//! `power-loss.marker`. A SIGKILLed process keeps its page cache, so without this model every
//! written byte would survive a crash test. With it, reopening deletes every segment after the
//! marked one and, in the marked segment, keeps or zeroes each 512-byte sector past the synced
//! length independently: the state of a disk that persisted everything synced plus an
//! arbitrary subset of the unsynced sectors. The cut usually leaves a torn record, holes and
//! stray whole records behind, which recovery must handle. The marker is written after the
//! fdatasync it describes, so a kill between the two loses only data that was never
//! acknowledged (under `Fdatasync` ordering). The marker is not synced: it only has to survive
//! a process kill, not a real power cut.

use std::fs::{self, File, OpenOptions};
use std::io::ErrorKind;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use crate::error::JournalError;
use crate::segment;

/// Name of the marker file inside the journal directory.
pub const MARKER_NAME: &str = "power-loss.marker";
const MAGIC: [u8; 8] = *b"SWYDPLSM";
const MARKER_LEN: usize = 28;
/// The unit a disk persists atomically (or not at all) in this model.
const SECTOR: usize = 512;

/// The writer's handle on the marker file.
#[derive(Debug)]
pub(crate) struct Marker {
    file: File,
    path: PathBuf,
}

impl Marker {
    /// Opens (creating if needed) the marker in `dir`.
    pub fn open(dir: &Path) -> Result<Marker, JournalError> {
        let path = dir.join(MARKER_NAME);
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| JournalError::io("open", &path, e))?;
        Ok(Marker { file, path })
    }

    /// Records that segment `first_seq` is durable up to `synced_len` bytes. One pwrite.
    pub fn record(&self, first_seq: u64, synced_len: u64) -> Result<(), JournalError> {
        let mut b = [0u8; MARKER_LEN];
        b[0..8].copy_from_slice(&MAGIC);
        b[8..16].copy_from_slice(&first_seq.to_le_bytes());
        b[16..24].copy_from_slice(&synced_len.to_le_bytes());
        let crc = crc32c::crc32c(&b[0..24]);
        b[24..28].copy_from_slice(&crc.to_le_bytes());
        self.file.write_all_at(&b, 0).map_err(|e| JournalError::io("write marker", &self.path, e))
    }
}

fn read_marker(dir: &Path) -> Result<Option<(u64, u64)>, JournalError> {
    let path = dir.join(MARKER_NAME);
    let b = match fs::read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(JournalError::io("read marker", &path, e)),
    };
    let bad =
        |reason: &str| JournalError::Corrupt { segment: path.clone(), offset: 0, reason: reason.into() };
    if b.len() < MARKER_LEN || b[0..8] != MAGIC {
        return Err(bad("power-loss marker too short or bad magic"));
    }
    if crc32c::crc32c(&b[0..24]).to_le_bytes() != b[24..28] {
        return Err(bad("power-loss marker CRC mismatch"));
    }
    let first_seq = u64::from_le_bytes(b[8..16].try_into().expect("8 bytes"));
    let synced_len = u64::from_le_bytes(b[16..24].try_into().expect("8 bytes"));
    Ok(Some((first_seq, synced_len)))
}

/// Applies the simulated power loss to `dir`: deletes the segments after the marked one and
/// drops a pseudo-random subset of the unsynced sectors of the marked one. Returns the number
/// of bytes dropped. Without a marker nothing was ever synced in this mode
/// and nothing is dropped (a fresh journal).
pub(crate) fn apply(dir: &Path) -> Result<u64, JournalError> {
    let Some((marked_seq, synced_len)) = read_marker(dir)? else { return Ok(0) };
    let mut dropped = 0;
    for file in segment::list_segments(dir)? {
        if file.first_seq > marked_seq {
            dropped += fs::metadata(&file.path).map_err(|e| JournalError::io("stat", &file.path, e))?.len();
            fs::remove_file(&file.path).map_err(|e| JournalError::io("remove", &file.path, e))?;
        } else if file.first_seq == marked_seq {
            dropped += drop_unsynced(&file.path, synced_len)?;
        }
    }
    segment::sync_dir(dir)?;
    Ok(dropped)
}

/// Drops the unsynced bytes of one segment past `synced_len`, sector by sector: each 512-byte
/// sector of the unsynced region independently either reached the disk before the cut or did
/// not (a pseudo-random choice seeded by the region, so a rerun on the same bytes is the same).
/// Dropped sectors are zeroed. Returns the number of bytes zeroed.
fn drop_unsynced(path: &Path, synced_len: u64) -> Result<u64, JournalError> {
    let buf = segment::read_segment(path)?;
    let from = usize::try_from(synced_len).unwrap_or(usize::MAX).min(buf.len());
    let end = buf[from..].iter().rposition(|&b| b != 0).map_or(from, |i| from + i + 1);
    let mut rng = u64::from(crc32c::crc32c(&buf[from..end])) ^ synced_len ^ 0x9E37_79B9_7F4A_7C15;
    let mut image = buf[from..end].to_vec();
    let mut zeroed = 0u64;
    let mut at = from;
    while at < end {
        let next = (((at / SECTOR) + 1) * SECTOR).min(end);
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        if rng & 1 == 0 {
            image[at - from..next - from].fill(0);
            zeroed += (next - at) as u64;
        }
        at = next;
    }
    if zeroed > 0 {
        segment::write_range(path, from as u64, &image)?;
    }
    Ok(zeroed)
}
