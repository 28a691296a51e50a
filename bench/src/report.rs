//! Latency tables from HDR histograms (microsecond values, printed in milliseconds), their
//! JSON summaries, and HdrHistogram percentile-distribution (`.hgrm`) files.

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use hdrhistogram::Histogram;
use serde::Serialize;

/// The percentiles every Switchyard report prints.
pub const PERCENTILES: [(&str, f64); 4] = [("p50", 50.0), ("p90", 90.0), ("p99", 99.0), ("p99.9", 99.9)];

fn ms(us: u64) -> String {
    format!("{}.{:03}", us / 1000, us % 1000)
}

/// One table row: name, then p50/p90/p99/p99.9/max in milliseconds.
#[must_use]
pub fn latency_row(name: &str, hist: &Histogram<u64>) -> String {
    let mut row = format!("{name:<16}");
    if hist.is_empty() {
        row.push_str("      (no samples)");
        return row;
    }
    for (_, q) in PERCENTILES {
        let _ = write!(row, "{:>10}", ms(hist.value_at_percentile(q)));
    }
    let _ = write!(row, "{:>10}", ms(hist.max()));
    row
}

/// The header that goes with [`latency_row`].
#[must_use]
pub fn latency_header() -> String {
    let mut row = format!("{:<16}", "latency (ms)");
    for (name, _) in PERCENTILES {
        let _ = write!(row, "{name:>10}");
    }
    let _ = write!(row, "{:>10}", "max");
    row
}

/// Percentiles of one histogram in milliseconds, for JSON reports.
#[derive(Debug, Clone, Serialize)]
pub struct LatencySummary {
    pub count: u64,
    pub p50_ms: f64,
    pub p90_ms: f64,
    pub p99_ms: f64,
    pub p999_ms: f64,
    pub max_ms: f64,
    pub mean_ms: f64,
}

fn as_ms(us: u64) -> f64 {
    us as f64 / 1000.0
}

impl LatencySummary {
    /// The summary of `hist` (all zeros when empty).
    #[must_use]
    pub fn of(hist: &Histogram<u64>) -> Self {
        if hist.is_empty() {
            return Self {
                count: 0,
                p50_ms: 0.0,
                p90_ms: 0.0,
                p99_ms: 0.0,
                p999_ms: 0.0,
                max_ms: 0.0,
                mean_ms: 0.0,
            };
        }
        Self {
            count: hist.len(),
            p50_ms: as_ms(hist.value_at_percentile(50.0)),
            p90_ms: as_ms(hist.value_at_percentile(90.0)),
            p99_ms: as_ms(hist.value_at_percentile(99.0)),
            p999_ms: as_ms(hist.value_at_percentile(99.9)),
            max_ms: as_ms(hist.max()),
            mean_ms: hist.mean() / 1000.0,
        }
    }
}

/// The percentile distribution of `hist` (microseconds) in HdrHistogram's text format
/// (`outputPercentileDistribution`, values in milliseconds, 5 ticks per half distance), as
/// read by HdrHistogram's plotter and `hdr-plot`.
#[must_use]
pub fn hgrm(hist: &Histogram<u64>) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:>12} {:>14} {:>10} {:>14}\n",
        "Value", "Percentile", "TotalCount", "1/(1-Percentile)"
    );
    if !hist.is_empty() {
        let mut total = 0u64;
        for v in hist.iter_quantiles(5) {
            total += v.count_since_last_iteration();
            let q = v.quantile_iterated_to();
            let value = as_ms(hist.highest_equivalent(v.value_iterated_to()));
            if q < 1.0 {
                let _ = writeln!(out, "{value:>12.3} {q:>2.12} {total:>10} {:>14.2}", 1.0 / (1.0 - q));
            } else {
                let _ = writeln!(out, "{value:>12.3} {q:>2.12} {total:>10}");
            }
        }
    }
    let mean = if hist.is_empty() { 0.0 } else { hist.mean() / 1000.0 };
    let stdev = if hist.is_empty() { 0.0 } else { hist.stdev() / 1000.0 };
    let _ = writeln!(out, "#[Mean    = {mean:>12.3}, StdDeviation   = {stdev:>12.3}]");
    let _ = writeln!(out, "#[Max     = {:>12.3}, Total count    = {:>12}]", as_ms(hist.max()), hist.len());
    // As HdrHistogram: the sub-bucket count is the power of two above 2 × 10^significant digits.
    let sub_buckets = (2 * 10u64.pow(u32::from(hist.sigfig()))).next_power_of_two();
    let _ = writeln!(out, "#[Buckets = {:>12}, SubBuckets     = {sub_buckets:>12}]", hist.buckets());
    out
}

/// Writes [`hgrm`] of `hist` to `path`.
///
/// # Errors
/// When the file cannot be written (the error names it).
pub fn write_hgrm(hist: &Histogram<u64>, path: &Path) -> anyhow::Result<()> {
    std::fs::write(path, hgrm(hist)).with_context(|| format!("writing {}", path.display()))
}

/// Reads the (value ms, percentile) points of an `.hgrm` file written by [`hgrm`].
///
/// # Errors
/// When the file cannot be read or holds no data line.
pub fn read_hgrm(path: &Path) -> anyhow::Result<Vec<(f64, f64)>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let points: Vec<(f64, f64)> = text
        .lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .filter_map(|l| {
            let mut cols = l.split_whitespace();
            let value = cols.next()?.parse().ok()?;
            let q = cols.next()?.parse().ok()?;
            Some((value, q))
        })
        .collect();
    if points.is_empty() {
        anyhow::bail!("{}: no percentile lines", path.display());
    }
    Ok(points)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_print_milliseconds() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
        for us in 1..=1000 {
            h.record(us * 10).unwrap();
        }
        let row = latency_row("ack", &h);
        assert!(row.starts_with("ack"), "{row}");
        assert!(row.contains("5.00"), "p50 of 10us..10ms is ~5 ms: {row}");
        assert!(latency_header().contains("p99.9"));
    }

    #[test]
    fn hgrm_round_trips_through_its_reader() {
        let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000, 3).unwrap();
        for us in 1..=10_000 {
            h.record(us).unwrap();
        }
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ack.hgrm");
        write_hgrm(&h, &path).unwrap();
        let points = read_hgrm(&path).unwrap();
        let (last_value, last_q) = *points.last().unwrap();
        assert!((last_q - 1.0).abs() < 1e-9, "{points:?}");
        assert!((last_value - 10.0).abs() < 0.02, "max 10 ms, got {last_value}");
        assert!(points.windows(2).all(|w| w[0].1 <= w[1].1 && w[0].0 <= w[1].0));
        let text = hgrm(&h);
        let last_data = text.lines().rfind(|l| l.contains(" 1.000000000000 ")).unwrap();
        assert!(last_data.trim_end().ends_with("10000"), "cumulative count at 100%: {last_data}");
        assert!(text.contains("SubBuckets     =         2048"), "{text}");
    }
}
