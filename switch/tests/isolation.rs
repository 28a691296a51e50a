//! Tenant isolation of idempotency (issue 10, invariant 5): two tenants that happen to use the
//! same MsgId and UETR are two payments, never a duplicate of each other, while each tenant's
//! own duplicates are still caught. The noisy-tenant half of isolation (a tenant far over its
//! rate is refused while another is served) is `lifecycle.rs`,
//! `a_noisy_tenant_is_refused_while_a_quiet_one_is_served`.

mod common;

use common::{client, fixture, start_node_with, TIMEOUT};
use futures::StreamExt;
use switchyard::demo::TEMPLATE;
use switchyard_bench::client::Participant;
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
    for tenant in ["bank-a", "bank-b"] {
        let view = node.state.payment(tenant, &uetr).unwrap().unwrap_or_else(|| panic!("{tenant} has it"));
        assert_eq!(view.tenant, tenant);
        assert_eq!(view.msg_id, "COLLIDE-1");
    }
    assert_eq!(f.sim.stats.submissions_of(&uetr), 2);
    drop((a, b));
    node.stop().await.unwrap();
}
