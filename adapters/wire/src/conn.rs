//! A stream becomes a frame reader and a bounded frame writer.
//!
//! The writer is a task fed by a bounded channel of `out_capacity` frames: senders wait when the
//! peer reads slower than we write (backpressure, never an unbounded buffer). It batches: frames
//! already queued are encoded into one buffer and flushed together, so a burst of statuses costs
//! one TLS record write rather than one per frame.

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::Duration;

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

/// Reads the next frame, cutting a slow sender: once some bytes of a frame have arrived, the
/// whole frame must arrive within `frame_timeout` ([`FrameError::SlowSender`] otherwise). A peer
/// that sends nothing at all is not cut here; that is the caller's idle timeout.
///
/// Cancel-safe like the reader itself: bytes already read stay in the reader's buffer.
pub async fn next_frame_within<S: AsyncRead>(
    reader: &mut FramedRead<ReadHalf<S>, FrameCodec>,
    frame_timeout: Duration,
) -> Option<Result<Frame, FrameError>> {
    let mut deadline: Option<Pin<Box<tokio::time::Sleep>>> = None;
    std::future::poll_fn(|cx| {
        if let Poll::Ready(item) = reader.poll_next_unpin(cx) {
            return Poll::Ready(item);
        }
        if reader.read_buffer().is_empty() {
            return Poll::Pending;
        }
        let sleep = deadline.get_or_insert_with(|| Box::pin(tokio::time::sleep(frame_timeout)));
        match sleep.as_mut().poll(cx) {
            Poll::Ready(()) => Poll::Ready(Some(Err(FrameError::SlowSender(frame_timeout)))),
            Poll::Pending => Poll::Pending,
        }
    })
    .await
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

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncWriteExt;

    #[tokio::test(start_paused = true)]
    async fn a_frame_trickled_slower_than_the_frame_timeout_is_cut() {
        let (client, server) = tokio::io::duplex(1024);
        let (mut reader, _tx, _writer) = split(server, FrameCodec::new(1024), 4);
        let (_, mut client_write) = tokio::io::split(client);
        let trickler = tokio::spawn(async move {
            // A 16-byte header announced, then one byte a second.
            client_write.write_all(&[0, 0, 0, 16]).await.unwrap();
            for _ in 0..30 {
                tokio::time::sleep(Duration::from_secs(1)).await;
                if client_write.write_all(&[1]).await.is_err() {
                    return;
                }
            }
        });
        let started = tokio::time::Instant::now();
        let result = next_frame_within(&mut reader, Duration::from_secs(5)).await;
        assert!(matches!(result, Some(Err(FrameError::SlowSender(_)))), "{result:?}");
        assert_eq!(started.elapsed().as_secs(), 5);
        trickler.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn silence_is_not_a_slow_frame_and_whole_frames_pass() {
        use tokio_util::codec::Encoder;
        let (client, server) = tokio::io::duplex(1024);
        let (mut reader, _tx, _writer) = split(server, FrameCodec::new(1024), 4);
        let (_client_read, mut client_write) = tokio::io::split(client);
        let read = next_frame_within(&mut reader, Duration::from_secs(1));
        let silence = tokio::time::timeout(Duration::from_secs(10), read).await;
        assert!(silence.is_err(), "no bytes: only the idle timeout applies");
        let mut bytes = bytes::BytesMut::new();
        FrameCodec::new(1024)
            .encode(Frame::new(FrameKind::Heartbeat, 3, bytes::Bytes::new()), &mut bytes)
            .unwrap();
        client_write.write_all(&bytes).await.unwrap();
        let frame = next_frame_within(&mut reader, Duration::from_secs(1)).await.unwrap().unwrap();
        assert_eq!((frame.kind, frame.correlation), (FrameKind::Heartbeat, 3));
    }
}
