//! Mutual TLS for the admin listener (optional): a TLS 1.3 listener that requires a client
//! certificate from the configured CA, and the certificate's name as connection info, which
//! the admin API maps to an operator (`[admin] operators`) or to the tenant whose
//! `certificate_name` it is.
//!
//! Handshakes run in the accept loop with a deadline (`HANDSHAKE_TIMEOUT`), so one slow client
//! delays other admin connections by at most that long; the admin listener is for a few
//! operators, not for traffic.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::connect_info::Connected;
use axum::serve::IncomingStream;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

/// The one application protocol the admin listener offers: it speaks HTTP/1.1, so curl,
/// Prometheus and probes negotiate it as they would with any HTTPS server.
pub const ADMIN_ALPN: &[u8] = b"http/1.1";

/// Deadline for one admin TLS handshake.
pub const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(5);

/// Admin mTLS settings from the configuration.
#[derive(Debug, Clone)]
pub struct AdminTls {
    /// The server certificate and the CA that issues admin client certificates.
    pub server: Arc<rustls::ServerConfig>,
    /// Client certificate names that are operators (full `clearing:manage` rights).
    pub operators: Vec<String>,
}

/// A TCP listener that completes a TLS handshake before handing a connection to axum.
pub struct TlsListener {
    pub tcp: TcpListener,
    pub acceptor: TlsAcceptor,
}

impl TlsListener {
    /// The admin listener on `tcp` with `server`'s certificates and client CA, offering
    /// [`ADMIN_ALPN`] whatever protocols `server` was built with.
    #[must_use]
    pub fn new(tcp: TcpListener, server: &rustls::ServerConfig) -> Self {
        let mut server = server.clone();
        server.alpn_protocols = vec![ADMIN_ALPN.to_vec()];
        TlsListener { tcp, acceptor: TlsAcceptor::from(Arc::new(server)) }
    }
}

impl std::fmt::Debug for TlsListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsListener").field("tcp", &self.tcp).finish_non_exhaustive()
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (tcp, peer) = match self.tcp.accept().await {
                Ok(pair) => pair,
                Err(e) => {
                    tracing::warn!(error = %e, "admin accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, self.acceptor.accept(tcp)).await {
                Ok(Ok(tls)) => return (tls, peer),
                Ok(Err(e)) => tracing::info!(%peer, error = %e, "admin TLS handshake failed"),
                Err(_) => tracing::info!(%peer, "admin TLS handshake timed out"),
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// The verified client certificate's name, as connection info for the handlers.
#[derive(Debug, Clone)]
pub struct AdminPeer(pub Option<String>);

impl Connected<IncomingStream<'_, TlsListener>> for AdminPeer {
    fn connect_info(stream: IncomingStream<'_, TlsListener>) -> Self {
        let (_, conn) = stream.io().get_ref();
        AdminPeer(switchyard_wire::identity::chain_peer_name(conn.peer_certificates()))
    }
}
