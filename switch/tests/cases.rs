//! Black-box tests of the participant requests about an existing payment, over a real node,
//! real TLS and the real clearing simulator: status inquiries (pacs.028) answered from the
//! switch's own journal-backed state, and cancellations (camt.056 → camt.029), local before
//! clearing and forwarded (with the clearing house's answer relayed) after.

mod common;

use std::time::Duration;

use common::{client, fixture, fixture_with, journal_records, start_node_with, TIMEOUT};
use futures::StreamExt;
use switchyard::demo::{demo_bic, TEMPLATE};
use switchyard_actors::{JournalRecord, Outcome};
use switchyard_bench::client::Participant;
use switchyard_bench::messages::MessageFactory;
use switchyard_clearing::sim::SimConfig;
use switchyard_iso20022::{
    read_camt029, read_pacs002, read_pacs008, write_camt056, write_pacs028, Assignment, Camt029, Camt056,
    CancellationTx, Limits, OriginalRef, Pacs028, PartyRef, Reason, StatusReport, StatusRequestTx, TxStatus,
    Uetr,
};
use switchyard_wire::{Frame, FrameKind};

fn original(uetr: &str) -> OriginalRef {
    OriginalRef {
        orgnl_msg_id: Some("ORIGINAL".into()),
        orgnl_msg_nm_id: Some("pacs.008.001.08".into()),
        orgnl_uetr: Uetr::parse(uetr),
        ..OriginalRef::default()
    }
}

fn pacs028(uetr: &str) -> Vec<u8> {
    write_pacs028(&Pacs028 {
        app_hdr: None,
        msg_id: "INQ-1".into(),
        cre_dt_tm: "2026-11-23T05:00:00Z".into(),
        orgnl_grp: None,
        txs: vec![StatusRequestTx {
            sts_req_id: None,
            original: original(uetr),
            instg_agt: None,
            instg_agt_mmb: None,
            instd_agt: None,
            instd_agt_mmb: None,
        }],
    })
}

fn camt056(uetr: &str, tenant: &str) -> Vec<u8> {
    write_camt056(&Camt056 {
        group: None,
        app_hdr: None,
        assignment: Assignment {
            id: "CASE-1".into(),
            assgnr: PartyRef { bic: Some(demo_bic(tenant)), ..PartyRef::default() },
            assgne: PartyRef { name: Some("SWITCHYARD".into()), ..PartyRef::default() },
            cre_dt_tm: "2026-11-23T05:00:00Z".into(),
        },
        txs: vec![CancellationTx {
            cxl_id: None,
            original: original(uetr),
            orgnl_intr_bk_sttlm_amt: None,
            orgnl_intr_bk_sttlm_dt: None,
            reason: Reason { cd: Some("DUPL".into()), prtry: None, addtl_inf: None },
        }],
    })
}

struct Conn {
    p: Participant,
    next: u64,
}

impl Conn {
    async fn open(f: &common::Fixture, node: &switchyard::node::Node, name: &str) -> Self {
        Self { p: Participant::connect(&client(f, node, Some(name))).await.unwrap(), next: 1000 }
    }

    async fn send(&mut self, payload: Vec<u8>) -> u64 {
        self.next += 1;
        self.p.tx.send(Frame::new(FrameKind::Submit, self.next, payload)).await.unwrap();
        self.next
    }

    /// The next frame with `correlation` (frames for other correlations are returned too, in
    /// `others`, so callers can check them).
    async fn answer(&mut self, correlation: u64, others: &mut Vec<Frame>) -> Frame {
        loop {
            let frame = tokio::time::timeout(TIMEOUT, self.p.reader.next())
                .await
                .expect("answer in time")
                .unwrap()
                .unwrap();
            assert_eq!(frame.kind, FrameKind::Status, "{}", String::from_utf8_lossy(&frame.payload));
            if frame.correlation == correlation {
                return frame;
            }
            others.push(frame);
        }
    }

    async fn status_of(&mut self, correlation: u64) -> StatusReport {
        let frame = self.answer(correlation, &mut Vec::new()).await;
        read_pacs002(&frame.payload, &Limits::default()).expect("a valid pacs.002")
    }

    async fn inquire(&mut self, uetr: &str) -> StatusReport {
        let c = self.send(pacs028(uetr)).await;
        self.status_of(c).await
    }

    async fn cancel(&mut self, uetr: &str, tenant: &str, others: &mut Vec<Frame>) -> Camt029 {
        let c = self.send(camt056(uetr, tenant)).await;
        let frame = self.answer(c, others).await;
        read_camt029(&frame.payload, &Limits::default()).expect("a valid camt.029")
    }

    /// Submits one payment and waits for its ACTC; returns its UETR and correlation.
    async fn submit_one(&mut self, tenant: &str, n: u64) -> (String, u64) {
        let template = read_pacs008(TEMPLATE, &Limits::default()).unwrap();
        let factory = MessageFactory::new(template, tenant).sending_as(&demo_bic(tenant));
        let (xml, uetr) = factory.make(n);
        let c = self.send(xml).await;
        let ack = self.status_of(c).await;
        assert_eq!(ack.txs[0].tx_sts, TxStatus::ACTC);
        (uetr, c)
    }
}

fn conf(answer: &Camt029) -> (&str, Option<&str>, Option<&str>) {
    let tx = &answer.txs[0];
    let conf = answer.sts_conf.as_deref().unwrap_or("");
    let expected_tx = if conf == "CNCL" { "ACCR" } else { conf };
    assert_eq!(tx.tx_cxl_sts.as_deref(), Some(expected_tx), "transaction status matches the case status");
    (conf, tx.reason.cd.as_deref(), answer.assignment.assgnr.name.as_deref())
}

