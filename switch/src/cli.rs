//! Offline operator commands that read files: `validate`, `journal verify`. Each prints one
//! line per finding, names files and offsets, and returns the process exit code.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use switchyard_iso20022::{validate_any, Limits};

/// `switchyard validate FILE...`: `FILE: valid <msg def> <message id>` or
/// `FILE: invalid <REASON> <path>: <detail>`; exit 0 only if every file is valid.
#[must_use]
pub fn validate(files: &[PathBuf]) -> ExitCode {
    let limits = Limits::default();
    let mut all_valid = true;
    for file in files {
        let line = match std::fs::read(file) {
            Err(e) => {
                all_valid = false;
                format!("{}: unreadable: {e}", file.display())
            }
            Ok(bytes) => match validate_any(&bytes, &limits) {
                Ok(summary) => format!("{}: valid {} {}", file.display(), summary.msg_def, summary.msg_id),
                Err(e) => {
                    all_valid = false;
                    format!("{}: invalid {} {}: {}", file.display(), e.code.as_str(), e.path, e.detail)
                }
            },
        };
        println!("{line}");
    }
    if all_valid {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

/// `switchyard journal verify --data DIR`.
#[must_use]
pub fn journal_verify(data: &Path) -> ExitCode {
    let dir = data.join("journal");
    let report = switchyard_journal::verify(&dir);
    for segment in &report.segments {
        println!(
            "{}: first seq {}, {} records, {} bytes used",
            segment.path.display(),
            segment.first_seq,
            segment.records,
            segment.bytes_used
        );
    }
    if let Some(torn) = &report.torn_tail {
        println!("torn tail (unacknowledged, cut on open): {torn:?}");
    }
    match &report.problem {
        None => {
            println!(
                "journal {}: ok, {} records, last seq {}",
                dir.display(),
                report.records,
                report.last_seq
            );
            ExitCode::SUCCESS
        }
        Some(p) => {
            println!(
                "journal {}: CORRUPT at {} offset {}: {} ({} valid records before it)",
                dir.display(),
                p.segment.display(),
                p.offset,
                p.reason,
                report.records
            );
            ExitCode::FAILURE
        }
    }
}
