//! The projector: keeps the sled state store (payments, idempotency, DLQ, audit chain) in step
//! with the journal, on its own thread, because every sled transaction blocks on disk.
//!
//! Durable records arrive through a bounded channel from the journal port's completions and are
//! applied in batches. The store is a projection: it may lag, and it never backs an ACK. If the
//! channel is full the record is not waited for — the projector notices the gap in sequence
//! numbers and replays the missing records from the journal files (`catch_up`), so nothing is
//! ever lost from the projection, only delayed.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender};
use switchyard_actors::JournalRecord;
use switchyard_journal::state::StateStore;
use switchyard_journal::Journal;

/// Records applied per sled transaction, at most.
const BATCH: usize = 256;

/// How long the projector keeps collecting after a batch's first record before applying it.
/// A sled transaction costs far more than a record in it (bench/RESULTS.md §3: ~10,000
/// records/s one per transaction, 34,000–50,000/s in batches of 256), and at a few thousand
/// payments/s records arrive one at a time, so without a pause almost every transaction held a
/// single record and the projection with sled's writer threads took ~45 % of a core at 2,000
/// payments/s. Measured, node pinned to one core at 2,000 payments/s: 90–91 % busy without the
/// pause, 69–74 % with 5 ms, 64–66 % with 20 ms. The projection never backs an ACK; it is this
/// much later at most.
const LINGER: Duration = Duration::from_millis(20);

/// How often the projector looks for more records while it lingers.
const LINGER_STEP: Duration = Duration::from_millis(5);

/// One durable record on its way to the store. Boxed: the bounded channel preallocates every
/// slot, and a boxed slot is 16 bytes where an inline `JournalRecord` is a few hundred (idle
/// memory, bench/RESULTS.md §4).
pub type Projected = (u64, Box<JournalRecord>);

