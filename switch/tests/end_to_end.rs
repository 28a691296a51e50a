//! Black-box tests of the walking skeleton: a real node on port 0, real TLS 1.3 with client
//! certificates, the real clearing simulator, a real journal on disk.

mod common;

use std::collections::HashMap;

use common::{client, fixture, journal_records, start_node, submit_all, TIMEOUT};
use futures::StreamExt;
use switchyard::demo::TEMPLATE;
use switchyard_actors::{JournalRecord, Outcome};
use switchyard_bench::client::Participant;
use switchyard_bench::messages::MessageFactory;
use switchyard_iso20022::{read_pacs002, read_pacs008, Limits, TxStatus};
use switchyard_wire::{Frame, FrameKind};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_payments_are_acknowledged_settled_and_survive_a_restart() {
    let f = fixture().await;
    let node = start_node(&f, 128).await;
    let mut p = Participant::connect(&client(&f, &node, Some("bank-a"))).await.unwrap();
    assert_eq!(p.credit_window, 128);
    let template = read_pacs008(TEMPLATE, &Limits::default()).unwrap();
    let factory = MessageFactory::new(template.clone(), "E2E");

    let statuses = submit_all(&mut p, &factory, 1000).await;
    assert_eq!(statuses.len(), 1000);
    for (uetr, seen) in &statuses {
        assert_eq!(seen, &vec![TxStatus::ACTC, TxStatus::ACSC], "ACTC then ACSC for {uetr}");
    }
    assert_eq!(f.sim.stats.max_submissions_per_uetr(), 1);
    assert_eq!(f.sim.stats.distinct_uetrs(), 1000);
    drop(p);
    node.stop().await.unwrap();

    // Every acknowledged payment is in the journal, accepted and settled.
    let records = journal_records(&f);
    let mut accepted = HashMap::new();
    let mut settled = HashMap::new();
    for record in &records {
        match record {
            JournalRecord::Accepted(a) => {
                assert!(accepted.insert(a.uetr.clone(), a.tenant.clone()).is_none());
            }
            JournalRecord::Outcome(o) => {
                assert_eq!(o.outcome, Outcome::Settled);
                settled.insert(o.uetr.clone(), ());
            }
            JournalRecord::Refused(r) => panic!("unexpected refusal {r:?}"),
            JournalRecord::Operator(o) => panic!("unexpected operator action {o:?}"),
            JournalRecord::UnmatchedReply(u) => panic!("unexpected unmatched reply {u:?}"),
            JournalRecord::Inbound(i) => panic!("unexpected inbound payment {i:?}"),
            JournalRecord::Delivery(d) => panic!("unexpected delivery record {d:?}"),
        }
    }
    for uetr in statuses.keys() {
        assert_eq!(accepted.get(uetr).map(String::as_str), Some("bank-a"), "{uetr} accepted");
        assert!(settled.contains_key(uetr), "{uetr} settled");
    }

    // Restart on the same data dir: replay sees everything; a resend gets the stored status.
    let node = start_node(&f, 128).await;
    // The state store (sled projection) holds every payment, settled, tenant-scoped.
    let counts = node.state.counts().unwrap();
    assert_eq!((counts.payments, counts.open, counts.applied_seq), (1000, 0, 2000));
    for uetr in statuses.keys() {
        let view = node.state.payment("bank-a", uetr).unwrap().expect("payment in the state store");
        assert_eq!(view.outcome, Some(Outcome::Settled));
        assert!(node.state.payment("bank-b", uetr).unwrap().is_none(), "another tenant sees nothing");
    }
    assert!(node.state.verify_audit().unwrap().ok);
    let mut p = Participant::connect(&client(&f, &node, Some("bank-a"))).await.unwrap();
    let (uetr, _) = statuses.iter().next().unwrap();
    let mut resend = template.clone();
    resend.txs[0].uetr = switchyard_iso20022::Uetr::parse(uetr);
    resend.msg_id = "RESEND-1".into();
    // Same payment content as the original, except identifiers the factory set.
    let original = records.iter().find_map(|r| match r {
        JournalRecord::Accepted(a) if &a.uetr == uetr => Some(a.clone()),
        _ => None,
    });
    let original = read_pacs008(&original.unwrap().message, &Limits::default()).unwrap();
    resend.txs[0] = original.txs[0].clone();
    p.tx.send(Frame::new(FrameKind::Submit, 1, switchyard_iso20022::write_pacs008(&resend))).await.unwrap();
    let frame = tokio::time::timeout(TIMEOUT, p.reader.next()).await.unwrap().unwrap().unwrap();
    let report = read_pacs002(&frame.payload, &Limits::default()).unwrap();
    assert_eq!(report.txs[0].tx_sts, TxStatus::ACSC, "a resend after restart gets the stored final status");
    assert_eq!(f.sim.stats.submissions_of(uetr), 1, "and is not submitted again");
    // The tenant held none of this history in memory: the state store answered, and it also
    // catches conflicts — the same UETR with other content, and a stored payment's MsgId reused.
    let mut conflicting = resend.clone();
    conflicting.msg_id = "RESEND-2".into();
    conflicting.txs[0].end_to_end_id = "OTHER-CONTENT".into();
    let mut reused_msg_id = template.clone();
    reused_msg_id.msg_id = original.msg_id.clone();
    reused_msg_id.txs[0].uetr = switchyard_iso20022::Uetr::parse("6f1e2a3b-4c5d-4e6f-8a7b-9c0d1e2f3a4b");
    for (n, message) in [conflicting, reused_msg_id].iter().enumerate() {
        let correlation = 2 + n as u64;
        p.tx.send(Frame::new(FrameKind::Submit, correlation, switchyard_iso20022::write_pacs008(message)))
            .await
            .unwrap();
        let frame = tokio::time::timeout(TIMEOUT, p.reader.next()).await.unwrap().unwrap().unwrap();
        let report = read_pacs002(&frame.payload, &Limits::default()).unwrap();
        assert_eq!(report.txs[0].tx_sts, TxStatus::RJCT, "conflict {n} refused");
        assert_eq!(
            report.txs[0].reason,
            Some(switchyard_iso20022::ReasonCode::DUPL),
            "conflict {n}: {:?}",
            report.txs[0]
        );
    }
    node.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_without_a_certificate_is_refused() {
    let f = fixture().await;
    let node = start_node(&f, 16).await;
    let refused = Participant::connect(&client(&f, &node, None)).await;
    assert!(refused.is_err(), "no client certificate must not sign on");
    let refused = Participant::connect(&client(&f, &node, Some("bank-z"))).await;
    let err = refused.expect_err("a certificate not mapped to a tenant must not sign on");
    assert!(format!("{err:#}").contains("AG01"), "{err:#}");
    node.stop().await.unwrap();
    assert!(journal_records(&f).is_empty(), "nothing accepted");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenants_certificate_cannot_send_another_tenants_payments() {
    let f = fixture().await;
    let node = start_node(&f, 16).await;
    // bank-b signs on with its own, valid certificate but instructs as bank-a.
    let mut p = Participant::connect(&client(&f, &node, Some("bank-b"))).await.unwrap();
    let template = read_pacs008(TEMPLATE, &Limits::default()).unwrap();
    let factory = MessageFactory::new(template, "SPOOF").sending_as(&switchyard::demo::demo_bic("bank-a"));
    let (xml, uetr) = factory.make(1);
    p.tx.send(Frame::new(FrameKind::Submit, 1, xml)).await.unwrap();
    let frame = tokio::time::timeout(TIMEOUT, p.reader.next()).await.unwrap().unwrap().unwrap();
    let report = read_pacs002(&frame.payload, &Limits::default()).unwrap();
    assert_eq!(report.txs[0].tx_sts, TxStatus::RJCT);
    assert_eq!(report.txs[0].reason.map(|r| r.as_str()), Some("AG01"));
    let detail = report.txs[0].addtl_inf.clone().unwrap_or_default();
    assert!(detail.contains("InstgAgt") && detail.contains("ZYAAZAJJ"), "{detail}");
    node.stop().await.unwrap();
    assert_eq!(f.sim.stats.submissions_of(&uetr), 0, "nothing reached the clearing house");
    assert!(
        !journal_records(&f).iter().any(|r| matches!(r, JournalRecord::Accepted(_))),
        "nothing was accepted"
    );
}
