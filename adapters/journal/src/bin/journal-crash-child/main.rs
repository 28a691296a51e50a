//! `journal-crash-child`: the process the crash tests SIGKILL.
//!
//! Usage: `journal-crash-child <dir> <fdatasync|power-loss|ack-before-sync> <run-id> [writers]`.
//! It opens the journal in `<dir>`, prints `open <last_seq>` and then, from several writer
//! threads, appends self-verifying records (see `model.rs`) as fast as the journal accepts
//! them. Every completion prints the acknowledged seq on its own line to stdout *from the
//! completion itself*, so a line on stdout is exactly an acknowledgement the parent may hold the
//! journal to. It never exits on its own before `MAX_RUN` (a bound in case the parent dies).

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use switchyard_journal::{Journal, JournalError};

// Shared with tests/crash.rs, which uses the checking half.
#[allow(dead_code)]
mod model;

/// The child exits by itself after this long, so a crashed parent leaves no orphan running.
const MAX_RUN: Duration = Duration::from_secs(60);
/// Upper bound on one record's body (bytes).
const MAX_BODY: u64 = 1500;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 4 {
        eprintln!(
            "usage: journal-crash-child <dir> <fdatasync|power-loss|ack-before-sync> <run-id> [writers]"
        );
        return ExitCode::from(2);
    }
    let Some(sync) = model::parse_mode(&args[2]) else {
        eprintln!("unknown sync mode {}", args[2]);
        return ExitCode::from(2);
    };
    let run: u32 = args[3].parse().unwrap_or(0);
    let writers: u32 = args.get(4).and_then(|w| w.parse().ok()).unwrap_or(2);
    let (journal, recovery) = match Journal::open(model::crash_config(PathBuf::from(&args[1]), sync)) {
        Ok(opened) => opened,
        Err(e) => {
            eprintln!("open failed: {e}");
            return ExitCode::from(1);
        }
    };
    println!("open {}", recovery.last_seq);
    let threads: Vec<_> = (0..writers)
        .map(|w| {
            let j = journal.clone();
            std::thread::spawn(move || write_loop(&j, run, w))
        })
        .collect();
    for t in threads {
        let _ = t.join();
    }
    ExitCode::SUCCESS
}

fn write_loop(j: &Journal, run: u32, writer: u32) {
    let started = Instant::now();
    let mut rng = u64::from(run) << 32 | u64::from(writer) | 1;
    let mut counter = 0u64;
    while started.elapsed() < MAX_RUN {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let body = u32::try_from(rng % MAX_BODY).unwrap_or(0);
        let p = model::build(run, writer, counter, body);
        match j.append(model::CRASH_RECORD_TYPE, p, Box::new(|r| report_ack(&r))) {
            Ok(()) => counter += 1,
            Err(JournalError::Full) => std::thread::sleep(Duration::from_micros(100)),
            Err(e) => {
                eprintln!("append failed: {e}");
                return;
            }
        }
    }
}

/// Prints the acknowledged seq; one `write` per line so the parent sees it at once.
fn report_ack(r: &Result<u64, JournalError>) {
    if let Ok(seq) = r {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{seq}");
        let _ = out.flush();
    }
}
