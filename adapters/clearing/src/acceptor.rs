//! Accept-mode clearing links: the clearing house dials the switch.
//!
//! Owns a link's listener (TLS 1.3 over TCP, or QUIC) and the admission of inbound clearing
//! connections: the handshake (client certificate required, chained to the link's CA; for QUIC
//! also the clearing house's first frame) under the handshake deadline
//! (`limits.handshake_timeout_ms`), then the peer's identity, which comes from its certificate only
//! ([`switchyard_wire::identity`]) and must be the name configured for the link
//! (`links[].peer_name`). Anything else is refused with a warning naming the link, the peer
//! address and why, and counted in `switchyard_clearing_refused_total{link, transport, reason}`
//! (`handshake`: TLS/QUIC failure, no or untrusted certificate; `identity`: a certificate of
//! another name).
//!
//! One session at a time per link: an authenticated connection that arrives while a session
//! runs replaces it (a clearing house that lost its connection and dials again must not wait
//! for our heartbeat timeout). The old session is ended and reported `Disconnected` before the
//! new one signs on, so the link actor never sees two connections.

use std::net::SocketAddr;
use std::sync::Arc;

use rustls::ServerConfig;
use switchyard_actors::actor::LinkMsg;
use switchyard_wire::conn::BoxStream;
use switchyard_wire::identity::chain_peer_name;
use switchyard_wire::quic::{self, QuicError, QuicLimits};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::session::{self, Opener, SessionArgs};

/// Handshakes one link's listener runs at once; more wait in the accept queue.
const MAX_HANDSHAKES: usize = 8;

/// A bound listener for one accept-mode link.
#[derive(Debug)]
pub enum Listen {
    /// TLS 1.3 over TCP, with a server configuration that requires a client certificate.
    Tls { listener: TcpListener, tls: Arc<ServerConfig> },
    /// QUIC, same TLS rules.
    Quic { endpoint: quinn::Endpoint },
}

impl Listen {
    /// Binds a TLS listener on `addr`.
    ///
    /// # Errors
    /// The bind fails.
    pub async fn tls(addr: SocketAddr, tls: Arc<ServerConfig>) -> std::io::Result<Self> {
        Ok(Self::Tls { listener: TcpListener::bind(addr).await?, tls })
    }

    /// Binds a QUIC endpoint on `addr`.
    ///
    /// # Errors
    /// [`QuicError`] when the TLS configuration or the bind fails.
    pub fn quic(addr: SocketAddr, tls: Arc<ServerConfig>) -> Result<Self, QuicError> {
        Ok(Self::Quic { endpoint: quic::server_endpoint_from(addr, tls, QuicLimits::default())? })
    }

    /// The bound address (useful with port 0).
    ///
    /// # Errors
    /// The socket has no local address.
    pub fn local_addr(&self) -> std::io::Result<SocketAddr> {
        match self {
            Self::Tls { listener, .. } => listener.local_addr(),
            Self::Quic { endpoint } => endpoint.local_addr(),
        }
    }

    fn transport(&self) -> &'static str {
        match self {
            Self::Tls { .. } => "tls",
            Self::Quic { .. } => "quic",
        }
    }
}

/// One accept-mode link.
#[derive(Debug)]
pub struct AcceptorArgs {
    pub listen: Listen,
    /// The certificate name (subject CN, else first DNS SAN) of the clearing house.
    pub peer_name: String,
    pub session: SessionArgs,
}

/// An authenticated inbound connection.
struct Admitted {
    stream: BoxStream,
    peer: SocketAddr,
}

/// Starts accepting; runs until `shutdown` is cancelled.
pub fn spawn(args: AcceptorArgs, shutdown: CancellationToken) -> JoinHandle<()> {
    let (admitted_tx, admitted_rx) = mpsc::channel(1);
    let transport = args.listen.transport();
    let name = args.session.name.clone();
    let timeout = args.session.handshake_timeout;
    let accept =
        tokio::spawn(accept_loop(args.listen, args.peer_name, name, timeout, admitted_tx, shutdown.clone()));
    tokio::spawn(async move {
        run_sessions(args.session, transport, admitted_rx, shutdown).await;
        let _ = accept.await;
    })
}

/// Counts a refused inbound clearing connection.
fn refused(link: &str, transport: &'static str, reason: &'static str) {
    metrics::counter!(
        "switchyard_clearing_refused_total",
        "link" => link.to_owned(),
        "transport" => transport,
        "reason" => reason
    )
    .increment(1);
}

