//! `switchyard-wire`: how bytes move between Switchyard and its peers.
//!
//! This crate owns the frame format of docs/PROTOCOL.md ([`frame`], [`codec`]), the TLS 1.3
//! configuration with mutual authentication for both sides of a connection ([`tls`]), QUIC
//! endpoints carrying the same frames on one stream per session ([`quic`]), the mapping
//! from a peer's certificate to an identity ([`identity`]), development certificates
//! ([`devcerts`]), and the plumbing that turns a stream into a frame reader and a bounded frame
//! writer ([`conn`]). It knows nothing of payments: payloads are opaque bytes here.
//!
//! Architecture invariant: every limit (frame size, handshake timeout, outbound queue depth) is a
//! parameter; nothing in this crate allocates in proportion to what a peer claims before the
//! claim is checked against a limit.

pub mod codec;
pub mod conn;
pub mod devcerts;
pub mod frame;
pub mod identity;
pub mod quic;
pub mod tls;

pub use codec::{FrameCodec, FrameError};
pub use frame::{Frame, FrameKind, FLAG_POSSIBLE_DUPLICATE, HEADER_LEN, PROTOCOL_VERSION};
