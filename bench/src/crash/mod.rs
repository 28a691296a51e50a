//! The crash campaign (`switchyard-bench crash`): the real `switchyard` binary on a real data
//! directory, the clearing simulator as a separate long-lived process, and participants under
//! open-loop load whose ledger of acknowledgements is the oracle. Each cycle waits for progress
//! (a new ACTC), lets the node run a random while, then SIGKILLs it, pauses it (SIGSTOP, then
//! SIGCONT) or stops it with SIGTERM (a drain), and restarts it on the same data directory; one
//! restart in ten is itself killed during start-up (recovery). After the last cycle the load
//! stops, the node settles and stops cleanly, and [`verify`] compares the ledger with the
//! node's state store and the simulator's own record.
//!
//! - [`setup`]: certificates, configuration files, ports;
//! - [`process`]: child processes, readiness, signals;
//! - [`load`]: participants that reconnect after every crash;
//! - [`ledger`]: what the participants were told;
//! - [`verify`]: lost, duplicates, mismatched, stuck.
//!
//! The random schedule comes from one seed, printed first, so a failing run can be replayed
//! (the load's timing is not reproducible, the moments and kinds of faults are).

pub mod ledger;
pub mod load;
pub mod process;
pub mod setup;
pub mod verify;

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rustix::process::Signal;
use tokio_util::sync::CancellationToken;

use self::ledger::{Ledger, LedgerCounts};
use self::process::Proc;
use self::setup::{NodeSettings, Setup};
use self::verify::Verdict;
use crate::client::{ClientSpec, Transport};

/// The pacs.008 the campaign's payments are made from.
pub const TEMPLATE: &[u8] = include_bytes!("../../templates/pacs008.xml");

/// What to run.
#[derive(Debug, Clone)]
pub struct CrashSpec {
    /// The `switchyard` binary.
    pub switchyard: PathBuf,
    pub cycles: u32,
    pub seed: u64,
    /// Payments per second across both participants.
    pub rate_per_s: u64,
    /// Time under load before each fault, drawn uniformly from this range (ms).
    pub min_run_ms: u64,
    pub max_run_ms: u64,
    /// `journal.sync` of the node: `power-loss-simulation` (default: a kill also drops every
    /// write no fdatasync covered), `fdatasync`, or the canary `ack-before-sync`.
    pub journal_sync: String,
    /// Working directory (kept); a temporary directory, removed afterwards, when `None`.
    pub work_dir: Option<PathBuf>,
    /// Bound on one start (recovery included) of the node.
    pub ready_timeout: Duration,
    /// Restart-and-drain rounds after the last cycle until nothing acknowledged is open.
    pub settle_rounds: u32,
    /// Simulator rejections (ppm), so settled and rejected sums differ.
    pub reject_ppm: u32,
    /// Print one line per cycle.
    pub verbose: bool,
    /// Keep the temporary working directory of a failed run (and print where it is).
    pub keep_failed: bool,
    /// Start no new cycle after this long (the campaign then settles and checks as usual, and
    /// reports the cycles it completed); `None`: run all `cycles`.
    pub time_limit: Option<Duration>,
    /// Participants and the clearing link: TLS over TCP, or QUIC.
    pub transport: Transport,
}

impl CrashSpec {
    /// Defaults for `switchyard`: 20 cycles at 100 payments/s.
    #[must_use]
    pub fn new(switchyard: PathBuf) -> Self {
        Self {
            switchyard,
            cycles: 20,
            seed: 0,
            rate_per_s: 100,
            min_run_ms: 100,
            max_run_ms: 1_500,
            journal_sync: "power-loss-simulation".to_owned(),
            work_dir: None,
            ready_timeout: Duration::from_secs(60),
            settle_rounds: 3,
            reject_ppm: 50_000,
            verbose: true,
            keep_failed: true,
            time_limit: None,
            transport: Transport::Tls,
        }
    }
}

