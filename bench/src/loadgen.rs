//! Open-loop load from simulated participants.
//!
//! Each participant sends at a constant rate on a fixed schedule: message `i` is due at
//! `start + i / rate`. Latency is measured from that due time, not from when the message was
//! actually written, so time spent waiting for credit or for a slow socket counts against the
//! switch (no coordinated omission). The generator honours the credit window the switch grants
//! at sign-on: it never has more submissions in flight than that.
//!
//! [`run`] sends template payments only; [`run_with`] adds a warm-up (sent and answered, left
//! out of latencies and throughput), a message mix ([`crate::mix`]), live counters for a
//! progress display, and the echo answer mode (`switchyard-bench echo` sends each submission
//! back as one `Status` frame, which counts as ACK and outcome at once).
//!
//! Answers are classified by a byte scan of the status (`TxSts`, first reason `Cd`/`Prtry`,
//! camt.029 `Conf`) rather than a full parse, so the generator's own CPU stays small next to
//! the switch's; a pacs.002 the scan cannot read falls back to the full reader.

use std::collections::{BTreeMap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use futures::StreamExt;
use hdrhistogram::Histogram;
use serde::Serialize;
use switchyard_iso20022::{read_pacs002, Limits, Pacs008};
use switchyard_wire::{Frame, FrameKind};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::client::{ClientSpec, Participant};
use crate::mix::{MessageKind, Mix, Mixer};

/// One simulated participant: its name (MsgId prefix) and its TLS client configuration.
#[derive(Debug, Clone)]
pub struct ParticipantSpec {
    pub name: String,
    pub client: ClientSpec,
    /// The BIC the participant instructs as (None: the template's).
    pub bic: Option<switchyard_iso20022::Bic>,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct LoadSpec {
    pub participants: Vec<ParticipantSpec>,
    /// Total intended rate across participants, messages per second.
    pub rate_per_s: u64,
    pub duration: Duration,
    /// How long to wait for outstanding statuses after the last send.
    pub drain: Duration,
    pub template: Pacs008,
}

/// How answers are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AnswerMode {
    /// A Switchyard node: pacs.002 ACTC, then the outcome.
    #[default]
    Switch,
    /// `switchyard-bench echo`: one `Status` frame carrying the submission's bytes back; it is
    /// the ACK and the outcome (counted as settled).
    Echo,
}

/// Counters a progress display reads while the load runs.
#[derive(Debug, Default)]
pub struct LiveCounters {
    pub sent: AtomicU64,
    pub acked: AtomicU64,
    pub finished: AtomicU64,
}

/// Options beyond [`LoadSpec`]; the default is what [`run`] does.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Sent before `duration` at the same rate; answered and counted, but not in latencies or
    /// throughput.
    pub warmup: Duration,
    pub mix: Mix,
    /// Target size of a large payment in bytes.
    pub large_bytes: usize,
    pub answers: AnswerMode,
    pub live: Option<Arc<LiveCounters>>,
    /// Seed of the mix draw (participant `i` uses `seed + i`).
    pub seed: u64,
}

impl Default for LoadOptions {
    fn default() -> Self {
        Self {
            warmup: Duration::ZERO,
            mix: Mix::default(),
            large_bytes: 40_000,
            answers: AnswerMode::Switch,
            live: None,
            seed: 1,
        }
    }
}

/// What happened to the messages of one kind.
#[derive(Debug, Clone, Default, Serialize)]
pub struct KindStats {
    pub sent: u64,
    /// Answers by status: `ACTC`, `ACSC`, `RJCT FF01`, `camt.029 RJCR`, `echo`, ...
    pub answers: BTreeMap<String, u64>,
    /// Sent, never answered at all by the end of the drain.
    pub unanswered: u64,
    /// Answered with an intermediate status (ACTC) but no final one by the end of the drain.
    pub unfinished: u64,
}

