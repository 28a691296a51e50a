//! The clearing-house simulator: a product feature, not a mock.
//!
//! It accepts mutually authenticated TLS or QUIC connections ([`start`], [`start_quic`]), or
//! dials a switch whose clearing link is in accept mode ([`start_dialing`]); in every case it
//! speaks the Switchyard frame protocol and answers each pacs.008 submission with a pacs.002: ACSC, or RJCT with a configured probability.
//! It records every submission per UETR — the independent oracle for "at most one submission per
//! payment" (invariant 4) — and answers a repeated UETR with its first verdict (a clearing house
//! dedups). It takes pacs.008 and pacs.009 alike. Faults: latency (fixed plus an exponential
//! tail, capped), reject rate, drop rate (no answer at all), lost submissions, duplicate
//! replies, late replies (held back past the switch's timeout) and crash after commit
//! (recorded, then the connection is cut without an answer).
//!
//! Cancellations (camt.056): a payment whose answer the simulator still holds back (latency or
//! a late reply) is still cancellable on its side; with probability `cancel_held_ppm` it is
//! cancelled (camt.029 `CNCL`, and its pacs.002 is never sent). Everything else is refused
//! (`RJCR`: `AGNT` once answered, `NOOR` when never received).
//!
//! Returns (pacs.004) from the switch — a participant sending back a payment the simulator
//! delivered to it — are counted per original UETR and answered with a pacs.002: `ACSC` for the
//! first return of a UETR, `RJCT DUPL` for any later one (the clearing house dedups returns).
//! The drop and lose rates apply to them too (answer never sent; return never recorded), and a
//! pacs.028 whose `OrgnlMsgNmId` names a pacs.004 is answered from that record: `ACSC` when a
//! return of the UETR was received, else `RJCT NOTFOUND`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use compact_str::format_compact;
use futures::StreamExt;
use rand::Rng;
use rustls::ServerConfig;
use switchyard_iso20022::{
    read_pacs008, read_pacs009, read_pacs028, write_pacs002, Limits, OriginalRef, Pacs008, Pacs009,
    ReasonCode, StatusReport, Text, TxStatus, TxStatusInfo, Uetr,
};
use switchyard_wire::conn::{split, BoxStream};
use switchyard_wire::{Frame, FrameCodec, FrameKind};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// Fault injection and limits. Rates are parts per million: integers, so runs are reproducible
/// from config and no float enters the decision.
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Fixed answer latency (the floor of the latency distribution).
    pub latency: Duration,
    /// Mean of an exponential tail added to `latency` (zero: no tail): answer latency is
    /// `latency + Exp(mean)`, capped at `latency_max`.
    pub latency_tail_mean: Duration,
    /// Cap on the answer latency (fixed plus tail).
    pub latency_max: Duration,
    /// Probability (ppm) that an answer is sent twice (a duplicate reply).
    pub duplicate_ppm: u32,
    /// Probability (ppm) that an answer is held back by `late_by` (set it above the switch's
    /// clearing timeout: the switch has already asked by pacs.028 when it arrives).
    pub late_ppm: u32,
    /// How long a late answer is held back.
    pub late_by: Duration,
    /// Probability (ppm) that the simulator records a submission and then dies before
    /// answering: the connection is cut at once (crash after commit). The switch must learn
    /// the outcome by status inquiry after it reconnects.
    pub crash_ppm: u32,
    /// Probability (ppm) that a new submission is rejected.
    pub reject_ppm: u32,
    /// Probability (ppm) that a submission (or a return, pacs.004) is processed but its answer
    /// is never sent (the switch must learn the outcome by status inquiry).
    pub drop_ppm: u32,
    /// Probability (ppm) that a submission (or a return) is lost before the clearing house
    /// records it (a status inquiry answers "not found" and the switch may safely send again).
    pub lose_ppm: u32,
    /// Probability (ppm) that a cancellation request (camt.056) for a payment whose answer is
    /// still held back (latency, late reply) is accepted: camt.029 `CNCL`, and the held
    /// pacs.002 is never sent. Answered payments are always refused (`RJCR AGNT`).
    pub cancel_held_ppm: u32,
    /// Reason code of injected rejections.
    pub reject_reason: ReasonCode,
    pub max_frame_bytes: usize,
    pub max_connections: usize,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            latency: Duration::ZERO,
            latency_tail_mean: Duration::ZERO,
            latency_max: Duration::from_secs(60),
            duplicate_ppm: 0,
            late_ppm: 0,
            late_by: Duration::from_secs(5),
            crash_ppm: 0,
            reject_ppm: 0,
            drop_ppm: 0,
            lose_ppm: 0,
            cancel_held_ppm: 0,
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
    /// Its answer is scheduled but not yet written (latency injection): still cancellable.
    held: bool,
    /// Cancelled by a camt.056 while held: its answer is never sent.
    cancelled: bool,
    status: TxStatus,
    /// `pacs.008.001.08` or `pacs.009.001.08`: the original message name echoed in answers.
    msg_name: &'static str,
    msg_id: Text,
    instr_id: Option<Text>,
    end_to_end_id: Text,
    tx_id: Option<Text>,
    uetr: Option<Uetr>,
    leg: LegSeen,
    /// The settlement amount as it arrived (minor units) and its currency: the clearing house's
    /// own figure for the crash campaign's balance check.
    amount_minor: i64,
    currency: String,
}

