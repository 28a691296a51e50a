//! The clearing-house simulator: a product feature, not a mock.
//!
//! It accepts mutually authenticated TLS connections, speaks the Switchyard frame protocol, and
//! answers each pacs.008 submission with a pacs.002: ACSC, or RJCT with a configured probability.
//! It records every submission per UETR — the independent oracle for "at most one submission per
//! payment" (invariant 4) — and answers a repeated UETR with its first verdict (a clearing house
//! dedups). Faults: latency, reject rate, drop rate (no answer at all).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use rand::Rng;
use rustls::ServerConfig;
use switchyard_iso20022::{
    read_pacs008, read_pacs028, write_pacs002, Limits, Pacs008, ReasonCode, StatusReport, TxStatus,
    TxStatusInfo, Uetr,
};
use switchyard_wire::conn::split;
use switchyard_wire::{Frame, FrameCodec, FrameKind};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Fault injection and limits. Rates are parts per million: integers, so runs are reproducible
/// from config and no float enters the decision.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Fixed answer latency.
    pub latency: Duration,
    /// Probability (ppm) that a new submission is rejected.
    pub reject_ppm: u32,
    /// Probability (ppm) that a submission is processed but its answer is never sent (the
    /// switch must learn the outcome by status inquiry).
    pub drop_ppm: u32,
    /// Probability (ppm) that a submission is lost before the clearing house records it (a
    /// status inquiry answers "not found" and the switch may safely submit again).
    pub lose_ppm: u32,
    /// Reason code of injected rejections.
    pub reject_reason: ReasonCode,
    pub max_frame_bytes: usize,
    pub max_connections: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            reject_ppm: 0,
            drop_ppm: 0,
            lose_ppm: 0,
            reject_reason: ReasonCode::AM02,
            max_frame_bytes: 1 << 20,
            max_connections: 64,
        }
    }
}

/// What the simulator keeps per UETR: the count, the verdict, and the identifiers it echoes.
#[derive(Debug, Clone)]
struct Recorded {
    submissions: u32,
    status: TxStatus,
    msg_id: String,
    instr_id: Option<String>,
    end_to_end_id: String,
    tx_id: Option<String>,
    uetr: Option<Uetr>,
    /// The settlement amount as it arrived (minor units) and its currency: the clearing house's
    /// own figure for the crash campaign's balance check.
    amount_minor: i64,
    currency: String,
}

impl Recorded {
    fn of(msg: &Pacs008, status: TxStatus) -> Self {
        let tx = msg.txs.first();
        Self {
            submissions: 0,
            status,
            msg_id: msg.msg_id.clone(),
            instr_id: tx.and_then(|t| t.instr_id.clone()),
            end_to_end_id: tx.map(|t| t.end_to_end_id.clone()).unwrap_or_default(),
            tx_id: tx.and_then(|t| t.tx_id.clone()),
            uetr: tx.and_then(|t| t.uetr.clone()),
            amount_minor: tx.map_or(0, |t| t.amount.minor_units),
            currency: tx.map(|t| t.amount.currency.as_str().to_owned()).unwrap_or_default(),
        }
    }
}

/// One UETR as the simulator recorded it (see [`SimStats::per_uetr`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UetrRecord {
    pub uetr: String,
    /// Submissions that arrived for it (more than one breaks invariant 4).
    pub submissions: u32,
    /// The verdict the simulator gave (and repeats for later submissions and inquiries).
    pub status: TxStatus,
    /// Settlement amount in minor units of `currency`, as submitted.
    pub amount_minor: i64,
    pub currency: String,
}

/// What the simulator saw. Shared with whoever started it (the demo report reads it).
#[derive(Debug, Default)]
pub struct SimStats {
    /// Per UETR: what the clearing house recorded.
    submissions: Mutex<HashMap<String, Recorded>>,
    pub received: AtomicU64,
    pub settled: AtomicU64,
    pub rejected: AtomicU64,
    pub dropped: AtomicU64,
    pub lost: AtomicU64,
    /// Status inquiries (pacs.028) answered.
    pub inquiries: AtomicU64,
    /// Inquiries about a payment the simulator never recorded.
    pub not_found: AtomicU64,
    pub unreadable: AtomicU64,
    /// Sessions signed on since start.
    pub sign_ons: AtomicU64,
}

impl SimStats {
    /// The largest number of submissions any one UETR received.
    #[must_use]
    pub fn max_submissions_per_uetr(&self) -> u32 {
        self.lock().values().map(|r| r.submissions).max().unwrap_or(0)
    }

    /// Distinct UETRs submitted.
    #[must_use]
    pub fn distinct_uetrs(&self) -> usize {
        self.lock().len()
    }

    /// Submissions recorded for one UETR.
    #[must_use]
    pub fn submissions_of(&self, uetr: &str) -> u32 {
        self.lock().get(uetr).map_or(0, |r| r.submissions)
    }