/// What happened, from the participants' side (the independent ledger).
///
/// The counts cover payments (pacs.008, both sizes), warm-up included; latencies and
/// throughput cover the measured window only. Other kinds are in `kinds`.
#[derive(Debug)]
pub struct LoadReport {
    pub submitted: u64,
    pub acknowledged: u64,
    pub settled: u64,
    /// Rejected after ACTC (by the clearing house or a later check).
    pub rejected: u64,
    /// Rejected before ACTC (validation, duplicate, busy).
    pub refused: u64,
    /// Ended with a PDNG status (outcome unknown at the clearing house).
    pub in_doubt: u64,
    /// Acknowledged but no outcome by the end of the drain.
    pub stuck: u64,
    /// No answer at all by the end of the drain.
    pub unanswered: u64,
    /// Submit → ACTC, microseconds from the intended send time.
    pub ack_us: Histogram<u64>,
    /// Submit → ACTC, microseconds from the moment the payment was handed to the connection
    /// (after its credit): the latency of what the switch admitted, without the time the
    /// credit window held it back in the participant (overload runs).
    pub admitted_ack_us: Histogram<u64>,
    /// Submit → outcome, microseconds from the intended send time.
    pub final_us: Histogram<u64>,
    /// From the first intended send to the last status received.
    pub elapsed: Duration,
    /// From the first measured intended send to the last measured ACTC received: the span
    /// acknowledged throughput is measured over.
    pub ack_elapsed: Duration,
    /// UETRs that were acknowledged (for durability checks).
    pub acknowledged_uetrs: Vec<String>,
    /// Payments acknowledged whose send was due in the measured window.
    pub measured_acknowledged: u64,
    /// Messages of every kind due in the measured window.
    pub measured_sent: u64,
    /// How late each message was actually handed to the connection after its due time
    /// (credit waits and generator lag), microseconds.
    pub send_lag_us: Histogram<u64>,
    /// First answer of non-payment kinds (status, cancellation, invalid), microseconds.
    pub other_us: Histogram<u64>,
    /// Per kind.
    pub kinds: BTreeMap<MessageKind, KindStats>,
}

fn histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 120_000_000, 3).expect("static bounds are valid")
}

impl LoadReport {
    /// Acknowledged payments per second over the acknowledgement span of the measured window.
    #[must_use]
    pub fn ack_throughput(&self) -> f64 {
        self.measured_acknowledged as f64 / self.ack_elapsed.as_secs_f64().max(0.001)
    }

    fn new() -> Self {
        Self {
            submitted: 0,
            acknowledged: 0,
            settled: 0,
            rejected: 0,
            refused: 0,
            in_doubt: 0,
            stuck: 0,
            unanswered: 0,
            ack_us: histogram(),
            admitted_ack_us: histogram(),
            final_us: histogram(),
            elapsed: Duration::ZERO,
            ack_elapsed: Duration::ZERO,
            acknowledged_uetrs: Vec::new(),
            measured_acknowledged: 0,
            measured_sent: 0,
            send_lag_us: histogram(),
            other_us: histogram(),
            kinds: BTreeMap::new(),
        }
    }

    fn merge(&mut self, other: Self) {
        self.submitted += other.submitted;
        self.acknowledged += other.acknowledged;
        self.settled += other.settled;
        self.rejected += other.rejected;
        self.refused += other.refused;
        self.in_doubt += other.in_doubt;
        self.stuck += other.stuck;
        self.unanswered += other.unanswered;
        let _ = self.ack_us.add(&other.ack_us);
        let _ = self.admitted_ack_us.add(&other.admitted_ack_us);
        let _ = self.final_us.add(&other.final_us);
        let _ = self.send_lag_us.add(&other.send_lag_us);
        let _ = self.other_us.add(&other.other_us);
        self.elapsed = self.elapsed.max(other.elapsed);
        self.ack_elapsed = self.ack_elapsed.max(other.ack_elapsed);
        self.acknowledged_uetrs.extend(other.acknowledged_uetrs);
        self.measured_acknowledged += other.measured_acknowledged;
        self.measured_sent += other.measured_sent;
        for (kind, stats) in other.kinds {
            let mine = self.kinds.entry(kind).or_default();
            mine.sent += stats.sent;
            mine.unanswered += stats.unanswered;
            mine.unfinished += stats.unfinished;
            for (answer, n) in stats.answers {
                *mine.answers.entry(answer).or_default() += n;
            }
        }
    }
}

#[derive(Debug)]
struct InFlight {
    due: Instant,
    /// When it was handed to the connection (after its credit).
    written: Instant,
    uetr: String,
    kind: MessageKind,
    measured: bool,
    acked: bool,
}

type Pending = Arc<Mutex<HashMap<u64, InFlight>>>;

/// Runs template payments only and returns the merged report.
pub async fn run(spec: LoadSpec) -> anyhow::Result<LoadReport> {
    run_with(spec, LoadOptions::default()).await
}

