//! The crash campaign (issue 10) against the real `switchyard` binary: child processes for the
//! node and the clearing simulator, SIGKILL / SIGSTOP+SIGCONT / SIGTERM at random moments under
//! load, restarts on the same data directory, and the participants' ledger as the oracle.
//! The long run is `bench/scripts/crash-campaign.sh` (1,000 cycles); see docs/RELIABILITY.md.

use std::path::PathBuf;
use std::time::Duration;

use switchyard_bench::client::Transport;
use switchyard_bench::crash::{self, CrashSpec};

fn spec(cycles: u32, seed: u64) -> CrashSpec {
    CrashSpec {
        cycles,
        seed,
        // Low rate and short cycles: a debug build on a loaded 2-core machine.
        rate_per_s: 40,
        min_run_ms: 50,
        max_run_ms: 600,
        ready_timeout: Duration::from_secs(120),
        verbose: true,
        ..CrashSpec::new(PathBuf::from(env!("CARGO_BIN_EXE_switchyard")))
    }
}

fn seed() -> u64 {
    std::env::var("CRASH_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
        now.as_nanos() as u64
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_crash_cycles_lose_duplicate_mismatch_and_strand_nothing() {
    let seed = seed();
    println!("seed: {seed} (replay with CRASH_SEED={seed})");
    let report = crash::run(&spec(20, seed)).await.unwrap();
    for line in report.details() {
        println!("{line}");
    }
    println!("{}", report.summary_line());
    assert_eq!(report.cycles, 20);
    assert!(report.kills + report.startup_kills > 0, "the schedule killed the node at least once");
    assert!(report.ledger.acked > 0, "payments were acknowledged under the faults");
    assert!(report.passed(), "seed {seed}: {}\n{}", report.summary_line(), report.details().join("\n"));
}

/// The same campaign with the participants and the clearing link on QUIC (fewer cycles: CI
/// time). A QUIC connection cut by SIGKILL or frozen by SIGSTOP ends by idle timeout rather than
/// by RST, and the sessions must come back all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_cycles_over_quic_lose_duplicate_mismatch_and_strand_nothing() {
    let seed = seed();
    println!("seed: {seed} (replay with CRASH_SEED={seed})");
    let report = crash::run(&CrashSpec { transport: Transport::Quic, ..spec(8, seed) }).await.unwrap();
    for line in report.details() {
        println!("{line}");
    }
    println!("{}", report.summary_line());
    assert_eq!(report.cycles, 8);
    assert!(report.ledger.acked > 0, "payments were acknowledged over QUIC under the faults");
    assert!(report.sessions > 2, "the participants' QUIC sessions came back after the faults");
    assert!(report.passed(), "seed {seed}: {}\n{}", report.summary_line(), report.details().join("\n"));
}

/// The journal's canary acknowledges before fdatasync; under the power-loss model a kill in
/// that window drops acknowledged payments, and the campaign must say so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_ack_before_sync_canary_makes_the_campaign_fail() {
    let seed = seed();
    println!("seed: {seed}");
    let report = crash::run(&CrashSpec {
        journal_sync: "ack-before-sync".to_owned(),
        rate_per_s: 200,
        keep_failed: false,
        ..spec(12, seed)
    })
    .await
    .unwrap();
    for line in report.details() {
        println!("{line}");
    }
    println!("{}", report.summary_line());
    assert!(!report.passed(), "seed {seed}: the canary went unnoticed: {}", report.summary_line());
    assert!(
        report.verdict.lost > 0 || !report.node_failures.is_empty(),
        "the canary shows as lost acknowledged payments (or a node that cannot recover)"
    );
}