/// What a campaign found.
#[derive(Debug, Default, Clone)]
pub struct CrashReport {
    pub seed: u64,
    /// Cycles completed.
    pub cycles: u32,
    pub kills: u32,
    /// Kills during start-up (recovery), on top of one fault per cycle.
    pub startup_kills: u32,
    pub pauses: u32,
    pub terms: u32,
    /// Problems with the node itself: a start that failed, a drain that hung, a bad exit code.
    pub node_failures: Vec<String>,
    pub ledger: LedgerCounts,
    /// Sessions the participants signed on (one per participant per restart, roughly).
    pub sessions: u64,
    pub verdict: Verdict,
    /// UETRs the simulator recorded.
    pub sim_uetrs: u64,
    pub elapsed: Duration,
}

impl CrashReport {
    /// Nothing lost, duplicated, mismatched or stuck, and the node always restarted.
    #[must_use]
    pub fn passed(&self) -> bool {
        let v = &self.verdict;
        v.lost == 0 && v.duplicates == 0 && v.mismatched == 0 && v.stuck == 0 && self.node_failures.is_empty()
    }

    /// The campaign's last line.
    #[must_use]
    pub fn summary_line(&self) -> String {
        let v = &self.verdict;
        format!(
            "cycles: {} lost: {} duplicates: {} mismatched: {} stuck: {}",
            self.cycles, v.lost, v.duplicates, v.mismatched, v.stuck
        )
    }

    /// Everything before the last line: counts and the first problems found.
    #[must_use]
    pub fn details(&self) -> Vec<String> {
        let (l, v) = (&self.ledger, &self.verdict);
        let mut lines = vec![
            format!(
                "faults: {} SIGKILL ({} during start-up), {} SIGSTOP/SIGCONT, {} SIGTERM; {} participant sessions",
                self.kills + self.startup_kills,
                self.startup_kills,
                self.pauses,
                self.terms,
                self.sessions
            ),
            format!(
                "ledger: {} sent, {} acknowledged, {} refused before ACTC, {} final status heard",
                l.sent, l.acked, l.refused, l.final_heard
            ),
            format!(
                "node state of acknowledged: {} settled, {} rejected, {} dead-lettered; simulator recorded {} UETRs",
                v.settled, v.rejected, v.dead_lettered, self.sim_uetrs
            ),
            format!("elapsed: {:.1} s", self.elapsed.as_secs_f64()),
        ];
        lines.extend(self.node_failures.iter().map(|f| format!("node failure: {f}")));
        lines.extend(v.details.iter().cloned());
        lines
    }
}

/// The node process, restarted as the schedule says.
struct Node<'a> {
    spec: &'a CrashSpec,
    setup: &'a Setup,
    proc: Option<Proc>,
    starts: u32,
}

impl Node<'_> {
    fn spawn(&mut self) -> anyhow::Result<Proc> {
        self.starts += 1;
        let config = self.setup.node_config.to_string_lossy().into_owned();
        let canary = if self.spec.journal_sync == "ack-before-sync" { "1" } else { "0" };
        Proc::spawn(
            "switchyard",
            &self.spec.switchyard,
            &["run", "--config", &config],
            &[("SWITCHYARD_ALLOW_CANARY", canary)],
            self.setup.dir.join("node.log"),
        )
    }

    /// Starts the node and waits until it is ready.
    async fn start(&mut self) -> anyhow::Result<()> {
        if self.proc.is_none() {
            let mut proc = self.spawn()?;
            let ready = proc.wait_ready(self.spec.ready_timeout).await;
            self.proc = Some(proc);
            ready.with_context(|| {
                format!("start {} (see {})", self.starts, self.setup.dir.join("node.log").display())
            })?;
        }
        Ok(())
    }

    /// SIGTERM, then wait for the drain; a hang or a non-zero exit is a failure.
    async fn terminate(&mut self) -> Result<(), String> {
        let Some(mut proc) = self.proc.take() else { return Ok(()) };
        proc.signal(Signal::TERM).map_err(|e| e.to_string())?;
        match proc.wait_exit(Duration::from_secs(120)).await {
            Ok(Some(status)) if status.success() => Ok(()),
            Ok(Some(status)) => Err(format!("SIGTERM: exited with {status}")),
            Ok(None) => {
                let _ = proc.kill().await;
                Err("SIGTERM: still draining after 120 s; killed".to_owned())
            }
            Err(e) => Err(e.to_string()),
        }
    }
}

