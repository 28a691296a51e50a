//! The participant listener: TLS 1.3 with a required client certificate; the certificate names
//! the tenant. Each signed-on connection gets a `SessionActor` supervised by its tenant.
//!
//! Limits: a connection slot (`max_connections`) is taken before `accept`; the TLS handshake
//! and sign-on have a timeout; a session with no frame for `idle_timeout` is closed; the reader
//! takes a credit before reading each frame, so a participant can never have more than
//! `credit_window` submissions queued inside the switch.
//!
//! Live limits ([`LiveLimits`], swapped by a reload): a new connection reads the limits in force
//! when it is accepted (handshake timeout, frame size, credit window at sign-on); a signed-on
//! session reads the frame timeout and the idle timeout before each frame (the idle timeout
//! never below the one it was told at sign-on, since it heartbeats at a third of that); the
//! accept loop reads `max_connections` before each accept.
//!
//! A tenant removed by a reload: its entry leaves the directory (new connections are refused)
//! and its `closing` token signs its sessions off once its payments in flight have drained.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use ractor::{Actor, ActorRef};
use rustls::ServerConfig;
use switchyard_actors::actor::{NodeContext, SessionActor, SessionArgs, SessionMsg, TenantMsg};
use switchyard_actors::policy::TenantPolicy;
use switchyard_actors::rate::RateLimit;
use switchyard_actors::TenantId;
use switchyard_wire::conn::{next_frame_within, split, BoxStream, FrameOutbound, FrameReader};
use switchyard_wire::identity::chain_peer_name;
use switchyard_wire::quic;
use switchyard_wire::{Frame, FrameCodec, FrameKind};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Notify, Semaphore};
use tokio_util::sync::CancellationToken;

use crate::config::Limits;

/// A tenant as the listener needs it: id, actor, and what its sessions share with a reload.
#[derive(Debug, Clone)]
pub struct TenantEntry {
    pub id: TenantId,
    pub actor: ActorRef<TenantMsg>,
    /// The tenant's rate limit, shared by its sessions and updated in place by a reload.
    pub rate: Arc<RateLimit>,
    /// The tenant's BICs and retired flag, shared by its sessions and updated in place.
    pub policy: Arc<TenantPolicy>,
    /// Cancelled when a removed tenant has drained: its sessions sign off and close.
    pub closing: CancellationToken,
    /// The tenant's signed-on sessions.
    pub sessions: Arc<AtomicUsize>,
}

impl TenantEntry {
    /// A new tenant's entry.
    #[must_use]
    pub fn new(id: TenantId, actor: ActorRef<TenantMsg>, rate: RateLimit, policy: TenantPolicy) -> Self {
        Self {
            id,
            actor,
            rate: Arc::new(rate),
            policy: Arc::new(policy),
            closing: CancellationToken::new(),
            sessions: Arc::new(AtomicUsize::new(0)),
        }
    }
}

/// Counts a session in its tenant's entry while it lives.
struct SessionCount(Arc<AtomicUsize>);

impl SessionCount {
    fn new(count: &Arc<AtomicUsize>) -> Self {
        count.fetch_add(1, Ordering::AcqRel);
        Self(Arc::clone(count))
    }
}

impl Drop for SessionCount {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The listener limits in force, swapped whole by a reload (see the module header for what
/// reads them when).
#[derive(Debug)]
pub struct LiveLimits(RwLock<Arc<Limits>>);

impl LiveLimits {
    #[must_use]
    pub fn new(limits: Limits) -> Self {
        Self(RwLock::new(Arc::new(limits)))
    }

    /// The limits as they are now.
    #[must_use]
    pub fn get(&self) -> Arc<Limits> {
        Arc::clone(&self.0.read().unwrap_or_else(PoisonError::into_inner))
    }

    /// Puts `limits` in force.
    pub fn set(&self, limits: Limits) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(limits);
    }
}

/// Connection slots: at most `max_connections` (read live) connections per listener.
#[derive(Debug, Default)]
struct Slots {
    active: AtomicUsize,
    freed: Notify,
}

/// One connection's slot, given back on drop.
struct Slot(Arc<Slots>);

impl Drop for Slot {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::AcqRel);
        self.0.freed.notify_one();
    }
}

impl Slots {
    /// Waits for a free slot under the current `max_connections` (re-read at least every
    /// second, so a raised limit takes effect without a connection ending).
    async fn acquire(self: &Arc<Self>, limits: &LiveLimits) -> Slot {
        loop {
            let freed = self.freed.notified();
            let max = limits.get().max_connections;
            let active = self.active.load(Ordering::Acquire);
            if active < max
                && self
                    .active
                    .compare_exchange(active, active + 1, Ordering::AcqRel, Ordering::Acquire)
                    .is_ok()
            {
                return Slot(Arc::clone(self));
            }
            if active < max {
                continue; // lost a race with another acquire (there is none today); retry
            }
            let _ = tokio::time::timeout(Duration::from_secs(1), freed).await;
        }
    }

