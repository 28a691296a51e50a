//! The fault proxy: a man in the middle between the switch and a clearing house, for testing
//! what the switch does when the network between them misbehaves.
//!
//! It terminates the switch's TLS connection (presenting the clearing house's certificate),
//! opens its own TLS connection to the real clearing house (presenting the switch's client
//! certificate) for every connection it accepts, and relays frames both ways through the
//! frame codec, so faults can be aimed at whole frames. The current [`Fault`] applies to the
//! clearing house's replies (Status frames) on their way to the switch; a black hole swallows
//! everything in both directions. Sockets close with RST (linger 0).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use futures::StreamExt;
use rustls::pki_types::ServerName;
use rustls::{ClientConfig, ServerConfig};
use switchyard_wire::{Frame, FrameCodec, FrameKind};
use tokio::io::{AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::Instant;
use tokio_util::codec::{Encoder, FramedRead};
use tokio_util::sync::CancellationToken;

/// What the proxy does to the clearing house's replies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fault {
    /// Relay faithfully.
    #[default]
    None,
    /// Hold every reply this long (order kept).
    Delay(Duration),
    /// Drop every `n`th reply.
    DropEvery(u32),
    /// On every `n`th reply, write half of its bytes, then reset the connection.
    ResetMidFrameEvery(u32),
    /// Swallow everything, both ways, keeping the connections open.
    BlackHole,
    /// Send every reply twice.
    Duplicate,
    /// Swap replies in pairs (the first of a pair waits at most 50 ms for the second).
    Reorder,
}

/// What the proxy did.
#[derive(Debug, Default)]
pub struct ProxyStats {
    pub connections: AtomicU64,
    pub replies: AtomicU64,
    pub dropped: AtomicU64,
    pub duplicated: AtomicU64,
    pub reordered: AtomicU64,
    pub resets: AtomicU64,
    pub swallowed: AtomicU64,
}

/// TLS on both sides of the proxy.
#[derive(Debug, Clone)]
pub struct ProxyTls {
    /// Presented to the switch (the clearing house's server certificate).
    pub server: Arc<ServerConfig>,
    /// Used towards the clearing house (the switch's client certificate).
    pub client: Arc<ClientConfig>,
    /// The name the clearing house's certificate carries.
    pub upstream_name: String,
}

/// A running proxy.
#[derive(Debug)]
pub struct FaultProxy {
    pub addr: SocketAddr,
    pub stats: Arc<ProxyStats>,
    fault: Arc<Mutex<Fault>>,
    shutdown: CancellationToken,
}

impl FaultProxy {
    /// Listens on `listen` and relays to `upstream`.
    pub async fn start(listen: SocketAddr, upstream: SocketAddr, tls: ProxyTls) -> std::io::Result<Self> {
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let (stats, fault, shutdown) =
            (Arc::new(ProxyStats::default()), Arc::new(Mutex::new(Fault::None)), CancellationToken::new());
        let ctx = Ctx { upstream, tls, stats: Arc::clone(&stats), fault: Arc::clone(&fault) };
        let stop = shutdown.clone();
        tokio::spawn(async move {
            loop {
                let accepted = tokio::select! {
                    () = stop.cancelled() => return,
                    accepted = listener.accept() => accepted,
                };
                let Ok((tcp, _)) = accepted else { continue };
                let (ctx, stop) = (ctx.clone(), stop.child_token());
                tokio::spawn(async move {
                    tokio::select! {
                        () = stop.cancelled() => {}
                        result = relay(tcp, ctx) => if let Err(e) = result {
                            tracing::debug!(error = %e, "proxied connection ended");
                        },
                    }
                });
            }
        });
        Ok(Self { addr, stats, fault, shutdown })
    }

    /// Changes the fault for every connection, at once.
    pub fn set(&self, fault: Fault) {
        *self.fault.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = fault;
    }

    /// Stops accepting and cuts every connection.
    pub fn stop(&self) {
        self.shutdown.cancel();
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shutdown.cancel();
    }
}

#[derive(Debug, Clone)]
struct Ctx {
    upstream: SocketAddr,
    tls: ProxyTls,
    stats: Arc<ProxyStats>,
    fault: Arc<Mutex<Fault>>,
}