/// What the first submission of a payment looked like on the simulator's socket: the scheme
/// leg as the switch wrote it (tests check the transformer ran on the real path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegSeen {
    /// `SttlmInf/SttlmMtd`.
    pub settlement_method: Text,
    /// `SttlmInf/ClrSys/Cd` or `/Prtry`.
    pub clearing_system: Option<Text>,
    /// Whether a head.001 AppHdr came with it.
    pub app_hdr: bool,
    /// The leg's `InstgAgt` BIC.
    pub instructing: Option<Text>,
    /// pacs.008: the creditor account (`CdtrAcct/Id/Othr/Id`, else the IBAN).
    pub creditor_account: Option<Text>,
    /// pacs.008: the creditor agent's BIC.
    pub creditor_agent: Option<Text>,
    /// Whether the submission carried a creditor proxy (`CdtrAcct/Prxy`).
    pub proxy: bool,
}

/// A `Recorded` from a pacs.008 or a pacs.009: distinct types whose fields carry the same
/// names, read the same way.
macro_rules! recorded {
    ($msg:expr, $status:expr, $name:literal, $clearing_system:expr) => {{
        let msg = $msg;
        let tx = msg.txs.first();
        Recorded {
            submissions: 0,
            held: false,
            cancelled: false,
            status: $status,
            msg_name: $name,
            msg_id: msg.msg_id.clone(),
            instr_id: tx.and_then(|t| t.instr_id.clone()),
            end_to_end_id: tx.map(|t| t.end_to_end_id.clone()).unwrap_or_default(),
            tx_id: tx.and_then(|t| t.tx_id.clone()),
            uetr: tx.and_then(|t| t.uetr.clone()),
            leg: LegSeen {
                settlement_method: msg.sttlm_mtd.clone(),
                clearing_system: $clearing_system,
                app_hdr: msg.app_hdr.is_some(),
                instructing: tx.and_then(|t| t.instg_agt.as_ref()).map(|b| b.as_str().into()),
                creditor_account: None,
                creditor_agent: tx.and_then(|t| t.cdtr_agt.as_ref()).map(|b| b.as_str().into()),
                proxy: false,
            },
            amount_minor: tx.map_or(0, |t| t.amount.minor_units),
            currency: tx.map(|t| t.amount.currency.as_str().to_owned()).unwrap_or_default(),
        }
    }};
}

impl Recorded {
    fn of_009(msg: &Pacs009, status: TxStatus) -> Self {
        recorded!(msg, status, "pacs.009.001.08", msg.clr_sys.clone())
    }

    fn of(msg: &Pacs008, status: TxStatus) -> Self {
        let mut recorded = recorded!(
            msg,
            status,
            "pacs.008.001.08",
            msg.clr_sys.clone().or_else(|| msg.clr_sys_prtry.clone())
        );
        recorded.leg.creditor_account =
            msg.txs.first().and_then(|t| t.cdtr_acct_othr.clone().or_else(|| t.cdtr_iban.clone()));
        recorded
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
    /// Answers sent twice.
    pub duplicated: AtomicU64,
    /// Answers held back by `late_by`.
    pub late: AtomicU64,
    /// Submissions recorded and then never answered because the simulator "died".
    pub crashed: AtomicU64,
    /// pacs.009 submissions received.
    pub received_009: AtomicU64,
    /// Sessions signed on since start.
    pub sign_ons: AtomicU64,
    /// Cancellation requests (camt.056) answered (camt.029).
    pub cancellations: AtomicU64,
    /// Of those, the payments cancelled (CNCL: the answer was still held back).
    pub cancelled: AtomicU64,
    /// Statuses (pacs.002) the switch sent for payments the simulator originated (inbound).
    pub inbound_answers: AtomicU64,
    /// Returns (pacs.004) the simulator originated.
    pub returns: AtomicU64,
    /// Returns (pacs.004) the switch sent (participants returning inbound payments).
    pub returns_received: AtomicU64,
    /// Those returns per original UETR.
    returns_by_uetr: Mutex<HashMap<String, u32>>,
    /// Writers of the open connections, for messages the simulator originates (returns).
    writers: Mutex<Vec<mpsc::Sender<Frame>>>,
    /// Statuses (pacs.002) the switch sent for payments the simulator originated, by UETR.
    inbound_statuses: Mutex<HashMap<String, (TxStatus, Option<String>)>>,
    /// The UETRs of the submissions counted in `crashed` (the first [`MAX_CRASHED_LISTED`]).
    crashed_uetrs: Mutex<Vec<String>>,
}

/// How many crash-after-commit UETRs [`SimStats::crashed_uetrs`] lists.
pub const MAX_CRASHED_LISTED: usize = 10_000;

impl SimStats {
    /// The status the switch relayed for a payment the simulator sent (inbound), if any: the
    /// code and the reason code.
    #[must_use]
    pub fn inbound_status(&self, uetr: &str) -> Option<(TxStatus, Option<String>)> {
        self.inbound_statuses.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(uetr).cloned()
    }

    /// The UETRs whose submission was recorded and then left unanswered by a simulated crash
    /// (`crash_ppm`), in order, at most [`MAX_CRASHED_LISTED`].
    #[must_use]
    pub fn crashed_uetrs(&self) -> Vec<String> {
        self.crashed_uetrs.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone()
    }