/// Runs the load with `options` and returns the merged report.
pub async fn run_with(spec: LoadSpec, options: LoadOptions) -> anyhow::Result<LoadReport> {
    let n = spec.participants.len().max(1) as u64;
    let mut connections = Vec::new();
    for participant in &spec.participants {
        let conn = Participant::connect(&participant.client)
            .await
            .with_context(|| format!("participant {}", participant.name))?;
        connections.push(conn);
    }
    // The schedule starts once every participant is signed on, so connection set-up is not
    // counted as queueing.
    let start = Instant::now() + Duration::from_millis(20);
    let total = options.warmup + spec.duration;
    let mut tasks = Vec::new();
    for (i, (participant, conn)) in spec.participants.iter().zip(connections).enumerate() {
        let share = spec.rate_per_s / n + u64::from((i as u64) < spec.rate_per_s % n);
        let mixer = Mixer::new(
            &spec.template,
            participant.bic.as_ref(),
            &participant.name,
            options.mix,
            options.large_bytes,
            options.seed.wrapping_add(i as u64),
        );
        let count = share * total.as_millis() as u64 / 1000;
        let warmup_count = share * options.warmup.as_millis() as u64 / 1000;
        let run = Run {
            rate: share,
            count,
            warmup_count,
            start,
            measure_start: start + options.warmup,
            drain: spec.drain,
            answers: options.answers,
            live: options.live.clone(),
        };
        tasks.push(tokio::spawn(drive(conn, mixer, run)));
    }
    let mut report = LoadReport::new();
    for task in tasks {
        report.merge(task.await.context("participant task panicked")??);
    }
    Ok(report)
}

/// The schedule of one participant.
#[derive(Debug, Clone)]
struct Run {
    rate: u64,
    count: u64,
    warmup_count: u64,
    start: Instant,
    measure_start: Instant,
    drain: Duration,
    answers: AnswerMode,
    live: Option<Arc<LiveCounters>>,
}

async fn drive(conn: Participant, mut mixer: Mixer, run: Run) -> anyhow::Result<LoadReport> {
    let Participant { reader, tx, credit_window, .. } = conn;
    let credits = Arc::new(Semaphore::new(credit_window));
    let pending: Pending = Arc::new(Mutex::new(HashMap::new()));
    let receiver = receive(reader, Arc::clone(&pending), Arc::clone(&credits), run.clone());
    let interval_ns = 1_000_000_000u64.checked_div(run.rate).unwrap_or(0);
    let mut sent: BTreeMap<MessageKind, u64> = BTreeMap::new();
    let mut lag = histogram();
    let mut submitted = 0;
    let mut measured_sent = 0;
    for i in 0..run.count {
        let due = run.start + Duration::from_nanos(i * interval_ns);
        tokio::time::sleep_until(due).await;
        credits.acquire().await.context("credit semaphore closed")?.forget();
        let made = mixer.make(i);
        let correlation = i + 1;
        let measured = i >= run.warmup_count;
        *sent.entry(made.kind).or_default() += 1;
        submitted += u64::from(made.kind.is_payment());
        measured_sent += u64::from(measured);
        let written = Instant::now();
        lock(&pending).insert(
            correlation,
            InFlight { due, written, uetr: made.uetr, kind: made.kind, measured, acked: false },
        );
        if measured {
            let _ = lag.record(micros_since(due, written));
        }
        if tx.send(Frame::new(FrameKind::Submit, correlation, made.bytes)).await.is_err() {
            break;
        }
        if let Some(live) = &run.live {
            live.sent.fetch_add(1, Ordering::Relaxed);
        }
    }
    let deadline = Instant::now() + run.drain;
    while Instant::now() < deadline && !lock(&pending).is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = tx.send(Frame::new(FrameKind::SignOff, 0, bytes::Bytes::new())).await;
    let mut report = receiver.abort_and_report().await;
    report.submitted = submitted;
    report.measured_sent = measured_sent;
    report.send_lag_us = lag;
    for (kind, n) in sent {
        report.kinds.entry(kind).or_default().sent = n;
    }
    for left in lock(&pending).values() {
        let stats = report.kinds.entry(left.kind).or_default();
        if left.acked {
            stats.unfinished += 1;
        } else {
            stats.unanswered += 1;
        }
        if !left.kind.is_payment() {
            continue;
        }
        if left.acked {
            report.stuck += 1;
            report.acknowledged_uetrs.push(left.uetr.clone());
        } else {
            report.unanswered += 1;
        }
    }
    Ok(report)
}

