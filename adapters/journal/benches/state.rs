//! Apply rate of the state store with 1 KiB records (`cargo bench -p switchyard-journal
//! --bench state`; a plain program, `harness = false`).
//!
//! Three ways in, on the same disk: `apply` one record per transaction (the live path), one
//! transaction per 256 records (`apply_batch`, what `catch_up` does), and `catch_up` from a
//! real journal (reading, CRC checks and decoding included). The workload is one acceptance
//! and one outcome per payment, so half the records close a payment and drop its bytes.
//! Knobs: `STATE_BENCH_RECORDS` (default 20000), `STATE_BENCH_DIR` (default: a temp dir).

use std::path::Path;
use std::time::Instant;

use switchyard_actors::domain::{Fingerprint, Outcome};
use switchyard_actors::record::{AcceptedPayment, JournalRecord, PaymentOutcome};
use switchyard_journal::state::StateStore;
use switchyard_journal::{codec, Journal, JournalConfig};

fn main() {
    let n: u64 = std::env::var("STATE_BENCH_RECORDS").ok().and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let base = std::env::var_os("STATE_BENCH_DIR").map(std::path::PathBuf::from);
    let tmp = tempfile::Builder::new()
        .prefix("state-bench")
        .tempdir_in(base.unwrap_or_else(std::env::temp_dir))
        .unwrap();
    let records = workload(n);
    let size = codec::encode(&records[0]).len();
    println!("{} records, accepted record = {size} bytes encoded", records.len());

    let store = StateStore::open(&tmp.path().join("one")).unwrap();
    report("apply, 1 record per transaction", records.len(), || {
        for (seq, r) in (1..).zip(&records) {
            store.apply(seq, r).unwrap();
        }
        store.flush().unwrap();
    });

    drop(store);
    let bytes = dir_bytes(&tmp.path().join("one"));
    println!(
        "state store on disk after apply: {bytes} bytes, {:.0} per record",
        bytes as f64 / records.len() as f64
    );

    let store = StateStore::open(&tmp.path().join("batch")).unwrap();
    let numbered: Vec<(u64, JournalRecord)> = (1..).zip(records.iter().cloned()).collect();
    report("apply_batch, 256 records per transaction", records.len(), || {
        for chunk in numbered.chunks(256) {
            store.apply_batch(chunk).unwrap();
        }
        store.flush().unwrap();
    });

    drop(store);
    let bytes = dir_bytes(&tmp.path().join("batch"));
    println!(
        "state store on disk after apply_batch: {bytes} bytes, {:.0} per record",
        bytes as f64 / records.len() as f64
    );

    let journal_dir = tmp.path().join("journal");
    write_journal(&journal_dir, &records);
    let store = StateStore::open(&tmp.path().join("catch-up")).unwrap();
    report("catch_up from the journal", records.len(), || {
        store.catch_up(&journal_dir).unwrap();
        store.flush().unwrap();
    });
    let counts = store.counts().unwrap();
    println!("final: {counts:?}");
}

/// Bytes of the files under `dir` (allocated blocks, as `du` counts them: sled's files are sparse).
fn dir_bytes(dir: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let meta = e.metadata().unwrap();
            if meta.is_dir() {
                dir_bytes(&e.path())
            } else {
                meta.blocks() * 512
            }
        })
        .sum()
}

fn report(name: &str, n: usize, run: impl FnOnce()) {
    let start = Instant::now();
    run();
    let secs = start.elapsed().as_secs_f64();
    #[allow(clippy::cast_precision_loss)] // a rate for humans
    let rate = n as f64 / secs;
    println!("{name:<44} {secs:>7.2} s {rate:>10.0} records/s");
}

/// One acceptance (1 KiB message) and, two payments later, one outcome per payment.
fn workload(payments: u64) -> Vec<JournalRecord> {
    let mut out = Vec::new();
    for i in 0..payments {
        out.push(JournalRecord::Accepted(AcceptedPayment {
            tenant: format!("bank-{}", i % 4),
            uetr: format!("{i:08x}-0000-4000-8000-{i:012x}"),
            msg_id: format!("MSG-{i}"),
            end_to_end_id: format!("E2E-{i}"),
            amount_minor: 10_000,
            currency: "ZAR".into(),
            debtor_agent: "BANKAZAJJ".into(),
            creditor_agent: "BANKBZAJJ".into(),
            fingerprint: Fingerprint([7; 16]),
            message: vec![b'x'; 1024],
            accepted_at_ms: 1_700_000_000_000 + i,
        }));
        if i >= 2 {
            let j = i - 2;
            out.push(JournalRecord::Outcome(PaymentOutcome {
                tenant: format!("bank-{}", j % 4),
                uetr: format!("{j:08x}-0000-4000-8000-{j:012x}"),
                outcome: Outcome::Settled,
                inquiries: 0,
                at_ms: 1_700_000_000_000 + i,
            }));
        }
    }
    out
}

fn write_journal(dir: &Path, records: &[JournalRecord]) {
    let (journal, _) = Journal::open(JournalConfig::new(dir)).unwrap();
    for r in records {
        loop {
            match journal.append(r.record_type(), codec::encode(r), Box::new(|s| assert!(s.is_ok()))) {
                Ok(()) => break,
                Err(switchyard_journal::JournalError::Full) => std::thread::yield_now(),
                Err(e) => panic!("append: {e}"),
            }
        }
    }
    journal.shutdown().unwrap();
}
