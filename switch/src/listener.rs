//! The participant listener: TLS 1.3 with a required client certificate; the certificate names
//! the tenant. Each signed-on connection gets a `SessionActor` supervised by its tenant.
//!
//! Limits: a connection slot (semaphore, `max_connections`) is taken before `accept`; the TLS
//! handshake and sign-on have a timeout; a session with no frame for `idle_timeout` is closed;
//! the reader takes a credit before reading each frame, so a participant can never have more
//! than `credit_window` submissions queued inside the switch.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use futures::StreamExt;
use ractor::{Actor, ActorRef};
use rustls::ServerConfig;
use switchyard_actors::actor::{NodeContext, SessionActor, SessionArgs, SessionMsg, TenantMsg};
use switchyard_actors::rate::RateLimit;
use switchyard_actors::TenantId;
use switchyard_wire::conn::{split, FrameOutbound, FrameReader};
use switchyard_wire::identity::chain_peer_name;
use switchyard_wire::{Frame, FrameCodec, FrameKind};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{mpsc, Semaphore};
use tokio_rustls::server::TlsStream;
use tokio_util::sync::CancellationToken;

use crate::config::Limits;

/// A tenant as the listener needs it: id, actor, shared rate limit.
#[derive(Debug, Clone)]
pub struct TenantEntry {
    pub id: TenantId,
    pub actor: ActorRef<TenantMsg>,
    pub rate: Arc<RateLimit>,
}

/// Tenants by certificate name.
pub type TenantDirectory = HashMap<String, TenantEntry>;

/// What the accept loop needs.
#[derive(Debug, Clone)]
pub struct ListenerArgs {
    pub tls: Arc<ServerConfig>,
    pub tenants: Arc<TenantDirectory>,
    pub limits: Limits,
    pub ctx: Arc<NodeContext>,
}

static SESSIONS: AtomicU64 = AtomicU64::new(1);

/// Accepts until `shutdown`.
pub async fn serve(tcp: TcpListener, args: ListenerArgs, shutdown: CancellationToken) {
    let slots = Arc::new(Semaphore::new(args.limits.max_connections));
    loop {
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else { return };
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
        let (args, shutdown) = (args.clone(), shutdown.clone());
        tokio::spawn(async move {
            if let Err(why) = connection(stream, peer, &args, &shutdown).await {
                tracing::warn!(%peer, reason = %why, "participant connection refused or ended");
            }
            drop(slot);
        });
    }
}

async fn connection(
    tcp: TcpStream,
    peer: SocketAddr,
    args: &ListenerArgs,
    shutdown: &CancellationToken,
) -> Result<(), String> {
    tcp.set_nodelay(true).map_err(|e| e.to_string())?;
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::clone(&args.tls));
    let tls = tokio::time::timeout(args.limits.handshake_timeout, acceptor.accept(tcp))
        .await
        .map_err(|_| "TLS handshake timed out".to_owned())?
        .map_err(|e| format!("TLS handshake failed: {e}"))?;
    let name =
        chain_peer_name(tls.get_ref().1.peer_certificates()).ok_or("client certificate without a name")?;
    let window = args.limits.credit_window;
    let (mut reader, tx, writer) = split(tls, FrameCodec::new(args.limits.max_frame_bytes), 2 * window + 64);
    let Some(TenantEntry { id: tenant, actor: tenant_ref, rate }) = args.tenants.get(&name).cloned() else {
        let detail = format!("certificate {name} is not mapped to a tenant");
        let _ = tx.send(Frame::control(FrameKind::Error, 0, &[("code", "AG01"), ("detail", &detail)])).await;
        return Err(detail);
    };
    let session = sign_on(&mut reader, &tx, window, args).await?;
    tracing::info!(%peer, %tenant, session, "participant signed on");
    let outbound = Arc::new(FrameOutbound(tx.clone()));
    let session_args = SessionArgs {
        tenant: tenant.clone(),
        rate,
        tenant_ref: tenant_ref.clone(),
        outbound,
        ctx: Arc::clone(&args.ctx),
    };
    let (actor, _) = Actor::spawn_linked(None, SessionActor, session_args, tenant_ref.get_cell())
        .await
        .map_err(|e| format!("session actor: {e}"))?;
    let result = read_loop(&mut reader, &tx, &actor, args, shutdown).await;
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
    reader: &mut FrameReader<TlsStream<TcpStream>>,
    tx: &mpsc::Sender<Frame>,
    window: usize,
    args: &ListenerArgs,
) -> Result<u64, String> {
    let first = tokio::time::timeout(args.limits.handshake_timeout, reader.next())
        .await
        .map_err(|_| "sign-on timed out".to_owned())?
        .ok_or("closed before sign-on")?
        .map_err(|e| format!("sign-on: {e}"))?;
    if first.kind != FrameKind::SignOn {
        let _ = tx
            .send(Frame::control(
                FrameKind::Error,
                first.correlation,
                &[("code", "FF02"), ("detail", "expected SignOn")],
            ))
            .await;
        return Err(format!("expected SignOn, got {:?}", first.kind));
    }
    let session = SESSIONS.fetch_add(1, Ordering::Relaxed);
    let heartbeat_ms = (args.limits.idle_timeout.as_millis() / 3).to_string();
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

async fn read_loop(
    reader: &mut FrameReader<TlsStream<TcpStream>>,
    tx: &mpsc::Sender<Frame>,
    session: &ActorRef<SessionMsg>,
    args: &ListenerArgs,
    shutdown: &CancellationToken,
) -> Result<(), String> {
    let credits = Arc::new(Semaphore::new(args.limits.credit_window));
    loop {
        // Take a credit before reading: with none left, the socket is not read (backpressure).
        let credit = tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            credit = Arc::clone(&credits).acquire_owned() => credit.map_err(|e| e.to_string())?,
        };
        let frame = tokio::select! {
            () = shutdown.cancelled() => return Ok(()),
            next = tokio::time::timeout(args.limits.idle_timeout, reader.next()) => match next {
                Err(_) => return Err(format!("idle for {:?}", args.limits.idle_timeout)),
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
                let msg =
                    SessionMsg::Submit { correlation: frame.correlation, payload: frame.payload, credit };
                session.cast(msg).map_err(|e| format!("session actor: {e}"))?;
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