fn client(setup: &Setup, tenant: &str, transport: Transport) -> anyhow::Result<ClientSpec> {
    Ok(ClientSpec {
        addr: setup.node_addr,
        transport,
        server_name: "switchyard-node".to_owned(),
        ca: setup.certs.ca()?,
        identity: Some(setup.certs.identity(tenant)?),
        max_frame_bytes: 1 << 20,
        timeout: Duration::from_secs(10),
    })
}

/// Waits until the ledger shows a new acknowledgement (or `timeout`): faults land under load.
async fn progress(ledger: &Ledger, timeout: Duration) {
    let before = ledger.counts().acked;
    let deadline = tokio::time::Instant::now() + timeout;
    while ledger.counts().acked == before && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Runs a campaign. Progress lines go to stdout when `spec.verbose`.
pub async fn run(spec: &CrashSpec) -> anyhow::Result<CrashReport> {
    let started = Instant::now();
    let temp = tempfile::tempdir().context("creating a working directory")?;
    let dir = spec.work_dir.clone().unwrap_or_else(|| temp.path().to_path_buf());
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let settings = NodeSettings {
        journal_sync: spec.journal_sync.clone(),
        clearing_timeout_ms: 1_000,
        drain_timeout_ms: 20_000,
        credit_window: 64,
        reject_ppm: spec.reject_ppm,
        sim_latency_ms: 2,
        quic: spec.transport == Transport::Quic,
    };
    let setup = setup::write(&dir, &settings)?;
    let mut rng = StdRng::seed_from_u64(spec.seed);
    let mut report = CrashReport { seed: spec.seed, ..CrashReport::default() };

    let sim_config = setup.sim_config.to_string_lossy().into_owned();
    let mut sim = Proc::spawn(
        "clearing-sim",
        &spec.switchyard,
        &["clearing-sim", "--config", &sim_config],
        &[],
        dir.join("clearing-sim.log"),
    )?;
    sim.wait_ready(spec.ready_timeout).await?;

    let ledger = Arc::new(Ledger::default());
    let stop = CancellationToken::new();
    let sessions = Arc::new(AtomicU64::new(0));
    let template = switchyard_iso20022::read_pacs008(TEMPLATE, &switchyard_iso20022::Limits::default())
        .map_err(|e| anyhow::anyhow!("the payment template: {e}"))?;
    let mut participants = Vec::new();
    for (i, tenant) in setup::TENANTS.iter().enumerate() {
        let n = setup::TENANTS.len() as u64;
        let share = spec.rate_per_s / n + u64::from((i as u64) < spec.rate_per_s % n);
        let sender = load::Sender {
            tenant: (*tenant).to_owned(),
            client: client(&setup, tenant, spec.transport)?,
            rate_per_s: share.max(1),
            template: template.clone(),
        };
        participants.push(tokio::spawn(load::participant(
            sender,
            Arc::clone(&ledger),
            stop.clone(),
            spec.seed,
            Arc::clone(&sessions),
        )));
    }

    let mut node = Node { spec, setup: &setup, proc: None, starts: 0 };
    let result = cycles(spec, started, &mut node, &ledger, &mut rng, &mut report).await;
    if let Err(e) = result {
        report.node_failures.push(format!("{e:#}"));
    }
    // Stop the load with the node up, so the last answers can arrive.
    if report.node_failures.is_empty() {
        if let Err(e) = node.start().await {
            report.node_failures.push(format!("{e:#}"));
        }
    }
    stop.cancel();
    for p in participants {
        let _ = p.await;
    }
    report.ledger = ledger.counts();
    report.sessions = sessions.load(Ordering::Relaxed);
    let acked = ledger.acked();
    let state_dir = setup.data_dir.join("state");

    // Settle: drain; if anything acknowledged is still open, restart and drain again.
    let empty = std::collections::HashMap::new();
    for round in 0..spec.settle_rounds.max(1) {
        if !report.node_failures.is_empty() {
            break;
        }
        if round > 0 {
            if let Err(e) = node.start().await {
                report.node_failures.push(format!("settle: {e:#}"));
                break;
            }
        }
        if let Err(e) = node.terminate().await {
            report.node_failures.push(format!("settle: {e}"));
            break;
        }
        let failures = || format!("node failures before the check: {:?}", report.node_failures);
        if verify::check(&acked, &state_dir, &empty).with_context(failures)?.stuck == 0 {
            break;
        }
    }
    if let Some(proc) = node.proc.take() {
        proc.kill().await?;
    }
    sim.signal(Signal::TERM)?;
    if sim.wait_exit(Duration::from_secs(60)).await?.is_none() {
        sim.kill().await?;
    }
    let sim_records = verify::read_sim_stats(&setup.sim_stats)?;
    report.sim_uetrs = sim_records.len() as u64;
    let failures = || format!("node failures before the check: {:?}", report.node_failures);
    report.verdict = verify::check(&acked, &state_dir, &sim_records).with_context(failures)?;
    report.elapsed = started.elapsed();
    if spec.work_dir.is_none() && spec.keep_failed && !report.passed() {
        // Keep the evidence of a failed run: logs, data directory, simulator snapshot.
        println!("working directory kept: {}", temp.keep().display());
    }
    Ok(report)
}

/// The fault cycles.
async fn cycles(
    spec: &CrashSpec,
    started: Instant,
    node: &mut Node<'_>,
    ledger: &Ledger,
    rng: &mut StdRng,
    report: &mut CrashReport,
) -> anyhow::Result<()> {
    for cycle in 1..=spec.cycles {
        if spec.time_limit.is_some_and(|limit| started.elapsed() >= limit) {
            if spec.verbose {
                println!("time limit reached after {} cycles", cycle - 1);
            }
            break;
        }
        if node.proc.is_none() && rng.gen_range(0..10) == 0 {
            let early = node.spawn()?;
            let ms = rng.gen_range(0..400);
            tokio::time::sleep(Duration::from_millis(ms)).await;
            early.kill().await?;
            report.startup_kills += 1;
            if spec.verbose {
                println!("cycle {cycle}: SIGKILL {ms} ms after spawn (start-up)");
            }
        }
        node.start().await?;
        progress(ledger, Duration::from_secs(30)).await;
        let run_ms = rng.gen_range(spec.min_run_ms..=spec.max_run_ms.max(spec.min_run_ms));
        tokio::time::sleep(Duration::from_millis(run_ms)).await;
        let acked = ledger.counts().acked;
        let what = match rng.gen_range(0..100) {
            0..70 => {
                node.proc.take().context("node not running")?.kill().await?;
                report.kills += 1;
                "SIGKILL".to_owned()
            }
            70..85 => {
                let proc = node.proc.as_ref().context("node not running")?;
                let pause = rng.gen_range(100..1_000);
                proc.signal(Signal::STOP)?;
                tokio::time::sleep(Duration::from_millis(pause)).await;
                proc.signal(Signal::CONT)?;
                report.pauses += 1;
                format!("SIGSTOP for {pause} ms, SIGCONT")
            }
            _ => {
                node.terminate().await.map_err(|e| anyhow::anyhow!("cycle {cycle}: {e}"))?;
                report.terms += 1;
                "SIGTERM (drain)".to_owned()
            }
        };
        report.cycles = cycle;
        if spec.verbose {
            println!("cycle {cycle}: {what} after {run_ms} ms under load ({acked} acknowledged so far)");
        }
    }
    Ok(())
}
