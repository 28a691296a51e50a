//! Black-box tests of the state store (`switchyard_journal::state`) on real sled files and
//! real journal files: every index, idempotent apply, tenant isolation, catch-up, crash
//! consistency, reindex, the audit chain's tamper detection, the DLQ and the recovery set.

use std::path::Path;

use switchyard_actors::domain::{Fingerprint, Outcome};
use switchyard_actors::record::{AcceptedPayment, JournalRecord, PaymentOutcome, RefusedSubmission};
use switchyard_journal::state::{
    open_or_rebuild, reindex, tree_names, PaymentView, StateCounts, StateError, StateStore,
    DEFAULT_CACHE_BYTES,
};
use switchyard_journal::{codec, Journal, JournalConfig};
use tempfile::TempDir;

const TENANTS: [&str; 3] = ["bank-a", "bank-b", "bank-c"];

/// Opens the store's sled directory directly (to damage it on purpose). A store dropped a
/// moment ago may still hold the file lock while sled's background threads finish, so this
/// waits for it the way `StateStore::open` does, at most 5 s.
fn raw_sled(dir: &Path) -> sled::Db {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        match sled::open(dir) {
            Ok(db) => return db,
            Err(e)
                if e.to_string().contains("could not acquire lock")
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => panic!("open {}: {e}", dir.display()),
        }
    }
}

fn uetr(i: u64) -> String {
    format!("{i:08x}-0000-4000-8000-{i:012x}")
}

fn accepted(tenant: &str, i: u64) -> AcceptedPayment {
    AcceptedPayment {
        tenant: tenant.into(),
        uetr: uetr(i),
        msg_id: format!("MSG-{tenant}-{i}"),
        end_to_end_id: format!("E2E-{i}"),
        amount_minor: 1_000 + i64::try_from(i).unwrap(),
        currency: "ZAR".into(),
        debtor_agent: "BANKAZAJJ".into(),
        creditor_agent: "BANKBZAJJ".into(),
        fingerprint: Fingerprint([u8::try_from(i % 251).unwrap(); 16]),
        message: format!("<Document>{tenant}:{i}</Document>").into_bytes(),
        accepted_at_ms: 1_700_000_000_000 + i * 10,
    }
}

fn outcome(tenant: &str, i: u64, outcome: Outcome) -> JournalRecord {
    JournalRecord::Outcome(PaymentOutcome {
        tenant: tenant.into(),
        uetr: uetr(i),
        outcome,
        inquiries: 0,
        at_ms: 1_700_000_000_000 + i * 10 + 5,
    })
}

fn refused(tenant: &str, i: u64) -> JournalRecord {
    JournalRecord::Refused(RefusedSubmission {
        tenant: tenant.into(),
        msg_id: Some(format!("BAD-{i}")),
        uetr: None,
        reason: "FF01".into(),
        detail: "schema".into(),
        at_ms: 1_700_000_000_000 + i,
    })
}

/// A mixed workload: `n` payments over three tenants (the same UETR under each tenant every
/// tenth payment), outcomes of every kind arriving three acceptances later, in-doubt payments
/// resolved later still, some left open, refusals in between.
fn workload(n: u64) -> Vec<JournalRecord> {
    let tenant = |i: u64| TENANTS[usize::try_from(i % 3).unwrap()];
    let mut out = Vec::new();
    for i in 0..n {
        out.push(JournalRecord::Accepted(accepted(tenant(i), i)));
        if i % 10 == 0 {
            out.push(JournalRecord::Accepted(accepted(tenant(i + 1), i)));
        }
        if i % 7 == 0 {
            out.push(refused(tenant(i), i));
        }
        if i >= 3 {
            let j = i - 3;
            match j % 5 {
                0 => out.push(outcome(tenant(j), j, Outcome::Settled)),
                1 => out.push(outcome(tenant(j), j, Outcome::Rejected("AM04".into()))),
                2 => out.push(outcome(tenant(j), j, Outcome::DeadLettered("no route".into()))),
                3 => out.push(outcome(tenant(j), j, Outcome::InDoubt)),
                _ => {}
            }
        }
        if i >= 9 && (i - 9) % 5 == 3 {
            out.push(outcome(tenant(i - 9), i - 9, Outcome::Settled));
        }
    }
    out
}

/// Appends one record and waits until it is durable.
fn append_and_wait(journal: &Journal, r: &JournalRecord) {
    let (tx, rx) = std::sync::mpsc::channel();
    journal
        .append(r.record_type(), codec::encode(r), Box::new(move |s| tx.send(s.is_ok()).unwrap()))
        .unwrap();
    assert!(rx.recv().unwrap());
}

fn apply_all(store: &StateStore, records: &[JournalRecord], first_seq: u64) {
    for (seq, r) in (first_seq..).zip(records) {
        store.apply(seq, r).unwrap();
    }
}

/// Writes the records to a real journal in `dir` (durable, in order).
fn write_journal(dir: &Path, records: &[JournalRecord]) {
    let mut cfg = JournalConfig::new(dir);
    cfg.segment_bytes = 1 << 20;
    let (journal, _) = Journal::open(cfg).unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    for r in records {
        let tx = tx.clone();
        journal
            .append(r.record_type(), codec::encode(r), Box::new(move |s| tx.send(s.unwrap()).unwrap()))
            .unwrap();
    }
    drop(tx);
    assert_eq!(rx.iter().count(), records.len());
    journal.shutdown().unwrap();
}

/// Everything a store answers, for comparing two stores.
#[derive(Debug, PartialEq)]
struct Snapshot {
    per_tenant: Vec<TenantSnapshot>,
    dlq: Vec<String>,
    counts: StateCounts,
    audit_head: String,
    audit_ok: bool,
}

