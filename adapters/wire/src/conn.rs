//! A stream becomes a frame reader and a bounded frame writer.
//!
//! The writer is a task fed by a bounded channel of `out_capacity` frames: senders wait when the
//! peer reads slower than we write (backpressure, never an unbounded buffer). It batches: frames
//! already queued are encoded into one buffer and flushed together, so a burst of statuses costs
//! one TLS record write rather than one per frame.

use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite, ReadHalf, WriteHalf};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio_util::codec::{FramedRead, FramedWrite};

use crate::codec::{FrameCodec, FrameError};
use switchyard_actors::ports::{Outbound, PeerGone, WireKind, WireMsg};

use crate::frame::{Frame, FrameKind};

/// Any byte stream a session can run on: TLS over TCP, or a QUIC stream.
pub trait ByteStream: AsyncRead + AsyncWrite + Send + Unpin + 'static {}

impl<T: AsyncRead + AsyncWrite + Send + Unpin + 'static> ByteStream for T {}

/// A session's stream with its transport erased, so one code path serves TLS and QUIC.
pub type BoxStream = Box<dyn ByteStream>;

/// The reading side of a framed connection.
pub type FrameReader<S> = FramedRead<ReadHalf<S>, FrameCodec>;

/// Splits `stream` into a frame reader and a sender feeding a writer task.
///
/// The writer task ends when every sender is dropped (after flushing and shutting down the write
/// side) or on the first write error, which it returns.
pub fn split<S>(
    stream: S,
    codec: FrameCodec,
    out_capacity: usize,
) -> (FrameReader<S>, mpsc::Sender<Frame>, JoinHandle<Result<(), FrameError>>)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (read, write) = tokio::io::split(stream);
    let (tx, rx) = mpsc::channel(out_capacity.max(1));
    let writer = tokio::spawn(write_frames(FramedWrite::new(write, codec), rx));
    (FramedRead::new(read, codec), tx, writer)
}

async fn write_frames<S: AsyncWrite>(
    mut sink: FramedWrite<WriteHalf<S>, FrameCodec>,
    mut rx: mpsc::Receiver<Frame>,
) -> Result<(), FrameError> {
    while let Some(frame) = rx.recv().await {
        sink.feed(frame).await?;
        while let Ok(more) = rx.try_recv() {
            sink.feed(more).await?;
        }
        sink.flush().await?;
    }
    sink.close().await?;
    Ok(())
}

/// Reads the next frame, mapping a clean end of stream to `None`.
pub async fn next_frame<S: AsyncRead>(
    reader: &mut FramedRead<ReadHalf<S>, FrameCodec>,
) -> Option<Result<Frame, FrameError>> {
    reader.next().await
}

/// The write side of a connection as the actors' [`Outbound`] port.
///
/// `send` never waits: it fails with [`PeerGone`] when the writer task has ended. The channel
/// bound is sized by the caller so that a peer honouring its credit window cannot fill it; if a
/// peer misbehaves and it does fill, the message is refused the same way and the connection is
/// treated as gone (the payment's outcome stays durable and queryable).
#[derive(Debug, Clone)]
pub struct FrameOutbound(pub mpsc::Sender<Frame>);

impl Outbound for FrameOutbound {
    fn send(&self, msg: WireMsg) -> Result<(), PeerGone> {
        let kind = match msg.kind {
            WireKind::Submit => FrameKind::Submit,
            WireKind::Status => FrameKind::Status,
            WireKind::Deliver => FrameKind::Deliver,
            WireKind::Error => FrameKind::Error,
        };
        self.0.try_send(Frame::new(kind, msg.correlation, msg.payload)).map_err(|_| PeerGone)
    }
}
