//! The simulator's reply faults against a real node: duplicate replies, late replies (after the
//! switch's clearing timeout, so it has already asked by pacs.028) and crash after commit
//! (recorded, then the connection is cut unanswered). Each payment's outcome reaches the
//! participant exactly once, every extra reply is journaled as `UnmatchedReply` and counted in
//! `switchyard_link_unmatched_replies_total`, and no payment is submitted twice. Also: the
//! simulator answers pacs.009.

mod common;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use common::{client, fixture_with, journal_records, start_node_with, submit_all, TIMEOUT};
use futures::StreamExt;
use switchyard::config::NodeConfig;
use switchyard::demo::{demo_bic, TEMPLATE};
use switchyard::node::Node;
use switchyard_actors::{JournalRecord, Outcome};
use switchyard_bench::client::{ClientSpec, Participant, Transport};
use switchyard_bench::messages::MessageFactory;
use switchyard_clearing::sim::SimConfig;
use switchyard_iso20022::{read_pacs002, read_pacs008, Limits, TxStatus};
use switchyard_wire::{Frame, FrameKind};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Gives the node's one link its own name (metrics are process-wide, labelled by link), a
/// short clearing timeout and an admin listener.
fn setup(config: &mut NodeConfig, link: &str, clearing_timeout_ms: u64) {
    config.links[0].name = link.to_owned();
    for route in &mut config.routes.routes {
        route.link = link.to_owned();
    }
    config.limits.payment.clearing_timeout_ms = clearing_timeout_ms;
    config.admin_listen = Some("127.0.0.1:0".parse().unwrap());
}

async fn metric(node: &Node, line_prefix: &str) -> f64 {
    let mut tcp = tokio::net::TcpStream::connect(node.admin_addr.unwrap()).await.unwrap();
    tcp.write_all(b"GET /metrics HTTP/1.1\r\nHost: admin\r\nConnection: close\r\n\r\n").await.unwrap();
    let mut response = String::new();
    tcp.read_to_string(&mut response).await.unwrap();
    response
        .lines()
        .find(|l| l.starts_with(line_prefix))
        .and_then(|l| l.rsplit(' ').next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0)
}

