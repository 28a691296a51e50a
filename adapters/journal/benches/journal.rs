//! Journal benchmark: durable 1 KiB records per second and ACK latency, with baselines
//! measured in the same run.
//!
//! Run: `cargo bench -p switchyard-journal --bench journal` (harness = false: this is a plain
//! program, not criterion, because what matters here is throughput and a latency
//! distribution under an open-loop load, which criterion's per-iteration model does not give).
//!
//! Scenarios (all 1 KiB payloads, `Fdatasync` mode, one journal per scenario in a fresh
//! temporary directory, `JOURNAL_BENCH_DIR` to choose where):
//! 1. closed loop: W appending threads, each keeping up to `inflight` records outstanding,
//!    across `max_batch_records` limits: max durable records/s and ACK latency;
//! 2. open loop at a constant intended rate (default 50,000/s: half the 100k/s target): ACK
//!    latency measured from each record's *intended* send time (coordinated-omission
//!    corrected);
//! 3. baselines: raw `write` + fdatasync per record on one file, and sled insert + flush;
//! 4. the platform's floor for an open loop: the same pacer feeding one thread that does a raw
//!    write + fdatasync per record, or nothing, at `JOURNAL_BENCH_RAW_RATE` (default 5000/s, a
//!    rate one fdatasync per record sustains), and the journal's open loop at that rate.
//!
//! Knobs: `JOURNAL_BENCH_SECS` (seconds per scenario, default 2; the open loop at the target
//! rate runs at least 20), `JOURNAL_BENCH_RATE`
//! (open-loop rate, default 50000), `JOURNAL_BENCH_HGRM` (a directory to write .hgrm files),
//! `JOURNAL_BENCH_FILTER` (run only scenarios whose key contains it: `raw`, `sled`,
//! `closed-w<writers>-b<batch>`, `open`, `paced-idle`, `paced-raw`, `open-at-raw-rate`;
//! `paced` selects both paced baselines), `JOURNAL_BENCH_SPIN=1` (the open-loop pacers spin
//! instead of sleeping), `JOURNAL_BENCH_MIN_SYNC_US` (the journal's sync pacing in
//! microseconds, default 400; 0 turns it off).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use switchyard_journal::{Journal, JournalConfig, JournalError};

const PAYLOAD_BYTES: usize = 1024;
const RECORD_TYPE: u16 = 1;
/// Shortest run of the open loop at the target rate, seconds.
const OPEN_LOOP_MIN_SECS: u64 = 20;
/// Shortest sleep of the open-loop pacer; records due within it are sent together.
const PACER_TICK: Duration = Duration::from_micros(100);

type Hist = Arc<Mutex<Histogram<u64>>>;

/// One result line.
struct Row {
    name: String,
    records_per_s: f64,
    hist: Histogram<u64>,
    note: String,
}

fn main() {
    // `cargo bench` passes `--bench`; `cargo test --benches` would pass other flags: only run
    // when invoked as a benchmark.
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let secs = env_u64("JOURNAL_BENCH_SECS", 2);
    let rate = env_u64("JOURNAL_BENCH_RATE", 50_000);
    let filter = std::env::var("JOURNAL_BENCH_FILTER").unwrap_or_default();
    SPIN.store(env_u64("JOURNAL_BENCH_SPIN", 0) == 1, Ordering::Relaxed);
    let mut scenarios: Vec<(String, Box<dyn Fn() -> Row>)> = vec![
        ("raw".into(), Box::new(move || raw_fdatasync_baseline(secs))),
        ("sled".into(), Box::new(move || sled_baseline(secs))),
    ];
    for writers in [1usize, 4] {
        for batch in [64usize, 512, 4096] {
            let name = format!("closed-w{writers}-b{batch}");
            scenarios.push((name, Box::new(move || closed_loop(writers, batch, secs))));
        }
    }
    // At least 20 s: at 50,000/s the p99 is then 10,000 records, not 1,500 — one slow
    // fdatasync of the device (they reach 70–300 ms here a few times a minute, the raw
    // baseline's too) must not be the whole 1 %.
    scenarios.push(("open".into(), Box::new(move || open_loop(rate, secs.max(OPEN_LOOP_MIN_SECS)))));
    // The platform's own floor for an open loop: the same pacer feeding a thread that does
    // one write + fdatasync per record (no journal), and feeding a thread that does nothing
    // (the pacer's own lateness), at a rate one fdatasync per record can sustain; and the
    // journal at that same rate.
    let raw_rate = env_u64("JOURNAL_BENCH_RAW_RATE", 5_000);
    scenarios.push(("paced-idle".into(), Box::new(move || paced_raw(raw_rate, secs.max(3), false))));
    scenarios.push(("paced-raw".into(), Box::new(move || paced_raw(raw_rate, secs.max(3), true))));
    scenarios.push(("open-at-raw-rate".into(), Box::new(move || open_loop(raw_rate, secs.max(3)))));
    let rows: Vec<Row> =
        scenarios.iter().filter(|(name, _)| name.contains(&filter)).map(|(_, run)| run()).collect();
    print_rows(&rows);
    if let Ok(dir) = std::env::var("JOURNAL_BENCH_HGRM") {
        write_hgrm(Path::new(&dir), &rows);
    }
}

