//! `switchyard-bench crash`: the crash campaign (see [`crate::crash`]).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;

use crate::crash::{self, CrashSpec};

/// Arguments of `switchyard-bench crash`.
#[derive(Debug, clap::Args)]
pub struct CrashArgs {
    /// Fault cycles (each: SIGKILL, SIGSTOP/SIGCONT or SIGTERM, then restart).
    #[arg(long, default_value_t = 20)]
    cycles: u32,
    /// Seed of the fault schedule; a random one (printed) when omitted.
    #[arg(long)]
    seed: Option<u64>,
    /// The `switchyard` binary; default: `switchyard` next to this executable.
    #[arg(long)]
    switchyard: Option<PathBuf>,
    /// Payments per second across the two participants.
    #[arg(long, default_value_t = 100)]
    rate: u64,
    /// Shortest and longest time under load before a fault, in ms.
    #[arg(long, default_value_t = 100)]
    min_run_ms: u64,
    #[arg(long, default_value_t = 1500)]
    max_run_ms: u64,
    /// The node's `journal.sync`: power-loss-simulation (a kill also drops writes no fdatasync
    /// covered), fdatasync, or the canary ack-before-sync (which must make the campaign fail).
    #[arg(long, default_value = "power-loss-simulation",
          value_parser = ["power-loss-simulation", "fdatasync", "ack-before-sync"])]
    journal_sync: String,
    /// Working directory (kept: logs, data, configuration); a temporary one when omitted.
    #[arg(long)]
    work_dir: Option<PathBuf>,
    /// Share of payments the simulator rejects, in parts per million.
    #[arg(long, default_value_t = 50_000)]
    reject_ppm: u32,
    /// Print only the summary, not one line per cycle.
    #[arg(long)]
    quiet: bool,
    /// Start no new cycle after this many minutes; then settle, check and report the cycles done.
    #[arg(long)]
    max_minutes: Option<u64>,
    /// Transport of the participants and of the clearing link: `tls` (TLS 1.3 over TCP) or `quic`.
    #[arg(long, default_value = "tls", value_parser = |s: &str| s.parse::<crate::client::Transport>())]
    transport: crate::client::Transport,
}

/// Runs `switchyard-bench crash`: exit 0 only if nothing was lost, duplicated, mismatched or stuck.
pub fn run(args: CrashArgs) -> anyhow::Result<ExitCode> {
    let switchyard = match args.switchyard {
        Some(path) => path,
        None => std::env::current_exe().context("locating this executable")?.with_file_name("switchyard"),
    };
    anyhow::ensure!(switchyard.is_file(), "{} not found (use --switchyard)", switchyard.display());
    let seed = args.seed.unwrap_or_else(|| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        now.as_nanos() as u64 ^ u64::from(std::process::id())
    });
    println!("seed: {seed}");
    println!("transport: {}", args.transport);
    let spec = CrashSpec {
        cycles: args.cycles,
        seed,
        rate_per_s: args.rate.max(1),
        min_run_ms: args.min_run_ms,
        max_run_ms: args.max_run_ms,
        journal_sync: args.journal_sync,
        work_dir: args.work_dir,
        reject_ppm: args.reject_ppm.min(1_000_000),
        verbose: !args.quiet,
        time_limit: args.max_minutes.map(|m| Duration::from_secs(m * 60)),
        ready_timeout: Duration::from_secs(60),
        transport: args.transport,
        ..CrashSpec::new(switchyard)
    };
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build()?;
    let report = runtime.block_on(crash::run(&spec))?;
    for line in report.details() {
        println!("{line}");
    }
    println!("{}", report.summary_line());
    Ok(if report.passed() { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