    /// Every UETR recorded so far, with its submission count, verdict and amount.
    #[must_use]
    pub fn per_uetr(&self) -> Vec<UetrRecord> {
        self.lock()
            .iter()
            .map(|(uetr, r)| UetrRecord {
                uetr: uetr.clone(),
                submissions: r.submissions,
                status: r.status,
                amount_minor: r.amount_minor,
                currency: r.currency.clone(),
            })
            .collect()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Recorded>> {
        self.submissions.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A running simulator.
#[derive(Debug)]
pub struct SimHandle {
    pub addr: SocketAddr,
    pub stats: Arc<SimStats>,
    shutdown: CancellationToken,
    connections: Arc<Mutex<CancellationToken>>,
    task: JoinHandle<()>,
}

impl SimHandle {
    /// Closes every open connection (a network failure or a clearing-house restart) while
    /// keeping the record of what was received, as a real clearing house would. New connections
    /// are accepted as before.
    pub fn disconnect_all(&self) {
        let mut current = self.connections.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        current.cancel();
        *current = self.shutdown.child_token();
    }

    /// Stops accepting and closes every connection.
    pub async fn stop(self) {
        self.shutdown.cancel();
        let _ = self.task.await;
    }
}

/// Binds `addr` and serves until stopped.
pub async fn start(
    addr: SocketAddr,
    tls: Arc<ServerConfig>,
    config: SimConfig,
) -> std::io::Result<SimHandle> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    let stats = Arc::new(SimStats::default());
    let shutdown = CancellationToken::new();
    let connections = Arc::new(Mutex::new(shutdown.child_token()));
    let task = tokio::spawn(accept_loop(
        listener,
        tls,
        Arc::new(config),
        Arc::clone(&stats),
        shutdown.clone(),
        Arc::clone(&connections),
    ));
    Ok(SimHandle { addr, stats, shutdown, connections, task })
}

async fn accept_loop(
    listener: TcpListener,
    tls: Arc<ServerConfig>,
    config: Arc<SimConfig>,
    stats: Arc<SimStats>,
    shutdown: CancellationToken,
    connections: Arc<Mutex<CancellationToken>>,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(config.max_connections));
    loop {
        let Ok(permit) = Arc::clone(&slots).acquire_owned().await else { return };
        let accepted = tokio::select! {
            () = shutdown.cancelled() => return,
            accepted = listener.accept() => accepted,
        };
        let Ok((tcp, peer)) = accepted else { continue };
        let closed = connections.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        let (tls, config, stats) = (Arc::clone(&tls), Arc::clone(&config), Arc::clone(&stats));
        tokio::spawn(async move {
            tokio::select! {
                () = closed.cancelled() => {}
                result = serve(tcp, tls, config, stats) => if let Err(e) = result {
                    tracing::debug!(%peer, error = %e, "simulator connection ended");
                },
            }
            drop(permit);
        });
    }
}

async fn serve(
    tcp: TcpStream,
    tls: Arc<ServerConfig>,
    config: Arc<SimConfig>,
    stats: Arc<SimStats>,
) -> Result<(), String> {
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let stream = tokio_rustls::TlsAcceptor::from(tls).accept(tcp).await.map_err(|e| format!("tls: {e}"))?;
    let (mut reader, tx, writer) = split(stream, FrameCodec::new(config.max_frame_bytes), 4096);
    // When this connection ends (or is cut), its writer goes too: answers not yet written are
    // lost with the connection, as on a real network.
    let _writer = tokio_util::task::AbortOnDropHandle::new(writer);
    let limits = Limits::default();
    let mut next_msg = 0u64;
    while let Some(frame) = reader.next().await {
        let frame = frame.map_err(|e| e.to_string())?;
        match frame.kind {
            FrameKind::SignOn => {
                stats.sign_ons.fetch_add(1, Ordering::Relaxed);
                send(&tx, Frame::control(FrameKind::SignOnOk, frame.correlation, &[("session", "sim")]))
                    .await;
            }
            FrameKind::Heartbeat => {
                send(&tx, Frame::new(FrameKind::HeartbeatAck, frame.correlation, Bytes::new())).await;
            }
            FrameKind::SignOff => {
                send(&tx, Frame::new(FrameKind::SignOffOk, frame.correlation, Bytes::new())).await;
                return Ok(());
            }
            FrameKind::Submit => {
                next_msg += 1;
                if let Some((delay, answer)) = decide(&config, &stats, &limits, &frame, next_msg) {
                    reply(&tx, delay, answer).await;
                }
            }
            _ => {}
        }
    }
    Ok(())
}

async fn send(tx: &mpsc::Sender<Frame>, frame: Frame) {
    let _ = tx.send(frame).await;
}

/// Answers at once (waiting for room in the writer: backpressure on the reader, never a silent
/// drop), or after `delay` from a task of its own so later submissions are not held up.
async fn reply(tx: &mpsc::Sender<Frame>, delay: Duration, frame: Frame) {
    if delay.is_zero() {
        let _ = tx.send(frame).await;
        return;
    }
    let tx = tx.clone();
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        let _ = tx.send(frame).await;
    });
}

/// The proprietary reason on the answer to an inquiry about an unknown payment
/// (docs/PROTOCOL.md; the switch's link actor matches it).
pub const NOT_FOUND_REASON: &str = "NOTFOUND";

