//! Tenant isolation of idempotency (issue 10, invariant 5): two tenants that happen to use the
//! same MsgId and UETR are two payments, never a duplicate of each other, while each tenant's
//! own duplicates are still caught. The noisy-tenant half of isolation (a tenant far over its
//! rate is refused while another is served) is `lifecycle.rs`,
//! `a_noisy_tenant_is_refused_while_a_quiet_one_is_served`. And the memory payments take (issue
//! 10 §3): the node-wide in-flight bound all tenants share, and nothing left behind by a payment
//! that ended.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{client, fixture, fixture_with, journal_records, start_node_with, submit_all, TIMEOUT};
use futures::StreamExt;
use switchyard::demo::{demo_bic, node_config, DemoSettings, TEMPLATE};
use switchyard::node::Node;
use switchyard_actors::JournalRecord;
use switchyard_bench::client::Participant;
use switchyard_bench::messages::MessageFactory;
use switchyard_clearing::sim::SimConfig;
use switchyard_iso20022::{read_pacs002, read_pacs008, write_pacs008, Limits, Pacs008, TxStatus, Uetr};
use switchyard_wire::{Frame, FrameKind};

/// Sends `msg` and returns every status up to the first that is not ACTC (or after ACTC, the
/// final one).
async fn exchange(p: &mut Participant, correlation: u64, msg: &Pacs008) -> Vec<(TxStatus, Option<String>)> {
    p.tx.send(Frame::new(FrameKind::Submit, correlation, write_pacs008(msg))).await.unwrap();
    let mut seen = Vec::new();
    loop {
        let frame = tokio::time::timeout(TIMEOUT, p.reader.next()).await.unwrap().unwrap().unwrap();
        assert_eq!(frame.kind, FrameKind::Status);
        assert_eq!(frame.correlation, correlation);
        let report = read_pacs002(&frame.payload, &Limits::default()).unwrap();
        let tx = &report.txs[0];
        seen.push((tx.tx_sts, tx.reason.map(|r| r.as_str().to_owned())));
        if tx.tx_sts != TxStatus::ACTC {
            return seen;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn colliding_msg_id_and_uetr_across_tenants_are_two_payments() {
    let f = fixture().await;
    // Both tenants may instruct as any BIC, so the very same bytes are valid from either.
    let node = start_node_with(&f, |config| config.tenants.iter_mut().for_each(|t| t.bics.clear())).await;
    let mut a = Participant::connect(&client(&f, &node, Some("bank-a"))).await.unwrap();
    let mut b = Participant::connect(&client(&f, &node, Some("bank-b"))).await.unwrap();
    let mut msg = read_pacs008(TEMPLATE, &Limits::default()).unwrap();
    let uetr = uuid::Uuid::new_v4().to_string();
    msg.msg_id = "COLLIDE-1".into();
    msg.txs[0].uetr = Uetr::parse(&uetr);

    let settled = vec![(TxStatus::ACTC, None), (TxStatus::ACSC, None)];
    assert_eq!(exchange(&mut a, 1, &msg).await, settled, "bank-a's payment");
    assert_eq!(exchange(&mut b, 1, &msg).await, settled, "the same ids from bank-b: a payment of its own");

    // Each tenant's own idempotency still works: the identical resend gets the stored final
    // status without a new ACTC; the same MsgId on a different payment is a duplicate.
    assert_eq!(exchange(&mut a, 2, &msg).await, vec![(TxStatus::ACSC, None)], "bank-a resend");
    let mut conflicting = msg.clone();
    conflicting.txs[0].uetr = Uetr::parse(&uuid::Uuid::new_v4().to_string());
    conflicting.txs[0].amount.minor_units += 1;
    assert_eq!(
        exchange(&mut b, 2, &conflicting).await,
        vec![(TxStatus::RJCT, Some("DUPL".to_owned()))],
        "bank-b reusing its own MsgId"
    );

    // Two payments in the state store, one per tenant, and two submissions at the clearing
    // house (which keys by UETR alone: the collision is the participants' doing).
    // The store is a projection, a few milliseconds behind the journal: wait for it.
    for tenant in ["bank-a", "bank-b"] {
        let deadline = tokio::time::Instant::now() + TIMEOUT;
        let view = loop {
            if let Some(view) = node.state.payment(tenant, &uetr).unwrap() {
                break view;
            }
            assert!(tokio::time::Instant::now() < deadline, "{tenant} has it");
            tokio::time::sleep(Duration::from_millis(10)).await;
        };
        assert_eq!(view.tenant, tenant);
        assert_eq!(view.msg_id, "COLLIDE-1");
    }
    assert_eq!(f.sim.stats.submissions_of(&uetr), 2);
    drop((a, b));
    node.stop().await.unwrap();
}

/// A status as the participant sees it: status, reason code, additional information.
type Seen = (TxStatus, Option<String>, Option<switchyard_iso20022::Text>);

/// Sends `count` payments of `tenant` at once (correlations `1..=count`, UETRs from `round`), then
/// reads until each has its final status; returns every status per correlation.
async fn burst(p: &mut Participant, tenant: &str, round: u64, count: u64) -> HashMap<u64, Vec<Seen>> {
    let template = read_pacs008(TEMPLATE, &Limits::default()).unwrap();
    let factory = MessageFactory::new(template, tenant).sending_as(&demo_bic(tenant));
    for n in 1..=count {
        p.tx.send(Frame::new(FrameKind::Submit, n, factory.make(round * 100 + n).0)).await.unwrap();
    }
    let mut seen: HashMap<u64, Vec<Seen>> = HashMap::new();
    while seen.values().filter(|s| s.last().is_some_and(|(st, _, _)| *st != TxStatus::ACTC)).count()
        < count as usize
    {
        let frame = tokio::time::timeout(TIMEOUT, p.reader.next()).await.unwrap().unwrap().unwrap();
        assert_eq!(frame.kind, FrameKind::Status);
        let report = read_pacs002(&frame.payload, &Limits::default()).unwrap();
        let tx = &report.txs[0];
        let status = (tx.tx_sts, tx.reason.map(|r| r.as_str().to_owned()), tx.addtl_inf.clone());
        seen.entry(frame.correlation).or_default().push(status);
    }
    seen
}

/// Waits until every in-flight slot is given back (a payment actor stops just after its final
/// status).
async fn slots_free(node: &Node) {
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while node.in_flight() != 0 {
        assert!(tokio::time::Instant::now() < deadline, "slots still taken: {}", node.in_flight());
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// `limits.node_max_in_flight` holds across tenants, exactly: with 4 slots and a clearing house
/// that answers after a second, 3 + 3 payments from two tenants at once give 4 ACTC (each then
/// settled) and 2 explicit RJCT NARR naming the bound, neither journaled; the slots are free
/// again once the admitted payments settle; a reload raises the bound live.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_node_wide_in_flight_bound_holds_across_tenants_and_reloads_live() {
    let f = fixture_with(SimConfig { latency: Duration::from_millis(1_000), ..SimConfig::default() }).await;
    let mut config =
        node_config(&DemoSettings::default(), &f.certs, f.dir.path().to_path_buf(), f.sim.addr).unwrap();
    config.tenants.retain(|t| t.name != "bank-z");
    config.limits.node_max_in_flight = 4;
    let node = Node::start(config.clone()).await.unwrap();
    let mut a = Participant::connect(&client(&f, &node, Some("bank-a"))).await.unwrap();
    let mut b = Participant::connect(&client(&f, &node, Some("bank-b"))).await.unwrap();

    let (seen_a, seen_b) = tokio::join!(burst(&mut a, "bank-a", 1, 3), burst(&mut b, "bank-b", 1, 3));
    let all: Vec<&Vec<Seen>> = seen_a.values().chain(seen_b.values()).collect();
    let settled =
        all.iter().filter(|s| s.iter().map(|(st, ..)| *st).eq([TxStatus::ACTC, TxStatus::ACSC])).count();
    let refused: Vec<&&Vec<Seen>> = all.iter().filter(|s| s.len() == 1 && s[0].0 == TxStatus::RJCT).collect();
    assert_eq!((settled, refused.len()), (4, 2), "{seen_a:?} {seen_b:?}");
    for r in &refused {
        assert_eq!(r[0].1.as_deref(), Some("NARR"));
        let detail = r[0].2.as_deref().unwrap_or_default();
        assert!(detail.contains("the node has 4 payments in flight (limit 4)"), "{detail}");
    }
    slots_free(&node).await;

    // Free again: a second burst from one tenant fits.
    let again = burst(&mut a, "bank-a", 2, 4).await;
    assert!(again.values().all(|s| s.last().is_some_and(|(st, ..)| *st == TxStatus::ACSC)), "{again:?}");

    slots_free(&node).await;
    config.limits.node_max_in_flight = 6;
    let report = node.ops.reload(config).await.unwrap();
    assert!(report.applied.iter().any(|k| k == "limits.node_max_in_flight"), "{report:?}");
    let (seen_a, seen_b) = tokio::join!(burst(&mut a, "bank-a", 3, 3), burst(&mut b, "bank-b", 3, 3));
    let all_settled = seen_a
        .values()
        .chain(seen_b.values())
        .all(|s| s.last().is_some_and(|(st, ..)| *st == TxStatus::ACSC));
    assert!(all_settled, "6 slots after the reload: {seen_a:?} {seen_b:?}");

    drop((a, b));
    node.stop().await.unwrap();
    let accepted = journal_records(&f).iter().filter(|r| matches!(r, JournalRecord::Accepted(_))).count();
    assert_eq!(accepted, 4 + 4 + 6, "the refused payments were never journaled");
}

/// A payment that ended leaves no task behind. Its deadline timer held a reference to its actor
/// until it fired, so every stopped payment kept its actor's cell and mailboxes for the
/// whole clearing timeout: at 6,000 payments/s the node's RSS grew to 565 MiB with ~100 payments
/// in flight (docs/RELIABILITY.md §6). With a 10-minute clearing timeout and 50 payments settled
/// at once, the runtime's live tasks must come back to where they were.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_settled_payment_leaves_no_task_behind() {
    let f = fixture().await;
    let node = start_node_with(&f, |c| c.limits.payment.clearing_timeout_ms = 600_000).await;
    let mut p = Participant::connect(&client(&f, &node, Some("bank-a"))).await.unwrap();
    let template = read_pacs008(TEMPLATE, &Limits::default()).unwrap();
    let bic = demo_bic("bank-a");
    // One payment first, so that every lazily started task of the node and session exists.
    let warm = submit_all(&mut p, &MessageFactory::new(template.clone(), "warm").sending_as(&bic), 1).await;
    assert!(warm.values().all(|s| s.last() == Some(&TxStatus::ACSC)), "{warm:?}");
    slots_free(&node).await;
    let runtime = tokio::runtime::Handle::current().metrics();
    let before = runtime.num_alive_tasks();

    let settled = submit_all(&mut p, &MessageFactory::new(template, "many").sending_as(&bic), 50).await;
    assert!(settled.values().all(|s| s.last() == Some(&TxStatus::ACSC)), "{settled:?}");
    slots_free(&node).await;
    let deadline = tokio::time::Instant::now() + TIMEOUT;
    while runtime.num_alive_tasks() > before + 5 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{} tasks alive after 50 settled payments, {before} before",
            runtime.num_alive_tasks()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    drop(p);
    node.stop().await.unwrap();
}
