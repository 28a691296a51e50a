//! The system clock as the actors' [`Clock`] port.

use std::time::{SystemTime, UNIX_EPOCH};

use switchyard_actors::ports::Clock;

/// Reads the operating system's wall clock.
#[derive(Debug, Default, Clone, Copy)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> u64 {
        let since = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
    }

    fn timestamp(&self) -> String {
        humantime::format_rfc3339_millis(SystemTime::now()).to_string()
    }
}