fn env_u64(key: &str, default: u64) -> u64 {
    std::env::var(key).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn bench_dir() -> tempfile::TempDir {
    match std::env::var("JOURNAL_BENCH_DIR") {
        Ok(d) => tempfile::tempdir_in(d).expect("temp dir in JOURNAL_BENCH_DIR"),
        Err(_) => tempfile::tempdir().expect("temp dir"),
    }
}

fn new_hist() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 60_000_000, 3).expect("histogram bounds")
}

fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX).max(1)
}

/// Baseline: one `write` of 1 KiB then one fdatasync per record, on a plain file.
fn raw_fdatasync_baseline(secs: u64) -> Row {
    let dir = bench_dir();
    let mut f = OpenOptions::new().create(true).append(true).open(dir.path().join("raw")).expect("open raw");
    let payload = vec![0xA5u8; PAYLOAD_BYTES];
    let mut hist = new_hist();
    let (n, elapsed) = for_duration(secs, || {
        let t0 = Instant::now();
        f.write_all(&payload).expect("write");
        f.sync_data().expect("fdatasync");
        hist.record(micros(t0.elapsed())).expect("record");
    });
    Row {
        name: "raw write+fdatasync per record".into(),
        records_per_s: n as f64 / elapsed,
        hist,
        note: "1 thread".into(),
    }
}

/// Baseline: sled insert + flush per record (sled's flush is not an fsync; see DESIGN §5).
fn sled_baseline(secs: u64) -> Row {
    let dir = bench_dir();
    let db = sled::Config::new().path(dir.path().join("sled")).open().expect("open sled");
    let payload = vec![0xA5u8; PAYLOAD_BYTES];
    let mut hist = new_hist();
    let mut key = 0u64;
    let (n, elapsed) = for_duration(secs, || {
        let t0 = Instant::now();
        key += 1;
        db.insert(key.to_be_bytes(), payload.as_slice()).expect("insert");
        db.flush().expect("flush");
        hist.record(micros(t0.elapsed())).expect("record");
    });
    Row {
        name: "sled insert+flush per record".into(),
        records_per_s: n as f64 / elapsed,
        hist,
        note: "1 thread".into(),
    }
}

/// Runs `op` repeatedly for `secs` seconds; returns (iterations, seconds).
fn for_duration(secs: u64, mut op: impl FnMut()) -> (u64, f64) {
    let start = Instant::now();
    let until = start + Duration::from_secs(secs);
    let mut n = 0u64;
    while Instant::now() < until {
        op();
        n += 1;
    }
    (n, start.elapsed().as_secs_f64())
}

fn open_journal(dir: &Path, max_batch_records: usize) -> Journal {
    let mut cfg = JournalConfig::new(dir);
    cfg.max_batch_records = max_batch_records;
    cfg.segment_bytes = env_u64("JOURNAL_BENCH_SEGMENT_MB", 64) << 20;
    if let Ok(us) = std::env::var("JOURNAL_BENCH_MIN_SYNC_US") {
        cfg.min_sync_interval =
            Duration::from_micros(us.parse().expect("JOURNAL_BENCH_MIN_SYNC_US: microseconds"));
    }
    Journal::open(cfg).expect("open journal").0
}

/// A completion that records the ACK latency from `from` and then runs `then`.
fn timed(hist: &Hist, from: Instant, then: impl FnOnce() + Send + 'static) -> switchyard_journal::Completion {
    let hist = Arc::clone(hist);
    Box::new(move |r: Result<u64, JournalError>| {
        r.expect("durable");
        hist.lock().expect("hist").record(micros(from.elapsed())).expect("record");
        then();
    })
}

