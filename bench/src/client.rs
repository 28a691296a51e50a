//! A participant connection: TLS 1.3 + client certificate, sign-on, frames.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{bail, Context};
use futures::StreamExt;
use rustls::pki_types::ServerName;
use switchyard_wire::conn::{split, FrameReader};
use switchyard_wire::{Frame, FrameCodec, FrameKind};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_rustls::client::TlsStream;

/// Where and how to connect.
#[derive(Debug, Clone)]
pub struct ClientSpec {
    pub addr: SocketAddr,
    pub server_name: ServerName<'static>,
    pub tls: Arc<rustls::ClientConfig>,
    pub max_frame_bytes: usize,
    pub timeout: Duration,
}

/// A signed-on participant session.
#[derive(Debug)]
pub struct Participant {
    pub reader: FrameReader<TlsStream<TcpStream>>,
    pub tx: mpsc::Sender<Frame>,
    /// Submissions the switch allows in flight (from SignOnOk).
    pub credit_window: usize,
    pub session: String,
}

impl Participant {
    /// Connects, completes the TLS handshake and signs on.
    pub async fn connect(spec: &ClientSpec) -> anyhow::Result<Self> {
        let connect = async {
            let tcp =
                TcpStream::connect(spec.addr).await.with_context(|| format!("connect {}", spec.addr))?;
            tcp.set_nodelay(true)?;
            let connector = tokio_rustls::TlsConnector::from(Arc::clone(&spec.tls));
            let tls = connector.connect(spec.server_name.clone(), tcp).await.context("TLS handshake")?;
            anyhow::Ok(tls)
        };
        let tls = tokio::time::timeout(spec.timeout, connect).await.context("connect timed out")??;
        let (mut reader, tx, _writer) = split(tls, FrameCodec::new(spec.max_frame_bytes), 65_536);
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
        Ok(Self { reader, tx, credit_window, session })
    }
}