/// Waits (progress-based, bounded) until the link has seen `n` unmatched replies.
async fn await_unmatched(node: &Node, link: &str, n: f64) {
    let prefix = format!(r#"switchyard_link_unmatched_replies_total{{link="{link}"}}"#);
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let seen = metric(node, &prefix).await;
        if seen >= n {
            assert_eq!(seen, n, "more unmatched replies than injected");
            return;
        }
        assert!(Instant::now() < deadline, "only {seen} of {n} unmatched replies");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn factory(prefix: &str) -> MessageFactory {
    let template = read_pacs008(TEMPLATE, &Limits::default()).unwrap();
    MessageFactory::new(template, prefix).sending_as(&demo_bic("bank-a"))
}

/// Every payment: ACTC then exactly one final status.
fn assert_once(statuses: &HashMap<String, Vec<TxStatus>>, n: usize) {
    assert_eq!(statuses.len(), n);
    for (uetr, seen) in statuses {
        assert_eq!(seen, &[TxStatus::ACTC, TxStatus::ACSC], "{uetr}");
    }
}

/// After the extra replies were handled, one more payment's statuses are the next frames: no
/// stray (double-forwarded) status came before them.
async fn assert_nothing_stray(p: &mut Participant, factory: &MessageFactory) {
    let (xml, _) = factory.make(999);
    p.tx.send(Frame::new(FrameKind::Submit, 999, xml)).await.unwrap();
    for expected in [TxStatus::ACTC, TxStatus::ACSC] {
        let frame = tokio::time::timeout(TIMEOUT, p.reader.next()).await.unwrap().unwrap().unwrap();
        let report = read_pacs002(&frame.payload, &Limits::default()).unwrap();
        assert_eq!((frame.correlation, report.txs[0].tx_sts), (999, expected), "a stray status");
    }
}

/// Outcomes per UETR and unmatched replies of `link`, from the journal.
fn journal_view(f: &common::Fixture, link: &str) -> (HashMap<String, Vec<(Outcome, u32)>>, usize) {
    let mut outcomes: HashMap<String, Vec<(Outcome, u32)>> = HashMap::new();
    let mut unmatched = 0;
    for record in journal_records(f) {
        match record {
            JournalRecord::Outcome(o) => outcomes.entry(o.uetr).or_default().push((o.outcome, o.inquiries)),
            JournalRecord::UnmatchedReply(u) => {
                assert_eq!(u.link, link);
                assert!(u.uetr.is_some() && !u.message.is_empty(), "{u:?}");
                unmatched += 1;
            }
            _ => {}
        }
    }
    (outcomes, unmatched)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicate_replies_are_journaled_and_never_forwarded_twice() {
    let f = fixture_with(SimConfig { duplicate_ppm: 1_000_000, ..SimConfig::default() }).await;
    let node = start_node_with(&f, |c| setup(c, "dup", 10_000)).await;
    let mut p = Participant::connect(&client(&f, &node, Some("bank-a"))).await.unwrap();
    let factory = factory("DUP");
    let statuses = submit_all(&mut p, &factory, 20).await;
    assert_once(&statuses, 20);
    await_unmatched(&node, "dup", 20.0).await;
    assert_nothing_stray(&mut p, &factory).await;
    await_unmatched(&node, "dup", 21.0).await;
    assert_eq!(f.sim.stats.duplicated.load(Ordering::Relaxed), 21);
    assert_eq!(f.sim.stats.max_submissions_per_uetr(), 1);
    drop(p);
    node.stop().await.unwrap();
    let (outcomes, unmatched) = journal_view(&f, "dup");
    assert_eq!(unmatched, 21);
    assert_eq!(outcomes.len(), 21);
    assert!(outcomes.values().all(|o| o == &[(Outcome::Settled, 0)]), "{outcomes:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_replies_after_the_inquiry_are_journaled_and_never_forwarded() {
    let config =
        SimConfig { late_ppm: 1_000_000, late_by: Duration::from_millis(1_500), ..SimConfig::default() };
    let f = fixture_with(config).await;
    // The switch asks (pacs.028) after 300 ms; the original answers come 1.5 s after submission.
    let node = start_node_with(&f, |c| setup(c, "late", 300)).await;
    let mut p = Participant::connect(&client(&f, &node, Some("bank-a"))).await.unwrap();
    let factory = factory("LATE");
    let statuses = submit_all(&mut p, &factory, 10).await;
    assert_once(&statuses, 10);
    await_unmatched(&node, "late", 10.0).await;
    assert!(f.sim.stats.inquiries.load(Ordering::Relaxed) >= 10);
    assert_eq!(f.sim.stats.max_submissions_per_uetr(), 1);
    drop(p);
    node.stop().await.unwrap();
    let (outcomes, unmatched) = journal_view(&f, "late");
    assert_eq!(unmatched, 10);
    assert_eq!(outcomes.len(), 10);
    for (uetr, o) in &outcomes {
        assert!(matches!(o.as_slice(), [(Outcome::Settled, n)] if *n >= 1), "{uetr}: {o:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crash_after_commit_is_resolved_by_status_inquiry() {
    let f = fixture_with(SimConfig { crash_ppm: 1_000_000, ..SimConfig::default() }).await;
    let node = start_node_with(&f, |c| setup(c, "crash", 300)).await;
    let mut p = Participant::connect(&client(&f, &node, Some("bank-a"))).await.unwrap();
    let statuses = submit_all(&mut p, &factory("CRASH"), 3).await;
    assert_once(&statuses, 3);
    assert!(f.sim.stats.crashed.load(Ordering::Relaxed) >= 3, "every recorded submission crashed");
    assert!(f.sim.stats.sign_ons.load(Ordering::Relaxed) >= 2, "the link reconnected");
    assert_eq!(f.sim.stats.max_submissions_per_uetr(), 1, "never submitted twice");
    drop(p);
    node.stop().await.unwrap();
    let (outcomes, _) = journal_view(&f, "crash");
    for (uetr, o) in &outcomes {
        assert!(matches!(o.as_slice(), [(Outcome::Settled, n)] if *n >= 1), "{uetr}: {o:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_simulator_answers_pacs009() {
    let sample = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/iso20022/samples/valid/pacs.009.001.08__cbprplus2025__adv_min.xml"
    );
    let Ok(xml) = std::fs::read(sample) else {
        println!("NOTICE: pacs.009 sample not found; skipping");
        return;
    };
    let f = fixture_with(SimConfig::default()).await;
    let spec = ClientSpec {
        addr: f.sim.addr,
        transport: Transport::Tls,
        server_name: "clearing-sim".to_owned(),
        ca: f.certs.ca().unwrap(),
        identity: Some(f.certs.identity("switchyard").unwrap()),
        max_frame_bytes: 1 << 20,
        timeout: Duration::from_secs(5),
    };
    let mut p = Participant::connect(&spec).await.unwrap();
    p.tx.send(Frame::new(FrameKind::Submit, 7, xml)).await.unwrap();
    let frame = tokio::time::timeout(TIMEOUT, p.reader.next()).await.unwrap().unwrap().unwrap();
    assert_eq!((frame.kind, frame.correlation), (FrameKind::Status, 7));
    let report = read_pacs002(&frame.payload, &Limits::default()).unwrap();
    assert_eq!(report.orgnl_msg_nm_id, "pacs.009.001.08");
    assert_eq!(report.txs[0].tx_sts, TxStatus::ACSC);
    assert_eq!(f.sim.stats.received_009.load(Ordering::Relaxed), 1);
    assert_eq!(f.sim.stats.distinct_uetrs(), 1);
}
