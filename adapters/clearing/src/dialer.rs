//! Keeps one clearing link's connection up and plugs it into its `LinkActor`.
//!
//! Connect (TCP, TLS 1.3 with the switch's client certificate), sign on, announce `Connected`,
//! relay every Status frame as a `Reply`, heartbeat while idle; on any failure announce
//! `Disconnected` and dial again after a capped exponential backoff with jitter — forever, until
//! shut down. Every wait has a timeout from config.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use ractor::ActorRef;
use rand::Rng;
use rustls::pki_types::ServerName;
use rustls::ClientConfig;
use switchyard_actors::actor::LinkMsg;
use switchyard_wire::conn::{split, FrameOutbound};
use switchyard_wire::{Frame, FrameCodec, FrameKind};
use tokio::net::TcpStream;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

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

/// Everything one link's dialer needs.
#[derive(Debug, Clone)]
pub struct DialerArgs {
    pub name: String,
    pub addr: SocketAddr,
    pub server_name: ServerName<'static>,
    pub tls: Arc<ClientConfig>,
    pub link: ActorRef<LinkMsg>,
    pub max_frame_bytes: usize,
    /// Outbound frame queue bound (at least the link window plus control frames).
    pub out_capacity: usize,
    pub connect_timeout: Duration,
    pub heartbeat: Duration,
    pub backoff: Backoff,
}

/// Starts the dialer; it runs until `shutdown` is cancelled.
pub fn spawn(args: DialerArgs, shutdown: CancellationToken) -> JoinHandle<()> {
    tokio::spawn(async move {
        let mut failures = 0u32;
        loop {
            let outcome = tokio::select! {
                () = shutdown.cancelled() => break,
                outcome = session(&args, &mut failures) => outcome,
            };
            let _ = args.link.cast(LinkMsg::Disconnected(outcome.clone()));
            tracing::warn!(link = %args.name, reason = %outcome, failures, "clearing link down; redialling");
            let delay = args.backoff.delay(failures);
            failures = failures.saturating_add(1);
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(delay) => {}
            }
        }
        let _ = args.link.cast(LinkMsg::Disconnected("shutdown".into()));
    })
}

/// One connection's life; returns why it ended.
async fn session(args: &DialerArgs, failures: &mut u32) -> String {
    let connect = async {
        let tcp = TcpStream::connect(args.addr).await.map_err(|e| format!("connect {}: {e}", args.addr))?;
        tcp.set_nodelay(true).map_err(|e| e.to_string())?;
        let connector = tokio_rustls::TlsConnector::from(Arc::clone(&args.tls));
        connector.connect(args.server_name.clone(), tcp).await.map_err(|e| format!("tls: {e}"))
    };
    let tls = match tokio::time::timeout(args.connect_timeout, connect).await {
        Ok(Ok(tls)) => tls,
        Ok(Err(e)) => return e,
        Err(_) => return format!("connect timed out after {:?}", args.connect_timeout),
    };
    let (mut reader, tx, writer) = split(tls, FrameCodec::new(args.max_frame_bytes), args.out_capacity);
    let sign_on = Frame::control(FrameKind::SignOn, 0, &[("protocol", "1"), ("link", &args.name)]);
    if tx.send(sign_on).await.is_err() {
        return "writer closed during sign-on".into();
    }
    match tokio::time::timeout(args.connect_timeout, reader.next()).await {
        Ok(Some(Ok(f))) if f.kind == FrameKind::SignOnOk => {}
        Ok(Some(Ok(f))) => return format!("sign-on answered with {:?}", f.kind),
        Ok(Some(Err(e))) => return format!("sign-on: {e}"),
        Ok(None) => return "closed during sign-on".into(),
        Err(_) => return "sign-on timed out".into(),
    }
    *failures = 0;
    let _ = args.link.cast(LinkMsg::Connected(Arc::new(FrameOutbound(tx.clone()))));
    let why = relay(args, &mut reader, &tx).await;
    drop(tx);
    writer.abort();
    why
}

async fn relay<S: tokio::io::AsyncRead>(
    args: &DialerArgs,
    reader: &mut switchyard_wire::conn::FrameReader<S>,
    tx: &tokio::sync::mpsc::Sender<Frame>,
) -> String {
    let mut heartbeat = tokio::time::interval(args.heartbeat);
    heartbeat.tick().await;
    let mut beats_unanswered = 0u32;
    loop {
        tokio::select! {
            frame = reader.next() => match frame {
                Some(Ok(f)) => {
                    beats_unanswered = 0;
                    match f.kind {
                        // Deliver: a message the clearing house originates (a pacs.004 return).
                        FrameKind::Status | FrameKind::Deliver => {
                            let _ = args.link.cast(LinkMsg::Reply { correlation: f.correlation, payload: f.payload });
                        }
                        FrameKind::Heartbeat => {
                            let _ = tx.try_send(Frame::new(FrameKind::HeartbeatAck, f.correlation, bytes::Bytes::new()));
                        }
                        FrameKind::Error => tracing::warn!(link = %args.name, payload = %String::from_utf8_lossy(&f.payload), "error frame from clearing house"),
                        _ => {}
                    }
                }
                Some(Err(e)) => return format!("read: {e}"),
                None => return "closed by clearing house".into(),
            },
            _ = heartbeat.tick() => {
                beats_unanswered += 1;
                if beats_unanswered > 3 {
                    return "no traffic for 3 heartbeat intervals".into();
                }
                let _ = tx.try_send(Frame::new(FrameKind::Heartbeat, 0, bytes::Bytes::new()));
            }
        }
    }
}