/// Records a submission or answers an inquiry (`None`: no answer is sent).
fn decide(
    config: &SimConfig,
    stats: &SimStats,
    limits: &Limits,
    frame: &Frame,
    n: u64,
) -> Option<(Duration, Frame)> {
    let head = &frame.payload[..frame.payload.len().min(1024)];
    if head.windows(8).any(|w| w == b"pacs.028") {
        return inquiry(stats, limits, frame, n);
    }
    stats.received.fetch_add(1, Ordering::Relaxed);
    let msg = match read_pacs008(&frame.payload, limits) {
        Ok(msg) => msg,
        Err(e) => return Some((Duration::ZERO, unreadable(stats, frame, &e))),
    };
    let tx = msg.txs.first()?;
    let uetr = tx.uetr.as_ref().map_or_else(String::new, |u| u.as_str().to_owned());
    let mut rng = rand::thread_rng();
    if rng.gen_range(0..1_000_000) < config.lose_ppm {
        stats.lost.fetch_add(1, Ordering::Relaxed);
        return None;
    }
    let status = {
        let mut seen = stats.lock();
        let entry = seen.entry(uetr).or_insert_with(|| {
            let rejected = rng.gen_range(0..1_000_000) < config.reject_ppm;
            Recorded::of(&msg, if rejected { TxStatus::RJCT } else { TxStatus::ACSC })
        });
        entry.submissions += 1;
        entry.clone()
    };
    if rng.gen_range(0..1_000_000) < config.drop_ppm {
        stats.dropped.fetch_add(1, Ordering::Relaxed);
        return None;
    }
    let counter = if status.status == TxStatus::RJCT { &stats.rejected } else { &stats.settled };
    counter.fetch_add(1, Ordering::Relaxed);
    Some((
        config.latency,
        Frame::new(FrameKind::Status, frame.correlation, status_report(&status, config.reject_reason, n)),
    ))
}

fn unreadable(stats: &SimStats, frame: &Frame, e: &switchyard_iso20022::ValidationError) -> Frame {
    stats.unreadable.fetch_add(1, Ordering::Relaxed);
    let detail = e.to_string();
    Frame::control(FrameKind::Error, frame.correlation, &[("code", e.code.as_str()), ("detail", &detail)])
}

/// Answers a pacs.028 from the simulator's own record (never from the switch's view).
fn inquiry(stats: &SimStats, limits: &Limits, frame: &Frame, n: u64) -> Option<(Duration, Frame)> {
    let request = match read_pacs028(&frame.payload, limits) {
        Ok(r) => r,
        Err(e) => return Some((Duration::ZERO, unreadable(stats, frame, &e))),
    };
    stats.inquiries.fetch_add(1, Ordering::Relaxed);
    let asked = &request.txs.first()?.original;
    let uetr = asked.orgnl_uetr.as_ref()?;
    let known = stats.lock().get(uetr.as_str()).cloned();
    let payload = match known {
        Some(recorded) => status_report(&recorded, ReasonCode::AM02, n),
        None => {
            stats.not_found.fetch_add(1, Ordering::Relaxed);
            let report = StatusReport {
                msg_id: format!("SIM-{n}"),
                cre_dt_tm: now(),
                orgnl_msg_id: asked.orgnl_msg_id.clone().unwrap_or_else(|| "NOTPROVIDED".to_owned()),
                orgnl_msg_nm_id: asked
                    .orgnl_msg_nm_id
                    .clone()
                    .unwrap_or_else(|| "pacs.008.001.08".to_owned()),
                txs: vec![TxStatusInfo {
                    orgnl_end_to_end_id: asked.orgnl_end_to_end_id.clone(),
                    orgnl_uetr: Some(uetr.clone()),
                    reason_prtry: Some(NOT_FOUND_REASON.to_owned()),
                    addtl_inf: Some("no payment with this UETR was received".to_owned()),
                    ..TxStatusInfo::new(TxStatus::RJCT)
                }],
                ..StatusReport::default()
            };
            write_pacs002(&report)
        }
    };
    Some((Duration::ZERO, Frame::new(FrameKind::Status, frame.correlation, payload)))
}

fn now() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

fn status_report(r: &Recorded, reject_reason: ReasonCode, n: u64) -> Vec<u8> {
    let report = StatusReport {
        msg_id: format!("SIM-{n}"),
        cre_dt_tm: now(),
        orgnl_msg_id: r.msg_id.clone(),
        orgnl_msg_nm_id: "pacs.008.001.08".to_owned(),
        txs: vec![TxStatusInfo {
            orgnl_instr_id: r.instr_id.clone(),
            orgnl_end_to_end_id: Some(r.end_to_end_id.clone()),
            orgnl_tx_id: r.tx_id.clone(),
            orgnl_uetr: r.uetr.clone(),
            reason: (r.status == TxStatus::RJCT).then_some(reject_reason),
            ..TxStatusInfo::new(r.status)
        }],
        ..StatusReport::default()
    };
    write_pacs002(&report)
}