    /// How many returns (pacs.004) the switch sent for this original UETR.
    #[must_use]
    pub fn returns_received_of(&self, uetr: &str) -> u32 {
        self.returns_by_uetr
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .get(uetr)
            .copied()
            .unwrap_or(0)
    }

    fn record_inbound_status(&self, limits: &Limits, frame: &Frame) {
        self.inbound_answers.fetch_add(1, Ordering::Relaxed);
        let Ok(report) = switchyard_iso20022::read_pacs002(&frame.payload, limits) else {
            self.unreadable.fetch_add(1, Ordering::Relaxed);
            return;
        };
        for tx in &report.txs {
            if let Some(uetr) = &tx.orgnl_uetr {
                let reason = tx.reason.map(|r| r.as_str().to_owned());
                self.inbound_statuses
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .insert(uetr.as_str().to_owned(), (tx.tx_sts, reason));
            }
        }
    }
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

    /// The leg of a payment's first submission, as received.
    #[must_use]
    pub fn leg_of(&self, uetr: &str) -> Option<LegSeen> {
        self.lock().get(uetr).map(|r| r.leg.clone())
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

    /// Returns a payment the simulator settled (pacs.004 with reason `reason`, e.g. `AC04`),
    /// as a clearing house does when the creditor's bank sends the funds back. Sent on the first
    /// open connection. Errors: the UETR was never settled here, or no connection is open.
    pub async fn send_return(
        &self,
        uetr: &str,
        amount: switchyard_iso20022::Money,
        reason: &str,
    ) -> Result<(), String> {
        let recorded =
            self.stats.lock().get(uetr).cloned().ok_or_else(|| format!("{uetr} was never received"))?;
        if recorded.status != TxStatus::ACSC {
            return Err(format!("{uetr} was not settled"));
        }
        let n = self.stats.returns.fetch_add(1, Ordering::Relaxed) + 1;
        let ret = switchyard_iso20022::Pacs004 {
            app_hdr: None,
            msg_id: format_compact!("SIM-RTR-{n}"),
            cre_dt_tm: now().into(),
            nb_of_txs: 1,
            ttl_rtrd_intr_bk_sttlm_amt: None,
            intr_bk_sttlm_dt: Some(now()[..10].into()),
            sttlm_mtd: "CLRG".into(),
            clr_sys: None,
            txs: vec![switchyard_iso20022::ReturnTx {
                rtr_id: Some(format_compact!("SIM-RTR-{n}")),
                original: switchyard_iso20022::OriginalRef {
                    orgnl_msg_id: Some(recorded.msg_id.clone()),
                    orgnl_msg_nm_id: Some("pacs.008.001.08".into()),
                    orgnl_instr_id: recorded.instr_id.clone(),
                    orgnl_end_to_end_id: Some(recorded.end_to_end_id.clone()),
                    orgnl_tx_id: recorded.tx_id.clone(),
                    orgnl_uetr: recorded.uetr.clone(),
                    ..Default::default()
                },
                orgnl_intr_bk_sttlm_amt: None,
                amount,
                intr_bk_sttlm_dt: None,
                chrg_br: None,
                instg_agt: None,
                instg_agt_mmb: None,
                instd_agt: None,
                instd_agt_mmb: None,
                reason: switchyard_iso20022::Reason { cd: Some(reason.into()), prtry: None, addtl_inf: None },
            }],
        };
        let payload = Bytes::from(switchyard_iso20022::write_pacs004(&ret));
        let writers: Vec<_> = {
            let mut writers = self.stats.writers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            writers.retain(|w| !w.is_closed());
            writers.clone()
        };
        for writer in writers {
            if writer.send(Frame::new(FrameKind::Deliver, 0, payload.clone())).await.is_ok() {
                return Ok(());
            }
        }
        Err("no open connection".to_owned())
    }

    /// Sends a payment (pacs.008) to the switch, as a clearing house does for a payment to one of
    /// the switch's participants; the switch's pacs.002 is recorded (see
    /// [`SimStats::inbound_status`]). Sent on the first open connection.
    pub async fn send_payment(&self, pacs008: Vec<u8>) -> Result<(), String> {
        let writers: Vec<_> = {
            let mut writers = self.stats.writers.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            writers.retain(|w| !w.is_closed());
            writers.clone()
        };
        let correlation = 1 << 40 | self.stats.returns.load(Ordering::Relaxed);
        let payload = Bytes::from(pacs008);
        for writer in writers {
            if writer.send(Frame::new(FrameKind::Deliver, correlation, payload.clone())).await.is_ok() {
                return Ok(());
            }
        }
        Err("no open connection".to_owned())
    }

    /// Stops accepting and closes every connection.
    pub async fn stop(self) {
        self.shutdown.cancel();
        let _ = self.task.await;
    }
}

/// Binds `addr` (TLS 1.3 over TCP) and serves until stopped.
pub async fn start(
    addr: SocketAddr,
    tls: Arc<ServerConfig>,
    config: SimConfig,
) -> std::io::Result<SimHandle> {
    let listener = TcpListener::bind(addr).await?;
    let addr = listener.local_addr()?;
    Ok(launch(addr, config, |config, stats, shutdown, connections| {
        accept_loop(SimListen::Tls(listener, tls), config, stats, shutdown, connections)
    }))
}

/// Binds `addr` (QUIC, same TLS rules: TLS 1.3, client certificate required) and serves until
/// stopped.
///
/// # Errors
/// The TLS configuration does not suit QUIC, or the bind fails.
pub fn start_quic(
    addr: SocketAddr,
    tls: Arc<ServerConfig>,
    config: SimConfig,
) -> Result<SimHandle, switchyard_wire::quic::QuicError> {
    let endpoint =
        switchyard_wire::quic::server_endpoint_from(addr, tls, switchyard_wire::quic::QuicLimits::default())?;
    let addr =
        endpoint.local_addr().map_err(|source| switchyard_wire::quic::QuicError::Bind { addr, source })?;
    Ok(launch(addr, config, |config, stats, shutdown, connections| {
        accept_loop(SimListen::Quic(endpoint), config, stats, shutdown, connections)
    }))
}

/// How the simulator dials a switch whose clearing link is in accept mode.
#[derive(Debug, Clone)]
pub enum SimDialTransport {
    /// TLS 1.3 over TCP with the simulator's client certificate.
    Tls(Arc<rustls::ClientConfig>),
    /// QUIC from a client endpoint presenting the simulator's certificate.
    Quic(quinn::Endpoint),
}

/// Dial mode: the clearing house opens the connection (the switch's link accepts).
#[derive(Debug, Clone)]
pub struct SimDial {
    /// The switch's clearing listener.
    pub addr: SocketAddr,
    /// The name the switch's server certificate must carry.
    pub server_name: String,
    pub transport: SimDialTransport,
    /// Pause between connection attempts (after a failure or a lost connection).
    pub retry: Duration,
}

/// Starts the simulator in dial mode: it connects to `dial.addr`, signs on, and then behaves
/// exactly as when the switch dials it; it dials again whenever the connection is lost or
/// [`SimHandle::disconnect_all`] cuts it, until stopped. `SimHandle::addr` is the dialled
/// address.
pub fn start_dialing(dial: SimDial, config: SimConfig) -> SimHandle {
    let addr = dial.addr;
    launch(addr, config, |config, stats, shutdown, connections| {
        dial_loop(dial, config, stats, shutdown, connections)
    })
}

fn launch<F, Fut>(addr: SocketAddr, config: SimConfig, run: F) -> SimHandle
where
    F: FnOnce(Arc<SimConfig>, Arc<SimStats>, CancellationToken, Arc<Mutex<CancellationToken>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let stats = Arc::new(SimStats::default());
    let shutdown = CancellationToken::new();
    let connections = Arc::new(Mutex::new(shutdown.child_token()));
    let task =
        tokio::spawn(run(Arc::new(config), Arc::clone(&stats), shutdown.clone(), Arc::clone(&connections)));
    SimHandle { addr, stats, shutdown, connections, task }
}

enum SimListen {
    Tls(TcpListener, Arc<ServerConfig>),
    Quic(quinn::Endpoint),
}

async fn accept_loop(
    listen: SimListen,
    config: Arc<SimConfig>,
    stats: Arc<SimStats>,
    shutdown: CancellationToken,
    connections: Arc<Mutex<CancellationToken>>,
) {
    let slots = Arc::new(tokio::sync::Semaphore::new(config.max_connections));
    loop {
        let Ok(permit) = Arc::clone(&slots).acquire_owned().await else { return };
        let handshake: std::pin::Pin<
            Box<dyn std::future::Future<Output = Result<BoxStream, String>> + Send>,
        > = match &listen {
            SimListen::Tls(listener, tls) => {
                let accepted = tokio::select! {
                    () = shutdown.cancelled() => return,
                    accepted = listener.accept() => accepted,
                };
                let Ok((tcp, _)) = accepted else { continue };
                let tls = Arc::clone(tls);
                Box::pin(async move {
                    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
                    let stream = tokio_rustls::TlsAcceptor::from(tls)
                        .accept(tcp)
                        .await
                        .map_err(|e| format!("tls: {e}"))?;
                    Ok(Box::new(stream) as BoxStream)
                })
            }
            SimListen::Quic(endpoint) => {
                let incoming = tokio::select! {
                    () = shutdown.cancelled() => {
                        endpoint.close(0u32.into(), b"shutdown");
                        return;
                    }
                    incoming = endpoint.accept() => match incoming { Some(i) => i, None => return },
                };
                Box::pin(async move {
                    let (stream, _) =
                        switchyard_wire::quic::establish(incoming).await.map_err(|e| format!("quic: {e}"))?;
                    Ok(Box::new(stream) as BoxStream)
                })
            }
        };
        let closed = connections.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        let (config, stats) = (Arc::clone(&config), Arc::clone(&stats));
        tokio::spawn(async move {
            tokio::select! {
                () = closed.cancelled() => {}
                result = async {
                    let stream = match tokio::time::timeout(Duration::from_secs(10), handshake).await {
                        Ok(Ok(stream)) => stream,
                        Ok(Err(e)) => {
                            // A refused certificate is the operator's problem to see.
                            tracing::warn!(error = %e, "simulator: incoming handshake failed");
                            return Ok(());
                        }
                        Err(_) => {
                            tracing::warn!("simulator: incoming handshake timed out");
                            return Ok(());
                        }
                    };
                    serve(stream, config, stats, false).await
                } => if let Err(e) = result {
                    tracing::debug!(error = %e, "simulator connection ended");
                },
            }
            drop(permit);
        });
    }
}

async fn dial_loop(
    dial: SimDial,
    config: Arc<SimConfig>,
    stats: Arc<SimStats>,
    shutdown: CancellationToken,
    connections: Arc<Mutex<CancellationToken>>,
) {
    // The last connection failure, warned once (not at every retry) until the next success.
    let mut failing: Option<String> = None;
    loop {
        let closed = connections.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clone();
        let session = async {
            let stream = tokio::time::timeout(Duration::from_secs(10), dial_once(&dial))
                .await
                .map_err(|_| "connect timed out".to_owned())
                .and_then(|r| r);
            match stream {
                Ok(stream) => Ok(serve(stream, Arc::clone(&config), Arc::clone(&stats), true).await),
                Err(e) => Err(e),
            }
        };
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = closed.cancelled() => {}
            result = session => match result {
                Ok(ended) => {
                    failing = None;
                    if let Err(e) = ended {
                        tracing::debug!(addr = %dial.addr, error = %e, "simulator dial-out session ended");
                    }
                }
                Err(e) => {
                    if failing.as_deref() != Some(e.as_str()) {
                        tracing::warn!(addr = %dial.addr, error = %e, "simulator: cannot connect (retrying)");
                    }
                    failing = Some(e);
                }
            },
        }
        tokio::select! {
            () = shutdown.cancelled() => return,
            () = tokio::time::sleep(dial.retry) => {}
        }
    }
}

async fn dial_once(dial: &SimDial) -> Result<BoxStream, String> {
    match &dial.transport {
        SimDialTransport::Tls(tls) => {
            let tcp =
                TcpStream::connect(dial.addr).await.map_err(|e| format!("connect {}: {e}", dial.addr))?;
            tcp.set_nodelay(true).map_err(|e| e.to_string())?;
            let name = rustls::pki_types::ServerName::try_from(dial.server_name.clone())
                .map_err(|e| format!("server name {:?}: {e}", dial.server_name))?;
            let stream = tokio_rustls::TlsConnector::from(Arc::clone(tls))
                .connect(name, tcp)
                .await
                .map_err(|e| format!("tls: {e}"))?;
            Ok(Box::new(stream))
        }
        SimDialTransport::Quic(endpoint) => {
            let stream = switchyard_wire::quic::connect(endpoint, dial.addr, &dial.server_name)
                .await
                .map_err(|e| format!("quic: {e}"))?;
            Ok(Box::new(stream))
        }
    }
}

/// Serves one connection. `dialled`: the simulator opened it, so it signs on first.
async fn serve(
    stream: BoxStream,
    config: Arc<SimConfig>,
    stats: Arc<SimStats>,
    dialled: bool,
) -> Result<(), String> {
    let (mut reader, tx, writer) = split(stream, FrameCodec::new(config.max_frame_bytes), 4096);
    // When this connection ends (or is cut), its writer goes too: answers not yet written are
    // lost with the connection, as on a real network.
    let _writer = tokio_util::task::AbortOnDropHandle::new(writer);
    if dialled {
        send(&tx, Frame::control(FrameKind::SignOn, 0, &[("protocol", "1"), ("clearing", "sim")])).await;
        match tokio::time::timeout(Duration::from_secs(10), reader.next()).await {
            Ok(Some(Ok(f))) if f.kind == FrameKind::SignOnOk => {
                stats.sign_ons.fetch_add(1, Ordering::Relaxed);
            }
            Ok(Some(Ok(f))) => return Err(format!("sign-on answered with {:?}", f.kind)),
            Ok(Some(Err(e))) => return Err(format!("sign-on: {e}")),
            Ok(None) => return Err("closed during sign-on".to_owned()),
            Err(_) => return Err("sign-on timed out".to_owned()),
        }
    }
    stats.writers.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(tx.clone());
    let limits = Limits::default();
    let mut next_msg = 0u64;
    while let Some(frame) = reader.next().await {
        let frame = frame.map_err(|e| e.to_string())?;
        match frame.kind {
            FrameKind::SignOn => {
                stats.sign_ons.fetch_add(1, Ordering::Relaxed);
                send(
                    &tx,
                    Frame::control(
                        FrameKind::SignOnOk,
                        frame.correlation,
                        &[("session", "sim"), ("credit_window", "4096")],
                    ),
                )
                .await;
            }
            FrameKind::Heartbeat => {
                send(&tx, Frame::new(FrameKind::HeartbeatAck, frame.correlation, Bytes::new())).await;
            }
            FrameKind::SignOff => {
                send(&tx, Frame::new(FrameKind::SignOffOk, frame.correlation, Bytes::new())).await;
                return Ok(());
            }
            // The switch's answer to a payment the simulator sent (inbound to a participant).
            FrameKind::Status => stats.record_inbound_status(&limits, &frame),
            FrameKind::Submit => {
                next_msg += 1;
                match decide(&config, &stats, &limits, &frame, next_msg) {
                    Answer::None => {}
                    Answer::Crash => return Err("crash after commit (injected)".to_owned()),
                    Answer::Send { delay, frame, twice, held } => {
                        if twice {
                            reply(&tx, delay, frame.clone(), None, &stats).await;
                        }
                        reply(&tx, delay, frame, held, &stats).await;
                    }
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
/// drop), or after `delay` from a task of its own so later submissions are not held up. A held
/// answer (`held`: the payment's UETR) is not sent if a camt.056 cancelled the payment meanwhile.
async fn reply(
    tx: &mpsc::Sender<Frame>,
    delay: Duration,
    frame: Frame,
    held: Option<String>,
    stats: &Arc<SimStats>,
) {
    if delay.is_zero() {
        let _ = tx.send(frame).await;
        return;
    }
    let tx = tx.clone();
    let stats = Arc::clone(stats);
    tokio::spawn(async move {
        tokio::time::sleep(delay).await;
        if let Some(uetr) = held {
            if !stats.release_held(&uetr) {
                return; // cancelled while held
            }
        }
        let _ = tx.send(frame).await;
    });
}

impl SimStats {
    /// The held answer of `uetr` is due: `false` when the payment was cancelled meanwhile (the
    /// answer is not sent); otherwise it is no longer cancellable.
    fn release_held(&self, uetr: &str) -> bool {
        let mut seen = self.lock();
        match seen.get_mut(uetr) {
            Some(r) if r.cancelled => false,
            Some(r) => {
                r.held = false;
                true
            }
            None => true,
        }
    }

    /// A camt.056 for `uetr`: cancels the payment when its answer is still held and `accept`;
    /// returns the status the simulator then has for it (`CANC` when cancelled now or before).
    fn cancel_if_held(&self, uetr: &str, accept: bool) -> Option<TxStatus> {
        let mut seen = self.lock();
        let r = seen.get_mut(uetr)?;
        if r.held && accept && !r.cancelled {
            r.cancelled = true;
            r.held = false;
            let counter = if r.status == TxStatus::RJCT { &self.rejected } else { &self.settled };
            counter.fetch_sub(1, Ordering::Relaxed);
            self.cancelled.fetch_add(1, Ordering::Relaxed);
            r.status = TxStatus::CANC;
        }
        Some(r.status)
    }
}

/// The proprietary reason on the answer to an inquiry about an unknown payment
/// (docs/PROTOCOL.md; the switch's link actor matches it).
pub const NOT_FOUND_REASON: &str = "NOTFOUND";

/// What the simulator does with one submission.
enum Answer {
    /// No answer (dropped, lost, or nothing to attribute it to).
    None,
    /// Recorded, then the simulator dies: the connection is cut without an answer.
    Crash,
    /// Answer after `delay`; `twice`: a duplicate reply follows; `held`: the UETR whose first
    /// answer this is, held back (still cancellable until sent).
    Send { delay: Duration, frame: Frame, twice: bool, held: Option<String> },
}

/// Draws `true` with probability `ppm` parts per million.
fn chance(rng: &mut impl Rng, ppm: u32) -> bool {
    ppm > 0 && rng.gen_range(0..1_000_000) < ppm
}

/// Answer latency: the fixed part plus an exponential tail, capped.
fn latency(config: &SimConfig, rng: &mut impl Rng) -> Duration {
    if config.latency_tail_mean.is_zero() {
        return config.latency.min(config.latency_max);
    }
    // Inverse transform sampling: -mean * ln(U), U in (0, 1]. Timing only; no money here.
    let u: f64 = 1.0 - rng.gen::<f64>();
    let tail = config.latency_tail_mean.mul_f64(-u.ln());
    (config.latency + tail).min(config.latency_max)
}

/// Whether `needle` occurs in `hay` (memchr's SIMD search; `windows().any()`, which compared
/// every position, made these scans most of `decide`'s own time: the simulator's CPU per
/// payment fell 4 % with this, bench/RESULTS.md §0).
fn contains(hay: &[u8], needle: &[u8]) -> bool {
    memchr::memmem::find(hay, needle).is_some()
}

/// Records a submission (pacs.008 or pacs.009) or answers an inquiry (pacs.028).
fn decide(config: &SimConfig, stats: &SimStats, limits: &Limits, frame: &Frame, n: u64) -> Answer {
    let head = &frame.payload[..frame.payload.len().min(1024)];
    if contains(head, b"pacs.028") {
        return inquiry(stats, limits, frame, n).map_or(Answer::None, |(delay, frame)| Answer::Send {
            delay,
            frame,
            twice: false,
            held: None,
        });
    }
    if contains(head, b"pacs.004") {
        let mut rng = rand::thread_rng();
        if chance(&mut rng, config.lose_ppm) {
            stats.lost.fetch_add(1, Ordering::Relaxed);
            return Answer::None;
        }
        let answer = payment_return(stats, limits, frame, n);
        if chance(&mut rng, config.drop_ppm) {
            stats.dropped.fetch_add(1, Ordering::Relaxed);
            return Answer::None;
        }
        return send_now(answer);
    }
    if contains(head, b"camt.056") {
        let accept = chance(&mut rand::thread_rng(), config.cancel_held_ppm);
        return cancellation(stats, limits, frame, n, accept)
            .map_or(Answer::None, |(delay, frame)| Answer::Send { delay, frame, twice: false, held: None });
    }
    stats.received.fetch_add(1, Ordering::Relaxed);
    let mut rng = rand::thread_rng();
    let rejected = chance(&mut rng, config.reject_ppm);
    let verdict = if rejected { TxStatus::RJCT } else { TxStatus::ACSC };
    // By the Document's namespace: a pacs.009 forwarded unchanged may carry an AppHdr longer
    // than `head`.
    let family = switchyard_actors::actor::message_family(&frame.payload);
    let (uetr, fresh) = if family == Some("pacs.009") || contains(head, b"pacs.009") {
        stats.received_009.fetch_add(1, Ordering::Relaxed);
        match read_pacs009(&frame.payload, limits) {
            Ok(msg) => {
                (first_uetr(msg.txs.first().and_then(|t| t.uetr.as_ref())), Recorded::of_009(&msg, verdict))
            }
            Err(e) => return send_now(unreadable(stats, frame, &e)),
        }
    } else {
        match read_pacs008(&frame.payload, limits) {
            Ok(msg) => {
                let mut recorded = Recorded::of(&msg, verdict);
                recorded.leg.proxy = contains(&frame.payload, b"<Prxy>");
                (first_uetr(msg.txs.first().and_then(|t| t.uetr.as_ref())), recorded)
            }
            Err(e) => return send_now(unreadable(stats, frame, &e)),
        }
    };
    if chance(&mut rng, config.lose_ppm) {
        stats.lost.fetch_add(1, Ordering::Relaxed);
        return Answer::None;
    }
    let status = {
        let mut seen = stats.lock();
        let entry = seen.entry(uetr.clone()).or_insert(fresh);
        entry.submissions += 1;
        entry.clone()
    };
    if chance(&mut rng, config.crash_ppm) {
        stats.crashed.fetch_add(1, Ordering::Relaxed);
        let mut listed = stats.crashed_uetrs.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if listed.len() < MAX_CRASHED_LISTED {
            listed.push(uetr.clone());
        }
        drop(listed);
        return Answer::Crash;
    }
    if chance(&mut rng, config.drop_ppm) {
        stats.dropped.fetch_add(1, Ordering::Relaxed);
        return Answer::None;
    }
    let counter = if status.status == TxStatus::RJCT { &stats.rejected } else { &stats.settled };
    counter.fetch_add(1, Ordering::Relaxed);
    let mut delay = latency(config, &mut rng);
    if chance(&mut rng, config.late_ppm) {
        stats.late.fetch_add(1, Ordering::Relaxed);
        delay += config.late_by;
    }
    let twice = chance(&mut rng, config.duplicate_ppm);
    if twice {
        stats.duplicated.fetch_add(1, Ordering::Relaxed);
    }
    let frame =
        Frame::new(FrameKind::Status, frame.correlation, status_report(&status, config.reject_reason, n));
    // The first answer of a payment, held back: cancellable until it is sent.
    let held = (!delay.is_zero() && status.submissions == 1 && !uetr.is_empty()).then(|| {
        if let Some(r) = stats.lock().get_mut(&uetr) {
            r.held = true;
        }
        uetr
    });
    Answer::Send { delay, frame, twice, held }
}

fn first_uetr(uetr: Option<&Uetr>) -> String {
    uetr.map_or_else(String::new, |u| u.as_str().to_owned())
}

fn send_now(frame: Frame) -> Answer {
    Answer::Send { delay: Duration::ZERO, frame, twice: false, held: None }
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
    let payload = if asked.orgnl_msg_nm_id.as_deref().is_some_and(|name| name.starts_with("pacs.004")) {
        // About a return: from the record of returns (the first of a UETR is settled).
        if stats.returns_received_of(uetr.as_str()) > 0 {
            answer_about(asked, uetr, TxStatus::ACSC, None, "return settled by the clearing house", n)
        } else {
            stats.not_found.fetch_add(1, Ordering::Relaxed);
            answer_about(
                asked,
                uetr,
                TxStatus::RJCT,
                Some(NOT_FOUND_REASON),
                "no return of this UETR was received",
                n,
            )
        }
    } else {
        match stats.lock().get(uetr.as_str()).cloned() {
            Some(recorded) => status_report(&recorded, ReasonCode::AM02, n),
            None => {
                stats.not_found.fetch_add(1, Ordering::Relaxed);
                let detail = "no payment with this UETR was received";
                answer_about(asked, uetr, TxStatus::RJCT, Some(NOT_FOUND_REASON), detail, n)
            }
        }
    };
    Some((Duration::ZERO, Frame::new(FrameKind::Status, frame.correlation, payload)))
}

/// A pacs.002 answering a pacs.028 about `asked` with `status` (and a proprietary reason),
/// naming the message as the request did (pacs.008, or the pacs.004 of a return, by default).
fn answer_about(
    asked: &OriginalRef,
    uetr: &Uetr,
    status: TxStatus,
    reason_prtry: Option<&str>,
    detail: &str,
    n: u64,
) -> Vec<u8> {
    let report = StatusReport {
        msg_id: format_compact!("SIM-{n}"),
        cre_dt_tm: now().into(),
        orgnl_msg_id: asked.orgnl_msg_id.clone().unwrap_or_else(|| "NOTPROVIDED".into()),
        orgnl_msg_nm_id: asked.orgnl_msg_nm_id.clone().unwrap_or_else(|| "pacs.008.001.08".into()),
        txs: vec![TxStatusInfo {
            orgnl_end_to_end_id: asked.orgnl_end_to_end_id.clone(),
            orgnl_uetr: Some(uetr.clone()),
            reason_prtry: reason_prtry.map(Into::into),
            addtl_inf: Some(detail.into()),
            ..TxStatusInfo::new(status)
        }],
        ..StatusReport::default()
    };
    write_pacs002(&report)
}

/// Answers a camt.056 with a camt.029 from the simulator's own record: `CNCL` when the payment's
/// answer is still held back and `accept` (drawn from `cancel_held_ppm`); otherwise RJCR with
/// `AGNT` for a payment it has answered (settled or rejected) and `NOOR` for one it never
/// received.
fn cancellation(
    stats: &SimStats,
    limits: &Limits,
    frame: &Frame,
    n: u64,
    accept: bool,
) -> Option<(Duration, Frame)> {
    let request = match switchyard_iso20022::read_camt056(&frame.payload, limits) {
        Ok(r) => r,
        Err(e) => return Some((Duration::ZERO, unreadable(stats, frame, &e))),
    };
    stats.cancellations.fetch_add(1, Ordering::Relaxed);
    let mut asked = request.txs.first()?.original.clone();
    let known = asked.orgnl_uetr.as_ref().and_then(|u| stats.cancel_if_held(u.as_str(), accept));
    // The answer names the payment as received (a pacs.009 stays a pacs.009), whatever the
    // request said.
    if let Some(name) =
        asked.orgnl_uetr.as_ref().and_then(|u| stats.lock().get(u.as_str()).map(|r| r.msg_name))
    {
        asked.orgnl_msg_nm_id = Some(name.into());
    }
    let (conf, tx_conf, reason, detail) = match known {
        Some(TxStatus::CANC) => ("CNCL", "ACCR", None, "cancelled by the clearing house before settlement"),
        Some(TxStatus::RJCT) => ("RJCR", "RJCR", Some("AGNT"), "already rejected by the clearing house"),
        Some(_) => ("RJCR", "RJCR", Some("AGNT"), "already settled by the clearing house"),
        None => ("RJCR", "RJCR", Some("NOOR"), "no payment with this UETR was received"),
    };
    let answer = switchyard_iso20022::Camt029 {
        app_hdr: None,
        assignment: switchyard_iso20022::Assignment {
            id: format_compact!("SIM-{n}"),
            assgnr: switchyard_iso20022::PartyRef { name: Some("CLEARING-SIM".into()), ..Default::default() },
            assgne: request.assignment.assgnr.clone(),
            cre_dt_tm: now().into(),
        },
        sts_conf: Some(conf.into()),
        sts_assgnmt_cxl_conf: None,
        sts_rjctd_mod: Vec::new(),
        sts_dplct_of: None,
        group: None,
        txs: vec![switchyard_iso20022::CancellationStatusTx {
            cxl_sts_id: None,
            original: asked,
            tx_cxl_sts: Some(tx_conf.into()),
            reason: switchyard_iso20022::Reason {
                cd: reason.map(Into::into),
                prtry: None,
                addtl_inf: Some(detail.into()),
            },
        }],
    };
    let payload = switchyard_iso20022::write_camt029(&answer);
    Some((Duration::ZERO, Frame::new(FrameKind::Status, frame.correlation, payload)))
}

/// Answers a pacs.004 from the switch with a pacs.002: `ACSC` for the first return of its
/// original UETR, `RJCT DUPL` for a repeated one; `RJCT FF01` without an original UETR.
fn payment_return(stats: &SimStats, limits: &Limits, frame: &Frame, n: u64) -> Frame {
    let ret = match switchyard_iso20022::read_pacs004(&frame.payload, limits) {
        Ok(r) => r,
        Err(e) => return unreadable(stats, frame, &e),
    };
    stats.returns_received.fetch_add(1, Ordering::Relaxed);
    let original = ret.txs.first().map(|t| t.original.clone()).unwrap_or_default();
    let (status, reason, detail) = match original.orgnl_uetr.as_ref() {
        None => (TxStatus::RJCT, Some(ReasonCode::FF01), "the return names no original UETR"),
        Some(uetr) => {
            let mut seen = stats.returns_by_uetr.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            let count = seen.entry(uetr.as_str().to_owned()).or_insert(0);
            *count += 1;
            if *count == 1 {
                (TxStatus::ACSC, None, "return settled by the clearing house")
            } else {
                (TxStatus::RJCT, Some(ReasonCode::DUPL), "this payment has already been returned")
            }
        }
    };
    let report = StatusReport {
        msg_id: format_compact!("SIM-{n}"),
        cre_dt_tm: now().into(),
        orgnl_msg_id: ret.msg_id.clone(),
        orgnl_msg_nm_id: "pacs.004.001.09".into(),
        txs: vec![TxStatusInfo {
            orgnl_end_to_end_id: original.orgnl_end_to_end_id.clone(),
            orgnl_uetr: original.orgnl_uetr.clone(),
            reason,
            addtl_inf: Some(detail.into()),
            ..TxStatusInfo::new(status)
        }],
        ..StatusReport::default()
    };
    Frame::new(FrameKind::Status, frame.correlation, write_pacs002(&report))
}

fn now() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

fn status_report(r: &Recorded, reject_reason: ReasonCode, n: u64) -> Vec<u8> {
    let report = StatusReport {
        msg_id: format_compact!("SIM-{n}"),
        cre_dt_tm: now().into(),
        orgnl_msg_id: r.msg_id.clone(),
        orgnl_msg_nm_id: r.msg_name.into(),
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
