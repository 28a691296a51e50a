//! Keeps one dial-out clearing link's connection up and plugs it into its `LinkActor`.
//!
//! Connect (TLS 1.3 over TCP, or QUIC, with the switch's client certificate), sign on, then run
//! the shared link session ([`crate::session`]); on any failure announce `Disconnected` and dial
//! again after a capped exponential backoff with jitter — forever, until shut down. Every wait
//! has a timeout from config.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rand::Rng;
use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use switchyard_actors::actor::LinkMsg;
use switchyard_wire::quic;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::session::{self, Opener, SessionArgs};

/// Capped exponential backoff: `base_ms * 2^n` up to `max_ms`, plus up to 50% jitter.
#[derive(Debug, Clone, Copy)]
pub struct Backoff {
    pub base_ms: u64,
    pub max_ms: u64,
}

impl Backoff {
    fn delay(self, failures: u32) -> Duration {
        let exp = self.base_ms.saturating_mul(1 << failures.min(16)).min(self.max_ms);
        let jitter = rand::thread_rng().gen_range(0..=exp / 2);
        Duration::from_millis(exp + jitter)
    }
}

/// How a dial-out link reaches its clearing house.
#[derive(Debug, Clone)]
pub enum Connector {
    /// TLS 1.3 over TCP.
    Tls { addr: SocketAddr, server_name: ServerName<'static>, tls: Arc<ClientConfig> },
    /// QUIC (one ordered bidirectional stream, docs/QUIC.md) from a client endpoint that
    /// presents the switch's certificate ([`quic::client_endpoint`]).
    Quic { addr: SocketAddr, server_name: String, endpoint: quinn::Endpoint },
}

impl Connector {
    /// `"tls"` or `"quic"` (logs, metrics).
    #[must_use]
    pub fn transport(&self) -> &'static str {
        match self {
            Self::Tls { .. } => "tls",
            Self::Quic { .. } => "quic",
        }
    }
}

/// Everything one link's dialer needs.
#[derive(Debug, Clone)]
pub struct DialerArgs {
    pub connector: Connector,
    /// The link session (name, link actor, frame and queue bounds, handshake deadline,
    /// heartbeat).
    pub session: SessionArgs,
    pub backoff: Backoff,
}

/// Starts the dialer; it runs until `shutdown` is cancelled.
pub fn spawn(args: DialerArgs, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let link = args.session.link.clone();
        let name = args.session.name.clone();
        let mut failures = 0u32;
        loop {
            let outcome = tokio::select! {
                () = shutdown.cancelled() => break,
                outcome = connect_and_run(&args, &mut failures) => outcome,
            };
            let _ = link.cast(LinkMsg::Disconnected(outcome.clone()));
            tracing::warn!(link = %name, transport = args.connector.transport(), reason = %outcome, failures, "clearing link down; redialling");
            let delay = args.backoff.delay(failures);
            failures = failures.saturating_add(1);
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(delay) => {}
            }
        }
        let _ = link.cast(LinkMsg::Disconnected("shutdown".into()));
    })
}

/// One connection's life; returns why it ended.
async fn connect_and_run(args: &DialerArgs, failures: &mut u32) -> String {
    let timeout = args.session.handshake_timeout;
    let reset = || *failures = 0;
    match &args.connector {
        Connector::Tls { addr, server_name, tls } => {
            let connect = async {
                let tcp = TcpStream::connect(addr).await.map_err(|e| format!("connect {addr}: {e}"))?;
                tcp.set_nodelay(true).map_err(|e| e.to_string())?;
                let connector = tokio_rustls::TlsConnector::from(Arc::clone(tls));
                connector.connect(server_name.clone(), tcp).await.map_err(|e| format!("tls: {e}"))
            };
            match tokio::time::timeout(timeout, connect).await {
                Ok(Ok(stream)) => session::run(&args.session, stream, Opener::Us, reset).await,
                Ok(Err(e)) => e,
                Err(_) => format!("connect timed out after {timeout:?}"),
            }
        }
        Connector::Quic { addr, server_name, endpoint } => {
            match tokio::time::timeout(timeout, quic::connect(endpoint, *addr, server_name)).await {
                Ok(Ok(stream)) => session::run(&args.session, stream, Opener::Us, reset).await,
                Ok(Err(e)) => format!("quic {addr}: {e}"),
                Err(_) => format!("QUIC connect timed out after {timeout:?}"),
            }
        }
    }
}
