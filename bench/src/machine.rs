//! What machine a run was measured on, and from which source revision, for JSON reports.

use serde::Serialize;

/// The machine and build of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// Logical CPUs of the machine (/proc/cpuinfo `processor` lines).
    pub cores: usize,
    /// Logical CPUs this process may run on (fewer when the generator is pinned).
    pub generator_cores: usize,
    /// `model name` from /proc/cpuinfo ("unknown" elsewhere).
    pub cpu_model: String,
    /// `MemTotal` from /proc/meminfo, bytes (0 when unknown).
    pub memory_bytes: u64,
    /// /proc/sys/kernel/osrelease ("unknown" elsewhere).
    pub kernel: String,
    /// 1-minute load average when the report was written (other work on the machine).
    pub load_average_1m: Option<f64>,
    /// `git describe --always --dirty` at build time, or "unknown".
    pub git_revision: String,
    /// This binary's version.
    pub bench_version: String,
}

impl Machine {
    /// Reads the machine's description.
    #[must_use]
    pub fn probe() -> Self {
        let read = |path: &str| std::fs::read_to_string(path).unwrap_or_default();
        let cpuinfo = read("/proc/cpuinfo");
        let cpu_model = cpuinfo
            .lines()
            .find(|l| l.starts_with("model name"))
            .and_then(|l| l.split_once(':'))
            .map_or_else(|| "unknown".to_owned(), |(_, v)| v.trim().to_owned());
        let memory_bytes = read("/proc/meminfo")
            .lines()
            .find(|l| l.starts_with("MemTotal:"))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|kb| kb.parse::<u64>().ok())
            .map_or(0, |kb| kb * 1024);
        let kernel = read("/proc/sys/kernel/osrelease").trim().to_owned();
        let load_average_1m = read("/proc/loadavg").split_whitespace().next().and_then(|v| v.parse().ok());
        let available = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
        let listed = cpuinfo.lines().filter(|l| l.starts_with("processor")).count();
        Self {
            cores: if listed == 0 { available } else { listed },
            generator_cores: available,
            cpu_model,
            memory_bytes,
            kernel: if kernel.is_empty() { "unknown".to_owned() } else { kernel },
            load_average_1m,
            git_revision: env!("SWITCHYARD_GIT_REV").to_owned(),
            bench_version: env!("CARGO_PKG_VERSION").to_owned(),
        }
    }
}
