//! `switchyard top`: a live terminal view of a running node, read from its admin API every
//! interval: `/v1/status` (tenants, links, breakers, DLQ, stuck payments) and `/metrics`
//! (counters and latency histograms). Rates and percentiles are over the last interval, from
//! the difference of two scrapes, so they show what the node does now, not since it started.
//! Plain ANSI (clear screen, redraw); `--once` prints a single frame without escape codes.

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::{Duration, Instant};

use anyhow::{bail, Context};

use crate::admin_client::AdminClient;
use crate::ops::NodeStatus;

/// One sample of the Prometheus text format: name, labels, value.
#[derive(Debug, Clone, PartialEq)]
pub struct Sample {
    pub name: String,
    pub labels: BTreeMap<String, String>,
    pub value: f64,
}

/// Parses the Prometheus text exposition format (comments skipped; unparsable lines ignored).
#[must_use]
pub fn parse_exposition(text: &str) -> Vec<Sample> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((series, value)) = line.rsplit_once(' ') else { continue };
        let Ok(value) = value.parse::<f64>() else { continue };
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, parse_labels(rest.trim_end_matches('}'))),
            None => (series, BTreeMap::new()),
        };
        out.push(Sample { name: name.to_owned(), labels, value });
    }
    out
}

fn parse_labels(text: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    let mut rest = text;
    while let Some((key, after)) = rest.split_once("=\"") {
        let Some(end) = after.find('"') else { break };
        labels.insert(key.trim_start_matches(',').trim().to_owned(), after[..end].to_owned());
        rest = &after[end + 1..];
    }
    labels
}

/// Counters and histograms of one scrape, summed the way the view needs them.
#[derive(Debug, Clone, Default)]
pub struct Scrape {
    /// Accepted submissions per tenant.
    pub accepted: BTreeMap<String, f64>,
    /// Outcomes per tenant and outcome label.
    pub outcomes: BTreeMap<(String, String), f64>,
    /// Refusals (every submission result but accepted), per tenant.
    pub refused: BTreeMap<String, f64>,
    /// Final-latency histogram over all tenants: cumulative count per upper bound.
    pub final_latency: Vec<(f64, f64)>,
    /// ACK-latency histogram over all tenants.
    pub ack_latency: Vec<(f64, f64)>,
}

fn histogram(samples: &[Sample], name: &str) -> Vec<(f64, f64)> {
    let mut by_le: BTreeMap<u64, (f64, f64)> = BTreeMap::new();
    for s in samples.iter().filter(|s| s.name == name) {
        let Some(le) = s.labels.get("le") else { continue };
        let bound = if le == "+Inf" { f64::INFINITY } else { le.parse().unwrap_or(f64::INFINITY) };
        let entry = by_le.entry(bound.to_bits()).or_insert((bound, 0.0));
        entry.1 += s.value;
    }
    let mut out: Vec<(f64, f64)> = by_le.into_values().collect();
    out.sort_by(|a, b| a.0.total_cmp(&b.0));
    out
}

impl Scrape {
    /// Sums a parsed exposition.
    #[must_use]
    pub fn from_samples(samples: &[Sample]) -> Self {
        let mut s = Self::default();
        for sample in samples {
            let tenant = sample.labels.get("tenant").cloned().unwrap_or_default();
            match sample.name.as_str() {
                "switchyard_submissions_total" => {
                    let result = sample.labels.get("result").map_or("", String::as_str);
                    let into = if result == "accepted" { &mut s.accepted } else { &mut s.refused };
                    *into.entry(tenant).or_default() += sample.value;
                }
                "switchyard_payment_outcomes_total" => {
                    let outcome = sample.labels.get("outcome").cloned().unwrap_or_default();
                    *s.outcomes.entry((tenant, outcome)).or_default() += sample.value;
                }
                _ => {}
            }
        }
        s.final_latency = histogram(samples, "switchyard_final_latency_seconds_bucket");
        s.ack_latency = histogram(samples, "switchyard_ack_latency_seconds_bucket");
        s
    }
}

/// The `q` quantile (0..1) of the observations between two cumulative histograms, as the upper
/// bound of the bucket it falls in; `None` without observations.
#[must_use]
pub fn quantile(before: &[(f64, f64)], after: &[(f64, f64)], q: f64) -> Option<f64> {
    let delta: Vec<(f64, f64)> = after
        .iter()
        .map(|(le, n)| {
            let was = before.iter().find(|(b, _)| b.to_bits() == le.to_bits()).map_or(0.0, |(_, n)| *n);
            (*le, (n - was).max(0.0))
        })
        .collect();
    let total = delta.last().map_or(0.0, |(_, n)| *n);
    if total <= 0.0 {
        return None;
    }
    delta.iter().find(|(_, n)| *n >= q * total).map(|(le, _)| *le)
}

fn ms(v: Option<f64>) -> String {
    match v {
        None => "-".into(),
        Some(v) if v.is_infinite() => "> max".into(),
        Some(v) => format!("{:.1} ms", v * 1000.0),
    }
}

fn delta(after: &BTreeMap<String, f64>, before: &BTreeMap<String, f64>, key: &str) -> f64 {
    after.get(key).copied().unwrap_or(0.0) - before.get(key).copied().unwrap_or(0.0)
}