/// One tenant's listing, idempotency history and recovery set.
#[derive(Debug, PartialEq)]
struct TenantSnapshot {
    tenant: String,
    list: Vec<PaymentView>,
    history: Vec<String>,
    open: Vec<String>,
}

fn snapshot(store: &StateStore) -> Snapshot {
    let per_tenant = TENANTS
        .iter()
        .map(|t| {
            let list = store.list(t, 0, usize::MAX).unwrap();
            let history = store.tenant_history(t).unwrap().iter().map(|e| format!("{e:?}")).collect();
            let open = store.open_payments(t).unwrap().iter().map(|p| format!("{p:?}")).collect();
            TenantSnapshot { tenant: (*t).to_string(), list, history, open }
        })
        .collect();
    let audit = store.verify_audit().unwrap();
    Snapshot {
        per_tenant,
        dlq: store.dlq_list(None).unwrap().iter().map(|e| format!("{e:?}")).collect(),
        counts: store.counts().unwrap(),
        audit_head: audit.head,
        audit_ok: audit.ok,
    }
}

fn open(dir: &TempDir) -> StateStore {
    StateStore::open(&dir.path().join("state")).unwrap()
}

#[test]
fn apply_and_query_every_index() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir);
    let a = accepted("bank-a", 1);
    store.apply(1, &JournalRecord::Accepted(a.clone())).unwrap();
    store.apply(2, &JournalRecord::Accepted(accepted("bank-a", 2))).unwrap();
    store.apply(3, &refused("bank-a", 3)).unwrap();
    assert_eq!(store.applied_seq(), 3);

    let view = store.payment("bank-a", &a.uetr).unwrap().unwrap();
    assert_eq!(
        (view.msg_id.as_str(), view.amount_minor, view.currency.as_str()),
        (a.msg_id.as_str(), 1001, "ZAR")
    );
    assert_eq!(view.history.len(), 1);
    assert_eq!(view.history[0].state, "accepted");
    assert_eq!(view.outcome, None);
    let idem = store.idempotency("bank-a", &a.uetr).unwrap().unwrap();
    assert_eq!(
        (idem.fingerprint, idem.msg_id.as_str(), idem.outcome.clone()),
        (a.fingerprint, a.msg_id.as_str(), None)
    );
    assert_eq!(store.msg_id_owner("bank-a", &a.msg_id).unwrap(), Some(a.uetr.clone()));
    assert_eq!(store.msg_id_owner("bank-a", "MSG-unknown").unwrap(), None);
    assert_eq!(store.tenant_history("bank-a").unwrap().len(), 2);
    assert_eq!(store.open_payments("bank-a").unwrap()[0], a, "open payments carry the message bytes");

    let listed: Vec<u64> = store.list("bank-a", 0, 10).unwrap().iter().map(|v| v.accepted_at_ms).collect();
    assert_eq!(listed, vec![a.accepted_at_ms, a.accepted_at_ms + 10]);
    assert_eq!(store.list("bank-a", a.accepted_at_ms + 1, 10).unwrap().len(), 1, "since_ms filters");
    assert_eq!(store.list("bank-a", 0, 1).unwrap().len(), 1, "limit caps");

    store.apply(4, &outcome("bank-a", 1, Outcome::Rejected("AM04".into()))).unwrap();
    let view = store.payment("bank-a", &a.uetr).unwrap().unwrap();
    let states: Vec<&str> = view.history.iter().map(|c| c.state.as_str()).collect();
    assert_eq!(states, ["accepted", "rejected:AM04"]);
    assert_eq!(view.history[1].seq, 4);
    assert_eq!(view.outcome, Some(Outcome::Rejected("AM04".into())));
    assert_eq!(
        store.idempotency("bank-a", &a.uetr).unwrap().unwrap().outcome,
        Some(Outcome::Rejected("AM04".into()))
    );
    let counts = store.counts().unwrap();
    assert_eq!(
        counts,
        StateCounts { payments: 2, open: 1, dlq: 0, audit_entries: 4, refused: 1, applied_seq: 4 }
    );
    assert!(store.verify_audit().unwrap().ok);
}

#[test]
fn apply_is_idempotent_and_refuses_gaps() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir);
    let records = workload(12);
    apply_all(&store, &records, 1);
    let before = snapshot(&store);
    apply_all(&store, &records, 1); // every seq again: no-ops
    store.apply(3, &records[0]).unwrap(); // even with another record under an applied seq
    assert_eq!(snapshot(&store), before);
    let next = u64::try_from(records.len()).unwrap() + 1;
    match store.apply(next + 1, &records[0]) {
        Err(StateError::Gap { applied, got }) => assert_eq!((applied, got), (next - 1, next + 1)),
        other => panic!("expected a gap, got {other:?}"),
    }
    assert_eq!(snapshot(&store), before);
}

