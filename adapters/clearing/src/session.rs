//! One clearing-link connection, whichever side opened it and whatever carries it.
//!
//! Owns the life of a connected link session: the sign-on exchange (the side that opened the
//! connection sends `SignOn`, the other answers `SignOnOk`, docs/PROTOCOL.md), announcing
//! `Connected` to the link actor, relaying every Status/Deliver frame as a `Reply`, answering
//! and sending heartbeats, and returning why the session ended. The dialer ([`crate::dialer`])
//! and the acceptor ([`crate::acceptor`]) both end here, over TLS/TCP or QUIC alike (any
//! [`ByteStream`]); the caller announces `Disconnected` with the returned reason.

use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use ractor::ActorRef;
use switchyard_actors::actor::LinkMsg;
use switchyard_wire::conn::{split, ByteStream, FrameOutbound, FrameReader};
use switchyard_wire::{Frame, FrameCodec, FrameKind};

/// What every session of one link needs, whoever opened the connection.
#[derive(Debug, Clone)]
pub struct SessionArgs {
    /// The link's name (logs, sign-on).
    pub name: String,
    /// The link actor the session feeds.
    pub link: ActorRef<LinkMsg>,
    pub max_frame_bytes: usize,
    /// Outbound frame queue bound (at least the link window plus control frames).
    pub out_capacity: usize,
    /// Deadline for the sign-on exchange (and, for the dialer, the connect + handshake).
    pub handshake_timeout: Duration,
    /// Heartbeat interval while idle; three silent intervals end the session.
    pub heartbeat: Duration,
}

/// Which side of the sign-on exchange this end plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Opener {
    /// We opened the connection (dial-out): we send `SignOn` and wait for `SignOnOk`.
    Us,
    /// The clearing house opened it (accept mode): we wait for its `SignOn` and answer.
    Peer,
}

/// Runs one session on `stream` until it fails or the peer goes; returns why it ended.
/// `on_signed_on` runs once the sign-on exchange succeeded (the dialer resets its backoff).
pub async fn run<S: ByteStream>(
    args: &SessionArgs,
    stream: S,
    opener: Opener,
    on_signed_on: impl FnOnce(),
) -> String {
    let (mut reader, tx, writer) = split(stream, FrameCodec::new(args.max_frame_bytes), args.out_capacity);
    let _writer = tokio_util::task::AbortOnDropHandle::new(writer);
    if let Err(why) = sign_on(args, &mut reader, &tx, opener).await {
        return why;
    }
    on_signed_on();
    let _ = args.link.cast(LinkMsg::Connected(Arc::new(FrameOutbound(tx.clone()))));
    relay(args, &mut reader, &tx).await
}

async fn sign_on<S: ByteStream>(
    args: &SessionArgs,
    reader: &mut FrameReader<S>,
    tx: &tokio::sync::mpsc::Sender<Frame>,
    opener: Opener,
) -> Result<(), String> {
    if opener == Opener::Us {
        let sign_on = Frame::control(FrameKind::SignOn, 0, &[("protocol", "1"), ("link", &args.name)]);
        if tx.send(sign_on).await.is_err() {
            return Err("writer closed during sign-on".into());
        }
    }
    let expected = if opener == Opener::Us { FrameKind::SignOnOk } else { FrameKind::SignOn };
    let first = match tokio::time::timeout(args.handshake_timeout, reader.next()).await {
        Ok(Some(Ok(f))) if f.kind == expected => f,
        Ok(Some(Ok(f))) => return Err(format!("sign-on: expected {expected:?}, got {:?}", f.kind)),
        Ok(Some(Err(e))) => return Err(format!("sign-on: {e}")),
        Ok(None) => return Err("closed during sign-on".into()),
        Err(_) => return Err("sign-on timed out".into()),
    };
    if opener == Opener::Peer {
        let ok = Frame::control(
            FrameKind::SignOnOk,
            first.correlation,
            &[("session", &args.name), ("protocol", "1")],
        );
        if tx.send(ok).await.is_err() {
            return Err("writer closed during sign-on".into());
        }
    }
    Ok(())
}

async fn relay<S: ByteStream>(
    args: &SessionArgs,
    reader: &mut FrameReader<S>,
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
                        FrameKind::SignOff => {
                            let _ = tx.send(Frame::new(FrameKind::SignOffOk, f.correlation, bytes::Bytes::new())).await;
                            return "signed off by clearing house".into();
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