async fn accept_loop(
    listen: Listen,
    peer_name: String,
    link: String,
    timeout: std::time::Duration,
    admitted: mpsc::Sender<Admitted>,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(MAX_HANDSHAKES));
    let transport = listen.transport();
    let expected = Arc::new(peer_name);
    let link = Arc::new(link);
    loop {
        let Ok(slot) = Arc::clone(&slots).acquire_owned().await else { break };
        let handshake: std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>> = match &listen {
            Listen::Tls { listener, tls } => {
                let accepted = tokio::select! {
                    () = shutdown.cancelled() => break,
                    accepted = listener.accept() => accepted,
                };
                let Ok((tcp, peer)) = accepted else { continue };
                let tls = Arc::clone(tls);
                Box::pin(async move {
                    let _ = tcp.set_nodelay(true);
                    let result = tokio_rustls::TlsAcceptor::from(tls).accept(tcp).await;
                    let result = result.map_err(|e| format!("TLS handshake failed: {e}")).map(|stream| {
                        let name = chain_peer_name(stream.get_ref().1.peer_certificates());
                        (Box::new(stream) as BoxStream, name)
                    });
                    (peer, result)
                })
            }
            Listen::Quic { endpoint } => {
                let incoming = tokio::select! {
                    () = shutdown.cancelled() => break,
                    incoming = endpoint.accept() => match incoming { Some(i) => i, None => break },
                };
                let peer = incoming.remote_address();
                Box::pin(async move {
                    let result = quic::establish(incoming)
                        .await
                        .map_err(|e| format!("QUIC handshake failed: {e}"))
                        .map(|(stream, name)| (Box::new(stream) as BoxStream, name));
                    (peer, result)
                })
            }
        };
        let (expected, link, admitted) = (Arc::clone(&expected), Arc::clone(&link), admitted.clone());
        tokio::spawn(async move {
            let Ok((peer, result)) = tokio::time::timeout(timeout, handshake).await else {
                tracing::warn!(link = %link, transport, "clearing connection refused: handshake timed out");
                refused(&link, transport, "handshake");
                return;
            };
            match result {
                Err(why) => {
                    tracing::warn!(link = %link, transport, %peer, reason = %why, "clearing connection refused");
                    refused(&link, transport, "handshake");
                }
                Ok((_, name)) if name.as_deref() != Some(expected.as_str()) => {
                    let shown = name.as_deref().unwrap_or("<no name>");
                    tracing::warn!(
                        link = %link, transport, %peer, certificate = shown, expected = %expected,
                        "clearing connection refused: the certificate is not the clearing house of this link"
                    );
                    refused(&link, transport, "identity");
                }
                Ok((stream, _)) => {
                    tracing::info!(link = %link, transport, %peer, "clearing house connected (accept mode)");
                    let _ = admitted.send(Admitted { stream, peer }).await;
                }
            }
            drop(slot);
        });
    }
    if let Listen::Quic { endpoint } = &listen {
        endpoint.close(0u32.into(), b"shutdown");
    }
}

/// Runs admitted connections one at a time; a newer one replaces the current session.
async fn run_sessions(
    args: SessionArgs,
    transport: &'static str,
    mut admitted: mpsc::Receiver<Admitted>,
    shutdown: CancellationToken,
) {
    let args = Arc::new(args);
    let mut current: Option<(JoinHandle<String>, CancellationToken, SocketAddr)> = None;
    loop {
        let next = tokio::select! {
            () = shutdown.cancelled() => None,
            next = admitted.recv() => next,
            why = async { (&mut current.as_mut().expect("guarded").0).await }, if current.is_some() => {
                let (_, _, peer) = current.take().expect("guarded");
                let why = why.unwrap_or_else(|e| format!("session task failed: {e}"));
                tracing::warn!(link = %args.name, transport, %peer, reason = %why, "clearing link down; waiting for the clearing house to dial in");
                let _ = args.link.cast(LinkMsg::Disconnected(why));
                continue;
            }
        };
        if let Some((task, stop, peer)) = current.take() {
            stop.cancel();
            let _ = task.await;
            let why = if next.is_some() { "replaced by a new connection" } else { "shutdown" };
            tracing::info!(link = %args.name, transport, %peer, "clearing session ended: {why}");
            let _ = args.link.cast(LinkMsg::Disconnected(why.into()));
        }
        let Some(Admitted { stream, peer }) = next else { break };
        let stop = shutdown.child_token();
        let (session_args, token) = (Arc::clone(&args), stop.clone());
        let task = tokio::spawn(async move {
            tokio::select! {
                () = token.cancelled() => "cancelled".to_owned(),
                why = session::run(&session_args, stream, Opener::Peer, || {}) => why,
            }
        });
        current = Some((task, stop, peer));
    }
    let _ = args.link.cast(LinkMsg::Disconnected("shutdown".into()));
}
