//! The verdict: the participants' ledger against the node's state store (opened offline after
//! a clean stop) and the simulator's own record (its JSON snapshot).
//!
//! - lost: acknowledged, but the node's state has no such payment for that tenant;
//! - stuck: acknowledged and known to the node, but without a final outcome (none, or in doubt);
//! - duplicates: UETRs the simulator received more than once;
//! - mismatched: (tenant, currency) groups whose sums over acknowledged payments do not balance:
//!   the ledger's amounts against the node's (over the payments the node knows), the node's settled amounts against the
//!   simulator's ACSC amounts, and the amounts whose final status the participant heard
//!   against the node's outcome for them.

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use anyhow::Context;
use switchyard_actors::domain::Outcome;
use switchyard_iso20022::TxStatus;
use switchyard_journal::state::{open_or_rebuild, DEFAULT_CACHE_BYTES};

use super::ledger::Entry;

/// What the simulator recorded for one UETR.
#[derive(Debug, Clone)]
pub struct SimRecord {
    pub submissions: u64,
    pub status: String,
    pub amount_minor: i64,
    pub currency: String,
}

/// Reads the simulator's JSON snapshot (`stats_file`).
pub fn read_sim_stats(path: &Path) -> anyhow::Result<HashMap<String, SimRecord>> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let json: serde_json::Value = serde_json::from_slice(&text).context("simulator stats JSON")?;
    let mut out = HashMap::new();
    for u in json["uetrs"].as_array().context("simulator stats without `uetrs`")? {
        let uetr = u["uetr"].as_str().context("uetr")?.to_owned();
        out.insert(
            uetr,
            SimRecord {
                submissions: u["submissions"].as_u64().context("submissions")?,
                status: u["status"].as_str().context("status")?.to_owned(),
                amount_minor: u["amount_minor"].as_i64().context("amount_minor")?,
                currency: u["currency"].as_str().context("currency")?.to_owned(),
            },
        );
    }
    Ok(out)
}

/// The four numbers of the campaign's last line, plus what explains them.
#[derive(Debug, Default, Clone)]
pub struct Verdict {
    pub lost: u64,
    pub duplicates: u64,
    pub mismatched: u64,
    pub stuck: u64,
    /// Acknowledged payments checked.
    pub acked: u64,
    /// Of those, settled / rejected / dead-lettered per the node.
    pub settled: u64,
    pub rejected: u64,
    pub dead_lettered: u64,
    /// The first problems found, for the log.
    pub details: Vec<String>,
}

impl Verdict {
    fn note(&mut self, line: String) {
        if self.details.len() < 20 {
            self.details.push(line);
        }
    }
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Sums {
    ledger: i64,
    node: i64,
    node_settled: i64,
    sim_settled: i64,
    heard_settled: i64,
    node_of_heard_settled: i64,
}

/// Checks every acknowledged payment of `acked` against the store in `state_dir` and `sim`.
pub fn check(
    acked: &[(String, Entry)],
    state_dir: &Path,
    sim: &HashMap<String, SimRecord>,
) -> anyhow::Result<Verdict> {
    // As the node would open it: a store sled cannot read is rebuilt from the journal.
    let journal_dir = state_dir.with_file_name("journal");
    let (store, rebuilt) = open_or_rebuild(state_dir, &journal_dir, DEFAULT_CACHE_BYTES)
        .with_context(|| format!("opening the state store {}", state_dir.display()))?;
    if let Some(r) = rebuilt {
        println!("state store unreadable ({}); rebuilt from {} journal records", r.reason, r.report.records);
    }
    let mut v = Verdict { acked: acked.len() as u64, ..Verdict::default() };
    let mut groups: BTreeMap<(String, String), Sums> = BTreeMap::new();
    for (uetr, entry) in acked {
        let sums = groups.entry((entry.tenant.clone(), entry.currency.clone())).or_default();
        let Some(view) = store.payment(&entry.tenant, uetr).context("reading the state store")? else {
            v.lost += 1;
            v.note(format!("lost: {} {uetr} acknowledged, unknown to the node", entry.tenant));
            continue;
        };
        // A lost payment is counted as lost, not again as a mismatch: sums cover known payments.
        sums.ledger += entry.amount_minor;
        if view.currency == entry.currency {
            sums.node += view.amount_minor;
        } else {
            v.note(format!("{uetr}: node has currency {}, sent {}", view.currency, entry.currency));
        }
        let sim_record = sim.get(uetr);
        let sim_acsc = sim_record.filter(|r| r.status == "ACSC" && r.currency == entry.currency);
        sums.sim_settled += sim_acsc.map_or(0, |r| r.amount_minor);
        match &view.outcome {
            Some(Outcome::Settled) => {
                v.settled += 1;
                sums.node_settled += view.amount_minor;
            }
            Some(Outcome::Rejected(_)) => v.rejected += 1,
            Some(Outcome::DeadLettered(_)) => v.dead_lettered += 1,
            // The campaign sends no camt.056 and its simulator no pacs.004: final, not settled.
            Some(Outcome::Cancelled(_) | Outcome::Returned(_)) => v.rejected += 1,
            Some(Outcome::InDoubt) | None => {
                v.stuck += 1;
                v.note(format!("stuck: {} {uetr} is {:?} after recovery", entry.tenant, view.outcome));
            }
        }
        if matches!(entry.final_status, Some(TxStatus::ACSC | TxStatus::ACCC)) {
            sums.heard_settled += entry.amount_minor;
            if view.outcome == Some(Outcome::Settled) {
                sums.node_of_heard_settled += view.amount_minor;
            }
        }
    }
    for ((tenant, currency), s) in &groups {
        if s.ledger != s.node || s.node_settled != s.sim_settled || s.heard_settled != s.node_of_heard_settled
        {
            v.mismatched += 1;
            v.note(format!("mismatch: {tenant} {currency}: {s:?}"));
        }
    }
    for (uetr, r) in sim {
        if r.submissions > 1 {
            v.duplicates += 1;
            v.note(format!("duplicate: {uetr} reached the clearing house {} times", r.submissions));
        }
    }
    Ok(v)
}
