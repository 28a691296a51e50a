//! The fault proxy: a man in the middle between the switch and a clearing house, for testing
//! what the switch does when the network between them misbehaves.
//!
//! It terminates the switch's TLS connection (presenting the clearing house's certificate),
//! opens its own TLS connection to the real clearing house (presenting the switch's client
//! certificate) for every connection it accepts, and relays frames both ways through the
//! frame codec, so faults can be aimed at whole frames. The current [`Fault`] applies to the
//! clearing house's replies (Status frames) on their way to the switch; a black hole swallows
//! everything in both directions; refusals act on the switch's submissions. Sockets close with
//! RST (linger 0).
//!
//! TLS alert mid-stream: the proxy cannot make rustls send an arbitrary fatal alert inside the
//! encrypted session, so it writes a forged TLS record straight onto the TCP socket, between
//! two complete records of the session: a plaintext fatal `internal_error` alert
//! (`15 03 03 00 02 02 50`). After the handshake every TLS 1.3 record must be protected, so the
//! switch's rustls cannot authenticate it and fails the session with a fatal error of its own,
//! exactly as it would for an alert or corrupted record forged by the network.
//!
//! QUIC links go through [`udp::UdpProxy`] instead: datagram loss, black hole and NAT rebinding.

pub mod udp;

use std::net::SocketAddr;
use std::os::fd::AsFd;
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
    /// On every `n`th reply, instead of the reply, inject a forged fatal TLS alert record at the
    /// TCP level (see the module docs); then relay nothing more on that connection and wait
    /// (at most 10 s) for the switch to close it.
    TlsAlertEvery(u32),
    /// Every `n`th payment submission (pacs.008/pacs.009; inquiries pass) is not forwarded: the
    /// proxy answers it with an `Error` frame `code=BUSY` (retryable: the clearing house never
    /// saw it), as a clearing gateway shedding load does.
    RefuseEvery(u32),
    /// As [`Fault::RefuseEvery`], then the connection is reset after the `Error` frame.
    RefuseAndCloseEvery(u32),
    /// A slow sender: every `n`th reply is dribbled out [`SLOW_CHUNK`] bytes at a time, each
    /// piece its own TLS record, [`SLOW_PAUSE`] apart (a 1.2 KB reply takes ~750 ms); the
    /// replies behind it on the connection wait (head-of-line).
    SlowEvery(u32),
}

/// Bytes per write of [`Fault::SlowEvery`].
pub const SLOW_CHUNK: usize = 16;
/// The pause between the writes of [`Fault::SlowEvery`].
pub const SLOW_PAUSE: Duration = Duration::from_millis(10);

/// The names [`Fault`] parses from (`switchyard-bench proxy`).
pub const FAULT_SYNTAX: &str =
    "none, delay:MS, drop-every:N, reset-mid-frame-every:N, black-hole, duplicate, \
reorder, tls-alert-every:N, refuse-every:N, refuse-and-close-every:N, slow-every:N";

impl std::str::FromStr for Fault {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let (name, arg) = s.trim().split_once(':').map_or((s.trim(), None), |(n, a)| (n, Some(a)));
        let n = || -> Result<u32, String> {
            let arg = arg.ok_or_else(|| format!("{name} needs a number, as {name}:N"))?;
            count(name, arg)
        };
        let none = |fault: Self| match arg {
            None => Ok(fault),
            Some(_) => Err(format!("{name} takes no argument")),
        };
        match name {
            "none" => none(Self::None),
            "black-hole" => none(Self::BlackHole),
            "duplicate" => none(Self::Duplicate),
            "reorder" => none(Self::Reorder),
            "delay" => Ok(Self::Delay(Duration::from_millis(u64::from(n()?)))),
            "drop-every" => Ok(Self::DropEvery(n()?)),
            "reset-mid-frame-every" => Ok(Self::ResetMidFrameEvery(n()?)),
            "tls-alert-every" => Ok(Self::TlsAlertEvery(n()?)),
            "refuse-every" => Ok(Self::RefuseEvery(n()?)),
            "refuse-and-close-every" => Ok(Self::RefuseAndCloseEvery(n()?)),
            "slow-every" => Ok(Self::SlowEvery(n()?)),
            other => Err(format!("unknown fault {other:?}: use one of {FAULT_SYNTAX}")),
        }
    }
}

/// The `N` of a fault `name:N`: a whole number from 1 (also for [`udp::UdpFault`]).
pub(crate) fn count(name: &str, arg: &str) -> Result<u32, String> {
    match arg.parse::<u32>() {
        Ok(n) if n > 0 => Ok(n),
        _ => Err(format!("{name}: {arg:?} is not a whole number from 1")),
    }
}

/// The forged record of [`Fault::TlsAlertEvery`]: content type alert (21), TLS 1.2 legacy
/// version, length 2, level fatal (2), description `internal_error` (80).
pub const FORGED_TLS_ALERT: [u8; 7] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x50];