#[test]
fn tenants_are_isolated() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir);
    let (a, mut b) = (accepted("bank-a", 7), accepted("bank-b", 7));
    b.amount_minor = 99;
    b.msg_id = a.msg_id.clone();
    store.apply(1, &JournalRecord::Accepted(a.clone())).unwrap();
    store.apply(2, &JournalRecord::Accepted(b.clone())).unwrap();
    store.apply(3, &outcome("bank-b", 7, Outcome::Settled)).unwrap();
    // A tenant whose name is a prefix of another's must not see the other's keys.
    store.apply(4, &JournalRecord::Accepted(accepted("bank", 8))).unwrap();

    let va = store.payment("bank-a", &a.uetr).unwrap().unwrap();
    let vb = store.payment("bank-b", &a.uetr).unwrap().unwrap();
    assert_eq!((va.amount_minor, va.outcome), (1007, None));
    assert_eq!((vb.amount_minor, vb.outcome), (99, Some(Outcome::Settled)));
    assert_eq!(store.payment("bank-c", &a.uetr).unwrap(), None, "another tenant's UETR is not found");
    assert_eq!(store.idempotency("bank-c", &a.uetr).unwrap(), None);
    assert_eq!(store.msg_id_owner("bank-c", &a.msg_id).unwrap(), None);
    for (tenant, n) in [("bank-a", 1), ("bank-b", 1), ("bank", 1), ("bank-c", 0), ("ban", 0)] {
        assert_eq!(store.list(tenant, 0, 100).unwrap().len(), n, "{tenant} lists its own only");
        assert_eq!(store.tenant_history(tenant).unwrap().len(), n, "{tenant} history");
        assert!(store.list(tenant, 0, 100).unwrap().iter().all(|v| v.tenant == tenant));
    }
    assert_eq!(store.open_payments("bank-a").unwrap().len(), 1);
    assert_eq!(store.open_payments("bank-b").unwrap().len(), 0);
    assert_eq!(store.counts().unwrap().payments, 3);
}

#[test]
fn catch_up_applies_what_a_real_journal_holds() {
    let dir = TempDir::new().unwrap();
    let journal_dir = dir.path().join("journal");
    let records = workload(40);
    write_journal(&journal_dir, &records);
    let store = open(&dir);
    assert_eq!(store.catch_up(&journal_dir).unwrap(), u64::try_from(records.len()).unwrap());
    assert_eq!(store.catch_up(&journal_dir).unwrap(), 0, "nothing new");

    let direct = TempDir::new().unwrap();
    let expected = open(&direct);
    apply_all(&expected, &records, 1);
    assert_eq!(snapshot(&store), snapshot(&expected));

    // More records appended later are picked up from the applied seq on.
    let more = vec![outcome("bank-b", 4, Outcome::Settled), refused("bank-c", 99)];
    let mut cfg = JournalConfig::new(&journal_dir);
    cfg.segment_bytes = 1 << 20;
    let (journal, recovery) = Journal::open(cfg).unwrap();
    assert_eq!(recovery.last_seq, store.applied_seq());
    for r in &more {
        journal.append(r.record_type(), codec::encode(r), Box::new(|s| assert!(s.is_ok()))).unwrap();
    }
    journal.shutdown().unwrap();
    assert_eq!(store.catch_up(&journal_dir).unwrap(), 2);
    assert_eq!(store.payment("bank-b", &uetr(4)).unwrap().unwrap().outcome, Some(Outcome::Settled));
}

#[test]
fn catch_up_refuses_a_record_whose_type_disagrees() {
    let dir = TempDir::new().unwrap();
    let journal_dir = dir.path().join("journal");
    let (journal, _) = Journal::open(JournalConfig::new(&journal_dir)).unwrap();
    let good = JournalRecord::Accepted(accepted("bank-a", 1));
    journal.append(good.record_type(), codec::encode(&good), Box::new(|s| assert!(s.is_ok()))).unwrap();
    journal
        .append(JournalRecord::TYPE_REFUSED, codec::encode(&good), Box::new(|s| assert!(s.is_ok())))
        .unwrap();
    journal.shutdown().unwrap();
    let store = open(&dir);
    match store.catch_up(&journal_dir) {
        Err(StateError::Record { seq, .. }) => assert_eq!(seq, 2),
        other => panic!("expected a record error, got {other:?}"),
    }
    assert_eq!(store.applied_seq(), 1, "valid records before the bad one are applied");
}

#[test]
fn checkpoint_is_a_safe_retention_point() {
    let dir = TempDir::new().unwrap();
    let journal_dir = dir.path().join("journal");
    let records = workload(60);
    let mut cfg = JournalConfig::new(&journal_dir);
    cfg.segment_bytes = switchyard_journal::MIN_SEGMENT_BYTES;
    let (journal, _) = Journal::open(cfg).unwrap();
    for r in &records {
        append_and_wait(&journal, r);
    }
    let store = open(&dir);
    let half = records.len() / 2;
    apply_all(&store, &records[..half], 1);
    let durable = store.checkpoint().unwrap();
    assert_eq!(durable, u64::try_from(half).unwrap());
    assert!(journal.truncate_before(durable + 1).unwrap() > 0, "small segments: some are removed");
    journal.shutdown().unwrap();

    assert_eq!(store.catch_up(&journal_dir).unwrap(), u64::try_from(records.len() - half).unwrap());
    let fresh = TempDir::new().unwrap();
    let err = open(&fresh).catch_up(&journal_dir).unwrap_err();
    assert!(matches!(err, StateError::Journal(switchyard_journal::JournalError::Truncated { .. })), "{err}");
}

#[test]
fn a_crash_mid_way_then_catch_up_equals_one_go() {
    let dir = TempDir::new().unwrap();
    let journal_dir = dir.path().join("journal");
    let records = workload(60);
    write_journal(&journal_dir, &records);
    let half = records.len() / 2;
    {
        let store = open(&dir);
        apply_all(&store, &records[..half], 1);
        // Dropped without flush: sled recovers what its log holds, the marker says where.
    }
    let store = open(&dir);
    let resumed_at = store.applied_seq();
    assert!(resumed_at <= u64::try_from(half).unwrap());
    store.catch_up(&journal_dir).unwrap();

    let other = TempDir::new().unwrap();
    let one_go = open(&other);
    one_go.catch_up(&journal_dir).unwrap();
    let (a, b) = (snapshot(&store), snapshot(&one_go));
    assert!(a.audit_ok && b.audit_ok);
    assert_eq!(a, b, "equal views and equal audit head");
}

