//! QUIC transport: the same frames as TLS/TCP, on one ordered bidirectional stream per session.
//!
//! This module owns the quinn endpoints (server and client), their transport limits
//! ([`QuicLimits`]) and [`QuicStream`], which joins a stream's send and receive halves into one
//! tokio `AsyncRead + AsyncWrite` value so that [`crate::conn::split`] works on QUIC unchanged.
//!
//! Why one stream per session (docs/QUIC.md has the full argument): a third party implements
//! exactly the protocol of docs/PROTOCOL.md over an ordered byte stream, as on TCP, and keeps
//! TCP's ordering guarantees (for one correlation, `ACTC` before the outcome; heartbeats and
//! credits share the stream). Per-exchange streams would remove head-of-line blocking between
//! payments but would move ordering, flow control and stream accounting into every client.
//!
//! The TLS configuration is the one [`crate::tls`] builds (TLS 1.3 only, ALPN
//! [`crate::tls::ALPN`], client certificate required by the server, early data off), wrapped for
//! QUIC; this module never calls `into_0rtt`, so submissions are never replayable.
//!
//! Architecture invariant: every QUIC resource a peer can make us hold (streams, windows,
//! handshakes in flight, idle connections) is bounded by a [`QuicLimits`] field.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use quinn::crypto::rustls::{NoInitialCipherSuite, QuicClientConfig, QuicServerConfig};
use quinn::{IdleTimeout, TransportConfig, VarInt};
use rustls_pki_types::CertificateDer;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use crate::identity::chain_peer_name;
use crate::tls::{self, Identity, TlsError};

/// Transport limits of a QUIC endpoint. Every field has a documented default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuicLimits {
    /// A connection with no packet in either direction for this long is closed (default 60 s,
    /// the session idle timeout of docs/PROTOCOL.md; `Heartbeat` frames keep a session alive).
    pub idle_timeout: Duration,
    /// QUIC-level PING interval; `None` (the default) leaves liveness to `Heartbeat` frames.
    pub keep_alive_interval: Option<Duration>,
    /// Bidirectional streams a client may have open at once on a server connection (default 1:
    /// one session stream). Clients grant the server 0 whatever this says.
    pub max_concurrent_bidi_streams: u32,
    /// Bytes a peer may send on the session stream ahead of our reads (default 2 MiB: two
    /// maximum-size frames).
    pub stream_receive_window_bytes: u32,
    /// Bytes a peer may send on the whole connection ahead of our reads (default 2 MiB; one
    /// stream, so the same as the stream window).
    pub receive_window_bytes: u32,
    /// Bytes we keep unacknowledged in flight towards the peer (default 2 MiB).
    pub send_window_bytes: u32,
    /// Handshakes a server keeps in progress before refusing new ones (default 256).
    pub max_incoming: usize,
}

impl Default for QuicLimits {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(60),
            keep_alive_interval: None,
            max_concurrent_bidi_streams: 1,
            stream_receive_window_bytes: 2 << 20,
            receive_window_bytes: 2 << 20,
            send_window_bytes: 2 << 20,
            max_incoming: 256,
        }
    }
}

