//! The network between the switch and the clearing house misbehaves (issue 10): the fault proxy
//! (`switchyard_bench::proxy`) sits on the clearing link and delays, drops, duplicates or
//! reorders the clearing house's replies, resets the connection in the middle of a frame, or
//! black-holes it. For each class: every payment is acknowledged and reaches exactly one final
//! status, and the simulator — the independent oracle — received each UETR exactly once.

mod common;

use std::num::NonZeroU32;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{fixture, run_participant, start_node_with, Fixture};
use switchyard::config::{LinkTransport, NodeConfig};
use switchyard_actors::rate::RateSpec;
use switchyard_bench::proxy::udp::{UdpFault, UdpProxy};
use switchyard_bench::proxy::{Fault, FaultProxy, ProxyTls};
use switchyard_clearing::sim::{self, SimConfig};
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
/// simulator has seen 50 submissions and off again after `lasting`; checks the outcome (see
/// [`run_scenario`]) and returns how many payments were reported in doubt and how long after
/// the fault began the link's breaker was seen open (if it opened).
async fn run_with(
    fault: Fault,
    lasting: Duration,
    in_doubt_allowed: bool,
) -> (Fixture, FaultProxy, usize, Option<Duration>) {
    let f = fixture().await;
    let proxy = proxy(&f).await;
    let addr = proxy.addr;
    let fault_at = Mutex::new(None);
    let chaos = async {
        wait_for_submissions(&f, 50).await;
        proxy.set(fault);
        *fault_at.lock().unwrap() = Some(tokio::time::Instant::now());
        tokio::time::sleep(lasting).await;
        proxy.set(Fault::None);
    };
    let (in_doubt, opened) = run_scenario(
        &f,
        move |config| config.links[0].addr = addr,
        chaos,
        in_doubt_allowed,
        &format!("{fault:?}"),
    )
    .await;
    let delay = breaker_delay(&fault_at, opened);
    (f, proxy, in_doubt, delay)
}

/// The breaker opens after `failure_threshold` (5) consecutive failures; under a black hole
/// the in-flight submissions all time out one clearing timeout (300 ms) after it begins, so it
/// opens then. The bound leaves a loaded CI machine 1.7 s more.
fn breaker_opened_in_time(label: &str, opened_after: Option<Duration>) {
    eprintln!("{label}: breaker seen open {opened_after:?} after the fault began");
    let opened_after = opened_after.unwrap_or_else(|| panic!("{label}: the breaker never opened"));
    assert!(opened_after <= Duration::from_secs(2), "{label}: breaker open only after {opened_after:?}");
}

/// Waits (at most 30 s) until the simulator has received `n` submissions.
async fn wait_for_submissions(f: &Fixture, n: u64) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    while f.sim.stats.received.load(Relaxed) < n && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}