#[test]
fn a_failed_reindex_leaves_the_store_as_it_was_and_no_half_built_copy() {
    let dir = TempDir::new().unwrap();
    let journal_dir = dir.path().join("journal");
    let state_dir = dir.path().join("state");
    let records = workload(5);
    write_journal(&journal_dir, &records);
    reindex(&state_dir, &journal_dir).unwrap();
    let before = snapshot(&StateStore::open(&state_dir).unwrap());
    // A journal directory that is a file: the rebuild cannot read it.
    let not_a_journal = dir.path().join("not-a-journal");
    std::fs::write(&not_a_journal, b"x").unwrap();
    let failed = reindex(&state_dir, &not_a_journal);
    assert!(failed.is_err(), "{failed:?}");
    assert!(!dir.path().join("state.reindex").exists(), "half-built store left behind");
    assert_eq!(snapshot(&StateStore::open(&state_dir).unwrap()), before);
}

#[test]
fn reindex_equals_incremental_and_refuses_an_open_store() {
    let dir = TempDir::new().unwrap();
    let journal_dir = dir.path().join("journal");
    let state_dir = dir.path().join("state");
    let records = workload(30);
    write_journal(&journal_dir, &records);
    let incremental = {
        let store = StateStore::open(&state_dir).unwrap();
        apply_all(&store, &records, 1);
        let locked = reindex(&state_dir, &journal_dir);
        assert!(matches!(locked, Err(StateError::Locked { .. })), "{locked:?}");
        snapshot(&store)
    };
    let report = reindex(&state_dir, &journal_dir).unwrap();
    assert_eq!(report.records, u64::try_from(records.len()).unwrap());
    assert_eq!(report.audit_head, incremental.audit_head);
    let rebuilt = StateStore::open(&state_dir).unwrap();
    assert_eq!(snapshot(&rebuilt), incremental);
    assert!(!dir.path().join("state.reindex").exists() && !dir.path().join("state.old").exists());
}

#[test]
fn verify_audit_names_a_tampered_entry() {
    let dir = TempDir::new().unwrap();
    let state_dir = dir.path().join("state");
    let records = workload(20);
    let seq_of_first_settled = {
        let store = StateStore::open(&state_dir).unwrap();
        apply_all(&store, &records, 1);
        let report = store.verify_audit().unwrap();
        assert!(report.ok && report.first_broken.is_none());
        assert_eq!(report.entries, u64::try_from(records.len()).unwrap());
        records
            .iter()
            .position(|r| matches!(r, JournalRecord::Outcome(o) if o.outcome == Outcome::Settled))
            .unwrap()
    };
    let index = u64::try_from(seq_of_first_settled).unwrap();
    {
        // Rewrite the entry directly in sled: "settled" becomes "SETTLED", the hash is kept.
        let db = raw_sled(&state_dir);
        let audit = db.open_tree(tree_names::AUDIT).unwrap();
        let value = audit.get(index.to_be_bytes()).unwrap().unwrap().to_vec();
        let at = value.windows(7).position(|w| w == b"settled").expect("the entry names its change");
        let mut forged = value.clone();
        forged[at..at + 7].copy_from_slice(b"SETTLED");
        audit.insert(index.to_be_bytes(), forged).unwrap();
        db.flush().unwrap();
    }
    let store = StateStore::open(&state_dir).unwrap();
    let report = store.verify_audit().unwrap();
    assert!(!report.ok);
    let broken = report.first_broken.unwrap();
    assert_eq!((broken.index, broken.seq), (index, Some(index + 1)));
    assert_ne!(broken.expected, broken.found);
    assert_eq!(broken.found.len(), 64, "found is the stored hash in hex");
}

#[test]
fn verify_audit_detects_a_removed_newest_entry() {
    let dir = TempDir::new().unwrap();
    let state_dir = dir.path().join("state");
    let records = workload(5);
    {
        let store = StateStore::open(&state_dir).unwrap();
        apply_all(&store, &records, 1);
    }
    let last = u64::try_from(records.len()).unwrap() - 1;
    {
        let db = raw_sled(&state_dir);
        db.open_tree(tree_names::AUDIT).unwrap().remove(last.to_be_bytes()).unwrap();
        db.flush().unwrap();
    }
    let report = StateStore::open(&state_dir).unwrap().verify_audit().unwrap();
    let broken = report.first_broken.expect("the head no longer matches");
    assert_eq!(broken.index, last);
}

