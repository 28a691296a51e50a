//! Standard output of the offline commands. A reader that goes away early
//! (`switchyard validate *.xml | head -1`) ends the output quietly instead of panicking like
//! `println!`; any other write failure is reported once on stderr. Either way the command
//! learns it through [`closed`] and exits non-zero (its output is incomplete).

use std::io::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};

static CLOSED: AtomicBool = AtomicBool::new(false);

/// Writes `text` to stdout (flushing it), unless stdout already failed.
pub fn text(text: std::fmt::Arguments<'_>) {
    if closed() {
        return;
    }
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(text).and_then(|()| out.flush()) {
        CLOSED.store(true, Ordering::Relaxed);
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("stdout: {e}");
        }
    }
}

/// Whether a write to stdout failed (the reader closed it, or the disk is full).
#[must_use]
pub fn closed() -> bool {
    CLOSED.load(Ordering::Relaxed)
}

/// `println!` for the offline commands: see [`text`].
#[macro_export]
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::out::text(format_args!("{}\n", format_args!($($arg)*)))
    };
}