/// Draws one frame from two scrapes `elapsed` apart and the latest status.
#[must_use]
pub fn frame(status: &NodeStatus, before: &Scrape, after: &Scrape, elapsed: Duration) -> String {
    let secs = elapsed.as_secs_f64().max(1e-3);
    let accepted: f64 = after.accepted.values().sum::<f64>() - before.accepted.values().sum::<f64>();
    let finals = |s: &Scrape| s.outcomes.values().sum::<f64>();
    let mut out = String::new();
    let _ = writeln!(
        out,
        "switchyard top — up {}s, in flight {}/{}, open {}, DLQ {}, stuck {}, journal seq {} (state {})",
        status.uptime_s,
        status.in_flight,
        status.max_in_flight,
        status.open_payments,
        status.dlq,
        status.stuck,
        status.journal_last_seq,
        status.state_applied_seq
    );
    let _ = writeln!(
        out,
        "throughput {:.0} accepted/s, {:.0} outcomes/s | ACK p50 {} p99 {} | final p50 {} p99 {}",
        accepted / secs,
        (finals(after) - finals(before)) / secs,
        ms(quantile(&before.ack_latency, &after.ack_latency, 0.5)),
        ms(quantile(&before.ack_latency, &after.ack_latency, 0.99)),
        ms(quantile(&before.final_latency, &after.final_latency, 0.5)),
        ms(quantile(&before.final_latency, &after.final_latency, 0.99)),
    );
    let _ = writeln!(out);
    let _ = writeln!(
        out,
        "{:<16} {:>10} {:>10} {:>10} {:>10} {:>12} {:>12}",
        "TENANT", "ACCEPT/s", "REFUSE/s", "IN-FLIGHT", "BUDGET", "RATE/s", "SETTLED"
    );
    for t in &status.tenants {
        let settled = after.outcomes.get(&(t.name.clone(), "settled".into())).copied().unwrap_or(0.0);
        let _ = writeln!(
            out,
            "{:<16} {:>10.0} {:>10.0} {:>10} {:>10} {:>12} {:>12.0}",
            t.name,
            delta(&after.accepted, &before.accepted, &t.name) / secs,
            delta(&after.refused, &before.refused, &t.name) / secs,
            t.in_flight.map_or_else(|| "-".into(), |v| v.to_string()),
            t.budget.map_or_else(|| "-".into(), |v| v.to_string()),
            format!("{}/{}", t.rate_per_s, t.burst),
            settled,
        );
    }
    let _ = writeln!(out);
    let _ = writeln!(out, "{:<16} {:>10} {:>10} {:>12}  LAST ERROR", "LINK", "STATE", "BREAKER", "WINDOW");
    for l in &status.links {
        let _ = writeln!(
            out,
            "{:<16} {:>10} {:>10} {:>12}  {}",
            l.name,
            if l.connected { "up" } else { "down" },
            l.breaker,
            format!("{}/{}", l.in_flight, l.window),
            l.last_error.as_deref().unwrap_or("-"),
        );
    }
    out
}

async fn scrape(client: &AdminClient) -> anyhow::Result<(NodeStatus, Scrape)> {
    let (code, body) = client.get("/v1/status").await?;
    if code != 200 {
        bail!("GET /v1/status: HTTP {code}: {}", body.trim());
    }
    let status: NodeStatus = serde_json::from_str(&body).context("GET /v1/status: unexpected body")?;
    let (code, metrics) = client.get("/metrics").await?;
    if code != 200 {
        bail!("GET /metrics: HTTP {code}");
    }
    Ok((status, Scrape::from_samples(&parse_exposition(&metrics))))
}

/// Runs the view until interrupted (or for one frame with `once`).
pub async fn run(
    admin: &str,
    auth: crate::admin_client::AdminAuth,
    once: bool,
    interval: Duration,
) -> anyhow::Result<()> {
    let client = AdminClient::from_auth(admin, auth)?;
    let (_, mut before) = scrape(&client).await?;
    let mut at = Instant::now();
    loop {
        tokio::time::sleep(interval).await;
        let (status, after) = scrape(&client).await?;
        let now = Instant::now();
        let text = frame(&status, &before, &after, now - at);
        if once {
            print!("{text}");
            return Ok(());
        }
        // Clear the screen, home the cursor, draw.
        print!("\x1b[2J\x1b[H{text}");
        use std::io::Write as _;
        let _ = std::io::stdout().flush();
        before = after;
        at = now;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_labels_and_quantiles_from_bucket_deltas() {
        let before = parse_exposition(
            "# TYPE x histogram\nswitchyard_final_latency_seconds_bucket{tenant=\"a\",le=\"0.01\"} 10\n\
             switchyard_final_latency_seconds_bucket{tenant=\"a\",le=\"0.1\"} 10\n\
             switchyard_final_latency_seconds_bucket{tenant=\"a\",le=\"+Inf\"} 10\n",
        );
        let after = parse_exposition(
            "switchyard_final_latency_seconds_bucket{tenant=\"a\",le=\"0.01\"} 60\n\
             switchyard_final_latency_seconds_bucket{tenant=\"a\",le=\"0.1\"} 109\n\
             switchyard_final_latency_seconds_bucket{tenant=\"a\",le=\"+Inf\"} 110\n\
             switchyard_submissions_total{tenant=\"a\",result=\"accepted\"} 7\n",
        );
        let (b, a) = (Scrape::from_samples(&before), Scrape::from_samples(&after));
        assert_eq!(a.accepted.get("a"), Some(&7.0));
        // 100 new observations: 50 under 10 ms, 49 under 100 ms, 1 above.
        assert_eq!(quantile(&b.final_latency, &a.final_latency, 0.5), Some(0.01));
        assert_eq!(quantile(&b.final_latency, &a.final_latency, 0.99), Some(0.1));
        assert_eq!(quantile(&b.final_latency, &a.final_latency, 1.0), Some(f64::INFINITY));
        assert_eq!(quantile(&a.final_latency, &a.final_latency, 0.5), None, "no new observations");
    }
}
