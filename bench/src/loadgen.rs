//! Open-loop load from simulated participants.
//!
//! Each participant sends at a constant rate on a fixed schedule: message `i` is due at
//! `start + i / rate`. Latency is measured from that due time, not from when the message was
//! actually written, so time spent waiting for credit or for a slow socket counts against the
//! switch (no coordinated omission). The generator honours the credit window the switch grants
//! at sign-on: it never has more submissions in flight than that.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::Context;
use futures::StreamExt;
use hdrhistogram::Histogram;
use switchyard_iso20022::{read_pacs002, Limits, Pacs008, TxStatus};
use switchyard_wire::{Frame, FrameKind};
use tokio::sync::Semaphore;
use tokio::time::Instant;

use crate::client::{ClientSpec, Participant};
use crate::messages::MessageFactory;

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

/// What happened, from the participants' side (the independent ledger).
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
    /// Submit → outcome, microseconds from the intended send time.
    pub final_us: Histogram<u64>,
    /// From the first intended send to the last status received.
    pub elapsed: Duration,
    /// From the first intended send to the last ACTC received: the span acknowledged
    /// throughput is measured over.
    pub ack_elapsed: Duration,
    /// UETRs that were acknowledged (for durability checks).
    pub acknowledged_uetrs: Vec<String>,
}

impl LoadReport {
    /// Acknowledged payments per second over the acknowledgement span.
    #[must_use]
    pub fn ack_throughput(&self) -> f64 {
        self.acknowledged as f64 / self.ack_elapsed.as_secs_f64().max(0.001)
    }
}

impl LoadReport {
    fn new() -> Self {
        let hist = || Histogram::new_with_bounds(1, 120_000_000, 3).expect("static bounds are valid");
        Self {
            submitted: 0,
            acknowledged: 0,
            settled: 0,
            rejected: 0,
            refused: 0,
            in_doubt: 0,
            stuck: 0,
            unanswered: 0,
            ack_us: hist(),
            final_us: hist(),
            elapsed: Duration::ZERO,
            ack_elapsed: Duration::ZERO,
            acknowledged_uetrs: Vec::new(),
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
        let _ = self.final_us.add(&other.final_us);
        self.elapsed = self.elapsed.max(other.elapsed);
        self.ack_elapsed = self.ack_elapsed.max(other.ack_elapsed);
        self.acknowledged_uetrs.extend(other.acknowledged_uetrs);
    }
}

#[derive(Debug)]
struct InFlight {
    due: Instant,
    uetr: String,
    acked: bool,
}

type Pending = Arc<Mutex<HashMap<u64, InFlight>>>;

/// Runs the load and returns the merged report.
pub async fn run(spec: LoadSpec) -> anyhow::Result<LoadReport> {
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
    let mut tasks = Vec::new();
    for (i, (participant, conn)) in spec.participants.iter().zip(connections).enumerate() {
        let share = spec.rate_per_s / n + u64::from((i as u64) < spec.rate_per_s % n);
        let mut factory = MessageFactory::new(spec.template.clone(), &participant.name);
        if let Some(bic) = &participant.bic {
            factory = factory.sending_as(bic);
        }
        let count = share * spec.duration.as_millis() as u64 / 1000;
        tasks.push(tokio::spawn(drive(conn, factory, share, count, start, spec.drain)));
    }
    let mut report = LoadReport::new();
    for task in tasks {
        report.merge(task.await.context("participant task panicked")??);
    }
    Ok(report)
}

async fn drive(
    conn: Participant,
    factory: MessageFactory,
    rate: u64,
    count: u64,
    start: Instant,
    drain: Duration,
) -> anyhow::Result<LoadReport> {
    let Participant { reader, tx, credit_window, .. } = conn;
    let credits = Arc::new(Semaphore::new(credit_window));
    let pending: Pending = Arc::new(Mutex::new(HashMap::new()));
    let receiver = receive(reader, Arc::clone(&pending), Arc::clone(&credits), start);
    let interval_ns = 1_000_000_000u64.checked_div(rate).unwrap_or(0);
    for i in 0..count {
        let due = start + Duration::from_nanos(i * interval_ns);
        tokio::time::sleep_until(due).await;
        credits.acquire().await.context("credit semaphore closed")?.forget();
        let (xml, uetr) = factory.make(i);
        let correlation = i + 1;
        lock(&pending).insert(correlation, InFlight { due, uetr, acked: false });
        if tx.send(Frame::new(FrameKind::Submit, correlation, xml)).await.is_err() {
            break;
        }
    }
    let deadline = Instant::now() + drain;
    while Instant::now() < deadline && !lock(&pending).is_empty() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let _ = tx.send(Frame::new(FrameKind::SignOff, 0, bytes::Bytes::new())).await;
    let mut report = receiver.abort_and_report().await;
    report.submitted = count;
    for left in lock(&pending).values() {
        if left.acked {
            report.stuck += 1;
            report.acknowledged_uetrs.push(left.uetr.clone());
        } else {
            report.unanswered += 1;
        }
    }
    Ok(report)
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

fn receive<S>(
    mut reader: switchyard_wire::conn::FrameReader<S>,
    pending: Pending,
    credits: Arc<Semaphore>,
    start: Instant,
) -> Receiver
where
    S: tokio::io::AsyncRead + Send + 'static,
{
    let report = Arc::new(Mutex::new(LoadReport::new()));
    let shared = Arc::clone(&report);
    let handle = tokio::spawn(async move {
        let limits = Limits::default();
        while let Some(Ok(frame)) = reader.next().await {
            if frame.kind != FrameKind::Status {
                continue;
            }
            let Ok(status) = read_pacs002(&frame.payload, &limits) else { continue };
            let Some(tx) = status.txs.first() else { continue };
            let now = Instant::now();
            let mut report = shared.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let mut pending = lock(&pending);
            let Some(entry) = pending.get_mut(&frame.correlation) else { continue };
            let micros = now.saturating_duration_since(entry.due).as_micros().max(1);
            let micros = u64::try_from(micros).unwrap_or(u64::MAX);
            match tx.tx_sts {
                TxStatus::ACTC => {
                    entry.acked = true;
                    report.acknowledged += 1;
                    let _ = report.ack_us.record(micros);
                    report.ack_elapsed = now.saturating_duration_since(start);
                    continue;
                }
                TxStatus::RCVD => continue,
                TxStatus::ACSC | TxStatus::ACCC => report.settled += 1,
                TxStatus::RJCT if entry.acked => report.rejected += 1,
                TxStatus::RJCT => report.refused += 1,
                _ => report.in_doubt += 1,
            }
            let _ = report.final_us.record(micros);
            if let Some(done) = pending.remove(&frame.correlation) {
                if done.acked {
                    report.acknowledged_uetrs.push(done.uetr);
                }
            }
            report.elapsed = now.saturating_duration_since(start);
            credits.add_permits(1);
        }
    });
    Receiver { handle, report }
}