#[test]
fn dlq_lists_and_purges() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir);
    let records = vec![
        JournalRecord::Accepted(accepted("bank-a", 1)),
        JournalRecord::Accepted(accepted("bank-b", 2)),
        JournalRecord::Accepted(accepted("bank-b", 3)),
        outcome("bank-a", 1, Outcome::DeadLettered("no route for ZAR".into())),
        outcome("bank-b", 2, Outcome::DeadLettered("link down".into())),
        outcome("bank-b", 3, Outcome::Settled),
    ];
    apply_all(&store, &records, 1);
    let all = store.dlq_list(None).unwrap();
    assert_eq!(all.len(), 2);
    let a = &store.dlq_list(Some("bank-a")).unwrap()[0];
    assert_eq!((a.uetr.as_str(), a.reason.as_str(), a.seq), (uetr(1).as_str(), "no route for ZAR", 4));
    assert_eq!(a.payment, accepted("bank-a", 1), "a replay gets the message bytes");
    assert_eq!(store.open_payments("bank-a").unwrap().len(), 0, "dead-lettered is not open");

    assert!(!store.dlq_remove("bank-b", &uetr(1)).unwrap(), "another tenant cannot purge it");
    assert!(store.dlq_remove("bank-a", &uetr(1)).unwrap());
    assert!(!store.dlq_remove("bank-a", &uetr(1)).unwrap(), "second purge finds nothing");
    assert_eq!(store.dlq_list(None).unwrap().len(), 1);
    assert_eq!(store.counts().unwrap().dlq, 1);
    let report = store.verify_audit().unwrap();
    assert!(report.ok);
    assert_eq!(report.entries, 7, "the purge is audited");

    // A replay journals a new acceptance: the payment reopens and leaves the DLQ.
    store.apply(7, &JournalRecord::Accepted(accepted("bank-b", 2))).unwrap();
    assert!(store.dlq_list(Some("bank-b")).unwrap().is_empty());
    assert_eq!(store.open_payments("bank-b").unwrap(), vec![accepted("bank-b", 2)]);
    let states: Vec<String> =
        store.payment("bank-b", &uetr(2)).unwrap().unwrap().history.into_iter().map(|c| c.state).collect();
    assert_eq!(states, ["accepted", "dead-lettered:link down", "accepted"]);
    assert_eq!(store.list("bank-b", 0, 10).unwrap().len(), 2, "one listing row per payment");
}

#[test]
fn open_payments_shrink_as_outcomes_arrive() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir);
    for i in 1..=4 {
        store.apply(i, &JournalRecord::Accepted(accepted("bank-a", i))).unwrap();
    }
    let open_uetrs =
        |s: &StateStore| s.open_payments("bank-a").unwrap().into_iter().map(|p| p.uetr).collect::<Vec<_>>();
    assert_eq!(open_uetrs(&store), (1..=4).map(uetr).collect::<Vec<_>>());
    store.apply(5, &outcome("bank-a", 2, Outcome::Settled)).unwrap();
    store.apply(6, &outcome("bank-a", 3, Outcome::InDoubt)).unwrap();
    assert_eq!(open_uetrs(&store), [uetr(1), uetr(3), uetr(4)], "in doubt stays open");
    store.apply(7, &outcome("bank-a", 3, Outcome::Settled)).unwrap();
    store.apply(8, &outcome("bank-a", 1, Outcome::Rejected("AC01".into()))).unwrap();
    store.apply(9, &outcome("bank-a", 4, Outcome::DeadLettered("expired".into()))).unwrap();
    assert!(open_uetrs(&store).is_empty());
    // A terminal outcome is not reopened by a later one; the journal's word is kept in history.
    store.apply(10, &outcome("bank-a", 2, Outcome::InDoubt)).unwrap();
    assert!(open_uetrs(&store).is_empty());
    let view = store.payment("bank-a", &uetr(2)).unwrap().unwrap();
    assert_eq!(view.outcome, Some(Outcome::Settled));
    assert_eq!(view.history.last().unwrap().state, "in-doubt");
    // An outcome for a payment never accepted is audited, not an error.
    store.apply(11, &outcome("bank-a", 77, Outcome::Settled)).unwrap();
    assert_eq!(store.counts().unwrap().audit_entries, 11);
}

#[test]
fn a_store_is_opened_once_and_keeps_its_layout_version() {
    let dir = TempDir::new().unwrap();
    let state_dir = dir.path().join("state");
    let store = StateStore::open(&state_dir).unwrap();
    assert!(matches!(StateStore::open(&state_dir), Err(StateError::Locked { .. })));
    let clone = store.clone();
    clone.apply(1, &JournalRecord::Accepted(accepted("bank-a", 1))).unwrap();
    assert_eq!(store.applied_seq(), 1, "clones share one store");
    drop((store, clone));
    {
        let db = raw_sled(&state_dir);
        db.open_tree(tree_names::META).unwrap().insert("layout_version", &99u32.to_be_bytes()[..]).unwrap();
        db.flush().unwrap();
    }
    match StateStore::open(&state_dir) {
        Err(StateError::Layout { found, expected }) => assert_eq!((found, expected), (99, 1)),
        other => panic!("expected a layout error, got {other:?}"),
    }
}

/// Set in the environment of the child process of `sigkill_during_apply_leaves_a_consistent_prefix`.
const CHILD_ENV: &str = "SWITCHYARD_STATE_CRASH_CHILD";

/// The child half of the crash test (a no-op in a normal run): applies the journal in the
/// given directory record by record, printing each applied seq, until it is killed.
#[test]
fn crash_child_applies_until_killed() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else { return };
    let dir = std::path::PathBuf::from(dir);
    let store = StateStore::open(&dir.join("state")).unwrap();
    for item in switchyard_journal::read_from(&dir.join("journal"), store.applied_seq() + 1).unwrap() {
        let record = item.unwrap();
        store.apply(record.seq, &codec::decode::<JournalRecord>(&record.payload).unwrap()).unwrap();
        println!("applied {}", record.seq);
    }
    println!("done");
    std::thread::sleep(std::time::Duration::from_secs(60));
}

