//! Clients for the systems a user might pick instead of Switchyard (cargo feature `peers`).
//!
//! Each peer module connects `connections` sessions, prepares a clean destination (stream,
//! queue or table, emptied at the start of every run) and returns them as
//! [`crate::open_loop::Session`]s whose submissions resolve on the peer's durable
//! acknowledgement:
//! - [`nats`]: NATS JetStream, file storage; a publish is acknowledged by the stream
//!   (PubAck). JetStream deduplicates on the `Nats-Msg-Id` header (the pacs.008 MsgId).
//! - [`rabbitmq`]: a RabbitMQ quorum queue, persistent messages, publisher confirms.
//! - [`postgres`]: one INSERT per message (its own transaction) into a table with a unique
//!   index on the MsgId, `synchronous_commit = on`; requests are pipelined on each connection.
//!
//! The peers run plaintext on loopback (bench/peers/start.sh); Switchyard's participants use
//! mutual TLS 1.3, which costs the switch, not the peers.

use std::sync::Arc;

use crate::open_loop::Session;

pub mod nats;
pub mod postgres;
pub mod rabbitmq;

/// Connected sessions to one peer, ready for [`crate::open_loop::run`].
pub struct Peer {
    /// The peer's version and the durability settings in force, for the report.
    pub description: Vec<String>,
    pub sessions: Vec<Arc<dyn Session>>,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer")
            .field("description", &self.description)
            .field("sessions", &self.sessions.len())
            .finish()
    }
}