/// The code of the proxy's refusal (`Error` frame) under [`Fault::RefuseEvery`].
pub const BUSY_CODE: &str = "BUSY";

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
    /// Forged TLS alerts injected.
    pub alerts: AtomicU64,
    /// Submissions refused with `BUSY` (never forwarded).
    pub refused: AtomicU64,
    /// Replies dribbled out by a slow sender.
    pub slowed: AtomicU64,
    /// Why reading from the switch failed, per connection (the first 16): after a forged alert,
    /// the alert the switch's TLS stack answered with.
    pub switch_errors: Mutex<Vec<String>>,
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
    /// Write this frame slowly ([`Fault::SlowEvery`]).
    Slow(BytesMut),
    /// Flush the TLS session, then write these raw bytes onto the TCP socket underneath it.
    Raw(&'static [u8]),
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
    // A second handle on the same socket, for bytes written under the TLS session.
    let raw = std::net::TcpStream::from(down_tcp.as_fd().try_clone_to_owned()?);
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
    let writer = tokio::spawn(write_down(down_write, raw, out_rx));
    let requests = {
        let (ctx, out_tx) = (ctx.clone(), out_tx.clone());
        async move {
            let mut nth = 0u32;
            while let Some(frame) = from_switch.next().await {
                let frame = match frame {
                    Ok(frame) => frame,
                    Err(e) => {
                        let mut errors =
                            ctx.stats.switch_errors.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                        if errors.len() < 16 {
                            errors.push(e.to_string());
                        }
                        return Err(e.into());
                    }
                };
                let fault = ctx.fault();
                if fault == Fault::BlackHole {
                    ctx.stats.swallowed.fetch_add(1, Ordering::Relaxed);
                    continue;
                }
                if let Fault::RefuseEvery(n) | Fault::RefuseAndCloseEvery(n) = fault {
                    if frame.kind == FrameKind::Submit && is_payment(&frame.payload) {
                        nth = nth.wrapping_add(1);
                        if nth % n.max(1) == 0 {
                            ctx.stats.refused.fetch_add(1, Ordering::Relaxed);
                            let busy = Frame::control(
                                FrameKind::Error,
                                frame.correlation,
                                &[
                                    ("code", BUSY_CODE),
                                    ("detail", "clearing house busy: not received, retry later"),
                                ],
                            );
                            let due = Instant::now();
                            out_tx.send(Out::Frame { bytes: encode(busy), due }).await?;
                            if matches!(fault, Fault::RefuseAndCloseEvery(_)) {
                                out_tx.send(Out::Reset(BytesMut::new())).await?;
                                return anyhow::Ok(());
                            }
                            continue;
                        }
                    }
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
                Fault::None | Fault::BlackHole | Fault::RefuseEvery(_) | Fault::RefuseAndCloseEvery(_) => {
                    out_tx.send(Out::Frame { bytes, due: now }).await?;
                }
                Fault::TlsAlertEvery(n) if nth % n.max(1) == 0 => {
                    ctx.stats.alerts.fetch_add(1, Ordering::Relaxed);
                    out_tx.send(Out::Raw(&FORGED_TLS_ALERT)).await?;
                    // Nothing more on this connection: the switch must end it.
                    tokio::time::sleep(Duration::from_secs(10)).await;
                    break;
                }
                Fault::TlsAlertEvery(_) => out_tx.send(Out::Frame { bytes, due: now }).await?,
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
                Fault::SlowEvery(n) if nth % n.max(1) == 0 => {
                    ctx.stats.slowed.fetch_add(1, Ordering::Relaxed);
                    out_tx.send(Out::Slow(bytes)).await?;
                }
                Fault::SlowEvery(_) => out_tx.send(Out::Frame { bytes, due: now }).await?,
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

/// Whether a submission is a payment (not a status inquiry or a cancellation request).
fn is_payment(payload: &[u8]) -> bool {
    matches!(switchyard_actors::actor::message_family(payload), Some("pacs.008" | "pacs.009"))
}

async fn write_down<W: AsyncWrite + Unpin>(
    mut down: W,
    mut raw: std::net::TcpStream,
    mut rx: mpsc::Receiver<Out>,
) -> anyhow::Result<()> {
    while let Some(out) = rx.recv().await {
        match out {
            Out::Raw(bytes) => {
                // Every record the session wrote is on the socket first, so the forged one
                // lands between two whole records.
                down.flush().await?;
                write_raw(&mut raw, bytes).await?;
            }
            Out::Frame { bytes, due } => {
                tokio::time::sleep_until(due).await;
                down.write_all(&bytes).await?;
            }
            Out::Slow(bytes) => {
                for piece in bytes.chunks(SLOW_CHUNK) {
                    down.write_all(piece).await?;
                    down.flush().await?;
                    tokio::time::sleep(SLOW_PAUSE).await;
                }
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

/// Writes `bytes` on a non-blocking socket handle (a few bytes: retried on `WouldBlock`).
async fn write_raw(raw: &mut std::net::TcpStream, mut bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    while !bytes.is_empty() {
        match raw.write(bytes) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            Err(e) => return Err(e),
        }
    }
    Ok(())
}