    /// After an accept: while more connections hold slots than `max_connections` allows now
    /// (a reload lowered it while this slot was taken), the new connection waits.
    async fn settle(&self, limits: &LiveLimits, shutdown: &CancellationToken) {
        loop {
            let freed = self.freed.notified();
            if self.active.load(Ordering::Acquire) <= limits.get().max_connections {
                return;
            }
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = tokio::time::timeout(Duration::from_secs(1), freed) => {}
            }
        }
    }
}

/// Tenants by certificate name, swapped whole by a configuration reload: a connection looks its
/// tenant up once, at sign-on; connections already signed on keep their entry, whose rate limit
/// and policy (BICs, retired) a reload updates in place.
#[derive(Debug, Default)]
pub struct TenantDirectory(std::sync::RwLock<Arc<HashMap<String, TenantEntry>>>);

impl TenantDirectory {
    #[must_use]
    pub fn new(tenants: HashMap<String, TenantEntry>) -> Self {
        Self(std::sync::RwLock::new(Arc::new(tenants)))
    }

    /// The tenant a certificate name maps to.
    #[must_use]
    pub fn get(&self, certificate_name: &str) -> Option<TenantEntry> {
        self.snapshot().get(certificate_name).cloned()
    }

    /// The whole directory as it is now.
    #[must_use]
    pub fn snapshot(&self) -> Arc<HashMap<String, TenantEntry>> {
        Arc::clone(&self.0.read().unwrap_or_else(std::sync::PoisonError::into_inner))
    }

    /// Replaces the directory (a reload).
    pub fn replace(&self, tenants: HashMap<String, TenantEntry>) {
        *self.0.write().unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(tenants);
    }
}

/// What the accept loop needs.
#[derive(Debug, Clone)]
pub struct ListenerArgs {
    pub tls: Arc<ServerConfig>,
    pub tenants: Arc<TenantDirectory>,
    pub limits: Arc<LiveLimits>,
    pub ctx: Arc<NodeContext>,
}

static SESSIONS: AtomicU64 = AtomicU64::new(1);

/// Accepts TLS connections until `shutdown`.
pub async fn serve_tls(tcp: TcpListener, args: ListenerArgs, shutdown: CancellationToken) {
    let slots = Arc::new(Slots::default());
    loop {
        let slot = tokio::select! {
            () = shutdown.cancelled() => return,
            slot = slots.acquire(&args.limits) => slot,
        };
        let accepted = tokio::select! {
            () = shutdown.cancelled() => return,
            accepted = tcp.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(pair) => pair,
            Err(e) => {
                tracing::warn!(error = %e, "accept failed");
                continue;
            }
        };
        slots.settle(&args.limits, &shutdown).await;
        let (args, shutdown) = (args.clone(), shutdown.clone());
        tokio::spawn(async move {
            let result = match tls_handshake(stream, &args).await {
                Ok((stream, name)) => session(stream, name, peer, &args, &shutdown).await,
                Err(why) => Err(why),
            };
            if let Err(why) = result {
                tracing::warn!(%peer, transport = "tls", reason = %why, "participant connection refused or ended");
                refused("tls", &why);
            }
            drop(slot);
        });
    }
}

/// Accepts QUIC connections until `shutdown`; each handshake runs in its own task.
pub async fn serve_quic(endpoint: quinn::Endpoint, args: ListenerArgs, shutdown: CancellationToken) {
    let slots = Arc::new(Slots::default());
    loop {
        let slot = tokio::select! {
            () = shutdown.cancelled() => break,
            slot = slots.acquire(&args.limits) => slot,
        };
        let incoming = tokio::select! {
            () = shutdown.cancelled() => break,
            incoming = endpoint.accept() => match incoming { Some(i) => i, None => break },
        };
        slots.settle(&args.limits, &shutdown).await;
        let peer = incoming.remote_address();
        let (args, shutdown) = (args.clone(), shutdown.clone());
        tokio::spawn(async move {
            let handshake_timeout = args.limits.get().handshake_timeout;
            let established = tokio::time::timeout(handshake_timeout, quic::establish(incoming)).await;
            let result = match established {
                Err(_) => Err("QUIC handshake timed out".to_owned()),
                Ok(Err(e)) => Err(format!("QUIC handshake failed: {e}")),
                Ok(Ok((stream, name))) => {
                    let name = name.ok_or_else(|| "client certificate without a name".to_owned());
                    match name {
                        Ok(name) => session(Box::new(stream), name, peer, &args, &shutdown).await,
                        Err(e) => Err(e),
                    }
                }
            };
            if let Err(why) = result {
                tracing::warn!(%peer, transport = "quic", reason = %why, "participant connection refused or ended");
                refused("quic", &why);
            }
            drop(slot);
        });
    }
    endpoint.close(0u32.into(), b"shutdown");
}

