//! The state store's projection of the issue-6 outcomes on real sled files: cancelled is
//! terminal; returned replaces settled (the one outcome after a terminal one); a return of a
//! payment that is not settled stays in the history only.

use switchyard_actors::domain::{Fingerprint, Outcome};
use switchyard_actors::record::{AcceptedPayment, JournalRecord, PaymentOutcome};
use switchyard_journal::state::StateStore;
use tempfile::TempDir;

fn accepted(i: u64) -> JournalRecord {
    JournalRecord::Accepted(AcceptedPayment {
        tenant: "bank-a".into(),
        uetr: format!("{i:08x}-0000-4000-8000-{i:012x}"),
        msg_id: format!("MSG-{i}"),
        end_to_end_id: format!("E2E-{i}"),
        amount_minor: 1_000,
        currency: "ZAR".into(),
        debtor_agent: "BANKAZAJJ".into(),
        creditor_agent: "BANKBZAJJ".into(),
        fingerprint: Fingerprint([1; 16]),
        message: b"<Document/>".to_vec(),
        accepted_at_ms: 1_700_000_000_000 + i,
    })
}

fn outcome(i: u64, outcome: Outcome) -> JournalRecord {
    JournalRecord::Outcome(PaymentOutcome {
        tenant: "bank-a".into(),
        uetr: format!("{i:08x}-0000-4000-8000-{i:012x}"),
        outcome,
        inquiries: 0,
        at_ms: 1_700_000_000_100 + i,
    })
}

#[test]
fn cancelled_is_terminal_and_returned_follows_settled() {
    let dir = TempDir::new().unwrap();
    let store = StateStore::open(&dir.path().join("state")).unwrap();
    let uetr = |i: u64| format!("{i:08x}-0000-4000-8000-{i:012x}");
    let records = [
        accepted(1),
        outcome(1, Outcome::Cancelled("by the participant".into())),
        accepted(2),
        outcome(2, Outcome::Settled),
        outcome(2, Outcome::Returned("AC04".into())),
        accepted(3),
        outcome(3, Outcome::Rejected("AM04".into())),
        outcome(3, Outcome::Returned("AC04".into())),
    ];
    for (seq, record) in records.iter().enumerate() {
        store.apply(seq as u64 + 1, record).unwrap();
    }
    let view = store.payment("bank-a", &uetr(1)).unwrap().unwrap();
    assert_eq!(view.outcome, Some(Outcome::Cancelled("by the participant".into())));
    assert_eq!(view.history.last().unwrap().state, "cancelled:by the participant");
    let view = store.payment("bank-a", &uetr(2)).unwrap().unwrap();
    assert_eq!(view.outcome, Some(Outcome::Returned("AC04".into())));
    let states: Vec<&str> = view.history.iter().map(|c| c.state.as_str()).collect();
    assert_eq!(states, ["accepted", "settled", "returned:AC04"]);
    let view = store.payment("bank-a", &uetr(3)).unwrap().unwrap();
    assert_eq!(view.outcome, Some(Outcome::Rejected("AM04".into())), "a rejected payment is never returned");
    assert_eq!(view.history.len(), 3, "but the record is in its history");
    assert_eq!(store.counts().unwrap().open, 0, "all three are closed");
    assert!(store.verify_audit().unwrap().ok);
}
