//! What the crash child and the crash checker must agree on: the journal configuration,
//! the sync-mode names on the command line, and the self-verifying payload.
//!
//! Payload layout (little-endian): run id (4), writer id (4), counter (8), body length (4), then the
//! body, whose every byte is a function of those fields. A record whose payload does not
//! rebuild exactly from its own header was damaged or half-read. Shared by the child binary
//! and `tests/crash.rs` through `#[path]`, so both sides use the same definition.

use std::path::PathBuf;

use switchyard_journal::{JournalConfig, SyncMode};

/// The journal configuration of the crash runs: small segments and batches, so rotation and
/// torn batches happen within a short run.
pub fn crash_config(dir: PathBuf, sync: SyncMode) -> JournalConfig {
    let mut c = JournalConfig::new(dir);
    c.segment_bytes = 256 << 10;
    c.max_batch_bytes = 64 << 10;
    c.max_batch_records = 256;
    c.queue_capacity = 1024;
    c.sync = sync;
    c
}

/// The command-line name of each sync mode.
pub fn mode_name(sync: SyncMode) -> &'static str {
    match sync {
        SyncMode::PowerLossSimulation => "power-loss",
        SyncMode::AckBeforeSync => "ack-before-sync",
        _ => "fdatasync",
    }
}

/// Parses a command-line sync mode name.
pub fn parse_mode(s: &str) -> Option<SyncMode> {
    [SyncMode::Fdatasync, SyncMode::PowerLossSimulation, SyncMode::AckBeforeSync]
        .into_iter()
        .find(|m| mode_name(*m) == s)
}

/// Record type the crash child uses.
pub const CRASH_RECORD_TYPE: u16 = 0x5EED;
/// Bytes before the body.
pub const HEADER_LEN: usize = 20;

/// Builds the payload for (`run`, `writer`, `counter`) with a body of `body_len` bytes.
pub fn build(run: u32, writer: u32, counter: u64, body_len: u32) -> Vec<u8> {
    let mut p = Vec::with_capacity(HEADER_LEN + body_len as usize);
    p.extend_from_slice(&run.to_le_bytes());
    p.extend_from_slice(&writer.to_le_bytes());
    p.extend_from_slice(&counter.to_le_bytes());
    p.extend_from_slice(&body_len.to_le_bytes());
    let mut x = seed(run, writer, counter);
    for _ in 0..body_len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        p.push(x as u8);
    }
    p
}

/// Checks that `p` is exactly what `build` makes from its own header. Returns
/// (run, writer, counter) or why it is not.
pub fn check(p: &[u8]) -> Result<(u32, u32, u64), String> {
    if p.len() < HEADER_LEN {
        return Err(format!("payload of {} bytes is shorter than its header", p.len()));
    }
    let run = u32::from_le_bytes(p[0..4].try_into().expect("4 bytes"));
    let writer = u32::from_le_bytes(p[4..8].try_into().expect("4 bytes"));
    let counter = u64::from_le_bytes(p[8..16].try_into().expect("8 bytes"));
    let body_len = u32::from_le_bytes(p[16..20].try_into().expect("4 bytes"));
    if build(run, writer, counter, body_len) != p {
        return Err(format!(
            "payload run {run} writer {writer} counter {counter} does not match its pattern"
        ));
    }
    Ok((run, writer, counter))
}

fn seed(run: u32, writer: u32, counter: u64) -> u64 {
    let s = (u64::from(run) << 40) ^ (u64::from(writer) << 32) ^ counter.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    s | 1
}