/// Counts a refused or failed connection by transport and a coarse reason (the log line has the
/// detail): `handshake` (TLS/QUIC, certificate, version), `identity` (no tenant), `slow_sender`
/// (a frame started and not completed within `limits.frame_timeout_ms`), `protocol`.
fn refused(transport: &'static str, why: &str) {
    let reason = if why.contains("handshake") || why.contains("certificate without a name") {
        "handshake"
    } else if why.contains("not mapped to a tenant") {
        "identity"
    } else if why.contains("slow sender") {
        "slow_sender"
    } else {
        "protocol"
    };
    metrics::counter!("switchyard_connections_refused_total", "transport" => transport, "reason" => reason)
        .increment(1);
}

async fn tls_handshake(tcp: TcpStream, args: &ListenerArgs) -> Result<(BoxStream, String), String> {
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(&args.tls));
    let tls = tokio::time::timeout(args.limits.get().handshake_timeout, acceptor.accept(tcp))
        .await
        .map_err(|_| "TLS handshake timed out".to_owned())?
        .map_err(|e| format!("TLS handshake failed: {e}"))?;
    let name =
        chain_peer_name(tls.get_ref().1.peer_certificates()).ok_or("client certificate without a name")?;
    Ok((Box::new(tls), name))
}

/// One participant session on any transport, after the handshake named the peer.
async fn session(
    stream: BoxStream,
    name: String,
    peer: SocketAddr,
    args: &ListenerArgs,
    shutdown: &CancellationToken,
) -> Result<(), String> {
    // The limits in force when the connection arrived hold for its sign-on and frame size.
    let limits = args.limits.get();
    let window = limits.credit_window;
    let (mut reader, tx, writer) = split(stream, FrameCodec::new(limits.max_frame_bytes), 2 * window + 64);
    let Some(TenantEntry { id: tenant, actor: tenant_ref, rate, policy, closing, sessions }) =
        args.tenants.get(&name)
    else {
        let detail = format!("certificate {name} is not mapped to a tenant");
        let _ = tx.send(Frame::control(FrameKind::Error, 0, &[("code", "AG01"), ("detail", &detail)])).await;
        return Err(detail);
    };
    if policy.is_retired() {
        let detail = format!("tenant {tenant} is being removed from this node");
        let _ = tx.send(Frame::control(FrameKind::Error, 0, &[("code", "AG01"), ("detail", &detail)])).await;
        return Err(detail);
    }
    let _counted = SessionCount::new(&sessions);
    let session = sign_on(&mut reader, &tx, &limits).await?;
    tracing::info!(%peer, %tenant, session, "participant signed on");
    let outbound = Arc::new(FrameOutbound(tx.clone()));
    let session_args = SessionArgs {
        tenant: tenant.clone(),
        rate,
        policy,
        tenant_ref: tenant_ref.clone(),
        outbound,
        ctx: Arc::clone(&args.ctx),
    };
    let (actor, _) = Actor::spawn_linked(None, SessionActor, session_args, tenant_ref.get_cell())
        .await
        .map_err(|e| format!("session actor: {e}"))?;
    let stop = Stop { node: shutdown, tenant: &closing };
    let mailbox = switchyard_actors::metrics::mailbox("session", tenant.as_str());
    let result = read_loop(&mut reader, &tx, &actor, &mailbox, &args.limits, &limits, stop).await;
    actor.stop(None);
    drop(tx);
    // Payments still in flight hold clones of the writer's sender; their statuses can no longer
    // reach this connection (they stay durable and queryable). Give queued frames a moment.
    if tokio::time::timeout(std::time::Duration::from_secs(1), writer).await.is_err() {
        tracing::debug!(%peer, "writer still held by in-flight payments; closing");
    }
    tracing::info!(%peer, %tenant, session, "participant session ended");
    result
}