/// A real crash: the child applies records and is SIGKILLed at a varying moment. After every
/// kill the reopened store must be a consistent prefix of the journal (audit chain intact, one
/// audit entry per applied record, equal to a store that applied exactly that prefix); at the
/// end, catch_up must produce the same store as applying everything in one go.
#[test]
fn sigkill_during_apply_leaves_a_consistent_prefix() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    if std::env::var_os(CHILD_ENV).is_some() {
        return;
    }
    let dir = TempDir::new().unwrap();
    let (journal_dir, state_dir) = (dir.path().join("journal"), dir.path().join("state"));
    let records = workload(200);
    write_journal(&journal_dir, &records);
    let mut lines_before_kill = 7u64;
    for _cycle in 0..6 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["crash_child_applies_until_killed", "--exact", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut seen = 0;
        for line in stdout.lines() {
            let line = line.unwrap();
            seen += u64::from(line.starts_with("applied "));
            if seen >= lines_before_kill || line == "done" {
                break;
            }
        }
        child.kill().unwrap(); // SIGKILL, while it keeps applying
        child.wait().unwrap();
        lines_before_kill = (lines_before_kill * 7 + 13) % 97 + 1;

        let store = StateStore::open(&state_dir).unwrap();
        let applied = store.applied_seq();
        let got = snapshot(&store);
        assert!(got.audit_ok, "audit chain intact after a kill at seq {applied}");
        assert_eq!(got.counts.audit_entries, applied, "one audit entry per applied record");
        let prefix = TempDir::new().unwrap();
        let expected = open(&prefix);
        apply_all(&expected, &records[..usize::try_from(applied).unwrap()], 1);
        assert_eq!(got, snapshot(&expected), "a consistent prefix at seq {applied}");
    }
    let store = StateStore::open(&state_dir).unwrap();
    store.catch_up(&journal_dir).unwrap();
    let one_go = TempDir::new().unwrap();
    let reference = open(&one_go);
    reference.catch_up(&journal_dir).unwrap();
    assert_eq!(snapshot(&store), snapshot(&reference));
}

fn operator(tenant: &str, i: u64, kind: switchyard_actors::record::OperatorKind) -> JournalRecord {
    JournalRecord::Operator(switchyard_actors::record::OperatorAction {
        tenant: tenant.into(),
        uetr: uetr(i),
        kind,
        operator: "ops".into(),
        at_ms: 9_000 + i,
    })
}

#[test]
fn journaled_dlq_replay_reopens_and_purge_drops_with_history_and_audit() {
    use switchyard_actors::record::OperatorKind::{DlqPurge, DlqReplay};
    let dir = TempDir::new().unwrap();
    let store = open(&dir);
    let records = vec![
        JournalRecord::Accepted(accepted("bank-a", 1)),
        JournalRecord::Accepted(accepted("bank-a", 2)),
        outcome("bank-a", 1, Outcome::DeadLettered("link down".into())),
        outcome("bank-a", 2, Outcome::DeadLettered("link down".into())),
        operator("bank-b", 1, DlqReplay), // another tenant's UETR: history of nothing, no change
        operator("bank-a", 1, DlqReplay),
        operator("bank-a", 2, DlqPurge),
        operator("bank-a", 2, DlqReplay), // after the purge: history only
    ];
    apply_all(&store, &records, 1);
    assert!(store.dlq_list(None).unwrap().is_empty());
    assert_eq!(store.open_payments("bank-a").unwrap(), vec![accepted("bank-a", 1)], "replayed: open again");
    let one = store.payment("bank-a", &uetr(1)).unwrap().unwrap();
    assert_eq!(one.outcome, None);
    assert_eq!(one.history.last().unwrap().state, "dlq-replayed");
    let two = store.payment("bank-a", &uetr(2)).unwrap().unwrap();
    assert_eq!(two.outcome, Some(Outcome::DeadLettered("link down".into())), "purged stays dead-lettered");
    let states: Vec<&str> = two.history.iter().map(|h| h.state.as_str()).collect();
    assert_eq!(states, ["accepted", "dead-lettered:link down", "dlq-purged", "dlq-replayed"]);
    let report = store.verify_audit().unwrap();
    assert!(report.ok && report.entries == records.len() as u64, "{report:?}");
}

