//! A participant connection over TLS 1.3 or QUIC, with a client certificate: sign-on, frames.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use futures::StreamExt;
use rustls::pki_types::{CertificateDer, ServerName};
use switchyard_wire::conn::{split, BoxStream, FrameReader};
use switchyard_wire::tls::{self, Identity};
use switchyard_wire::{quic, Frame, FrameCodec, FrameKind};
use tokio::net::TcpStream;
use tokio::sync::mpsc;

/// How the participant reaches the node.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    /// TLS 1.3 over TCP.
    Tls,
    /// QUIC (one bidirectional stream per session, docs/QUIC.md).
    Quic,
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Tls => "TLS",
            Self::Quic => "QUIC",
        })
    }
}

impl std::str::FromStr for Transport {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "tls" => Ok(Self::Tls),
            "quic" => Ok(Self::Quic),
            other => Err(format!("unknown transport {other:?}: use tls or quic")),
        }
    }
}

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct ClientSpec {
    pub addr: SocketAddr,
    pub transport: Transport,
    /// The name the node's certificate must carry.
    pub server_name: String,
    /// The CA that issued the node's certificate.
    pub ca: Vec<CertificateDer<'static>>,
    /// The participant's certificate; `None` to connect without one (it must be refused).
    pub identity: Option<Identity>,
    pub max_frame_bytes: usize,
    pub timeout: Duration,
}

/// The heartbeat interval assumed when SignOnOk names none.
pub const DEFAULT_HEARTBEAT: Duration = Duration::from_secs(5);

/// A signed-on participant session.
pub struct Participant {
    pub reader: FrameReader<BoxStream>,
    pub tx: mpsc::Sender<Frame>,
    /// Submissions the switch allows in flight (from SignOnOk).
    pub credit_window: usize,
    pub session: String,
    /// How often the node wants a `Heartbeat` while the session is idle (from SignOnOk).
    pub heartbeat: Duration,
    /// Keeps a QUIC client endpoint alive as long as the session.
    _endpoint: Option<quinn::Endpoint>,
}

impl std::fmt::Debug for Participant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Participant")
            .field("session", &self.session)
            .field("credit_window", &self.credit_window)
            .finish_non_exhaustive()
    }
}

async fn open(spec: &ClientSpec) -> anyhow::Result<(BoxStream, Option<quinn::Endpoint>)> {
    match spec.transport {
        Transport::Tls => {
            let tcp =
                TcpStream::connect(spec.addr).await.with_context(|| format!("connect {}", spec.addr))?;
            tcp.set_nodelay(true)?;
            let config = tls::client_config(&spec.ca, spec.identity.as_ref())?;
            let name = ServerName::try_from(spec.server_name.clone()).context("server name")?;
            let stream = tokio_rustls::TlsConnector::from(Arc::clone(&config))
                .connect(name, tcp)
                .await
                .context("TLS handshake")?;
            Ok((Box::new(stream), None))
        }
        Transport::Quic => {
            let endpoint = quic::client_endpoint(&spec.ca, spec.identity.as_ref())?;
            let stream =
                quic::connect(&endpoint, spec.addr, &spec.server_name).await.context("QUIC handshake")?;
            Ok((Box::new(stream), Some(endpoint)))
        }
    }
}

impl Participant {
    /// Connects, completes the handshake and signs on.
    pub async fn connect(spec: &ClientSpec) -> anyhow::Result<Self> {
        let (stream, endpoint) =
            tokio::time::timeout(spec.timeout, open(spec)).await.context("connect timed out")??;
        let (mut reader, tx, _writer) = split(stream, FrameCodec::new(spec.max_frame_bytes), 65_536);
        tx.send(Frame::control(FrameKind::SignOn, 0, &[("protocol", "1")])).await?;
        let answer = tokio::time::timeout(spec.timeout, reader.next()).await.context("sign-on timed out")?;
        let frame = match answer {
            Some(frame) => frame.context("reading sign-on answer")?,
            None => bail!("connection closed during sign-on (certificate refused?)"),
        };
        if frame.kind != FrameKind::SignOnOk {
            bail!("sign-on refused: {:?} {}", frame.kind, String::from_utf8_lossy(&frame.payload));
        }
        let credit_window = frame
            .control_value("credit_window")
            .and_then(|v| v.parse().ok())
            .context("SignOnOk without credit_window")?;
        let session = frame.control_value("session").unwrap_or_default().to_owned();
        let heartbeat = frame
            .control_value("heartbeat_ms")
            .and_then(|v| v.parse().ok())
            .map_or(DEFAULT_HEARTBEAT, Duration::from_millis);
        Ok(Self { reader, tx, credit_window, session, heartbeat, _endpoint: endpoint })
    }
}
