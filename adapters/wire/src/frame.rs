//! The frame: the unit of the Switchyard wire protocol (docs/PROTOCOL.md).
//!
//! ```text
//! offset size field
//!  0     4    length      u32 big-endian: bytes that follow this field (header rest + payload)
//!  4     1    version     protocol version, 1
//!  5     1    kind        FrameKind
//!  6     2    flags       u16 big-endian bit set (bit 0: possible duplicate)
//!  8     8    correlation u64 big-endian, chosen by the side that opens an exchange
//! 16     ..   payload     ISO 20022 XML for message kinds; key=value lines for control kinds
//! ```
//!
//! The same frames run over TLS 1.3 on TCP and over QUIC.

use bytes::Bytes;

/// The only protocol version this build speaks.
pub const PROTOCOL_VERSION: u8 = 1;
/// Bytes of header that follow the length prefix: version, kind, flags, correlation.
pub const HEADER_LEN: usize = 12;
/// Flag bit: the sender may have sent this frame before (a resend after a reconnect).
pub const FLAG_POSSIBLE_DUPLICATE: u16 = 0x0001;

/// What a frame means. Values are stable on the wire; unknown values are a protocol error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum FrameKind {
    /// Client → server: opens a session (payload: `key=value` lines).
    SignOn = 0x01,
    /// Server → client: session accepted (payload: `session`, `credit_window`, `heartbeat_ms`).
    SignOnOk = 0x02,
    /// Submitter → receiver: an ISO 20022 message for processing.
    Submit = 0x03,
    /// Switch → participant: an inbound payment or other message addressed to the participant.
    Deliver = 0x04,
    /// A status message (pacs.002) about an earlier Submit with the same correlation id.
    Status = 0x05,
    /// Liveness probe; the peer answers HeartbeatAck with the same correlation id.
    Heartbeat = 0x06,
    /// Answer to Heartbeat.
    HeartbeatAck = 0x07,
    /// Server → client: additional credits (payload: decimal count).
    CreditUpdate = 0x08,
    /// A protocol-level error (payload: `code`, `detail`); the connection may close after it.
    Error = 0x09,
    /// Either side: orderly end of the session.
    SignOff = 0x0A,
    /// Answer to SignOff; the connection closes after it.
    SignOffOk = 0x0B,
}

impl FrameKind {
    /// Decodes the kind byte; `None` for values this version does not know.
    #[must_use]
    pub fn from_u8(value: u8) -> Option<Self> {
        Some(match value {
            0x01 => Self::SignOn,
            0x02 => Self::SignOnOk,
            0x03 => Self::Submit,
            0x04 => Self::Deliver,
            0x05 => Self::Status,
            0x06 => Self::Heartbeat,
            0x07 => Self::HeartbeatAck,
            0x08 => Self::CreditUpdate,
            0x09 => Self::Error,
            0x0A => Self::SignOff,
            0x0B => Self::SignOffOk,
            _ => return None,
        })
    }
}

/// One decoded frame. The payload is shared, not copied, as it moves between tasks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Frame {
    pub kind: FrameKind,
    pub flags: u16,
    pub correlation: u64,
    pub payload: Bytes,
}

impl Frame {
    /// A frame with no flags.
    #[must_use]
    pub fn new(kind: FrameKind, correlation: u64, payload: impl Into<Bytes>) -> Self {
        Self { kind, flags: 0, correlation, payload: payload.into() }
    }

    /// A control frame whose payload is `key=value` lines.
    #[must_use]
    pub fn control(kind: FrameKind, correlation: u64, pairs: &[(&str, &str)]) -> Self {
        let mut text = String::new();
        for (key, value) in pairs {
            text.push_str(key);
            text.push('=');
            text.push_str(value);
            text.push('\n');
        }
        Self::new(kind, correlation, text)
    }

    /// Looks up `key` in a control frame's `key=value` lines.
    #[must_use]
    pub fn control_value(&self, key: &str) -> Option<&str> {
        let text = std::str::from_utf8(&self.payload).ok()?;
        text.lines().find_map(|line| {
            let (k, v) = line.split_once('=')?;
            (k == key).then_some(v)
        })
    }
}