fn micros_since(due: Instant, now: Instant) -> u64 {
    u64::try_from(now.saturating_duration_since(due).as_micros().max(1)).unwrap_or(u64::MAX)
}

fn lock(pending: &Pending) -> std::sync::MutexGuard<'_, HashMap<u64, InFlight>> {
    pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The receiving half: shares its report through a mutex so it can be read after abort.
struct Receiver {
    handle: tokio::task::JoinHandle<()>,
    report: Arc<Mutex<LoadReport>>,
}

impl Receiver {
    async fn abort_and_report(self) -> LoadReport {
        self.handle.abort();
        let _ = self.handle.await;
        let mut guard = self.report.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        std::mem::replace(&mut *guard, LoadReport::new())
    }
}

/// An answer, as far as the ledger needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Answer {
    /// A pacs.002 with this `TxSts` and first reason code.
    Status { status: String, reason: Option<String> },
    /// A camt.029 with its `Conf` code.
    Resolution { conf: Option<String> },
    /// The echo server's copy of the submission.
    Echo,
    /// Anything else (named by its root element when found).
    Other(String),
}

impl Answer {
    /// The key it is counted under in [`KindStats::answers`].
    #[must_use]
    pub fn key(&self) -> String {
        match self {
            Self::Status { status, reason: Some(r) } => format!("{status} {r}"),
            Self::Status { status, reason: None } => status.clone(),
            Self::Resolution { conf } => format!("camt.029 {}", conf.as_deref().unwrap_or("-")),
            Self::Echo => "echo".to_owned(),
            Self::Other(what) => format!("other {what}"),
        }
    }

    /// The answer is not the last one for its submission (ACTC, RCVD, ACSP: an outcome follows).
    #[must_use]
    pub fn is_intermediate(&self) -> bool {
        matches!(self, Self::Status { status, .. } if matches!(status.as_str(), "ACTC" | "RCVD" | "ACSP" | "ACCP"))
    }
}

/// The text of the first `<tag>...</tag>` in `payload` (no prefixes: the switch writes none).
fn element<'a>(payload: &'a [u8], tag: &str) -> Option<&'a str> {
    let open = format!("<{tag}>");
    let at = find(payload, open.as_bytes())? + open.len();
    let len = payload[at..].iter().position(|b| *b == b'<')?;
    std::str::from_utf8(&payload[at..at + len]).ok().map(str::trim)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Classifies a status payload by a byte scan (full parse as a fallback for pacs.002).
#[must_use]
pub fn classify(payload: &[u8]) -> Answer {
    if find(payload, b"<FIToFIPmtStsRpt>").is_some() {
        if let Some(status) = element(payload, "TxSts") {
            let rsn = find(payload, b"<StsRsnInf>").map_or(&payload[..0], |at| &payload[at..]);
            let reason = element(rsn, "Cd").or_else(|| element(rsn, "Prtry")).map(str::to_owned);
            return Answer::Status { status: status.to_owned(), reason };
        }
        if let Ok(report) = read_pacs002(payload, &Limits::default()) {
            if let Some(tx) = report.txs.first() {
                let reason = tx.reason_code().map(str::to_owned);
                return Answer::Status { status: tx.tx_sts.as_str().to_owned(), reason };
            }
        }
        return Answer::Other("pacs.002 without TxSts".to_owned());
    }
    if find(payload, b"<RsltnOfInvstgtn>").is_some() {
        return Answer::Resolution { conf: element(payload, "Conf").map(str::to_owned) };
    }
    let root = find(payload, b"<Document").and_then(|at| {
        let rest = &payload[at..];
        let close = rest.iter().position(|b| *b == b'>')?;
        let next = rest[close + 1..].iter().position(|b| *b == b'<')?;
        let name = &rest[close + 1 + next + 1..];
        let end = name.iter().position(|b| matches!(b, b'>' | b' ' | b'/'))?;
        std::str::from_utf8(&name[..end]).ok().map(str::to_owned)
    });
    Answer::Other(root.unwrap_or_else(|| "unreadable".to_owned()))
}

