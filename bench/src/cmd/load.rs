//! `switchyard-bench load`: one open-loop constant-rate run against a node or the echo
//! baseline, self-hosted or running; prints the percentile table and writes report.json,
//! ack.hgrm, final.hgrm and latency.svg into `--out`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use serde::Serialize;
use switchyard_iso20022::Pacs008;

use crate::loadgen::{self, LiveCounters, LoadOptions, LoadReport, LoadSpec, ParticipantSpec};
use crate::mix::{self, Mix};
use crate::output::{self, RunResults};
use crate::target::{self, Target, TargetArgs};

/// The template every payment is made from unless `--template` names another.
pub const TEMPLATE: &[u8] = include_bytes!("../../templates/pacs008.xml");

/// Generator options shared by `load` and `sweep`.
#[derive(Debug, Clone, clap::Args, Serialize)]
pub struct GeneratorArgs {
    /// Message mix by weight: payment (template pacs.008), large (pacs.008 with long
    /// remittance information), status (pacs.028 about an earlier payment), cancel (camt.056),
    /// invalid (refused by the switch).
    #[arg(long, default_value = "payment=100")]
    #[serde(serialize_with = "mix_as_struct")]
    pub mix: Mix,
    /// Target size of a large payment in bytes.
    #[arg(long, default_value_t = 40_000, value_parser = clap::value_parser!(u64).range(2_000..=900_000))]
    pub large_bytes: u64,
    /// A pacs.008 file with one transaction to make payments from (default: the built-in
    /// bench/templates/pacs008.xml).
    #[arg(long)]
    pub template: Option<PathBuf>,
    /// Pin the generator's threads to these cores (`1`, `0,1` or `2-3`).
    #[arg(long)]
    pub pin_generator: Option<String>,
    /// Generator runtime threads (default: the number of pinned cores, else 2).
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub generator_threads: Option<u32>,
    /// Seconds to wait for outstanding answers after the last send.
    #[arg(long, default_value_t = 15)]
    pub drain: u64,
    /// Seed of the message-mix draw.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// No progress bar on stderr.
    #[arg(long)]
    pub no_progress: bool,
}

fn mix_as_struct<S: serde::Serializer>(m: &Mix, s: S) -> Result<S::Ok, S::Error> {
    m.serialize(s)
}

/// Arguments of `switchyard-bench load`.
#[derive(Debug, Clone, clap::Args, Serialize)]
pub struct LoadArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub generator: GeneratorArgs,
    /// Offered rate across all participants, messages per second.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub rate: u64,
    /// Measured seconds.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub duration: u64,
    /// Warm-up seconds before the measured window (same rate; not in latencies).
    #[arg(long, default_value_t = 2, value_parser = clap::value_parser!(u64).range(0..=3_600))]
    pub warmup: u64,
    /// Output directory for report.json, ack.hgrm, final.hgrm, latency.svg (and child logs).
    #[arg(long, default_value = "bench-out/load")]
    pub out: PathBuf,
    /// A previous run's output directory (or .hgrm file) whose ACK curve is drawn as baseline.
    #[arg(long)]
    pub baseline: Option<PathBuf>,
    /// Self-hosted switch: `perf record -g` the node during the measured window into
    /// OUT/perf.data (needs `perf`).
    #[arg(long)]
    pub perf: bool,
    /// Exit non-zero when any payment is stuck or unanswered.
    #[arg(long)]
    pub strict: bool,
}

/// Parses a core list: `1`, `0,1`, `2-3`.
///
/// # Errors
/// A malformed list or a core this machine does not have.
pub fn parse_cores(list: &str) -> anyhow::Result<Vec<usize>> {
    let mut cores = Vec::new();
    for part in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (lo, hi) = part.split_once('-').unwrap_or((part, part));
        let lo: usize = lo.trim().parse().with_context(|| format!("core list {list:?}: {part:?}"))?;
        let hi: usize = hi.trim().parse().with_context(|| format!("core list {list:?}: {part:?}"))?;
        cores.extend(lo..=hi);
    }
    let available = core_affinity::get_core_ids().unwrap_or_default();
    for c in &cores {
        if !available.iter().any(|id| id.id == *c) {
            anyhow::bail!(
                "core {c} of {list:?} is not available (this machine has {} cores)",
                available.len()
            );
        }
    }
    if cores.is_empty() {
        anyhow::bail!("empty core list {list:?}");
    }
    Ok(cores)
}

