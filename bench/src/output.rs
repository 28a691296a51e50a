//! The files and the printed table of a load run.
//!
//! Into the output directory: `report.json` (machine, git revision, the run's full
//! configuration, counts, latency summaries, per-kind answers), `ack.hgrm` and `final.hgrm`
//! (HdrHistogram percentile distributions, milliseconds), and `latency.svg` (ACK and final by
//! percentile, plus a baseline run's ACK when one is given).

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use anyhow::Context;
use serde::Serialize;

use crate::loadgen::{KindStats, LoadReport};
use crate::machine::Machine;
use crate::mix::MessageKind;
use crate::plot::{self, Series};
use crate::report::{self, latency_header, latency_row, LatencySummary};

/// The measured results of one run.
#[derive(Debug, Clone, Serialize)]
pub struct RunResults {
    /// Offered rate, messages per second (all kinds).
    pub offered_rate_per_s: u64,
    /// Acknowledged payments per second in the measured window.
    pub ack_throughput_per_s: f64,
    /// Payments (pacs.008, both sizes), warm-up included.
    pub submitted: u64,
    pub acknowledged: u64,
    pub settled: u64,
    pub rejected: u64,
    pub refused: u64,
    pub in_doubt: u64,
    pub stuck: u64,
    pub unanswered: u64,
    /// Messages of every kind due in the measured window.
    pub measured_sent: u64,
    pub ack: LatencySummary,
    #[serde(rename = "final")]
    pub final_: LatencySummary,
    /// First answer to status requests, cancellations and invalid messages.
    pub other_answers: LatencySummary,
    /// Due time → handed to the connection (credit waits, generator lag).
    pub send_lag: LatencySummary,
    /// Handed to the connection → ACTC: the latency of admitted payments.
    pub admitted_ack: LatencySummary,
    pub kinds: BTreeMap<MessageKind, KindStats>,
}

impl RunResults {
    /// The results of `report` at `offered` messages per second.
    #[must_use]
    pub fn of(report: &LoadReport, offered: u64) -> Self {
        Self {
            offered_rate_per_s: offered,
            ack_throughput_per_s: report.ack_throughput(),
            submitted: report.submitted,
            acknowledged: report.acknowledged,
            settled: report.settled,
            rejected: report.rejected,
            refused: report.refused,
            in_doubt: report.in_doubt,
            stuck: report.stuck,
            unanswered: report.unanswered,
            measured_sent: report.measured_sent,
            ack: LatencySummary::of(&report.ack_us),
            final_: LatencySummary::of(&report.final_us),
            other_answers: LatencySummary::of(&report.other_us),
            send_lag: LatencySummary::of(&report.send_lag_us),
            admitted_ack: LatencySummary::of(&report.admitted_ack_us),
            kinds: report.kinds.clone(),
        }
    }
}

/// `report.json`.
#[derive(Debug, Serialize)]
pub struct JsonReport<'a, C: Serialize> {
    pub tool: &'static str,
    pub command: &'static str,
    pub started_at: String,
    pub finished_at: String,
    pub machine: Machine,
    pub config: &'a C,
    pub results: &'a RunResults,
    pub files: Vec<String>,
}

/// RFC 3339 time of `t` (seconds).
#[must_use]
pub fn timestamp(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

/// What a run's files are titled and compared with.
#[derive(Debug, Clone)]
pub struct RunMeta<'a> {
    /// The subcommand (`load`, `sweep-step`).
    pub command: &'static str,
    pub started: SystemTime,
    /// The plot's title.
    pub title: String,
    /// A previous run's directory (or `.hgrm` file) whose ACK curve is drawn as baseline.
    pub baseline: Option<&'a Path>,
}

/// Writes `report.json`, `ack.hgrm`, `final.hgrm` and `latency.svg` into `out`; returns the
/// files written.
///
/// # Errors
/// When a file cannot be written; a baseline that cannot be read.
pub fn write_run<C: Serialize>(
    out: &Path,
    meta: &RunMeta<'_>,
    config: &C,
    report: &LoadReport,
    results: &RunResults,
) -> anyhow::Result<Vec<PathBuf>> {
    std::fs::create_dir_all(out).with_context(|| format!("creating {}", out.display()))?;
    let ack = out.join("ack.hgrm");
    let fin = out.join("final.hgrm");
    report::write_hgrm(&report.ack_us, &ack)?;
    report::write_hgrm(&report.final_us, &fin)?;
    let mut series = Vec::new();
    if !report.ack_us.is_empty() {
        series.push(Series { label: "ACK (→ACTC)".into(), points: report::read_hgrm(&ack)? });
    }
    if !report.final_us.is_empty() {
        series.push(Series { label: "final (→outcome)".into(), points: report::read_hgrm(&fin)? });
    }
    if let Some(base) = meta.baseline {
        let file = if base.is_dir() { base.join("ack.hgrm") } else { base.to_path_buf() };
        let points = report::read_hgrm(&file).with_context(|| format!("baseline {}", file.display()))?;
        // Named by the run directory (e.g. `echo-tls-5000`), never by a full path.
        let name = file
            .parent()
            .and_then(Path::file_name)
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        series.push(Series { label: format!("baseline ACK ({name})"), points });
    }
    let svg = out.join("latency.svg");
    plot::percentile_plot(&svg, &meta.title, &series)?;
    let json = out.join("report.json");
    let files = vec![ack, fin, svg, json.clone()];
    let doc = JsonReport {
        tool: "switchyard-bench",
        command: meta.command,
        started_at: timestamp(meta.started),
        finished_at: timestamp(SystemTime::now()),
        machine: Machine::probe(),
        config,
        results,
        files: files.iter().filter_map(|f| f.file_name()).map(|f| f.to_string_lossy().into_owned()).collect(),
    };
    let text = serde_json::to_string_pretty(&doc).context("serialising the report")?;
    std::fs::write(&json, text + "\n").with_context(|| format!("writing {}", json.display()))?;
    Ok(files)
}

/// The printed table: latencies, throughput, counts, answers by kind.
#[must_use]
pub fn table(report: &LoadReport, results: &RunResults) -> String {
    let mut t = String::new();
    let _ = writeln!(t, "{}", latency_header());
    let _ = writeln!(t, "{}", latency_row("ACK (→ACTC)", &report.ack_us));
    let _ = writeln!(t, "{}", latency_row("final (→outcome)", &report.final_us));
    if !report.other_us.is_empty() {
        let _ = writeln!(t, "{}", latency_row("other answers", &report.other_us));
    }
    let _ = writeln!(t, "{}", latency_row("send lag", &report.send_lag_us));
    let _ = writeln!(t, "{}", latency_row("admitted ACK", &report.admitted_ack_us));
    let _ = writeln!(
        t,
        "throughput {:.0} payments/s acknowledged (offered {} messages/s)",
        results.ack_throughput_per_s, results.offered_rate_per_s
    );
    let _ = writeln!(
        t,
        "payments: submitted {} acknowledged {} settled {} rejected {} refused {} in doubt {} stuck {} unanswered {}",
        results.submitted,
        results.acknowledged,
        results.settled,
        results.rejected,
        results.refused,
        results.in_doubt,
        results.stuck,
        results.unanswered
    );
    for (kind, stats) in &results.kinds {
        let answers: Vec<String> = stats.answers.iter().map(|(k, n)| format!("{k}: {n}")).collect();
        let _ = writeln!(
            t,
            "  {:<8} sent {:>8}  unanswered {:>4}  unfinished {:>4}  answers {}",
            kind.name(),
            stats.sent,
            stats.unanswered,
            stats.unfinished,
            answers.join(", ")
        );
    }
    t
}
