//! A generic load driver for any "submit these bytes, await a durable acknowledgement" sink.
//!
//! Owns the schedule semantics that `switchyard-bench peer` uses against NATS JetStream,
//! RabbitMQ and PostgreSQL, so a peer is measured exactly like the switch:
//!
//! - **Open loop** ([`Pacing::Rate`]): each session sends its share of the total rate on a fixed
//!   schedule, message `i` due at `start + i / share`. Latency is measured from that due time, so
//!   time spent waiting for the window or for a stalled sink counts against the sink (no
//!   coordinated omission) — the semantics of [`crate::loadgen`], which drives the switch's own
//!   protocol. (loadgen could be folded onto this driver with a [`Session`] for the switch.)
//! - **Closed loop** ([`Pacing::Saturate`]): each session keeps its window full for the duration;
//!   latency is measured from the moment a message could be sent. This finds a sink's maximum
//!   acknowledged rate at a fixed concurrency.
//!
//! In both modes a session never has more than `window` submissions awaiting acknowledgement
//! (the switch's credit window). Messages come from a [`MessageFactory`]: the same pacs.008 bytes
//! the switch load sends.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use bytes::Bytes;
use hdrhistogram::Histogram;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::messages::MessageFactory;

/// How many distinct error messages a report keeps (the count covers all of them).
const KEPT_ERRORS: usize = 5;

/// One message to submit.
#[derive(Debug, Clone)]
pub struct Message {
    /// The message identification (pacs.008 MsgId): unique per run, the peer's dedup key.
    pub id: String,
    /// The transaction's UETR.
    pub uetr: String,
    /// The serialized pacs.008.
    pub body: Bytes,
}

/// What a submission resolves to: `Ok` once the sink has durably acknowledged the message.
pub type Ack = Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send + 'static>>;

/// One connection/session to a sink. Submissions may be awaited concurrently.
pub trait Session: Send + Sync + 'static {
    /// Submits `message`; the future resolves when the sink has acknowledged it durably.
    fn submit(&self, message: Message) -> Ack;
}

/// How messages are paced.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pacing {
    /// Open loop: this many messages per second in total, spread evenly over the sessions.
    Rate(u64),
    /// Closed loop: every session keeps its window full.
    Saturate,
}

/// What to run.
#[derive(Debug, Clone)]
pub struct DriveSpec {
    pub pacing: Pacing,
    pub duration: Duration,
    /// Submissions a session may have awaiting acknowledgement (≥ 1).
    pub window: usize,
    /// How long to wait for outstanding acknowledgements after the last send.
    pub drain: Duration,
}

/// What happened.
#[derive(Debug)]
pub struct DriveReport {
    pub submitted: u64,
    pub acknowledged: u64,
    /// Submissions the sink answered with an error.
    pub errors: u64,
    /// Submissions with no answer by the end of the drain.
    pub unanswered: u64,
    /// Up to a few distinct error messages, for the report.
    pub error_samples: Vec<String>,
    /// Due (open loop) or sendable (closed loop) → acknowledged, microseconds.
    pub ack_us: Histogram<u64>,
    /// From the start of the schedule to the last acknowledgement.
    pub ack_elapsed: Duration,
}

impl DriveReport {
    fn new() -> Self {
        Self {
            submitted: 0,
            acknowledged: 0,
            errors: 0,
            unanswered: 0,
            error_samples: Vec::new(),
            ack_us: Histogram::new_with_bounds(1, 120_000_000, 3).expect("static bounds are valid"),
            ack_elapsed: Duration::ZERO,
        }
    }

    /// Acknowledged messages per second over the acknowledgement span.
    #[must_use]
    pub fn ack_throughput(&self) -> f64 {
        self.acknowledged as f64 / self.ack_elapsed.as_secs_f64().max(0.001)
    }

    fn record_error(&mut self, error: &anyhow::Error) {
        self.errors += 1;
        let text = format!("{error:#}");
        if self.error_samples.len() < KEPT_ERRORS && !self.error_samples.contains(&text) {
            self.error_samples.push(text);
        }
    }

    fn merge(&mut self, other: Self) {
        self.submitted += other.submitted;
        self.acknowledged += other.acknowledged;
        self.errors += other.errors;
        self.unanswered += other.unanswered;
        for e in other.error_samples {
            if self.error_samples.len() < KEPT_ERRORS && !self.error_samples.contains(&e) {
                self.error_samples.push(e);
            }
        }
        let _ = self.ack_us.add(&other.ack_us);
        self.ack_elapsed = self.ack_elapsed.max(other.ack_elapsed);
    }
}