/// The generator's tokio runtime, its threads pinned when asked.
///
/// # Errors
/// A bad core list; the runtime cannot start.
pub fn runtime(generator: &GeneratorArgs) -> anyhow::Result<tokio::runtime::Runtime> {
    let cores = generator.pin_generator.as_deref().map(parse_cores).transpose()?;
    let threads =
        generator.generator_threads.map(|t| t as usize).or_else(|| cores.as_ref().map(Vec::len)).unwrap_or(2);
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    builder.worker_threads(threads).enable_all();
    if let Some(cores) = cores {
        let ids: Vec<core_affinity::CoreId> =
            cores.into_iter().map(|id| core_affinity::CoreId { id }).collect();
        // This thread (which drives block_on) and every runtime thread.
        let _ = core_affinity::set_for_current(ids[0]);
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        builder.on_thread_start(move || {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let _ = core_affinity::set_for_current(ids[i % ids.len()]);
        });
    }
    builder.build().context("starting the generator runtime")
}

/// The payment template.
///
/// # Errors
/// An unreadable or invalid template file.
pub fn template(generator: &GeneratorArgs) -> anyhow::Result<Pacs008> {
    match &generator.template {
        Some(path) => {
            let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
            mix::read_template(&bytes, &path.display().to_string())
        }
        None => mix::read_template(TEMPLATE, "built-in template"),
    }
}

/// A progress bar on stderr (sent, acknowledged, current acknowledged rate), updated every
/// 250 ms until the returned handle is finished; hidden when stderr is not a terminal.
pub fn progress(
    live: &Arc<LiveCounters>,
    total: u64,
    hidden: bool,
) -> (ProgressBar, tokio::task::JoinHandle<()>) {
    let bar = ProgressBar::with_draw_target(
        Some(total),
        if hidden { ProgressDrawTarget::hidden() } else { ProgressDrawTarget::stderr() },
    );
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {msg}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    let (live, shown) = (Arc::clone(live), bar.clone());
    let task = tokio::spawn(async move {
        let mut last = (std::time::Instant::now(), 0u64);
        loop {
            tokio::time::sleep(Duration::from_millis(250)).await;
            let sent = live.sent.load(Ordering::Relaxed);
            let acked = live.acked.load(Ordering::Relaxed);
            let now = std::time::Instant::now();
            let rate = (acked - last.1) as f64 / now.duration_since(last.0).as_secs_f64().max(0.001);
            last = (now, acked);
            shown.set_position(sent);
            shown.set_message(format!("sent {sent} acked {acked} rate {rate:.0}/s"));
        }
    });
    (bar, task)
}

/// One run against an already resolved target.
///
/// # Errors
/// A participant cannot connect or sign on.
pub async fn run_once(
    target: &Target,
    generator: &GeneratorArgs,
    rate: u64,
    duration: Duration,
    warmup: Duration,
) -> anyhow::Result<LoadReport> {
    // MsgIds start with the participant name: a fresh tag per run keeps them unique across
    // runs against the same node (a repeated MsgId is refused as a duplicate).
    let tag = run_tag(rand::random::<u32>());
    let live = Arc::new(LiveCounters::default());
    let total = rate * (duration + warmup).as_secs();
    let (bar, ticker) = progress(&live, total, generator.no_progress);
    let spec = LoadSpec {
        participants: target
            .participants
            .iter()
            .map(|p| ParticipantSpec { name: format!("{}-{tag}", p.name), ..p.clone() })
            .collect(),
        rate_per_s: rate,
        duration,
        drain: Duration::from_secs(generator.drain),
        template: template(generator)?,
    };
    let options = LoadOptions {
        warmup,
        mix: generator.mix,
        large_bytes: usize::try_from(generator.large_bytes).unwrap_or(40_000),
        answers: target.kind.answers(),
        live: Some(live),
        seed: generator.seed,
    };
    let result = loadgen::run_with(spec, options).await;
    ticker.abort();
    bar.finish_and_clear();
    result
}