fn receive<S>(
    mut reader: switchyard_wire::conn::FrameReader<S>,
    pending: Pending,
    credits: Arc<Semaphore>,
    run: Run,
) -> Receiver
where
    S: tokio::io::AsyncRead + Send + 'static,
{
    let report = Arc::new(Mutex::new(LoadReport::new()));
    let shared = Arc::clone(&report);
    let handle = tokio::spawn(async move {
        while let Some(Ok(frame)) = reader.next().await {
            // Only Status frames answer a submission: a Deliver carries the node's own
            // correlation space (inbound messages), so it is never matched to a send.
            if frame.kind != FrameKind::Status {
                continue;
            }
            let answer = match run.answers {
                AnswerMode::Echo => Answer::Echo,
                AnswerMode::Switch => classify(&frame.payload),
            };
            let now = Instant::now();
            let mut report = shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut pending = lock(&pending);
            let Some(entry) = pending.get_mut(&frame.correlation) else { continue };
            let micros = micros_since(entry.due, now);
            *report.kinds.entry(entry.kind).or_default().answers.entry(answer.key()).or_default() += 1;
            if entry.kind.is_payment() {
                match &answer {
                    Answer::Echo => {
                        report.acknowledged += 1;
                        report.settled += 1;
                        if entry.measured {
                            report.measured_acknowledged += 1;
                            let _ = report.ack_us.record(micros);
                            report.ack_elapsed = now.saturating_duration_since(run.measure_start);
                        }
                        entry.acked = true;
                    }
                    Answer::Status { status, .. } if status == "ACTC" => {
                        if !entry.acked {
                            entry.acked = true;
                            report.acknowledged += 1;
                            if entry.measured {
                                report.measured_acknowledged += 1;
                                let _ = report.ack_us.record(micros);
                                let _ = report.admitted_ack_us.record(micros_since(entry.written, now));
                                report.ack_elapsed = now.saturating_duration_since(run.measure_start);
                            }
                            if let Some(live) = &run.live {
                                live.acked.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        continue;
                    }
                    a if a.is_intermediate() => continue,
                    Answer::Status { status, .. } => match status.as_str() {
                        "ACSC" | "ACCC" => report.settled += 1,
                        "RJCT" if entry.acked => report.rejected += 1,
                        "RJCT" => report.refused += 1,
                        _ => report.in_doubt += 1,
                    },
                    _ => report.in_doubt += 1,
                }
                if entry.measured {
                    let _ = report.final_us.record(micros);
                }
            } else {
                if answer.is_intermediate() {
                    entry.acked = true;
                    continue;
                }
                if entry.measured {
                    let _ = report.other_us.record(micros);
                }
            }
            if let Some(done) = pending.remove(&frame.correlation) {
                if done.acked && done.kind.is_payment() {
                    report.acknowledged_uetrs.push(done.uetr);
                }
                if let Some(live) = &run.live {
                    if run.answers == AnswerMode::Echo && done.kind.is_payment() {
                        live.acked.fetch_add(1, Ordering::Relaxed);
                    }
                    live.finished.fetch_add(1, Ordering::Relaxed);
                }
            }
            report.elapsed = now.saturating_duration_since(run.start);
            credits.add_permits(1);
        }
    });
    Receiver { handle, report }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_are_classified_by_scan() {
        let rjct = br#"<Document xmlns="urn:iso:std:iso:20022:tech:xsd:pacs.002.001.10"><FIToFIPmtStsRpt><TxInfAndSts><TxSts>RJCT</TxSts><StsRsnInf><Rsn><Cd>FF01</Cd></Rsn></StsRsnInf></TxInfAndSts></FIToFIPmtStsRpt></Document>"#;
        assert_eq!(classify(rjct).key(), "RJCT FF01");
        let actc = br"<Document><FIToFIPmtStsRpt><TxInfAndSts><TxSts>ACTC</TxSts></TxInfAndSts></FIToFIPmtStsRpt></Document>";
        assert!(classify(actc).is_intermediate());
        let camt = br"<Document><RsltnOfInvstgtn><Sts><Conf>RJCR</Conf></Sts></RsltnOfInvstgtn></Document>";
        assert_eq!(classify(camt).key(), "camt.029 RJCR");
        assert_eq!(classify(b"<Document xmlns=\"x\"><FIToFIPmtStsReq>").key(), "other FIToFIPmtStsReq");
    }
}
