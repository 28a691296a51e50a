//! The participants' ledger: what each bank sent, what the node acknowledged (ACTC) and which
//! final status it heard. It is the oracle of the campaign: it is kept on the participants'
//! side of the socket, from the answers they received, never from the node's files.

use std::collections::HashMap;
use std::sync::Mutex;

use switchyard_iso20022::TxStatus;

/// One payment as its sender knows it.
#[derive(Debug, Clone)]
pub struct Entry {
    pub tenant: String,
    pub amount_minor: i64,
    pub currency: String,
    /// The node answered ACTC: from here on the payment must never be lost.
    pub acked: bool,
    /// The final status the participant heard (ACSC, RJCT after ACTC, ...), if any.
    pub final_status: Option<TxStatus>,
    /// Refused before acknowledgement (RJCT without ACTC).
    pub refused: bool,
}

/// Every payment sent, by UETR.
#[derive(Debug, Default)]
pub struct Ledger {
    entries: Mutex<HashMap<String, Entry>>,
}

/// Counts over the ledger.
#[derive(Debug, Default, Clone, Copy)]
pub struct LedgerCounts {
    pub sent: u64,
    pub acked: u64,
    pub refused: u64,
    /// Acknowledged, and the participant heard the final status.
    pub final_heard: u64,
}

impl Ledger {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Records a submission about to be written to the socket.
    pub fn sent(&self, uetr: &str, tenant: &str, amount_minor: i64, currency: &str) {
        self.lock().insert(
            uetr.to_owned(),
            Entry {
                tenant: tenant.to_owned(),
                amount_minor,
                currency: currency.to_owned(),
                acked: false,
                final_status: None,
                refused: false,
            },
        );
    }

    /// Records a status the node sent about `uetr`; true when it ends the exchange (final or refused).
    pub fn status(&self, uetr: &str, status: TxStatus) -> bool {
        let mut entries = self.lock();
        let Some(entry) = entries.get_mut(uetr) else { return false };
        match status {
            TxStatus::ACTC => {
                entry.acked = true;
                false
            }
            TxStatus::RCVD | TxStatus::PDNG => false,
            TxStatus::RJCT if !entry.acked => {
                entry.refused = true;
                true
            }
            other => {
                entry.final_status = Some(other);
                true
            }
        }
    }

    /// The acknowledged payments (the ones that must survive anything).
    pub fn acked(&self) -> Vec<(String, Entry)> {
        self.lock().iter().filter(|(_, e)| e.acked).map(|(u, e)| (u.clone(), e.clone())).collect()
    }

    /// Totals.
    pub fn counts(&self) -> LedgerCounts {
        let entries = self.lock();
        let mut c = LedgerCounts { sent: entries.len() as u64, ..LedgerCounts::default() };
        for e in entries.values() {
            c.acked += u64::from(e.acked);
            c.refused += u64::from(e.refused);
            c.final_heard += u64::from(e.acked && e.final_status.is_some());
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_statuses_after_actc_count_as_final() {
        let ledger = Ledger::default();
        ledger.sent("u1", "bank-a", 100, "ZAR");
        ledger.sent("u2", "bank-a", 200, "ZAR");
        assert!(!ledger.status("u1", TxStatus::ACTC));
        assert!(ledger.status("u1", TxStatus::ACSC));
        assert!(ledger.status("u2", TxStatus::RJCT));
        let c = ledger.counts();
        assert_eq!((c.sent, c.acked, c.refused, c.final_heard), (2, 1, 1, 1));
        assert_eq!(ledger.acked().len(), 1);
        assert!(!ledger.status("unknown", TxStatus::ACTC));
    }
}