/// Six base-36 characters from `seed` (a run's MsgId tag; MsgIds are at most 35 characters).
#[must_use]
pub fn run_tag(seed: u32) -> String {
    let mut n = seed % 36u32.pow(6);
    let mut tag = String::new();
    for _ in 0..6 {
        tag.push(char::from_digit(n % 36, 36).unwrap_or('0'));
        n /= 36;
    }
    tag
}

/// Starts `perf record` on `pid` (call-graph, 999 Hz) writing `out`.
fn start_perf(pid: u32, out: &std::path::Path) -> anyhow::Result<std::process::Child> {
    std::process::Command::new("perf")
        .args(["record", "-F", "999", "-g", "-p", &pid.to_string(), "-o"])
        .arg(out)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .context("starting perf record (is perf installed?)")
}

/// Runs `switchyard-bench load`.
///
/// # Errors
/// Bad arguments, a target that cannot be reached or started, output that cannot be written.
#[allow(clippy::needless_pass_by_value)] // the dispatcher in main.rs hands each subcommand its args
pub fn run(args: LoadArgs) -> anyhow::Result<ExitCode> {
    let started = SystemTime::now();
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let mut target = target::resolve(&args.target, &args.out)?;
    let runtime = runtime(&args.generator)?;
    let duration = Duration::from_secs(args.duration);
    let warmup = Duration::from_secs(args.warmup);
    eprintln!(
        "switchyard-bench load: {} {}/s for {} s (+{} s warm-up) from {} sessions of {} tenants over {}{}",
        match target.kind {
            target::TargetKind::Switch => "switch",
            target::TargetKind::Echo => "echo",
        },
        args.rate,
        args.duration,
        args.warmup,
        args.target.participants,
        args.target.tenants,
        args.target.transport,
        if target.children.is_empty() { "" } else { " (self-hosted)" }
    );
    let perf = if args.perf {
        let node = target.children.first().context("--perf needs a self-hosted target")?;
        let (pid, path) = (node.id(), args.out.join("perf.data"));
        Some((pid, path))
    } else {
        None
    };
    let report = runtime.block_on(async {
        let mut recorder = None;
        let profile = async {
            if let Some((pid, path)) = &perf {
                tokio::time::sleep(warmup).await;
                recorder = Some(start_perf(*pid, path)?);
            }
            anyhow::Ok(())
        };
        let (report, profiled) =
            tokio::join!(run_once(&target, &args.generator, args.rate, duration, warmup), profile);
        if let Some(mut child) = recorder {
            let pid = rustix::process::Pid::from_child(&child);
            let _ = rustix::process::kill_process(pid, rustix::process::Signal::INT);
            let _ = child.wait();
        }
        profiled?;
        report
    })?;
    target.stop();
    let results = RunResults::of(&report, args.rate);
    let title = format!(
        "{} over {} at {}/s: latency by percentile",
        match target.kind {
            target::TargetKind::Switch => "switchyard",
            target::TargetKind::Echo => "echo baseline",
        },
        args.target.transport,
        args.rate
    );
    let meta = output::RunMeta { command: "load", started, title, baseline: args.baseline.as_deref() };
    let files = output::write_run(&args.out, &meta, &args, &report, &results)?;
    println!("{}", output::table(&report, &results));
    println!("wrote {}", files.iter().map(|f| f.display().to_string()).collect::<Vec<_>>().join(", "));
    let failed = report.stuck > 0 || report.unanswered > 0;
    Ok(if args.strict && failed { ExitCode::FAILURE } else { ExitCode::SUCCESS })
}