async fn sign_on(
    reader: &mut FrameReader<BoxStream>,
    tx: &mpsc::Sender<Frame>,
    limits: &Limits,
) -> Result<u64, String> {
    let window = limits.credit_window;
    // Every refusal during sign-on is told to the peer (an `Error` frame, FF02) before the
    // connection closes, as after sign-on.
    let refuse = |correlation: u64, detail: String| async move {
        let _ = tx
            .send(Frame::control(FrameKind::Error, correlation, &[("code", "FF02"), ("detail", &detail)]))
            .await;
        Err(format!("sign-on: {detail}"))
    };
    let first =
        match tokio::time::timeout(limits.handshake_timeout, next_frame_within(reader, limits.frame_timeout))
            .await
        {
            Err(_) => {
                return refuse(0, format!("no complete SignOn within {:?}", limits.handshake_timeout)).await
            }
            Ok(None) => return Err("closed before sign-on".to_owned()),
            Ok(Some(Err(e))) => return refuse(0, e.to_string()).await,
            Ok(Some(Ok(frame))) => frame,
        };
    if first.kind != FrameKind::SignOn {
        return refuse(first.correlation, format!("expected SignOn, got {:?}", first.kind)).await;
    }
    match first.control_value("protocol") {
        Some("1") => {}
        Some(other) => {
            return refuse(
                first.correlation,
                format!("unsupported protocol {other:?} (this node speaks protocol=1)"),
            )
            .await
        }
        None => return refuse(first.correlation, "SignOn must carry protocol=1".to_owned()).await,
    }
    let session = SESSIONS.fetch_add(1, Ordering::Relaxed);
    let heartbeat_ms = (limits.idle_timeout.as_millis() / 3).to_string();
    let ok = Frame::control(
        FrameKind::SignOnOk,
        first.correlation,
        &[
            ("session", &session.to_string()),
            ("credit_window", &window.to_string()),
            ("heartbeat_ms", &heartbeat_ms),
        ],
    );
    tx.send(ok).await.map_err(|_| "closed during sign-on".to_owned())?;
    Ok(session)
}

/// The node is draining: no more submissions are read; statuses of payments in flight still
/// reach the participant on this connection's writer (payments hold its sender).
async fn sign_off(tx: &mpsc::Sender<Frame>) -> Result<(), String> {
    let _ = tx.send(Frame::new(FrameKind::SignOff, 0, bytes::Bytes::new())).await;
    Ok(())
}

/// What ends a session's reading with a sign-off: the node stopping, or its tenant removed.
#[derive(Clone, Copy)]
struct Stop<'a> {
    node: &'a CancellationToken,
    tenant: &'a CancellationToken,
}

impl Stop<'_> {
    async fn cancelled(self) {
        tokio::select! {
            () = self.node.cancelled() => {}
            () = self.tenant.cancelled() => {}
        }
    }
}

async fn read_loop(
    reader: &mut FrameReader<BoxStream>,
    tx: &mpsc::Sender<Frame>,
    session: &ActorRef<SessionMsg>,
    mailbox: &metrics::Gauge,
    live: &LiveLimits,
    signed_on: &Limits,
    stop: Stop<'_>,
) -> Result<(), String> {
    let credits = Arc::new(Semaphore::new(signed_on.credit_window));
    loop {
        // Take a credit before reading: with none left, the socket is not read (backpressure).
        let credit = tokio::select! {
            () = stop.cancelled() => return sign_off(tx).await,
            credit = Arc::clone(&credits).acquire_owned() => credit.map_err(|e| e.to_string())?,
        };
        // Timeouts as reloaded; the idle cut never below the one the peer was told at sign-on.
        let now = live.get();
        let idle = now.idle_timeout.max(signed_on.idle_timeout);
        let frame = tokio::select! {
            () = stop.cancelled() => return sign_off(tx).await,
            next = tokio::time::timeout(idle, next_frame_within(reader, now.frame_timeout)) => match next {
                Err(_) => return Err(format!("idle for {idle:?}")),
                Ok(None) => return Ok(()),
                Ok(Some(Err(e))) => {
                    let detail = e.to_string();
                    let _ = tx.send(Frame::control(FrameKind::Error, 0, &[("code", "FF02"), ("detail", &detail)])).await;
                    return Err(detail);
                }
                Ok(Some(Ok(frame))) => frame,
            },
        };
        match frame.kind {
            FrameKind::Submit => {
                let msg = SessionMsg::Submit {
                    correlation: frame.correlation,
                    payload: frame.payload,
                    credit,
                    received: std::time::Instant::now(),
                };
                mailbox.increment(1.0);
                if let Err(e) = session.cast(msg) {
                    mailbox.decrement(1.0);
                    return Err(format!("session actor: {e}"));
                }
            }
            FrameKind::Heartbeat => {
                let _ = tx
                    .send(Frame::new(FrameKind::HeartbeatAck, frame.correlation, bytes::Bytes::new()))
                    .await;
            }
            FrameKind::HeartbeatAck => {}
            FrameKind::SignOff => {
                let _ =
                    tx.send(Frame::new(FrameKind::SignOffOk, frame.correlation, bytes::Bytes::new())).await;
                return Ok(());
            }
            other => {
                let detail = format!("unexpected frame kind {other:?} from a participant");
                let _ = tx
                    .send(Frame::control(
                        FrameKind::Error,
                        frame.correlation,
                        &[("code", "FF02"), ("detail", &detail)],
                    ))
                    .await;
            }
        }
    }
}