/// Closed loop: `writers` threads each keep `inflight` records outstanding.
fn closed_loop(writers: usize, batch: usize, secs: u64) -> Row {
    let dir = bench_dir();
    let journal = open_journal(dir.path(), batch);
    let hist: Hist = Arc::new(Mutex::new(new_hist()));
    let stop = Arc::new(AtomicBool::new(false));
    let inflight = (2 * batch).clamp(64, 16_384) / writers;
    let threads: Vec<_> = (0..writers)
        .map(|_| {
            let (j, h, s) = (journal.clone(), Arc::clone(&hist), Arc::clone(&stop));
            thread::spawn(move || closed_loop_writer(&j, &h, &s, inflight))
        })
        .collect();
    thread::sleep(Duration::from_millis(300)); // warm-up: segment creation, first batches
    hist.lock().expect("hist").reset();
    let (before, start) = (journal.stats(), Instant::now());
    thread::sleep(Duration::from_secs(secs));
    let (after, elapsed) = (journal.stats(), start.elapsed().as_secs_f64());
    stop.store(true, Ordering::Relaxed);
    threads.into_iter().for_each(|t| t.join().expect("writer thread"));
    journal.shutdown().expect("shutdown");
    let records = after.records - before.records;
    let batches = (after.batches - before.batches).max(1);
    let fsync_us =
        (after.fsync_micros_total - before.fsync_micros_total) / (after.fsyncs - before.fsyncs).max(1);
    let hist = hist.lock().expect("hist").clone();
    Row {
        name: format!("journal closed loop, max_batch_records={batch}"),
        records_per_s: records as f64 / elapsed,
        hist,
        note: format!(
            "{writers} writers x {inflight} in flight; mean batch {} records; mean fdatasync {fsync_us} us",
            records / batches
        ),
    }
}

fn closed_loop_writer(j: &Journal, hist: &Hist, stop: &AtomicBool, inflight: usize) {
    let (tok_tx, tok_rx) = crossbeam_channel::bounded::<()>(inflight);
    (0..inflight).for_each(|_| tok_tx.send(()).expect("token"));
    let payload = vec![0x5Au8; PAYLOAD_BYTES];
    while !stop.load(Ordering::Relaxed) {
        if tok_rx.recv_timeout(Duration::from_millis(50)).is_err() {
            continue;
        }
        let tok = tok_tx.clone();
        let done = timed(hist, Instant::now(), move || {
            let _ = tok.send(());
        });
        match j.append(RECORD_TYPE, payload.clone(), done) {
            Ok(()) => {}
            Err(JournalError::Full) => {
                let _ = tok_tx.send(());
                thread::yield_now();
            }
            Err(e) => panic!("append: {e}"),
        }
    }
    // Wait for our outstanding records so the journal shuts down with nothing in flight.
    (0..inflight).for_each(|_| {
        let _ = tok_rx.recv_timeout(Duration::from_secs(5));
    });
}

/// Open loop: one pacer sends at a constant intended rate; latency from the intended time.
fn open_loop(rate: u64, secs: u64) -> Row {
    let dir = bench_dir();
    let journal = open_journal(dir.path(), 4096);
    let hist: Hist = Arc::new(Mutex::new(new_hist()));
    let full = Arc::new(AtomicU64::new(0));
    let payload = vec![0x3Cu8; PAYLOAD_BYTES];
    // Steady state: let the spare preparer finish its first segment before the clock starts.
    thread::sleep(Duration::from_secs(1));
    let (lag, start) = pace(rate, secs, |intended| loop {
        match journal.append(RECORD_TYPE, payload.clone(), timed(&hist, intended, || {})) {
            Ok(()) => break,
            Err(JournalError::Full) => {
                full.fetch_add(1, Ordering::Relaxed);
                thread::yield_now();
            }
            Err(e) => panic!("append: {e}"),
        }
    });
    let sent_for = start.elapsed().as_secs_f64();
    journal.shutdown().expect("shutdown");
    let stats = journal.stats();
    let hist = hist.lock().expect("hist").clone();
    Row {
        name: format!("journal open loop at {rate}/s"),
        records_per_s: hist.len() as f64 / sent_for,
        hist,
        note: format!(
            "{}; mean batch {} records; {} fdatasyncs/s, mean {} us max {} us, {} over 2.5 ms; {} batches paced; rotations {} max {} us; Full answers {}",
            pacer_note(&lag),
            stats.records / stats.batches.max(1),
            (stats.fsyncs as f64 / sent_for) as u64,
            stats.fsync_micros_total / stats.fsyncs.max(1),
            stats.fsync_micros_max,
            slow_fsyncs(&stats),
            stats.paced_batches,
            stats.segments_created,
            stats.rotate_micros_max,
            full.load(Ordering::Relaxed)
        ),
    }
}

/// How late the open-loop pacer sent (its own lag, part of every latency it measures).
fn pacer_note(lag: &Histogram<u64>) -> String {
    format!("1 pacer (send lag p50 {} us p99 {} us)", lag.value_at_quantile(0.5), lag.value_at_quantile(0.99))
}

/// fdatasyncs slower than 2.5 ms (the buckets of `FSYNC_BUCKETS_MICROS` above 2,500 µs).
fn slow_fsyncs(stats: &switchyard_journal::JournalStats) -> u64 {
    let first_slow = switchyard_journal::FSYNC_BUCKETS_MICROS.iter().position(|&b| b > 2_500).unwrap_or(0);
    stats.fsync_hist.iter().skip(first_slow).sum()
}

