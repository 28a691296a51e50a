//! Latency tables from HDR histograms (microsecond values, printed in milliseconds).

use std::fmt::Write as _;

use hdrhistogram::Histogram;

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
}
