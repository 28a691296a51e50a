//! Issue 6 behaviours over real sockets: tenant isolation under overload, and clearing-link
//! failures mid-load that leave nothing stuck and nothing submitted twice.

mod common;

use std::num::NonZeroU32;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

use common::{fixture, fixture_with, run_participant, start_node_with};
use switchyard_actors::rate::RateSpec;
use switchyard_clearing::sim::SimConfig;
use switchyard_iso20022::TxStatus;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_noisy_tenant_is_refused_while_a_quiet_one_is_served() {
    let f = fixture().await;
    let node = start_node_with(&f, |config| {
        config.limits.credit_window = 64;
        for t in &mut config.tenants {
            let per_second = NonZeroU32::new(if t.name == "bank-a" { 5 } else { 1_000 }).unwrap();
            t.rate = RateSpec { per_second, burst: per_second };
        }
    })
    .await;
    // bank-a sends 200 payments as fast as its window allows: far above its 5/s (a slow machine that needs even 10 s for them still leaves >= 100 refused).
    let (noisy, quiet) =
        tokio::join!(run_participant(&f, &node, "bank-a", 200), run_participant(&f, &node, "bank-b", 100));
    let refused = noisy.values().filter(|s| s.as_slice() == [TxStatus::RJCT]).count();
    let settled = noisy.values().filter(|s| s.as_slice() == [TxStatus::ACTC, TxStatus::ACSC]).count();
    assert_eq!(refused + settled, 200, "every noisy submission answered: {noisy:?}");
    assert!(refused >= 100, "most of the noisy tenant's excess is refused explicitly ({refused})");
    assert!(settled >= 5, "its burst is served ({settled})");
    assert!(
        quiet.values().all(|s| s.as_slice() == [TxStatus::ACTC, TxStatus::ACSC]),
        "the quiet tenant sees no rejection"
    );
    assert_eq!(quiet.len(), 100);
    node.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn clearing_disconnects_mid_load_leave_nothing_stuck_or_duplicated() {
    // With 20 ms of clearing latency, every disconnect cuts answers already decided.
    let f = fixture_with(SimConfig { latency: Duration::from_millis(20), ..SimConfig::default() }).await;
    let node = start_node_with(&f, |config| {
        config.limits.credit_window = 64;
        config.limits.payment.clearing_timeout_ms = 300;
        for t in &mut config.tenants {
            t.rate = RateSpec {
                per_second: NonZeroU32::new(100_000).unwrap(),
                burst: NonZeroU32::new(100_000).unwrap(),
            };
        }
    })
    .await;
    let load = run_participant(&f, &node, "bank-a", 1_500);
    // Cut every connection four times, each time in the middle of the load (by progress, not by
    // wall-clock time, so a slow machine cannot make the cuts miss the traffic).
    let chaos = async {
        for threshold in [200, 500, 800, 1_100] {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
            while f.sim.stats.received.load(Relaxed) < threshold && tokio::time::Instant::now() < deadline {
                tokio::time::sleep(Duration::from_millis(2)).await;
            }
            f.sim.disconnect_all();
        }
    };
    let (statuses, ()) = tokio::join!(load, chaos);
    assert_eq!(statuses.len(), 1_500);
    for (uetr, seen) in &statuses {
        assert_eq!(seen, &vec![TxStatus::ACTC, TxStatus::ACSC], "{uetr} settled exactly once");
    }
    assert_eq!(f.sim.stats.max_submissions_per_uetr(), 1, "no payment reached the clearing house twice");
    assert_eq!(f.sim.stats.distinct_uetrs(), 1_500);
    let stats = &f.sim.stats;
    let (sign_ons, inquiries) = (stats.sign_ons.load(Relaxed), stats.inquiries.load(Relaxed));
    eprintln!("sign-ons {sign_ons}, inquiries {inquiries}, not found {}", stats.not_found.load(Relaxed));
    // A disconnect that lands while the link is still redialling finds nothing to cut.
    assert!(sign_ons >= 3, "the link reconnected after disconnects ({sign_ons} sign-ons)");
    assert!(stats.inquiries.load(Relaxed) >= 1, "answers lost with a connection were recovered by pacs.028");
    node.stop().await.unwrap();
}