/// The open-loop pacer of [`open_loop`] without the journal: it hands each record's intended
/// send time to one thread that, with `sync`, appends 1 KiB to a plain file and fdatasyncs it
/// (the raw baseline, paced), and without, only takes it (what the pacer and a thread wake-up
/// cost). Latency is measured from the intended time, as in [`open_loop`].
fn paced_raw(rate: u64, secs: u64, sync: bool) -> Row {
    let dir = bench_dir();
    let path = dir.path().join("raw");
    // Unbounded on purpose (an open loop must not wait for the thread it measures); it holds
    // at most `rate * secs` instants, 16 bytes each.
    let (tx, rx) = crossbeam_channel::unbounded::<Instant>();
    let writer = thread::spawn(move || {
        let mut f = OpenOptions::new().create(true).append(true).open(path).expect("open raw");
        let payload = vec![0xA5u8; PAYLOAD_BYTES];
        let mut hist = new_hist();
        for intended in rx {
            if sync {
                f.write_all(&payload).expect("write");
                f.sync_data().expect("fdatasync");
            }
            hist.record(micros(intended.elapsed())).expect("record");
        }
        hist
    });
    let (lag, start) = pace(rate, secs, |intended| tx.send(intended).expect("writer alive"));
    drop(tx);
    let hist = writer.join().expect("writer");
    let sent_for = start.elapsed().as_secs_f64();
    let what = if sync { "raw write+fdatasync per record" } else { "no I/O (pacer and hand-over only)" };
    Row {
        name: format!("paced at {rate}/s: {what}"),
        records_per_s: hist.len() as f64 / sent_for,
        hist,
        note: format!("{} + 1 thread", pacer_note(&lag)),
    }
}

/// The open-loop pacer: calls `send` with each record's intended send time, `rate` times a
/// second for `secs` seconds, starting 50 ms from now. Returns how late each send was and the
/// start time.
fn pace(rate: u64, secs: u64, mut send: impl FnMut(Instant)) -> (Histogram<u64>, Instant) {
    let period = Duration::from_nanos(1_000_000_000 / rate.max(1));
    let start = Instant::now() + Duration::from_millis(50);
    let mut lag = new_hist();
    for i in 0..rate * secs {
        let intended = start + period * u32::try_from(i).expect("bounded by rate * secs");
        wait_until(intended);
        lag.record(micros(intended.elapsed())).expect("record");
        send(intended);
    }
    (lag, start)
}

/// `JOURNAL_BENCH_SPIN=1`: the pacers spin instead of sleeping (to tell a late wake-up from
/// a stalled CPU).
static SPIN: AtomicBool = AtomicBool::new(false);

/// Waits until `t` by sleeping in short steps. No spinning by default: on a 2-core machine a
/// spinning pacer would steal the core the kernel needs to complete the fdatasync. Lateness is
/// not hidden: latency is measured from the intended time, so a late pacer shows up in the
/// numbers.
fn wait_until(t: Instant) {
    if SPIN.load(Ordering::Relaxed) {
        while Instant::now() < t {
            std::hint::spin_loop();
        }
        return;
    }
    let now = Instant::now();
    if t > now {
        thread::sleep((t - now).max(PACER_TICK));
    }
}

fn print_rows(rows: &[Row]) {
    println!("| scenario | durable records/s | ACK p50 us | ACK p99 us | ACK p99.9 us | max us | notes |");
    println!("|---|---:|---:|---:|---:|---:|---|");
    for r in rows {
        let h = &r.hist;
        println!(
            "| {} | {:.0} | {} | {} | {} | {} | {} |",
            r.name,
            r.records_per_s,
            h.value_at_quantile(0.50),
            h.value_at_quantile(0.99),
            h.value_at_quantile(0.999),
            h.max(),
            r.note
        );
    }
}

fn write_hgrm(dir: &Path, rows: &[Row]) {
    std::fs::create_dir_all(dir).expect("hgrm dir");
    for (i, r) in rows.iter().enumerate() {
        let path: PathBuf = dir.join(format!("journal-{i:02}.hgrm"));
        let mut f = File::create(&path).expect("hgrm file");
        let _ = writeln!(f, "# {} ({})", r.name, r.note);
        let _ = writeln!(f, "{:>12} {:>14} {:>10}", "Value(us)", "Percentile", "TotalCount");
        for v in r.hist.iter_quantiles(1) {
            let _ = writeln!(
                f,
                "{:>12} {:>14.6} {:>10}",
                v.value_iterated_to(),
                v.quantile_iterated_to(),
                v.count_since_last_iteration()
            );
        }
    }
}
