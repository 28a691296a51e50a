//! The raw transport baseline: a TLS 1.3 and QUIC echo server speaking Switchyard's framing.
//!
//! It uses the same rustls (ring) server configuration as the node (`switchyard_wire::tls`,
//! mutual TLS, ALPN `switchyard/1`) and the same frame codec and writer, and does nothing else:
//!
//! - `SignOn` → `SignOnOk` with `session=echo-<n>`, the configured `credit_window` and
//!   `heartbeat_ms`, exactly the keys the node sends;
//! - `Submit` → one `Status` frame with the same correlation and **the same payload bytes**
//!   (no parsing, no journal, no clearing); the generator's echo answer mode counts it as the
//!   ACK and the outcome of that submission;
//! - `Heartbeat` → `HeartbeatAck`; `SignOff` → `SignOffOk`, then the connection closes;
//! - a `Submit` before `SignOn` → `Error` (`code=FF02`) and close; other kinds are ignored.
//!
//! So a load run against it measures TLS/QUIC, framing, the generator and the loopback network
//! for the very bytes a run against the node sends.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use futures::StreamExt;
use rustls::pki_types::CertificateDer;
use switchyard_wire::conn::{split, BoxStream};
use switchyard_wire::quic::{self, QuicLimits};
use switchyard_wire::tls::{self, Identity};
use switchyard_wire::{Frame, FrameCodec, FrameKind};
use tokio::net::TcpListener;
use tokio::task::JoinSet;

/// What the echo server listens on and answers with.
#[derive(Debug, Clone)]
pub struct EchoConfig {
    /// TLS over TCP listener (`None`: none).
    pub listen: Option<SocketAddr>,
    /// QUIC listener (`None`: none).
    pub listen_quic: Option<SocketAddr>,
    pub identity: Identity,
    /// The CA that issues client certificates.
    pub client_ca: Vec<CertificateDer<'static>>,
    /// Sent at sign-on, as the node does.
    pub credit_window: usize,
    pub max_frame_bytes: usize,
}

/// A running echo server.
#[derive(Debug)]
pub struct EchoServer {
    pub addr: Option<SocketAddr>,
    pub quic_addr: Option<SocketAddr>,
    /// Submissions echoed so far.
    pub echoed: Arc<AtomicU64>,
    tasks: JoinSet<()>,
    quic: Option<quinn::Endpoint>,
}

impl EchoServer {
    /// Stops accepting and closes every connection.
    pub async fn stop(mut self) {
        if let Some(endpoint) = &self.quic {
            endpoint.close(0u32.into(), b"stopping");
        }
        self.tasks.shutdown().await;
    }
}

/// Binds the listeners and starts serving.
///
/// # Errors
/// When the TLS material is unusable or a listener cannot bind (the error names the address).
pub async fn start(config: EchoConfig) -> anyhow::Result<EchoServer> {
    let echoed = Arc::new(AtomicU64::new(0));
    let sessions = Arc::new(AtomicU64::new(0));
    let mut tasks = JoinSet::new();
    let mut addr = None;
    if let Some(listen) = config.listen {
        let listener =
            TcpListener::bind(listen).await.with_context(|| format!("binding TLS echo on {listen}"))?;
        addr = Some(listener.local_addr()?);
        let acceptor =
            tokio_rustls::TlsAcceptor::from(tls::server_config(&config.identity, &config.client_ca)?);
        let (config, echoed, sessions) = (config.clone(), Arc::clone(&echoed), Arc::clone(&sessions));
        tasks.spawn(async move {
            let mut connections = JoinSet::new();
            while let Ok((tcp, _)) = listener.accept().await {
                let _ = tcp.set_nodelay(true);
                let acceptor = acceptor.clone();
                let (config, echoed, sessions) = (config.clone(), Arc::clone(&echoed), Arc::clone(&sessions));
                connections.spawn(async move {
                    let Ok(Ok(stream)) =
                        tokio::time::timeout(Duration::from_secs(5), acceptor.accept(tcp)).await
                    else {
                        return;
                    };
                    serve(Box::new(stream), &config, &echoed, &sessions).await;
                });
                while connections.try_join_next().is_some() {}
            }
        });
    }
    let mut quic_addr = None;
    let mut quic_endpoint = None;
    if let Some(listen) = config.listen_quic {
        let endpoint =
            quic::server_endpoint(listen, &config.identity, &config.client_ca, QuicLimits::default())
                .with_context(|| format!("binding QUIC echo on {listen}"))?;
        quic_addr = Some(endpoint.local_addr()?);
        quic_endpoint = Some(endpoint.clone());
        let (config, echoed, sessions) = (config.clone(), Arc::clone(&echoed), Arc::clone(&sessions));
        tasks.spawn(async move {
            let mut connections = JoinSet::new();
            while let Some(incoming) = endpoint.accept().await {
                let (config, echoed, sessions) = (config.clone(), Arc::clone(&echoed), Arc::clone(&sessions));
                connections.spawn(async move {
                    let Ok(Ok((stream, _peer))) =
                        tokio::time::timeout(Duration::from_secs(5), quic::establish(incoming)).await
                    else {
                        return;
                    };
                    let connection = stream.connection().clone();
                    serve(Box::new(stream), &config, &echoed, &sessions).await;
                    // Let the last frames reach the client before the connection is dropped.
                    let _ = tokio::time::timeout(Duration::from_secs(2), connection.closed()).await;
                });
                while connections.try_join_next().is_some() {}
            }
        });
    }
    if addr.is_none() && quic_addr.is_none() {
        anyhow::bail!("the echo server needs --listen or --listen-quic");
    }
    Ok(EchoServer { addr, quic_addr, echoed, tasks, quic: quic_endpoint })
}

/// Answers one session until it signs off or goes away.
async fn serve(stream: BoxStream, config: &EchoConfig, echoed: &AtomicU64, sessions: &AtomicU64) {
    let capacity = config.credit_window.saturating_mul(2).saturating_add(16);
    let (mut reader, tx, writer) = split(stream, FrameCodec::new(config.max_frame_bytes), capacity);
    let mut signed_on = false;
    while let Some(Ok(frame)) = reader.next().await {
        let answer = match frame.kind {
            FrameKind::SignOn => {
                signed_on = true;
                let session = format!("echo-{}", sessions.fetch_add(1, Ordering::Relaxed) + 1);
                let window = config.credit_window.to_string();
                Frame::control(
                    FrameKind::SignOnOk,
                    frame.correlation,
                    &[("session", &session), ("credit_window", &window), ("heartbeat_ms", "20000")],
                )
            }
            FrameKind::Submit if signed_on => {
                echoed.fetch_add(1, Ordering::Relaxed);
                Frame::new(FrameKind::Status, frame.correlation, frame.payload)
            }
            FrameKind::Submit => {
                let _ = tx
                    .send(Frame::control(
                        FrameKind::Error,
                        frame.correlation,
                        &[("code", "FF02"), ("detail", "sign on first")],
                    ))
                    .await;
                break;
            }
            FrameKind::Heartbeat => {
                Frame::new(FrameKind::HeartbeatAck, frame.correlation, bytes::Bytes::new())
            }
            FrameKind::SignOff => {
                let _ =
                    tx.send(Frame::new(FrameKind::SignOffOk, frame.correlation, bytes::Bytes::new())).await;
                break;
            }
            _ => continue,
        };
        if tx.send(answer).await.is_err() {
            break;
        }
    }
    drop(tx);
    let _ = writer.await;
}
