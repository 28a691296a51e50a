//! `switchyard-bench sweep`: the highest offered rate whose ACK p99 stays under a bound.
//!
//! Step up from `--start-rate` by `--step-rate` until a step fails or `--max-rate` passes,
//! then bisect between the highest pass and the lowest failure until they are within
//! `--resolution`. A step passes when its ACK p99 is at most `--p99-bound-ms`, it acknowledged
//! at least `--min-throughput` of the offered payment rate, and nothing was left unanswered. A
//! failing step is run again up to `--confirm-failures` times and fails only if every try does:
//! one stall of the machine (a slow fdatasync) must not cap the search far below the capacity.
//! One target (self-hosted or running) serves every step; each step writes its own report
//! into `OUT/rate-<R>/`, and the sweep writes `sweep.json` and `sweep.svg`.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use serde::Serialize;

use crate::cmd::load::{self, GeneratorArgs};
use crate::machine::Machine;
use crate::output::{self, RunResults};
use crate::target::{self, TargetArgs};

/// Arguments of `switchyard-bench sweep`.
#[derive(Debug, Clone, clap::Args, Serialize)]
pub struct SweepArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub generator: GeneratorArgs,
    /// The bound on ACK p99, milliseconds.
    #[arg(long, default_value_t = 5.0)]
    pub p99_bound_ms: f64,
    /// First rate tried, messages/s.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub start_rate: u64,
    /// Step-up increment, messages/s.
    #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub step_rate: u64,
    /// Highest rate tried, messages/s.
    #[arg(long, default_value_t = 40_000, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub max_rate: u64,
    /// Bisection stops when the highest pass and lowest failure are this close, messages/s.
    #[arg(long, default_value_t = 250, value_parser = clap::value_parser!(u64).range(1..=1_000_000))]
    pub resolution: u64,
    /// Measured seconds per step.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3_600))]
    pub step_duration: u64,
    /// Warm-up seconds per step.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(0..=600))]
    pub warmup: u64,
    /// Smallest acknowledged/offered payment ratio for a step to pass.
    #[arg(long, default_value_t = 0.95)]
    pub min_throughput: f64,
    /// Times a failing step is run again before it counts as failed (0: fail at once).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(0..=5))]
    pub confirm_failures: u32,
    /// Output directory.
    #[arg(long, default_value = "bench-out/sweep")]
    pub out: PathBuf,
}

/// The rate search: step up, then bisect. Pure: feed it outcomes, it names the next rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Search {
    start: u64,
    step: u64,
    max: u64,
    resolution: u64,
    highest_pass: Option<u64>,
    lowest_fail: Option<u64>,
}

impl Search {
    /// A search from `start` in steps of `step` up to `max`, bisecting to `resolution`.
    #[must_use]
    pub fn new(start: u64, step: u64, max: u64, resolution: u64) -> Self {
        Self {
            start: start.min(max).max(1),
            step: step.max(1),
            max,
            resolution: resolution.max(1),
            highest_pass: None,
            lowest_fail: None,
        }
    }

    /// The next rate to try, or `None` when the search is over.
    #[must_use]
    pub fn next(&self) -> Option<u64> {
        match (self.highest_pass, self.lowest_fail) {
            (None, None) => Some(self.start),
            (Some(pass), None) => (pass < self.max).then(|| (pass + self.step).min(self.max)),
            (pass, Some(fail)) => {
                let lo = pass.unwrap_or(0);
                (fail.saturating_sub(lo) > self.resolution).then(|| lo + (fail - lo) / 2).filter(|r| *r > 0)
            }
        }
    }

    /// Records the outcome of a step at `rate`.
    pub fn record(&mut self, rate: u64, passed: bool) {
        if passed {
            // A pass above a known failure (noise) narrows nothing below it: keep it only if
            // it is under the failure.
            if self.lowest_fail.is_none_or(|f| rate < f) {
                self.highest_pass = Some(self.highest_pass.map_or(rate, |p| p.max(rate)));
            }
        } else {
            self.lowest_fail = Some(self.lowest_fail.map_or(rate, |f| f.min(rate)));
        }
    }

    /// The highest rate that passed.
    #[must_use]
    pub fn result(&self) -> Option<u64> {
        self.highest_pass
    }
}

/// One step of the sweep.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    pub rate: u64,
    pub passed: bool,
    pub results: RunResults,
}

#[derive(Debug, Serialize)]
struct SweepReport<'a> {
    tool: &'static str,
    command: &'static str,
    started_at: String,
    finished_at: String,
    machine: Machine,
    config: &'a SweepArgs,
    highest_passing_rate: Option<u64>,
    steps: &'a [Step],
}

/// Whether a step passes (see the module doc).
#[must_use]
pub fn passes(results: &RunResults, args: &SweepArgs, payment_share: f64) -> bool {
    let offered_payments = results.offered_rate_per_s as f64 * payment_share;
    results.ack.count > 0
        && results.ack.p99_ms <= args.p99_bound_ms
        && results.ack_throughput_per_s >= offered_payments * args.min_throughput
        && results.unanswered == 0
        && results.stuck == 0
}

