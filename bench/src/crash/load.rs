//! The campaign's load: each participant keeps (re)connecting to the node and sends payments
//! at a fixed rate on an open-loop schedule (a slot missed while the node is down is skipped,
//! not queued), within the credit window the node granted. Every submission and every status
//! goes into the [`Ledger`]. A connection that breaks (the node was killed) ends the session;
//! submissions without an answer stay un-acknowledged in the ledger, which is what their
//! sender knows of them.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use compact_str::format_compact;
use futures::StreamExt;
use switchyard_iso20022::{read_pacs002, write_pacs008, Currency, Limits, Pacs008, Uetr};
use switchyard_wire::{Frame, FrameKind};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::ledger::Ledger;
use crate::client::{ClientSpec, Participant};

/// The currencies payments alternate between (both with two minor units).
pub const CURRENCIES: [&str; 2] = ["ZAR", "USD"];

/// One participant bank of the campaign.
#[derive(Debug, Clone)]
pub struct Sender {
    pub tenant: String,
    pub client: ClientSpec,
    pub rate_per_s: u64,
    pub template: Pacs008,
}

/// Makes the `n`th payment of `tenant`: fresh identifiers, an amount and a currency that vary.
fn make(template: &Pacs008, tenant: &str, run: u64, n: u64) -> (Vec<u8>, String, i64, &'static str) {
    let mut msg = template.clone();
    let uetr = uuid::Uuid::new_v4().to_string();
    msg.msg_id = format_compact!("CR{run:x}-{tenant}-{n}");
    if let Some(hdr) = msg.app_hdr.as_mut() {
        hdr.biz_msg_idr.clone_from(&msg.msg_id);
    }
    let currency = CURRENCIES[usize::try_from(n % 2).unwrap_or(0)];
    // 1.00 .. 999.99 in a pattern that makes equal sums by accident unlikely.
    let amount = 100 + i64::try_from(n.wrapping_mul(7_919) % 99_900).unwrap_or(0);
    if let Some(tx) = msg.txs.first_mut() {
        tx.uetr = Uetr::parse(&uetr);
        tx.end_to_end_id = format_compact!("E2E-{n}");
        tx.instr_id = tx.instr_id.as_ref().map(|_| format_compact!("I{n}"));
        tx.tx_id = tx.tx_id.as_ref().map(|_| format_compact!("T{n}"));
        tx.amount.minor_units = amount;
        if let Some(ccy) = Currency::parse(currency) {
            tx.amount.currency = ccy;
        }
    }
    msg.ttl_intr_bk_sttlm_amt = None;
    msg.ctrl_sum = None;
    (write_pacs008(&msg), uetr, amount, currency)
}

/// Longest wait for a credit before a heartbeat goes out instead (or the node's interval, if
/// shorter).
const HEARTBEAT_WHEN_BLOCKED: Duration = Duration::from_millis(500);

/// Runs one participant until `stop`: connect, send, and reconnect after every break.
/// Returns the number of sessions it signed on.
pub async fn participant(
    sender: Sender,
    ledger: Arc<Ledger>,
    stop: CancellationToken,
    run_id: u64,
    sessions_signed_on: Arc<AtomicU64>,
) {
    let next = Arc::new(AtomicU64::new(0));
    while !stop.is_cancelled() {
        let conn = tokio::select! {
            () = stop.cancelled() => return,
            conn = Participant::connect(&sender.client) => conn,
        };
        let Ok(conn) = conn else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        sessions_signed_on.fetch_add(1, Ordering::Relaxed);
        session(&sender, conn, &ledger, &stop, run_id, &next).await;
    }
}

