//! Rebuilds actor state from the journal at start: per tenant, the idempotency history and the
//! payments that were accepted but have no outcome yet.

use std::collections::HashMap;
use std::path::Path;

use anyhow::Context;
use switchyard_actors::actor::HistoryEntry;
use switchyard_actors::record::AcceptedPayment;
use switchyard_actors::JournalRecord;
use switchyard_journal::{codec, read_all};

/// One tenant's replayed state.
#[derive(Debug, Default)]
pub struct TenantReplay {
    pub history: Vec<HistoryEntry>,
    /// Accepted, never given an outcome: resumed (as in-doubt) by their payment actors.
    pub open: Vec<AcceptedPayment>,
}

/// What replay found, by tenant name.
#[derive(Debug, Default)]
pub struct Replay {
    pub tenants: HashMap<String, TenantReplay>,
    pub records: u64,
}

/// Reads every record of the journal in `dir`.
pub fn replay(dir: &Path) -> anyhow::Result<Replay> {
    let mut open: HashMap<(String, String), AcceptedPayment> = HashMap::new();
    let mut done: HashMap<(String, String), HistoryEntry> = HashMap::new();
    let mut records = 0;
    for record in read_all(dir).context("reading journal")? {
        let record = record.context("reading journal")?;
        records += 1;
        let decoded: JournalRecord = codec::decode(&record.payload)
            .with_context(|| format!("journal record {} does not decode", record.seq))?;
        match decoded {
            JournalRecord::Accepted(a) => {
                open.insert((a.tenant.clone(), a.uetr.clone()), a);
            }
            JournalRecord::Outcome(o) => {
                let key = (o.tenant.clone(), o.uetr.clone());
                if let Some(a) = open.remove(&key) {
                    let entry = HistoryEntry {
                        uetr: a.uetr,
                        msg_id: a.msg_id,
                        fingerprint: a.fingerprint,
                        outcome: None,
                    };
                    done.insert(key.clone(), entry);
                }
                if let Some(entry) = done.get_mut(&key) {
                    entry.outcome = Some(o.outcome);
                }
            }
            JournalRecord::Refused(_) => {}
        }
    }
    let mut replay = Replay { records, ..Replay::default() };
    for ((tenant, _), entry) in done {
        replay.tenants.entry(tenant).or_default().history.push(entry);
    }
    for ((tenant, _), accepted) in open {
        let t = replay.tenants.entry(tenant).or_default();
        t.history.push(HistoryEntry {
            uetr: accepted.uetr.clone(),
            msg_id: accepted.msg_id.clone(),
            fingerprint: accepted.fingerprint,
            outcome: None,
        });
        t.open.push(accepted);
    }
    Ok(replay)
}