/// Runs PAYMENTS payments from bank-a while `chaos` runs, on a node with a clearing timeout of
/// 300 ms and a link heartbeat of 200 ms (then edited by `link`), and checks the invariants: every payment
/// is acknowledged and gets exactly one final status, the simulator received every UETR and
/// none twice. With `in_doubt_allowed`, a payment may be reported PDNG (invariant 3: an outcome
/// or "in doubt" within its deadline); it must then reach a final outcome in the node's state
/// once the fault is gone, without a restart. Returns how many were reported in doubt.
async fn run_scenario(
    f: &Fixture,
    link: impl Fn(&mut NodeConfig) + Copy,
    chaos: impl std::future::Future<Output = ()>,
    in_doubt_allowed: bool,
    label: &str,
) -> (usize, Option<tokio::time::Instant>) {
    let edit = move |config: &mut NodeConfig| {
        config.limits.credit_window = 32;
        config.limits.payment.clearing_timeout_ms = 300;
        config.limits.link_heartbeat = Duration::from_millis(200);
        config.limits.payment.reinquiry_base_ms = 200;
        config.limits.payment.reinquiry_max_ms = 1_000;
        for t in &mut config.tenants {
            let many = NonZeroU32::new(100_000).unwrap();
            t.rate = RateSpec { per_second: many, burst: many };
        }
        link(config);
    };
    let node = start_node_with(f, edit).await;
    let mut breaker_opened = None;
    let (statuses, ()) = {
        let work = async { tokio::join!(run_participant(f, &node, "bank-a", PAYMENTS), chaos) };
        tokio::pin!(work);
        let watch = breaker_opens(&node.ops, "sim");
        tokio::pin!(watch);
        loop {
            tokio::select! {
                done = &mut work => break done,
                at = &mut watch, if breaker_opened.is_none() => breaker_opened = Some(at),
            }
        }
    };
    assert_eq!(statuses.len(), PAYMENTS as usize, "{label}: every payment answered");
    let mut in_doubt = Vec::new();
    for (uetr, seen) in &statuses {
        assert_eq!(seen.first(), Some(&TxStatus::ACTC), "{label}: {uetr} acknowledged: {seen:?}");
        assert_eq!(seen.len(), 2, "{label}: {uetr} has exactly one final status: {seen:?}");
        if in_doubt_allowed && seen[1] == TxStatus::PDNG {
            in_doubt.push(uetr.clone());
            continue;
        }
        assert!(matches!(seen[1], TxStatus::ACSC | TxStatus::RJCT), "{label}: {uetr} final: {seen:?}");
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
            assert!(tokio::time::Instant::now() < deadline, "{label}: {uetr} still {:?}", view.outcome);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
    eprintln!("{label}: {} of {PAYMENTS} reported in doubt, all final without a restart", in_doubt.len());
    assert_eq!(f.sim.stats.max_submissions_per_uetr(), 1, "{label}: no UETR submitted twice");
    assert_eq!(f.sim.stats.distinct_uetrs(), PAYMENTS as usize, "{label}: every UETR reached the house");
    node.stop().await.unwrap();
    (in_doubt.len(), breaker_opened)
}

/// When the breaker of `link` is first seen open (polled every 25 ms); pending until then.
async fn breaker_opens(ops: &switchyard::ops::Operations, link: &str) -> tokio::time::Instant {
    loop {
        if ops.links().await.iter().any(|l| l.name == link && l.breaker == "open") {
            return tokio::time::Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// How long after the fault began the breaker was seen open, if it was.
fn breaker_delay(
    fault_at: &Mutex<Option<tokio::time::Instant>>,
    opened: Option<tokio::time::Instant>,
) -> Option<Duration> {
    let fault_at = (*fault_at.lock().unwrap())?;
    opened.map(|at| at.saturating_duration_since(fault_at))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn delayed_replies_beyond_the_clearing_timeout() {
    // 500 ms > the 300 ms clearing timeout: payments go in doubt and are resolved by inquiry,
    // and the late answers that still arrive must not count twice.
    let (_f, proxy, _, _) =
        run_with(Fault::Delay(Duration::from_millis(500)), Duration::from_secs(1), false).await;
    assert!(proxy.stats.replies.load(Relaxed) > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dropped_replies() {
    let (f, proxy, _, _) = run_with(Fault::DropEvery(3), Duration::from_secs(1), false).await;
    assert!(proxy.stats.dropped.load(Relaxed) > 0, "replies were dropped");
    assert!(f.sim.stats.inquiries.load(Relaxed) > 0, "and recovered by pacs.028");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_reset_in_the_middle_of_a_reply() {
    // Reconnects plus the 300 ms clearing timeout can outlast a payment's inquiry budget on a
    // loaded machine (CI met it once): such a payment is reported in doubt (invariant 3) and
    // must then reach its outcome in the running node, never by a second submission.
    let (f, proxy, _, _) = run_with(Fault::ResetMidFrameEvery(20), Duration::from_secs(1), true).await;
    assert!(proxy.stats.resets.load(Relaxed) > 0, "connections were reset mid-frame");
    assert!(f.sim.stats.sign_ons.load(Relaxed) >= 2, "the link reconnected");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn black_hole_then_recovery() {
    // Longer than a payment's whole inquiry budget (300 ms timeout × 6 plus backoff), so some
    // payments are reported in doubt and must be resolved by re-inquiry without a restart.
    let (f, proxy, in_doubt, breaker) = run_with(Fault::BlackHole, Duration::from_secs(5), true).await;
    breaker_opened_in_time("black hole", breaker);
    assert!(in_doubt > 0, "the black hole outlasted the inquiry budget of some payments");
    assert!(f.sim.stats.inquiries.load(Relaxed) > 0, "resolved by pacs.028, not by resubmission");
    assert!(proxy.stats.swallowed.load(Relaxed) > 0, "traffic vanished");
    assert!(f.sim.stats.sign_ons.load(Relaxed) >= 2, "the link gave up on the silent connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicated_replies() {
    let (_f, proxy, _, _) = run_with(Fault::Duplicate, Duration::from_secs(1), false).await;
    assert!(proxy.stats.duplicated.load(Relaxed) > 0);
}

/// A slow sender: every 5th reply dribbled out 16 bytes per TLS record, 10 ms apart (~750 ms a
/// reply, beyond the 300 ms clearing timeout), the replies behind it waiting. Payments time out
/// and inquire; the link may give up on a connection that stalls its heartbeats. Nothing is
/// submitted twice; a payment may end in doubt and must then reach its outcome in the running
/// node (checked by the scenario).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_sender_dribbling_replies() {
    let (f, proxy, _, _) = run_with(Fault::SlowEvery(5), Duration::from_secs(1), true).await;
    assert!(proxy.stats.slowed.load(Relaxed) > 0, "replies were dribbled");
    assert!(f.sim.stats.inquiries.load(Relaxed) > 0, "the wait outlasted the clearing timeout");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reordered_replies() {
    let (_f, proxy, _, _) = run_with(Fault::Reorder, Duration::from_secs(1), false).await;
    assert!(proxy.stats.reordered.load(Relaxed) > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_alert_in_the_middle_of_the_stream() {
    // A forged fatal alert record between two records of the session: the switch's rustls
    // fails the session; the link reconnects and the replies lost with it are asked for. A
    // payment whose reply was lost may outlive its 300 ms clearing deadline before the
    // reconnect's inquiry answers (on a loaded machine it does): it is then reported in doubt
    // and must still settle in the node's state (invariant 3, checked by `run_scenario`).
    let (f, proxy, _, _) = run_with(Fault::TlsAlertEvery(25), Duration::from_secs(1), true).await;
    assert!(proxy.stats.alerts.load(Relaxed) > 0, "alerts were injected");
    assert!(f.sim.stats.sign_ons.load(Relaxed) >= 2, "the link reconnected after the alert");
    let errors = proxy.stats.switch_errors.lock().unwrap().clone();
    eprintln!("the switch's TLS answered: {errors:?}");
    assert!(
        errors.iter().any(|e| e.contains("alert")),
        "the switch's rustls rejected the forged record with a fatal alert: {errors:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retryable_busy_refusals_are_retried_without_double_submission() {
    // Every 4th payment is refused BUSY before the clearing house sees it: the payment learns
    // "not found" by inquiry and is submitted again, within its attempt budget.
    let (f, proxy, _, _) = run_with(Fault::RefuseEvery(4), Duration::from_secs(1), false).await;
    let refused = proxy.stats.refused.load(Relaxed);
    assert!(refused > 0, "submissions were refused");
    assert!(f.sim.stats.not_found.load(Relaxed) >= refused, "each refusal learnt by inquiry: not found");
    assert_eq!(f.sim.stats.received.load(Relaxed), PAYMENTS, "each payment reached the house once");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retryable_refusal_then_connection_close() {
    // As with a reset mid-frame: reconnects plus the 300 ms clearing timeout can outlast a
    // payment's inquiry budget on a loaded machine (CI met it once), so a payment may be
    // reported in doubt; it must then reach its outcome in the running node, submitted once.
    let (f, proxy, _, _) = run_with(Fault::RefuseAndCloseEvery(10), Duration::from_secs(1), true).await;
    assert!(proxy.stats.refused.load(Relaxed) > 0, "submissions were refused");
    assert!(f.sim.stats.sign_ons.load(Relaxed) >= 2, "the link reconnected");
    assert_eq!(f.sim.stats.received.load(Relaxed), PAYMENTS, "each payment reached the house once");
}

/// A fixture whose simulator listens on QUIC.
async fn quic_fixture(sim_config: SimConfig) -> Fixture {
    let mut f = fixture().await;
    let ca = f.certs.ca().unwrap();
    let sim_tls = tls::server_config(&f.certs.identity("clearing-sim").unwrap(), &ca).unwrap();
    let quic = sim::start_quic("127.0.0.1:0".parse().unwrap(), sim_tls, sim_config).unwrap();
    std::mem::replace(&mut f.sim, quic).stop().await;
    f
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quic_connection_reset_and_crash_after_commit() {
    // The clearing link runs over QUIC. The simulator dies after committing 1 % of submissions
    // (the QUIC connection is closed without an answer), and its connections are torn down
    // four more times while payments flow: every in-doubt submission is resolved by inquiry.
    let f = quic_fixture(SimConfig { crash_ppm: 10_000, ..SimConfig::default() }).await;
    let chaos = async {
        wait_for_submissions(&f, 50).await;
        for _ in 0..4 {
            f.sim.disconnect_all();
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    };
    let quic = |config: &mut NodeConfig| config.links[0].transport = LinkTransport::Quic;
    // As for the TCP resets: on a loaded machine a payment whose answer died with a connection
    // may pass its deadline before the reconnected link asks about it; it is then reported in
    // doubt, and run_scenario requires it to reach its outcome in the running node.
    let _ = run_scenario(&f, quic, chaos, true, "QUIC reset").await;
    let stats = &f.sim.stats;
    assert!(stats.sign_ons.load(Relaxed) >= 5, "the link reconnected after every reset");
    // Each crash leaves one recorded, unanswered submission: it is resolved by inquiry.
    let (crashed, inquiries) = (stats.crashed.load(Relaxed), stats.inquiries.load(Relaxed));
    eprintln!(
        "QUIC reset: {crashed} crash-after-commit, {inquiries} inquiries, {} sign-ons",
        stats.sign_ons.load(Relaxed)
    );
    assert!(inquiries >= crashed, "every crash-after-commit resolved by inquiry");
    // Each payment the simulator committed and never answered reached its outcome through a
    // status inquiry (the journal's outcome record counts them), never a second submission.
    let resolved_by_inquiry: std::collections::HashMap<String, u32> = common::journal_records(&f)
        .into_iter()
        .filter_map(|r| match r {
            switchyard_actors::JournalRecord::Outcome(o) => Some((o.uetr, o.inquiries)),
            _ => None,
        })
        .collect();
    for uetr in stats.crashed_uetrs() {
        let asked = resolved_by_inquiry.get(&uetr).copied();
        assert!(
            asked.is_some_and(|n| n > 0),
            "{uetr} crashed after commit: outcome after {asked:?} inquiries"
        );
        assert_eq!(stats.submissions_of(&uetr), 1, "{uetr} submitted once");
    }
}

/// The QUIC link through the datagram proxy (`switchyard_bench::proxy::udp`) to the simulator
/// on QUIC: `act` runs once the simulator has seen 50 submissions, while payments flow.
async fn run_quic_via_udp_proxy<F, Fut>(
    act: F,
    in_doubt_allowed: bool,
    heartbeat: Duration,
    label: &str,
) -> (Fixture, Arc<UdpProxy>, usize, Option<Duration>)
where
    F: FnOnce(Arc<UdpProxy>) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    let f = quic_fixture(SimConfig::default()).await;
    let proxy = Arc::new(UdpProxy::start("127.0.0.1:0".parse().unwrap(), f.sim.addr).await.unwrap());
    let addr = proxy.addr;
    let fault_at = Mutex::new(None);
    let chaos = async {
        wait_for_submissions(&f, 50).await;
        *fault_at.lock().unwrap() = Some(tokio::time::Instant::now());
        act(Arc::clone(&proxy)).await;
    };
    let via = move |config: &mut NodeConfig| {
        config.links[0].transport = LinkTransport::Quic;
        config.links[0].addr = addr;
        config.limits.link_heartbeat = heartbeat;
    };
    let (in_doubt, opened) = run_scenario(&f, via, chaos, in_doubt_allowed, label).await;
    let delay = breaker_delay(&fault_at, opened);
    (f, proxy, in_doubt, delay)
}

/// The datagram proxy's `fault` on for `lasting`, then off (an `act` for
/// [`run_quic_via_udp_proxy`]).
fn udp_fault_for(
    fault: UdpFault,
    lasting: Duration,
) -> impl FnOnce(Arc<UdpProxy>) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    move |proxy| {
        proxy.set(fault);
        Box::pin(async move {
            tokio::time::sleep(lasting).await;
            proxy.set(UdpFault::None);
        })
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quic_datagram_loss() {
    // One datagram in eight lost, both ways, for 2 s: QUIC's loss recovery retransmits; an
    // answer held up past the 300 ms clearing timeout is resolved by inquiry, never resent.
    let (_f, proxy, _, _) = run_quic_via_udp_proxy(
        udp_fault_for(UdpFault::LossEvery(8), Duration::from_secs(2)),
        true,
        Duration::from_millis(200),
        "QUIC loss",
    )
    .await;
    let (dropped, relayed) = (proxy.stats.dropped.load(Relaxed), proxy.stats.relayed.load(Relaxed));
    eprintln!("QUIC loss: {dropped} datagrams dropped, {relayed} relayed");
    assert!(dropped > 0, "datagrams were lost");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quic_black_hole_then_recovery() {
    // Every datagram swallowed for 5 s (longer than a payment's inquiry budget), the QUIC
    // connection never closed: the link must notice the silence itself (heartbeat, idle
    // timeout), reconnect once the path is back, and resolve what was in flight by pacs.028.
    let (f, proxy, in_doubt, breaker) = run_quic_via_udp_proxy(
        udp_fault_for(UdpFault::BlackHole, Duration::from_secs(5)),
        true,
        Duration::from_millis(200),
        "QUIC black hole",
    )
    .await;
    breaker_opened_in_time("QUIC black hole", breaker);
    assert!(proxy.stats.swallowed.load(Relaxed) > 0, "traffic vanished");
    assert!(in_doubt > 0, "the black hole outlasted the inquiry budget of some payments");
    assert!(f.sim.stats.inquiries.load(Relaxed) > 0, "resolved by pacs.028, not by resubmission");
    assert!(f.sim.stats.sign_ons.load(Relaxed) >= 2, "the link gave up on the silent connection");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn quic_path_rebinding_migrates_the_connection() {
    // Five NAT rebindings 200 ms apart while payments flow: the switch's datagrams arrive from
    // a new port each time and the old port is gone. QUIC validates the new path and the
    // connection carries on: no reconnect, no payment in doubt, none submitted twice.
    let (f, proxy, _, _) = run_quic_via_udp_proxy(
        |proxy| async move {
            for _ in 0..5 {
                proxy.rebind();
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        },
        false,
        // 3 s of silence before the link gives up: a reconnect here means the path was lost,
        // not that a loaded machine stalled for 600 ms.
        Duration::from_secs(1),
        "QUIC rebinding",
    )
    .await;
    let (rebinds, sign_ons) = (proxy.stats.rebinds.load(Relaxed), f.sim.stats.sign_ons.load(Relaxed));
    eprintln!("QUIC rebinding: {rebinds} rebinds, {sign_ons} sign-ons");
    assert!(rebinds >= 3, "the path moved ({rebinds} rebinds)");
    assert_eq!(sign_ons, 1, "the connection migrated instead of reconnecting");
}

/// bank-b's payments, one at a time on link "sim2" (its own simulator), for `duration`: the
/// latency of each from submit to its final status.
async fn paced_latencies(
    f: &Fixture,
    node: &switchyard::node::Node,
    duration: Duration,
    round: u32,
) -> Vec<Duration> {
    use futures::StreamExt;
    let factory = factory("bank-b", round);
    let mut p = switchyard_bench::client::Participant::connect(&common::client(f, node, Some("bank-b")))
        .await
        .unwrap();
    let limits = switchyard_iso20022::Limits::default();
    let (mut latencies, end) = (Vec::new(), tokio::time::Instant::now() + duration);
    let mut i = 0;
    while tokio::time::Instant::now() < end {
        let (xml, _) = factory.make(i);
        i += 1;
        let start = tokio::time::Instant::now();
        let frame = switchyard_wire::Frame::new(switchyard_wire::FrameKind::Submit, i, xml);
        p.tx.send(frame).await.unwrap();
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(30), p.reader.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            let report = switchyard_iso20022::read_pacs002(&frame.payload, &limits).unwrap();
            if report.txs[0].tx_sts != TxStatus::ACTC {
                assert_eq!(report.txs[0].tx_sts, TxStatus::ACSC);
                break;
            }
        }
        latencies.push(start.elapsed());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    latencies
}

/// Payments of `tenant` with identifiers of their own per `round`.
fn factory(tenant: &str, round: u32) -> switchyard_bench::messages::MessageFactory {
    let template =
        switchyard_iso20022::read_pacs008(switchyard::demo::TEMPLATE, &Default::default()).unwrap();
    switchyard_bench::messages::MessageFactory::new(template, &format!("{tenant}-r{round}"))
        .sending_as(&switchyard::demo::demo_bic(tenant))
}

fn quantile(v: &mut [Duration], pct: usize) -> Duration {
    v.sort();
    v[(v.len() * pct / 100).min(v.len() - 1)]
}

/// Another link's p99 while this link is under a fault (issue 10: "other links' p99 moves by at
/// most 20 %"). bank-a's 300 payments go to link "sim" through the proxy, bank-b's paced
/// payments to link "sim2" with its own simulator; bank-b's submit → final p99 is measured
/// while bank-a keeps link "sim" busy, without a fault, then with `fault` (alternating
/// `OTHER_LINK_ROUNDS` times, default 1, each `OTHER_LINK_SECS` long, default 6; only the
/// classes whose name contains `OTHER_LINK_FAULT`, when set). Timed, so a
/// measurement printed (docs/RELIABILITY.md §5), not a CI assertion:
/// `cargo test -p switchyard --test fault_proxy -- --ignored --nocapture other_link`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a timed measurement: run by hand (see docs/RELIABILITY.md §5)"]
async fn other_links_p99_under_a_fault_on_this_link() {
    let faults = [
        Fault::Delay(Duration::from_millis(500)),
        Fault::DropEvery(3),
        Fault::ResetMidFrameEvery(10),
        Fault::BlackHole,
        Fault::Duplicate,
        Fault::Reorder,
        Fault::TlsAlertEvery(10),
        Fault::RefuseEvery(4),
        Fault::RefuseAndCloseEvery(10),
        Fault::SlowEvery(5),
    ];
    let only = std::env::var("OTHER_LINK_FAULT").unwrap_or_default();
    for fault in faults.into_iter().filter(|f| format!("{f:?}").contains(only.as_str())) {
        let f = fixture().await;
        let proxy = proxy(&f).await;
        let set = |on: bool| proxy.set(if on { fault } else { Fault::None });
        other_link_p99(&format!("{fault:?}"), &f, proxy.addr, false, &set, None).await;
    }
}

/// The same measurement with link "sim" on QUIC through the datagram proxy (the simulator on
/// QUIC; link "sim2" stays TLS): datagram loss, black hole, NAT rebinding every 250 ms, and
/// the simulator resetting its QUIC connections every 250 ms.
/// `cargo test --release -p switchyard --test fault_proxy -- --ignored --nocapture other_link`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a timed measurement: run by hand (see docs/RELIABILITY.md §5)"]
async fn other_links_p99_under_a_quic_fault_on_this_link() {
    for class in ["loss-every-8", "black-hole", "rebinding", "connection-reset"] {
        let f = quic_fixture(SimConfig::default()).await;
        let proxy = UdpProxy::start("127.0.0.1:0".parse().unwrap(), f.sim.addr).await.unwrap();
        let fault = match class {
            "loss-every-8" => UdpFault::LossEvery(8),
            "black-hole" => UdpFault::BlackHole,
            _ => UdpFault::None,
        };
        let set = |on: bool| proxy.set(if on { fault } else { UdpFault::None });
        let rebind = || proxy.rebind();
        let reset = || f.sim.disconnect_all();
        let tick: Option<&(dyn Fn() + Sync)> = match class {
            "rebinding" => Some(&rebind),
            "connection-reset" => Some(&reset),
            _ => None,
        };
        other_link_p99(&format!("QUIC {class}"), &f, proxy.addr, true, &set, tick).await;
    }
}

/// Link "sim" (at `sim_addr`, QUIC if `quic`) carries bank-a's load in batches of 50; link
/// "sim2" (TLS, its own simulator) carries bank-b's paced payments. Alternates rounds without
/// and with the fault (`fault(true)` at the start of a faulty round, `fault(false)` at its end;
/// `tick` every 250 ms while faulty), `OTHER_LINK_ROUNDS` times (default 1), each
/// `OTHER_LINK_SECS` long (default 6), and prints link sim2's p50/p99 without and with.
async fn other_link_p99(
    label: &str,
    f: &Fixture,
    sim_addr: std::net::SocketAddr,
    quic: bool,
    fault: &(dyn Fn(bool) + Sync),
    tick: Option<&(dyn Fn() + Sync)>,
) {
    use switchyard_actors::route::{Route, RouteMatch};
    let env =
        |name: &str, default: u32| std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default);
    let (secs, rounds) = (u64::from(env("OTHER_LINK_SECS", 6)), env("OTHER_LINK_ROUNDS", 1));
    let ca = f.certs.ca().unwrap();
    let sim2_tls = tls::server_config(&f.certs.identity("clearing-sim").unwrap(), &ca).unwrap();
    let sim2 = sim::start("127.0.0.1:0".parse().unwrap(), sim2_tls, SimConfig::default()).await.unwrap();
    let addr2 = sim2.addr;
    let edit = move |config: &mut NodeConfig| {
        config.links[0].addr = sim_addr;
        let mut second = config.links[0].clone();
        if quic {
            config.links[0].transport = LinkTransport::Quic;
        }
        second.name = "sim2".into();
        second.addr = addr2;
        second.transport = LinkTransport::Tls;
        config.links.push(second);
        let only_b = RouteMatch { tenant: Some("bank-b".into()), ..RouteMatch::default() };
        config.routes.routes.insert(0, Route { priority: 1, ..Route::new(only_b, "sim2") });
        config.limits.credit_window = 32;
        config.limits.payment.clearing_timeout_ms = 300;
        config.limits.link_heartbeat = Duration::from_millis(200);
    };
    let node = start_node_with(f, edit).await;
    // Pooled over `rounds` alternations of (without, with), each `secs` long.
    let (mut without, mut with) = (Vec::new(), Vec::new());
    for round in 0..rounds * 2 {
        let faulty = round % 2 == 1;
        let done = std::sync::atomic::AtomicBool::new(false);
        let chaos = async {
            if faulty {
                fault(true);
            }
            let measured = paced_latencies(f, &node, Duration::from_secs(secs), round).await;
            fault(false);
            done.store(true, Relaxed);
            measured
        };
        let ticking = async {
            while faulty && !done.load(Relaxed) {
                if let Some(tick) = tick {
                    tick();
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        };
        // bank-a keeps link "sim" busy for the whole measurement, in batches of 50.
        let load = async {
            let client = common::client(f, &node, Some("bank-a"));
            let mut a = switchyard_bench::client::Participant::connect(&client).await.unwrap();
            let mut batch = 0;
            while !done.load(Relaxed) {
                common::submit_all(&mut a, &factory("bank-a", round * 1000 + batch), 50).await;
                batch += 1;
            }
        };
        let (_, latencies, ()) = tokio::join!(load, chaos, ticking);
        if faulty {
            with.extend(latencies);
        } else {
            without.extend(latencies);
        }
        // Let the link come back (and what the fault left in doubt settle) before the next round.
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
    let (n0, n1) = (without.len(), with.len());
    let (p50_0, p50_1) = (quantile(&mut without, 50), quantile(&mut with, 50));
    let (base, under) = (quantile(&mut without, 99), quantile(&mut with, 99));
    eprintln!(
        "{label} on link sim: link sim2 p50 {p50_0:?} / p99 {base:?} ({n0} payments) without, p50 {p50_1:?} / p99 {under:?} ({n1}) with: p99 {:+.0} %",
        (under.as_secs_f64() / base.as_secs_f64() - 1.0) * 100.0
    );
    assert!(sim2.stats.max_submissions_per_uetr() <= 1 && f.sim.stats.max_submissions_per_uetr() <= 1);
    node.stop().await.unwrap();
    sim2.stop().await;
}