/// One signed-on session: ends when the connection breaks, or after `stop` once every
/// submission of the session has an answer (or 10 s have passed).
async fn session(
    sender: &Sender,
    conn: Participant,
    ledger: &Arc<Ledger>,
    stop: &CancellationToken,
    run_id: u64,
    next: &AtomicU64,
) {
    let Participant { mut reader, tx, credit_window, heartbeat, .. } = conn;
    // A participant with its whole window unanswered sends heartbeats (docs/PROTOCOL.md): they
    // are what makes a dead connection show — an RST on TCP; on QUIC, the restarted node's
    // stateless reset (nothing else would be sent until QUIC's idle timeout).
    let heartbeat = heartbeat.min(HEARTBEAT_WHEN_BLOCKED);
    let credits = Arc::new(Semaphore::new(credit_window));
    let pending: Arc<Mutex<HashMap<u64, String>>> = Arc::new(Mutex::new(HashMap::new()));
    let broken = CancellationToken::new();
    // When the session last heard anything (ms since it began): silence for three heartbeat
    // intervals while waiting means the node is gone (QUIC learns nothing else before its
    // idle timeout, its probes backing off exponentially while the node is down).
    let began = tokio::time::Instant::now();
    let last_heard = Arc::new(AtomicU64::new(0));
    let receiver = {
        let (ledger, credits, pending, broken, last_heard) = (
            Arc::clone(ledger),
            Arc::clone(&credits),
            Arc::clone(&pending),
            broken.clone(),
            Arc::clone(&last_heard),
        );
        tokio::spawn(async move {
            let limits = Limits::default();
            while let Some(Ok(frame)) = reader.next().await {
                let heard = u64::try_from(began.elapsed().as_millis()).unwrap_or(u64::MAX);
                last_heard.store(heard, Ordering::Relaxed);
                if frame.kind != FrameKind::Status {
                    continue;
                }
                let Ok(report) = read_pacs002(&frame.payload, &limits) else { continue };
                let Some(status) = report.txs.first().map(|t| t.tx_sts) else { continue };
                let uetr = pending
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .get(&frame.correlation)
                    .cloned();
                let Some(uetr) = uetr else { continue };
                if ledger.status(&uetr, status) {
                    pending
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .remove(&frame.correlation);
                    credits.add_permits(1);
                }
            }
            broken.cancel();
        })
    };
    let interval = Duration::from_nanos(1_000_000_000 / sender.rate_per_s.max(1));
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut correlation = 0u64;
    loop {
        tokio::select! {
            () = broken.cancelled() => break,
            () = stop.cancelled() => break,
            _ = ticks.tick() => {}
        }
        let permit = tokio::select! {
            () = broken.cancelled() => break,
            () = stop.cancelled() => break,
            permit = tokio::time::timeout(heartbeat, credits.acquire()) => permit,
        };
        let Ok(permit) = permit else {
            let silent_ms = u64::try_from(began.elapsed().as_millis())
                .unwrap_or(u64::MAX)
                .saturating_sub(last_heard.load(Ordering::Relaxed));
            if u128::from(silent_ms) > 3 * heartbeat.as_millis() {
                break; // three intervals without a word: reconnect
            }
            if tx.send(Frame::new(FrameKind::Heartbeat, 0, bytes::Bytes::new())).await.is_err() {
                break;
            }
            continue;
        };
        let Ok(permit) = permit else { break };
        permit.forget();
        let n = next.fetch_add(1, Ordering::Relaxed);
        let (xml, uetr, amount, currency) = make(&sender.template, &sender.tenant, run_id, n);
        correlation += 1;
        ledger.sent(&uetr, &sender.tenant, amount, currency);
        pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(correlation, uetr);
        if tx.send(Frame::new(FrameKind::Submit, correlation, xml)).await.is_err() {
            break;
        }
    }
    if stop.is_cancelled() && !broken.is_cancelled() {
        // Let the answers of this session arrive before signing off.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::time::Instant::now() < deadline
            && !broken.is_cancelled()
            && !pending.lock().unwrap_or_else(std::sync::PoisonError::into_inner).is_empty()
        {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        let _ = tx.send(Frame::new(FrameKind::SignOff, 0, bytes::Bytes::new())).await;
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    receiver.abort();
    let _ = receiver.await;
}