/// The key filter never says "no" for a key the store holds — not for keys stored before it
/// was enabled (the background scan), not for keys applied while the scan ran, not for keys
/// applied after — and says "no" for almost every key it never saw (else it saves nothing).
#[test]
fn key_filter_has_no_false_negatives_and_filters_new_keys() {
    let dir = TempDir::new().unwrap();
    let store = open(&dir);
    let before: Vec<JournalRecord> =
        (0..3_000).map(|i| JournalRecord::Accepted(accepted("bank-a", i))).collect();
    apply_chunked(&store, &before, 1);
    assert!(store.may_hold_payment("bank-a", &uetr(999_999)), "not enabled: maybe");
    store.enable_key_filter();
    // Applied while the scan may still be running.
    let during: Vec<JournalRecord> =
        (3_000..6_000).map(|i| JournalRecord::Accepted(accepted("bank-b", i))).collect();
    apply_chunked(&store, &during, 3_001);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while !store.key_filter_ready() {
        assert!(std::time::Instant::now() < deadline, "the key scan did not finish");
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    let after: Vec<JournalRecord> =
        (6_000..7_000).map(|i| JournalRecord::Accepted(accepted("bank-c", i))).collect();
    apply_chunked(&store, &after, 6_001);
    for record in before.iter().chain(&during).chain(&after) {
        let JournalRecord::Accepted(a) = record else { unreachable!() };
        assert!(store.may_hold_payment(&a.tenant, &a.uetr), "false negative for UETR {}", a.uetr);
        assert!(store.may_hold_msg_id(&a.tenant, &a.msg_id), "false negative for MsgId {}", a.msg_id);
        assert!(store.idempotency(&a.tenant, &a.uetr).unwrap().is_some());
    }
    let unseen = (100_000..110_000).filter(|i| store.may_hold_payment("bank-a", &uetr(*i))).count();
    assert!(unseen < 500, "{unseen} of 10,000 new UETRs were 'maybe'");
    // Tenant is part of the key: bank-a's UETR is not bank-b's.
    let crossed = (0..3_000).filter(|i| store.may_hold_payment("bank-b", &uetr(*i))).count();
    assert!(crossed < 150, "{crossed} of 3,000 other-tenant UETRs were 'maybe'");
}

/// Applies `records` from `first_seq` on, 100 per transaction.
fn apply_chunked(store: &StateStore, records: &[JournalRecord], first_seq: u64) {
    let numbered: Vec<(u64, JournalRecord)> = (first_seq..).zip(records.iter().cloned()).collect();
    for chunk in numbered.chunks(100) {
        store.apply_batch(chunk).unwrap();
    }
}

fn inbound(tenant: &str, i: u64, status: Option<&str>, reason: Option<&str>) -> JournalRecord {
    JournalRecord::Inbound(switchyard_actors::record::InboundPayment {
        tenant: tenant.into(),
        uetr: uetr(i),
        link: "sim".into(),
        status: status.map(Into::into),
        reason: reason.map(Into::into),
        message: b"<Document/>".to_vec(),
        at_ms: 1_000 + i,
    })
}

#[test]
fn inbound_payments_are_indexed_per_tenant_with_status_and_return_and_survive_reopen_and_reindex() {
    use switchyard_actors::ports::InboundStored;
    let dir = TempDir::new().unwrap();
    let journal_dir = dir.path().join("journal");
    let state_dir = dir.path().join("state");
    let records = vec![
        inbound("bank-b", 1, None, None),
        inbound("bank-b", 2, None, None),
        inbound("bank-b", 1, Some("ACSC"), None),
        inbound("bank-b", 2, Some("RJCT"), Some("AC04")),
        inbound("bank-b", 1, Some(switchyard_actors::record::InboundPayment::RETURNED), Some("AC06")),
        // Received again (a repeated delivery): what was known stays.
        inbound("bank-b", 1, None, None),
    ];
    write_journal(&journal_dir, &records);
    let settled_and_returned = InboundStored {
        link: "sim".into(),
        status: Some("ACSC".into()),
        reason: None,
        returned: true,
        return_status: None,
    };
    let rejected = InboundStored {
        link: "sim".into(),
        status: Some("RJCT".into()),
        reason: Some("AC04".into()),
        returned: false,
        return_status: None,
    };
    {
        let store = StateStore::open(&state_dir).unwrap();
        assert_eq!(store.inbound("bank-b", &uetr(1)).unwrap(), None);
        apply_all(&store, &records[..1], 1);
        let received = store.inbound("bank-b", &uetr(1)).unwrap().expect("received");
        assert_eq!((received.status, received.returned), (None, false));
        apply_all(&store, &records[1..], 2);
        assert_eq!(store.inbound("bank-b", &uetr(1)).unwrap(), Some(settled_and_returned.clone()));
        assert_eq!(store.inbound("bank-b", &uetr(2)).unwrap(), Some(rejected.clone()));
        // Another tenant never sees bank-b's inbound payments; they are not its own payments.
        assert_eq!(store.inbound("bank-a", &uetr(1)).unwrap(), None);
        assert_eq!(store.idempotency("bank-b", &uetr(1)).unwrap(), None);
    }
    let reopened = StateStore::open(&state_dir).unwrap();
    assert_eq!(reopened.inbound("bank-b", &uetr(1)).unwrap(), Some(settled_and_returned.clone()));
    drop(reopened);
    reindex(&state_dir, &journal_dir).unwrap();
    let rebuilt = StateStore::open(&state_dir).unwrap();
    assert_eq!(rebuilt.inbound("bank-b", &uetr(1)).unwrap(), Some(settled_and_returned));
    assert_eq!(rebuilt.inbound("bank-b", &uetr(2)).unwrap(), Some(rejected));
}

/// sled 0.34 can leave a snapshot it cannot read after a kill (spacejam/sled#1527, #1533);
/// the crash campaign met it. The store is rebuilt from the journal instead of failing the node.
#[test]
fn an_unreadable_store_is_moved_aside_and_rebuilt_from_the_journal() {
    let dir = TempDir::new().unwrap();
    let journal_dir = dir.path().join("journal");
    let state_dir = dir.path().join("state");
    let records = workload(30);
    write_journal(&journal_dir, &records);
    let before = {
        let store = StateStore::open(&state_dir).unwrap();
        apply_all(&store, &records, 1);
        store.flush().unwrap();
        snapshot(&store)
    };
    // A torn snapshot, as a kill during sled's snapshot generation leaves it.
    std::fs::write(state_dir.join("snap.0000000000001000"), vec![0xAB_u8; 300]).unwrap();
    let unreadable = StateStore::open(&state_dir);
    assert!(
        matches!(unreadable, Err(StateError::Sled { source: sled::Error::Corruption { .. }, .. })),
        "{:?}",
        unreadable.err()
    );
    let (store, rebuilt) = open_or_rebuild(&state_dir, &journal_dir, DEFAULT_CACHE_BYTES).unwrap();
    let rebuilt = rebuilt.expect("rebuilt");
    assert_eq!(rebuilt.report.records, u64::try_from(records.len()).unwrap());
    assert!(rebuilt.moved_to.join("snap.0000000000001000").exists(), "the damaged store is kept aside");
    assert!(rebuilt.moved_to.file_name().unwrap().to_string_lossy().starts_with("state.corrupt-"));
    assert_eq!(snapshot(&store), before, "the rebuilt store equals the one that was lost");
    drop(store);
    let (_store, again) = open_or_rebuild(&state_dir, &journal_dir, DEFAULT_CACHE_BYTES).unwrap();
    assert!(again.is_none(), "a readable store is opened as it is");
}

#[test]
fn unanswered_inbound_payments_are_listed_until_answered_or_refused_and_returns_keep_their_fate() {
    use switchyard_actors::record::InboundPayment;
    let dir = TempDir::new().unwrap();
    let journal_dir = dir.path().join("journal");
    let state_dir = dir.path().join("state");
    let records = vec![
        inbound("bank-b", 1, None, None),
        inbound("bank-b", 2, None, None),
        inbound("bank-b", 3, None, None),
        inbound("bank-a", 4, None, None),
        // 1 answered; 2 refused back to the clearing house (no session); 3 stays unanswered.
        inbound("bank-b", 1, Some("ACSC"), None),
        inbound("bank-b", 2, Some(InboundPayment::REFUSED), None),
        // 1 returned, the return never left the node, returned again, answered ACSC.
        inbound("bank-b", 1, Some(InboundPayment::RETURNED), Some("AC06")),
        inbound("bank-b", 1, Some(InboundPayment::RETURN_NOT_SENT), None),
    ];
    let later = vec![
        inbound("bank-b", 1, Some(InboundPayment::RETURNED), Some("AC06")),
        inbound("bank-b", 1, Some("RETURN-ACSC"), None),
        // 4 is answered RJCT; its return... nothing: not settled.
        inbound("bank-a", 4, Some("RJCT"), Some("AC04")),
    ];
    let mut all = records.clone();
    all.extend(later.iter().cloned());
    write_journal(&journal_dir, &all);
    let listed = |store: &StateStore, tenant: &str| -> Vec<String> {
        store
            .unanswered_inbound(tenant)
            .unwrap()
            .into_iter()
            .map(|(u, link, message)| {
                assert_eq!((link.as_str(), message.as_slice()), ("sim", &b"<Document/>"[..]));
                u
            })
            .collect()
    };
    {
        let store = StateStore::open(&state_dir).unwrap();
        apply_all(&store, &records, 1);
        assert_eq!(listed(&store, "bank-b"), vec![uetr(3)]);
        assert_eq!(listed(&store, "bank-a"), vec![uetr(4)]);
        let row = store.inbound("bank-b", &uetr(1)).unwrap().unwrap();
        assert_eq!((row.returned, row.return_status), (false, None), "not sent: returnable again");
        apply_all(&store, &later, 1 + records.len() as u64);
        let row = store.inbound("bank-b", &uetr(1)).unwrap().unwrap();
        assert_eq!((row.returned, row.return_status.as_deref()), (true, Some("ACSC")));
        assert!(listed(&store, "bank-a").is_empty());
        // The open entries never show up as rows.
        assert_eq!(store.inbound("bank-b", &uetr(3)).unwrap().map(|r| r.status), Some(None));
    }
    reindex(&state_dir, &journal_dir).unwrap();
    let rebuilt = StateStore::open(&state_dir).unwrap();
    assert_eq!(listed(&rebuilt, "bank-b"), vec![uetr(3)]);
    let row = rebuilt.inbound("bank-b", &uetr(1)).unwrap().unwrap();
    assert_eq!((row.returned, row.return_status.as_deref()), (true, Some("ACSC")));
}

#[test]
fn returns_whose_answer_is_unknown_are_listed_until_the_clearing_house_answers() {
    use switchyard_actors::record::InboundPayment;
    let dir = TempDir::new().unwrap();
    let journal_dir = dir.path().join("journal");
    let state_dir = dir.path().join("state");
    let settled_and_returned = |n: u64| {
        vec![
            inbound("bank-b", n, None, None),
            inbound("bank-b", n, Some("ACSC"), None),
            inbound("bank-b", n, Some(InboundPayment::RETURNED), Some("AC06")),
        ]
    };
    // 5: returned, no answer; 6: returned, not sent; 7: returned, rejected by the clearing house.
    let mut records = settled_and_returned(5);
    records.extend(settled_and_returned(6));
    records.push(inbound("bank-b", 6, Some(InboundPayment::RETURN_NOT_SENT), None));
    records.extend(settled_and_returned(7));
    records.push(inbound("bank-b", 7, Some("RETURN-RJCT"), Some("DUPL")));
    let later = vec![inbound("bank-b", 5, Some("RETURN-ACSC"), None)];
    let mut all = records.clone();
    all.extend(later.iter().cloned());
    let listed = |store: &StateStore, tenant: &str| -> Vec<String> {
        store
            .unanswered_returns(tenant)
            .unwrap()
            .into_iter()
            .map(|(u, link, message)| {
                assert_eq!((link.as_str(), message.as_slice()), ("sim", &b"<Document/>"[..]));
                u
            })
            .collect()
    };
    write_journal(&journal_dir, &records);
    {
        let store = StateStore::open(&state_dir).unwrap();
        apply_all(&store, &records, 1);
        assert_eq!(listed(&store, "bank-b"), vec![uetr(5)]);
        assert!(listed(&store, "bank-a").is_empty());
        assert!(
            store.unanswered_inbound("bank-b").unwrap().is_empty(),
            "a return is not an unanswered payment"
        );
        let row = store.inbound("bank-b", &uetr(5)).unwrap().unwrap();
        assert_eq!((row.returned, row.return_status), (true, None), "the open return key is not a row");
    }
    // Rebuilt from the journal: the same.
    reindex(&state_dir, &journal_dir).unwrap();
    {
        let store = StateStore::open(&state_dir).unwrap();
        assert_eq!(listed(&store, "bank-b"), vec![uetr(5)]);
        apply_all(&store, &later, 1 + records.len() as u64);
        assert!(listed(&store, "bank-b").is_empty(), "answered: no longer listed");
    }
    write_journal(&journal_dir, &all);
    reindex(&state_dir, &journal_dir).unwrap();
    assert!(listed(&StateStore::open(&state_dir).unwrap(), "bank-b").is_empty());
}