/// Drives `sessions` (one task each) and returns the merged report. `factories[i]` makes the
/// messages of session `i`; give each a distinct prefix so message ids are unique.
pub async fn run(
    sessions: Vec<Arc<dyn Session>>,
    factories: Vec<MessageFactory>,
    spec: &DriveSpec,
) -> anyhow::Result<DriveReport> {
    anyhow::ensure!(!sessions.is_empty(), "no sessions to drive");
    anyhow::ensure!(sessions.len() == factories.len(), "one message factory per session");
    anyhow::ensure!(spec.window >= 1, "the window must be at least 1");
    let n = sessions.len() as u64;
    let start = Instant::now() + Duration::from_millis(20);
    let mut tasks = Vec::new();
    for (i, (session, factory)) in sessions.into_iter().zip(factories).enumerate() {
        let pacing = match spec.pacing {
            Pacing::Rate(rate) => Pacing::Rate(rate / n + u64::from((i as u64) < rate % n)),
            Pacing::Saturate => Pacing::Saturate,
        };
        let session_spec = DriveSpec { pacing, ..spec.clone() };
        tasks.push(tokio::spawn(drive(session, factory, session_spec, start)));
    }
    let mut report = DriveReport::new();
    for task in tasks {
        report.merge(task.await.context("session task panicked")?);
    }
    Ok(report)
}

/// The outcome of one submission: when it completed and what the sink said.
type Done = (Instant, Instant, anyhow::Result<()>);

async fn drive(
    session: Arc<dyn Session>,
    factory: MessageFactory,
    spec: DriveSpec,
    start: Instant,
) -> DriveReport {
    let window = Arc::new(Semaphore::new(spec.window));
    let mut in_flight: JoinSet<Done> = JoinSet::new();
    let mut report = DriveReport::new();
    let end = start + spec.duration;
    let (count, interval_ns) = match spec.pacing {
        Pacing::Rate(rate) => {
            let count = rate.saturating_mul(spec.duration.as_millis() as u64) / 1000;
            (count, 1_000_000_000u64.checked_div(rate).unwrap_or(0))
        }
        Pacing::Saturate => (u64::MAX, 0),
    };
    tokio::time::sleep_until(start).await;
    for i in 0..count {
        let scheduled = match spec.pacing {
            Pacing::Rate(_) => {
                let due = start + Duration::from_nanos(i.saturating_mul(interval_ns));
                tokio::time::sleep_until(due).await;
                Some(due)
            }
            Pacing::Saturate => None,
        };
        let Ok(permit) = Arc::clone(&window).acquire_owned().await else { break };
        // Open loop: latency counts from the due time, window waits included. Closed loop: a
        // message becomes sendable when a window slot frees up.
        let due = match scheduled {
            Some(due) => due,
            None if Instant::now() >= end => break,
            None => Instant::now(),
        };
        let (xml, uetr) = factory.make(i);
        let message = Message { id: factory.msg_id(i), uetr, body: Bytes::from(xml) };
        let ack = session.submit(message);
        report.submitted += 1;
        in_flight.spawn(async move {
            let result = ack.await;
            drop(permit);
            (due, Instant::now(), result)
        });
        while let Some(done) = in_flight.try_join_next() {
            tally(&mut report, done, start);
        }
    }
    let deadline = tokio::time::Instant::now() + spec.drain;
    while let Ok(Some(done)) = tokio::time::timeout_at(deadline, in_flight.join_next()).await {
        tally(&mut report, done, start);
    }
    report.unanswered += in_flight.len() as u64;
    in_flight.abort_all();
    report
}