/// Waits (progress-based: by asking) until the payment is at the clearing house.
async fn until_at_clearing(c: &mut Conn, uetr: &str) {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let status = c.inquire(uetr).await.txs[0].tx_sts;
        if status == TxStatus::PDNG {
            return;
        }
        assert_eq!(status, TxStatus::ACTC, "accepted, then at the clearing house");
        assert!(tokio::time::Instant::now() < deadline, "never reached the clearing house");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_inquiries_are_answered_from_the_switchs_state_and_scoped_to_the_tenant() {
    let f = fixture_with(SimConfig { latency: Duration::from_millis(1500), ..SimConfig::default() }).await;
    let edit = |c: &mut switchyard::config::NodeConfig| c.limits.payment.clearing_timeout_ms = 60_000;
    let node = start_node_with(&f, edit).await;
    let mut a = Conn::open(&f, &node, "bank-a").await;
    let (uetr, submitted) = a.submit_one("bank-a", 1).await;
    // In progress: accepted, then pending at the clearing house.
    until_at_clearing(&mut a, &uetr).await;
    let settled = a.status_of(submitted).await;
    assert_eq!(settled.txs[0].tx_sts, TxStatus::ACSC);
    // Final: the durable outcome, with the payment's UETR.
    let report = a.inquire(&uetr).await;
    assert_eq!(report.txs[0].tx_sts, TxStatus::ACSC);
    assert_eq!(report.txs[0].orgnl_uetr.as_ref().map(Uetr::as_str), Some(uetr.as_str()));
    // Unknown UETR, and another tenant's payment: not found, and nothing leaks.
    let unknown = "0b7e1a52-6c8e-4f0a-9a4e-2f1c3d5e7a90";
    let report = a.inquire(unknown).await;
    assert_eq!(report.txs[0].tx_sts, TxStatus::RJCT);
    assert_eq!(report.txs[0].reason_prtry.as_deref(), Some("NOTFOUND"));
    let mut b = Conn::open(&f, &node, "bank-b").await;
    let report = b.inquire(&uetr).await;
    assert_eq!(
        (report.txs[0].tx_sts, report.txs[0].reason_prtry.as_deref()),
        (TxStatus::RJCT, Some("NOTFOUND"))
    );
    assert_eq!(f.sim.stats.inquiries.load(std::sync::atomic::Ordering::Relaxed), 0, "never forwarded");
    drop((a, b));
    node.stop().await.unwrap();

    // After a restart the answer comes from the journal-backed state.
    let node = start_node_with(&f, edit).await;
    let mut a = Conn::open(&f, &node, "bank-a").await;
    assert_eq!(a.inquire(&uetr).await.txs[0].tx_sts, TxStatus::ACSC);
    drop(a);
    node.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_payment_not_yet_at_a_clearing_house_is_cancelled_locally() {
    let f = fixture().await;
    // The clearing link points at a closed port: payments stay accepted, backing off.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let node = start_node_with(&f, |c| {
        c.links[0].addr = closed;
        c.limits.payment.max_attempts = 1_000;
    })
    .await;
    let mut a = Conn::open(&f, &node, "bank-a").await;
    let (uetr, submitted) = a.submit_one("bank-a", 7).await;
    assert_eq!(a.inquire(&uetr).await.txs[0].tx_sts, TxStatus::ACTC);
    let mut others = Vec::new();
    let answer = a.cancel(&uetr, "bank-a", &mut others).await;
    assert_eq!(conf(&answer), ("CNCL", None, Some("SWITCHYARD")));
    assert_eq!(answer.txs[0].original.orgnl_uetr.as_ref().map(Uetr::as_str), Some(uetr.as_str()));
    // The original submission's final status: cancelled (it may have arrived before the camt.029).
    let final_status = match others.iter().find(|f| f.correlation == submitted) {
        Some(frame) => read_pacs002(&frame.payload, &Limits::default()).unwrap(),
        None => a.status_of(submitted).await,
    };
    assert_eq!(final_status.txs[0].tx_sts, TxStatus::CANC);
    // Asking again is answered from the final state; so is a status inquiry.
    assert_eq!(conf(&a.cancel(&uetr, "bank-a", &mut Vec::new()).await).0, "CNCL");
    assert_eq!(a.inquire(&uetr).await.txs[0].tx_sts, TxStatus::CANC);
    // Another tenant cannot cancel it (or learn of it).
    let mut b = Conn::open(&f, &node, "bank-b").await;
    assert_eq!(conf(&b.cancel(&uetr, "bank-b", &mut Vec::new()).await).1, Some("NOOR"));
    drop((a, b));
    node.stop().await.unwrap();
    let cancelled = journal_records(&f).into_iter().any(|r| {
        matches!(r, JournalRecord::Outcome(o) if o.uetr == uetr && matches!(o.outcome, Outcome::Cancelled(_)))
    });
    assert!(cancelled, "the cancellation is journaled");
    assert_eq!(f.sim.stats.submissions_of(&uetr), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancellation_at_the_clearing_house_is_forwarded_and_its_answer_relayed() {
    let f = fixture_with(SimConfig { latency: Duration::from_millis(1500), ..SimConfig::default() }).await;
    let node = start_node_with(&f, |c| c.limits.payment.clearing_timeout_ms = 60_000).await;
    let mut a = Conn::open(&f, &node, "bank-a").await;
    let (uetr, submitted) = a.submit_one("bank-a", 3).await;
    until_at_clearing(&mut a, &uetr).await;
    let mut others = Vec::new();
    let answer = a.cancel(&uetr, "bank-a", &mut others).await;
    // The clearing house's own answer (its assigner), relayed unchanged: too late to cancel.
    assert_eq!(conf(&answer), ("RJCR", Some("AGNT"), Some("CLEARING-SIM")));
    assert_eq!(f.sim.stats.cancellations.load(std::sync::atomic::Ordering::Relaxed), 1);
    let final_status = match others.iter().find(|f| f.correlation == submitted) {
        Some(frame) => read_pacs002(&frame.payload, &Limits::default()).unwrap(),
        None => a.status_of(submitted).await,
    };
    assert_eq!(final_status.txs[0].tx_sts, TxStatus::ACSC, "the payment goes on to settle");
    // After the outcome the switch answers itself; the clearing house is not asked again.
    assert_eq!(
        conf(&a.cancel(&uetr, "bank-a", &mut Vec::new()).await),
        ("RJCR", Some("AGNT"), Some("SWITCHYARD"))
    );
    assert_eq!(f.sim.stats.cancellations.load(std::sync::atomic::Ordering::Relaxed), 1);
    drop(a);
    node.stop().await.unwrap();
    assert_eq!(f.sim.stats.submissions_of(&uetr), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clearing_house_that_still_holds_the_payment_cancels_it_and_its_cncl_is_relayed() {
    // The simulator holds every answer 1.5 s and accepts cancellations of held payments.
    let latency = Duration::from_millis(1500);
    let f = fixture_with(SimConfig { latency, cancel_held_ppm: 1_000_000, ..SimConfig::default() }).await;
    let node = start_node_with(&f, |c| c.limits.payment.clearing_timeout_ms = 60_000).await;
    let mut a = Conn::open(&f, &node, "bank-a").await;
    let (uetr, submitted) = a.submit_one("bank-a", 4).await;
    until_at_clearing(&mut a, &uetr).await;
    let mut others = Vec::new();
    let answer = a.cancel(&uetr, "bank-a", &mut others).await;
    // The clearing house's own CNCL (its assigner), relayed unchanged.
    assert_eq!(conf(&answer), ("CNCL", None, Some("CLEARING-SIM")));
    assert_eq!(f.sim.stats.cancelled.load(std::sync::atomic::Ordering::Relaxed), 1);
    let final_status = match others.iter().find(|f| f.correlation == submitted) {
        Some(frame) => read_pacs002(&frame.payload, &Limits::default()).unwrap(),
        None => a.status_of(submitted).await,
    };
    assert_eq!(final_status.txs[0].tx_sts, TxStatus::CANC, "the participant hears the cancellation");
    // Past the held answer's time: the clearing house never sent it, the state stays cancelled.
    tokio::time::sleep(latency + Duration::from_millis(500)).await;
    assert_eq!(a.inquire(&uetr).await.txs[0].tx_sts, TxStatus::CANC);
    assert_eq!(conf(&a.cancel(&uetr, "bank-a", &mut Vec::new()).await).0, "CNCL", "answered from state");
    assert_eq!(f.sim.stats.cancellations.load(std::sync::atomic::Ordering::Relaxed), 1, "asked once");
    drop(a);
    node.stop().await.unwrap();
    let records = journal_records(&f);
    let cancelled = records.iter().any(|r| {
        matches!(r, JournalRecord::Outcome(o) if o.uetr == uetr && matches!(&o.outcome, Outcome::Cancelled(by) if by.contains("clearing")))
    });
    assert!(cancelled, "the clearing house's cancellation is journaled");
    let unmatched = records
        .iter()
        .any(|r| matches!(r, JournalRecord::UnmatchedReply(u) if u.uetr.as_deref() == Some(uetr.as_str())));
    assert!(!unmatched, "no pacs.002 followed the cancellation");
    assert_eq!(f.sim.stats.submissions_of(&uetr), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_from_the_clearing_house_is_journaled_and_delivered_to_the_debtor_side_tenant() {
    let f = fixture().await;
    let node = start_node_with(&f, |_| {}).await;
    let mut a = Conn::open(&f, &node, "bank-a").await;
    let (uetr, submitted) = a.submit_one("bank-a", 11).await;
    assert_eq!(a.status_of(submitted).await.txs[0].tx_sts, TxStatus::ACSC);
    // Not a settled payment of the clearing house: refused by the simulator itself.
    let template = read_pacs008(TEMPLATE, &Limits::default()).unwrap();
    let amount = template.txs[0].amount;
    assert!(f.sim.send_return("0b7e1a52-6c8e-4f0a-9a4e-2f1c3d5e7a90", amount, "AC04").await.is_err());
    f.sim.send_return(&uetr, amount, "AC04").await.unwrap();
    let frame =
        tokio::time::timeout(TIMEOUT, a.p.reader.next()).await.expect("return in time").unwrap().unwrap();
    assert_eq!(frame.kind, FrameKind::Deliver);
    let ret =
        switchyard_iso20022::read_pacs004(&frame.payload, &Limits::default()).expect("a valid pacs.004");
    assert_eq!(ret.txs[0].original.orgnl_uetr.as_ref().map(Uetr::as_str), Some(uetr.as_str()));
    assert_eq!(ret.txs[0].reason.cd.as_deref(), Some("AC04"));
    // The payment's state says returned; a cancellation is refused as already returned.
    let report = a.inquire(&uetr).await;
    assert!(report.txs[0].addtl_inf.as_deref().unwrap_or("").contains("returned"), "{report:?}");
    assert_eq!(
        conf(&a.cancel(&uetr, "bank-a", &mut Vec::new()).await),
        ("RJCR", Some("ARDT"), Some("SWITCHYARD"))
    );
    // A repeated return changes nothing and is not delivered twice.
    f.sim.send_return(&uetr, amount, "AC04").await.unwrap();
    let answer = a.inquire(&uetr).await; // the next frame is this answer, not a second pacs.004
    assert!(answer.txs[0].addtl_inf.as_deref().unwrap_or("").contains("returned"));
    drop(a);
    node.stop().await.unwrap();
    let returns: Vec<_> = journal_records(&f)
        .into_iter()
        .filter(|r| matches!(r, JournalRecord::Outcome(o) if o.uetr == uetr && o.outcome == Outcome::Returned("AC04".into())))
        .collect();
    assert_eq!(returns.len(), 1, "journaled once");
    let tally = switchyard::demo::JournalTally::read(&f.dir.path().join("journal")).unwrap();
    assert_eq!(tally.returned, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_for_a_tenant_with_no_session_is_delivered_after_a_restart() {
    let f = fixture().await;
    let node = start_node_with(&f, |_| {}).await;
    let mut a = Conn::open(&f, &node, "bank-a").await;
    let (uetr, submitted) = a.submit_one("bank-a", 12).await;
    assert_eq!(a.status_of(submitted).await.txs[0].tx_sts, TxStatus::ACSC);
    drop(a);
    node.stop().await.unwrap();
    // bank-a has no session on this node when the clearing house returns the payment.
    let node = start_node_with(&f, |_| {}).await;
    let amount = read_pacs008(TEMPLATE, &Limits::default()).unwrap().txs[0].amount;
    // The simulator may still hold the first node's dead connection and send on it: send again
    // (a repeated return is ignored) until the new node has recorded it as undelivered.
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    'sent: loop {
        let _ = f.sim.send_return(&uetr, amount, "AC04").await;
        for _ in 0..50 {
            if !node.state.undelivered("bank-a").unwrap().is_empty() {
                break 'sent;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(tokio::time::Instant::now() < deadline, "the undelivered return was never recorded");
    }
    node.stop().await.unwrap();
    // After a restart, the participant's next session gets it.
    let node = start_node_with(&f, |_| {}).await;
    let mut a = Conn::open(&f, &node, "bank-a").await;
    let frame =
        tokio::time::timeout(TIMEOUT, a.p.reader.next()).await.expect("return in time").unwrap().unwrap();
    assert_eq!(frame.kind, FrameKind::Deliver);
    let ret = switchyard_iso20022::read_pacs004(&frame.payload, &Limits::default()).expect("a pacs.004");
    assert_eq!(ret.txs[0].original.orgnl_uetr.as_ref().map(Uetr::as_str), Some(uetr.as_str()));
    assert_eq!(ret.txs[0].reason.cd.as_deref(), Some("AC04"));
    drop(a);
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while !node.state.undelivered("bank-a").unwrap().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "the delivery was never recorded");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    node.stop().await.unwrap();
    // Delivered once: not again after another restart.
    let node = start_node_with(&f, |_| {}).await;
    let mut a = Conn::open(&f, &node, "bank-a").await;
    let answer = a.inquire(&uetr).await; // the next frame is this answer, not the pacs.004 again
    assert!(answer.txs[0].addtl_inf.as_deref().unwrap_or("").contains("returned"), "{answer:?}");
    drop(a);
    node.stop().await.unwrap();
    let deliveries: Vec<bool> = journal_records(&f)
        .into_iter()
        .filter_map(|r| match r {
            JournalRecord::Delivery(d) if d.uetr == uetr => Some(d.delivered),
            _ => None,
        })
        .collect();
    assert_eq!(deliveries, vec![false, true], "journaled undelivered, then delivered");
}

fn creditor_status(uetr: &str, status: TxStatus, reason: Option<switchyard_iso20022::ReasonCode>) -> Vec<u8> {
    switchyard_iso20022::write_pacs002(&StatusReport {
        msg_id: format!("CRED-{}", &uetr[..8]).into(),
        cre_dt_tm: "2026-11-23T05:00:00Z".into(),
        orgnl_msg_id: "ORIGINAL".into(),
        orgnl_msg_nm_id: "pacs.008.001.08".into(),
        txs: vec![switchyard_iso20022::TxStatusInfo {
            orgnl_uetr: Uetr::parse(uetr),
            reason,
            ..switchyard_iso20022::TxStatusInfo::new(status)
        }],
        ..StatusReport::default()
    })
}

/// bank-b's answer (camt.029) to a cancellation request for `uetr`.
fn creditor_cancel_answer(uetr: &str, cancelled: bool) -> Vec<u8> {
    let (conf, tx, reason) = if cancelled { ("CNCL", "ACCR", None) } else { ("RJCR", "RJCR", Some("LEGL")) };
    switchyard_iso20022::write_camt029(&Camt029 {
        app_hdr: None,
        assignment: Assignment {
            id: "CASE-B".into(),
            assgnr: PartyRef { name: Some("BANK-B".into()), ..PartyRef::default() },
            assgne: PartyRef { name: Some("SWITCHYARD".into()), ..PartyRef::default() },
            cre_dt_tm: "2026-11-23T05:00:00Z".into(),
        },
        sts_conf: Some(conf.into()),
        sts_assgnmt_cxl_conf: None,
        sts_rjctd_mod: Vec::new(),
        sts_dplct_of: None,
        group: None,
        txs: vec![switchyard_iso20022::CancellationStatusTx {
            cxl_sts_id: None,
            original: original(uetr),
            tx_cxl_sts: Some(tx.into()),
            reason: Reason { cd: reason.map(Into::into), prtry: None, addtl_inf: None },
        }],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_on_us_cancellation_after_delivery_is_decided_by_the_creditor_tenant() {
    let f = fixture().await;
    let node = start_node_with(&f, |_| {}).await;
    let mut a = Conn::open(&f, &node, "bank-a").await;
    let mut b = Conn::open(&f, &node, "bank-b").await;
    let factory = on_us_factory();

    // Refused by the creditor: its camt.029 is relayed, the payment goes on and settles.
    let (xml, kept) = factory.make(21);
    let submitted = a.send(xml).await;
    assert_eq!(a.status_of(submitted).await.txs[0].tx_sts, TxStatus::ACTC);
    b.delivered().await;
    let c = a.send(camt056(&kept, "bank-a")).await;
    let forwarded = switchyard_iso20022::read_camt056(&b.delivered().await, &Limits::default()).unwrap();
    assert_eq!(forwarded.txs[0].original.orgnl_uetr.as_ref().map(Uetr::as_str), Some(kept.as_str()));
    let cb = b.send(creditor_cancel_answer(&kept, false)).await;
    assert_eq!(b.status_of(cb).await.txs[0].tx_sts, TxStatus::ACTC);
    let answer = read_camt029(&a.answer(c, &mut Vec::new()).await.payload, &Limits::default()).unwrap();
    assert_eq!(conf(&answer), ("RJCR", Some("LEGL"), Some("BANK-B")));
    let cb = b.send(creditor_status(&kept, TxStatus::ACSC, None)).await;
    assert_eq!(b.status_of(cb).await.txs[0].tx_sts, TxStatus::ACTC);
    assert_eq!(a.status_of(submitted).await.txs[0].tx_sts, TxStatus::ACSC);

    // Cancelled by the creditor: CNCL relayed, the payment ends cancelled.
    let (xml, uetr) = factory.make(22);
    let submitted = a.send(xml).await;
    assert_eq!(a.status_of(submitted).await.txs[0].tx_sts, TxStatus::ACTC);
    b.delivered().await;
    let mut others = Vec::new();
    let c = a.send(camt056(&uetr, "bank-a")).await;
    b.delivered().await;
    let cb = b.send(creditor_cancel_answer(&uetr, true)).await;
    assert_eq!(b.status_of(cb).await.txs[0].tx_sts, TxStatus::ACTC);
    let answer = read_camt029(&a.answer(c, &mut others).await.payload, &Limits::default()).unwrap();
    assert_eq!(conf(&answer), ("CNCL", None, Some("BANK-B")));
    let final_status = match others.iter().find(|f| f.correlation == submitted) {
        Some(frame) => read_pacs002(&frame.payload, &Limits::default()).unwrap(),
        None => a.status_of(submitted).await,
    };
    assert_eq!(final_status.txs[0].tx_sts, TxStatus::CANC);
    // The creditor can no longer settle it, nor answer again.
    let cb = b.send(creditor_status(&uetr, TxStatus::ACSC, None)).await;
    assert_eq!(b.status_of(cb).await.txs[0].reason_prtry.as_deref(), Some("NOTFOUND"));
    let cb = b.send(creditor_cancel_answer(&uetr, true)).await;
    assert_eq!(b.status_of(cb).await.txs[0].reason_prtry.as_deref(), Some("NOTFOUND"));
    assert_eq!(a.inquire(&uetr).await.txs[0].tx_sts, TxStatus::CANC);
    drop((a, b));
    node.stop().await.unwrap();
    let cancelled = journal_records(&f).into_iter().any(|r| {
        matches!(r, JournalRecord::Outcome(o) if o.uetr == uetr && matches!(o.outcome, Outcome::Cancelled(_)))
    });
    assert!(cancelled, "the cancellation is journaled");
}

/// bank-b's return (pacs.004) of `uetr`.
fn participant_return(uetr: &str) -> Vec<u8> {
    let amount = read_pacs008(TEMPLATE, &Limits::default()).unwrap().txs[0].amount;
    switchyard_iso20022::write_pacs004(&switchyard_iso20022::Pacs004 {
        app_hdr: None,
        msg_id: "RTR-B-1".into(),
        cre_dt_tm: "2026-11-23T05:00:00Z".into(),
        nb_of_txs: 1,
        ttl_rtrd_intr_bk_sttlm_amt: None,
        intr_bk_sttlm_dt: Some("2026-11-23".into()),
        sttlm_mtd: "CLRG".into(),
        clr_sys: None,
        txs: vec![switchyard_iso20022::ReturnTx {
            rtr_id: Some("RTR-B-1".into()),
            original: original(uetr),
            orgnl_intr_bk_sttlm_amt: None,
            amount,
            intr_bk_sttlm_dt: None,
            chrg_br: None,
            instg_agt: None,
            instg_agt_mmb: None,
            instd_agt: None,
            instd_agt_mmb: None,
            reason: Reason { cd: Some("AC06".into()), prtry: None, addtl_inf: None },
        }],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_on_us_payment_returned_by_its_creditor_reaches_the_debtor_tenant() {
    let f = fixture().await;
    let node = start_node_with(&f, |_| {}).await;
    let mut a = Conn::open(&f, &node, "bank-a").await;
    let mut b = Conn::open(&f, &node, "bank-b").await;
    let (xml, uetr) = on_us_factory().make(31);
    let submitted = a.send(xml).await;
    assert_eq!(a.status_of(submitted).await.txs[0].tx_sts, TxStatus::ACTC);
    b.delivered().await;
    // Not settled yet: nothing to return.
    let c = b.send(participant_return(&uetr)).await;
    assert_eq!(b.status_of(c).await.txs[0].reason_prtry.as_deref(), Some("NOTFOUND"));
    let c = b.send(creditor_status(&uetr, TxStatus::ACSC, None)).await;
    assert_eq!(b.status_of(c).await.txs[0].tx_sts, TxStatus::ACTC);
    assert_eq!(a.status_of(submitted).await.txs[0].tx_sts, TxStatus::ACSC);
    // The debtor cannot return its own payment; the creditor can, once.
    let c = a.send(participant_return(&uetr)).await;
    assert_eq!(a.status_of(c).await.txs[0].reason_prtry.as_deref(), Some("NOTFOUND"));
    let c = b.send(participant_return(&uetr)).await;
    assert_eq!(b.status_of(c).await.txs[0].tx_sts, TxStatus::ACTC);
    let ret = switchyard_iso20022::read_pacs004(&a.delivered().await, &Limits::default()).unwrap();
    assert_eq!(ret.txs[0].original.orgnl_uetr.as_ref().map(Uetr::as_str), Some(uetr.as_str()));
    assert_eq!(ret.txs[0].reason.cd.as_deref(), Some("AC06"));
    let report = a.inquire(&uetr).await;
    assert!(report.txs[0].addtl_inf.as_deref().unwrap_or("").contains("returned"), "{report:?}");
    let c = b.send(participant_return(&uetr)).await;
    assert_eq!(b.status_of(c).await.txs[0].reason_prtry.as_deref(), Some("NOTFOUND"), "returned once");
    drop((a, b));
    node.stop().await.unwrap();
    let returned = journal_records(&f).into_iter().any(|r| {
        matches!(r, JournalRecord::Outcome(o) if o.uetr == uetr && o.tenant == "bank-a" && o.outcome == Outcome::Returned("AC06".into()))
    });
    assert!(returned, "the debtor tenant journaled the return");
}

/// A payment from bank-a whose creditor agent is bank-b's institution.
fn on_us_factory() -> MessageFactory {
    let mut template = read_pacs008(TEMPLATE, &Limits::default()).unwrap();
    template.txs[0].cdtr_agt = Some(demo_bic("bank-b"));
    MessageFactory::new(template, "ONUS").sending_as(&demo_bic("bank-a"))
}

impl Conn {
    /// The next Deliver frame (an inbound message for this participant).
    async fn delivered(&mut self) -> Vec<u8> {
        let frame = tokio::time::timeout(TIMEOUT, self.p.reader.next())
            .await
            .expect("delivery in time")
            .unwrap()
            .unwrap();
        assert_eq!(frame.kind, FrameKind::Deliver, "{}", String::from_utf8_lossy(&frame.payload));
        frame.payload.to_vec()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_on_us_payment_is_settled_by_the_creditor_tenant_without_a_clearing_house() {
    let f = fixture().await;
    let node = start_node_with(&f, |_| {}).await;
    let mut a = Conn::open(&f, &node, "bank-a").await;
    let factory = on_us_factory();

    // The creditor is not connected yet: the payment waits (backing off, accepted and durable)
    // and is delivered once the creditor signs on.
    let (xml, held) = factory.make(3);
    let submitted = a.send(xml).await;
    assert_eq!(a.status_of(submitted).await.txs[0].tx_sts, TxStatus::ACTC);
    let mut b = Conn::open(&f, &node, "bank-b").await;
    let delivered = read_pacs008(&b.delivered().await, &Limits::default()).unwrap();
    assert_eq!(delivered.txs[0].uetr.as_ref().map(Uetr::as_str), Some(held.as_str()));
    let c = b.send(creditor_status(&held, TxStatus::ACSC, None)).await;
    assert_eq!(b.status_of(c).await.txs[0].tx_sts, TxStatus::ACTC);
    assert_eq!(a.status_of(submitted).await.txs[0].tx_sts, TxStatus::ACSC);

    // Settled by the creditor's pacs.002.
    let (xml, uetr) = factory.make(1);
    let submitted = a.send(xml).await;
    assert_eq!(a.status_of(submitted).await.txs[0].tx_sts, TxStatus::ACTC);
    let delivered = read_pacs008(&b.delivered().await, &Limits::default()).expect("the payment, delivered");
    assert_eq!(delivered.txs[0].uetr.as_ref().map(Uetr::as_str), Some(uetr.as_str()));
    // Only the creditor tenant's status counts: the debtor cannot settle its own payment.
    let c = a.send(creditor_status(&uetr, TxStatus::ACSC, None)).await;
    assert_eq!(a.status_of(c).await.txs[0].reason_prtry.as_deref(), Some("NOTFOUND"));
    let c = b.send(creditor_status(&uetr, TxStatus::ACSC, None)).await;
    assert_eq!(b.status_of(c).await.txs[0].tx_sts, TxStatus::ACTC);
    assert_eq!(a.status_of(submitted).await.txs[0].tx_sts, TxStatus::ACSC);

    // Rejected by the creditor, with its reason.
    let (xml, rejected) = factory.make(2);
    let submitted = a.send(xml).await;
    assert_eq!(a.status_of(submitted).await.txs[0].tx_sts, TxStatus::ACTC);
    b.delivered().await;
    let c =
        b.send(creditor_status(&rejected, TxStatus::RJCT, Some(switchyard_iso20022::ReasonCode::AC04))).await;
    assert_eq!(b.status_of(c).await.txs[0].tx_sts, TxStatus::ACTC);
    let report = a.status_of(submitted).await;
    assert_eq!(
        (report.txs[0].tx_sts, report.txs[0].reason.map(|r| r.as_str())),
        (TxStatus::RJCT, Some("AC04"))
    );

    drop((a, b));
    node.stop().await.unwrap();
    for u in [&uetr, &rejected, &held] {
        assert_eq!(f.sim.stats.submissions_of(u), 0, "no clearing house involved");
    }
    let outcomes: Vec<_> = journal_records(&f)
        .into_iter()
        .filter_map(|r| match r {
            JournalRecord::Outcome(o) => Some((o.uetr, o.outcome)),
            _ => None,
        })
        .collect();
    assert!(outcomes.contains(&(uetr.clone(), Outcome::Settled)));
    assert!(outcomes.contains(&(rejected.clone(), Outcome::Rejected("AC04".into()))));
    assert!(outcomes.contains(&(held.clone(), Outcome::Settled)));
}

/// An on-us payment delivered before a restart and not answered: the creditor tenant's wait
/// lived in memory, so after the restart the debtor's payment asks the creditor tenant (not a
/// clearing house), hears "not found" and delivers it again with the same UETR; the
/// participant's answer then settles it, and no clearing house ever sees it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_on_us_payment_unanswered_before_a_restart_is_delivered_again_and_settled() {
    let f = fixture().await;
    // Stopping does not wait for the unanswered payment (it resumes on the next start).
    let node = start_node_with(&f, |c| c.limits.drain_timeout = Duration::from_millis(200)).await;
    let mut a = Conn::open(&f, &node, "bank-a").await;
    let mut b = Conn::open(&f, &node, "bank-b").await;
    let (xml, uetr) = on_us_factory().make(41);
    let submitted = a.send(xml).await;
    assert_eq!(a.status_of(submitted).await.txs[0].tx_sts, TxStatus::ACTC);
    let first = read_pacs008(&b.delivered().await, &Limits::default()).unwrap();
    assert_eq!(first.txs[0].uetr.as_ref().map(Uetr::as_str), Some(uetr.as_str()));
    drop((a, b));
    node.stop().await.unwrap();
    let inquiries_before = f.sim.stats.inquiries.load(std::sync::atomic::Ordering::Relaxed);

    let node = start_node_with(&f, |_| {}).await;
    let mut b = Conn::open(&f, &node, "bank-b").await;
    let again = read_pacs008(&b.delivered().await, &Limits::default()).expect("delivered again");
    assert_eq!(again.txs[0].uetr.as_ref().map(Uetr::as_str), Some(uetr.as_str()));
    let c = b.send(creditor_status(&uetr, TxStatus::ACSC, None)).await;
    assert_eq!(b.status_of(c).await.txs[0].tx_sts, TxStatus::ACTC);
    let next = tokio::time::timeout(Duration::from_millis(300), b.p.reader.next()).await;
    assert!(next.is_err(), "delivered once after the restart: {next:?}");
    drop(b);
    node.stop().await.unwrap();
    assert_eq!(f.sim.stats.submissions_of(&uetr), 0, "no clearing house involved");
    assert_eq!(
        f.sim.stats.inquiries.load(std::sync::atomic::Ordering::Relaxed),
        inquiries_before,
        "the creditor tenant was asked, not a clearing house"
    );
    let outcomes: Vec<_> = journal_records(&f)
        .into_iter()
        .filter_map(|r| match r {
            JournalRecord::Outcome(o) if o.uetr == uetr => Some(o.outcome),
            _ => None,
        })
        .collect();
    assert_eq!(outcomes, vec![Outcome::Settled], "settled once, by the creditor's answer");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inbound_payment_from_the_clearing_house_is_delivered_and_the_creditors_status_relayed() {
    let f = fixture().await;
    let node = start_node_with(&f, |_| {}).await;
    let mut b = Conn::open(&f, &node, "bank-b").await;
    // The clearing house sends bank-b a payment (creditor agent: bank-b's institution).
    let mut template = read_pacs008(TEMPLATE, &Limits::default()).unwrap();
    template.txs[0].cdtr_agt = Some(demo_bic("bank-b"));
    let (xml, uetr) = MessageFactory::new(template.clone(), "INB").make(1);
    // The link may still be signing on (a frame sent before is lost, or refused while bank-b's
    // session attaches, answered RJCT): send until it is delivered.
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    let delivered = loop {
        let _ = f.sim.send_payment(xml.clone()).await;
        if let Ok(Some(Ok(frame))) = tokio::time::timeout(Duration::from_secs(3), b.p.reader.next()).await {
            assert_eq!(frame.kind, FrameKind::Deliver);
            break read_pacs008(&frame.payload, &Limits::default()).unwrap();
        }
        assert!(tokio::time::Instant::now() < deadline, "the inbound payment was never delivered");
    };
    assert_eq!(delivered.txs[0].uetr.as_ref().map(Uetr::as_str), Some(uetr.as_str()));
    // The clearing house sends it again before the participant answered: not delivered twice,
    // answered PDNG (the participant's status is pending).
    let answers = f.sim.stats.inbound_answers.load(std::sync::atomic::Ordering::Relaxed);
    f.sim.send_payment(xml.clone()).await.unwrap();
    until_answers(&f, answers + 1).await;
    assert_eq!(f.sim.stats.inbound_status(&uetr), Some((TxStatus::PDNG, None)));
    // bank-a cannot answer for bank-b.
    let mut a = Conn::open(&f, &node, "bank-a").await;
    let c = a.send(creditor_status(&uetr, TxStatus::ACSC, None)).await;
    assert_eq!(a.status_of(c).await.txs[0].reason_prtry.as_deref(), Some("NOTFOUND"));
    let c = b.send(creditor_status(&uetr, TxStatus::ACSC, None)).await;
    assert_eq!(b.status_of(c).await.txs[0].tx_sts, TxStatus::ACTC);
    // The PDNG, then the participant's status (an answer to a repeat the delivery loop above
    // sent may still come in between, so wait for the status itself, not a count).
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while f.sim.stats.inbound_status(&uetr) != Some((TxStatus::ACSC, None)) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the participant's ACSC never reached the clearing house"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // And again after the answer: answered with the participant's status, not delivered.
    let answers = f.sim.stats.inbound_answers.load(std::sync::atomic::Ordering::Relaxed);
    f.sim.send_payment(xml.clone()).await.unwrap();
    until_answers(&f, answers + 1).await;
    assert_eq!(f.sim.stats.inbound_status(&uetr), Some((TxStatus::ACSC, None)));
    let next = tokio::time::timeout(Duration::from_millis(300), b.p.reader.next()).await;
    assert!(next.is_err(), "nothing more was delivered to bank-b: {next:?}");

    // A payment for an institution that is no participant here is refused back to the clearing house.
    template.txs[0].cdtr_agt = Some(switchyard_iso20022::Bic::parse("ZYZZZAJJ").unwrap());
    let (xml, stranger) = MessageFactory::new(template, "INB").make(2);
    f.sim.send_payment(xml).await.unwrap();
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while f.sim.stats.inbound_status(&stranger).is_none() {
        assert!(tokio::time::Instant::now() < deadline, "no answer for an unknown creditor");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(f.sim.stats.inbound_status(&stranger), Some((TxStatus::RJCT, Some("AC01".into()))));
    drop((a, b));
    node.stop().await.unwrap();
    // Journaled: received (before delivery), then the participant's status; once each.
    let inbound: Vec<_> = journal_records(&f)
        .into_iter()
        .filter_map(|r| match r {
            JournalRecord::Inbound(i) if i.uetr == uetr => Some((i.tenant, i.status)),
            _ => None,
        })
        .collect();
    assert_eq!(inbound, vec![("bank-b".to_owned(), None), ("bank-b".to_owned(), Some("ACSC".to_owned()))]);
}

/// Waits until the simulator has heard `n` statuses for the payments it sent.
async fn until_answers(f: &common::Fixture, n: u64) {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while f.sim.stats.inbound_answers.load(std::sync::atomic::Ordering::Relaxed) < n {
        assert!(tokio::time::Instant::now() < deadline, "the switch never answered the clearing house");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// A pacs.008 from the clearing house for bank-b (creditor agent: bank-b's institution).
fn inbound_for_bank_b(n: u64) -> (Vec<u8>, String) {
    let mut template = read_pacs008(TEMPLATE, &Limits::default()).unwrap();
    template.txs[0].cdtr_agt = Some(demo_bic("bank-b"));
    MessageFactory::new(template, "INB").make(n)
}

/// The simulator sends `xml` to bank-b until it is delivered on `b` (the link may still be
/// signing on, or the simulator may write on a dead connection of a stopped node).
async fn deliver_inbound(f: &common::Fixture, b: &mut Conn, xml: &[u8]) -> Vec<u8> {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let _ = f.sim.send_payment(xml.to_vec()).await;
        if let Ok(Some(Ok(frame))) = tokio::time::timeout(Duration::from_secs(3), b.p.reader.next()).await {
            assert_eq!(frame.kind, FrameKind::Deliver);
            return frame.payload.to_vec();
        }
        assert!(tokio::time::Instant::now() < deadline, "the inbound payment was never delivered");
    }
}

/// bank-b settles an inbound payment; waits until the clearing house has its ACSC.
async fn settle_inbound(f: &common::Fixture, b: &mut Conn, uetr: &str) {
    let c = b.send(creditor_status(uetr, TxStatus::ACSC, None)).await;
    assert_eq!(b.status_of(c).await.txs[0].tx_sts, TxStatus::ACTC);
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while f.sim.stats.inbound_status(uetr) != Some((TxStatus::ACSC, None)) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the creditor's ACSC never reached the clearing house"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

fn inbound_statuses(f: &common::Fixture, uetr: &str) -> Vec<Option<String>> {
    journal_records(f)
        .into_iter()
        .filter_map(|r| match r {
            JournalRecord::Inbound(i) if i.uetr == uetr => Some(i.status),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inbound_payment_returned_by_its_creditor_goes_to_its_clearing_house_once() {
    let f = fixture().await;
    let node = start_node_with(&f, |_| {}).await;
    let mut b = Conn::open(&f, &node, "bank-b").await;
    let (xml, uetr) = inbound_for_bank_b(41);
    deliver_inbound(&f, &mut b, &xml).await;
    // Delivered, not settled yet: nothing to return.
    let c = b.send(participant_return(&uetr)).await;
    let refused = b.status_of(c).await;
    assert_eq!(refused.txs[0].tx_sts, TxStatus::RJCT, "{refused:?}");
    assert_eq!(f.sim.stats.returns_received_of(&uetr), 0);
    settle_inbound(&f, &mut b, &uetr).await;
    // Another tenant cannot return bank-b's payment.
    let mut a = Conn::open(&f, &node, "bank-a").await;
    let c = a.send(participant_return(&uetr)).await;
    assert_eq!(a.status_of(c).await.txs[0].reason_prtry.as_deref(), Some("NOTFOUND"));
    // bank-b returns it: forwarded to the clearing house, whose pacs.002 is relayed.
    let c = b.send(participant_return(&uetr)).await;
    let answer = b.status_of(c).await;
    assert_eq!(answer.orgnl_msg_id, "RTR-B-1", "the clearing house's answer to the pacs.004: {answer:?}");
    assert_eq!(answer.txs[0].tx_sts, TxStatus::ACSC);
    assert_eq!(answer.txs[0].orgnl_uetr.as_ref().map(Uetr::as_str), Some(uetr.as_str()));
    assert_eq!(f.sim.stats.returns_received_of(&uetr), 1);
    // Returned once: a second return is refused by the switch, never forwarded.
    let c = b.send(participant_return(&uetr)).await;
    let again = b.status_of(c).await;
    assert_eq!(
        (again.txs[0].tx_sts, again.txs[0].reason.map(|r| r.as_str())),
        (TxStatus::RJCT, Some("DUPL"))
    );
    drop((a, b));
    node.stop().await.unwrap();
    // Also after a restart (answered from the state store).
    let node = start_node_with(&f, |_| {}).await;
    let mut b = Conn::open(&f, &node, "bank-b").await;
    let c = b.send(participant_return(&uetr)).await;
    let again = b.status_of(c).await;
    assert_eq!(
        (again.txs[0].tx_sts, again.txs[0].reason.map(|r| r.as_str())),
        (TxStatus::RJCT, Some("DUPL"))
    );
    drop(b);
    node.stop().await.unwrap();
    assert_eq!(f.sim.stats.returns_received_of(&uetr), 1, "exactly one pacs.004 reached the clearing house");
    // Journaled: received, the participant's status, its return (before it was forwarded),
    // then the clearing house's answer to the return.
    assert_eq!(
        inbound_statuses(&f, &uetr),
        vec![None, Some("ACSC".to_owned()), Some("RETURNED".to_owned()), Some("RETURN-ACSC".to_owned())]
    );
    let ret = journal_records(&f).into_iter().find_map(|r| match r {
        JournalRecord::Inbound(i) if i.status.as_deref() == Some("RETURNED") => Some(i),
        _ => None,
    });
    let ret = ret.expect("the return record");
    assert_eq!((ret.tenant.as_str(), ret.reason.as_deref()), ("bank-b", Some("AC06")));
    assert!(!ret.link.is_empty() && ret.link != "?", "the link the payment arrived on: {}", ret.link);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_inbound_payment_after_a_restart_is_answered_from_the_state_store() {
    let f = fixture().await;
    let node = start_node_with(&f, |_| {}).await;
    let mut b = Conn::open(&f, &node, "bank-b").await;
    let (xml, uetr) = inbound_for_bank_b(42);
    deliver_inbound(&f, &mut b, &xml).await;
    settle_inbound(&f, &mut b, &uetr).await;
    drop(b);
    node.stop().await.unwrap();
    // A new node, empty memory: the clearing house sends the same payment again.
    let node = start_node_with(&f, |_| {}).await;
    let mut b = Conn::open(&f, &node, "bank-b").await;
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    'answered: loop {
        let answers = f.sim.stats.inbound_answers.load(std::sync::atomic::Ordering::Relaxed);
        // The simulator may write on the stopped node's dead connection first: send again.
        let _ = f.sim.send_payment(xml.clone()).await;
        for _ in 0..100 {
            if f.sim.stats.inbound_answers.load(std::sync::atomic::Ordering::Relaxed) > answers {
                break 'answered;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(tokio::time::Instant::now() < deadline, "the repeated payment was never answered");
    }
    assert_eq!(f.sim.stats.inbound_status(&uetr), Some((TxStatus::ACSC, None)), "the status relayed before");
    let next = tokio::time::timeout(Duration::from_millis(300), b.p.reader.next()).await;
    assert!(next.is_err(), "not delivered to bank-b again: {next:?}");
    drop(b);
    node.stop().await.unwrap();
    assert_eq!(inbound_statuses(&f, &uetr), vec![None, Some("ACSC".to_owned())], "received once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inbound_payment_unanswered_before_a_restart_is_delivered_again_and_its_status_relayed() {
    let f = fixture().await;
    let node = start_node_with(&f, |_| {}).await;
    let mut b = Conn::open(&f, &node, "bank-b").await;
    let (xml, uetr) = inbound_for_bank_b(43);
    deliver_inbound(&f, &mut b, &xml).await;
    // bank-b never answers before the node stops.
    drop(b);
    node.stop().await.unwrap();
    assert_eq!(f.sim.stats.inbound_status(&uetr), None);

    // After the restart, bank-b's next session gets the payment again, unasked.
    let node = start_node_with(&f, |_| {}).await;
    let mut b = Conn::open(&f, &node, "bank-b").await;
    let again = read_pacs008(&b.delivered().await, &Limits::default()).expect("delivered again");
    assert_eq!(again.txs[0].uetr.as_ref().map(Uetr::as_str), Some(uetr.as_str()));
    let c = b.send(creditor_status(&uetr, TxStatus::ACSC, None)).await;
    assert_eq!(b.status_of(c).await.txs[0].tx_sts, TxStatus::ACTC);
    // The status reaches the clearing house: unsolicited if the link was up, else as the
    // answer to its repeated pacs.008 (answered from what the node journaled).
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    'relayed: loop {
        for _ in 0..100 {
            if f.sim.stats.inbound_status(&uetr) == Some((TxStatus::ACSC, None)) {
                break 'relayed;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the participant's status never reached the clearing house"
        );
        let _ = f.sim.send_payment(xml.clone()).await;
    }
    let next = tokio::time::timeout(Duration::from_millis(300), b.p.reader.next()).await;
    assert!(next.is_err(), "delivered once after the restart: {next:?}");
    drop(b);
    node.stop().await.unwrap();

    // Answered now: a further restart delivers nothing.
    let node = start_node_with(&f, |_| {}).await;
    let mut b = Conn::open(&f, &node, "bank-b").await;
    let next = tokio::time::timeout(Duration::from_millis(500), b.p.reader.next()).await;
    assert!(next.is_err(), "not delivered after it was answered: {next:?}");
    drop(b);
    node.stop().await.unwrap();
    // Received once, answered once (the second delivery is not a new receipt).
    assert_eq!(inbound_statuses(&f, &uetr), vec![None, Some("ACSC".to_owned())]);
}

/// An address nobody listens on (a clearing link pointed there stays down).
fn dead_address() -> std::net::SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_that_never_left_the_node_is_retried_after_a_restart_and_its_answer_survives_one() {
    let f = fixture().await;
    let node = start_node_with(&f, |_| {}).await;
    let mut b = Conn::open(&f, &node, "bank-b").await;
    let (xml, uetr) = inbound_for_bank_b(44);
    deliver_inbound(&f, &mut b, &xml).await;
    settle_inbound(&f, &mut b, &uetr).await;
    drop(b);
    node.stop().await.unwrap();

    // The clearing link is down: the return is not sent, and refused (retryable).
    let dead = dead_address();
    let node = start_node_with(&f, |config| config.links[0].addr = dead).await;
    let mut b = Conn::open(&f, &node, "bank-b").await;
    let c = b.send(participant_return(&uetr)).await;
    let refused = b.status_of(c).await;
    assert_eq!(
        (refused.txs[0].tx_sts, refused.txs[0].reason.map(|r| r.as_str())),
        (TxStatus::RJCT, Some("NARR")),
        "{refused:?}"
    );
    drop(b);
    node.stop().await.unwrap();
    assert_eq!(f.sim.stats.returns_received_of(&uetr), 0);

    // After a restart the same return goes through (retried until the link is up).
    let node = start_node_with(&f, |_| {}).await;
    let mut b = Conn::open(&f, &node, "bank-b").await;
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    loop {
        let c = b.send(participant_return(&uetr)).await;
        let answer = b.status_of(c).await;
        if answer.txs[0].tx_sts == TxStatus::ACSC {
            assert_eq!(answer.orgnl_msg_id, "RTR-B-1", "the clearing house's answer: {answer:?}");
            break;
        }
        let detail = answer.txs[0].addtl_inf.clone().unwrap_or_default();
        assert!(detail.contains("not forwarded"), "only a link still down refuses it: {answer:?}");
        assert!(tokio::time::Instant::now() < deadline, "the return never went through");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(b);
    node.stop().await.unwrap();

    // The clearing house's answer is known after another restart: returned, not again.
    let node = start_node_with(&f, |_| {}).await;
    let mut b = Conn::open(&f, &node, "bank-b").await;
    let c = b.send(participant_return(&uetr)).await;
    let again = b.status_of(c).await;
    assert_eq!(
        (again.txs[0].tx_sts, again.txs[0].reason.map(|r| r.as_str())),
        (TxStatus::RJCT, Some("DUPL"))
    );
    let detail = again.txs[0].addtl_inf.clone().unwrap_or_default();
    assert!(detail.contains("answered ACSC"), "{detail}");
    drop(b);
    node.stop().await.unwrap();
    assert_eq!(f.sim.stats.returns_received_of(&uetr), 1, "exactly one pacs.004 reached the clearing house");
    let statuses = inbound_statuses(&f, &uetr);
    assert_eq!(
        statuses[..4],
        [None, Some("ACSC".to_owned()), Some("RETURNED".to_owned()), Some("RETURN-NOT-SENT".to_owned())]
    );
    assert_eq!(statuses[statuses.len() - 2..], [Some("RETURNED".to_owned()), Some("RETURN-ACSC".to_owned())]);
}

/// The clearing house settles a participant's return but its answer is lost: the participant
/// is answered PDNG, the node asks the clearing house (pacs.028) and learns the return settled
/// — it is not sent again — journals that and delivers it to the participant.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_whose_answer_is_lost_is_asked_about_and_its_outcome_delivered_without_a_resend() {
    let f = fixture_with(SimConfig { drop_ppm: 1_000_000, ..SimConfig::default() }).await;
    let node = start_node_with(&f, |c| {
        c.limits.payment.clearing_timeout_ms = 300;
        c.limits.payment.reinquiry_base_ms = 200;
    })
    .await;
    let mut b = Conn::open(&f, &node, "bank-b").await;
    let (xml, uetr) = inbound_for_bank_b(45);
    deliver_inbound(&f, &mut b, &xml).await;
    settle_inbound(&f, &mut b, &uetr).await;
    let c = b.send(participant_return(&uetr)).await;
    let pending = b.status_of(c).await;
    assert_eq!(pending.txs[0].tx_sts, TxStatus::PDNG, "no answer in time: {pending:?}");
    let settled =
        read_pacs002(&b.delivered().await, &Limits::default()).expect("the clearing house's answer");
    assert_eq!(settled.txs[0].tx_sts, TxStatus::ACSC);
    assert_eq!(settled.txs[0].orgnl_uetr.as_ref().map(Uetr::as_str), Some(uetr.as_str()));
    let c = b.send(participant_return(&uetr)).await;
    let again = b.status_of(c).await;
    assert_eq!(
        (again.txs[0].tx_sts, again.txs[0].reason.map(|r| r.as_str())),
        (TxStatus::RJCT, Some("DUPL"))
    );
    assert!(again.txs[0].addtl_inf.as_deref().unwrap_or_default().contains("answered ACSC"), "{again:?}");
    drop(b);
    node.stop().await.unwrap();
    assert_eq!(f.sim.stats.returns_received_of(&uetr), 1, "asked about, never sent again");
    assert!(f.sim.stats.inquiries.load(std::sync::atomic::Ordering::Relaxed) >= 1);
    let statuses = inbound_statuses(&f, &uetr);
    assert_eq!(statuses[statuses.len() - 2..], [Some("RETURNED".to_owned()), Some("RETURN-ACSC".to_owned())]);
}

/// A return lost on its way to the clearing house, its node stopped before it could ask: after
/// the restart the node asks, hears "not found", sends the return once more, and the clearing
/// house settles it — one return received in all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_return_lost_before_a_restart_is_asked_about_after_it_and_sent_once_more() {
    let f = fixture_with(SimConfig { lose_ppm: 1_000_000, ..SimConfig::default() }).await;
    let node = start_node_with(&f, |c| {
        c.limits.payment.clearing_timeout_ms = 300;
        c.limits.payment.reinquiry_base_ms = 600_000;
    })
    .await;
    let mut b = Conn::open(&f, &node, "bank-b").await;
    let (xml, uetr) = inbound_for_bank_b(46);
    deliver_inbound(&f, &mut b, &xml).await;
    settle_inbound(&f, &mut b, &uetr).await;
    let c = b.send(participant_return(&uetr)).await;
    assert_eq!(b.status_of(c).await.txs[0].tx_sts, TxStatus::PDNG);
    drop(b);
    node.stop().await.unwrap();
    assert_eq!(f.sim.stats.returns_received_of(&uetr), 0, "lost");

    // Another clearing house endpoint (same identity) that loses nothing.
    let ca = f.certs.ca().unwrap();
    let sim_tls =
        switchyard_wire::tls::server_config(&f.certs.identity("clearing-sim").unwrap(), &ca).unwrap();
    let sim2 = switchyard_clearing::sim::start("127.0.0.1:0".parse().unwrap(), sim_tls, SimConfig::default())
        .await
        .unwrap();
    let node = start_node_with(&f, |c| {
        c.links[0].addr = sim2.addr;
        c.limits.payment.reinquiry_base_ms = 200;
    })
    .await;
    let mut b = Conn::open(&f, &node, "bank-b").await;
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while sim2.stats.returns_received_of(&uetr) == 0 {
        assert!(tokio::time::Instant::now() < deadline, "the return was never sent again");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let settled =
        read_pacs002(&b.delivered().await, &Limits::default()).expect("the clearing house's answer");
    assert_eq!(settled.txs[0].tx_sts, TxStatus::ACSC);
    drop(b);
    node.stop().await.unwrap();
    assert!(sim2.stats.inquiries.load(std::sync::atomic::Ordering::Relaxed) >= 1, "asked before sending");
    assert_eq!(sim2.stats.returns_received_of(&uetr), 1);
    let statuses = inbound_statuses(&f, &uetr);
    assert_eq!(statuses[statuses.len() - 2..], [Some("RETURNED".to_owned()), Some("RETURN-ACSC".to_owned())]);
    sim2.stop().await;
}
