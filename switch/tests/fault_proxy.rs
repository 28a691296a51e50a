//! The network between the switch and the clearing house misbehaves (issue 10): the fault proxy
//! (`switchyard_bench::proxy`) sits on the clearing link and delays, drops, duplicates or
//! reorders the clearing house's replies, resets the connection in the middle of a frame, or
//! black-holes it. For each class: every payment is acknowledged and reaches exactly one final
//! status, and the simulator — the independent oracle — received each UETR exactly once.

mod common;

use std::num::NonZeroU32;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use common::{fixture, run_participant, start_node_with, Fixture};
use switchyard::config::NodeConfig;
use switchyard_actors::rate::RateSpec;
use switchyard_bench::proxy::{Fault, FaultProxy, ProxyTls};
use switchyard_iso20022::TxStatus;
use switchyard_wire::tls;

const PAYMENTS: u64 = 300;

async fn proxy(f: &Fixture) -> FaultProxy {
    let ca = f.certs.ca().unwrap();
    let tls = ProxyTls {
        server: tls::server_config(&f.certs.identity("clearing-sim").unwrap(), &ca).unwrap(),
        client: tls::client_config(&ca, Some(&f.certs.identity("switchyard").unwrap())).unwrap(),
        upstream_name: "clearing-sim".to_owned(),
    };
    FaultProxy::start("127.0.0.1:0".parse().unwrap(), f.sim.addr, tls).await.unwrap()
}

/// Runs PAYMENTS payments through node → proxy → simulator with `fault` switched on once the
/// simulator has seen 50 submissions and off again after `lasting`; checks the outcome. With
/// `in_doubt_allowed`, a payment may be reported PDNG (invariant 3: an outcome or "in doubt"
/// within its deadline); it must then reach a final outcome in the running node's state once
/// the fault is gone — re-inquiry rounds, no restart, and never a second submission.
async fn run_with(fault: Fault, lasting: Duration, in_doubt_allowed: bool) -> (Fixture, FaultProxy, usize) {
    let f = fixture().await;
    let proxy = proxy(&f).await;
    let addr = proxy.addr;
    let edit = move |config: &mut NodeConfig| {
        config.links[0].addr = addr;
        config.limits.credit_window = 32;
        config.limits.payment.clearing_timeout_ms = 300;
        config.limits.link_heartbeat = Duration::from_millis(200);
        config.limits.payment.reinquiry_base_ms = 200;
        config.limits.payment.reinquiry_max_ms = 1_000;
        for t in &mut config.tenants {
            let many = NonZeroU32::new(100_000).unwrap();
            t.rate = RateSpec { per_second: many, burst: many };
        }
    };
    let node = start_node_with(&f, edit).await;
    let chaos = async {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        while f.sim.stats.received.load(Relaxed) < 50 && tokio::time::Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        proxy.set(fault);
        tokio::time::sleep(lasting).await;
        proxy.set(Fault::None);
    };
    let (statuses, ()) = tokio::join!(run_participant(&f, &node, "bank-a", PAYMENTS), chaos);
    assert_eq!(statuses.len(), PAYMENTS as usize, "{fault:?}: every payment answered");
    let mut in_doubt = Vec::new();
    for (uetr, seen) in &statuses {
        assert_eq!(seen.first(), Some(&TxStatus::ACTC), "{fault:?}: {uetr} acknowledged: {seen:?}");
        assert_eq!(seen.len(), 2, "{fault:?}: {uetr} has exactly one final status: {seen:?}");
        if in_doubt_allowed && seen[1] == TxStatus::PDNG {
            in_doubt.push(uetr.clone());
            continue;
        }
        assert!(matches!(seen[1], TxStatus::ACSC | TxStatus::RJCT), "{fault:?}: {uetr} final: {seen:?}");
    }
    // Reported in doubt: the running node asks again (re-inquiry rounds with capped backoff,
    // and at once when the link reconnects) until the clearing house answers.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    for uetr in &in_doubt {
        loop {
            let view = node.state.payment("bank-a", uetr).unwrap().expect("in the state store");
            if view.outcome.as_ref().is_some_and(switchyard_actors::Outcome::is_final) {
                break;
            }
            assert!(tokio::time::Instant::now() < deadline, "{fault:?}: {uetr} still {:?}", view.outcome);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    eprintln!("{fault:?}: {} of {PAYMENTS} reported in doubt, all final without a restart", in_doubt.len());
    assert_eq!(f.sim.stats.max_submissions_per_uetr(), 1, "{fault:?}: no UETR submitted twice");
    assert_eq!(f.sim.stats.distinct_uetrs(), PAYMENTS as usize, "{fault:?}: every UETR reached the house");
    node.stop().await.unwrap();
    (f, proxy, in_doubt.len())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delayed_replies_beyond_the_clearing_timeout() {
    // 500 ms > the 300 ms clearing timeout: payments go in doubt and are resolved by inquiry,
    // and the late answers that still arrive must not count twice.
    let (_f, proxy, _) =
        run_with(Fault::Delay(Duration::from_millis(500)), Duration::from_secs(1), false).await;
    assert!(proxy.stats.replies.load(Relaxed) > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_replies() {
    let (f, proxy, _) = run_with(Fault::DropEvery(3), Duration::from_secs(1), false).await;
    assert!(proxy.stats.dropped.load(Relaxed) > 0, "replies were dropped");
    assert!(f.sim.stats.inquiries.load(Relaxed) > 0, "and recovered by pacs.028");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_reset_in_the_middle_of_a_reply() {
    let (f, proxy, _) = run_with(Fault::ResetMidFrameEvery(20), Duration::from_secs(1), false).await;
    assert!(proxy.stats.resets.load(Relaxed) > 0, "connections were reset mid-frame");
    assert!(f.sim.stats.sign_ons.load(Relaxed) >= 2, "the link reconnected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn black_hole_then_recovery() {
    // Longer than a payment's whole inquiry budget (300 ms timeout × 6 plus backoff), so some
    // payments are reported in doubt and must be resolved by re-inquiry without a restart.
    let (f, proxy, in_doubt) = run_with(Fault::BlackHole, Duration::from_secs(5), true).await;
    assert!(in_doubt > 0, "the black hole outlasted the inquiry budget of some payments");
    assert!(f.sim.stats.inquiries.load(Relaxed) > 0, "resolved by pacs.028, not by resubmission");
    assert!(proxy.stats.swallowed.load(Relaxed) > 0, "traffic vanished");
    assert!(f.sim.stats.sign_ons.load(Relaxed) >= 2, "the link gave up on the silent connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicated_replies() {
    let (_f, proxy, _) = run_with(Fault::Duplicate, Duration::from_secs(1), false).await;
    assert!(proxy.stats.duplicated.load(Relaxed) > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reordered_replies() {
    let (_f, proxy, _) = run_with(Fault::Reorder, Duration::from_secs(1), false).await;
    assert!(proxy.stats.reordered.load(Relaxed) > 0);
}