fn tally(report: &mut DriveReport, done: Result<Done, tokio::task::JoinError>, start: Instant) {
    match done {
        Ok((due, at, Ok(()))) => {
            report.acknowledged += 1;
            let micros = u64::try_from(at.saturating_duration_since(due).as_micros()).unwrap_or(u64::MAX);
            let _ = report.ack_us.record(micros.max(1));
            report.ack_elapsed = report.ack_elapsed.max(at.saturating_duration_since(start));
        }
        Ok((_, _, Err(e))) => report.record_error(&e),
        Err(e) => report.record_error(&anyhow::anyhow!("submission task failed: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
    use std::sync::Mutex;

    use switchyard_iso20022::{read_pacs008, Limits};

    use super::*;

    fn factory(prefix: &str) -> MessageFactory {
        let xml = include_bytes!("../templates/pacs008.xml");
        let template = read_pacs008(xml, &Limits::default()).expect("the bench template reads");
        MessageFactory::new(template, prefix)
    }

    /// An in-memory sink: acknowledges after `delay` (the first one after `first_delay`), fails
    /// every `fail_every`th submission, and counts what it saw.
    struct MemorySink {
        delay: Duration,
        first_delay: Duration,
        fail_every: u64,
        seen: AtomicU64,
        in_flight: Arc<AtomicUsize>,
        max_in_flight: Arc<AtomicUsize>,
        ids: Mutex<Vec<String>>,
    }

    impl MemorySink {
        fn new(delay: Duration) -> Self {
            Self {
                delay,
                first_delay: delay,
                fail_every: 0,
                seen: AtomicU64::new(0),
                in_flight: Arc::new(AtomicUsize::new(0)),
                max_in_flight: Arc::new(AtomicUsize::new(0)),
                ids: Mutex::new(Vec::new()),
            }
        }
    }

    impl Session for MemorySink {
        fn submit(&self, message: Message) -> Ack {
            let n = self.seen.fetch_add(1, Ordering::SeqCst) + 1;
            assert!(message.body.starts_with(b"<?xml") || message.body.starts_with(b"<"), "XML bytes");
            self.ids.lock().unwrap().push(message.id);
            let now = self.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
            self.max_in_flight.fetch_max(now, Ordering::SeqCst);
            let delay = if n == 1 { self.first_delay } else { self.delay };
            let fail = self.fail_every > 0 && n % self.fail_every == 0;
            let in_flight = Arc::clone(&self.in_flight);
            Box::pin(async move {
                tokio::time::sleep(delay).await;
                in_flight.fetch_sub(1, Ordering::SeqCst);
                if fail {
                    anyhow::bail!("refused by the sink");
                }
                Ok(())
            })
        }
    }

    #[tokio::test]
    async fn open_loop_counts_a_stall_against_the_sink() {
        // Window 1 and a first ack that takes 300 ms: the messages due during the stall wait for
        // it, and their latency is measured from when they were due, not from when they went out.
        let mut sink = MemorySink::new(Duration::from_millis(1));
        sink.first_delay = Duration::from_millis(300);
        let sink = Arc::new(sink);
        let spec = DriveSpec {
            pacing: Pacing::Rate(100),
            duration: Duration::from_millis(500),
            window: 1,
            drain: Duration::from_secs(30),
        };
        let report = run(vec![sink.clone() as Arc<dyn Session>], vec![factory("t")], &spec).await.unwrap();
        assert_eq!(report.submitted, 50);
        assert_eq!(report.acknowledged, 50, "{report:?}");
        assert_eq!((report.errors, report.unanswered), (0, 0));
        assert_eq!(sink.max_in_flight.load(Ordering::SeqCst), 1, "never more than the window");
        // Message k was due at 10k ms but could only go after the first ack at ~300 ms: the ~20
        // messages due in the first 200 ms all waited at least 100 ms, which a closed-loop
        // measurement (latency from the actual send) would not show.
        assert!(report.ack_us.max() >= 290_000, "max {}", report.ack_us.max());
        let waited = report.ack_us.count_between(100_000, u64::MAX);
        assert!(waited >= 20, "{waited} messages waited >= 100 ms");
        // Every message id is distinct.
        let mut ids = sink.ids.lock().unwrap().clone();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), 50);
    }

    #[tokio::test]
    async fn rate_is_split_over_sessions_and_errors_are_counted() {
        let sinks: Vec<Arc<MemorySink>> = (0..3)
            .map(|_| {
                let mut s = MemorySink::new(Duration::from_millis(2));
                s.fail_every = 4;
                Arc::new(s)
            })
            .collect();
        let spec = DriveSpec {
            pacing: Pacing::Rate(200),
            duration: Duration::from_millis(400),
            window: 8,
            drain: Duration::from_secs(30),
        };
        let sessions = sinks.iter().map(|s| Arc::clone(s) as Arc<dyn Session>).collect();
        let factories = (0..3).map(|i| factory(&format!("s{i}"))).collect();
        let report = run(sessions, factories, &spec).await.unwrap();
        // 200/s over 3 sessions = 67 + 67 + 66 per second; 0.4 s of it.
        let seen: Vec<u64> = sinks.iter().map(|s| s.seen.load(Ordering::SeqCst)).collect();
        assert_eq!(seen, vec![26, 26, 26]);
        assert_eq!(report.submitted, 78);
        assert_eq!(report.errors, 3 * 6, "every 4th of 26 fails: {report:?}");
        assert_eq!(report.acknowledged, 78 - 18);
        assert_eq!(report.error_samples, vec!["refused by the sink".to_owned()]);
    }

    #[tokio::test]
    async fn closed_loop_keeps_the_window_full_and_stops_at_the_duration() {
        let sink = Arc::new(MemorySink::new(Duration::from_millis(5)));
        let spec = DriveSpec {
            pacing: Pacing::Saturate,
            duration: Duration::from_millis(300),
            window: 4,
            drain: Duration::from_secs(30),
        };
        let started = std::time::Instant::now();
        let report = run(vec![sink.clone() as Arc<dyn Session>], vec![factory("c")], &spec).await.unwrap();
        assert!(started.elapsed() < Duration::from_secs(20), "stops after its duration");
        assert!(report.acknowledged >= 4, "{report:?}");
        assert_eq!(report.acknowledged, report.submitted);
        assert_eq!(sink.max_in_flight.load(Ordering::SeqCst), 4, "the window is kept full, never exceeded");
        assert!(report.ack_throughput() > 0.0);
    }

    #[tokio::test]
    async fn a_sink_that_never_answers_is_reported_unanswered_after_the_drain() {
        let sink = Arc::new(MemorySink::new(Duration::from_secs(3600)));
        let spec = DriveSpec {
            pacing: Pacing::Rate(50),
            duration: Duration::from_millis(100),
            window: 16,
            drain: Duration::from_millis(200),
        };
        let report = run(vec![sink as Arc<dyn Session>], vec![factory("u")], &spec).await.unwrap();
        assert_eq!(report.submitted, 5);
        assert_eq!((report.acknowledged, report.unanswered), (0, 5));
    }
}