/// Runs `switchyard-bench sweep`.
///
/// # Errors
/// Bad arguments, a target that cannot be reached or started, output that cannot be written.
#[allow(clippy::needless_pass_by_value)] // the dispatcher in main.rs hands each subcommand its args
pub fn run(args: SweepArgs) -> anyhow::Result<ExitCode> {
    let started = SystemTime::now();
    std::fs::create_dir_all(&args.out).with_context(|| format!("creating {}", args.out.display()))?;
    let mut target = target::resolve(&args.target, &args.out)?;
    let runtime = load::runtime(&args.generator)?;
    let mix = args.generator.mix;
    let share = f64::from(mix.payment + mix.large)
        / f64::from(mix.payment + mix.large + mix.status + mix.cancel + mix.invalid).max(1.0);
    let mut search = Search::new(args.start_rate, args.step_rate, args.max_rate, args.resolution);
    let mut steps = Vec::new();
    while let Some(rate) = search.next() {
        let mut attempt = 0;
        let (results, passed) = loop {
            let step_started = SystemTime::now();
            let report = runtime.block_on(load::run_once(
                &target,
                &args.generator,
                rate,
                Duration::from_secs(args.step_duration),
                Duration::from_secs(args.warmup),
            ))?;
            let results = RunResults::of(&report, rate);
            let passed = passes(&results, &args, share);
            let title = format!("sweep step at {rate}/s over {}", args.target.transport);
            let meta =
                output::RunMeta { command: "sweep-step", started: step_started, title, baseline: None };
            let dir = match attempt {
                0 => format!("rate-{rate}"),
                n => format!("rate-{rate}-again-{n}"),
            };
            output::write_run(&args.out.join(dir), &meta, &args, &report, &results)?;
            let again = !passed && attempt < args.confirm_failures;
            eprintln!(
                "sweep: {rate:>7}/s  ACK p99 {:>9.3} ms  acknowledged {:>8.0}/s  unanswered {}  {}",
                results.ack.p99_ms,
                results.ack_throughput_per_s,
                results.unanswered,
                if passed {
                    "pass"
                } else if again {
                    "FAIL, trying again"
                } else {
                    "FAIL"
                }
            );
            if !again {
                break (results, passed);
            }
            attempt += 1;
        };
        search.record(rate, passed);
        steps.push(Step { rate, passed, results });
    }
    target.stop();
    let points: Vec<(u64, f64)> = steps.iter().map(|s| (s.rate, s.results.ack.p99_ms)).collect();
    crate::plot::sweep_plot(
        &args.out.join("sweep.svg"),
        &format!("ACK p99 by offered rate ({})", args.target.transport),
        &points,
        args.p99_bound_ms,
    )?;
    let doc = SweepReport {
        tool: "switchyard-bench",
        command: "sweep",
        started_at: output::timestamp(started),
        finished_at: output::timestamp(SystemTime::now()),
        machine: Machine::probe(),
        config: &args,
        highest_passing_rate: search.result(),
        steps: &steps,
    };
    let json = args.out.join("sweep.json");
    std::fs::write(&json, serde_json::to_string_pretty(&doc)? + "\n")
        .with_context(|| format!("writing {}", json.display()))?;
    println!("{:>8} {:>10} {:>10} {:>12} {:>6}", "rate/s", "ACK p50", "ACK p99", "acked/s", "result");
    let mut sorted = steps.clone();
    sorted.sort_by_key(|s| s.rate);
    for s in &sorted {
        println!(
            "{:>8} {:>10.3} {:>10.3} {:>12.0} {:>6}",
            s.rate,
            s.results.ack.p50_ms,
            s.results.ack.p99_ms,
            s.results.ack_throughput_per_s,
            if s.passed { "pass" } else { "FAIL" }
        );
    }
    match search.result() {
        Some(rate) => println!("highest rate with ACK p99 <= {} ms: {rate}/s", args.p99_bound_ms),
        None => println!("no rate tried kept ACK p99 <= {} ms", args.p99_bound_ms),
    }
    println!("wrote {} and {}", json.display(), args.out.join("sweep.svg").display());
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs the search against a target whose capacity is `capacity`; returns result and tries.
    fn search_against(mut search: Search, capacity: u64) -> (Option<u64>, Vec<u64>) {
        let mut tried = Vec::new();
        while let Some(rate) = search.next() {
            assert!(tried.len() < 100, "search does not end: {tried:?}");
            tried.push(rate);
            search.record(rate, rate <= capacity);
        }
        (search.result(), tried)
    }

    #[test]
    fn finds_capacity_within_resolution_and_stays_in_bounds() {
        for capacity in [1_500, 9_900, 12_345, 25_000, 39_999] {
            let (found, tried) = search_against(Search::new(2_000, 2_000, 40_000, 250), capacity);
            if capacity < 2_000 {
                assert!(found.is_some_and(|f| f <= capacity && capacity - f <= 250), "{capacity}: {found:?}");
            } else {
                let f = found.unwrap();
                assert!(
                    f <= capacity && capacity - f <= 250,
                    "capacity {capacity}: found {f}, tried {tried:?}"
                );
            }
            assert!(tried.iter().all(|r| (1..=40_000).contains(r)), "{tried:?}");
        }
    }

    #[test]
    fn stops_at_max_and_reports_none_when_nothing_passes() {
        let (found, tried) = search_against(Search::new(2_000, 2_000, 10_000, 250), 1_000_000);
        assert_eq!(found, Some(10_000));
        assert_eq!(tried, vec![2_000, 4_000, 6_000, 8_000, 10_000]);
        let (found, tried) = search_against(Search::new(2_000, 2_000, 10_000, 250), 0);
        assert_eq!(found, None);
        assert!(tried.len() <= 5, "bisects down to the resolution and stops: {tried:?}");
    }

    #[test]
    fn a_noisy_pass_above_a_failure_is_ignored() {
        let mut search = Search::new(1_000, 1_000, 10_000, 100);
        search.record(1_000, true);
        search.record(2_000, false);
        search.record(3_000, true);
        assert_eq!(search.result(), Some(1_000));
        assert_eq!(search.next(), Some(1_500));
    }
}
