//! Seeds a data dir with N settled payments (an Accepted and an Outcome record each), written
//! through the real journal, so start-up time with a large history can be measured:
//!
//! ```text
//! cargo run --release -p switchyard --example seed_journal -- DATA_DIR 1000000 [TENANT]
//! ```
//!
//! The tenant defaults to `bank-a` (the demo's first participant). Messages are the bench
//! template with a fresh UETR and MsgId each.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use switchyard_actors::domain::{Fingerprint, Outcome};
use switchyard_actors::record::{AcceptedPayment, JournalRecord, PaymentOutcome};
use switchyard_journal::{codec, Journal, JournalConfig, JournalError};

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let usage = "usage: seed_journal DATA_DIR PAYMENTS [TENANT]";
    let data = std::path::PathBuf::from(args.next().context(usage)?);
    let payments: u64 = args.next().context(usage)?.parse().context("PAYMENTS must be a number")?;
    let tenant = args.next().unwrap_or_else(|| "bank-a".to_string());
    let template = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../bench/templates/pacs008.xml"))?;
    let pacs = switchyard_iso20022::read_pacs008(&template, &switchyard_iso20022::Limits::default())
        .map_err(|e| anyhow::anyhow!("template: {e}"))?;
    let tx = pacs.txs.first().context("template without a transaction")?;
    let fingerprint = Fingerprint::of_transaction(tx);

    let (journal, recovery) = Journal::open(JournalConfig::new(data.join("journal")))?;
    println!("journal opened: {} records already", recovery.records);
    let started = Instant::now();
    let done = Arc::new(AtomicU64::new(0));
    for i in 0..payments {
        let uetr = uuid::Uuid::new_v4().to_string();
        let accepted = JournalRecord::Accepted(AcceptedPayment {
            tenant: tenant.clone(),
            uetr: uetr.clone(),
            msg_id: format!("SEED{i}"),
            end_to_end_id: format!("SEED{i}"),
            amount_minor: 10_000,
            currency: "ZAR".into(),
            debtor_agent: "ZYAAZAJJXXX".into(),
            creditor_agent: "ZYABZAJJXXX".into(),
            fingerprint,
            message: template.clone(),
            accepted_at_ms: i,
        });
        let outcome = JournalRecord::Outcome(PaymentOutcome {
            tenant: tenant.clone(),
            uetr,
            outcome: Outcome::Settled,
            inquiries: 0,
            at_ms: i + 1,
        });
        for record in [accepted, outcome] {
            let payload = codec::encode(&record);
            loop {
                let counter = Arc::clone(&done);
                let result = journal.append(
                    record.record_type(),
                    payload.clone(),
                    Box::new(move |r| {
                        if r.is_ok() {
                            counter.fetch_add(1, Ordering::Relaxed);
                        }
                    }),
                );
                match result {
                    Ok(()) => break,
                    Err(JournalError::Full) => std::thread::sleep(std::time::Duration::from_micros(200)),
                    Err(e) => return Err(e.into()),
                }
            }
        }
        if i % 100_000 == 0 && i > 0 {
            println!("{i} payments, {:.0}/s", i as f64 / started.elapsed().as_secs_f64());
        }
    }
    journal.shutdown()?;
    println!(
        "{payments} payments ({} durable records) in {:.1} s",
        done.load(Ordering::Relaxed),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
