//! Graceful stop under load: the node stops reading, signs the session off, and waits for every
//! payment in flight; each acknowledged payment's outcome still reaches the participant.

mod common;

use std::collections::HashMap;
use std::time::Duration;

use common::{client, fixture_with, http_get, start_node_with};
use futures::StreamExt;
use switchyard_bench::client::Participant;
use switchyard_bench::messages::MessageFactory;
use switchyard_clearing::sim::SimConfig;
use switchyard_iso20022::{read_pacs002, read_pacs008, Limits, TxStatus};
use switchyard_wire::{Frame, FrameKind};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopping_under_load_delivers_every_acknowledged_outcome() {
    // 50 ms of clearing latency keeps payments in flight when the stop begins.
    let f = fixture_with(SimConfig { latency: Duration::from_millis(50), ..SimConfig::default() }).await;
    let node = start_node_with(&f, |c| {
        c.limits.credit_window = 64;
        c.admin_listen = Some("127.0.0.1:0".parse().unwrap());
    })
    .await;
    let admin = node.admin_addr.expect("admin listener");
    assert_eq!(http_get(admin, "/readyz").await.unwrap().0, 200);
    let mut p = Participant::connect(&client(&f, &node, Some("bank-a"))).await.unwrap();
    let template = read_pacs008(switchyard::demo::TEMPLATE, &Limits::default()).unwrap();
    let factory = MessageFactory::new(template, "DRAIN").sending_as(&switchyard::demo::demo_bic("bank-a"));

    // The stop begins once 64 payments are acknowledged (by progress, not by wall-clock time, so
    // a slow machine cannot make it start before the load does).
    let (under_load, started) = tokio::sync::oneshot::channel::<()>();
    let mut under_load = Some(under_load);
    let stopper = tokio::spawn(async move {
        let _ = tokio::time::timeout(Duration::from_secs(30), started).await;
        node.stop().await.unwrap()
    });
    // While the drain runs, `/readyz` says 503 (a load balancer stops sending); the admin
    // listener itself closes only after the drain.
    let (drain_seen, seen) = tokio::sync::oneshot::channel::<bool>();
    tokio::spawn(async move {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        let mut unready = false;
        while tokio::time::Instant::now() < deadline {
            match http_get(admin, "/readyz").await {
                Ok((503, body)) => {
                    unready = body.contains("draining");
                    break;
                }
                Ok(_) => tokio::time::sleep(Duration::from_millis(2)).await,
                Err(_) => break, // closed: the drain ended before a poll saw it
            }
        }
        let _ = drain_seen.send(unready);
    });
    let mut statuses: HashMap<u64, Vec<TxStatus>> = HashMap::new();
    let (mut sent, mut in_flight, mut signed_off) = (0u64, 0usize, false);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        while !signed_off && in_flight < p.credit_window {
            sent += 1;
            let (xml, _) = factory.make(sent);
            if p.tx.send(Frame::new(FrameKind::Submit, sent, xml)).await.is_err() {
                break;
            }
            in_flight += 1;
        }
        let next = tokio::time::timeout_at(deadline, p.reader.next())
            .await
            .expect("the node answers or closes in time");
        let Some(Ok(frame)) = next else { break };
        match frame.kind {
            FrameKind::SignOff => signed_off = true,
            FrameKind::Status => {
                let status = read_pacs002(&frame.payload, &Limits::default()).unwrap().txs[0].tx_sts;
                statuses.entry(frame.correlation).or_default().push(status);
                let acked = statuses.values().filter(|s| s.first() == Some(&TxStatus::ACTC)).count();
                if acked >= 64 {
                    if let Some(signal) = under_load.take() {
                        let _ = signal.send(());
                    }
                }
                if status != TxStatus::ACTC {
                    in_flight -= 1;
                }
            }
            _ => {}
        }
        if signed_off && statuses.values().all(|s| s.len() == 2 || s.first() != Some(&TxStatus::ACTC)) {
            break;
        }
    }
    let left = stopper.await.unwrap();
    assert!(seen.await.unwrap(), "/readyz answered 503 (draining) during the drain");
    assert!(signed_off, "the participant was signed off");
    assert_eq!(left, 0, "nothing left in flight at the drain deadline");
    let acked: Vec<_> = statuses.iter().filter(|(_, s)| s.first() == Some(&TxStatus::ACTC)).collect();
    assert!(acked.len() >= 64, "the stop began under load ({} acknowledged)", acked.len());
    for (correlation, seen) in &acked {
        assert_eq!(
            seen.as_slice(),
            [TxStatus::ACTC, TxStatus::ACSC],
            "payment {correlation} reached its outcome"
        );
    }
    assert_eq!(f.sim.stats.max_submissions_per_uetr(), 1);
}
