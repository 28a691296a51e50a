//! `FrameCodec`: tokio-util framing for [`Frame`] with a hard size limit.
//!
//! The length prefix is checked against `max_frame_bytes` before any buffer is reserved, so a
//! peer that lies about a length costs us nothing but the connection.

use bytes::{Buf, BufMut, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

use crate::frame::{Frame, FrameKind, HEADER_LEN, PROTOCOL_VERSION};

/// Why a byte stream could not be read as frames. Each variant closes the connection.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FrameError {
    #[error("frame of {declared} bytes exceeds the limit of {limit} bytes")]
    TooLarge { declared: usize, limit: usize },
    #[error("frame length {declared} is shorter than the {HEADER_LEN}-byte header")]
    TooShort { declared: usize },
    #[error("unsupported protocol version {0} (this node speaks {PROTOCOL_VERSION})")]
    Version(u8),
    #[error("unknown frame kind 0x{0:02x}")]
    UnknownKind(u8),
    #[error("unknown flag bits 0x{0:04x} (only bit 0, possible duplicate, is defined)")]
    UnknownFlags(u16),
    #[error("slow sender: a frame was started and not completed within {0:?}")]
    SlowSender(std::time::Duration),
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// Encodes and decodes frames; `max_frame_bytes` bounds header + payload.
#[derive(Debug, Clone, Copy)]
pub struct FrameCodec {
    max_frame_bytes: usize,
}

impl FrameCodec {
    /// A codec that refuses frames whose length field exceeds `max_frame_bytes`.
    #[must_use]
    pub fn new(max_frame_bytes: usize) -> Self {
        Self { max_frame_bytes }
    }
}

impl Decoder for FrameCodec {
    type Item = Frame;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Frame>, FrameError> {
        if src.len() < 4 {
            return Ok(None);
        }
        let declared = u32::from_be_bytes([src[0], src[1], src[2], src[3]]) as usize;
        if declared > self.max_frame_bytes {
            return Err(FrameError::TooLarge { declared, limit: self.max_frame_bytes });
        }
        if declared < HEADER_LEN {
            return Err(FrameError::TooShort { declared });
        }
        if src.len() < 4 + declared {
            src.reserve(4 + declared - src.len());
            return Ok(None);
        }
        src.advance(4);
        let mut body = src.split_to(declared);
        let version = body.get_u8();
        if version != PROTOCOL_VERSION {
            return Err(FrameError::Version(version));
        }
        let kind_byte = body.get_u8();
        let kind = FrameKind::from_u8(kind_byte).ok_or(FrameError::UnknownKind(kind_byte))?;
        let flags = body.get_u16();
        if flags & !crate::frame::FLAG_POSSIBLE_DUPLICATE != 0 {
            return Err(FrameError::UnknownFlags(flags));
        }
        let correlation = body.get_u64();
        Ok(Some(Frame { kind, flags, correlation, payload: body.freeze() }))
    }
}

impl Encoder<Frame> for FrameCodec {
    type Error = FrameError;

    fn encode(&mut self, frame: Frame, dst: &mut BytesMut) -> Result<(), FrameError> {
        let declared = HEADER_LEN + frame.payload.len();
        if declared > self.max_frame_bytes {
            return Err(FrameError::TooLarge { declared, limit: self.max_frame_bytes });
        }
        dst.reserve(4 + declared);
        dst.put_u32(
            u32::try_from(declared)
                .map_err(|_| FrameError::TooLarge { declared, limit: self.max_frame_bytes })?,
        );
        dst.put_u8(PROTOCOL_VERSION);
        dst.put_u8(frame.kind as u8);
        dst.put_u16(frame.flags);
        dst.put_u64(frame.correlation);
        dst.extend_from_slice(&frame.payload);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encode(frame: Frame) -> BytesMut {
        let mut buf = BytesMut::new();
        FrameCodec::new(1024).encode(frame, &mut buf).unwrap();
        buf
    }

    #[test]
    fn round_trip_and_byte_layout() {
        let frame = Frame::new(FrameKind::Submit, 0x0102_0304_0506_0708, &b"<x/>"[..]);
        let mut buf = encode(frame.clone());
        assert_eq!(
            &buf[..16],
            &[0, 0, 0, 16, 1, 3, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8],
            "layout documented in docs/PROTOCOL.md"
        );
        assert_eq!(FrameCodec::new(1024).decode(&mut buf).unwrap(), Some(frame));
        assert!(buf.is_empty());
    }

    #[test]
    fn partial_frames_wait_for_more_bytes() {
        let full = encode(Frame::new(FrameKind::Heartbeat, 7, &b""[..]));
        let mut codec = FrameCodec::new(1024);
        for cut in 0..full.len() {
            let mut part = BytesMut::from(&full[..cut]);
            assert_eq!(codec.decode(&mut part).unwrap(), None, "cut at {cut}");
        }
    }

    #[test]
    fn lying_length_is_refused_before_allocation() {
        let mut buf = BytesMut::from(&[0xFF, 0xFF, 0xFF, 0xFF, 1, 3][..]);
        let err = FrameCodec::new(1024).decode(&mut buf).unwrap_err();
        assert!(matches!(err, FrameError::TooLarge { declared: 0xFFFF_FFFF, limit: 1024 }));
        assert!(buf.capacity() < 1024);
    }

    #[test]
    fn unknown_kind_and_version_are_errors() {
        let mut bad_kind = encode(Frame::new(FrameKind::Submit, 1, &b""[..]));
        bad_kind[5] = 0x7F;
        assert!(matches!(FrameCodec::new(1024).decode(&mut bad_kind), Err(FrameError::UnknownKind(0x7F))));
        let mut bad_version = encode(Frame::new(FrameKind::Submit, 1, &b""[..]));
        bad_version[4] = 9;
        assert!(matches!(FrameCodec::new(1024).decode(&mut bad_version), Err(FrameError::Version(9))));
    }

    #[test]
    fn control_values() {
        let f = Frame::control(FrameKind::SignOnOk, 0, &[("credit_window", "64"), ("session", "s1")]);
        assert_eq!(f.control_value("credit_window"), Some("64"));
        assert_eq!(f.control_value("session"), Some("s1"));
        assert_eq!(f.control_value("missing"), None);
    }
}