impl Ctx {
    fn fault(&self) -> Fault {
        *self.fault.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// What the writer towards the switch is asked to do.
enum Out {
    Frame {
        bytes: BytesMut,
        due: Instant,
    },
    /// Write these bytes (half a frame), then reset the connection.
    Reset(BytesMut),
}

fn encode(frame: Frame) -> BytesMut {
    let mut buf = BytesMut::new();
    // Frames came through the same codec, so they re-encode within the limit.
    let _ = FrameCodec::new(usize::MAX).encode(frame, &mut buf);
    buf
}

async fn relay(down_tcp: TcpStream, ctx: Ctx) -> anyhow::Result<()> {
    down_tcp.set_zero_linger()?;
    down_tcp.set_nodelay(true)?;
    let down = tokio_rustls::TlsAcceptor::from(Arc::clone(&ctx.tls.server)).accept(down_tcp).await?;
    let up_tcp = TcpStream::connect(ctx.upstream).await?;
    up_tcp.set_zero_linger()?;
    up_tcp.set_nodelay(true)?;
    let name = ServerName::try_from(ctx.tls.upstream_name.clone())?;
    let up = tokio_rustls::TlsConnector::from(Arc::clone(&ctx.tls.client)).connect(name, up_tcp).await?;
    ctx.stats.connections.fetch_add(1, Ordering::Relaxed);
    let (down_read, down_write) = tokio::io::split(down);
    let (up_read, mut up_write) = tokio::io::split(up);
    let mut from_switch = FramedRead::new(down_read, FrameCodec::new(16 << 20));
    let mut from_house = FramedRead::new(up_read, FrameCodec::new(16 << 20));
    let (out_tx, out_rx) = mpsc::channel::<Out>(4096);
    let writer = tokio::spawn(write_down(down_write, out_rx));
    let requests = {
        let ctx = ctx.clone();
        async move {
            while let Some(frame) = from_switch.next().await {
                let frame = frame?;
                if ctx.fault() == Fault::BlackHole {
                    ctx.stats.swallowed.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                up_write.write_all(&encode(frame)).await?;
            }
            anyhow::Ok(())
        }
    };
    let replies = async move {
        let mut held: Option<(BytesMut, Instant)> = None;
        let mut nth = 0u32;
        loop {
            let next = match &held {
                Some((_, since)) => {
                    match tokio::time::timeout_at(*since + Duration::from_millis(50), from_house.next()).await
                    {
                        Ok(next) => next,
                        Err(_) => {
                            let (bytes, _) = held.take().expect("held");
                            out_tx.send(Out::Frame { bytes, due: Instant::now() }).await?;
                            continue;
                        }
                    }
                }
                None => from_house.next().await,
            };
            let Some(frame) = next else { break };
            let frame = frame?;
            let fault = ctx.fault();
            if fault == Fault::BlackHole {
                ctx.stats.swallowed.fetch_add(1, Ordering::Relaxed);
                continue;
            }
            let is_reply = frame.kind == FrameKind::Status;
            let bytes = encode(frame);
            let now = Instant::now();
            if !is_reply {
                out_tx.send(Out::Frame { bytes, due: now }).await?;
                continue;
            }
            ctx.stats.replies.fetch_add(1, Ordering::Relaxed);
            nth = nth.wrapping_add(1);
            match fault {
                Fault::None | Fault::BlackHole => out_tx.send(Out::Frame { bytes, due: now }).await?,
                Fault::Delay(d) => out_tx.send(Out::Frame { bytes, due: now + d }).await?,
                Fault::DropEvery(n) if nth % n.max(1) == 0 => {
                    ctx.stats.dropped.fetch_add(1, Ordering::Relaxed);
                }
                Fault::DropEvery(_) => out_tx.send(Out::Frame { bytes, due: now }).await?,
                Fault::ResetMidFrameEvery(n) if nth % n.max(1) == 0 => {
                    ctx.stats.resets.fetch_add(1, Ordering::Relaxed);
                    let mut half = bytes;
                    half.truncate(half.len() / 2);
                    out_tx.send(Out::Reset(half)).await?;
                    break;
                }
                Fault::ResetMidFrameEvery(_) => out_tx.send(Out::Frame { bytes, due: now }).await?,
                Fault::Duplicate => {
                    ctx.stats.duplicated.fetch_add(1, Ordering::Relaxed);
                    out_tx.send(Out::Frame { bytes: bytes.clone(), due: now }).await?;
                    out_tx.send(Out::Frame { bytes, due: now }).await?;
                }
                Fault::Reorder => match held.take() {
                    None => held = Some((bytes, now)),
                    Some((first, _)) => {
                        ctx.stats.reordered.fetch_add(1, Ordering::Relaxed);
                        out_tx.send(Out::Frame { bytes, due: now }).await?;
                        out_tx.send(Out::Frame { bytes: first, due: now }).await?;
                    }
                },
            }
        }
        drop(out_tx);
        anyhow::Ok(())
    };
    // Either direction ending ends the pair; the writer finishes what it was given first.
    let result = tokio::select! {
        r = requests => r,
        r = replies => r,
    };
    let _ = writer.await;
    result
}

async fn write_down<W: AsyncWrite + Unpin>(mut down: W, mut rx: mpsc::Receiver<Out>) -> anyhow::Result<()> {
    while let Some(out) = rx.recv().await {
        match out {
            Out::Frame { bytes, due } => {
                tokio::time::sleep_until(due).await;
                down.write_all(&bytes).await?;
            }
            Out::Reset(half) => {
                down.write_all(&half).await?;
                down.flush().await?;
                // Dropping the stream closes the socket with linger 0: an RST mid-frame.
                return Ok(());
            }
        }
    }
    Ok(())
}