/// Why a QUIC endpoint could not be built or a QUIC session could not be established.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum QuicError {
    /// The TLS configuration could not be assembled.
    #[error(transparent)]
    Tls(#[from] TlsError),
    /// The TLS configuration lacks the cipher suite QUIC's initial packets need.
    #[error("QUIC crypto: {0}")]
    Crypto(#[from] NoInitialCipherSuite),
    /// A [`QuicLimits`] value does not fit QUIC's encoding.
    #[error("QUIC limit {0} is out of range")]
    Limit(&'static str),
    /// The UDP socket could not be bound.
    #[error("bind {addr}: {source}")]
    Bind { addr: SocketAddr, source: io::Error },
    /// A connection attempt could not even start (bad server name, endpoint closing, ...).
    #[error("connect: {0}")]
    Connect(#[from] quinn::ConnectError),
    /// The handshake failed (including a refused or missing client certificate), the peer
    /// closed, or the connection timed out.
    #[error("connection: {0}")]
    Connection(#[from] quinn::ConnectionError),
}

/// The transport parameters both sides share; `peer_bidi_streams` is what we grant the peer.
fn transport(limits: &QuicLimits, peer_bidi_streams: u32) -> Result<Arc<TransportConfig>, QuicError> {
    let idle = IdleTimeout::try_from(limits.idle_timeout).map_err(|_| QuicError::Limit("idle_timeout"))?;
    let mut config = TransportConfig::default();
    config
        .max_idle_timeout(Some(idle))
        .keep_alive_interval(limits.keep_alive_interval)
        .max_concurrent_bidi_streams(VarInt::from_u32(peer_bidi_streams))
        .max_concurrent_uni_streams(VarInt::from_u32(0))
        .stream_receive_window(VarInt::from_u32(limits.stream_receive_window_bytes))
        .receive_window(VarInt::from_u32(limits.receive_window_bytes))
        .send_window(u64::from(limits.send_window_bytes))
        .datagram_receive_buffer_size(None);
    Ok(Arc::new(config))
}

/// A server endpoint bound to `addr` that requires a client certificate issued by `client_ca`.
///
/// # Errors
/// [`QuicError`] when the TLS material, a limit or the bind fails.
pub fn server_endpoint(
    addr: SocketAddr,
    identity: &Identity,
    client_ca: &[CertificateDer<'static>],
    limits: QuicLimits,
) -> Result<quinn::Endpoint, QuicError> {
    server_endpoint_from(addr, tls::server_config(identity, client_ca)?, limits)
}

/// As [`server_endpoint`], from a TLS server configuration already built by
/// [`tls::server_config`] (the clearing simulator and clearing-link listeners hold one).
///
/// # Errors
/// [`QuicError`] when the configuration lacks QUIC's initial cipher suite, a limit is out of
/// range or the bind fails.
pub fn server_endpoint_from(
    addr: SocketAddr,
    tls: Arc<rustls::ServerConfig>,
    limits: QuicLimits,
) -> Result<quinn::Endpoint, QuicError> {
    server_endpoint_with(addr, tls, limits, None)
}

/// The secret a server endpoint derives its stateless-reset tokens from (HMAC-SHA256 of the
/// connection ID), and the key of its connection IDs' integrity check. quinn draws a new one for every endpoint by default, so after a restart the
/// node could not prove to a peer of its previous run that their connection is gone: the peer
/// kept sending into it until its idle timeout (60 s). With the same key across restarts (kept
/// in the data directory), the restarted node answers such a packet with a valid stateless
/// reset and the peer reconnects at once (RFC 9000 §10.3).
#[derive(Clone)]
pub struct ResetKey([u8; RESET_KEY_BYTES]);

/// Length of a [`ResetKey`].
pub const RESET_KEY_BYTES: usize = 32;

impl std::fmt::Debug for ResetKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ResetKey(..)")
    }
}

impl ResetKey {
    /// A fresh key from the system's random source.
    ///
    /// # Errors
    /// When the system's random source fails.
    pub fn random() -> io::Result<Self> {
        use ring::rand::SecureRandom;
        let mut key = [0_u8; RESET_KEY_BYTES];
        ring::rand::SystemRandom::new()
            .fill(&mut key)
            .map_err(|_| io::Error::other("the system random source failed"))?;
        Ok(Self(key))
    }

    /// The key kept at `path`; created (random, readable by the owner only, synced) when the
    /// file does not exist.
    ///
    /// # Errors
    /// An error naming `path` when it cannot be read or written, or holds anything but
    /// [`RESET_KEY_BYTES`] bytes.
    pub fn load_or_create(path: &std::path::Path) -> io::Result<Self> {
        let named =
            |e: io::Error| io::Error::new(e.kind(), format!("QUIC reset key {}: {e}", path.display()));
        match std::fs::read(path) {
            Ok(bytes) => {
                let key = <[u8; RESET_KEY_BYTES]>::try_from(bytes.as_slice()).map_err(|_| {
                    named(io::Error::new(
                        io::ErrorKind::InvalidData,
                        format!("expected {RESET_KEY_BYTES} bytes, found {}", bytes.len()),
                    ))
                })?;
                Ok(Self(key))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                use std::io::Write;
                use std::os::unix::fs::OpenOptionsExt;
                let key = Self::random()?;
                let mut file = std::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(path)
                    .map_err(named)?;
                file.write_all(&key.0).and_then(|()| file.sync_all()).map_err(named)?;
                Ok(key)
            }
            Err(e) => Err(named(e)),
        }
    }
}

/// As [`server_endpoint_from`], with stateless-reset tokens derived from `reset_key` (the same
/// key across restarts: see [`ResetKey`]); `None`: a random key for this endpoint only.
///
/// # Errors
/// As [`server_endpoint_from`].
pub fn server_endpoint_with(
    addr: SocketAddr,
    tls: Arc<rustls::ServerConfig>,
    limits: QuicLimits,
    reset_key: Option<&ResetKey>,
) -> Result<quinn::Endpoint, QuicError> {
    let crypto = QuicServerConfig::try_from(tls)?;
    let mut config = quinn::ServerConfig::with_crypto(Arc::new(crypto));
    config.transport_config(transport(&limits, limits.max_concurrent_bidi_streams)?);
    config.max_incoming(limits.max_incoming.max(1));
    let endpoint_config = match reset_key {
        Some(key) => {
            let hmac = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key.0);
            // Connection IDs carry a keyed check (quinn drops a packet whose ID fails it before
            // any reset): that key must outlive the process too. Derived, not the reset key.
            let tag = ring::hmac::sign(&hmac, b"switchyard quic connection-id key");
            let mut cid_key = [0_u8; 8];
            cid_key.copy_from_slice(&tag.as_ref()[..8]);
            let cid_key = u64::from_le_bytes(cid_key);
            let mut config = quinn::EndpointConfig::new(Arc::new(hmac));
            config
                .cid_generator(move || Box::new(quinn_proto::HashedConnectionIdGenerator::from_key(cid_key)));
            config
        }
        None => quinn::EndpointConfig::default(),
    };
    let bind = |source| QuicError::Bind { addr, source };
    let socket = std::net::UdpSocket::bind(addr).map_err(bind)?;
    let runtime = quinn::default_runtime().ok_or_else(|| bind(io::Error::other("no async runtime found")))?;
    quinn::Endpoint::new(endpoint_config, Some(config), socket, runtime).map_err(bind)
}

/// A client endpoint on an ephemeral IPv4 port that trusts `server_ca` and presents `identity`
/// when given, with [`QuicLimits::default`].
///
/// # Errors
/// [`QuicError`] when the TLS material or the bind fails.
pub fn client_endpoint(
    server_ca: &[CertificateDer<'static>],
    identity: Option<&Identity>,
) -> Result<quinn::Endpoint, QuicError> {
    let bind = SocketAddr::from(([0, 0, 0, 0], 0));
    client_endpoint_with(bind, server_ca, identity, &QuicLimits::default())
}

/// As [`client_endpoint`], bound to `bind` with explicit limits.
///
/// # Errors
/// [`QuicError`] when the TLS material, a limit or the bind fails.
pub fn client_endpoint_with(
    bind: SocketAddr,
    server_ca: &[CertificateDer<'static>],
    identity: Option<&Identity>,
    limits: &QuicLimits,
) -> Result<quinn::Endpoint, QuicError> {
    let crypto = QuicClientConfig::try_from(tls::client_config(server_ca, identity)?)?;
    let mut config = quinn::ClientConfig::new(Arc::new(crypto));
    // The server never opens streams towards a client.
    config.transport_config(transport(limits, 0)?);
    let mut endpoint =
        quinn::Endpoint::client(bind).map_err(|source| QuicError::Bind { addr: bind, source })?;
    endpoint.set_default_client_config(config);
    Ok(endpoint)
}

/// One session: a QUIC connection and its single bidirectional stream, as one byte stream.
///
/// Dropping the last handle to the connection closes it at once; a side that wants its final
/// frames delivered shuts the write side down (the `conn::split` writer does) and then waits on
/// [`quinn::Endpoint::wait_idle`] or for the peer's close.
#[derive(Debug)]
pub struct QuicStream {
    connection: quinn::Connection,
    send: quinn::SendStream,
    recv: quinn::RecvStream,
}

impl QuicStream {
    /// The underlying connection (remote address, statistics, `close`).
    #[must_use]
    pub fn connection(&self) -> &quinn::Connection {
        &self.connection
    }
}

impl AsyncRead for QuicStream {
    fn poll_read(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &mut ReadBuf<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().recv).poll_read(cx, buf)
    }
}

impl AsyncWrite for QuicStream {
    fn poll_write(self: Pin<&mut Self>, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        AsyncWrite::poll_write(Pin::new(&mut self.get_mut().send), cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        AsyncWrite::poll_flush(Pin::new(&mut self.get_mut().send), cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        AsyncWrite::poll_shutdown(Pin::new(&mut self.get_mut().send), cx)
    }
}

/// Waits for the next connection on a server endpoint and establishes its session.
///
/// `None` once the endpoint is closed. This handles one connection at a time; a listener that
/// must not let one slow client delay others takes [`quinn::Endpoint::accept`] itself and runs
/// [`establish`] per connection in its own task, under its handshake timeout.
pub async fn accept(endpoint: &quinn::Endpoint) -> Option<Result<(QuicStream, Option<String>), QuicError>> {
    let incoming = endpoint.accept().await?;
    Some(establish(incoming).await)
}

/// Completes the handshake of an incoming connection and accepts its session stream.
///
/// Returns the stream and the peer name of the client certificate ([`crate::identity`]). The
/// client's stream becomes visible when it sends its first frame (`SignOn`), so this also
/// waits for that: run it under the handshake timeout.
///
/// # Errors
/// [`QuicError::Connection`] when the handshake fails (no client certificate, one from another
/// CA, wrong ALPN) or the client goes away before opening its stream.
pub async fn establish(incoming: quinn::Incoming) -> Result<(QuicStream, Option<String>), QuicError> {
    let connection = incoming.await?;
    let peer = peer_name(&connection);
    let (send, recv) = connection.accept_bi().await?;
    Ok((QuicStream { connection, send, recv }, peer))
}

/// The peer name of the certificate chain the peer presented, if any.
fn peer_name(connection: &quinn::Connection) -> Option<String> {
    let chain = connection.peer_identity()?.downcast::<Vec<CertificateDer<'static>>>().ok()?;
    chain_peer_name(Some(chain.as_slice()))
}

/// Connects to `addr`, checks the server certificate against `server_name`, and opens the
/// session stream.
///
/// The server learns of the stream when the first frame is written; a refused client
/// certificate may therefore surface on the first read rather than here.
///
/// # Errors
/// [`QuicError::Connect`] or [`QuicError::Connection`].
pub async fn connect(
    endpoint: &quinn::Endpoint,
    addr: SocketAddr,
    server_name: &str,
) -> Result<QuicStream, QuicError> {
    let connection = endpoint.connect(addr, server_name)?.await?;
    let (send, recv) = connection.open_bi().await?;
    Ok(QuicStream { connection, send, recv })
}