/// The projector's handle: its input and its thread.
#[derive(Debug)]
pub struct Projector {
    tx: Sender<Projected>,
    /// Set by `stop`: senders live on in shared contexts, so the channel alone never closes.
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Projector {
    /// Starts the thread; `capacity` bounds the records waiting to be applied. With
    /// `retention`, every `interval` the store is checkpointed (flushed and fsynced) and the
    /// journal segments it fully covers are archived, so start-up recovery stays short.
    pub fn start(
        store: StateStore,
        journal_dir: PathBuf,
        capacity: usize,
        retention: Option<Retention>,
    ) -> std::io::Result<Self> {
        let (tx, rx) = crossbeam_channel::bounded(capacity);
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = Arc::clone(&stop);
        let thread = std::thread::Builder::new()
            .name("state-projector".into())
            .spawn(move || run(&store, &journal_dir, &rx, &stopping, retention.as_ref()))?;
        Ok(Self { tx, stop, thread: Some(thread) })
    }

    /// A sender for the journal port: `try_send` after each durable record.
    #[must_use]
    pub fn sender(&self) -> Sender<Projected> {
        self.tx.clone()
    }

    /// Stops after applying everything sent so far (and catching up from the journal).
    pub fn stop(mut self) {
        let Some(thread) = self.thread.take() else { return };
        self.stop.store(true, Ordering::Release);
        let _ = thread.join();
    }
}

/// The journal's retention, driven by the projector: archive what the store has checkpointed.
#[derive(Debug, Clone)]
pub struct Retention {
    pub journal: Journal,
    pub interval: Duration,
}

impl Retention {
    /// Checkpoints the store, then archives the journal segments it fully covers.
    fn run(&self, store: &StateStore) {
        let result = store
            .checkpoint()
            .map_err(|e| e.to_string())
            .and_then(|durable| self.journal.archive_before(durable + 1).map_err(|e| e.to_string()));
        match result {
            Ok(0) => {}
            Ok(moved) => tracing::debug!(segments = moved, "journal segments archived"),
            Err(error) => tracing::warn!(%error, "state checkpoint or journal archiving failed; will retry"),
        }
    }
}

fn run(
    store: &StateStore,
    journal_dir: &Path,
    rx: &Receiver<Projected>,
    stop: &AtomicBool,
    retention: Option<&Retention>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    let mut last_checkpoint = Instant::now();
    loop {
        if let Some(r) = retention.filter(|r| last_checkpoint.elapsed() >= r.interval) {
            r.run(store);
            last_checkpoint = Instant::now();
        }
        match rx.recv_timeout(Duration::from_millis(50)) {
            Ok(first) => batch.push(first),
            Err(RecvTimeoutError::Timeout) if stop.load(Ordering::Acquire) => break,
            Err(RecvTimeoutError::Timeout) => continue,
            Err(RecvTimeoutError::Disconnected) => break,
        }
        collect(rx, &mut batch, Instant::now() + LINGER);
        // The journal completes batches in sequence order; concurrent completions may still
        // interleave across threads, so sort before applying.
        batch.sort_by_key(|(seq, _)| *seq);
        apply(store, journal_dir, &batch);
        batch.clear();
    }
    if let Err(e) = store.catch_up(journal_dir).and_then(|_| store.flush()) {
        tracing::error!(error = %e, "state store: final catch-up failed; run `switchyard reindex`");
    } else if let Some(r) = retention {
        // A clean stop leaves only the live tail for the next start to scan.
        r.run(store);
    }
}

/// Fills `batch` up to [`BATCH`] records with what arrives before `until`, looking every
/// [`LINGER_STEP`]. Sleeping between looks, rather than blocking in `recv` for each record,
/// matters: every blocking `recv` spun (`sched_yield`) before it parked and every record then
/// cost its sender a futex wake — 9 % of the projector's time at 6,000 payments/s
/// (bench/RESULTS.md §0).
fn collect(rx: &Receiver<Projected>, batch: &mut Vec<Projected>, until: Instant) {
    loop {
        let room = BATCH.saturating_sub(batch.len());
        batch.extend(rx.try_iter().take(room));
        let now = Instant::now();
        if batch.len() >= BATCH || now >= until {
            return;
        }
        std::thread::sleep((until - now).min(LINGER_STEP));
    }
}

fn apply(store: &StateStore, journal_dir: &Path, batch: &[Projected]) {
    let applied = store.applied_seq();
    let fresh: Vec<(u64, &JournalRecord)> =
        batch.iter().filter(|(seq, _)| *seq > applied).map(|(seq, record)| (*seq, &**record)).collect();
    if fresh.is_empty() {
        return;
    }
    if let Err(e) = store.apply_refs(&fresh) {
        // A gap (channel full, or records completed out of order): replay from the journal.
        tracing::debug!(error = %e, "state store behind; catching up from the journal");
        if let Err(e) = store.catch_up(journal_dir) {
            tracing::error!(error = %e, "state store catch-up failed; run `switchyard reindex`");
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, Instant};

    use switchyard_actors::record::{JournalRecord, UnmatchedReply};

    use super::{collect, Projected, BATCH};

    fn record(seq: u64) -> Projected {
        let reply = UnmatchedReply {
            link: "sim".into(),
            uetr: None,
            status: "ACSC".into(),
            correlation: seq,
            message: Vec::new(),
            at_ms: 0,
        };
        (seq, Box::new(JournalRecord::UnmatchedReply(reply)))
    }

    #[test]
    fn a_full_batch_is_taken_at_once_and_the_rest_left_queued() {
        let (tx, rx) = crossbeam_channel::unbounded();
        for seq in 1..=(BATCH as u64 + 10) {
            tx.send(record(seq)).unwrap();
        }
        let mut batch = Vec::new();
        let started = Instant::now();
        collect(&rx, &mut batch, started + Duration::from_secs(60));
        assert_eq!(batch.len(), BATCH);
        assert!(started.elapsed() < Duration::from_secs(30), "waited for the linger with a full batch");
        assert_eq!(rx.len(), 10);
    }

    #[test]
    fn records_arriving_while_lingering_join_the_batch_until_the_deadline() {
        let (tx, rx) = crossbeam_channel::unbounded();
        let sender = std::thread::spawn(move || {
            for seq in 1..=3 {
                std::thread::sleep(Duration::from_millis(10));
                tx.send(record(seq)).unwrap();
            }
        });
        let mut batch = Vec::new();
        let started = Instant::now();
        collect(&rx, &mut batch, started + Duration::from_millis(400));
        sender.join().unwrap();
        assert_eq!(batch.iter().map(|(seq, _)| *seq).collect::<Vec<_>>(), vec![1, 2, 3]);
        assert!(started.elapsed() >= Duration::from_millis(400), "returned before the deadline");
    }
}
